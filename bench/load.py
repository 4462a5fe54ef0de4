"""Load test of the HTTP API: a bounded burst of concurrent uploads from many accounts to a local server.

It prepares a fresh database (accounts, keys, models, one open Classic round), starts ``kardashev serve``
on 127.0.0.1 in a subprocess, then

1. **reference**: uploads one file per model for a few models one after another (concurrency 1);
2. **burst**: every model uploads ``--per-model`` files (its own uploads in sequence, all models at once,
   at most ``--concurrency`` requests in flight), each upload replacing the model's previous one;

and reports throughput, p50/p95/max latency and the burst/reference throughput ratio. Afterwards it counts
the rows: every model must have exactly one submission for the round (none lost, none duplicated) and the
stored predictions must be the model's last upload. It stops by itself after ``--max-seconds``.

    .venv/bin/python bench/load.py                                  # 60 accounts x 2 models x 3 uploads
    .venv/bin/python bench/load.py --accounts 20 --per-model 2 --db postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from local_server import database, start_serve


@dataclass(frozen=True)
class Upload:
    model: str
    token: str
    seq: int
    content: bytes


def _prepare(args: argparse.Namespace, data_dir: Path) -> tuple[dict[str, str], list[str], int]:
    """Accounts, keys, models and an open round, written straight through the service."""
    from kardashev.api.auth import issue_api_key
    from kardashev.api.context import ApiContext, utc_now
    from kardashev.api.settings import Settings

    context = ApiContext.open(Settings(database_url=args.db, data_dir=data_dir))
    try:
        service, now = context.service, utc_now()
        ids = [f"n{i:05d}" for i in range(args.stocks)]
        number = max((r.number for r in service.list_rounds()), default=0) + 1
        service.open_round(
            number, universe=ids, close_time=now + dt.timedelta(days=1), now=now, horizon_days=20
        )
        tokens: dict[str, str] = {}
        run = f"{int(time.time()) % 100000}"
        for a in range(args.accounts):
            account = service.create_account(f"load_{run}_{a}", now=now)
            key, _ = issue_api_key(service, account.id, ["upload", "read"], pepper="", now=now)
            for m in range(args.models_per_account):
                model = service.create_model(account.id, f"load_{run}_{a}_{m}", now=now)
                tokens[model.name] = f"Token {key.public_id}${key.secret}"
        return tokens, ids, number
    finally:
        context.close()


def _csv(ids: list[str], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return (
        pd.DataFrame({"id": ids, "prediction": rng.uniform(0.01, 0.99, len(ids))})
        .to_csv(index=False)
        .encode()
    )


async def _send(client: httpx.AsyncClient, upload: Upload, number: int, latencies: list[float]) -> int:
    started = time.perf_counter()
    response = await client.post(
        f"/v1/models/{upload.model}/submissions",
        params={"round_number": number},
        content=upload.content,
        headers={"Authorization": upload.token, "Content-Type": "text/csv"},
    )
    latencies.append(time.perf_counter() - started)
    return response.status_code


async def _run(base: str, batches: list[list[Upload]], number: int, concurrency: int, deadline: float):
    """Each batch (one model's uploads) runs in order; batches run concurrently."""
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: list[int] = []
    last_ok: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def model_task(batch: list[Upload]) -> None:
            for upload in batch:
                if time.monotonic() > deadline:
                    return
                async with semaphore:
                    status = await _send(client, upload, number, latencies)
                statuses.append(status)
                if status == 201:
                    last_ok[upload.model] = upload.seq

        started = time.perf_counter()
        await asyncio.gather(*(model_task(batch) for batch in batches))
        elapsed = time.perf_counter() - started
    return latencies, statuses, last_ok, elapsed


def _summary(name: str, latencies: list[float], statuses: list[int], elapsed: float) -> dict[str, float]:
    values = np.asarray(latencies) * 1000.0
    ok = sum(1 for s in statuses if s == 201)
    result = {
        "requests": len(statuses),
        "ok": ok,
        "throughput": ok / elapsed if elapsed > 0 else float("nan"),
        "p50_ms": float(np.percentile(values, 50)) if values.size else float("nan"),
        "p95_ms": float(np.percentile(values, 95)) if values.size else float("nan"),
        "max_ms": float(values.max()) if values.size else float("nan"),
    }
    print(
        f"{name:>9}: {result['ok']}/{result['requests']} uploads ok in {elapsed:.2f} s -> "
        f"{result['throughput']:.1f} uploads/s; latency p50 {result['p50_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms, max {result['max_ms']:.0f} ms"
    )
    return result


def _verify(args, data_dir: Path, number: int, expected: dict[str, bytes]) -> tuple[int, int, int]:
    """(models with exactly one row, lost, duplicated-or-wrong) from the database after the burst."""
    from kardashev.api.context import ApiContext
    from kardashev.api.settings import Settings

    context = ApiContext.open(Settings(database_url=args.db, data_dir=data_dir, create_schema=False))
    try:
        service = context.service
        rows = service.list_submissions(round_number=number)
        by_model: dict[int, list] = {}
        for row in rows:
            by_model.setdefault(row.model_id, []).append(row)
        good = lost = wrong = 0
        for name, content in expected.items():
            model = service.get_model(name)
            found = by_model.get(model.id, [])
            if not found:
                lost += 1
                continue
            if len(found) > 1:
                wrong += 1
                continue
            stored = service.submission_predictions(found[0])
            frame = pd.read_csv(pd.io.common.BytesIO(content)).set_index("id")["prediction"]
            if np.allclose(stored.reindex(frame.index).to_numpy(), frame.to_numpy()):
                good += 1
            else:
                wrong += 1
        return good, lost, wrong
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--models-per-account", type=int, default=2)
    parser.add_argument("--per-model", type=int, default=3, help="uploads per model (each replaces the last)")
    parser.add_argument("--stocks", type=int, default=500, help="ids per uploaded file")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reference-uploads", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard stop for the whole run")
    args = parser.parse_args(argv)
    for name in ("accounts", "models_per_account", "per_model", "stocks", "concurrency", "reference_uploads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.accounts * args.models_per_account * args.per_model > 20_000:
        parser.error("at most 20000 uploads per run")
    deadline = time.monotonic() + args.max_seconds

    data_dir = Path(tempfile.mkdtemp(prefix="kardashev-load-"))
    try:
        with database(args.db, data_dir, name="load") as url:
            args.db = url
            return _measure(args, data_dir, deadline)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _measure(args: argparse.Namespace, data_dir: Path, deadline: float) -> int:
    server = None
    try:
        tokens, ids, number = _prepare(args, data_dir)
        models = list(tokens)
        try:
            server, base = start_serve(
                args.db,
                data_dir,
                extra_args=[
                    "--workers",
                    str(args.workers),
                    "--max-upload-bytes",
                    str(64 * 1024 * 1024),
                    "--dev",
                ],
                env={
                    "KARDASHEV_RATE_LIMIT_PER_ADDRESS": "",
                    "KARDASHEV_RATE_LIMIT_PER_KEY": "",
                },  # one address
            )
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 2

        print(
            f"{len(models)} models in {args.accounts} accounts, {args.stocks} ids per file, "
            f"concurrency {args.concurrency}, {args.workers} worker(s), database {args.db.split(':')[0]}, "
            f"{os.cpu_count()} CPUs"
        )
        reference_models = models[: args.reference_uploads]
        reference = [[Upload(m, tokens[m], 0, _csv(ids, seed=i))] for i, m in enumerate(reference_models)]
        lat, stat, _, elapsed = asyncio.run(_run(base, reference, number, 1, deadline))
        ref = _summary("reference", lat, stat, elapsed)

        contents = {
            (m, k): _csv(ids, seed=1000 + i * args.per_model + k)
            for i, m in enumerate(models)
            for k in range(args.per_model)
        }
        batches = [[Upload(m, tokens[m], k, contents[(m, k)]) for k in range(args.per_model)] for m in models]
        lat, stat, last_ok, elapsed = asyncio.run(_run(base, batches, number, args.concurrency, deadline))
        burst = _summary("burst", lat, stat, elapsed)
        failed = [s for s in stat if s != 201]
        expected = {m: contents[(m, k)] for m, k in last_ok.items()}
        for m in reference_models:  # reference uploads count too when the burst did not reach the model
            expected.setdefault(m, reference[reference_models.index(m)][0].content)
        good, lost, wrong = _verify(args, data_dir, number, expected)
        print(
            f"rows: {good} models with exactly their last upload stored, {lost} lost, "
            f"{wrong} duplicated or wrong; {len(failed)} failed requests {sorted(set(failed))}"
        )
        print(f"ratio burst/reference throughput: {burst['throughput'] / ref['throughput']:.2f}")
        if time.monotonic() > deadline:
            print("stopped at --max-seconds before every upload was sent")
        return 0 if lost == 0 and wrong == 0 and not failed else 1
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
