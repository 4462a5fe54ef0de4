"""The demo's one number format: signs, no negative zeros, dashes for missing values."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kardashev.demo.numbers import count, percent, ratio, score, tokens


def test_formats() -> None:
    assert score(0.016389) == "+0.0164" and score(-0.0036) == "-0.0036"
    assert percent(0.012345) == "+1.23%" and percent(-0.0064) == "-0.64%"
    assert percent(0.00002, 3) == "+0.002%" and percent(-0.000001, 3) == "0.000%"
    assert ratio(2.104) == "+2.10"
    assert tokens(1634.138389) == "1,634.14" and tokens(-12.5) == "-12.50"
    assert count(1440.0) == "1,440"
    for formatter in (score, percent, ratio, tokens, count):
        assert formatter(float("nan")) == "–" and formatter(None) == "–"


@given(st.floats(min_value=-1e-4, max_value=1e-4, allow_nan=False))
def test_no_negative_zero(value: float) -> None:
    for text in (score(value), percent(value * 1e-2), ratio(value), tokens(value)):
        digits = text.strip("+-%")
        if float(digits.replace(",", "")) == 0:
            assert not text.startswith(("-", "+")), text


@given(st.floats(min_value=-10, max_value=10, allow_nan=False))
def test_score_round_trips_to_four_decimals(value: float) -> None:
    assert abs(float(score(value)) - value) <= 5e-5 + 1e-12
    assert np.sign(float(score(value))) in (0.0, np.sign(value))
