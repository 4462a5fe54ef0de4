"""The demo folder: fresh by default, reused only when it is a demo folder, credentials never shown."""

from __future__ import annotations

import datetime as dt

import pytest

from kardashev.demo.workspace import MARKER, prepare_workspace
from kardashev.errors import ConfigError, ConflictError

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def test_fresh_folder_gets_marker_and_sqlite(tmp_path) -> None:
    workspace = prepare_workspace(tmp_path / "demo", database_url=None, now=NOW)
    assert (tmp_path / "demo" / MARKER).exists()
    assert workspace.database_url == f"sqlite:///{tmp_path / 'demo' / 'kardashev.db'}"
    assert workspace.run_tag == "" and workspace.embedded


def test_rerun_replaces_own_files_only(tmp_path) -> None:
    out = tmp_path / "demo"
    prepare_workspace(out, database_url=None, now=NOW)
    (out / "kardashev.db").write_text("old")
    (out / "blobs").mkdir()
    (out / "blobs" / "x.parquet").write_text("old")
    (out / "notes.txt").write_text("mine")
    prepare_workspace(out, database_url=None, now=NOW)
    assert not (out / "kardashev.db").exists() and not (out / "blobs").exists()
    assert (out / "notes.txt").read_text() == "mine"


def test_external_database_keeps_blobs_and_tags_names(tmp_path) -> None:
    out = tmp_path / "demo"
    prepare_workspace(out, database_url=None, now=NOW)
    (out / "blobs").mkdir()
    url = "postgresql+psycopg://user:secret@db.example/prod"
    workspace = prepare_workspace(out, database_url=url, now=NOW)
    assert (out / "blobs").exists()
    assert workspace.run_tag == "demo20260102030405-"
    assert "secret" not in workspace.database_label and "prod" in workspace.database_label


def test_foreign_folder_and_file_are_refused(tmp_path) -> None:
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter.tex").write_text("x")
    with pytest.raises(ConflictError, match="not a Kardashev demo folder"):
        prepare_workspace(tmp_path / "thesis", database_url=None, now=NOW)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        prepare_workspace(tmp_path / "file", database_url=None, now=NOW)
