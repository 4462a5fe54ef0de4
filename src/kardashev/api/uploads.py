"""Reading an uploaded prediction file: size limit while streaming, media type and format checks.

An upload is either the raw file as the request body (``Content-Type: text/csv`` or
``application/vnd.apache.parquet``; ``application/octet-stream`` is sniffed) or a ``multipart/form-data``
form with the file in the field ``file``. The body is counted while it streams in and refused with 413 the
moment it passes the limit (and at once when ``Content-Length`` announces more). Parsing errors become
:class:`~kardashev.errors.DataFormatError`. The bytes are then parsed and checked against the tournament
rules by :mod:`kardashev.tournament.validation` (so the API and the CLI apply exactly the same rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from kardashev.errors import DataFormatError, PayloadTooLargeError

__all__ = ["UPLOAD_MEDIA_TYPES", "UPLOAD_OPENAPI_BODY", "UploadedFile", "read_body", "read_upload"]

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet")
SNIFFED_TYPES = ("application/octet-stream",)
MULTIPART_TYPE = "multipart/form-data"
UPLOAD_MEDIA_TYPES = (*CSV_TYPES, *PARQUET_TYPES, *SNIFFED_TYPES, MULTIPART_TYPE)
_PARQUET_MAGIC = b"PAR1"

UPLOAD_OPENAPI_BODY: dict[str, object] = {
    "requestBody": {
        "required": True,
        "description": "the predictions file: raw CSV / parquet body, or multipart form with field 'file'",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
"""OpenAPI ``requestBody`` of the upload endpoints (the handlers read the stream themselves)."""


@dataclass(frozen=True)
class UploadedFile:
    """An uploaded file's bytes, its detected format (``"csv"`` or ``"parquet"``) and its name."""

    data: bytes
    file_format: str
    filename: str | None = None

    def __repr__(self) -> str:  # never dump predictions into a log
        return (
            f"UploadedFile(format={self.file_format!r}, filename={self.filename!r}, bytes={len(self.data)})"
        )


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"upload is larger than the limit of {limit} bytes")


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The request body, refused with PayloadTooLargeError as soon as it passes ``max_bytes``."""
    announced = request.headers.get("content-length")
    if announced is not None:
        if not (announced.isascii() and announced.strip().isdigit()):
            raise DataFormatError("Content-Length is not a number", code="malformed_request")
        if int(announced) > max_bytes:
            raise _too_large(max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _detect_format(data: bytes, media_type: str, filename: str | None) -> str:
    looks_parquet = len(data) >= 8 and data[:4] == _PARQUET_MAGIC and data[-4:] == _PARQUET_MAGIC
    name = (filename or "").lower()
    if media_type in PARQUET_TYPES or name.endswith(".parquet"):
        if not looks_parquet:
            raise DataFormatError(
                "the file is declared parquet but is not a parquet file", code="bad_parquet"
            )
        return "parquet"
    if media_type in CSV_TYPES or name.endswith(".csv"):
        if looks_parquet:
            raise DataFormatError("the file is declared CSV but is a parquet file", code="bad_csv")
        return "csv"
    return "parquet" if looks_parquet else "csv"


async def read_upload(request: Request, *, max_bytes: int) -> UploadedFile:
    """Read and classify the uploaded file of a request (raw body or multipart field ``file``)."""
    media_type = _media_type(request.headers.get("content-type"))
    if media_type not in UPLOAD_MEDIA_TYPES:
        raise DataFormatError(
            f"unsupported Content-Type {media_type or '(none)'!r}; send text/csv, "
            "application/vnd.apache.parquet or multipart/form-data with a 'file' field",
            code="unsupported_media_type",
        )
    body = await read_body(request, max_bytes=max_bytes)
    if media_type != MULTIPART_TYPE:
        if not body:
            raise DataFormatError("the upload is empty", code="empty_file")
        return UploadedFile(data=body, file_format=_detect_format(body, media_type, None))
    return await _read_multipart(request, body)


async def _read_multipart(request: Request, body: bytes) -> UploadedFile:
    sent = False

    async def replay() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    replayed = Request(request.scope, replay)
    try:
        form = await replayed.form(max_files=1, max_fields=4, max_part_size=1024)
    except Exception as exc:  # multipart parser errors of any kind are the client's
        raise DataFormatError(f"malformed multipart body: {exc}", code="malformed_request") from None
    try:
        field = form.get("file")
        if field is None or isinstance(field, str):
            raise DataFormatError("the multipart form has no file field named 'file'", code="missing_file")
        data = await field.read()
        filename = field.filename
        part_type = _media_type(field.content_type)
    finally:
        await form.close()
    if not data:
        raise DataFormatError("the uploaded file is empty", code="empty_file")
    sniff_type = part_type if part_type in (*CSV_TYPES, *PARQUET_TYPES) else ""
    return UploadedFile(data=data, file_format=_detect_format(data, sniff_type, filename), filename=filename)
