"""Numerai-exact scoring: rank transforms, CORR, MMC/BMC, FNC, exposures, churn, summaries.

Array core: 2-D inputs are ``(n_stocks, n_models)`` and handled column-wise; 1-D
inputs are one model. pandas wrappers with numerai-tools' names live in
:mod:`kardashev.scoring.frames`.
"""

from kardashev.scoring.ranking import gaussianize, pow15, tie_kept_rank, tie_kept_rank_gauss_pow15

__all__ = ["gaussianize", "pow15", "tie_kept_rank", "tie_kept_rank_gauss_pow15"]
