import io

from rich.console import Console

from kardashev.cli.tables import compact_table, output_console


def test_compact_table_keeps_names_whole_and_never_cuts_a_number():
    table = compact_table("model", "CORR", "MMC", "TC", "FNC", "stake", title="scores")
    table.add_row("unstaked_original_01", "+0.0630", "-0.0021", "+0.0159", "+0.0618", "1614.138389")
    buffer = io.StringIO()
    Console(file=buffer, width=60, color_system=None).print(table)
    text = buffer.getvalue()
    assert "…" not in text
    lines = [line.split() for line in text.splitlines() if line.strip()]
    first = next(i for i, line in enumerate(lines) if line and line[0] == "unstaked_original_01")
    values = lines[first][1:]
    # a narrow console folds a number onto the next line, keeping every digit in order
    for continuation in lines[first + 1 :]:
        values = [head + tail for head, tail in zip(values, continuation, strict=True)]
    assert values == ["+0.0630", "-0.0021", "+0.0159", "+0.0618", "1614.138389"]


def test_output_console_is_wide_when_not_a_terminal(capsys):
    console = output_console()
    assert not console.is_terminal  # pytest captures the output
    assert console.width >= 160
