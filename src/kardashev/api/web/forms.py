"""Who is visiting (a FastAPI dependency) and reading forms: CSRF first, then the fields or the file."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from starlette.datastructures import FormData

from kardashev.api.context import ApiContext, get_context
from kardashev.api.uploads import UploadedFile, read_upload
from kardashev.api.web.session import WebSession, anonymous_csrf, check_csrf, read_session
from kardashev.errors import DataFormatError

__all__ = ["Visit", "read_form", "read_form_with_file", "visit"]

_MAX_FIELD_BYTES = 4096


@dataclass(frozen=True)
class Visit:
    """One page request: the application context and the visitor's session (None when signed out)."""

    context: ApiContext
    session: WebSession | None
    request: Request

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session is not None else anonymous_csrf(self.request)


def visit(request: Request, context: ApiContext = Depends(get_context)) -> Visit:
    """FastAPI dependency: the visit, with the template defaults (``user``, ``csrf``) set on the request."""
    found = Visit(context=context, session=read_session(context, request), request=request)
    request.state.web_defaults = {"user": found.session, "csrf": found.csrf}
    return found


async def read_form(visit: Visit) -> FormData:
    """The fields of a posted form (no file), once its CSRF token has been checked."""
    try:
        form = await visit.request.form(max_files=0, max_fields=32, max_part_size=_MAX_FIELD_BYTES)
    except Exception as exc:  # the multipart parser's errors are the client's
        raise DataFormatError(f"malformed form: {exc}", code="malformed_request") from None
    check_csrf(visit.request, form.get("csrf"), visit.csrf)
    return form


async def read_form_with_file(visit: Visit) -> tuple[FormData, UploadedFile]:
    """A posted ``multipart/form-data`` form with a file in the field ``file``: CSRF checked first, then
    the file read by the API's own upload reader (:func:`kardashev.api.uploads.read_upload`), so the web
    form and the API accept exactly the same files under the same size limit."""
    request = visit.request
    limit = visit.context.settings.max_upload_bytes
    await request.body()  # kept on the request: parsed twice below (bounded by BodyLimitMiddleware)
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=_MAX_FIELD_BYTES)
    except Exception as exc:
        raise DataFormatError(f"malformed form: {exc}", code="malformed_request") from None
    check_csrf(request, form.get("csrf"), visit.csrf)
    fields = FormData([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    await form.close()
    return fields, await read_upload(request, max_bytes=limit)
