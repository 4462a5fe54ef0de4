"""Which rows and eras a model's scores leave out, and why.

:func:`~kardashev.scoring.score_era` scores each model on the era's rows with no NaN input (target,
meta model, benchmark, features) and its own non-NaN predictions, and leaves the model's era
unscored (NaN) when those predictions cover under ``1 - max_filtered_ratio`` of the rows (or fewer
than 2), or are constant. :func:`era_coverage` counts the same rows and eras for one era, with the
same rules; :class:`Coverage` objects add up over eras, and :meth:`Coverage.unscored_reason` /
:meth:`Coverage.left_out` put the totals in words (``kardashev score`` prints them under its table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, covers_enough

__all__ = ["INPUT_NAMES", "Coverage", "era_coverage"]

INPUT_NAMES = ("target", "meta_model", "benchmark", "features")
"""The inputs whose NaN rows no model is scored on, in the order :attr:`Coverage.nan_inputs` counts them."""


@dataclass(frozen=True, eq=False)
class Coverage:
    """Rows and eras left out of each model's scores (frozen; ``a + b`` adds two eras' counts).

    Attributes
    ----------
    model_names
        One name per model.
    max_filtered_ratio
        The scorer's rule: a model needs predictions on ``1 - max_filtered_ratio`` of the rows.
    rows
        Data rows of the eras counted (the same for every model).
    nan_inputs
        ``(len(INPUT_NAMES),)`` rows left out of every model for a NaN in that input (a row is
        counted under its first NaN input).
    no_prediction
        ``(n_models,)`` usable rows (no NaN input) without a row in the predictions file.
    nan_prediction
        ``(n_models,)`` usable rows whose prediction is NaN.
    eras
        Eras counted.
    eras_sparse
        ``(n_models,)`` eras left unscored because the predictions cover too few rows (none
        included: see ``eras_empty``).
    eras_empty
        ``(n_models,)`` eras without a single usable prediction.
    eras_constant
        ``(n_models,)`` eras left unscored because the predictions are constant.
    covered
        ``(n_models,)`` sum over eras of the fraction of usable rows predicted.
    """

    model_names: tuple[str, ...]
    max_filtered_ratio: float
    rows: int
    nan_inputs: np.ndarray
    no_prediction: np.ndarray
    nan_prediction: np.ndarray
    eras: int
    eras_sparse: np.ndarray
    eras_empty: np.ndarray
    eras_constant: np.ndarray
    covered: np.ndarray

    def __add__(self, other: Coverage) -> Coverage:
        if other.model_names != self.model_names or other.max_filtered_ratio != self.max_filtered_ratio:
            raise InvalidInputError("cannot add the coverage of different models or rules")
        return Coverage(
            model_names=self.model_names,
            max_filtered_ratio=self.max_filtered_ratio,
            rows=self.rows + other.rows,
            eras=self.eras + other.eras,
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in (
                    "nan_inputs",
                    "no_prediction",
                    "nan_prediction",
                    "eras_sparse",
                    "eras_empty",
                    "eras_constant",
                    "covered",
                )
            },
        )

    def _index(self, model: str) -> int:
        try:
            return self.model_names.index(model)
        except ValueError:
            raise InvalidInputError(f"no model {model!r} in this coverage") from None

    def unscored_eras(self, model: str) -> int:
        """Eras the model has no score in (too few predictions, none, or constant ones)."""
        j = self._index(model)
        return int(self.eras_sparse[j] + self.eras_empty[j] + self.eras_constant[j])

    def unscored_reason(self, model: str) -> str | None:
        """Why the model has no score in some or all eras, in words; None when every era is scored."""
        j = self._index(model)
        missed = self.unscored_eras(model)
        if missed == 0:
            return None
        minimum = f"{1 - self.max_filtered_ratio:.0%}"
        average = self.covered[j] / self.eras if self.eras else 0.0
        causes = {
            "sparse": (
                int(self.eras_sparse[j]),
                f"predictions on under {minimum} of the rows ({average:.0%} on average)",
            ),
            "empty": (int(self.eras_empty[j]), "no usable prediction (all NaN or missing)"),
            "constant": (int(self.eras_constant[j]), "constant predictions"),
        }
        present = [(n, text) for n, text in causes.values() if n]
        if missed == self.eras and len(present) == 1:
            return f"no score: {present[0][1]} in every era"
        listed = "; ".join(f"{n} with {text}" for n, text in present)
        if missed == self.eras:
            return f"no score in any of the {self.eras} eras: {listed}"
        return f"{missed} of {self.eras} eras not scored: {listed}"

    def left_out(self, model: str) -> str | None:
        """The model's usable rows left out (NaN predictions, ids without a prediction), in words."""
        j = self._index(model)
        nan, missing = int(self.nan_prediction[j]), int(self.no_prediction[j])
        if nan + missing == 0:
            return None
        parts = [f"{nan:,} NaN prediction(s)"] if nan else []
        parts += [f"{missing:,} id(s) of the data without a prediction"] if missing else []
        usable = self.rows - int(self.nan_inputs.sum())
        return f"{nan + missing:,} of {usable:,} rows left out: {', '.join(parts)}"

    def left_out_of_every_model(self) -> str | None:
        """The rows no model is scored on (NaN target, meta model …), in words."""
        total = int(self.nan_inputs.sum())
        if total == 0:
            return None
        parts = [
            f"{int(n):,} with a NaN {name.replace('_', ' ')}"
            for name, n in zip(INPUT_NAMES, self.nan_inputs, strict=True)
            if n
        ]
        return f"{total:,} of {self.rows:,} rows left out of every score: {', '.join(parts)}"


def era_coverage(
    era: Era,
    *,
    predicted: np.ndarray | None = None,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> Coverage:
    """The rows and eras :func:`~kardashev.scoring.score_era` leaves out of each model on ``era``.

    Parameters
    ----------
    era
        With ``predictions`` and ``target`` (and the optional ``meta_model``, ``benchmark``,
        ``features`` the scores use).
    predicted
        ``(n_stocks,)`` whether the predictions file has a row for each stock (its NaN predictions
        then count as NaN, the others as missing); default: every row present.
    max_filtered_ratio
        The scorer's ``max_filtered_ratio``.
    """
    predictions = era.required("predictions")
    names: Sequence[str] = era.model_names or tuple(f"model_{j}" for j in range(predictions.shape[1]))
    n, m = predictions.shape
    present_row = np.ones(n, dtype=bool) if predicted is None else np.asarray(predicted, dtype=bool)
    if present_row.shape != (n,):
        raise InvalidInputError(f"predicted has shape {present_row.shape}, the era has {n} rows")
    usable = np.ones(n, dtype=bool)
    nan_inputs = np.zeros(len(INPUT_NAMES), dtype=np.int64)
    for k, name in enumerate(INPUT_NAMES):
        values = getattr(era, name)
        if values is None:
            continue
        nan = np.isnan(values).any(axis=1) if values.ndim == 2 else np.isnan(values)
        nan_inputs[k] = int((nan & usable).sum())
        usable &= ~nan
    rows = predictions[usable]
    finite = ~np.isnan(rows)
    counts = finite.sum(axis=0)
    n_usable = int(usable.sum())
    with np.errstate(invalid="ignore"):
        highest = np.where(finite, rows, -np.inf).max(axis=0, initial=-np.inf)
        lowest = np.where(finite, rows, np.inf).min(axis=0, initial=np.inf)
    empty = counts == 0
    sparse = ~empty & ~covers_enough(counts, n_usable, max_filtered_ratio)
    constant = ~empty & ~sparse & (highest == lowest)
    missing_rows = usable & ~present_row
    return Coverage(
        model_names=tuple(str(name) for name in names),
        max_filtered_ratio=float(max_filtered_ratio),
        rows=n,
        nan_inputs=nan_inputs,
        no_prediction=np.full(m, int(missing_rows.sum()), dtype=np.int64),
        nan_prediction=(~finite & present_row[usable][:, None]).sum(axis=0).astype(np.int64),
        eras=1,
        eras_sparse=sparse.astype(np.int64),
        eras_empty=empty.astype(np.int64),
        eras_constant=constant.astype(np.int64),
        covered=counts / n_usable if n_usable else np.zeros(m),
    )
