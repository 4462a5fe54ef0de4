"""Batched per-era scoring of many models: one sort per matrix, one factorization of the features.

For each era the prediction matrix ``(n_stocks, n_models)`` is gaussianized with a single sort per
column, the feature matrix is factored once (QR + small SVD) and shared by every model's FNC, and
all scores are matrix products. Eras are streamed one at a time, so memory is bounded by one era.

Every model is scored independently: a model's numbers equal numerai-tools' on that model's column
alone. Rows where the target or any given auxiliary input (meta model, benchmark, features) is NaN
are dropped for the whole era; a model with NaN predictions is scored on its own rows (a model that
covers fewer than ``1 - max_filtered_ratio`` of the era's rows scores NaN that era).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import (
    DEFAULT_MAX_FILTERED_RATIO,
    as_float_array,
    complete_rows,
    covers_enough,
)
from kardashev.scoring.correlation import pearson_matrix
from kardashev.scoring.neutralization import NeutralizerBasis, neutralizer_basis
from kardashev.scoring.ranking import (
    gaussianize,
    gaussianize_and_pow15,
    pow15,
    sort_rows,
    tie_kept_rank_gauss_pow15,
)

__all__ = ["METRICS", "EraScores", "score_era", "score_eras"]

METRICS = ("corr", "mmc", "bmc", "fnc", "cwmm", "feature_exposure_max", "feature_exposure_rms")


@dataclass(frozen=True)
class EraScores:
    """Scores of every model on one era; a metric whose inputs were not given is ``None``.

    Each array is ``(n_models,)``; ``n_stocks`` is the number of rows scored.
    """

    era: str
    model_names: tuple[str, ...]
    n_stocks: int
    corr: NDArray[np.float64] | None = None
    mmc: NDArray[np.float64] | None = None
    bmc: NDArray[np.float64] | None = None
    fnc: NDArray[np.float64] | None = None
    cwmm: NDArray[np.float64] | None = None
    feature_exposure_max: NDArray[np.float64] | None = None
    feature_exposure_rms: NDArray[np.float64] | None = None

    def metrics(self) -> dict[str, NDArray[np.float64]]:
        """The computed metrics, by name, in :data:`METRICS` order."""
        return {name: getattr(self, name) for name in METRICS if getattr(self, name) is not None}

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per model, columns ``era``, ``model`` and one per metric."""
        frame = pd.DataFrame(self.metrics())
        frame.insert(0, "model", list(self.model_names))
        frame.insert(0, "era", self.era)
        return frame


def _optional(values: ArrayLike | None, name: str, ndim: tuple[int, ...]) -> NDArray[np.float64] | None:
    return None if values is None else as_float_array(values, name=name, ndim=ndim)


def _score_clean_columns(
    predictions: NDArray[np.float64],
    targets: NDArray[np.float64],
    meta_model: NDArray[np.float64] | None,
    benchmark: NDArray[np.float64] | None,
    features: NDArray[np.float64] | None,
    target_pow15: bool,
    wanted: frozenset[str],
    target_mean: float | None = None,
    gauss_rows: NDArray[np.float64] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """The wanted scores for NaN-free columns on NaN-free rows, vectorized over the columns.

    Works on ``(n_models, n_stocks)`` rows (``gauss.T`` is contiguous) and uses dot products with a
    centered vector instead of materializing centered or orthogonalized matrices. ``target_mean``
    is the mean CORR and FNC center the target with (numerai-tools centers over every known
    target before dropping a model's missing rows); default the mean over these rows.
    ``gauss_rows`` ``(n_models, n_stocks)``, when given, are these columns already gaussianized
    (the era's shared ``Φ⁻¹(tkr(P))``): the sort is skipped, CORR and CWMM are correlations of
    ``pow15(gauss_rows)`` and the rows are never overwritten.
    """
    centered = targets - (targets.mean() if target_mean is None else target_mean)
    target_used = pow15(centered) if target_pow15 else centered
    scores: dict[str, NDArray[np.float64]] = {}
    # MMC / BMC: dots of the gaussianized rows with the centered target and each reference
    contribution_target = _contribution_target(targets)
    contribution_references = {
        name: gaussianize(reference)
        for name, reference in (("mmc", meta_model), ("bmc", benchmark))
        if name in wanted and reference is not None
    }
    gauss_references = np.column_stack([contribution_target, *contribution_references.values()])
    # one sort; CORR (and CWMM) in sorted order, no powered matrix; gaussianized block by block
    cwmm_reference = meta_model if "cwmm" in wanted and meta_model is not None else None
    references = (target_used,) if cwmm_reference is None else (target_used, cwmm_reference)
    sorted_rows = (
        None
        if gauss_rows is not None
        else sort_rows(
            predictions.T, gauss=True, pow15_references=references, gauss_references=gauss_references
        )
    )
    shared = gauss_rows is not None
    if gauss_rows is not None:
        gauss_dots = gauss_rows @ gauss_references
        powered_references = [target_used] if "corr" in wanted else []
        powered_references += [cwmm_reference] if cwmm_reference is not None else []
        if powered_references:  # block by block: no powered copy of the whole matrix
            correlations = np.empty((len(powered_references), gauss_rows.shape[0]))
            for block in _row_blocks(gauss_rows.shape):
                powered_rows = pow15(gauss_rows[block])
                for r, reference in enumerate(powered_references):
                    correlations[r, block] = _row_correlations(powered_rows, reference)
            if "corr" in wanted:
                scores["corr"] = correlations[0]
            if cwmm_reference is not None:
                scores["cwmm"] = correlations[-1]
    elif sorted_rows is not None and sorted_rows.gauss is not None and sorted_rows.gauss_dots is not None:
        gauss_rows, gauss_dots = sorted_rows.gauss, sorted_rows.gauss_dots
        if "corr" in wanted:
            scores["corr"] = sorted_rows.correlations[0]
        if cwmm_reference is not None:
            scores["cwmm"] = sorted_rows.correlations[1]
    else:
        gauss, powered = gaussianize_and_pow15(predictions)
        gauss_rows = gauss.T
        gauss_dots = gauss_rows @ gauss_references
        if "corr" in wanted:
            scores["corr"] = _row_correlations(powered.T, target_used)
        if cwmm_reference is not None:
            scores["cwmm"] = _row_correlations(powered.T, cwmm_reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        for column, (name, reference) in enumerate(contribution_references.items(), start=1):
            scores[name] = _row_contributions(
                gauss_dots[:, 0], gauss_dots[:, column], contribution_target, reference
            )
    if "fnc" in wanted and features is not None:
        basis = neutralizer_basis(features)
        constant = (
            sorted_rows.constant_rows()
            if sorted_rows is not None
            else np.all(gauss_rows == 0.0, axis=1)  # a constant column gaussianizes to exact zeros
        )
        fnc = np.full(predictions.shape[1], np.nan)
        varying = np.flatnonzero(~constant)
        if shared:  # the era's shared matrix is read, never overwritten: residuals block by block
            for block in _row_blocks((varying.size, gauss_rows.shape[1])):
                rows = varying[block]
                fnc[rows] = _neutral_corr(basis, gauss_rows[rows], target_used, overwrite=True)
        else:  # gauss_rows is not used after this: the residual may overwrite it
            owned = sorted_rows is not None and not constant.any()
            fnc[varying] = _neutral_corr(
                basis, gauss_rows[~constant] if constant.any() else gauss_rows, target_used, overwrite=owned
            )
        scores["fnc"] = fnc
    if wanted & {"feature_exposure_max", "feature_exposure_rms"} and features is not None:
        exposures = np.abs(pearson_matrix(features, predictions))
        valid = ~np.isnan(exposures)
        count = valid.sum(axis=0)
        filled = np.where(valid, exposures, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores["feature_exposure_max"] = np.where(count > 0, filled.max(axis=0, initial=0.0), np.nan)
            scores["feature_exposure_rms"] = np.where(
                count > 0, np.sqrt((filled**2).sum(axis=0) / count), np.nan
            )
    return {name: values for name, values in scores.items() if name in wanted}


_BLOCK_BYTES = 32 * 2**20  # rows of a shared matrix transformed at a time


def _row_blocks(shape: tuple[int, int]) -> list[slice]:
    """Slices of about ``_BLOCK_BYTES`` of float64 rows covering ``shape[0]`` rows."""
    rows = max(1, _BLOCK_BYTES // (8 * max(1, shape[1])))
    return [slice(start, min(start + rows, shape[0])) for start in range(0, shape[0], rows)]


def _neutral_corr(
    basis: NeutralizerBasis,
    gauss_rows: NDArray[np.float64],
    target_used: NDArray[np.float64],
    *,
    overwrite: bool,
) -> NDArray[np.float64]:
    """FNC of non-constant gaussianized rows ``(m, n)``: CORR of the variance-normalized residual."""
    neutral_rows = basis.residual_rows(gauss_rows, overwrite=overwrite)
    # variance_normalize (ddof 0) before ranking again, as numerai-tools does (divided block by block)
    means = neutral_rows.mean(axis=1)
    variances = np.einsum("ij,ij->i", neutral_rows, neutral_rows) / neutral_rows.shape[1] - means**2
    deviations = np.sqrt(np.maximum(variances, 0.0))
    sorted_neutral = sort_rows(neutral_rows, pow15_references=(target_used,), divisors=deviations)
    if sorted_neutral is not None:
        return sorted_neutral.correlations[0]
    neutral_rows /= deviations[:, None]
    return _row_correlations(tie_kept_rank_gauss_pow15(neutral_rows.T).T, target_used)


def _row_correlations(rows: NDArray[np.float64], reference: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson correlation of each row ``(m, n)`` with ``reference`` ``(n,)``; NaN for a constant row.

    ``r_j = x_j·c / (‖c‖ · sqrt(Σ x_j² - n x̄_j²))`` with ``c = reference - mean(reference)``.
    """
    n = rows.shape[1]
    centered = reference - reference.mean()
    means = rows.mean(axis=1)
    sum_squares = np.einsum("ij,ij->i", rows, rows) - n * means**2
    scale = np.abs(rows).max(axis=1, initial=0.0) ** 2 * n
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (rows @ centered) / (np.sqrt(np.maximum(sum_squares, 0.0)) * np.sqrt(centered @ centered))
    result[sum_squares <= 16 * np.finfo(np.float64).eps * scale] = np.nan
    return np.clip(result, -1.0, 1.0)


def _contribution_target(targets: NDArray[np.float64]) -> NDArray[np.float64]:
    """The target MMC / BMC use: ×4 if in [0, 1] (bucket targets), centered."""
    scaled = targets * 4 if targets.size and np.all((targets >= 0) & (targets <= 1)) else targets
    return scaled - scaled.mean()


def _row_contributions(
    target_dots: NDArray[np.float64],
    reference_dots: NDArray[np.float64],
    centered: NDArray[np.float64],
    reference: NDArray[np.float64],
) -> NDArray[np.float64]:
    """MMC of each row against ``reference`` without forming the orthogonalized matrix.

    ``c·(p - m (p·m)/(m·m)) / n = (c·p - (c·m)(p·m)/(m·m)) / n``, ``c`` the centered (×4 if in [0, 1])
    target; ``target_dots`` are ``c·p`` and ``reference_dots`` ``m·p`` for each row ``p``.
    """
    return (target_dots - (centered @ reference) * reference_dots / (reference @ reference)) / len(centered)


def _wanted_metrics(
    metrics: Collection[str] | None, *, meta_model: bool, benchmark: bool, features: bool
) -> frozenset[str]:
    available = {"corr"}
    available |= {"mmc", "cwmm"} if meta_model else set()
    available |= {"bmc"} if benchmark else set()
    available |= {"fnc", "feature_exposure_max", "feature_exposure_rms"} if features else set()
    if metrics is None:
        return frozenset(available)
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InvalidInputError(f"unknown metric(s) {unknown}; known: {list(METRICS)}")
    needs = {"mmc": "meta_model", "cwmm": "meta_model", "bmc": "benchmark", "fnc": "features"}
    needs |= {"feature_exposure_max": "features", "feature_exposure_rms": "features"}
    missing = sorted(f"{m} (needs {needs[m]})" for m in set(metrics) - available)
    if missing:
        raise InvalidInputError(f"cannot compute {', '.join(missing)}")
    return frozenset(metrics)


def score_era(
    predictions: ArrayLike,
    targets: ArrayLike,
    *,
    meta_model: ArrayLike | None = None,
    benchmark: ArrayLike | None = None,
    features: ArrayLike | None = None,
    model_names: Sequence[str] | None = None,
    era: str = "",
    metrics: Collection[str] | None = None,
    target_pow15: bool = True,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
    gaussianized: ArrayLike | None = None,
) -> EraScores:
    """Score every model of one era: CORR, and MMC, BMC, CWMM, FNC and feature exposures when
    the meta model, benchmark or features are given.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` (or ``(n_stocks,)`` for one model), rows aligned with the rest.
    targets
        ``(n_stocks,)``.
    meta_model, benchmark
        ``(n_stocks,)`` each, optional.
    features
        ``(n_stocks, n_features)``, optional.
    model_names
        One name per column (default ``model_0`` …).
    era
        Era label carried into the result.
    metrics
        Metrics to compute (names from :data:`METRICS`); default every metric the inputs allow.
    target_pow15
        Raise the centered target to the power 1.5 in CORR and FNC (``False`` for raw returns).
    max_filtered_ratio
        Largest fraction of the era's rows that NaNs may remove.
    gaussianized
        ``(n_stocks, n_models)`` the predictions already gaussianized (``gaussianize(predictions)``,
        shared with True Contribution): used, instead of sorting again, when no row is dropped and no
        prediction is NaN (a subset of rows would need its own ranks).

    Returns
    -------
    :class:`EraScores`

    Raises
    ------
    AlignmentError
        NaNs in the target or auxiliary inputs remove too many of the era's rows.
    """
    matrix = as_float_array(predictions, name="predictions")
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    target = as_float_array(targets, name="targets", ndim=(1,))
    meta = _optional(meta_model, "meta_model", (1,))
    bench = _optional(benchmark, "benchmark", (1,))
    feature_matrix = _optional(features, "features", (2,))
    names = (
        tuple(model_names) if model_names is not None else tuple(f"model_{j}" for j in range(matrix.shape[1]))
    )
    if len(names) != matrix.shape[1]:
        raise InvalidInputError(f"{len(names)} model names for {matrix.shape[1]} prediction columns")
    rows = complete_rows(
        [
            ("predictions", np.zeros(matrix.shape[0])),
            ("targets", target),
            ("meta_model", meta),
            ("benchmark", bench),
            ("features", feature_matrix),
        ],
        max_filtered_ratio=max_filtered_ratio,
    )
    if not rows.all():
        matrix, target = matrix[rows], target[rows]
        meta = None if meta is None else meta[rows]
        bench = None if bench is None else bench[rows]
        feature_matrix = None if feature_matrix is None else feature_matrix[rows]
    wanted = _wanted_metrics(
        metrics, meta_model=meta is not None, benchmark=bench is not None, features=feature_matrix is not None
    )
    result = {name: np.full(matrix.shape[1], np.nan) for name in METRICS if name in wanted}
    # models with the same missing stocks are scored together, each on the stocks it predicted
    missing = np.isnan(matrix)
    patterns: dict[bytes, list[int]] = {}
    if missing.any():
        for column, pattern in enumerate(np.packbits(missing, axis=0).T):
            patterns.setdefault(pattern.tobytes(), []).append(column)
    else:
        patterns[b""] = list(range(matrix.shape[1]))
    shared = None
    if gaussianized is not None and rows.all() and not missing.any():
        shared = as_float_array(gaussianized, name="gaussianized", ndim=(2,))
        if shared.shape != matrix.shape:
            raise InvalidInputError(f"gaussianized has shape {shared.shape}, predictions {matrix.shape}")
    for columns in patterns.values():
        present = ~missing[:, columns[0]]
        if not covers_enough(present.sum(), len(present), max_filtered_ratio):
            continue  # covers too few of the era's stocks: NaN scores
        if present.all():
            scores = _score_clean_columns(
                matrix if len(columns) == matrix.shape[1] else matrix[:, columns],
                target,
                meta,
                bench,
                feature_matrix,
                target_pow15,
                wanted,
                gauss_rows=None if shared is None else shared.T,
            )
        else:
            scores = _score_clean_columns(
                matrix[np.ix_(present, np.asarray(columns))],
                target[present],
                None if meta is None else meta[present],
                None if bench is None else bench[present],
                None if feature_matrix is None else feature_matrix[present],
                target_pow15,
                wanted,
                target_mean=float(target.mean()),
            )
        for name, values in scores.items():
            result[name][columns] = values
    return EraScores(era=str(era), model_names=names, n_stocks=int(matrix.shape[0]), **result)


def score_eras(
    eras: Iterable[Era],
    *,
    model_names: Sequence[str] | None = None,
    metrics: Collection[str] | None = None,
    target_pow15: bool = True,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
    show_progress: bool = False,
    total: int | None = None,
) -> pd.DataFrame:
    """Score a stream of eras; memory holds one era's inputs at a time.

    Parameters
    ----------
    eras
        Iterable (e.g. a generator) of :class:`~kardashev.data.era.Era` with ``predictions`` and
        ``target`` (and optionally ``meta_model``, ``benchmark``, ``features``; a ``gaussianized``
        matrix the era carries is used instead of sorting again).
    model_names
        One name per prediction column (default: each era's ``model_names``).
    show_progress
        Show a rich progress bar over eras (``total`` eras if known).

    Returns
    -------
    Tidy ``pandas.DataFrame``: one row per (era, model) with columns ``era``, ``model`` and one per
    computed metric (see :data:`METRICS`).
    """
    frames = [
        score_era(
            era.required("predictions"),
            era.required("target"),
            meta_model=era.meta_model,
            benchmark=era.benchmark,
            features=era.features,
            model_names=model_names if model_names is not None else era.model_names,
            era=era.era,
            metrics=metrics,
            target_pow15=target_pow15,
            max_filtered_ratio=max_filtered_ratio,
            gaussianized=era.gaussianized,
        ).to_frame()
        for era in _with_progress(eras, show_progress=show_progress, total=total)
    ]
    if not frames:
        return pd.DataFrame(columns=["era", "model", "corr"])
    return pd.concat(frames, ignore_index=True)


def _with_progress(eras: Iterable[Era], *, show_progress: bool, total: int | None) -> Iterator[Era]:
    if not show_progress:
        yield from eras
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("scoring eras", total=total)
        for era in eras:
            yield era
            progress.advance(task)
