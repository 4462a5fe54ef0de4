"""What the API publishes without a key: the leaderboard and the lagged naive meta model.

Both rules are the tournament's (:mod:`kardashev.tournament.leaderboard`,
:mod:`kardashev.tournament.release`); this module only gathers their inputs from the service. Only
*resolved* rounds feed the leaderboard, so nobody sees another model's scores while its round still runs.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.api import schemas
from kardashev.api.context import ApiContext
from kardashev.api.convert import tokens
from kardashev.errors import StateError
from kardashev.tournament.domain import RoundStatus
from kardashev.tournament.leaderboard import compute_leaderboard
from kardashev.tournament.release import ReleaseConfig, prepare_release, release_decision

__all__ = ["leaderboard_rows", "release_config", "released_meta_model", "resolved_results"]


def release_config(context: ApiContext) -> ReleaseConfig:
    settings = context.settings
    return ReleaseConfig(
        lag_rounds=settings.meta_model_lag_rounds,
        min_contributors=settings.meta_model_min_models,
        min_accounts=settings.meta_model_min_accounts,
    )


def resolved_results(context: ApiContext) -> pd.DataFrame:
    """Tidy table of resolved rounds: ``model``, ``round``, final scores, ``stake``, ``payout`` (units)."""
    service = context.service
    rows: list[dict[str, object]] = []
    for round_ in service.list_rounds():
        if round_.status is not RoundStatus.RESOLVED:
            continue
        by_model: dict[int, dict[str, object]] = {}
        for score in service.scores(round_number=round_.number, day=round_.horizon_days):
            by_model.setdefault(score.model_id, {})[score.metric] = score.value
        for snapshot in service.stake_snapshots(round_number=round_.number):
            by_model.setdefault(snapshot.model_id, {})["stake"] = float(snapshot.stake)
        for payout in service.payouts(round_number=round_.number):
            by_model.setdefault(payout.model_id, {})["payout"] = float(payout.amount)
        for model_id, values in by_model.items():
            rows.append({"model": model_id, "round": round_.number, **values})
    return pd.DataFrame(rows)


def _float_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def leaderboard_rows(context: ApiContext, *, limit: int, offset: int) -> list[schemas.LeaderboardRow]:
    """Ranked models (see :func:`kardashev.tournament.leaderboard.compute_leaderboard`)."""
    table = resolved_results(context)
    if table.empty:
        return []
    if "stake" in table.columns:
        table["stake"] = table["stake"].fillna(0.0)
        table["payout"] = table.get("payout", pd.Series(0.0, index=table.index)).fillna(0.0)
    board = compute_leaderboard(table)
    page = board.iloc[offset : offset + limit]
    rows = []
    for model_id, record in page.iterrows():
        model = context.service.get_model(int(model_id))
        values = {
            str(column): _float_or_none(value)
            for column, value in record.items()
            if column not in ("rank", "stake")
        }
        current_stake = context.service.stake(model.id).total
        rows.append(
            schemas.LeaderboardRow(
                model=model.name,
                model_id=model.id,
                rank=int(record["rank"]),
                stake=tokens(current_stake),
                values=values,
            )
        )
    return rows


def released_meta_model(context: ApiContext, number: int) -> bytes:
    """Parquet bytes (``id``, ``naive_meta_model``: rounded ranks) of a round's released naive meta model."""
    service = context.service
    round_ = service.get_round(number)
    latest = max(r.number for r in service.list_rounds())
    closed = round_.status is not RoundStatus.OPEN and round_.naive_meta_model_sha256 is not None
    config = release_config(context)
    n_accounts = None
    if config.min_accounts is not None:
        on_time = [s for s in service.list_submissions(round_number=number) if not s.late]
        n_accounts = len({service.get_model(s.model_id).account_id for s in on_time})
    decision = release_decision(
        round_number=round_.number,
        latest_round=latest,
        closed=closed,
        n_contributors=round_.n_contributors,
        n_accounts=n_accounts,
        config=config,
    )
    if not decision.releasable:
        raise StateError(
            f"the naive meta model of round {number} is not released: {decision.reason}",
            code="meta_model_not_released",
        )
    series = prepare_release(service.meta_model(number, naive=True), decision=decision, config=config)
    table = pa.table(
        {
            "id": pa.array([str(i) for i in series.index], type=pa.string()),
            "naive_meta_model": pa.array(series.to_numpy(dtype=np.float64)),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
