"""A numerapi-compatible GraphQL API at ``/graphql``: unmodified numerapi 3.1.1 works against a Kardashev
server once ``numerapi.base_api.API_TOURNAMENT_URL`` points at it.

The schema (:mod:`.queries`, :mod:`.mutations`, :mod:`.types`) answers numerapi's queries from the tournament
service with the REST API's keys and scopes (:mod:`.access`); uploads and downloads go through signed URLs on
the same server (:mod:`.transfers`, :mod:`.files`).
"""

from __future__ import annotations

from kardashev.api.graphql.routes import router

__all__ = ["router"]
