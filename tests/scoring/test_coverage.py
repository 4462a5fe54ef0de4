"""Rows and eras left out of the scores: the same rules as score_era, put in words."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.scoring import score_era
from kardashev.scoring.coverage import Coverage, era_coverage


def _era(predictions: np.ndarray, target: np.ndarray, **arrays) -> Era:
    n, m = predictions.shape
    return Era.build(
        "0001",
        [f"s{i}" for i in range(n)],
        predictions=predictions,
        model_names=[f"m{j}" for j in range(m)],
        target=target,
        **arrays,
    )


def test_a_hand_checked_era() -> None:
    # 10 rows; row 9 has a NaN target; the file has no row for s0 (NaN in every column);
    # m0 predicts the rest, m1 misses s5 too (7 of 9 rows < 80%), m2 is constant, m3 predicts 2 rows
    target = np.array([0, 0.25, 0.5, 0.75, 1, 0, 0.25, 0.5, 0.75, np.nan])
    base = np.linspace(0, 1, 10)
    rows = np.arange(10)
    predictions = np.column_stack(
        [base, np.where(rows == 5, np.nan, base), np.full(10, 0.5), np.where(rows < 3, base, np.nan)]
    )
    predictions[0] = np.nan
    predicted = rows != 0
    coverage = era_coverage(_era(predictions, target), predicted=predicted)
    assert coverage.rows == 10 and coverage.nan_inputs.tolist() == [1, 0, 0, 0]
    assert coverage.no_prediction.tolist() == [1, 1, 1, 1]
    assert coverage.nan_prediction.tolist() == [0, 1, 0, 6]
    assert coverage.eras_sparse.tolist() == [0, 1, 0, 1]
    assert coverage.eras_constant.tolist() == [0, 0, 1, 0]
    assert coverage.eras_empty.tolist() == [0, 0, 0, 0]
    # the unscored eras are exactly score_era's NaN CORRs
    scores = score_era(predictions, target, model_names=coverage.model_names)
    assert np.isnan(scores.corr).tolist() == [False, True, True, True]
    assert coverage.unscored_reason("m0") is None
    assert coverage.unscored_reason("m1") == (
        "no score: predictions on under 80% of the rows (78% on average) in every era"
    )
    assert coverage.unscored_reason("m2") == "no score: constant predictions in every era"
    assert coverage.left_out("m0") == "1 of 9 rows left out: 1 id(s) of the data without a prediction"
    assert coverage.left_out("m3") == (
        "7 of 9 rows left out: 6 NaN prediction(s), 1 id(s) of the data without a prediction"
    )
    assert coverage.left_out_of_every_model() == "1 of 10 rows left out of every score: 1 with a NaN target"


def test_eras_add_up_and_mixed_reasons_are_listed() -> None:
    target = np.linspace(0, 1, 20)
    good = np.column_stack([np.linspace(0, 1, 20), np.linspace(1, 0, 20)])
    constant = np.column_stack([np.full(20, 0.3), np.linspace(1, 0, 20)])
    empty = np.column_stack([np.full(20, np.nan), np.linspace(1, 0, 20)])
    total = sum(
        (era_coverage(_era(p, target)) for p in (constant, empty, good)),
        start=era_coverage(_era(empty, target)),
    )
    assert isinstance(total, Coverage) and total.eras == 4 and total.rows == 80
    assert total.unscored_eras("m0") == 3 and total.unscored_eras("m1") == 0
    assert total.unscored_reason("m0") == (
        "3 of 4 eras not scored: 2 with no usable prediction (all NaN or missing); "
        "1 with constant predictions"
    )
    assert total.left_out("m0") == "40 of 80 rows left out: 40 NaN prediction(s)"
    all_bad = era_coverage(_era(constant, target)) + era_coverage(_era(empty, target))
    assert all_bad.unscored_reason("m0") == (
        "no score in any of the 2 eras: 1 with no usable prediction (all NaN or missing); "
        "1 with constant predictions"
    )


def test_mismatched_inputs_are_refused() -> None:
    era = _era(np.ones((4, 1)), np.arange(4.0))
    with pytest.raises(InvalidInputError, match="predicted has shape"):
        era_coverage(era, predicted=np.ones(3, dtype=bool))
    other = _era(np.ones((4, 2)), np.arange(4.0))
    with pytest.raises(InvalidInputError, match="different models"):
        era_coverage(era) + era_coverage(other)
    with pytest.raises(InvalidInputError, match="no model"):
        era_coverage(era).left_out("nope")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    nan_share=st.sampled_from([0.0, 0.1, 0.19, 0.21, 0.5, 1.0]),
    constant=st.booleans(),
    meta_nan=st.integers(0, 3),
)
def test_unscored_eras_are_score_eras_nan_scores(
    seed: int, nan_share: float, constant: bool, meta_nan: int
) -> None:
    """The property: a model's era counts as unscored exactly when score_era gives it a NaN CORR."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    target = rng.integers(0, 5, n) / 4
    if np.ptp(target) == 0:
        target[0] = 1 - target[0]
    predictions = rng.random((n, 4))
    predictions[rng.random(n) < nan_share, 1] = np.nan
    predictions[rng.random(n) < nan_share / 2, 2] = np.nan
    if constant:
        predictions[:, 3] = 0.25
    meta = rng.random(n)
    meta_nan = min(meta_nan, int(0.2 * n))  # more would be an AlignmentError, not a NaN score
    meta[:meta_nan] = np.nan
    era = _era(predictions, target, meta_model=meta)
    coverage = era_coverage(era)
    scores = score_era(predictions, target, meta_model=meta, model_names=coverage.model_names)
    unscored = np.array([coverage.unscored_eras(name) == 1 for name in coverage.model_names])
    assert unscored.tolist() == np.isnan(scores.corr).tolist()
    assert coverage.nan_inputs[1] == meta_nan
    assert (coverage.nan_prediction == np.isnan(predictions[meta_nan:]).sum(axis=0)).all()
