"""A small Python client of the Kardashev HTTP API, with numerapi-like method names.

>>> from kardashev.client import KardashevClient
>>> api = KardashevClient("http://127.0.0.1:8000", public_id="kdk_...", secret_key="...")
>>> api.get_current_round()                                  # doctest: +SKIP
>>> api.upload_predictions("preds.csv", model_id="my_model")  # doctest: +SKIP
>>> api.stake_increase("10", model_id="my_model")            # doctest: +SKIP

Token amounts are exact decimal strings (``"12.5"``) on the wire and :class:`decimal.Decimal` here. An
error response is raised as the same :mod:`kardashev.errors` exception the server raised, with its
``code``, and the request id in the message.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from kardashev import errors

__all__ = ["KardashevClient"]

_PARQUET_TYPE = "application/vnd.apache.parquet"
_RETRY_STATUSES = (429, 503)
_MAX_RETRY_WAIT = 30.0


def _error_class(type_name: str, status: int) -> type[errors.KardashevError]:
    candidate = getattr(errors, type_name, None) if type_name in errors.__all__ else None
    if isinstance(candidate, type) and issubclass(candidate, errors.KardashevError):
        return candidate
    by_status: dict[int, type[errors.KardashevError]] = {
        401: errors.AuthenticationError,
        403: errors.PermissionDeniedError,
        404: errors.NotFoundError,
        409: errors.ConflictError,
        413: errors.PayloadTooLargeError,
        429: errors.RateLimitError,
    }
    if status in by_status:
        return by_status[status]
    return errors.InvalidInputError if 400 <= status < 500 else errors.KardashevError


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()["error"]
        code, message, type_name = str(body["code"]), str(body["message"]), str(body.get("type", ""))
        request_id = body.get("request_id")
    except (ValueError, KeyError, TypeError):
        code, type_name, request_id = "http_error", "", response.headers.get("x-request-id")
        message = f"HTTP {response.status_code}: {response.text[:200]}"
    cls = _error_class(type_name, response.status_code)
    suffix = f" (HTTP {response.status_code}, request id {request_id})" if request_id else ""
    error = cls(message + suffix, code=code)
    error.status_code = response.status_code  # type: ignore[attr-defined]
    error.request_id = request_id  # type: ignore[attr-defined]
    raise error


class KardashevClient:
    """Client of one Kardashev API server.

    Parameters
    ----------
    base_url
        Server root, e.g. ``"http://127.0.0.1:8000"``.
    public_id, secret_key
        The API key (as numerapi's ``public_id`` / ``secret_key``). Public endpoints work without it.
    timeout
        Seconds per request.
    transport
        Optional httpx transport (tests may pass an in-process one).
    retries
        How many times a money move (stake increase / decrease, deposit) is retried after a timeout,
        a dropped connection, a 429 or a 503. Each move carries an ``Idempotency-Key`` that its
        retries repeat, so the server posts it once however often it arrives.
    sleep
        Waits between retries (``Retry-After`` when the server sends it, else 0.5 s, 1 s, 2 s …);
        tests pass their own.
    """

    def __init__(
        self,
        base_url: str,
        *,
        public_id: str | None = None,
        secret_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise errors.ConfigError(f"retries must be >= 0, got {retries}")
        self.retries = retries
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if public_id is not None and secret_key is not None:
            headers["Authorization"] = f"Token {public_id}${secret_key}"
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    @classmethod
    def for_app(
        cls, app: Any, *, public_id: str | None = None, secret_key: str | None = None
    ) -> KardashevClient:
        """A client calling an application object in this process (no network; e.g. for a demo or a
        notebook): ``KardashevClient.for_app(create_app(settings), public_id=..., secret_key=...)``."""
        from starlette.testclient import TestClient

        client = cls("http://kardashev.local", public_id=public_id, secret_key=secret_key)
        headers = dict(client._http.headers)
        client._http.close()
        client._http = TestClient(app, base_url="http://kardashev.local", headers=headers)
        return client

    def __repr__(self) -> str:
        return f"KardashevClient({str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KardashevClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        _raise_for_error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        header = response.headers.get("retry-after") if response is not None else None
        try:
            wait = float(header) if header is not None else 0.5 * 2**attempt
        except ValueError:
            wait = 0.5 * 2**attempt
        self._sleep(min(max(wait, 0.0), _MAX_RETRY_WAIT))

    def _money_move(self, path: str, payload: dict[str, Any], idempotency_key: str | None) -> Any:
        """POST a money move with an ``Idempotency-Key``, retried on timeouts, dropped connections,
        429, 503 and a concurrent duplicate (409 ``duplicate_request``) with the same key and body."""
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request("POST", path, json=payload, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError):
                if last:
                    raise
                self._wait(attempt, None)
                continue
            duplicate = response.status_code == 409 and _error_code(response) == "duplicate_request"
            if not last and (response.status_code in _RETRY_STATUSES or duplicate):
                self._wait(attempt, response)
                continue
            _raise_for_error(response)
            return response.json()
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _file_payload(
        file_path: str | Path | None, df: Any | None, *, filename: str | None = None
    ) -> tuple[bytes, str]:
        if (file_path is None) == (df is None):
            raise errors.InvalidInputError("give exactly one of file_path or df")
        if df is not None:
            buffer = io.BytesIO()
            df.to_parquet(buffer, index=False)
            return buffer.getvalue(), _PARQUET_TYPE
        path = Path(file_path)  # type: ignore[arg-type]
        if not path.is_file():
            raise errors.NotFoundError(f"no such file: {path}")
        name = (filename or path.name).lower()
        media_type = _PARQUET_TYPE if name.endswith(".parquet") else "text/csv"
        return path.read_bytes(), media_type

    # ------------------------------------------------------------------ rounds (public)
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/v1/health")

    def get_current_round(self, tournament: str | None = None) -> int | None:
        """Number of the newest open round (of the given kind, ``"classic"`` or ``"signals"``), or None."""
        params = {"kind": tournament} if tournament else None
        response = self._http.get("/v1/rounds/current", params=params)
        if response.status_code == 404:
            return None
        _raise_for_error(response)
        return int(response.json()["number"])

    def get_round(self, round_number: int) -> dict[str, Any]:
        return self._json("GET", f"/v1/rounds/{int(round_number)}")

    def get_rounds(self, tournament: str | None = None, *, status: str | None = None) -> list[dict[str, Any]]:
        params = {key: value for key, value in (("kind", tournament), ("status", status)) if value}
        return self._json("GET", "/v1/rounds", params=params)

    def get_leaderboard(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        return self._json("GET", "/v1/leaderboard", params={"limit": limit, "offset": offset})

    def download_meta_model(self, round_number: int, dest_path: str | Path | None = None) -> bytes:
        """The released naive meta model of a round as parquet bytes (written to ``dest_path`` if given)."""
        data = self._request("GET", f"/v1/meta-models/{int(round_number)}").content
        if dest_path is not None:
            Path(dest_path).write_bytes(data)
        return data

    # ------------------------------------------------------------------ own account (read scope)
    def get_account(self) -> dict[str, Any]:
        return self._json("GET", "/v1/account")

    def wallet_balance(self) -> Decimal:
        return Decimal(self.get_account()["wallet_balance"])

    def wallet_transactions(self) -> list[dict[str, Any]]:
        """Movements of the caller's tokens, oldest first (``amount`` as ``Decimal``)."""
        rows = self._json("GET", "/v1/account/transactions")
        return [row | {"amount": Decimal(row["amount"])} for row in rows]

    def get_models(self) -> dict[str, int]:
        """Own models as ``{name: id}`` (like numerapi's ``get_models``)."""
        return {model["name"]: model["id"] for model in self._json("GET", "/v1/models")}

    def create_model(self, name: str) -> dict[str, Any]:
        return self._json("POST", "/v1/models", json={"name": name})

    def submissions(self, model_id: str | int, *, round_number: int | None = None) -> list[dict[str, Any]]:
        params = {"round_number": round_number} if round_number is not None else None
        return self._json("GET", f"/v1/models/{model_id}/submissions", params=params)

    def upload_predictions(
        self,
        file_path: str | Path | None = None,
        *,
        model_id: str | int,
        df: Any | None = None,
        round_number: int | None = None,
    ) -> int:
        """Upload a CSV or parquet file (or a DataFrame) for a model; returns the submission id."""
        data, media_type = self._file_payload(file_path, df)
        params = {"round_number": round_number} if round_number is not None else None
        body = self._json(
            "POST",
            f"/v1/models/{model_id}/submissions",
            content=data,
            headers={"Content-Type": media_type},
            params=params,
        )
        return int(body["id"])

    def stake_get(self, model_id: str | int) -> Decimal:
        return Decimal(self._json("GET", f"/v1/models/{model_id}/stake")["stake"])

    def stake_details(self, model_id: str | int) -> dict[str, Any]:
        return self._json("GET", f"/v1/models/{model_id}/stake")

    def stake_increase(
        self, nmr: str | int | Decimal, model_id: str | int, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Move ``nmr`` tokens from the wallet to the model's stake (retried safely, see ``retries``)."""
        path = f"/v1/models/{model_id}/stake/increase"
        return self._money_move(path, {"amount": str(nmr)}, idempotency_key)

    def stake_decrease(
        self, nmr: str | int | Decimal, model_id: str | int, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Take ``nmr`` tokens out of the model's stake (retried safely, see ``retries``)."""
        path = f"/v1/models/{model_id}/stake/decrease"
        return self._money_move(path, {"amount": str(nmr)}, idempotency_key)

    def round_model_performances(self, model_id: str | int) -> list[dict[str, Any]]:
        """Per round: daily scores so far, final scores and payout once resolved."""
        return self._json("GET", f"/v1/models/{model_id}/scores")

    def submission_scores(
        self, model_id: str | int, *, round_number: int | None = None
    ) -> list[dict[str, Any]]:
        """Daily score rows ``{round_number, day, metric, value}`` of a model."""
        params = {"round_number": round_number} if round_number is not None else None
        return self._json("GET", f"/v1/models/{model_id}/daily-scores", params=params)

    def diagnostics(
        self, model_id: str | int, file_path: str | Path | None = None, *, df: Any | None = None
    ) -> dict[str, Any]:
        """Diagnostics (per-era CORR, Sharpe, drawdown, feature exposure) of a validation predictions file."""
        data, media_type = self._file_payload(file_path, df)
        return self._json(
            "POST", f"/v1/models/{model_id}/diagnostics", content=data, headers={"Content-Type": media_type}
        )

    # ------------------------------------------------------------------ operator (admin scope)
    def create_account(
        self, name: str, *, deposit: str | Decimal | int | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Open an account, optionally minting ``deposit`` tokens (retried safely, see ``retries``)."""
        payload: dict[str, Any] = {"name": name}
        if deposit is not None:
            payload["deposit"] = str(deposit)
        return self._money_move("/v1/admin/accounts", payload, idempotency_key)

    def create_api_key(self, account: str | int, scopes: list[str]) -> dict[str, Any]:
        """A new key for an account: ``{"public_id", "secret_key", "scopes"}`` (the secret is shown once)."""
        return self._json("POST", f"/v1/admin/accounts/{account}/keys", json={"scopes": list(scopes)})

    def deposit(
        self, account: str | int, amount: str | Decimal | int, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Mint tokens into an account's wallet (retried safely, see ``retries``)."""
        path = f"/v1/admin/accounts/{account}/deposit"
        return self._money_move(path, {"amount": str(amount)}, idempotency_key)

    def open_round(self, **round_spec: Any) -> dict[str, Any]:
        """Open a round; ``round_spec`` is the JSON body of ``POST /v1/admin/rounds``."""
        return self._json("POST", "/v1/admin/rounds", json=round_spec)

    def close_round(self, round_number: int) -> dict[str, Any]:
        return self._json("POST", f"/v1/admin/rounds/{int(round_number)}/close")

    def score_round(self, round_number: int, **day_data: Any) -> dict[str, Any]:
        """Post one scoring day (``day``, ``ids``, ``target``, ``realized_returns`` …) of a round."""
        return self._json("POST", f"/v1/admin/rounds/{int(round_number)}/score", json=day_data)

    def resolve_round(self, round_number: int) -> dict[str, Any]:
        return self._json("POST", f"/v1/admin/rounds/{int(round_number)}/resolve")
