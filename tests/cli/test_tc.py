"""``kardashev tc`` on a small synthetic market, against the engine's TC with the true blend and stakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.contribution import true_contribution
from kardashev.contribution.fund_config import FundConfig, ReleaseSpec, RiskColumns, fund_config_toml
from kardashev.contribution.solve import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import tie_kept_rank

ERAS = (1, 2, 3)
CONFIG = OptimizerConfig(risk_aversion=2.0, max_position=3.0)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Files of three eras (data, predictions, risk) and the engine's TC of every model in each."""
    folder = tmp_path_factory.mktemp("tc")
    market = generate_market(MarketConfig(n_stocks=120, n_eras=6, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=10, seed=5, n_unstaked_original=0))
    data, predictions, risk, engine, eras = [], [], [], {}, {}
    for t in ERAS:
        era_data = market.era(t)
        era = era_inputs(era_data, crowd.predictions(era_data))
        eras[era.era] = era
        keys = {"id": era.ids, "era": era.era}
        data.append(pd.DataFrame({**keys, "target": era.target}))
        predictions.append(
            pd.DataFrame({**keys, **dict(zip(crowd.model_names, era.predictions.T, strict=True))})
        )
        risk.append(
            pd.DataFrame(
                {
                    **keys,
                    **dict(zip(era.exposure_names, era.exposures.T, strict=True)),
                    "specific_variance": era.risk.specific_variance,
                    "adv": era.adv,
                    "residual_return": era.realized_returns,
                }
            )
        )
        result = true_contribution(
            era.gaussianized,
            crowd.stakes,
            era.realized_returns,
            era.exposures,
            CONFIG,
            risk_model=risk_model_of(era),
            adv=era.adv,
            gaussianized=True,
        )
        engine[era.era] = np.asarray(result.exact_tc)
    paths = {name: folder / f"{name}.parquet" for name in ("data", "predictions", "risk")}
    for name, frames in (("data", data), ("predictions", predictions), ("risk", risk)):
        pd.concat(frames).to_parquet(paths[name], index=False)
    return {
        "folder": folder,
        "paths": paths,
        "crowd": crowd,
        "eras": eras,
        "engine": pd.DataFrame(engine, index=crowd.model_names).T,
        "risk_columns": RiskColumns(
            exposures=tuple(market.exposure_names),
            returns="residual_return",
            specific_variance="specific_variance",
            factor_covariance=market.factor_covariance,
            adv="adv",
        ),
    }


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_exact_when_the_released_meta_model_is_the_others_blend(market, tmp_path: Path) -> None:
    crowd, eras = market["crowd"], market["eras"]
    stakes = crowd.stakes
    k = 3
    others = np.delete(np.arange(crowd.n_models), k)
    released, single = [], []
    for label, era in eras.items():
        blend = era.gaussianized[:, others] @ (stakes[others] / stakes[others].sum())
        released.append(pd.DataFrame({"id": era.ids, "era": label, "others_blend": blend}))
        single.append(
            pd.DataFrame({"id": era.ids, "era": label, crowd.model_names[k]: era.predictions[:, k]})
        )
    pd.concat(released).to_parquet(tmp_path / "released.parquet", index=False)
    pd.concat(single).to_parquet(tmp_path / "mine.parquet", index=False)
    fund = FundConfig(
        optimizer=CONFIG,
        risk=market["risk_columns"],
        stake_share=float(stakes[k] / stakes.sum()),
        release=ReleaseSpec(kind="stake_weighted", lag=0, form="blend"),
    )
    (tmp_path / "FUND.toml").write_text(fund_config_toml(fund))
    out = tmp_path / "tc.csv"
    output = _run(
        "tc", str(tmp_path / "mine.parquet"),
        "--meta-model", str(tmp_path / "released.parquet"),
        "--config", str(tmp_path / "FUND.toml"),
        "--data", str(market["paths"]["data"]),
        "--risk", str(market["paths"]["risk"]),
        "--out", str(out),
    )  # fmt: skip
    assert "mean" in output and crowd.model_names[k] in output
    estimates = pd.read_csv(out, dtype={"era": str}).set_index("era")[crowd.model_names[k]]
    expected = market["engine"][crowd.model_names[k]]
    np.testing.assert_allclose(
        estimates.to_numpy(), expected.loc[estimates.index].to_numpy(), rtol=1e-6, atol=1e-12
    )


def test_unlagged_rank_release_tracks_the_engine(market, tmp_path: Path) -> None:
    crowd, eras = market["crowd"], market["eras"]
    released, scales = [], []
    for label, era in eras.items():
        blend = era.gaussianized @ (crowd.stakes / crowd.stakes.sum())
        scales.append(float(blend.std()))
        released.append(
            pd.DataFrame(
                {"id": era.ids, "era": label, "numerai_meta_model": np.round(tie_kept_rank(blend), 4)}
            )
        )
    pd.concat(released).to_parquet(tmp_path / "released.parquet", index=False)
    fund = FundConfig(
        optimizer=CONFIG,
        risk=market["risk_columns"],
        release=ReleaseSpec(kind="stake_weighted", lag=0, scale=float(np.mean(scales))),
    )
    (tmp_path / "FUND.toml").write_text(fund_config_toml(fund))
    out = tmp_path / "tc.csv"
    _run(
        "tc", str(market["paths"]["predictions"]),
        "--meta-model", str(tmp_path / "released.parquet"),
        "--config", str(tmp_path / "FUND.toml"),
        "--data", str(market["paths"]["data"]),
        "--risk", str(market["paths"]["risk"]),
        "--stake-share", "0.05",
        "--out", str(out),
    )  # fmt: skip
    estimates = pd.read_csv(out, dtype={"era": str}).set_index("era")
    engine = market["engine"].loc[estimates.index, list(estimates.columns)]
    per_era = [np.corrcoef(estimates.loc[e], engine.loc[e])[0, 1] for e in estimates.index]
    # ten models, shares up to ~40 % held in the release itself, one share for all: close, not exact
    assert np.mean(per_era) > 0.75, per_era
    assert np.corrcoef(estimates.mean(), engine.mean())[0, 1] > 0.8


def test_bad_inputs_are_one_line_errors(market, tmp_path: Path) -> None:
    paths = market["paths"]
    (tmp_path / "released.parquet").write_bytes(paths["predictions"].read_bytes())
    (tmp_path / "FUND.toml").write_text('[risk]\nadv = "liquidity"\n')
    args = [
        "tc", str(paths["predictions"]),
        "--meta-model", str(paths["data"]),
        "--config", str(tmp_path / "FUND.toml"),
        "--data", str(paths["data"]),
        "--risk", str(paths["risk"]),
    ]  # fmt: skip
    from kardashev.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    (tmp_path / "FUND.toml").write_text("[release]\nlag = -2\n")
    with pytest.raises(SystemExit):
        main(args)


def test_fund_config_writes_the_default(tmp_path: Path) -> None:
    _run("fund-config", "--out", str(tmp_path / "FUND.toml"))
    assert "[optimizer]" in (tmp_path / "FUND.toml").read_text()


def test_one_release_without_eras_stands_in_for_every_era(market, tmp_path: Path) -> None:
    crowd, eras = market["crowd"], market["eras"]
    oldest = next(iter(eras.values()))  # the newest release a participant holds, applied to later eras too
    blend = oldest.gaussianized @ (crowd.stakes / crowd.stakes.sum())
    released = pd.DataFrame({"id": oldest.ids, "numerai_meta_model": tie_kept_rank(blend)})
    released.to_csv(tmp_path / "released.csv", index=False)
    fund = FundConfig(optimizer=CONFIG, risk=market["risk_columns"], stake_share=0.0)
    (tmp_path / "FUND.toml").write_text(fund_config_toml(fund))
    out = tmp_path / "tc.csv"
    _run(
        "tc", str(market["paths"]["predictions"]),
        "--meta-model", str(tmp_path / "released.csv"),
        "--config", str(tmp_path / "FUND.toml"),
        "--data", str(market["paths"]["data"]),
        "--risk", str(market["paths"]["risk"]),
        "--out", str(out),
    )  # fmt: skip
    estimates = pd.read_csv(out, dtype={"era": str}).set_index("era")
    assert list(estimates.index) == list(eras) and np.isfinite(estimates.to_numpy()).all()
