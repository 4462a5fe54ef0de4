"""The score registry: what each score needs, one gaussianization shared, numbers equal the batch scorer's."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.scoring import gaussianize, numerai_corr, score_era
from kardashev.scoring.registry import (
    SCORES,
    available_scores,
    compute_scores,
    payable_scores,
    with_gaussianized,
)


def _era(n: int = 300, m: int = 12, **changes):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    predictions = rng.random((n, m))
    predictions[:, 1] = np.round(predictions[:, 1], 1)  # ties
    values = {
        "predictions": predictions,
        "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n),
        "meta_model": rng.random(n),
        "benchmark": rng.random(n),
        "features": rng.integers(0, 5, (n, 15)).astype(np.int8),
        "exposures": rng.normal(size=(n, 3)),
        "stakes": rng.uniform(0, 2, m),
    }
    values.update(changes)
    return Era.build("0007", [f"s{i}" for i in range(n)], **values)


def test_registry_names_are_the_ones_consumers_use():
    from kardashev.tournament.payout import PAYOUT_SCORES

    assert set(payable_scores()) == set(PAYOUT_SCORES) == {"corr", "mmc", "bmc", "fnc", "alpha", "mpc", "tc"}
    assert all(set(score.needs) <= {f for f in Era.__dataclass_fields__} for score in SCORES.values())


def test_available_scores_follow_the_inputs_and_the_tournament():
    era = _era()
    assert set(available_scores(era, layer="scoring")) == {
        "corr", "mmc", "bmc", "fnc", "cwmm", "feature_exposure_max", "feature_exposure_rms"
    }  # fmt: skip
    assert {"alpha", "mpc"} <= set(available_scores(era, kind="signals"))
    bare = _era(meta_model=None, benchmark=None, features=None)
    assert set(available_scores(bare, layer="scoring")) == {"corr"}
    assert "tc" not in available_scores(era)  # no realized returns
    assert "tc" in available_scores(era.with_(realized_returns=np.zeros(era.n_stocks)))


def test_compute_scores_equals_the_batch_scorer_and_shares_its_gaussianization():
    era = _era()
    scores, shared = compute_scores(era)
    reference = score_era(
        era.predictions, era.target, meta_model=era.meta_model, benchmark=era.benchmark, features=era.features
    ).metrics()
    assert set(scores) == set(reference)
    for name, values in reference.items():
        np.testing.assert_allclose(scores[name], values, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(shared.gaussianized, gaussianize(era.predictions))
    np.testing.assert_allclose(scores["corr"], numerai_corr(era.predictions, era.target), atol=1e-12)
    assert with_gaussianized(shared) is shared  # computed once, carried along


def test_signals_scores_from_the_registry():
    scores, _ = compute_scores(_era(), ["alpha", "mpc"], kind="signals")
    assert scores["alpha"].shape == (12,) and np.isfinite(scores["mpc"]).all()


def test_a_score_the_era_cannot_provide_is_refused_by_name():
    with pytest.raises(InvalidInputError, match="fnc needs features"):
        compute_scores(_era(features=None), ["fnc"])
    with pytest.raises(InvalidInputError) as error:
        compute_scores(_era(), ["sharpness"])
    assert error.value.code == "unknown_score"
    with pytest.raises(InvalidInputError, match="not scored in classic"):
        compute_scores(_era(), ["alpha"])


def test_predictions_with_nan_are_scored_on_their_own_rows_without_a_shared_matrix():
    era = _era()
    predictions = era.predictions.copy()
    predictions[:5, 0] = np.nan
    scores, shared = compute_scores(era.with_(predictions=predictions), ["corr"])
    assert shared.gaussianized is None
    assert np.isclose(scores["corr"][0], numerai_corr(predictions[:, 0], era.target), atol=1e-12)
