"""What the API publishes without a key: the leaderboard, the lagged naive meta model and FUND.toml.

Both are the tournament service's views (:meth:`TournamentService.leaderboard`,
:meth:`TournamentService.released_meta_model`), so the API, the CLI and the demo show the same thing;
this module only shapes them for HTTP. Only *resolved* rounds feed the leaderboard, so nobody sees another
model's scores while its round still runs. :func:`fund_config` is what a participant needs to estimate their
TC at home (``kardashev tc``): the optimizer configuration the service scores TC with and the release rule.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.api import schemas
from kardashev.api.context import ApiContext
from kardashev.api.convert import tokens
from kardashev.contribution.fund_config import FundConfig, ReleaseSpec
from kardashev.portfolio import OptimizerConfig
from kardashev.tournament.release import ReleaseConfig

__all__ = ["fund_config", "leaderboard_rows", "release_config", "released_meta_model"]


def release_config(context: ApiContext) -> ReleaseConfig:
    """The release rule configured in the settings."""
    settings = context.settings
    return ReleaseConfig(
        lag_rounds=settings.meta_model_lag_rounds,
        min_contributors=settings.meta_model_min_models,
        min_accounts=settings.meta_model_min_accounts,
    )


def fund_config(context: ApiContext) -> FundConfig:
    """The fund's published configuration (FUND.toml): the optimizer the service computes TC with, and
    how the naive meta model is released (ranks, after the configured lag, from enough contributors).

    The risk table keeps its defaults (the exposures are every column of the risk file the operator
    publishes next to the data); the stake share is a placeholder the participant sets.
    """
    optimizer = getattr(context.service.scorer, "optimizer_config", None) or OptimizerConfig()
    rule = release_config(context)
    return FundConfig(
        optimizer=optimizer,
        release=ReleaseSpec(
            kind="naive", lag=rule.lag_rounds, min_contributors=rule.min_contributors, form="rank"
        ),
    )


def _float_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def leaderboard_rows(context: ApiContext, *, limit: int, offset: int) -> list[schemas.LeaderboardRow]:
    """One page of the ranked leaderboard; ``stake`` is each model's current stake in tokens."""
    board = context.service.leaderboard()
    page = board.iloc[offset : offset + limit]
    rows = []
    for name, record in page.iterrows():
        model = context.service.get_model(str(name))
        values = {
            str(column): _float_or_none(value)
            for column, value in record.items()
            if column not in ("rank", "stake")
        }
        rows.append(
            schemas.LeaderboardRow(
                model=model.name,
                model_id=model.id,
                rank=int(record["rank"]),
                stake=tokens(context.service.stake(model.id).total),
                values=values,
            )
        )
    return rows


def released_meta_model(context: ApiContext, number: int) -> bytes:
    """Parquet bytes (``id``, ``naive_meta_model``: rounded ranks) of a round's released naive meta model;
    StateError (``not_releasable``) while the release rule does not allow it."""
    series = context.service.released_meta_model(number, config=release_config(context))
    table = pa.table(
        {
            "id": pa.array([str(i) for i in series.index], type=pa.string()),
            "naive_meta_model": pa.array(series.to_numpy(dtype=np.float64)),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
