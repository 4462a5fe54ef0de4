"""Times on the command line: ISO 8601 or relative (``+2d``, ``+36h``, ``-30m``, ``+1w``).

A relative ``--now`` counts from the computer's clock, so a walkthrough can simulate the days after
it was run (``--now +3d``); other relative times (``--close +2d``) count from ``--now``.
"""

from __future__ import annotations

import datetime as dt
import re

from kardashev.errors import InvalidInputError

__all__ = ["current_time", "parse_time"]

_RELATIVE = re.compile(r"^([+-])(\d+(?:\.\d+)?)\s*([wdhms])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_time(value: str, what: str, *, base: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC time: ISO 8601 (naive means UTC), ``now``, or ``base`` ± an amount of
    weeks, days, hours, minutes or seconds (``+2d``, ``+36h``, ``-1.5h``)."""
    text = str(value).strip()
    if text.lower() == "now":
        return base
    match = _RELATIVE.match(text)
    if match:
        sign, amount, unit = match.groups()
        try:
            delta = dt.timedelta(**{_UNITS[unit]: float(amount)})
            return base + delta if sign == "+" else base - delta
        except OverflowError:
            raise InvalidInputError(f"{what}: {text[:40]!r} is outside the years 1 to 9999") from None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise InvalidInputError(
            f"{what}: not a time: {text[:40]!r} (give ISO 8601, e.g. 2026-12-01T12:00:00Z, "
            "or a relative time, e.g. +2d, +36h, -30m)"
        ) from None
    return (
        moment.replace(tzinfo=dt.timezone.utc)
        if moment.tzinfo is None
        else moment.astimezone(dt.timezone.utc)
    )


def current_time(now: str | None, *, clock: dt.datetime | None = None) -> dt.datetime:
    """The command's current time: ``--now`` (ISO, or relative to the clock) or the clock (UTC)."""
    real = clock or dt.datetime.now(dt.timezone.utc)
    return real if now is None else parse_time(now, "--now", base=real)
