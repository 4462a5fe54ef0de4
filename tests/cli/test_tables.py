"""The width-aware table renderer: every number printed whole, at any width."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from kardashev.cli.tables import Column, NumberFormat, format_value, output_console, render_table
from tests.cli.table_text import parse_number, parse_table

COLUMNS = [
    Column("model"),
    Column("corr", "CORR mean", short="CORR", fmt="score"),
    Column("sharpe", "Sharpe ratio", short="Shp", fmt="ratio"),
    Column("t", "t(NW)", fmt="ratio", legend="Newey-West t-statistic of CORR"),
    Column("stake", "stake (tokens)", short="stake", fmt="tokens"),
    Column("alpha", "Alpha", fmt="sci"),
    Column("eras", "eras", fmt="int"),
]
HEADERS = [(c.title, c.short or c.title) for c in COLUMNS]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["unstaked_original_01", "b", "c"],
            "corr": [0.0576, -0.00001, -0.0036],
            "sharpe": [1.234, -0.5, np.nan],
            "t": [2.5, np.nan, -0.004],
            "stake": [Decimal("1614.138389"), Decimal("1234567.1"), Decimal("0")],
            "alpha": [7.93e-08, -1.2e-5, 0.0],
            "eras": [120, 3, 0],
        }
    )


def _render(width: int, frame: pd.DataFrame | None = None, **options) -> tuple[str, str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, legacy_windows=False)
    layout = render_table(_frame() if frame is None else frame, COLUMNS, console=console, **options)
    return layout, buffer.getvalue()


def _check_numbers(records: dict[str, dict[str, str]], frame: pd.DataFrame) -> None:
    assert set(records) == set(frame["model"])
    for _, row in frame.iterrows():
        cells = records[row["model"]]
        for column in COLUMNS[1:]:
            parsed = parse_number(cells[column.title])
            value = row[column.key]
            if pd.isna(value):
                assert parsed is None
            else:
                assert parsed is not None
                assert float(value) == pytest.approx(parsed[0], abs=parsed[1] * 1.0001)


@pytest.mark.parametrize(
    ("width", "expected"),
    [(160, "wide"), (80, "short"), (60, "split"), (40, "split"), (24, "vertical")],
)
def test_every_number_is_printed_whole_at_every_width(width: int, expected: str) -> None:
    layout, text = _render(width)
    assert layout == expected
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    parsed_layout, records = parse_table(text, HEADERS)
    assert parsed_layout == expected
    _check_numbers(records, _frame())


@pytest.mark.parametrize("width", [40, 60])
def test_vertical_layout_is_name_value_lines_at_narrow_widths(width: int) -> None:
    one = _frame().head(1)
    layout, text = _render(width, one)
    assert layout == "vertical"
    lines = text.splitlines()
    start = lines.index("unstaked_original_01")
    assert lines[start + 1].split() == ["CORR", "mean:", "0.0576"]
    assert lines[start + 4].split() == ["stake", "(tokens):", "1,614.14"]
    assert "t(NW): Newey-West t-statistic of CORR" in " ".join(text.split())
    assert parse_table(text, HEADERS)[0] == "vertical"
    _check_numbers(parse_table(text, HEADERS)[1], one)


@pytest.mark.parametrize("width", [40, 60])
def test_vertical_layout_when_labels_leave_no_room_for_a_column(width: int) -> None:
    frame = _frame().assign(model=[f"model_{i}_".ljust(width - 2, "x") for i in range(3)])
    layout, text = _render(width, frame)
    assert layout == "vertical"
    assert max(len(line) for line in text.splitlines()) <= width
    _check_numbers(parse_table(text, HEADERS)[1], frame)


def test_split_layout_repeats_the_labels_in_each_panel() -> None:
    layout, text = _render(40)
    assert layout == "split"
    headers = [line for line in text.splitlines() if line.startswith("model ")]
    assert len(headers) >= 2
    assert "CORR: CORR mean" in " ".join(text.split())


def test_short_headers_are_explained_in_a_legend() -> None:
    layout, text = _render(80)
    assert layout == "short"
    legend = " ".join(text.split())
    assert "Shp: Sharpe ratio" in legend and "CORR: CORR mean" in legend
    assert "t(NW): Newey-West t-statistic of CORR" in legend


def test_no_negative_zero_and_one_format_per_kind() -> None:
    assert format_value(-0.00001, "score") == "0.0000"
    assert format_value(-0.00001, "signed") == "0.0000"
    assert format_value(0.01, "signed") == "+0.0100"
    assert format_value(-0.004, "ratio") == "0.00"
    assert format_value(Decimal("1614.138389"), "tokens") == "1,614.14"
    assert format_value(-1234567.5, "tokens") == "-1,234,567.50"
    assert format_value(-1e-300, "sci") == "-1.00e-300"
    assert format_value(-0.0, "sci") == "0.00e+00"
    assert format_value(np.int64(12), "int") == "12"
    assert format_value(np.nan, "score") == format_value(None, "tokens") == format_value(pd.NA) == "—"


def test_records_with_several_label_columns_and_styles() -> None:
    frame = _frame().assign(target=["t20", "t20", "t60"])
    buffer = io.StringIO()
    columns = [Column("target"), *COLUMNS]
    render_table(
        frame,
        columns,
        labels=2,
        styles=["bold red", None, None],
        console=Console(file=buffer, width=30, color_system=None),
    )
    _, records = parse_table(buffer.getvalue(), [(c.title, c.short or c.title) for c in columns], labels=2)
    assert set(records) == {"t20 · unstaked_original_01", "t20 · b", "t60 · c"}


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown column format"):
        Column("x", fmt="percent")
    with pytest.raises(ValueError, match="no column"):
        render_table(pd.DataFrame({"a": [1]}), [Column("b")], console=Console(file=io.StringIO()))


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e9, max_value=1e9) | st.just(float("nan")), min_size=1, max_size=5),
    width=st.integers(min_value=4, max_value=200),
)
def test_any_numbers_at_any_width(values: list[float], width: int) -> None:
    frame = pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(len(values))],
            "corr": values,
            "sharpe": values,
            "t": values,
            "stake": values,
            "alpha": values,
            "eras": range(len(values)),
        }
    )
    _, text = _render(width, frame)
    _, records = parse_table(text, HEADERS)
    _check_numbers(records, frame)


def test_number_format_is_frozen_and_callable() -> None:
    fmt = NumberFormat(decimals=1, sign=True)
    assert fmt(2.25) == "+2.2" and fmt(-0.04) == "0.0"


def test_output_console_is_wide_when_not_a_terminal(capsys):
    console = output_console()
    assert not console.is_terminal  # pytest captures the output
    assert console.width >= 160
