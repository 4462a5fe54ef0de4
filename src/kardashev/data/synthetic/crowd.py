"""A seeded crowd of models with stakes, of named archetypes with planted value.

Each model's raw signal at an era is a linear mix of standardised latent directions (the
market's hidden alpha sources and some risk exposures) plus noise that is part fixed per
(model, stock) and part fresh each era; predictions are its per-era percentile ranks in (0, 1).

=====================  ==========================================================================
archetype              signal
=====================  ==========================================================================
``consensus``          the common alpha sources (the ones in the features) + noise; many copies
``original``           one private alpha source nobody else's features carry + noise
``unstaked_original``  like ``original`` on a source reserved for it, with stake 0
``factor_bet``         short large caps (+ a momentum or low-beta tilt): risk the fund neutralises
``technical``          one-week reversal (real but fully churning) + fresh noise
``copycat``            last era's stake-weighted average of the other models' predictions + noise
``noise``              noise only
=====================  ==========================================================================

``true_value`` is each model's planted value to the fund, from the generator's knowledge: with
``IC_j`` the information coefficient of its standardised signal ``x_j`` on the horizon's
*residual* (fully neutralised) return, known from its loadings on the alpha sources, and ``M``
the stake-weighted meta model, ``true_value_j = IC_j − cov(x_j, M)·IC_M / var(M)``: the part of
its edge the meta model does not already hold, i.e. the expected direction of
d(fund return)/d(stake_j). Correlations are
taken after removing the risk-exposure directions (the fund neutralises them), so a pure factor bet
is worth about 0 however well it scores on a partially neutral target. It is a formula that ignores
the optimizer's constraints and the trading costs; the exact planted value to a fund, per era, is
:func:`kardashev.contribution.planted.planted_contribution` with the era's
``EraData.expected_residual_returns``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from kardashev.data.binning import percentile_rank
from kardashev.data.synthetic._blas import single_blas_thread
from kardashev.data.synthetic._random import era_rng, hashed_normal, knot_process
from kardashev.data.synthetic.market import EraData, SyntheticMarket
from kardashev.errors import ConfigError

__all__ = ["ARCHETYPES", "Crowd", "CrowdConfig", "generate_crowd"]

ARCHETYPES = ("consensus", "original", "factor_bet", "technical", "copycat", "noise", "unstaked_original")
_STAKE_LOG_MEAN = {
    "consensus": 6.5,
    "original": 5.3,
    "factor_bet": 6.2,
    "technical": 5.5,
    "copycat": 6.0,
    "noise": 4.8,
}
_S_STAKE, _S_STATIC, _S_FRESH, _S_WEIGHTS = 11, 12, 13, 14
_CHUNK = 128  # models per block when building predictions (fixed: it orders the random draws)


@dataclass(frozen=True)
class CrowdConfig:
    """Size and archetype mix of a crowd; shares are normalised, ``n_unstaked_original`` is a count."""

    n_models: int = 50
    seed: int = 0
    consensus_share: float = 0.4
    original_share: float = 0.1
    factor_bet_share: float = 0.1
    technical_share: float = 0.1
    copycat_share: float = 0.1
    noise_share: float = 0.2
    n_unstaked_original: int = 1

    def __post_init__(self) -> None:
        shares = self.shares()
        if self.n_models < 1:
            raise ConfigError("CrowdConfig: n_models must be at least 1")
        if any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
            raise ConfigError("CrowdConfig: archetype shares must be >= 0 and not all 0")
        if not 0 <= self.n_unstaked_original <= self.n_models:
            raise ConfigError("CrowdConfig: n_unstaked_original must be within 0..n_models")

    def shares(self) -> dict[str, float]:
        """Share of each staked archetype."""
        return {a: getattr(self, f"{a}_share") for a in ARCHETYPES if a != "unstaked_original"}

    def counts(self) -> dict[str, int]:
        """Number of models of each archetype (largest remainder; each share > 0 gets one if room)."""
        shares = self.shares()
        n_staked = self.n_models - self.n_unstaked_original
        total = sum(shares.values())
        active = [a for a, v in shares.items() if v > 0]
        counts = dict.fromkeys(shares, 0)
        if n_staked >= len(active):
            for a in active:
                counts[a] = 1
        left = n_staked - sum(counts.values())
        quota = {a: shares[a] / total * n_staked - counts[a] for a in shares}
        base = {a: int(np.floor(max(q, 0.0))) for a, q in quota.items()}
        base_total = sum(base.values())
        if base_total > left:  # only possible when minimums used the room
            base = dict.fromkeys(shares, 0)
            base_total = 0
        for a in base:
            counts[a] += base[a]
        remainder = sorted(shares, key=lambda a: -(quota[a] - base[a]))
        for a in remainder[: left - base_total]:
            counts[a] += 1
        counts["unstaked_original"] = self.n_unstaked_original
        return counts


@dataclass(frozen=True)
class _ModelSpec:
    archetype: str
    loadings: np.ndarray  # on latent directions (sources, then exposure columns)
    static_noise: float
    fresh_noise: float


@dataclass(frozen=True, eq=False)
class Crowd:
    """A generated crowd. ``predictions(era)`` computes one era's (n_stocks, n_models) ranks."""

    config: CrowdConfig
    market: SyntheticMarket
    model_names: tuple[str, ...]
    archetypes: tuple[str, ...]
    stakes: np.ndarray
    true_value: np.ndarray
    _specs: tuple[_ModelSpec, ...] = field(repr=False)
    _directions: tuple[str, ...] = field(repr=False)
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @property
    def n_models(self) -> int:
        """Number of models."""
        return len(self.model_names)

    def _ranks(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, m) ranks of every model's raw signal at era ``t`` (copycat columns are filled later).

        Built ``_CHUNK`` models at a time, so temporaries stay a fraction of one era's predictions.
        """
        truth = self.market.truth(t)
        uids = self.market._state(t).uids
        exposure_index = [truth.exposure_names.index(d) for d in self._directions[truth.alpha.shape[1] :]]
        latent = np.column_stack([truth.alpha, _standardize(truth.exposures[:, exposure_index])])
        loadings = np.column_stack([s.loadings for s in self._specs])  # (L, m)
        static = np.array([s.static_noise for s in self._specs])
        fresh = np.array([s.fresh_noise for s in self._specs])
        seed = self.config.seed
        fresh_rng = era_rng(seed, _S_FRESH, t)
        ranks = np.empty((uids.shape[0], self.n_models))
        for start in range(0, self.n_models, _CHUNK):
            models = np.arange(start, min(start + _CHUNK, self.n_models))
            raw = latent @ loadings[:, models]
            raw += static[models] * hashed_normal(seed, _S_STATIC, uids[:, None], models[None, :])
            raw += fresh[models] * fresh_rng.standard_normal((models.size, uids.shape[0])).T
            ranks[:, models] = percentile_rank(raw)
        return ranks, uids

    def _stake_weighted_average(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Stake-weighted average rank of the non-copycat models at era ``t`` (cached), and uids."""
        key = ("average", t)
        if key in self._cache:
            return self._cache[key]
        ranks, uids = self._ranks(t)
        return self._average_of(ranks, t, uids)

    def _average_of(self, ranks: np.ndarray, t: int, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cache and return the stake-weighted average rank of the non-copycat columns of ``ranks``."""
        weights = self.stakes * (np.asarray(self.archetypes) != "copycat")
        average = ranks @ (weights / weights.sum()) if weights.sum() > 0 else ranks.mean(axis=1)
        self._remember(("average", t), (average, uids))
        return average, uids

    def _fill_copycats(self, ranks: np.ndarray, t: int, uids: np.ndarray) -> None:
        copy = np.flatnonzero(np.asarray(self.archetypes) == "copycat")
        if copy.size == 0:
            return
        previous, previous_uids = self._stake_weighted_average(t - 1)
        lagged = np.where(previous_uids == uids, previous, np.nan)  # slot-aligned; relisted → unknown
        lagged = np.where(np.isnan(lagged), 0.5, percentile_rank(np.where(np.isnan(lagged), 0.5, lagged)))
        base = _standardize(_probit(lagged)[:, None])[:, 0]
        noise = era_rng(self.config.seed, _S_FRESH + 100, t).standard_normal((uids.shape[0], copy.size))
        ranks[:, copy] = percentile_rank(base[:, None] + 0.3 * noise)

    def _remember(self, key: tuple, value: object) -> None:
        self._cache[key] = value
        while len(self._cache) > 4:
            self._cache.popitem(last=False)

    def predictions(self, era: EraData | int | str) -> np.ndarray:
        """Predictions of every model at one era: (n_stocks, n_models) ranks in (0, 1).

        ``era`` is an :class:`EraData`, an era index or label; rows are aligned with that era's ``ids``.
        """
        t = era.index if isinstance(era, EraData) else self.market._index(era)
        with single_blas_thread():
            return self._predictions(t)

    def _predictions(self, t: int) -> np.ndarray:
        ranks, uids = self._ranks(t)
        if ("average", t) not in self._cache:
            self._average_of(ranks, t, uids)  # next era's copycats will need it
        self._fill_copycats(ranks, t, uids)
        return ranks


def _standardize(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)


def _probit(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(np.clip(p, 1e-6, 1 - 1e-6))


def _source_autocorrelation(market: SyntheticMarket, lags: int) -> np.ndarray:
    """(n_sources, lags) autocorrelation of each alpha source (measured on hashed draws, deterministic)."""
    uids = np.arange(4096)
    acf = np.zeros((len(market.alpha_sources), lags))
    for k, source in enumerate(market.alpha_sources):
        if source.kind == "technical":
            acf[k, 0] = 1.0
            continue
        base = knot_process(market.config.seed, 9000 + k, uids, 0, source.period)
        for lag in range(lags):
            later = knot_process(market.config.seed, 9000 + k, uids, lag, source.period)
            acf[k, lag] = np.corrcoef(base, later)[0, 1]
    return acf


def generate_crowd(market: SyntheticMarket, config: CrowdConfig | None = None, /, **options: object) -> Crowd:
    """Build a crowd of models on ``market`` (cheap: predictions are generated per era on demand)."""
    if config is None:
        config = CrowdConfig(**options)  # type: ignore[arg-type]
    elif options:
        raise ConfigError("pass either a CrowdConfig or keyword options, not both")
    sources = market.alpha_sources
    exposure_directions = ("size", "momentum", "beta")
    directions = tuple(s.name for s in sources) + exposure_directions
    n_sources = len(sources)
    common = [k for k, s in enumerate(sources) if s.kind == "common"]
    technical = [k for k, s in enumerate(sources) if s.kind == "technical"]
    private = [k for k, s in enumerate(sources) if s.kind == "private"]
    counts = config.counts()
    if (counts["original"] or counts["unstaked_original"]) and not private:
        raise ConfigError("the crowd has original models but the market has no private alpha sources")
    n_reserved = len(private)
    if counts["original"]:
        n_reserved = min(counts["unstaked_original"], max(len(private) - 1, 0))
    reserved = private[len(private) - n_reserved :] if n_reserved else private
    shared = private[: len(private) - n_reserved] or private
    rng = era_rng(config.seed, _S_WEIGHTS, 0)
    specs, names, archetypes, stakes = [], [], [], []
    for archetype in ARCHETYPES:
        for j in range(counts[archetype]):
            loadings = np.zeros(len(directions))
            static_noise, fresh_noise = 0.0, 0.0
            if archetype == "consensus":
                loadings[common] = (1.0 + 0.3 * rng.standard_normal(len(common))) / np.sqrt(len(common))
                static_noise, fresh_noise = 1.0, 0.7
            elif archetype in ("original", "unstaked_original"):
                pool = shared if archetype == "original" else reserved
                loadings[pool[j % len(pool)]] = 1.0
                static_noise, fresh_noise = 0.9, 0.6
            elif archetype == "factor_bet":
                loadings[n_sources] = -1.0  # short large caps
                loadings[n_sources + 1 + j % 2] = 0.5 if j % 2 == 0 else -0.5  # momentum or low beta
                static_noise, fresh_noise = 0.2, 0.2
            elif archetype == "technical":
                loadings[technical] = 1.0
                fresh_noise = 1.0
            elif archetype == "noise":
                static_noise, fresh_noise = 0.8, 0.6
            specs.append(_ModelSpec(archetype, loadings, static_noise, fresh_noise))
            names.append(f"{archetype}_{j + 1:02d}")
            archetypes.append(archetype)
            log_mean = _STAKE_LOG_MEAN.get(archetype)
            stake = 0.0 if log_mean is None else np.exp(log_mean + 0.6 * rng.standard_normal())
            stakes.append(float(np.round(stake, 2)))
    stake_array = np.asarray(stakes)
    crowd = Crowd(
        config=config,
        market=market,
        model_names=tuple(names),
        archetypes=tuple(archetypes),
        stakes=stake_array,
        true_value=np.zeros(len(names)),
        _specs=tuple(specs),
        _directions=directions,
    )
    value = _planted_value(market, crowd)
    object.__setattr__(crowd, "true_value", value)
    return crowd


def _planted_value(market: SyntheticMarket, crowd: Crowd) -> np.ndarray:
    """``true_value_j = IC_j − cov(x_j, M)·IC_M / var(M)`` from the signals' known covariance.

    Standardised signals ``x_i = c_i·latent + noise_i`` (``c_i`` loadings over latent directions,
    noise split in a part fixed per stock and a fresh part); a copycat is last era's average of the
    non-copycats, so it shares their directions (decayed by each source's lag-one autocorrelation)
    and their fixed noise. Risk-exposure directions are dropped before covariances are taken (the
    fund neutralises them); ``IC`` uses each direction's information coefficient on the residual return.
    """
    horizon = market.config.horizon
    acf = _source_autocorrelation(market, max(horizon, 2))
    n_sources = len(market.alpha_sources)
    strengths = np.array([s.strength for s in market.alpha_sources])
    value = np.zeros(len(crowd._directions))
    value[:n_sources] = strengths * acf[:, :horizon].sum(axis=1) / np.sqrt(horizon)
    loadings = np.array([s.loadings for s in crowd._specs])  # (m, L)
    static = np.array([s.static_noise**2 for s in crowd._specs])
    fresh = np.array([s.fresh_noise**2 for s in crowd._specs])
    variance = np.maximum(np.sum(loadings**2, axis=1) + static + fresh, 1e-12)
    c = loadings / np.sqrt(variance)[:, None]
    fixed, unique = static / variance, (static + fresh) / variance
    lag_one = np.ones(len(crowd._directions))
    lag_one[:n_sources] = acf[:, 1]
    c[:, n_sources:] = 0.0  # the fund neutralises risk exposures: only the neutral part of a signal counts
    copy = np.asarray(crowd.archetypes) == "copycat"
    stakes = crowd.stakes
    weights = stakes / stakes.sum() if stakes.sum() > 0 else np.full(stakes.shape, 1.0 / stakes.size)
    others = weights * ~copy
    others = others / others.sum() if others.sum() > 0 else np.where(copy, 0.0, 1.0) / max((~copy).sum(), 1)
    c_others = others @ c
    sd_others = np.sqrt(max(c_others @ c_others + np.sum(others**2 * unique), 1e-12))
    copy_scale = np.sqrt(1.0 + 0.3**2)  # a copycat adds fresh noise of sd 0.3 to the copied average
    c_copy = c_others * lag_one / sd_others / copy_scale  # (L,) loadings of a standardised copycat
    fixed_shared = others * fixed / sd_others / copy_scale  # cov(copycat, fixed noise of model i)
    w_copy = weights[copy].sum()
    c_meta = (weights * ~copy) @ c
    cov_meta = c @ c_meta + weights * unique + w_copy * (c @ c_copy + fixed_shared)
    cov_copy = c_copy @ c_meta + np.sum(weights * ~copy * fixed_shared) + w_copy / copy_scale**2
    cov_copy = cov_copy + weights * (1.0 - 1.0 / copy_scale**2)  # a copycat's own fresh noise
    cov_meta = np.where(copy, cov_copy, cov_meta)
    information = np.where(copy, c_copy @ value, c @ value)
    var_meta = max(float(weights @ cov_meta), 1e-12)
    return information - cov_meta * float(weights @ information) / var_meta
