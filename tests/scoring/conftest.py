"""Random Numerai-like inputs for comparing with numerai-tools."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest


@dataclass(frozen=True)
class Case:
    predictions: pd.DataFrame
    targets: pd.Series
    meta_model: pd.Series
    features: pd.DataFrame
    kind: str


def make_case(seed: int, *, target_kind: str = "buckets", nan: bool = True, constant: bool = False) -> Case:
    """Shuffled string ids, tied and continuous prediction columns, int features, optional NaNs."""
    rng = np.random.default_rng(seed)
    n_stocks, n_features = int(rng.integers(60, 160)), 6
    ids = np.array([f"id_{i:04d}" for i in rng.permutation(n_stocks)])
    predictions = pd.DataFrame(
        {
            "continuous": rng.random(n_stocks),
            "tied": rng.integers(0, 5, n_stocks) / 4,
            "signal": rng.normal(size=n_stocks),
        },
        index=ids,
    )
    if constant:
        predictions["constant"] = 0.5
    features = pd.DataFrame(
        rng.integers(0, 5, (n_stocks, n_features)).astype(float),
        index=ids,
        columns=[f"feature_{k}" for k in range(n_features)],
    )
    signal = features.to_numpy() @ rng.normal(size=n_features) / 10 + rng.normal(size=n_stocks)
    if target_kind == "buckets":
        target = np.digitize(signal, np.quantile(signal, [0.05, 0.25, 0.75, 0.95])) / 4
    else:  # raw returns
        target = signal * 0.02
    targets = pd.Series(target, index=ids, name="target")
    predictions["continuous"] += 0.3 * targets.to_numpy()
    meta_model = pd.Series(rng.random(n_stocks) + 0.2 * targets.to_numpy(), index=ids, name="meta_model")
    if nan:
        targets.iloc[rng.choice(n_stocks, 3, replace=False)] = np.nan
        predictions.iloc[rng.choice(n_stocks, 2, replace=False), 1] = np.nan
        meta_model.iloc[rng.choice(n_stocks, 2, replace=False)] = np.nan
    return Case(predictions, targets, meta_model, features, target_kind)


@pytest.fixture(
    params=[(0, "buckets"), (1, "returns"), (2, "buckets"), (3, "returns")], ids=lambda p: f"{p[1]}-{p[0]}"
)
def case(request: pytest.FixtureRequest) -> Case:
    seed, kind = request.param
    return make_case(seed, target_kind=kind)
