"""The payout rule, as configuration, in exact integer units.

For every model of a resolved round::

    payout_factor = min(1, payout_threshold / total_at_risk)
    fraction      = clip(payout_factor · Σ_i multiplier_i · score_i, −cap, +cap)
    payout        = stake_at_risk · fraction            (> 0 minted, < 0 burned)

Stakes and payouts are integers in ledger units (:data:`UNITS_PER_TOKEN` units per token).

Rounding (documented and deterministic): the fraction is first rounded to the nearest multiple
of ``1e-12`` (:data:`FRACTION_SCALE`; so a decimal fraction such as ``0.03`` that binary floating
point holds as ``0.0299999…`` is exactly ``0.03``), then ``stake · fraction`` is computed exactly
with integers and truncated toward zero. So no payout or burn exceeds the rule's value by even
a fraction of a unit (the fund never pays a fraction of a unit it does not have), and
``|payout| ≤ stake · cap`` always holds.

Missing scores: a model whose score is NaN for any score with a non-zero multiplier is *not
scored*: its payout is 0 — no payout and no burn — and ``scored`` is False for it.

Signals churn rule (optional :class:`ChurnRule`): a model whose largest churn against its last
``lookback`` submissions is ≥ ``max_churn``, or whose largest portfolio turnover is ≥
``max_turnover``, has a stake at risk of 0 for the round (it neither earns nor burns). Churn and
turnover are numerai-tools' (:func:`kardashev.scoring.frames.churn` / ``turnover``), via
:func:`max_churn_and_turnover`: with nothing to compare with they are 1.0, as in numerai-tools.
With ``neutral_churn_threshold`` set, a positive payout fraction is also multiplied by
:func:`kardashev.scoring.neutral_churn_penalty` of the model's mean neutral churn
(:func:`kardashev.scoring.frames.calculate_mean_neutral_churn`; NaN counts as 1.0); burns are not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import AlignmentError, ConfigError, InvalidInputError
from kardashev.scoring import neutral_churn_penalty
from kardashev.scoring import turnover as core_turnover
from kardashev.scoring.frames import churn
from kardashev.scoring.registry import payable_scores
from kardashev.tournament.domain import UNITS_PER_TOKEN

__all__ = [
    "FRACTION_SCALE",
    "PAYOUT_SCORES",
    "UNITS_PER_TOKEN",
    "ChurnRule",
    "PayoutConfig",
    "PayoutResult",
    "combined_score",
    "compute_payouts",
    "max_churn_and_turnover",
    "payout_factor",
]

PAYOUT_SCORES = payable_scores()
"""Score names a payout rule may use (case-insensitive in configurations): the registry's payable ones."""

FRACTION_SCALE = 10**12
"""Payout fractions are rounded to the nearest multiple of ``1 / FRACTION_SCALE``."""

_DEFAULT_MULTIPLIERS = MappingProxyType({"corr": 0.5, "mmc": 2.0})


@dataclass(frozen=True)
class ChurnRule:
    """Signals churn rule: stake at risk 0 when a model churns or turns over too much.

    Parameters
    ----------
    max_churn
        A largest churn (1 − Spearman) against the last ``lookback`` submissions at or above
        this value sets the stake at risk to 0.
    max_turnover
        Same for the largest turnover (Σ|w₁ − w₂| / 2) of the signal's portfolio weights.
    lookback
        How many previous submissions of the model are compared.
    neutral_churn_threshold, neutral_churn_scaling_factor
        When the threshold is set, positive payouts keep ``neutral_churn_penalty(c, threshold,
        scaling_factor)`` of themselves, ``c`` the model's mean neutral churn (Numerai: 0.1, 10).
    """

    max_churn: float = 0.15
    max_turnover: float = 0.25
    lookback: int = 5
    neutral_churn_threshold: float | None = None
    neutral_churn_scaling_factor: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_churn) and 0.0 < self.max_churn <= 2.0):
            raise ConfigError(f"max_churn must be in (0, 2], got {self.max_churn}")
        if not (math.isfinite(self.max_turnover) and self.max_turnover > 0.0):
            raise ConfigError(f"max_turnover must be positive, got {self.max_turnover}")
        if self.lookback < 1:
            raise ConfigError(f"lookback must be at least 1, got {self.lookback}")
        threshold, scaling = self.neutral_churn_threshold, self.neutral_churn_scaling_factor
        if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 2.0):
            raise ConfigError(f"neutral_churn_threshold must be in [0, 2], got {threshold}")
        if not (math.isfinite(scaling) and scaling > 0.0):
            raise ConfigError(f"neutral_churn_scaling_factor must be positive, got {scaling}")


@dataclass(frozen=True)
class PayoutConfig:
    """The payout rule (keyword-only fields; frozen).

    Parameters
    ----------
    score_multipliers
        Score name → multiplier, names from :data:`PAYOUT_SCORES` (case-insensitive). The default
        is the current Classic form ``0.5·CORR + 2·MMC``; e.g. ``{"corr": 0.5, "tc": 2.0}`` pays
        on True Contribution.
    cap
        Largest fraction of the stake paid or burned per round (``0.05``).
    payout_threshold
        Total stake at risk (units) above which payouts scale down:
        ``payout_factor = min(1, payout_threshold / total_at_risk)``; ``None`` keeps factor 1.
    churn_rule
        Optional Signals churn rule.
    """

    score_multipliers: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_MULTIPLIERS))
    cap: float = 0.05
    payout_threshold: int | None = None
    churn_rule: ChurnRule | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.score_multipliers, Mapping) or not self.score_multipliers:
            raise ConfigError("score_multipliers must be a non-empty mapping of score name to multiplier")
        multipliers: dict[str, float] = {}
        for name, value in self.score_multipliers.items():
            key = str(name).strip().lower()
            if key not in PAYOUT_SCORES:
                raise ConfigError(
                    f"unknown payout score {name!r}; expected one of {', '.join(PAYOUT_SCORES)}"
                )
            if key in multipliers:
                raise ConfigError(f"payout score {key!r} is given twice")
            try:
                multiplier = float(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"multiplier of {key!r} is not a number: {value!r}") from exc
            if not math.isfinite(multiplier):
                raise ConfigError(f"multiplier of {key!r} must be finite, got {value!r}")
            multipliers[key] = multiplier
        object.__setattr__(self, "score_multipliers", MappingProxyType(multipliers))
        if not (math.isfinite(self.cap) and 0.0 < self.cap <= 1.0):
            raise ConfigError(f"cap must be in (0, 1], got {self.cap}")
        if self.payout_threshold is not None:
            if isinstance(self.payout_threshold, bool) or int(self.payout_threshold) != self.payout_threshold:
                raise ConfigError(f"payout_threshold is in integer units, got {self.payout_threshold!r}")
            if self.payout_threshold <= 0:
                raise ConfigError(f"payout_threshold must be positive, got {self.payout_threshold}")
            object.__setattr__(self, "payout_threshold", int(self.payout_threshold))

    def __hash__(self) -> int:
        return hash(
            (tuple(sorted(self.score_multipliers.items())), self.cap, self.payout_threshold, self.churn_rule)
        )

    @property
    def scores_used(self) -> tuple[str, ...]:
        """Names of the scores with a non-zero multiplier."""
        return tuple(name for name, value in self.score_multipliers.items() if value != 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (for storing the rule a round was resolved with)."""
        rule = self.churn_rule
        return {
            "score_multipliers": dict(self.score_multipliers),
            "cap": self.cap,
            "payout_threshold": self.payout_threshold,
            "churn_rule": None if rule is None else asdict(rule),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PayoutConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError`."""
        unknown = set(data) - {"score_multipliers", "cap", "payout_threshold", "churn_rule"}
        if unknown:
            raise ConfigError(f"unknown payout configuration keys: {', '.join(sorted(unknown))}")
        rule = data.get("churn_rule")
        kwargs = {key: data[key] for key in ("score_multipliers", "cap", "payout_threshold") if key in data}
        return cls(**kwargs, churn_rule=None if rule is None else ChurnRule(**rule))


@dataclass(frozen=True, eq=False)
class PayoutResult:
    """Payouts of one round, one entry per model (arrays of shape ``(n_models,)``).

    Attributes
    ----------
    stakes
        Stakes as given (units).
    stakes_at_risk
        Stakes the rule applied to: 0 where the churn rule was broken.
    combined_score
        ``Σ multiplier · score`` (NaN where not scored).
    payout_fraction
        ``clip(payout_factor · combined_score, −cap, cap)`` rounded to the ``1e-12`` grid;
        0 where not scored.
    payouts
        Signed integer units: > 0 minted to the model, < 0 burned from its stake.
    scored
        False where a score the rule uses is missing (no payout, no burn).
    churn_violation
        True where the churn rule set the stake at risk to 0.
    payout_factor
        ``min(1, payout_threshold / total_at_risk)``.
    total_at_risk
        Total stake at risk used for the payout factor (units).
    """

    stakes: NDArray[np.int64]
    stakes_at_risk: NDArray[np.int64]
    combined_score: NDArray[np.float64]
    payout_fraction: NDArray[np.float64]
    payouts: NDArray[np.int64]
    scored: NDArray[np.bool_]
    churn_violation: NDArray[np.bool_]
    payout_factor: float
    total_at_risk: int

    @property
    def total_minted(self) -> int:
        """Units paid out (sum of positive payouts)."""
        return int(self.payouts[self.payouts > 0].sum())

    @property
    def total_burned(self) -> int:
        """Units burned, as a positive number (sum of negative payouts, negated)."""
        return int(-self.payouts[self.payouts < 0].sum())

    def to_frame(self, models: Sequence[object] | None = None) -> pd.DataFrame:
        """One row per model (indexed by ``models`` when given)."""
        index = pd.Index(list(models), name="model") if models is not None else None
        return pd.DataFrame(
            {
                "stake": self.stakes,
                "stake_at_risk": self.stakes_at_risk,
                "combined_score": self.combined_score,
                "payout_fraction": self.payout_fraction,
                "payout": self.payouts,
                "scored": self.scored,
                "churn_violation": self.churn_violation,
            },
            index=index,
        )


def payout_factor(total_at_risk: int, payout_threshold: int | None) -> float:
    """``min(1, payout_threshold / total_at_risk)``; 1 without a threshold or with nothing at risk."""
    if total_at_risk < 0:
        raise InvalidInputError(f"total stake at risk cannot be negative, got {total_at_risk}")
    if payout_threshold is None or total_at_risk <= payout_threshold:
        return 1.0
    return payout_threshold / total_at_risk


def _integer_units(values: ArrayLike, what: str) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(f"{what} must be a 1-D array (n_models,), got shape {array.shape}")
    if array.dtype.kind in "iu" or (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.trunc(array))
    ):
        units = array.astype(np.int64)
    elif array.size == 0:
        units = np.zeros(0, dtype=np.int64)
    else:
        raise InvalidInputError(
            f"{what} must be integer units (UNITS_PER_TOKEN = {UNITS_PER_TOKEN} per token)"
        )
    if np.any(units < 0):
        bad = np.flatnonzero(units < 0)[:5].tolist()
        raise InvalidInputError(f"{what} cannot be negative (models at positions {bad})")
    return units


def combined_score(
    scores: Mapping[str, ArrayLike] | pd.DataFrame, *, config: PayoutConfig, n_models: int | None = None
) -> NDArray[np.float64]:
    """``Σ_i multiplier_i · score_i`` per model; NaN when any score the rule uses is NaN.

    Parameters
    ----------
    scores
        Score name → ``(n_models,)`` values, or a DataFrame with one column per score (names are
        case-insensitive). Scores with a zero multiplier may be absent.
    config
        The payout rule.
    n_models
        Expected number of models (checked when given).
    """
    columns: dict[str, str] = {}
    for name in scores:
        key = str(name).strip().lower()
        if key in columns:
            raise InvalidInputError(f"score {key!r} is given twice ({columns[key]!r} and {name!r})")
        columns[key] = name
    total: NDArray[np.float64] | None = None
    for name in config.scores_used:
        if name not in columns:
            raise InvalidInputError(
                f"the payout rule uses {name!r} but the scores given are "
                f"{', '.join(map(str, columns)) or 'none'}"
            )
        values = np.asarray(scores[columns[name]], dtype=np.float64)
        if values.ndim != 1 or (n_models is not None and values.shape[0] != n_models):
            raise InvalidInputError(f"score {name!r} must have shape ({n_models},), got {values.shape}")
        term = config.score_multipliers[name] * values
        if total is not None and total.shape != term.shape:
            raise InvalidInputError(f"score {name!r} has {term.shape[0]} models, others {total.shape[0]}")
        total = term if total is None else total + term
    if total is None:  # every multiplier is zero: nobody earns or burns, but everyone is scored.
        if n_models is None:
            raise InvalidInputError("every payout multiplier is zero and n_models is not given")
        total = np.zeros(n_models)
    return total


def compute_payouts(
    stakes: ArrayLike,
    scores: Mapping[str, ArrayLike] | pd.DataFrame,
    *,
    config: PayoutConfig,
    total_at_risk: int | None = None,
    max_churn: ArrayLike | None = None,
    max_turnover: ArrayLike | None = None,
    neutral_churn: ArrayLike | None = None,
) -> PayoutResult:
    """Payouts (minted > 0, burned < 0) of one round, in integer units, vectorized over models.

    Parameters
    ----------
    stakes
        ``(n_models,)`` stakes of the round in integer units (≥ 0).
    scores
        Score name → ``(n_models,)`` resolved scores (see :func:`combined_score`).
    config
        The payout rule.
    total_at_risk
        Total stake at risk in the round for the payout factor; default: the sum of the stakes at
        risk after the churn rule.
    max_churn, max_turnover
        ``(n_models,)`` largest churn / turnover against recent submissions (NaN: no history).
        Used only when ``config.churn_rule`` is set.
    neutral_churn
        ``(n_models,)`` mean neutral churn (NaN: nothing compared, counts as 1.0); used only when
        the churn rule has a ``neutral_churn_threshold``.

    Returns
    -------
    PayoutResult
    """
    stake_units = _integer_units(stakes, "stakes")
    n_models = stake_units.shape[0]
    combined = combined_score(scores, config=config, n_models=n_models)
    violation = np.zeros(n_models, dtype=bool)
    rule = config.churn_rule
    if rule is not None:
        for values, limit in ((max_churn, rule.max_churn), (max_turnover, rule.max_turnover)):
            if values is None:
                continue
            measured = np.asarray(values, dtype=np.float64)
            if measured.shape != (n_models,):
                raise InvalidInputError(
                    f"churn / turnover must have shape ({n_models},), got {measured.shape}"
                )
            with np.errstate(invalid="ignore"):
                violation |= measured >= limit
    at_risk = np.where(violation, 0, stake_units).astype(np.int64)
    total = int(at_risk.sum(dtype=object)) if total_at_risk is None else int(total_at_risk)
    factor = payout_factor(total, config.payout_threshold)

    scored = np.isfinite(combined)
    raw = np.clip(factor * np.where(scored, combined, 0.0), -config.cap, config.cap)
    if rule is not None and rule.neutral_churn_threshold is not None and neutral_churn is not None:
        churns = np.nan_to_num(np.asarray(neutral_churn, dtype=np.float64), nan=1.0)
        if churns.shape != (n_models,):
            raise InvalidInputError(f"neutral_churn must have shape ({n_models},), got {churns.shape}")
        kept = neutral_churn_penalty(churns, rule.neutral_churn_threshold, rule.neutral_churn_scaling_factor)
        raw = np.where(raw > 0, raw * kept, raw)
    scaled = np.rint(raw * FRACTION_SCALE)  # |scaled| ≤ 1e12 < 2**53: exact integers in float64
    fraction = scaled / FRACTION_SCALE
    # Exact integer product with Python ints (object arrays), truncated toward zero.
    product = at_risk.astype(object) * scaled.astype(np.int64).astype(object)
    magnitude = np.abs(product) // FRACTION_SCALE
    payouts = (np.sign(scaled).astype(np.int64).astype(object) * magnitude).astype(np.int64)

    def frozen(array: NDArray) -> NDArray:
        array = np.ascontiguousarray(array)
        array.setflags(write=False)
        return array

    return PayoutResult(
        stakes=frozen(stake_units),
        stakes_at_risk=frozen(at_risk),
        combined_score=frozen(np.where(scored, combined, np.nan)),
        payout_fraction=frozen(fraction),
        payouts=frozen(payouts),
        scored=frozen(scored),
        churn_violation=frozen(violation),
        payout_factor=factor,
        total_at_risk=total,
    )


def max_churn_and_turnover(
    current: pd.Series,
    previous: Sequence[pd.Series],
    *,
    rule: ChurnRule,
    current_weights: pd.Series | None = None,
    previous_weights: Sequence[pd.Series] | None = None,
) -> tuple[float, float]:
    """Largest churn and turnover of a model against its last ``rule.lookback`` submissions.

    Parameters
    ----------
    current
        This round's signal, indexed by ticker.
    previous
        Earlier signals of the same model, most recent first; only the first ``rule.lookback``
        are used. Churn is numerai-tools' ``1 − Spearman`` on the tickers both signals cover; a pair
        sharing under 80% of either's tickers, or with a constant side, is skipped.
    current_weights, previous_weights
        Portfolio weights implied by the signals (same order as ``previous``), for turnover
        (:func:`kardashev.scoring.turnover`, ``Σ|w₁ − w₂| / 2`` over the union of tickers, absent
        positions being 0); without them the turnover is NaN (not evaluated).

    Returns
    -------
    (max_churn, max_turnover)
        1.0 where nothing could be compared (numerai-tools' value for a first submission).
    """
    churns = [
        value
        for earlier in list(previous)[: rule.lookback]
        if not math.isnan(value := _try(current, earlier))
    ]
    if current_weights is None or previous_weights is None:
        return (max(churns, default=1.0), math.nan)
    turnovers = [
        float(core_turnover(*_on_all_ids(current_weights, earlier)))
        for earlier in list(previous_weights)[: rule.lookback]
    ]
    return (max(churns, default=1.0), max(turnovers, default=1.0))


def _on_all_ids(first: pd.Series, second: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two portfolios on the union of their ids, absent positions being 0 (they were traded out)."""
    union = first.index.union(second.index)
    return (
        first.reindex(union).fillna(0.0).to_numpy(dtype=np.float64),
        second.reindex(union).fillna(0.0).to_numpy(dtype=np.float64),
    )


def _try(first: pd.Series, second: pd.Series) -> float:
    try:
        return abs(float(churn(first, second)))
    except (AlignmentError, InvalidInputError):  # too few common tickers, or a constant side
        return math.nan
