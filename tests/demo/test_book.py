"""The fund's weekly book: hand-checkable P&L, costs, turnover, exposure and drawdown."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.data.era import Era, EraRisk
from kardashev.demo.book import WEEKS_PER_YEAR, BookKeeper, FundBook, turnover
from kardashev.errors import InvalidInputError
from kardashev.portfolio import OptimizerConfig


def _era(label: str, ids: list[str]) -> Era:
    n = len(ids)
    loadings = np.column_stack([np.ones(n), np.arange(n, dtype=float)])
    return Era.build(
        label,
        ids,
        exposures=loadings,
        exposure_names=("market", "trend"),
        risk=EraRisk(loadings, np.eye(2), np.full(n, 0.01)),
        adv=np.array([1.0, 2.0, 4.0, 1.0][:n]),
    )


def test_two_weeks_by_hand() -> None:
    config = OptimizerConfig(impact=0.5, spread=0.01, impact_adv_scaled=True)
    keeper = BookKeeper(("static",), config=config)
    first = _era("0001", ["a", "b", "c"])
    keeper.record(
        first, {"static": {"a": 0.5, "b": -0.3, "c": -0.2}}, week_return=np.array([0.02, -0.01, 0.03])
    )
    # week 2: c leaves the universe, d arrives
    second = _era("0002", ["a", "b", "d"])
    keeper.record(
        second, {"static": {"a": 0.4, "b": -0.4, "d": 0.1}}, week_return=np.array([-0.01, 0.01, 0.0])
    )
    book = keeper.books()["static"]
    assert book.eras == ("0001", "0002")
    np.testing.assert_allclose(book.gross_pnl, [0.5 * 0.02 + 0.3 * 0.01 - 0.2 * 0.03, -0.004 - 0.004])
    # cost = κ Σ λ_i t_i² + c Σ|t_i| with λ_i = median(adv)/adv_i; week 1 trades the whole book
    lam1 = np.median([1, 2, 4]) / np.array([1, 2, 4])
    t1 = np.array([0.5, -0.3, -0.2])
    lam2 = lam1  # same ADV in both weeks
    t2 = np.array([-0.1, -0.1, 0.1])
    np.testing.assert_allclose(
        book.cost,
        [0.5 * (lam1 * t1**2).sum() + 0.01 * 1.0, 0.5 * (lam2 * t2**2).sum() + 0.01 * 0.3],
    )
    # turnover counts the sale of c, which left the universe
    np.testing.assert_allclose(book.turnover, [1.0, 0.3 + 0.2])
    np.testing.assert_allclose(book.gross_exposure, [1.0, 0.9])
    np.testing.assert_allclose(book.net_exposure, [0.0, 0.1], atol=1e-15)
    assert book.n_long.tolist() == [1, 2] and book.n_short.tolist() == [2, 1]
    # Bᵀw with B = [1, position]
    np.testing.assert_allclose(book.factor_exposure, [[0.0, -0.3 - 0.4], [0.1, -0.4 + 0.2]], atol=1e-15)
    assert book.factor_names == ("market", "trend")


def _book(net: list[float]) -> FundBook:
    n = len(net)
    zeros = np.zeros(n)
    return FundBook(
        rule="tc", eras=tuple(str(i) for i in range(n)), gross_pnl=np.asarray(net, dtype=float), cost=zeros,
        turnover=zeros, gross_exposure=zeros, net_exposure=zeros, n_long=zeros.astype(int),
        n_short=zeros.astype(int), factor_exposure=np.zeros((n, 0)), factor_names=(),
    )  # fmt: skip


def test_compounding_drawdown_and_sharpe() -> None:
    book = _book([0.10, -0.20, 0.05, 0.30])
    equity = np.array([1.1, 1.1 * 0.8, 1.1 * 0.8 * 1.05, 1.1 * 0.8 * 1.05 * 1.3])
    np.testing.assert_allclose(book.equity, equity)
    assert book.total_return == pytest.approx(equity[-1] - 1)
    np.testing.assert_allclose(book.drawdown, [0.0, -0.2, 0.8 * 1.05 - 1, 0.0], atol=1e-15)
    assert book.max_drawdown == pytest.approx(-0.2)
    pnl = np.array([0.10, -0.20, 0.05, 0.30])
    # by hand: std with ddof 0, as kardashev.scoring.summary.sharpe_ratio
    by_hand = pnl.mean() / np.sqrt(np.mean((pnl - pnl.mean()) ** 2)) * np.sqrt(WEEKS_PER_YEAR)
    assert book.annualized_sharpe == pytest.approx(by_hand)
    # a first week under water counts from the starting capital
    assert _book([-0.1, 0.05]).drawdown[0] == pytest.approx(-0.1)
    assert _book([-0.1, 0.05]).max_drawdown == pytest.approx(-0.1)
    assert _book([0.1, 0.05]).max_drawdown == 0.0
    assert np.isnan(_book([0.01]).annualized_sharpe) and np.isnan(_book([]).max_drawdown)


def test_turnover_counts_names_that_left_the_universe() -> None:
    assert turnover(np.array([0.5, -0.5]), ["a", "b"], None) == pytest.approx(1.0)
    # a: 0.3 → 0.5 (0.2), b: new (0.1), c: left the universe, sold (0.4)
    previous = {"a": 0.3, "c": -0.4}
    assert turnover(np.array([0.5, 0.1]), ["a", "b"], previous) == pytest.approx(0.2 + 0.1 + 0.4)
    assert turnover(np.array([0.3, 0.0]), ["a", "b"], {"a": 0.3}) == 0.0


def test_week_return_of_the_wrong_length_is_refused() -> None:
    keeper = BookKeeper(("static",), config=OptimizerConfig())
    with pytest.raises(InvalidInputError, match="one value per stock"):
        keeper.record(_era("0001", ["a", "b"]), {"static": None}, week_return=np.zeros(3))
