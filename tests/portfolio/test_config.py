def test_risk_model_without_factors_is_a_specific_risk_model():
    import numpy as np

    from kardashev.portfolio import OptimizerConfig, RiskModel, optimize

    n = 6
    risk = RiskModel(
        factor_loadings=np.zeros((n, 0)),
        factor_covariance=np.zeros((0, 0)),
        specific_variance=np.full(n, 0.04),
    )
    assert risk.n_factors == 0
    signal = np.linspace(-1.0, 1.0, n)
    result = optimize(signal, risk_model=risk, config=OptimizerConfig())
    assert abs(result.weights.sum()) < 1e-10
    assert result.weights[-1] > 0 > result.weights[0]
