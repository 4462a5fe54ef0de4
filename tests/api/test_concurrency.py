"""Concurrent uploads over HTTP, on SQLite and on PostgreSQL: one submission per model and round,
equal to one of the files that model sent (the last, when a model's uploads are sequential)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.api.conftest import START, FakeClock, classic_csv, make_settings, running_server, universe

N_ACCOUNTS, MODELS_PER_ACCOUNT = 4, 2


@pytest.fixture
def server(db_url, tmp_path):
    with running_server(make_settings(tmp_path, database_url=db_url), FakeClock(START)) as live:
        yield live


def test_concurrent_uploads_keep_exactly_one_submission(server):
    service, now = server.context.service, server.clock()
    ids = universe()
    round_ = service.open_round(1, universe=ids, close_time=now + dt.timedelta(hours=1), now=now)
    models: dict[str, object] = {}
    for a in range(N_ACCOUNTS):
        account = service.create_account(f"acct{a}", now=now)
        key = server.new_key(account.id, ["upload", "read"])
        for m in range(MODELS_PER_ACCOUNT):
            models[service.create_model(account.id, f"m{a}_{m}", now=now).name] = key
    files = {(name, k): classic_csv(ids, seed=100 * i + k) for i, name in enumerate(models) for k in range(3)}

    def sequential(name: str) -> list[int]:
        return [
            server.http(
                "POST", f"/v1/models/{name}/submissions?round_number={round_.number}", key=models[name],
                content=files[(name, k)], headers={"Content-Type": "text/csv"},
            ).status_code
            for k in range(3)
        ]  # fmt: skip

    def racing(name_and_k: tuple[str, int]) -> int:
        name, k = name_and_k
        return server.http(
            "POST", f"/v1/models/{name}/submissions?round_number={round_.number}", key=models[name],
            content=files[(name, k)], headers={"Content-Type": "text/csv"},
        ).status_code  # fmt: skip

    names = list(models)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(sequential, names[: len(names) // 2]) for s in batch]
        statuses += list(pool.map(racing, [(name, k) for name in names[len(names) // 2 :] for k in range(3)]))
    assert statuses == [201] * len(statuses)

    rows = service.list_submissions(round_number=round_.number)
    assert sorted(service.get_model(r.model_id).name for r in rows) == sorted(
        names
    )  # none lost, none doubled
    for row in rows:
        name = service.get_model(row.model_id).name
        stored = service.submission_predictions(row).reindex(ids).to_numpy()
        sent = [
            np.array([float(line.split(",")[1]) for line in files[(name, k)].decode().splitlines()[1:]])
            for k in range(3)
        ]
        matches = [k for k in range(3) if np.allclose(stored, sent[k])]
        if name in names[: len(names) // 2]:
            assert matches == [2], name  # sequential uploads: the last one wins
        else:
            assert len(matches) == 1, name  # racing uploads: exactly one of them, intact
