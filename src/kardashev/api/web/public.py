"""Public pages: the leaderboard, a page per model, a page per round, the downloads.

Only resolved rounds are public, as in the API: the leaderboard rows are the API's own
(:func:`kardashev.api.publication.leaderboard_rows`), and a model's public history is the service's
resolved results table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from kardashev.api.publication import leaderboard_rows, release_config
from kardashev.api.web.charts import SCORE_LABELS, bar_figure, figure_json, line_figure
from kardashev.api.web.forms import Visit, visit
from kardashev.api.web.render import PageRoute, page
from kardashev.errors import KardashevError, NotFoundError
from kardashev.tournament.domain import Model, RoundStatus
from kardashev.tournament.leaderboard import LeaderboardConfig
from kardashev.tournament.payout import payout_factor

__all__ = ["SCORES", "find_model", "meta_model_correlations", "model_history", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Visitor = Annotated[Visit, Depends(visit)]
SCORES = ("corr", "mmc", "tc", "fnc", "true_return")
WINDOWS = tuple(label for label, _ in LeaderboardConfig().windows)
_MAX_ROWS = 10_000


def find_model(visit: Visit, reference: str) -> Model:
    """A model by id (digits) or name; NotFoundError otherwise."""
    digits = reference.isascii() and reference.isdigit() and len(reference) <= 18
    try:
        return visit.context.service.get_model(int(reference) if digits else reference)
    except NotFoundError:
        raise NotFoundError(f"there is no model {reference!r}", code="model_not_found") from None


@router.get("/", response_class=HTMLResponse)
def leaderboard(
    request: Request,
    visit: Visitor,
    window: Annotated[str, Query(max_length=16)] = "round",
    sort: Annotated[str, Query(max_length=32)] = "rank",
) -> HTMLResponse:
    """CORR, MMC, TC, FNC and True Return of the latest resolved round or of a rolling window."""
    window = window if window in WINDOWS else "round"
    suffix = "" if window == "round" else f"_{window}"
    rows = leaderboard_rows(visit.context, limit=_MAX_ROWS, offset=0)
    present = [s for s in SCORES if any(f"{s}{suffix}" in row.values for row in rows)] or list(SCORES[:3])
    return_column = f"return{suffix}"
    columns = {"rank": "Rank", "stake": "Stake"}
    columns.update({f"{s}{suffix}": SCORE_LABELS[s] for s in present})
    columns[return_column] = "Return on stake"
    sort = sort if sort in columns else "rank"

    def key(row: object) -> tuple[int, float]:
        if sort == "rank":
            return (0, float(row.rank))  # type: ignore[attr-defined]
        if sort == "stake":
            return (0, -float(Decimal(row.stake)))  # type: ignore[attr-defined]
        value = row.values.get(sort)  # type: ignore[attr-defined]
        return (1, 0.0) if value is None else (0, -float(value))

    rows = sorted(rows, key=key)
    return page(
        request,
        "leaderboard.html",
        {
            "title": "Leaderboard",
            "rows": rows,
            "columns": columns,
            "score_columns": [f"{s}{suffix}" for s in present],
            "return_column": return_column,
            "sort": sort,
            "window": window,
            "windows": ["round", *WINDOWS],
        },
    )


def model_history(visit: Visit, model: Model, *, resolved_only: bool = True) -> pd.DataFrame:
    """The model's per-round results (latest scored day of each round), by round."""
    table = visit.context.service.results(resolved_only=resolved_only)
    if table.empty:
        return table
    return table[table["model"] == model.name].sort_values("round").reset_index(drop=True)


EXPOSURES = ("feature_exposure_max", "feature_exposure_rms")


def meta_model_correlations(visit: Visit, model: Model, history: pd.DataFrame) -> dict[int, float]:
    """Correlation of the model's submission with each resolved round's stake-weighted meta model (CWMM):
    the stored ``cwmm`` score when the operator's scorer records it, else computed from the stored
    submission and meta model by :func:`kardashev.scoring.correlation.correlation_with_meta_model`."""
    if history.empty:
        return {}
    if "cwmm" in history.columns:
        stored = history.set_index("round")["cwmm"].astype(float)
        return {int(k): float(v) for k, v in stored.items() if np.isfinite(v)}
    from kardashev.scoring.correlation import correlation_with_meta_model

    service = visit.context.service
    found: dict[int, float] = {}
    for number in history["round"].tolist()[-20:]:
        submissions = service.list_submissions(round_number=number, model=model.id)
        if not submissions or submissions[0].late:
            continue
        try:
            meta = service.meta_model(number)
            predictions = service.submission_predictions(submissions[0])
            common = predictions.index.intersection(meta.index)
            value = correlation_with_meta_model(
                predictions.reindex(common).to_numpy(np.float64), meta.reindex(common).to_numpy(np.float64)
            )
        except KardashevError:  # no meta model (nothing staked), or too few common ids
            continue
        found[int(number)] = float(value)
    return found


def _charts(history: pd.DataFrame, cwmm: dict[int, float]) -> list[dict[str, object]]:
    if history.empty:
        return []
    rounds = history["round"].tolist()
    scores = [s for s in SCORES if s in history.columns]
    per_round = {s: history[s].tolist() for s in scores}
    cumulative = {s: history[s].astype(float).fillna(0.0).cumsum().tolist() for s in scores}
    stake = (history["stake"].astype(float) / 1e6).tolist()
    payout = (history["payout"].astype(float) / 1e6).tolist()
    charts = [
        ("chart-per-round", line_figure(rounds, per_round, title="Scores per round")),
        ("chart-cumulative", line_figure(rounds, cumulative, title="Cumulative scores")),
        ("chart-stake", bar_figure(rounds, {"stake": stake, "payout": payout}, title="Stake and payout")),
    ]
    if cwmm:
        charts.append(
            (
                "chart-cwmm",
                line_figure(list(cwmm), {"cwmm": list(cwmm.values())}, title="Corr with meta model"),
            )
        )
    exposures = {name: history[name].tolist() for name in EXPOSURES if name in history.columns}
    if exposures:
        charts.append(("chart-exposure", bar_figure(rounds, exposures, title="Feature exposure")))
    return [{"id": name, "json": figure_json(figure)} for name, figure in charts]


@router.get("/models/{reference}", response_class=HTMLResponse)
def model_page(
    request: Request, visit: Visitor, reference: Annotated[str, Path(min_length=1, max_length=64)]
) -> HTMLResponse:
    """A model's public page: resolved rounds only."""
    model = find_model(visit, reference)
    service = visit.context.service
    history = model_history(visit, model)
    cwmm = meta_model_correlations(visit, model, history)
    grade = next((g for g in service.grades().models if g.model == model.name), None)
    own = visit.session is not None and visit.session.principal.account_id == model.account_id
    return page(
        request,
        "model.html",
        {
            "title": model.name,
            "model": model,
            "history": history.to_dict("records") if not history.empty else [],
            "scores": [s for s in SCORES if not history.empty and s in history.columns],
            "exposures": [e for e in EXPOSURES if not history.empty and e in history.columns],
            "labels": SCORE_LABELS,
            "charts": _charts(history, cwmm),
            "cwmm": cwmm,
            "grade": grade,
            "stake": service.stake(model.id).total,
            "own": own,
        },
    )


@router.get("/rounds", response_class=HTMLResponse)
def rounds_page(request: Request, visit: Visitor) -> HTMLResponse:
    """Every round, newest first: the calendar."""
    rounds = sorted(visit.context.service.list_rounds(), key=lambda r: r.number, reverse=True)
    return page(request, "rounds.html", {"title": "Rounds", "rounds": rounds, "now": visit.context.now()})


@router.get("/rounds/{number}", response_class=HTMLResponse)
def round_page(
    request: Request, visit: Visitor, number: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    """A round: status, timeline, submissions, payout factor, totals paid and burned."""
    service = visit.context.service
    round_ = service.get_round(number)
    submissions = service.list_submissions(round_number=number)
    snapshots = service.stake_snapshots(round_number=number)
    payouts = service.payouts(round_number=number)
    total_stake = sum(s.stake for s in snapshots if s.stake > 0)
    factor = None
    if round_.status is not RoundStatus.OPEN and total_stake > 0:
        factor = payout_factor(total_stake, service.payout.payout_threshold)
    results = []
    if round_.status is RoundStatus.RESOLVED:
        table = service.results(resolved_only=True)
        if not table.empty:
            results = table[table["round"] == number].to_dict("records")
    models = {m.id: m for m in service.list_models()}
    names = {m.name: m.id for m in models.values()}
    timeline = [  # (step, scheduled, done at)
        ("Opens", round_.open_time, None),
        ("Closes: stakes frozen, meta model built", round_.close_time, round_.closed_at),
        ("Late submissions close", round_.late_close_time, None),
        (f"Scored daily ({round_.days_scored} of {round_.horizon_days} days so far)", None, None),
        ("Resolves: payouts and burns", round_.resolve_time, round_.resolved_at),
    ]
    return page(
        request,
        "round.html",
        {
            "title": f"Round {round_.number}",
            "round": round_,
            "timeline": timeline,
            "n_on_time": sum(1 for s in submissions if not s.late),
            "n_late": sum(1 for s in submissions if s.late),
            "total_stake": total_stake,
            "factor": factor,
            "paid": sum(p.amount for p in payouts if p.amount > 0),
            "burned": -sum(p.amount for p in payouts if p.amount < 0),
            "results": sorted(results, key=lambda r: str(r["model"])),
            "scores": [s for s in SCORES if results and s in results[0]],
            "labels": SCORE_LABELS,
            "model_ids": names,
        },
    )


@router.get("/downloads", response_class=HTMLResponse)
def downloads(request: Request, visit: Visitor) -> HTMLResponse:
    """Per round: its live universe (the ids to predict) and, once released, its lagged naive meta model."""
    service = visit.context.service
    config = release_config(visit.context)
    entries = []
    for round_ in sorted(service.list_rounds(), key=lambda r: r.number, reverse=True):
        decision = service.release_decision(round_.number, config=config)
        released = decision.releasable and round_.naive_meta_model_sha256 is not None
        entries.append({"round": round_, "released": released, "reason": decision.reason})
    return page(request, "downloads.html", {"title": "Downloads", "entries": entries})
