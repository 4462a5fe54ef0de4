"""numerapi against ``kardashev serve --workers 2``: each upload is three requests (URL, PUT, mutation)
that the kernel spreads over the workers, so they must agree on the signing key and the staged files
(both live in the shared data directory)."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import subprocess
import sys
import time

import httpx
import numerapi
import numerapi.base_api
import pandas as pd
import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app
from tests.api.conftest import classic_frame, universe
from tests.api.test_serve import _create_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_numerapi_against_two_workers(tmp_path, monkeypatch):
    db, data_dir = f"sqlite:///{tmp_path / 'k.db'}", str(tmp_path / "data")
    operator = _create_key(db, data_dir, "operator", "--scopes", "admin", "--create-account")
    result = CliRunner().invoke(app, ["api-key", "list", "operator", "--db", db, "--data-dir", data_dir])
    assert result.exit_code == 0
    (tmp_path / "data" / "datasets" / "v1").mkdir(parents=True)
    pd.DataFrame({"id": universe()}).to_parquet(tmp_path / "data" / "datasets" / "v1" / "live.parquet")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kardashev", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db,
         "--data-dir", data_dir, "--workers", "2", "--log-level", "warning", "--dev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        admin = {"Authorization": f"Token {operator[0]}${operator[1]}"}
        assert httpx.post(
            base + "/v1/admin/accounts", json={"name": "ada", "deposit": "5"}, headers=admin
        ).is_success
        key = httpx.post(
            base + "/v1/admin/accounts/ada/keys", json={"scopes": ["read", "upload", "stake"]}, headers=admin
        ).json()
        user = {"Authorization": f"Token {key['public_id']}${key['secret_key']}"}
        model = httpx.post(base + "/v1/models", json={"name": "ada_model"}, headers=user).json()
        close = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        opened = httpx.post(
            base + "/v1/admin/rounds",
            json={"ids": universe(), "close_time": close.isoformat()},
            headers=admin,
        )
        assert opened.status_code == 201, opened.text

        monkeypatch.setattr(numerapi.base_api, "API_TOURNAMENT_URL", base + "/graphql")
        napi = numerapi.NumerAPI(key["public_id"], key["secret_key"], show_progress_bars=False)
        assert napi.get_current_round() == opened.json()["number"]
        ids = {
            napi.upload_predictions(df=classic_frame(universe(), seed), model_id=str(model["id"]))
            for seed in range(6)
        }
        rest = httpx.get(base + "/v1/models/ada_model/submissions", headers=user).json()
        assert ids == {str(rest[0]["id"])} and len(rest) == 1
        for attempt in range(4):
            path = napi.download_dataset("v1/live.parquet", str(tmp_path / f"live{attempt}.parquet"))
            assert list(pd.read_parquet(path)["id"]) == universe()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
