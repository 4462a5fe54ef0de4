"""Fixtures of the demo tests: a hand-built season result (no optimizer needed) for the report."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kardashev.demo.book import FundBook
from kardashev.demo.report import ReportData
from kardashev.demo.season import SeasonLog
from kardashev.demo.simulation import FundTrack, SeasonScores, SimulationResult
from kardashev.demo.story import next_commands, tell_story
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
    books = {
        rule: FundBook(
            rule=rule,
            eras=eras,
            gross_pnl=rng.normal(0.002 * (i + 1), 0.01, n_eras),
            cost=np.full(n_eras, 1e-4),
            turnover=rng.uniform(0.2, 0.6, n_eras),
            gross_exposure=np.ones(n_eras),
            net_exposure=rng.normal(0, 1e-9, n_eras),
            n_long=np.full(n_eras, 40),
            n_short=np.full(n_eras, 38),
            factor_exposure=rng.normal(0, 1e-8, (n_eras, 3)),
            factor_names=("beta", "size", "value"),
        )
        for i, rule in enumerate(("static", "tc", "corr", "mmc"))
    }
    ledger = pd.DataFrame(
        [
            {"model": name, "round": r + 1, "stake": 100.0 + r, "payout": float(rng.normal(0, 2))}
            for name in names[:-1]
            for r in range(n_eras - 4)
        ]
    )
    grades = pd.DataFrame({"model": names, "archetype": ARCHETYPES, "grade": ["Type III"] * n_models})
    leaderboard = pd.DataFrame(
        {"rank": np.arange(1, n_models + 1), "model": names, "TC mean": tc.mean(axis=0)}
    )
    simulation = SimulationResult(tracks=tracks, scores=scores, validation=validation, true_value=value)
    log = SeasonLog(rounds_opened=n_eras, rounds_resolved=n_eras - 4, submissions=n_eras * n_models)
    fund_grade = ("the fund is not Type IV: 1 signal(s) still have significantly positive TC (model_09)",)
    story = tell_story(
        n_stocks=100,
        n_rounds=n_eras,
        model_names=names,
        archetypes=ARCHETYPES,
        log=log,
        simulation=simulation,
        books=books,
        fund_grade=fund_grade,
        commands=next_commands(out=Path("kardashev-demo"), database_url=None, run_tag="", model="model_09"),
    )
    return ReportData(
        title="Kardashev demo <test>",
        generated_at="2026-01-01 00:00 UTC",
        settings={"stocks": 100, "models": n_models},
        runtime_seconds=1.5,
        model_names=names,
        archetypes=ARCHETYPES,
        simulation=simulation,
        leaderboard=leaderboard,
        grades=grades,
        fund_grade=fund_grade,
        optimizer_config=OptimizerConfig(),
        season_summary=("12 rounds opened",),
        books=books,
        ledger=ledger,
        signal_correlation=np.corrcoef(rng.normal(size=(n_models, 50))),
        story=story,
    )
