"""What the demo showed, in words: five sentences computed from the run, a glossary, the next commands.

:func:`tell_story` reads the run's numbers (the engine season's counts, the validation fund's TC and
CORR ranks, the weekly books of the fund under each payout rule, the Type IV test, the validation
against leave-one-out re-runs) and writes:

1. what was simulated;
2. which signals TC rewarded and CORR missed;
3. what happened to the fund under each payout rule;
4. the Type IV verdict;
5. how much to trust it.

The console prints them at the end (:mod:`kardashev.demo.summary`); the report opens with them.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import make_url

from kardashev.cli.number_format import format_value
from kardashev.demo.book import FundBook
from kardashev.demo.season import SeasonLog
from kardashev.demo.simulation import SimulationResult
from kardashev.tournament.domain import UNITS_PER_TOKEN

__all__ = ["GLOSSARY", "RULE_NAMES", "Story", "next_commands", "rank_of", "tell_story"]

RULE_NAMES = {
    "static": "with static stakes",
    "tc": "paid on TC",
    "corr": "paid on CORR",
    "mmc": "paid on MMC",
}

GLOSSARY = (
    ("CORR", "correlation of a model's predictions with the target: is the signal right?"),
    (
        "MMC",
        "correlation with the target of what the model adds to the stake-weighted meta model: "
        "is it right where the crowd is not?",
    ),
    (
        "TC",
        "True Contribution: how much the fund's realized return rises per unit of stake share moved "
        "to the model, through the optimizer and its constraints: does the fund make money from it?",
    ),
    ("TrueRet", "True Return: the return of the model's own optimized portfolio, after trading costs."),
    (
        "grades",
        "I: CORR significantly > 0; II: True Return after costs significantly > 0; III: TC significantly "
        "> 0 (one-sided equal-weighted cosine t-tests, robust to the overlapping targets, "
        "Holm-corrected across models); the highest type passed is shown; –: none passed or too few eras.",
    ),
    (
        "Type IV",
        "the fund's test: no model has significantly positive TC once corrected for testing every model "
        "(Holm): the fund has absorbed what its crowd knows.",
    ),
    (
        "planted value",
        "what a model is truly worth to the fund, known only because the market is simulated; "
        "stake-weighted, it says how much true signal the stakes sit on.",
    ),
)


@dataclass(frozen=True)
class Story:
    """The five sentences (in order), the glossary and the next commands ``(command, what it shows)``."""

    sentences: tuple[str, ...]
    glossary: tuple[tuple[str, str], ...]
    commands: tuple[tuple[str, str], ...]


def rank_of(values: np.ndarray) -> np.ndarray:
    """Rank 1 = highest; NaN ranks last; ties keep model order."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(-np.where(np.isfinite(values), values, -np.inf), kind="stable")
    ranks = np.empty(len(values), dtype=int)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _simulated(*, n_stocks: int, n_rounds: int, archetypes: tuple[str, ...], log: SeasonLog) -> str:
    kinds = Counter(archetypes)
    crowd = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in kinds.items())
    return (
        f"Simulated {n_rounds} weekly rounds of a synthetic market of {n_stocks:,} stocks and a crowd of "
        f"{len(archetypes)} models ({crowd}) through the tournament engine: {log.submissions:,} "
        f"submissions, {log.rounds_resolved} rounds resolved, "
        f"{format_value(log.minted_units / UNITS_PER_TOKEN, 'tokens')} tokens paid out and "
        f"{format_value(log.burned_units / UNITS_PER_TOKEN, 'tokens')} burned."
    )


def _rewarded(simulation: SimulationResult, model_names: tuple[str, ...], archetypes: tuple[str, ...]) -> str:
    scores = simulation.scores
    if scores.tc.size == 0:
        return "No era was scored, so no signal was rewarded."
    tc, corr = np.nanmean(scores.tc, axis=0), np.nanmean(scores.corr, axis=0)
    tc_rank, corr_rank = rank_of(tc), rank_of(corr)
    n = len(tc)
    quarter = max(1, n // 4)
    missed = [k for k in np.argsort(tc_rank) if tc_rank[k] <= quarter and corr_rank[k] > n // 2]
    corr_top = int(np.argmin(corr_rank))
    tail = (
        f"; CORR's favourite, {model_names[corr_top]} ({archetypes[corr_top]}), is #{tc_rank[corr_top]} by TC"
    )
    if not missed:
        best = int(np.argmin(tc_rank))
        return (
            f"On the validation fund (static stakes), TC and CORR agreed at the top: no model of TC's top "
            f"{quarter} sat in CORR's bottom half; TC's best was {model_names[best]} ({archetypes[best]}, "
            f"CORR rank #{corr_rank[best]} of {n}){tail}."
        )
    named = ", ".join(
        f"{model_names[k]} ({archetypes[k]}, TC #{tc_rank[k]}, CORR #{corr_rank[k]})" for k in missed[:3]
    )
    more = f" and {len(missed) - 3} more" if len(missed) > 3 else ""
    return (
        f"On the validation fund (static stakes), TC put {_plural(len(missed), 'model')} in its top "
        f"{quarter} of {n} that CORR ranked in its bottom half: {named}{more}{tail}."
    )


def _fund(books: dict[str, FundBook], simulation: SimulationResult) -> str:
    if not books:
        return "The fund's weekly book was not recorded."
    lead = "tc" if "tc" in books else next(iter(books))
    book = books[lead]
    text = (
        f"Over {len(book.eras)} non-overlapping weeks, after trading costs, the fund made "
        f"{format_value(book.total_return, 'signed_pct')} {RULE_NAMES.get(lead, lead)} "
        f"(Sharpe {format_value(book.annualized_sharpe, 'signed_ratio')} a year, "
        f"worst drawdown {format_value(book.max_drawdown, 'signed_pct')})"
    )
    others = [rule for rule in books if rule != lead]
    if others:
        text += ", against " + ", ".join(
            f"{format_value(books[rule].total_return, 'signed_pct')} {RULE_NAMES.get(rule, rule)} "
            f"(Sharpe {format_value(books[rule].annualized_sharpe, 'signed_ratio')})"
            for rule in others
        )
    planted = {rule: simulation.planted_value(rule) for rule in books if rule in simulation.tracks}
    moving = [rule for rule in planted if rule != "static" and planted[rule].size]
    if moving:
        start = planted[moving[0]][0]
        ends = ", ".join(
            f"{format_value(planted[rule][-1], 'signed')} {RULE_NAMES.get(rule, rule)}" for rule in moving
        )
        text += f"; the planted value of the stakes went from {format_value(start, 'signed')} to {ends}"
    return text + "."


def _type_iv(fund_grade: tuple[str, ...]) -> str:
    if not fund_grade:
        return "The Type IV test was not run."
    verdict = fund_grade[0].split(" — ")[0].strip().rstrip(".")
    return f"Type IV verdict — {verdict}; each model's TC tested one-sided, Holm-corrected across models."


def _trust(books: dict[str, FundBook], simulation: SimulationResult) -> str:
    validation = simulation.validation
    headline = getattr(validation, "headline", None)  # Spearman with the planted expected value
    if validation is None:
        agreement = "TC was not checked against leave-one-out re-runs (--no-validate)"
    elif headline is not None and np.isfinite(headline.spearman):
        corr = getattr(validation, "planted", {}).get("corr")
        versus = f"; CORR's {format_value(corr.spearman, 'signed')}" if corr is not None else ""
        if headline.low > 0:
            verdict = "clearly better than chance"
        elif headline.high < 0:
            verdict = "worse than chance"
        else:
            verdict = "not distinguishable from chance over this season"
        agreement = (
            f"against the models' planted expected value, TC's season ranking has Spearman "
            f"{format_value(headline.spearman, 'signed')} ({headline.level:.0%} interval "
            f"{format_value(headline.low, 'signed')} to {format_value(headline.high, 'signed')}{versus}): "
            f"{verdict}; re-running the fund without each model agrees with TC as a derivative "
            f"(Spearman {format_value(validation.spearman_loo['tc'], 'signed')})"
        )
    else:
        agreement = (
            f"TC's season ranking of the models agrees with re-running the fund without each one "
            f"(Spearman {format_value(validation.spearman_loo['tc'], 'signed')}; "
            f"CORR's {format_value(validation.spearman_loo['corr'], 'signed')})"
        )
    if "tc" not in books or "corr" not in books or books["tc"].net_pnl.size < 3:
        return f"How much to trust it: {agreement}; too few weeks to compare the payout rules."
    edge = books["tc"].net_pnl - books["corr"].net_pnl
    n = edge.size
    mean, spread = float(edge.mean()), float(edge.std(ddof=1))
    error = spread / np.sqrt(n)
    t = mean / error if error > 0 else float("nan")
    clear = bool(np.isfinite(t) and abs(t) >= 2)
    luck = "unlikely to be luck" if clear else "within what luck gives"
    return (
        f"How much to trust it: {agreement}; {'and' if clear else 'but'} the TC fund's weekly edge over the "
        f"CORR fund is "
        f"{format_value(mean, 'signed_pct3')} ± {format_value(error, 'pct3')} "
        f"(t = {format_value(t, 'signed_ratio')} over {n} weeks, one seed), "
        f"{luck}; rerun with other --seed values before concluding."
    )


def next_commands(
    *, out: Path, database_url: str | None, run_tag: str, model: str | None
) -> tuple[tuple[str, str], ...]:
    """Commands that explore what the demo wrote, with its ``--data-dir`` (and ``--db`` if one was given)."""
    where = f"--data-dir {shlex.quote(str(out))}"
    if database_url is not None:
        url = make_url(database_url)
        shown = url.render_as_string(hide_password=url.password is not None)
        where += f" --db {shlex.quote(shown)}"
    commands = [
        (f"kardashev leaderboard {where}", "the engine's leaderboard over the resolved rounds"),
        (f"kardashev round list {where}", "every round, its status and submissions"),
        (f"kardashev account list {where}", "every account's wallet, models and stakes"),
    ]
    if model is not None:
        name = shlex.quote(f"{run_tag}{model}")
        commands.append((f"kardashev diagnostics {name} {where}", f"{model}'s scores round by round"))
        commands.append((f"kardashev stake get {name} {where}", f"{model}'s stake now"))
    return tuple(commands)


def tell_story(
    *,
    n_stocks: int,
    n_rounds: int,
    model_names: tuple[str, ...],
    archetypes: tuple[str, ...],
    log: SeasonLog,
    simulation: SimulationResult,
    books: dict[str, FundBook],
    fund_grade: tuple[str, ...],
    commands: tuple[tuple[str, str], ...] = (),
) -> Story:
    """The five sentences (see the module docstring), the glossary and ``commands``."""
    sentences = (
        _simulated(n_stocks=n_stocks, n_rounds=n_rounds, archetypes=archetypes, log=log),
        _rewarded(simulation, model_names, archetypes),
        _fund(books, simulation),
        _type_iv(fund_grade),
        _trust(books, simulation),
    )
    return Story(sentences=sentences, glossary=GLOSSARY, commands=commands)
