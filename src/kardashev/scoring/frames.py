"""pandas wrappers with numerai-tools' names and argument orders.

Each wrapper only aligns (numerai-tools' rules: NaN rows dropped, sorted intersection of ids, at
most 20% of any input's ids lost), converts to arrays and labels the result; the math is in the
array core. Where numerai-tools asserts, these raise a :mod:`kardashev.errors` exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.errors import InvalidInputError
from kardashev.scoring import contribution as _contribution
from kardashev.scoring import correlation as _correlation
from kardashev.scoring import exposure as _exposure
from kardashev.scoring import neutralization as _neutralization
from kardashev.scoring import ranking as _ranking
from kardashev.scoring import signals as _signals
from kardashev.scoring import weights as _weights
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, union_frame_index
from kardashev.scoring.churn import churn as _core_churn
from kardashev.scoring.churn import turnover as _core_turnover

__all__ = [
    "alpha",
    "churn",
    "correlation_contribution",
    "feature_exposures",
    "feature_neutral_corr",
    "gaussian",
    "max_feature_correlation",
    "meta_portfolio_contribution",
    "neutral_contribution",
    "neutral_correlation",
    "neutralize",
    "numerai_corr",
    "pairwise_correlations",
    "stake_weight",
    "tie_kept_rank",
    "tie_kept_rank__gaussianize__pow_1_5",
    "turnover",
]

_ALL_ROWS = 1.0  # the wrappers check the id ratios; the core then keeps every complete row


def _frame(data: pd.Series | pd.DataFrame, name: str) -> pd.DataFrame:
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, pd.DataFrame):
        return data
    raise InvalidInputError(f"{name} must be a pandas DataFrame or Series, got {type(data).__name__}")


def _series(data: pd.Series | pd.DataFrame, name: str) -> pd.Series:
    if isinstance(data, pd.Series):
        return data
    if isinstance(data, pd.DataFrame) and data.shape[1] == 1:
        return data.iloc[:, 0]
    raise InvalidInputError(f"{name} must be a pandas Series (one column)")


def _aligned(
    named: list[tuple[str, pd.Series | pd.DataFrame]],
    max_filtered_ratio: float,
) -> tuple[pd.Index, list[np.ndarray]]:
    """Check numerai-tools' id rule, then reindex every input on the sorted union of ids.

    Rows missing from an input become NaN there, so the array core drops them exactly as
    numerai-tools does, while steps that use an input's full data (centering the target before
    filtering) still see all of it.
    """
    union_frame_index(named, max_filtered_ratio=max_filtered_ratio)
    ids = named[0][1].index
    for _, data in named[1:]:
        ids = ids.union(data.index)
    ids = ids.sort_values()
    arrays = [data.reindex(ids).to_numpy(dtype=np.float64) for _, data in named]
    return ids, arrays


def tie_kept_rank(df: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Percentile rank each column keeping ties: ``(rank_average - 0.5) / count``."""
    values = _ranking.tie_kept_rank(df.to_numpy(dtype=np.float64))
    return df.__class__(
        values, index=df.index, **({"columns": df.columns} if df.ndim == 2 else {"name": df.name})
    )


def gaussian(df: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """``Φ⁻¹(tie_kept_rank(x))`` column-wise (numerai-tools' ``gaussian(tie_kept_rank(df))``)."""
    values = _ranking.gaussianize(df.to_numpy(dtype=np.float64))
    return df.__class__(
        values, index=df.index, **({"columns": df.columns} if df.ndim == 2 else {"name": df.name})
    )


def tie_kept_rank__gaussianize__pow_1_5(df: pd.DataFrame) -> pd.DataFrame:
    """``pow(Φ⁻¹(tkr(x)), 1.5)`` column-wise."""
    return pd.DataFrame(
        _ranking.tie_kept_rank_gauss_pow15(df.to_numpy(dtype=np.float64)), index=df.index, columns=df.columns
    )


def numerai_corr(
    predictions: pd.DataFrame,
    targets: pd.Series,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
    top_bottom: int | None = None,
    target_pow15: bool = True,
) -> pd.Series:
    """CORR of each prediction column with the target (see :func:`kardashev.scoring.numerai_corr`)."""
    predictions = _frame(predictions, "predictions")
    _, (target, matrix) = _aligned(
        [("targets", _series(targets, "targets")), ("predictions", predictions)], max_filtered_index_ratio
    )
    scores = _correlation.numerai_corr(
        matrix, target, target_pow15=target_pow15, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def correlation_contribution(
    predictions: pd.DataFrame,
    meta_model: pd.Series,
    live_targets: pd.Series,
    top_bottom: int | None = None,
    *,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.Series:
    """MMC (BMC with a benchmark as ``meta_model``) of each prediction column."""
    predictions = _frame(predictions, "predictions")
    _, (matrix, meta, target) = _aligned(
        [
            ("predictions", predictions),
            ("meta_model", _series(meta_model, "meta_model")),
            ("live_targets", _series(live_targets, "live_targets")),
        ],
        max_filtered_index_ratio,
    )
    scores = _contribution.correlation_contribution(
        matrix, meta, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def neutral_contribution(
    predictions: pd.DataFrame,
    meta_model: pd.Series,
    neutralizers: pd.DataFrame,
    live_targets: pd.Series,
    top_bottom: int | None = None,
    *,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.Series:
    """MMC after neutralizing predictions and meta model against ``neutralizers``."""
    predictions = _frame(predictions, "predictions")
    _, (target, matrix, meta, neutral) = _aligned(
        [
            ("live_targets", _series(live_targets, "live_targets")),
            ("predictions", predictions),
            ("meta_model", _series(meta_model, "meta_model")),
            ("neutralizers", _frame(neutralizers, "neutralizers")),
        ],
        max_filtered_index_ratio,
    )
    scores = _contribution.neutral_contribution(
        matrix, meta, neutral, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def neutralize(df: pd.DataFrame, neutralizers: pd.DataFrame, proportion: float = 1.0) -> pd.DataFrame:
    """Neutralize each column of ``df`` against ``neutralizers`` (same ids required, no NaN)."""
    df = _frame(df, "df")
    neutralizers = _frame(neutralizers, "neutralizers")
    if not df.index.equals(neutralizers.index):
        raise InvalidInputError(
            "df and neutralizers must have the same ids in the same order", code="index_mismatch"
        )
    values = _neutralization.neutralize(
        df.to_numpy(dtype=np.float64), neutralizers.to_numpy(dtype=np.float64), proportion=proportion
    )
    return pd.DataFrame(values, index=df.index, columns=df.columns)


def neutral_correlation(
    predictions: pd.DataFrame,
    neutralizers: pd.DataFrame,
    targets: pd.Series,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
    top_bottom: int | None = None,
) -> pd.Series:
    """Pearson of the centered target with neutralized gaussianized predictions."""
    predictions = _frame(predictions, "predictions")
    _, (target, matrix, neutral) = _aligned(
        [
            ("targets", _series(targets, "targets")),
            ("predictions", predictions),
            ("neutralizers", _frame(neutralizers, "neutralizers")),
        ],
        max_filtered_index_ratio,
    )
    scores = _neutralization.neutral_correlation(
        matrix, neutral, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def feature_neutral_corr(
    predictions: pd.DataFrame,
    features: pd.DataFrame,
    targets: pd.Series,
    top_bottom: int | None = None,
    *,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.Series:
    """FNC of each prediction column; a constant column scores NaN (numerai-tools asserts)."""
    predictions = _frame(predictions, "predictions")
    _, (matrix, feature_matrix, target) = _aligned(
        [
            ("predictions", predictions),
            ("features", _frame(features, "features")),
            ("targets", _series(targets, "targets")),
        ],
        max_filtered_index_ratio,
    )
    scores = _neutralization.feature_neutral_corr(
        matrix, feature_matrix, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def _common(
    named: list[tuple[str, pd.Series | pd.DataFrame]], max_filtered_index_ratio: float
) -> list[np.ndarray]:
    ids = union_frame_index(named, max_filtered_ratio=max_filtered_index_ratio)
    return [data.loc[ids].to_numpy(dtype=np.float64) for _, data in named]


def feature_exposures(
    predictions: pd.DataFrame,
    features: pd.DataFrame,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.DataFrame:
    """Pearson of each raw prediction column with each feature: features × models."""
    predictions = _frame(predictions, "predictions")
    features = _frame(features, "features")
    matrix, feature_matrix = _common(
        [("predictions", predictions), ("features", features)], max_filtered_index_ratio
    )
    return pd.DataFrame(
        _exposure.feature_exposures(matrix, feature_matrix),
        index=features.columns,
        columns=predictions.columns,
    )


def max_feature_correlation(
    s: pd.Series,
    features: pd.DataFrame,
    top_bottom: int | None = None,
    *,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> tuple[str, float]:
    """``(feature name, |corr|)`` of the feature most correlated with the raw prediction ``s``."""
    features = _frame(features, "features")
    values, feature_matrix = _common(
        [("s", _series(s, "s")), ("features", features)], max_filtered_index_ratio
    )
    best, value = _exposure.max_feature_correlation(values, feature_matrix, top_bottom=top_bottom)
    return str(features.columns[best]), value


def pairwise_correlations(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation between every pair of submissions (rows with a NaN dropped)."""
    predictions = _frame(predictions, "predictions").dropna()
    values = _exposure.pairwise_correlations(predictions.to_numpy(dtype=np.float64))
    return pd.DataFrame(values, index=predictions.columns, columns=predictions.columns)


def stake_weight(predictions: pd.DataFrame, stakes: pd.Series) -> pd.Series:
    """Stake-weighted meta model over the models named in ``stakes`` (no ranking)."""
    predictions = _frame(predictions, "predictions")
    missing = [name for name in stakes.index if name not in predictions.columns]
    if missing:
        raise InvalidInputError(
            f"stakes name models without predictions: {missing[:5]}", code="unknown_models"
        )
    values = _weights.stake_weight(
        predictions[stakes.index].to_numpy(dtype=np.float64), stakes.to_numpy(dtype=np.float64)
    )
    return pd.Series(values, index=predictions.index)


def churn(s1: pd.Series, s2: pd.Series, top_bottom: int | None = None) -> float:
    """``1 - Spearman(s1, s2)`` on the common ids, or the top/bottom-``k`` turnover of names."""
    s1, s2 = _series(s1, "s1"), _series(s2, "s2")
    if top_bottom is not None and top_bottom > 0:
        ids = s1.index.union(s2.index).sort_values()
        return _core_churn(
            s1.reindex(ids).to_numpy(dtype=np.float64),
            s2.reindex(ids).to_numpy(dtype=np.float64),
            top_bottom=top_bottom,
        )
    a, b = _common([("s1", s1), ("s2", s2)], DEFAULT_MAX_FILTERED_RATIO)
    return _core_churn(a, b)


def turnover(s1: pd.Series, s2: pd.Series) -> float:
    """``Σ|w1 - w2| / 2`` on the common ids of two weight series."""
    a, b = _common([("s1", _series(s1, "s1")), ("s2", _series(s2, "s2"))], DEFAULT_MAX_FILTERED_RATIO)
    return _core_turnover(a, b)


def alpha(
    predictions: pd.DataFrame, neutralizers: pd.DataFrame, sample_weights: pd.Series, targets: pd.Series
) -> pd.Series:
    """Signals alpha of each prediction column."""
    predictions = _frame(predictions, "predictions")
    _, (matrix, target) = _aligned(
        [("predictions", predictions), ("targets", _series(targets, "targets"))], DEFAULT_MAX_FILTERED_RATIO
    )
    ids = predictions.index.union(targets.index).sort_values()
    neutral, weights = _reindex_complete(ids, matrix, target, neutralizers, sample_weights)
    scores = _signals.alpha(matrix, neutral, weights, target, max_filtered_ratio=_ALL_ROWS)
    return pd.Series(scores, index=predictions.columns)


def meta_portfolio_contribution(
    predictions: pd.DataFrame,
    stakes: pd.Series,
    neutralizers: pd.DataFrame,
    sample_weights: pd.Series,
    targets: pd.Series,
) -> pd.Series:
    """MPC of each model named in ``stakes`` (a linear, optimizer-free stand-in for TC)."""
    predictions = _frame(predictions, "predictions")
    missing = [name for name in stakes.index if name not in predictions.columns]
    if missing:
        raise InvalidInputError(
            f"stakes name models without predictions: {missing[:5]}", code="unknown_models"
        )
    predictions = predictions[stakes.index]
    _, (matrix, target) = _aligned(
        [("predictions", predictions), ("targets", _series(targets, "targets"))], DEFAULT_MAX_FILTERED_RATIO
    )
    ids = predictions.index.union(targets.index).sort_values()
    neutral, weights = _reindex_complete(ids, matrix, target, neutralizers, sample_weights)
    scores = _signals.meta_portfolio_contribution(
        matrix, stakes.to_numpy(dtype=np.float64), neutral, weights, target, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=stakes.index)


def _reindex_complete(
    ids: pd.Index,
    matrix: np.ndarray,
    target: np.ndarray,
    neutralizers: pd.DataFrame,
    sample_weights: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Neutralizers and sample weights on ``ids``; ids that will be scored must be covered."""
    neutralizers = _frame(neutralizers, "neutralizers")
    sample_weights = _series(sample_weights, "sample_weights")
    scored = ~(np.isnan(matrix).any(axis=1) | np.isnan(target))
    neutral = neutralizers.reindex(ids).to_numpy(dtype=np.float64)
    weights = sample_weights.reindex(ids).to_numpy(dtype=np.float64)
    uncovered = scored & (np.isnan(neutral).any(axis=1) | np.isnan(weights))
    if uncovered.any():
        raise InvalidInputError(
            f"neutralizers / sample_weights are missing or NaN for {int(uncovered.sum())} scored ids, "
            f"e.g. {ids[uncovered][:5].tolist()}",
            code="nan_neutralizers",
        )
    return np.where(scored[:, None], neutral, 0.0), np.where(scored, weights, 0.0)
