"""An optional rich progress bar over the steps of a long loop."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress_steps"]

T = TypeVar("T")


def progress_steps(steps: Iterable[T], *, total: int, description: str, enabled: bool) -> Iterator[T]:
    """Yield ``steps``, showing a ``rich.progress`` bar when ``enabled``."""
    if not enabled:
        yield from steps
        return
    from rich.progress import track

    yield from track(steps, total=total, description=description)
