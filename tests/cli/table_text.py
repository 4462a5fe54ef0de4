"""Read a table printed by :func:`kardashev.cli.tables.render_table` back into its cells.

Works on the three layouts (wide, short, vertical) so tests can compare every printed number with
the value it stands for. Cells hold no spaces (numbers, names); a header may.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["parse_number", "parse_table"]

_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?(e[+-]\d+)?")


def parse_number(cell: str) -> tuple[float, float] | None:
    """``(value, half a unit of the last printed digit)``; None for the missing mark ``—``.

    Raises ValueError when the cell is not a whole number (cut, folded or ellipsized)."""
    if cell == "—":
        return None
    if not _NUMBER.fullmatch(cell):
        raise ValueError(f"not a whole number: {cell!r}")
    mantissa, _, exponent = cell.replace(",", "").partition("e")
    decimals = len(mantissa.partition(".")[2])
    scale = 10 ** int(exponent) if exponent else 1.0
    return float(cell.replace(",", "")), 0.5 * 10**-decimals * scale


def _header_line(lines: Sequence[str], headers: Sequence[str]) -> int | None:
    pattern = re.compile(r"\s*" + r"\s+".join(re.escape(h) for h in headers) + r"\s*")
    return next((i for i, line in enumerate(lines) if pattern.fullmatch(line)), None)


def parse_table(
    text: str, columns: Sequence[tuple[str, str]], *, labels: int = 1
) -> tuple[str, dict[str, dict[str, str]]]:
    """The layout and ``{record label: {full header: cell}}`` of one printed table.

    ``columns`` are ``(full header, short header)`` pairs in order, the first ``labels`` of them
    naming the record (joined with `` · ``)."""
    lines = text.splitlines()
    for layout, headers in (("wide", [c[0] for c in columns]), ("short", [c[1] for c in columns])):
        start = _header_line(lines, headers)
        if start is None:
            continue
        if not set(lines[start + 1].strip()) <= {"─", " "}:
            raise ValueError(f"no rule under the header line: {lines[start + 1]!r}")
        records: dict[str, dict[str, str]] = {}
        for line in lines[start + 2 :]:
            cells = line.split()
            if len(cells) != len(columns):
                break
            label = " · ".join(cells[:labels])
            records[label] = {full: cell for (full, _), cell in zip(columns, cells, strict=True)}
        return layout, records
    return "vertical", _parse_vertical(lines, columns, labels=labels)


def _parse_vertical(
    lines: Sequence[str], columns: Sequence[tuple[str, str]], *, labels: int
) -> dict[str, dict[str, str]]:
    names = {name: full for full, short in columns[labels:] for name in (full, short)}
    records: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    pending: str | None = None
    for i, line in enumerate(lines):
        if not line.startswith(" "):
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if following.startswith("  ") and following.strip().partition(":")[0] in names:
                current = records.setdefault(line.strip(), {})
            else:
                current = None
            pending = None
            continue
        if current is None:
            continue
        if pending is not None:
            current[names[pending]] = line.strip()
            pending = None
            continue
        name, colon, value = line.strip().rpartition(": ") if ": " in line else (line.strip(), "", "")
        if not colon:
            name = line.strip().removesuffix(":")
            if name not in names:
                raise ValueError(f"unexpected line in a block: {line!r}")
            pending = name
            continue
        if name not in names or " " in value.strip():
            raise ValueError(f"unexpected line in a block: {line!r}")
        current[names[name]] = value.strip()
    return records
