"""Bad inputs, bad configurations and infeasible constraints raise clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kardashev.errors import ConfigError, InfeasibleError, InvalidInputError
from kardashev.portfolio import OptimizerConfig, RiskModel, optimize

from .cases import make_case


@pytest.mark.parametrize("argument", ["expected_returns", "exposures", "previous_weights", "adv"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_name_the_argument(argument, bad):
    case = make_case(n=20, previous=True, adv=True)
    inputs = {"expected_returns": case.signal.copy()} | {
        key: value.copy() for key, value in case.kwargs().items() if isinstance(value, np.ndarray)
    }
    inputs[argument].flat[3] = bad
    signal = inputs.pop("expected_returns")
    with pytest.raises(InvalidInputError, match=argument):
        optimize(signal, risk_model=case.risk_model, config=case.config, **inputs)


def test_shapes_are_checked():
    case = make_case(n=20)
    with pytest.raises(InvalidInputError, match="exposures"):
        optimize(case.signal, exposures=case.exposures[:10])
    with pytest.raises(InvalidInputError, match="previous_weights"):
        optimize(case.signal, previous_weights=np.zeros(19))
    with pytest.raises(InvalidInputError, match="expected_returns"):
        optimize(np.zeros((20, 2)))
    with pytest.raises(InvalidInputError, match="risk_model"):
        optimize(case.signal[:10], risk_model=case.risk_model)
    with pytest.raises(InvalidInputError, match="adv"):
        optimize(case.signal, adv=-np.ones(20))
    result = optimize(case.signal, exposures=case.exposures, risk_model=case.risk_model)
    with pytest.raises(InvalidInputError, match="cotangent"):
        result.vjp(np.full(20, np.nan))
    with pytest.raises(InvalidInputError, match="cotangent"):
        result.vjp(np.ones(21))


def test_risk_model_is_validated():
    loadings = np.ones((5, 2))
    with pytest.raises(InvalidInputError, match="specific_variance"):
        RiskModel(factor_loadings=loadings, factor_covariance=np.eye(2), specific_variance=np.zeros(5))
    with pytest.raises(InvalidInputError, match="factor_covariance"):
        RiskModel(factor_loadings=loadings, factor_covariance=np.eye(3), specific_variance=np.ones(5))
    with pytest.raises(InvalidInputError, match="positive semidefinite"):
        RiskModel(factor_loadings=loadings, factor_covariance=-np.eye(2), specific_variance=np.ones(5))
    with pytest.raises(InvalidInputError, match="factor_loadings"):
        RiskModel(
            factor_loadings=np.full((5, 2), np.nan), factor_covariance=np.eye(2), specific_variance=np.ones(5)
        )


@pytest.mark.parametrize(
    "field, value",
    [
        ("risk_aversion", 0.0),
        ("risk_aversion", -1.0),
        ("gross_leverage", float("nan")),
        ("max_position", float("inf")),
        ("impact", -1e-3),
        ("spread", -1.0),
        ("alpha_scale", 0.0),
        ("max_turnover", 0.0),
        ("tolerance", 0.5),
        ("max_iterations", 0),
        ("max_iterations", 2.5),
        ("dollar_neutral", "yes"),
        ("risk_aversion", "1"),
    ],
)
def test_bad_config_raises_config_error(field, value):
    with pytest.raises(ConfigError, match=field):
        OptimizerConfig(**{field: value})


def test_config_is_frozen_and_keyword_only():
    config = OptimizerConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.risk_aversion = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        OptimizerConfig(1.0)  # type: ignore[misc]
    with pytest.raises(ConfigError, match="method"):
        optimize(np.ones(4), method="newton")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["auto", "fast", "generic"])
def test_exposures_leaving_only_the_zero_portfolio_are_infeasible(method):
    rng = np.random.default_rng(0)
    with pytest.raises(InfeasibleError) as caught:
        optimize(rng.standard_normal(6), exposures=rng.standard_normal((6, 5)), method=method)
    assert caught.value.code == "no_neutral_portfolio"


@pytest.mark.parametrize("method", ["auto", "fast", "generic"])
def test_turnover_cap_that_cannot_reach_neutrality_is_infeasible(method):
    case = make_case(n=40, seed=1, max_turnover=0.1)
    previous = np.full(40, 0.3 / 40)  # net long 0.3: reaching Σw = 0 needs turnover ≥ 0.3
    with pytest.raises(InfeasibleError):
        optimize(case.signal, **case.kwargs() | {"previous_weights": previous}, method=method)


@pytest.mark.parametrize("method", ["fast", "generic"])
def test_signal_in_the_neutralized_span_gives_a_legitimate_zero_portfolio(method):
    case = make_case(n=30, seed=2)
    signal = case.exposures @ np.arange(1.0, 7.0) + 3.0  # sectors, dense factors and the market
    result = optimize(signal, method=method, **case.kwargs())
    assert result.status == "optimal_zero"
    assert np.abs(result.weights).max() < 1e-12
    # it is not a dead end: moving the signal out of the span moves the portfolio
    gradient = result.vjp(np.random.default_rng(0).standard_normal(30))
    assert np.abs(gradient).max() > 0
    assert np.abs(case.exposures.T @ gradient).max() < 1e-8 * np.abs(gradient).max()
