"""Benchmark: generate, write, read and score a synthetic dataset with memory bounded by about one era.

Each phase runs in a fresh Python process and reports its own peak RSS (``ru_maxrss``) above
the RSS it had after imports, split into what the first era cost (one-time: lazy imports, allocator
arenas, the generator's cache of the next eras' state) and what the remaining eras added (the
parquet footers, one entry per column per era, held until the files close). The reference is
the size of the whole dataset held in memory (all eras of features, targets, predictions,
exposures and returns), measured from one era;
``--reference`` also loads the whole Classic file with ``pandas.read_parquet`` in a process of
its own, for comparison.

The "score inputs" phase streams ``validation.parquet`` (every feature, every target, the meta model
and the multi-column benchmark file) through :func:`kardashev.scoring.io.open_scoring_inputs`, as
``kardashev score --features all`` does, and reports its peak RSS in eras of the float64 feature
matrix it hands to the scorer; with ``--features 2376`` (Numerai v5's count) the files have
Numerai's shape.

    .venv/bin/python bench/data.py                       # 5000 stocks × 500 eras × 50 models
    .venv/bin/python bench/data.py --stocks 1000 --eras 50 --models 20 --reference
    .venv/bin/python bench/data.py --stocks 2000 --eras 25 --models 10 --features 2376 \
        --validation-fraction 0.8 --reference
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phase_generate(args: argparse.Namespace) -> dict:
    from kardashev.data.synthetic import (
        CrowdConfig,
        MarketConfig,
        generate_crowd,
        generate_market,
        write_dataset,
    )

    base = _rss_mb()
    config = MarketConfig(n_stocks=args.stocks, n_eras=args.eras, seed=args.seed, n_features=args.features)
    market = generate_market(config)
    crowd = generate_crowd(market, CrowdConfig(n_models=args.models, seed=args.seed))
    era = market.era(0)
    predictions = crowd.predictions(era)
    arrays = {id(v): v for v in vars(era).values() if hasattr(v, "nbytes") and v is not era.factor_covariance}
    era_bytes = sum(a.nbytes for a in arrays.values()) + predictions.nbytes
    era_bytes += sum(len(str(i)) + 49 for i in era.ids)  # the ids as Python strings
    del era, predictions
    started = time.perf_counter()
    last = [started]

    first_era_mb = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 1:
            first_era_mb[0] = _peak_mb()
        if now - last[0] > 15 or done == total:
            print(
                f"  generated {done}/{total} eras, {now - started:.0f} s, RSS {_rss_mb():.0f} MB",
                file=sys.stderr,
                flush=True,
            )
            last[0] = now

    files = write_dataset(
        market, crowd, args.out, on_era=progress, validation_fraction=args.validation_fraction
    )
    seconds = time.perf_counter() - started
    disk = sum(p.stat().st_size for p in Path(args.out).iterdir())
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "first_era_mb": first_era_mb[0],
        "era_mb": era_bytes / 2**20,
        "dataset_mb": era_bytes * args.eras / 2**20,
        "disk_mb": disk / 2**20,
        "rows": files.n_rows,
    }


def _phase_read(args: argparse.Namespace) -> dict:
    import numpy as np

    from kardashev.data.numerai import iter_classic, iter_predictions

    out = Path(args.out)
    base = _rss_mb()
    started = time.perf_counter()
    checksum, rows, first_era_mb = 0.0, 0, 0.0
    for (_, frame), (_, predictions) in zip(
        iter_classic(out / "validation.parquet"),
        iter_predictions(out / "validation_predictions.parquet"),
        strict=True,
    ):
        features = frame.filter(like="feature_").to_numpy()
        target = frame["target"].to_numpy()
        checksum += float(np.corrcoef(features.mean(axis=1), target)[0, 1])
        checksum += float(predictions.iloc[:, 1:].to_numpy().mean())
        rows += len(frame)
        first_era_mb = first_era_mb or _peak_mb()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "first_era_mb": first_era_mb,
        "rows": rows,
    }


def _phase_score(args: argparse.Namespace) -> dict:
    import numpy as np

    from kardashev.scoring.io import open_scoring_inputs

    out = Path(args.out)
    base = _rss_mb()
    started = time.perf_counter()
    inputs = open_scoring_inputs(
        out / "validation_predictions.parquet",
        out / args.data_file,
        meta_model_path=out / "meta_model.parquet",
        benchmark_path=out / "validation_benchmark_models.parquet",
        feature_set="all",
        target=["target", "target_neutral", "target_short", "target_long"],
    )
    opened_mb = _peak_mb()
    checksum, rows, first_era_mb, era_mb, n_features = 0.0, 0, 0.0, 0.0, 0
    for era in inputs.iter_scoring_eras():
        features = era.inputs.features
        n_features = features.shape[1]
        era_mb = max(era_mb, (features.nbytes + era.inputs.predictions.nbytes) / 2**20)
        checksum += float(np.nansum(features.mean(axis=1) * era.inputs.target))
        rows += len(era.inputs.target)
        first_era_mb = first_era_mb or _peak_mb()
    return {
        "seconds": time.perf_counter() - started,
        "base_mb": base,
        "opened_mb": opened_mb,
        "peak_mb": _peak_mb(),
        "first_era_mb": first_era_mb,
        "era_mb": era_mb,
        "rows": rows,
        "features": n_features,
        "unresolved": {k: len(v) for k, v in inputs.unresolved.items()},
    }


def _phase_repack(args: argparse.Namespace) -> dict:
    """Rewrite validation.parquet as pandas does by default: row groups of up to 1 Mi rows, many eras each."""
    import pyarrow.parquet as pq

    out = Path(args.out)
    table = pq.read_table(out / "validation.parquet")
    pq.write_table(table, out / "validation_packed.parquet", row_group_size=2**20, compression="zstd")
    return {"row_groups": pq.ParquetFile(out / "validation_packed.parquet").metadata.num_row_groups}


def _phase_reference(args: argparse.Namespace) -> dict:
    import pandas as pd

    base = _rss_mb()
    started = time.perf_counter()
    frame = pd.read_parquet(Path(args.out) / "validation.parquet")
    return {
        "seconds": time.perf_counter() - started,
        "base_mb": base,
        "peak_mb": _peak_mb(),
        "rows": len(frame),
    }


def _run_phase(phase: str, args: argparse.Namespace, *, data_file: str = "validation.parquet") -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--out", str(args.out), "--data-file", data_file]
    command += ["--stocks", str(args.stocks), "--eras", str(args.eras), "--models", str(args.models)]
    command += ["--seed", str(args.seed), "--features", str(args.features)]
    command += ["--validation-fraction", str(args.validation_fraction)]
    result = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocks", type=int, default=5000)
    parser.add_argument("--eras", type=int, default=500)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", type=int, default=40, help="features per row (Numerai v5: 2376)")
    parser.add_argument(
        "--validation-fraction", type=float, default=0.2, help="share of the eras in validation.parquet"
    )
    parser.add_argument("--out", type=Path, default=None, help="dataset folder (default: a temporary one)")
    parser.add_argument("--reference", action="store_true", help="also load the whole file with pandas")
    phases = ["generate", "read", "score", "repack", "reference"]
    parser.add_argument("--phase", choices=phases, help=argparse.SUPPRESS)
    parser.add_argument("--data-file", default="validation.parquet", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phases = {
            "generate": _phase_generate,
            "read": _phase_read,
            "score": _phase_score,
            "repack": _phase_repack,
            "reference": _phase_reference,
        }
        print(json.dumps(phases[args.phase](args)))
        return
    temporary = args.out is None
    if temporary:
        args.out = Path(tempfile.mkdtemp(prefix="kardashev-bench-data-"))
    try:
        print(
            f"dataset: {args.stocks} stocks × {args.eras} eras × {args.models} models × "
            f"{args.features} features → {args.out}"
        )
        generated = _run_phase("generate", args)
        read = _run_phase("read", args)
        scored = _run_phase("score", args)
        print(f"one era in memory          {generated['era_mb']:10.1f} MB")
        print(f"whole dataset in memory    {generated['dataset_mb']:10.1f} MB   (reference)")
        print(f"files on disk              {generated['disk_mb']:10.1f} MB   ({generated['rows']:,} rows)")
        era_mb, dataset_mb = generated["era_mb"], generated["dataset_mb"]
        for name, result in (("generate + write", generated), ("read era by era", read)):
            growth = result["peak_mb"] - result["base_mb"]
            later = result["peak_mb"] - result["first_era_mb"]
            print(
                f"{name:<18} {result['seconds']:7.1f} s   peak RSS {result['peak_mb']:7.1f} MB = "
                f"{result['base_mb']:.0f} after imports + {result['first_era_mb'] - result['base_mb']:.0f} "
                f"by the end of era 1 + {later:.0f} over the other {args.eras - 1} eras"
            )
            print(
                f"{'':<18} growth {growth:6.1f} MB = {growth / era_mb:5.1f} eras = "
                f"{growth / dataset_mb:.4f} × dataset; after era 1: {later / era_mb:.1f} eras"
            )
        repacked = _run_phase("repack", args)
        packed = _run_phase("score", args, data_file="validation_packed.parquet")
        for name, result in (("score inputs", scored), ("… packed file", packed)):
            growth = result["peak_mb"] - result["base_mb"]
            later = result["peak_mb"] - result["first_era_mb"]
            print(
                f"{name:<18} {result['seconds']:7.1f} s   peak RSS {result['peak_mb']:7.1f} MB = "
                f"{result['base_mb']:.0f} after imports + {result['opened_mb'] - result['base_mb']:.0f} "
                "opening (keys, targets, predictions, meta model, benchmark) + "
                f"{result['first_era_mb'] - result['opened_mb']:.0f} by the end of era 1 + {later:.0f} "
                f"over the other eras ({result['rows']:,} rows × targets scored)"
            )
            print(
                f"{'':<18} {result['features']} features: growth {growth:6.1f} MB = "
                f"{growth / max(result['era_mb'], 1e-9):4.1f} eras of the float64 features + predictions "
                f"({result['era_mb']:.1f} MB); after era 1: {later / max(result['era_mb'], 1e-9):.1f} eras"
            )
        print(
            f"{'':<18} packed: validation.parquet rewritten in {repacked['row_groups']} row group(s) of "
            f"up to 1 Mi rows (pandas' default), read in batches; unresolved eras: {scored['unresolved']}"
        )
        if args.reference:
            whole = _run_phase("reference", args)
            growth = whole["peak_mb"] - whole["base_mb"]
            ratio = growth / max(read["peak_mb"] - read["base_mb"], 1e-9)
            print(
                f"{'pandas whole file':<18} {whole['seconds']:7.1f} s   peak RSS {whole['peak_mb']:7.1f} MB "
                f"(+{growth:6.1f} MB, validation.parquet only) = {ratio:.1f} × the era-by-era reader's growth"
            )
    finally:
        if temporary:
            shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
