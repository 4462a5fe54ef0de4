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

from kardashev.errors import InvalidInputError
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
    """The scores users know, from the scoring and TC engines.

    Always CORR and MMC (against the stake-weighted meta model of the day's on-time staked
    submissions, or the naive one if nothing is staked); FNC when the day has features; TC
    and True Return (net of trading costs) when it has realized returns; for Signals rounds with
    exposures also alpha and MPC (an orthonormal basis of the exposures and the ones column as
    neutralizers, equal sample weights).

    Attributes
    ----------
    optimizer_config
        :class:`kardashev.portfolio.OptimizerConfig` for TC and True Return (None: its default).
    compute_tc
        Set False to skip the optimizer-based scores (TC, True Return).
    tc_bags
        Bagged TC draws (0: exact TC at the actual stakes).
    """

    optimizer_config: Any = None
    compute_tc: bool = True
    tc_bags: int = 0

    def __call__(
        self, *, kind: RoundKind, predictions: np.ndarray, stakes: np.ndarray, day: RoundDay
    ) -> dict[str, np.ndarray]:
        from kardashev.metamodel import naive_meta_model, stake_weighted_meta_model
        from kardashev.scoring import (
            alpha,
            correlation_contribution,
            feature_neutral_corr,
            meta_portfolio_contribution,
            numerai_corr,
            orthonormal_neutralizers,
        )

        n_models = predictions.shape[1]
        target = np.asarray(day.target, dtype=np.float64)
        stakes = np.asarray(stakes, dtype=np.float64)
        staked = stakes.sum() > 0
        scores: dict[str, np.ndarray] = {"corr": np.asarray(numerai_corr(predictions, target), dtype=float)}
        try:
            meta_model = (
                stake_weighted_meta_model(predictions, stakes) if staked else naive_meta_model(predictions)
            )
        except InvalidInputError as exc:  # the submissions cancel out: there is no meta model to add to
            if exc.code != "constant_meta_model":
                raise
            meta_model = None
        if meta_model is None:
            scores["mmc"] = np.full(n_models, np.nan)
        else:
            scores["mmc"] = np.asarray(correlation_contribution(predictions, meta_model, target), dtype=float)
        if day.features is not None:
            scores["fnc"] = np.asarray(feature_neutral_corr(predictions, day.features, target), dtype=float)
        if kind is RoundKind.SIGNALS and day.exposures is not None:
            weights = np.ones(target.size)
            # Signals' formulas need N with Nᵀdiag(v)N = I: an orthonormal basis of [exposures, 1].
            neutralizers = orthonormal_neutralizers(day.exposures, weights, add_intercept=True)
            scores["alpha"] = np.asarray(alpha(predictions, neutralizers, weights, target), dtype=float)
            if staked:
                mpc = meta_portfolio_contribution(predictions, stakes, neutralizers, weights, target)
                scores["mpc"] = np.asarray(mpc, dtype=float)
        if self.compute_tc and day.realized_returns is not None:
            from kardashev.contribution import true_contribution, true_return
            from kardashev.portfolio import OptimizerConfig

            config = self.optimizer_config if self.optimizer_config is not None else OptimizerConfig()
            returns = np.asarray(day.realized_returns, dtype=np.float64)
            if staked and meta_model is not None:
                tc = true_contribution(
                    predictions, stakes, returns, day.exposures, config, bags=self.tc_bags, seed=0
                )
                scores["tc"] = np.asarray(tc.tc, dtype=float)
            own = true_return(predictions, returns, day.exposures, config, keep_weights=False)
            scores["true_return"] = np.asarray(own.net_return, dtype=float)
        return {name: np.asarray(values, dtype=float).reshape(n_models) for name, values in scores.items()}
