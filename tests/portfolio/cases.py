"""Random but reproducible optimizer inputs shared by the portfolio tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kardashev.portfolio import OptimizerConfig, RiskModel


@dataclass
class Case:
    signal: np.ndarray
    exposures: np.ndarray | None
    risk_model: RiskModel | None
    previous_weights: np.ndarray | None = None
    adv: np.ndarray | None = None
    config: OptimizerConfig = field(default_factory=OptimizerConfig)

    def kwargs(self) -> dict:
        return {
            "exposures": self.exposures,
            "risk_model": self.risk_model,
            "previous_weights": self.previous_weights,
            "adv": self.adv,
            "config": self.config,
        }


def make_case(
    n: int = 60,
    *,
    n_sectors: int = 4,
    n_countries: int = 0,
    n_dense: int = 2,
    n_factors: int = 3,
    seed: int = 0,
    previous: bool = False,
    adv: bool = False,
    **config: object,
) -> Case:
    rng = np.random.default_rng(seed)
    blocks = []
    for groups in (n_sectors, n_countries):
        if groups:
            labels = rng.integers(0, groups, n)
            labels[:groups] = np.arange(groups)  # every group non-empty
            blocks.append(np.eye(groups)[labels])
    if n_dense:
        blocks.append(rng.standard_normal((n, n_dense)))
    exposures = np.hstack(blocks) if blocks else None
    risk_model = None
    if n_factors:
        loadings = rng.standard_normal((n, n_factors))
        root = rng.standard_normal((n_factors, n_factors)) * 0.01
        risk_model = RiskModel(
            factor_loadings=loadings,
            factor_covariance=root @ root.T + 1e-5 * np.eye(n_factors),
            specific_variance=rng.uniform(0.5, 2.0, n) * 1e-3,
        )
    previous_weights = None
    if previous:
        raw = rng.standard_normal(n)
        previous_weights = raw / np.abs(raw).sum()
    return Case(
        signal=rng.standard_normal(n),
        exposures=exposures,
        risk_model=risk_model,
        previous_weights=previous_weights,
        adv=rng.lognormal(15, 1, n) if adv else None,
        config=OptimizerConfig(**config),
    )
