"""Numerai-exact scoring: rank transforms, CORR, MMC/BMC, FNC, exposures, churn, neutral churn, summaries.

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
from kardashev.scoring.neutral_churn import neutral_churn, neutral_churn_penalty, neutral_signal
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
from kardashev.scoring.transforms import (
    center,
    gaussian,
    min_max_normalize,
    power,
    rank,
    standardize,
    tie_broken_rank,
    weight_normalize,
)
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
    "center",
    "churn",
    "correlation_contribution",
    "correlation_with_meta_model",
    "diagnostics",
    "feature_exposures",
    "feature_neutral_corr",
    "gaussian",
    "gaussianize",
    "hit_rate",
    "max_drawdown",
    "max_drawdown_compounded",
    "max_feature_correlation",
    "max_feature_exposure",
    "max_pairwise_correlation",
    "mean_pairwise_correlation",
    "meta_portfolio_contribution",
    "min_max_normalize",
    "neutral_churn",
    "neutral_churn_penalty",
    "neutral_contribution",
    "neutral_correlation",
    "neutral_signal",
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
    "power",
    "rank",
    "rms_feature_exposure",
    "score_era",
    "score_eras",
    "score_frame",
    "sharpe_ratio",
    "smart_sharpe",
    "stake_weight",
    "standardize",
    "summarize",
    "summarize_series",
    "tie_broken_rank",
    "tie_kept_rank",
    "tie_kept_rank_gauss_pow15",
    "turnover",
    "variance_normalize",
    "weight_normalize",
]
