"""The report's drill-down: where the highest-TC model's True Contribution comes from, stock by stock.

:func:`explain_top_model` picks the model with the highest season TC on the validation (static-stake)
fund and decomposes its TC in one era (the season's last) with
:func:`kardashev.contribution.explain_contribution`: per stock ``(G_ik − m_i)·∂R/∂m_i`` and the
optimizer's shadow prices per constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kardashev.contribution import ContributionExplanation, explain_contribution
from kardashev.contribution.scores import risk_model_of
from kardashev.data.era import Era
from kardashev.portfolio import OptimizerConfig

__all__ = ["Drilldown", "explain_top_model"]


@dataclass(frozen=True, eq=False)
class Drilldown:
    """One model's TC in one era, explained.

    Attributes
    ----------
    model, archetype
        The model (highest season TC on the validation fund) and its archetype.
    era
        The era explained.
    season_tc
        The model's season sum of TC on the validation fund (what picked it).
    era_tc
        Its TC in ``era`` as the validation fund recorded it.
    explanation
        The decomposition (its ``tc`` is the unbagged TC of the era, the sum of the stock contributions).
    """

    model: str
    archetype: str
    era: str
    season_tc: float
    era_tc: float
    explanation: ContributionExplanation


def explain_top_model(
    inputs: Era,
    *,
    stakes: np.ndarray,
    previous_weights: np.ndarray | None,
    tc: np.ndarray,
    model_names: tuple[str, ...],
    archetypes: tuple[str, ...],
    config: OptimizerConfig,
) -> Drilldown | None:
    """Explain the TC in era ``inputs`` of the model with the highest season TC.

    ``tc`` is the validation fund's ``(n_eras, n_models)`` TC, the last row being ``inputs``' era;
    ``stakes`` and ``previous_weights`` are that fund's for the era. ``None`` without a finite TC.
    """
    tc = np.asarray(tc, dtype=np.float64)
    if tc.size == 0 or not np.isfinite(tc).any():
        return None
    season = np.nansum(tc, axis=0)
    top = int(np.nanargmax(np.where(np.isfinite(season), season, -np.inf)))
    ids = pd.Index(np.asarray(inputs.ids, dtype=object).astype(str), name="stock")
    exposures = None
    if inputs.exposures is not None:
        names = inputs.exposure_names or tuple(f"exposure {j + 1}" for j in range(inputs.exposures.shape[1]))
        exposures = pd.DataFrame(inputs.exposures, index=ids, columns=list(names))
    explanation = explain_contribution(
        pd.DataFrame(inputs.required("gaussianized"), index=ids, columns=list(model_names)),
        pd.Series(np.asarray(stakes, dtype=np.float64), index=list(model_names)),
        pd.Series(inputs.required("realized_returns"), index=ids),
        exposures,
        config,
        model=model_names[top],
        risk_model=risk_model_of(inputs),
        previous_weights=None if previous_weights is None else pd.Series(previous_weights, index=ids),
        adv=None if inputs.adv is None else pd.Series(inputs.adv, index=ids),
        gaussianized=True,
    )
    return Drilldown(
        model=model_names[top],
        archetype=archetypes[top],
        era=str(inputs.era),
        season_tc=float(season[top]),
        era_tc=float(tc[-1, top]),
        explanation=explanation,
    )
