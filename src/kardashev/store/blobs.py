"""Content-addressed files (parquet) in a data directory shared by every worker.

A blob's name is the sha256 of its bytes: writing the same content twice is a
no-op, and a file is written (to a temporary name, then atomically renamed)
*before* the database row that references it is committed. A crash in between
leaves an unreferenced orphan file, never a row pointing at a missing file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from kardashev.errors import NotFoundError, StateError

__all__ = ["BlobStore"]


class BlobStore:
    """Files under ``root/ab/abcdef….parquet`` named by their sha256."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFoundError(f"not a sha256 blob name: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.parquet"

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent); returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.exists() and target.stat().st_size == len(data):
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        """The bytes of a blob, checked against its name."""
        target = self.path(sha256)
        try:
            data = target.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {sha256} is missing from the data directory {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StateError(
                f"blob {sha256} in {self.root} is corrupted (content hash differs)", code="corrupt_blob"
            )
        return data
