"""The five sentences are computed from the run, and the next commands name the demo's folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kardashev.cli.number_format import format_value
from kardashev.demo.story import GLOSSARY, next_commands, rank_of


def test_five_sentences_from_the_numbers(fake_report_data) -> None:
    story = fake_report_data.story
    assert len(story.sentences) == 5
    simulated, rewarded, fund, type_iv, trust = story.sentences
    assert "12 weekly rounds" in simulated and "100 stocks" in simulated and "10 models" in simulated
    # the unstaked original: best TC, worst CORR in the fixture, is named as the signal CORR missed
    assert "model_09 (unstaked_original" in rewarded
    books = fake_report_data.books
    for rule in ("tc", "corr", "mmc", "static"):
        assert format_value(books[rule].total_return, "signed_pct") in fund
    assert "not Type IV" in type_iv and "model_09" in type_iv
    edge = books["tc"].net_pnl - books["corr"].net_pnl
    assert format_value(edge.mean(), "signed_pct3") in trust
    validation = fake_report_data.simulation.validation
    assert f"{validation.spearman_loo['tc']:+.4f}" in trust
    assert {term for term, _ in story.glossary} >= {"CORR", "MMC", "TC", "TrueRet", "grades", "Type IV"}
    assert story.glossary == GLOSSARY


def test_next_commands_carry_the_data_dir_and_the_model() -> None:
    commands = [
        c for c, _ in next_commands(out=Path("kardashev-demo"), database_url=None, run_tag="", model="m_1")
    ]
    assert "kardashev leaderboard --data-dir kardashev-demo" in commands
    assert "kardashev diagnostics m_1 --data-dir kardashev-demo" in commands
    tagged = next_commands(
        out=Path("my demo"),
        database_url="postgresql+psycopg://user:secret@db.example/prod",
        run_tag="demo2026-",
        model="m_1",
    )
    text = " ".join(c for c, _ in tagged)
    assert "'my demo'" in text and "demo2026-m_1" in text
    assert "secret" not in text and "db.example/prod" in text


def test_rank_of_puts_nan_last() -> None:
    assert rank_of(np.array([0.1, np.nan, 0.3, -0.2])).tolist() == [2, 4, 1, 3]
