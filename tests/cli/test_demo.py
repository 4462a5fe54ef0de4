"""``kardashev demo`` end to end on a tiny market: leaderboard printed, report written, ledger balanced."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app, main
from kardashev.demo.report import SECTION_IDS

TINY = ["--stocks", "150", "--models", "14", "--rounds", "8", "--seed", "3"]


@pytest.mark.slow
def test_tiny_demo_end_to_end(tmp_path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", *TINY, "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output + repr(result.exception)
    output = result.output
    assert "Leaderboard: tournament engine" in output
    assert "unstaked" in output  # the unstaked original is on the board
    assert "Validation fund (static stakes, in memory)" in output
    assert re.search(r"the unstaked original ranks #\d+ of 14", output)
    assert "ledger balanced" in output
    # the story: five numbered sentences, a glossary and the next commands with the demo's folder
    story = output.split("What this run showed")[1]
    assert all(f"\n{n}. " in story for n in range(1, 6))
    assert "Glossary" in story and "Type IV" in story
    assert f"kardashev leaderboard --data-dir {out}" in story
    assert "-0.0000" not in output and "-0.00%" not in output
    report = out / "report.html"
    assert report.exists()
    html = report.read_text(encoding="utf-8")
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in html
    assert html.count("* plotly.js v") == 1  # plotly.js embedded once: the report needs no network
    assert not re.findall(r"<script[^>]+src=", html)
    assert (out / "kardashev.db").exists()

    # every command the demo suggests runs against what it wrote
    commands = re.findall(r"^  (kardashev .+)$", output, flags=re.MULTILINE)
    assert len(commands) >= 4 and any("diagnostics" in c for c in commands)
    for command in commands:
        args = shlex.split(command)[1:]
        ran = CliRunner().invoke(app, args, terminal_width=200)
        assert ran.exit_code == 0, f"{command}: {ran.output}"
        assert "no resolved rounds yet" not in ran.output and "has no scored rounds" not in ran.output

    # running again into the same demo folder replaces the previous run
    again = CliRunner().invoke(
        app, ["demo", *TINY, "--out", str(out), "--no-validate", "--stake-rule", "corr"]
    )
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert "Validation fund" not in again.output
    assert report.exists()


def test_demo_refuses_a_folder_it_does_not_own(tmp_path, capsys) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *TINY, "--out", str(foreign)])
    assert exit_info.value.code == 2
    assert "not a Kardashev demo folder" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_demo_rejects_an_unknown_stake_rule(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *TINY, "--out", str(tmp_path / "x"), "--stake-rule", "vibes"])
    assert exit_info.value.code == 2
    assert "stake rule" in capsys.readouterr().err
