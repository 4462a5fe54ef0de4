"""Benchmark: Kardashev's batched scorer vs numerai-tools 0.7.2 on CORR, MMC and FNC.

Generates a synthetic tournament era by era with a seeded RNG (never all eras in memory), scores
every model on every era with both libraries — numerai-tools called once per era with all model
columns, the way its users call it — checks the numbers agree and prints the speed ratio and the
peak resident memory of the Kardashev pass.

    .venv/bin/python bench/scoring.py       # 200 models × 100 eras × 5000 stocks × 300 features
    .venv/bin/python bench/scoring.py --eras 5 --models 20 --stocks 1000 --features 50     # quick
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numerai_tools import scoring as numerai_tools
from threadpoolctl import threadpool_limits

from kardashev.data.era import Era
from kardashev.scoring import score_eras

METRICS = ("corr", "mmc", "fnc")


@dataclass(frozen=True)
class Size:
    eras: int
    models: int
    stocks: int
    features: int
    seed: int


def generate_era(size: Size, era_index: int) -> Era:
    """One era of synthetic data; the same (seed, era) always gives the same era."""
    rng = np.random.default_rng([size.seed, era_index])
    features = rng.integers(0, 5, (size.stocks, size.features)).astype(np.float64)
    loadings = rng.normal(size=size.features) / np.sqrt(size.features)
    signal = (features - 2.0) @ loadings
    latent = signal + rng.normal(scale=3.0, size=size.stocks)
    target = np.digitize(latent, np.quantile(latent, [0.05, 0.25, 0.75, 0.95])) / 4.0
    skill = rng.uniform(0.0, 1.0, size.models)
    style = rng.normal(size=(size.features, size.models)) / np.sqrt(size.features)
    raw = (
        skill * signal[:, None]
        + 0.5 * ((features - 2.0) @ style)
        + rng.normal(size=(size.stocks, size.models))
    )
    order = raw.argsort(axis=0).argsort(axis=0)
    predictions = (order + 0.5) / size.stocks
    predictions[:, ::4] = np.round(predictions[:, ::4] * 20) / 20  # a quarter of the models have ties
    meta_model = predictions @ rng.uniform(0.0, 1.0, size.models)
    return Era.build(
        f"{era_index + 1:04d}",
        np.arange(size.stocks),
        predictions=predictions,
        target=target,
        meta_model=meta_model,
        features=features,
    )


def peak_rss_mb() -> float:
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


@dataclass
class Clock:
    """Wall-clock and process CPU seconds accumulated over timed sections."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def run_kardashev(size: Size, model_names: list[str]) -> tuple[pd.DataFrame, Clock, list[float]]:
    """Stream generated eras through ``score_eras``; the generation time is not counted."""
    generation, total = Clock(), Clock()
    rss_after_era: list[float] = []

    def eras() -> Iterator[Era]:
        for index in range(size.eras):
            with generation:
                era = generate_era(size, index)
            yield era
            rss_after_era.append(peak_rss_mb())

    with total:
        table = score_eras(eras(), model_names=model_names, metrics=METRICS)
    return table, Clock(total.wall - generation.wall, total.cpu - generation.cpu), rss_after_era


def run_numerai_tools(size: Size, model_names: list[str]) -> tuple[pd.DataFrame, Clock]:
    """numerai-tools once per era with all model columns (only the scoring calls are timed)."""
    clock = Clock()
    frames = []
    feature_names = [f"feature_{k}" for k in range(size.features)]
    for index in range(size.eras):
        era = generate_era(size, index)
        ids = pd.Index([f"id{i:05d}" for i in range(size.stocks)], name="id")
        predictions = pd.DataFrame(era.predictions, index=ids, columns=model_names)
        targets = pd.Series(era.targets, index=ids, name="target")
        meta_model = pd.Series(era.meta_model, index=ids, name="meta_model")
        features = pd.DataFrame(era.features, index=ids, columns=feature_names)
        with clock:
            corr = numerai_tools.numerai_corr(predictions, targets)
            mmc = numerai_tools.correlation_contribution(predictions, meta_model, targets)
            fnc = numerai_tools.feature_neutral_corr(predictions, features, targets)
        frames.append(
            pd.DataFrame(
                {
                    "era": era.era,
                    "model": model_names,
                    "corr": corr.values,
                    "mmc": mmc.values,
                    "fnc": fnc.values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True), clock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eras", type=int, default=100)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--stocks", type=int, default=5000)
    parser.add_argument("--features", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-9, help="largest allowed |difference|")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both libraries")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.threads):
        return run(args)


def run(args: argparse.Namespace) -> int:
    """Score with both libraries, compare, print the figures; 0 when the numbers agree."""
    size = Size(args.eras, args.models, args.stocks, args.features, args.seed)
    model_names = [f"model_{j:03d}" for j in range(size.models)]
    era_mb = (size.stocks * (size.models + size.features + 2) * 8) / 1e6
    print(
        f"scoring {size.models} models × {size.eras} eras × {size.stocks} stocks, {size.features} features "
        f"(CORR, MMC, FNC), {args.threads} BLAS thread(s); one era of inputs = {era_mb:.0f} MB as float64"
    )
    baseline = peak_rss_mb()
    ours, ours_clock, rss_after_era = run_kardashev(size, model_names)
    ours_peak = peak_rss_mb()
    theirs, theirs_clock = run_numerai_tools(size, model_names)
    for name, clock in (("kardashev", ours_clock), ("numerai-tools", theirs_clock)):
        print(
            f"{name:14s} CPU {clock.cpu:8.2f} s ({clock.cpu / size.eras * 1e3:7.1f} ms/era)   "
            f"wall {clock.wall:8.2f} s ({clock.wall / size.eras * 1e3:7.1f} ms/era)"
        )
    merged = ours.merge(theirs, on=["era", "model"], suffixes=("", "_reference"))
    worst = {m: float(np.nanmax(np.abs(merged[m] - merged[f"{m}_reference"]))) for m in METRICS}
    nan_mismatch = sum(int((merged[m].isna() != merged[f"{m}_reference"].isna()).sum()) for m in METRICS)
    agree = (
        len(merged) == size.eras * size.models and nan_mismatch == 0 and max(worst.values()) <= args.tolerance
    )
    print(
        "max |difference|: "
        + ", ".join(f"{m.upper()} {v:.1e}" for m, v in worst.items())
        + f"  → {'agree' if agree else 'DISAGREE'}"
    )
    print(
        f"speed ratio    {theirs_clock.cpu / ours_clock.cpu:8.1f}× in CPU time, "
        f"{theirs_clock.wall / ours_clock.wall:.1f}× in wall time (target ≥ 20×)"
    )
    print(
        f"peak RSS       {ours_peak:8.0f} MB after the Kardashev pass: {baseline:.0f} MB before scoring, "
        f"{rss_after_era[0]:.0f} MB after era 1, {rss_after_era[-1]:.0f} MB after era {size.eras} "
        "(bounded by one era: it does not grow with the number of eras)"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
