"""The one width-aware table renderer of the CLI (and the demo): numbers are never folded or cut.

Every terminal table goes through :func:`render_table`. It formats each cell itself (one
:class:`NumberFormat` per column kind), measures the table it would print, and picks the first
layout that fits the console's width:

1. ``"wide"``: one row per record, full headers;
2. ``"short"``: one row per record, the columns' short headers (each abbreviation explained in
   the legend printed under the table);
3. ``"split"`` (several records only): the columns cut into several tables, each with the label
   columns and short headers;
4. ``"vertical"``: one block per record, the record's label on a line and then ``header: value``
   lines (a value that does not fit next to its header goes on the next line, whole).

A number is a single word of at most a few dozen characters, so no layout ever splits one.
Missing values print as ``—``; ``-0.0000`` prints as ``0.0000``.

Usage::

    from kardashev.cli.tables import Column, render_table, output_console

    render_table(
        frame,  # a pandas DataFrame; columns referenced by key
        [
            Column("model"),
            Column("corr_mean", "CORR", fmt="score"),
            Column("corr_sharpe", "Sharpe", fmt="ratio"),
            Column("corr_t_statistic", "t(NW)", legend="Newey-West t-statistic of CORR", fmt="ratio"),
            Column("stake", "stake (tokens)", short="stake", fmt="tokens"),
        ],
        console=output_console(),
        title="scores",
    )

The demo (``kardashev.demo``, same layer as the CLI) imports it from here.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "FORMATS",
    "MISSING",
    "Column",
    "Layout",
    "NumberFormat",
    "format_value",
    "infer_columns",
    "output_console",
    "render_table",
]

_PIPED_WIDTH = 160
MISSING = "—"
"""What a missing value (None, NaN, NA) prints as."""

Layout = Literal["wide", "short", "split", "vertical"]


@dataclass(frozen=True)
class NumberFormat:
    """How a column of numbers prints (frozen).

    Parameters
    ----------
    decimals
        Digits after the point (of the mantissa when ``scientific``).
    thousands
        Group the integer part with ``,`` (token amounts).
    sign
        Print ``+`` on positive numbers (zero never has a sign).
    scientific
        ``1.23e-05`` notation (tiny quantities such as Signals alpha).
    """

    decimals: int = 4
    thousands: bool = False
    sign: bool = False
    scientific: bool = False

    def __call__(self, value: object) -> str:
        if _is_missing(value):
            return MISSING
        if isinstance(value, Decimal):
            number: Decimal | float = value
        elif isinstance(value, int | np.integer) and not self.scientific and self.decimals == 0:
            number = Decimal(int(value))
        else:
            number = float(value)  # type: ignore[arg-type]
        spec = ("+" if self.sign else "") + ("," if self.thousands else "")
        spec += f".{self.decimals}{'e' if self.scientific else 'f'}"
        return _no_negative_zero(format(number, spec))


_ZERO = re.compile(r"[+-]([0,.]*)(e[+-]\d+)?")


def _no_negative_zero(text: str) -> str:
    """``-0.0000`` / ``+0.0000`` → ``0.0000``: a value that rounds to zero has no sign."""
    return text[1:] if _ZERO.fullmatch(text) else text


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    if isinstance(value, Decimal):
        return value.is_nan()
    return False


def _text(value: object) -> str:
    return MISSING if _is_missing(value) else str(value)


FORMATS: dict[str, Callable[[object], str]] = {
    "text": _text,
    "int": NumberFormat(decimals=0),
    "score": NumberFormat(decimals=4),
    "signed": NumberFormat(decimals=4, sign=True),
    "ratio": NumberFormat(decimals=2),
    "tokens": NumberFormat(decimals=2, thousands=True),
    "sci": NumberFormat(decimals=2, scientific=True),
}
"""One format per column kind: ``text``; ``int`` (counts, ranks, rounds); ``score`` (CORR, MMC, TC…:
4 decimals); ``signed`` (a score with ``+`` on positives); ``ratio`` (Sharpe, t-statistics: 2
decimals); ``tokens`` (stakes and payouts: thousands separators, 2 decimals); ``sci`` (tiny
quantities: ``1.23e-05``)."""


def format_value(value: object, fmt: str | Callable[[object], str] = "text") -> str:
    """One cell as text, with a format name of :data:`FORMATS` or a callable."""
    formatter = FORMATS[fmt] if isinstance(fmt, str) else fmt
    return formatter(value)


@dataclass(frozen=True)
class Column:
    """One column of a rendered table (frozen).

    Parameters
    ----------
    key
        Column of the DataFrame (use ``frame.reset_index()`` to show the index).
    header
        Full header (default: ``key``).
    short
        Abbreviated header used when the full headers do not fit; explained in the legend.
    fmt
        A name of :data:`FORMATS` or a callable ``value -> str``.
    legend
        What the column means, printed under the table (``header: legend``).
    justify
        ``"left"`` or ``"right"``; default right for numbers, left for ``text``.
    """

    key: str
    header: str | None = None
    short: str | None = None
    fmt: str | Callable[[object], str] = "text"
    legend: str | None = None
    justify: Literal["left", "right"] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fmt, str) and self.fmt not in FORMATS:
            raise ValueError(f"unknown column format {self.fmt!r}; known: {', '.join(FORMATS)}")

    @property
    def title(self) -> str:
        return self.header if self.header is not None else str(self.key)

    @property
    def side(self) -> Literal["left", "right"]:
        if self.justify is not None:
            return self.justify
        return "left" if self.fmt == "text" else "right"


def output_console(*, stderr: bool = False) -> Console:
    """A console for results: the terminal's width, or a wide one when the output is not a terminal."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, _PIPED_WIDTH))
    return console


def _table(
    headers: Sequence[str],
    columns: Sequence[Column],
    cells: Sequence[Sequence[str]],
    *,
    labels: int,
    styles: Sequence[str | None] | None,
    header_style: str,
) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        header_style=header_style,
        expand=False,
    )
    for i, (header, column) in enumerate(zip(headers, columns, strict=True)):
        table.add_column(
            header, justify=column.side, no_wrap=True, overflow="fold", style="bold" if i < labels else None
        )
    for i, row in enumerate(cells):
        table.add_row(*row, style=styles[i] if styles is not None else None)
    return table


def _natural_width(table: Table) -> int:
    sink = Console(file=io.StringIO(), width=100_000, color_system=None, legacy_windows=False)
    sink.print(table)
    return max((cell_len(line) for line in sink.file.getvalue().splitlines()), default=0)  # type: ignore[attr-defined]


def _legend(columns: Sequence[Column], headers: Sequence[str]) -> list[str]:
    entries = []
    for column, shown in zip(columns, headers, strict=True):
        if shown != column.title:
            entries.append(f"{shown}: {column.title}" + (f", {column.legend}" if column.legend else ""))
        elif column.legend:
            entries.append(f"{shown}: {column.legend}")
    return entries


def _print_vertical(
    columns: Sequence[Column],
    cells: Sequence[Sequence[str]],
    *,
    labels: int,
    console: Console,
    styles: Sequence[str | None] | None,
) -> None:
    width = console.width
    fields = columns[labels:]
    names = [column.title for column in fields]
    name_width = max((cell_len(n) for n in names), default=0) + 1
    value_width = max((cell_len(row[i]) for row in cells for i in range(labels, len(row))), default=0)
    if 2 + name_width + 1 + value_width > width:  # try the short headers
        short = [column.short or column.title for column in fields]
        if 2 + max((cell_len(n) for n in short), default=0) + 2 + value_width <= width:
            names = short
            name_width = max(cell_len(n) for n in names) + 1
    aligned = 2 + name_width + 1 + value_width <= width
    for r, row in enumerate(cells):
        label = " · ".join(row[:labels]) if labels else f"#{r + 1}"
        style = styles[r] if styles is not None else None
        # a label longer than the width is left to the terminal to wrap, whole
        console.print(Text(label, style=f"bold {style}" if style else "bold"), soft_wrap=True)
        for name, value in zip(names, row[labels:], strict=True):
            # soft_wrap: printed as is, never folded or cropped (a value wider than the terminal
            # is left to the terminal to wrap, whole)
            if aligned:
                line = f"  {name + ':':<{name_width}} {value:>{value_width}}"
                console.print(Text(line, style=style or ""), soft_wrap=True)
            else:
                console.print(Text(f"  {name}:", style=style or ""), soft_wrap=True)
                console.print(Text(f"    {value}", style=style or ""), soft_wrap=True)


def render_table(
    frame: pd.DataFrame,
    columns: Sequence[Column] | None = None,
    *,
    console: Console,
    title: str | None = None,
    caption: str | None = None,
    labels: int = 1,
    styles: Sequence[str | None] | None = None,
    header_style: str = "bold",
) -> Layout:
    """Print ``frame`` as a table that fits ``console.width`` without folding or cutting a number.

    Parameters
    ----------
    frame
        The records, one per row.
    columns
        What to show, in order (default: every column of ``frame``, numbers as ``score``,
        integers as ``int``, anything else as ``text``).
    console
        Where to print; its width decides the layout.
    title
        Printed above the table (wrapped at word boundaries like any text).
    caption
        Printed under the table and its legend.
    labels
        How many leading columns name a record (the header line of a block in the vertical
        layout, bold in the others); 0 numbers the blocks instead.
    styles
        A rich style per row (or None), e.g. to highlight a record.
    header_style
        Style of the header row.

    Returns
    -------
    str
        The layout used: ``"wide"``, ``"short"``, ``"split"`` or ``"vertical"``.
    """
    columns = list(columns) if columns is not None else infer_columns(frame)
    missing = [c.key for c in columns if c.key not in frame.columns]
    if missing:
        raise ValueError(f"render_table: no column(s) {missing} in the frame")
    if styles is not None and len(styles) != len(frame):
        raise ValueError(f"render_table: {len(styles)} styles for {len(frame)} rows")
    labels = min(labels, len(columns))
    cells = [
        [format_value(value, column.fmt) for value, column in zip(values, columns, strict=True)]
        for values in frame[[c.key for c in columns]].itertuples(index=False, name=None)
    ]
    full = [column.title for column in columns]
    short = [column.short or column.title for column in columns]
    table_options = {"labels": labels, "styles": styles, "header_style": header_style}
    width = console.width
    chosen, panels = _choose(columns, cells, full, short, width=width, options=table_options)
    if title:
        console.print(Text(title, style="bold"))
    if chosen == "vertical":
        _print_vertical(columns, cells, labels=labels, console=console, styles=styles)
        legend = [f"{c.title}: {c.legend}" for c in columns if c.legend]
    else:
        for i, panel in enumerate(panels):
            if i:
                console.print()
            console.print(panel, crop=False)
        legend = _legend(columns, full if chosen == "wide" else short)
        console.print()  # the end of the rows
    if legend:
        console.print(Text("; ".join(legend), style="dim"))
    if caption:
        console.print(Text(caption, style="dim"))
    return chosen


def _choose(
    columns: Sequence[Column],
    cells: Sequence[Sequence[str]],
    full: Sequence[str],
    short: Sequence[str],
    *,
    width: int,
    options: dict,
) -> tuple[Layout, list[Table]]:
    """The first layout that fits ``width`` and its table(s)."""
    table = _table(full, columns, cells, **options)
    if _natural_width(table) <= width:
        return "wide", [table]
    if short != full:
        table = _table(short, columns, cells, **options)
        if _natural_width(table) <= width:
            return "short", [table]
    if len(cells) > 1:
        panels = _split(columns, cells, short, width=width, options=options)
        if panels:
            return "split", panels
    return "vertical", []


def _split(
    columns: Sequence[Column],
    cells: Sequence[Sequence[str]],
    headers: Sequence[str],
    *,
    width: int,
    options: dict,
) -> list[Table]:
    """The columns cut into tables that each fit, the label columns repeated in every one; [] if
    the labels and one column do not fit."""
    labels: int = options["labels"]
    widths = [
        max([cell_len(header), *(cell_len(row[i]) for row in cells)]) for i, header in enumerate(headers)
    ]
    base = sum(widths[:labels]) + 2 * labels
    groups: list[list[int]] = []
    used = base
    for i in range(labels, len(columns)):
        if groups and used + widths[i] <= width:
            groups[-1].append(i)
            used += widths[i] + 2
        else:
            groups.append([i])
            used = base + widths[i] + 2
    panels = []
    for group in groups:
        keep = [*range(labels), *group]
        panel = _table(
            [headers[i] for i in keep],
            [columns[i] for i in keep],
            [[row[i] for i in keep] for row in cells],
            **options,
        )
        if _natural_width(panel) > width:
            return []
        panels.append(panel)
    return panels


def infer_columns(frame: pd.DataFrame) -> list[Column]:
    """Default column specs of a frame: integers ``int``, other numbers ``score``, the rest ``text``."""
    specs = []
    for key in frame.columns:
        dtype = frame[key].dtype
        if pd.api.types.is_bool_dtype(dtype):
            fmt = "text"
        elif pd.api.types.is_integer_dtype(dtype):
            fmt = "int"
        elif pd.api.types.is_float_dtype(dtype):
            fmt = "score"
        else:
            fmt = "text"
        specs.append(Column(str(key), fmt=fmt))
    return specs
