"""A seeded synthetic stock market with planted, known alpha.

The world
---------
``n_stocks`` slots, each holding one listed stock at a time; at each era a slot's stock is
delisted and replaced by a new listing with probability ``listing_rate`` (so the universe
changes slowly and ids of delisted stocks never come back). A stock (``uid``) has a country,
a sector, a size, a beta and style exposures (momentum, value, volatility) that drift slowly.

Weekly returns (era ``u-1`` → ``u``) follow a factor model with heavy tails::

    r_u = B_{u-1} f_u + σ_{u-1} ⊙ (Σ_k s_k a_k(u-1) + ε_u)

``B`` the exposures (country and sector one-hots, beta, size, styles), ``f_u`` factor returns
(multivariate Student-t with covariance :attr:`SyntheticMarket.factor_covariance`, and a small
premium of small over large caps), ``σ`` specific volatility, ``ε_u`` unit-variance
Student-t shocks, and ``a_k`` the hidden alpha sources with weekly strengths ``s_k``: slowly
varying per-stock processes, each with its own persistence (``period``), residualised to the
exposures so that they survive any risk-neutral portfolio construction. The ``technical``
source is short-term reversal of last week's specific shock (it lasts one week: high churn).

What an era publishes (:class:`EraData`): binned features (noisy views of the common alpha
sources, of the risk exposures and of the reversal, and many noise features), binned targets
(forward returns over ``horizon`` eras, residualised to risk factors), the realized forward
residual and total returns, the exposures, a factor risk model and liquidity (``adv``).

Every random number is addressed by (seed, stream, era) or (seed, stream, stock, knot), so
:meth:`SyntheticMarket.era` regenerates any era alone; iteration keeps only a few eras of
state in a small cache.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from kardashev.data.binning import bin_features, bin_targets
from kardashev.data.synthetic import _world
from kardashev.data.synthetic._blas import single_blas_thread
from kardashev.data.synthetic._world import AlphaSource, EraState, MarketConfig
from kardashev.errors import ConfigError, NotFoundError

__all__ = ["AlphaSource", "EraData", "EraTruth", "MarketConfig", "SyntheticMarket", "generate_market"]


@dataclass(frozen=True, eq=False)
class EraData:
    """Everything the market publishes (and realizes) for one era; arrays are row-aligned on ``ids``.

    Return-like arrays (``returns``, ``residual_returns``) are realized over the ``horizon``
    eras after ``date``; the risk model is per era (one week). ``expected_residual_returns`` is the
    planted truth behind ``residual_returns``: their expectation given the era's state and the hidden
    alpha paths, over the weekly factor and specific shocks (never published; see
    :meth:`SyntheticMarket.expected_forward_return`).
    """

    index: int
    era: str
    date: dt.date
    ids: np.ndarray
    features: np.ndarray
    feature_names: tuple[str, ...]
    targets: np.ndarray
    target_names: tuple[str, ...]
    residual_returns: np.ndarray
    returns: np.ndarray
    exposures: np.ndarray
    exposure_names: tuple[str, ...]
    factor_loadings: np.ndarray
    factor_covariance: np.ndarray
    specific_variance: np.ndarray
    adv: np.ndarray
    expected_residual_returns: np.ndarray | None = None

    @property
    def n_stocks(self) -> int:
        """Number of stocks in this era's universe."""
        return int(self.ids.shape[0])


@dataclass(frozen=True, eq=False)
class EraTruth:
    """The generator's hidden state at one era (for the crowd and for tests, never published).

    ``alpha`` (n, n_sources) holds each source's unit-variance, exposure-neutral latent value,
    row-aligned with the era's ids.
    """

    index: int
    ids: np.ndarray
    alpha: np.ndarray
    source_names: tuple[str, ...]
    exposures: np.ndarray
    exposure_names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class SyntheticMarket:
    """A generated market: era data on demand, one era at a time.

    Use :func:`generate_market` to build one. ``feature_roles`` and ``alpha_sources`` are the
    planted truth (hidden from a real tournament's participants).
    """

    config: MarketConfig
    feature_names: tuple[str, ...]
    feature_roles: tuple[str, ...]
    feature_sets: dict[str, list[str]]
    target_names: tuple[str, ...]
    target_horizons: tuple[int, ...]
    exposure_names: tuple[str, ...]
    alpha_sources: tuple[AlphaSource, ...]
    factor_covariance: np.ndarray
    _world: _world.World = field(repr=False)
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @property
    def n_eras(self) -> int:
        """Number of published eras."""
        return self.config.n_eras

    @property
    def eras(self) -> tuple[str, ...]:
        """Era labels ``"0001"``, ``"0002"``, …"""
        return tuple(era_label(i) for i in range(self.config.n_eras))

    def date(self, index: int) -> dt.date:
        """The (weekly) date of era ``index``."""
        return self.config.start_date + dt.timedelta(weeks=index)

    def _index(self, era: int | str) -> int:
        if isinstance(era, str):
            try:
                index = int(era) - 1
            except ValueError:
                raise NotFoundError(f"unknown era label {era!r}") from None
        else:
            index = int(era)
        if not 0 <= index < self.config.n_eras:
            raise NotFoundError(f"era {era!r} is outside this market's {self.config.n_eras} eras")
        return index

    def _state(self, t: int) -> EraState:
        key = ("state", t)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        state = self._world.state(t)
        self._remember(key, state)
        return state

    def _weekly_return(self, u: int) -> np.ndarray:
        key = ("week", u)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._world.weekly_return(self._state(u - 1), u)
        self._remember(key, value)
        return value

    def _remember(self, key: tuple, value: object) -> None:
        self._cache[key] = value
        limit = 2 * max(self.target_horizons) + 6
        while len(self._cache) > limit:
            self._cache.popitem(last=False)

    def truth(self, era: int | str) -> EraTruth:
        """The hidden alpha sources at an era (planted truth)."""
        index = era if isinstance(era, int) and era < 0 else self._index(era)
        state = self._state(index)
        return EraTruth(
            index=index,
            ids=state.ids,
            alpha=state.alpha,
            source_names=tuple(s.name for s in self.alpha_sources),
            exposures=state.exposures,
            exposure_names=self.exposure_names,
        )

    def forward_return(self, t: int, horizon: int) -> np.ndarray:
        """Total return of era ``t``'s stocks over eras ``t+1 … t+horizon`` (0 once delisted)."""
        state = self._state(t)
        total = np.zeros(state.ids.shape[0])
        for u in range(t + 1, t + horizon + 1):
            still_listed = self._state(u - 1).uids == state.uids
            total += np.where(still_listed, self._weekly_return(u), 0.0)
        return total

    def expected_forward_return(self, t: int, horizon: int) -> np.ndarray:
        """Expected total return of era ``t``'s stocks over eras ``t+1 … t+horizon``, as known at ``t``.

        The planted part of :meth:`forward_return`: each week's factor premia and hidden alpha
        (``B f̄ + σ ⊙ Σ_k s_k a_k``), without the shocks; the one-week reversal counts only for the first
        week (later reversals answer shocks not drawn yet). Delisted stocks earn 0 from their delisting on,
        as in :meth:`forward_return` (the listing schedule is part of the planted truth).
        """
        state = self._state(t)
        total = np.zeros(state.ids.shape[0])
        for u in range(t + 1, t + horizon + 1):
            previous = self._state(u - 1)
            still_listed = previous.uids == state.uids
            expected = self._world.expected_weekly_return(previous, u, known_at=t)
            total += np.where(still_listed, expected, 0.0)
        return total

    def residual_return(self, t: int, horizon: int) -> np.ndarray:
        """:meth:`forward_return` of era ``t`` over ``horizon`` eras, residualised to all exposures.

        What a neutral portfolio earns, known ``horizon`` eras after ``t``; at the market's horizon it is
        the era's ``residual_returns``.
        """
        return self._state(t).residualize_all(self.forward_return(t, horizon))

    def era(self, era: int | str) -> EraData:
        """Regenerate one era (by index ``0 … n_eras-1`` or label ``"0001"``)."""
        t = self._index(era)
        with single_blas_thread():
            return self._era(t)

    def _era(self, t: int) -> EraData:
        state = self._state(t)
        raw = self._world.raw_features(state, self.feature_roles)
        features = bin_features(raw)
        horizon = self.config.horizon
        forward = {h: self.forward_return(t, h) for h in sorted(set(self.target_horizons))}
        residual_all = state.residualize_all(forward[horizon])
        raw_targets = np.empty((state.ids.shape[0], len(self.target_names)))
        for j, (name, h) in enumerate(zip(self.target_names, self.target_horizons, strict=True)):
            if name == "target":  # residualised to country, sector and beta only (like Numerai's)
                raw_targets[:, j] = state.residualize_market(forward[h])
            else:
                raw_targets[:, j] = state.residualize_all(forward[h])
        return EraData(
            index=t,
            era=era_label(t),
            date=self.date(t),
            ids=state.ids,
            features=features,
            feature_names=self.feature_names,
            targets=bin_targets(raw_targets),
            target_names=self.target_names,
            residual_returns=residual_all,
            returns=forward[horizon],
            exposures=state.exposures,
            exposure_names=self.exposure_names,
            factor_loadings=state.exposures,
            factor_covariance=self.factor_covariance,
            specific_variance=state.sigma**2,
            adv=state.adv,
            expected_residual_returns=state.residualize_all(self.expected_forward_return(t, horizon)),
        )

    def iter_eras(self, start: int = 0, stop: int | None = None) -> Iterator[EraData]:
        """Yield eras ``start … stop-1`` in order, one at a time."""
        stop = self.config.n_eras if stop is None else min(stop, self.config.n_eras)
        for t in range(start, stop):
            yield self.era(t)


def era_label(index: int) -> str:
    """Label of era ``index`` (0-based): ``"0001"`` for 0."""
    return f"{index + 1:04d}"


def generate_market(config: MarketConfig | None = None, /, **options: object) -> SyntheticMarket:
    """Build a synthetic market (cheap: eras are generated lazily on demand).

    ``generate_market(MarketConfig(n_stocks=500, n_eras=50, seed=1))`` or, equivalently,
    ``generate_market(n_stocks=500, n_eras=50, seed=1)``.
    """
    if config is None:
        config = MarketConfig(**options)  # type: ignore[arg-type]
    elif options:
        raise ConfigError("pass either a MarketConfig or keyword options, not both")
    world = _world.World(config)
    horizon = config.horizon
    return SyntheticMarket(
        config=config,
        feature_names=world.feature_names,
        feature_roles=world.feature_roles,
        feature_sets=world.feature_sets,
        target_names=("target", "target_neutral", "target_short", "target_long"),
        target_horizons=(horizon, horizon, max(1, horizon // 2), 2 * horizon),
        exposure_names=world.exposure_names,
        alpha_sources=world.sources,
        factor_covariance=world.factor_covariance,
        _world=world,
    )
