"""A Numerai-format history folder read era by era as :class:`~kardashev.data.era.Era` objects.

The folder is what ``kardashev data synth`` writes — Numerai's own download layout — or an operator's
own files in that form (the older one-file names in brackets are read too):

========================================  ===================================================================
``validation_predictions.parquet``        required (``predictions.parquet``): index ``id``, ``era``, one
                                          column per model; its eras are the history's
``train`` / ``validation`` / ``live``     at least one: index ``id``, ``era``, the target (``--target``,
``.parquet``                              NaN when unresolved), ``feature_*``; an era is read from the
                                          first of them that holds it
``meta_model.parquet``                    optional: ``numerai_meta_model`` (MMC)
``validation_example_preds.parquet``      optional (``example_predictions.parquet``): ``prediction``, the
                                          benchmark (BMC)
``operator.parquet``                      optional: the fund's data — exposures, ``specific_variance``,
                                          ``adv``, ``residual_return`` (else ``return``) — for TC and
                                          True Return
``manifest.json``                         optional: ``models`` (name, stake), ``factor_covariance``,
                                          ``exposure_names``
========================================  ===================================================================

An era's stocks are the ids of the predictions — restricted to those in ``operator.parquet`` when it
is given, since the fund trades only stocks it has data for. Targets, meta model, benchmark and
features missing for a stock (or a whole era) are NaN or absent, and the scores that need them are
not computed for that era (an era whose target is unresolved gets TC and True Return only). The
factor risk model is ``B F Bᵀ + diag(d)`` with the exposures as loadings ``B``, ``F`` from the
manifest and ``d`` the specific variance. Memory holds one era.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kardashev.data.era import Era, EraRisk
from kardashev.data.numerai import META_MODEL_COLUMN
from kardashev.data.parquet import iter_eras, list_eras
from kardashev.errors import DataFormatError, NotFoundError

__all__ = ["History", "open_history"]

_NOT_VALUES = frozenset({"id", "era", "data_type"})
_PREDICTIONS = ("validation_predictions.parquet", "predictions.parquet")
_DATA = ("train.parquet", "validation.parquet", "live.parquet")
_BENCHMARK = ("validation_example_preds.parquet", "example_predictions.parquet")
_META_MODEL = "meta_model.parquet"
_OPERATOR_SPECIAL = frozenset({"specific_variance", "adv", "return", "residual_return"})
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class History:
    """An opened history folder: its eras, models, stakes and which inputs it has."""

    directory: Path
    eras: tuple[str, ...]
    model_names: tuple[str, ...]
    stakes: np.ndarray | None
    target: str
    feature_names: tuple[str, ...]
    exposure_names: tuple[str, ...]
    returns_column: str | None
    factor_covariance: np.ndarray | None
    predictions_file: str
    data_files: tuple[str, ...]
    meta_model_file: str | None
    benchmark_file: str | None

    @property
    def has_operator(self) -> bool:
        return self.returns_column is not None

    def iter_eras(self, eras: Sequence[str] | None = None) -> Iterator[Era]:
        """Yield the chosen eras (default all), in the order given, one :class:`Era` at a time."""
        wanted = list(self.eras) if eras is None else [str(e) for e in eras]
        if not wanted:
            return
        sources = {
            "predictions": _Source(self.directory, (self.predictions_file,), list(self.model_names), wanted),
            "data": _Source(self.directory, self.data_files, [self.target, *self.feature_names], wanted),
        }
        if self.meta_model_file is not None:
            sources["meta"] = _Source(self.directory, (self.meta_model_file,), [META_MODEL_COLUMN], wanted)
        if self.benchmark_file is not None:
            sources["benchmark"] = _Source(self.directory, (self.benchmark_file,), ["prediction"], wanted)
        if self.returns_column is not None:  # the operator's file
            columns = [*self.exposure_names, "adv", self.returns_column]
            if self.factor_covariance is not None:
                columns.append("specific_variance")
            sources["operator"] = _Source(self.directory, ("operator.parquet",), columns, wanted)
        for label in wanted:
            frames = {name: source.frame(label) for name, source in sources.items()}
            yield self._era(label, {name: frame for name, frame in frames.items() if frame is not None})

    def _era(self, label: str, frames: dict[str, pd.DataFrame]) -> Era:
        predictions = frames.get("predictions")
        if predictions is None:
            raise NotFoundError(f"{self.predictions_file}: no era {label}")
        if not predictions.index.is_unique:
            raise DataFormatError(
                f"{self.predictions_file}: era {label} repeats stock ids", code="duplicate_ids"
            )
        ids = predictions.index
        operator = frames.get("operator")
        if operator is not None:
            if not operator.index.is_unique:
                raise DataFormatError(
                    f"operator.parquet: era {label} repeats stock ids", code="duplicate_ids"
                )
            ids = ids[ids.isin(operator.index)]
            if len(ids) < 2:
                raise DataFormatError(
                    f"era {label}: fewer than 2 stocks are both predicted and in operator.parquet",
                    code="mismatched_ids",
                )
            operator = operator.reindex(ids)
        arrays: dict[str, object] = {
            "predictions": predictions[list(self.model_names)].reindex(ids).to_numpy(dtype=np.float64),
            "model_names": self.model_names,
        }
        data = frames.get("data")
        if data is not None:
            if not data.index.is_unique:
                raise DataFormatError(f"era {label}: the data file repeats stock ids", code="duplicate_ids")
            data = data.reindex(ids)
            target = data[self.target].to_numpy(dtype=np.float64)
            if not np.isnan(target).all():  # unresolved (live): no target-based scores
                arrays["target"] = target
            if self.feature_names:
                arrays["features"] = data[list(self.feature_names)].to_numpy(dtype=np.float64)
                arrays["feature_names"] = self.feature_names
        if self.stakes is not None:
            arrays["stakes"] = self.stakes
        for name, column in (("meta", META_MODEL_COLUMN), ("benchmark", "prediction")):
            if name in frames:
                key = "meta_model" if name == "meta" else "benchmark"
                arrays[key] = frames[name][column].reindex(ids).to_numpy(dtype=np.float64)
        if operator is not None:
            exposures = operator[list(self.exposure_names)].to_numpy(dtype=np.float64)
            arrays["exposures"] = exposures
            arrays["exposure_names"] = self.exposure_names
            arrays["adv"] = operator["adv"].to_numpy(dtype=np.float64)
            arrays["realized_returns"] = operator[str(self.returns_column)].to_numpy(dtype=np.float64)
            if self.factor_covariance is not None:
                arrays["risk"] = EraRisk(
                    exposures,
                    self.factor_covariance,
                    operator["specific_variance"].to_numpy(dtype=np.float64),
                )
        return Era.build(label, ids.astype(str), **arrays)


class _Source:
    """One input read from one or more files, each streaming (in order) the wanted eras it holds."""

    def __init__(self, directory: Path, files: Sequence[str], columns: list[str], wanted: list[str]) -> None:
        self.where: dict[str, str] = {}
        self.streams: dict[str, Iterator[tuple[str, pd.DataFrame]]] = {}
        for name in files:
            held = set(list_eras(directory / name))
            mine = [era for era in wanted if era in held and era not in self.where]
            self.where.update(dict.fromkeys(mine, name))
            if mine:
                self.streams[name] = iter_eras(directory / name, columns=columns, eras=mine)

    def frame(self, label: str) -> pd.DataFrame | None:
        """The era's frame, or ``None`` when no file holds it (eras must be asked in order)."""
        name = self.where.get(label)
        if name is None:
            return None
        era, frame = next(self.streams[name])
        if era != label:  # pragma: no cover - iter_eras yields in the order asked
            raise DataFormatError(f"{name}: era {era} where {label} was expected")
        return frame


def _manifest(directory: Path) -> dict:
    path = directory / "manifest.json"
    if not path.exists():
        return {}
    if path.stat().st_size > _MAX_MANIFEST_BYTES:
        raise DataFormatError(f"{path.name} is larger than {_MAX_MANIFEST_BYTES} bytes", code="bad_file")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(f"{path.name} is not valid JSON: {exc}", code="bad_file") from exc
    if not isinstance(manifest, dict):
        raise DataFormatError(f"{path.name} must hold a JSON object", code="bad_file")
    return manifest


def _stakes(manifest: dict, model_names: tuple[str, ...]) -> np.ndarray | None:
    models = manifest.get("models")
    if models is None:
        return None
    try:
        by_name = {str(m["name"]): float(m["stake"]) for m in models}
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(
            "manifest.json: 'models' must be a list of {name, stake}", code="bad_manifest"
        ) from exc
    missing = [name for name in model_names if name not in by_name]
    if missing:
        raise DataFormatError(f"manifest.json: no stake for model(s) {missing[:5]}", code="bad_manifest")
    stakes = np.array([by_name[name] for name in model_names])
    if not np.isfinite(stakes).all() or (stakes < 0).any():
        raise DataFormatError("manifest.json: stakes must be finite and >= 0", code="bad_manifest")
    return stakes


def _columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path.name} is not a readable parquet file: {exc}", code="bad_file") from exc


def _first(folder: Path, names: Sequence[str]) -> str | None:
    return next((name for name in names if (folder / name).exists()), None)


def open_history(directory: str | Path, *, target: str = "target") -> History:
    """Open a history folder (see the module docstring); reads only schemas and the manifest."""
    folder = Path(directory)
    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder")
    predictions_file = _first(folder, _PREDICTIONS)
    if predictions_file is None:
        raise NotFoundError(f"{folder}: no {' or '.join(_PREDICTIONS)}")
    model_names = tuple(c for c in _columns(folder / predictions_file) if c not in _NOT_VALUES)
    if not model_names:
        raise DataFormatError(f"{predictions_file} has no model column", code="missing_column")
    data_files = [name for name in _DATA if (folder / name).exists()]
    if not data_files:
        raise NotFoundError(f"{folder}: no {', '.join(_DATA)}")
    data_columns = {name: _columns(folder / name) for name in data_files}
    data_files = [name for name in data_files if target in data_columns[name]]
    if not data_files:
        raise DataFormatError(
            f"no target column {target!r} in {', '.join(data_columns)}", code="missing_column"
        )
    features = [c for c in data_columns[data_files[0]] if c.startswith("feature_")]
    features = [c for c in features if all(c in data_columns[name] for name in data_files)]
    manifest = _manifest(folder)
    returns_column: str | None = None
    exposure_names: tuple[str, ...] = ()
    factor_covariance = None
    if (folder / "operator.parquet").exists():
        operator_columns = _columns(folder / "operator.parquet")
        returns_column = next((c for c in ("residual_return", "return") if c in operator_columns), None)
        if returns_column is None or "adv" not in operator_columns:
            raise DataFormatError(
                "operator.parquet needs 'adv' and 'residual_return' (or 'return')", code="missing_column"
            )
        named = manifest.get("exposure_names")
        exposure_names = (
            tuple(str(n) for n in named)
            if isinstance(named, list)
            else tuple(c for c in operator_columns if c not in _NOT_VALUES | _OPERATOR_SPECIAL)
        )
        missing = [n for n in exposure_names if n not in operator_columns]
        if missing:
            raise DataFormatError(
                f"operator.parquet lacks exposure column(s) {missing[:5]}", code="missing_column"
            )
        if "factor_covariance" in manifest and "specific_variance" in operator_columns:
            try:
                factor_covariance = np.asarray(manifest["factor_covariance"], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataFormatError(
                    "manifest.json: factor_covariance is not a matrix", code="bad_manifest"
                ) from exc
            k = len(exposure_names)
            if factor_covariance.shape != (k, k):
                raise DataFormatError(
                    f"manifest.json: factor_covariance has shape {factor_covariance.shape}, "
                    f"expected ({k}, {k}) for the exposures",
                    code="bad_manifest",
                )
    return History(
        directory=folder,
        eras=tuple(list_eras(folder / predictions_file)),
        model_names=model_names,
        stakes=_stakes(manifest, model_names),
        target=target,
        feature_names=tuple(features),
        exposure_names=exposure_names,
        returns_column=returns_column,
        factor_covariance=factor_covariance,
        predictions_file=predictions_file,
        data_files=tuple(data_files),
        meta_model_file=_META_MODEL if (folder / _META_MODEL).exists() else None,
        benchmark_file=_first(folder, _BENCHMARK),
    )
