"""FUND.toml: parsing, validation naming the key, and the writer's round trip."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.contribution.fund_config import (
    FundConfig,
    ReleaseSpec,
    RiskColumns,
    fund_config_dict,
    fund_config_toml,
    load_fund_config,
    parse_fund_config,
)
from kardashev.errors import ConfigError, NotFoundError
from kardashev.portfolio import OptimizerConfig

FULL = """
[optimizer]
risk_aversion = 2
gross_leverage = 1.5
spread = 0.001
max_turnover = 0.5
dollar_neutral = true
max_iterations = 50

[risk]
exposures = ["size", "beta"]
returns = "residual_return"
specific_variance = "specific_variance"
factor_covariance = [[0.0004, 0.0], [0.0, 0.0009]]
adv = "adv"

[participant]
stake_share = 0.02

[release]
kind = "stake_weighted"
lag = 1
min_contributors = 20
form = "rank"
scale = 0.4
"""


def test_full_document():
    config = parse_fund_config(FULL)
    assert config.optimizer == OptimizerConfig(
        risk_aversion=2.0, gross_leverage=1.5, spread=0.001, max_turnover=0.5, max_iterations=50
    )
    assert config.risk.exposures == ("size", "beta") and config.risk.adv == "adv"
    np.testing.assert_array_equal(config.risk.factor_covariance, [[0.0004, 0.0], [0.0, 0.0009]])
    assert config.stake_share == 0.02
    assert config.release == ReleaseSpec(
        kind="stake_weighted", lag=1, min_contributors=20, form="rank", scale=0.4
    )


def test_empty_document_is_the_default():
    config = parse_fund_config("")
    assert config.optimizer == OptimizerConfig() and config.release == ReleaseSpec()
    assert config.risk.exposures is None and config.risk.returns == "residual_return"


@pytest.mark.parametrize("text", [FULL, ""])
def test_round_trip(text):
    config = parse_fund_config(text)
    again = parse_fund_config(fund_config_toml(config))
    assert fund_config_dict(again) == fund_config_dict(config)


def test_file(tmp_path):
    path = tmp_path / "FUND.toml"
    path.write_text(fund_config_toml(FundConfig(risk=RiskColumns(exposures=("a",)), stake_share=0.0)))
    assert load_fund_config(path).risk.exposures == ("a",)
    with pytest.raises(NotFoundError):
        load_fund_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[optimizer]\nrisk_aversoin = 1.0", "risk_aversoin"),
        ("[optimizer]\nrisk_aversion = -1.0", "risk_aversion"),
        ('[optimizer]\nrisk_aversion = "high"', "risk_aversion"),
        ("[optimizer]\ndollar_neutral = 1", "dollar_neutral"),
        ("[optimizer]\nmax_iterations = 0", "max_iterations"),
        ('[risk]\nexposures = "size"', "exposures"),
        ('[risk]\nexposures = ["size", "size"]', "exposures"),
        ("[risk]\nreturns = 3", "returns"),
        ('[risk]\nreturns = ""', "returns"),
        ('[risk]\nfactor_covariance = [[1.0, 0.0]]\nspecific_variance = "d"', "factor_covariance"),
        ("[risk]\nfactor_covariance = [[1.0]]", "specific_variance"),
        ('[risk]\nspecific_variance = "d"', "factor_covariance"),
        ('[risk]\nexposures = ["adv"]\nadv = "adv"', "exposures"),
        ("[participant]\nstake_share = 1.0", "stake_share"),
        ("[participant]\nstake_share = -0.1", "stake_share"),
        ("[participant]\nshare = 0.1", "share"),
        ('[release]\nkind = "weighted"', "kind"),
        ("[release]\nlag = -1", "lag"),
        ("[release]\nlag = 1.5", "lag"),
        ("[release]\nmin_contributors = 1", "min_contributors"),
        ('[release]\nform = "raw"', "form"),
        ("[release]\nscale = 0", "scale"),
        ('[fund]\nname = "x"', "fund"),
        ("optimizer = 3", "optimizer"),
        ("[optimizer", "TOML"),
    ],
)
def test_bad_values_name_the_key(text, named):
    with pytest.raises(ConfigError, match=named):
        parse_fund_config(text)


def test_release_defaults_are_the_release_rules():
    from kardashev.tournament.release import ReleaseConfig

    spec, rule = ReleaseSpec(), ReleaseConfig()
    assert (spec.lag, spec.min_contributors) == (rule.lag_rounds, rule.min_contributors)


@pytest.mark.parametrize(
    "options",
    [{"kind": "stake"}, {"form": "x"}, {"lag": -1}, {"lag": 1.5}, {"min_contributors": 1}, {"scale": 0.0}],
)
def test_a_release_spec_built_in_code_is_checked_too(options) -> None:
    with pytest.raises(ConfigError):
        ReleaseSpec(**options)
