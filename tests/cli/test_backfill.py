"""``kardashev backfill``: a real process killed mid-way resumes; Ray and local write the same table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import kardashev.contribution.backfill as engine
from kardashev.cli.main import app
from kardashev.contribution.backfill import BackfillOptions, era_scores, parts_folder
from kardashev.contribution.history import open_history
from kardashev.data.synthetic import generate_crowd, generate_market, write_dataset


def _history(folder: Path, *, n_eras: int, n_stocks: int, n_models: int) -> Path:
    """Numerai's layout with predictions and resolved targets (horizon 1) on ``n_eras`` validation eras."""
    market = generate_market(n_stocks=n_stocks, n_eras=n_eras + 2, seed=7, n_features=20, horizon=1)
    write_dataset(market, generate_crowd(market, n_models=n_models, seed=7), folder, validation_fraction=0.99)
    return folder


@pytest.fixture(scope="module")
def small_history(tmp_path_factory) -> Path:
    return _history(tmp_path_factory.mktemp("small"), n_eras=4, n_stocks=100, n_models=7)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_killed_backfill_process_resumes_and_computes_no_era_twice(tmp_path, monkeypatch):
    data = _history(tmp_path / "data", n_eras=30, n_stocks=200, n_models=12)
    out = tmp_path / "scores.parquet"
    parts = parts_folder(out)
    command = [sys.executable, "-m", "kardashev", "backfill", str(data), "--out", str(out), "--bags", "6"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while len(list(parts.glob("*.parquet"))) < 2:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the backfill wrote no era in time"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    eras = list(open_history(data).eras)
    done_before = [e for e in eras if (parts / f"{e}.parquet").exists()]
    assert 2 <= len(done_before) < len(eras) and not out.exists()

    computed: list[str] = []
    real = engine.era_scores

    def counting(era, **kwargs):
        computed.append(era.era)
        return real(era, **kwargs)

    monkeypatch.setattr(engine, "era_scores", counting)
    result = CliRunner().invoke(app, ["backfill", str(data), "--out", str(out), "--bags", "6"])
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.split())
    assert f"{len(eras) - len(done_before)} computed now, {len(done_before)} resumed" in summary
    assert sorted(computed) == sorted(set(eras) - set(done_before))  # each missing era once, no other
    frame = pd.read_parquet(out)
    assert not parts.exists()
    assert list(dict.fromkeys(frame["era"])) == eras
    assert not frame.duplicated(["era", "model", "score"]).any()
    assert len(frame) == len(eras) * 12 * 6
    # an era the killed process wrote equals the same era computed now
    era = next(open_history(data).iter_eras([done_before[0]]))
    again = era_scores(era, options=BackfillOptions(bags=6))
    written = frame[frame["era"] == done_before[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(written, again, check_exact=False, rtol=0, atol=1e-12)


def test_ray_and_local_executors_write_the_same_table(small_history, tmp_path, ray_cluster):
    runner = CliRunner()
    args = ["backfill", str(small_history), "--bags", "4", "--seed", "3", "--out"]
    local = runner.invoke(app, [*args, str(tmp_path / "local.parquet")])
    assert local.exit_code == 0, local.output
    on_ray = runner.invoke(app, [*args, str(tmp_path / "ray.parquet"), "--executor", "ray", "--workers", "2"])
    assert on_ray.exit_code == 0, on_ray.output
    assert "RayExecutor(address=None, num_workers=2)" in " ".join(on_ray.output.split())
    first = pd.read_parquet(tmp_path / "local.parquet")
    second = pd.read_parquet(tmp_path / "ray.parquet")
    pd.testing.assert_frame_equal(first[["era", "model", "score"]], second[["era", "model", "score"]])
    np.testing.assert_allclose(first["value"], second["value"], rtol=0, atol=1e-12)
    assert set(first["score"]) == {"corr", "mmc", "bmc", "fnc", "tc", "true_return"}


def test_bad_options_are_one_clear_line(small_history, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["backfill", str(small_history), "--out", str(tmp_path / "s.parquet"), "--executor", "dask"]
    )
    assert result.exit_code != 0
    assert "unknown executor 'dask'" in str(result.exception)
    result = runner.invoke(
        app, ["backfill", str(small_history), "--out", str(tmp_path / "s.parquet"), "--address", "auto"]
    )
    assert "--address and --workers are for the Ray executor" in str(result.exception)
    assert not parts_folder(tmp_path / "s.parquet").exists()
