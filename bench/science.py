"""Study: does TC find the signals that make the fund better? Planted expected value over many seeds.

Each seed is a synthetic market and crowd run through the in-memory season
(:class:`kardashev.demo.simulation.SeasonSimulator`): a static-stake validation fund and one fund per
payout rule (TC, CORR, MMC, 0.5·CORR + 2·MMC) whose stakers move stake toward the best recent score.
The market knows each era's expected returns, so every model's **planted value** is exact: the
derivative of the fund's expected, after-cost return w.r.t. its stake at the fund's stakes
(:mod:`kardashev.contribution.planted`). The study prints, with 90% bootstrap intervals over seeds:

1. how well each score measured on realized data recovers the planted value (Spearman across models
   of season totals; out of sample: first-half scores against second-half planted value);
2. the fund's realized return, Sharpe (non-overlapping periods), drawdown, turnover (the book's,
   :func:`kardashev.demo.book.turnover`: names leaving the universe count as sold) and expected
   (planted) return under each payout rule, and the archetypes' stake shares over time;
3. the grades' calibration: how often a noise model is graded Type III (planted nulls), the power on
   originals, and the fund's Type IV verdict, with the previous uncorrected tests for comparison;
4. TC's noise: its spread across eras and across stake-dropout draws, and how bagging shrinks it;
5. the release-leak and TC-at-home study (``bench/release_study.py``, when present; ``--skip-release``).

    .venv/bin/python bench/science.py --seeds 20 --rounds 52
    .venv/bin/python bench/science.py --seeds 2 --rounds 8 --stocks 120 --models 14 --bags 4 --skip-release
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.demo.runner import default_optimizer_config
from kardashev.demo.simulation import PAYOUT_RULES, SeasonSimulator, SimulationConfig, SimulationResult
from kardashev.demo.validation import spearman_rows
from kardashev.tournament.grades import GradeConfig, grade_models

SCORES = ("tc", "bagged_tc", "mmc", "bmc", "corr", "fnc", "mpc", "true_return")
LABELS = {
    "tc": "TC",
    "bagged_tc": "TC (bagged)",
    "mmc": "MMC",
    "bmc": "BMC",
    "corr": "CORR",
    "fnc": "FNC",
    "mpc": "MPC",
    "true_return": "True Return",
    "true_value": "crowd true_value",
}
RULES = tuple(rule for rule in PAYOUT_RULES if rule != "static")
RULE_LABELS = {"static": "static", "tc": "TC", "corr": "CORR", "mmc": "MMC", "corr_mmc": "0.5·CORR+2·MMC"}
GRADE_SETS = {
    "EWC, Holm across models (default)": GradeConfig(),
    "EWC, BH across models": GradeConfig(correction="bh"),
    "EWC, each model alone": GradeConfig(family="none"),
    "previous: NW lag h−1, alone": GradeConfig(lag=3, method="newey_west", family="none"),
}


@dataclass
class SeedFigures:
    """What one seed contributes to the tables (all small)."""

    recovery: dict[str, float]
    out_of_sample: dict[str, float]
    funds: dict[str, dict[str, float]]
    shares: dict[str, pd.DataFrame]
    grades: dict[str, dict[str, float]]
    noise: dict[str, float]
    bag_curve: dict[int, tuple[float, float, float]]


def interval(values: np.ndarray, *, rng: np.random.Generator, n_boot: int, level: float = 0.9) -> tuple:
    """Mean and percentile bootstrap interval of the mean over seeds (NaN seeds left out)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


def non_overlapping_sharpe(returns: np.ndarray, horizon: int) -> float:
    """Mean over the ``horizon`` offsets of the Sharpe of every ``horizon``-th era's return."""
    sharpes = []
    for offset in range(horizon):
        sample = returns[offset::horizon]
        if sample.size > 2 and sample.std(ddof=1) > 0:
            sharpes.append(sample.mean() / sample.std(ddof=1))
    return float(np.mean(sharpes)) if sharpes else float("nan")


def max_drawdown(returns: np.ndarray, horizon: int) -> float:
    """Mean over offsets of the largest fall of the cumulative non-overlapping return (≥ 0)."""
    falls = []
    for offset in range(horizon):
        wealth = np.cumsum(np.r_[0.0, returns[offset::horizon]])
        falls.append(float(np.max(np.maximum.accumulate(wealth) - wealth)))
    return float(np.mean(falls))


def grade_table(result: SimulationResult, names: tuple[str, ...]) -> pd.DataFrame:
    scores = result.scores
    n_eras = len(scores.eras)
    return pd.DataFrame(
        {
            "model": np.repeat(np.asarray(names, dtype=object), n_eras),
            "era": np.tile(np.asarray(scores.eras, dtype=object), len(names)),
            "corr": scores.corr.T.reshape(-1),
            "true_return": scores.true_return.T.reshape(-1),
            "tc": scores.tc.T.reshape(-1),
        }
    )


def seed_figures(result: SimulationResult, crowd, horizon: int) -> SeedFigures:
    scores = result.scores
    planted = scores.planted
    n_eras = planted.shape[0]
    half = n_eras // 2
    kinds = np.asarray(crowd.archetypes)
    values = {name: getattr(scores, name) for name in SCORES if getattr(scores, name).size}
    recovery = {
        name: float(spearman_rows(series.sum(axis=0), planted.sum(axis=0))[0])
        for name, series in values.items()
    }
    recovery["true_value"] = float(spearman_rows(crowd.true_value, planted.sum(axis=0))[0])
    out_of_sample = {
        name: float(spearman_rows(series[:half].sum(axis=0), planted[half:].sum(axis=0))[0])
        for name, series in values.items()
    }
    funds = {}
    for rule, track in result.tracks.items():
        expected = result.expected_returns[rule]
        funds[rule] = {
            "return": float(track.returns.mean()),
            "expected": float(expected.mean()),
            "expected_2nd": float(expected[half:].mean()),
            "sharpe": non_overlapping_sharpe(track.returns, horizon),
            "drawdown": max_drawdown(track.returns, horizon),
            "turnover": float(result.turnover[rule].mean()),
        }
    checkpoints = sorted({0, n_eras // 4, n_eras // 2, (3 * n_eras) // 4, n_eras - 1})
    shares = {}
    for rule, track in result.tracks.items():
        stakes = track.stakes[checkpoints]
        share = stakes / stakes.sum(axis=1, keepdims=True)
        shares[rule] = pd.DataFrame(
            {kind: share[:, kinds == kind].sum(axis=1) for kind in dict.fromkeys(crowd.archetypes)},
            index=checkpoints,
        )
    grades = {}
    names = tuple(crowd.model_names)
    table = grade_table(result, names)
    noise_mask, original_mask = kinds == "noise", np.isin(kinds, ("original", "unstaked_original"))
    for label, config in GRADE_SETS.items():
        graded = grade_models(table, config=replace(config, target_horizon_eras=horizon))
        order = {grade.model: grade for grade in graded.models}
        type_iii = np.array([order[name].type_iii.significant for name in names])
        type_i = np.array([order[name].type_i.significant for name in names])
        grades[label] = {
            "noise_iii": float(type_iii[noise_mask].mean()),
            "any_noise_iii": float(type_iii[noise_mask].any()),
            "original_iii": float(type_iii[original_mask].mean()),
            "noise_i": float(type_i[noise_mask].mean()),
            "original_i": float(type_i[original_mask].mean()),
            "type_iv": float(graded.fund.type_iv),
        }
    tc_era_std = scores.tc.std(axis=0, ddof=1)
    noise = {"tc_era_std": float(tc_era_std.mean())}
    bag_curve = {}
    if scores.bag_tc.size:
        draws = scores.bag_tc  # (n_eras, bags, n_models)
        bags = draws.shape[1]
        single_spread = float(draws.std(axis=1, ddof=1).mean())
        noise["bag_std_single"] = single_spread
        noise["bagged_era_std"] = float(scores.bagged_tc.std(axis=0, ddof=1).mean())
        for count in sorted({1, 2, 4, 8, 16, bags} & set(range(1, bags + 1))):
            mean = draws[:, :count].mean(axis=1)
            bag_curve[count] = (
                float(mean.std(axis=0, ddof=1).mean()),
                single_spread / np.sqrt(count),
                float(spearman_rows(mean.sum(axis=0), planted.sum(axis=0))[0]),
            )
    return SeedFigures(recovery, out_of_sample, funds, shares, grades, noise, bag_curve)


def run_seed(seed: int, args: argparse.Namespace, progress: Progress, task) -> SeedFigures:
    market = generate_market(MarketConfig(n_stocks=args.stocks, n_eras=args.rounds, seed=seed))
    crowd = generate_crowd(market, CrowdConfig(n_models=args.models, seed=seed))
    horizon = int(market.config.horizon)
    simulator = SeasonSimulator(
        model_names=tuple(crowd.model_names),
        archetypes=tuple(crowd.archetypes),
        initial_stakes=np.asarray(crowd.stakes, dtype=float),
        true_value=np.asarray(crowd.true_value, dtype=float),
        optimizer_config=default_optimizer_config(),
        config=SimulationConfig(
            rules=PAYOUT_RULES, resolution_lag=horizon, validate=False, tc_bags=args.bags, seed=seed
        ),
    )
    for era in market.iter_eras():
        simulator.step(
            era_inputs(era, crowd.predictions(era)), expected_returns=era.expected_residual_returns
        )
        progress.advance(task)
    return seed_figures(simulator.result(), crowd, horizon)


def fmt(triple: tuple, digits: int = 3) -> str:
    mean, low, high = triple
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def new_table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=True, overflow="ignore")
    return table


def print_recovery(figures: list[SeedFigures], console: Console, rng, n_boot: int) -> None:
    table = new_table(
        "1. Spearman across models with the planted value (mean over seeds \\[90% interval])",
        "score (realized)",
        "season",
        "out of sample",
        "TC − score",
        "TC higher",
    )
    names = [*[name for name in SCORES if name in figures[0].recovery], "true_value"]
    tc = np.array([f.recovery["tc"] for f in figures])
    for name in names:
        values = np.array([f.recovery[name] for f in figures])
        oos = np.array([f.out_of_sample.get(name, np.nan) for f in figures])
        same = name == "tc"
        table.add_row(
            LABELS[name],
            fmt(interval(values, rng=rng, n_boot=n_boot)),
            "–" if name == "true_value" else fmt(interval(oos, rng=rng, n_boot=n_boot)),
            "–" if same else fmt(interval(tc - values, rng=rng, n_boot=n_boot)),
            "–" if same else f"{int(np.sum(tc > values))}/{len(figures)}",
        )
    console.print(table)


def print_funds(figures: list[SeedFigures], console: Console, rng, n_boot: int, horizon: int) -> None:
    table = new_table(
        f"2. The fund when stakes follow each payout rule (return and expected return ×1e3 per era; Sharpe, "
        f"drawdown ×1e3: non-overlapping {horizon}-week returns)",
        "rule",
        "return",
        "expected",
        "expected, 2nd half",
        "2nd half − CORR's",
        "Sharpe",
        "drawdown",
        "turnover",
    )
    for rule in figures[0].funds:
        get = lambda key, r=rule: np.array([f.funds[r][key] for f in figures])  # noqa: E731
        corr = np.array([f.funds["corr"]["expected_2nd"] for f in figures])
        table.add_row(
            RULE_LABELS[rule],
            fmt(interval(1e3 * get("return"), rng=rng, n_boot=n_boot), 2),
            fmt(interval(1e3 * get("expected"), rng=rng, n_boot=n_boot), 2),
            fmt(interval(1e3 * get("expected_2nd"), rng=rng, n_boot=n_boot), 2),
            "–"
            if rule == "corr"
            else fmt(interval(1e3 * (get("expected_2nd") - corr), rng=rng, n_boot=n_boot), 3),
            fmt(interval(get("sharpe"), rng=rng, n_boot=n_boot), 2),
            fmt(interval(1e3 * get("drawdown"), rng=rng, n_boot=n_boot), 1),
            fmt(interval(get("turnover"), rng=rng, n_boot=n_boot), 2),
        )
    console.print(table)
    checkpoints = list(figures[0].shares["static"].index)
    table = new_table(
        "   Archetypes' share of the total stake over the season (mean over seeds; eras "
        + ", ".join(str(c + 1) for c in checkpoints)
        + ")",
        "archetype",
        *[RULE_LABELS[rule] for rule in RULES],
    )
    for kind in figures[0].shares["static"].columns:
        cells = []
        for rule in RULES:
            mean = np.mean([f.shares[rule][kind].to_numpy() for f in figures], axis=0)
            cells.append(" → ".join(f"{value:.3f}" for value in mean))
        table.add_row(kind, *cells)
    console.print(table)


def print_grades(figures: list[SeedFigures], console: Console, rng, n_boot: int) -> None:
    table = new_table(
        "3. Grades: share of model-seasons graded (noise = planted nulls; originals: power)",
        "tests",
        "noise III",
        "seasons: any noise III",
        "originals III",
        "noise I",
        "originals I",
        "fund Type IV",
    )
    for label in GRADE_SETS:
        get = lambda key, lab=label: np.array([f.grades[lab][key] for f in figures])  # noqa: E731
        table.add_row(
            label,
            *[
                fmt(interval(get(key), rng=rng, n_boot=n_boot), 2)
                for key in ("noise_iii", "any_noise_iii", "original_iii", "noise_i", "original_i", "type_iv")
            ],
        )
    console.print(table)


def print_noise(figures: list[SeedFigures], console: Console, rng, n_boot: int) -> None:
    if not figures[0].bag_curve:
        console.print("4. TC's noise: no bagging (--bags 0)")
        return
    table = new_table(
        "4. TC's noise and bagging (mean over models and seeds; TC ×1e3)",
        "draws averaged",
        "std across eras",
        "std of the mean across draws",
        "Spearman with planted",
    )
    exact = np.array([f.noise["tc_era_std"] for f in figures])
    table.add_row("exact TC", fmt(interval(1e3 * exact, rng=rng, n_boot=n_boot), 2), "0", "table 1")
    for count in figures[0].bag_curve:
        curve = np.array([f.bag_curve[count] for f in figures])
        table.add_row(
            str(count),
            fmt(interval(1e3 * curve[:, 0], rng=rng, n_boot=n_boot), 2),
            fmt(interval(1e3 * curve[:, 1], rng=rng, n_boot=n_boot), 2),
            fmt(interval(curve[:, 2], rng=rng, n_boot=n_boot), 3),
        )
    console.print(table)


def release_module():
    """``bench/release_study.py``'s ``release_study`` if that module exists, else ``None``."""
    path = Path(__file__).with_name("release_study.py")
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("release_study", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["release_study"] = module
    spec.loader.exec_module(module)
    return module.release_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seasons (one market and crowd each)")
    parser.add_argument("--rounds", type=int, default=52, help="weekly rounds per season")
    parser.add_argument("--stocks", type=int, default=300)
    parser.add_argument("--models", type=int, default=30)
    parser.add_argument("--bags", type=int, default=16, help="stake-dropout draws of the bagged TC")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap resamples of the intervals")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--skip-release", action="store_true", help="skip bench/release_study.py")
    args = parser.parse_args()
    problems = [
        (args.seeds < 2, "--seeds must be at least 2 (intervals are over seeds)"),
        (args.rounds < 8, "--rounds must be at least 8"),
        (args.stocks < 50, "--stocks must be at least 50"),
        (args.models < 10, "--models must be at least 10 (one of each archetype)"),
        (args.bags < 0, "--bags must be >= 0"),
        (args.boot < 100, "--boot must be at least 100"),
    ]
    for bad, message in problems:
        if bad:
            parser.error(message)
    console = Console(width=None if sys.stdout.isatty() else 200)
    started = time.perf_counter()
    figures = []
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("seasons × eras", total=args.seeds * args.rounds)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            figures.append(run_seed(seed, args, progress, task))
    elapsed = time.perf_counter() - started
    horizon = MarketConfig().horizon
    console.print(
        f"{args.seeds} seeds × {args.rounds} rounds; {args.stocks} stocks, {args.models} models, "
        f"{args.bags} stake-dropout draws, target horizon {horizon} eras; {elapsed:.0f} s"
    )
    rng = np.random.default_rng(0)
    print_recovery(figures, console, rng, args.boot)
    print_funds(figures, console, rng, args.boot, horizon)
    print_grades(figures, console, rng, args.boot)
    print_noise(figures, console, rng, args.boot)
    if not args.skip_release:
        study = release_module()
        if study is None:
            console.print("5. release study: bench/release_study.py is not there (skipped)")
        else:
            study(seeds=args.seeds, rounds=args.rounds, console=console)


if __name__ == "__main__":
    main()
