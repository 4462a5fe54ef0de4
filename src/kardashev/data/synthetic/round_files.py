"""The files an operator needs to run one tournament round, made from the synthetic market.

For one era of a :class:`~kardashev.data.synthetic.market.SyntheticMarket` and its crowd, written to
``out_dir``:

========================  =============================================================================
``ids.csv``               the round's universe (column ``id``), for ``kardashev round open --universe``
``day1.parquet`` …        each scoring day's data, for ``kardashev round score|resolve --data``: ``id``,
``dayH.parquet``          ``target``, ``realized_return``, ``exposure_*``, ``feature_*``. Day ``d`` < H
                          holds the residual return known after ``d`` eras (binned as the target); the
                          last day the era's published ``target`` and realized residual return
``predictions/NAME.csv``  each crowd model's predictions (``id``, ``prediction``), for ``kardashev submit``
``validation.parquet``    the eras before the round (``era``, ``id``, ``target``, ``feature_*``), for
                          ``kardashev validation-data upload``; as in Numerai's files, an id names one
                          stock in one era (``<stock>_<era>``), so ids are unique across eras
========================  =============================================================================

The exposures leave out the first sector's one-hot: country and sector one-hots each sum to one, so
with all of them the matrix would not have full column rank (the operator's data check refuses that);
neutrality to the other columns implies neutrality to the one left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kardashev.data.binning import bin_targets
from kardashev.data.synthetic.crowd import Crowd
from kardashev.data.synthetic.market import SyntheticMarket
from kardashev.errors import InvalidInputError

__all__ = ["RoundFiles", "round_exposure_columns", "write_round_files"]


@dataclass(frozen=True)
class RoundFiles:
    """Paths of a written round: the universe, each scoring day's data, each model's predictions."""

    directory: Path
    universe: Path
    days: tuple[Path, ...]
    predictions: tuple[Path, ...]
    model_names: tuple[str, ...]
    validation: Path | None


def round_exposure_columns(market: SyntheticMarket) -> list[int]:
    """Indices of the exposures a day's file carries (all but the first sector's one-hot)."""
    first_sector = next(i for i, name in enumerate(market.exposure_names) if name.startswith("sector_"))
    return [i for i in range(len(market.exposure_names)) if i != first_sector]


def write_round_files(
    market: SyntheticMarket, crowd: Crowd, out_dir: str | Path, *, era: int | None = None
) -> RoundFiles:
    """Write round files for era ``era`` of ``market`` (default its last; one scoring day per era of the
    market's horizon), with the eras before it as validation data."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder")
    era = market.n_eras - 1 if era is None else era
    if not 0 <= era < market.n_eras:
        raise InvalidInputError(f"era must be in 0..{market.n_eras - 1}, got {era}")
    horizon = market.config.horizon
    data = market.era(era)
    ids = np.asarray(data.ids).astype(str)
    columns = round_exposure_columns(market)
    exposures = pd.DataFrame(
        data.exposures[:, columns], columns=[f"exposure_{market.exposure_names[i]}" for i in columns]
    )
    features = pd.DataFrame(data.features, columns=list(data.feature_names))
    (out / "predictions").mkdir(parents=True, exist_ok=True)
    universe = out / "ids.csv"
    pd.DataFrame({"id": ids}).to_csv(universe, index=False)
    days = []
    for day in range(1, horizon + 1):
        if day == horizon:
            target, realized = np.asarray(data.targets, dtype=float)[:, 0], data.residual_returns
        else:
            realized = market.residual_return(era, day)
            target = bin_targets(realized[:, None])[:, 0]
        frame = pd.DataFrame({"id": ids, "target": target, "realized_return": realized})
        path = out / f"day{day}.parquet"
        pd.concat([frame, exposures, features], axis=1).to_parquet(path, index=False)
        days.append(path)
    predictions = []
    values = crowd.predictions(data)
    for j, name in enumerate(crowd.model_names):
        path = out / "predictions" / f"{name}.csv"
        pd.DataFrame({"id": ids, "prediction": values[:, j]}).to_csv(path, index=False)
        predictions.append(path)
    validation = _write_validation(market, out / "validation.parquet", eras=range(era)) if era else None
    return RoundFiles(out, universe, tuple(days), tuple(predictions), tuple(crowd.model_names), validation)


def _write_validation(market: SyntheticMarket, path: Path, *, eras: range) -> Path:
    frames = []
    for data in market.iter_eras(eras.start, eras.stop):
        ids = np.char.add(np.asarray(data.ids).astype(str), f"_{data.era}")
        frame = pd.DataFrame(
            {"era": data.era, "id": ids, "target": np.asarray(data.targets, dtype=float)[:, 0]}
        )
        frames.append(
            pd.concat([frame, pd.DataFrame(data.features, columns=list(data.feature_names))], axis=1)
        )
    pd.concat(frames, ignore_index=True).to_parquet(path, index=False)
    return path
