"""The work of a round's lifecycle steps that runs with no database transaction open.

A step reads what it needs in a short read (:class:`DayWork`), computes here (decoding, stacking,
gaussianizing, scoring), then writes its results in one short transaction that first checks the
round is still where it was (:func:`fingerprint` of its submissions), and starts over if not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.errors import BusyError, InvalidInputError
from kardashev.metamodel import meta_model_or_none
from kardashev.scoring.registry import gaussianize_predictions
from kardashev.tournament.domain import Round, Submission
from kardashev.tournament.round_matrix import decode_round_matrix, encode_round_matrix, matrix_from_vectors
from kardashev.tournament.tables import encode_vector

__all__ = [
    "ATTEMPTS",
    "ClosePrepared",
    "DayWork",
    "busy",
    "fingerprint",
    "prepare_close",
    "round_day",
    "round_era",
]

#: how often a step starts over when the round changed under it before it gives up (503, retry later)
ATTEMPTS = 5


def round_day(
    day: int,
    ids: Sequence[object] | np.ndarray,
    target: object,
    *,
    round_number: int | None = None,
    **market: object,
) -> Era:
    """The market data known on scoring ``day`` of a round, as the :class:`Era` the service scores.

    ``market`` may hold ``realized_returns``, ``exposures``, ``features``, ``risk``, ``adv``,
    ``previous_weights``, ``benchmark`` (see :class:`~kardashev.data.era.Era`); the service adds the
    round's predictions, stakes and meta model.
    """
    label = f"day {int(day)}" if round_number is None else f"round {round_number} day {int(day)}"
    if target is None:
        raise InvalidInputError(f"{label}: a target is required")
    return Era.build(label, ids, target=target, day=int(day), **market)


def fingerprint(submissions: Sequence[Submission]) -> tuple[tuple[int, str, bool], ...]:
    """What identifies a round's set of submissions (a replaced or late one changes it)."""
    return tuple(sorted((s.id, s.checksum, s.late) for s in submissions))


def busy(number: int) -> BusyError:
    return BusyError(
        f"round {number} kept changing while it was being processed; try again", code="round_busy"
    )


@dataclass(frozen=True, eq=False)
class ClosePrepared:
    """The close's heavy part: the stacked on-time matrix, its gaussianization and the naive blend."""

    ids: pd.Index
    gaussianized: np.ndarray
    matrix_blob: bytes
    naive_blob: bytes | None


def prepare_close(
    universe: Sequence[str], on_time: Sequence[Submission], vectors: Sequence[pd.Series]
) -> ClosePrepared:
    """Stack the on-time predictions over the universe, gaussianize them once, blend the naive meta model."""
    ids = np.asarray([str(i) for i in universe], dtype=object)
    values = matrix_from_vectors(ids, vectors)
    gaussianized = gaussianize_predictions(values)
    naive = meta_model_or_none(gaussianized, np.ones(values.shape[1]))
    index = pd.Index(ids, name="id")
    return ClosePrepared(
        ids=index,
        gaussianized=gaussianized,
        matrix_blob=encode_round_matrix(ids, [s.id for s in on_time], values),
        naive_blob=None if naive is None else encode_vector(pd.Series(naive, index=index), name="meta_model"),
    )


@dataclass(frozen=True, eq=False)
class DayWork:
    """What a scoring day reads: the round, its submissions, their frozen stakes and predictions."""

    round_: Round
    submissions: list[Submission]
    stakes: np.ndarray  # (n_submissions,) 0 for late and unstaked
    matrix_blob: bytes | None  # the on-time matrix stored at close
    late: dict[int, pd.Series]  # submissions not in that matrix, decoded
    universe: list[str]
    fingerprint: tuple[tuple[int, str, bool], ...]


def round_era(work: DayWork, day: Era) -> Era:
    """The day's era: ``day``'s market data with the round's predictions aligned to its stocks.

    The stored matrix is used as a view when it already holds every submission in order on the
    day's stocks (no copy); otherwise the columns are gathered once. Raises ``alignment`` when more
    than 20% of the day's or the round's stocks would be lost.
    """
    if work.matrix_blob is not None:
        stored = decode_round_matrix(work.matrix_blob)
        ids, columns = stored.ids, stored.columns_for([s.id for s in work.submissions])
    else:
        stored, ids, columns = None, np.asarray(work.universe, dtype=object), None
    if stored is not None and columns is not None and np.array_equal(columns, np.arange(len(columns))):
        values = stored.values
    else:
        values = np.empty((len(ids), len(work.submissions)))
        for j, submission in enumerate(work.submissions):
            position = None if stored is None else stored.columns_for([submission.id])
            if position is not None:
                values[:, j] = stored.values[:, position[0]]  # type: ignore[union-attr]
            else:
                values[:, j] = work.late[submission.id].reindex(pd.Index(ids)).to_numpy(dtype=np.float64)
    rows = pd.Index(ids).get_indexer(pd.Index([str(i) for i in day.ids]))
    keep = rows >= 0
    if keep.mean() < 0.8 or keep.sum() < 0.8 * len(ids):
        raise InvalidInputError(
            f"{keep.sum()} of the day's {len(day.ids)} ids match round {work.round_.number}'s universe of "
            f"{len(ids)}: more than 20% of either would be lost",
            code="alignment",
        )
    if not np.array_equal(rows, np.arange(len(ids))):
        values = values[rows[keep]]
    return day.rows(keep).with_(
        era=f"round {work.round_.number} day {day.day}",
        predictions=values,
        model_names=tuple(str(s.id) for s in work.submissions),
        stakes=work.stakes,
        gaussianized=None,
        meta_model=None,
    )
