"""Checks on operator data: each implausible day is refused with its code, plausible days pass."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.data.era import Era
from kardashev.errors import ConfigError, InvalidInputError
from kardashev.tournament import round_day
from kardashev.tournament.operator_data import OperatorDataLimits, check_round_day, check_values

N = 50
IDS = np.array([f"S{i:03d}" for i in range(N)], dtype=object)
RNG = np.random.default_rng(11)
BASE = RNG.normal(size=N)


def _day(**overrides) -> Era:
    fields = {
        "day": 1,
        "ids": IDS,
        "target": np.round(RNG.uniform(0, 1, N) * 4) / 4,
        "realized_returns": RNG.normal(0, 0.03, N),
        "exposures": np.column_stack([np.ones(N), BASE]),
        "features": RNG.integers(0, 5, (N, 3)).astype(float),
    }
    fields.update(overrides)
    return round_day(**fields)


def _code(day: Era, **kwargs) -> str:
    with pytest.raises(InvalidInputError) as info:
        check_round_day(day, **kwargs)
    return info.value.code


def test_a_plausible_day_passes_as_numpy():
    checked = check_round_day(_day(), universe=list(IDS))
    assert checked.target.dtype == np.float64 and checked.exposures.shape == (N, 2)
    with_gaps = _day(target=np.where(np.arange(N) % 5 == 0, np.nan, np.linspace(0, 1, N)))
    assert np.isnan(check_round_day(with_gaps).target).sum() == 10  # a few missing targets are fine


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"realized_returns": np.full(N, 1e300)}, "implausible_values"),
        ({"realized_returns": np.r_[9.0, np.zeros(N - 1)]}, "implausible_values"),
        ({"exposures": np.column_stack([BASE * 1e200, BASE * 2e200])}, "implausible_values"),
        ({"exposures": np.column_stack([BASE, 2 * BASE])}, "collinear_exposures"),
        ({"exposures": np.column_stack([BASE, BASE + 1e-12 * RNG.normal(size=N)])}, "collinear_exposures"),
        ({"exposures": np.column_stack([BASE, np.zeros(N)])}, "collinear_exposures"),
        ({"exposures": RNG.normal(size=(N, N))}, "collinear_exposures"),
        ({"target": np.full(N, 0.5)}, "constant_target"),
        ({"target": np.r_[1e300, np.zeros(N - 1)]}, "implausible_values"),
        ({"target": np.r_[np.inf, np.linspace(0, 1, N - 1)]}, "non_finite_values"),
        ({"target": np.r_[np.full(30, np.nan), np.linspace(0, 1, N - 30)]}, "non_finite_values"),
        ({"features": np.full((N, 2), 1e9)}, "implausible_values"),
    ],
)
def test_implausible_days_are_refused(overrides, code):
    assert _code(_day(**overrides)) == code


def test_coverage_of_the_round_universe():
    universe = [*IDS, *(f"X{i}" for i in range(N))]  # the day covers half of it
    assert _code(_day(), universe=universe) == "low_coverage"
    assert check_round_day(_day(), universe=universe, limits=OperatorDataLimits(min_coverage=0.5)).day == 1


def test_check_values_and_limits():
    assert check_values([1.0, np.nan], name="x", max_abs=2, allow_nan=True)[0] == 1.0
    with pytest.raises(InvalidInputError, match="x has 1 NaN"):
        check_values([1.0, np.nan], name="x", max_abs=2)
    with pytest.raises(ConfigError):
        OperatorDataLimits(max_abs_return=np.inf)
    with pytest.raises(ConfigError):
        OperatorDataLimits(min_coverage=1.5)
