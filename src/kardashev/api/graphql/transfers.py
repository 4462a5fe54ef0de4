"""Uploads and downloads through signed URLs on the Kardashev server itself.

Upload: ``…UploadAuth`` (scope upload, the caller's model) records a slot and answers
``{filename: "TOKEN/NAME", url: "/graphql/uploads/TOKEN?expires=…&signature=…"}``; numerapi ``PUT``s the file
there (the body-size limit and :func:`kardashev.api.uploads.read_body` apply); ``create_submission`` /
``createDiagnostics`` then takes the file once and hands its bytes to exactly what the REST routes call:
:meth:`TournamentService.submit` (the tournament rules, rule codes and storage) or
:func:`kardashev.api.diagnostics.run_diagnostics`. Errors of the file come back from the mutation, as
GraphQL errors numerapi raises.

Download: ``dataset`` and ``submissionDownloadAuth`` answer a signed, expiring URL under ``/graphql/files``.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.api.diagnostics import run_diagnostics
from kardashev.api.graphql import types as t
from kardashev.api.graphql.access import GraphQLContext, kind_of
from kardashev.api.graphql.diagnostics_types import Diagnostics, EraDiagnostics
from kardashev.api.publication import released_meta_model
from kardashev.api.uploads import UploadedFile
from kardashev.errors import InvalidInputError, NotFoundError
from kardashev.tournament.domain import RoundKind, RoundStatus, Submission
from kardashev.tournament.tables import decode_ids

__all__ = [
    "create_diagnostics",
    "create_submission",
    "dataset_bytes",
    "dataset_names",
    "dataset_url",
    "diagnostics_view",
    "submission_csv",
    "submission_download",
    "upload_auth",
]

UPLOAD_PATH = "/graphql/uploads/"
DATASET_PATH = "/graphql/files/datasets/"
SUBMISSION_PATH = "/graphql/files/submissions/"
SIGNALS_LIVE = "signals/v1.0/live.parquet"
_SCOPE = {"submission": "upload", "diagnostics": "upload"}


def _clean_filename(filename: str | None) -> str:
    name = os.path.basename(str(filename or "predictions.csv").replace("\\", "/"))[:128]
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "predictions.csv"


def upload_auth(
    ctx: GraphQLContext,
    purpose: str,
    filename: str | None,
    tournament: int,
    model_id: str | None,
    minutes: int,
) -> t.UploadAuth:
    principal = ctx.principal(_SCOPE[purpose])
    model = ctx.own_model(principal, model_id)
    now = ctx.now()
    staged = ctx.staging.issue(
        purpose=purpose,
        account_id=principal.account_id,
        model_id=model.id,
        tournament=tournament,
        filename=_clean_filename(filename),
        now=now,
        expires=now + dt.timedelta(minutes=minutes),
    )
    return t.UploadAuth(
        filename=f"{staged.token}/{staged.filename}",
        url=ctx.url(UPLOAD_PATH + staged.token, minutes=minutes),
    )


def _take(ctx: GraphQLContext, purpose: str, filename: str | None, model_id: str | None):
    principal = ctx.principal(_SCOPE[purpose])
    token, _, _ = str(filename or "").partition("/")
    staged, data = ctx.staging.take(token, purpose=purpose, account_id=principal.account_id, now=ctx.now())
    if model_id:
        model = ctx.own_model(principal, model_id)
        if model.id != staged.model_id:
            raise InvalidInputError("this upload was issued for another model", code="upload_model_mismatch")
    return staged, data


def _open_round(ctx: GraphQLContext, kind: RoundKind) -> int:
    now = ctx.now()
    open_now = [
        r
        for r in ctx.rounds().values()
        if r.kind is kind and r.status is RoundStatus.OPEN and r.open_time <= now < r.close_time
    ]
    if not open_now:
        raise NotFoundError(f"no {kind.value} round is open for submissions now", code="no_open_round")
    return max(r.number for r in open_now)


def _datestamp(value: int | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(str(int(value)), "%Y%m%d").date()
    except ValueError:
        raise InvalidInputError(
            f"dataDatestamp must be YYYYMMDD, got {value!r}", code="invalid_date"
        ) from None


def create_submission(
    ctx: GraphQLContext,
    filename: str | None,
    model_id: str | None,
    tournament: int,
    data_datestamp: int | None,
) -> tuple[Submission, dt.datetime]:
    """Submit the staged file to the open round of ``tournament`` (the REST upload's service call)."""
    staged, data = _take(ctx, "submission", filename, model_id)
    kind = kind_of(staged.tournament)
    if kind is not kind_of(tournament):
        raise InvalidInputError("this upload was issued for another tournament", code="upload_model_mismatch")
    number = _open_round(ctx, kind)
    submission = ctx.service.submit(
        staged.model_id,
        number,
        data,
        now=ctx.now(),
        filename=staged.filename,
        expected_date=_datestamp(data_datestamp),
    )
    return submission, ctx.rounds()[number].close_time


def create_diagnostics(ctx: GraphQLContext, filename: str | None, model_id: str | None) -> str:
    """Run diagnostics of the staged file (as ``POST /v1/models/{model}/diagnostics``); keep the result."""
    staged, data = _take(ctx, "diagnostics", filename, model_id)
    if kind_of(staged.tournament) is not RoundKind.CLASSIC:
        raise InvalidInputError("diagnostics are available for Classic only", code="unsupported_tournament")
    upload = UploadedFile(
        data=data, file_format="parquet" if data[:4] == b"PAR1" else "csv", filename=staged.filename
    )
    result = run_diagnostics(ctx.api, upload)
    return ctx.diagnostics.save(staged.model_id, result.model_dump(mode="json"), now=ctx.now())


def diagnostics_view(record: dict) -> Diagnostics:  # type: ignore[valid-type]
    """numerapi's diagnostics keys from a stored run (``kardashev.api.schemas.DiagnosticsOut``)."""
    result = record["result"]
    metrics = result["metrics"]
    return Diagnostics(
        id=record["id"],
        status="done",
        updated_at=dt.datetime.fromisoformat(record["updated_at"]),
        eras_accepted_count=result["n_eras"],
        per_era_diagnostics=[
            EraDiagnostics(
                era=str(row["era"]),
                validation_corr=row.get("corr"),
                validation_feature_neutral_corr=row.get("fnc"),
                validation_feature_corr_max=row.get("max_feature_exposure"),
            )
            for row in result["per_era"]
        ],
        validation_corr_mean=metrics.get("corr_mean"),
        validation_corr_std=metrics.get("corr_std"),
        validation_corr_sharpe=metrics.get("corr_sharpe"),
        validation_max_drawdown=metrics.get("corr_max_drawdown"),
        validation_corr_max_drawdown=metrics.get("corr_max_drawdown"),
        validation_feature_neutral_corr_mean=metrics.get("fnc_mean"),
        validation_feature_corr_max=metrics.get("max_feature_exposure_mean"),
    )


# ---------------------------------------------------------------- downloads
def _meta_model_names(ctx: GraphQLContext, kind: RoundKind) -> dict[str, int]:
    """``meta_model_N.parquet`` (``signals/…`` for Signals) of every round whose release rule allows it."""
    from kardashev.api.publication import release_config

    prefix = "signals/" if kind is RoundKind.SIGNALS else ""
    names = {}
    for round_ in ctx.rounds().values():
        closed = round_.status is not RoundStatus.OPEN and round_.naive_meta_model_sha256 is not None
        if (
            round_.kind is kind
            and closed
            and ctx.service.release_decision(round_.number, config=release_config(ctx.api)).releasable
        ):
            names[f"{prefix}meta_model_{round_.number}.parquet"] = round_.number
    return names


def _live_signals_round(ctx: GraphQLContext) -> int | None:
    try:
        return _open_round(ctx, RoundKind.SIGNALS)
    except NotFoundError:
        return None


def dataset_names(ctx: GraphQLContext, kind: RoundKind) -> list[str]:
    """Published files, the released meta models and, for Signals, the open round's ticker universe."""
    names = set(ctx.datasets.list(signals=kind is RoundKind.SIGNALS))
    names |= set(_meta_model_names(ctx, kind))
    if kind is RoundKind.SIGNALS and _live_signals_round(ctx) is not None:
        names.add(SIGNALS_LIVE)
    return sorted(names)


def dataset_url(ctx: GraphQLContext, name: str, kind: RoundKind, *, minutes: int) -> str:
    ctx.datasets.check_name(name)
    if name not in dataset_names(ctx, kind):
        raise NotFoundError(f"no dataset {name!r} in this tournament", code="dataset_not_found")
    return ctx.url(DATASET_PATH + name, minutes=minutes)


def dataset_bytes(ctx: GraphQLContext, name: str) -> bytes | None:
    """The bytes of a generated dataset (meta model, Signals live universe); None for a published file."""
    if ctx.datasets.path(name) is not None:
        return None
    kind = RoundKind.SIGNALS if name.startswith("signals/") else RoundKind.CLASSIC
    number = _meta_model_names(ctx, kind).get(name)
    if number is not None:
        return released_meta_model(ctx.api, number)
    if name == SIGNALS_LIVE:
        number = _live_signals_round(ctx)
        if number is not None:
            with ctx.api.unit_of_work(read_only=True) as repo:
                tickers = [str(i) for i in decode_ids(repo.get_blob(repo.get_round(number).universe_sha256))]
            sink = io.BytesIO()
            pq.write_table(pa.table({"numerai_ticker": pa.array(tickers, type=pa.string())}), sink)
            return sink.getvalue()
    raise NotFoundError(f"no dataset {name!r}", code="dataset_not_found")


def _own_submission(ctx: GraphQLContext, submission_id: str) -> Submission:
    principal = ctx.principal("read")
    text = submission_id.strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        for model in ctx.service.list_models(account=principal.account_id):
            for submission in ctx.service.list_submissions(model=model.id):
                if submission.id == int(text):
                    return submission
    raise NotFoundError(f"you have no submission {submission_id!r}", code="submission_not_found")


def submission_download(ctx: GraphQLContext, submission_id: str, *, minutes: int) -> t.UploadAuth:
    submission = _own_submission(ctx, submission_id)
    model = ctx.service.get_model(submission.model_id)
    return t.UploadAuth(
        filename=f"{model.name}_round{submission.round_number}_{submission.id}.csv",
        url=ctx.url(SUBMISSION_PATH + str(submission.id), minutes=minutes),
    )


def submission_csv(ctx: GraphQLContext, submission_id: int) -> bytes:
    """The stored (validated) predictions of a submission as CSV: ``id,prediction`` or
    ``numerai_ticker,signal`` (Signals: the ranked signal the tournament scores)."""
    found = [s for s in ctx.service.list_submissions() if s.id == submission_id]
    if not found:
        raise NotFoundError("no such submission", code="submission_not_found")
    submission = found[0]
    values = ctx.service.submission_predictions(submission)
    signals = ctx.rounds()[submission.round_number].kind is RoundKind.SIGNALS
    columns = ("numerai_ticker", "signal") if signals else ("id", "prediction")
    frame = pd.DataFrame({columns[0]: [str(i) for i in values.index], columns[1]: values.to_numpy()})
    return frame.to_csv(index=False).encode()
