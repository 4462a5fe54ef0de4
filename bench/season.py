"""One scoring day at Numerai's size, through the tournament service, with uploads going on meanwhile.

Set-up (not timed): ``--models`` accounts and models (80% staked), ``--rounds`` Classic rounds over the
same ``--stocks`` universe, every model submitting to every round, each round closed through the
service (the close stacks, gaussianizes and stores the round's prediction matrix; its time is printed).
Submissions are stored straight through the repository in bulk (the upload path is what the latency
stream below and ``bench/load.py`` measure).

Then **one scoring day**: round ``r`` is on its day ``r`` (overlapping rounds, the oldest on its final
day, resolved with payouts), each scored with CORR, MMC, BMC, FNC, TC with ``--bags`` stake-dropout bags
and True Return (each model's own optimized portfolio, warm-started), by the service's
``StandardScorer``. Printed: the time of each component (summed over rounds), per round-day and per
model-round, the peak RSS growth against one round's prediction matrix plus its features, and the
p50/p95 latency of a stream of uploads to an open round through ``kardashev serve`` (on the same
database) while idle vs while the day is scored, with the count of 5xx answers; and one round-day's TC
and True Return in process vs on a local Ray cluster of ``--ray-workers`` workers (throughput ratio).

    .venv/bin/python bench/season.py                                   # 5000 stocks x 2000 models x 20 rounds
    .venv/bin/python bench/season.py --models 200 --rounds 4 --stocks 2000     # a quick look
    .venv/bin/python bench/season.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/season.py --ray-workers 0                  # without the Ray comparison

BLAS runs single-threaded (one core for the scorer, the other for the server), as a production
scorer process pinned to its core would.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from local_server import database, start_serve

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
UPLOADERS = 8


def _rss_mb() -> float:
    """Current resident set size (MB) from /proc (peak tracked by the sampler thread)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakSampler:
    """Samples RSS every 20 ms in a thread; ``peak`` since the last ``reset``."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def reset(self) -> float:
        self.peak = _rss_mb()
        return self.peak

    def stop(self) -> None:
        self._stop.set()


def _market(n_stocks: int, n_models: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, a latent signal, and every model's predictions (ranks in (0, 1) of skill·signal + noise)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"n{i:06d}" for i in range(n_stocks)], dtype=object)
    signal_ = rng.standard_normal(n_stocks)
    skill = rng.uniform(0.0, 0.3, n_models)
    raw = signal_[:, None] * skill + rng.standard_normal((n_stocks, n_models))
    ranks = (np.argsort(np.argsort(raw, axis=0), axis=0) + 0.5) / n_stocks
    return ids, signal_, ranks


def _setup(args: argparse.Namespace, service, store, ids, predictions) -> list[int]:  # type: ignore[no-untyped-def]
    from kardashev.tournament import UNITS_PER_TOKEN
    from kardashev.tournament.tables import encode_vector

    model_ids = []
    rng = np.random.default_rng(1)
    for k in range(args.models):
        account = service.create_account(f"a{k}", now=T0, tokens=1000 * UNITS_PER_TOKEN)
        model = service.create_model(account.id, f"m{k}", now=T0)
        model_ids.append(model.id)
        if rng.random() < 0.8:
            service.stake_increase(model.id, int(rng.uniform(1, 100) * UNITS_PER_TOKEN), now=T0)
    blobs = [
        encode_vector(pd.Series(predictions[:, k], index=ids), name="prediction") for k in range(args.models)
    ]
    universe = [str(i) for i in ids]
    for number in range(1, args.rounds + 1):
        close = T0 + dt.timedelta(hours=number)
        service.open_round(
            number,
            universe=universe,
            close_time=close,
            now=T0,
            horizon_days=args.rounds,
            late_close_time=close,
            resolve_time=close + dt.timedelta(minutes=1),
        )
        order = np.random.default_rng(number).permutation(args.models)  # every round its own matrix
        with store() as repo:
            for k in range(args.models):
                data = blobs[order[k]]
                sha = repo.put_blob(data, kind="predictions")
                repo.upsert_submission(
                    round_number=number,
                    model_id=model_ids[k],
                    sha256=sha,
                    checksum=sha,
                    n_rows=len(universe),
                    submitted_at=T0 + dt.timedelta(minutes=1),
                    late=False,
                    filename=None,
                )
    return model_ids


def _day(number: int, ids: np.ndarray, signal_: np.ndarray, n_features: int):  # type: ignore[no-untyped-def]
    """The day's market data: binned target, residual returns, exposures, integer features, ADV."""
    from kardashev.data.binning import bin_targets
    from kardashev.tournament import round_day

    rng = np.random.default_rng(100 + number)
    n = ids.size
    returns = 0.01 * (0.1 * signal_ + rng.standard_normal(n))
    sectors = rng.integers(0, 11, n)
    exposures = np.column_stack([np.eye(11)[sectors], rng.standard_normal((n, 9))])
    features = rng.integers(0, 5, (n, n_features)).astype(np.int8)
    return round_day(
        number,
        ids,
        bin_targets(returns[:, None])[:, 0],
        round_number=number,
        realized_returns=returns,
        exposures=exposures,
        features=features,
        benchmark=(signal_ + rng.standard_normal(n)),
        adv=np.exp(rng.normal(16, 1, n)),
    )


class UploadStream:
    """Uploads to an open round through the HTTP API, ``UPLOADERS`` at a time, until stopped."""

    def __init__(self, base: str, round_number: int, tokens: dict[str, str], ids: list[str]) -> None:
        self.base, self.round_number, self.tokens, self.ids = base, round_number, tokens, ids
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _csv(self, seed: int) -> bytes:
        values = np.random.default_rng(seed).uniform(0.01, 0.99, len(self.ids))
        return pd.DataFrame({"id": self.ids, "prediction": values}).to_csv(index=False).encode()

    async def _run(self, limit: int | None) -> None:
        counter = iter(range(10**9))
        async with httpx.AsyncClient(base_url=self.base, timeout=120) as client:

            async def worker(model: str, token: str) -> None:
                while not self._stop.is_set() and (limit is None or len(self.latencies) < limit):
                    content = self._csv(next(counter))
                    started = time.perf_counter()
                    response = await client.post(
                        f"/v1/models/{model}/submissions",
                        params={"round_number": self.round_number},
                        content=content,
                        headers={"Authorization": token, "Content-Type": "text/csv"},
                    )
                    self.latencies.append(time.perf_counter() - started)
                    self.statuses.append(response.status_code)

            await asyncio.gather(*(worker(m, t) for m, t in self.tokens.items()))

    def run_count(self, count: int) -> None:
        asyncio.run(self._run(count))

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(None)), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(120)

    def summary(self) -> str:
        if not self.latencies:
            return "no uploads"
        ms = np.asarray(self.latencies) * 1000
        errors = sum(1 for s in self.statuses if s >= 500)
        failed = sum(1 for s in self.statuses if s != 201)
        return (
            f"{len(ms)} uploads, p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
            f"max {ms.max():.0f} ms, {errors} 5xx, {failed} not 201"
        )

    def p95(self) -> float:
        return float(np.percentile(self.latencies, 95)) if self.latencies else float("nan")


def _start_server(
    args: argparse.Namespace, db: str, data_dir: Path, service, ids
) -> tuple[subprocess.Popen, UploadStream]:  # type: ignore[no-untyped-def]
    from kardashev.api.auth import issue_api_key

    number = args.rounds + 1
    service.open_round(number, universe=list(ids), close_time=T0 + dt.timedelta(days=3650), now=T0)
    tokens = {}
    for u in range(UPLOADERS):
        account = service.create_account(f"uploader{u}", now=T0)
        key, _ = issue_api_key(service, account.id, ["upload", "read"], pepper="", now=T0)
        model = service.create_model(account.id, f"uploader_model{u}", now=T0)
        tokens[model.name] = f"Token {key.public_id}${key.secret}"
    server, base = start_serve(  # a bench key with an empty pepper (--dev); no rate limits: the
        db,  # stream measures latency, not limits
        data_dir,
        extra_args=["--workers", "1", "--max-upload-bytes", str(64 * 2**20), "--dev"],
        env={"KARDASHEV_RATE_LIMIT_PER_ADDRESS": "", "KARDASHEV_RATE_LIMIT_PER_KEY": ""},
    )
    return server, UploadStream(base, number, tokens, [str(i) for i in ids])


def _compare_ray(args: argparse.Namespace, day, workers: int) -> str:  # type: ignore[no-untyped-def]
    """TC (with bags) and True Return of one round-day in process vs on a local Ray cluster."""
    from kardashev.contribution.scores import ContributionOptions, score_era_all
    from kardashev.execution import LocalExecutor, RayExecutor
    from kardashev.portfolio import OptimizerConfig

    _, _, predictions = _market(args.stocks, args.models, seed=0)
    stakes = np.random.default_rng(2).uniform(0.0, 100.0, args.models)
    era = day.with_(
        predictions=predictions, model_names=tuple(f"m{k}" for k in range(args.models)), stakes=stakes
    )
    options = ContributionOptions(optimizer_config=OptimizerConfig(), tc_bags=args.bags)
    names = ("tc", "true_return")
    with LocalExecutor() as local:
        started = time.perf_counter()
        in_process = score_era_all(era, names, options=options, executor=local)
        local_s = time.perf_counter() - started
    with RayExecutor(num_workers=workers) as ray:
        score_era_all(
            era.models(range(min(64, args.models))), names, options=options, executor=ray
        )  # warm-up
        started = time.perf_counter()
        remote = score_era_all(era, names, options=options, executor=ray)
        ray_s = time.perf_counter() - started
    difference = max(float(np.max(np.abs(in_process[n] - remote[n]))) for n in names)
    return (
        f"one round-day's TC ({args.bags} bags) + True Return: in process {local_s:.1f} s, "
        f"Ray with {workers} local workers {ray_s:.1f} s: throughput ratio {local_s / ray_s:.2f}; "
        f"largest difference {difference:.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocks", type=int, default=5000)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--features", type=int, default=300)
    parser.add_argument("--bags", type=int, default=20)
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--idle-uploads", type=int, default=60)
    parser.add_argument("--no-uploads", action="store_true", help="skip the server and the upload stream")
    parser.add_argument(
        "--ray-workers", type=int, default=2, help="compare one round-day on a local Ray cluster (0: skip)"
    )
    args = parser.parse_args(argv)

    from kardashev.portfolio import OptimizerConfig
    from kardashev.store import open_store
    from kardashev.tournament import ROUND_SCORES, PayoutConfig, StandardScorer, TournamentService

    sampler = PeakSampler()
    work = Path(tempfile.mkdtemp(prefix="kardashev-season-"))
    server = None
    try:
        with database(args.db, work, name="season") as db:
            store = open_store(db, data_dir=work)
            timings: dict[str, float] = {}
            scorer = StandardScorer(
                optimizer_config=OptimizerConfig(), tc_bags=args.bags, scores=ROUND_SCORES, timings=timings
            )
            service = TournamentService(
                store,
                scorer=scorer,
                payout=PayoutConfig(score_multipliers={"corr": 0.5, "mmc": 2.0, "tc": 1.0}),
            )
            started = time.perf_counter()
            ids, signal_, predictions = _market(args.stocks, args.models, seed=0)
            _setup(args, service, store, ids, predictions)
            del predictions
            print(
                f"set-up: {args.models} models, {args.rounds} rounds x {args.stocks} stocks stored in "
                f"{time.perf_counter() - started:.0f} s; database {db.split(':')[0]}; {os.cpu_count()} CPUs, "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            started = time.perf_counter()
            for number in range(1, args.rounds + 1):
                service.close_round(number, now=T0 + dt.timedelta(hours=number))
            close_s = (time.perf_counter() - started) / args.rounds
            print(
                f"close (stack, gaussianize and store the matrix, freeze stakes): {close_s:.2f} s per round"
            )

            stream = None
            if not args.no_uploads:
                server, stream = _start_server(args, db, work, service, ids)
                stream.run_count(args.idle_uploads)
                idle = stream.summary()
                idle_p95 = stream.p95()
                stream = UploadStream(stream.base, stream.round_number, stream.tokens, stream.ids)
                print(f"uploads while idle:   {idle}")

            days = {number: _day(number, ids, signal_, args.features) for number in range(1, args.rounds + 1)}
            baseline = sampler.reset()
            if stream is not None:
                stream.start()
            started = time.perf_counter()
            round_days = []
            for number in range(1, args.rounds + 1):
                t = time.perf_counter()
                now = T0 + dt.timedelta(hours=number, minutes=5)
                if number == args.rounds:
                    service.resolve_round(number, now=now, day=days[number])
                else:
                    service.score_round(number, days[number], now=now)
                round_days.append(time.perf_counter() - t)
            day_s = time.perf_counter() - started
            if stream is not None:
                stream.stop()
            peak = sampler.peak - baseline
    finally:
        sampler.stop()
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=30)
            if server.poll() is None:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)

    model_rounds = args.models * args.rounds
    size = f"{args.rounds} rounds x {args.models} models x {args.stocks} stocks"
    print(f"\none scoring day: {size} in {day_s:.1f} s")
    print(f"  per round-day: median {np.median(round_days):.2f} s, max {max(round_days):.2f} s")
    for name, seconds in timings.items():
        print(f"  {name:24s} {seconds:8.2f} s  {seconds / args.rounds:7.3f} s per round-day")
    scores_s = timings.get("gaussianize_meta_model", 0) + timings.get("scores", 0) + timings.get("tc", 0)
    print(f"  CORR+MMC+BMC+FNC+TC({args.bags} bags) per round-day: {scores_s / args.rounds:.2f} s")
    if "true_return" in timings:
        print(f"  True Return per model: {1000 * timings['true_return'] / model_rounds:.2f} ms")
    print(f"  per model-round, everything: {1000 * day_s / model_rounds:.2f} ms")
    one_round = args.stocks * args.models * 8 / 2**20 + args.stocks * args.features * 8 / 2**20
    print(
        f"peak RSS growth while scoring: {peak:.0f} MB = {peak / one_round:.2f} x one round's predictions "
        f"+ features ({one_round:.0f} MB as float64)"
    )
    if stream is not None:
        print(f"uploads while scoring: {stream.summary()}")
        print(f"upload p95 scoring / idle: {stream.p95() / idle_p95:.2f}")
    if args.ray_workers > 0:
        print(_compare_ray(args, days[1], args.ray_workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
