"""The demo on a database given by URL (SQLite file and PostgreSQL): runs add to it, never overwrite."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from kardashev.demo import DemoConfig, run_demo
from kardashev.store import open_store
from kardashev.tournament import TournamentService


def test_two_demo_runs_share_one_database(db_url, tmp_path) -> None:
    console = Console(file=io.StringIO())
    out = tmp_path / "demo"
    common = {"n_stocks": 120, "n_models": 10, "n_rounds": 6, "validate": False, "progress": False}
    first = run_demo(
        DemoConfig(seed=1, out=out, database_url=db_url, **common),
        now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        console=console,
    )
    second = run_demo(
        DemoConfig(seed=2, out=out, database_url=db_url, stake_rule="corr", **common),
        now=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
        console=console,
    )
    assert first.ledger_ok and second.ledger_ok
    with open_store(db_url, data_dir=out) as store:
        service = TournamentService(store)
        rounds = sorted(r.number for r in service.list_rounds())
        assert rounds == list(range(1, 13))  # the second season continued after the first
        assert all(r.status.value == "resolved" for r in service.list_rounds())
        names = {m.name for m in service.list_models()}
        assert len(names) == 20
        assert {name.split("-", 1)[0] for name in names} == {"demo20260101000000", "demo20260102000000"}
        # the first run's submissions are still readable (their blobs were kept)
        submission = service.list_submissions(round_number=1)[0]
        assert len(service.submission_predictions(submission)) == 120
        assert service.audit().ok
