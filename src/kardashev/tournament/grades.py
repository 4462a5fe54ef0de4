"""Kardashev grades: is a model's edge statistically real, and is the fund still improvable?

Per model, from its per-era score series (eras in time order):

* **Type I** — CORR significantly > 0: predictive before costs;
* **Type II** — True Return (the return it adds after trading costs) significantly > 0;
* **Type III** — TC significantly > 0: it makes profitable alterations to the fund's meta model.

For the fund, **Type IV** holds when *no* signal has significantly positive TC once the
multiple testing over all models is corrected for (Holm by default, or Benjamini–Hochberg): the
fund has absorbed what its crowd knows.

Each test is one-sided (H₀: mean ≤ 0). Two corrections make a grade trustworthy:

* **Overlapping targets and slow signals.** A 20-trading-day target scored weekly spans 4 eras, and
  alpha that persists for months makes even a noise model's score drift together for many eras, so a
  plain t-statistic overstates significance. The t-statistic is Newey–West's
  (:func:`kardashev.scoring.newey_west_t_statistic`) with, by default, the longer of the overlap
  (``target_horizon_eras − 1``) and ``⌈√n_eras⌉`` lags; the p-value is ``P(T > t)`` for Student's t
  with ``n_eras − 1`` degrees of freedom.
* **Many models.** Among hundreds of models some pass any test by chance, so each type's p-values are
  adjusted across the tested models (``family="models"``, Holm by default): a model passes a type when
  its *adjusted* p-value is below the level. The Type IV test is the same Type III family, so a fund is
  Type IV exactly when no model is graded Type III.

The calibration is measured, not assumed: ``bench/science.py`` grades planted nulls (the synthetic
crowd's noise models) across seeds and reports how often one is graded Type III (target ≤ 5% of
seasons) and how often the originals are (the power). A series with fewer than ``min_eras`` scored
eras (NaN eras are skipped) is not tested: t and p are NaN and it is not significant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import stdtr

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.scoring import newey_west_t_statistic

__all__ = [
    "FundGrade",
    "GradeConfig",
    "Grades",
    "ModelGrade",
    "ScoreTest",
    "adjust_p_values",
    "ewc_t_statistic",
    "grade_models",
    "score_test",
    "type_iv_test",
]

_TYPES = (("type_i", "I"), ("type_ii", "II"), ("type_iii", "III"))


@dataclass(frozen=True)
class GradeConfig:
    """How grades are tested (frozen).

    Parameters
    ----------
    significance
        Level of every one-sided test (and of the corrected Type IV family).
    target_horizon_eras
        Target horizon in eras (4 for a 20-trading-day target on weekly eras); sets the default lag.
    lag
        Newey–West lag; ``None`` → ``max(target_horizon_eras − 1, ⌈√n_eras⌉)`` per series.
    min_eras
        Least number of scored eras for a series to be tested.
    correction
        Multiple-testing correction across models, of every type and of the Type IV test:
        ``"holm"`` (family-wise error) or ``"bh"`` (Benjamini–Hochberg false discovery rate).
    family
        ``"models"``: a model passes a type when its p-value adjusted across the tested models is
        below ``significance``; ``"none"``: each model is tested alone (the raw p-value; the Type IV
        test is corrected either way).
    method
        ``"ewc"`` (default): the equal-weighted cosine test (:func:`ewc_t_statistic`), Student's t
        with ``q`` degrees of freedom, sized correctly under autocorrelation in short series;
        ``"newey_west"``: Newey–West with ``lag_for(n)`` lags and Student's t with ``n − 1`` degrees
        of freedom (over-rejects when the scores drift slowly; kept for comparison).
    ewc_df
        Cosines of the EWC test; ``None`` → ``max(2, ⌊0.4·n_eras^(2/3)⌋)`` (5 for 52 eras).
    corr_column, true_return_column, tc_column
        Column names of the three scores in the per-era table.
    """

    significance: float = 0.05
    target_horizon_eras: int = 4
    lag: int | None = None
    min_eras: int = 8
    correction: Literal["holm", "bh"] = "holm"
    family: Literal["models", "none"] = "models"
    method: Literal["ewc", "newey_west"] = "ewc"
    ewc_df: int | None = None
    corr_column: str = "corr"
    true_return_column: str = "true_return"
    tc_column: str = "tc"

    def __post_init__(self) -> None:
        if not 0.0 < self.significance < 1.0:
            raise ConfigError(f"significance must be in (0, 1), got {self.significance}")
        if self.target_horizon_eras < 1:
            raise ConfigError(f"target_horizon_eras must be at least 1, got {self.target_horizon_eras}")
        if self.lag is not None and self.lag < 0:
            raise ConfigError(f"lag cannot be negative, got {self.lag}")
        if self.min_eras < 2:
            raise ConfigError(f"min_eras must be at least 2, got {self.min_eras}")
        if self.correction not in ("holm", "bh"):
            raise ConfigError(f"correction must be 'holm' or 'bh', got {self.correction!r}")
        if self.family not in ("models", "none"):
            raise ConfigError(f"family must be 'models' or 'none', got {self.family!r}")
        if self.method not in ("ewc", "newey_west"):
            raise ConfigError(f"method must be 'ewc' or 'newey_west', got {self.method!r}")
        if self.ewc_df is not None and self.ewc_df < 1:
            raise ConfigError(f"ewc_df must be at least 1, got {self.ewc_df}")

    def ewc_df_for(self, n_eras: int) -> int:
        """Cosines (degrees of freedom) of the EWC test: ``ewc_df``, or ``max(2, ⌊0.4·n^(2/3)⌋)``."""
        if self.ewc_df is not None:
            return self.ewc_df
        return max(2, math.floor(0.4 * max(n_eras, 0) ** (2.0 / 3.0)))

    @property
    def newey_west_lag(self) -> int:
        """The least lag used: ``lag``, or the overlap ``target_horizon_eras − 1``."""
        return self.target_horizon_eras - 1 if self.lag is None else self.lag

    def lag_for(self, n_eras: int) -> int:
        """The Newey–West lag of a series of ``n_eras`` scores: ``lag``, or the longer of the overlap
        and ``⌈√n_eras⌉``."""
        if self.lag is not None:
            return self.lag
        return max(self.target_horizon_eras - 1, math.ceil(math.sqrt(max(n_eras, 0))))


@dataclass(frozen=True)
class ScoreTest:
    """One-sided test that a per-era score series has a positive mean.

    Attributes
    ----------
    score
        Score name.
    n_eras
        Scored eras used.
    mean
        Mean per-era score.
    t_statistic
        Newey–West t-statistic (overlap corrected).
    naive_t_statistic
        Plain t-statistic (lag 0), for comparison.
    p_value
        ``P(T > t_statistic)``, Student's t with ``n_eras − 1`` degrees of freedom.
    significant
        ``adjusted_p_value < significance``.
    adjusted_p_value
        ``p_value`` adjusted across the models tested together (equal to it for a test alone).
    lag
        The Newey–West lag used.
    """

    score: str
    n_eras: int
    mean: float
    t_statistic: float
    naive_t_statistic: float
    p_value: float
    significant: bool
    adjusted_p_value: float = math.nan
    lag: int = 0


@dataclass(frozen=True)
class ModelGrade:
    """Grades of one model: the three tests and the highest type passed (0 when none)."""

    model: str
    type_i: ScoreTest
    type_ii: ScoreTest
    type_iii: ScoreTest

    @property
    def types(self) -> tuple[str, ...]:
        """Roman numerals of the types passed, e.g. ``("I", "III")``."""
        return tuple(numeral for field, numeral in _TYPES if getattr(self, field).significant)

    @property
    def grade(self) -> int:
        """Highest type passed (1, 2, 3), or 0."""
        passed = [k for k, (field, _) in enumerate(_TYPES, start=1) if getattr(self, field).significant]
        return max(passed, default=0)


@dataclass(frozen=True)
class FundGrade:
    """Type IV test of the fund: no signal has significantly positive TC (corrected).

    Attributes
    ----------
    type_iv
        True when at least one model was tested and none is significant after correction.
    correction, significance
        The correction and level used.
    n_tested
        Models with enough eras to be tested.
    p_values, adjusted_p_values
        Model → one-sided TC p-value, raw and corrected (NaN for untested models).
    significant_models
        Models whose TC is significantly positive after correction.
    """

    type_iv: bool
    correction: str
    significance: float
    n_tested: int
    p_values: Mapping[str, float]
    adjusted_p_values: Mapping[str, float]
    significant_models: tuple[str, ...]


@dataclass(frozen=True)
class Grades:
    """Grades of every model and the fund's Type IV test."""

    models: tuple[ModelGrade, ...]
    fund: FundGrade
    config: GradeConfig

    def to_frame(self) -> pd.DataFrame:
        """Tidy table, one row per model: mean, t (corrected and naive), p and verdict per type."""
        rows = []
        for model in self.models:
            row: dict[str, object] = {"model": model.model}
            for field, _ in _TYPES:
                test: ScoreTest = getattr(model, field)
                prefix = test.score
                row.update(
                    {
                        f"{prefix}_n_eras": test.n_eras,
                        f"{prefix}_mean": test.mean,
                        f"{prefix}_t": test.t_statistic,
                        f"{prefix}_naive_t": test.naive_t_statistic,
                        f"{prefix}_p": test.p_value,
                        f"{prefix}_p_adjusted": test.adjusted_p_value,
                        field: test.significant,
                    }
                )
            row["tc_p_adjusted"] = self.fund.adjusted_p_values.get(model.model, math.nan)
            row["grade"] = model.grade
            row["types"] = ",".join(model.types)
            rows.append(row)
        return (
            pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame(index=pd.Index([], name="model"))
        )


def score_test(scores: ArrayLike, *, score: str, config: GradeConfig | None = None) -> ScoreTest:
    """One-sided overlap-corrected test that ``scores`` (per era, in time order) has a mean > 0, alone
    (no correction across models; :func:`grade_models` adjusts the p-values of a family)."""
    config = config or GradeConfig()
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise InvalidInputError(f"{score}: a per-era score series must be 1-D, got {values.ndim}-D")
    values = values[~np.isnan(values)]
    n_eras = int(values.size)
    mean = float(values.mean()) if n_eras else math.nan
    lag = config.lag_for(n_eras)
    if n_eras < config.min_eras:
        return ScoreTest(score, n_eras, mean, math.nan, math.nan, math.nan, False, math.nan, lag)
    naive = newey_west_t_statistic(values, lag=0)
    if config.method == "ewc":
        t_statistic, df = ewc_t_statistic(values, df=config.ewc_df_for(n_eras))
    else:
        t_statistic, df = newey_west_t_statistic(values, lag=lag), n_eras - 1
    if math.isnan(t_statistic):  # zero variance: certain when the mean is not zero
        p_value = math.nan if mean == 0 else (0.0 if mean > 0 else 1.0)
    else:
        p_value = float(stdtr(df, -t_statistic))  # Student t survival function
    significant = bool(not math.isnan(p_value) and p_value < config.significance)
    return ScoreTest(score, n_eras, mean, t_statistic, naive, p_value, significant, p_value, lag)


def ewc_t_statistic(scores: ArrayLike, *, df: int) -> tuple[float, int]:
    """Equal-weighted cosine (EWC) t-statistic of the mean and its degrees of freedom.

    ``Λ_j = √(2/T) Σ_t cos(πj(t − ½)/T) x_t`` for ``j = 1 … q``, ``Ω̂ = (1/q) Σ_j Λ_j²`` and
    ``t = √T x̄ / √Ω̂``, Student's t with ``q`` degrees of freedom under the null, also when the series is
    autocorrelated (Lazarus, Lewis, Stock & Watson 2018, "HAR inference: recommendations for practice").
    The low-frequency cosines carry the long-run variance, so overlapping targets and slowly drifting
    scores widen the test instead of inflating it. ``q`` is capped at ``T − 1``; NaN when ``T < 2`` or
    ``Ω̂ = 0``.
    """
    values = np.asarray(scores, dtype=np.float64)
    n = values.size
    q = min(int(df), n - 1)
    if n < 2 or q < 1:
        return math.nan, max(q, 1)
    times = (np.arange(n) + 0.5) / n
    cosines = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(np.arange(1, q + 1), times))
    projections = cosines @ (values - values.mean())
    long_run_variance = float(projections @ projections) / q
    if long_run_variance <= 0:
        return math.nan, q
    return float(np.sqrt(n) * values.mean() / np.sqrt(long_run_variance)), q


def adjust_p_values(p_values: ArrayLike, *, method: Literal["holm", "bh"] = "holm") -> NDArray[np.float64]:
    """Multiple-testing adjusted p-values (NaN entries stay NaN and are not counted).

    ``"holm"``: step-down ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``;
    ``"bh"``: Benjamini–Hochberg (:func:`scipy.stats.false_discovery_control`).
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise InvalidInputError("p-values must be a 1-D array")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise InvalidInputError("p-values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    tested = p[finite]
    if tested.size == 0:
        return adjusted
    if method == "bh":
        from scipy.stats import false_discovery_control  # here: scipy.stats costs ~0.9 s to import

        adjusted[finite] = false_discovery_control(tested, method="bh")
    elif method == "holm":
        order = np.argsort(tested, kind="stable")
        m = tested.size
        stepped = np.minimum(1.0, (m - np.arange(m)) * tested[order])
        result = np.empty(m)
        result[order] = np.maximum.accumulate(stepped)
        adjusted[finite] = result
    else:
        raise ConfigError(f"unknown correction {method!r}; expected 'holm' or 'bh'")
    return adjusted


def type_iv_test(p_values: Mapping[str, float], *, config: GradeConfig | None = None) -> FundGrade:
    """Type IV test from each model's one-sided TC p-value (NaN: not tested)."""
    config = config or GradeConfig()
    models = list(p_values)
    raw = np.array([p_values[m] for m in models], dtype=np.float64)
    adjusted = adjust_p_values(raw, method=config.correction)
    significant = tuple(m for m, p in zip(models, adjusted, strict=True) if p < config.significance)
    n_tested = int((~np.isnan(raw)).sum())
    return FundGrade(
        type_iv=n_tested > 0 and not significant,
        correction=config.correction,
        significance=config.significance,
        n_tested=n_tested,
        p_values=MappingProxyType(dict(zip(models, raw.tolist(), strict=True))),
        adjusted_p_values=MappingProxyType(dict(zip(models, adjusted.tolist(), strict=True))),
        significant_models=significant,
    )


def grade_models(
    per_era: pd.DataFrame,
    *,
    config: GradeConfig | None = None,
    model_column: str = "model",
    era_column: str = "era",
) -> Grades:
    """Grade every model of a tidy per-era score table.

    Parameters
    ----------
    per_era
        One row per (model, era) with the score columns named in ``config`` (``corr``,
        ``true_return``, ``tc``). A missing score column leaves that type untested.
    config
        Test settings.
    model_column, era_column
        Names of the model and era columns; eras are sorted within each model (time order).

    Returns
    -------
    Grades
    """
    config = config or GradeConfig()
    missing = {model_column, era_column} - set(per_era.columns)
    if missing:
        raise InvalidInputError(f"the per-era table lacks columns {', '.join(sorted(missing))}")
    score_columns = (config.corr_column, config.true_return_column, config.tc_column)
    if not any(column in per_era.columns for column in score_columns):
        raise InvalidInputError(f"the per-era table has none of the score columns {', '.join(score_columns)}")
    if per_era.duplicated([model_column, era_column]).any():
        raise InvalidInputError("the per-era table has a (model, era) pair twice")
    names: list[str] = []
    tests: list[list[ScoreTest]] = []
    for model, rows in per_era.sort_values([model_column, era_column], kind="stable").groupby(
        model_column, sort=False
    ):
        names.append(str(model))
        tests.append(
            [
                score_test(
                    rows[column].to_numpy(dtype=np.float64) if column in rows.columns else np.array([]),
                    score=column,
                    config=config,
                )
                for column in score_columns
            ]
        )
    if config.family == "models" and tests:
        for kind in range(len(score_columns)):
            adjusted = adjust_p_values([row[kind].p_value for row in tests], method=config.correction)
            for row, p in zip(tests, adjusted, strict=True):
                row[kind] = replace(
                    row[kind], adjusted_p_value=float(p), significant=bool(p < config.significance)
                )
    grades = [ModelGrade(name, *row) for name, row in zip(names, tests, strict=True)]
    fund = type_iv_test({grade.model: grade.type_iii.p_value for grade in grades}, config=config)
    return Grades(models=tuple(grades), fund=fund, config=config)
