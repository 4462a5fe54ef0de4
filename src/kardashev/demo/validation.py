"""Validation of TC against the planted truth: leave-one-out and stake-bump marginal values.

For each model ``k`` and era, with the fund's stakes ``s`` (total ``S = Σs``) and realized return
``R(s)`` of the optimized portfolio:

* **leave-one-out (LOO)**, per unit of stake share, for a staked model:
  ``LOO_k = (R(s) − R(s − s_k e_k)) · S / s_k`` — the fund re-run without the model; to first order it
  equals ``TC_k = S · ∂R/∂s_k``, but it is a finite, non-local change that crosses the optimizer's kinks.
  For a model with zero stake, removing it changes nothing, so its LOO is the forward stake bump below.
* **stake bump**, a re-optimization with a small bump ``δ = bump · S``:
  ``(R(s + δe_k) − R(s − δe_k)) · S / (2δ)`` (forward difference ``(R(s + δe_k) − R(s)) · S / δ`` when
  ``s_k < δ``).

Both are summed over the season's eras and compared across models, by Spearman rank correlation, with
the summed TC, MMC, CORR and MPC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from kardashev.data.era import Era
from kardashev.demo.fund import fund_portfolio
from kardashev.portfolio import OptimizerConfig

__all__ = ["MarginalValues", "ValidationResult", "marginal_values", "summarize_validation"]


@dataclass(frozen=True)
class MarginalValues:
    """One era's marginal values per model: ``loo`` and ``bump``, each ``(n_models,)``."""

    loo: np.ndarray
    bump: np.ndarray


def marginal_values(
    inputs: Era,
    stakes: np.ndarray,
    *,
    config: OptimizerConfig,
    previous_weights: np.ndarray | None,
    base_return: float,
    bump: float = 1e-3,
    models: np.ndarray | None = None,
) -> MarginalValues:
    """Leave-one-out and stake-bump marginal values of ``models`` (default all) for one era.

    Models outside ``models`` get NaN. Each value costs one or two re-optimizations of the fund.
    """
    stakes = np.asarray(stakes, dtype=np.float64)
    total = float(stakes.sum())
    delta = bump * total
    n_models = stakes.shape[0]
    selected = np.arange(n_models) if models is None else np.asarray(models, dtype=int)
    loo = np.full(n_models, np.nan)
    derivative = np.full(n_models, np.nan)

    def realized(perturbed: np.ndarray) -> float:
        return fund_portfolio(inputs, perturbed, config=config, previous_weights=previous_weights)[1]

    for k in selected:
        up = stakes.copy()
        up[k] += delta
        r_up = realized(up)
        if stakes[k] >= delta:
            down = stakes.copy()
            down[k] -= delta
            derivative[k] = (r_up - realized(down)) * total / (2 * delta)
        else:
            derivative[k] = (r_up - base_return) * total / delta
        without = stakes.copy()
        without[k] = 0.0
        if stakes[k] > 0 and without.sum() > 0:
            loo[k] = (base_return - realized(without)) * total / stakes[k]
        else:
            loo[k] = derivative[k]
    return MarginalValues(loo=loo, bump=derivative)


@dataclass(frozen=True)
class ValidationResult:
    """Season totals per model and how well each score ranks the models like the marginal values.

    Attributes
    ----------
    model_names, archetypes, stakes, true_value
        Per model; ``stakes`` are the stakes the validation fund held; ``true_value`` is planted.
    totals
        Season sums per score: keys ``"tc"``, ``"mmc"``, ``"corr"``, ``"mpc"``, ``"loo"``, ``"bump"``.
    spearman_loo, spearman_bump, spearman_true_value
        Spearman correlation across models of each score's total with LOO, with the stake bump and
        with the planted true value (keys ``"tc"``, ``"mmc"``, ``"corr"``, ``"mpc"``).
    unstaked_original_tc_rank
        Ranks (1 = best TC) of the unstaked original models, and ``n_models``.
    """

    model_names: tuple[str, ...]
    archetypes: tuple[str, ...]
    stakes: np.ndarray
    true_value: np.ndarray
    totals: dict[str, np.ndarray]
    spearman_loo: dict[str, float]
    spearman_bump: dict[str, float]
    spearman_true_value: dict[str, float]
    unstaked_original_tc_rank: tuple[int, ...]
    n_models: int
    n_eras: int

    @property
    def unstaked_original_top_decile(self) -> bool:
        """Whether every unstaked original ranks in the top 10% of TC (at least the top 1)."""
        cutoff = max(1, int(np.ceil(0.1 * self.n_models)))
        return bool(self.unstaked_original_tc_rank) and all(
            rank <= cutoff for rank in self.unstaked_original_tc_rank
        )

    @property
    def tc_beats_others(self) -> bool:
        """TC's Spearman with LOO is higher than CORR's, MMC's and MPC's."""
        tc = self.spearman_loo["tc"]
        return all(tc > self.spearman_loo[name] for name in ("corr", "mmc", "mpc"))


SCORES = ("tc", "mmc", "corr", "mpc")


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    mask = np.isfinite(a) & np.isfinite(b)
    if mask.sum() < 3 or np.ptp(a[mask]) == 0 or np.ptp(b[mask]) == 0:
        return float("nan")
    return float(spearmanr(a[mask], b[mask]).statistic)


def summarize_validation(
    *,
    model_names: tuple[str, ...],
    archetypes: tuple[str, ...],
    stakes: np.ndarray,
    true_value: np.ndarray,
    totals: dict[str, np.ndarray],
    n_eras: int,
) -> ValidationResult:
    """Rank-correlate each score's season total with the marginal values and the planted truth."""
    tc = totals["tc"]
    order = np.argsort(-np.where(np.isfinite(tc), tc, -np.inf), kind="stable")
    ranks = np.empty(len(tc), dtype=int)
    ranks[order] = np.arange(1, len(tc) + 1)
    unstaked = tuple(int(ranks[i]) for i, kind in enumerate(archetypes) if kind == "unstaked_original")
    return ValidationResult(
        model_names=model_names,
        archetypes=archetypes,
        stakes=np.asarray(stakes, dtype=np.float64),
        true_value=np.asarray(true_value, dtype=np.float64),
        totals=totals,
        spearman_loo={name: _spearman(totals[name], totals["loo"]) for name in SCORES},
        spearman_bump={name: _spearman(totals[name], totals["bump"]) for name in SCORES},
        spearman_true_value={name: _spearman(totals[name], np.asarray(true_value, float)) for name in SCORES},
        unstaked_original_tc_rank=unstaked,
        n_models=len(tc),
        n_eras=n_eras,
    )
