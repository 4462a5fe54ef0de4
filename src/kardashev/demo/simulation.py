"""The season, in memory: the fund under each payout rule, the scores per model, and the validation.

One :class:`SeasonSimulator` is fed the eras one at a time (:meth:`SeasonSimulator.step`). It runs
several funds side by side on the same market and crowd, one per payout rule:

* ``"static"`` — the crowd's initial stakes held all season (the validation fund: TC, MMC, CORR, MPC,
  True Return and the leave-one-out / stake-bump marginal values are measured on it);
* ``"tc"``, ``"corr"``, ``"mmc"``, ``"corr_mmc"`` (the tournament's default payout,
  ``PayoutConfig().score_multipliers``: ``0.5·CORR + 2·MMC``) — stakes are paid on that
  score when a round resolves (``resolution_lag`` eras later), then a share of the stake moves toward
  the models with the best recent score (:mod:`kardashev.demo.dynamics`).

When the era's expected returns are known (a synthetic market's planted truth, passed to
:meth:`SeasonSimulator.step`), the validation fund also records each model's planted value (the exact
derivative of the fund's expected after-cost return w.r.t. its stake,
:func:`kardashev.contribution.planted.planted_contribution`) and every fund its expected return.

Comparing the ``"tc"`` fund's realized return and Sharpe with the ``"corr"`` fund's shows whether
paying on TC makes the fund better over the season.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kardashev.contribution import true_contribution, true_return
from kardashev.contribution.planted import expected_fund_return, planted_contribution
from kardashev.contribution.scores import risk_model_of
from kardashev.data.era import Era
from kardashev.demo.book import turnover
from kardashev.demo.dynamics import StakeDynamics, apply_payouts, reallocate_stakes, recent_mean_scores
from kardashev.demo.fund import align_weights
from kardashev.demo.validation import ValidationResult, marginal_values, summarize_validation
from kardashev.errors import ConfigError
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import (
    correlation_contribution,
    feature_exposures,
    feature_neutral_corr,
    meta_portfolio_contribution,
    numerai_corr,
    orthonormal_neutralizers,
)
from kardashev.scoring.summary import sharpe_ratio
from kardashev.tournament.payout import PayoutConfig, combined_score

__all__ = [
    "PAYOUT_RULES",
    "FundTrack",
    "SeasonScores",
    "SeasonSimulator",
    "SimulationConfig",
    "SimulationResult",
]

PAYOUT_RULES = ("static", "tc", "corr", "mmc", "corr_mmc")

_DEFAULT_PAYOUT = PayoutConfig()  # the tournament's default multipliers, paid by the "corr_mmc" rule
DEFAULT_RULES = ("static", "tc", "corr", "mmc")


@dataclass(frozen=True)
class SimulationConfig:
    """Options of the in-memory season.

    Attributes
    ----------
    rules
        Payout rules to run side by side (subset of :data:`PAYOUT_RULES`; ``"static"`` is always
        run, it is the validation fund; ``"corr_mmc"`` pays the tournament's default mix,
        ``0.5·CORR + 2·MMC``).
    dynamics
        How stakers move stake toward high recent scores.
    resolution_lag
        Eras until a round's scores are known (its target horizon).
    payout_cap
        Per-round payout clip (fraction of stake).
    validate
        Whether to compute the leave-one-out and stake-bump marginal values (costly: ~3 solves per model
        per era).
    bump
        Relative stake bump ``δ / Σs`` of the stake-bump marginal value.
    tc_bags, tc_dropout
        Stake-dropout draws of the validation fund's bagged TC (0: not computed) and the share dropped;
        the draws' spread is TC's noise (``SeasonScores.tc_bag_std``, ``ValidationResult.tc_bag_std``).
    seed
        Seed of the bagging draws.
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    dynamics: StakeDynamics = field(default_factory=StakeDynamics)
    resolution_lag: int = 4
    payout_cap: float = 0.05
    validate: bool = True
    bump: float = 1e-3
    tc_bags: int = 8
    tc_dropout: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.rules if rule not in PAYOUT_RULES]
        if unknown:
            raise ConfigError(f"unknown payout rules {unknown}; use some of {PAYOUT_RULES}")
        if self.resolution_lag < 0:
            raise ConfigError(f"resolution_lag must be >= 0, got {self.resolution_lag}")
        if not self.bump > 0:
            raise ConfigError(f"bump must be > 0, got {self.bump}")
        if self.tc_bags < 0:
            raise ConfigError(f"tc_bags must be >= 0, got {self.tc_bags}")
        if not 0.0 <= self.tc_dropout < 1.0:
            raise ConfigError(f"tc_dropout must lie in [0, 1), got {self.tc_dropout}")


@dataclass(frozen=True)
class FundTrack:
    """One fund's season under a payout rule: realized return and stakes per era."""

    rule: str
    eras: tuple[str, ...]
    returns: np.ndarray
    stakes: np.ndarray

    @property
    def cumulative_return(self) -> np.ndarray:
        return np.cumsum(self.returns)

    @property
    def sharpe(self) -> float:
        return sharpe_ratio(self.returns)

    def rolling_sharpe(self, window: int) -> np.ndarray:
        """Sharpe of the last ``window`` eras at each era (NaN before ``window`` eras)."""
        out = np.full(len(self.returns), np.nan)
        for end in range(window, len(self.returns) + 1):
            out[end - 1] = sharpe_ratio(self.returns[end - window : end])
        return out

    def half_means(self) -> tuple[float, float]:
        """Mean realized return per era in the first and in the second half of the season."""
        half = len(self.returns) // 2
        first, second = self.returns[:half], self.returns[half:]
        return (
            float(first.mean()) if len(first) else float("nan"),
            float(second.mean()) if len(second) else float("nan"),
        )

    def half_sharpes(self) -> tuple[float, float]:
        """Sharpe of the first and of the second half of the season."""
        half = len(self.returns) // 2
        return sharpe_ratio(self.returns[:half]), sharpe_ratio(self.returns[half:])


def _empty() -> np.ndarray:
    return np.empty((0, 0))


@dataclass(frozen=True)
class SeasonScores:
    """Per-era scores of every model on the validation (static-stake) fund, each ``(n_eras, n_models)``.

    ``bmc`` is measured against the consensus models' average (the analogue of Numerai's benchmark
    models, built on the public features); ``bagged_tc``, ``tc_bag_std`` (TC's standard deviation
    across the stake-dropout draws) and ``bag_tc`` (``(n_eras, bags, n_models)``, every draw's TC) are
    empty without bagging; ``planted`` (each model's planted value,
    :mod:`kardashev.contribution.planted`) is empty when the expected returns were not given.
    """

    eras: tuple[str, ...]
    corr: np.ndarray
    mmc: np.ndarray
    tc: np.ndarray
    mpc: np.ndarray
    true_return: np.ndarray
    meta_feature_exposures: np.ndarray
    feature_names: tuple[str, ...]
    bmc: np.ndarray = field(default_factory=_empty)
    fnc: np.ndarray = field(default_factory=_empty)
    bagged_tc: np.ndarray = field(default_factory=_empty)
    tc_bag_std: np.ndarray = field(default_factory=_empty)
    bag_tc: np.ndarray = field(default_factory=_empty)
    planted: np.ndarray = field(default_factory=_empty)


@dataclass(frozen=True)
class SimulationResult:
    """Everything the in-memory season produced.

    ``turnover`` (:func:`kardashev.demo.book.turnover`) and ``expected_returns`` (``μᵀw − cost``, empty
    without the expected returns) are per payout rule, one value per era.
    """

    tracks: dict[str, FundTrack]
    scores: SeasonScores
    validation: ValidationResult | None
    true_value: np.ndarray
    turnover: dict[str, np.ndarray] = field(default_factory=dict)
    expected_returns: dict[str, np.ndarray] = field(default_factory=dict)

    def planted_value(self, rule: str) -> np.ndarray:
        """Per era, the stake-weighted planted true value of the crowd under ``rule``'s stakes."""
        stakes = self.tracks[rule].stakes
        if stakes.size == 0:
            return np.empty(0)
        return (stakes / stakes.sum(axis=1, keepdims=True)) @ self.true_value


@dataclass
class _Track:
    rule: str
    stakes: np.ndarray
    previous: dict[str, float] | None = None
    returns: list[float] = field(default_factory=list)
    turnover: list[float] = field(default_factory=list)
    expected: list[float] = field(default_factory=list)
    stakes_history: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)


class SeasonSimulator:
    """Feeds eras through the funds of every payout rule; see the module docstring."""

    def __init__(
        self,
        *,
        model_names: tuple[str, ...],
        archetypes: tuple[str, ...],
        initial_stakes: np.ndarray,
        true_value: np.ndarray,
        optimizer_config: OptimizerConfig,
        config: SimulationConfig,
    ) -> None:
        self.model_names = tuple(model_names)
        self.archetypes = tuple(archetypes)
        self.initial_stakes = np.asarray(initial_stakes, dtype=np.float64)
        self.true_value = np.asarray(true_value, dtype=np.float64)
        self.optimizer_config = optimizer_config
        self.config = config
        rules = ("static", *[rule for rule in config.rules if rule != "static"])
        self._tracks = {rule: _Track(rule=rule, stakes=self.initial_stakes.copy()) for rule in rules}
        self._eras: list[str] = []
        self._per_era: dict[str, list[np.ndarray]] = {
            name: []
            for name in (
                *("corr", "mmc", "tc", "mpc", "true_return", "exposures", "loo", "bump"),
                *("bmc", "fnc", "bagged_tc", "tc_bag_std", "bag_tc", "planted"),
            )
        }
        # BMC's benchmark: the consensus models' average (all models' when there is none)
        benchmark = np.asarray(self.archetypes) == "consensus"
        if not benchmark.any():
            benchmark = np.ones(len(self.archetypes), dtype=bool)
        self._benchmark_weights = benchmark / benchmark.sum()
        self._expected: np.ndarray | None = None
        self._bag_rng = np.random.default_rng(config.seed)
        self._feature_names: tuple[str, ...] = ()
        self._own_holdings: dict[int, dict[str, float]] = {}

    def holdings(self, rule: str) -> dict[str, float] | None:
        """The portfolio the fund paid on ``rule`` holds after the last era (stock id → weight)."""
        previous = self._tracks[rule].previous
        return None if previous is None else dict(previous)

    def stakes(self, rule: str) -> np.ndarray:
        """Current stakes of the fund paid on ``rule``."""
        return self._tracks[rule].stakes.copy()

    def step(self, inputs: Era, *, expected_returns: np.ndarray | None = None) -> None:
        """Run every fund through one era, pay and reallocate stakes whose rounds resolved.

        ``expected_returns`` (``(n_stocks,)``, the planted expectation of ``inputs.realized_returns``)
        adds the planted values and the funds' expected returns.
        """
        self._expected = None if expected_returns is None else np.asarray(expected_returns, dtype=np.float64)
        self._eras.append(inputs.era)
        self._feature_names = inputs.feature_names or ()
        corr = np.asarray(
            numerai_corr(inputs.required("predictions"), inputs.required("target")), dtype=np.float64
        )
        for track in self._tracks.values():
            self._step_track(track, inputs, corr)

    def _step_track(self, track: _Track, inputs: Era, corr: np.ndarray) -> None:
        previous = align_weights(track.previous, inputs.ids)
        bagged = track.rule == "static" and self.config.tc_bags > 0
        result = true_contribution(
            inputs.gaussianized,
            track.stakes,
            inputs.realized_returns,
            inputs.exposures,
            self.optimizer_config,
            risk_model=risk_model_of(inputs),
            previous_weights=previous,
            adv=inputs.adv,
            gaussianized=True,
            bags=self.config.tc_bags if bagged else 0,
            dropout=self.config.tc_dropout,
            seed=self._bag_rng,
        )
        tc = np.asarray(result.exact_tc, dtype=np.float64)
        meta_model = np.asarray(result.meta_model, dtype=np.float64)
        mmc = np.asarray(
            correlation_contribution(inputs.required("predictions"), meta_model, inputs.required("target")),
            dtype=np.float64,
        )
        track.stakes_history.append(track.stakes.copy())
        track.returns.append(float(result.realized_return))
        weights = np.asarray(result.weights, dtype=np.float64)
        track.turnover.append(turnover(weights, inputs.ids, track.previous))
        if self._expected is not None:
            track.expected.append(
                expected_fund_return(
                    weights,
                    self._expected,
                    previous_weights=previous,
                    adv=inputs.adv,
                    config=self.optimizer_config,
                )
            )
        if track.rule == "static":
            self._record_validation_era(inputs, track, previous, result, corr, mmc, tc, meta_model)
        else:
            scores = {"tc": tc, "corr": corr, "mmc": mmc}
            if track.rule == "corr_mmc":  # the tournament's default payout mix
                scores["corr_mmc"] = combined_score(scores, config=_DEFAULT_PAYOUT)
            track.scores.append(scores[track.rule])
            self._resolve(track)
        track.previous = dict(zip(map(str, inputs.ids), np.asarray(result.weights, dtype=float), strict=True))

    def _resolve(self, track: _Track) -> None:
        lag = self.config.resolution_lag
        resolved = len(track.scores) - lag
        if resolved < 1:
            return
        track.stakes = apply_payouts(track.stakes, track.scores[resolved - 1], cap=self.config.payout_cap)
        recent = recent_mean_scores(np.vstack(track.scores[:resolved]), window=self.config.dynamics.window)
        track.stakes = reallocate_stakes(track.stakes, recent, self.config.dynamics)

    def _record_validation_era(self, inputs, track, previous, result, corr, mmc, tc, meta_model) -> None:
        per_era = self._per_era
        per_era["corr"].append(corr)
        per_era["mmc"].append(mmc)
        per_era["tc"].append(tc)
        self._record_study_scores(inputs, track, previous, result)
        # MPC, the linear stand-in for TC: Signals' neutralized weights against an orthonormal basis of the
        # fund's exposures (and the ones column), uniform sample weights, scored on the same realized returns.
        basis = orthonormal_neutralizers(inputs.exposures, add_intercept=True)
        per_era["mpc"].append(
            np.asarray(
                meta_portfolio_contribution(
                    inputs.predictions,
                    track.stakes,
                    basis,
                    np.ones(inputs.predictions.shape[0]),
                    inputs.realized_returns,
                ),
                dtype=np.float64,
            )
        )
        per_era["true_return"].append(self._true_returns(inputs))
        per_era["exposures"].append(
            np.asarray(feature_exposures(meta_model, inputs.features), dtype=np.float64)
        )
        if self.config.validate:
            values = marginal_values(
                inputs,
                track.stakes,
                config=self.optimizer_config,
                previous_weights=previous,
                base_return=float(result.realized_return),
                bump=self.config.bump,
            )
            per_era["loo"].append(values.loo)
            per_era["bump"].append(values.bump)

    def _record_study_scores(self, inputs: Era, track: _Track, previous, result) -> None:
        """BMC, FNC, the bagged TC and its spread across draws, and the planted value (when known)."""
        per_era = self._per_era
        predictions, target = inputs.required("predictions"), inputs.required("target")
        benchmark = inputs.required("gaussianized") @ self._benchmark_weights
        per_era["bmc"].append(
            np.asarray(correlation_contribution(predictions, benchmark, target), dtype=np.float64)
        )
        per_era["fnc"].append(
            np.asarray(
                feature_neutral_corr(predictions, inputs.required("features"), target), dtype=np.float64
            )
        )
        if result.bag_tc is not None:
            per_era["bagged_tc"].append(np.asarray(result.tc, dtype=np.float64))
            per_era["tc_bag_std"].append(np.asarray(result.bag_tc, dtype=np.float64).std(axis=0))
            per_era["bag_tc"].append(np.asarray(result.bag_tc, dtype=np.float64))
        if self._expected is not None:
            planted = planted_contribution(
                inputs.required("gaussianized"),
                track.stakes,
                self._expected,
                inputs.exposures,
                self.optimizer_config,
                risk_model=risk_model_of(inputs),
                previous_weights=previous,
                adv=inputs.adv,
                portfolio=result.portfolio,
            )
            per_era["planted"].append(planted.value)

    def _true_returns(self, inputs: Era) -> np.ndarray:
        """Each model's own portfolio, traded from its own previous holdings, net of trading costs."""
        net = np.empty(inputs.n_models)
        ids = [str(stock) for stock in inputs.ids]
        for k in range(inputs.n_models):
            previous = align_weights(self._own_holdings.get(k), inputs.ids)
            own = true_return(
                inputs.required("gaussianized")[:, k : k + 1],
                inputs.realized_returns,
                inputs.exposures,
                self.optimizer_config,
                risk_model=risk_model_of(inputs),
                previous_weights=previous,
                adv=inputs.adv,
                gaussianized=True,
            )
            net[k] = float(np.asarray(own.net_return)[0])
            self._own_holdings[k] = dict(zip(ids, np.asarray(own.weights)[:, 0], strict=True))
        return net

    def result(self) -> SimulationResult:
        """The season so far: fund tracks, per-era scores and the validation summary."""
        eras = tuple(self._eras)
        tracks = {
            rule: FundTrack(
                rule=rule,
                eras=eras,
                returns=np.asarray(track.returns, dtype=np.float64),
                stakes=np.vstack(track.stakes_history) if track.stakes_history else np.empty((0, 0)),
            )
            for rule, track in self._tracks.items()
        }
        n_models = len(self.model_names)

        def stack(name: str, width: int = n_models) -> np.ndarray:
            rows = self._per_era[name]
            return np.vstack(rows) if rows else np.empty((0, width))

        scores = SeasonScores(
            eras=eras,
            corr=stack("corr"),
            mmc=stack("mmc"),
            tc=stack("tc"),
            mpc=stack("mpc"),
            true_return=stack("true_return"),
            meta_feature_exposures=stack("exposures", len(self._feature_names)),
            feature_names=self._feature_names,
            bmc=stack("bmc"),
            fnc=stack("fnc"),
            bagged_tc=stack("bagged_tc"),
            tc_bag_std=stack("tc_bag_std"),
            bag_tc=np.stack(self._per_era["bag_tc"]) if self._per_era["bag_tc"] else _empty(),
            planted=stack("planted"),
        )
        validation = None
        if self.config.validate and self._per_era["loo"]:
            totals = {
                name: np.nansum(stack(name), axis=0) for name in ("tc", "mmc", "corr", "mpc", "loo", "bump")
            }
            per_era = {"tc": scores.tc, "mmc": scores.mmc, "corr": scores.corr, "mpc": scores.mpc}
            per_era.update({"true_return": scores.true_return, "bmc": scores.bmc, "fnc": scores.fnc})
            if scores.bagged_tc.size:
                per_era["bagged_tc"] = scores.bagged_tc
            validation = summarize_validation(
                model_names=self.model_names,
                archetypes=self.archetypes,
                stakes=self.initial_stakes,
                true_value=self.true_value,
                totals=totals,
                n_eras=len(eras),
                per_era=per_era,
                planted=scores.planted if scores.planted.size else None,
                horizon=max(self.config.resolution_lag, 1),
                tc_bag_std=scores.tc_bag_std.mean(axis=0) if scores.tc_bag_std.size else None,
            )
        return SimulationResult(
            tracks=tracks,
            scores=scores,
            validation=validation,
            true_value=self.true_value,
            turnover={rule: np.asarray(track.turnover) for rule, track in self._tracks.items()},
            expected_returns={rule: np.asarray(track.expected) for rule, track in self._tracks.items()},
        )
