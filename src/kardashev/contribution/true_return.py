"""True Return: each signal's own optimized portfolio, as if it were the whole meta model.

For model k with gaussianized predictions ``G_k``::

    a_k = standardize(G_k)
    w_k = optimize(a_k; same exposures, risk model, bounds, leverage, costs, previous holdings)
    gross_return_k = rᵀ w_k
    trading_cost_k = κ·Σ_i λ_i t_ki² + c·Σ_i |t_ki| + Σ_i κ'_i |t_ki|^{3/2}, t_k = w_k − w0 (portfolio.costs)
    net_return_k   = gross_return_k − trading_cost_k

``λ_i = median(adv)/adv_i`` when ADV is given and ``config.impact_adv_scaled``, else 1 — the same
costs the optimizer charged. Models are solved one after another, each warm-started from the
previous solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kardashev.contribution.inputs import gaussianized_matrix, prepare_era
from kardashev.contribution.progress import progress_steps
from kardashev.contribution.solve import EraSolver
from kardashev.errors import AlignmentError, InvalidInputError, KardashevError
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig
from kardashev.portfolio.costs import trade_cost

__all__ = ["TrueReturnResult", "trading_cost", "true_return"]

_FIGURES = ("gross_return", "trading_cost", "net_return", "turnover", "gross_leverage")


@dataclass(frozen=True, eq=False)
class TrueReturnResult:
    """Each model's own portfolio and its realized return before and after trading costs.

    Attributes
    ----------
    gross_return, trading_cost, net_return
        ``(n_models,)`` ``rᵀw_k``, the cost of trading from the previous holdings to ``w_k`` and
        their difference (Series by model name for frame input).
    turnover, gross_leverage
        ``(n_models,)`` ``Σ|w_k − w0|`` and ``Σ|w_k|``.
    weights
        ``(n_stocks, n_models)`` the portfolios (a DataFrame for frame input), or ``None`` when not
        kept.
    """

    gross_return: np.ndarray | pd.Series
    trading_cost: np.ndarray | pd.Series
    net_return: np.ndarray | pd.Series
    turnover: np.ndarray | pd.Series
    gross_leverage: np.ndarray | pd.Series
    weights: np.ndarray | pd.DataFrame | None

    def to_frame(self) -> pd.DataFrame:
        """One row per model with the five per-model figures."""
        columns = ("gross_return", "trading_cost", "net_return", "turnover", "gross_leverage")
        frame = pd.DataFrame({name: np.asarray(getattr(self, name)) for name in columns})
        if isinstance(self.gross_return, pd.Series):
            frame.index = self.gross_return.index
        frame.index.name = "model"
        return frame


def trading_cost(
    weights: np.ndarray,
    previous_weights: np.ndarray | None,
    adv: np.ndarray | None,
    config: Any,
    *,
    risk_model: Any = None,
) -> np.ndarray:
    """The trading cost charged by the optimizer's objective, for one or many portfolios:
    :func:`kardashev.portfolio.costs.trade_cost` (quadratic impact, spread, 3/2-power impact).

    ``weights`` ``(n_stocks,)`` or ``(n_stocks, n_portfolios)``; ``previous_weights``, ``adv``
    ``(n_stocks,)`` or ``None`` (no holdings: the trade is the whole portfolio); ``risk_model`` the
    one the portfolio was optimized with (the 3/2-power impact's σ_i). Returns a float array of
    shape ``weights.shape[1:]``.
    """
    return trade_cost(weights, previous_weights, config=config, adv=adv, risk_model=risk_model)


def _own_holdings(
    previous_weights: object, ids: pd.Index | None, names: pd.Index | None, shape: tuple
) -> np.ndarray:
    """Per-model previous holdings as an aligned ``(n_stocks, n_models)`` matrix (missing: not held)."""
    if isinstance(previous_weights, pd.DataFrame) and ids is not None and names is not None:
        if not previous_weights.index.is_unique or not previous_weights.columns.is_unique:
            raise AlignmentError(
                "previous weights have duplicate stock ids or model columns", code="duplicate_ids"
            )
        previous_weights = previous_weights.reindex(index=ids, columns=names, fill_value=0.0)
    try:
        holdings = np.asarray(previous_weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"previous weights must be numbers: {exc}") from exc
    if holdings.shape != shape:
        raise InvalidInputError(
            f"per-model previous weights must have shape {shape} (stocks, models), got {holdings.shape}",
            code="shape_mismatch",
        )
    if not np.isfinite(holdings).all():
        raise InvalidInputError(
            "previous weights contain NaN or infinite values", code="invalid_previous_weights"
        )
    return holdings


def true_return(
    predictions: np.ndarray | pd.DataFrame,
    realized_returns: np.ndarray | pd.Series,
    exposures: np.ndarray | pd.DataFrame | None,
    config: Any,
    *,
    risk_model: Any = None,
    previous_weights: np.ndarray | pd.Series | pd.DataFrame | None = None,
    adv: np.ndarray | pd.Series | None = None,
    method: str = "auto",
    gaussianized: bool = False,
    keep_weights: bool = True,
    progress: bool = False,
    warm_start: Any = None,
) -> TrueReturnResult:
    """Optimize every model's own signal under the fund's configuration and score it.

    Inputs are as for :func:`~kardashev.contribution.true_contribution` (no stakes needed), except
    that ``previous_weights`` may also be per model — ``(n_stocks, n_models)``, or a DataFrame with
    one column per model — so each signal trades from its own previous portfolio (a stock or model
    missing from the frame: not held). A model whose predictions are constant has no portfolio:
    :class:`~kardashev.errors.InvalidInputError` naming it. A failed solve re-raises the
    optimizer's error with the model named. ``warm_start`` (a ``PortfolioResult`` of the same
    era) starts the first solve; each later one starts from the previous model's.
    """
    n_models = np.shape(predictions)[1] if np.ndim(predictions) == 2 else 1
    per_model = previous_weights is not None and np.ndim(previous_weights) == 2
    era, labels = prepare_era(
        predictions,
        np.ones(n_models),
        realized_returns,
        exposures,
        previous_weights=None if per_model else previous_weights,
        adv=adv,
    )
    holdings = (
        _own_holdings(
            previous_weights,
            None if labels is None else labels.ids,
            None if labels is None else labels.model_names,
            era.required("predictions").shape,
        )
        if per_model
        else None
    )
    matrix = gaussianized_matrix(era, already_gaussianized=gaussianized)
    config = OptimizerConfig() if config is None else config
    solver = EraSolver(era, config, risk_model, method)
    n_stocks = matrix.shape[0]
    # the portfolios are kept only when asked for: otherwise each model's figures are taken at once
    weights = np.empty((n_stocks, n_models)) if keep_weights else None
    names: list[Any] = list(labels.model_names) if labels is not None else list(range(n_models))
    returns = era.required("realized_returns")
    figures = {name: np.empty(n_models) for name in _FIGURES}
    warm = warm_start
    for k in progress_steps(range(n_models), total=n_models, description="True Return", enabled=progress):
        try:
            alpha = standardize(matrix[:, k])
            own = None if holdings is None else holdings[:, k]
            warm = solver.solve(alpha, warm_start=warm, previous_weights=own)
        except KardashevError as error:
            raise type(error)(f"model {names[k]!r}: {error.message}", code=error.code) from error
        own_weights = np.asarray(warm.weights, dtype=np.float64)
        if weights is not None:
            weights[:, k] = own_weights
        held = holdings[:, k] if holdings is not None else era.previous_weights
        gross = float(returns @ own_weights)
        cost = float(trading_cost(own_weights, held, era.adv, config, risk_model=solver.risk_model))
        figures["gross_return"][k], figures["trading_cost"][k] = gross, cost
        figures["net_return"][k] = gross - cost
        trade = own_weights if held is None else own_weights - np.asarray(held, dtype=np.float64)
        figures["turnover"][k] = float(np.abs(trade).sum())
        figures["gross_leverage"][k] = float(np.abs(own_weights).sum())
    if not np.isfinite(figures["gross_return"]).all():
        raise InvalidInputError("a model's portfolio has non-finite weights", code="invalid_portfolio")
    kept: np.ndarray | pd.DataFrame | None = weights
    labelled: dict[str, Any] = dict(figures)
    if labels is not None:
        labelled = {
            name: pd.Series(values, index=labels.model_names, name=name) for name, values in figures.items()
        }
        if weights is not None:
            kept = pd.DataFrame(weights, index=labels.ids, columns=labels.model_names)
    return TrueReturnResult(weights=kept, **labelled)
