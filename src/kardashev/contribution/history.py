"""A Numerai-format history folder read era by era as :class:`~kardashev.data.era.Era` objects.

The folder is what ``kardashev data synth`` writes (or an operator's own files in the same form):

=============================  =====================================================================
``predictions.parquet``        required: index ``id``, ``era``, one column per model
``train.parquet``              required: index ``id``, ``era``, the target (``--target``), ``feature_*``
``meta_model.parquet``         optional: ``numerai_meta_model`` (MMC)
``example_predictions.parquet``  optional: ``prediction``, the benchmark (BMC)
``operator.parquet``           optional: the fund's data — exposures, ``specific_variance``, ``adv``,
                               ``residual_return`` (else ``return``) — for TC and True Return
``manifest.json``              optional: ``models`` (name, stake), ``factor_covariance``,
                               ``exposure_names``
=============================  =====================================================================

Eras are those of ``predictions.parquet``, in file order; every other file read must hold each of
them (else :class:`~kardashev.errors.NotFoundError` names the file and eras). An era's stocks are
the ids of the predictions — restricted to those in ``operator.parquet`` when it is given, since
the fund trades only stocks it has data for. Targets, meta model, benchmark and features missing
for a stock are NaN (the scorers drop such rows). The factor risk model is ``B F Bᵀ + diag(d)``
with the exposures as loadings ``B``, ``F`` from the manifest and ``d`` the specific variance.
Memory holds one era.
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
    has_meta_model: bool
    has_benchmark: bool

    @property
    def has_operator(self) -> bool:
        return self.returns_column is not None

    def _path(self, name: str) -> Path:
        return self.directory / name

    def iter_eras(self, eras: Sequence[str] | None = None) -> Iterator[Era]:
        """Yield the chosen eras (default all), in the order given, one :class:`Era` at a time."""
        wanted = list(self.eras) if eras is None else [str(e) for e in eras]
        if not wanted:
            return
        streams = {
            "predictions": iter_eras(
                self._path("predictions.parquet"), columns=list(self.model_names), eras=wanted
            ),
            "train": iter_eras(
                self._path("train.parquet"), columns=[self.target, *self.feature_names], eras=wanted
            ),
        }
        if self.has_meta_model:
            streams["meta"] = iter_eras(
                self._path("meta_model.parquet"), columns=[META_MODEL_COLUMN], eras=wanted
            )
        if self.has_benchmark:
            streams["benchmark"] = iter_eras(
                self._path("example_predictions.parquet"), columns=["prediction"], eras=wanted
            )
        if self.returns_column is not None:  # the operator's file
            columns = [*self.exposure_names, "adv", self.returns_column]
            if self.factor_covariance is not None:
                columns.append("specific_variance")
            streams["operator"] = iter_eras(self._path("operator.parquet"), columns=columns, eras=wanted)
        for label in wanted:
            frames = {}
            for name, stream in streams.items():
                era, frame = next(stream)
                if era != label:  # pragma: no cover - iter_eras yields in the order asked
                    raise DataFormatError(f"{name}: era {era} where {label} was expected")
                frames[name] = frame
            yield self._era(label, frames)

    def _era(self, label: str, frames: dict[str, pd.DataFrame]) -> Era:
        predictions = frames["predictions"]
        if not predictions.index.is_unique:
            raise DataFormatError(f"predictions.parquet: era {label} repeats stock ids", code="duplicate_ids")
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
        train = frames["train"]
        if not train.index.is_unique:
            raise DataFormatError(f"train.parquet: era {label} repeats stock ids", code="duplicate_ids")
        train = train.reindex(ids)
        target = train[self.target].to_numpy(dtype=np.float64)
        arrays: dict[str, object] = {
            "predictions": predictions[list(self.model_names)].reindex(ids).to_numpy(dtype=np.float64),
            "model_names": self.model_names,
            "target": None if np.isnan(target).all() else target,  # a live era: no target-based scores
        }
        if self.stakes is not None:
            arrays["stakes"] = self.stakes
        if self.feature_names:
            arrays["features"] = train[list(self.feature_names)].to_numpy(dtype=np.float64)
            arrays["feature_names"] = self.feature_names
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


def open_history(directory: str | Path, *, target: str = "target") -> History:
    """Open a history folder (see the module docstring); reads only schemas and the manifest."""
    folder = Path(directory)
    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder")
    for required in ("predictions.parquet", "train.parquet"):
        if not (folder / required).exists():
            raise NotFoundError(f"{folder}: no {required}")
    model_names = tuple(c for c in _columns(folder / "predictions.parquet") if c not in _NOT_VALUES)
    if not model_names:
        raise DataFormatError("predictions.parquet has no model column", code="missing_column")
    train_columns = _columns(folder / "train.parquet")
    if target not in train_columns:
        raise DataFormatError(f"train.parquet has no target column {target!r}", code="missing_column")
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
        eras=tuple(list_eras(folder / "predictions.parquet")),
        model_names=model_names,
        stakes=_stakes(manifest, model_names),
        target=target,
        feature_names=tuple(c for c in train_columns if c.startswith("feature_")),
        exposure_names=exposure_names,
        returns_column=returns_column,
        factor_covariance=factor_covariance,
        has_meta_model=(folder / "meta_model.parquet").exists(),
        has_benchmark=(folder / "example_predictions.parquet").exists(),
    )
