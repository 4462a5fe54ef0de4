"""The tournament verbs end to end on a temporary SQLite database, through the real CLI app."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.errors import InsufficientBalanceError, SubmissionError

IDS = [f"S{i:03d}" for i in range(30)]


@pytest.fixture
def cli(tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "data")]

    def invoke(*args: str, now: str | None = "2026-01-05T12:00:00", ok: bool = True):  # type: ignore[no-untyped-def]
        extra = [] if now is None else ["--now", now]
        result = runner.invoke(app, [*args, *base, *extra], env={"KARDASHEV_DATABASE_URL": ""})
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def test_a_round_through_the_cli(cli, tmp_path):
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": IDS}).to_csv(tmp_path / "universe.csv", index=False)
    pd.DataFrame({"id": IDS, "prediction": rng.random(30)}).to_csv(tmp_path / "preds.csv", index=False)
    pd.DataFrame({"id": IDS, "prediction": [0.5] * 30}).to_csv(tmp_path / "constant.csv", index=False)
    day = pd.DataFrame(
        {"id": IDS, "target": rng.integers(0, 5, 30) / 4, "realized_return": rng.normal(0, 0.02, 30)}
    )
    day.to_csv(tmp_path / "day1.csv", index=False)

    assert "ann" in cli("account", "create", "ann", "--tokens", "100").output
    cli("model", "create", "ann", "alpha")
    assert "stake 40" in cli("stake", "increase", "alpha", "40").output
    bad = cli("stake", "increase", "alpha", "1000", ok=False)
    assert isinstance(bad.exception, InsufficientBalanceError)
    out = cli(
        "round",
        "open",
        "1",
        "--universe",
        str(tmp_path / "universe.csv"),
        "--close",
        "2026-01-06T12:00:00",
        "--horizon",
        "1",
    ).output
    assert "30 ids" in out
    rejected = cli("submit", "alpha", str(tmp_path / "constant.csv"), now="2026-01-05T13:00:00", ok=False)
    assert (
        isinstance(rejected.exception, SubmissionError) and rejected.exception.code == "constant_predictions"
    )
    assert (
        "for round 1" in cli("submit", "alpha", str(tmp_path / "preds.csv"), now="2026-01-05T13:00:00").output
    )
    assert "1 staked" in cli("round", "close", "1", now="2026-01-06T12:00:00").output
    assert "at risk" in cli("stake", "get", "alpha", now=None).output
    assert "no resolved rounds" in cli("leaderboard", now=None).output
    cli("round", "score", "1", "--day", "1", "--data", str(tmp_path / "day1.csv"), now="2026-01-07T12:00:00")
    dry = cli("round", "resolve", "1", "--dry-run", now="2026-01-08T12:00:00").output
    assert "dry run" in dry and "nothing was written" in dry and "alpha" in dry
    assert "closed" in cli("round", "list", now=None).output  # the dry run resolved nothing
    out = cli("round", "resolve", "1", now="2026-01-08T12:00:00").output
    assert "alpha" in out and "resolved" in out
    # the dry run's totals line is the resolve's
    assert dry.splitlines()[-1].split(" — ")[0] == out.splitlines()[-1]
    assert "alpha" in cli("leaderboard", now=None).output
    out = cli("diagnostics", "alpha", now=None).output
    assert "corr" in out and "grade" in out
    assert "resolved" in cli("round", "list", now=None).output


def test_implausible_operator_data_is_refused(cli, tmp_path):
    rng = np.random.default_rng(1)
    pd.DataFrame({"id": IDS}).to_csv(tmp_path / "universe.csv", index=False)
    cli("account", "create", "ann", "--tokens", "10")
    cli("model", "create", "ann", "alpha")
    cli("round", "open", "1", "--universe", str(tmp_path / "universe.csv"), "--close", "2026-01-06T12:00:00")
    cli("submit", "alpha", _preds(tmp_path, rng), now="2026-01-05T13:00:00")
    cli("round", "close", "1", now="2026-01-06T12:00:00")
    day = pd.DataFrame({"id": IDS, "target": rng.integers(0, 5, 30) / 4, "realized_return": 1e300})
    day.to_csv(tmp_path / "day.csv", index=False)
    result = cli("round", "score", "1", "--day", "1", "--data", str(tmp_path / "day.csv"), ok=False)
    assert getattr(result.exception, "code", None) == "implausible_values"
    (tmp_path / "wide.csv").write_text(",".join(f"c{i}" for i in range(20_000)) + "\n")
    result = cli("round", "score", "1", "--day", "1", "--data", str(tmp_path / "wide.csv"), ok=False)
    assert getattr(result.exception, "code", None) == "too_many_columns"


def _preds(tmp_path, rng) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "preds.csv"
    pd.DataFrame({"id": IDS, "prediction": rng.random(30)}).to_csv(path, index=False)
    return str(path)
