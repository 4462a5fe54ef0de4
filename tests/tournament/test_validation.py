"""Submission validation: every rule, every error code, both file formats, fuzzed bytes."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kardashev.errors import ConfigError, SubmissionError
from kardashev.tournament.domain import RoundKind
from kardashev.tournament.validation import (
    ERROR_CODES,
    ValidationConfig,
    read_submission_table,
    validate_classic,
    validate_signals,
    validate_submission,
)

LIVE_IDS = [f"n{i:03d}" for i in range(10)]
TICKERS = [f"T{i:03d} US" for i in range(150)]


def classic_csv(rows, header="id,prediction"):
    return (header + "\n" + "\n".join(f"{i},{v}" for i, v in rows) + "\n").encode()


def good_classic_rows():
    return [(i, round(0.05 + 0.09 * k, 2)) for k, i in enumerate(LIVE_IDS)]


def signals_frame(n=120, *, column="numerai_ticker", value="signal", start=0):
    return pd.DataFrame({column: TICKERS[start : start + n], value: np.linspace(0.0, 1.0, n)})


def expect(code, fn, *args, **kwargs):
    with pytest.raises(SubmissionError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert code in ERROR_CODES
    return info.value.message


# ----------------------------------------------------------------------------- Classic


def test_classic_csv_is_aligned_to_live_order_and_checksum_ignores_row_order_and_format():
    rows = good_classic_rows()
    shuffled = rows[::-1]
    result = validate_classic(classic_csv(shuffled), live_ids=LIVE_IDS)
    assert result.kind is RoundKind.CLASSIC
    assert result.ids == tuple(LIVE_IDS)
    np.testing.assert_allclose(result.values, [v for _, v in rows])
    assert result.n_rows == 10 and result.n_submitted == 10 and result.dropped_tickers == ()
    assert len(result.checksum) == 64
    assert not result.values.flags.writeable

    buffer = io.BytesIO()
    pd.DataFrame(rows, columns=["id", "prediction"]).set_index("id").to_parquet(buffer)
    from_parquet = validate_classic(buffer.getvalue(), live_ids=LIVE_IDS, filename="preds.parquet")
    assert from_parquet.checksum == result.checksum
    np.testing.assert_array_equal(from_parquet.values, result.values)

    changed = [(i, v) for i, v in rows]
    changed[3] = (changed[3][0], 0.99)
    assert validate_classic(classic_csv(changed), live_ids=LIVE_IDS).checksum != result.checksum


def test_classic_accepts_probability_dataframe_path_and_file_object(tmp_path):
    frame = pd.DataFrame(good_classic_rows(), columns=["id", "probability"])
    assert validate_classic(frame, live_ids=LIVE_IDS).value_column == "probability"
    path = tmp_path / "p.csv"
    path.write_bytes(classic_csv(good_classic_rows()))
    assert validate_classic(path, live_ids=LIVE_IDS).n_rows == 10
    assert validate_classic(str(path), live_ids=LIVE_IDS).n_rows == 10
    with path.open("rb") as handle:
        assert validate_classic(handle, live_ids=LIVE_IDS).n_rows == 10
    # Upper-case headers and a UTF-8 byte-order mark are tolerated.
    assert validate_classic(
        b"\xef\xbb\xbf" + classic_csv(good_classic_rows(), "ID,Prediction"), live_ids=LIVE_IDS
    )
    # Bounds are inclusive.
    rows = good_classic_rows()
    rows[0], rows[1] = (rows[0][0], 0.0), (rows[1][0], 1.0)
    assert validate_classic(classic_csv(rows), live_ids=LIVE_IDS).values[:2].tolist() == [0.0, 1.0]


def test_classic_missing_ids_names_them_with_count():
    message = expect("missing_ids", validate_classic, classic_csv(good_classic_rows()[:7]), live_ids=LIVE_IDS)
    assert "3 live ids" in message and "'n007'" in message and "'n009'" in message


def test_classic_unknown_ids():
    rows = [*good_classic_rows(), ("zzz", 0.3)]
    message = expect("unknown_ids", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    assert "'zzz'" in message and "1 ids" in message


def test_classic_duplicate_ids():
    rows = [*good_classic_rows(), ("n004", 0.3)]
    message = expect("duplicate_ids", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    assert "'n004'" in message


@pytest.mark.parametrize("cell", ["", "nan", "NaN", "NA"])
def test_classic_nan_values(cell):
    rows = good_classic_rows()
    rows[2] = (rows[2][0], cell)
    message = expect("nan_values", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    assert "'n002'" in message and "1 " in message


def test_classic_nan_in_dataframe_and_non_numeric():
    frame = pd.DataFrame(good_classic_rows(), columns=["id", "prediction"])
    frame.loc[5, "prediction"] = np.nan
    assert "'n005'" in expect("nan_values", validate_classic, frame, live_ids=LIVE_IDS)
    rows = good_classic_rows()
    rows[1] = (rows[1][0], "high")
    assert "'n001'" in expect("non_numeric_values", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    frame = pd.DataFrame({"id": LIVE_IDS, "prediction": [True, False] * 5})
    expect("non_numeric_values", validate_classic, frame, live_ids=LIVE_IDS)


@pytest.mark.parametrize("bad", ["-0.01", "1.5", "inf", "-inf"])
def test_classic_out_of_range(bad):
    rows = good_classic_rows()
    rows[8] = (rows[8][0], bad)
    message = expect("out_of_range", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    assert "'n008'" in message


def test_classic_constant_predictions():
    rows = [(i, 0.5) for i in LIVE_IDS]
    assert "0.5" in expect("constant_predictions", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("id,prediction,extra", "'extra'"),
        ("ticker,prediction", "'id'"),
        ("id,score", "'prediction'"),
        ("id,prediction,probability", "'probability'"),
        ("id,id,prediction", "'id'"),
        (",id,prediction", "index=False"),
    ],
)
def test_classic_wrong_headers_name_the_columns(header, named):
    n_columns = header.count(",") + 1
    body = "\n".join(",".join([i] + ["0.3"] * (n_columns - 1)) for i in LIVE_IDS)
    message = expect("wrong_headers", validate_classic, (header + "\n" + body).encode(), live_ids=LIVE_IDS)
    assert named in message


def test_empty_and_unreadable_files():
    expect("empty_file", validate_classic, b"", live_ids=LIVE_IDS)
    expect("empty_file", validate_classic, b"  \n\n", live_ids=LIVE_IDS)
    expect("empty_file", validate_classic, b"id,prediction\n", live_ids=LIVE_IDS)
    expect("empty_file", validate_classic, pd.DataFrame({"id": [], "prediction": []}), live_ids=LIVE_IDS)
    expect("unreadable_file", validate_classic, b"PAR1 not really parquet", live_ids=LIVE_IDS)
    expect("unreadable_file", validate_classic, b"id,prediction\n", live_ids=LIVE_IDS, filename="x.parquet")
    expect("unreadable_file", validate_classic, b"\xff\xfe\x00garbage", live_ids=LIVE_IDS)
    expect("unreadable_file", validate_classic, b"id,prediction\na,0.1\nb,0.2,0.3,0.4\n", live_ids=LIVE_IDS)
    message = expect("unreadable_file", validate_classic, "/no/such/file.csv", live_ids=LIVE_IDS)
    assert "/no/such/file.csv" in message
    expect("unreadable_file", validate_classic, 12345, live_ids=LIVE_IDS)


def test_empty_id_cells_and_row_limit():
    rows = good_classic_rows()
    rows[4] = ("", 0.3)
    assert "data rows 5" in expect("empty_ids", validate_classic, classic_csv(rows), live_ids=LIVE_IDS)
    config = ValidationConfig(max_rows=5)
    expect(
        "too_many_rows", validate_classic, classic_csv(good_classic_rows()), live_ids=LIVE_IDS, config=config
    )


def test_message_quotes_a_few_examples_and_the_full_count():
    ids = [f"x{i}" for i in range(50)]
    message = expect("missing_ids", validate_classic, classic_csv([("x0", 0.2), ("x1", 0.4)]), live_ids=ids)
    assert "48 live ids" in message and message.count("'x") == 5 and "…" in message


# ----------------------------------------------------------------------------- Signals


def test_signals_rank_fill_and_drop_unknown_tickers():
    frame = signals_frame(120)
    frame.loc[len(frame)] = ["NOPE XX", 0.3]
    frame.loc[len(frame)] = ["ALSO NOPE", 0.4]
    result = validate_signals(frame, universe=TICKERS)
    assert result.kind is RoundKind.SIGNALS
    assert result.dropped_tickers == ("ALSO NOPE", "NOPE XX")
    assert result.n_rows == 122 and result.n_submitted == 120
    # Ranks of 120 increasing values are (k + 0.5) / 120; the 30 unsubmitted tickers get 0.5.
    np.testing.assert_allclose(result.values[:120], (np.arange(120) + 0.5) / 120)
    np.testing.assert_array_equal(result.values[120:], 0.5)
    assert np.isnan(result.raw_values[120:]).all()
    assert result.id_column == "numerai_ticker" and result.value_column == "signal"
    frame_view = result.to_frame()
    assert list(frame_view.columns) == ["numerai_ticker", "signal", "raw_signal", "submitted"]


def test_signals_ties_share_their_average_rank():
    frame = pd.DataFrame({"ticker": TICKERS[:100], "prediction": [0.2] * 50 + [0.8] * 50})
    result = validate_signals(frame, universe=TICKERS[:100])
    np.testing.assert_allclose(result.values, [0.25] * 50 + [0.75] * 50)


@pytest.mark.parametrize("column", ["bloomberg_ticker", "composite_figi", "sedol", "ticker"])
def test_signals_ticker_column_names(column):
    assert validate_signals(signals_frame(column=column), universe=TICKERS).id_column == column


def test_signals_ticker_map_and_csv_with_date():
    figis = {ticker: f"BBG{i:09d}" for i, ticker in enumerate(TICKERS)}
    frame = pd.DataFrame(
        {"composite_figi": [figis[t] for t in TICKERS[:110]], "signal": np.arange(110.0) / 110}
    )
    frame["date"] = "2026-11-20"
    data = frame.to_csv(index=False).encode()
    reverse = {figi: ticker for ticker, figi in figis.items()}
    result = validate_signals(
        data,
        universe=TICKERS,
        ticker_maps={"composite_figi": reverse},
        expected_date=dt.date(2026, 11, 20),
    )
    assert result.n_submitted == 110 and result.date == dt.date(2026, 11, 20)
    assert result.submitted[:110].all() and not result.submitted[110:].any()


def test_signals_too_few_tickers_reports_the_dropped_ones():
    frame = signals_frame(90)
    frame.loc[len(frame)] = ["BAD", 1.0]
    message = expect("too_few_tickers", validate_signals, frame, universe=TICKERS)
    assert "90" in message and "100" in message and "'BAD'" in message
    # The minimum is configurable, and a universe smaller than it requires all of its tickers.
    assert validate_signals(signals_frame(90), universe=TICKERS, config=ValidationConfig(min_tickers=50))
    expect("too_few_tickers", validate_signals, signals_frame(39), universe=TICKERS[:40])
    assert validate_signals(signals_frame(40), universe=TICKERS[:40]).n_submitted == 40


def test_signals_failure_codes():
    frame = signals_frame()
    frame.loc[3, "signal"] = np.nan
    assert TICKERS[3] in expect("nan_values", validate_signals, frame, universe=TICKERS)
    frame = signals_frame()
    frame.loc[4, "signal"] = np.inf
    assert TICKERS[4] in expect("out_of_range", validate_signals, frame, universe=TICKERS)
    frame = signals_frame()
    frame.loc[5, "numerai_ticker"] = TICKERS[6]
    assert TICKERS[6] in expect("duplicate_ids", validate_signals, frame, universe=TICKERS)
    frame = signals_frame()
    frame["signal"] = 0.3
    expect("constant_predictions", validate_signals, frame, universe=TICKERS)
    # Constant on the universe tickers, varying only on unknown ones, is still constant.
    frame.loc[len(frame)] = ["UNKNOWN", 0.9]
    expect("constant_predictions", validate_signals, frame, universe=TICKERS)


def test_signals_header_rules():
    both = signals_frame()
    both["ticker"] = both["numerai_ticker"]
    assert "'numerai_ticker'" in expect("wrong_headers", validate_signals, both, universe=TICKERS)
    two_values = signals_frame()
    two_values["prediction"] = 0.1
    assert "'prediction'" in expect("wrong_headers", validate_signals, two_values, universe=TICKERS)
    extra = signals_frame()
    extra["era"] = 1
    assert "'era'" in expect("wrong_headers", validate_signals, extra, universe=TICKERS)
    no_ticker = signals_frame().rename(columns={"numerai_ticker": "symbol"})
    assert "'symbol'" in expect("wrong_headers", validate_signals, no_ticker, universe=TICKERS)


def test_signals_dates_and_data_type():
    frame = signals_frame()
    frame["date"] = ["2026-11-20"] * 60 + ["2026-11-13"] * 60
    assert "2026-11-13" in expect("multiple_dates", validate_signals, frame, universe=TICKERS)
    frame["date"] = "20261120"
    assert validate_signals(frame, universe=TICKERS).date == dt.date(2026, 11, 20)
    message = expect(
        "wrong_date", validate_signals, frame, universe=TICKERS, expected_date=dt.date(2026, 11, 27)
    )
    assert "2026-11-27" in message
    frame["date"] = "next friday"
    assert "'next friday'" in expect("invalid_dates", validate_signals, frame, universe=TICKERS)

    frame = signals_frame(130)
    frame["data_type"] = ["validation"] * 10 + ["live"] * 120
    result = validate_signals(frame, universe=TICKERS)
    assert result.n_submitted == 120 and result.n_rows == 130
    frame["data_type"] = "validation"
    expect("no_live_rows", validate_signals, frame, universe=TICKERS)


def test_dispatch_by_kind_and_config_errors():
    assert (
        validate_submission(classic_csv(good_classic_rows()), kind="classic", universe=LIVE_IDS).n_rows == 10
    )
    assert validate_submission(signals_frame(), kind=RoundKind.SIGNALS, universe=TICKERS).n_submitted == 120
    with pytest.raises(ConfigError):
        validate_submission(b"x", kind="futures", universe=LIVE_IDS)
    with pytest.raises(ConfigError):
        validate_classic(classic_csv(good_classic_rows()), live_ids=[])
    with pytest.raises(ConfigError):
        ValidationConfig(min_tickers=0)


def test_read_submission_table_keeps_strings():
    table = read_submission_table(b"id,prediction\n007,0.5\n")
    assert table["id"].tolist() == ["007"]


# ----------------------------------------------------------------------------- fuzzing


def _only_submission_errors(data, kind, universe, filename=None):
    try:
        validate_submission(data, kind=kind, universe=universe, filename=filename)
    except SubmissionError as exc:
        assert exc.code in ERROR_CODES
        assert exc.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), kind=st.sampled_from(["classic", "signals"]))
def test_garbage_bytes_only_raise_submission_errors(data, kind):
    _only_submission_errors(data, kind, LIVE_IDS if kind == "classic" else TICKERS)


_cells = st.one_of(
    st.sampled_from([*LIVE_IDS[:4], "", "nan", "1e999", "-0", "0.5", "NA", '"', "'", "\\", "\t"]),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(st.sampled_from(["id", "prediction", "ticker", "signal", "date", "x", ""]), max_size=4),
    rows=st.lists(st.lists(_cells, max_size=4), max_size=6),
    kind=st.sampled_from(["classic", "signals"]),
    parquet_name=st.booleans(),
)
def test_csv_like_garbage_only_raises_submission_errors(header, rows, kind, parquet_name):
    text = "\n".join([",".join(header), *(",".join(row) for row in rows)])
    filename = "sub.parquet" if parquet_name else "sub.csv"
    _only_submission_errors(text.encode(), kind, LIVE_IDS if kind == "classic" else TICKERS, filename)


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=2000), flip=st.integers(min_value=0, max_value=2000))
def test_corrupted_parquet_only_raises_submission_errors(cut, flip):
    buffer = io.BytesIO()
    pd.DataFrame(good_classic_rows(), columns=["id", "prediction"]).to_parquet(buffer)
    data = bytearray(buffer.getvalue())
    if data:
        data[flip % len(data)] ^= 0xFF
    _only_submission_errors(bytes(data[: max(4, len(data) - cut)]), "classic", LIVE_IDS)


COLUMN_NAMES = ["id", "prediction", "ticker", "signal", "date", "data_type"]
_odd_cells = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.booleans(),
    st.binary(max_size=3),
    st.sampled_from(LIVE_IDS[:3] + TICKERS[:3]),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(
        st.sampled_from(["id", "prediction", "ticker", "signal", "date", "data_type"]), max_size=3
    ),
    n_rows=st.integers(min_value=0, max_value=5),
    data=st.data(),
    kind=st.sampled_from(["classic", "signals"]),
)
def test_odd_dataframe_cells_only_raise_submission_errors(columns, n_rows, data, kind):
    frame = pd.DataFrame({k: [data.draw(_odd_cells) for _ in range(n_rows)] for k in range(len(columns))})
    frame.columns = columns
    _only_submission_errors(frame, kind, LIVE_IDS if kind == "classic" else TICKERS)


def test_undecodable_bytes_in_a_dataframe_are_reported_not_crashed():
    frame = pd.DataFrame({"ticker": [b"\x80", *TICKERS[1:110]], "signal": np.arange(110.0) / 110})
    result = validate_signals(frame, universe=TICKERS)
    assert result.dropped_tickers == ("b'\\x80'",) and result.n_submitted == 109
