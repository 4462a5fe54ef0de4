"""The drill-down explains the model with the highest season TC, and its stock contributions add up to
the TC that ``true_contribution`` computes for that model in that era."""

from __future__ import annotations

import numpy as np

from kardashev.contribution import true_contribution
from kardashev.contribution.scores import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.drilldown import explain_top_model
from kardashev.demo.fund import era_inputs
from kardashev.demo.runner import default_optimizer_config


def test_top_model_explained_like_true_contribution() -> None:
    market = generate_market(MarketConfig(n_stocks=80, n_eras=2, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=10, seed=5))
    era = market.era(1)
    inputs = era_inputs(era, crowd.predictions(era))
    config = default_optimizer_config()
    stakes = np.asarray(crowd.stakes, dtype=float)
    held = np.linspace(-1, 1, inputs.n_stocks) / inputs.n_stocks
    exact = np.asarray(
        true_contribution(
            inputs.required("gaussianized"), stakes, inputs.required("realized_returns"), inputs.exposures,
            config, risk_model=risk_model_of(inputs), previous_weights=held, adv=inputs.adv,
            gaussianized=True,
        ).tc,
        dtype=float,
    )  # fmt: skip
    history = np.vstack([np.zeros_like(exact), exact])
    history[0, 2] = 1.0  # the season's best by far, though not this era's
    names = tuple(str(n) for n in crowd.model_names)
    drill = explain_top_model(
        inputs, stakes=stakes, previous_weights=held, tc=history, model_names=names,
        archetypes=tuple(str(a) for a in crowd.archetypes), config=config,
    )  # fmt: skip
    assert drill is not None and drill.model == names[2] and drill.era == inputs.era
    assert drill.season_tc == history[:, 2].sum() and drill.era_tc == exact[2]
    np.testing.assert_allclose(drill.explanation.tc, exact[2], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(drill.explanation.stock_contributions.sum(), drill.explanation.tc)
    assert list(drill.explanation.to_frame().index[:1]) != [] and drill.explanation.ids is not None
    # no finite TC at all: nothing to explain
    nothing = explain_top_model(
        inputs, stakes=stakes, previous_weights=held, tc=np.full_like(history, np.nan), model_names=names,
        archetypes=tuple(str(a) for a in crowd.archetypes), config=config,
    )  # fmt: skip
    assert nothing is None
