"""Deterministic random numbers addressable by (seed, stream, keys).

The synthetic market must regenerate any era alone. Two tools make that cheap:

* :func:`era_rng` — a numpy Generator seeded from ``SeedSequence([seed, stream, t])`` for
  draws that are independent from one era to the next (weekly shocks);
* :func:`hashed_normal` — counter-based standard normals from a SplitMix64 hash of
  integer keys (a stock's uid, a knot index …), for values that must be the same
  whenever they are asked for, without storing them;
* :func:`knot_process` — a slowly varying unit-variance process per stock: linear
  interpolation between hashed normals placed every ``period`` eras (each stock with its
  own phase), renormalised to unit variance. Its autocorrelation falls roughly linearly
  from 1 to 0 over ``period`` eras, and one era costs two hashed draws per stock
  whatever the period.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["era_rng", "hashed_normal", "hashed_uniform", "knot_process"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _hash(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    h = _mix(np.asarray([seed], dtype=np.uint64) ^ _mix(np.asarray([stream], dtype=np.uint64)))
    for key in keys:
        k = np.asarray(key).astype(np.int64).view(np.uint64)
        h = _mix(h ^ _mix(k))
    return h


def hashed_uniform(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """Uniforms in (0, 1) that depend only on ``(seed, stream, keys)`` (keys broadcast)."""
    h = _hash(seed, stream, *keys)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def hashed_normal(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """Standard normals that depend only on ``(seed, stream, keys)`` (keys broadcast)."""
    return ndtri(hashed_uniform(seed, stream, *keys))


def era_rng(seed: int, stream: int, t: int) -> np.random.Generator:
    """A Generator for draws of era ``t`` (any integer, negative for burn-in) of one stream."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream, t + 2**20]))


def knot_process(seed: int, stream: int, uids: np.ndarray, t: int, period: float) -> np.ndarray:
    """Unit-variance slowly varying value of each stock ``uid`` at era ``t``.

    Hashed normals ``z(uid, j)`` sit at knots ``j``; with ``s = t / period + phase(uid)``,
    ``x = ((1-w) z(uid, ⌊s⌋) + w z(uid, ⌊s⌋+1)) / sqrt((1-w)² + w²)``, ``w = s - ⌊s⌋``.
    """
    uids = np.asarray(uids, dtype=np.int64)
    phase = hashed_uniform(seed, stream, uids, -1)
    s = t / max(period, 1e-9) + phase
    j = np.floor(s)
    w = s - j
    j = j.astype(np.int64)
    z0 = hashed_normal(seed, stream, uids, j)
    z1 = hashed_normal(seed, stream, uids, j + 1)
    return ((1.0 - w) * z0 + w * z1) / np.sqrt((1.0 - w) ** 2 + w**2)
