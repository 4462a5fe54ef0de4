"""Times on the command line: ISO 8601 and relative amounts."""

from __future__ import annotations

import datetime as dt

import pytest

from kardashev.cli.clock import current_time, parse_time
from kardashev.errors import InvalidInputError

BASE = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2d", BASE + dt.timedelta(days=2)),
        ("+36h", BASE + dt.timedelta(hours=36)),
        ("-30m", BASE - dt.timedelta(minutes=30)),
        ("+1w", BASE + dt.timedelta(days=7)),
        ("+1.5h", BASE + dt.timedelta(minutes=90)),
        ("+45s", BASE + dt.timedelta(seconds=45)),
        ("now", BASE),
        ("2026-01-10T12:00:00", dt.datetime(2026, 1, 10, 12, tzinfo=dt.timezone.utc)),
        ("2026-01-10T12:00:00Z", dt.datetime(2026, 1, 10, 12, tzinfo=dt.timezone.utc)),
        ("2026-01-10T14:00:00+02:00", dt.datetime(2026, 1, 10, 12, tzinfo=dt.timezone.utc)),
        ("2026-01-10", dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)),
    ],
)
def test_times_parse_to_utc(text, expected):
    parsed = parse_time(text, "--close", base=BASE)
    assert parsed == expected and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["", "tomorrow", "+2", "2d", "+2y", "+-2d", "2026-13-01"])
def test_a_bad_time_is_one_line_naming_the_option(text):
    with pytest.raises(InvalidInputError) as error:
        parse_time(text, "--close", base=BASE)
    assert error.value.message.startswith("--close: not a time") and "\n" not in error.value.message


def test_a_relative_now_counts_from_the_clock():
    assert current_time(None, clock=BASE) == BASE
    assert current_time("+3d", clock=BASE) == BASE + dt.timedelta(days=3)
    assert current_time("2026-02-01T00:00:00", clock=BASE) == dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text", ["+99999999d", "-9000000w", "+1e400s".replace("e400", "0" * 400)])
def test_a_relative_time_out_of_the_calendar_is_a_clear_error(text):
    with pytest.raises(InvalidInputError) as error:
        parse_time(text, "--now", base=BASE)
    assert error.value.message.startswith("--now: ") and "9999" in error.value.message
