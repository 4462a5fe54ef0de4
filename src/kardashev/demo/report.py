"""The demo's HTML report: one self-contained file (plotly.js embedded once, no network needed).

:func:`render_report` turns a :class:`ReportData` into HTML; :func:`write_report` writes it. It opens
with the conclusion in words, then the fund's weekly book, the crowd (engine ledger, signal
correlation, a drill-down into the highest-TC model), the validation and the reference tables. Each
section is an element with a stable ``id`` (:data:`SECTION_IDS`). Figures resize with the page and
tables scroll inside their box, so nothing is clipped from 1024 px up.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kardashev.demo import report_sections as parts
from kardashev.demo.book import FundBook
from kardashev.demo.drilldown import Drilldown
from kardashev.demo.figures import (
    cumulative_scores_figure,
    stake_share_figure,
)
from kardashev.demo.figures_fund import (
    exposure_figure,
    trading_figure,
)
from kardashev.demo.report_tables import (
    config_frame,
    html_table,
    leaderboard_labels,
    p_value,
)
from kardashev.demo.simulation import SimulationResult
from kardashev.demo.story import Story

__all__ = ["SECTION_IDS", "ReportData", "render_report", "write_report"]

SECTION_IDS = (
    "conclusion",
    "summary",
    "fund-pnl",
    "fund-trading",
    "fund-exposure",
    "factor-exposure",
    "stakes-ledger",
    "signal-correlation",
    "drilldown",
    "validation",
    "cumulative-scores",
    "tc-vs-corr",
    "stake-shares",
    "grades",
    "leaderboard",
    "exposures",
    "optimizer",
    "glossary",
)


@dataclass(frozen=True)
class ReportData:
    """What the report shows.

    Attributes
    ----------
    title
        Page title.
    generated_at
        When the demo ran (text, UTC).
    settings
        Demo settings shown in the summary (name → value).
    runtime_seconds
        Wall time of the demo.
    model_names, archetypes
        Per model.
    simulation
        The in-memory season (fund tracks, scores, validation).
    leaderboard
        The engine's leaderboard (one row per model).
    grades
        Kardashev grades per model (one row per model).
    fund_grade
        Lines describing the fund's Type IV test.
    optimizer_config
        The optimizer configuration used (a dataclass).
    season_summary
        Lines about the season run through the tournament engine (rounds, submissions, payouts …).
    """

    title: str
    generated_at: str
    settings: dict[str, object]
    runtime_seconds: float
    model_names: tuple[str, ...]
    archetypes: tuple[str, ...]
    simulation: SimulationResult
    leaderboard: pd.DataFrame
    grades: pd.DataFrame
    fund_grade: tuple[str, ...]
    optimizer_config: object
    season_summary: tuple[str, ...] = ()
    books: dict[str, FundBook] = field(default_factory=dict)
    ledger: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["model", "round"]))
    signal_correlation: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    drilldown: Drilldown | None = None
    story: Story | None = None


_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1d2a3a;color:#fff;padding:18px 24px}
header h1{margin:0;font-size:1.6em} header p{margin:4px 0 0;color:#c9d3df}
main{max-width:1200px;margin:0 auto;padding:12px 16px 40px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:12px 16px;margin:18px 0}
h2{font-size:1.2em;margin:6px 0 10px;color:#1d2a3a} h3{font-size:1em;margin:14px 0 6px}
table{border-collapse:collapse;font-size:0.85em;margin:0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f1f4f8;position:sticky;top:0} td:first-child,th:first-child{text-align:left}
td.text{text-align:left} tr.marked td{background:#fff2f2;font-weight:600}
.verdict{font-size:1.05em;background:#f4f8ff;border-left:4px solid #1f77b4;padding:8px 12px}
.verdict ol{margin:4px 0;padding-left:22px} .verdict li{margin:4px 0}
.scroll{max-width:100%;overflow-x:auto;margin:8px 0} .scroll.tall{max-height:520px;overflow-y:auto}
.figure{width:100%;overflow:hidden}
code{overflow-wrap:anywhere} dt{font-weight:600;margin-top:6px} dd{margin:2px 0 0 18px}
ul{margin:6px 0}
"""


def render_report(data: ReportData) -> str:
    """The report as one self-contained HTML page."""
    figures = parts.Figures()
    sections = {
        "conclusion": ("Conclusion", parts.conclusion(data)),
        "summary": ("Settings and the season through the engine", parts.summary(data)),
        "fund-pnl": ("The fund's weekly P&L under each payout rule", parts.fund_pnl(data, figures)),
        "fund-trading": (
            "Turnover and trading costs",
            figures(trading_figure(data.books), div_id="trading-figure") if data.books else "<p>–</p>",
        ),
        "fund-exposure": (
            "Gross and net exposure, long and short names",
            figures(exposure_figure(data.books), div_id="exposure-figure") if data.books else "<p>–</p>",
        ),
        "factor-exposure": ("Realized factor exposure of the fund", parts.factor_exposure(data, figures)),
        "stakes-ledger": (
            "Stakes, payouts and burns per model (engine ledger)",
            parts.stakes_ledger(data, figures),
        ),
        "signal-correlation": ("How alike the signals are", parts.signals(data, figures)),
        "drilldown": ("Drill-down: the highest-TC model's contribution", parts.drilldown(data, figures)),
        "validation": ("Validation of TC against leave-one-out re-runs", parts.validation(data, figures)),
        "cumulative-scores": (
            "Cumulative CORR, MMC, TC and True Return per archetype",
            figures(cumulative_scores_figure(data), div_id="cumulative-figure"),
        ),
        "tc-vs-corr": ("TC rank vs CORR rank (validation fund)", parts.tc_vs_corr(data, figures)),
        "stake-shares": (
            "Stake per archetype in the in-memory funds",
            figures(stake_share_figure(data), div_id="stake-share-figure"),
        ),
        "grades": (
            "Kardashev grades (validation fund's per-era scores)",
            parts.escape_list(list(data.fund_grade))
            + html_table(data.grades, formats={"TC p (Holm)": p_value}, tall=True),
        ),
        "leaderboard": (
            "Leaderboard (tournament engine; rank by the engine's season TC)",
            "<p>Season means over the resolved rounds; TC, CORR, MMC and FNC are the engine's scores, True "
            "Return the in-memory fund's; stakes in tokens.</p>"
            + html_table(leaderboard_labels(data.leaderboard), tall=True),
        ),
        "exposures": (
            "Meta model: largest feature exposures",
            "<p>Pearson correlation of the stake-weighted meta model with each feature, per era.</p>"
            + html_table(parts.exposure_table(data), formats={"share of eras > 0": "pct"}),
        ),
        "optimizer": ("Optimizer configuration", html_table(config_frame(data.optimizer_config))),
        "glossary": ("Glossary and next commands", parts.glossary(data)),
    }
    body = "".join(
        f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{content}</section>'
        for section_id, (title, content) in sections.items()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(data.title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{html.escape(data.title)}</h1>"
        f"<p>generated {html.escape(data.generated_at)}</p></header>"
        f"<main>{body}</main></body></html>"
    )


def write_report(path: Path, data: ReportData) -> Path:
    """Write the report to ``path`` (parent folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    return path
