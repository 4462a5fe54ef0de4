"""TC next to the linear MPC proxy, on the same inputs.

MPC (meta portfolio contribution, :func:`kardashev.scoring.meta_portfolio_contribution`) is the
gradient of a *linear* stand-in for the fund's portfolio: each signal is turned into neutralized
weights ``(s' − N Nᵀ(v∘s'))∘v`` and stake-weighted, with no optimizer, bounds, leverage cap or
costs. TC differentiates through the real optimizer. Where they disagree, the constraints matter.

The neutralizer ``N`` for MPC is built from the same exposures the optimizer is neutral to (plus
the dollar-neutral column when the config has it), orthonormalized in the ``v``-weighted inner
product (``Nᵀ diag(v) N = I``, dependent columns dropped), so ``N Nᵀ(v∘s')`` is the weighted
least-squares projection of a signal on the exposures — the form Numerai's neutralizer files have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kardashev.contribution.inputs import prepare_era
from kardashev.contribution.true_contribution import TCResult, true_contribution
from kardashev.errors import InvalidInputError
from kardashev.scoring import meta_portfolio_contribution, orthonormal_neutralizers

__all__ = ["ContributionComparison", "compare_contributions"]


@dataclass(frozen=True, eq=False)
class ContributionComparison:
    """TC and MPC per model for one era.

    Attributes
    ----------
    tc, mpc
        ``(n_models,)`` (Series by model name for frame input).
    rank_correlation
        Spearman correlation of TC and MPC across models (NaN with fewer than 3 models).
    tc_result
        The full :class:`~kardashev.contribution.TCResult`.
    """

    tc: np.ndarray | pd.Series
    mpc: np.ndarray | pd.Series
    rank_correlation: float
    tc_result: TCResult

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``tc``, ``mpc`` and their ranks (1 = best)."""
        frame = pd.DataFrame({"tc": np.asarray(self.tc), "mpc": np.asarray(self.mpc)})
        if isinstance(self.tc, pd.Series):
            frame.index = self.tc.index
        frame["tc_rank"] = frame["tc"].rank(ascending=False, method="min").astype(int)
        frame["mpc_rank"] = frame["mpc"].rank(ascending=False, method="min").astype(int)
        frame.index.name = "model"
        return frame

    def figure(self) -> Any:
        """A plotly scatter of MPC against TC, one point per model."""
        import plotly.graph_objects as go

        frame = self.to_frame()
        return go.Figure(
            go.Scatter(x=frame["mpc"], y=frame["tc"], mode="markers", text=[str(i) for i in frame.index]),
            layout={
                "title": f"TC vs MPC (rank correlation {self.rank_correlation:.2f})",
                "xaxis_title": "MPC (linear proxy)",
                "yaxis_title": "TC (through the optimizer)",
            },
        )


def compare_contributions(
    predictions: np.ndarray | pd.DataFrame,
    stakes: np.ndarray | pd.Series,
    realized_returns: np.ndarray | pd.Series,
    exposures: np.ndarray | pd.DataFrame | None,
    config: Any,
    *,
    sample_weights: np.ndarray | None = None,
    **tc_options: Any,
) -> ContributionComparison:
    """TC (``true_contribution`` with ``tc_options``) and MPC of every model on the same era.

    ``sample_weights`` (``v``, default all 1, aligned with the prediction rows) weight the MPC
    neutralization; MPC's targets are the realized returns.
    """
    tc = true_contribution(predictions, stakes, realized_returns, exposures, config, **tc_options)
    era, labels = prepare_era(predictions, stakes, realized_returns, exposures)  # the same aligned arrays
    n_stocks = era.n_stocks
    weights = np.ones(n_stocks) if sample_weights is None else np.asarray(sample_weights, dtype=np.float64)
    if weights.shape != (n_stocks,) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise InvalidInputError(
            f"sample_weights must be {n_stocks} finite positive numbers", code="invalid_sample_weights"
        )
    columns = [np.ones((n_stocks, 1))] if getattr(config, "dollar_neutral", True) else []
    if era.exposures is not None:
        columns.append(era.exposures)
    neutralizers = (
        orthonormal_neutralizers(np.hstack(columns), weights) if columns else np.zeros((n_stocks, 0))
    )
    mpc = meta_portfolio_contribution(
        era.required("predictions"),
        era.required("stakes"),
        neutralizers,
        weights,
        era.required("realized_returns"),
    )
    from scipy.stats import spearmanr  # here: scipy.stats costs ~0.9 s to import

    tc_values = np.asarray(tc.tc)
    correlation = float(spearmanr(tc_values, mpc).statistic) if tc_values.size >= 3 else float("nan")
    if labels is not None:
        mpc = pd.Series(mpc, index=labels.model_names, name="mpc")
    return ContributionComparison(tc=tc.tc, mpc=mpc, rank_correlation=correlation, tc_result=tc)
