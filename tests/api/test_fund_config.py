"""GET /v1/fund/config: the fund's FUND.toml, public, as JSON or TOML, and ``kardashev fund-config --url``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.contribution.fund_config import fund_config_dict, load_fund_config, parse_fund_config
from kardashev.portfolio import OptimizerConfig


def test_fund_config_is_public_json_and_toml(live):
    as_json = live.http("GET", "/v1/fund/config")
    assert as_json.status_code == 200, as_json.text
    tables = as_json.json()
    settings = live.context.settings
    assert tables["release"]["lag"] == settings.meta_model_lag_rounds
    assert tables["release"]["min_contributors"] == settings.meta_model_min_models
    assert tables["release"]["kind"] == "naive" and tables["release"]["form"] == "rank"
    assert tables["optimizer"]["risk_aversion"] == OptimizerConfig().risk_aversion
    as_toml = live.http("GET", "/v1/fund/config", params={"format": "toml"})
    assert as_toml.status_code == 200 and as_toml.headers["content-type"].startswith("application/toml")
    assert fund_config_dict(parse_fund_config(as_toml.text)) == tables
    assert live.http("GET", "/v1/fund/config", params={"format": "xml"}).status_code == 422


def test_cli_downloads_it(live, tmp_path: Path):
    out = tmp_path / "FUND.toml"
    result = CliRunner().invoke(app, ["fund-config", "--url", live.base_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_fund_config(out).release.lag == live.context.settings.meta_model_lag_rounds


def test_settings_default_to_the_release_rule():
    from kardashev.api.settings import Settings
    from kardashev.tournament.release import ReleaseConfig

    settings, rule = Settings(), ReleaseConfig()
    assert (settings.meta_model_lag_rounds, settings.meta_model_min_models) == (
        rule.lag_rounds,
        rule.min_contributors,
    )
