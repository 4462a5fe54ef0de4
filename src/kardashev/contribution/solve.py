"""The one place the contribution layer calls the portfolio optimizer.

Keeps the call (inputs, config, risk model, solve path, warm start) identical for the meta model,
every stake-dropout draw and every model's own portfolio, so that all of them are solved under
the same configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kardashev.contribution.inputs import EraInputs
from kardashev.data.era import Era
from kardashev.portfolio import RiskModel, optimize

__all__ = ["EraSolver", "risk_model_of"]


def risk_model_of(era: Era) -> RiskModel | None:
    """The portfolio layer's :class:`RiskModel` of the era's risk arrays (``None`` without one)."""
    if era.risk is None:
        return None
    risk = era.risk
    return RiskModel(
        factor_loadings=risk.factor_loadings,
        factor_covariance=risk.factor_covariance,
        specific_variance=risk.specific_variance,
    )


@dataclass(frozen=True)
class EraSolver:
    """Solve the era's portfolio problem for any alpha vector under one configuration."""

    era: EraInputs
    config: Any
    risk_model: Any = None
    method: str = "auto"

    def solve(self, alpha: np.ndarray, *, warm_start: Any = None, previous_weights: Any = None) -> Any:
        """``optimize(alpha, …)`` with the era's exposures, risk model, holdings and liquidity.

        ``warm_start`` is a previous :class:`~kardashev.portfolio.PortfolioResult` of the same era
        (Newton starts from its multipliers: a faster start, the same answer).
        ``previous_weights`` overrides the era's holdings (e.g. a model's own previous portfolio).
        """
        held = self.era.previous_weights if previous_weights is None else previous_weights
        options: dict[str, Any] = {
            "exposures": self.era.exposures,
            "risk_model": self.risk_model,
            "previous_weights": held,
            "adv": self.era.adv,
            "config": self.config,
            "method": self.method,
        }
        if warm_start is not None:
            options["warm_start"] = warm_start
        if self.era.exposure_names is not None:
            options["exposure_names"] = self.era.exposure_names
        return optimize(alpha, **options)
