"""TC explained: where one model's True Contribution comes from, stock by stock.

With ``v = ∂R/∂m`` (the return's sensitivity to the blended meta model, see
:mod:`kardashev.contribution.true_contribution`), a model's TC is a sum over stocks::

    TC_k = Σ_i (G_ik − m_i) · v_i

``G_ik − m_i`` is how the model's gaussianized prediction differs from the meta model on stock i;
``v_i`` is how much the optimized portfolio's realized return would rise if the meta model rose on
stock i. ``v`` is shaped by the optimizer: a stock held at its position bound, or one whose
change would be undone by a neutrality constraint or the gross-leverage cap, passes little or
nothing through — the constraint shadow prices (``PortfolioResult.duals``) say which constraints
bind and how hard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kardashev.contribution.inputs import gaussianized_matrix, prepare_era
from kardashev.contribution.solve import EraSolver
from kardashev.contribution.true_contribution import blend_sensitivity
from kardashev.errors import InvalidInputError, NotFoundError

__all__ = ["ContributionExplanation", "explain_contribution"]


@dataclass(frozen=True, eq=False)
class ContributionExplanation:
    """One model's TC decomposed over stocks, with the optimizer's shadow prices.

    Attributes
    ----------
    model
        The model's name (frames) or column position (arrays).
    tc
        The model's TC; equals ``stock_contributions.sum()``.
    stock_contributions
        ``(n_stocks,)`` ``(G_ik − m_i)·v_i``.
    difference
        ``(n_stocks,)`` ``G_ik − m_i``: the model's gaussianized prediction minus the blend.
    sensitivity
        ``(n_stocks,)`` ``v_i = ∂R/∂m_i``.
    return_gradient
        ``(n_stocks,)`` ``∂R/∂a_i``, the optimizer's exact gradient w.r.t. the standardized alpha.
    weights, realized_returns, meta_model
        ``(n_stocks,)`` the optimized portfolio, the returns and the standardized meta model.
    realized_return
        ``rᵀw*``.
    shadow_prices
        The optimizer's dual variables (``PortfolioResult.duals``).
    active
        The optimizer's active-constraint report (``PortfolioResult.active``).
    ids
        Stock ids (frames) or ``None``.
    """

    model: Any
    tc: float
    stock_contributions: np.ndarray
    difference: np.ndarray
    sensitivity: np.ndarray
    return_gradient: np.ndarray
    weights: np.ndarray
    realized_returns: np.ndarray
    meta_model: np.ndarray
    realized_return: float
    shadow_prices: Any
    active: Any
    ids: pd.Index | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per stock, largest absolute contribution first; the ``contribution`` column sums to TC."""
        frame = pd.DataFrame(
            {
                "contribution": self.stock_contributions,
                "difference": self.difference,
                "sensitivity": self.sensitivity,
                "return_gradient": self.return_gradient,
                "weight": self.weights,
                "realized_return": self.realized_returns,
                "meta_model": self.meta_model,
                "position": self._positions(),
                "bound_shadow_price": self._bound_prices(),
            },
            index=self.ids if self.ids is not None else pd.RangeIndex(self.weights.size),
        )
        frame.index.name = "stock"
        order = np.argsort(-np.abs(self.stock_contributions), kind="stable")
        return frame.iloc[order]

    def _positions(self) -> np.ndarray:
        """Each stock's place at the optimum: free / at_upper / at_lower / at_zero / at_previous."""
        labels = np.full(self.weights.size, "free", dtype=object)
        for name in ("at_zero", "at_previous", "at_upper", "at_lower"):
            mask = getattr(self.active, name, None)
            if mask is not None:
                labels[np.asarray(mask, dtype=bool)] = name
        weak = getattr(self.active, "weakly_active", None)
        if weak is not None:
            labels[np.asarray(weak, dtype=bool)] = "weakly_active"
        return labels

    def _bound_prices(self) -> np.ndarray:
        bounds = getattr(self.shadow_prices, "bounds", None)
        return np.full(self.weights.size, np.nan) if bounds is None else np.asarray(bounds, dtype=np.float64)

    def constraint_frame(self) -> pd.DataFrame:
        """The portfolio-wide constraints' shadow prices (objective gained per unit of slack).

        One row per neutrality (exposure column), plus the gross-leverage and turnover caps and
        the number of names held at a position bound. A large price means the constraint bent the
        portfolio hard — and with it the gradient ``v`` that every model's TC is measured against.
        """
        duals = self.shadow_prices
        rows = [
            {"constraint": f"neutral:{name}", "shadow_price": float(price), "active": True}
            for name, price in zip(duals.exposure_names, np.asarray(duals.equality), strict=True)
        ]
        rows.append(
            {
                "constraint": "gross_leverage",
                "shadow_price": float(duals.gross),
                "active": bool(self.active.gross),
            }
        )
        rows.append(
            {
                "constraint": "turnover",
                "shadow_price": float(duals.turnover),
                "active": bool(self.active.turnover),
            }
        )
        at_bound = np.asarray(self.active.at_upper) | np.asarray(self.active.at_lower)
        rows.append(
            {
                "constraint": f"position_bounds ({int(at_bound.sum())} names at a bound)",
                "shadow_price": float(np.asarray(duals.bounds).sum()),
                "active": bool(at_bound.any()),
            }
        )
        return pd.DataFrame(rows).set_index("constraint")

    def top(self, count: int = 10) -> pd.DataFrame:
        """The ``count`` stocks that move this model's TC the most."""
        return self.to_frame().head(count)

    def figure(self, count: int = 25) -> Any:
        """A plotly bar chart of the largest per-stock contributions (import plotly lazily)."""
        import plotly.graph_objects as go

        top = self.top(count).iloc[::-1]
        return go.Figure(
            go.Bar(x=top["contribution"], y=[str(i) for i in top.index], orientation="h"),
            layout={
                "title": f"TC of {self.model} = {self.tc:.4g}: largest stock contributions",
                "xaxis_title": "(G_ik − m_i)·∂R/∂m_i",
                "yaxis_title": "stock",
            },
        )


def _model_position(model: Any, model_names: pd.Index | None, n_models: int) -> int:
    if model_names is not None and not isinstance(model, int | np.integer):
        if model not in model_names:
            raise NotFoundError(f"model {model!r} is not among the prediction columns")
        return int(model_names.get_loc(model))
    if isinstance(model, bool) or not isinstance(model, int | np.integer):
        raise InvalidInputError(f"model must be a column position, got {model!r}")
    if not 0 <= model < n_models:
        raise NotFoundError(f"model position {model} is out of range for {n_models} models")
    return int(model)


def explain_contribution(
    predictions: np.ndarray | pd.DataFrame,
    stakes: np.ndarray | pd.Series,
    realized_returns: np.ndarray | pd.Series,
    exposures: np.ndarray | pd.DataFrame | None,
    config: Any,
    *,
    model: Any,
    risk_model: Any = None,
    previous_weights: np.ndarray | pd.Series | None = None,
    adv: np.ndarray | pd.Series | None = None,
    method: str = "auto",
    gaussianized: bool = False,
) -> ContributionExplanation:
    """Decompose one model's (exact, unbagged) TC over stocks; inputs as for ``true_contribution``.

    ``model`` is a column name (DataFrame predictions) or a column position.
    """
    era, labels = prepare_era(
        predictions, stakes, realized_returns, exposures, previous_weights=previous_weights, adv=adv
    )
    stakes_, returns = era.required("stakes"), era.required("realized_returns")
    position = _model_position(model, None if labels is None else labels.model_names, era.n_models)
    matrix = gaussianized_matrix(era, already_gaussianized=gaussianized)
    solver = EraSolver(era, config, risk_model, method)
    point = blend_sensitivity(matrix @ (stakes_ / stakes_.sum()), solver, returns)
    difference = matrix[:, position] - point.blend
    contributions = difference * point.sensitivity
    weights = np.asarray(point.result.weights, dtype=np.float64)
    return ContributionExplanation(
        model=model if labels is not None else position,
        tc=float(contributions.sum()),
        stock_contributions=contributions,
        difference=difference,
        sensitivity=point.sensitivity,
        return_gradient=point.return_gradient,
        weights=weights,
        realized_returns=returns,
        meta_model=point.alpha,
        realized_return=float(returns @ weights),
        shadow_prices=point.result.duals,
        active=point.result.active,
        ids=None if labels is None else labels.ids,
    )
