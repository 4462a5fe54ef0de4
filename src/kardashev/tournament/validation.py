"""Submission validation: parse an uploaded file and check it against the tournament rules.

Two tournament kinds, with the rules their users know:

Classic
    Columns exactly ``id`` and ``prediction`` (or ``probability``); every live id present, no
    unknown ids, no duplicate ids; no NaN; values in ``[0, 1]``; not all equal.
Signals
    One ticker column (``numerai_ticker``, ``bloomberg_ticker``, ``composite_figi``, ``sedol`` or
    ``ticker``) and ``signal`` (or ``prediction``), optionally ``date`` (one date) and ``data_type``
    (only ``live`` rows are kept). No duplicate tickers, no NaN, finite values, not all equal, at
    least ``min_tickers`` tickers of the universe. Unknown tickers are dropped and reported, not
    fatal. Before scoring the signal is tie-kept ranked into ``(0, 1)`` and universe tickers that
    were not submitted are filled with ``0.5``.

Files are CSV or parquet, told apart by content (parquet starts with ``PAR1``) and by file name;
a :class:`pandas.DataFrame` is accepted as is. Every failure raises
:class:`~kardashev.errors.SubmissionError` with a specific ``code`` (see :data:`ERROR_CODES`) and
a message naming the offending ids or columns (a few examples and the count). Arbitrary bytes
never raise anything else. Nothing here touches storage: a rejected file is simply never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kardashev.errors import ConfigError
from kardashev.scoring import tie_kept_rank
from kardashev.tournament.domain import RoundKind
from kardashev.tournament.submission_file import (
    ReadLimits,
    SubmissionSource,
    examples,
    normalized_names,
    parse_ids,
    parse_numbers,
    pick_column,
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

__all__ = [
    "CLASSIC_VALUE_COLUMNS",
    "ERROR_CODES",
    "SIGNALS_TICKER_COLUMNS",
    "SIGNALS_VALUE_COLUMNS",
    "ReadLimits",
    "SubmissionSource",
    "ValidatedSubmission",
    "ValidationConfig",
    "read_submission_table",
    "validate_classic",
    "validate_signals",
    "validate_submission",
]

CLASSIC_VALUE_COLUMNS = ("prediction", "probability")
SIGNALS_TICKER_COLUMNS = ("numerai_ticker", "bloomberg_ticker", "composite_figi", "sedol", "ticker")
SIGNALS_VALUE_COLUMNS = ("signal", "prediction")
_SIGNALS_OPTIONAL_COLUMNS = ("date", "data_type")
_CLASSIC_ROW_SLACK = 1000  # a Classic file has one row per live id; a few extra get their precise code

ERROR_CODES: Mapping[str, str] = MappingProxyType(
    {
        "empty_file": "the file has no rows",
        "unreadable_file": "the file is neither readable CSV nor parquet",
        "invalid_text": "the file or one of its text cells is not valid UTF-8",
        "header_too_large": "the CSV header line is longer than the limit",
        "too_many_columns": "more columns than the limit",
        "too_many_rows": "more rows than the configured maximum",
        "too_much_data": "the decoded table would pass the memory budget",
        "wrong_headers": "the columns are not the ones the tournament expects",
        "empty_ids": "an id / ticker cell is empty",
        "duplicate_ids": "an id / ticker appears more than once",
        "unknown_ids": "Classic: ids that are not in the round's live universe",
        "missing_ids": "Classic: live ids without a prediction",
        "non_numeric_values": "a prediction is not a number",
        "nan_values": "a prediction is missing (NaN / empty)",
        "out_of_range": "a prediction is outside [0, 1] (Classic) or not finite",
        "constant_predictions": "every prediction has the same value",
        "too_few_tickers": "Signals: fewer universe tickers than the minimum",
        "invalid_dates": "Signals: a date cell is not a date",
        "multiple_dates": "Signals: more than one date in a live submission",
        "wrong_date": "Signals: the date is not the round's date",
        "no_live_rows": "Signals: a data_type column without any 'live' row",
    }
)
"""Every ``SubmissionError.code`` this module raises, with what it means."""


# --------------------------------------------------------------------------- shared checks


def _check_no_duplicates(ids: NDArray[np.object_], column: str, n_examples: int) -> None:
    unique, counts = np.unique(ids.astype(str), return_counts=True)
    duplicated = unique[counts > 1]
    if duplicated.size:
        raise submission_error(
            "duplicate_ids",
            f"{duplicated.size} {column} values appear more than once, e.g. "
            f"{examples(duplicated.tolist(), duplicated.size, n_examples)}",
        )


def _check_not_constant(values: NDArray[np.float64], column: str) -> None:
    if values.size and np.all(values == values[0]):
        raise submission_error(
            "constant_predictions", f"every {column!r} value is {values[0]!r}: predictions must vary"
        )


def _check_unit_range(values: NDArray[np.float64], ids: NDArray[np.object_], n_examples: int) -> None:
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        raise submission_error(
            "out_of_range",
            f"{int(outside.sum())} predictions are outside [0, 1], for "
            f"{examples(ids[outside].tolist(), int(outside.sum()), n_examples)}",
        )


# --------------------------------------------------------------------------- Classic


def _classic_columns(names: Sequence[object]) -> tuple[list[str], str]:
    """Normalized Classic column names and the value column; ``wrong_headers`` unless exactly
    ``id`` and one value column."""
    columns = normalized_names(names)
    value_column = pick_column(columns, CLASSIC_VALUE_COLUMNS, "prediction")
    if "id" not in columns or len(columns) != 2:
        extra = [name for name in columns if name not in ("id", value_column)]
        detail = f"unexpected {examples(extra, len(extra), 5)}" if extra else "no 'id' column"
        if "" in extra or any(name.startswith("unnamed") for name in extra):
            detail += " (an unnamed column is usually a DataFrame index: write with index=False)"
        raise submission_error(
            "wrong_headers",
            f"Classic submissions have exactly the columns 'id' and {value_column!r}; {detail}",
        )
    return columns, value_column


def _signals_columns(names: Sequence[object]) -> tuple[list[str], str, str]:
    """Normalized Signals column names, the ticker and the value column (``wrong_headers``)."""
    columns = normalized_names(names)
    if "friday_date" in columns:  # the legacy name of the date column (both at once: wrong_headers)
        columns = normalized_names(["date" if c == "friday_date" else c for c in columns])
    ticker_column = pick_column(columns, SIGNALS_TICKER_COLUMNS, "ticker")
    value_column = pick_column(columns, SIGNALS_VALUE_COLUMNS, "signal")
    allowed = {ticker_column, value_column, *_SIGNALS_OPTIONAL_COLUMNS}
    extra = [name for name in columns if name not in allowed]
    if extra:
        raise submission_error(
            "wrong_headers",
            f"unexpected columns {examples(extra, len(extra), 5)}; Signals submissions have a ticker "
            f"column, {value_column!r} and optionally 'date' and 'data_type'",
        )
    return columns, ticker_column, value_column


def validate_classic(
    source: SubmissionSource,
    *,
    live_ids: Sequence[str],
    config: ValidationConfig | None = None,
    filename: str | None = None,
) -> ValidatedSubmission:
    """Validate a Classic submission against the round's live ids.

    Parameters
    ----------
    source
        Bytes, a path, a binary file object or a DataFrame.
    live_ids
        The round's live ids; the result is aligned to this order.
    config
        Validation options.
    filename
        Original file name (helps tell parquet from CSV; optional).

    Raises
    ------
    SubmissionError
        With the failing rule's ``code`` (see :data:`ERROR_CODES`).
    """
    config = config or ValidationConfig()
    universe = checked_universe(live_ids, "live universe")
    limits = config.limits
    bound = 2 * len(universe) + _CLASSIC_ROW_SLACK  # more rows than this cannot pass: refuse unparsed
    if limits.max_rows is None or limits.max_rows > bound:
        limits = replace(limits, max_rows=bound)
    frame = read_submission_table(source, filename=filename, limits=limits, check_header=_classic_columns)
    columns, value_column = _classic_columns(frame.columns)
    frame.columns = columns
    ids = parse_ids(frame["id"], column="id", n_examples=config.n_examples)
    _check_no_duplicates(ids, "id", config.n_examples)
    position = pd.Index(universe).get_indexer(ids.astype(str))
    unknown = position < 0
    if unknown.any():
        raise submission_error(
            "unknown_ids",
            f"{int(unknown.sum())} ids are not in this round's live universe, e.g. "
            f"{examples(ids[unknown].tolist(), int(unknown.sum()), config.n_examples)}",
        )
    if ids.size < len(universe):
        covered = np.zeros(len(universe), dtype=bool)
        covered[position] = True
        missing = [universe[i] for i in np.flatnonzero(~covered)]
        raise submission_error(
            "missing_ids",
            f"{len(missing)} live ids have no prediction, e.g. "
            f"{examples(missing, len(missing), config.n_examples)}",
        )
    values = parse_numbers(frame[value_column], ids=ids, column=value_column, n_examples=config.n_examples)
    _check_unit_range(values, ids, config.n_examples)
    _check_not_constant(values, value_column)
    aligned = np.empty(len(universe), dtype=np.float64)
    aligned[position] = values
    return ValidatedSubmission(
        kind=RoundKind.CLASSIC,
        ids=universe,
        values=readonly_array(aligned),
        raw_values=readonly_array(aligned.copy()),
        submitted=readonly_array(np.ones(len(universe), dtype=bool)),
        checksum=canonical_checksum(RoundKind.CLASSIC, universe, aligned),
        n_rows=len(frame),
        id_column="id",
        value_column=value_column,
    )


# --------------------------------------------------------------------------- Signals


def _parse_date(frame: pd.DataFrame, expected_date: dt.date | None, config: ValidationConfig) -> dt.date:
    raw = frame["date"]
    text = raw.astype(object).map(lambda cell: str(cell).strip() if cell is not None else "")
    if text.str.fullmatch(r"\d{8}").all():
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise submission_error(
            "invalid_dates",
            f"{int(bad.sum())} 'date' cells are not dates (use YYYY-MM-DD or YYYYMMDD), e.g. "
            f"{examples(text[bad].tolist(), int(bad.sum()), config.n_examples)}",
        )
    dates = sorted({timestamp.date() for timestamp in parsed})
    if len(dates) > 1:
        raise submission_error(
            "multiple_dates",
            f"a live Signals submission has one date; the file has {len(dates)}: "
            f"{examples((d.isoformat() for d in dates), len(dates), config.n_examples)}",
        )
    date = dates[0]
    if expected_date is not None and date != expected_date:
        raise submission_error(
            "wrong_date",
            f"the submission is dated {date.isoformat()}, the round is {expected_date.isoformat()}",
        )
    return date


def validate_signals(
    source: SubmissionSource,
    *,
    universe: Sequence[str],
    config: ValidationConfig | None = None,
    filename: str | None = None,
    expected_date: dt.date | None = None,
    ticker_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> ValidatedSubmission:
    """Validate a Signals submission against the round's ticker universe.

    Parameters
    ----------
    source
        Bytes, a path, a binary file object or a DataFrame.
    universe
        The round's tickers; the result is aligned to this order.
    config
        Validation options (``min_tickers``).
    filename
        Original file name (optional).
    expected_date
        When given and the file has a ``date`` column, its one date must be this.
    ticker_maps
        Optional translation per ticker column, e.g. ``{"composite_figi": {"BBG000B9XRY4": "AAPL"}}``,
        mapping the user's tickers onto universe ids. Tickers of a column without a map are matched
        against the universe directly.

    Raises
    ------
    SubmissionError
        With the failing rule's ``code`` (see :data:`ERROR_CODES`).
    """
    config = config or ValidationConfig()
    universe_ids = checked_universe(universe, "Signals universe")
    frame = read_submission_table(
        source, filename=filename, limits=config.limits, check_header=_signals_columns
    )
    n_rows = len(frame)
    columns, ticker_column, value_column = _signals_columns(frame.columns)
    frame.columns = columns
    if "data_type" in columns:
        live = frame["data_type"].astype(object).map(lambda cell: str(cell).strip().lower() == "live")
        frame = frame.loc[live.to_numpy(dtype=bool)].reset_index(drop=True)
        if len(frame) == 0:
            raise submission_error("no_live_rows", "the 'data_type' column has no 'live' rows")
    date = _parse_date(frame, expected_date, config) if "date" in columns else None
    tickers = parse_ids(frame[ticker_column], column=ticker_column, n_examples=config.n_examples)
    _check_no_duplicates(tickers, ticker_column, config.n_examples)
    values = parse_numbers(
        frame[value_column], ids=tickers, column=value_column, n_examples=config.n_examples
    )
    _check_unit_range(values, tickers, config.n_examples)
    _check_not_constant(values, value_column)

    mapping = (ticker_maps or {}).get(ticker_column)
    mapped = tickers if mapping is None else np.array([mapping.get(t, "") for t in tickers], dtype=object)
    position = pd.Index(universe_ids).get_indexer(mapped.astype(str))
    known = position >= 0
    dropped = tuple(sorted(str(t) for t in tickers[~known]))
    if mapping is not None:
        _check_no_duplicates(
            mapped[known], f"universe ticker (mapped from {ticker_column})", config.n_examples
        )
    minimum = min(config.min_tickers, len(universe_ids))
    n_known = int(known.sum())
    if n_known < minimum:
        dropped_note = (
            f"; {len(dropped)} tickers are not in the universe, e.g. "
            f"{examples(dropped, len(dropped), config.n_examples)}"
            if dropped
            else ""
        )
        raise submission_error(
            "too_few_tickers",
            f"the submission covers {n_known} tickers of the universe, at least {minimum} are needed"
            + dropped_note,
        )
    known_values = values[known]
    if np.all(known_values == known_values[0]):
        raise submission_error(
            "constant_predictions",
            f"every {value_column!r} value of a universe ticker is {known_values[0]!r}: signals must vary",
        )
    raw = np.full(len(universe_ids), np.nan)
    raw[position[known]] = known_values
    ranked = np.full(len(universe_ids), 0.5)
    ranked[position[known]] = tie_kept_rank(known_values)
    submitted = np.zeros(len(universe_ids), dtype=bool)
    submitted[position[known]] = True
    return ValidatedSubmission(
        kind=RoundKind.SIGNALS,
        ids=universe_ids,
        values=readonly_array(ranked),
        raw_values=readonly_array(raw),
        submitted=readonly_array(submitted),
        checksum=canonical_checksum(RoundKind.SIGNALS, universe_ids, raw),
        n_rows=n_rows,
        dropped_tickers=dropped,
        id_column=ticker_column,
        value_column=value_column,
        date=date,
    )


def validate_submission(
    source: SubmissionSource,
    *,
    kind: RoundKind | str,
    universe: Sequence[str],
    config: ValidationConfig | None = None,
    filename: str | None = None,
    expected_date: dt.date | None = None,
    ticker_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> ValidatedSubmission:
    """Validate a submission of either tournament kind (``"classic"`` or ``"signals"``).

    ``universe`` is the round's live ids (Classic) or tickers (Signals). ``expected_date`` and
    ``ticker_maps`` apply to Signals only. See :func:`validate_classic` / :func:`validate_signals`.
    """
    try:
        kind = RoundKind(str(getattr(kind, "value", kind)).strip().lower())
    except ValueError as exc:
        raise ConfigError(f"unknown tournament kind {kind!r}; expected one of {list(RoundKind)}") from exc
    config = config or ValidationConfig()
    from kardashev.tournament.cleaning import CleaningPolicy, policy_for, validate_numerai_policy

    if policy_for(config, kind) is CleaningPolicy.NUMERAI:
        return validate_numerai_policy(source, kind=kind, universe=universe, config=config, filename=filename)
    if kind is RoundKind.CLASSIC:
        return validate_classic(source, live_ids=universe, config=config, filename=filename)
    return validate_signals(
        source,
        universe=universe,
        config=config,
        filename=filename,
        expected_date=expected_date,
        ticker_maps=ticker_maps,
    )
