"""The demo's round scorer: the engine's standard scores plus TC and True Return under the fund's config.

The engine's :class:`~kardashev.tournament.round_scoring.StandardScorer` sees only a
:class:`~kardashev.tournament.domain.RoundDay` (ids, target, returns, exposures, features). The demo's
fund also has a factor risk model, liquidity and its previous holdings per era; the season activates
the round's :class:`FundContext` before it asks the engine to score that round, so the engine's TC is
computed under exactly the fund's optimizer configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kardashev.contribution import true_contribution
from kardashev.portfolio import OptimizerConfig, RiskModel
from kardashev.tournament.domain import RoundDay, RoundKind
from kardashev.tournament.round_scoring import StandardScorer

__all__ = ["DemoScorer", "FundContext"]


@dataclass(frozen=True)
class FundContext:
    """What the fund's optimizer knows about an era besides the round's data.

    In the demo, ``previous_weights`` are the holdings of the in-memory static-stake fund before the era
    (the engine does not trade), so the engine's TC and the validation fund's TC share their trading costs.
    """

    risk_model: RiskModel | None
    adv: np.ndarray | None
    previous_weights: np.ndarray | None


@dataclass
class DemoScorer:
    """CORR, MMC, FNC (the engine's standard scores) and TC under the fund's full optimizer context."""

    optimizer_config: OptimizerConfig
    context: FundContext | None = None

    def activate(self, context: FundContext | None) -> None:
        """Use ``context`` for the next scoring calls (the round about to be scored)."""
        self.context = context

    def __call__(
        self, *, kind: RoundKind, predictions: np.ndarray, stakes: np.ndarray, day: RoundDay
    ) -> dict[str, np.ndarray]:
        scores = dict(
            StandardScorer(compute_tc=False)(kind=kind, predictions=predictions, stakes=stakes, day=day)
        )
        if day.realized_returns is None:
            return scores
        context = self.context or FundContext(None, None, None)
        if context.previous_weights is not None and len(context.previous_weights) != len(day.ids):
            context = FundContext(context.risk_model, context.adv, None)
        returns = np.asarray(day.realized_returns, dtype=np.float64)
        if np.asarray(stakes).sum() > 0:
            result = true_contribution(
                predictions,
                stakes,
                returns,
                day.exposures,
                self.optimizer_config,
                risk_model=context.risk_model,
                adv=context.adv,
                previous_weights=context.previous_weights,
            )
            scores["tc"] = np.asarray(result.tc, dtype=np.float64)
        return scores
