"""The per-tournament cleaning policy: ``strict`` (Kardashev's rules) and ``numerai`` (numerai-tools')."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numerai_tools import submissions as ntsub

from kardashev.errors import ConfigError, SubmissionError
from kardashev.tournament.cleaning import CleaningPolicy, cleaning_policies, policy_for
from kardashev.tournament.domain import RoundKind
from kardashev.tournament.validation import ValidationConfig, validate_submission

TICKERS = [f"T{i:03d}" for i in range(150)]
NUMERAI = ValidationConfig(cleaning="numerai")
STRICT = ValidationConfig()


def signals_table(
    n: int = 130, *, seed: int = 0, column: str = "ticker", value: str = "signal"
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tickers = rng.choice(TICKERS, n, replace=False).tolist()
    return pd.DataFrame({column: tickers, value: np.round(rng.random(n) * 8) / 8})


def reference_signals(table: pd.DataFrame, universe_column: str = "ticker") -> pd.Series:
    """numerai-tools' validation then cleaning (what Numerai scores), on the universe's ids."""
    universe = pd.DataFrame({universe_column: TICKERS})
    id_col, value_col, _, live, _ = ntsub.validate_submission_signals(universe, table.copy())
    cleaned = ntsub.clean_submission(universe, live, id_col, value_col, rank_and_fill=True)
    return cleaned.reindex(TICKERS)


def expect_code(code: str, source: object, **kwargs: object) -> None:
    with pytest.raises(SubmissionError) as info:
        validate_submission(source, **kwargs)
    assert info.value.code == code, info.value.message


def test_numerai_policy_keeps_what_numerai_tools_keeps_and_strict_refuses_it() -> None:
    table = signals_table()
    unknown = pd.DataFrame({"ticker": ["ZZZ", "ZZZ", "YYY"], "signal": [np.nan, 0.5, 0.2]})
    table = pd.concat([table, unknown], ignore_index=True).assign(friday_date="2026-11-27")
    result = validate_submission(
        table.to_csv(index=False).encode(), kind="signals", universe=TICKERS, config=NUMERAI
    )
    np.testing.assert_allclose(result.values, reference_signals(table).to_numpy(), rtol=0, atol=1e-15)
    assert result.dropped_tickers == ("YYY", "ZZZ")
    assert result.n_submitted == 130 and result.n_rows == 133
    expect_code("duplicate_ids", table, kind="signals", universe=TICKERS, config=STRICT)


def test_numerai_policy_classic_drops_unknown_ids() -> None:
    live = [f"n{i:03d}" for i in range(120)]
    table = pd.DataFrame({"id": [*live[::-1], "extra"], "prediction": [*np.linspace(0, 1, 120), 7.0]})
    result = validate_submission(table, kind="classic", universe=live, config=NUMERAI)
    np.testing.assert_allclose(result.values, np.linspace(0, 1, 120)[::-1])
    assert result.dropped_tickers == ("extra",)
    expect_code("unknown_ids", table, kind="classic", universe=live, config=STRICT)
    expect_code("missing_ids", table.iloc[1:], kind="classic", universe=live, config=NUMERAI)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda t: pd.concat([t, t.iloc[:1]]), "duplicate_ids"),
        (lambda t: t.assign(signal=t["signal"].where(t.index != 3, np.nan)), "nan_values"),
        (lambda t: t.assign(signal=t["signal"] * 2), "out_of_range"),
        (lambda t: t.assign(signal=0.5), "constant_predictions"),
        (lambda t: t.iloc[:99], "too_few_tickers"),
        (lambda t: t.assign(ticker=t["ticker"].where(t.index != 2, "")), "empty_ids"),
        (lambda t: t.rename(columns={"signal": "score"}), "wrong_headers"),
        (lambda t: t[["signal", "ticker"]], "wrong_headers"),
        (lambda t: t.assign(signal=t["signal"].astype(str).where(t.index != 1, "abc")), "non_numeric_values"),
    ],
)
def test_numerai_policy_uses_the_same_rule_codes(change, code: str) -> None:
    table = change(signals_table())
    expect_code(code, table, kind="signals", universe=TICKERS, config=NUMERAI)
    expect_code(code, table.to_csv(index=False).encode(), kind="signals", universe=TICKERS, config=NUMERAI)


def test_crypto_is_validated_as_numerai_tools_does() -> None:
    table = signals_table(value="prediction").rename(columns={"ticker": "symbol"})
    result = validate_submission(table, kind="crypto", universe=TICKERS)
    universe = pd.DataFrame({"symbol": TICKERS})
    _, _, live, _ = ntsub.validate_submission_crypto(universe, table.copy())
    expected = ntsub.clean_submission(universe, live, "symbol", "prediction", rank_and_fill=True).reindex(
        TICKERS
    )
    np.testing.assert_allclose(result.values, expected.to_numpy(), rtol=0, atol=1e-15)
    assert result.kind is RoundKind.CRYPTO and result.id_column == "symbol"
    expect_code("wrong_headers", signals_table(), kind="crypto", universe=TICKERS)
    expect_code("too_few_tickers", table.iloc[:50], kind="crypto", universe=TICKERS)


def test_policies_are_chosen_per_tournament_kind() -> None:
    config = ValidationConfig(cleaning={"signals": "numerai"})
    assert policy_for(config, RoundKind.SIGNALS) is CleaningPolicy.NUMERAI
    assert policy_for(config, RoundKind.CLASSIC) is CleaningPolicy.STRICT
    assert cleaning_policies("strict")["crypto"] is CleaningPolicy.NUMERAI
    with pytest.raises(ConfigError):
        ValidationConfig(cleaning="lenient")
    with pytest.raises(ConfigError):
        ValidationConfig(cleaning={"futures": "numerai"})


def test_strict_accepts_friday_date_and_refuses_signals_outside_unit_range() -> None:
    table = signals_table().assign(friday_date="2026-11-27")
    result = validate_submission(table, kind="signals", universe=TICKERS, expected_date=dt.date(2026, 11, 27))
    assert result.date == dt.date(2026, 11, 27)
    np.testing.assert_allclose(result.values, reference_signals(table).to_numpy(), rtol=0, atol=1e-15)
    expect_code("wrong_headers", table.assign(date="2026-11-27"), kind="signals", universe=TICKERS)
    expect_code("out_of_range", table.assign(signal=table["signal"] - 0.5), kind="signals", universe=TICKERS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), kind=st.sampled_from(["classic", "signals", "crypto"]))
def test_arbitrary_bytes_raise_only_submission_errors(data: bytes, kind: str) -> None:
    try:
        validate_submission(b"ticker,signal\n" + data, kind=kind, universe=TICKERS, config=NUMERAI)
    except SubmissionError as exc:
        assert exc.code
