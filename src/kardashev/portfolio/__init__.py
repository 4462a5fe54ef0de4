"""Portfolio optimizer: a long/short, neutral, capped, cost-aware portfolio and its exact gradient.

See :mod:`kardashev.portfolio.optimize` for the problem, its units and the solve paths.
"""

from kardashev.portfolio.config import OptimizerConfig, RiskModel
from kardashev.portfolio.optimize import optimize
from kardashev.portfolio.result import ActiveConstraints, PortfolioDuals, PortfolioResult

__all__ = [
    "ActiveConstraints",
    "OptimizerConfig",
    "PortfolioDuals",
    "PortfolioResult",
    "RiskModel",
    "optimize",
]
