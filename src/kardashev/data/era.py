"""The era: the unit of work every layer above ``data`` takes.

One era of one tournament (or one scoring day of a round) as row-aligned numpy arrays, built and
checked once at the edge (a file reader, the tournament's round loader, the synthetic market) and
passed down unchanged: the scorers, True Contribution, True Return, the tournament, the API's
diagnostics, the backfill and the demo all take an :class:`Era`.

Rows are stocks (``ids``), columns of ``predictions`` are models (``model_names``). Every array is
optional except ``ids``; each consumer states what it needs (see ``kardashev.scoring.registry``) and
:meth:`Era.require` names what is missing. ``gaussianized`` (Φ⁻¹ of each column's tie-kept rank,
``kardashev.scoring.ranking.gaussianize``) is computed at most once per era by whichever consumer
needs it first and carried along (``kardashev.scoring.with_gaussianized``), so the scores and TC share
one sort of the prediction matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from kardashev.errors import InvalidInputError

__all__ = ["ROW_FIELDS", "Era", "EraRisk"]

#: the fields whose first axis is the stock axis (sliced together by :meth:`Era.rows`)
ROW_FIELDS = (
    "predictions",
    "gaussianized",
    "target",
    "meta_model",
    "benchmark",
    "realized_returns",
    "exposures",
    "features",
    "adv",
    "previous_weights",
)
_ONE_D = frozenset({"target", "meta_model", "benchmark", "realized_returns", "adv", "previous_weights"})
_FINITE = frozenset({"gaussianized", "realized_returns", "exposures", "adv", "previous_weights"})


@dataclass(frozen=True, eq=False)
class EraRisk:
    """The era's factor risk model ``Σ = B F Bᵀ + diag(d)`` as arrays (rows aligned with the era).

    ``factor_loadings`` B ``(n_stocks, n_factors)``, ``factor_covariance`` F ``(n_factors, n_factors)``,
    ``specific_variance`` d ``(n_stocks,)``; the portfolio layer turns it into its ``RiskModel``.
    """

    factor_loadings: np.ndarray
    factor_covariance: np.ndarray
    specific_variance: np.ndarray

    def rows(self, keep: np.ndarray) -> EraRisk:
        return EraRisk(self.factor_loadings[keep], self.factor_covariance, self.specific_variance[keep])


@dataclass(frozen=True, eq=False)
class Era:
    """One era's inputs, row-aligned on ``ids``; build with :meth:`Era.build`, which checks them.

    Attributes
    ----------
    era
        Era label (e.g. ``"0573"`` or a round's ``"round 12 day 20"``).
    ids
        ``(n_stocks,)`` unique stock ids (``object`` strings).
    predictions
        ``(n_stocks, n_models)`` raw predictions, one column per model (NaN: the model skipped the stock).
    model_names
        One name per prediction column.
    gaussianized
        ``(n_stocks, n_models)`` Φ⁻¹ of each column's tie-kept rank, once computed (else ``None``).
    stakes
        ``(n_models,)`` stakes ≥ 0 (0: unstaked or late).
    target
        ``(n_stocks,)`` the target scored against (NaN: unknown for that stock).
    meta_model, benchmark
        ``(n_stocks,)`` the meta model and a benchmark model (for MMC / BMC / CWMM).
    realized_returns
        ``(n_stocks,)`` realized (residual) returns over the holding period: the fund's P&L.
    exposures
        ``(n_stocks, n_exposures)`` the neutrality matrix; ``exposure_names`` optional names.
    features
        ``(n_stocks, n_features)`` features (FNC, exposures); ``feature_names`` optional names.
    risk
        The factor risk model, or ``None``.
    adv
        ``(n_stocks,)`` average daily dollar volume, or ``None``.
    previous_weights
        ``(n_stocks,)`` the fund's holdings before the era (0: not held), or ``None``.
    day
        The scoring day of a round (1-based), or ``None`` outside a round.
    """

    era: str
    ids: np.ndarray
    predictions: np.ndarray | None = None
    model_names: tuple[str, ...] = ()
    gaussianized: np.ndarray | None = None
    stakes: np.ndarray | None = None
    target: np.ndarray | None = None
    meta_model: np.ndarray | None = None
    benchmark: np.ndarray | None = None
    realized_returns: np.ndarray | None = None
    exposures: np.ndarray | None = None
    exposure_names: tuple[str, ...] | None = None
    features: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    risk: EraRisk | None = None
    adv: np.ndarray | None = None
    previous_weights: np.ndarray | None = None
    day: int | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, era: object, ids: Iterable[object], **arrays: Any) -> Era:
        """Check and convert one era's inputs; raise :class:`InvalidInputError` naming the problem.

        Arrays become float64 (``features`` keep an integer dtype if given one); every row-aligned
        array must have one row per id; returns, exposures, ADV, previous holdings and the risk model
        must be finite; stakes must be finite and ≥ 0, one per prediction column.
        """
        label = str(era)
        id_array = np.asarray([str(i) for i in np.asarray(list(ids), dtype=object).ravel()], dtype=object)
        n = id_array.size
        if n == 0:
            raise InvalidInputError(f"era {label}: no stocks", code="empty_era")
        if len(set(id_array)) != n:
            raise InvalidInputError(f"era {label}: duplicated stock ids", code="duplicate_ids")
        known = {f.name for f in fields(cls)} - {"era", "ids"}
        unknown = sorted(set(arrays) - known)
        if unknown:
            raise InvalidInputError(f"era {label}: unknown field(s) {unknown}")
        values: dict[str, Any] = {}
        for name in ROW_FIELDS:
            value = arrays.get(name)
            if value is not None:
                values[name] = _row_array(label, name, value, n)
        for matrix in ("predictions", "gaussianized"):
            if matrix in values and values[matrix].ndim == 1:
                values[matrix] = values[matrix][:, None]
        n_models = values["predictions"].shape[1] if "predictions" in values else 0
        if "gaussianized" in values and values["gaussianized"].shape[1] != n_models:
            raise InvalidInputError(f"era {label}: gaussianized and predictions differ in shape")
        names = arrays.get("model_names")
        model_names = (
            tuple(str(x) for x in names)
            if names is not None
            else tuple(f"model_{j}" for j in range(n_models))
        )
        if len(model_names) != n_models:
            raise InvalidInputError(f"era {label}: {len(model_names)} model names for {n_models} columns")
        if arrays.get("stakes") is not None:
            stakes = np.asarray(arrays["stakes"], dtype=np.float64).reshape(-1)
            if stakes.shape != (n_models,) or not np.isfinite(stakes).all() or (stakes < 0).any():
                raise InvalidInputError(
                    f"era {label}: stakes must be {n_models} finite values ≥ 0", code="invalid_stakes"
                )
            values["stakes"] = stakes
        risk = arrays.get("risk")
        if risk is not None:
            values["risk"] = _checked_risk(label, risk, n)
        for name in ("exposure_names", "feature_names"):
            if arrays.get(name) is not None:
                values[name] = tuple(str(x) for x in arrays[name])
        day = arrays.get("day")
        return cls(
            era=label,
            ids=id_array,
            model_names=model_names,
            day=None if day is None else int(day),
            **values,
        )

    # ------------------------------------------------------------------ shape
    @property
    def n_stocks(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_models(self) -> int:
        return 0 if self.predictions is None else int(self.predictions.shape[1])

    def has(self, name: str) -> bool:
        """Whether the era carries input ``name`` (``"stakes"`` also needs a positive total)."""
        value = getattr(self, name)
        if name == "stakes":
            return value is not None and float(np.sum(value)) > 0
        return value is not None

    def required(self, name: str) -> np.ndarray:
        """The array ``name`` (e.g. ``"predictions"``), or :class:`InvalidInputError` naming it."""
        value = getattr(self, name)
        if value is None:
            raise InvalidInputError(f"era {self.era}: {name} is required here", code="missing_era_inputs")
        return np.asarray(value)

    def require(self, *names: str, what: str) -> None:
        """Raise :class:`InvalidInputError` naming every input in ``names`` that ``what`` lacks."""
        missing = [name for name in names if not self.has(name)]
        if missing:
            raise InvalidInputError(
                f"era {self.era}: {what} needs {', '.join(missing)}", code="missing_era_inputs"
            )

    # ------------------------------------------------------------------ derived eras
    def with_(self, **changes: Any) -> Era:
        """A copy with some fields replaced (no checks: for values derived from this era's own)."""
        return replace(self, **changes)

    def rows(self, keep: np.ndarray) -> Era:
        """The era restricted to the stocks where boolean ``keep`` is true (every row field sliced)."""
        keep = np.asarray(keep, dtype=bool)
        if keep.all():
            return self
        sliced = {name: getattr(self, name)[keep] for name in ROW_FIELDS if getattr(self, name) is not None}
        risk = None if self.risk is None else self.risk.rows(keep)
        return replace(self, ids=self.ids[keep], risk=risk, **sliced)

    def models(self, columns: Sequence[int] | np.ndarray) -> Era:
        """The era restricted to some prediction columns (stakes and gaussianized alike)."""
        columns = np.asarray(columns, dtype=np.intp)
        return replace(
            self,
            predictions=None if self.predictions is None else self.predictions[:, columns],
            gaussianized=None if self.gaussianized is None else self.gaussianized[:, columns],
            stakes=None if self.stakes is None else self.stakes[columns],
            model_names=tuple(self.model_names[j] for j in columns),
        )


def _row_array(label: str, name: str, value: object, n: int) -> np.ndarray:
    try:
        array = np.asarray(value)
        if name != "features" or not np.issubdtype(array.dtype, np.integer):
            array = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"era {label}: {name} is not numeric", code="non_numeric_values") from exc
    max_dim = 1 if name in _ONE_D else 2
    if array.ndim == 0 or array.ndim > max_dim or array.shape[0] != n:
        raise InvalidInputError(
            f"era {label}: {name} has shape {array.shape}, expected {n} rows", code="shape_mismatch"
        )
    if name in _FINITE and not np.isfinite(array).all():
        raise InvalidInputError(f"era {label}: {name} has NaN or infinite values", code=f"invalid_{name}")
    return array


def _checked_risk(label: str, risk: object, n: int) -> EraRisk:
    try:
        loadings = np.asarray(getattr(risk, "factor_loadings"), dtype=np.float64)  # noqa: B009
        covariance = np.asarray(getattr(risk, "factor_covariance"), dtype=np.float64)  # noqa: B009
        specific = np.asarray(getattr(risk, "specific_variance"), dtype=np.float64)  # noqa: B009
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"era {label}: the risk model is not a factor model of numbers") from exc
    k = loadings.shape[1] if loadings.ndim == 2 else -1
    if loadings.shape != (n, k) or covariance.shape != (k, k) or specific.shape != (n,):
        raise InvalidInputError(
            f"era {label}: risk model shapes {loadings.shape}, {covariance.shape}, {specific.shape} "
            f"do not fit {n} stocks",
            code="shape_mismatch",
        )
    if not (np.isfinite(loadings).all() and np.isfinite(covariance).all() and np.isfinite(specific).all()):
        raise InvalidInputError(
            f"era {label}: the risk model has NaN or infinite values", code="invalid_risk"
        )
    return EraRisk(loadings, covariance, specific)
