"""``run_demo``: market → crowd → a season through the tournament engine → grades → validation → report.

The season runs week by week. Each week (one era):

1. the in-memory funds (:mod:`kardashev.demo.simulation`) trade the era under every payout rule, and the
   validation fund measures TC, MMC, CORR, MPC and the leave-one-out marginal values; each fund's weekly
   book (:mod:`kardashev.demo.book`: one-week P&L, costs, turnover, exposure) and the signals'
   correlation (:mod:`kardashev.demo.signals`) are recorded;
2. the tournament engine opens the era's round, every model submits, the round closes;
3. earlier rounds are scored as their target horizon fills and resolve with payouts and burns;
4. stakers move stake toward the models with the best recent resolved score.

Then the Kardashev grades are computed, the leaderboard and the ledger are read from the engine, the
highest-TC model's contribution is explained (:mod:`kardashev.demo.drilldown`), the run is told in five
sentences (:mod:`kardashev.demo.story`), and one self-contained HTML report is written.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.contribution.scores import risk_model_of
from kardashev.data.era import Era
from kardashev.data.synthetic import (
    CrowdConfig,
    MarketConfig,
    SyntheticMarket,
    generate_crowd,
    generate_market,
)
from kardashev.demo.book import BookKeeper, FundBook
from kardashev.demo.drilldown import Drilldown, explain_top_model
from kardashev.demo.dynamics import StakeDynamics
from kardashev.demo.fund import align_weights, era_inputs
from kardashev.demo.grading import grade_season
from kardashev.demo.leaderboard import leaderboard_frame, season_table
from kardashev.demo.report import ReportData, write_report
from kardashev.demo.season import EngineSeason, FundContext, SeasonLog
from kardashev.demo.signals import SignalCorrelation
from kardashev.demo.simulation import SeasonSimulator, SimulationConfig, SimulationResult
from kardashev.demo.story import Story, next_commands, tell_story
from kardashev.demo.workspace import open_demo_store, prepare_workspace
from kardashev.errors import ConfigError
from kardashev.portfolio import OptimizerConfig
from kardashev.tournament import ROUND_SCORES, UNITS_PER_TOKEN, StandardScorer, TournamentService
from kardashev.tournament.payout import PayoutConfig

__all__ = ["STAKE_RULES", "DemoConfig", "DemoResult", "default_optimizer_config", "run_demo"]

STAKE_RULES = ("tc", "corr", "mmc", "none")


def default_optimizer_config() -> OptimizerConfig:
    """The fund's optimizer in the demo: factor risk model, gross 1, position caps, a market-impact cost."""
    return OptimizerConfig(risk_aversion=1.0, gross_leverage=1.0, max_position=2.5, impact=0.0005)


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    """Settings of ``kardashev demo``.

    Attributes
    ----------
    n_stocks, n_models, n_rounds, seed
        Size of the market and the crowd, rounds (weekly eras) in the season, seed.
    out
        Folder of the database (unless ``database_url``), the data files and ``report.html``.
    database_url
        Database of the engine (default: SQLite in ``out``).
    stake_rule
        Score the engine season's stakers follow and are paid on: ``"tc"``, ``"corr"``, ``"mmc"``,
        or ``"none"`` (stakes held, paid on the default ``0.5·CORR + 2·MMC``).
    validate
        Run the leave-one-out validation (the slowest part).
    dynamics
        How stakers move stake.
    optimizer
        The fund's optimizer configuration (default :func:`default_optimizer_config`).
    progress
        Show progress bars.
    """

    n_stocks: int = 1000
    n_models: int = 60
    n_rounds: int = 24
    seed: int = 0
    out: Path = Path("kardashev-demo")
    database_url: str | None = None
    stake_rule: str = "tc"
    validate: bool = True
    dynamics: StakeDynamics = field(default_factory=StakeDynamics)
    optimizer: OptimizerConfig | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.stake_rule not in STAKE_RULES:
            raise ConfigError(f"unknown stake rule {self.stake_rule!r}; use one of {STAKE_RULES}")
        if self.n_stocks < 50:
            raise ConfigError(f"the demo needs at least 50 stocks, got {self.n_stocks}")
        if self.n_models < 10:
            raise ConfigError(
                f"the demo needs at least 10 models (one of each archetype), got {self.n_models}"
            )
        if self.n_rounds < 6:
            raise ConfigError(f"the demo needs at least 6 rounds, got {self.n_rounds}")


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced."""

    config: DemoConfig
    report_path: Path
    database_url: str
    database_label: str
    leaderboard: pd.DataFrame
    grades: pd.DataFrame
    fund_grade: tuple[str, ...]
    simulation: SimulationResult
    season_summary: tuple[str, ...]
    runtime_seconds: float
    ledger_ok: bool
    books: dict[str, FundBook]
    ledger: pd.DataFrame
    signal_correlation: np.ndarray
    drilldown: Drilldown | None
    season_log: SeasonLog
    run_tag: str
    story: Story


def _payout_config(stake_rule: str) -> PayoutConfig:
    if stake_rule == "none":
        return PayoutConfig()
    return PayoutConfig(score_multipliers={stake_rule: 1.0})


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


def run_demo(config: DemoConfig, *, now: dt.datetime, console: Console | None = None) -> DemoResult:
    """Run the whole demo (see the module docstring) and write ``<out>/report.html``."""
    console = console or Console()
    started = time.perf_counter()
    optimizer = config.optimizer or default_optimizer_config()
    workspace = prepare_workspace(config.out, database_url=config.database_url, now=now)
    market = generate_market(MarketConfig(n_stocks=config.n_stocks, n_eras=config.n_rounds, seed=config.seed))
    crowd = generate_crowd(market, CrowdConfig(n_models=config.n_models, seed=config.seed))
    horizon = int(market.config.horizon)
    model_names = tuple(str(name) for name in crowd.model_names)
    archetypes = tuple(str(kind) for kind in crowd.archetypes)
    stakes = np.asarray(crowd.stakes, dtype=np.float64)

    simulator = SeasonSimulator(
        model_names=model_names,
        archetypes=archetypes,
        initial_stakes=stakes,
        true_value=np.asarray(crowd.true_value, dtype=np.float64),
        optimizer_config=optimizer,
        config=SimulationConfig(dynamics=config.dynamics, resolution_lag=horizon, validate=config.validate),
    )
    with open_demo_store(workspace) as store:
        # the engine's scores under the fund's optimizer (its context rides in each day's era);
        # True Return per model and day is left to the in-memory fund, which computes it once per era
        scorer = StandardScorer(
            optimizer_config=optimizer, scores=tuple(n for n in ROUND_SCORES if n != "true_return")
        )
        service = TournamentService(store, payout=_payout_config(config.stake_rule), scorer=scorer)
        season = EngineSeason(
            service,
            model_names=model_names,
            horizon=horizon,
            metric=None if config.stake_rule == "none" else config.stake_rule,
            dynamics=config.dynamics,
            first_round=workspace.first_round(service),
            run_tag=workspace.run_tag,
        )
        season_start = dt.datetime.combine(market.date(0), dt.time(0, 0), tzinfo=dt.timezone.utc)
        season.create_crowd(stakes, now=season_start - dt.timedelta(days=1))

        with _progress(console, config.progress) as progress:
            n_weeks = config.n_rounds + horizon
            rounds_task = progress.add_task("season: rounds through the engine", total=n_weeks)
            fund_task = progress.add_task(
                "funds per payout rule" + (" + leave-one-out validation" if config.validate else ""),
                total=config.n_rounds,
            )
            static_previous = None
            keeper = BookKeeper(simulator.config.rules, config=optimizer)
            likeness = SignalCorrelation(len(model_names))
            for index, era in enumerate(market.iter_eras()):
                inputs = era_inputs(era, crowd.predictions(era))
                held = align_weights(static_previous, inputs.ids)
                context = FundContext(risk_model_of(inputs), inputs.adv, held)
                simulator.step(inputs, expected_returns=era.expected_residual_returns)
                static_previous = simulator.holdings("static")
                keeper.record(
                    inputs,
                    {rule: simulator.holdings(rule) for rule in simulator.config.rules},
                    week_return=market.forward_return(index, 1),
                )
                likeness.add(inputs.required("gaussianized"))
                last_era = (inputs, held)
                progress.advance(fund_task)
                week = season_start + dt.timedelta(weeks=index)
                _engine_week(season, index, inputs, week, market, context)
                progress.advance(rounds_task)
            for index in range(config.n_rounds, config.n_rounds + horizon):
                week = season_start + dt.timedelta(weeks=index)
                _engine_week(season, index, None, week, market, None)
                progress.advance(rounds_task)

        simulation = simulator.result()
        grades, fund_grade = grade_season(
            simulation.scores, model_names=model_names, archetypes=archetypes, horizon=horizon
        )
        ledger_table = season_table(season, true_return=simulation.scores.true_return)
        leaderboard = leaderboard_frame(
            season, archetypes=archetypes, model_names=model_names, grades=grades, table=ledger_table
        )
        audit = service.audit()
    summary = (
        *season.log.lines(),
        f"ledger audit: {'balanced' if audit.ok else 'NOT balanced'} "
        f"({audit.n_transactions} transactions; {audit.minted / UNITS_PER_TOKEN:,.2f} tokens minted in all, "
        f"deposits included; {audit.burned / UNITS_PER_TOKEN:,.2f} burned)",
        "stakers followed: "
        + (config.stake_rule.upper() if config.stake_rule != "none" else "nothing (static stakes)"),
    )
    drilldown = explain_top_model(
        last_era[0],
        stakes=simulator.stakes("static"),
        previous_weights=last_era[1],
        tc=simulation.scores.tc,
        model_names=model_names,
        archetypes=archetypes,
        config=optimizer,
    )
    books = keeper.books()
    story = tell_story(
        n_stocks=config.n_stocks,
        n_rounds=config.n_rounds,
        model_names=model_names,
        archetypes=archetypes,
        log=season.log,
        simulation=simulation,
        books=books,
        fund_grade=fund_grade,
        commands=next_commands(
            out=workspace.out,
            database_url=config.database_url,
            run_tag=workspace.run_tag,
            model=None if drilldown is None else drilldown.model,
        ),
    )
    runtime = time.perf_counter() - started
    report_path = workspace.out / "report.html"
    data = ReportData(
        title="Kardashev demo: a simulated season",
        generated_at=now.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        settings={
            "stocks": config.n_stocks,
            "models": config.n_models,
            "rounds": config.n_rounds,
            "seed": config.seed,
            "target horizon (weeks)": horizon,
            "stake rule in the engine season": config.stake_rule,
            "stake moved per round": config.dynamics.fraction,
            "database": workspace.database_label,
        },
        runtime_seconds=runtime,
        model_names=model_names,
        archetypes=archetypes,
        simulation=simulation,
        leaderboard=leaderboard,
        grades=grades,
        fund_grade=fund_grade,
        optimizer_config=optimizer,
        season_summary=summary,
        books=books,
        ledger=ledger_table,
        signal_correlation=likeness.matrix(),
        drilldown=drilldown,
        story=story,
    )
    write_report(report_path, data)
    runtime = time.perf_counter() - started
    return DemoResult(
        config=config,
        report_path=report_path,
        database_url=workspace.database_url,
        database_label=workspace.database_label,
        leaderboard=leaderboard,
        grades=grades,
        fund_grade=fund_grade,
        simulation=simulation,
        season_summary=summary,
        runtime_seconds=runtime,
        ledger_ok=audit.ok,
        books=books,
        ledger=ledger_table,
        signal_correlation=likeness.matrix(),
        drilldown=drilldown,
        season_log=season.log,
        run_tag=workspace.run_tag,
        story=story,
    )


def _engine_week(
    season: EngineSeason,
    index: int,
    inputs: Era | None,
    week: dt.datetime,
    market: SyntheticMarket,
    context: FundContext | None,
) -> None:
    if inputs is not None:
        season.run_round(index, inputs, open_time=week, context=context)
    season.score_due(now_index=index, now=week + dt.timedelta(hours=2), forward_return=market.forward_return)
    season.rebalance(now=week + dt.timedelta(hours=3))
