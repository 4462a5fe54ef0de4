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


def _match_header(line: str, headers: Sequence[str], labels: int) -> list[int] | None:
    """Indices of the columns a header line shows (the label columns then an ordered subset)."""
    rest, shown, i = line.strip(), [], 0
    while rest:
        found = next(
            (j for j in range(i, len(headers)) if re.match(re.escape(headers[j]) + r"(\s+|$)", rest)), None
        )
        if found is None or (found >= labels and len(shown) < labels):
            return None
        shown.append(found)
        rest = rest[len(headers[found]) :].lstrip()
        i = found + 1
    return shown if shown[:labels] == list(range(labels)) and len(shown) > labels else None


def _header_at(
    lines: Sequence[str], i: int, columns: Sequence[tuple[str, str]], labels: int
) -> tuple[str, list[int]] | None:
    """``(layout, shown columns)`` when line ``i`` is a header line over a rule, else None."""
    if not lines[i + 1].strip() or not set(lines[i + 1].strip()) <= {"─"}:
        return None
    for layout, headers in (("wide", [c[0] for c in columns]), ("short", [c[1] for c in columns])):
        shown = _match_header(lines[i], headers, labels)
        if shown is not None:
            return layout, shown
    return None


def parse_table(
    text: str, columns: Sequence[tuple[str, str]], *, labels: int = 1
) -> tuple[str, dict[str, dict[str, str]]]:
    """The layout and ``{record label: {full header: cell}}`` of one printed table.

    ``columns`` are ``(full header, short header)`` pairs in order, the first ``labels`` of them
    naming the record (joined with `` · ``). Raises ValueError on a row that does not have one
    whole cell per column."""
    lines = text.splitlines()
    records: dict[str, dict[str, str]] = {}
    layouts = set()
    i = 0
    while i < len(lines) - 1:
        found = _header_at(lines, i, columns, labels)
        if found is None:
            i += 1
            continue
        layout, shown = found
        layouts.add(layout if len(shown) == len(columns) else "split")
        i += 2
        while i < len(lines) and lines[i].strip():
            cells = lines[i].split()
            if len(cells) != len(shown):
                raise ValueError(f"a row with {len(cells)} cells for {len(shown)} columns: {lines[i]!r}")
            record = records.setdefault(" · ".join(cells[:labels]), {})
            record.update({columns[j][0]: cell for j, cell in zip(shown, cells, strict=True)})
            i += 1
    if not records:
        return "vertical", _parse_vertical(lines, columns, labels=labels)
    if len(layouts) != 1:
        raise ValueError(f"mixed layouts {sorted(layouts)}")
    return layouts.pop(), records


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
