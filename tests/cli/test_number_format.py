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
