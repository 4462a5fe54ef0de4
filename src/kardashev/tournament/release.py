"""When the *naive* meta model of a round may be published, and in what form.

The naive meta model (the equal-weighted blend of a round's submissions) is useful to
participants (to measure their own originality), but published too early or built from too few
models it would leak the signals in it. The rule:

* **lag** — a round's naive meta model is released only once ``lag_rounds`` newer rounds exist
  (``latest_round − round_number ≥ lag_rounds``) and the round is closed (its set of contributors
  can no longer change);
* **crowd** — at least ``min_contributors`` models contributed (at least 2, so no single signal
  is the meta model), and, when ``min_accounts`` is set, at least that many distinct accounts
  (several models of one owner do not count as a crowd: knowing all but one signal of a mean
  reveals the last one);
* **form** — what is released is the tie-kept rank of the meta model in ``(0, 1)``, rounded to
  ``decimals`` places: the ordering users need, not the raw blend scale.

The defaults (lag 4, at least 100 contributors) come from ``bench/release_study.py`` (docs/tc-at-home.md):
an attacker owning one model, knowing the features and the released history, recovers another model's
signal best by differencing the releases around the round it joins; four rounds later that recovered
signal still correlates 0.33 with the victim's at 10 contributors, 0.22 at 20, 0.12 at 50 and 0.075 at
100 (naive release, 8 seeds × 52 rounds). 100 is the smallest crowd tried that keeps it under 0.1. The
lag costs TC at home nothing (a round's TC needs its realized returns, which take about as long) and
lowers what a recovered signal is worth (0.44 → 0.33 at 10 contributors from lag 0 to lag 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from kardashev.errors import ConfigError, InvalidInputError, StateError
from kardashev.scoring import tie_kept_rank

__all__ = [
    "ReleaseConfig",
    "ReleaseDecision",
    "prepare_release",
    "releasable_rounds",
    "release_decision",
]


@dataclass(frozen=True)
class ReleaseConfig:
    """Release rule of the naive meta model (frozen).

    Parameters
    ----------
    lag_rounds
        How many newer rounds must exist before a round's naive meta model is released (default 4).
    min_contributors
        Least number of models in the meta model (≥ 2; default 100, see the module docstring).
    min_accounts
        Least number of distinct accounts behind those models; ``None`` does not check accounts.
    decimals
        Released ranks are rounded to this many decimal places; ``None`` keeps full precision.
    """

    lag_rounds: int = 4
    min_contributors: int = 100
    min_accounts: int | None = None
    decimals: int | None = 4

    def __post_init__(self) -> None:
        if self.lag_rounds < 0:
            raise ConfigError(f"lag_rounds cannot be negative, got {self.lag_rounds}")
        if self.min_contributors < 2:
            raise ConfigError(
                f"min_contributors must be at least 2 (one model's meta model is its signal), "
                f"got {self.min_contributors}"
            )
        if self.min_accounts is not None and self.min_accounts < 2:
            raise ConfigError(f"min_accounts must be at least 2 or None, got {self.min_accounts}")
        if self.decimals is not None and not 1 <= self.decimals <= 15:
            raise ConfigError(f"decimals must be in 1..15 or None, got {self.decimals}")


@dataclass(frozen=True)
class ReleaseDecision:
    """Whether a round's naive meta model may be released now, and why (not).

    Attributes
    ----------
    round_number
        The round asked about.
    releasable
        True when every condition holds.
    reason
        ``"released"`` or what blocks it, in words.
    release_round
        The latest round number from which the lag condition holds (``round_number + lag_rounds``).
    n_contributors, n_accounts
        The crowd behind the meta model (``n_accounts`` may be None).
    """

    round_number: int
    releasable: bool
    reason: str
    release_round: int
    n_contributors: int
    n_accounts: int | None = None


def release_decision(
    *,
    round_number: int,
    latest_round: int,
    closed: bool,
    n_contributors: int,
    n_accounts: int | None = None,
    config: ReleaseConfig | None = None,
) -> ReleaseDecision:
    """Decide whether round ``round_number``'s naive meta model may be released.

    Parameters
    ----------
    round_number
        The round whose meta model would be released.
    latest_round
        The newest round number that exists now.
    closed
        Whether the round is closed (or resolved).
    n_contributors
        Number of models blended into its naive meta model.
    n_accounts
        Number of distinct accounts owning those models (required when ``config.min_accounts``).
    config
        The release rule.
    """
    config = config or ReleaseConfig()
    if n_contributors < 0 or (n_accounts is not None and n_accounts < 0):
        raise InvalidInputError("contributor and account counts cannot be negative")
    if n_accounts is not None and n_accounts > n_contributors:
        raise InvalidInputError(f"{n_accounts} accounts cannot own only {n_contributors} contributing models")
    if latest_round < round_number:
        raise InvalidInputError(f"round {round_number} is newer than the latest round {latest_round}")
    release_round = round_number + config.lag_rounds
    blockers: list[str] = []
    if not closed:
        blockers.append(f"round {round_number} is not closed")
    if latest_round < release_round:
        blockers.append(f"released from round {release_round} on (lag of {config.lag_rounds} rounds)")
    if n_contributors < config.min_contributors:
        blockers.append(f"{n_contributors} contributing models, at least {config.min_contributors} needed")
    if config.min_accounts is not None:
        if n_accounts is None:
            raise InvalidInputError("the release rule counts accounts: pass n_accounts")
        if n_accounts < config.min_accounts:
            blockers.append(f"{n_accounts} contributing accounts, at least {config.min_accounts} needed")
    return ReleaseDecision(
        round_number=round_number,
        releasable=not blockers,
        reason="released" if not blockers else "; ".join(blockers),
        release_round=release_round,
        n_contributors=n_contributors,
        n_accounts=n_accounts,
    )


def releasable_rounds(
    rounds: pd.DataFrame, *, latest_round: int, config: ReleaseConfig | None = None
) -> pd.DataFrame:
    """Apply :func:`release_decision` to a table of rounds.

    Parameters
    ----------
    rounds
        Columns ``round`` and ``n_contributors``, optionally ``n_accounts`` and ``closed``
        (missing ``closed`` means every round listed is closed).
    latest_round
        The newest round number that exists now.

    Returns
    -------
    DataFrame
        ``round``, ``releasable``, ``reason``, ``release_round``, one row per input row.
    """
    missing = {"round", "n_contributors"} - set(rounds.columns)
    if missing:
        raise InvalidInputError(f"rounds table lacks columns {', '.join(sorted(missing))}")
    rows = []
    for record in rounds.to_dict("records"):
        accounts = record.get("n_accounts")
        decision = release_decision(
            round_number=int(record["round"]),
            latest_round=latest_round,
            closed=bool(record.get("closed", True)),
            n_contributors=int(record["n_contributors"]),
            n_accounts=None if accounts is None or pd.isna(accounts) else int(accounts),
            config=config,
        )
        rows.append(
            {
                "round": decision.round_number,
                "releasable": decision.releasable,
                "reason": decision.reason,
                "release_round": decision.release_round,
            }
        )
    return pd.DataFrame(rows, columns=["round", "releasable", "reason", "release_round"])


def prepare_release(
    meta_model: pd.Series | ArrayLike, *, decision: ReleaseDecision, config: ReleaseConfig | None = None
) -> pd.Series:
    """The publishable form of a naive meta model: rounded tie-kept ranks in ``(0, 1)``.

    Parameters
    ----------
    meta_model
        ``(n_stocks,)`` naive meta model, a Series indexed by id (or an array).
    decision
        A positive :func:`release_decision` for this round.
    config
        The release rule (for ``decimals``).

    Raises
    ------
    StateError
        When the decision does not allow the release (code ``not_releasable``).
    """
    config = config or ReleaseConfig()
    if not decision.releasable:
        raise StateError(
            f"the naive meta model of round {decision.round_number} cannot be released: {decision.reason}",
            code="not_releasable",
        )
    series = meta_model if isinstance(meta_model, pd.Series) else pd.Series(np.asarray(meta_model))
    values = series.to_numpy(dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise InvalidInputError("the meta model must be a non-empty 1-D series")
    ranks = tie_kept_rank(values)
    if config.decimals is not None:
        ranks = np.round(ranks, config.decimals)
    return pd.Series(ranks, index=series.index, name="naive_meta_model")
