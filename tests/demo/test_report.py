"""The HTML report: every section present, one embedded plotly.js, escaped text, no network,
the conclusion first, axis titles on every figure, one number format."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kardashev.cli.number_format import format_value
from kardashev.demo.figures_crowd import drilldown_figure, ledger_figure, ledger_frame, signal_heatmap
from kardashev.demo.figures_fund import (
    exposure_figure,
    factor_exposure_figure,
    factor_heatmap,
    pnl_figure,
    trading_figure,
)
from kardashev.demo.report import SECTION_IDS, render_report, write_report


def _section(html: str, section: str) -> str:
    return html.split(f'<section id="{section}">')[1].split("</section>")[0]


def test_report_has_every_section_and_embeds_plotly_once(fake_report_data, tmp_path) -> None:
    path = write_report(tmp_path / "sub" / "report.html", fake_report_data)
    html = path.read_text(encoding="utf-8")
    positions = [html.index(f'<section id="{section}">') for section in SECTION_IDS]
    assert positions == sorted(positions) and SECTION_IDS[0] == "conclusion"
    # plotly.js embedded exactly once, nothing loaded from the network
    assert html.count("* plotly.js v") == 1
    assert not re.findall(r"<script[^>]+src=", html)
    assert "<link" not in html
    assert html.count('class="plotly-graph-div"') >= 10
    # user-provided text is escaped
    assert "Kardashev demo &lt;test&gt;" in html
    validation = fake_report_data.simulation.validation
    assert f"{validation.spearman_loo['tc']:.3f}" in html
    assert "Unstaked original TC rank" in html
    assert "risk_aversion" in html and "gross_leverage" in html


def test_conclusion_is_the_story_in_words(fake_report_data) -> None:
    section = _section(render_report(fake_report_data), "conclusion")
    assert section.count("<li>") == 5
    for sentence in fake_report_data.story.sentences:
        assert sentence.replace("'", "&#x27;") in section


def test_fund_section_reports_compounded_weekly_returns(fake_report_data) -> None:
    section = _section(render_report(fake_report_data), "fund-pnl")
    for label in ("with static stakes", "paid on TC", "paid on CORR", "paid on MMC"):
        assert label in section
    book = fake_report_data.books["tc"]
    compounded = float(np.prod(1 + book.gross_pnl - book.cost) - 1)
    assert f"<td>{format_value(compounded, 'signed_pct')}</td>" in section


def test_rank_section_marks_high_tc_low_corr_models(fake_report_data) -> None:
    section = _section(render_report(fake_report_data), "tc-vs-corr")
    listing = section.split("bottom half by CORR (validation fund):</p>")[1]
    assert "<td class='text'>model_09</td>" in listing
    assert "<td class='text'>model_00</td>" not in listing  # a consensus model with a CORR edge is not


def test_no_negative_zero_and_no_raw_floats(fake_report_data) -> None:
    html = render_report(fake_report_data)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert not [cell for cell in cells if re.fullmatch(r"-0(\.0+)?%?", cell)]
    # every number has a fixed number of decimals (no 0.01611 next to 0.05 next to 7.93e-08)
    raw = [cell for cell in cells if re.fullmatch(r"[+-]?\d+\.\d{5,}", cell)]
    assert not raw, raw[:5]


def _axis_titles(figure) -> list[str]:
    missing = []
    layout = figure.layout
    for name in layout:
        if re.fullmatch(r"[xy]axis\d*", name) and not (layout[name].title and layout[name].title.text):
            missing.append(name)
    return missing


def test_every_figure_has_axis_titles(fake_report_data, tiny_demo) -> None:
    books = fake_report_data.books
    frame = ledger_frame(
        fake_report_data.ledger,
        dict(zip(fake_report_data.model_names, fake_report_data.archetypes, strict=True)),
    )
    figures = [
        pnl_figure(books),
        trading_figure(books),
        exposure_figure(books),
        factor_exposure_figure(books),
        factor_heatmap(books["tc"]),
        ledger_figure(frame),
        signal_heatmap(
            fake_report_data.signal_correlation, fake_report_data.model_names, fake_report_data.archetypes
        ),
        drilldown_figure(tiny_demo.drilldown),
    ]
    for figure in figures:
        assert not _axis_titles(figure), (figure.layout.title.text, _axis_titles(figure))


def test_tiny_demo_result_is_consistent(tiny_demo) -> None:
    """The real tiny run: ledger balanced, every model on the leaderboard, validation present."""
    assert tiny_demo.ledger_ok
    board = tiny_demo.leaderboard
    assert len(board) == 14 and set(board["model"]) == set(tiny_demo.grades["model"])
    # the rank is the order of the engine's season TC
    ranked = board.sort_values("rank")["tc_season"].to_numpy()
    assert np.all(np.diff(ranked[np.isfinite(ranked)]) <= 0)
    validation = tiny_demo.simulation.validation
    assert validation is not None and validation.n_eras == 8
    html = tiny_demo.report_path.read_text(encoding="utf-8")
    assert f"{validation.spearman_loo['tc']:.3f}" in html
    # the drill-down explains the top model's TC: the stock contributions sum to the recorded TC
    drill = tiny_demo.drilldown
    season = np.nansum(tiny_demo.simulation.scores.tc, axis=0)
    assert drill.model == tiny_demo.simulation.validation.model_names[int(np.argmax(season))]
    np.testing.assert_allclose(drill.explanation.stock_contributions.sum(), drill.explanation.tc)
    # weekly books: one week per era, and the ledger covers the resolved rounds
    for book in tiny_demo.books.values():
        assert len(book.net_pnl) == 8 and np.all(np.isfinite(book.net_pnl))
        np.testing.assert_allclose(book.gross_exposure, 1.0, atol=1e-6)
    assert set(tiny_demo.ledger["model"]) == set(board["model"])


def test_same_seed_same_numbers(tiny_demo, tmp_path) -> None:
    """``kardashev demo`` is deterministic: a second run with the same seed tells the same story."""
    import dataclasses
    import datetime as dt
    import io

    from rich.console import Console

    from kardashev.demo import run_demo

    config = dataclasses.replace(tiny_demo.config, out=tmp_path / "again")
    later = dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc)
    again = run_demo(config, now=later, console=Console(file=io.StringIO(), width=120))
    assert again.story.sentences == tiny_demo.story.sentences
    columns = [c for c in tiny_demo.leaderboard.columns if c != "stake now"]
    pd.testing.assert_frame_equal(again.leaderboard[columns], tiny_demo.leaderboard[columns])
    np.testing.assert_array_equal(again.leaderboard["stake now"], tiny_demo.leaderboard["stake now"])
    for rule, book in tiny_demo.books.items():
        np.testing.assert_array_equal(again.books[rule].net_pnl, book.net_pnl)


def test_leaderboard_headers_say_what_each_column_is() -> None:
    from kardashev.demo.report_tables import leaderboard_labels

    columns = ["rank", "tc", "tc_4r", "tc_season", "true_return_season", "stake", "stake now", "return_4r"]
    labelled = leaderboard_labels(pd.DataFrame(columns=columns)).columns.tolist()
    assert labelled == [
        "rank (by TC season)",
        "TC latest",
        "TC last 4 rounds",
        "TC season",
        "TrueRet season",
        "stake at risk, latest round",
        "stake now (free + at risk)",
        "return on stake last 4 rounds",
    ]


def test_columns_formatted_by_what_they_hold() -> None:
    from kardashev.demo.report_tables import html_table

    frame = pd.DataFrame(
        {
            "stake now (free + at risk)": [1634.138389],
            "tokens paid": [12.5],
            "return on stake latest": [0.01611],
            "Spearman with stake bump": [0.99934],
            "TC t (NW)": [2.1049],
            "TC p (Holm)": [0.00001],
        }
    )
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html_table(frame))
    assert cells == ["1,634.14", "12.50", "+0.0161", "+0.9993", "+2.10", "&lt;0.0001"]
