"""Backfill: every score of every model on every era of a history, resumable, on any executor.

For each era of a history folder (:mod:`kardashev.contribution.history`): CORR, MMC, BMC and FNC
(whichever the folder's files allow), TC (bagged over ``bags`` stake-dropout draws; needs stakes
and the operator's file) and True Return (each model's own portfolio, net of trading costs). TC's
draws and True Return's models run as work units on the executor
(:mod:`kardashev.contribution.parallel`).

Resumable. Each finished era is written at once, atomically (a temporary file renamed into place),
as one part file in ``FILE.parts/`` next to the output; a backfill started again on the same output
skips the eras that have a part and computes only the others, so a killed backfill continues where
it stopped and no era is computed twice. ``FILE.parts/settings.json`` records what decides the
numbers (eras, models, target, bags, dropout, seed, optimizer); resuming with other settings is
refused rather than mixing two backfills. When every era is done the parts are merged, in era
order, into the tidy output (``era``, ``model``, ``score``, ``value``: one row per era × model ×
score) and the parts folder is removed.

Every era's bagged TC draws with a seed derived from ``(seed, crc32(era))``, so an era's numbers
do not depend on which eras ran before it in this run.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import numpy as np
import pandas as pd

from kardashev.contribution.history import History, open_history
from kardashev.contribution.parallel import DEFAULT_BAGS_PER_UNIT, DEFAULT_MODELS_PER_UNIT
from kardashev.contribution.scores import ContributionOptions, score_era_all
from kardashev.data.era import Era
from kardashev.errors import ConflictError, DataFormatError
from kardashev.execution import Executor, LocalExecutor
from kardashev.portfolio import OptimizerConfig

__all__ = ["SCORES", "BackfillOptions", "BackfillResult", "backfill", "era_scores", "parts_folder"]

#: the scores a backfill writes, in this order
SCORES = ("corr", "mmc", "bmc", "fnc", "tc", "true_return")
T = TypeVar("T")
_SETTINGS = "settings.json"
_FORMAT = 1


@dataclass(frozen=True, kw_only=True)
class BackfillOptions:
    """What a backfill computes (all but the unit sizes are recorded with its parts).

    Attributes
    ----------
    optimizer
        The fund's optimizer for TC and True Return.
    bags, dropout, seed
        TC's stake-dropout draws per era (0: the exact TC), the share dropped, the base seed.
    target
        The target column of ``train.parquet``.
    models_per_unit, bags_per_unit
        Work-unit sizes (see :func:`kardashev.contribution.parallel.era_contributions`).
    """

    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    bags: int = 0
    dropout: float = 0.5
    seed: int = 0
    target: str = "target"
    models_per_unit: int = DEFAULT_MODELS_PER_UNIT
    bags_per_unit: int = DEFAULT_BAGS_PER_UNIT


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill did: the output, every era, and which of them this run computed."""

    out: Path
    eras: tuple[str, ...]
    computed: tuple[str, ...]
    resumed: tuple[str, ...]
    rows: int


def era_seed(seed: int, era: str) -> int:
    """The era's own seed for TC's draws (from ``seed`` and the era's label), whatever ran before it."""
    sequence = np.random.SeedSequence([int(seed), zlib.crc32(era.encode("utf-8"))])
    return int(sequence.generate_state(1, dtype=np.uint64)[0])


def era_scores(era: Era, *, options: BackfillOptions, executor: Executor | None = None) -> pd.DataFrame:
    """Every score of every model on one era, as tidy rows ``era, model, score, value``.

    The one place a backfill computes an era: the registered scores of :data:`SCORES` that the
    era's inputs allow (:func:`kardashev.contribution.scores.score_era_all`), TC's draws and True
    Return's models as work units on ``executor``.
    """
    contribution = ContributionOptions(
        optimizer_config=options.optimizer,
        tc_bags=options.bags,
        tc_dropout=options.dropout,
        tc_seed=era_seed(options.seed, era.era),
        models_per_unit=options.models_per_unit,
        bags_per_unit=options.bags_per_unit,
    )
    executor = LocalExecutor() if executor is None else executor
    values = score_era_all(era, SCORES, options=contribution, executor=executor, only_available=True)
    names = [name for name in SCORES if name in values]
    n_models = era.n_models
    return pd.DataFrame(
        {
            "era": np.full(n_models * len(names), era.era, dtype=object),
            "model": np.tile(np.asarray(era.model_names, dtype=object), len(names)),
            "score": np.repeat(np.asarray(names, dtype=object), n_models),
            "value": np.concatenate([np.asarray(values[name], dtype=np.float64) for name in names])
            if names
            else np.zeros(0),
        }
    )


def parts_folder(out: str | Path) -> Path:
    """Where a backfill into ``out`` keeps its finished eras: ``out`` + ``.parts``."""
    path = Path(out)
    return path.with_name(path.name + ".parts")


def _part_name(era: str) -> str:
    return quote(era, safe="") + ".parquet"


def _settings(history: History, options: BackfillOptions) -> dict:
    return {
        "format": _FORMAT,
        "eras": list(history.eras),
        "models": list(history.model_names),
        "target": options.target,
        "bags": int(options.bags),
        "dropout": float(options.dropout),
        "seed": int(options.seed),
        "optimizer": asdict(options.optimizer),
    }


def _write_atomically(path: Path, write: Callable[[Path], T]) -> T:
    """Write through a temporary file in the same folder, flushed to disk, then renamed over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        result = write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return result
    finally:
        temporary.unlink(missing_ok=True)


def _prepare_parts(parts: Path, settings: dict) -> None:
    """Create the parts folder with its settings, or check a resumed one's settings match."""
    recorded = parts / _SETTINGS
    if recorded.exists():
        try:
            previous = json.loads(recorded.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            previous = None
        if previous != json.loads(json.dumps(settings)):
            changed = (
                sorted(k for k in settings if previous.get(k) != settings[k])
                if isinstance(previous, dict)
                else ["the settings file"]
            )
            raise ConflictError(
                f"{parts} holds a backfill with other {', '.join(changed)}: resume with the same "
                f"settings, or delete {parts.name} to start over",
                code="backfill_settings_changed",
            )
    else:
        parts.mkdir(parents=True, exist_ok=True)
        _write_atomically(recorded, lambda path: path.write_text(json.dumps(settings, indent=1)))
    for leftover in parts.glob(".*.tmp-*"):  # a run killed while writing
        leftover.unlink(missing_ok=True)


def backfill(
    data: str | Path,
    out: str | Path,
    *,
    options: BackfillOptions | None = None,
    executor: Executor | None = None,
    on_era: Callable[[int, int, str | None], None] | None = None,
) -> BackfillResult:
    """Backfill every era of the history folder ``data`` into the parquet file ``out``.

    ``on_era(done, total, era)`` is called once before the first era (``era`` ``None``, ``done``
    the eras already finished by an earlier run) and after each era this run computes.
    """
    options = BackfillOptions() if options is None else options
    out = Path(out)
    if out.suffix.lower() not in (".parquet", ".pq"):
        raise DataFormatError(
            f"the backfill writes parquet: {out.name} must end in .parquet", code="bad_file"
        )
    history = open_history(data, target=options.target)
    parts = parts_folder(out)
    _prepare_parts(parts, _settings(history, options))
    finished = {path.name for path in parts.glob("*.parquet")}
    resumed = tuple(era for era in history.eras if _part_name(era) in finished)
    todo = [era for era in history.eras if _part_name(era) not in finished]
    total = len(history.eras)
    if on_era is not None:
        on_era(len(resumed), total, None)
    executor = LocalExecutor() if executor is None else executor
    computed: list[str] = []
    for era in history.iter_eras(todo):
        frame = era_scores(era, options=options, executor=executor)
        _write_atomically(parts / _part_name(era.era), partial(_write_frame, frame))
        computed.append(era.era)
        if on_era is not None:
            on_era(len(resumed) + len(computed), total, era.era)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = _write_atomically(out, partial(_merge, parts, history.eras))
    shutil.rmtree(parts)
    return BackfillResult(out, history.eras, tuple(computed), resumed, rows)


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _merge(parts: Path, eras: tuple[str, ...], path: Path) -> int:
    """Concatenate the eras' parts into one parquet file, one row group per era (memory: one era)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("era", pa.string()), ("model", pa.string()), ("score", pa.string()), ("value", pa.float64())]
    )
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for era in eras:
            table = pq.read_table(parts / _part_name(era)).select(schema.names).cast(schema)
            writer.write_table(table.replace_schema_metadata(None))
            rows += table.num_rows
    return rows
