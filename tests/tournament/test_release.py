"""Release rule of the naive meta model: lag, crowd size, accounts, released form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import ConfigError, InvalidInputError, StateError
from kardashev.tournament.release import (
    ReleaseConfig,
    prepare_release,
    releasable_rounds,
    release_decision,
)

CONFIG = ReleaseConfig(lag_rounds=3, min_contributors=5)


def test_lag_is_counted_in_rounds_and_inclusive():
    early = release_decision(round_number=10, latest_round=12, closed=True, n_contributors=8, config=CONFIG)
    assert not early.releasable and early.release_round == 13 and "from round 13" in early.reason
    ready = release_decision(round_number=10, latest_round=13, closed=True, n_contributors=8, config=CONFIG)
    assert ready.releasable and ready.reason == "released"


def test_too_few_contributors_or_open_round_blocks_and_says_why():
    decision = release_decision(round_number=1, latest_round=9, closed=True, n_contributors=4, config=CONFIG)
    assert not decision.releasable and "4 contributing models, at least 5" in decision.reason
    decision = release_decision(round_number=1, latest_round=9, closed=False, n_contributors=9, config=CONFIG)
    assert not decision.releasable and "not closed" in decision.reason
    both = release_decision(round_number=8, latest_round=9, closed=True, n_contributors=1, config=CONFIG)
    assert "lag" in both.reason and "1 contributing models" in both.reason


def test_accounts_are_counted_when_configured():
    config = ReleaseConfig(lag_rounds=0, min_contributors=5, min_accounts=3)
    one_owner = release_decision(
        round_number=2, latest_round=2, closed=True, n_contributors=9, n_accounts=1, config=config
    )
    assert not one_owner.releasable and "1 contributing accounts" in one_owner.reason
    crowd = release_decision(
        round_number=2, latest_round=2, closed=True, n_contributors=9, n_accounts=3, config=config
    )
    assert crowd.releasable
    with pytest.raises(InvalidInputError, match="n_accounts"):
        release_decision(round_number=2, latest_round=2, closed=True, n_contributors=9, config=config)


def test_bad_arguments_and_configs():
    with pytest.raises(InvalidInputError):
        release_decision(round_number=5, latest_round=4, closed=True, n_contributors=9)
    with pytest.raises(InvalidInputError):
        release_decision(round_number=1, latest_round=4, closed=True, n_contributors=2, n_accounts=3)
    for bad in ({"min_contributors": 1}, {"lag_rounds": -1}, {"min_accounts": 1}, {"decimals": 0}):
        with pytest.raises(ConfigError):
            ReleaseConfig(**bad)


def test_table_of_rounds():
    rounds = pd.DataFrame(
        {"round": [1, 2, 3, 4], "n_contributors": [10, 3, 10, 10], "closed": [True, True, True, False]}
    )
    table = releasable_rounds(rounds, latest_round=6, config=CONFIG)
    assert table["releasable"].tolist() == [True, False, True, False]
    assert table["release_round"].tolist() == [4, 5, 6, 7]
    with pytest.raises(InvalidInputError, match="n_contributors"):
        releasable_rounds(pd.DataFrame({"round": [1]}), latest_round=3)


def test_released_form_is_rounded_ranks_and_refused_when_not_allowed():
    meta_model = pd.Series([0.3, -1.2, 2.5, 0.3], index=["a", "b", "c", "d"])
    allowed = release_decision(round_number=1, latest_round=5, closed=True, n_contributors=7, config=CONFIG)
    released = prepare_release(meta_model, decision=allowed, config=ReleaseConfig(decimals=2))
    # Ranks (average for the tie) 2.5, 1, 4, 2.5 → (rank − 0.5) / 4.
    assert released.to_dict() == {"a": 0.5, "b": 0.12, "c": 0.88, "d": 0.5}
    full = prepare_release(np.array([3.0, 1.0, 2.0]), decision=allowed, config=ReleaseConfig(decimals=None))
    np.testing.assert_allclose(full.to_numpy(), [5 / 6, 1 / 6, 0.5])
    blocked = release_decision(round_number=4, latest_round=5, closed=True, n_contributors=7, config=CONFIG)
    with pytest.raises(StateError) as info:
        prepare_release(meta_model, decision=blocked)
    assert info.value.code == "not_releasable" and "round 4" in info.value.message


def test_default_rule_is_the_studys():
    """bench/release_study.py: at 100 contributors a lag of 4 rounds keeps the recovered signal under 0.1."""
    rule = ReleaseConfig()
    assert (rule.lag_rounds, rule.min_contributors) == (4, 100)
    assert not release_decision(round_number=1, latest_round=5, closed=True, n_contributors=99).releasable
    assert not release_decision(round_number=2, latest_round=5, closed=True, n_contributors=100).releasable
    assert release_decision(round_number=1, latest_round=5, closed=True, n_contributors=100).releasable
