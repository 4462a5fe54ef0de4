"""A live API server on 127.0.0.1 (uvicorn in a thread) over a temporary SQLite database."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from kardashev.api import Settings, create_app
from kardashev.api.auth import issue_api_key
from kardashev.api.context import ApiContext
from kardashev.api.keys import GeneratedKey
from kardashev.client import KardashevClient

START = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
N_IDS = 120


class FakeClock:
    """A settable UTC clock shared by the test and the server thread."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now


@dataclass
class LiveServer:
    base_url: str
    context: ApiContext
    clock: FakeClock
    admin_key: GeneratedKey
    data_dir: Path
    _clients: list[KardashevClient] = field(default_factory=list)

    def client(
        self, key: GeneratedKey | None = None, *, token: tuple[str, str] | None = None
    ) -> KardashevClient:
        public_id, secret = token if token else ((key.public_id, key.secret) if key else (None, None))
        client = KardashevClient(self.base_url, public_id=public_id, secret_key=secret, timeout=60)
        self._clients.append(client)
        return client

    def http(self, method: str, path: str, *, key: GeneratedKey | None = None, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            headers["Authorization"] = f"Token {key.public_id}${key.secret}"
        return httpx.request(method, self.base_url + path, headers=headers, timeout=60, **kwargs)

    def new_key(self, account: int | str, scopes) -> GeneratedKey:
        key, _ = issue_api_key(
            self.context.service, account, scopes, pepper=self.context.settings.key_pepper, now=self.clock()
        )
        return key


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def running_server(settings: Settings, clock: FakeClock) -> Iterator[LiveServer]:
    """The app for ``settings`` served by uvicorn on a free 127.0.0.1 port, with an operator admin key."""
    app = create_app(settings, clock=clock)
    context: ApiContext = app.state.context
    operator = context.service.create_account("operator", now=clock())
    admin_key, _ = issue_api_key(
        context.service, operator.id, ["admin"], pepper=settings.key_pepper, now=clock()
    )
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    live_server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        context=context,
        clock=clock,
        admin_key=admin_key,
        data_dir=Path(settings.data_dir).parent,
    )
    try:
        yield live_server
    finally:
        for client in live_server._clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def make_settings(root: Path, *, database_url: str | None = None) -> Settings:
    return Settings(
        database_url=database_url or f"sqlite:///{root / 'kardashev.db'}",
        data_dir=root / "data",
        max_upload_bytes=64 * 1024,
        key_pepper="test-pepper",
        meta_model_lag_rounds=1,
        meta_model_min_models=2,
        rate_limit_per_key="",  # tests send bursts from one key; tests/api/test_rate_limits.py turns them on
        rate_limit_per_address="",
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("api")
    with running_server(make_settings(root), FakeClock(START)) as server:
        yield server


def universe(n: int = N_IDS) -> list[str]:
    return [f"n{i:04d}" for i in range(n)]


def classic_frame(ids: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": ids, "prediction": rng.uniform(0.01, 0.99, len(ids))})


def classic_csv(ids: list[str], seed: int) -> bytes:
    return classic_frame(ids, seed).to_csv(index=False).encode()
