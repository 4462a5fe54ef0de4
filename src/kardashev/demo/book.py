"""The fund's book, week by week: non-overlapping weekly P&L, costs, turnover, exposure, position counts.

The in-memory funds (:mod:`kardashev.demo.simulation`) are scored on each era's realized return over
the whole target horizon (4 weeks), so consecutive eras overlap and their sum is not a return anyone
earned. The fund itself rebalances every week: it holds ``w_t`` from week ``t`` to ``t + 1``. Its
weekly P&L is ``w_t · r_(t→t+1)`` (the stocks' one-week total return) minus the cost of trading into
``w_t`` (the optimizer's own cost model, :func:`kardashev.contribution.true_return.trading_cost`).
Those weekly returns do not overlap; compounding them gives the equity curve and its drawdown.

:class:`BookKeeper` records, per payout rule and era, the holdings the simulator reports; it gives one
:class:`FundBook` per rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kardashev.contribution.true_return import trading_cost
from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring.summary import max_drawdown_compounded, sharpe_ratio

__all__ = ["WEEKS_PER_YEAR", "BookKeeper", "FundBook", "turnover"]

WEEKS_PER_YEAR = 52


def turnover(
    weights: np.ndarray, ids: Sequence[object] | np.ndarray, previous: Mapping[str, float] | None
) -> float:
    """The fund's turnover into ``weights`` (row-aligned with ``ids``) from ``previous`` (stock id → weight,
    ``None`` before the first week): ``Σ|w − w_previous|`` over every name held before or now. Names
    that left the universe were sold, so their whole previous weight counts; the first week buys the
    whole book."""
    weights = np.asarray(weights, dtype=np.float64)
    if previous is None:
        return float(np.abs(weights).sum())
    names = [str(stock) for stock in ids]
    before = np.array([previous.get(stock, 0.0) for stock in names], dtype=np.float64)
    kept = set(names)
    gone = sum(abs(w) for stock, w in previous.items() if stock not in kept)
    return float(np.abs(weights - before).sum() + gone)


@dataclass(frozen=True, eq=False)
class FundBook:
    """One fund's weekly book over the season; every array has one entry per era (week).

    Attributes
    ----------
    rule
        The payout rule the fund's stakers were paid on.
    eras
        Era labels.
    gross_pnl
        ``w_t · r_(t→t+1)``: return on capital over the week after the rebalance, before costs.
    cost
        Trading cost of the rebalance into ``w_t`` (fraction of capital).
    turnover
        ``Σ|w_t − w_(t−1)|`` over the names held before or now (:func:`turnover`: names that left the
        universe count as sold; the first week buys the whole book).
    gross_exposure, net_exposure
        ``Σ|w|`` and ``Σw``.
    n_long, n_short
        Names held long (``w > 0``) and short (``w < 0``), at ``|w|`` above ``1e-6`` of the gross.
    factor_exposure
        ``(n_eras, n_factors)`` realized factor exposure ``Bᵀw`` of the book (``B`` the factor loadings
        of the fund's risk model).
    factor_names
        Names of the factors.
    """

    rule: str
    eras: tuple[str, ...]
    gross_pnl: np.ndarray
    cost: np.ndarray
    turnover: np.ndarray
    gross_exposure: np.ndarray
    net_exposure: np.ndarray
    n_long: np.ndarray
    n_short: np.ndarray
    factor_exposure: np.ndarray
    factor_names: tuple[str, ...]

    @property
    def net_pnl(self) -> np.ndarray:
        """Weekly return after trading costs."""
        return self.gross_pnl - self.cost

    @property
    def equity(self) -> np.ndarray:
        """Compounded value of one unit of capital after each week (net of costs)."""
        return np.cumprod(1.0 + self.net_pnl)

    @property
    def cumulative_return(self) -> np.ndarray:
        """Compounded net return since the start, after each week."""
        return self.equity - 1.0

    @property
    def total_return(self) -> float:
        """Compounded net return over the season."""
        return float(self.equity[-1] - 1.0) if self.net_pnl.size else float("nan")

    @property
    def drawdown(self) -> np.ndarray:
        """Fall of the equity curve below its running peak (≤ 0), the start counting as a peak of 1."""
        equity = self.equity
        peak = np.maximum.accumulate(np.r_[1.0, equity])[1:]
        return equity / peak - 1.0

    @property
    def max_drawdown(self) -> float:
        """Deepest drawdown of the season (≤ 0): :func:`kardashev.scoring.summary.max_drawdown_compounded`
        of the weekly net P&L, with the starting capital as the first peak (a first-week loss counts)."""
        pnl = self.net_pnl
        return max_drawdown_compounded(np.r_[0.0, pnl]) if pnl.size else float("nan")

    @property
    def annualized_sharpe(self) -> float:
        """:func:`kardashev.scoring.summary.sharpe_ratio` (``mean / std``, std with ddof 0) of the weekly
        net P&L, times ``√52`` (NaN with no week or no spread)."""
        return sharpe_ratio(self.net_pnl) * float(np.sqrt(WEEKS_PER_YEAR))


@dataclass
class _Ledger:
    previous: dict[str, float] | None = None
    rows: dict[str, list[Any]] = field(
        default_factory=lambda: {
            name: [] for name in ("gross_pnl", "cost", "turnover", "gross", "net", "long", "short", "factors")
        }
    )


class BookKeeper:
    """Records each fund's weekly book from the holdings it reports after every era.

    Parameters
    ----------
    rules
        The payout rules (one fund each).
    config
        The fund's optimizer configuration (its cost model).
    """

    def __init__(self, rules: tuple[str, ...], *, config: OptimizerConfig) -> None:
        self.config = config
        self._ledgers = {rule: _Ledger() for rule in rules}
        self._eras: list[str] = []
        self._factor_names: tuple[str, ...] = ()

    def record(
        self,
        inputs: Era,
        holdings: dict[str, dict[str, float] | None],
        *,
        week_return: np.ndarray,
    ) -> None:
        """One era: ``holdings`` (rule → stock id → weight after the rebalance) and the stocks' total
        return over the following week, row-aligned with ``inputs.ids``."""
        ids = [str(stock) for stock in inputs.ids]
        week_return = np.asarray(week_return, dtype=np.float64)
        if week_return.shape != (len(ids),):
            raise InvalidInputError(
                f"week_return must have one value per stock ({len(ids)}), got shape {week_return.shape}"
            )
        loadings = inputs.risk.factor_loadings if inputs.risk is not None else inputs.exposures
        n_factors = 0 if loadings is None else loadings.shape[1]
        names = inputs.exposure_names or ()
        if len(names) != n_factors:  # a risk model with factors of its own
            names = tuple(f"factor {j + 1}" for j in range(n_factors))
        self._factor_names = tuple(str(name) for name in names)
        self._eras.append(str(inputs.era))
        for rule, ledger in self._ledgers.items():
            held = holdings.get(rule) or {}
            weights = np.array([held.get(stock, 0.0) for stock in ids], dtype=np.float64)
            previous = None
            if ledger.previous is not None:
                previous = np.array([ledger.previous.get(stock, 0.0) for stock in ids], dtype=np.float64)
            gross = float(np.abs(weights).sum())
            tiny = 1e-6 * max(gross, 1e-12)
            rows = ledger.rows
            rows["gross_pnl"].append(float(week_return @ weights))
            rows["cost"].append(
                float(np.asarray(trading_cost(weights, previous, inputs.adv, self.config)).reshape(-1)[0])
            )
            rows["turnover"].append(turnover(weights, ids, ledger.previous))
            rows["gross"].append(gross)
            rows["net"].append(float(weights.sum()))
            rows["long"].append(int((weights > tiny).sum()))
            rows["short"].append(int((weights < -tiny).sum()))
            rows["factors"].append(
                np.zeros(0) if loadings is None else np.asarray(loadings, dtype=np.float64).T @ weights
            )
            ledger.previous = dict(zip(ids, weights.tolist(), strict=True))

    def books(self) -> dict[str, FundBook]:
        """One :class:`FundBook` per rule, for the eras recorded so far."""
        out = {}
        for rule, ledger in self._ledgers.items():
            rows = ledger.rows
            factors = rows["factors"]
            out[rule] = FundBook(
                rule=rule,
                eras=tuple(self._eras),
                gross_pnl=np.asarray(rows["gross_pnl"], dtype=np.float64),
                cost=np.asarray(rows["cost"], dtype=np.float64),
                turnover=np.asarray(rows["turnover"], dtype=np.float64),
                gross_exposure=np.asarray(rows["gross"], dtype=np.float64),
                net_exposure=np.asarray(rows["net"], dtype=np.float64),
                n_long=np.asarray(rows["long"], dtype=np.int64),
                n_short=np.asarray(rows["short"], dtype=np.int64),
                factor_exposure=np.vstack(factors) if factors else np.empty((0, len(self._factor_names))),
                factor_names=self._factor_names,
            )
        return out
