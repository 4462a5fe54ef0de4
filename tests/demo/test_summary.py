"""The console tables keep every number whole at 80 and 120 columns, dropping columns instead."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from kardashev.demo.summary import leaderboard_columns, render_table


def _board(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "model": [f"unstaked_original_{k:02d}" for k in range(n)],
            "archetype": ["unstaked_original"] * n,
            "tc_season": rng.normal(0, 0.01, n),
            "corr_season": rng.normal(0, 0.05, n),
            "mmc_season": np.r_[-1e-6, rng.normal(0, 0.02, n - 1)],  # rounds to zero: no "-0.0000"
            "true_return_season": rng.normal(0, 0.01, n),
            "stake now": rng.uniform(0, 5000, n),
            "grade": ["Type III"] * n,
        }
    )


@pytest.mark.parametrize("width", [60, 80, 120])
def test_every_cell_printed_whole(width: int) -> None:
    frame = _board()
    columns = leaderboard_columns()
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None)
    console.print(render_table(frame, columns, width=width, title="board"))
    text = buffer.getvalue()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    shown = [c for c in columns if c.header in lines[2]]  # the header row
    assert {"rank", "model", "TC"} <= {c.header for c in shown}
    for row in range(len(frame)):
        line = next(line for line in lines if f" {frame['model'][row]} " in f" {line} ")
        for column in shown:
            assert column.format(frame[column.key][row]) in line
    assert "-0.0000" not in text
    if len(shown) < len(columns):
        assert "not shown at this width" in text
