"""Scores of one scoring day of a round: the registry's scores of the day's :class:`Era`.

The tournament never re-implements a score: :class:`StandardScorer` asks
:func:`kardashev.contribution.scores.score_era_all` for the registered scores the day's era allows
(CORR, MMC, BMC, FNC, Signals alpha/MPC, TC, True Return), so the prediction matrix is gaussianized
once and shared by every score, the meta model and TC. The service takes any :class:`RoundScorer`,
so an operator can plug a different optimizer configuration or score set.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kardashev.contribution.scores import ContributionOptions, score_era_all
from kardashev.data.era import Era
from kardashev.execution import Executor
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring.registry import SCORES
from kardashev.tournament.domain import RoundKind

__all__ = ["ROUND_SCORES", "RoundScorer", "StandardScorer"]

#: what a round is scored on by default: every payable score and True Return (similarity and feature
#: exposures are left to diagnostics)
ROUND_SCORES = tuple(name for name, score in SCORES.items() if score.payable or name == "true_return")


class RoundScorer(Protocol):
    """Scores every submission of a round on one day.

    ``era`` carries the day's market data and the round's predictions ``(n_stocks, n_models)``
    aligned to its ids, with ``stakes`` frozen at close (0 for late and unstaked submissions).
    Returns score name → ``(n_models,)`` floats. It runs with no database transaction open.
    """

    def __call__(self, *, kind: RoundKind, era: Era) -> Mapping[str, np.ndarray]: ...


@dataclass(frozen=True)
class StandardScorer:
    """The registered scores the day's data allow.

    CORR and MMC always (MMC against the stake-weighted meta model of the on-time staked
    submissions, or the naive one if nothing is staked; NaN when they cancel out); BMC with a
    benchmark; FNC with features; for Signals rounds with exposures alpha and MPC; TC (when staked)
    and True Return (net of trading costs) with realized returns, under the fund's optimizer
    configuration, risk model, ADV and previous holdings carried by the era.

    Attributes
    ----------
    optimizer_config
        :class:`~kardashev.portfolio.OptimizerConfig` for TC and True Return (None: its default).
    compute_tc
        Set False to skip the optimizer-based scores (TC, True Return).
    tc_bags
        Bagged TC draws (0: exact TC at the actual stakes).
    scores
        The score names to compute when the data allow (default :data:`ROUND_SCORES`).
    timings
        Optional mapping that accumulates the seconds spent per part (see ``score_era_all``).
    executor
        Where TC's draws and True Return's models run as work units (:mod:`kardashev.execution`:
        in process by default, or a Ray cluster); the same numbers either way.
    """

    optimizer_config: OptimizerConfig | None = None
    compute_tc: bool = True
    tc_bags: int = 0
    scores: tuple[str, ...] = ROUND_SCORES
    timings: MutableMapping[str, float] | None = field(default=None, compare=False)
    executor: Executor | None = field(default=None, compare=False)

    def __call__(self, *, kind: RoundKind, era: Era) -> dict[str, np.ndarray]:
        names = [name for name in self.scores if self.compute_tc or SCORES[name].layer != "contribution"]
        options = ContributionOptions(optimizer_config=self.optimizer_config, tc_bags=self.tc_bags)
        scores = score_era_all(
            era,
            names,
            kind=kind.value,
            options=options,
            timings=self.timings,
            only_available=True,
            executor=self.executor,
        )
        scores.setdefault("mmc", np.full(era.n_models, np.nan))  # no meta model: nothing to add to
        return {
            name: np.asarray(values, dtype=float).reshape(era.n_models) for name, values in scores.items()
        }
