"""Checks on the data an operator feeds the tournament before it is used to move tokens.

Payouts cannot be reversed, so a scoring day (targets, realized returns, exposures, features) and the
validation table of diagnostics are checked before use: values finite (targets may miss a few), inside
plausible ranges, covering the round's universe, the target not constant, and the exposure matrix of
full column rank (collinear or degenerate columns make the optimizer's neutrality constraints
meaningless). Each failure is an :class:`~kardashev.errors.InvalidInputError` with its own code:

``non_finite_values``   NaN or infinite values where none are allowed (or too few finite targets)
``implausible_values``  values outside the configured range (e.g. a return of 1e300)
``low_coverage``        the day covers too little of the round's universe
``constant_target``     every target is the same: nothing can be scored
``collinear_exposures`` the exposure matrix is rank deficient or numerically singular
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kardashev.data.era import Era
from kardashev.errors import ConfigError, InvalidInputError
from kardashev.tournament.bounded_table import ReadLimits
from kardashev.tournament.repository import UnitOfWork
from kardashev.tournament.tables import decode_ids

__all__ = ["OPERATOR_READ_LIMITS", "OperatorDataLimits", "check_round_day", "check_values", "round_universe"]

OPERATOR_READ_LIMITS = ReadLimits(
    max_rows=10_000_000,
    max_columns=10_000,
    max_header_bytes=4 * 1024 * 1024,
    max_footer_bytes=64 * 1024 * 1024,
    max_decoded_bytes=4 * 1024 * 1024 * 1024,
)
"""Reading bounds of operator files (scoring days, validation data): wide tables, still bounded."""


@dataclass(frozen=True, kw_only=True)
class OperatorDataLimits:
    """Plausible ranges of operator data (keyword-only).

    Parameters
    ----------
    max_abs_target
        Largest magnitude of a target value (Numerai's targets are in ``[0, 1]``; residual-return
        targets are small numbers).
    max_abs_return
        Largest magnitude of a realized return over a round's horizon (5 = ±500 %).
    max_abs_exposure, max_abs_feature
        Largest magnitude of an exposure / feature value.
    min_finite_target
        Least fraction of finite targets.
    min_coverage
        Least fraction of the round's universe the day's ids must cover.
    max_condition
        Largest condition number of the column-normalized exposure matrix.
    """

    max_abs_target: float = 100.0
    max_abs_return: float = 5.0
    max_abs_exposure: float = 1e3
    max_abs_feature: float = 1e4
    min_finite_target: float = 0.5
    min_coverage: float = 0.8
    max_condition: float = 1e8

    def __post_init__(self) -> None:
        for name in (
            "max_abs_target",
            "max_abs_return",
            "max_abs_exposure",
            "max_abs_feature",
            "max_condition",
        ):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive finite number, got {value!r}")
        for name in ("min_finite_target", "min_coverage"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {value!r}")


def _error(code: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, code=code)


def check_values(
    values: NDArray[np.float64], *, name: str, max_abs: float, allow_nan: bool = False
) -> NDArray[np.float64]:
    """``values`` as float64, refused when not finite (NaN allowed with ``allow_nan``) or over ``max_abs``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _error("non_finite_values", f"{name} is not numeric: {exc}") from None
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        raise _error("non_finite_values", f"{name} has {int(bad.sum())} NaN or infinite values")
    with np.errstate(invalid="ignore"):
        large = np.abs(array) > max_abs
    if large.any():
        worst = float(np.nanmax(np.abs(array)))
        raise _error(
            "implausible_values",
            f"{name} has {int(large.sum())} values beyond ±{max_abs:g} (largest magnitude {worst:.3g})",
        )
    return array


def _check_exposures(exposures: NDArray[np.float64], limits: OperatorDataLimits, day: int) -> None:
    n, k = exposures.shape
    if k == 0:
        return
    if k >= n:
        raise _error("collinear_exposures", f"day {day}: {k} exposure columns for {n} ids")
    norms = np.linalg.norm(exposures, axis=0)
    if (norms == 0).any():
        zero = np.flatnonzero(norms == 0)
        raise _error("collinear_exposures", f"day {day}: exposure columns {zero.tolist()[:5]} are all zero")
    singular = np.linalg.svd(exposures / norms, compute_uv=False)
    condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else np.inf
    if not condition <= limits.max_condition:
        raise _error(
            "collinear_exposures",
            f"day {day}: the exposure columns are (nearly) collinear (condition number {condition:.3g}, "
            f"limit {limits.max_condition:g}); drop or merge redundant columns",
        )


def check_round_day(
    day: Era, *, universe: Sequence[str] | None = None, limits: OperatorDataLimits | None = None
) -> Era:
    """The day's data checked (see the module docstring); returns it with numpy arrays.

    ``universe`` is the round's live ids (coverage is checked when given).
    """
    limits = limits or OperatorDataLimits()
    checked = day  # shapes, duplicate ids and non-finite returns/exposures were refused when it was built
    number = int(checked.day or 0)
    target = check_values(
        checked.required("target"),
        name=f"day {number}: target",
        max_abs=limits.max_abs_target,
        allow_nan=True,
    )
    finite = np.isfinite(target)
    if finite.mean() < limits.min_finite_target or finite.sum() < 2:
        raise _error(
            "non_finite_values",
            f"day {number}: only {int(finite.sum())} of {target.size} targets are finite "
            f"(at least {limits.min_finite_target:.0%} are needed)",
        )
    if np.ptp(target[finite]) == 0:
        raise _error("constant_target", f"day {number}: every target is {target[finite][0]!r}")
    if checked.realized_returns is not None:
        check_values(
            checked.realized_returns, name=f"day {number}: realized_returns", max_abs=limits.max_abs_return
        )
    if checked.exposures is not None:
        exposures = check_values(
            checked.exposures, name=f"day {number}: exposures", max_abs=limits.max_abs_exposure
        )
        _check_exposures(exposures.reshape(exposures.shape[0], -1), limits, number)
    if checked.features is not None:
        check_values(checked.features, name=f"day {number}: features", max_abs=limits.max_abs_feature)
    if universe is not None:
        members = set(str(i) for i in universe)
        covered = sum(1 for i in checked.ids if i in members)
        if not members or covered < limits.min_coverage * len(members):
            raise _error(
                "low_coverage",
                f"day {number}: the data covers {covered} of the round's {len(members)} ids "
                f"(at least {limits.min_coverage:.0%} are needed)",
            )
    return checked


def round_universe(unit_of_work: UnitOfWork, number: int) -> list[str]:
    """The live ids of round ``number``."""
    with unit_of_work(read_only=True) as repo:
        round_ = repo.get_round(int(number))
        return [str(i) for i in decode_ids(repo.get_blob(round_.universe_sha256))]
