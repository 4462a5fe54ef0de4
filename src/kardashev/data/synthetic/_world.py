"""The generative machinery of the synthetic market: configuration, stocks, eras' state, returns.

See :mod:`kardashev.data.synthetic.market` for the model. Random streams used here::

    stock attributes   hashed by (uid)                 weekly shocks   era_rng(stream, week)
    slow processes     knot_process(stream, uid, era)  listings        one draw at construction
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from kardashev.data.synthetic._random import era_rng, hashed_normal, hashed_uniform, knot_process
from kardashev.errors import ConfigError

COUNTRIES = ("US", "JP", "GB", "CA", "FR", "DE", "AU", "CH", "KR", "TW", "NL", "SE", "HK", "IN", "BR")
SECTORS = (
    "information_technology", "financials", "health_care", "industrials", "consumer_discretionary",
    "consumer_staples", "energy", "materials", "communication_services", "utilities", "real_estate",
)  # fmt: skip
STYLES = ("momentum", "value", "volatility")
_ADJECTIVES = (
    "amber", "brisk", "cobalt", "dusky", "eager", "fallow", "gilded", "hollow", "ivory", "jovial", "kindred",
    "lunar", "mellow", "nimble", "opaque", "placid", "quaint", "russet", "sullen", "tawny", "umber", "vivid",
    "wistful", "yonder", "zealous", "arid", "bleak", "candid", "dapper", "elfin",
)  # fmt: skip
_NOUNS = (
    "anvil", "bramble", "cinder", "delta", "ember", "fjord", "garnet", "harbor", "isthmus", "juniper",
    "kestrel", "lagoon", "meadow", "nebula", "orchard", "pylon", "quarry", "rampart", "sextant", "thicket",
    "upland", "vortex", "willow", "yarrow", "zenith", "atoll", "beacon", "citadel", "dune", "estuary",
)  # fmt: skip

# stream ids
_S_LISTING, _S_ATTR, _S_STYLE, _S_SHOCK, _S_FACTOR, _S_COV, _S_FEATURE, _S_NAMES, _S_ALPHA = range(1, 10)


@dataclass(frozen=True)
class AlphaSource:
    """One hidden alpha source: ``kind`` is ``common`` (in the features, known to the consensus),
    ``private`` (nobody's features; one original model's edge) or ``technical`` (one-week reversal).
    ``strength`` is its weekly information coefficient on specific returns; ``period`` its
    persistence in eras.
    """

    name: str
    kind: str
    strength: float
    period: float


@dataclass(frozen=True)
class MarketConfig:
    """Size and shape of a synthetic market. All options are keyword-only.

    ``alpha_scale`` multiplies every planted alpha strength; ``size_premium`` is the weekly
    expected return of the size factor (negative: small caps beat large caps), which a
    ``factor_bet`` model harvests on the partially neutral ``target`` but not after full
    neutralisation.
    """

    n_stocks: int = 300
    n_eras: int = 20
    seed: int = 0
    n_countries: int = 4
    n_sectors: int = 8
    n_features: int = 40
    n_informative_features: int = 8
    n_common_sources: int = 2
    n_private_sources: int = 6
    horizon: int = 4
    listing_rate: float = 0.003
    alpha_scale: float = 1.0
    size_premium: float = -0.0015
    specific_volatility: float = 0.04
    tail_degrees_of_freedom: float = 4.0
    start_date: dt.date = dt.date(2020, 1, 3)

    def __post_init__(self) -> None:
        checks = [
            (self.n_stocks >= 20, "n_stocks must be at least 20"),
            (self.n_eras >= 1, "n_eras must be at least 1"),
            (1 <= self.n_countries <= len(COUNTRIES), f"n_countries must be within 1..{len(COUNTRIES)}"),
            (1 <= self.n_sectors <= len(SECTORS), f"n_sectors must be within 1..{len(SECTORS)}"),
            (self.n_common_sources >= 1, "n_common_sources must be at least 1"),
            (self.n_private_sources >= 0, "n_private_sources must be >= 0"),
            (
                self.n_informative_features >= self.n_common_sources,
                "need one informative feature per common source",
            ),
            (
                self.n_features >= self.n_informative_features + len(_RISK_FEATURES) + 2,
                f"n_features must be at least n_informative_features + {len(_RISK_FEATURES) + 2}",
            ),
            (1 <= self.horizon <= 52, "horizon must be within 1..52 eras"),
            (0.0 <= self.listing_rate < 0.5, "listing_rate must be within [0, 0.5)"),
            (self.alpha_scale >= 0, "alpha_scale must be >= 0"),
            (self.specific_volatility > 0, "specific_volatility must be > 0"),
            (self.tail_degrees_of_freedom > 2, "tail_degrees_of_freedom must be > 2 (finite variance)"),
            (
                self.n_stocks > 2 * (self.n_countries + self.n_sectors + 5),
                "too few stocks for the risk factors",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"MarketConfig: {message}")


# risk-like features: (role, exposure column or latent, noise sd)
_RISK_FEATURES = (
    "risk:size",
    "risk:beta",
    "risk:momentum",
    "risk:value",
    "risk:volatility",
    "technical:reversal",
    "technical:reversal",
    "technical:volume_shock",
)


@dataclass(frozen=True, eq=False)
class EraState:
    """The market's state at era ``t``: the universe and what is known at its date."""

    t: int
    uids: np.ndarray  # (n,) int64, row order = slot order
    ids: np.ndarray  # (n,) str
    exposures: np.ndarray  # (n, k)
    sigma: np.ndarray  # (n,) weekly specific volatility
    adv: np.ndarray  # (n,)
    alpha: np.ndarray  # (n, n_sources) exposure-neutral unit-variance latents
    last_shock: np.ndarray  # (n,) the specific shock of the week that ended at this era
    n_market_columns: int  # country, sector and beta: the first columns of the exposures

    def residualize_all(self, y: np.ndarray) -> np.ndarray:
        """``y`` minus its least-squares projection on all exposures."""
        basis = _orthonormal_basis(self.exposures)
        return y - basis @ (basis.T @ y)

    def residualize_market(self, y: np.ndarray) -> np.ndarray:
        """``y`` minus its least-squares projection on country, sector and beta."""
        basis = _orthonormal_basis(self.exposures[:, : self.n_market_columns])
        return y - basis @ (basis.T @ y)


def _orthonormal_basis(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space (via the small Gram matrix; drops dependent directions)."""
    scale = np.maximum(np.linalg.norm(matrix, axis=0), 1e-12)
    scaled = matrix / scale
    eigenvalues, eigenvectors = np.linalg.eigh(scaled.T @ scaled)
    keep = eigenvalues > eigenvalues.max() * 1e-10
    return scaled @ (eigenvectors[:, keep] / np.sqrt(eigenvalues[keep]))


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / max(float(x.std()), 1e-12)


def ticker_of(uids: np.ndarray) -> np.ndarray:
    """Five-letter synthetic tickers, a bijection of uids below 26**5 (scrambled, not sequential)."""
    code = (np.asarray(uids, dtype=np.int64) * 7_919_281 + 4_231_567) % 26**5
    letters = np.empty((code.shape[0], 5), dtype="U1")
    for position in range(4, -1, -1):
        letters[:, position] = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))[code % 26]
        code //= 26
    return np.array(["".join(row) for row in letters], dtype=object)


class World:
    """Deterministic generator of era states and weekly returns for one :class:`MarketConfig`."""

    def __init__(self, config: MarketConfig) -> None:
        self.config = c = config
        self.seed = c.seed
        self.exposure_names = (
            tuple(f"country_{x}" for x in COUNTRIES[: c.n_countries])
            + tuple(f"sector_{x}" for x in SECTORS[: c.n_sectors])
            + ("beta", "size", *STYLES)
        )
        self.n_market_columns = c.n_countries + c.n_sectors + 1  # country, sector, beta
        self.sources = self._make_sources()
        self.factor_covariance, self._factor_cholesky = self._make_factor_covariance()
        self.factor_mean = np.zeros(len(self.exposure_names))
        self.factor_mean[self.exposure_names.index("size")] = c.size_premium
        self.factor_mean[self.exposure_names.index("beta")] = 0.001
        self._make_listings()
        self.feature_names, self.feature_roles, self.feature_sets = self._make_features()

    # ---------------------------------------------------------------- construction
    def _make_sources(self) -> tuple[AlphaSource, ...]:
        c, scale = self.config, self.config.alpha_scale
        sources = [
            AlphaSource(f"common_{k}", "common", 0.05 * scale, 12.0 + 4 * k)
            for k in range(c.n_common_sources)
        ]
        sources.append(AlphaSource("technical", "technical", 0.06 * scale, 1.0))
        sources += [
            AlphaSource(f"private_{k}", "private", 0.05 * scale, 10.0 + 2 * (k % 4))
            for k in range(c.n_private_sources)
        ]
        return tuple(sources)

    def _make_factor_covariance(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        vols = np.concatenate(
            [
                np.full(c.n_countries, 0.012),
                np.full(c.n_sectors, 0.012),
                [0.022, 0.006],
                np.full(len(STYLES), 0.005),
            ]
        )
        rng = era_rng(self.seed, _S_COV, 0)
        k = vols.shape[0]
        loadings = rng.normal(scale=0.35, size=(k, 2))
        cov = loadings @ loadings.T + np.eye(k)
        d = np.sqrt(np.diag(cov))
        corr = cov / np.outer(d, d)
        covariance = corr * np.outer(vols, vols)
        return covariance, np.linalg.cholesky(covariance)

    def _make_listings(self) -> None:
        c = self.config
        rng = era_rng(self.seed, _S_LISTING, 0)
        last = c.n_eras + 2 * c.horizon + 2
        slots, eras = [], []
        if c.listing_rate > 0:
            for start in range(1, last + 1, 64):  # chunks keep the draw small for big markets
                block = rng.random((c.n_stocks, min(64, last + 1 - start))) < c.listing_rate
                slot, offset = np.nonzero(block)
                slots.append(slot)
                eras.append(offset + start)
        self._event_slot = np.concatenate(slots) if slots else np.zeros(0, dtype=np.int64)
        self._event_era = np.concatenate(eras) if eras else np.zeros(0, dtype=np.int64)
        order = np.argsort(self._event_era, kind="stable")
        self._event_slot, self._event_era = self._event_slot[order], self._event_era[order]

    def _make_features(self) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, list[str]]]:
        c = self.config
        commons = [s.name for s in self.sources if s.kind == "common"]
        roles = [f"informative:{commons[j % len(commons)]}" for j in range(c.n_informative_features)]
        roles += list(_RISK_FEATURES)
        n_noise = c.n_features - len(roles)
        roles += ["noise:persistent" if j % 4 else "noise:churn" for j in range(n_noise)]
        rng = era_rng(self.seed, _S_NAMES, 0)
        order = rng.permutation(len(roles))
        roles = [roles[j] for j in order]
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < len(roles):
            a, b, d = rng.integers(len(_ADJECTIVES)), rng.integers(len(_NOUNS)), rng.integers(len(_NOUNS))
            name = f"feature_{_ADJECTIVES[a]}_{_NOUNS[b]}_{_NOUNS[d]}"
            if name not in seen:
                seen.add(name)
                names.append(name)
        sets = {
            "small": names[: max(1, len(names) // 4)],
            "medium": names[: len(names) // 2],
            "all": list(names),
        }
        return tuple(names), tuple(roles), sets

    # ---------------------------------------------------------------- per era
    def uids(self, t: int) -> np.ndarray:
        """uid of the stock in each slot at era ``t``: ``slot + n_stocks * generation``."""
        n = self.config.n_stocks
        k = np.searchsorted(self._event_era, t, side="right") if t > 0 else 0
        generation = np.bincount(self._event_slot[:k], minlength=n)
        return np.arange(n, dtype=np.int64) + n * generation.astype(np.int64)

    def shocks(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Factor returns and unit-variance specific shocks (per slot) of week ``u``."""
        c = self.config
        df = c.tail_degrees_of_freedom
        rng = era_rng(self.seed, _S_SHOCK, u)
        specific = rng.standard_t(df, size=c.n_stocks) * np.sqrt((df - 2) / df)
        factor_rng = era_rng(self.seed, _S_FACTOR, u)
        z = factor_rng.standard_normal(self.factor_mean.shape[0])
        scale = np.sqrt((5.0 - 2.0) / factor_rng.chisquare(5.0))
        return self.factor_mean + scale * (self._factor_cholesky @ z), specific

    def state(self, t: int) -> EraState:
        """The state of era ``t`` (any integer, negative eras are burn-in)."""
        c, seed = self.config, self.seed
        uids = self.uids(t)
        u_country = hashed_uniform(seed, _S_ATTR, uids, 0)
        weights = 1.0 / (1.0 + np.arange(c.n_countries)) ** 0.8
        country = np.searchsorted(np.cumsum(weights) / weights.sum(), u_country)
        country = np.minimum(country, c.n_countries - 1)
        sector = (hashed_uniform(seed, _S_ATTR, uids, 1) * c.n_sectors).astype(np.int64)
        sector = np.minimum(sector, c.n_sectors - 1)

        def static(j: int) -> np.ndarray:
            return hashed_normal(seed, _S_ATTR, uids, j)

        def drift(j: int, period: float) -> np.ndarray:
            return knot_process(seed, _S_STYLE + 100 * j, uids, t, period)

        size_raw = 1.2 * static(2) + 0.3 * drift(0, 26.0)
        beta = 1.0 + 0.25 * (0.8 * static(3) + 0.6 * drift(1, 26.0))
        momentum = drift(2, 13.0)
        value = 0.8 * static(4) + 0.6 * drift(3, 52.0)
        volatility = 0.7 * static(5) + 0.7 * drift(4, 26.0)
        size = _zscore(size_raw)
        n = uids.shape[0]
        exposures = np.zeros((n, len(self.exposure_names)))
        exposures[np.arange(n), country] = 1.0
        exposures[np.arange(n), c.n_countries + sector] = 1.0
        exposures[:, self.n_market_columns - 1] = beta
        exposures[:, self.n_market_columns] = size
        styles = np.column_stack([_zscore(momentum), _zscore(value), _zscore(volatility)])
        exposures[:, self.n_market_columns + 1 :] = styles
        vol_z = exposures[:, -1]
        sigma = c.specific_volatility * np.exp(0.25 * vol_z - 0.15 * size)
        adv = 2.0e7 * np.exp(1.1 * size_raw + 0.3 * static(6 + (t + 10_000) // 13))
        basis_all = _orthonormal_basis(exposures)
        last_shock = self.shocks(t)[1]
        latent = np.empty((n, len(self.sources)))
        for k, source in enumerate(self.sources):
            if source.kind == "technical":
                latent[:, k] = -last_shock
            else:
                latent[:, k] = knot_process(seed, _S_ALPHA * 1000 + k, uids, t, source.period)
        latent -= basis_all @ (basis_all.T @ latent)
        latent /= np.maximum(latent.std(axis=0), 1e-12)
        return EraState(
            t=t,
            uids=uids,
            ids=ticker_of(uids),
            exposures=exposures,
            sigma=sigma,
            adv=adv,
            alpha=latent,
            last_shock=last_shock,
            n_market_columns=self.n_market_columns,
        )

    def weekly_return(self, previous: EraState, u: int) -> np.ndarray:
        """Total return of week ``u`` for the stocks of ``previous`` (the state of era ``u-1``)."""
        factor_returns, specific = self.shocks(u)
        strengths = np.array([s.strength for s in self.sources])
        alpha = previous.alpha @ strengths
        return previous.exposures @ factor_returns + previous.sigma * (alpha + specific)

    def expected_weekly_return(self, previous: EraState, u: int, *, known_at: int) -> np.ndarray:
        """Expected total return of week ``u`` for the stocks of ``previous`` (the state of era ``u-1``),
        as known at era ``known_at``: the factor premia and the planted alpha, without the week's factor
        and specific shocks. The reversal source of a week after ``known_at`` is a shock not yet drawn
        (expected 0); the slow sources' paths are the generator's planted truth.
        """
        strengths = np.array([s.strength for s in self.sources])
        if previous.t > known_at:
            strengths = np.where([s.kind == "technical" for s in self.sources], 0.0, strengths)
        return previous.exposures @ self.factor_mean + previous.sigma * (previous.alpha @ strengths)

    def raw_features(self, state: EraState, roles: tuple[str, ...]) -> np.ndarray:
        """Raw (unbinned) feature values of one era, one column per role."""
        seed, t, uids = self.seed, state.t, state.uids
        source_index = {s.name: k for k, s in enumerate(self.sources)}
        n = uids.shape[0]
        raw = np.empty((n, len(roles)))
        for j, role in enumerate(roles):
            kind, _, what = role.partition(":")
            stream = _S_FEATURE * 1000 + j
            persistent = knot_process(seed, stream, uids, t, 8.0 + (j % 5) * 6)
            if kind == "informative":
                noise_sd = 1.0 + 0.4 * (j % 4)
                raw[:, j] = state.alpha[:, source_index[what]] + noise_sd * persistent
            elif kind == "risk":
                column = state.exposures[:, self.exposure_names.index(what)]
                raw[:, j] = _zscore(column) + 0.4 * persistent
            elif what == "reversal":
                fresh = hashed_normal(seed, stream, uids, t)
                raw[:, j] = state.alpha[:, source_index["technical"]] + fresh
            elif what == "volume_shock" or what == "churn":
                raw[:, j] = hashed_normal(seed, stream, uids, t)
            else:  # persistent noise
                raw[:, j] = persistent
        return raw
