"""The demo's leaderboard: the engine's resolved rounds through the tournament's leaderboard, with grades.

The tidy per-model per-round table (final-day CORR, MMC, TC, FNC from the engine, stake and payout from
the ledger, and True Return — each model's own portfolio after costs, from the in-memory validation fund
on the same era) goes through :func:`kardashev.tournament.leaderboard.compute_leaderboard`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.tournament.domain import UNITS_PER_TOKEN
from kardashev.tournament.leaderboard import LeaderboardConfig, compute_leaderboard

__all__ = ["leaderboard_frame", "season_table"]


def season_table(season: object, *, true_return: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy table of the season's resolved rounds: model, round, scores, stake and payout (tokens)."""
    service = season.service  # type: ignore[attr-defined]
    names: tuple[str, ...] = season.names  # type: ignore[attr-defined]
    tag: str = season.run_tag  # type: ignore[attr-defined]
    first_round: int = season.first_round  # type: ignore[attr-defined]
    by_id = {season.model_ids[name]: name.removeprefix(tag) for name in names}  # type: ignore[attr-defined]
    rows: dict[tuple[str, int], dict[str, float]] = {}
    for round_ in service.list_rounds():
        if round_.status.value != "resolved" or round_.number < first_round:
            continue
        for score in service.scores(round_number=round_.number, day=round_.horizon_days):
            if score.model_id in by_id:
                rows.setdefault((by_id[score.model_id], round_.number), {})[score.metric] = score.value
        for payout in service.payouts(round_number=round_.number):
            if payout.model_id in by_id:
                row = rows.setdefault((by_id[payout.model_id], round_.number), {})
                row["stake"] = payout.stake / UNITS_PER_TOKEN
                row["payout"] = payout.amount / UNITS_PER_TOKEN
    if true_return is not None:
        position = {name.removeprefix(tag): k for k, name in enumerate(names)}
        for (model, number), row in rows.items():
            era = number - first_round
            if 0 <= era < true_return.shape[0]:
                row["true_return"] = float(true_return[era, position[model]])
    table = pd.DataFrame([{"model": model, "round": number, **row} for (model, number), row in rows.items()])
    return table if not table.empty else pd.DataFrame(columns=["model", "round"])


def leaderboard_frame(
    season: object,
    *,
    archetypes: tuple[str, ...],
    model_names: tuple[str, ...],
    grades: pd.DataFrame | None = None,
    true_return: np.ndarray | None = None,
    window: int = 4,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per model, ranked by mean TC over the season (best first).

    Columns: rank, model, archetype, the latest and rolling scores of the tournament leaderboard, the
    stake at the end of the season (tokens, free + at risk), the return on stake and the grade.
    ``table`` is :func:`season_table`'s (computed here when not given).
    """
    if table is None:
        table = season_table(season, true_return=true_return)
    label = f"{window}r"
    sort_by = "tc_season" if "tc" in table.columns else None
    n_rounds = max(window, int(table["round"].nunique()) if len(table) else 1)
    board = compute_leaderboard(
        table, config=LeaderboardConfig(windows=((label, window), ("season", n_rounds)), sort_by=sort_by)
    )
    board = board.reindex(pd.Index(model_names, name="model"))
    board["archetype"] = archetypes
    board["stake now"] = season.stakes()  # type: ignore[attr-defined]
    if grades is not None and "grade" in grades.columns:
        board["grade"] = grades.set_index("model")["grade"].reindex(board.index)
    board = board.sort_values("rank", na_position="last").reset_index()
    keep = ["rank", "model", "archetype"]
    keep += [c for c in board.columns if c not in keep and not c.startswith("n_rounds") and c != "last_round"]
    return board[keep]
