"""Leaderboard: per model the latest and rolling scores, stake and returns on stake.

Input is a tidy table of resolved per-model per-round results::

    model  round  corr   mmc    tc     fnc   true_return  stake   payout
    "a"    101    0.02   0.004  0.01   ...   ...          1e9     2.1e7

Score columns are optional (any of :attr:`LeaderboardConfig.scores` that is present is used);
``stake`` and ``payout`` (same unit, e.g. ledger units) give returns on stake.

Rolling windows are counted in *tournament rounds*, not in the model's own submissions: the
``"20r"`` window of a table whose latest round is 120 covers rounds 101…120, so a model that
stopped submitting sees its window empty out instead of keeping stale numbers. A window mean is
the mean of the model's scores in those rounds (rounds without a score are skipped) and is NaN
with fewer than ``min_rounds`` scores. The return on stake of a round is ``payout / stake``;
over a window they compound: ``Π(1 + payout_r / stake_r) − 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kardashev.errors import ConfigError, InvalidInputError

__all__ = ["LEADERBOARD_SCORES", "LeaderboardConfig", "compute_leaderboard", "rolling_scores"]

LEADERBOARD_SCORES = ("corr", "mmc", "tc", "fnc", "true_return")
"""Scores shown by default, in this order."""


@dataclass(frozen=True)
class LeaderboardConfig:
    """What the leaderboard shows (frozen).

    Parameters
    ----------
    scores
        Score columns to summarise (those absent from the table are skipped).
    windows
        ``(label, n_rounds)`` rolling windows, e.g. ``(("20r", 20), ("1y", 52))`` for weekly rounds.
    min_rounds
        Least number of scored rounds in a window for its mean to be shown (else NaN).
    sort_by
        Column to rank by (descending, NaN last); ``None`` ranks by the first window's return on
        stake when stakes and payouts are known, else by the first score's first window.
    """

    scores: tuple[str, ...] = LEADERBOARD_SCORES
    windows: tuple[tuple[str, int], ...] = (("20r", 20), ("1y", 52))
    min_rounds: int = 1
    sort_by: str | None = None

    def __post_init__(self) -> None:
        if not self.scores:
            raise ConfigError("a leaderboard needs at least one score")
        labels = [label for label, _ in self.windows]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"window labels must be unique, got {labels}")
        for label, n_rounds in self.windows:
            if not str(label) or int(n_rounds) < 1:
                raise ConfigError(f"window {label!r} must have a label and at least 1 round, got {n_rounds}")
        if self.min_rounds < 1:
            raise ConfigError(f"min_rounds must be at least 1, got {self.min_rounds}")


def _check_table(scores: pd.DataFrame) -> pd.DataFrame:
    missing = {"model", "round"} - set(scores.columns)
    if missing:
        raise InvalidInputError(f"the scores table lacks columns {', '.join(sorted(missing))}")
    if scores["round"].isna().any():
        raise InvalidInputError("the scores table has rows without a round")
    rounds = pd.to_numeric(scores["round"], errors="coerce")
    if rounds.isna().any() or (rounds != np.round(rounds)).any():
        raise InvalidInputError("round numbers must be integers")
    table = scores.assign(round=rounds.astype(np.int64))
    duplicated = table.duplicated(["model", "round"])
    if duplicated.any():
        examples = table.loc[duplicated, ["model", "round"]].head(3).to_records(index=False).tolist()
        raise InvalidInputError(f"{int(duplicated.sum())} (model, round) pairs appear twice, e.g. {examples}")
    return table


def _grid(table: pd.DataFrame, column: str, rounds: pd.Index) -> pd.DataFrame:
    """``(n_rounds, n_models)`` matrix of one column, every round in ``rounds`` present."""
    values = pd.to_numeric(table[column], errors="coerce").astype(np.float64)
    wide = table.assign(_value=values).pivot(index="round", columns="model", values="_value")
    return wide.reindex(rounds)


def rolling_scores(scores: pd.DataFrame, *, score: str, window: int, min_rounds: int = 1) -> pd.DataFrame:
    """Rolling mean of one score per model over the last ``window`` tournament rounds.

    Returns
    -------
    DataFrame
        Index: every round from the first to the last in the table; columns: models.
    """
    table = _check_table(scores)
    if score not in table.columns:
        raise InvalidInputError(f"the scores table has no {score!r} column")
    if window < 1 or min_rounds < 1:
        raise InvalidInputError("window and min_rounds must be at least 1")
    rounds = pd.RangeIndex(int(table["round"].min()), int(table["round"].max()) + 1, name="round")
    return _grid(table, score, rounds).rolling(window, min_periods=min_rounds).mean()


def compute_leaderboard(
    scores: pd.DataFrame, *, config: LeaderboardConfig | None = None, latest_round: int | None = None
) -> pd.DataFrame:
    """Per model the latest and rolling scores, stake and returns on stake.

    Parameters
    ----------
    scores
        Tidy per-model per-round table (see the module docstring).
    config
        What to show.
    latest_round
        The round the windows end at; default: the latest round in the table.

    Returns
    -------
    DataFrame
        Indexed by model, sorted by rank. Columns: ``rank``, ``last_round``, then per score
        ``<score>`` (at the model's latest round) and ``<score>_<label>`` per window, the
        ``n_rounds_<label>`` scored per window, and when known ``stake`` (latest), ``return``
        (latest round) and ``return_<label>`` (compounded over the window).
    """
    config = config or LeaderboardConfig()
    table = _check_table(scores)
    present = [name for name in config.scores if name in table.columns]
    if table.empty:
        return pd.DataFrame(columns=["rank", "last_round"], index=pd.Index([], name="model"))
    last = int(table["round"].max()) if latest_round is None else int(latest_round)
    longest = max((int(n) for _, n in config.windows), default=1)
    first = min(int(table["round"].min()), last - longest + 1)
    rounds = pd.RangeIndex(first, last + 1, name="round")
    table = table[table["round"] <= last]
    models = pd.Index(pd.unique(table["model"]), name="model")

    latest_rows = table.sort_values("round").groupby("model", sort=False).tail(1).set_index("model")
    board = pd.DataFrame(index=models)
    board["last_round"] = latest_rows["round"].reindex(models)
    columns: dict[str, pd.Series] = {}
    for name in present:
        columns[name] = pd.to_numeric(latest_rows[name], errors="coerce").reindex(models)
        grid = _grid(table, name, rounds).reindex(columns=models)
        for label, n_rounds in config.windows:
            tail = grid.iloc[-int(n_rounds) :]
            mean = tail.mean(skipna=True)
            columns[f"{name}_{label}"] = mean.where(tail.count() >= config.min_rounds)
    has_row = table.assign(_one=1.0).pivot(index="round", columns="model", values="_one").reindex(rounds)
    for label, n_rounds in config.windows:
        columns[f"n_rounds_{label}"] = has_row.reindex(columns=models).iloc[-int(n_rounds) :].count()
    if {"stake", "payout"} <= set(table.columns):
        stake_grid = _grid(table, "stake", rounds).reindex(columns=models)
        payout_grid = _grid(table, "payout", rounds).reindex(columns=models)
        returns = (payout_grid / stake_grid.where(stake_grid > 0)).astype(np.float64)
        columns["stake"] = pd.to_numeric(latest_rows["stake"], errors="coerce").reindex(models)
        columns["return"] = _latest_return(latest_rows, models)
        for label, n_rounds in config.windows:
            tail = returns.iloc[-int(n_rounds) :]
            compounded = (1.0 + tail).prod(skipna=True) - 1.0
            columns[f"return_{label}"] = compounded.where(tail.count() > 0)
    elif "stake" in table.columns:
        columns["stake"] = pd.to_numeric(latest_rows["stake"], errors="coerce").reindex(models)
    board = pd.concat([board, pd.DataFrame(columns, index=models)], axis=1)

    sort_by = config.sort_by
    if sort_by is None:
        first_label = config.windows[0][0] if config.windows else None
        candidates = [
            f"return_{first_label}",
            f"{present[0]}_{first_label}" if present else None,
            "last_round",
        ]
        sort_by = next(column for column in candidates if column is not None and column in board.columns)
    if sort_by not in board.columns:
        raise ConfigError(f"cannot sort the leaderboard by {sort_by!r}; columns are {list(board.columns)}")
    board = board.sort_values(sort_by, ascending=False, na_position="last", kind="stable")
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    return board


def _latest_return(latest_rows: pd.DataFrame, models: pd.Index) -> pd.Series:
    stake = pd.to_numeric(latest_rows["stake"], errors="coerce")
    payout = pd.to_numeric(latest_rows["payout"], errors="coerce")
    return (payout / stake.where(stake > 0)).astype(np.float64).reindex(models)
