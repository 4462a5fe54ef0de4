"""True Contribution: exact gradients of the optimized portfolio's return w.r.t. each stake.

``true_contribution`` (TC per model, optionally bagged over stake dropout), ``true_return`` (each
signal's own portfolio), ``explain_contribution`` (one model's TC decomposed over stocks) and
``compare_contributions`` (TC next to the linear MPC proxy).
"""

from kardashev.contribution.compare import ContributionComparison, compare_contributions
from kardashev.contribution.explain import ContributionExplanation, explain_contribution
from kardashev.contribution.true_contribution import TCResult, dropout_stakes, true_contribution
from kardashev.contribution.true_return import TrueReturnResult, trading_cost, true_return

__all__ = [
    "ContributionComparison",
    "ContributionExplanation",
    "TCResult",
    "TrueReturnResult",
    "compare_contributions",
    "dropout_stakes",
    "explain_contribution",
    "trading_cost",
    "true_contribution",
    "true_return",
]
