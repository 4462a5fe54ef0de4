"""``kardashev.scoring.submissions`` against numerai-tools 0.7.2's ``submissions`` on the same tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import submissions as ntsub

from kardashev.errors import SubmissionError
from kardashev.scoring import submissions as ksub

from .parity import compare


def _universe(n: int = 150, column: str = "ticker", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({column: [f"T{i:03d}" for i in rng.permutation(n)]})


def _submission(
    universe: pd.DataFrame,
    *,
    id_col: str = "ticker",
    value_col: str = "signal",
    n: int = 130,
    unknown: int = 3,
    duplicates: int = 0,
    nan_values: int = 0,
    seed: int = 1,
    ties: bool = False,
    date_col: str | None = None,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tickers = rng.choice(universe.iloc[:, 0].to_numpy(), n, replace=False).tolist()
    tickers += [f"ZZ{i}" for i in range(unknown)] + tickers[:duplicates]
    values = rng.random(len(tickers))
    if ties:
        values = np.round(values * 4) / 4
    if nan_values:
        values[:nan_values] = np.nan
    table = pd.DataFrame({id_col: tickers, value_col: values})
    if date_col:
        table.insert(0, date_col, "2026-11-27")
    return table


@pytest.mark.parametrize(
    "columns",
    [
        ["id", "prediction"],
        ["id", "probability"],
        ["prediction", "id"],
        ["id"],
        ["id", "prediction", "extra"],
        ["ticker", "signal"],
        ["friday_date", "ticker", "signal"],
        ["ticker", "signal", "date"],
        ["date", "friday_date", "ticker", "signal"],
        ["symbol", "prediction"],
        ["symbol", "signal"],
        ["numerai_ticker", "prediction"],
    ],
)
def test_headers(columns: list[str]) -> None:
    table = pd.DataFrame([[0.5] * len(columns)], columns=columns)
    for name in ("validate_headers_numerai", "validate_headers_crypto"):
        assert compare(getattr(ksub, name), getattr(ntsub, name), table) in ("same", "asserts")
    for assert_date_col in (False, True):
        outcome = compare(
            ksub.validate_headers_signals, ntsub.validate_headers_signals, table, assert_date_col
        )
        assert outcome in ("same", "asserts")
    first_date = next((c for c in columns if c in ("date", "friday_date")), None)
    rest = [c for c in columns if c != first_date]
    valid = (
        len(rest) == 2
        and rest[0] in ksub.SIGNALS_ALLOWED_ID_COLS
        and rest[1] in ksub.SIGNALS_ALLOWED_PRED_COLS
    )
    outcome = compare(ksub.validate_headers_signals, ntsub.validate_headers_signals, table)
    assert outcome == ("same" if valid else "asserts")


@pytest.mark.parametrize(
    "values",
    [
        [0.1, 0.5, 0.9],
        [0.0, 0.5, 1.0],
        [-1e-10, 0.5, 1.0 + 1e-10],
        [-0.1, 0.5, 0.9],
        [0.1, 0.5, 1.2],
        [0.5, 0.5, 0.5],
        [0.5, 0.5 + 1e-12, 0.5],
        [0.1, np.nan, 0.9],
        [-5.0, 3.0, 10.0],
    ],
)
def test_values(values: list[float]) -> None:
    table = pd.DataFrame({"id": ["a", "b", "c"], "prediction": values})
    outcome = compare(ksub.validate_values, ntsub.validate_values, table, "prediction")
    inside = bool(np.all((np.array(values) >= 0) & (np.array(values) <= 1)))
    if inside and np.nanstd(values) > 1e-6:
        assert outcome == "same"
    if not inside and not np.isnan(values).any() and min(values) < -1e-6:
        assert outcome == "asserts"


@pytest.mark.parametrize("unknown", [0, 4])
@pytest.mark.parametrize("duplicates", [0, 2])
@pytest.mark.parametrize("n", [150, 120, 90])
def test_ids_and_full_validation(unknown: int, duplicates: int, n: int) -> None:
    universe = _universe()
    for kind, id_col in (("signals", "ticker"), ("crypto", "symbol")):
        uni = universe.rename(columns={"ticker": id_col})
        table = _submission(uni, id_col=id_col, n=n, unknown=unknown, duplicates=duplicates)
        outcome = compare(
            getattr(ksub, f"validate_ids_{kind}"),
            getattr(ntsub, f"validate_ids_{kind}"),
            uni[id_col],
            table,
            id_col,
        )
        assert outcome == ("asserts" if duplicates or n < 100 else "same")
        outcome = compare(
            getattr(ksub, f"validate_submission_{kind}"),
            getattr(ntsub, f"validate_submission_{kind}"),
            uni,
            table,
        )
        assert outcome == ("asserts" if duplicates or n < 100 else "same")
    numerai = _submission(
        universe.rename(columns={"ticker": "id"}),
        id_col="id",
        value_col="prediction",
        n=n,
        unknown=unknown,
        duplicates=duplicates,
    )
    live = universe["ticker"]
    outcome = compare(ksub.validate_ids_numerai, ntsub.validate_ids_numerai, live, numerai, "id")
    assert outcome == ("asserts" if duplicates or n < 150 else "same")
    outcome = compare(ksub.validate_submission_numerai, ntsub.validate_submission_numerai, live, numerai)
    assert outcome == ("asserts" if duplicates or n < 150 else "same")


@pytest.mark.parametrize("date_col", [None, "date", "friday_date"])
@pytest.mark.parametrize("assert_date_col", [False, True])
def test_signals_dates_and_data_type(date_col: str | None, assert_date_col: bool) -> None:
    universe = _universe()
    table = _submission(universe, date_col=date_col)
    outcome = compare(
        ksub.validate_submission_signals, ntsub.validate_submission_signals, universe, table, assert_date_col
    )
    assert outcome == ("asserts" if assert_date_col and date_col is None else "same")
    with_type = table.assign(data_type="live")
    outcome = compare(
        ksub.validate_submission_signals,
        ntsub.validate_submission_signals,
        universe,
        with_type,
        assert_date_col,
    )
    assert outcome == ("asserts" if assert_date_col and date_col is None else "same")


def test_nan_ids_and_nan_values_are_refused() -> None:
    universe = _universe()
    table = _submission(universe)
    table.loc[5, "ticker"] = None
    assert (
        compare(ksub.validate_submission_signals, ntsub.validate_submission_signals, universe, table)
        == "asserts"
    )
    with pytest.raises(SubmissionError) as info:
        ksub.validate_submission_signals(universe, table)
    assert info.value.code == "empty_ids"
    nan_table = _submission(universe, nan_values=2)
    assert (
        compare(ksub.validate_submission_signals, ntsub.validate_submission_signals, universe, nan_table)
        == "asserts"
    )
    # a NaN value on an unknown ticker only is dropped with the ticker
    unknown_nan = _submission(universe, unknown=3)
    unknown_nan.loc[len(unknown_nan) - 1, "signal"] = np.nan
    assert (
        compare(ksub.validate_submission_signals, ntsub.validate_submission_signals, universe, unknown_nan)
        == "same"
    )


@pytest.mark.parametrize("rank_and_fill", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_clean_submission_and_remap_ids(rank_and_fill: bool, ties: bool) -> None:
    universe = _universe()
    universe["composite_figi"] = "BBG" + universe["ticker"].str[1:]
    table = _submission(universe[["ticker"]], n=120, unknown=4, duplicates=3, nan_values=2, ties=ties)
    assert compare(ksub.remap_ids, ntsub.remap_ids, table, universe, "ticker", "ticker") == "same"
    assert compare(ksub.remap_ids, ntsub.remap_ids, table, universe, "ticker", "composite_figi") == "same"
    for dst in (None, "composite_figi"):
        for dst_signal in (None, "prediction"):
            outcome = compare(
                ksub.clean_submission,
                ntsub.clean_submission,
                universe,
                table,
                "ticker",
                "signal",
                dst,
                dst_signal,
                rank_and_fill,
            )
            assert outcome == "same"
    assert (
        compare(ksub.clean_submission, ntsub.clean_submission, universe.iloc[:0], table, "ticker", "signal")
        == "asserts"
    )
    assert (
        compare(ksub.clean_submission, ntsub.clean_submission, universe, table.iloc[:0], "ticker", "signal")
        == "asserts"
    )
