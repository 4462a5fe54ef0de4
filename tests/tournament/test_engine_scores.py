"""A season on the synthetic market with the real scoring and TC engines (StandardScorer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.metamodel import stake_weighted_meta_model
from kardashev.scoring import correlation_contribution, numerai_corr
from kardashev.tournament import PayoutConfig, StandardScorer, TournamentService, round_day, tokens_to_units
from kardashev.tournament.payout import compute_payouts

from .conftest import at


def test_synthetic_season_scores_match_the_engines(store):
    market = generate_market(MarketConfig(n_stocks=60, n_eras=3, seed=3, n_features=20))
    crowd = generate_crowd(market, CrowdConfig(n_models=6, seed=4))
    service = TournamentService(
        store, scorer=StandardScorer(), payout=PayoutConfig(score_multipliers={"corr": 0.5, "tc": 2.0})
    )
    service.create_account("crowd", now=at(0), tokens=tokens_to_units(100_000))
    stakes = {}
    for name, stake in zip(crowd.model_names, crowd.stakes, strict=True):
        service.create_model("crowd", name, now=at(0))
        if stake > 0:
            stakes[name] = tokens_to_units(round(stake))
            service.stake_increase(name, stakes[name], now=at(0))
    for number in range(1, market.n_eras + 1):
        era = market.era(number - 1)
        start = 2 * (number - 1)
        service.open_round(
            number, universe=list(era.ids), close_time=at(start + 1), now=at(start), horizon_days=1
        )
        predictions = crowd.predictions(era)
        for k, name in enumerate(crowd.model_names):
            frame = pd.DataFrame({"id": era.ids, "prediction": predictions[:, k]})
            service.submit(name, number, frame, now=at(start + 0.5))
        service.close_round(number, now=at(start + 1))
        day = round_day(
            day=1,
            ids=era.ids,
            target=era.targets[:, 0],
            realized_returns=era.residual_returns,
            exposures=era.exposures,
            features=era.features.astype(float),
        )
        payouts = service.resolve_round(number, now=at(start + 2), day=day)
        assert service.audit().ok

        stored = pd.DataFrame([vars(s) for s in service.scores(round_number=number)])
        table = stored.pivot(index="model_id", columns="metric", values="value")
        assert {"corr", "mmc", "fnc", "tc", "true_return"} <= set(table.columns)
        model_ids = [service.get_model(name).id for name in crowd.model_names]
        np.testing.assert_allclose(table.loc[model_ids, "corr"], numerai_corr(predictions, era.targets[:, 0]))
        snaps = {s.model_id: s.stake for s in service.stake_snapshots(round_number=number)}
        snap_stakes = np.array([snaps[i] for i in model_ids], dtype=float)
        meta = stake_weighted_meta_model(predictions, snap_stakes)
        np.testing.assert_allclose(
            table.loc[model_ids, "mmc"], correlation_contribution(predictions, meta, era.targets[:, 0])
        )
        # TC property: the stake-weighted sum of TC is zero.
        assert float(snap_stakes @ table.loc[model_ids, "tc"].to_numpy()) == pytest.approx(
            0, abs=1e-6 * snap_stakes.sum()
        )
        # Payouts are exactly the configured rule on the stored final scores.
        staked = [i for i in model_ids if snaps[i] > 0]
        expected = compute_payouts(
            np.array([snaps[i] for i in staked]),
            {m: table.loc[staked, m].to_numpy() for m in ("corr", "tc")},
            config=service.payout,
        )
        assert [p.amount for p in sorted(payouts, key=lambda p: staked.index(p.model_id))] == list(
            expected.payouts
        )
    unstaked = crowd.model_names[list(crowd.archetypes).index("unstaked_original")]
    assert service.stake(unstaked).total == 0
    assert not service.payouts(model=unstaked)
    assert {s.metric for s in service.scores(model=unstaked)} >= {"corr", "mmc", "tc"}


def test_signals_round_gets_alpha_and_mpc_from_the_engines(store):
    from kardashev.scoring import (
        alpha,
        meta_portfolio_contribution,
        neutralized_weights,
        orthonormal_neutralizers,
    )
    from kardashev.tournament import RoundKind, ValidationConfig

    market = generate_market(MarketConfig(n_stocks=60, n_eras=1, seed=5, n_features=20))
    crowd = generate_crowd(market, CrowdConfig(n_models=4, seed=6))
    service = TournamentService(
        store,
        scorer=StandardScorer(),
        payout=PayoutConfig(score_multipliers={"corr": 0.5, "mpc": 1.0}),
        validation=ValidationConfig(min_tickers=30),
    )
    service.create_account("crowd", now=at(0), tokens=tokens_to_units(10_000))
    era = market.era(0)
    service.open_round(
        1, universe=list(era.ids), close_time=at(1), now=at(0), horizon_days=1, kind=RoundKind.SIGNALS
    )
    predictions = crowd.predictions(era)
    for k, name in enumerate(crowd.model_names):
        service.create_model("crowd", name, now=at(0))
        service.stake_increase(name, tokens_to_units(100 * (k + 1)), now=at(0))
        frame = pd.DataFrame({"ticker": era.ids, "signal": predictions[:, k]})
        service.submit(name, 1, frame, now=at(0.5))
    service.close_round(1, now=at(1))
    day = round_day(day=1, ids=era.ids, target=era.targets[:, 0], exposures=era.exposures)
    payouts = service.resolve_round(1, now=at(2), day=day)
    stored = pd.DataFrame([vars(s) for s in service.scores(round_number=1)])
    table = stored.pivot(index="model_id", columns="metric", values="value")
    model_ids = [service.get_model(name).id for name in crowd.model_names]
    ranked = np.column_stack(
        [
            service.submission_predictions(service.list_submissions(round_number=1, model=i)[0])
            for i in model_ids
        ]
    )
    weights = np.ones(len(era.ids))
    # Signals' formulas take an orthonormal neutralizer basis of [exposures, 1], not raw exposures.
    neutralizers = orthonormal_neutralizers(era.exposures, weights, add_intercept=True)
    neutral = neutralized_weights(ranked, neutralizers, weights)
    np.testing.assert_allclose(era.exposures.T @ neutral, 0, atol=1e-9)
    np.testing.assert_allclose(
        table.loc[model_ids, "alpha"], alpha(ranked, neutralizers, weights, era.targets[:, 0])
    )
    stakes = np.array([s.stake for s in service.stake_snapshots(round_number=1)], dtype=float)
    expected = meta_portfolio_contribution(ranked, stakes, neutralizers, weights, era.targets[:, 0])
    np.testing.assert_allclose(table.loc[model_ids, "mpc"], expected)
    assert len(payouts) == 4 and service.audit().ok
