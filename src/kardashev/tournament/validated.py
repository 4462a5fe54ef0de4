"""What submission validation is configured by and what it returns.

:class:`ValidationConfig` (the options), :class:`ValidatedSubmission` (a submission that passed,
aligned to the round's universe) and the three helpers every validator and cleaning policy shares:
:func:`checked_universe`, :func:`canonical_checksum`, :func:`readonly_array`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kardashev.errors import ConfigError
from kardashev.tournament.domain import RoundKind
from kardashev.tournament.submission_file import ReadLimits

__all__ = [
    "ValidatedSubmission",
    "ValidationConfig",
    "canonical_checksum",
    "checked_universe",
    "readonly_array",
]

_CANONICAL_HEADER = "kardashev-submission-v1"


@dataclass(frozen=True)
class ValidationConfig:
    """Options of submission validation (keyword-only).

    Parameters
    ----------
    min_tickers
        Signals: least number of distinct universe tickers a submission must cover. When the
        universe itself is smaller, every universe ticker is required instead.
    max_rows
        Largest number of data rows accepted (protects memory); ``None`` for no limit.
    n_examples
        How many offending ids an error message quotes.
    cleaning
        ``"strict"`` or ``"numerai"``, or per kind (``{"signals": "numerai"}``): :mod:`.cleaning`.
    read_limits
        Bounds on reading the file (columns, header, parquet footer, memory budget); its
        ``max_rows`` is replaced by :attr:`max_rows`.
    """

    min_tickers: int = 100
    max_rows: int | None = 1_000_000
    n_examples: int = 5
    cleaning: str | Mapping[str, str] = "strict"
    read_limits: ReadLimits = field(default_factory=ReadLimits)

    @property
    def limits(self) -> ReadLimits:
        """:attr:`read_limits` with :attr:`max_rows`."""
        return replace(self.read_limits, max_rows=self.max_rows)

    def __post_init__(self) -> None:
        if self.min_tickers < 1:
            raise ConfigError(f"min_tickers must be at least 1, got {self.min_tickers}")
        if self.max_rows is not None and self.max_rows < 1:
            raise ConfigError(f"max_rows must be at least 1 or None, got {self.max_rows}")
        if self.n_examples < 1:
            raise ConfigError(f"n_examples must be at least 1, got {self.n_examples}")
        from kardashev.tournament.cleaning import cleaning_policies

        object.__setattr__(self, "cleaning", cleaning_policies(self.cleaning))

    def __hash__(self) -> int:  # ``cleaning`` is a read-only mapping built in a fixed order
        return hash((self.min_tickers, self.max_rows, self.n_examples, str(self.cleaning)))


@dataclass(frozen=True, eq=False)
class ValidatedSubmission:
    """A submission that passed validation, aligned to the round's universe order.

    Attributes
    ----------
    kind
        Tournament kind.
    ids
        ``(n_universe,)`` the round's live ids / tickers, in the order given to the validator.
    values
        ``(n_universe,)`` float64 ready for scoring. Classic: the predictions as submitted.
        Signals: tie-kept ranks in ``(0, 1)`` of the submitted signals, ``0.5`` where not submitted.
    raw_values
        ``(n_universe,)`` float64 values as submitted, NaN where a Signals ticker was not submitted.
    submitted
        ``(n_universe,)`` bool, which universe entries the file covered.
    checksum
        sha256 (hex) of the canonical content: kind, ids and raw values in universe order. The
        same predictions give the same checksum whatever the file format or row order.
    n_rows
        Data rows in the file (before dropping unknown tickers or non-live rows).
    dropped_tickers
        Signals: submitted tickers outside the universe, dropped (sorted).
    id_column, value_column
        Column names used (lower-case).
    date
        Signals: the submission's date when the file had a ``date`` column.
    """

    kind: RoundKind
    ids: tuple[str, ...]
    values: NDArray[np.float64]
    raw_values: NDArray[np.float64]
    submitted: NDArray[np.bool_]
    checksum: str
    n_rows: int
    dropped_tickers: tuple[str, ...] = ()
    id_column: str = "id"
    value_column: str = "prediction"
    date: dt.date | None = None

    @property
    def n_submitted(self) -> int:
        """How many universe entries the file covered."""
        return int(self.submitted.sum())

    def to_series(self, *, raw: bool = False) -> pd.Series:
        """Values (or raw values) as a Series indexed by id, named after the value column."""
        data = self.raw_values if raw else self.values
        return pd.Series(data, index=pd.Index(self.ids, name=self.id_column), name=self.value_column)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: id, value ready for scoring, raw value, submitted flag."""
        return pd.DataFrame(
            {
                self.id_column: list(self.ids),
                self.value_column: self.values,
                "raw_" + self.value_column: self.raw_values,
                "submitted": self.submitted,
            }
        )


def checked_universe(universe: Sequence[str] | pd.Index | NDArray, what: str) -> tuple[str, ...]:
    ids = tuple(str(value) for value in (universe.tolist() if hasattr(universe, "tolist") else universe))
    if not ids:
        raise ConfigError(f"the {what} is empty")
    if len(set(ids)) != len(ids):
        raise ConfigError(f"the {what} has duplicate ids")
    return ids


def canonical_checksum(kind: RoundKind, ids: Sequence[str], raw_values: NDArray[np.float64]) -> str:
    """sha256 of kind, universe ids and raw values (little-endian float64; -0.0 as 0.0, one NaN)."""
    values = np.where(np.isnan(raw_values), np.nan, raw_values + 0.0).astype("<f8")
    digest = hashlib.sha256(f"{_CANONICAL_HEADER}\n{kind.value}\n{len(ids)}\n".encode())
    digest.update("\n".join(ids).encode("utf-8"))
    digest.update(b"\n")
    digest.update(values.tobytes())
    return digest.hexdigest()


def readonly_array(array: NDArray) -> NDArray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array
