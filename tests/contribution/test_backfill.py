"""The backfill engine: the right numbers per era, resumable, no era computed twice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kardashev.contribution.backfill as engine
from kardashev.contribution import true_contribution, true_return
from kardashev.contribution.backfill import BackfillOptions, backfill, era_seed, parts_folder
from kardashev.contribution.history import open_history
from kardashev.data.synthetic import generate_crowd, generate_market, write_dataset
from kardashev.errors import ConflictError, DataFormatError, NotFoundError
from kardashev.portfolio import RiskModel
from kardashev.scoring import score_era

OPTIONS = BackfillOptions(bags=3, seed=9, models_per_unit=4, bags_per_unit=2)


def write_history(folder: Path, *, n_eras: int = 6, n_stocks: int = 120, n_models: int = 9, seed: int = 2):
    """Numerai's layout; predictions (and resolved targets: horizon 1) on every era but the first and live."""
    market = generate_market(n_stocks=n_stocks, n_eras=n_eras + 2, seed=seed, n_features=20, horizon=1)
    crowd = generate_crowd(market, n_models=n_models, seed=seed)
    return write_dataset(market, crowd, folder, validation_fraction=0.99)


@pytest.fixture(scope="module")
def history_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    write_history(folder)
    return folder


@pytest.fixture(scope="module")
def complete(history_folder, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("complete") / "scores.parquet"
    result = backfill(history_folder, out, options=OPTIONS)
    assert result.computed == result.eras and result.resumed == ()
    return pd.read_parquet(out)


def _read(folder: Path, name: str, era: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / name)
    frame = frame[frame["era"] == era]
    return frame.set_index("id") if "id" in frame.columns else frame


def test_each_era_has_every_score_of_every_model_computed_from_the_files(history_folder, complete):
    manifest = json.loads((history_folder / "manifest.json").read_text())
    names = [m["name"] for m in manifest["models"]]
    eras = list(dict.fromkeys(pd.read_parquet(history_folder / "validation_predictions.parquet")["era"]))
    assert len(eras) == 6
    assert list(complete.columns) == ["era", "model", "score", "value"]
    assert not complete.duplicated(["era", "model", "score"]).any()
    assert list(dict.fromkeys(complete["era"])) == eras
    assert set(complete["score"]) == {"corr", "mmc", "bmc", "fnc", "tc", "true_return"}
    assert len(complete) == len(eras) * len(names) * 6
    # one era recomputed from the files with pandas, aligned by id (not by the reader under test)
    era = eras[2]
    predictions = _read(history_folder, "validation_predictions.parquet", era)[names]
    operator = _read(history_folder, "operator.parquet", era).reindex(predictions.index)
    train = _read(history_folder, "validation.parquet", era).reindex(predictions.index)
    meta = _read(history_folder, "meta_model.parquet", era).reindex(predictions.index)
    example = _read(history_folder, "validation_example_preds.parquet", era).reindex(predictions.index)
    features = [c for c in train.columns if c.startswith("feature_")]
    expected = score_era(
        predictions.to_numpy(),
        train["target"].to_numpy(),
        meta_model=meta["numerai_meta_model"].to_numpy(),
        benchmark=example["prediction"].to_numpy(),
        features=train[features].to_numpy(dtype=float),
        model_names=names,
    )
    got = complete[complete["era"] == era].pivot(index="model", columns="score", values="value").loc[names]
    for name in ("corr", "mmc", "bmc", "fnc"):
        np.testing.assert_allclose(got[name], getattr(expected, name), rtol=0, atol=1e-12)
    exposures = operator[manifest["exposure_names"]]
    risk = RiskModel(
        factor_loadings=exposures.to_numpy(),
        factor_covariance=np.asarray(manifest["factor_covariance"]),
        specific_variance=operator["specific_variance"].to_numpy(),
    )
    stakes = pd.Series({m["name"]: m["stake"] for m in manifest["models"]})
    options = {"risk_model": risk, "adv": operator["adv"], "config": OPTIONS.optimizer}
    returns = operator["residual_return"]
    tc = true_contribution(predictions, stakes, returns, exposures, bags=3, seed=era_seed(9, era), **options)
    tr = true_return(predictions, returns, exposures, **options)
    np.testing.assert_allclose(got["tc"], tc.tc.loc[names], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["true_return"], tr.net_return.loc[names], rtol=0, atol=1e-12)


def test_a_failed_backfill_resumes_without_computing_any_era_twice(
    history_folder, complete, tmp_path, monkeypatch
):
    out = tmp_path / "scores.parquet"
    computed: list[str] = []
    real = engine.era_scores

    def failing_on_the_fourth(era, **kwargs):
        if len(computed) == 3:
            raise RuntimeError("killed")
        computed.append(era.era)
        return real(era, **kwargs)

    monkeypatch.setattr(engine, "era_scores", failing_on_the_fourth)
    with pytest.raises(RuntimeError, match="killed"):
        backfill(history_folder, out, options=OPTIONS)
    assert not out.exists()
    eras = list(dict.fromkeys(complete["era"]))
    first_run = list(computed)
    assert first_run == eras[:3]
    assert sorted(p.name for p in parts_folder(out).glob("*.parquet")) == [f"{e}.parquet" for e in eras[:3]]
    (parts_folder(out) / ".0004.parquet.tmp-1").write_bytes(b"half a file")  # killed mid-write

    def counting(era, **kwargs):
        computed.append(era.era)
        return real(era, **kwargs)

    monkeypatch.setattr(engine, "era_scores", counting)
    progress: list[tuple] = []
    result = backfill(history_folder, out, options=OPTIONS, on_era=lambda *a: progress.append(a))
    assert computed == eras  # each era exactly once over both runs
    assert result.resumed == tuple(eras[:3]) and result.computed == tuple(eras[3:])
    assert progress[0] == (3, len(eras), None) and progress[-1] == (len(eras), len(eras), eras[-1])
    assert not parts_folder(out).exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out), complete)


def test_resuming_with_other_settings_is_refused(history_folder, tmp_path, monkeypatch):
    out = tmp_path / "scores.parquet"
    monkeypatch.setattr(
        engine, "era_scores", lambda era, **kwargs: (_ for _ in ()).throw(RuntimeError("stop"))
    )
    with pytest.raises(RuntimeError):
        backfill(history_folder, out, options=OPTIONS)
    with pytest.raises(ConflictError, match="other bags, seed") as error:
        backfill(history_folder, out, options=BackfillOptions(bags=5, seed=1))
    assert error.value.code == "backfill_settings_changed"


def test_bad_folders_and_outputs_are_named(history_folder, tmp_path):
    with pytest.raises(NotFoundError, match=r"no validation_predictions\.parquet or predictions\.parquet"):
        backfill(tmp_path, tmp_path / "out.parquet")
    with pytest.raises(DataFormatError, match=r"must end in \.parquet"):
        backfill(history_folder, tmp_path / "out.csv")
    with pytest.raises(DataFormatError, match="no target column 'target_nope'"):
        open_history(history_folder, target="target_nope")
    broken = tmp_path / "broken"
    write_history(broken, n_eras=2, n_stocks=60, n_models=3)
    assert open_history(broken).eras
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["models"] = manifest["models"][:2]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataFormatError, match="no stake for model") as error:
        open_history(broken)
    assert error.value.code == "bad_manifest"
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        open_history(broken)


def test_without_the_operators_file_only_the_scores_are_written(history_folder, tmp_path):
    folder = tmp_path / "public"
    folder.mkdir()
    for name in ("validation_predictions.parquet", "validation.parquet", "meta_model.parquet"):
        (folder / name).write_bytes((history_folder / name).read_bytes())
    history = open_history(folder)
    assert not history.has_operator and history.stakes is None and history.benchmark_file is None
    result = backfill(folder, tmp_path / "scores.parquet")
    frame = pd.read_parquet(result.out)
    assert set(frame["score"]) == {"corr", "mmc", "fnc"}


def test_a_live_era_without_targets_gets_only_tc_and_true_return(history_folder, tmp_path):
    folder = tmp_path / "live"
    folder.mkdir()
    for path in history_folder.glob("*.*"):  # the files (not signals/)
        (folder / path.name).write_bytes(path.read_bytes())
    train = pd.read_parquet(folder / "validation.parquet")
    last = train["era"].iloc[-1]
    train.loc[train["era"] == last, "target"] = np.nan
    train.to_parquet(folder / "validation.parquet")
    frame = pd.read_parquet(backfill(folder, tmp_path / "scores.parquet", options=OPTIONS).out)
    assert set(frame.loc[frame["era"] == last, "score"]) == {"tc", "true_return"}
    assert set(frame.loc[frame["era"] != last, "score"]) == {"corr", "mmc", "bmc", "fnc", "tc", "true_return"}


def test_an_era_keeps_only_the_stocks_the_operator_has_data_for(history_folder, tmp_path):
    folder = tmp_path / "partial"
    folder.mkdir()
    for path in history_folder.glob("*.*"):  # the files (not signals/)
        (folder / path.name).write_bytes(path.read_bytes())
    operator = pd.read_parquet(folder / "operator.parquet")
    first = open_history(folder).eras[0]
    dropped = operator.index[operator["era"] == first][:10]
    operator.drop(index=dropped).to_parquet(folder / "operator.parquet")
    history = open_history(folder)
    era = next(history.iter_eras([first]))
    predicted = pd.read_parquet(folder / "validation_predictions.parquet").query("era == @first").index
    assert list(era.ids) == [i for i in predicted if i not in set(dropped)]
    assert era.predictions.shape == (len(predicted) - 10, len(history.model_names))
    kept = operator.drop(index=dropped)
    kept = kept[kept["era"] == first].reindex(era.ids)
    np.testing.assert_array_equal(era.adv, kept["adv"].to_numpy())
    np.testing.assert_array_equal(era.realized_returns, kept["residual_return"].to_numpy())
