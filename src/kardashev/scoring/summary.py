"""Summaries of per-era score series: Sharpe, drawdown, autocorrelation, Newey–West t-statistic …

Per-era targets overlap (a 20-trading-day target scored every week spans 4 eras), so consecutive
era scores are correlated; :func:`newey_west_t_statistic` corrects the t-statistic for it with
Bartlett weights up to ``lag = target horizon in eras - 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError

__all__ = [
    "DIAGNOSTIC_KEYS",
    "ScoreSummary",
    "apy",
    "autocorrelation",
    "diagnostics",
    "hit_rate",
    "max_drawdown",
    "max_drawdown_compounded",
    "newey_west_t_statistic",
    "sharpe_ratio",
    "smart_sharpe",
    "summarize",
    "summarize_series",
]


def _series(scores: ArrayLike) -> NDArray[np.float64]:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise InvalidInputError(f"a score series must be 1-D, got {values.ndim}-D")
    return values[~np.isnan(values)]


def sharpe_ratio(scores: ArrayLike) -> float:
    """``mean / std`` (std with ddof 0); NaN eras skipped; NaN when the std is 0 or no era."""
    values = _series(scores)
    if values.size == 0:
        return float("nan")
    std = values.std()
    return float(values.mean() / std) if std > 0 else float("nan")


def max_drawdown(scores: ArrayLike) -> float:
    """Largest fall of the cumulative sum from its running peak, as a number ≤ 0.

    ``-max_t (max_{s≤t} C_s - C_t)`` with ``C = cumsum(scores)`` (NaN eras skipped).
    """
    values = _series(scores)
    if values.size == 0:
        return float("nan")
    cumulative = np.cumsum(values)
    return float(-(np.maximum.accumulate(cumulative) - cumulative).max())


def max_drawdown_compounded(scores: ArrayLike) -> float:
    """Largest relative fall of ``V = cumprod(1 + scores)`` from its running peak (≤ 0).

    ``-max_t (P_t - V_t) / P_t`` with ``P_t = max_{s≤t} V_s``.
    """
    values = _series(scores)
    if values.size == 0:
        return float("nan")
    value = np.cumprod(1 + values)
    peak = np.maximum.accumulate(value)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-((peak - value) / peak).max())


def autocorrelation(scores: ArrayLike, *, lag: int = 1) -> float:
    """Pearson correlation of the series with itself ``lag`` eras earlier (NaN if undefined)."""
    values = _series(scores)
    if lag < 1 or values.size <= lag + 1:
        return float("nan")
    head, tail = values[:-lag], values[lag:]
    if head.std() == 0 or tail.std() == 0:
        return float("nan")
    return float(np.corrcoef(head, tail)[0, 1])


def smart_sharpe(scores: ArrayLike) -> float:
    """Sharpe with the std inflated by autocorrelation (Numerai forum's "smart Sharpe").

    ``mean / (std_ddof1 · sqrt(1 + 2 Σ_{i=1}^{n-1} (n-i)/n · |ρ₁|^i))`` with ``ρ₁`` the lag-1
    autocorrelation.
    """
    values = _series(scores)
    n = values.size
    if n < 3:
        return float("nan")
    rho = autocorrelation(values)
    rho = 0.0 if np.isnan(rho) else abs(rho)
    i = np.arange(1, n)
    penalty = np.sqrt(1 + 2 * np.sum((n - i) / n * rho**i))
    std = values.std(ddof=1)
    return float(values.mean() / (std * penalty)) if std > 0 else float("nan")


def apy(scores: ArrayLike, *, eras_per_year: float = 52.0, multiplier: float = 1.0) -> float:
    """Annualized compounding of per-era payouts ``multiplier·score``.

    ``(Π (1 + multiplier·s))^(eras_per_year / n) - 1``; weekly eras by default.
    """
    values = _series(scores)
    if values.size == 0:
        return float("nan")
    growth = np.prod(1 + multiplier * values)
    if growth <= 0:
        return -1.0
    return float(growth ** (eras_per_year / values.size) - 1)


def hit_rate(scores: ArrayLike) -> float:
    """Share of eras with a positive score."""
    values = _series(scores)
    return float((values > 0).mean()) if values.size else float("nan")


def newey_west_t_statistic(scores: ArrayLike, *, lag: int) -> float:
    """t-statistic of the mean corrected for autocorrelation up to ``lag`` eras (Newey–West).

    ``t = x̄ / sqrt(S / n)``, ``S = γ₀ + 2 Σ_{k=1}^{L} (1 - k/(L+1)) γ_k``,
    ``γ_k = (1/n) Σ_{t>k} (x_t - x̄)(x_{t-k} - x̄)``. With ``lag = 0`` it is the plain
    ``x̄ / (std_ddof0 / sqrt(n))``. Use ``lag = target horizon in eras - 1`` for overlapping targets.
    """
    if lag < 0:
        raise InvalidInputError(f"lag must be >= 0, got {lag}")
    values = _series(scores)
    n = values.size
    if n < 2:
        return float("nan")
    deviations = values - values.mean()
    long_run_variance = deviations @ deviations / n
    for k in range(1, min(lag, n - 1) + 1):
        gamma = deviations[k:] @ deviations[:-k] / n
        long_run_variance += 2 * (1 - k / (lag + 1)) * gamma
    if long_run_variance <= 0:
        return float("nan")
    return float(values.mean() / np.sqrt(long_run_variance / n))


@dataclass(frozen=True)
class ScoreSummary:
    """Summary of one model's per-era series of one metric."""

    n_eras: int
    mean: float
    std: float
    sharpe: float
    max_drawdown: float
    max_drawdown_compounded: float
    autocorrelation: float
    smart_sharpe: float
    apy: float
    hit_rate: float
    t_statistic: float


def summarize_series(scores: ArrayLike, *, lag: int, eras_per_year: float = 52.0) -> ScoreSummary:
    """All summary statistics of one per-era series (NaN eras skipped)."""
    values = _series(scores)
    return ScoreSummary(
        n_eras=int(values.size),
        mean=float(values.mean()) if values.size else float("nan"),
        std=float(values.std()) if values.size else float("nan"),
        sharpe=sharpe_ratio(values),
        max_drawdown=max_drawdown(values),
        max_drawdown_compounded=max_drawdown_compounded(values),
        autocorrelation=autocorrelation(values),
        smart_sharpe=smart_sharpe(values),
        apy=apy(values, eras_per_year=eras_per_year),
        hit_rate=hit_rate(values),
        t_statistic=newey_west_t_statistic(values, lag=lag),
    )


def _resolve_lag(lag: int | None, target_horizon_eras: int) -> int:
    if lag is not None:
        return lag
    if target_horizon_eras < 1:
        raise InvalidInputError(f"target_horizon_eras must be >= 1, got {target_horizon_eras}")
    return target_horizon_eras - 1


def summarize(
    per_era: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    target_horizon_eras: int = 4,
    lag: int | None = None,
    eras_per_year: float = 52.0,
) -> pd.DataFrame:
    """Summarize a tidy per-era table (columns ``era``, ``model`` and metrics) per model.

    Parameters
    ----------
    per_era
        As returned by :func:`kardashev.scoring.score_eras`, eras in time order.
    metrics
        Metric columns to summarize (default: every numeric column but ``era``/``model``).
    target_horizon_eras
        Eras spanned by one target (20 trading days of weekly eras → 4); the Newey–West lag is
        this minus one unless ``lag`` is given.
    lag
        Explicit Newey–West lag.

    Returns
    -------
    DataFrame indexed by model with columns ``<metric>_<statistic>`` (statistics of
    :class:`ScoreSummary`), models in first-seen order.
    """
    missing = {"era", "model"} - set(per_era.columns)
    if missing:
        raise InvalidInputError(f"per-era table lacks column(s) {sorted(missing)}")
    used_lag = _resolve_lag(lag, target_horizon_eras)
    if metrics is None:
        metrics = [
            c
            for c in per_era.columns
            if c not in ("era", "model") and pd.api.types.is_numeric_dtype(per_era[c])
        ]
    unknown = [m for m in metrics if m not in per_era.columns]
    if unknown:
        raise InvalidInputError(f"unknown metric column(s) {unknown}; available: {list(per_era.columns)}")
    rows: dict[str, dict[str, float]] = {}
    for model, group in per_era.groupby("model", sort=False):
        row: dict[str, float] = {}
        for metric in metrics:
            summary = summarize_series(
                group[metric].to_numpy(dtype=np.float64), lag=used_lag, eras_per_year=eras_per_year
            )
            row.update({f"{metric}_{key}": value for key, value in asdict(summary).items()})
        rows[str(model)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "model"
    return frame


#: numerapi diagnostics key → (metric, statistic) in a :func:`summarize` table
DIAGNOSTIC_KEYS: dict[str, tuple[str, str]] = {
    "validationCorrMean": ("corr", "mean"),
    "validationCorrStd": ("corr", "std"),
    "validationCorrSharpe": ("corr", "sharpe"),
    "validationMaxDrawdown": ("corr", "max_drawdown"),
    "validationAutocorr": ("corr", "autocorrelation"),
    "validationMmcMean": ("mmc", "mean"),
    "validationMmcStd": ("mmc", "std"),
    "validationMmcSharpe": ("mmc", "sharpe"),
    "validationCorrPlusMmcMean": ("corr_plus_mmc", "mean"),
    "validationCorrPlusMmcStd": ("corr_plus_mmc", "std"),
    "validationCorrPlusMmcSharpe": ("corr_plus_mmc", "sharpe"),
    "validationBmcMean": ("bmc", "mean"),
    "validationBmcSharpe": ("bmc", "sharpe"),
    "validationFeatureNeutralCorrMean": ("fnc", "mean"),
    "validationFeatureCorrMax": ("feature_exposure_max", "mean"),
    "validationCorrWithMetaModel": ("cwmm", "mean"),
}


def diagnostics(
    per_era: pd.DataFrame,
    *,
    target_horizon_eras: int = 4,
    lag: int | None = None,
) -> dict[str, dict[str, float]]:
    """numerapi-style diagnostics per model: ``{model: {"validationCorrMean": …, …}}``.

    Keys whose metric was not scored are left out; ``validationCorrPlusMmc*`` use the per-era sum
    CORR + MMC. ``validationCorrTStat`` is the Newey–West t-statistic of CORR.
    """
    table = per_era
    if {"corr", "mmc"} <= set(per_era.columns):
        table = per_era.assign(corr_plus_mmc=per_era["corr"] + per_era["mmc"])
    summary = summarize(table, target_horizon_eras=target_horizon_eras, lag=lag)
    result: dict[str, dict[str, float]] = {}
    for model, row in summary.iterrows():
        entry = {
            key: float(row[f"{metric}_{statistic}"])
            for key, (metric, statistic) in DIAGNOSTIC_KEYS.items()
            if f"{metric}_{statistic}" in row.index
        }
        if "corr_t_statistic" in row.index:
            entry["validationCorrTStat"] = float(row["corr_t_statistic"])
        result[str(model)] = entry
    return result
