"""What each hostile input costs a running server: server CPU time, peak RSS growth and the answer.

Prepares a fresh database (an operator, a participant with an ordinary read/upload/stake key and a
funded model, one open Classic round of ``--ids`` ids, validation data for diagnostics), starts
``kardashev serve`` on 127.0.0.1 in a subprocess with the production defaults (50 MB uploads, 1 M rows,
rate limits off so the catalogue is not throttled), then posts every file of the abuse catalogue
(``tests/abuse.py``) to the submission and the diagnostics endpoints, and every hostile JSON body to its
endpoint, one at a time. For each it reads
the server process's CPU time (``/proc/PID/stat``) before and after, and its peak RSS growth: the peak
is reset before each request (``/proc/PID/clear_refs``) and ``VmHWM`` minus the RSS before is the extra
peak. The reference is a valid upload of the whole universe, measured the same way in the same run.
Afterwards it replays a stake increase with the same ``Idempotency-Key`` and checks the ledger audit.

    .venv/bin/python bench/abuse.py
    .venv/bin/python bench/abuse.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets: every hostile input answered with a 4xx, in at most 1 s of server CPU and 50 MB of extra peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from local_server import database, start_serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the catalogue lives in tests/abuse.py

from tests.abuse import HOSTILE_FILES, HOSTILE_REQUESTS

PEPPER = "bench-abuse-pepper"
CPU_TARGET_S = 1.0
RSS_TARGET_MB = 50.0


def _prepare(db: str, data_dir: Path, n_ids: int) -> dict[str, object]:
    from kardashev.api.auth import issue_api_key
    from kardashev.api.context import ApiContext, utc_now
    from kardashev.api.settings import Settings

    context = ApiContext.open(Settings(database_url=db, data_dir=data_dir, key_pepper=PEPPER))
    try:
        service, now = context.service, utc_now()
        ids = [f"n{i:04d}" for i in range(n_ids)]
        service.open_round(1, universe=ids, close_time=now + dt.timedelta(days=1), now=now, horizon_days=20)
        operator = service.create_account("operator", now=now)
        admin, _ = issue_api_key(service, operator.id, ["admin"], pepper=PEPPER, now=now)
        mallory = service.create_account("mallory", now=now, tokens=100_000_000)
        key, _ = issue_api_key(service, mallory.id, ["read", "upload", "stake"], pepper=PEPPER, now=now)
        service.create_model(mallory.id, "mallory_model", now=now)
        return {
            "ids": ids,
            "admin": f"Token {admin.public_id}${admin.secret}",
            "user": f"Token {key.public_id}${key.secret}",
        }
    finally:
        context.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _status_kb(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} in /proc/{pid}/status")


def _measure(
    client: httpx.Client, pid: int, method: str, path: str, **kwargs: object
) -> tuple[int, str, float, float]:
    """(status, error code, server CPU seconds, extra peak RSS in MB) of one request."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    rss_before = _status_kb(pid, "VmRSS")
    cpu_before = _cpu_seconds(pid)
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    time.sleep(0.05)  # let the worker thread finish its bookkeeping
    cpu = _cpu_seconds(pid) - cpu_before
    peak = max(_status_kb(pid, "VmHWM") - rss_before, 0) / 1024
    try:
        code = response.json().get("error", {}).get("code", "") if response.status_code >= 400 else ""
    except ValueError:
        code = "(not json)"
    return response.status_code, code, cpu, peak


def _validation_parquet(ids: list[str]) -> bytes:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "era": np.repeat([f"{e:04d}" for e in range(10)], -(-len(ids) // 10))[: len(ids)],
            "id": ids,
            "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(ids)),
            "feature_a": rng.integers(0, 5, len(ids)).astype(float),
        }
    )
    sink = io.BytesIO()
    frame.to_parquet(sink, index=False)
    return sink.getvalue()


def _run(args: argparse.Namespace, db: str, data_dir: Path) -> int:
    world = _prepare(db, data_dir, args.ids)
    ids: list[str] = world["ids"]  # type: ignore[assignment]
    try:
        server, base = start_serve(
            db,
            data_dir,
            env={
                "KARDASHEV_KEY_PEPPER": PEPPER,
                "KARDASHEV_RATE_LIMIT_PER_KEY": "",
                "KARDASHEV_RATE_LIMIT_PER_ADDRESS": "",
            },
        )
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            admin = {"Authorization": world["admin"]}
            user = {"Authorization": world["user"]}
            put = client.put(
                "/v1/admin/validation-data",
                content=_validation_parquet(ids),
                headers={**admin, "Content-Type": "application/vnd.apache.parquet"},
            )
            put.raise_for_status()
            rng = np.random.default_rng(1)
            valid = pd.DataFrame({"id": ids, "prediction": rng.uniform(0.01, 0.99, len(ids))})
            valid_csv = valid.to_csv(index=False).encode()
            endpoints = {
                "submission": "/v1/models/mallory_model/submissions?round_number=1",
                "diagnostics": "/v1/models/mallory_model/diagnostics",
            }
            _measure(client, server.pid, "GET", "/v1/health")  # warm up
            rows = []
            for endpoint, path in endpoints.items():
                status, code, cpu, peak = _measure(
                    client, server.pid, "POST", path, content=valid_csv,
                    headers={**user, "Content-Type": "text/csv"},
                )  # fmt: skip
                rows.append(("(reference) valid upload", endpoint, len(valid_csv), status, code, cpu, peak))
            reference = {row[1]: row[5] for row in rows}
            for entry in HOSTILE_FILES:
                content = entry.build()
                for endpoint, path in endpoints.items():
                    status, code, cpu, peak = _measure(
                        client, server.pid, "POST", path, content=content,
                        headers={**user, "Content-Type": entry.content_type},
                    )  # fmt: skip
                    rows.append((entry.name, endpoint, len(content), status, code, cpu, peak))
            for request in HOSTILE_REQUESTS:
                content = request.build()
                status, code, cpu, peak = _measure(
                    client, server.pid, "POST", request.path.format(model="mallory_model"), content=content,
                    headers={**user, "Content-Type": request.content_type},
                )  # fmt: skip
                rows.append((request.name, "JSON", len(content), status, code, cpu, peak))
            replay = {**user, "Idempotency-Key": "bench-replay"}
            first = client.post(
                "/v1/models/mallory_model/stake/increase", json={"amount": "1"}, headers=replay
            )
            second = client.post(
                "/v1/models/mallory_model/stake/increase", json={"amount": "1"}, headers=replay
            )
            twisted = client.post(
                "/v1/models/mallory_model/stake/increase", json={"amount": "2"}, headers=replay
            )
            audit = client.get("/v1/admin/ledger/audit", headers=admin).json()
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    print(
        f"kardashev serve on 127.0.0.1, database {db.split(':')[0]}, {args.ids} ids, 50 MB upload limit, "
        f"{os.cpu_count()} CPUs; reference = a valid upload of the whole universe"
    )
    print()
    print("| input | endpoint | bytes | status | code | server CPU s | extra peak RSS MB | CPU / reference |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    failures = []
    for name, endpoint, size, status, code, cpu, peak in rows:
        base = reference.get(endpoint, reference["submission"])
        ratio = cpu / base if base > 0 else float("nan")
        print(
            f"| {name} | {endpoint} | {size:,} | {status} | {code} | {cpu:.2f} | {peak:.1f} | {ratio:.2f} |"
        )
        if name.startswith("(reference)"):
            continue
        if not 400 <= status < 500 or cpu > CPU_TARGET_S or peak > RSS_TARGET_MB:
            failures.append(name + "/" + endpoint)
    print()
    same = first.status_code == second.status_code == 200 and first.json() == second.json()
    print(
        f"replayed stake increase: {first.status_code} then {second.status_code} "
        f"({'same response, posted once' if same else 'DIFFERENT'}); same key, other amount: "
        f"{twisted.status_code} {twisted.json().get('error', {}).get('code')}"
    )
    print(f"ledger audit after the catalogue: {'ok' if audit.get('ok') else 'NOT OK'}")
    hostile = [r for r in rows if not r[0].startswith("(reference)")]
    print(
        f"worst hostile input: {max(r[5] for r in hostile):.2f} s server CPU (target ≤ {CPU_TARGET_S:g}), "
        f"{max(r[6] for r in hostile):.1f} MB extra peak RSS (target ≤ {RSS_TARGET_MB:g}); "
        f"{sum(1 for r in hostile if r[3] >= 500)} 5xx"
    )
    if failures:
        print("MISSED:", ", ".join(failures))
    return 0 if not failures and same and audit.get("ok") and twisted.status_code == 409 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--ids", type=int, default=50_000, help="ids in the round's universe")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="kardashev-abuse-"))
    try:
        with database(args.db, data_dir, name="abuse") as db:
            return _run(args, db, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
