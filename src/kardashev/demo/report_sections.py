"""The report's sections: each turns the :class:`~kardashev.demo.report.ReportData` into HTML.

:class:`Figures` renders plotly figures (the first carries plotly.js inline, the others reuse it);
figures resize with the page. Tables go through :func:`kardashev.demo.report_tables.html_table`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kardashev.cli.number_format import MISSING, format_value
from kardashev.demo.drilldown import Drilldown
from kardashev.demo.figures import archetype_color, rank_figure, rank_frame
from kardashev.demo.figures_crowd import drilldown_figure, ledger_figure, ledger_frame, signal_heatmap
from kardashev.demo.figures_fund import factor_exposure_figure, factor_heatmap, pnl_figure
from kardashev.demo.report_tables import (
    BOOK_FORMATS,
    book_frame,
    html_table,
    ledger_summary,
)

if TYPE_CHECKING:
    from kardashev.demo.report import ReportData

__all__ = [
    "Figures",
    "conclusion",
    "drilldown",
    "escape_list",
    "exposure_table",
    "factor_exposure",
    "fund_pnl",
    "glossary",
    "signals",
    "stakes_ledger",
    "summary",
    "tc_vs_corr",
    "validation",
]


class Figures:
    """Renders figures; the first one carries plotly.js inline, the others reuse it."""

    def __init__(self) -> None:
        self._first = True

    def __call__(self, figure: go.Figure, *, div_id: str) -> str:
        figure.update_layout(
            template="plotly_white",
            autosize=True,
            margin={"l": 70, "r": 20, "t": 90, "b": 120},
            separators=".,",
            # the legend at the bottom of the figure, under the x-axis titles (never over them)
            legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.005, "x": 0},
        )
        out = figure.to_html(
            full_html=False,
            include_plotlyjs=self._first,
            div_id=div_id,
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
        self._first = False
        return f"<div class='figure'>{out}</div>"


def escape_list(lines: tuple[str, ...] | list[str], tag: str = "ul") -> str:
    return f"<{tag}>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + f"</{tag}>"


def conclusion(data: ReportData) -> str:
    if data.story is None:
        return "<p class='verdict'>The run recorded no story (an empty season).</p>"
    return "<div class='verdict'>" + escape_list(data.story.sentences, "ol") + "</div>"


def summary(data: ReportData) -> str:
    settings = "".join(
        f"<li><b>{html.escape(str(name))}</b>: {html.escape(str(value))}</li>"
        for name, value in data.settings.items()
    )
    season = escape_list(data.season_summary) if data.season_summary else ""
    return f"<ul>{settings}<li><b>runtime</b>: {data.runtime_seconds:.1f} s</li></ul>" + (
        f"<h3>Season through the tournament engine</h3>{season}" if season else ""
    )


def fund_pnl(data: ReportData, figures: Figures) -> str:
    if not data.books:
        return "<p>No weekly book was recorded.</p>"
    planted = {
        rule: data.simulation.planted_value(rule) for rule in data.books if rule in data.simulation.tracks
    }
    return (
        "<p>The fund rebalances every week and holds its portfolio <i>w<sub>t</sub></i> for one week: its "
        "weekly return is <i>w<sub>t</sub>·r<sub>t→t+1</sub></i> minus the cost of trading into "
        "<i>w<sub>t</sub></i> (the optimizer's cost model). These returns do not overlap, so they compound "
        "into the curve below. Each rule is a copy of the fund on the same market and crowd whose stakers "
        "are "
        "paid on that score.</p>"
        + figures(pnl_figure(data.books), div_id="pnl-figure")
        + html_table(book_frame(data.books, planted), formats=BOOK_FORMATS)
    )


def factor_exposure(data: ReportData, figures: Figures) -> str:
    books = {rule: book for rule, book in data.books.items() if book.factor_exposure.size}
    if not books:
        return "<p>No factor exposure was recorded.</p>"
    shown = books.get("tc") or next(iter(books.values()))
    return (
        "<p>Realized exposure <i>Bᵀw</i> of the fund's book to the risk model's factors (the optimizer "
        "neutralizes the published exposures, so what is left is numerical leftover and names that left the "
        "universe).</p>"
        + figures(factor_exposure_figure(books), div_id="factor-figure")
        + figures(factor_heatmap(shown), div_id="factor-heatmap")
    )


def stakes_ledger(data: ReportData, figures: Figures) -> str:
    if data.ledger.empty or "stake" not in data.ledger.columns:
        return "<p>No round resolved in the engine.</p>"
    frame = ledger_frame(data.ledger, dict(zip(data.model_names, data.archetypes, strict=True)))
    return (
        "<p>From the tournament engine's ledger: each model's stake at risk in every resolved round, and the "
        "tokens paid and burned when the round resolved (tokens).</p>"
        + figures(ledger_figure(frame), div_id="ledger-figure")
        + html_table(ledger_summary(frame), tall=True)
    )


def signals(data: ReportData, figures: Figures) -> str:
    if data.signal_correlation.size == 0:
        return "<p>No era was recorded.</p>"
    return (
        "<p>Pearson correlation between the models' gaussianized predictions, averaged over the season's "
        "eras. Consensus models and copycats form blocks; original signals stand apart.</p>"
        + figures(
            signal_heatmap(data.signal_correlation, data.model_names, data.archetypes),
            div_id="signal-heatmap",
        )
    )


_STOCK_FORMATS = {
    "contribution": "signed_sci",
    "difference": "signed",
    "sensitivity": "signed_sci",
    "weight": "signed_sci",
    "realized_return": "signed",
    "meta_model": "signed",
    "bound_shadow_price": "signed_sci",
}


def drilldown(data: ReportData, figures: Figures) -> str:
    drill: Drilldown | None = data.drilldown
    if drill is None:
        return "<p>No model had a TC to explain.</p>"
    explanation = drill.explanation
    stocks = explanation.top(15).drop(columns=["return_gradient"], errors="ignore")
    constraints = explanation.constraint_frame()
    season_tc, era_tc, recorded = (
        format_value(value, "signed") for value in (drill.season_tc, explanation.tc, drill.era_tc)
    )
    return (
        f"<p><b>{html.escape(drill.model)}</b> ({html.escape(drill.archetype)}) has the highest season TC on "
        f"the validation fund ({season_tc}, summed over eras). In era {html.escape(drill.era)} "
        f"its TC is {era_tc}, the sum over stocks of <i>(G<sub>ik</sub> − m<sub>i</sub>)·∂R/∂"
        f"m<sub>i</sub></i>: how far the model's gaussianized prediction sits from the meta model on a "
        f"stock, "
        f"times how much the fund's realized return would rise if the meta model rose there (the validation "
        f"fund recorded {recorded} for the era). A stock held at a bound, or a move a constraint "
        f"undoes, passes little through; the shadow prices say which constraints bind and how hard.</p>"
        + figures(drilldown_figure(drill), div_id="drilldown-figure")
        + "<h3>The 15 stocks that move its TC most</h3>"
        + html_table(stocks, formats=_STOCK_FORMATS, index=True)
        + "<h3>Constraints</h3>"
        + html_table(constraints, formats={"shadow_price": "signed_sci"}, index=True)
    )


def validation(data: ReportData, figures: Figures) -> str:
    validation = data.simulation.validation
    if validation is None:
        return "<p>Validation was not run (<code>--no-validate</code>).</p>"
    names = {"tc": "TC", "mmc": "MMC", "corr": "CORR", "mpc": "MPC"}
    expected = getattr(validation, "planted", {}) or {}  # the planted expected value, when measured
    columns: dict[str, list[object]] = {"score": list(names.values())}
    if expected:
        columns["Spearman with planted expected value"] = [
            expected[key].spearman if key in expected else np.nan for key in names
        ]
        columns["interval"] = [
            f"{format_value(expected[key].low, 'signed')} to {format_value(expected[key].high, 'signed')}"
            if key in expected
            else MISSING
            for key in names
        ]
    columns["Spearman with leave-one-out"] = [validation.spearman_loo[key] for key in names]
    columns["Spearman with stake bump"] = [validation.spearman_bump[key] for key in names]
    columns["Spearman with crowd's planted value"] = [validation.spearman_true_value[key] for key in names]
    frame = pd.DataFrame(columns)
    cutoff = max(1, int(np.ceil(0.1 * validation.n_models)))
    ranks = ", ".join(map(str, validation.unstaked_original_tc_rank)) or "–"
    verdict = (
        f"Spearman(TC, LOO) = <b>{validation.spearman_loo['tc']:.3f}</b> (target ≥ 0.8; "
        f"{'higher' if validation.tc_beats_others else 'not higher'} than CORR, MMC and MPC). "
        f"Unstaked original TC rank: <b>{ranks}</b> of {validation.n_models} (top decile = rank ≤ {cutoff}: "
        f"{'yes' if validation.unstaked_original_top_decile else 'no'}). TC here is the in-memory validation "
        "fund's (static stakes), not the engine season's."
    )
    scatter = go.Figure()
    kinds = np.asarray(validation.archetypes)
    for kind in dict.fromkeys(validation.archetypes):
        mask = kinds == kind
        scatter.add_trace(
            go.Scatter(
                x=validation.totals["loo"][mask],
                y=validation.totals["tc"][mask],
                mode="markers",
                name=kind,
                text=np.asarray(validation.model_names)[mask],
                marker={"color": archetype_color(kind), "size": 9},
                hovertemplate="%{text}<br>LOO %{x:.4f}<br>TC %{y:.4f}<extra></extra>",
            )
        )
    scatter.update_xaxes(title_text="leave-one-out marginal value (season sum, per unit of stake share)")
    scatter.update_yaxes(title_text="TC (season sum)")
    scatter.update_layout(height=460, title="TC vs leave-one-out marginal value, per model")
    return (
        f"<p class='verdict'>{verdict}</p>"
        + html_table(frame)
        + f"<p>Over {validation.n_eras} eras on the static-stake fund. Leave-one-out: the fund re-optimized "
        "without the model, <code>(R(s) − R(s − s<sub>k</sub>e<sub>k</sub>))·Σs/s<sub>k</sub></code> "
        "(a stake bump for zero-stake models); stake bump: central difference of re-optimized returns "
        "with a bump of 0.1% of the total stake.</p>" + figures(scatter, div_id="validation-scatter")
    )


def tc_vs_corr(data: ReportData, figures: Figures) -> str:
    ranks_table = rank_frame(data)
    marked = ranks_table[ranks_table["high TC, low CORR"]].sort_values("TC rank")
    listing = html_table(marked.drop(columns=["high TC, low CORR"])) if len(marked) else "<p>none</p>"
    return (
        figures(rank_figure(ranks_table), div_id="rank-figure")
        + "<p>Models ranked in the top quarter by TC but the bottom half by CORR (validation fund):</p>"
        + listing
    )


def exposure_table(data: ReportData, top: int = 15) -> pd.DataFrame:
    scores = data.simulation.scores
    exposures = scores.meta_feature_exposures
    if exposures.size == 0:
        return pd.DataFrame({"feature": []})
    mean = np.nanmean(exposures, axis=0)
    order = np.argsort(-np.abs(mean))[:top]
    return pd.DataFrame(
        {
            "feature": np.asarray(scores.feature_names)[order],
            "mean exposure": mean[order],
            "std over eras": np.nanstd(exposures, axis=0)[order],
            "max |exposure|": np.nanmax(np.abs(exposures), axis=0)[order],
            "share of eras > 0": np.nanmean(exposures[:, order] > 0, axis=0),
        }
    )


def glossary(data: ReportData) -> str:
    if data.story is None:
        return ""
    terms = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(meaning)}</dd>"
        for term, meaning in data.story.glossary
    )
    commands = "".join(
        f"<li><code>{html.escape(command)}</code>: {html.escape(what)}</li>"
        for command, what in data.story.commands
    )
    return f"<dl>{terms}</dl>" + (
        f"<h3>Explore what the demo wrote</h3><ul>{commands}</ul>" if commands else ""
    )
