"""Scores of one scoring day of a round, computed by the scoring and TC engines.

The tournament never re-implements a score: :class:`StandardScorer` calls
:mod:`kardashev.scoring` (CORR, MMC, FNC), :mod:`kardashev.metamodel` and
:mod:`kardashev.contribution` (TC). The service takes any :class:`RoundScorer`,
so an operator can plug a different optimizer configuration or metric set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kardashev.tournament.domain import RoundDay, RoundKind

__all__ = ["RoundScorer", "StandardScorer"]


class RoundScorer(Protocol):
    """Scores every submission of a round on one day.

    ``predictions`` is ``(n_stocks, n_models)`` aligned to ``day.ids`` (no NaN);
    ``stakes`` ``(n_models,)`` are the stakes frozen at close (0 for late and
    unstaked submissions). Returns metric name → ``(n_models,)`` floats.
    """

    def __call__(
        self, *, kind: RoundKind, predictions: np.ndarray, stakes: np.ndarray, day: RoundDay
    ) -> Mapping[str, np.ndarray]: ...


@dataclass(frozen=True)
class StandardScorer:
    """CORR and MMC always; FNC when the day has features; TC when it has realized returns.

    Attributes
    ----------
    contribution_config
        Optimizer configuration passed to :func:`kardashev.contribution.true_contribution`
        (None: its default).
    compute_tc
        Set False to skip TC (e.g. for fast operator dry runs).
    """

    contribution_config: Any = None
    compute_tc: bool = True

    def __call__(
        self, *, kind: RoundKind, predictions: np.ndarray, stakes: np.ndarray, day: RoundDay
    ) -> dict[str, np.ndarray]:
        from kardashev.metamodel import naive_meta_model, stake_weighted_meta_model
        from kardashev.scoring import correlation_contribution, feature_neutral_corr, numerai_corr

        n_models = predictions.shape[1]
        target = np.asarray(day.target, dtype=np.float64)
        stakes = np.asarray(stakes, dtype=np.float64)
        scores: dict[str, np.ndarray] = {"corr": np.asarray(numerai_corr(predictions, target), dtype=float)}
        if stakes.sum() > 0:
            meta_model = stake_weighted_meta_model(predictions, stakes)
        else:
            meta_model = naive_meta_model(predictions)
        scores["mmc"] = np.asarray(correlation_contribution(predictions, meta_model, target), dtype=float)
        if day.features is not None:
            scores["fnc"] = np.asarray(feature_neutral_corr(predictions, day.features, target), dtype=float)
        if self.compute_tc and day.realized_returns is not None and stakes.sum() > 0:
            from kardashev.contribution import true_contribution

            exposures = day.exposures if day.exposures is not None else np.ones((len(target), 1))
            kwargs = {} if self.contribution_config is None else {"config": self.contribution_config}
            result = true_contribution(
                predictions, stakes, np.asarray(day.realized_returns, dtype=float), exposures, **kwargs
            )
            scores["tc"] = np.asarray(result.tc, dtype=float).reshape(n_models)
        return {name: values.reshape(n_models) for name, values in scores.items()}
