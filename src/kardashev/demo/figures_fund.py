"""The report's figures of the fund's weekly book (plotly): P&L and drawdown, trading, exposure, factors.

Each takes the books of the fund under each payout rule (:class:`~kardashev.demo.book.FundBook`).
Every axis has a title; returns are shown as percentages.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kardashev.demo.book import FundBook
from kardashev.demo.figures import RULE_COLORS, RULE_LABELS

__all__ = ["exposure_figure", "factor_exposure_figure", "factor_heatmap", "pnl_figure", "trading_figure"]

_WEEK = "week (era)"


def _label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def pnl_figure(books: dict[str, FundBook]) -> go.Figure:
    """Weekly net P&L (bars), compounded cumulative return and drawdown, one colour per payout rule."""
    figure = make_subplots(
        rows=3,
        cols=1,
        vertical_spacing=0.11,
        subplot_titles=(
            "Weekly return after costs (non-overlapping)",
            "Cumulative return (weekly returns compounded)",
            "Drawdown from the running peak",
        ),
    )
    for rule, book in books.items():
        color, eras = RULE_COLORS.get(rule), list(book.eras)
        common = {"legendgroup": rule, "marker": {"color": color}}
        figure.add_trace(go.Bar(x=eras, y=book.net_pnl, name=_label(rule), **common), row=1, col=1)
        figure.add_trace(
            go.Scatter(x=eras, y=book.cumulative_return, name=_label(rule), showlegend=False,
                       line={"color": color}, legendgroup=rule),
            row=2, col=1,
        )  # fmt: skip
        figure.add_trace(
            go.Scatter(x=eras, y=book.drawdown, name=_label(rule), showlegend=False,
                       line={"color": color}, legendgroup=rule),
            row=3, col=1,
        )  # fmt: skip
    figure.update_yaxes(tickformat=".1%")
    figure.update_yaxes(title_text="return per week", row=1, col=1)
    figure.update_yaxes(title_text="cumulative return", row=2, col=1)
    deepest = min((float(book.drawdown.min()) for book in books.values() if book.net_pnl.size), default=0.0)
    # a season without a losing week has no drawdown: show a flat line at 0 on a 1% scale, not on ±100%
    figure.update_yaxes(title_text="drawdown", range=[min(1.1 * deepest, -0.01), 0.001], row=3, col=1)
    for row in (1, 2, 3):
        figure.update_xaxes(title_text=_WEEK, row=row, col=1)
    figure.update_layout(
        height=980,
        barmode="group",
        title="The fund's weekly P&L under each payout rule (after trading costs)",
    )
    return figure


def trading_figure(books: dict[str, FundBook]) -> go.Figure:
    """Turnover and trading cost per week."""
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Turnover Σ|w_t − w_t−1|", "Trading cost (optimizer's cost model)")
    )
    for rule, book in books.items():
        color, eras = RULE_COLORS.get(rule), list(book.eras)
        figure.add_trace(
            go.Scatter(x=eras, y=book.turnover, name=_label(rule), legendgroup=rule, line={"color": color}),
            row=1, col=1,
        )  # fmt: skip
        figure.add_trace(
            go.Scatter(x=eras, y=1e4 * book.cost, name=_label(rule), legendgroup=rule, showlegend=False,
                       line={"color": color}),
            row=1, col=2,
        )  # fmt: skip
    figure.update_xaxes(title_text=_WEEK)
    figure.update_yaxes(title_text="turnover (fraction of capital)", tickformat=".0%", row=1, col=1)
    figure.update_yaxes(title_text="cost (basis points of capital)", exponentformat="e", row=1, col=2)
    figure.update_layout(height=420, title="Trading: turnover and costs per week")
    return figure


def exposure_figure(books: dict[str, FundBook]) -> go.Figure:
    """Gross and net exposure, and the numbers of long and short names, per week."""
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Gross Σ|w| (solid) and net Σw (dotted)", "Names long (solid) and short (dotted)"),
    )
    for rule, book in books.items():
        color, eras = RULE_COLORS.get(rule), list(book.eras)
        for series, dash, col, show in (
            (book.gross_exposure, "solid", 1, True),
            (book.net_exposure, "dot", 1, False),
            (book.n_long, "solid", 2, False),
            (book.n_short, "dot", 2, False),
        ):
            figure.add_trace(
                go.Scatter(x=eras, y=series, name=_label(rule), legendgroup=rule, showlegend=show,
                           line={"color": color, "dash": dash}),
                row=1, col=col,
            )  # fmt: skip
    figure.update_xaxes(title_text=_WEEK)
    figure.update_yaxes(title_text="exposure (fraction of capital)", tickformat=".0%", row=1, col=1)
    figure.update_yaxes(title_text="number of names", row=1, col=2)
    figure.update_layout(height=420, title="Exposure and positions per week")
    return figure


def factor_exposure_figure(books: dict[str, FundBook]) -> go.Figure:
    """Largest absolute realized factor exposure of the book per week, per payout rule."""
    figure = go.Figure()
    for rule, book in books.items():
        if book.factor_exposure.size == 0:
            continue
        figure.add_trace(
            go.Scatter(
                x=list(book.eras),
                y=np.abs(book.factor_exposure).max(axis=1),
                name=_label(rule),
                line={"color": RULE_COLORS.get(rule)},
            )
        )
    figure.update_xaxes(title_text=_WEEK)
    figure.update_yaxes(title_text="max |Bᵀw| over factors", exponentformat="e")
    figure.update_layout(height=380, title="Largest leftover factor exposure of the fund per week")
    return figure


def factor_heatmap(book: FundBook) -> go.Figure:
    """Realized exposure ``Bᵀw`` of one fund per factor and week."""
    figure = go.Figure(
        go.Heatmap(
            z=book.factor_exposure.T,
            x=list(book.eras),
            y=list(book.factor_names),
            colorscale="RdBu",
            zmid=0,
            colorbar={"title": {"text": "Bᵀw"}, "exponentformat": "e"},
            hovertemplate="week %{x}<br>%{y}<br>exposure %{z:.2e}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text=_WEEK)
    figure.update_yaxes(title_text="factor")
    figure.update_layout(
        height=max(360, 22 * len(book.factor_names) + 160),
        title=f"Realized factor exposure per factor, fund {_label(book.rule)}",
    )
    return figure
