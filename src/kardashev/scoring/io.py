"""Scoring inputs from Numerai's own files, as participants download them, for ``kardashev score``.

Layouts read (see :mod:`kardashev.data.layout`): Classic v5 ``train`` / ``validation`` /
``live.parquet`` (``id``, ``era``, ``data_type``, ``feature_*``, several ``target*`` with NaN in
unresolved eras), ``features.json`` (``feature_sets`` and ``targets``), predictions (``id`` (+
``era``) and ``prediction`` or one column per model, or a long ``id, era, model, prediction``
table), ``meta_model.parquet`` (``numerai_meta_model``) and ``validation_benchmark_models.parquet``
(one column per benchmark model); Signals v2.1 data keyed by ``numerai_ticker`` or
``composite_figi`` and ``date`` (or ``friday_date``), with ``validation_neutralizer.parquet`` and
``validation_sample_weights.parquet`` for alpha.

Eras whose target is all NaN (not resolved yet) are skipped and listed in
:attr:`ScoringInputs.unresolved`; ``data_type`` selects rows; several targets are scored in one
pass over the data. Everything is checked before scoring starts; a bad file raises a
:class:`~kardashev.errors.DataFormatError` naming the file and the problem (codes
``missing_column``, ``nan_ids``, ``duplicate_ids``, ``unknown_ids``, ``wrong_era``, ``wrong_dtype``,
``bad_file``, ``no_targets``). The data file is streamed one era at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.data.keys import (
    check_numeric,
    check_prediction_keys,
    keyed,
    keys_layout,
    select_data_type,
    value_columns,
)
from kardashev.data.layout import (
    FileLayout,
    file_layout,
    iter_key_eras,
    match_target_column,
    numeric_columns,
    read_table,
)
from kardashev.errors import ConfigError, DataFormatError, NotFoundError, examples

__all__ = [
    "ScoringEra",
    "ScoringInputs",
    "live_universe",
    "open_scoring_inputs",
    "read_table",
]

_PREDICTION_NAMES = ("prediction", "probability", "signal")
_REFERENCE_NAMES = ("numerai_meta_model", "prediction", "probability", "signal")


def _read_predictions(path: Path, data: FileLayout) -> tuple[pd.DataFrame, list[str]]:
    name = path.name
    layout = keys_layout(path, data)
    frame = read_table(path)
    if "model" in frame.columns:  # long table id, era, model, prediction
        value = next((c for c in _PREDICTION_NAMES if c in frame.columns), None)
        if value is None:
            raise DataFormatError(
                f"{name}: a 'model' column needs a 'prediction' column", code="missing_column"
            )
        keys = [c for c in (layout.era_column, layout.id_column) if c is not None]
        if frame.duplicated([*keys, "model"]).any():
            raise DataFormatError(f"{name}: an id appears twice for the same model", code="duplicate_ids")
        frame = frame.pivot(index=keys, columns="model", values=value).reset_index()
        frame.columns.name = None
    keys = [c for c in (layout.id_column, layout.era_column) if c is not None]
    models = [c for c in frame.columns if c not in keys and c in value_columns(frame.columns)]
    if not models:
        raise DataFormatError(
            f"{name}: no prediction column (expected 'prediction' or model columns)", code="missing_column"
        )
    check_numeric(frame, models, name)
    frame = keyed(frame[[*keys, *models]], layout, name)
    return frame, [str(m) for m in models]


def _reference_columns(
    path: Path,
    label: str,
    values: Sequence[str],
    targets: Sequence[str],
    column: str | None,
    alias: Mapping[str, str],
) -> dict[str, str]:
    """The value column of a meta-model / benchmark file for each scored target."""
    if column is not None:
        if column not in values:
            raise DataFormatError(
                f"{path.name}: no column {column!r}; {len(values)} value column(s): {examples(values)}",
                code="missing_column",
            )
        return dict.fromkeys(targets, column)
    named = next((c for c in _REFERENCE_NAMES if c in values), None)
    if named is not None or len(values) == 1:
        return dict.fromkeys(targets, named or values[0])
    chosen = {}
    for target in targets:
        match = match_target_column(values, target) or match_target_column(values, alias.get(target, target))
        if match is None:
            raise DataFormatError(
                f"{path.name}: the {label} file has {len(values)} columns ({examples(values)}), none "
                f"made for {target!r}; choose one with --{label.replace('_', '-')}-column",
                code="missing_column",
            )
        chosen[target] = match
    return chosen


def _read_reference(
    path: Path,
    label: str,
    data: FileLayout,
    targets: Sequence[str],
    column: str | None,
    alias: Mapping[str, str],
) -> tuple[pd.DataFrame, dict[str, str]]:
    layout = keys_layout(path, data)
    values = value_columns(layout.columns)
    named = any(c in values for c in _REFERENCE_NAMES)
    if label == "meta_model" and column is None and not named and len(values) != 1:
        raise DataFormatError(
            f"{path.name}: a meta model needs one value column (numerai_meta_model, prediction); "
            f"it has {len(values)}: {examples(values)}",
            code="missing_column",
        )
    chosen = _reference_columns(path, label, values, targets, column, alias)
    used = list(dict.fromkeys(chosen.values()))
    keys = [c for c in (layout.id_column, layout.era_column) if c is not None]
    frame = read_table(path, columns=[*keys, *used])
    check_numeric(frame, used, path.name)
    return keyed(frame, layout, path.name), chosen


def _features_json(data_path: Path) -> dict | None:
    path = data_path.parent / "features.json"
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text())
        if not isinstance(payload.get("feature_sets"), dict):
            raise TypeError("'feature_sets' is not a mapping")
    except (json.JSONDecodeError, AttributeError, TypeError) as exc:
        raise DataFormatError(f"{path.name} is not a features.json file ({exc!r})", code="bad_file") from None
    return payload


def _feature_names(data_path: Path, feature_set: str | None, layout: FileLayout) -> list[str]:
    if feature_set is None:
        return []
    if feature_set == "all":  # every numeric feature (Signals' country and exchange codes are text)
        features = numeric_columns(data_path, layout.features) if layout.features else []
        if not features:
            raise DataFormatError(f"{data_path.name}: no numeric feature_* columns", code="missing_column")
        return features
    payload = _features_json(data_path)
    if payload is None:
        raise NotFoundError(
            f"--features {feature_set!r} needs {data_path.parent / 'features.json'} (or use --features all)",
            code="file_not_found",
        )
    sets = payload["feature_sets"]
    if feature_set not in sets:
        raise ConfigError(
            f"no feature set {feature_set!r} in features.json; known: {examples(sorted({*sets, 'all'}))}"
        )
    missing = [f for f in sets[feature_set] if f not in layout.columns]
    if missing:
        raise DataFormatError(
            f"{data_path.name}: feature set {feature_set!r} names {len(missing)} column(s) not in the data: "
            f"{examples(missing, limit=3)}",
            code="missing_column",
        )
    return [str(f) for f in sets[feature_set]]


def _targets(data_path: Path, layout: FileLayout, target: str | Sequence[str] | None) -> list[str]:
    if target is None:
        if "target" in layout.targets:
            return ["target"]
        if not layout.targets:
            raise DataFormatError(f"{data_path.name}: no target column (target*)", code="missing_column")
        return [layout.targets[0]]
    wanted = [target] if isinstance(target, str) else list(dict.fromkeys(target))
    missing = [t for t in wanted if t not in layout.columns]
    if missing:
        payload = _features_json(data_path) or {}
        known = [t for t in payload.get("targets", []) if t in layout.columns] or list(layout.targets)
        raise DataFormatError(
            f"{data_path.name}: missing column(s) {missing[:5]}; {len(known)} target(s): {examples(known)}",
            code="missing_column",
        )
    return wanted


@dataclass(frozen=True)
class ScoringEra:
    """One era's inputs for one target; ``neutralizers`` / ``sample_weights`` for Signals alpha."""

    target: str
    inputs: Era
    neutralizers: np.ndarray | None = None
    sample_weights: np.ndarray | None = None


@dataclass(frozen=True)
class ScoringInputs:
    """Checked scoring inputs; :meth:`iter_scoring_eras` streams the data one era at a time.

    Attributes
    ----------
    model_names
        Prediction columns, one per model.
    eras
        Eras scored for at least one target, in data order.
    target_names
        Targets scored (the first is :attr:`target_name`).
    target_eras
        The resolved eras of each target.
    unresolved
        For each target, the predicted eras skipped because the target is all NaN there.
    benchmark_columns
        The benchmark file's column used for each target (empty without a benchmark).
    """

    data_path: Path
    layout: FileLayout
    predictions: pd.DataFrame
    meta_model: pd.DataFrame | None
    benchmark: pd.DataFrame | None
    model_names: tuple[str, ...]
    eras: tuple[str, ...]
    target_names: tuple[str, ...]
    target_eras: Mapping[str, tuple[str, ...]]
    unresolved: Mapping[str, tuple[str, ...]]
    feature_names: tuple[str, ...]
    data_type: str | None = None
    meta_model_column: str | None = None
    benchmark_columns: Mapping[str, str] | None = None
    neutralizer_layout: FileLayout | None = None
    sample_weights_layout: FileLayout | None = None

    @property
    def target_name(self) -> str:
        return self.target_names[0]

    def _side_layouts(self) -> list[FileLayout]:
        return [side for side in (self.neutralizer_layout, self.sample_weights_layout) if side is not None]

    def _data_eras(self) -> Iterator[tuple[str, pd.DataFrame]]:
        # side files keyed by another ticker column of the data are joined through it
        other_keys = [s.id_column for s in self._side_layouts() if s.id_column != self.layout.id_column]
        columns = [*self.target_names, *self.feature_names, *other_keys]
        if self.data_type is not None:
            columns.append("data_type")
        name = self.data_path.name
        for era, frame in iter_key_eras(self.layout, list(dict.fromkeys(columns)), list(self.eras)):
            frame = keyed(frame, self.layout, name, drop_missing=self.layout.kind == "signals")
            yield era, select_data_type(frame, self.data_type, name) if self.data_type is not None else frame

    def _side(self, layout: FileLayout | None) -> Iterator[pd.DataFrame | None]:
        if layout is None:
            while True:
                yield None
        values = value_columns(layout.columns)
        for _, frame in iter_key_eras(layout, values, list(self.eras)):
            yield keyed(frame, layout, layout.path.name, drop_missing=True).set_index("id")[values]

    def iter_scoring_eras(self) -> Iterator[ScoringEra]:
        """Yield, era by era, one :class:`ScoringEra` per target resolved in that era."""
        predictions = self.predictions.set_index(["era", "id"])[list(self.model_names)]
        meta = None if self.meta_model is None else _indexed(self.meta_model)
        bench = None if self.benchmark is None else _indexed(self.benchmark)
        resolved = {t: set(eras) for t, eras in self.target_eras.items()}
        sides = zip(self._side(self.neutralizer_layout), self._side(self.sample_weights_layout), strict=False)
        for (era, frame), (neutral, weights) in zip(self._data_eras(), sides, strict=False):
            ids = frame["id"].to_numpy()
            keys = pd.MultiIndex.from_arrays([np.full(len(ids), era, dtype=object), ids])
            matrix = predictions.reindex(keys).to_numpy(dtype=np.float64)
            features = (
                frame[list(self.feature_names)].to_numpy(dtype=np.float64) if self.feature_names else None
            )
            meta_values = None if meta is None else _lookup(meta, keys, ids)[self.meta_model_column]
            neutralizers = sample_weights = None
            if neutral is not None and self.neutralizer_layout is not None:
                rows = _side_keys(frame, self.neutralizer_layout, self.layout)
                neutralizers = neutral.reindex(rows).to_numpy(dtype=np.float64)
            if weights is not None and self.sample_weights_layout is not None:
                rows = _side_keys(frame, self.sample_weights_layout, self.layout)
                sample_weights = weights.reindex(rows).to_numpy(dtype=np.float64)[:, 0]
            built: Era | None = None  # one checked Era per data era; other targets swap their arrays
            for target in self.target_names:
                if era not in resolved[target]:
                    continue
                bench_values = None
                if bench is not None and self.benchmark_columns:
                    column = _lookup(bench, keys, ids)[self.benchmark_columns[target]]
                    bench_values = column.to_numpy(dtype=np.float64)
                target_values = frame[target].to_numpy(dtype=np.float64)
                if built is None:
                    built = Era.build(
                        era,
                        ids,
                        predictions=matrix,
                        model_names=self.model_names,
                        target=target_values,
                        meta_model=None if meta_values is None else meta_values.to_numpy(dtype=np.float64),
                        benchmark=bench_values,
                        features=features,
                    )
                    inputs = built
                else:  # same rows, float64 arrays of the same length
                    inputs = built.with_(target=target_values, benchmark=bench_values)
                yield ScoringEra(target, inputs, neutralizers, sample_weights)

    def iter_eras(self) -> Iterator[Era]:
        """Yield each era's row-aligned arrays for the first target (NaN where an id has no prediction)."""
        for era in self.iter_scoring_eras():
            if era.target == self.target_name:
                yield era.inputs


def _side_keys(frame: pd.DataFrame, side: FileLayout, data: FileLayout) -> pd.Index:
    """The data rows' keys in a side file's ticker column (``id`` when it is the data's own key)."""
    column = "id" if side.id_column == data.id_column else side.id_column
    return pd.Index(frame[column].astype(object).where(frame[column].notna(), None))


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["era", "id"] if "era" in frame.columns else "id")


def _lookup(frame: pd.DataFrame, keys: pd.MultiIndex, ids: np.ndarray) -> pd.DataFrame:
    return frame.reindex(keys if frame.index.nlevels == 2 else pd.Index(ids))


def _target_alias(layout: FileLayout, keys: pd.DataFrame, targets: Sequence[str]) -> dict[str, str]:
    """For ``target``, the ``target_*`` column holding the same values (Numerai's ``target`` is an alias)."""
    others = [t for t in layout.targets if t != "target"]
    if "target" not in targets or not others:
        return {}
    resolved = keys.loc[keys["target"].notna(), "era"]
    if resolved.empty:
        return {}
    ((_, frame),) = iter_key_eras(layout, ["target", *others], [resolved.iloc[0]])
    same = [t for t in others if frame[t].equals(frame["target"].astype(frame[t].dtype))]
    return {"target": same[0]} if same else {}


def open_scoring_inputs(
    predictions_path: str | Path,
    data_path: str | Path,
    *,
    meta_model_path: str | Path | None = None,
    benchmark_path: str | Path | None = None,
    benchmark_column: str | None = None,
    feature_set: str | None = None,
    target: str | Sequence[str] | None = None,
    data_type: str | None = None,
    neutralizer_path: str | Path | None = None,
    sample_weights_path: str | Path | None = None,
) -> ScoringInputs:
    """Read and check every scoring input (the data itself is streamed later, era by era).

    Parameters
    ----------
    predictions_path, data_path
        Files in Numerai's layouts (parquet or CSV), Classic or Signals.
    meta_model_path, benchmark_path
        Optional meta model / benchmark predictions (for MMC / BMC).
    benchmark_column
        The benchmark file's column; default the column made for each scored target.
    feature_set
        A set named in ``features.json`` next to the data, or ``"all"`` (for FNC and exposures).
    target
        Target column(s) (default ``target``, else the first ``target*`` column).
    data_type
        Score only the rows with this ``data_type`` (``train``, ``validation``).
    neutralizer_path, sample_weights_path
        Signals side files (``validation_neutralizer.parquet``, ``validation_sample_weights.parquet``).
    """
    data_path = Path(data_path)
    layout = file_layout(data_path)
    if layout.kind == "signals":  # key the data by the predictions' ticker column
        ticker = file_layout(predictions_path).id_column
        if ticker != layout.id_column and ticker in layout.columns:
            layout = file_layout(data_path, id_column=ticker)
    if layout.era_column is None:
        raise DataFormatError(f"{data_path.name}: missing column(s) ['era']", code="missing_column")
    targets = _targets(data_path, layout, target)
    features = _feature_names(data_path, feature_set, layout)
    key_columns = [layout.id_column, layout.era_column, *(["data_type"] if layout.has_data_type else [])]
    data_keys = keyed(
        read_table(data_path, columns=[*key_columns, *targets]),
        layout,
        data_path.name,
        drop_missing=layout.kind == "signals",
    )
    check_numeric(data_keys, targets, data_path.name)
    alias = _target_alias(layout, data_keys, targets) if benchmark_path is not None else {}
    predictions_path = Path(predictions_path)
    predictions, models = _read_predictions(predictions_path, layout)
    predictions = check_prediction_keys(predictions, data_keys, predictions_path.name, data_path.name)
    selected = select_data_type(data_keys, data_type, data_path.name)
    predicted = set(predictions["era"])
    data_eras = [str(e) for e in pd.unique(selected["era"]) if e in predicted]
    resolved_by_era = selected.groupby("era", sort=False)[targets].count()
    target_eras = {t: tuple(e for e in data_eras if resolved_by_era.at[e, t] > 0) for t in targets}
    unresolved = {t: tuple(e for e in data_eras if resolved_by_era.at[e, t] == 0) for t in targets}
    if data_eras and not any(target_eras.values()):
        raise DataFormatError(
            f"{data_path.name}: {' and '.join(targets)} not resolved in any predicted era (all NaN)",
            code="no_targets",
        )
    scored = {e for eras in target_eras.values() for e in eras}
    meta = bench = None
    meta_column: str | None = None
    bench_columns: dict[str, str] = {}
    if meta_model_path is not None:
        meta, chosen = _read_reference(Path(meta_model_path), "meta_model", layout, targets[:1], None, alias)
        meta_column = chosen[targets[0]]
    if benchmark_path is not None:
        bench, bench_columns = _read_reference(
            Path(benchmark_path), "benchmark", layout, targets, benchmark_column, alias
        )
    side: dict[str, FileLayout | None] = {}
    for label, path in (("neutralizer", neutralizer_path), ("sample_weights", sample_weights_path)):
        found = None if path is None else keys_layout(Path(path), layout)
        if path is not None and found is not None and not value_columns(found.columns):
            raise DataFormatError(f"{Path(path).name}: no value column", code="missing_column")
        side[label] = found
    return ScoringInputs(
        data_path=data_path,
        layout=layout,
        predictions=predictions,
        meta_model=meta,
        benchmark=bench,
        model_names=tuple(models),
        eras=tuple(e for e in data_eras if e in scored),
        target_names=tuple(targets),
        target_eras=target_eras,
        unresolved=unresolved,
        feature_names=tuple(features),
        data_type=data_type,
        meta_model_column=meta_column,
        benchmark_columns=bench_columns,
        neutralizer_layout=side["neutralizer"],
        sample_weights_layout=side["sample_weights"],
    )


def live_universe(data_path: str | Path, *, data_type: str | None = None) -> tuple[str, list[str]]:
    """``(kind, ids)`` of a live file: ``"classic"`` and its ids, or ``"signals"`` and its tickers.

    Only the key column (and ``data_type``: ``live`` rows if there are any, or ``data_type``'s) is read.
    """
    data_path = Path(data_path)
    layout = file_layout(data_path)
    frame = read_table(
        data_path, columns=[layout.id_column, *(["data_type"] if layout.has_data_type else [])]
    )
    if data_type is None and layout.has_data_type and (frame["data_type"].astype(str) == "live").any():
        data_type = "live"
    frame = select_data_type(frame, data_type, data_path.name)
    return layout.kind, list(pd.unique(frame[layout.id_column].dropna().astype(str)))
