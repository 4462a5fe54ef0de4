"""The numerapi code block of docs/numerapi.md runs as written (only the port differs) against the live
server, and the other numerapi calls that page lists as served work too."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd

from tests.api.conftest import classic_frame

NUMERAPI_PAGE = Path(__file__).resolve().parents[3] / "docs" / "numerapi.md"


def _numerapi_block() -> str:
    text = NUMERAPI_PAGE.read_text("utf-8")
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_the_numerapi_page_block_runs_as_written(season, tmp_path, monkeypatch):
    live, service = season.live, season.live.context.service
    account = service.create_account("readme_user", now=live.clock(), tokens=5_000_000)
    service.create_model(account.id, "my_model", now=live.clock())
    key = live.new_key(account.id, ["read", "upload", "stake"])
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", key.public_id)
    monkeypatch.setenv("NUMERAI_SECRET_KEY", key.secret)
    monkeypatch.chdir(tmp_path)
    live_ids = season.rest("alice", "GET", f"/v1/rounds/{season.current['classic']}/universe")["ids"]
    published = live.data_dir / "data" / "datasets" / "v1" / "live.parquet"
    pd.DataFrame({"id": live_ids}).to_parquet(published)
    classic_frame(live_ids, seed=99).to_csv(tmp_path / "predictions.csv", index=False)
    code = _numerapi_block().replace("http://127.0.0.1:8000", live.base_url)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(code, "docs/numerapi.md", "exec"), {"__name__": "readme"})
    finally:
        published.unlink()
    lines = output.getvalue().splitlines()
    assert lines[0].startswith(f"{season.current['classic']} [")
    assert lines[1] == "True" and lines[2] == "1.5"
    assert (tmp_path / "live.parquet").read_bytes() and lines[3] == "[]"
    classic = [r for r in season.rest("alice", "GET", "/v1/leaderboard") if r["model"] != "sam_one"]
    assert lines[4].count("'username'") == min(10, len(classic))
    assert lines[5] == "['deposit', 'stake_increase']"


def test_more_numerapi_calls_the_readme_lists(season, tmp_path):
    napi = season.classic("alice")
    competitions = napi.get_competitions()
    rest = season.rest("alice", "GET", "/v1/rounds?kind=classic")
    assert [c["number"] for c in competitions] == [r["number"] for r in rest]
    profile = napi.public_user_profile("alice_one")
    stake = season.rest("alice", "GET", "/v1/models/alice_one/stake")["stake"]
    assert profile["id"] == season.model_ids["alice_one"] and profile["nmrStaked"] == Decimal(stake)
    files = napi.get_submission_filenames(model_id=season.model_ids["alice_one"])
    submissions = season.rest("alice", "GET", "/v1/models/alice_one/submissions")
    assert sorted((f["round_num"], f["filename"]) for f in files) == sorted(
        (s["round_number"], s["filename"]) for s in submissions
    )
    model_id = season.model_ids["alice_two"]
    napi.stake_set("4", model_id)
    assert Decimal(season.rest("alice", "GET", "/v1/models/alice_two/stake")["stake"]) == 4
    napi.stake_set("3", model_id)
    assert Decimal(season.rest("alice", "GET", "/v1/models/alice_two/stake")["stake"]) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = napi.download_dataset(
            "v1/train.parquet", str(tmp_path / "era1.parquet"), filters=[("era", "in", ["0001"])]
        )
    assert len(pd.read_parquet(path)) == 5
