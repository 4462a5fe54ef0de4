"""Leaderboard: latest values, rolling windows over tournament rounds, returns on stake — by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.tournament.leaderboard import LeaderboardConfig, compute_leaderboard, rolling_scores

CONFIG = LeaderboardConfig(scores=("corr", "tc"), windows=(("3r", 3), ("all", 6)))


def season() -> pd.DataFrame:
    rows = []
    for r in range(1, 7):  # "a" submits every round and earns 1 % more each round
        rows.append(
            {"model": "a", "round": r, "corr": r / 100, "tc": 0.0, "stake": 100.0, "payout": float(r)}
        )
    for r, corr, payout in ((1, 0.1, -5.0), (2, 0.2, 0.0), (3, 0.3, 5.0)):  # "b" stops after round 3
        rows.append({"model": "b", "round": r, "corr": corr, "tc": 0.1, "stake": 50.0, "payout": payout})
    for r, corr, stake, payout in ((2, 0.0, 10.0, 1.0), (4, np.nan, 10.0, -1.0), (6, 0.1, 0.0, 0.0)):
        rows.append({"model": "c", "round": r, "corr": corr, "tc": -0.2, "stake": stake, "payout": payout})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # row order must not matter


def test_latest_and_rolling_means_by_hand():
    board = compute_leaderboard(season(), config=CONFIG)
    a, b, c = board.loc["a"], board.loc["b"], board.loc["c"]
    assert a["corr"] == pytest.approx(0.06) and a["corr_3r"] == pytest.approx(0.05)
    assert a["corr_all"] == pytest.approx(0.035) and a["n_rounds_3r"] == 3
    # "b" stopped: its latest value is from round 3 and its 3-round window (rounds 4–6) is empty.
    assert b["last_round"] == 3 and b["corr"] == pytest.approx(0.3)
    assert np.isnan(b["corr_3r"]) and b["n_rounds_3r"] == 0 and b["corr_all"] == pytest.approx(0.2)
    # "c": the NaN score of round 4 is skipped, the round still counts as submitted.
    assert c["corr"] == pytest.approx(0.1) and c["corr_3r"] == pytest.approx(0.1)
    assert c["n_rounds_3r"] == 2 and c["corr_all"] == pytest.approx(0.05)
    assert c["tc_all"] == pytest.approx(-0.2)


def test_returns_on_stake_compound_and_rank():
    board = compute_leaderboard(season(), config=CONFIG)
    assert board.loc["a", "stake"] == 100.0 and board.loc["a", "return"] == pytest.approx(0.06)
    assert board.loc["a", "return_3r"] == pytest.approx(1.04 * 1.05 * 1.06 - 1)
    assert np.isnan(board.loc["b", "return_3r"])
    assert board.loc["b", "return_all"] == pytest.approx(0.9 * 1.0 * 1.1 - 1)
    # Round 6 of "c" has no stake: no return that round; round 4 lost 10 %.
    assert np.isnan(board.loc["c", "return"]) and board.loc["c", "return_3r"] == pytest.approx(-0.1)
    # Default ranking: first window's return, NaN last.
    assert board.index.tolist() == ["a", "c", "b"] and board["rank"].tolist() == [1, 2, 3]


def test_min_rounds_sort_by_and_latest_round():
    strict = LeaderboardConfig(scores=("corr",), windows=(("3r", 3),), min_rounds=2, sort_by="corr_3r")
    board = compute_leaderboard(season(), config=strict)
    assert np.isnan(board.loc["c", "corr_3r"]) and board.loc["a", "corr_3r"] == pytest.approx(0.05)
    assert board.index[0] == "a"
    # Windows can end at an earlier round: rounds 1–3.
    early = compute_leaderboard(season(), config=CONFIG, latest_round=3)
    assert early.loc["a", "corr_3r"] == pytest.approx(0.02) and early.loc["b", "corr_3r"] == pytest.approx(
        0.2
    )
    assert early.loc["a", "last_round"] == 3
    with pytest.raises(ConfigError, match="sort"):
        compute_leaderboard(season(), config=LeaderboardConfig(sort_by="sharpe"))


def test_scores_only_and_empty_tables():
    scores_only = season().drop(columns=["stake", "payout"])
    board = compute_leaderboard(scores_only, config=CONFIG)
    # Without payouts the default ranking is the first score's first window: c 0.1, a 0.05, b NaN.
    assert "return" not in board.columns and board.index.tolist() == ["c", "a", "b"]
    empty = compute_leaderboard(season().iloc[:0], config=CONFIG)
    assert empty.empty


def test_rolling_scores_grid():
    grid = rolling_scores(season(), score="corr", window=2)
    assert grid.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert grid.loc[2, "a"] == pytest.approx(0.015) and grid.loc[1, "a"] == pytest.approx(0.01)
    assert grid.loc[5, "c"] != grid.loc[5, "c"]  # rounds 4 (NaN) and 5 (absent): nothing to average
    assert grid.loc[6, "c"] == pytest.approx(0.1)


def test_bad_tables_and_configs():
    with pytest.raises(InvalidInputError, match="round"):
        compute_leaderboard(pd.DataFrame({"model": ["a"], "corr": [0.1]}))
    duplicated = pd.concat([season(), season().head(1)])
    with pytest.raises(InvalidInputError, match="twice"):
        compute_leaderboard(duplicated)
    with pytest.raises(InvalidInputError, match="integers"):
        compute_leaderboard(pd.DataFrame({"model": ["a"], "round": [1.5], "corr": [0.1]}))
    with pytest.raises(InvalidInputError, match="'mmc'"):
        rolling_scores(season(), score="mmc", window=3)
    for bad in (
        {"scores": ()},
        {"windows": (("x", 0),)},
        {"windows": (("x", 2), ("x", 3))},
        {"min_rounds": 0},
    ):
        with pytest.raises(ConfigError):
            LeaderboardConfig(**bad)


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(min_value=1, max_value=12),
            st.one_of(st.none(), st.floats(min_value=-1, max_value=1)),
        ),
        min_size=1,
        max_size=25,
        unique_by=lambda cell: (cell[0], cell[1]),
    ),
    window=st.integers(min_value=1, max_value=6),
)
def test_window_means_match_a_plain_loop(cells, window):
    table = pd.DataFrame([{"model": m, "round": r, "corr": np.nan if v is None else v} for m, r, v in cells])
    config = LeaderboardConfig(scores=("corr",), windows=(("w", window),), sort_by="last_round")
    board = compute_leaderboard(table, config=config)
    latest = max(r for _, r, _ in cells)
    for model in board.index:
        inside = [v for m, r, v in cells if m == model and r > latest - window and v is not None]
        expected = sum(inside) / len(inside) if inside else np.nan
        assert board.loc[model, "corr_w"] == pytest.approx(expected, nan_ok=True)
        rounds = [r for m, r, _ in cells if m == model]
        assert board.loc[model, "n_rounds_w"] == sum(r > latest - window for r in rounds)
        assert board.loc[model, "last_round"] == max(rounds)
