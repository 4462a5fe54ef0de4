"""What the API publishes without a key: the leaderboard and the lagged naive meta model.

Only *resolved* rounds feed the leaderboard, so nobody sees another model's scores while its round is
still running. A round's naive meta model is released only when at least ``meta_model_lag_rounds`` newer
rounds exist and at least ``meta_model_min_models`` models contributed to it (so no single signal can be
recovered from the average).
"""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.api import schemas
from kardashev.api.context import ApiContext
from kardashev.api.convert import finite_or_none, tokens
from kardashev.errors import StateError
from kardashev.tournament.domain import RoundStatus

__all__ = ["LEADERBOARD_METRICS", "ROLLING_ROUNDS", "leaderboard_rows", "released_meta_model"]

LEADERBOARD_METRICS = ("corr", "mmc", "tc", "fnc")
ROLLING_ROUNDS = 20


def leaderboard_rows(context: ApiContext, *, limit: int, offset: int) -> list[schemas.LeaderboardRow]:
    """Models ranked by their mean return on stake over the last resolved rounds (then by mean CORR).

    ``values`` holds, per metric, the final score of the latest resolved round (``corr``, ``mmc`` …)
    and its mean over up to :data:`ROLLING_ROUNDS` resolved rounds (``corr_rolling`` …), plus
    ``return_on_stake`` (mean payout fraction of staked rounds) and ``n_rounds``.
    """
    service = context.service
    resolved = {r.number: r for r in service.list_rounds() if r.status is RoundStatus.RESOLVED}
    if not resolved:
        return []
    finals: dict[int, dict[int, dict[str, float]]] = defaultdict(dict)  # model -> round -> metric -> value
    for number, round_ in resolved.items():
        for score in service.scores(round_number=number, day=round_.horizon_days):
            finals[score.model_id].setdefault(number, {})[score.metric] = score.value
    fractions: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for number in resolved:
        for payout in service.payouts(round_number=number):
            fractions[payout.model_id].append((number, payout.payout_fraction))
    rows = []
    for model_id, by_round in finals.items():
        recent = sorted(by_round, reverse=True)[:ROLLING_ROUNDS]
        values: dict[str, float | None] = {"n_rounds": float(len(by_round))}
        for metric in LEADERBOARD_METRICS:
            series = np.array([by_round[n].get(metric, np.nan) for n in recent], dtype=np.float64)
            values[metric] = finite_or_none(series[0]) if series.size else None
            finite = series[np.isfinite(series)]
            values[f"{metric}_rolling"] = float(finite.mean()) if finite.size else None
        staked = [f for n, f in sorted(fractions.get(model_id, []), reverse=True)[:ROLLING_ROUNDS]]
        values["return_on_stake"] = finite_or_none(float(np.mean(staked))) if staked else None
        rows.append((model_id, values))

    def rank_key(item: tuple[int, dict[str, float | None]]) -> tuple[float, float, int]:
        model_id, values = item
        ros = values["return_on_stake"]
        corr = values["corr_rolling"]
        return (-(ros if ros is not None else -np.inf), -(corr if corr is not None else -np.inf), model_id)

    rows.sort(key=rank_key)
    page = rows[offset : offset + limit]
    result = []
    for position, (model_id, values) in enumerate(page, start=offset + 1):
        model = service.get_model(model_id)
        result.append(
            schemas.LeaderboardRow(
                model=model.name,
                model_id=model.id,
                rank=position,
                stake=tokens(service.stake(model.id).total),
                values=values,
            )
        )
    return result


def released_meta_model(context: ApiContext, number: int) -> bytes:
    """Parquet bytes (``id``, ``meta_model``) of round ``number``'s naive meta model, if released."""
    service = context.service
    round_ = service.get_round(number)
    settings = context.settings
    newest = max(r.number for r in service.list_rounds())
    if round_.status is RoundStatus.OPEN or round_.naive_meta_model_sha256 is None:
        raise StateError(f"round {number} has no meta model yet", code="meta_model_not_released")
    if newest - round_.number < settings.meta_model_lag_rounds:
        raise StateError(
            f"the meta model of round {number} is released once {settings.meta_model_lag_rounds} "
            f"newer rounds exist (newest is {newest})",
            code="meta_model_not_released",
        )
    if round_.n_contributors < settings.meta_model_min_models:
        raise StateError(
            f"the meta model of round {number} is not released: {round_.n_contributors} models contributed, "
            f"fewer than the minimum of {settings.meta_model_min_models}",
            code="meta_model_not_released",
        )
    series = service.meta_model(number, naive=True)
    table = pa.table(
        {
            "id": pa.array([str(i) for i in series.index], type=pa.string()),
            "meta_model": pa.array(series.to_numpy(dtype=np.float64)),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
