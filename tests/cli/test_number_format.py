"""One format per kind of number; no negative zero; a mark for missing values."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kardashev.cli import tables
from kardashev.cli.number_format import FORMATS, NumberFormat, format_value
from kardashev.errors import ConfigError


def test_no_negative_zero_and_one_format_per_kind() -> None:
    assert format_value(-0.00001, "score") == "0.0000"
    assert format_value(-0.00001, "signed") == "0.0000"
    assert format_value(0.01, "signed") == "+0.0100"
    assert format_value(-0.004, "ratio") == "0.00"
    assert format_value(Decimal("1614.138389"), "tokens") == "1,614.14"
    assert format_value(-1234567.5, "tokens") == "-1,234,567.50"
    assert format_value(-1e-300, "sci") == "-1.00e-300"
    assert format_value(-0.0, "sci") == "0.00e+00"
    assert format_value(np.int64(12), "int") == "12"
    assert format_value(np.nan, "score") == format_value(None, "tokens") == format_value(pd.NA) == "—"


def test_the_demo_kinds() -> None:
    assert format_value(0.016389, "signed") == "+0.0164" and format_value(-0.0036, "signed") == "-0.0036"
    assert format_value(0.012345, "signed_pct") == "+1.23%"
    assert format_value(-0.0064, "signed_pct") == "-0.64%" and format_value(0.0064, "pct") == "0.64%"
    assert format_value(0.00002, "signed_pct3") == "+0.002%"
    assert format_value(-0.000001, "signed_pct3") == format_value(-0.000001, "pct3") == "0.000%"
    assert format_value(Decimal("0.5"), "pct") == "50.00%"
    assert format_value(2.104, "signed_ratio") == "+2.10" and format_value(-0.001, "signed_ratio") == "0.00"
    assert format_value(1440.0, "count") == "1,440"
    assert format_value(np.int64(1234567), "count") == "1,234,567"
    assert format_value(-1.234e-5, "signed_sci") == "-1.23e-05"
    assert format_value(2e-3, "signed_sci") == "+2.00e-03"
    for kind in ("signed_pct", "pct", "pct3", "signed_ratio", "count", "signed_sci"):
        assert format_value(float("nan"), kind) == format_value(None, kind) == "—"


@given(st.floats(min_value=-1e-4, max_value=1e-4, allow_nan=False))
def test_percent_kinds_have_no_negative_zero(value: float) -> None:
    for kind in ("pct", "signed_pct", "pct3", "signed_pct3"):
        text = format_value(value * 1e-2, kind)
        assert text.endswith("%")
        if float(text.rstrip("%")) == 0:
            assert not text.startswith(("-", "+")), text


def test_number_format_is_frozen_and_callable() -> None:
    fmt = NumberFormat(decimals=1, sign=True)
    assert fmt(2.25) == "+2.2" and fmt(-0.04) == "0.0"


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown column format 'percent'"):
        format_value(0.1, "percent")


def test_the_renderer_re_exports_the_formats() -> None:
    assert tables.format_value is format_value and tables.FORMATS is FORMATS


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_every_kind_prints_the_value_to_its_precision(value: float) -> None:
    for kind, decimals in (("score", 4), ("signed", 4), ("ratio", 2), ("tokens", 2)):
        text = format_value(value, kind)
        assert not text.startswith("-0.") or float(text.replace(",", "")) != 0
        assert float(text.replace(",", "")) == pytest.approx(
            value, abs=0.5 * 10**-decimals + 1e-3 * abs(value) * 1e-12
        )
