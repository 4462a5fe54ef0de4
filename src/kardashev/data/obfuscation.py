"""From raw per-stock data to a publishable, obfuscated dataset — and the operator's way back.

Input (per era): a frame with a ticker column, raw numeric feature columns and raw target
columns (forward returns), for one date. Output: Numerai-style rows — an id, the era label,
features ranked within the era and binned to ``0..4`` (int8) under anonymous names, targets
binned to ``0, .25, .5, .75, 1`` (5 / 20 / 50 / 20 / 5 %) — plus an operator-side mapping
``(era, id) → ticker`` for scoring submissions against real returns.

How
---
* **ids** are ``"n" + HMAC-SHA256(key, era ‖ ticker)[:15 hex]``: without the key, an id cannot
  be computed from a ticker, ids of one stock in two eras are unrelated, and HMAC is one-way.
  The operator, holding the key, recomputes them for the known universe (:meth:`Obfuscator.link`).
* **feature names** are ``"feature_" + HMAC(key, raw name)[:12 hex]``, stable across eras (so a
  model can be trained on history) but not guessable from a list of candidate raw names; the
  column order is shuffled by the key as well.
* **values**: each feature is replaced by its within-era quantile bin, so scales, units, levels
  and outliers of the raw data are not published; missing raw values go to the middle bin 2.
* **era labels** are week numbers counted from an ``epoch`` date kept by the operator, not dates.

What it does NOT protect (be honest with data vendors)
------------------------------------------------------
* Rows can be **matched across eras by similarity**: slow-moving features (size, value …) keep a
  stock's binned vector nearly the same from week to week, so nearest-neighbour matching links
  ids across eras and rebuilds a stock's history, although not its ticker.
* With **public data** an attacker can rank public quantities (market cap, past returns) per
  week and match them to features that track them, re-identifying stocks; binning slows this,
  it does not prevent it. Features that are public transforms should be assumed recoverable.
* **Small universes leak**: with few stocks per era, bins hold few names and the matching above
  becomes easy; the number of rows per era itself reveals the universe size.
* Targets are realized future returns: once the period is over, anyone with prices can try
  to match binned targets to realized returns.
* The **key** is the whole secret: if it leaks, every id maps back to its ticker. Keep it with
  the operator, never in the published folder, and rotate it per dataset version if needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from kardashev.data.binning import bin_features, bin_targets
from kardashev.data.numerai import classic_writer, write_features_json
from kardashev.data.parquet import EraParquetWriter
from kardashev.errors import ConfigError, DataFormatError

__all__ = ["ObfuscationKey", "Obfuscator", "PublishedEra", "obfuscated_ids"]


@dataclass(frozen=True, repr=False)
class ObfuscationKey:
    """The operator's secret (at least 16 bytes). ``repr`` never shows it."""

    secret: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < 16:
            raise ConfigError("an obfuscation key needs at least 16 bytes of secret")

    @classmethod
    def generate(cls) -> ObfuscationKey:
        """A fresh random 32-byte key."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_hex(cls, text: str) -> ObfuscationKey:
        """A key from its hex string (as stored by the operator)."""
        try:
            return cls(bytes.fromhex(text.strip()))
        except ValueError:
            raise ConfigError("the obfuscation key is not a hex string") from None

    def hex(self) -> str:
        """The key as hex, for the operator's safe storage."""
        return self.secret.hex()

    def __repr__(self) -> str:
        return "ObfuscationKey(<secret>)"

    def digest(self, *parts: str) -> str:
        """HMAC-SHA256 of the parts (joined by a unit separator), as hex."""
        message = "\x1f".join(parts).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


def obfuscated_ids(key: ObfuscationKey, era: str, tickers: Sequence[str]) -> np.ndarray:
    """Published ids of ``tickers`` in ``era``: ``"n" + HMAC-SHA256(key, era ‖ ticker)[:15]``."""
    return np.array(["n" + key.digest("id", era, str(t))[:15] for t in tickers], dtype=object)


@dataclass(frozen=True, eq=False)
class PublishedEra:
    """One published era (``frame``: index ``id``) and the operator's mapping (``id → ticker``)."""

    era: str
    frame: pd.DataFrame
    mapping: pd.DataFrame


@dataclass(frozen=True)
class Obfuscator:
    """Publishes raw eras under one key, one feature naming and one era numbering.

    Parameters
    ----------
    key
        The operator's secret.
    raw_features, raw_targets
        Columns of the raw frames to publish as features / targets. Targets are published as
        ``"target"`` (the first) and ``"target_<k>"`` (others, by position, not by raw name).
    epoch
        Date of era ``"0001"``; an era is the week number since it.
    ticker_column
        Name of the ticker column in raw frames.
    """

    key: ObfuscationKey
    raw_features: tuple[str, ...]
    raw_targets: tuple[str, ...] = ()
    epoch: dt.date = dt.date(2000, 1, 7)
    ticker_column: str = "ticker"
    feature_map: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.raw_features:
            raise ConfigError("an Obfuscator needs at least one raw feature column")
        if len(set(self.raw_features)) != len(self.raw_features):
            raise ConfigError("raw feature columns are repeated")
        names = {raw: "feature_" + self.key.digest("feature", raw)[:12] for raw in self.raw_features}
        if len(set(names.values())) != len(names):  # astronomically unlikely; never publish a clash
            raise ConfigError("feature name collision; use another key")
        order = sorted(self.raw_features, key=lambda raw: self.key.digest("order", raw))
        object.__setattr__(self, "feature_map", {raw: names[raw] for raw in order})

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Published feature names, in published column order."""
        return tuple(self.feature_map.values())

    @property
    def target_names(self) -> tuple[str, ...]:
        """Published target names."""
        return tuple("target" if k == 0 else f"target_{k}" for k in range(len(self.raw_targets)))

    def era_label(self, date: dt.date) -> str:
        """Era label of a date: weeks since ``epoch``, plus one, as four digits."""
        days = (pd.Timestamp(date).date() - self.epoch).days
        if days < 0:
            raise DataFormatError(f"date {date} is before the epoch {self.epoch}", code="bad_date")
        return f"{days // 7 + 1:04d}"

    def _validate(self, raw: pd.DataFrame, date: dt.date) -> None:
        required = [self.ticker_column, *self.raw_features, *self.raw_targets]
        missing = [c for c in required if c not in raw.columns]
        if missing:
            raise DataFormatError(f"raw data of {date}: missing column(s) {missing}", code="missing_column")
        tickers = raw[self.ticker_column]
        if tickers.isna().any():
            raise DataFormatError(
                f"raw data of {date}: {int(tickers.isna().sum())} missing tickers", code="nan_ids"
            )
        if tickers.duplicated().any():
            examples = tickers[tickers.duplicated()].astype(str).unique()[:3].tolist()
            raise DataFormatError(
                f"raw data of {date}: duplicated tickers, e.g. {examples}", code="duplicate_ids"
            )
        for column in [*self.raw_features, *self.raw_targets]:
            if not pd.api.types.is_numeric_dtype(raw[column]) or pd.api.types.is_bool_dtype(raw[column]):
                raise DataFormatError(
                    f"raw data of {date}: column {column!r} has dtype {raw[column].dtype}, expected numbers",
                    code="wrong_dtype",
                )

    def publish_era(self, date: dt.date, raw: pd.DataFrame, *, data_type: str = "train") -> PublishedEra:
        """Obfuscate one era of raw data (rows shuffled by the key so row order leaks nothing)."""
        self._validate(raw, date)
        era = self.era_label(date)
        tickers = raw[self.ticker_column].astype(str).to_numpy()
        ids = obfuscated_ids(self.key, era, tickers)
        order = np.argsort(ids, kind="stable")
        values = raw[list(self.feature_map)].to_numpy(dtype=float)[order]
        filled = np.where(np.isnan(values), np.nanmedian(values, axis=0) if len(values) else 0.0, values)
        filled = np.where(np.isnan(filled), 0.0, filled)  # an all-NaN column
        binned = bin_features(filled)
        binned[np.isnan(values)] = 2
        frame = pd.DataFrame(binned, columns=list(self.feature_names), index=pd.Index(ids[order], name="id"))
        frame.insert(0, "data_type", data_type)
        frame.insert(0, "era", era)
        if self.raw_targets:
            raw_targets = raw[list(self.raw_targets)].to_numpy(dtype=float)[order]
            targets = np.full(raw_targets.shape, np.nan)
            for k in range(raw_targets.shape[1]):
                known = ~np.isnan(raw_targets[:, k])
                if known.any():
                    targets[known, k] = bin_targets(raw_targets[known, k])
            for k, name in enumerate(self.target_names):
                frame[name] = targets[:, k].astype(np.float32)
        mapping = pd.DataFrame({"era": era, "id": ids[order], "ticker": tickers[order]})
        return PublishedEra(era=era, frame=frame, mapping=mapping)

    def link(self, era: str, tickers: Sequence[str], published_ids: Sequence[str]) -> np.ndarray:
        """Operator side: the ticker of each published id of ``era`` (None where not in ``tickers``)."""
        lookup = dict(zip(obfuscated_ids(self.key, era, tickers), tickers, strict=True))
        return np.array([lookup.get(str(i)) for i in published_ids], dtype=object)

    def publish(
        self,
        raw_eras: Iterable[tuple[dt.date, pd.DataFrame]],
        out_dir: str | Path,
        *,
        mapping_path: str | Path,
        data_type: str = "train",
    ) -> int:
        """Stream raw eras to ``out_dir/train.parquet`` + ``features.json``; the mapping goes to
        ``mapping_path`` (keep it, like the key, outside the published folder). Returns rows written."""
        out = Path(out_dir)
        mapping_path = Path(mapping_path)
        if out.resolve() in mapping_path.resolve().parents:
            raise ConfigError("the id mapping must not be written into the published folder")
        out.mkdir(parents=True, exist_ok=True)
        write_features_json(out / "features.json", {"all": list(self.feature_names)}, self.target_names)
        mapping_schema = pa.schema([("era", pa.string()), ("id", pa.string()), ("ticker", pa.string())])
        rows = 0
        with (
            classic_writer(out / "train.parquet", self.feature_names, self.target_names) as writer,
            EraParquetWriter(mapping_path, mapping_schema) as mapping_writer,
        ):
            for date, raw in raw_eras:
                published = self.publish_era(date, raw, data_type=data_type)
                frame = published.frame
                columns: dict[str, object] = {"id": frame.index.to_numpy(dtype=object)}
                columns.update({c: frame[c].to_numpy() for c in frame.columns})
                writer.write(columns)
                mapping_writer.write(
                    {c: published.mapping[c].to_numpy(dtype=object) for c in published.mapping}
                )
                rows += len(frame)
        return rows
