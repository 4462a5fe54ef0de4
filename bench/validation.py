"""Benchmark: submission validation time against merely reading the same file with pandas.

For each size, a Classic submission (``id``, ``prediction``) is written as CSV and as parquet;
the script times :func:`kardashev.tournament.validation.validate_classic` on the bytes (parse,
every rule, alignment to the live universe, checksum) and, as the reference measured in the same
run, ``pandas.read_csv`` / ``pandas.read_parquet`` of the same bytes. The ratio is the cost of the
rules on top of parsing. Best of ``--repeats`` runs.

    .venv/bin/python bench/validation.py                   # 5 000, 50 000 and 200 000 rows
    .venv/bin/python bench/validation.py --sizes 5000 --repeats 5
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from kardashev.tournament.validation import validate_classic


def _best(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rows':>8} {'format':>8} {'validate s':>11} {'pandas read s':>14} {'ratio':>6}")
    for n_rows in args.sizes:
        rng = np.random.default_rng(0)
        live_ids = [f"n{i:012x}" for i in range(n_rows)]
        frame = pd.DataFrame({"id": live_ids, "prediction": rng.random(n_rows)}).sample(
            frac=1.0, random_state=1
        )
        csv = frame.to_csv(index=False).encode()
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        parquet = buffer.getvalue()
        for name, data, reader in (
            ("csv", csv, lambda d=csv: pd.read_csv(io.BytesIO(d))),
            ("parquet", parquet, lambda d=parquet: pd.read_parquet(io.BytesIO(d))),
        ):
            validate = _best(lambda d=data, ids=live_ids: validate_classic(d, live_ids=ids), args.repeats)
            reference = _best(reader, args.repeats)
            print(f"{n_rows:>8} {name:>8} {validate:>11.4f} {reference:>14.4f} {validate / reference:>6.1f}")


if __name__ == "__main__":
    main()
