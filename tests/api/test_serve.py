"""``kardashev api-key`` and ``kardashev serve`` as a user runs them: a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from kardashev.cli.main import app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _create_key(db: str, data_dir: str, *args: str) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["api-key", "create", *args, "--db", db, "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    public_id = re.search(r"public id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"secret key:\s+(\S+)", result.output).group(1)
    return public_id, secret


def test_api_key_cli_and_serve_process(tmp_path):
    db, data_dir = f"sqlite:///{tmp_path / 'k.db'}", str(tmp_path / "data")
    operator = _create_key(db, data_dir, "operator", "--scopes", "admin", "--create-account")
    missing = CliRunner().invoke(app, ["api-key", "create", "nobody", "--db", db, "--data-dir", data_dir])
    assert missing.exit_code != 0
    listed = CliRunner().invoke(app, ["api-key", "list", "operator", "--db", db, "--data-dir", data_dir])
    assert listed.exit_code == 0 and operator[0] in listed.output and operator[1] not in listed.output

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kardashev", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db,
         "--data-dir", data_dir, "--log-level", "info", "--dev"],
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
        auth = {"Authorization": f"Token {operator[0]}${operator[1]}", "X-Request-ID": "trace-me-123"}
        created = httpx.post(base + "/v1/admin/accounts", json={"name": "dora", "deposit": "5"}, headers=auth)
        assert created.status_code == 201, created.text
        assert created.headers["x-request-id"] == "trace-me-123"
        denied = httpx.get(
            base + "/v1/admin/accounts", headers={"Authorization": f"Token {operator[0]}$wrong"}
        )
        assert denied.status_code == 401
        docs = httpx.get(base + "/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert "/v1/models/{model}/submissions" in httpx.get(base + "/openapi.json").json()["paths"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    # the log names the request id, never the secret
    assert "[trace-me-123]" in output and "POST /v1/admin/accounts 201" in output
    assert operator[1] not in output
    revoked = CliRunner().invoke(app, ["api-key", "revoke", operator[0], "--db", db, "--data-dir", data_dir])
    assert revoked.exit_code == 0


def test_serve_refuses_an_empty_pepper_without_dev(tmp_path, monkeypatch):
    monkeypatch.delenv("KARDASHEV_KEY_PEPPER", raising=False)
    db, data_dir = f"sqlite:///{tmp_path / 'k.db'}", str(tmp_path / "data")
    result = CliRunner().invoke(app, ["serve", "--db", db, "--data-dir", data_dir, "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to serve without a key pepper" in result.output
    assert "KARDASHEV_KEY_PEPPER" in result.output
    assert not (tmp_path / "k.db").exists()  # refused before opening anything
