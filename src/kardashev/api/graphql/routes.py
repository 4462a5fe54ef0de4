"""HTTP endpoints: ``POST /graphql`` and the signed transfer URLs it hands out."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kardashev.api.context import ApiContext, get_context
from kardashev.api.graphql.access import GraphQLContext
from kardashev.api.graphql.files import Datasets, DiagnosticsResults, Staging, UrlSigner, load_url_key
from kardashev.api.graphql.schema import execute
from kardashev.api.graphql.transfers import (
    DATASET_PATH,
    SUBMISSION_PATH,
    UPLOAD_PATH,
    dataset_bytes,
    submission_csv,
)
from kardashev.api.uploads import read_body
from kardashev.errors import DataFormatError, NotFoundError

__all__ = ["router"]

router = APIRouter(tags=["graphql"])
Context = Annotated[ApiContext, Depends(get_context)]
Signature = Annotated[str | None, Query(max_length=128)]


@lru_cache(maxsize=16)
def _signer(data_dir: Path, pepper: str) -> UrlSigner:
    return UrlSigner(load_url_key(data_dir, pepper))


def graphql_context(request: Request, api: ApiContext) -> GraphQLContext:
    data_dir = Path(api.settings.data_dir)
    return GraphQLContext(
        api=api,
        request=request,
        signer=_signer(data_dir, api.settings.key_pepper),
        staging=Staging(data_dir),
        datasets=Datasets(data_dir),
        diagnostics=DiagnosticsResults(data_dir),
        base_url=str(request.base_url).rstrip("/"),
    )


def _bad_request(message: str) -> DataFormatError:
    """Not a GraphQL request at all: the REST error envelope, 400."""
    return DataFormatError(message, code="malformed_request")


@router.post("/graphql", summary="numerapi-compatible GraphQL endpoint")
async def graphql(request: Request, api: Context) -> JSONResponse:
    """GraphQL over HTTP POST (``{"query", "variables", "operationName"}``), the protocol numerapi speaks.
    Send the API key as ``Authorization: Token PUBLIC_ID$SECRET``."""
    body = await read_body(request, max_bytes=api.settings.max_upload_bytes)
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise _bad_request("the request body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise _bad_request("send a JSON object with a 'query' string")
    variables, operation = payload.get("variables"), payload.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise _bad_request("'variables' must be an object")
    if operation is not None and not isinstance(operation, str):
        raise _bad_request("'operationName' must be a string")
    context = graphql_context(request, api)
    result = await run_in_threadpool(execute, context, payload["query"], variables, operation)
    return JSONResponse(result)


@router.put(UPLOAD_PATH + "{token}", summary="Upload a file to a signed upload URL", include_in_schema=False)
async def put_upload(
    request: Request, api: Context, token: str, expires: Signature = None, signature: Signature = None
) -> JSONResponse:
    context = graphql_context(request, api)
    context.signer.verify(UPLOAD_PATH + token, expires=expires, signature=signature, now=api.now())
    data = await read_body(request, max_bytes=api.settings.max_upload_bytes)
    if not data:
        raise DataFormatError("the upload is empty", code="empty_file")
    staged = await run_in_threadpool(context.staging.put, token, data, now=api.now())
    return JSONResponse({"filename": f"{staged.token}/{staged.filename}", "bytes": len(data)})


@router.get(DATASET_PATH + "{name:path}", include_in_schema=False)
def get_dataset(
    request: Request, api: Context, name: str, expires: Signature = None, signature: Signature = None
) -> Response:
    context = graphql_context(request, api)
    context.signer.verify(DATASET_PATH + name, expires=expires, signature=signature, now=api.now())
    path = context.datasets.path(name)
    if path is not None:
        return FileResponse(path, filename=Path(name).name)
    data = dataset_bytes(context, name)
    return Response(data, media_type="application/vnd.apache.parquet")


@router.get(SUBMISSION_PATH + "{submission_id}", include_in_schema=False)
def get_submission(
    request: Request, api: Context, submission_id: str, expires: Signature = None, signature: Signature = None
) -> Response:
    context = graphql_context(request, api)
    context.signer.verify(
        SUBMISSION_PATH + submission_id, expires=expires, signature=signature, now=api.now()
    )
    if not (submission_id.isascii() and submission_id.isdigit() and len(submission_id) <= 18):
        raise NotFoundError("no such submission", code="submission_not_found")
    return Response(submission_csv(context, int(submission_id)), media_type="text/csv")
