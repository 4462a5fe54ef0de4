"""The demo's folder: a fresh data directory with its SQLite database, blobs and the report.

``kardashev demo`` writes into ``--out`` (default ``./kardashev-demo``). The folder is marked as a demo
folder; running the demo again into a marked folder replaces the previous run's database, blobs and
report (with ``--db``, the blobs stay: the external database's earlier runs refer to them). A folder
that exists, is not empty and is not marked is never touched (an error says so).
With ``--db URL`` (e.g. PostgreSQL) the demo adds its accounts, models and rounds next to whatever is
there: names carry a run tag and round numbers continue after the last existing round.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from kardashev.errors import ConfigError, ConflictError
from kardashev.store import Store, default_database_url, open_store

__all__ = ["MARKER", "Workspace", "open_demo_store", "prepare_workspace"]

MARKER = ".kardashev-demo"
_OWN_FILES = ("kardashev.db", "kardashev.db-wal", "kardashev.db-shm", "report.html", MARKER)
_OWN_FOLDERS = ("blobs",)


@dataclass(frozen=True)
class Workspace:
    """Where one demo run writes: ``out`` folder, database URL, name tag for a shared database."""

    out: Path
    database_url: str
    run_tag: str
    embedded: bool

    @property
    def database_label(self) -> str:
        """The database in words, without credentials."""
        if self.embedded:
            return f"embedded SQLite ({self.out / 'kardashev.db'})"
        url = make_url(self.database_url)
        return f"{url.get_backend_name()} database {url.database or ''} on {url.host or 'localhost'}"

    def first_round(self, service: object) -> int:
        """Number of the season's first round: 1 on a fresh database, else after the last one."""
        rounds = service.list_rounds()  # type: ignore[attr-defined]
        return 1 + max((r.number for r in rounds), default=0)


def prepare_workspace(out: Path, *, database_url: str | None, now: dt.datetime | None = None) -> Workspace:
    """Create or reset the demo folder ``out`` (see the module docstring)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise ConflictError(
                f"folder {out} exists and is not a Kardashev demo folder; choose another with --out",
                code="out_not_demo_folder",
            )
        for name in _OWN_FILES:
            (out / name).unlink(missing_ok=True)
        if database_url is None:  # blobs of an external database stay: its earlier runs refer to them
            for name in _OWN_FOLDERS:
                shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Kardashev demo folder: `kardashev demo` replaces its contents.\n")
    if database_url is None:
        return Workspace(out=out, database_url=default_database_url(out), run_tag="", embedded=True)
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%d%H%M%S")
    return Workspace(out=out, database_url=database_url, run_tag=f"demo{stamp}-", embedded=False)


def open_demo_store(workspace: Workspace) -> Store:
    """Open (creating and migrating) the workspace's database, blobs in the ``out`` folder."""
    return open_store(workspace.database_url, data_dir=workspace.out)
