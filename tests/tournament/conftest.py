"""Fixtures for the tournament lifecycle tests: a service on each database, a tiny market."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from kardashev.data.era import Era
from kardashev.tournament import PayoutConfig, TournamentService, ValidationConfig, round_day

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
N_STOCKS = 40


def at(days: float) -> dt.datetime:
    """Simulated time ``days`` after the season start."""
    return T0 + dt.timedelta(days=days)


def rank_scorer(*, kind, era):  # type: ignore[no-untyped-def]
    """Deterministic stand-in for the scoring engine in lifecycle tests.

    CORR: Spearman correlation with the target; MMC: Spearman of the prediction minus the
    stake-weighted mean prediction. The lifecycle does not depend on which numbers these are,
    only that they are stored, summed by the payout rule and settled exactly.
    """
    target = np.asarray(era.target, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one model alone: prediction − meta is constant → NaN
        return _rank_scores(era.predictions, era.stakes, target)


def _rank_scores(predictions, stakes, target):  # type: ignore[no-untyped-def]
    corr = np.array([spearmanr(predictions[:, j], target)[0] for j in range(predictions.shape[1])])
    weights = stakes / stakes.sum() if stakes.sum() > 0 else np.full(len(stakes), 1 / len(stakes))
    meta = predictions @ weights
    mmc = np.array([spearmanr(predictions[:, j] - meta, target)[0] for j in range(predictions.shape[1])])
    return {"corr": corr, "mmc": np.nan_to_num(mmc)}


@dataclass
class TinyMarket:
    """A small deterministic market: a latent signal drives targets and returns."""

    ids: np.ndarray
    signal: np.ndarray
    rng: np.random.Generator

    def predictions(self, skill: float, *, seed: int) -> pd.DataFrame:
        noise = np.random.default_rng(seed).normal(size=self.ids.size)
        raw = skill * self.signal + noise
        ranks = (pd.Series(raw).rank().to_numpy() - 0.5) / raw.size
        return pd.DataFrame({"id": self.ids, "prediction": ranks})

    def day(self, day: int, *, seed: int) -> Era:
        noise = np.random.default_rng(1000 + seed).normal(size=self.ids.size)
        returns = 0.01 * (self.signal + noise * 2.0) * day
        target = np.round(4 * (pd.Series(returns).rank().to_numpy() - 0.5) / returns.size) / 4
        return round_day(day=day, ids=self.ids.copy(), target=target, realized_returns=returns)


@pytest.fixture
def market() -> TinyMarket:
    rng = np.random.default_rng(7)
    return TinyMarket(
        ids=np.array([f"S{i:03d}" for i in range(N_STOCKS)]), signal=rng.normal(size=N_STOCKS), rng=rng
    )


@pytest.fixture
def service(store) -> TournamentService:  # type: ignore[no-untyped-def]
    return TournamentService(
        store,
        payout=PayoutConfig(score_multipliers={"corr": 0.5, "mmc": 2.0}, cap=0.05),
        scorer=rank_scorer,
        validation=ValidationConfig(min_tickers=10),
    )
