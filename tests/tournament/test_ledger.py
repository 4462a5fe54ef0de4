from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kardashev.errors import InsufficientBalanceError, InvalidInputError
from kardashev.tournament import ledger
from kardashev.tournament.domain import UNITS_PER_TOKEN, tokens_to_units, units_to_tokens


def test_transfer_is_balanced_and_checks_amounts():
    postings = ledger.transfer("wallet:1", "stake:2", 5)
    assert [(p.account, p.amount) for p in postings] == [("wallet:1", -5), ("stake:2", 5)]
    ledger.check_balanced(postings)
    for bad in (0, -3, 1.5, True):
        with pytest.raises(InvalidInputError):
            ledger.transfer("wallet:1", "stake:2", bad)
    with pytest.raises(InvalidInputError):
        ledger.transfer("wallet:1", "wallet:1", 3)


def test_unbalanced_or_unburn_is_refused():
    with pytest.raises(InvalidInputError, match="sum to 1"):
        ledger.check_balanced([ledger.Posting("a", 2), ledger.Posting("b", -1)])
    with pytest.raises(InvalidInputError, match="burn"):
        ledger.check_balanced(ledger.transfer(ledger.BURN, "wallet:1", 3))
    with pytest.raises(InvalidInputError):
        ledger.Posting("a", 1.0)  # type: ignore[arg-type]


def test_negative_balances_only_for_the_mint():
    ledger.check_balances({ledger.PAYOUT_POOL: -100, "wallet:1": 100})
    with pytest.raises(InsufficientBalanceError, match="wallet:1"):
        ledger.check_balances({"wallet:1": -1})
    assert ledger.circulating({ledger.PAYOUT_POOL: -10, ledger.BURN: 3, "wallet:1": 7}) == 7


def test_token_units_round_trip_exactly():
    assert tokens_to_units("12.5") == 12_500_000
    assert tokens_to_units(3) == 3 * UNITS_PER_TOKEN
    assert units_to_tokens(1) == Decimal("0.000001")
    for bad in ("0.0000001", "abc", "nan", 1.5):
        with pytest.raises(InvalidInputError):
            tokens_to_units(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_units_tokens_inverse(units):
    assert tokens_to_units(units_to_tokens(units)) == units
