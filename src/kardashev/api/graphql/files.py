"""Files behind numerapi's two-step transfers: signed URLs, staged uploads, published datasets.

numerapi never sends a file in a GraphQL request. It asks for an upload URL, ``PUT``s the file there and
then calls ``create_submission`` / ``createDiagnostics`` with the file name the server gave it; downloads
ask for a URL and ``GET`` it. Here:

* :class:`UrlSigner` signs a path and an expiry with HMAC-SHA256 under a key made of the server's key
  pepper and a random secret kept in the data directory (so every worker of one server agrees).
* :class:`Staging` keeps an uploaded file between the ``PUT`` and the mutation, in the data directory
  (shared by workers): an upload URL accepts one ``PUT`` and its file is taken once.
* :class:`Datasets` lists and resolves the operator's published files under ``DATA_DIR/datasets``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from kardashev.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = ["Datasets", "DiagnosticsResults", "StagedUpload", "Staging", "UrlSigner", "load_url_key"]

_SECRET_FILE = "url-signing.key"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}$")
_MAX_LISTED = 1000


def _write_exclusive(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file; False when the file exists already."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return True


def load_url_key(data_dir: Path, pepper: str) -> bytes:
    """The URL-signing key: the key pepper and a random secret created once in ``data_dir/graphql``."""
    folder = Path(data_dir) / "graphql"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _SECRET_FILE
    _write_exclusive(path, secrets.token_hex(32).encode("ascii"))
    secret = path.read_bytes().strip()
    return hashlib.sha256(pepper.encode("utf-8") + b"\x00" + secret).digest()


@dataclass(frozen=True)
class UrlSigner:
    """Signs ``(path, expiry)`` pairs; a URL is valid until its expiry and only for its path."""

    key: bytes

    def _signature(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, *, expires: dt.datetime) -> str:
        """``path?expires=…&signature=…``."""
        stamp = int(expires.timestamp())
        return f"{path}?expires={stamp}&signature={self._signature(path, stamp)}"

    def verify(self, path: str, *, expires: str | None, signature: str | None, now: dt.datetime) -> None:
        """PermissionDeniedError unless the signature is right and the URL has not expired."""
        if not expires or not signature or not expires.isdigit() or len(expires) > 12:
            raise PermissionDeniedError("this URL is not signed", code="invalid_signature")
        expected = self._signature(path, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
            raise PermissionDeniedError("this URL's signature is wrong", code="invalid_signature")
        if int(expires) <= now.timestamp():
            raise PermissionDeniedError("this URL has expired; ask for a new one", code="url_expired")


@dataclass(frozen=True)
class StagedUpload:
    """What an upload URL was issued for."""

    token: str
    purpose: str  # "submission" or "diagnostics"
    account_id: int
    model_id: int
    tournament: int
    filename: str
    expires: dt.datetime


class Staging:
    """Uploaded files waiting for their mutation, under ``DATA_DIR/graphql/uploads``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "graphql" / "uploads"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _paths(self, token: str) -> tuple[Path, Path]:
        if not _TOKEN.match(token):
            raise NotFoundError("no such upload", code="upload_not_found")
        return self.folder / f"{token}.json", self.folder / f"{token}.data"

    def issue(
        self,
        *,
        purpose: str,
        account_id: int,
        model_id: int,
        tournament: int,
        filename: str,
        now: dt.datetime,
        expires: dt.datetime,
    ) -> StagedUpload:
        """Record a new upload slot (and sweep slots that expired)."""
        self.sweep(now=now)
        staged = StagedUpload(
            token=secrets.token_urlsafe(24),
            purpose=purpose,
            account_id=account_id,
            model_id=model_id,
            tournament=tournament,
            filename=filename,
            expires=expires,
        )
        meta, _ = self._paths(staged.token)
        record = {**staged.__dict__, "expires": expires.isoformat()}
        _write_exclusive(meta, json.dumps(record).encode("utf-8"))
        return staged

    def _load(self, token: str) -> StagedUpload:
        meta, _ = self._paths(token)
        try:
            record = json.loads(meta.read_text("utf-8"))
        except FileNotFoundError:
            raise NotFoundError(
                "no such upload: it was used already or has expired", code="upload_not_found"
            ) from None
        record["expires"] = dt.datetime.fromisoformat(record["expires"])
        return StagedUpload(**record)

    def put(self, token: str, data: bytes, *, now: dt.datetime) -> StagedUpload:
        """Keep the file sent to an upload URL; a second ``PUT`` to the same URL is refused."""
        staged = self._load(token)
        if now >= staged.expires:
            raise PermissionDeniedError("this upload URL has expired; ask for a new one", code="url_expired")
        _, path = self._paths(token)
        if not _write_exclusive(path.with_suffix(".used"), b""):  # the one PUT this URL takes
            raise ConflictError("this upload URL was used already", code="upload_used")
        _write_exclusive(path.with_suffix(".part"), data)
        os.replace(path.with_suffix(".part"), path)
        return staged

    def take(
        self, token: str, *, purpose: str, account_id: int, now: dt.datetime
    ) -> tuple[StagedUpload, bytes]:
        """The staged upload and its bytes, removed (a file is taken once)."""
        staged = self._load(token)
        if staged.account_id != account_id or staged.purpose != purpose:
            raise NotFoundError("no such upload", code="upload_not_found")
        meta, path = self._paths(token)
        if now >= staged.expires:
            self._remove(token)
            raise PermissionDeniedError("this upload has expired; upload again", code="url_expired")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InvalidInputError(
                "no file was uploaded to this upload URL (the PUT failed or was not sent)",
                code="missing_file",
            ) from None
        try:
            meta.unlink()
        except FileNotFoundError:  # taken concurrently by another request
            raise NotFoundError("this upload was used already", code="upload_not_found") from None
        path.unlink(missing_ok=True)
        path.with_suffix(".used").unlink(missing_ok=True)
        return staged, data

    def _remove(self, token: str) -> None:
        meta, path = self._paths(token)
        for file in (meta, path, path.with_suffix(".part"), path.with_suffix(".used")):
            file.unlink(missing_ok=True)

    def sweep(self, *, now: dt.datetime) -> None:
        """Delete slots expired for an hour (looking at most at 200 per call, so a call stays cheap)."""
        for count, meta in enumerate(self.folder.glob("*.json")):
            if count >= 200:
                break
            try:
                record = json.loads(meta.read_text("utf-8"))
                expired = dt.datetime.fromisoformat(record["expires"]) < now - dt.timedelta(hours=1)
            except (OSError, ValueError, KeyError):
                continue
            if expired:
                self._remove(meta.stem)


class Datasets:
    """The operator's published files: every regular file under ``DATA_DIR/datasets``.

    Files under ``signals/`` belong to Signals (tournament 11), the others to Classic (tournament 8).
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "datasets"

    @staticmethod
    def check_name(name: str) -> str:
        if not isinstance(name, str) or not _DATASET_NAME.match(name) or ".." in name.split("/"):
            raise NotFoundError(f"no dataset {name!r}", code="dataset_not_found")
        return name

    def list(self, *, signals: bool) -> list[str]:
        if not self.root.is_dir():
            return []
        names: list[str] = []
        for path in sorted(self.root.rglob("*")):
            if len(names) >= _MAX_LISTED:
                break
            if not path.is_file() or path.is_symlink():
                continue
            name = path.relative_to(self.root).as_posix()
            if not _DATASET_NAME.match(name):
                continue
            if name.startswith("signals/") == signals:
                names.append(name)
        return names

    def path(self, name: str) -> Path | None:
        """The file of a published dataset, or None."""
        path = self.root / self.check_name(name)
        if path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(self.root.resolve()):
            return path
        return None


class DiagnosticsResults:
    """Results of diagnostics runs, kept so ``diagnostics(modelId, id)`` can read them after
    ``createDiagnostics`` (the predictions file itself is never kept)."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "graphql" / "diagnostics"

    def save(self, model_id: int, result: dict[str, object], *, now: dt.datetime) -> str:
        folder = self.folder / str(int(model_id))
        folder.mkdir(parents=True, exist_ok=True)
        run_id = f"{now.strftime('%Y%m%d%H%M%S%f')}-{secrets.token_hex(6)}"
        record = {"id": run_id, "updated_at": now.isoformat(), "result": result}
        _write_exclusive(folder / f"{run_id}.json", json.dumps(record).encode("utf-8"))
        return run_id

    def load(self, model_id: int, run_id: str | None) -> dict[str, object]:
        """A run of the model (its latest when ``run_id`` is None); NotFoundError otherwise."""
        folder = self.folder / str(int(model_id))
        if run_id:
            if not re.match(r"^[0-9]{20}-[0-9a-f]{12}$", run_id):
                raise NotFoundError(f"no diagnostics {run_id!r} for this model", code="diagnostics_not_found")
            path = folder / f"{run_id}.json"
        else:
            runs = sorted(folder.glob("*.json")) if folder.is_dir() else []
            path = runs[-1] if runs else folder / "none.json"
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise NotFoundError(
                f"no diagnostics {run_id or ''} for this model".replace("  ", " "),
                code="diagnostics_not_found",
            ) from None
