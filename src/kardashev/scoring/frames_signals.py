"""pandas wrappers of numerai-tools' Signals scores: alpha, MPC, churn, turnover and neutral churn.

Each follows numerai-tools 0.7.2's steps (which ids are kept, in which order things are ranked,
centered and filtered) and returns its numbers; the math is the array core
(:mod:`kardashev.scoring.signals`, :mod:`kardashev.scoring.churn`,
:mod:`kardashev.scoring.neutral_churn`). Where numerai-tools asserts these raise a
:mod:`kardashev.errors` exception. Re-exported by :mod:`kardashev.scoring.frames`.
"""

from __future__ import annotations

from statistics import fmean

import numpy as np
import pandas as pd

from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring import signals as _signals
from kardashev.scoring import submissions as _submissions
from kardashev.scoring.churn import churn as _core_churn
from kardashev.scoring.churn import turnover as _core_turnover
from kardashev.scoring.frames_tools import (
    center,
    filter_sort_index,
    filter_sort_index_many,
    filter_sort_top_bottom,
    gaussian,
    like,
    neutralize_frame,
    tie_kept_rank,
    tie_kept_rank__gaussianize__pow_1_5,
    weight_normalize,
)
from kardashev.scoring.neutral_churn import NEUTRAL_CHURN_SCALING_FACTOR, NEUTRAL_CHURN_THRESHOLD
from kardashev.scoring.neutral_churn import neutral_churn_penalty as _penalty

__all__ = [
    "alpha",
    "calculate_max_churn_and_turnover",
    "calculate_mean_neutral_churn",
    "churn",
    "generate_neutralized_weights",
    "meta_portfolio_contribution",
    "neutral_churn",
    "neutral_churn_penalty",
    "turnover",
]


def generate_neutralized_weights(
    predictions: pd.DataFrame,
    neutralizers: pd.DataFrame,
    sample_weights: pd.Series,
    center_and_normalize: bool = False,
) -> pd.DataFrame:
    """Signals' portfolio weights ``(s' - N(Nᵀ(v∘s')))∘v`` of each column, ``s' = pow15(Φ⁻¹(tkr(p)))``.

    The predictions are ranked over all their ids, then kept on the ids the neutralizers and sample
    weights also cover (numerai-tools' order of steps).
    """
    for name, data in (
        ("predictions", predictions),
        ("neutralizers", neutralizers),
        ("sample_weights", sample_weights),
    ):
        if data.isna().to_numpy().any():
            raise InvalidInputError(f"{name} contain NaN", code="nan_values")
    ranked = tie_kept_rank__gaussianize__pow_1_5(predictions)
    ranked, neutralizers, sample_weights = filter_sort_index_many([ranked, neutralizers, sample_weights])
    weights = _signals.weights_from_ranked(
        ranked.to_numpy(dtype=np.float64),
        neutralizers.to_numpy(dtype=np.float64),
        sample_weights.to_numpy(dtype=np.float64),
        center_and_normalize=center_and_normalize,
    )
    return like(ranked, weights)


def alpha(
    predictions: pd.DataFrame, neutralizers: pd.DataFrame, sample_weights: pd.Series, targets: pd.Series
) -> pd.Series:
    """Signals alpha of each prediction column: ``w·center(t) / n``."""
    predictions = _frame(predictions)
    targets = center(targets)
    predictions, targets = filter_sort_index(predictions, targets)
    weights = generate_neutralized_weights(predictions, neutralizers, sample_weights)
    _check_covered(weights, targets)
    values = targets.to_numpy(dtype=np.float64) @ weights.to_numpy(dtype=np.float64)
    return pd.Series(values / len(targets), index=weights.columns)


def _check_covered(weights: pd.DataFrame, targets: pd.Series) -> None:
    if len(weights) != len(targets):  # numerai-tools fails on the product ("not aligned")
        raise AlignmentError(
            f"neutralizers / sample_weights cover {len(weights)} of the {len(targets)} scored ids; "
            "all are needed"
        )


def meta_portfolio_contribution(
    predictions: pd.DataFrame,
    stakes: pd.Series,
    neutralizers: pd.DataFrame,
    sample_weights: pd.Series,
    targets: pd.Series,
) -> pd.Series:
    """MPC of each model named in ``stakes``: the gradient of the stake-weighted portfolio's score.

    Every prediction column (staked or not) takes part in choosing the ids, as in numerai-tools.
    """
    predictions = _frame(predictions)
    missing = [name for name in stakes.index if name not in predictions.columns]
    if missing:
        raise InvalidInputError(
            f"stakes name models without predictions: {missing[:5]}", code="unknown_models"
        )
    predictions, targets = filter_sort_index(predictions, targets)
    targets = center(targets)
    stake_weights = weight_normalize(stakes.fillna(0))
    if not np.isclose(stake_weights.sum(), 1):
        raise InvalidInputError("stakes must be non-negative and not all zero", code="invalid_stakes")
    weights = generate_neutralized_weights(predictions, neutralizers, sample_weights)
    _check_covered(weights, targets)
    values = _signals.portfolio_gradient(
        weights[stakes.index].to_numpy(dtype=np.float64),
        stake_weights.to_numpy(dtype=np.float64),
        targets.to_numpy(dtype=np.float64),
    )
    return pd.Series(values, index=stakes.index)


def _frame(data: pd.DataFrame | pd.Series) -> pd.DataFrame:
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, pd.DataFrame):
        return data
    raise InvalidInputError(f"predictions must be a pandas DataFrame, got {type(data).__name__}")


def churn(s1: pd.Series, s2: pd.Series, top_bottom: int | None = None) -> float:
    """``1 - Spearman(s1, s2)`` on their common ids, or with ``top_bottom = k`` the share of each
    series' ``k`` highest and ``k`` lowest ids that the other does not have there."""
    if top_bottom is not None and top_bottom > 0:
        s1_top, s1_bot = filter_sort_top_bottom(s1, top_bottom)
        s2_top, s2_bot = filter_sort_top_bottom(s2, top_bottom)
        top_overlap = len(s1_top.index.intersection(s2_top.index)) / top_bottom
        bot_overlap = len(s1_bot.index.intersection(s2_bot.index)) / top_bottom
        return 1 - (top_overlap + bot_overlap) / 2
    s1, s2 = filter_sort_index(s1, s2)
    for name, data in (("s1", s1), ("s2", s2)):
        if not data.std() > 0:
            raise InvalidInputError(
                f"{name} must have non-zero standard deviation", code="constant_predictions"
            )
    return _core_churn(s1.to_numpy(dtype=np.float64), s2.to_numpy(dtype=np.float64), max_filtered_ratio=1.0)


def turnover(s1: pd.Series, s2: pd.Series) -> float:
    """``Σ|w1 - w2| / 2`` on the common ids of two weight series."""
    s1, s2 = filter_sort_index(s1, s2)
    return _core_turnover(
        s1.to_numpy(dtype=np.float64), s2.to_numpy(dtype=np.float64), max_filtered_ratio=1.0
    )


def _neutralize_signal(signal: pd.Series, neutralizers: pd.DataFrame) -> pd.Series:
    signal, neutralizers = filter_sort_index(signal, neutralizers)
    return neutralize_frame(gaussian(tie_kept_rank(signal.to_frame())), neutralizers).iloc[:, 0]


def neutral_churn(
    s1: pd.Series, s2: pd.Series, neutralizers1: pd.DataFrame, neutralizers2: pd.DataFrame
) -> float:
    """Churn between two eras' signals, each tie-kept ranked, gaussianized and neutralized first."""
    return churn(_neutralize_signal(s1, neutralizers1), _neutralize_signal(s2, neutralizers2))


def neutral_churn_penalty(
    neutral_churn: float,
    threshold: float = NEUTRAL_CHURN_THRESHOLD,
    scaling_factor: float = NEUTRAL_CHURN_SCALING_FACTOR,
) -> float:
    """Fraction of a positive payout kept (see :func:`kardashev.scoring.neutral_churn_penalty`)."""
    return float(_penalty(neutral_churn, threshold, scaling_factor))


def _clean_signal_submission(
    submission: pd.Series,
    sample_weight: pd.Series,
    dst_id_col: str | None = None,
    dst_signal_col: str | None = None,
) -> tuple[str, str, pd.Series]:
    universe = sample_weight.index.to_frame()
    ticker_col, signal_col, _, submission_df, _ = _submissions.validate_submission_signals(
        universe=universe, submission=submission.reset_index()
    )
    cleaned = _submissions.clean_submission(
        universe=universe,
        submission=submission_df,
        src_id_col=ticker_col,
        src_signal_col=signal_col,
        dst_id_col=dst_id_col,
        dst_signal_col=dst_signal_col,
        rank_and_fill=True,
    )
    return ticker_col, signal_col, cleaned


def calculate_mean_neutral_churn(
    curr_sub: pd.Series,
    curr_neutralizer: pd.DataFrame,
    curr_sample_weight: pd.Series,
    prev_subs: dict[str, pd.Series],
    prev_neutralizers: dict[str, pd.DataFrame],
    prev_sample_weights: dict[str, pd.Series],
) -> float:
    """Mean neutral churn of the cleaned submission against each earlier one (1.0 if none compares).

    Submissions are cleaned as Numerai cleans them (validated, joined on the era's universe,
    ranked, 0.5 filled); a pair that cannot be compared is skipped.
    """
    ticker_col, signal_col, curr_sub = _clean_signal_submission(curr_sub, curr_sample_weight)
    neutral_curr = _neutralize_signal(curr_sub, curr_neutralizer)
    if not neutral_curr.std() > 0:
        raise InvalidInputError(
            "curr_sub must have non-zero standard deviation after neutralization", code="constant_predictions"
        )
    stats = []
    for datestamp in prev_subs:
        _, _, prev_sub = _clean_signal_submission(
            prev_subs[datestamp],
            prev_sample_weights[datestamp],
            dst_id_col=ticker_col,
            dst_signal_col=signal_col,
        )
        neutral_prev = _neutralize_signal(prev_sub, prev_neutralizers[datestamp])
        try:
            stats.append(churn(neutral_curr, neutral_prev))
        except InvalidInputError:  # numerai-tools skips a pair on any assertion
            continue
    return fmean(stats) if stats else 1.0


def calculate_max_churn_and_turnover(
    curr_sub: pd.Series,
    curr_neutralizer: pd.DataFrame,
    curr_sample_weight: pd.Series,
    prev_subs: dict[str, pd.Series],
    prev_neutralizers: dict[str, pd.DataFrame],
    prev_sample_weights: dict[str, pd.Series],
) -> tuple[float, float]:
    """Largest churn and turnover of the cleaned submission against earlier ones; ``(1.0, 1.0)``
    when nothing compares (no earlier submission, or too few common ids with each)."""
    ticker_col, signal_col, curr_sub = _clean_signal_submission(curr_sub, curr_sample_weight)
    weights = generate_neutralized_weights(
        curr_sub.to_frame(), curr_neutralizer, curr_sample_weight, center_and_normalize=True
    )[curr_sub.name]
    churns, turnovers = [], []
    for datestamp in prev_subs:
        _, _, prev_sub = _clean_signal_submission(
            prev_subs[datestamp],
            prev_sample_weights[datestamp],
            dst_id_col=ticker_col,
            dst_signal_col=signal_col,
        )
        prev_weights = generate_neutralized_weights(
            prev_sub.to_frame(),
            prev_neutralizers[datestamp],
            prev_sample_weights[datestamp],
            center_and_normalize=True,
        )[prev_sub.name]
        try:
            churn_value = abs(churn(curr_sub, prev_sub))
            turnover_value = abs(turnover(weights, prev_weights))
        except AlignmentError:  # too few common ids: skipped, as numerai-tools does
            continue
        churns.append(churn_value)
        turnovers.append(turnover_value)
    return (max(churns) if churns else 1.0, max(turnovers) if turnovers else 1.0)
