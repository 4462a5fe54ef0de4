"""Files laid out exactly as Numerai's downloads, written with plain pandas (as Numerai's are).

Classic v5: ``validation.parquet`` (index ``id``, zero-padded ``era``, ``data_type``, int8 features,
``target`` (= ``target_cyrusd_20``), ``target_cyrusd_20``, ``target_teager2b_60``, NaN in the newest,
unresolved eras), ``live.parquet``, ``features.json`` (``feature_sets`` and ``targets``),
``validation_example_preds.parquet`` / ``live_example_preds.parquet`` (index ``id``, ``prediction``),
``validation_benchmark_models.parquet`` (one column per benchmark model) and ``meta_model.parquet``.
Signals v2.1 under ``signals/``: ``validation.parquet`` (``numerai_ticker``, ``composite_figi``,
``date`` as timestamps, ``data_type``, features, ``target``, ``target_chili_60``), the
``validation_neutralizer.parquet`` / ``validation_sample_weights.parquet`` side files,
``validation_example_preds.parquet`` and ``live.parquet``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

N_ERAS, N_STOCKS, N_FEATURES = 8, 80, 12
UNRESOLVED_20, UNRESOLVED_60 = 2, 4  # newest eras whose 20-day / 60-day targets are still NaN
FIRST_ERA = 1100
BENCHMARKS = ("v52_lgbm_cyrusd20", "v52_lgbm_teager2b20")
TARGETS = ("target", "target_cyrusd_20", "target_teager2b_60")


def _buckets(values: np.ndarray) -> np.ndarray:
    edges = np.quantile(values, [0.05, 0.25, 0.75, 0.95])
    return (np.digitize(values, edges) / 4).astype(np.float32)


def _rank(values: np.ndarray) -> np.ndarray:
    return (pd.Series(values).rank(method="average").to_numpy() - 0.5) / len(values)


def write_classic(directory: Path, *, seed: int = 0) -> dict[str, Path]:
    """Numerai Classic v5 validation / live files and their companions; returns their paths."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    features = [f"feature_{word}_{i}" for i, word in enumerate(["amber", "basalt", "cobalt"] * 4)]
    eras = [f"{FIRST_ERA + e:04d}" for e in range(N_ERAS)]
    frames, bench, meta, example = [], [], [], []
    for e, era in enumerate(eras):
        ids = [f"n{rng.integers(16**12):012x}" for _ in range(N_STOCKS)]
        x = rng.integers(0, 5, (N_STOCKS, N_FEATURES)).astype(np.int8)
        signal = x @ rng.normal(size=N_FEATURES) + rng.normal(size=N_STOCKS) * 3
        frame = pd.DataFrame(x, columns=features, index=pd.Index(ids, name="id"))
        frame.insert(0, "data_type", "validation")
        frame.insert(0, "era", era)
        frame["target_cyrusd_20"] = _buckets(signal + rng.normal(size=N_STOCKS))
        frame["target_teager2b_60"] = _buckets(signal + rng.normal(size=N_STOCKS) * 2)
        if e >= N_ERAS - UNRESOLVED_20:
            frame["target_cyrusd_20"] = np.nan
        if e >= N_ERAS - UNRESOLVED_60:
            frame["target_teager2b_60"] = np.nan
        frame.insert(2 + N_FEATURES, "target", frame["target_cyrusd_20"])
        frames.append(frame)
        keys = frame[["era", "data_type"]]
        bench.append(
            keys.assign(
                v52_lgbm_cyrusd20=_rank(signal + rng.normal(size=N_STOCKS)),
                v52_lgbm_teager2b20=_rank(signal + rng.normal(size=N_STOCKS) * 2),
            )
        )
        meta.append(keys.assign(numerai_meta_model=_rank(signal + rng.normal(size=N_STOCKS) * 1.5)))
        example.append(
            pd.DataFrame({"prediction": _rank(signal + rng.normal(size=N_STOCKS) * 2)}, index=frame.index)
        )
    paths = {"validation": directory / "validation.parquet"}
    pd.concat(frames).to_parquet(paths["validation"])
    paths["benchmark"] = directory / "validation_benchmark_models.parquet"
    pd.concat(bench).to_parquet(paths["benchmark"])
    paths["meta_model"] = directory / "meta_model.parquet"
    pd.concat(meta).to_parquet(paths["meta_model"])
    paths["example"] = directory / "validation_example_preds.parquet"
    pd.concat(example).to_parquet(paths["example"])
    paths["features"] = directory / "features.json"
    sets = {"small": features[:4], "medium": features[:8], "all": features}
    paths["features"].write_text(json.dumps({"feature_sets": sets, "targets": list(TARGETS)}))
    live_ids = [f"n{rng.integers(16**12):012x}" for _ in range(N_STOCKS)]
    live = frames[0].copy()
    live.index = pd.Index(live_ids, name="id")
    live["era"], live["data_type"] = f"{FIRST_ERA + N_ERAS:04d}", "live"
    live[list(TARGETS)] = np.nan
    paths["live"] = directory / "live.parquet"
    live.to_parquet(paths["live"])
    paths["live_example"] = directory / "live_example_preds.parquet"
    pd.DataFrame({"prediction": rng.random(N_STOCKS)}, index=live.index).to_parquet(paths["live_example"])
    return paths


def write_signals(directory: Path, *, seed: int = 1) -> dict[str, Path]:
    """Numerai Signals v2.1 validation files (with the side files) and a live file."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    tickers = np.array([f"T{i:03d} {'US' if i % 3 else 'JP'}" for i in range(N_STOCKS)], dtype=object)
    figis = np.array([f"BBG00{i:07d}" for i in range(N_STOCKS)], dtype=object)
    dates = pd.date_range("2024-01-05", periods=N_ERAS, freq="7D")
    data, neutral, weights, example = [], [], [], []
    for e, date in enumerate(dates):
        keep = rng.random(N_STOCKS) > 0.1  # the universe changes a little every week
        n = int(keep.sum())
        keys = pd.DataFrame({"numerai_ticker": tickers[keep], "composite_figi": figis[keep], "date": date})
        factors = rng.normal(size=(n, 4))
        signal = factors @ rng.normal(size=4) + rng.normal(size=n)
        frame = keys.assign(data_type="validation")
        for j in range(5):
            frame[f"feature_f{j}"] = rng.normal(size=n).astype(np.float32)
        frame["feature_country"] = [t.split(" ")[1] for t in keys["numerai_ticker"]]  # text, as Numerai's
        frame["target"] = _buckets(signal + rng.normal(size=n))
        frame["target_chili_60"] = _buckets(signal + rng.normal(size=n) * 2)
        if e >= N_ERAS - UNRESOLVED_20:
            frame["target"] = np.nan
        if e >= N_ERAS - UNRESOLVED_60:
            frame["target_chili_60"] = np.nan
        data.append(frame)
        neutral.append(
            keys[["numerai_ticker", "date"]].assign(**{f"neutralizer_{j}": factors[:, j] for j in range(4)})
        )
        weights.append(keys[["numerai_ticker", "date"]].assign(sample_weight=rng.random(n) + 0.5))
        example.append(keys.assign(signal=_rank(signal + rng.normal(size=n) * 2)))
    paths = {}
    for name, frames in (
        ("validation", data),
        ("neutralizer", neutral),
        ("sample_weights", weights),
        ("example", example),
    ):
        file = {
            "validation": "validation.parquet",
            "neutralizer": "validation_neutralizer.parquet",
            "sample_weights": "validation_sample_weights.parquet",
            "example": "validation_example_preds.parquet",
        }[name]
        paths[name] = directory / file
        pd.concat(frames, ignore_index=True).to_parquet(paths[name], index=False)
    live = data[0].assign(
        date=dates[-1] + pd.Timedelta(days=7), data_type="live", target=np.nan, target_chili_60=np.nan
    )
    paths["live"] = directory / "live.parquet"
    live.to_parquet(paths["live"], index=False)
    paths["live_example"] = directory / "live_example_preds.parquet"
    live[["numerai_ticker"]].assign(signal=rng.random(len(live))).to_parquet(
        paths["live_example"], index=False
    )
    return paths
