"""The GraphQL schema and its execution: domain errors become GraphQL errors numerapi shows.

A :class:`~kardashev.errors.KardashevError` raised by a resolver becomes an entry of ``errors`` with its
message, and ``extensions`` holding the machine-readable ``code``, the exception ``type`` and the HTTP
``status`` the REST API gives the same error (:func:`kardashev.api.errors.status_for`). Anything else is a
bug: logged, and answered as ``internal server error`` without details. Query depth, aliases and tokens
are bounded so a hostile query costs little.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from kardashev.api.errors import status_for
from kardashev.api.graphql.access import GraphQLContext
from kardashev.api.graphql.mutations import Mutation
from kardashev.api.graphql.queries import Query
from kardashev.api.graphql.types import SCALARS
from kardashev.errors import KardashevError

__all__ = ["SCHEMA", "execute"]

logger = logging.getLogger("kardashev.api.graphql")


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, KardashevError):
                logger.error("GraphQL resolver failed", exc_info=original)


SCHEMA = _Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map=SCALARS),
    extensions=[
        lambda: QueryDepthLimiter(max_depth=8),
        lambda: MaxAliasesLimiter(max_alias_count=20),
        lambda: MaxTokensLimiter(max_token_count=2000),
    ],
)


def _format(error: GraphQLError) -> Any:
    original = error.original_error
    if isinstance(original, KardashevError):
        extensions = {"code": original.code, "type": type(original).__name__, "status": status_for(original)}
        return GraphQLError(
            original.message, path=error.path, original_error=None, extensions=extensions
        ).formatted | {"locations": error.formatted.get("locations", [])}
    if original is not None and not isinstance(original, GraphQLError):
        return {
            "message": "internal server error",
            "path": error.path,
            "extensions": {"code": "internal_error", "type": "KardashevError", "status": 500},
        }
    return error.formatted


def execute(
    context: GraphQLContext, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> dict[str, Any]:
    """Run one GraphQL request; the JSON response body (``data`` and, if any, ``errors``)."""
    result = SCHEMA.execute_sync(
        query, variable_values=variables, context_value=context, operation_name=operation_name
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_format(error) for error in result.errors]
    return body
