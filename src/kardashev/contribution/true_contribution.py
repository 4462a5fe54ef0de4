"""True Contribution (TC): the exact gradient of the optimized portfolio's return w.r.t. stakes.

Kardashev's definition, for one era with predictions ``P`` (n_stocks × n_models), stakes ``s``
(≥ 0, Σs > 0) and realized returns ``r``::

    G  = gaussianize(P)                      # once per era, column-wise
    m  = G s / Σs                            # stake-weighted blend
    a  = (m − mean m) / σ,  σ = std(m)       # standardized meta model, the optimizer's alpha
    w* = optimize(a; exposures, risk model, bounds, leverage, costs)
    R  = rᵀ w*                               # realized return of the optimized portfolio
    TC_k = (Σs) · ∂R/∂s_k

Chain rule in closed form (exact, no finite differences):

    g = ∂R/∂a = vjp(r)                          # implicit differentiation of the optimizer's KKT
    v = ∂R/∂m = (g − mean(g)·1 − a·(aᵀg)/n) / σ  # back through the standardization
    ∂m/∂s_k = (G_k − m) / Σs   ⇒   TC_k = (G_k − m)ᵀ v = (Gᵀv)_k − mᵀv

so all models cost one matrix-vector product ``Gᵀv``. Consequences (tested): Σ_k s_k·TC_k = 0;
scaling every stake leaves TC unchanged; a zero-stake model gets the derivative at zero stake;
identical models get identical TC; a single model has TC 0.

Bagging (``bags > 0``): each draw sets the stakes of a random ``dropout`` share of the staked
models to 0 (at least one staked model is kept), re-optimizes warm-started from the previous
draw, and computes every model's TC at the dropped stakes; ``tc`` is the mean over draws. The
blends of all draws are one matrix product ``G S_drawsᵀ`` and their TCs one product ``Gᵀ V``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kardashev.contribution.inputs import EraInputs, gaussianized_matrix, prepare_era
from kardashev.contribution.progress import progress_steps
from kardashev.contribution.solve import EraSolver
from kardashev.errors import InvalidInputError
from kardashev.metamodel import standardize

__all__ = [
    "BlendSensitivity",
    "TCResult",
    "bagged_fields",
    "blend_sensitivity",
    "dropout_stakes",
    "standardization_vjp",
    "true_contribution",
]


@dataclass(frozen=True, eq=False)
class TCResult:
    """True Contribution of every model in one era.

    Attributes
    ----------
    tc
        ``(n_models,)`` TC per model (mean over draws when ``bags > 0``); a Series indexed by model
        name when the predictions were a DataFrame.
    exact_tc
        ``(n_models,)`` TC at the full stakes (no dropout); equals ``tc`` when ``bags == 0``.
    weights
        ``(n_stocks,)`` the optimized portfolio at the full stakes (Series by stock id for frames).
    realized_return
        ``rᵀw*`` of that portfolio.
    meta_model
        ``(n_stocks,)`` the standardized stake-weighted meta model fed to the optimizer.
    return_gradient
        ``(n_stocks,)`` ``∂R/∂a``, the optimizer's exact sensitivity of the return to the alpha.
    active
        The optimizer's report of which constraints were active (``PortfolioResult.active``).
    portfolio
        The optimizer's full result at the full stakes (status, duals, ``vjp`` …).
    bags, dropout
        The bagging settings used.
    bag_tc
        ``(bags, n_models)`` TC of every draw, or ``None`` without bagging.
    bag_realized_returns
        ``(bags,)`` realized return of each draw's portfolio (empty without bagging).
    bag_stakes
        ``(bags, n_models)`` the stakes of each draw (dropped ones 0), or ``None``.
    """

    tc: np.ndarray | pd.Series
    exact_tc: np.ndarray | pd.Series
    weights: np.ndarray | pd.Series
    realized_return: float
    meta_model: np.ndarray | pd.Series
    return_gradient: np.ndarray | pd.Series
    active: Any
    portfolio: Any
    bags: int = 0
    dropout: float = 0.0
    bag_tc: np.ndarray | None = None
    bag_realized_returns: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bag_stakes: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``tc``, ``exact_tc`` and, with bagging, the std of TC over draws."""
        frame = pd.DataFrame({"tc": np.asarray(self.tc), "exact_tc": np.asarray(self.exact_tc)})
        if self.bag_tc is not None:
            frame["bag_tc_std"] = self.bag_tc.std(axis=0)
        if isinstance(self.tc, pd.Series):
            frame.index = self.tc.index
        frame.index.name = "model"
        return frame

    def figure(self, count: int = 50) -> Any:
        """A plotly bar chart of the ``count`` largest |TC| (error bars: std over draws when bagged)."""
        import plotly.graph_objects as go

        frame = self.to_frame()
        frame = frame.iloc[np.argsort(-np.abs(frame["tc"].to_numpy()), kind="stable")[:count]]
        errors = {"type": "data", "array": frame["bag_tc_std"]} if "bag_tc_std" in frame else None
        title = f"True Contribution ({self.bags} stake-dropout draws)" if self.bags else "True Contribution"
        return go.Figure(
            go.Bar(x=[str(name) for name in frame.index], y=frame["tc"], error_y=errors),
            layout={
                "title": title,
                "xaxis_title": "model",
                "yaxis_title": "TC = Σs·∂(rᵀw*)/∂s_k",
            },
        )


def standardization_vjp(alpha: np.ndarray, scale: float, cotangent: np.ndarray) -> np.ndarray:
    """Pull a cotangent back through ``a = (m − mean m)/σ``.

    Parameters
    ----------
    alpha
        ``a``, shape ``(n,)``, the standardized vector (mean 0, ``aᵀa = n``).
    scale
        ``σ = std(m)`` (ddof 0).
    cotangent
        ``g = ∂R/∂a``, shape ``(n,)`` or ``(n, k)`` for k vectors at once (same ``a``/``σ``).

    Returns
    -------
    numpy.ndarray
        ``v = Jᵀg = (g − mean(g) − a (aᵀg)/n) / σ``; ``J = (I − 11ᵀ/n − aaᵀ/n)/σ`` is symmetric.
    """
    n = alpha.shape[0]
    centered = cotangent - cotangent.mean(axis=0)
    return (centered - np.multiply.outer(alpha, alpha @ cotangent) / n) / scale


def dropout_stakes(stakes: np.ndarray, *, bags: int, dropout: float, rng: np.random.Generator) -> np.ndarray:
    """``(bags, n_models)`` stake draws: each zeroes a random ``dropout`` share of the staked models.

    ``round(dropout · n_staked)`` of the models with a positive stake are dropped in each draw,
    capped so at least one staked model remains. Zero-stake models stay at 0.
    """
    staked = np.flatnonzero(stakes > 0)
    n_drop = min(round(dropout * staked.size), staked.size - 1)
    draws = np.broadcast_to(stakes, (bags, stakes.size)).copy()
    for draw in draws:
        draw[rng.choice(staked, size=n_drop, replace=False)] = 0.0
    return draws


def _check_options(bags: int, dropout: float) -> None:
    if isinstance(bags, bool) or not isinstance(bags, int | np.integer) or bags < 0:
        raise InvalidInputError(f"bags must be an integer >= 0, got {bags!r}", code="invalid_bags")
    if not (isinstance(dropout, float | int) and 0.0 <= float(dropout) < 1.0):
        raise InvalidInputError(f"dropout must be a share in [0, 1), got {dropout!r}", code="invalid_dropout")


@dataclass(frozen=True, eq=False)
class BlendSensitivity:
    """One blend ``m`` pushed through the optimizer and pulled back: the pieces of TC."""

    blend: np.ndarray  # m = G s/Σs, (n_stocks,)
    alpha: np.ndarray  # standardized m, the optimizer's input
    result: Any  # the PortfolioResult
    return_gradient: np.ndarray  # g = ∂R/∂a
    sensitivity: np.ndarray  # v = ∂R/∂m


def blend_sensitivity(
    blend: np.ndarray, solver: EraSolver, returns: np.ndarray, *, warm_start: Any = None
) -> BlendSensitivity:
    """Standardize ``m``, optimize, and return ``g = vjp(r)`` and ``v = J_stdᵀ g``."""
    alpha = standardize(blend)
    result = solver.solve(alpha, warm_start=warm_start)
    gradient = np.asarray(result.vjp(returns), dtype=np.float64)
    sensitivity = standardization_vjp(alpha, float(np.std(blend)), gradient)
    return BlendSensitivity(blend, alpha, result, gradient, sensitivity)


def era_tc(
    gaussianized: np.ndarray,
    era: EraInputs,
    solver: EraSolver,
    *,
    bags: int = 0,
    dropout: float = 0.5,
    seed: int | np.random.Generator | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Array core of :func:`true_contribution` on already-gaussianized predictions ``G``.

    Returns a dict of the :class:`TCResult` fields as unlabelled arrays.
    """
    stakes, returns = era.stakes, era.realized_returns
    point = blend_sensitivity(gaussianized @ (stakes / stakes.sum()), solver, returns)
    result = point.result
    exact = gaussianized.T @ point.sensitivity - float(point.blend @ point.sensitivity)
    fields: dict[str, Any] = {
        "exact_tc": exact,
        "tc": exact,
        "weights": np.asarray(result.weights, dtype=np.float64),
        "realized_return": float(returns @ result.weights),
        "meta_model": point.alpha,
        "return_gradient": point.return_gradient,
        "active": result.active,
        "portfolio": result,
        "bags": int(bags),
        "dropout": float(dropout) if bags else 0.0,
    }
    if bags == 0:
        return fields
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws = dropout_stakes(stakes, bags=bags, dropout=float(dropout), rng=rng)
    blends = gaussianized @ (draws / draws.sum(axis=1, keepdims=True)).T  # (n_stocks, bags)
    pulled_back = np.empty_like(blends)
    bag_returns = np.empty(bags)
    warm = result
    for b in progress_steps(range(bags), total=bags, description="TC stake-dropout draws", enabled=progress):
        draw = blend_sensitivity(blends[:, b], solver, returns, warm_start=warm)
        warm = draw.result
        bag_returns[b] = float(returns @ draw.result.weights)
        pulled_back[:, b] = draw.sensitivity
    fields.update(bagged_fields(gaussianized, draws, blends, pulled_back, bag_returns))
    return fields


def bagged_fields(
    gaussianized: np.ndarray,
    draws: np.ndarray,
    blends: np.ndarray,
    pulled_back: np.ndarray,
    bag_returns: np.ndarray,
) -> dict[str, Any]:
    """The bagged :class:`TCResult` fields from every draw's blend ``m_b`` and ``v_b = ∂R/∂m_b``.

    ``blends`` and ``pulled_back`` are ``(n_stocks, bags)``; all draws' TCs are one product
    ``Gᵀ V − (m_bᵀ v_b)_b``.
    """
    bag_tc = (gaussianized.T @ pulled_back - np.einsum("ib,ib->b", blends, pulled_back)).T  # (bags, n_models)
    return {
        "tc": bag_tc.mean(axis=0),
        "bag_tc": bag_tc,
        "bag_realized_returns": bag_returns,
        "bag_stakes": draws,
    }


def true_contribution(
    predictions: np.ndarray | pd.DataFrame,
    stakes: np.ndarray | pd.Series,
    realized_returns: np.ndarray | pd.Series,
    exposures: np.ndarray | pd.DataFrame | None,
    config: Any,
    *,
    risk_model: Any = None,
    previous_weights: np.ndarray | pd.Series | None = None,
    adv: np.ndarray | pd.Series | None = None,
    bags: int = 0,
    dropout: float = 0.5,
    seed: int | np.random.Generator | None = None,
    method: str = "auto",
    gaussianized: bool = False,
    progress: bool = False,
) -> TCResult:
    """True Contribution of every model in one era (see the module docstring for the definition).

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` raw predictions, or a DataFrame (index: stock ids, columns: model
        names). With ``gaussianized=True`` they are taken as already gaussianized (``G``), e.g.
        shared with scoring, so the per-era sort is not repeated.
    stakes
        ``(n_models,)`` stakes ≥ 0 with a positive sum (Series by model name for frames).
    realized_returns
        ``(n_stocks,)`` realized returns ``r`` over the holding period (Series by stock id).
    exposures
        ``(n_stocks, n_exposures)`` neutrality matrix (DataFrame by stock id), or ``None``.
    config
        The :class:`~kardashev.portfolio.OptimizerConfig` of the fund's optimizer.
    risk_model, previous_weights, adv, method
        Passed to :func:`kardashev.portfolio.optimize` for every solve.
    bags, dropout, seed
        Number of stake-dropout draws to average (0: the exact TC at the full stakes), the share
        of staked models dropped per draw, and the seed (or a ``numpy.random.Generator``).
    progress
        Show a progress bar over the draws.

    Returns
    -------
    TCResult
        Frozen; ``tc`` is a Series labelled by model when ``predictions`` is a DataFrame.

    Raises
    ------
    InvalidInputError
        NaN returns / predictions / exposures, mismatched shapes, negative or all-zero stakes,
        bad ``bags``/``dropout``; :class:`~kardashev.errors.AlignmentError` for mismatched ids.
    InfeasibleError, SolverError
        From the optimizer when the constraints admit no portfolio or a solve fails.
    """
    _check_options(bags, dropout)
    era = prepare_era(
        predictions, stakes, realized_returns, exposures, previous_weights=previous_weights, adv=adv
    )
    matrix = gaussianized_matrix(era, already_gaussianized=gaussianized)
    solver = EraSolver(era, config, risk_model, method)
    fields = era_tc(matrix, era, solver, bags=bags, dropout=dropout, seed=seed, progress=progress)
    if era.labelled:
        for name in ("tc", "exact_tc"):
            fields[name] = pd.Series(fields[name], index=era.model_names, name=name)
        for name in ("weights", "meta_model", "return_gradient"):
            fields[name] = pd.Series(fields[name], index=era.ids, name=name)
    return TCResult(**fields)
