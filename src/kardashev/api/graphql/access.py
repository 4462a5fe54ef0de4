"""Who is asking and what they may see: the REST API's keys, scopes and ownership rules, in numerapi terms.

numerapi sends ``Authorization: Token PUBLIC$SECRET`` (Kardashev's own header form) only for the calls it
marks as private; the checks are :func:`kardashev.api.auth.require` and
:func:`kardashev.api.auth.owned_model`, so a missing or wrong key, a key without the scope and another
account's model behave exactly as over REST. Calls numerapi makes without a key (scores by model, stakes
by model name, leaderboards) see only what Kardashev publishes: resolved rounds; with the owner's key they
also see the rounds still running.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.requests import Request

from kardashev.api.auth import Principal, authenticate, owned_model, require
from kardashev.api.context import ApiContext
from kardashev.api.graphql.files import Datasets, DiagnosticsResults, Staging, UrlSigner
from kardashev.errors import InvalidInputError, NotFoundError
from kardashev.tournament.domain import Model, Round, RoundKind, RoundStatus
from kardashev.tournament.service import TournamentService

__all__ = [
    "CLASSIC",
    "NUMERAPI_SCOPES",
    "SIGNALS",
    "GraphQLContext",
    "kind_of",
    "tournament_of",
]

CLASSIC, SIGNALS = 8, 11
_KINDS = {CLASSIC: RoundKind.CLASSIC, SIGNALS: RoundKind.SIGNALS}

NUMERAPI_SCOPES: dict[str, tuple[str, ...]] = {
    "read": ("read_submission_info", "read_user_info"),
    "upload": ("upload_submission",),
    "stake": ("stake",),
    "admin": ("admin",),
}
"""Kardashev scope → the numerapi scope names it grants (shown in ``account.apiTokens``)."""


def kind_of(tournament: int | None) -> RoundKind:
    """The round kind of a numerapi tournament id (8 Classic, 11 Signals)."""
    if tournament is None:
        return RoundKind.CLASSIC
    try:
        return _KINDS[int(tournament)]
    except (KeyError, ValueError):
        raise InvalidInputError(
            f"unknown tournament {tournament!r}: this server runs Classic (8) and Signals (11)",
            code="unknown_tournament",
        ) from None


def tournament_of(kind: RoundKind) -> int:
    return SIGNALS if kind is RoundKind.SIGNALS else CLASSIC


@dataclass
class GraphQLContext:
    """Everything a resolver needs for one request."""

    api: ApiContext
    request: Request
    signer: UrlSigner
    staging: Staging
    datasets: Datasets
    diagnostics: DiagnosticsResults
    base_url: str
    _principal: Principal | None = field(default=None, repr=False)
    _rounds: dict[int, Round] | None = field(default=None, repr=False)

    @property
    def service(self) -> TournamentService:
        return self.api.service

    def now(self) -> dt.datetime:
        return self.api.now()

    @property
    def header(self) -> str | None:
        return self.request.headers.get("authorization")

    def principal(self, scope: str) -> Principal:
        """The caller, who must hold ``scope`` (the REST dependency's checks and messages)."""
        return require(scope)(self.request, self.header, self.api)

    def viewer(self) -> Principal | None:
        """The caller when a key was sent (a wrong one is refused), else None."""
        if self.header is None:
            return None
        if self._principal is None:
            self._principal = authenticate(self.api, self.header)
        return self._principal

    def own_model(self, principal: Principal, model_id: str | None) -> Model:
        """The caller's model ``model_id`` (id or name); with none given, the account's only model."""
        if model_id:
            with self.api.unit_of_work(read_only=True) as repo:
                return owned_model(repo, principal, str(model_id)[:64])
        models = self.service.list_models(account=principal.account_id)
        if len(models) != 1:
            raise InvalidInputError(
                f"your account has {len(models)} models: pass model_id", code="model_id_required"
            )
        return models[0]

    def public_model(self, reference: str | None) -> Model:
        """A model by id or name, for the calls numerapi makes without a key."""
        text = str(reference or "")[:64]
        try:
            if text.isascii() and text.isdigit() and len(text) <= 18:
                return self.service.get_model(int(text))
            return self.service.get_model(text)
        except NotFoundError:
            raise NotFoundError(f"no model {text!r}", code="model_not_found") from None

    def sees_running_rounds(self, model: Model) -> bool:
        """Whether the caller may see the model's scores of unresolved rounds (its owner with 'read')."""
        viewer = self.viewer()
        return viewer is not None and viewer.account_id == model.account_id and viewer.has("read")

    def rounds(self) -> dict[int, Round]:
        if self._rounds is None:
            self._rounds = {r.number: r for r in self.service.list_rounds()}
        return self._rounds

    def visible(self, round_: Round, model: Model) -> bool:
        return round_.status is RoundStatus.RESOLVED or self.sees_running_rounds(model)

    def url(self, path: str, *, minutes: int) -> str:
        expires = self.now() + dt.timedelta(minutes=minutes)
        return self.base_url + self.signer.sign(path, expires=expires)
