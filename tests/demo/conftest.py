"""Fixtures of the demo tests: a hand-built season result (no optimizer needed) for the report."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from kardashev.demo.report import ReportData
from kardashev.demo.simulation import FundTrack, SeasonScores, SimulationResult
from kardashev.demo.validation import summarize_validation
from kardashev.portfolio import OptimizerConfig

ARCHETYPES = (
    *("consensus",) * 3,
    "original",
    "factor_bet",
    "technical",
    "copycat",
    *("noise",) * 2,
    "unstaked_original",
)


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory):
    """A tiny real demo run (market, crowd, engine season, validation, report), shared by the tests."""
    import datetime as dt

    from rich.console import Console

    from kardashev.demo import DemoConfig, run_demo

    out = tmp_path_factory.mktemp("tiny-demo") / "demo"
    config = DemoConfig(n_stocks=150, n_models=14, n_rounds=8, seed=3, out=out, progress=False)
    now = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    return run_demo(config, now=now, console=Console(file=io.StringIO(), width=120))


@pytest.fixture
def fake_report_data() -> ReportData:
    rng = np.random.default_rng(3)
    n_eras, n_models = 12, len(ARCHETYPES)
    eras = tuple(f"{i + 1:04d}" for i in range(n_eras))
    names = tuple(f"model_{k:02d}" for k in range(n_models))
    value = np.array([0.2, 0.2, 0.2, 1.0, 0.0, 0.3, -0.1, 0.0, 0.0, 1.2])
    tc = value * 0.01 + rng.normal(0, 0.004, (n_eras, n_models))
    corr = 0.02 * (np.arange(n_models) < 4) + rng.normal(0, 0.01, (n_eras, n_models))
    corr[:, -1] -= 0.03  # the unstaked original: worst CORR, best TC
    loo = tc.sum(axis=0) + rng.normal(0, 0.002, n_models)
    stakes = np.r_[np.full(n_models - 1, 100.0), 0.0]
    totals = {
        "tc": tc.sum(axis=0),
        "mmc": corr.sum(axis=0) * 0.5,
        "corr": corr.sum(axis=0),
        "mpc": tc.sum(axis=0) + rng.normal(0, 0.01, n_models),
        "loo": loo,
        "bump": tc.sum(axis=0),
    }
    validation = summarize_validation(
        model_names=names,
        archetypes=ARCHETYPES,
        stakes=stakes,
        true_value=value,
        totals=totals,
        n_eras=n_eras,
    )
    tracks = {
        rule: FundTrack(
            rule=rule,
            eras=eras,
            returns=rng.normal(0.002 * (i + 1), 0.01, n_eras),
            stakes=np.tile(stakes + 1.0, (n_eras, 1)) * (1 + 0.1 * i),
        )
        for i, rule in enumerate(("static", "tc", "corr", "mmc"))
    }
    scores = SeasonScores(
        eras=eras,
        corr=corr,
        mmc=corr * 0.5,
        tc=tc,
        mpc=tc,
        true_return=tc * 0.5,
        meta_feature_exposures=rng.normal(0, 0.05, (n_eras, 6)),
        feature_names=tuple(f"feature_{j}" for j in range(6)),
    )
    grades = pd.DataFrame({"model": names, "archetype": ARCHETYPES, "grade": ["Type III"] * n_models})
    leaderboard = pd.DataFrame(
        {"rank": np.arange(1, n_models + 1), "model": names, "TC mean": tc.mean(axis=0)}
    )
    return ReportData(
        title="Kardashev demo <test>",
        generated_at="2026-01-01 00:00 UTC",
        settings={"stocks": 100, "models": n_models},
        runtime_seconds=1.5,
        model_names=names,
        archetypes=ARCHETYPES,
        simulation=SimulationResult(tracks=tracks, scores=scores, validation=validation, true_value=value),
        leaderboard=leaderboard,
        grades=grades,
        fund_grade=("no signal has significantly positive TC",),
        optimizer_config=OptimizerConfig(),
        season_summary=("12 rounds opened",),
    )
