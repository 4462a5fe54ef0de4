"""``kardashev demo`` end to end on a tiny market: leaderboard printed, report written, ledger balanced."""

from __future__ import annotations

import re

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
    assert "Leaderboard" in output
    assert "unstaked" in output  # the unstaked original is on the board (highlighted)
    assert re.search(r"Spearman\(TC, LOO\) = -?\d\.\d{3}", output)
    assert "unstaked original TC rank" in output
    assert "ledger balanced" in output
    report = out / "report.html"
    assert report.exists()
    html = report.read_text(encoding="utf-8")
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in html
    assert html.count("* plotly.js v") == 1  # plotly.js embedded once: the report needs no network
    assert not re.findall(r"<script[^>]+src=", html)
    assert (out / "kardashev.db").exists()

    # running again into the same demo folder replaces the previous run
    again = CliRunner().invoke(
        app, ["demo", *TINY, "--out", str(out), "--no-validate", "--stake-rule", "corr"]
    )
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert "Validation against the planted truth" not in again.output
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
