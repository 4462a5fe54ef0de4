"""numerai-tools' ``submissions`` module: header, id and value checks and the cleaning before scoring.

Same names, arguments and results as numerai-tools 0.7.2; where it asserts, a
:class:`~kardashev.errors.SubmissionError` with the rule's code (the codes of
:data:`kardashev.tournament.validation.ERROR_CODES`: ``wrong_headers``, ``empty_ids``,
``duplicate_ids``, ``too_few_tickers``, ``missing_ids``, ``nan_values``, ``out_of_range``,
``constant_predictions``). Unlike numerai-tools, no function modifies the table it is given, and
the invalid tickers come back sorted (numerai-tools' order depends on Python's string hashing).

Cleaning (what Numerai scores): unknown ids dropped, the first of duplicated ids kept, ids sorted;
with ``rank_and_fill`` the values are tie-kept ranked and universe ids without a value get 0.5.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from kardashev.errors import InvalidInputError, SubmissionError
from kardashev.scoring.ranking import tie_kept_rank

__all__ = [
    "CRYPTO_ALLOWED_ID_COLS",
    "CRYPTO_ALLOWED_PRED_COLS",
    "CRYPTO_MIN_TICKERS",
    "NUMERAI_ALLOWED_ID_COLS",
    "NUMERAI_ALLOWED_PRED_COLS",
    "SIGNALS_ALLOWED_DATE_COLS",
    "SIGNALS_ALLOWED_ID_COLS",
    "SIGNALS_ALLOWED_PRED_COLS",
    "SIGNALS_MIN_TICKERS",
    "clean_submission",
    "remap_ids",
    "validate_headers_crypto",
    "validate_headers_numerai",
    "validate_headers_signals",
    "validate_ids_crypto",
    "validate_ids_numerai",
    "validate_ids_signals",
    "validate_submission_crypto",
    "validate_submission_numerai",
    "validate_submission_signals",
    "validate_values",
]

NUMERAI_ALLOWED_ID_COLS = ["id"]
NUMERAI_ALLOWED_PRED_COLS = ["prediction", "probability"]
SIGNALS_ALLOWED_ID_COLS = ["ticker", "sedol", "bloomberg_ticker", "composite_figi", "numerai_ticker"]
SIGNALS_ALLOWED_PRED_COLS = ["prediction", "signal"]
SIGNALS_ALLOWED_DATE_COLS = ["friday_date", "date"]
SIGNALS_MIN_TICKERS = 100
CRYPTO_ALLOWED_ID_COLS = ["symbol"]
CRYPTO_ALLOWED_PRED_COLS = ["prediction", "signal"]
CRYPTO_MIN_TICKERS = 100

logger = logging.getLogger(__name__)


def _validate_headers(
    submission: pd.DataFrame, expected_id_cols: list[str], expected_pred_cols: list[str]
) -> tuple[str, str]:
    columns = list(submission.columns)
    if not (len(columns) == 2 and columns[0] in expected_id_cols and columns[1] in expected_pred_cols):
        raise SubmissionError(
            f"headers must be one of {expected_id_cols} and one of {expected_pred_cols} (in that order); "
            f"got {columns}",
            code="wrong_headers",
        )
    return columns[0], columns[1]


def validate_headers_numerai(submission: pd.DataFrame) -> tuple[str, str]:
    """``(id column, prediction column)`` of a Classic submission."""
    return _validate_headers(submission, NUMERAI_ALLOWED_ID_COLS, NUMERAI_ALLOWED_PRED_COLS)


def validate_headers_signals(
    submission: pd.DataFrame, assert_date_col: bool = False
) -> tuple[str, str, str | None]:
    """``(ticker column, signal column, date column or None)`` of a Signals submission.

    The first date column (``friday_date`` or ``date``) is set aside before checking the others.
    """
    date_col = next((col for col in submission.columns if col in SIGNALS_ALLOWED_DATE_COLS), None)
    if assert_date_col and date_col is None:
        raise SubmissionError("submission must contain a date column", code="wrong_headers")
    others = submission.drop(columns=date_col) if date_col is not None else submission
    ticker_col, signal_col = _validate_headers(others, SIGNALS_ALLOWED_ID_COLS, SIGNALS_ALLOWED_PRED_COLS)
    return ticker_col, signal_col, date_col


def validate_headers_crypto(submission: pd.DataFrame) -> tuple[str, str]:
    """``(symbol column, prediction column)`` of a Crypto submission."""
    return _validate_headers(submission, CRYPTO_ALLOWED_ID_COLS, CRYPTO_ALLOWED_PRED_COLS)


def validate_values(submission: pd.DataFrame, prediction_col: str) -> None:
    """No NaN, values in ``[0, 1]`` (extremes within ``np.isclose`` of 0 / 1 allowed), not constant."""
    preds = submission[prediction_col]
    if preds.isna().sum() != 0:
        raise SubmissionError("submission must not contain NaNs", code="nan_values")
    low_ok, high_ok = bool(np.isclose(preds.min(), 0)), bool(np.isclose(preds.max(), 1))
    in_range = (
        preds.between(0, 1).all()
        or (low_ok and preds.le(1).all())
        or (preds.ge(0).all() and high_ok)
        or (low_ok and high_ok)
    )
    if not in_range:
        raise SubmissionError("values must be between 0 and 1", code="out_of_range")
    if np.isclose(0, preds.std()):
        raise SubmissionError("submission must have non-zero standard deviation", code="constant_predictions")


def _validate_ids(
    live_ids: pd.Series, submission: pd.DataFrame, id_col: str, min_tickers: int, code: str
) -> tuple[pd.DataFrame, list[str]]:
    if submission[id_col].isna().any():
        raise SubmissionError(f"submission must not contain NaNs in the {id_col} column", code="empty_ids")
    index_sub = submission.assign(**{id_col: submission[id_col].astype(str)})
    live = pd.Series(live_ids).astype(str)
    live_sub = index_sub[index_sub[id_col].isin(live)].sort_values(id_col)
    if live_sub[id_col].duplicated().any():
        raise SubmissionError(f"duplicates detected in {id_col} for the live period", code="duplicate_ids")
    if len(live_sub) < min_tickers:
        raise SubmissionError(
            f"not enough ids submitted: {len(live_sub)} of the live universe, at least {min_tickers} needed",
            code=code,
        )
    invalid = sorted(set(index_sub[id_col]).difference(set(live_sub[id_col])))
    return live_sub, invalid


def validate_ids_numerai(
    live_ids: pd.Series, submission: pd.DataFrame, id_col: str
) -> tuple[pd.DataFrame, list[str]]:
    """Live rows sorted by id (every live id required) and the ids outside the live universe."""
    return _validate_ids(live_ids, submission, id_col, len(live_ids), "missing_ids")


def validate_ids_signals(
    live_ids: pd.Series, submission: pd.DataFrame, id_col: str
) -> tuple[pd.DataFrame, list[str]]:
    """Live rows sorted by ticker (at least 100) and the tickers outside the universe."""
    return _validate_ids(live_ids, submission, id_col, SIGNALS_MIN_TICKERS, "too_few_tickers")


def validate_ids_crypto(
    live_ids: pd.Series, submission: pd.DataFrame, id_col: str
) -> tuple[pd.DataFrame, list[str]]:
    """Live rows sorted by symbol (at least 100) and the symbols outside the universe."""
    return _validate_ids(live_ids, submission, id_col, CRYPTO_MIN_TICKERS, "too_few_tickers")


def validate_submission_numerai(
    universe: pd.Series, submission: pd.DataFrame
) -> tuple[str, str, pd.DataFrame, list[str]]:
    """Headers, ids and values of a Classic submission: ``(id col, pred col, live rows, invalid ids)``."""
    ticker_col, signal_col = validate_headers_numerai(submission)
    filtered_sub, invalid = validate_ids_numerai(universe, submission, ticker_col)
    validate_values(filtered_sub, signal_col)
    return ticker_col, signal_col, filtered_sub, invalid


def validate_submission_signals(
    universe: pd.DataFrame, submission: pd.DataFrame, assert_date_col: bool = False
) -> tuple[str, str, str | None, pd.DataFrame, list[str]]:
    """Headers, ids and values of a Signals submission (a ``data_type`` column is ignored).

    Returns ``(ticker col, signal col, date col, live rows, invalid tickers)``; the live rows keep
    the date column only with ``assert_date_col``.
    """
    if "data_type" in submission.columns:
        logger.warning("data_type column found in a Signals submission: it is deprecated and ignored")
    submission = submission.drop(columns=["data_type"], errors="ignore")
    ticker_col, signal_col, date_col = validate_headers_signals(submission, assert_date_col)
    if date_col is not None:  # numerai-tools moves the date column last, or drops it
        others = submission.drop(columns=date_col)
        submission = others.assign(**{date_col: submission[date_col]}) if assert_date_col else others
    _check_universe_column(universe, ticker_col)
    filtered_sub, invalid = validate_ids_signals(universe[ticker_col], submission, ticker_col)
    validate_values(filtered_sub, signal_col)
    return ticker_col, signal_col, date_col, filtered_sub, invalid


def validate_submission_crypto(
    universe: pd.DataFrame, submission: pd.DataFrame
) -> tuple[str, str, pd.DataFrame, list[str]]:
    """Headers, ids and values of a Crypto submission: ``(symbol col, pred col, live rows, invalid)``."""
    ticker_col, signal_col = validate_headers_crypto(submission)
    _check_universe_column(universe, ticker_col)
    filtered_sub, invalid = validate_ids_crypto(universe[ticker_col], submission, ticker_col)
    validate_values(filtered_sub, signal_col)
    return ticker_col, signal_col, filtered_sub, invalid


def _check_universe_column(universe: pd.DataFrame, column: str) -> None:
    if column not in universe.columns:
        raise InvalidInputError(
            f"the universe has no {column!r} column (it has {list(universe.columns)})",
            code="unknown_id_column",
        )


def remap_ids(data: pd.DataFrame, ticker_map: pd.DataFrame, src_id_col: str, dst_id_col: str) -> pd.DataFrame:
    """Join ``data`` onto ``ticker_map`` by ``src_id_col``; keep ``dst_id_col`` and the data columns,
    sorted by ``dst_id_col`` (every row of the map is kept, NaN where ``data`` has no value)."""
    for name, table, column in (("ticker_map", ticker_map, src_id_col), ("data", data, src_id_col)):
        if column not in table.columns:
            raise InvalidInputError(f"{name} has no {column!r} column", code="unknown_id_column")
    if dst_id_col not in ticker_map.columns:
        raise InvalidInputError(f"ticker_map has no {dst_id_col!r} column", code="unknown_id_column")
    indexed_map = ticker_map.set_index(src_id_col, drop=False)
    indexed_data = data.set_index(src_id_col)
    return (
        indexed_map.join(indexed_data).reset_index(drop=True)[[dst_id_col, *indexed_data.columns]]
    ).sort_values(dst_id_col)


def clean_submission(
    universe: pd.DataFrame,
    submission: pd.DataFrame,
    src_id_col: str,
    src_signal_col: str,
    dst_id_col: str | None = None,
    dst_signal_col: str | None = None,
    rank_and_fill: bool = False,
) -> pd.Series:
    """The submission on the universe's ids: joined, first of duplicates kept, sorted, renamed;
    with ``rank_and_fill`` tie-kept ranked and 0.5 where the universe id has no value."""
    if len(universe) == 0:
        raise InvalidInputError("universe must not be empty", code="empty_universe")
    if len(submission) == 0:
        raise SubmissionError("predictions must not be empty", code="empty_file")
    dst_id_col = src_id_col if dst_id_col is None else dst_id_col
    dst_signal_col = src_signal_col if dst_signal_col is None else dst_signal_col
    clean_preds = (
        remap_ids(submission, universe, src_id_col, dst_id_col)
        .dropna(subset=[dst_id_col])
        .drop_duplicates(subset=dst_id_col, keep="first")
        .set_index(dst_id_col)
        .sort_index()
        .rename(columns={src_signal_col: dst_signal_col})
    )[dst_signal_col]
    if rank_and_fill:
        ranked = tie_kept_rank(clean_preds.to_numpy(dtype=np.float64))
        clean_preds = pd.Series(ranked, index=clean_preds.index, name=clean_preds.name).fillna(0.5)
    return clean_preds
