"""True Return and bagged TC of an Era as work units: the same numbers in-process and on Ray."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.contribution import true_contribution, true_return
from kardashev.contribution.parallel import (
    era_contributions,
    parallel_true_contribution,
    parallel_true_return,
    risk_model_of,
)
from kardashev.contribution.scores import ContributionOptions, score_era_all
from kardashev.data.era import Era, EraRisk
from kardashev.data.synthetic import generate_crowd, generate_market
from kardashev.errors import InvalidInputError
from kardashev.execution import LocalExecutor, RayExecutor
from kardashev.portfolio import OptimizerConfig

CONFIG = OptimizerConfig(risk_aversion=1.0, gross_leverage=1.0, max_position=2.5, impact=0.0005)
FIGURES = ("gross_return", "trading_cost", "net_return", "turnover", "gross_leverage")


def _eras(n_eras: int = 2) -> list[Era]:
    """Small synthetic eras with every input TC and True Return use (risk model, ADV, holdings)."""
    market = generate_market(n_stocks=240, n_eras=n_eras + 1, seed=5)
    crowd = generate_crowd(market, n_models=23, seed=5)
    eras = []
    for index in range(1, n_eras + 1):
        data = market.era(index)
        held = np.random.default_rng(index).normal(0.0, 0.002, data.n_stocks)
        eras.append(
            Era.build(
                data.era,
                data.ids,
                predictions=crowd.predictions(data),
                stakes=crowd.stakes,
                realized_returns=data.residual_returns,
                exposures=data.exposures,
                risk=EraRisk(data.factor_loadings, data.factor_covariance, data.specific_variance),
                adv=data.adv,
                previous_weights=held - held.mean(),
            )
        )
    return eras


@pytest.fixture(scope="module")
def eras() -> list[Era]:
    return _eras()


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _sequential(era: Era, bags: int, seed: int):
    """The in-process path every existing caller uses: one call, models and draws in one chain."""
    options = {
        "risk_model": risk_model_of(era),
        "previous_weights": era.previous_weights,
        "adv": era.adv,
    }
    tr = true_return(era.predictions, era.realized_returns, era.exposures, CONFIG, **options)
    tc = true_contribution(
        era.predictions,
        era.stakes,
        era.realized_returns,
        era.exposures,
        CONFIG,
        bags=bags,
        seed=seed,
        **options,
    )
    return tc, tr


def _assert_same(first, second, tolerance: float = 1e-12) -> None:
    tc_a, tr_a = first
    tc_b, tr_b = second
    for name in ("tc", "exact_tc", "weights", "meta_model", "return_gradient"):
        np.testing.assert_allclose(getattr(tc_a, name), getattr(tc_b, name), rtol=0, atol=tolerance)
    assert tc_a.realized_return == pytest.approx(tc_b.realized_return, abs=tolerance)
    assert tc_a.bags == tc_b.bags
    if tc_a.bags:
        np.testing.assert_allclose(tc_a.bag_tc, tc_b.bag_tc, rtol=0, atol=tolerance)
        np.testing.assert_allclose(tc_a.bag_stakes, tc_b.bag_stakes, rtol=0, atol=0)
        np.testing.assert_allclose(
            tc_a.bag_realized_returns, tc_b.bag_realized_returns, rtol=0, atol=tolerance
        )
    for name in FIGURES:
        np.testing.assert_allclose(getattr(tr_a, name), getattr(tr_b, name), rtol=0, atol=tolerance)


@pytest.mark.parametrize(("models_per_unit", "bags_per_unit"), [(5, 2), (100, 100)])
def test_units_on_the_local_executor_match_the_sequential_functions(eras, models_per_unit, bags_per_unit):
    era = eras[0]
    result = era_contributions(
        era,
        CONFIG,
        LocalExecutor(),
        bags=7,
        seed=11,
        models_per_unit=models_per_unit,
        bags_per_unit=bags_per_unit,
    )
    assert result.tc.bags == 7 and result.tc.bag_tc.shape == (7, era.n_models)
    assert result.true_return.net_return.shape == (era.n_models,)
    assert np.abs(result.tc.tc).max() > 0 and np.abs(result.true_return.gross_return).max() > 0
    _assert_same((result.tc, result.true_return), _sequential(era, bags=7, seed=11))


def test_ray_workers_give_the_local_numbers_era_after_era(eras, ray_cluster):
    """Two actors, units spread over both, warm starts kept between units and eras."""
    local = LocalExecutor()
    with RayExecutor(num_workers=2) as executor:
        for era in eras:
            options = {"bags": 6, "seed": 3, "models_per_unit": 4, "bags_per_unit": 2}
            on_ray = era_contributions(era, CONFIG, executor, **options)
            here = era_contributions(era, CONFIG, local, **options)
            _assert_same((on_ray.tc, on_ray.true_return), (here.tc, here.true_return))
            # a worker keeps one era's context: the local one now holds this era's
            (context,) = local.state.values()
            assert context.token.startswith(f"{era.era}/")


def test_the_two_halves_alone_and_without_bags(eras) -> None:
    era = eras[1]
    tr = parallel_true_return(era, CONFIG, models_per_unit=6)
    tc = parallel_true_contribution(era, CONFIG, bags=0)
    sequential_tc, sequential_tr = _sequential(era, bags=0, seed=0)
    _assert_same((tc, tr), (sequential_tc, sequential_tr))
    assert tc.bag_tc is None and tc.bags == 0
    np.testing.assert_allclose(tc.tc, tc.exact_tc, rtol=0, atol=0)
    # Σ_k s_k·TC_k = 0 (the chain rule's identity) holds through the units as well
    assert float(era.stakes @ tc.tc) == pytest.approx(0.0, abs=1e-10)


def test_missing_inputs_and_bad_unit_sizes_are_named(eras) -> None:
    era = eras[0]
    no_stakes = era.with_(stakes=None)
    with pytest.raises(InvalidInputError, match="True Contribution needs stakes") as error:
        parallel_true_contribution(no_stakes, CONFIG)
    assert error.value.code == "missing_era_inputs"
    # True Return needs no stakes
    assert parallel_true_return(no_stakes, CONFIG).net_return.shape == (era.n_models,)
    with pytest.raises(InvalidInputError, match="needs realized_returns"):
        parallel_true_return(era.with_(realized_returns=None), CONFIG)
    with pytest.raises(InvalidInputError, match="models_per_unit must be a positive integer"):
        parallel_true_return(era, CONFIG, models_per_unit=0)
    with pytest.raises(InvalidInputError, match="bags must be an integer"):
        parallel_true_contribution(era, CONFIG, bags=-1)


def test_score_era_all_on_an_executor_gives_the_in_process_scores(eras) -> None:
    era = eras[0].with_(target=np.random.default_rng(0).normal(size=eras[0].n_stocks))
    options = ContributionOptions(
        optimizer_config=CONFIG, tc_bags=4, tc_seed=2, models_per_unit=3, bags_per_unit=3
    )
    in_process = score_era_all(era, options=options)
    on_units = score_era_all(era, options=options, executor=LocalExecutor())
    assert list(in_process) == list(on_units) and {"corr", "tc", "true_return"} <= set(on_units)
    for name, values in in_process.items():
        np.testing.assert_allclose(on_units[name], values, rtol=0, atol=1e-12)
