"""Every registered score of one :class:`~kardashev.data.era.Era`, TC and True Return included.

The scores' names and needs come from :mod:`kardashev.scoring.registry`; this module computes the
``"contribution"`` ones (True Contribution, True Return) and asks the registry for the rest. The era's
prediction matrix is gaussianized once (by the first consumer) and shared: the batch scores, the
meta model, TC (``gaussianized=True``) and True Return all use the same ``G``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, MutableMapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kardashev.contribution.parallel import DEFAULT_BAGS_PER_UNIT, DEFAULT_MODELS_PER_UNIT, era_contributions
from kardashev.contribution.solve import risk_model_of
from kardashev.contribution.true_contribution import true_contribution
from kardashev.contribution.true_return import true_return
from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.execution import Executor
from kardashev.metamodel import with_meta_model
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring.registry import SCORES, available_scores, check_names, compute_scores

__all__ = ["ContributionOptions", "risk_model_of", "score_era_all"]


@dataclass(frozen=True)
class ContributionOptions:
    """How the optimizer-based scores are computed.

    Attributes
    ----------
    optimizer_config
        The fund's :class:`~kardashev.portfolio.OptimizerConfig` (``None``: its default).
    tc_bags
        Stake-dropout draws averaged into TC (0: exact TC at the actual stakes).
    tc_dropout, tc_seed
        The share of staked models dropped per draw, and the draws' seed.
    method
        The optimizer's solve path (``"auto"``, ``"fast"``, ``"generic"``).
    models_per_unit, bags_per_unit
        Work-unit sizes when an executor runs TC's draws and True Return's models
        (:func:`kardashev.contribution.parallel.era_contributions`).
    """

    optimizer_config: OptimizerConfig | None = None
    tc_bags: int = 0
    tc_dropout: float = 0.5
    tc_seed: int = 0
    method: str = "auto"
    models_per_unit: int = DEFAULT_MODELS_PER_UNIT
    bags_per_unit: int = DEFAULT_BAGS_PER_UNIT

    @property
    def config(self) -> OptimizerConfig:
        return self.optimizer_config if self.optimizer_config is not None else OptimizerConfig()


class _Clock:
    """Adds the seconds since the previous lap to ``timings[name]`` (nothing without a mapping)."""

    def __init__(self, timings: MutableMapping[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def score_era_all(
    era: Era,
    names: Collection[str] | None = None,
    *,
    kind: str = "classic",
    options: ContributionOptions | None = None,
    target_pow15: bool = True,
    timings: MutableMapping[str, float] | None = None,
    only_available: bool = False,
    executor: Executor | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Scores of every model of ``era``: name → ``(n_models,)`` floats, in registry order.

    ``names`` default to every registered score the era's inputs allow (for a ``kind`` tournament);
    with ``only_available`` the names the era cannot provide are skipped instead of refused.
    The meta model, when the era has none, is blended from the era's own predictions (stake-weighted,
    or naive without stakes). TC needs stakes with a positive total and realized returns; True Return
    realized returns; both use the era's exposures, risk model, ADV and previous holdings.
    ``timings``, when given, receives the seconds spent in each part (``gaussianize_meta_model``,
    ``scores``, ``tc``, ``true_return``), added to what it holds.
    With an ``executor`` (:mod:`kardashev.execution`), TC's draws and True Return's models run on it
    as work units (the same numbers to ≤ 1e-12; timed together as ``tc_true_return``).
    """
    options = options or ContributionOptions()
    clock = _Clock(timings)
    era = with_meta_model(era)
    clock.lap("gaussianize_meta_model")
    allowed = available_scores(era, kind=kind)
    wanted = list(allowed if names is None else [n for n in names if not only_available or n in allowed])
    check_names(wanted, era, kind=kind)
    results, era = compute_scores(
        era, [n for n in wanted if SCORES[n].layer == "scoring"], kind=kind, target_pow15=target_pow15
    )
    clock.lap("scores")
    if "tc" in wanted or "true_return" in wanted:
        if era.gaussianized is None or era.realized_returns is None:
            raise InvalidInputError(
                f"era {era.era}: TC and True Return need NaN-free predictions and realized returns",
                code="missing_era_inputs",
            )
        if executor is not None:
            done = era_contributions(
                era,
                options.config,
                executor,
                tc="tc" in wanted,
                true_returns="true_return" in wanted,
                bags=options.tc_bags,
                dropout=options.tc_dropout,
                seed=options.tc_seed,
                method=options.method,
                models_per_unit=options.models_per_unit,
                bags_per_unit=options.bags_per_unit,
            )
            if done.tc is not None:
                results["tc"] = np.asarray(done.tc.tc, dtype=np.float64)
            if done.true_return is not None:
                results["true_return"] = np.asarray(done.true_return.net_return, dtype=np.float64)
            clock.lap("tc_true_return")
            return {name: results[name] for name in SCORES if name in results}
        risk_model = risk_model_of(era)
        if "tc" in wanted:
            tc = true_contribution(
                era.gaussianized,
                era.required("stakes"),
                era.realized_returns,
                era.exposures,
                options.config,
                bags=options.tc_bags,
                dropout=options.tc_dropout,
                seed=options.tc_seed,
                risk_model=risk_model,
                previous_weights=era.previous_weights,
                adv=era.adv,
                method=options.method,
                gaussianized=True,
            )
            results["tc"] = np.asarray(tc.tc, dtype=np.float64)
            clock.lap("tc")
        if "true_return" in wanted:
            own = true_return(
                era.gaussianized,
                era.realized_returns,
                era.exposures,
                options.config,
                keep_weights=False,
                risk_model=risk_model,
                previous_weights=era.previous_weights,
                adv=era.adv,
                method=options.method,
                gaussianized=True,
            )
            results["true_return"] = np.asarray(own.net_return, dtype=np.float64)
            clock.lap("true_return")
    return {name: results[name] for name in SCORES if name in results}
