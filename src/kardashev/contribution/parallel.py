"""True Return and bagged TC of one :class:`~kardashev.data.era.Era` as work units on an executor.

The era's units are chunks of models (True Return: each model's own portfolio) and chunks of
stake-dropout draws (bagged TC), handed to a :class:`kardashev.execution.Executor` in one
``map``. Every unit reads the same payload (the era's gaussianized matrix, returns, exposures,
risk model, ADV, holdings and, for TC, the draws' blends), sent once per era.

Warm starts. A worker keeps, for the era it last worked on (``state``, keyed by a token of the
era's job), the solver with its risk model and an *anchor*: the solved portfolio of the meta model
at the full stakes (or of the first model when the era has no stakes). Each unit starts from the
anchor and chains through its own models or draws, exactly as :func:`true_return` and
:func:`~kardashev.contribution.true_contribution.era_tc` chain through theirs — so a unit's
numbers do not depend on which worker ran it or what it ran before, and the local and Ray
executors agree to the last bits (a test checks ≤ 1e-12; with one chunk of draws, bagged TC is
the very computation of ``true_contribution``).

The math is not repeated here: units call :func:`true_return`, :func:`blend_sensitivity` and
:class:`EraSolver`; the bagged TC is assembled by :func:`bagged_fields`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from kardashev.contribution.solve import EraSolver, risk_model_of
from kardashev.contribution.true_contribution import (
    TCResult,
    _check_options,
    bagged_fields,
    blend_sensitivity,
    dropout_stakes,
    era_tc,
)
from kardashev.contribution.true_return import TrueReturnResult, true_return
from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.execution import Executor, LocalExecutor
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig, RiskModel
from kardashev.scoring.registry import gaussianize_predictions

__all__ = [
    "DEFAULT_BAGS_PER_UNIT",
    "DEFAULT_MODELS_PER_UNIT",
    "EraContributions",
    "era_contributions",
    "parallel_true_contribution",
    "parallel_true_return",
]

#: models per True Return unit (~0.15 s of solves at 5000 stocks: many units per worker end together)
DEFAULT_MODELS_PER_UNIT = 32
#: stake-dropout draws per TC unit
DEFAULT_BAGS_PER_UNIT = 5

_STATE_KEY = "kardashev.contribution.parallel"
#: what the units do not read (left out of the payload sent to the workers)
_NOT_SENT = ("predictions", "gaussianized", "target", "meta_model", "benchmark", "features")


@dataclass(frozen=True, eq=False)
class EraContributions:
    """One era's True Contribution (``None`` when not asked for) and True Return."""

    tc: TCResult | None
    true_return: TrueReturnResult | None


@dataclass(frozen=True, eq=False)
class _Job:
    """What every unit of one era reads (the executor's ``shared`` payload)."""

    token: str
    era: Era  # the solver's inputs: exposures, risk, ADV, holdings (the matrices left out)
    gaussianized: np.ndarray  # (n_stocks, n_models) G
    returns: np.ndarray  # (n_stocks,) realized returns
    anchor_alpha: np.ndarray  # (n_stocks,) the blend whose portfolio is every unit's warm start
    config: OptimizerConfig
    method: str
    blends: np.ndarray  # (n_stocks, bags) the draws' blends, for TC units (bags may be 0)


@dataclass(frozen=True, eq=False)
class _Context:
    """What a worker keeps for the era it works on."""

    token: str
    risk_model: RiskModel | None
    solver: EraSolver
    anchor: Any  # PortfolioResult: the warm start of every unit


def _gaussianized(era: Era) -> np.ndarray:
    if era.gaussianized is not None:
        return era.gaussianized
    era.require("predictions", what="True Contribution and True Return")
    return gaussianize_predictions(np.asarray(era.predictions))


def _anchor_alpha(gaussianized: np.ndarray, stakes: np.ndarray | None) -> np.ndarray:
    if stakes is not None and stakes.sum() > 0:
        return gaussianized @ (stakes / stakes.sum())
    return gaussianized[:, 0]


def _context(job: _Job, state: dict[str, Any]) -> _Context:
    """The worker's solver and anchor for ``job`` (built once per worker per era, then reused)."""
    cached = state.get(_STATE_KEY)
    if cached is not None and cached.token == job.token:
        return cached
    risk_model = risk_model_of(job.era)
    solver = EraSolver(job.era, job.config, risk_model, job.method)  # type: ignore[arg-type]
    anchor = solver.solve(standardize(job.anchor_alpha))
    context = _Context(job.token, risk_model, solver, anchor)
    state[_STATE_KEY] = context  # one era at a time: the previous era's context is dropped
    return context


def _run_unit(unit: tuple[str, int, int], job: _Job, state: dict[str, Any]) -> dict[str, np.ndarray]:
    """One work unit: ``("tr", first, stop)`` models or ``("tc", first, stop)`` draws."""
    kind, first, stop = unit
    context = _context(job, state)
    era = job.era
    if kind == "tr":
        result = true_return(
            job.gaussianized[:, first:stop],
            job.returns,
            era.exposures,
            job.config,
            risk_model=context.risk_model,
            previous_weights=era.previous_weights,
            adv=era.adv,
            method=job.method,
            gaussianized=True,
            keep_weights=False,
            warm_start=context.anchor,
        )
        return {name: np.asarray(getattr(result, name)) for name in _TR_FIGURES}
    blends = job.blends
    pulled_back = np.empty((blends.shape[0], stop - first))
    returns = np.empty(stop - first)
    warm = context.anchor
    for j, b in enumerate(range(first, stop)):
        draw = blend_sensitivity(blends[:, b], context.solver, job.returns, warm_start=warm)
        warm = draw.result
        returns[j] = float(job.returns @ draw.result.weights)
        pulled_back[:, j] = draw.sensitivity
    return {"pulled_back": pulled_back, "bag_returns": returns}


_TR_FIGURES = ("gross_return", "trading_cost", "net_return", "turnover", "gross_leverage")


def _chunks(kind: str, total: int, size: int) -> list[tuple[str, int, int]]:
    return [(kind, first, min(first + size, total)) for first in range(0, total, size)]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}", code=f"invalid_{name}")
    return int(value)


def era_contributions(
    era: Era,
    config: OptimizerConfig | None,
    executor: Executor | None = None,
    *,
    tc: bool = True,
    true_returns: bool = True,
    bags: int = 0,
    dropout: float = 0.5,
    seed: int | np.random.Generator | None = None,
    method: str = "auto",
    models_per_unit: int = DEFAULT_MODELS_PER_UNIT,
    bags_per_unit: int = DEFAULT_BAGS_PER_UNIT,
) -> EraContributions:
    """TC (``bags`` stake-dropout draws) and True Return of every model of ``era``, as work units.

    Parameters
    ----------
    era
        Needs ``predictions`` (or ``gaussianized``) and ``realized_returns``; TC also ``stakes``.
        ``exposures``, ``risk``, ``adv`` and ``previous_weights`` are used when present.
    config
        The fund's :class:`~kardashev.portfolio.OptimizerConfig` (defaults if ``None``).
    executor
        Where the units run (default a :class:`~kardashev.execution.LocalExecutor`).
    tc, true_returns
        Which of the two to compute.
    bags, dropout, seed
        As for :func:`~kardashev.contribution.true_contribution` (same seed, same draws).
    models_per_unit, bags_per_unit
        The size of a unit. The numbers depend on the units only through the warm starts, i.e.
        not beyond the optimizer's accuracy; for a given unit size they are the same on every
        executor and worker count.
    """
    _check_options(bags, dropout)
    models_per_unit = _positive_int("models_per_unit", models_per_unit)
    bags_per_unit = _positive_int("bags_per_unit", bags_per_unit)
    config = OptimizerConfig() if config is None else config
    era.require("realized_returns", what="True Contribution and True Return")
    if tc:
        era.require("stakes", what="True Contribution")
    gaussianized = _gaussianized(era)
    returns, stakes = np.asarray(era.realized_returns), era.stakes
    slim = era.with_(**dict.fromkeys(_NOT_SENT))
    executor = LocalExecutor() if executor is None else executor
    tc_fields: dict[str, Any] | None = None
    draws = np.zeros((0, gaussianized.shape[1]))
    blends = np.zeros((gaussianized.shape[0], 0))
    if tc and stakes is not None:
        solver = EraSolver(slim, config, risk_model_of(slim), method)  # type: ignore[arg-type]
        tc_fields = era_tc(gaussianized, slim, solver)  # type: ignore[arg-type]  # the exact TC
        if bags:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            draws = dropout_stakes(stakes, bags=bags, dropout=float(dropout), rng=rng)
            blends = gaussianized @ (draws / draws.sum(axis=1, keepdims=True)).T  # (n_stocks, bags)
    units = _chunks("tc", blends.shape[1], bags_per_unit)
    if true_returns:
        units += _chunks("tr", gaussianized.shape[1], models_per_unit)
    anchor = _anchor_alpha(gaussianized, stakes)
    job = _Job(f"{era.era}/{uuid.uuid4().hex}", slim, gaussianized, returns, anchor, config, method, blends)
    results = executor.map(_run_unit, units, shared=job)
    tc_result = None
    if tc_fields is not None:
        done = [r for unit, r in zip(units, results, strict=True) if unit[0] == "tc"]
        if done:
            pulled_back = np.concatenate([r["pulled_back"] for r in done], axis=1)
            bag_returns = np.concatenate([r["bag_returns"] for r in done])
            tc_fields.update(bags=int(bags), dropout=float(dropout))
            tc_fields.update(bagged_fields(gaussianized, draws, blends, pulled_back, bag_returns))
        tc_result = TCResult(**tc_fields)
    tr_result = None
    if true_returns:
        done = [r for unit, r in zip(units, results, strict=True) if unit[0] == "tr"]
        figures = {name: np.concatenate([r[name] for r in done]) for name in _TR_FIGURES}
        tr_result = TrueReturnResult(weights=None, **figures)
    return EraContributions(tc=tc_result, true_return=tr_result)


def parallel_true_return(
    era: Era, config: OptimizerConfig | None, executor: Executor | None = None, **options: Any
) -> TrueReturnResult:
    """True Return of every model of ``era`` in chunks of models (options of :func:`era_contributions`)."""
    result = era_contributions(era, config, executor, tc=False, true_returns=True, **options)
    return result.true_return  # type: ignore[return-value]


def parallel_true_contribution(
    era: Era, config: OptimizerConfig | None, executor: Executor | None = None, **options: Any
) -> TCResult:
    """TC of every model of ``era``, its draws in chunks (options of :func:`era_contributions`)."""
    result = era_contributions(era, config, executor, tc=True, true_returns=False, **options)
    return result.tc  # type: ignore[return-value]
