"""The operator's walkthrough verbs through the real CLI app: synthetic round files, relative times and
--now, what each round step waits for, accounts with their wallets, validation data, and read-only
verbs that never create a database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.cli.tables import format_value
from kardashev.errors import NotFoundError, StateError
from kardashev.store import open_store
from kardashev.tournament import TournamentService, units_to_tokens

T0 = "2026-01-05T12:00:00"


@pytest.fixture
def cli(tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, data_dir: str | None = "data"):  # type: ignore[no-untyped-def]
        argv = [*args] if data_dir is None else [*args, "--data-dir", str(tmp_path / data_dir)]
        result = runner.invoke(app, argv, env={"KARDASHEV_DATABASE_URL": "", "COLUMNS": "200"})
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def _tokens(units: int) -> str:
    """Token amounts as the CLI's tables print them (one format: thousands separators, 2 decimals)."""
    return format_value(units_to_tokens(units), "tokens")


READ_ONLY = [
    ("leaderboard",),
    ("diagnostics", "ann_model"),
    ("round", "list"),
    ("round", "status"),
    ("round", "show", "1"),
    ("account", "list"),
    ("account", "show", "ann"),
    ("stake", "get", "ann_model"),
    ("api-key", "list", "ann"),
    ("api-key", "revoke", "kdk_x"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a))
def test_read_only_verbs_on_a_missing_database_say_so_and_create_nothing(cli, tmp_path, args):
    result = cli(*args, ok=False, data_dir="nowhere")
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFoundError) and result.exception.code == "no_database"
    assert (
        "kardashev.db" in result.exception.message and "--data-dir kardashev-demo" in result.exception.message
    )
    assert list(tmp_path.iterdir()) == []


def test_synthetic_round_files_feed_a_whole_round(cli, tmp_path):
    out = cli(
        "data",
        "synthetic-round",
        "--out",
        str(tmp_path / "round1"),
        "--stocks",
        "120",
        "--models",
        "4",
        data_dir=None,
    ).output
    assert "ids.csv" in out and "day1.parquet … day4.parquet" in out and "validation.parquet" in out
    ids = pd.read_csv(tmp_path / "round1" / "ids.csv")["id"].astype(str)
    assert ids.is_unique and len(ids) == 120
    predictions = sorted(p.name for p in (tmp_path / "round1" / "predictions").iterdir())
    assert len(predictions) == 4 and "original_01.csv" in predictions

    cli("account", "create", "ann", "--tokens", "1000", "--now", T0)
    cli("account", "create", "bob", "--tokens", "500", "--now", T0)
    cli("model", "create", "ann", "ann_model", "--now", T0)
    cli("model", "create", "bob", "bob_model", "--now", T0)
    cli("stake", "increase", "ann_model", "100", "--now", T0)
    cli("stake", "increase", "bob_model", "50", "--now", T0)
    opened = cli(
        "round",
        "open",
        "1",
        "--universe",
        str(tmp_path / "round1" / "ids.csv"),
        "--close",
        "+2d",
        "--horizon",
        "4",
        "--now",
        T0,
    ).output
    assert "closes 2026-01-07 12:00 UTC, resolves 2026-01-11 12:00 UTC" in opened
    for model, file in [("ann_model", "original_01.csv"), ("bob_model", "consensus_01.csv")]:
        cli("submit", model, str(tmp_path / "round1" / "predictions" / file), "--now", "2026-01-06T00:00:00")

    status = cli("round", "status", "--now", "2026-01-06T00:00:00").output
    assert "close" in status and "the close time (2026-01-07 12:00 UTC)" in status
    early = cli("round", "close", "1", "--now", "2026-01-06T00:00:00", ok=False)
    assert isinstance(early.exception, StateError) and early.exception.code == "round_not_closed"
    assert "simulate a later time with --now" in early.exception.message
    cli("round", "close", "1", "--now", "2026-01-07T12:00:00")
    shown = cli("round", "show", "1", "--now", "2026-01-07T13:00:00").output
    assert "scoring needs day 1's data; due for resolve at 2026-01-11 12:00 UTC" in shown
    assert "next: kardashev round score 1 --day 1 --data FILE" in shown
    day1 = str(tmp_path / "round1" / "day1.parquet")
    cli("round", "score", "1", "--day", "1", "--data", day1, "--now", "2026-01-08T12:00:00")
    day4 = str(tmp_path / "round1" / "day4.parquet")
    too_early = cli(
        "round", "resolve", "1", "--day", "4", "--data", day4, "--now", "2026-01-09T12:00:00", ok=False
    )
    assert isinstance(too_early.exception, StateError) and too_early.exception.code == "round_not_due"
    cli("round", "resolve", "1", "--day", "4", "--data", day4, "--now", "2026-01-11T12:00:00")
    assert (
        "resolved at 2026-01-11 12:00 UTC" in cli("round", "show", "1", "--now", "2026-01-12T00:00:00").output
    )

    service = TournamentService(open_store(None, data_dir=tmp_path / "data", create=False))
    listed = cli("account", "list").output
    shown = cli("account", "show", "ann").output
    for name in ("ann", "bob"):
        wallet = _tokens(service.wallet(name))
        (model,) = service.list_models(account=name)
        stake = service.stake(model.name)
        line = next(row for row in listed.splitlines() if row.strip().startswith(name + " "))
        assert line.split()[1:] == [wallet, "1", _tokens(stake.total), _tokens(stake.at_risk)]
    assert f"wallet {_tokens(service.wallet('ann'))} tokens" in shown
    payout = service.payouts(round_number=1, model="ann_model")[0].amount
    moves = [row.split() for row in shown.splitlines() if "ann_model" in row and len(row.split()) >= 5]
    assert any(cells[2] in ("payout", "burn") and cells[3] == _tokens(abs(payout)) for cells in moves), shown


def test_validation_data_upload_stores_what_diagnostics_read(cli, tmp_path):
    cli(
        "data",
        "synthetic-round",
        "--out",
        str(tmp_path / "r"),
        "--stocks",
        "60",
        "--models",
        "1",
        "--validation-eras",
        "3",
        data_dir=None,
    )
    out = cli("validation-data", "upload", str(tmp_path / "r" / "validation.parquet")).output
    assert "180 rows, 3 eras, 40 features" in out
    stored = pd.read_parquet(tmp_path / "data" / "validation" / "validation.parquet")
    source = pd.read_parquet(tmp_path / "r" / "validation.parquet")
    assert stored["id"].tolist() == source["id"].tolist()
    np.testing.assert_array_equal(stored["target"].to_numpy(), source["target"].to_numpy())
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": ["a"], "target": [0.5]}).to_csv(bad, index=False)
    refused = cli("validation-data", "upload", str(bad), ok=False)
    assert refused.exit_code != 0 and refused.exception.code == "wrong_headers"


def test_relative_now_is_read_from_the_clock(cli, tmp_path):
    universe = tmp_path / "ids.csv"
    pd.DataFrame({"id": [f"S{i:02d}" for i in range(30)]}).to_csv(universe, index=False)
    out = cli("round", "open", "1", "--universe", str(universe), "--close", "+36h", "--now", "+1d").output
    expected = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1, hours=36)
    closes = dt.datetime.strptime(out.split("closes ")[1][:16], "%Y-%m-%d %H:%M").replace(
        tzinfo=dt.timezone.utc
    )
    assert abs(closes - expected) < dt.timedelta(minutes=5)
