"""Validation of TC against the planted truth, and the gradient check against leave-one-out re-runs.

**Headline: the planted expected value.** The synthetic market knows each era's expected returns, so
each model's planted value is exact: the derivative of the fund's *expected*, after-cost return with
respect to its stake, at the fund's stakes (:mod:`kardashev.contribution.planted`). Each score measured
on realized data (TC, MMC, CORR, MPC …) is summed over the season and rank-correlated across models
with the season's summed planted value; the interval is a circular block bootstrap over eras (blocks
of the target horizon, so the overlapping targets stay together): :func:`planted_comparison`.

**Gradient check: leave-one-out and stake bump.** They re-run the fund on the same *realized* returns,
so they check that TC is the derivative it claims to be, not that it finds value. For each model
``k`` and era, with the fund's stakes ``s`` (total ``S = Σs``) and realized return
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

from dataclasses import dataclass, field

import numpy as np

from kardashev.data.era import Era
from kardashev.demo.fund import fund_portfolio
from kardashev.portfolio import OptimizerConfig

__all__ = [
    "MarginalValues",
    "PlantedComparison",
    "ValidationResult",
    "marginal_values",
    "planted_comparison",
    "spearman_rows",
    "summarize_validation",
]


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
class PlantedComparison:
    """Spearman across models of one score's season total with the season's planted value.

    ``low`` … ``high`` is the ``level`` bootstrap interval (circular blocks of ``block`` eras,
    ``n_boot`` resamples).
    """

    score: str
    spearman: float
    low: float
    high: float
    level: float
    block: int
    n_boot: int


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of ``a`` with the same row of ``b`` (``(k, m)`` each → ``(k,)``).

    Columns with a non-finite entry in either are left out; rows with fewer than 3 columns left, or
    constant ranks, give NaN. Ties get their average rank (models never scored sit tied at 0).
    """
    from scipy.stats import rankdata  # scipy.stats is slow to import: only when ranking

    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    keep = np.isfinite(a).all(axis=0) & np.isfinite(b).all(axis=0)
    if keep.sum() < 3:
        return np.full(a.shape[0], np.nan)
    ranks_a = rankdata(a[:, keep], axis=1, method="average").astype(np.float64)
    ranks_b = rankdata(b[:, keep], axis=1, method="average").astype(np.float64)
    ranks_a -= ranks_a.mean(axis=1, keepdims=True)
    ranks_b -= ranks_b.mean(axis=1, keepdims=True)
    numerator = (ranks_a * ranks_b).sum(axis=1)
    denominator = np.sqrt((ranks_a**2).sum(axis=1) * (ranks_b**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-300), np.nan)


def _block_resamples(n_eras: int, *, block: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n_eras)`` era indices of circular block-bootstrap resamples."""
    block = max(1, min(block, n_eras))
    n_blocks = -(-n_eras // block)
    starts = rng.integers(0, n_eras, size=(n_boot, n_blocks))
    indices = (starts[:, :, None] + np.arange(block)[None, None, :]) % n_eras
    return indices.reshape(n_boot, -1)[:, :n_eras]


def planted_comparison(
    scores: dict[str, np.ndarray],
    planted: np.ndarray,
    *,
    block: int,
    n_boot: int = 1000,
    level: float = 0.9,
    seed: int = 0,
) -> dict[str, PlantedComparison]:
    """Rank-correlate each score's season total with the planted value's, with a bootstrap interval.

    Parameters
    ----------
    scores
        Score name → ``(n_eras, n_models)`` per-era scores (NaN: not scored that era).
    planted
        ``(n_eras, n_models)`` per-era planted values on the same eras.
    block
        Bootstrap block length in eras (the target horizon: overlapping targets stay together).
    """
    planted = np.asarray(planted, dtype=np.float64)
    rng = np.random.default_rng(seed)
    resamples = _block_resamples(planted.shape[0], block=block, n_boot=n_boot, rng=rng)
    planted_boot = np.nansum(planted[resamples], axis=1)  # (n_boot, n_models)
    out = {}
    for name, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        point = float(spearman_rows(np.nansum(values, axis=0), np.nansum(planted, axis=0))[0])
        boot = spearman_rows(np.nansum(values[resamples], axis=1), planted_boot)
        boot = boot[np.isfinite(boot)]
        tail = (1.0 - level) / 2
        low, high = np.quantile(boot, [tail, 1 - tail]) if boot.size else (np.nan, np.nan)
        out[name] = PlantedComparison(name, point, float(low), float(high), level, int(block), int(n_boot))
    return out


@dataclass(frozen=True)
class ValidationResult:
    """Season totals per model and how well each score ranks the models like the marginal values.

    Attributes
    ----------
    model_names, archetypes, stakes, true_value
        Per model; ``stakes`` are the stakes the validation fund held; ``true_value`` is the crowd's
        MMC-style planted value (kept for comparison; it ignores the optimizer and the costs).
    totals
        Season sums per score: keys ``"tc"``, ``"mmc"``, ``"corr"``, ``"mpc"``, ``"loo"``, ``"bump"``
        and, when measured, ``"planted"``.
    planted
        The headline: score name → :class:`PlantedComparison` of its season total with the planted
        expected value (empty when the expected returns were not known); see :attr:`headline`.
    spearman_loo, spearman_bump
        The *gradient check*: Spearman across models of each score's total with the leave-one-out and
        stake-bump re-runs on the realized returns (keys ``"tc"``, ``"mmc"``, ``"corr"``, ``"mpc"``).
    spearman_true_value
        Spearman with the crowd's MMC-style ``true_value``.
    tc_era_std
        Per model, TC's standard deviation across the season's eras (its noise as a weekly score).
    tc_bag_std
        Per model, TC's mean standard deviation across stake-dropout draws (``None`` without bagging).
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
    planted: dict[str, PlantedComparison] = field(default_factory=dict)
    tc_era_std: np.ndarray = field(default_factory=lambda: np.empty(0))
    tc_bag_std: np.ndarray | None = None

    @property
    def headline(self) -> PlantedComparison | None:
        """Spearman(TC, planted expected value) with its bootstrap interval (``None`` when not measured)."""
        return self.planted.get("tc")

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
    from scipy.stats import spearmanr  # here: scipy.stats costs ~0.9 s to import

    return float(spearmanr(a[mask], b[mask]).statistic)


def summarize_validation(
    *,
    model_names: tuple[str, ...],
    archetypes: tuple[str, ...],
    stakes: np.ndarray,
    true_value: np.ndarray,
    totals: dict[str, np.ndarray],
    n_eras: int,
    per_era: dict[str, np.ndarray] | None = None,
    planted: np.ndarray | None = None,
    horizon: int = 4,
    tc_bag_std: np.ndarray | None = None,
    n_boot: int = 1000,
) -> ValidationResult:
    """Rank-correlate each score's season total with the planted expected value (the headline, when
    ``planted`` per-era values are given with the ``per_era`` scores), the marginal values (the
    gradient check) and the crowd's ``true_value``."""
    comparison: dict[str, PlantedComparison] = {}
    tc_era_std = np.full(len(model_names), np.nan)
    if per_era is not None:
        if "tc" in per_era and per_era["tc"].shape[0] > 1:
            tc_era_std = np.nanstd(per_era["tc"], axis=0, ddof=1)
        if planted is not None and planted.size:
            comparison = planted_comparison(per_era, planted, block=horizon, n_boot=n_boot)
            totals = {**totals, "planted": np.nansum(planted, axis=0)}
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
        planted=comparison,
        tc_era_std=tc_era_std,
        tc_bag_std=tc_bag_std,
    )
