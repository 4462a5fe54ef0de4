"""pandas wrappers of numerai-tools' ``scoring`` helpers: alignment, ranks, normalizations, correlations.

Each function has numerai-tools 0.7.2's name, argument order and result type, returns its numbers,
and raises a :mod:`kardashev.errors` exception where numerai-tools asserts (codes: ``alignment``
for lost ids, ``unsorted_index``, ``index_mismatch``, ``nan_values``, ``power_decorrelates``).
The math is the array core (:mod:`kardashev.scoring.transforms`, :mod:`kardashev.scoring.ranking`).
Re-exported by :mod:`kardashev.scoring.frames`. Inputs are never modified.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring import neutralization as _neutralization
from kardashev.scoring import ranking as _ranking
from kardashev.scoring import transforms as _transforms
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO
from kardashev.scoring.correlation import top_bottom_rows

__all__ = [
    "center",
    "contribution_scores",
    "correlation",
    "filter_sort_index",
    "filter_sort_index_many",
    "filter_sort_top_bottom",
    "filter_sort_top_bottom_concat",
    "gaussian",
    "min_max_normalize",
    "one_hot_encode",
    "pearson_correlation",
    "power",
    "rank",
    "rank_series",
    "sharpe_ratio",
    "spearman_correlation",
    "standardize",
    "tie_broken_rank",
    "tie_broken_rank_correlation",
    "tie_kept_rank",
    "tie_kept_rank__gaussianize__pow_1_5",
    "validate_indices",
    "variance_normalize",
    "weight_normalize",
]

Data = TypeVar("Data", pd.Series, pd.DataFrame)


def like(data: Data, values: np.ndarray) -> Data:
    """``values`` labelled as ``data`` (same index, and columns or name)."""
    if isinstance(data, pd.DataFrame):
        return pd.DataFrame(values, index=data.index, columns=data.columns)
    return pd.Series(values, index=data.index, name=data.name)


def check_sorted(data: pd.Series | pd.DataFrame, name: str) -> None:
    """numerai-tools' ``np.array_equal(index.sort_values(), index)`` as an ``unsorted_index`` error."""
    if not np.array_equal(data.index.sort_values(), data.index):
        raise InvalidInputError(f"{name} must be indexed by sorted ids", code="unsorted_index")


def _check_overlap(name: str, kept: int, total: int, max_filtered_ratio: float, others: str) -> None:
    # the very comparison numerai-tools asserts (float division included)
    if total == 0 or not kept / total >= (1 - max_filtered_ratio):
        raise AlignmentError(
            f"{name} does not have enough overlapping ids with {others}: {kept} of {total} kept, "
            f"must have >= {round(1 - max_filtered_ratio, 2) * 100}% overlapping ids"
        )


def filter_sort_index(
    s1: Any, s2: Any, max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO
) -> tuple[Any, Any]:
    """Both inputs on the sorted intersection of their non-NaN ids (a row with any NaN is dropped)."""
    ids = s1.dropna().index.intersection(s2.dropna().index)
    _check_overlap("s1", len(ids), len(s1), max_filtered_ratio, "s2")
    _check_overlap("s2", len(ids), len(s2), max_filtered_ratio, "s1")
    return s1.loc[ids].sort_index(), s2.loc[ids].sort_index()


def filter_sort_index_many(
    inputs: list[Any], max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO
) -> list[Any]:
    """:func:`filter_sort_index` for any number of inputs."""
    if len(inputs) == 0:
        raise InvalidInputError("filter_sort_index_many needs at least one input")
    ids = inputs[0].dropna().index
    for data in inputs[1:]:
        ids = ids.intersection(data.dropna().index)
    result = [data.loc[ids].sort_index() for data in inputs]
    for i, (kept, data) in enumerate(zip(result, inputs, strict=True)):
        _check_overlap(f"inputs[{i}]", len(kept), len(data), max_filtered_ratio, "the others")
    return result


def _top_bottom_positions(values: np.ndarray, top_bottom: int) -> tuple[np.ndarray, np.ndarray]:
    # a stable argsort with NaN last, as pandas ≥ 3 orders a Series (NaN ids count as top names)
    order = np.argsort(values, kind="stable")
    return order[-top_bottom:], order[:top_bottom]


def filter_sort_top_bottom(s: pd.Series, top_bottom: int) -> tuple[pd.Series, pd.Series]:
    """``(top, bottom)``: the ``top_bottom`` highest and lowest entries of ``s``, each sorted by id."""
    top, bottom = _top_bottom_positions(s.to_numpy(dtype=np.float64), top_bottom)
    return s.iloc[top].sort_index(), s.iloc[bottom].sort_index()


def filter_sort_top_bottom_concat(s: pd.Series, top_bottom: int) -> pd.Series:
    """The top and bottom entries of ``s`` in one series sorted by id."""
    top, bottom = filter_sort_top_bottom(s, top_bottom)
    return pd.concat([top, bottom]).sort_index()


def rank_series(s: pd.Series, method: _transforms.RankMethod = "average") -> pd.Series:
    """Percentile rank ``(rank(s) - 0.5) / count(s)`` (ids must be sorted)."""
    check_sorted(s, "the series to rank")
    return like(s, _transforms.rank(s.to_numpy(dtype=np.float64), method=method))


def rank(s: Data, method: _transforms.RankMethod = "average") -> Data:
    """Percentile rank each column (or the series); ids must be sorted."""
    check_sorted(s, "the data to rank")
    return like(s, _transforms.rank(s.to_numpy(dtype=np.float64), method=method))


def tie_broken_rank(df: Data) -> Data:
    """Percentile rank breaking ties by id order."""
    return rank(df, "first")


def tie_kept_rank(s: Data) -> Data:
    """Percentile rank keeping ties: ``(rank_average - 0.5) / count``."""
    return rank(s, "average")


def min_max_normalize(s: Data) -> Data:
    """Scale into ``[0, 1]``: ``(s - min) / (max - min)``."""
    return like(s, _transforms.min_max_normalize(s.to_numpy(dtype=np.float64)))


def variance_normalize(df: Data) -> Data:
    """Divide each column by its population std (NaN skipped)."""
    return like(df, _transforms.variance_normalize(df.to_numpy(dtype=np.float64)))


def weight_normalize(s: Data) -> Data:
    """Divide each column by its sum of absolute values."""
    return like(s, _transforms.weight_normalize(s.to_numpy(dtype=np.float64)))


def center(s: Data) -> Data:
    """Subtract each column's mean."""
    return like(s, _transforms.center(s.to_numpy(dtype=np.float64)))


def standardize(df: Data) -> Data:
    """Mean 0 and population std 1 per column."""
    return like(df, _transforms.standardize(df.to_numpy(dtype=np.float64)))


def validate_indices(live_targets: pd.Series, predictions: pd.Series) -> None:
    """Same sorted ids and no NaN in either series, or an :class:`InvalidInputError`."""
    if not np.array_equal(predictions.index, live_targets.index.sort_values()):
        raise InvalidInputError("targets and predictions must have the same ids", code="index_mismatch")
    check_sorted(live_targets, "live_targets")
    check_sorted(predictions, "predictions")
    for name, data in (("predictions", predictions), ("live_targets", live_targets)):
        if data.isna().any():
            raise InvalidInputError(f"{name} contain NaN", code="nan_values")


def _corrcoef(a: np.ndarray, b: np.ndarray) -> float:
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.corrcoef(a, b)[0, 1])


def correlation(live_targets: pd.Series, predictions: pd.Series) -> float:
    """Pearson correlation of two series with the same sorted ids and no NaN."""
    validate_indices(live_targets, predictions)
    return _corrcoef(live_targets.to_numpy(dtype=np.float64), predictions.to_numpy(dtype=np.float64))


def tie_broken_rank_correlation(target: pd.Series, predictions: pd.Series) -> float:
    """Pearson correlation of the target with the tie-broken percentile ranks of the predictions."""
    return correlation(target, tie_broken_rank(predictions))


def spearman_correlation(target: pd.Series, predictions: pd.Series) -> float:
    """Spearman correlation (Pearson of tie-kept ranks) of two validated series."""
    validate_indices(target, predictions)
    return _corrcoef(
        _ranking.tie_kept_rank(target.to_numpy(dtype=np.float64)),
        _ranking.tie_kept_rank(predictions.to_numpy(dtype=np.float64)),
    )


def pearson_correlation(target: pd.Series, predictions: pd.Series, top_bottom: int | None = None) -> float:
    """Pearson correlation, optionally over the predictions' top and bottom ``top_bottom`` ids only."""
    if top_bottom is not None and top_bottom > 0:
        predictions = filter_sort_top_bottom_concat(predictions, top_bottom)
        target, predictions = filter_sort_index(target, predictions, (1 - top_bottom / len(target)))
    validate_indices(target, predictions)
    return _corrcoef(target.to_numpy(dtype=np.float64), predictions.to_numpy(dtype=np.float64))


def sharpe_ratio(s: Data) -> Any:
    """``mean / std`` (population std, NaN skipped)."""
    values = s.to_numpy(dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        result = np.nanmean(values, axis=0) / np.nanstd(values, axis=0)
    return float(result) if isinstance(s, pd.Series) else pd.Series(result, index=s.columns)


def power(df: pd.DataFrame, p: float) -> pd.DataFrame:
    """``sign(x)·|x|**p`` per column; no NaN, sorted ids, and each column stays ≥ 0.9 correlated."""
    values = df.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise InvalidInputError("data to raise to a power contains NaN", code="nan_values")
    check_sorted(df, "the data to raise to a power")
    return like(df, _transforms.power(values, p))


def gaussian(df: Data) -> Data:
    """The normal quantile ``Φ⁻¹(x)`` of the raw values, per column (ids must be sorted).

    numerai-tools applies it after ``tie_kept_rank``; the rank-first transform is
    :func:`kardashev.scoring.frames.gaussianize`.
    """
    check_sorted(df, "the data to gaussianize")
    return like(df, _transforms.gaussian(df.to_numpy(dtype=np.float64)))


def tie_kept_rank__gaussianize__pow_1_5(df: pd.DataFrame) -> pd.DataFrame:
    """``power(gaussian(tie_kept_rank(df)), 1.5)``: the transform CORR applies to predictions."""
    check_sorted(df, "the data to rank")
    values = df.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise InvalidInputError("data to raise to a power contains NaN", code="nan_values")
    gauss, powered = _ranking.gaussianize_and_pow15(values)
    _transforms.power(gauss, 1.5)  # numerai-tools' correlation check (it always holds for 1.5)
    return like(df, powered)


def contribution_scores(
    neutral_preds: np.ndarray,
    live_targets: pd.Series,
    predictions: pd.DataFrame,
    top_bottom: int | None = None,
) -> pd.Series:
    """Covariance of the orthogonalized predictions (rows in ``predictions``' order) with the target."""
    matrix = np.asarray(neutral_preds, dtype=np.float64)
    if top_bottom is not None and top_bottom > 0:
        target = live_targets.reindex(predictions.index).to_numpy(dtype=np.float64)
    else:
        target = live_targets.to_numpy(dtype=np.float64)
    if target.shape[0] != matrix.shape[0]:
        raise InvalidInputError(
            f"live_targets have {target.shape[0]} rows, neutral_preds {matrix.shape[0]}",
            code="index_mismatch",
        )
    full = live_targets.to_numpy(dtype=np.float64)
    scale = 4.0 if full.size and np.all((full >= 0) & (full <= 1)) else 1.0
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        target = target * scale - np.nanmean(full * scale)
        if top_bottom is not None and top_bottom > 0:
            selected = top_bottom_rows(matrix, top_bottom)
            filled = np.nan_to_num(matrix, nan=0.0)
            scores = np.array(
                [target[rows] @ filled[rows, j] / (top_bottom * 2) for j, rows in enumerate(selected)]
            )
        else:
            scores = (target @ matrix) / len(full)
    return pd.Series(scores, index=predictions.columns)


def one_hot_encode(df: pd.DataFrame, columns: list[str], dtype: type = np.float64) -> pd.DataFrame:
    """Replace each named column by one column per distinct value (``{column}_{value}``), appended.

    Values are ordered as scikit-learn's ``OneHotEncoder`` orders them (sorted, a missing value
    last); a column mixing text and numbers is an :class:`InvalidInputError`.
    """
    for column in columns:
        cells = df[column]
        values = cells.to_numpy()
        if values.dtype.kind in "fiub":
            categories = np.unique(values)
            matches = [values == value if value == value else pd.isna(values) for value in categories]
        else:
            missing = pd.isna(values)
            present = values[~missing]
            try:
                categories_list = sorted(set(present.tolist()))
            except TypeError as exc:
                raise InvalidInputError(
                    f"column {column!r} mixes value types ({exc}); one-hot encoding needs one type"
                ) from exc
            matches = [values == value for value in categories_list]
            if missing.any():
                nan_like = [v for v in values[missing] if v is not None][:1]
                categories_list += nan_like or [None]
                matches.append(missing)
            categories = np.array(categories_list, dtype=object)
        encoded = pd.DataFrame(
            {
                f"{column}_{value}": match.astype(dtype)
                for value, match in zip(categories, matches, strict=True)
            },
            index=df.index,
        )
        df = df.join(encoded).drop(columns=column)
    return df


def neutralize_frame(df: pd.DataFrame, neutralizers: pd.DataFrame, proportion: float = 1.0) -> pd.DataFrame:
    """numerai-tools' ``neutralize`` checks (no NaN, same ids in the same order), then the core."""
    for name, data in (("data", df), ("neutralizers", neutralizers)):
        if data.isna().to_numpy().any():
            raise InvalidInputError(f"{name} to neutralize contain NaN", code="nan_values")
    if not df.index.equals(neutralizers.index):
        raise InvalidInputError(
            "df and neutralizers must have the same ids in the same order", code="index_mismatch"
        )
    values = _neutralization.neutralize(
        df.to_numpy(dtype=np.float64), neutralizers.to_numpy(dtype=np.float64), proportion=proportion
    )
    return like(df, values)
