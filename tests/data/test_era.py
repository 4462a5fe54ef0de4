"""The Era: checked once where it is built, sliced consistently, named errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.data.era import Era, EraRisk
from kardashev.errors import InvalidInputError


def _era(**changes):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    values = {
        "predictions": rng.random((6, 3)),
        "model_names": ["a", "b", "c"],
        "stakes": [1.0, 0.0, 2.0],
        "target": rng.random(6),
        "realized_returns": rng.normal(size=6),
        "exposures": rng.normal(size=(6, 2)),
        "features": rng.integers(0, 5, (6, 4)).astype(np.int8),
        "risk": EraRisk(rng.normal(size=(6, 2)), np.eye(2), np.full(6, 0.1)),
        "adv": np.full(6, 1e6),
    }
    values.update(changes)
    return Era.build("0001", [f"s{i}" for i in range(6)], **values)


def test_build_converts_and_keeps_integer_features():
    era = _era()
    assert era.n_stocks == 6 and era.n_models == 3 and era.model_names == ("a", "b", "c")
    assert era.predictions.dtype == np.float64 and era.features.dtype == np.int8
    assert era.has("stakes") and not era.has("meta_model")
    assert not _era(stakes=[0.0, 0.0, 0.0]).has("stakes")  # stakes need a positive total


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"target": np.zeros(5)}, "shape_mismatch"),
        ({"realized_returns": np.full(6, np.nan)}, "invalid_realized_returns"),
        ({"exposures": np.full((6, 2), np.inf)}, "invalid_exposures"),
        ({"stakes": [1.0, -1.0, 0.0]}, "invalid_stakes"),
        ({"stakes": [1.0, 2.0]}, "invalid_stakes"),
        ({"predictions": [["x"] * 3] * 6}, "non_numeric_values"),
        ({"risk": EraRisk(np.zeros((5, 2)), np.eye(2), np.ones(5))}, "shape_mismatch"),
        ({"risk": EraRisk(np.zeros((6, 2)), np.eye(2), np.full(6, np.nan))}, "invalid_risk"),
    ],
)
def test_bad_inputs_are_refused_with_a_code(changes, code):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as error:
        _era(**changes)
    assert error.value.code == code and "era 0001" in error.value.message


def test_duplicate_and_missing_ids_are_refused():
    with pytest.raises(InvalidInputError, match="duplicated"):
        Era.build("x", ["a", "a"], target=[0.0, 1.0])
    with pytest.raises(InvalidInputError, match="no stocks"):
        Era.build("x", [])


def test_rows_and_models_slice_every_aligned_array_together():
    era = _era()
    keep = np.array([True, False, True, True, False, True])
    sub = era.rows(keep)
    assert list(sub.ids) == ["s0", "s2", "s3", "s5"]
    for name in ("predictions", "target", "realized_returns", "exposures", "features", "adv"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(era, name)[keep])
    np.testing.assert_array_equal(sub.risk.factor_loadings, era.risk.factor_loadings[keep])
    np.testing.assert_array_equal(sub.risk.factor_covariance, era.risk.factor_covariance)
    assert era.rows(np.ones(6, dtype=bool)) is era
    two = era.models([2, 0])
    assert two.model_names == ("c", "a") and list(two.stakes) == [2.0, 1.0]
    np.testing.assert_array_equal(two.predictions, era.predictions[:, [2, 0]])


def test_require_names_every_missing_input():
    era = Era.build("e", ["a", "b"], target=[0.0, 1.0])
    with pytest.raises(InvalidInputError) as error:
        era.require("predictions", "stakes", what="TC")
    assert "TC needs predictions, stakes" in error.value.message
