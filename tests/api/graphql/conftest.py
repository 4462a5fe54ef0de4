"""A live Kardashev server on 127.0.0.1 and a season played by participants using numerapi 3.1.1.

numerapi is used unmodified: only its URL constant ``numerapi.base_api.API_TOURNAMENT_URL`` points at the
server's ``/graphql``. The operator works through the REST API (``KardashevClient``); every participant
upload in the season goes through numerapi. The fake server clock starts 30 days before the real time, and
the open rounds are open in real time too, since numerapi's ``check_round_open`` compares with the real clock.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numerapi
import numerapi.base_api
import numpy as np
import pandas as pd
import pytest

from kardashev.api.keys import GeneratedKey
from tests.api.conftest import FakeClock, LiveServer, classic_frame, make_settings, running_server, universe

HORIZON = 2
N_TICKERS = 110
VALIDATION_IDS = [f"v{i:04d}" for i in range(60)]


def tickers() -> list[str]:
    return [f"T{i:03d} US" for i in range(N_TICKERS)]


def signals_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"numerai_ticker": tickers(), "signal": rng.uniform(0.01, 0.99, N_TICKERS)})


def day_data(ids: list[str], day: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "day": day,
        "ids": ids,
        "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(ids)).tolist(),
        "features": rng.integers(0, 5, (len(ids), 3)).astype(float).tolist(),
    }


def key_pair(key: GeneratedKey) -> dict[str, str]:
    return {"public_id": key.public_id, "secret_key": key.secret}


@dataclass
class Season:
    live: LiveServer
    keys: dict[str, GeneratedKey]
    model_ids: dict[str, str]
    resolved: dict[str, int]  # kind -> a resolved round
    running: int  # a closed, scored, unresolved Classic round
    current: dict[str, int]  # kind -> the round open now
    folder: Path
    uploaded: dict[str, pd.DataFrame] = field(default_factory=dict)

    def classic(self, who: str, **overrides) -> numerapi.NumerAPI:
        return numerapi.NumerAPI(**(overrides or key_pair(self.keys[who])), show_progress_bars=False)

    def signals(self, who: str, **overrides) -> numerapi.SignalsAPI:
        return numerapi.SignalsAPI(**(overrides or key_pair(self.keys[who])), show_progress_bars=False)

    def rest(self, who: str, method: str, path: str, **kwargs):
        response = self.live.http(method, path, key=self.keys[who], **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


def _play_round(live, admin, *, kind: str, ids: list[str], uploads, resolve: bool, days: int) -> int:
    close = live.clock() + dt.timedelta(hours=1)
    number = admin.open_round(ids=ids, close_time=close.isoformat(), horizon_days=HORIZON, kind=kind)[
        "number"
    ]
    for upload in uploads:
        upload()
    live.clock.advance(hours=2)
    admin.close_round(number)
    for day in range(1, days + 1):
        admin.score_round(number, **day_data(ids, day, seed=100 * number + day))
    if resolve:
        live.clock.advance(days=HORIZON + 1)
        admin.resolve_round(number)
    return number


@pytest.fixture(scope="package")
def season(tmp_path_factory) -> Iterator[Season]:
    root = tmp_path_factory.mktemp("graphql")
    real_now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    clock = FakeClock(real_now - dt.timedelta(days=30))
    previous_url = numerapi.base_api.API_TOURNAMENT_URL
    with running_server(make_settings(root), clock) as live:
        numerapi.base_api.API_TOURNAMENT_URL = live.base_url + "/graphql"
        try:
            yield _season(live, root, real_now)
        finally:
            numerapi.base_api.API_TOURNAMENT_URL = previous_url


def _season(live: LiveServer, root: Path, real_now: dt.datetime) -> Season:
    service, now = live.context.service, live.clock()
    admin = live.client(live.admin_key)
    accounts = {
        name: service.create_account(name, now=now, tokens=100_000_000) for name in ("alice", "bob", "sam")
    }
    keys = {name: live.new_key(account.id, ["read", "upload", "stake"]) for name, account in accounts.items()}
    for scope in ("read", "upload", "stake"):
        keys[f"alice_{scope}"] = live.new_key(accounts["alice"].id, [scope])
    model_ids = {}
    for owner, name in (
        ("alice", "alice_one"),
        ("alice", "alice_two"),
        ("bob", "bob_one"),
        ("sam", "sam_one"),
    ):
        model_ids[name] = str(service.create_model(accounts[owner].id, name, now=now).id)
    for name, amount in (("alice_one", 10_000_000), ("bob_one", 20_500_000), ("sam_one", 5_000_000)):
        service.stake_increase(int(model_ids[name]), amount, now=now)
    folder = root / "files"
    folder.mkdir()
    season = Season(
        live=live, keys=keys, model_ids=model_ids, resolved={}, running=0, current={}, folder=folder
    )
    alice, bob, sam = season.classic("alice"), season.classic("bob"), season.signals("sam")
    ids = universe()

    def classic_uploads(seed: int):
        path = folder / f"alice_{seed}.csv"
        classic_frame(ids, seed).to_csv(path, index=False)
        return [
            lambda: alice.upload_predictions(str(path), model_id=model_ids["alice_one"]),
            lambda: alice.upload_predictions(
                df=classic_frame(ids, seed + 1), model_id=model_ids["alice_two"]
            ),
            lambda: bob.upload_predictions(df=classic_frame(ids, seed + 2), model_id=model_ids["bob_one"]),
        ]

    season.resolved["classic"] = _play_round(
        live, admin, kind="classic", ids=ids, uploads=classic_uploads(10), resolve=True, days=HORIZON
    )
    season.resolved["signals"] = _play_round(
        live,
        admin,
        kind="signals",
        ids=tickers(),
        uploads=[lambda: sam.upload_predictions(df=signals_frame(20), model_id=model_ids["sam_one"])],
        resolve=True,
        days=HORIZON,
    )
    season.running = _play_round(
        live, admin, kind="classic", ids=ids, uploads=classic_uploads(30), resolve=False, days=1
    )
    for kind, universe_ids in (("classic", ids), ("signals", tickers())):
        opened = admin.open_round(
            ids=universe_ids,
            kind=kind,
            open_time=live.clock().isoformat(),
            close_time=(real_now + dt.timedelta(days=2)).isoformat(),
            horizon_days=HORIZON,
        )
        season.current[kind] = opened["number"]
    _publish(live, root)
    return season


def _publish(live: LiveServer, root: Path) -> None:
    """The operator's published files and the validation data used by diagnostics."""
    datasets = root / "data" / "datasets"
    (datasets / "v1").mkdir(parents=True)
    (datasets / "signals" / "v1.0").mkdir(parents=True)
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"era": ["0001"] * 5, "feature_a": rng.integers(0, 5, 5), "target": rng.random(5)})
    train.to_parquet(datasets / "v1" / "train.parquet")
    (datasets / "v1" / "features.json").write_text(json.dumps({"feature_sets": {"small": ["feature_a"]}}))
    train.to_parquet(datasets / "signals" / "v1.0" / "train.parquet")
    validation = pd.DataFrame(
        {
            "era": np.repeat(["0001", "0002", "0003"], 20),
            "id": VALIDATION_IDS,
            "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], 60),
            "feature_a": rng.integers(0, 5, 60).astype(float),
        }
    )
    buffer = io.BytesIO()
    validation.to_parquet(buffer, index=False)
    response = live.http(
        "PUT",
        "/v1/admin/validation-data",
        key=live.admin_key,
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
