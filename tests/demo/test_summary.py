"""What ``kardashev demo`` prints: every number of its three tables whole at 80 and 120 columns,
the five sentences, the glossary and the next commands."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from kardashev.cli.number_format import format_value
from kardashev.demo.summary import (
    fund_columns,
    fund_frame,
    leaderboard_columns,
    print_summary,
    validation_columns,
    validation_frame,
)


def _board(names: tuple[str, ...]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = len(names)
    tc = np.sort(rng.normal(0, 0.01, n))[::-1]
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "model": names,
            "archetype": ["unstaked_original"] * n,
            "tc_season": tc,
            "corr_season": rng.normal(0, 0.05, n),
            "mmc_season": np.r_[-1e-6, rng.normal(0, 0.02, n - 1)],  # rounds to zero: no "-0.0000"
            "true_return_season": rng.normal(0, 0.01, n),
            "stake now": rng.uniform(0, 5000, n),
            "grade": ["Type III"] * n,
        }
    )


def _printed(data, width: int) -> tuple[str, SimpleNamespace]:
    result = SimpleNamespace(
        leaderboard=_board(data.model_names),
        ledger=data.ledger,
        books=data.books,
        simulation=data.simulation,
        story=data.story,
        report_path="kardashev-demo/report.html",
        database_label="embedded SQLite",
        ledger_ok=True,
        runtime_seconds=1.0,
    )
    buffer = io.StringIO()
    print_summary(result, console=Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue(), result


def _whole(value: str, text: str) -> bool:
    return re.search(rf"(?<![\w.,+-]){re.escape(value)}(?![\w.,%])", text) is not None


@pytest.mark.parametrize("width", [80, 120])
def test_every_number_printed_whole(fake_report_data, width: int) -> None:
    text, result = _printed(fake_report_data, width)
    assert max(len(line) for line in text.splitlines()) <= width
    tables = (
        (result.leaderboard, leaderboard_columns()),
        (fund_frame(result.books, result.simulation), fund_columns()),
        (validation_frame(result.simulation.validation), validation_columns()),
    )
    for frame, columns in tables:
        for column in columns:
            if column.key in ("model", "archetype", "rule", "score", "grade") or column.key not in frame:
                continue
            for value in frame[column.key]:
                cell = format_value(value, column.fmt)
                assert _whole(cell, text), f"{column.key}: {cell!r} not printed whole at {width} columns"
    assert "-0.0000" not in text and "-0.00%" not in text


def test_story_glossary_and_commands_printed(fake_report_data) -> None:
    text, _ = _printed(fake_report_data, 200)
    assert "ranked by the engine's TC" in text and "Validation fund (static stakes, in memory)" in text
    story = " ".join(text.split("What this run showed")[1].split())  # lines wrapped at the width
    for number, sentence in enumerate(fake_report_data.story.sentences, start=1):
        assert f"{number}. {sentence}" in story
    assert "Glossary" in story and "Type IV:" in story and "TrueRet:" in story
    assert "kardashev leaderboard --data-dir kardashev-demo" in story
    assert "kardashev diagnostics model_09 --data-dir kardashev-demo" in story
