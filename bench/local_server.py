"""What the benchmarks that drive a real server share: a free port, the run's database, `kardashev serve`.

Imported by ``bench/load.py``, ``bench/abuse.py`` and ``bench/season.py`` (run as scripts from the
repository root, so this folder is on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

__all__ = ["database", "free_port", "start_serve"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def database(url: str | None, data_dir: Path, *, name: str) -> Iterator[str]:
    """The run's database: a SQLite file ``name``.db in ``data_dir``, or a fresh schema on the PostgreSQL
    server at ``url`` (dropped afterwards, so the run leaves the server as it found it)."""
    if url is None or not url.startswith("postgresql"):
        yield url or f"sqlite:///{data_dir / f'{name}.db'}"
        return
    from kardashev.store.engine import scratch_schema

    with scratch_schema(url, prefix=f"kardashev_{name}") as schema_url:
        yield schema_url


def start_serve(
    db: str,
    data_dir: Path,
    *,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout_s: float = 120.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``kardashev serve`` on a free port and wait until ``/v1/health`` answers.

    Returns the process and its base URL; raises ``RuntimeError`` with the end of the server's stderr
    when it exits or does not answer within ``timeout_s``.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kardashev", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--db", db, "--data-dir", str(data_dir), "--log-level", "warning", *extra_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "KARDASHEV_DATABASE_URL": db, **(env or {})},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(base + "/v1/health", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            if server.poll() is None:
                server.kill()
            stderr = server.stderr.read().decode()[-2000:] if server.stderr else ""
            raise RuntimeError(f"the server did not start: {stderr}")
        time.sleep(0.2)
