"""Staged uploads, URL signing and dataset names, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from kardashev.api.graphql.files import Datasets, DiagnosticsResults, Staging, UrlSigner, load_url_key
from kardashev.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


def _issue(staging: Staging, *, minutes: int = 10, account_id: int = 1):
    return staging.issue(
        purpose="submission",
        account_id=account_id,
        model_id=7,
        tournament=8,
        filename="p.csv",
        now=NOW,
        expires=NOW + dt.timedelta(minutes=minutes),
    )


def test_a_slot_takes_one_put_and_is_taken_once(tmp_path):
    staging = Staging(tmp_path)
    slot = _issue(staging)
    with pytest.raises(InvalidInputError, match="no file was uploaded"):
        staging.take(slot.token, purpose="submission", account_id=1, now=NOW)
    staging.put(slot.token, b"id,prediction\n", now=NOW)
    with pytest.raises(ConflictError):
        staging.put(slot.token, b"other", now=NOW)
    with pytest.raises(NotFoundError):  # another account or another purpose sees nothing
        staging.take(slot.token, purpose="submission", account_id=2, now=NOW)
    with pytest.raises(NotFoundError):
        staging.take(slot.token, purpose="diagnostics", account_id=1, now=NOW)
    staged, data = staging.take(slot.token, purpose="submission", account_id=1, now=NOW)
    assert data == b"id,prediction\n" and staged.model_id == 7 and staged.filename == "p.csv"
    with pytest.raises(NotFoundError):
        staging.take(slot.token, purpose="submission", account_id=1, now=NOW)
    assert list(staging.folder.iterdir()) == []


def test_expired_slots_are_refused_and_swept(tmp_path):
    staging = Staging(tmp_path)
    slot = _issue(staging, minutes=1)
    later = NOW + dt.timedelta(minutes=2)
    with pytest.raises(PermissionDeniedError):
        staging.put(slot.token, b"x", now=later)
    with pytest.raises(PermissionDeniedError):
        staging.take(slot.token, purpose="submission", account_id=1, now=later)
    kept = _issue(staging, minutes=1)
    staging.sweep(now=NOW + dt.timedelta(hours=2))
    assert list(staging.folder.iterdir()) == []
    with pytest.raises(NotFoundError):
        staging.put(kept.token, b"x", now=NOW)
    for token in ("../../etc/passwd", "short", "a" * 100):
        with pytest.raises(NotFoundError):
            staging.put(token, b"x", now=NOW)


def test_signatures_bind_path_and_expiry(tmp_path):
    key = load_url_key(tmp_path, "pepper")
    assert load_url_key(tmp_path, "pepper") == key  # every worker gets the same key
    assert load_url_key(tmp_path, "other pepper") != key
    signer = UrlSigner(key)
    url = signer.sign("/graphql/files/datasets/a.csv", expires=NOW + dt.timedelta(minutes=5))
    path, _, query = url.partition("?")
    params = dict(part.split("=") for part in query.split("&"))
    signer.verify(path, expires=params["expires"], signature=params["signature"], now=NOW)
    with pytest.raises(PermissionDeniedError):
        signer.verify("/graphql/files/datasets/b.csv", **params, now=NOW)
    with pytest.raises(PermissionDeniedError):
        signer.verify(path, expires=str(int(params["expires"]) + 1), signature=params["signature"], now=NOW)
    with pytest.raises(PermissionDeniedError):
        signer.verify(path, **params, now=NOW + dt.timedelta(minutes=6))
    with pytest.raises(PermissionDeniedError):
        UrlSigner(load_url_key(tmp_path, "other pepper")).verify(path, **params, now=NOW)


def test_dataset_names_stay_inside_the_folder(tmp_path):
    datasets = Datasets(tmp_path)
    (tmp_path / "datasets" / "v1").mkdir(parents=True)
    (tmp_path / "datasets" / "signals").mkdir()
    (tmp_path / "datasets" / "v1" / "train.parquet").write_bytes(b"PAR1")
    (tmp_path / "datasets" / "signals" / "live.parquet").write_bytes(b"PAR1")
    (tmp_path / "secret.db").write_bytes(b"no")
    (tmp_path / "datasets" / "v1" / "link.db").symlink_to(tmp_path / "secret.db")
    assert datasets.list(signals=False) == ["v1/train.parquet"]
    assert datasets.list(signals=True) == ["signals/live.parquet"]
    assert datasets.path("v1/train.parquet") is not None
    assert datasets.path("v1/link.db") is None
    for name in ("../secret.db", "/etc/passwd", "v1/../../secret.db", "", "v1//x"):
        with pytest.raises(NotFoundError):
            datasets.path(name)


def test_diagnostics_results_are_per_model(tmp_path):
    results = DiagnosticsResults(tmp_path)
    first = results.save(1, {"n_eras": 1}, now=NOW)
    second = results.save(1, {"n_eras": 2}, now=NOW + dt.timedelta(seconds=1))
    assert results.load(1, first)["result"] == {"n_eras": 1}
    assert results.load(1, None)["id"] == second
    for model, run in ((2, first), (2, None), (1, "../x"), (1, "00000000000000000000-000000000000")):
        with pytest.raises(NotFoundError):
            results.load(model, run)
