"""pandas wrappers with numerai-tools' names and argument orders: its ``scoring`` and ``signals`` modules.

Every function numerai-tools 0.7.2 defines in ``numerai_tools.scoring`` and ``numerai_tools.signals``
is here under the same name (helpers from :mod:`kardashev.scoring.frames_tools`, Signals scores from
:mod:`kardashev.scoring.frames_signals`); ``numerai_tools.submissions`` is
:mod:`kardashev.scoring.submissions`. ``gaussian`` is the normal quantile of the raw values, as in
numerai-tools; the rank-first transform is :func:`gaussianize`.

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
from kardashev.scoring import weights as _weights
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, union_frame_index
from kardashev.scoring.frames_signals import (
    alpha,
    calculate_max_churn_and_turnover,
    calculate_mean_neutral_churn,
    churn,
    generate_neutralized_weights,
    meta_portfolio_contribution,
    neutral_churn,
    neutral_churn_penalty,
    turnover,
)
from kardashev.scoring.frames_tools import (
    center,
    check_sorted,
    contribution_scores,
    correlation,
    filter_sort_index,
    filter_sort_index_many,
    filter_sort_top_bottom,
    filter_sort_top_bottom_concat,
    gaussian,
    min_max_normalize,
    neutralize_frame,
    one_hot_encode,
    pearson_correlation,
    power,
    rank,
    rank_series,
    sharpe_ratio,
    spearman_correlation,
    standardize,
    tie_broken_rank,
    tie_broken_rank_correlation,
    tie_kept_rank,
    tie_kept_rank__gaussianize__pow_1_5,
    validate_indices,
    variance_normalize,
    weight_normalize,
)

__all__ = [
    "alpha",
    "calculate_max_churn_and_turnover",
    "calculate_mean_neutral_churn",
    "center",
    "churn",
    "contribution_scores",
    "correlation",
    "correlation_contribution",
    "feature_exposures",
    "feature_neutral_corr",
    "filter_sort_index",
    "filter_sort_index_many",
    "filter_sort_top_bottom",
    "filter_sort_top_bottom_concat",
    "gaussian",
    "gaussianize",
    "generate_neutralized_weights",
    "max_feature_correlation",
    "meta_portfolio_contribution",
    "min_max_normalize",
    "neutral_churn",
    "neutral_churn_penalty",
    "neutral_contribution",
    "neutral_correlation",
    "neutralize",
    "numerai_corr",
    "one_hot_encode",
    "orthogonalize",
    "pairwise_correlations",
    "pearson_correlation",
    "power",
    "rank",
    "rank_series",
    "sharpe_ratio",
    "spearman_correlation",
    "stake_weight",
    "standardize",
    "tie_broken_rank",
    "tie_broken_rank_correlation",
    "tie_kept_rank",
    "tie_kept_rank__gaussianize__neutralize__variance_normalize",
    "tie_kept_rank__gaussianize__pow_1_5",
    "turnover",
    "validate_indices",
    "variance_normalize",
    "weight_normalize",
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


def gaussianize(df: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """``Φ⁻¹(tie_kept_rank(x))`` per column (numerai-tools' ``gaussian(tie_kept_rank(df))``), any id order."""
    values = _ranking.gaussianize(df.to_numpy(dtype=np.float64))
    return df.__class__(
        values, index=df.index, **({"columns": df.columns} if df.ndim == 2 else {"name": df.name})
    )


def orthogonalize(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``v - u (vᵀu)/(uᵀu)`` (numerai-tools' formula, shapes included)."""
    return _contribution.orthogonalize(v, u)


def tie_kept_rank__gaussianize__neutralize__variance_normalize(
    df: pd.DataFrame, neutralizers: pd.DataFrame
) -> pd.DataFrame:
    """``variance_normalize(neutralize(gaussian(tie_kept_rank(df)), neutralizers))``."""
    return variance_normalize(neutralize(gaussian(tie_kept_rank(df)), neutralizers))


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
    if top_bottom is not None and top_bottom > 0:  # NaN (constant) columns lose their top/bottom ids there
        complete = ~(np.isnan(target) | np.isnan(meta) | np.isnan(matrix).any(axis=1))
        _refuse_constant(matrix[complete & ~np.isnan(neutral).any(axis=1)], predictions.columns)
    scores = _contribution.neutral_contribution(
        matrix, meta, neutral, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def neutralize(df: pd.DataFrame, neutralizers: pd.DataFrame, proportion: float = 1.0) -> pd.DataFrame:
    """Neutralize each column of ``df`` against ``neutralizers`` (same ids required, no NaN)."""
    return neutralize_frame(_frame(df, "df"), _frame(neutralizers, "neutralizers"), proportion)


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
    complete = ~(np.isnan(target) | np.isnan(matrix).any(axis=1) | np.isnan(neutral).any(axis=1))
    _refuse_constant(matrix[complete], predictions.columns)
    scores = _neutralization.neutral_correlation(
        matrix, neutral, target, top_bottom=top_bottom, max_filtered_ratio=_ALL_ROWS
    )
    return pd.Series(scores, index=predictions.columns)


def _refuse_constant(matrix: np.ndarray, columns: pd.Index) -> None:
    """A constant column is NaN after neutralizing, where numerai-tools asserts: an error here."""
    if matrix.shape[0] == 0:
        return
    constant = np.all(matrix == matrix[:1], axis=0)
    if constant.any():
        raise InvalidInputError(
            f"constant prediction columns cannot be neutralized: {list(columns[constant][:5])}",
            code="constant_predictions",
        )


def feature_neutral_corr(
    predictions: pd.DataFrame,
    features: pd.DataFrame,
    targets: pd.Series,
    top_bottom: int | None = None,
    *,
    max_filtered_index_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.Series:
    """FNC of each prediction column (ids sorted, no NaN, features on the same ids, as numerai-tools
    asserts; the array core scores a constant column NaN, here it is an error as there)."""
    predictions = _frame(predictions, "predictions")
    features = _frame(features, "features")
    check_sorted(predictions, "predictions")
    if predictions.isna().to_numpy().any() or features.isna().to_numpy().any():
        raise InvalidInputError("predictions and features must not contain NaN", code="nan_values")
    if not predictions.index.equals(features.index):
        raise InvalidInputError("predictions and features must have the same ids", code="index_mismatch")
    _refuse_constant(predictions.to_numpy(dtype=np.float64), predictions.columns)
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
) -> tuple[str, float]:
    """``(feature name, |corr|)`` of the feature most correlated with the raw prediction ``s``
    (:func:`pearson_correlation` of each feature with ``s``)."""
    features = _frame(features, "features")
    correlations = pd.Series(
        {column: abs(pearson_correlation(features[column], s, top_bottom)) for column in features.columns},
        dtype=np.float64,
    )
    if correlations.isna().all():
        raise InvalidInputError("no feature has a defined correlation with s", code="constant_predictions")
    best = correlations.idxmax()
    return str(best), float(correlations[best])


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
