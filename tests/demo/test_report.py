"""The HTML report: every section present, one embedded plotly.js, escaped text, no network."""

from __future__ import annotations

import re

import numpy as np

from kardashev.demo.report import SECTION_IDS, render_report, write_report


def test_report_has_every_section_and_embeds_plotly_once(fake_report_data, tmp_path) -> None:
    path = write_report(tmp_path / "sub" / "report.html", fake_report_data)
    html = path.read_text(encoding="utf-8")
    for section in SECTION_IDS:
        assert f'<section id="{section}">' in html
    # plotly.js embedded exactly once, nothing loaded from the network
    assert html.count("* plotly.js v") == 1
    assert not re.findall(r"<script[^>]+src=", html)
    assert "<link" not in html
    assert html.count('class="plotly-graph-div"') >= 5
    # user-provided text is escaped
    assert "Kardashev demo &lt;test&gt;" in html
    # validation figures and the unstaked original's rank are shown
    validation = fake_report_data.simulation.validation
    assert f"{validation.spearman_loo['tc']:.3f}" in html
    assert "Unstaked original TC rank" in html
    # the optimizer configuration is listed field by field
    assert "risk_aversion" in html and "gross_leverage" in html


def test_rank_section_marks_high_tc_low_corr_models(fake_report_data) -> None:
    html = render_report(fake_report_data)
    section = html.split('<section id="tc-vs-corr">')[1].split("</section>")[0]
    # the unstaked original (best TC, worst CORR in the fixture) is listed below the scatter
    listing = section.split("bottom half by CORR:</p>")[1]
    assert "<td>model_09</td>" in listing
    assert "<td>model_00</td>" not in listing  # a consensus model with a CORR edge is not


def test_fund_table_reports_each_rule(fake_report_data) -> None:
    html = render_report(fake_report_data)
    section = html.split('<section id="fund">')[1].split("</section>")[0]
    for label in ("static stakes", "paid on TC", "paid on CORR", "paid on MMC"):
        assert label in section
    sharpe = fake_report_data.simulation.tracks["tc"].sharpe
    assert np.isfinite(sharpe)


def test_tiny_demo_result_is_consistent(tiny_demo) -> None:
    """The real tiny run: ledger balanced, every model on the leaderboard, validation present."""
    assert tiny_demo.ledger_ok
    board = tiny_demo.leaderboard
    assert len(board) == 14 and set(board["model"]) == set(tiny_demo.grades["model"])
    validation = tiny_demo.simulation.validation
    assert validation is not None and validation.n_eras == 8
    assert np.isfinite(validation.spearman_loo["tc"])
    html = tiny_demo.report_path.read_text(encoding="utf-8")
    assert f"{validation.spearman_loo['tc']:.3f}" in html
