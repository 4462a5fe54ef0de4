"""Console and table styles shared by the CLI verbs.

Tables are compact (no side borders, collapsed padding) and never cut a number with an ellipsis:
the first column (a name) does not wrap and numeric columns fold. When the output is not a terminal
(piped to a file or a log) there is no width to respect, so the console is made wide enough to print
every digit on one line.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["compact_table", "output_console"]

_PIPED_WIDTH = 160


def output_console(*, stderr: bool = False) -> Console:
    """A console for results: the terminal's width, or a wide one when the output is not a terminal."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, _PIPED_WIDTH))
    return console


def compact_table(
    first: str, *headers: str, title: str | None = None, caption: str | None = None, right: bool = True
) -> Table:
    """A table whose first column is a label (never wrapped) and the others values (folded, not cut)."""
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column(first, no_wrap=True, style="bold")
    for header in headers:
        table.add_column(header, justify="right" if right else "left", overflow="fold")
    return table
