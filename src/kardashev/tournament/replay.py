"""Replayable money moves: a retried request answers with the first response, byte for byte.

A client sends an idempotency key with a money move and the same key when it retries it. The first
call posts the move and stores its rendered response (status and body) under the key, scoped to the
caller's account, together with a digest of the request, in the SAME database transaction: either
both are written or neither. A retry with the same key and digest posts nothing and gets the stored
response back unchanged, whatever moved since; the same key with another digest is a ConflictError
(``idempotency_key_reused``). Concurrent duplicates wait for the first to commit (the ledger's unique
idempotency key), then read its stored response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from kardashev.errors import ConflictError, InvalidInputError
from kardashev.tournament.repository import TournamentRepository, UnitOfWork

__all__ = ["Replay", "ReplayMixin", "StoredReplay", "StoredResponse", "request_memo", "seen"]

T = TypeVar("T")

ATTEMPTS = 5
"""Transactions tried before a concurrent duplicate's ``duplicate_request`` is given up to the caller."""


_REQUEST_MEMO = "request:"


def request_memo(request_hash: str | None) -> str:
    """The ledger transaction's memo that records the digest of the request that posted it."""
    return "" if request_hash is None else _REQUEST_MEMO + str(request_hash)[:200]


def seen(
    repo: TournamentRepository, idempotency_key: str | None, kind: str, request_hash: str | None = None
) -> bool:
    """True when this idempotency key posted a transaction already (for the same kind of request).

    With a ``request_hash`` (a digest of the request the key was sent with) a key reused for a
    different request is a ConflictError (``idempotency_key_reused``).
    """
    if idempotency_key is None:
        return False
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 200:
        raise InvalidInputError("an idempotency key is a string of 1 to 200 characters")
    found = repo.find_transaction(idempotency_key)
    if found is None:
        return False
    seen_kind, memo = found
    if seen_kind != kind:
        raise ConflictError(
            f"idempotency key {idempotency_key!r} was used for a {seen_kind.replace('_', ' ')}",
            code="duplicate_request",
        )
    if request_hash is not None and memo != request_memo(request_hash):
        raise ConflictError(
            "this idempotency key was already used with a different request; use a new key",
            code="idempotency_key_reused",
        )
    return True


@dataclass(frozen=True)
class StoredResponse:
    """A rendered response: HTTP status and the exact body bytes."""

    status_code: int
    body: bytes


@dataclass(frozen=True)
class StoredReplay:
    """The stored first response of an idempotency key and the digest of the request that made it."""

    request_hash: str
    response: StoredResponse


@dataclass(frozen=True)
class Replay(Generic[T]):
    """A replayable request: the caller's account (the key's scope), the ledger's idempotency key,
    the request's digest and how to render the move's result as the response to store."""

    account_id: int
    key: str
    request_hash: str
    render: Callable[[T], StoredResponse]

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not 1 <= len(self.key) <= 200:
            raise InvalidInputError("an idempotency key is a string of 1 to 200 characters")
        if not isinstance(self.request_hash, str) or not 1 <= len(self.request_hash) <= 64:
            raise InvalidInputError("a request digest is a string of 1 to 64 characters")


class ReplayMixin:
    unit_of_work: UnitOfWork

    def _once(
        self, replay: Replay[T], move: Callable[[TournamentRepository], T], *, now: dt.datetime
    ) -> StoredResponse:
        """Run ``move`` and store its rendered response in one transaction, or return the stored one."""
        for attempt in range(ATTEMPTS):
            try:
                with self.unit_of_work() as repo:
                    stored = repo.find_response(replay.account_id, replay.key)
                    if stored is not None:
                        return _first_response(replay, stored)
                    response = replay.render(move(repo))
                    repo.add_response(
                        account_id=replay.account_id,
                        key=replay.key,
                        request_hash=replay.request_hash,
                        response=response,
                        now=now,
                    )
                    return response
            except ConflictError as exc:
                # A concurrent duplicate may have committed first (the ledger's unique key, or the
                # unique name of an account it created): its stored response answers this one too.
                with self.unit_of_work(read_only=True) as repo:
                    stored = repo.find_response(replay.account_id, replay.key)
                if stored is not None:
                    return _first_response(replay, stored)
                if exc.code != "duplicate_request" or attempt == ATTEMPTS - 1:
                    raise
        raise ConflictError(
            "the request could not be completed", code="duplicate_request"
        )  # pragma: no cover


def _first_response(replay: Replay[T], stored: StoredReplay) -> StoredResponse:
    if stored.request_hash != replay.request_hash:
        raise ConflictError(
            "this idempotency key was already used with a different request; use a new key",
            code="idempotency_key_reused",
        )
    return stored.response
