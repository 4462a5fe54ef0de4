"""Stake dynamics: how a crowd of stakers moves its stake toward the models it is paid on.

Every round, a share of the total stake is reallocated toward the models with the best *recent* scores
(TC, CORR or MMC, whichever the fund pays on), by a softmax of their cross-sectionally standardized
rolling mean. Summed over rounds this acts like a step of gradient ascent on the fund's objective when
the score is TC (the gradient of the fund's realized return with respect to each stake), which is what
the demo's comparison of payout rules measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kardashev.errors import ConfigError, InvalidInputError

__all__ = ["StakeDynamics", "apply_payouts", "reallocate_stakes", "recent_mean_scores"]

_RULES = ("softmax", "proportional")


@dataclass(frozen=True)
class StakeDynamics:
    """How stakers react to scores.

    Attributes
    ----------
    fraction
        Share of the total stake moved each round (0 disables the dynamics).
    temperature
        Softmax temperature on standardized recent scores; lower concentrates stake faster.
    window
        Number of most recent resolved rounds averaged into the "recent score".
    rule
        ``"softmax"`` (weights ∝ exp(z/temperature)) or ``"proportional"`` (weights ∝ max(z, 0)).
    """

    fraction: float = 0.1
    temperature: float = 1.0
    window: int = 8
    rule: str = "softmax"

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ConfigError(f"stake dynamics fraction must lie in [0, 1], got {self.fraction}")
        if not self.temperature > 0:
            raise ConfigError(f"stake dynamics temperature must be > 0, got {self.temperature}")
        if self.window < 1:
            raise ConfigError(f"stake dynamics window must be >= 1, got {self.window}")
        if self.rule not in _RULES:
            raise ConfigError(f"unknown stake dynamics rule {self.rule!r}; use one of {_RULES}")


def recent_mean_scores(history: np.ndarray, *, window: int) -> np.ndarray:
    """Per-model mean of the last ``window`` rows of a ``(n_rounds, n_models)`` score history.

    NaN entries (a round a model did not take part in) are ignored; a model with no finite score in the
    window gets NaN.
    """
    history = np.asarray(history, dtype=float)
    if history.ndim != 2:
        raise InvalidInputError(f"score history must be 2-D (n_rounds, n_models), got shape {history.shape}")
    recent = history[-window:]
    finite = np.isfinite(recent)
    counts = finite.sum(axis=0)
    sums = np.where(finite, recent, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def reallocate_stakes(stakes: np.ndarray, recent_scores: np.ndarray, dynamics: StakeDynamics) -> np.ndarray:
    """Move ``dynamics.fraction`` of the total stake toward models with high recent scores.

    ``new = (1 − f)·s + f·(Σs)·π`` with ``π = softmax(z / T)`` where ``z`` is the cross-sectional z-score
    of the recent scores (models without a score get ``z = 0``, the average). The total stake is
    preserved exactly and no stake becomes negative. With no finite score at all, stakes are unchanged.

    Parameters
    ----------
    stakes
        ``(n_models,)`` current stakes, ≥ 0.
    recent_scores
        ``(n_models,)`` recent mean score per model (NaN allowed).
    """
    stakes = np.asarray(stakes, dtype=float)
    scores = np.asarray(recent_scores, dtype=float)
    if stakes.ndim != 1 or scores.shape != stakes.shape:
        raise InvalidInputError(
            f"stakes and recent scores must be 1-D of the same length, got {stakes.shape} and {scores.shape}"
        )
    if np.any(~np.isfinite(stakes)) or np.any(stakes < 0):
        raise InvalidInputError("stakes must be finite and non-negative")
    finite = np.isfinite(scores)
    total = float(stakes.sum())
    if dynamics.fraction == 0 or total <= 0 or finite.sum() < 2:
        return stakes.copy()
    spread = scores[finite].std()
    z = np.zeros_like(scores)
    if spread > 0:
        z[finite] = (scores[finite] - scores[finite].mean()) / spread
    if dynamics.rule == "softmax":
        logits = z / dynamics.temperature
        weights = np.exp(logits - logits.max())
    else:
        weights = np.maximum(z, 0.0)
    if weights.sum() <= 0:
        return stakes.copy()
    target = total * weights / weights.sum()
    return (1.0 - dynamics.fraction) * stakes + dynamics.fraction * target


def apply_payouts(
    stakes: np.ndarray, scores: np.ndarray, *, multiplier: float = 1.0, cap: float = 0.05
) -> np.ndarray:
    """Stakes after one round's payout: ``s · (1 + clip(multiplier · score, −cap, cap))``.

    A NaN score (model did not take part) pays nothing. This is the fast, in-memory form used for the
    payout-rule comparison; the tournament engine's ledger applies the configured rule with integer units.
    """
    stakes = np.asarray(stakes, dtype=float)
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    return stakes * (1.0 + np.clip(multiplier * scores, -cap, cap))
