"""Study: what releasing the meta model buys (TC at home) and what it leaks (another model's signal).

Both measurements run on the synthetic market and crowd (``kardashev.data.synthetic``) with the engine's
pure functions in memory (no database), seed after seed.

1. **TC at home** — each era, the engine's TC of every model (true stakes, the fund's optimizer, factor
   risk model, exposures, ADV, realized residual returns) against the participant's local estimate
   (:func:`kardashev.contribution.local.local_tc`): the same optimizer inputs, the model's true stake
   share, and, standing in for the others' blend, the meta model *as released* (tie-kept ranks rounded to
   4 decimals by :func:`kardashev.tournament.release.prepare_release`, put on the blend's scale) of
   ``lag`` rounds earlier, naive (equal weights, every model) or stake-weighted. Reported: the mean over
   eras of the per-era correlation across models, and the correlation across models of season-mean TC
   (every other model of the 30 is estimated: one optimization per model, release kind, lag and era).
   ``others_only`` is the stake-weighted release *without* the estimated model — the case of a model
   tried on history before it is submitted (the two other kinds hold the model itself).
2. **What the release leaks** — an attacker owns one model (a consensus model) and holds the public
   features and the released history; the victim is an ``original`` model (a private alpha source).
   *Regression*: the residual of the released meta model (gaussianized) on the attacker's signal and the
   features. *Differencing*: the victim joins at era t; the residual of release t on release t−1 (which
   lacks the victim), the attacker's signal and the features. The recovered signal's correlation with the
   victim's *current* signal (``lag`` rounds after the release's era) is reported against the number of
   contributors, next to the same attack on a release without the victim (what the crowd reveals anyway).

    python bench/release_study.py --seeds 8 --rounds 52      # the documented run (~70 s CPU per seed)
    python bench/release_study.py --seeds 2 --rounds 6       # quick
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.cli.tables import Column, NumberFormat, output_console, render_table
from kardashev.contribution import true_contribution
from kardashev.contribution.local import local_tc
from kardashev.contribution.solve import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import gaussianize
from kardashev.tournament.release import ReleaseConfig, ReleaseDecision, prepare_release

__all__ = ["release_study"]

N_STOCKS = 300
N_MODELS = 30
SCORED = tuple(range(0, N_MODELS, 2))  # the models estimated at home (every other one: half the solves)
LAGS = (0, 1, 4, 13)
KINDS = ("naive", "stake_weighted")
HOME_KINDS = (
    *KINDS,
    "others_only",
)  # others_only: the stake-weighted blend without the model (a new model's case)
CONTRIBUTORS = (2, 3, 5, 10, 20, 50, 100, 500)
LEAK_LAGS = (0, 4, 13)
CONFIG = OptimizerConfig()


def _released(blend: np.ndarray, ids: np.ndarray, n_contributors: int) -> pd.Series:
    """The published form of a meta model (the release rule's rounded tie-kept ranks), by stock id."""
    decision = ReleaseDecision(
        round_number=1, releasable=True, reason="released", release_round=1, n_contributors=n_contributors
    )
    return prepare_release(pd.Series(blend, index=ids), decision=decision, config=ReleaseConfig(decimals=4))


def _standin(released: pd.Series, ids: np.ndarray, scale: float) -> np.ndarray:
    """The released ranks on this era's stocks, gaussianized and scaled (stocks not released: 0)."""
    values = released.reindex(ids).to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    out = np.zeros(values.shape)
    out[finite] = scale * gaussianize(values[finite])
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


@dataclass
class _EraBook:
    """One era's released meta models (by kind, and for ``others_only`` by model) and their blends' std."""

    releases: dict[tuple[str, int], tuple[pd.Series, float]]

    def standin(self, kind: str, model: int, ids: np.ndarray) -> np.ndarray:
        released, scale = self.releases[kind, model if kind == "others_only" else -1]
        return _standin(released, ids, scale)


def _book(gaussianized: np.ndarray, ids: np.ndarray, shares: np.ndarray) -> _EraBook:
    weighted = gaussianized @ shares
    scale = float(weighted.std())
    releases = {
        ("naive", -1): (_released(gaussianized.mean(axis=1), ids, N_MODELS), scale),
        ("stake_weighted", -1): (_released(weighted, ids, N_MODELS), scale),
    }
    for k in SCORED:
        others = (weighted - shares[k] * gaussianized[:, k]) / (1.0 - shares[k])
        releases["others_only", k] = (_released(others, ids, N_MODELS - 1), float(others.std()))
    return _EraBook(releases)


def _tc_at_home_seed(seed: int, rounds: int, advance) -> dict[tuple[str, int], tuple[float, float]]:
    """(kind, lag) → (mean per-era correlation, season correlation) for one seed."""
    first = max(LAGS)
    market = generate_market(MarketConfig(n_stocks=N_STOCKS, n_eras=first + rounds, seed=seed))
    crowd = generate_crowd(market, CrowdConfig(n_models=N_MODELS, seed=seed))
    stakes = crowd.stakes
    shares = stakes / stakes.sum()
    books: dict[int, _EraBook] = {}
    engine_rows, local_rows = [], {key: [] for key in ((k, lag) for k in HOME_KINDS for lag in LAGS)}
    per_era = {key: [] for key in local_rows}
    for t in range(first + rounds):
        data = market.era(t)
        era = era_inputs(data, crowd.predictions(data))
        books[t] = _book(era.gaussianized, era.ids, shares)
        books.pop(t - first - 1, None)
        if t < first:
            advance()
            continue
        engine = true_contribution(
            era.gaussianized,
            stakes,
            era.realized_returns,
            era.exposures,
            CONFIG,
            risk_model=risk_model_of(era),
            adv=era.adv,
            gaussianized=True,
        )
        engine_tc = np.asarray(engine.exact_tc)
        engine_rows.append(engine_tc)
        for kind, lag in local_rows:
            book = books[t - lag]
            estimate = np.array(
                [
                    local_tc(
                        era.models([k]), book.standin(kind, k, era.ids), share=float(shares[k]), config=CONFIG
                    )[0]
                    for k in SCORED
                ]
            )
            local_rows[kind, lag].append(estimate)
            per_era[kind, lag].append(_corr(estimate, engine_tc[list(SCORED)]))
        advance()
    season_engine = np.mean(engine_rows, axis=0)[list(SCORED)]
    return {
        key: (float(np.nanmean(per_era[key])), _corr(np.mean(rows, axis=0), season_engine))
        for key, rows in local_rows.items()
    }


def _residual(y: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The part of ``y`` that ``known`` (columns, with an intercept) does not explain (least squares)."""
    design = np.column_stack([np.ones(y.shape[0]), known])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coefficients


def _on(series: pd.Series, ids: np.ndarray) -> np.ndarray:
    values = series.reindex(ids).to_numpy(dtype=np.float64)
    return np.where(np.isfinite(values), values, 0.0)


def _leak_seed(seed: int, rounds: int, advance) -> dict[tuple[str, str, int, int], float]:
    """(attack, kind, lag, n) → mean correlation of the recovered signal with the victim's, one seed.

    ``attack`` is ``regression``, ``differencing`` or ``baseline`` (regression on a release without the
    victim: what the rest of the crowd reveals about the victim's signal anyway).
    """
    first = max(LEAK_LAGS) + 1
    market = generate_market(MarketConfig(n_stocks=N_STOCKS, n_eras=first + rounds, seed=seed))
    eras = [market.era(t) for t in range(first + rounds)]
    results: dict[tuple[str, str, int, int], list[float]] = {}
    for n in CONTRIBUTORS:
        crowd = generate_crowd(market, CrowdConfig(n_models=n, seed=seed, n_unstaked_original=0))
        archetypes = np.asarray(crowd.archetypes)
        attacker = (
            int(np.flatnonzero(archetypes == "consensus")[0]) if (archetypes == "consensus").any() else 0
        )
        originals = [j for j in np.flatnonzero(archetypes == "original") if j != attacker]
        victim = int(originals[0]) if originals else (n - 1 if attacker != n - 1 else 0)
        weights = {"naive": np.full(n, 1.0 / n), "stake_weighted": crowd.stakes / crowd.stakes.sum()}
        without = np.arange(n) != victim
        history: list[dict[str, object]] = []
        for t, data in enumerate(eras):
            gaussianized = gaussianize(crowd.predictions(data))
            ids = data.ids
            features = np.asarray(data.features, dtype=np.float64)
            entry: dict[str, object] = {"ids": ids, "victim": pd.Series(gaussianized[:, victim], index=ids)}
            for kind, w in weights.items():
                rest = w * without
                full = gaussianize(_released(gaussianized @ w, ids, n).to_numpy())
                alone = gaussianize(_released(gaussianized @ (rest / rest.sum()), ids, n).to_numpy())
                known = np.column_stack([gaussianized[:, attacker], features])
                entry[kind, "regression"] = pd.Series(_residual(full, known), index=ids)
                entry[kind, "baseline"] = pd.Series(_residual(alone, known), index=ids)
                if t > 0:  # the victim joins at t: release t−1 lacks it
                    before = _on(history[t - 1][kind, "without"], ids)  # type: ignore[arg-type]
                    residual = _residual(full, np.column_stack([before, known]))
                    entry[kind, "differencing"] = pd.Series(residual, index=ids)
                entry[kind, "without"] = pd.Series(alone, index=ids)
            history.append(entry)
            if t >= first:
                victim_now = entry["victim"]
                for lag in LEAK_LAGS:
                    past = history[t - lag]
                    for kind in KINDS:
                        for attack in ("regression", "differencing", "baseline"):
                            recovered = _on(past[kind, attack], ids)  # type: ignore[arg-type]
                            value = _corr(recovered, victim_now.to_numpy())  # type: ignore[union-attr]
                            results.setdefault((attack, kind, lag, n), []).append(value)
            advance()
    return {key: float(np.nanmean(values)) for key, values in results.items()}


def _sd(values: list[float]) -> float:
    """Standard deviation over seeds (NaN for one seed)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def release_study(*, seeds: int, rounds: int, console: Console) -> None:
    """Run both measurements over ``seeds`` seeds of ``rounds`` rounds and print their tables."""
    started = time.perf_counter()
    total = seeds * (rounds + max(LAGS)) + seeds * len(CONTRIBUTORS) * (rounds + max(LEAK_LAGS) + 1)
    timing = {"TC at home": 0.0, "leak": 0.0}
    home: list[dict[tuple[str, int], tuple[float, float]]] = []
    leaks: list[dict[tuple[str, str, int, int], float]] = []
    columns = (TextColumn("[bold]release study"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("eras", total=total)

        def advance() -> None:
            progress.advance(task)

        for seed in range(seeds):
            clock = time.process_time()
            home.append(_tc_at_home_seed(seed, rounds, advance))
            timing["TC at home"] += time.process_time() - clock
            clock = time.process_time()
            leaks.append(_leak_seed(seed, rounds, advance))
            timing["leak"] += time.process_time() - clock
    console.print(
        f"[bold]Release study[/]: {seeds} seed(s) × {rounds} rounds, {N_STOCKS} stocks, "
        f"{N_MODELS} models ({len(SCORED)} estimated at home); "
        f"{time.perf_counter() - started:.0f} s wall, CPU "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timing.items())
    )
    three = NumberFormat(decimals=3)
    rows = [
        {
            "release": kind,
            "lag": lag,
            "per_era": np.mean([run[kind, lag][0] for run in home]),
            "per_era_sd": _sd([run[kind, lag][0] for run in home]),
            "season": np.mean([run[kind, lag][1] for run in home]),
            "season_sd": _sd([run[kind, lag][1] for run in home]),
        }
        for kind in HOME_KINDS
        for lag in LAGS
    ]
    render_table(
        pd.DataFrame(rows),
        [
            Column("release"),
            Column("lag", fmt="int"),
            Column("per_era", "per-era corr", fmt=three),
            Column("per_era_sd", "± sd", fmt=three),
            Column("season", "season corr", fmt=three),
            Column("season_sd", "± sd", fmt=three),
        ],
        console=console,
        title="TC at home: local estimate vs the engine's TC",
        caption="per-era corr: correlation across models of estimated and engine TC, mean over eras; season "
        "corr: correlation across models of season-mean TC; mean and sd over seeds; others_only: the "
        "stake-weighted release without the estimated model (a model not yet in the meta model)",
    )
    for lag in LEAK_LAGS:
        rows = [
            {
                "attack": f"{kind} · {attack}",
                **{
                    f"n={n}": float(np.nanmean([run[attack, kind, lag, n] for run in leaks]))
                    for n in CONTRIBUTORS
                },
            }
            for kind in KINDS
            for attack in ("regression", "differencing", "baseline")
        ]
        render_table(
            pd.DataFrame(rows),
            [Column("attack", "release · attack"), *(Column(f"n={n}", fmt=three) for n in CONTRIBUTORS)],
            console=console,
            title=f"What the release leaks: corr(recovered, victim's signal {lag} rounds later)",
        )
    console.print(
        "n: contributing models; the attacker owns one and knows the features; baseline: the same regression "
        "on a release without the victim (what the rest of the crowd reveals anyway); mean over eras, seeds"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds (synthetic markets and crowds)")
    parser.add_argument("--rounds", type=int, default=52, help="rounds (eras) per season")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.rounds < 2:
        parser.error("--seeds must be >= 1 and --rounds >= 2")
    release_study(seeds=args.seeds, rounds=args.rounds, console=output_console())


if __name__ == "__main__":
    sys.exit(main())
