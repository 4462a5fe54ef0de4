"""Submission cleaning policy, chosen per tournament: ``strict`` (Kardashev's rules) or ``numerai``.

``strict`` is :mod:`kardashev.tournament.validation` as it is: every row must be valid (no unknown
Classic ids, no duplicated or empty ids, no NaN anywhere). ``numerai`` follows numerai-tools 0.7.2
(:mod:`kardashev.scoring.submissions`) as Numerai cleans a file before scoring it:

- headers exactly (id, prediction) in that order: ``id`` + ``prediction``/``probability`` (Classic),
  a ticker column + ``prediction``/``signal`` after setting aside one ``friday_date``/``date``
  column (Signals; a ``data_type`` column is ignored), ``symbol`` + ``prediction``/``signal`` (Crypto);
- rows whose id is not in the universe are dropped (reported in ``dropped_tickers``), whatever
  their values; among the universe ids no duplicate and no NaN value; values in ``[0, 1]`` (within
  ``np.isclose`` at the ends) and not all (nearly) equal; every live id (Classic) or at least 100
  (Signals, Crypto);
- Signals and Crypto values are tie-kept ranked, and universe ids without a value get 0.5.

Failures are :class:`~kardashev.errors.SubmissionError` with the same rule codes as ``strict``.
Crypto rounds always use the ``numerai`` rules (there is no other Crypto convention).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from kardashev.errors import ConfigError
from kardashev.scoring import submissions as numerai_rules
from kardashev.tournament.domain import RoundKind
from kardashev.tournament.submission_file import (
    SubmissionSource,
    column_names,
    examples,
    read_submission_table,
    submission_error,
)
from kardashev.tournament.validated import (
    ValidatedSubmission,
    ValidationConfig,
    canonical_checksum,
    checked_universe,
    readonly_array,
)

__all__ = ["CleaningPolicy", "cleaning_policies", "policy_for", "validate_numerai_policy"]

_MISSING = {"", "nan", "na", "n/a", "null", "none", "<na>"}


class CleaningPolicy(str, enum.Enum):
    """How a tournament treats the rows of a submission file (see the module docstring)."""

    STRICT = "strict"
    NUMERAI = "numerai"


def cleaning_policies(cleaning: str | Mapping[str, str]) -> Mapping[str, CleaningPolicy]:
    """``{"classic": …, "signals": …, "crypto": …}`` from one policy for all or a per-kind mapping
    (kinds not named are ``strict``; Crypto is always ``numerai``)."""
    kinds = [kind.value for kind in RoundKind]
    given = (
        {kind: cleaning for kind in kinds} if isinstance(cleaning, str | CleaningPolicy) else dict(cleaning)
    )
    unknown = sorted(set(map(str, given)) - set(kinds))
    if unknown:
        raise ConfigError(f"cleaning names unknown tournament kinds {unknown}; expected {kinds}")
    policies: dict[str, CleaningPolicy] = {}
    for kind in kinds:
        value = getattr(given.get(kind, "strict"), "value", given.get(kind, "strict"))
        try:
            policies[kind] = CleaningPolicy(str(value).strip().lower())
        except ValueError as exc:
            raise ConfigError(f"unknown cleaning policy {value!r}; expected 'strict' or 'numerai'") from exc
    policies[RoundKind.CRYPTO.value] = CleaningPolicy.NUMERAI
    return MappingProxyType(policies)


def policy_for(config: ValidationConfig, kind: RoundKind) -> CleaningPolicy:
    """The policy ``config`` sets for tournaments of ``kind``."""
    return cleaning_policies(config.cleaning)[kind.value]


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """Ids as stripped text, missing cells as NaN (numerai-tools then refuses them)."""
    text = frame[column].astype(object).map(lambda cell: "" if cell is None else str(cell).strip())
    return text.where(~text.str.lower().isin(_MISSING), np.nan)


def _numbers(frame: pd.DataFrame, column: str, ids: pd.Series, n_examples: int) -> pd.Series:
    """Values as float64 (missing cells NaN); text that is not a number is ``non_numeric_values``."""
    series = frame[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        raise submission_error("non_numeric_values", f"column {column!r} holds booleans, not numbers")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_complex_dtype(series.dtype):
        return pd.Series(series.to_numpy(dtype=np.float64, na_value=np.nan), index=frame.index)
    text = series.astype(object).map(lambda cell: "" if cell is None else str(cell).strip())
    missing = text.str.lower().isin(_MISSING)
    values = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").astype(np.float64)
    bad = (values.isna() & ~missing).to_numpy()
    if bad.any():
        count = int(bad.sum())
        raise submission_error(
            "non_numeric_values",
            f"{count} {column!r} values are not numbers, for "
            f"{examples(ids[bad].tolist(), count, n_examples)}",
        )
    return values


def validate_numerai_policy(
    source: SubmissionSource,
    *,
    kind: RoundKind,
    universe: Sequence[str],
    config: ValidationConfig,
    filename: str | None = None,
) -> ValidatedSubmission:
    """Validate and clean a submission as numerai-tools does (the ``numerai`` policy).

    Raises
    ------
    SubmissionError
        With the rule's code (``wrong_headers``, ``empty_ids``, ``duplicate_ids``, ``missing_ids``,
        ``too_few_tickers``, ``non_numeric_values``, ``nan_values``, ``out_of_range``,
        ``constant_predictions``, or the file codes of :func:`read_submission_table`).
    """
    universe_ids = checked_universe(universe, f"{kind.value} universe")
    frame = read_submission_table(source, filename=filename, max_rows=config.max_rows)
    n_rows = len(frame)
    frame.columns = column_names(frame)
    ids_frame = pd.DataFrame({name: list(universe_ids) for name in _id_columns(kind)})
    if kind is RoundKind.CLASSIC:
        id_col, value_col = numerai_rules.validate_headers_numerai(frame)
    elif kind is RoundKind.CRYPTO:
        id_col, value_col = numerai_rules.validate_headers_crypto(frame)
    else:
        frame = frame.drop(columns=["data_type"], errors="ignore")
        id_col, value_col, date_col = numerai_rules.validate_headers_signals(frame)
        frame = frame.drop(columns=[date_col] if date_col else [])
    ids = _ids(frame, id_col)
    frame = pd.DataFrame({id_col: ids, value_col: _numbers(frame, value_col, ids, config.n_examples)})
    if kind is RoundKind.CLASSIC:
        _, _, live, invalid = numerai_rules.validate_submission_numerai(ids_frame[id_col], frame)
    elif kind is RoundKind.CRYPTO:
        _, _, live, invalid = numerai_rules.validate_submission_crypto(ids_frame, frame)
    else:
        _, _, _, live, invalid = numerai_rules.validate_submission_signals(ids_frame, frame)
    cleaned = numerai_rules.clean_submission(
        ids_frame, live, id_col, value_col, rank_and_fill=kind is not RoundKind.CLASSIC
    )
    order = pd.Index(universe_ids)
    values = cleaned.reindex(order).to_numpy(dtype=np.float64)
    raw = live.set_index(id_col)[value_col].reindex(order).to_numpy(dtype=np.float64)
    return ValidatedSubmission(
        kind=kind,
        ids=universe_ids,
        values=readonly_array(values),
        raw_values=readonly_array(raw),
        submitted=readonly_array(~np.isnan(raw)),
        checksum=canonical_checksum(kind, universe_ids, raw),
        n_rows=n_rows,
        dropped_tickers=tuple(sorted(invalid)),
        id_column=id_col,
        value_column=value_col,
    )


def _id_columns(kind: RoundKind) -> list[str]:
    if kind is RoundKind.CLASSIC:
        return list(numerai_rules.NUMERAI_ALLOWED_ID_COLS)
    if kind is RoundKind.CRYPTO:
        return list(numerai_rules.CRYPTO_ALLOWED_ID_COLS)
    return list(numerai_rules.SIGNALS_ALLOWED_ID_COLS)
