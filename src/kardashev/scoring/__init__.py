"""Numerai-exact scoring: rank transforms, CORR, MMC/BMC, FNC, exposures, churn, summaries.

Array core: 2-D inputs are ``(n_stocks, n_models)`` and handled column-wise; 1-D inputs are one
model; rows of all inputs are aligned (row ``i`` is the same stock everywhere) and rows with a NaN
are dropped as numerai-tools does. pandas wrappers with numerai-tools' names and argument orders
live in :mod:`kardashev.scoring.frames`; reading Numerai files in :mod:`kardashev.scoring.io`.
"""

from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO
from kardashev.scoring.batch import METRICS, EraScores, score_era, score_eras
from kardashev.scoring.churn import churn, turnover
from kardashev.scoring.contribution import correlation_contribution, neutral_contribution, orthogonalize
from kardashev.scoring.correlation import (
    correlation_with_meta_model,
    numerai_corr,
    pearson_correlation,
    pearson_matrix,
)
from kardashev.scoring.exposure import (
    feature_exposures,
    max_feature_correlation,
    max_feature_exposure,
    max_pairwise_correlation,
    mean_pairwise_correlation,
    pairwise_correlations,
    rms_feature_exposure,
)
from kardashev.scoring.neutralization import (
    NeutralizerBasis,
    feature_neutral_corr,
    neutral_correlation,
    neutralize,
    neutralizer_basis,
    variance_normalize,
)
from kardashev.scoring.ranking import gaussianize, pow15, tie_kept_rank, tie_kept_rank_gauss_pow15
from kardashev.scoring.signals import (
    alpha,
    meta_portfolio_contribution,
    neutralized_weights,
    orthonormal_neutralizers,
)
from kardashev.scoring.summary import (
    DIAGNOSTIC_KEYS,
    ScoreSummary,
    apy,
    autocorrelation,
    diagnostics,
    hit_rate,
    max_drawdown,
    max_drawdown_compounded,
    newey_west_t_statistic,
    sharpe_ratio,
    smart_sharpe,
    summarize,
    summarize_series,
)
from kardashev.scoring.tables import score_frame
from kardashev.scoring.weights import stake_weight

__all__ = [
    "DEFAULT_MAX_FILTERED_RATIO",
    "DIAGNOSTIC_KEYS",
    "METRICS",
    "EraScores",
    "NeutralizerBasis",
    "ScoreSummary",
    "alpha",
    "apy",
    "autocorrelation",
    "churn",
    "correlation_contribution",
    "correlation_with_meta_model",
    "diagnostics",
    "feature_exposures",
    "feature_neutral_corr",
    "gaussianize",
    "hit_rate",
    "max_drawdown",
    "max_drawdown_compounded",
    "max_feature_correlation",
    "max_feature_exposure",
    "max_pairwise_correlation",
    "mean_pairwise_correlation",
    "meta_portfolio_contribution",
    "neutral_contribution",
    "neutral_correlation",
    "neutralize",
    "neutralized_weights",
    "neutralizer_basis",
    "newey_west_t_statistic",
    "numerai_corr",
    "orthogonalize",
    "orthonormal_neutralizers",
    "pairwise_correlations",
    "pearson_correlation",
    "pearson_matrix",
    "pow15",
    "rms_feature_exposure",
    "score_era",
    "score_eras",
    "score_frame",
    "sharpe_ratio",
    "smart_sharpe",
    "stake_weight",
    "summarize",
    "summarize_series",
    "tie_kept_rank",
    "tie_kept_rank_gauss_pow15",
    "turnover",
    "variance_normalize",
]
