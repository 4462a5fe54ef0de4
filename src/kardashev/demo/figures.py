"""The demo report's figures (plotly): scores per archetype, TC rank vs CORR rank, stake shares in the
in-memory funds. Each function takes the :class:`~kardashev.demo.report.ReportData`. The fund's
weekly book is drawn by :mod:`kardashev.demo.figures_fund`, the crowd by
:mod:`kardashev.demo.figures_crowd`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from kardashev.demo.report import ReportData

__all__ = [
    "ARCHETYPE_COLORS",
    "RULE_COLORS",
    "RULE_LABELS",
    "archetype_color",
    "archetype_means",
    "cumulative_scores_figure",
    "rank_figure",
    "rank_frame",
    "ranks",
    "stake_share_figure",
]

ARCHETYPE_COLORS = {
    "consensus": "#1f77b4",
    "original": "#2ca02c",
    "unstaked_original": "#d62728",
    "factor_bet": "#9467bd",
    "technical": "#ff7f0e",
    "copycat": "#8c564b",
    "noise": "#7f7f7f",
}
RULE_COLORS = {"static": "#7f7f7f", "tc": "#d62728", "corr": "#1f77b4", "mmc": "#2ca02c"}
RULE_LABELS = {
    "static": "static stakes",
    "tc": "paid on TC",
    "corr": "paid on CORR",
    "mmc": "paid on MMC",
}


def archetype_color(archetype: str) -> str:
    return ARCHETYPE_COLORS.get(archetype, "#17becf")


def archetype_means(values: np.ndarray, archetypes: tuple[str, ...]) -> dict[str, np.ndarray]:
    kinds = np.asarray(archetypes)
    return {
        kind: np.nanmean(values[:, kinds == kind], axis=1)
        for kind in dict.fromkeys(archetypes)
        if values.size
    }


def cumulative_scores_figure(data: ReportData) -> go.Figure:
    scores = data.simulation.scores
    panels = (
        ("CORR", scores.corr),
        ("MMC", scores.mmc),
        ("TC", scores.tc),
        ("True Return (after costs)", scores.true_return),
    )
    figure = make_subplots(rows=2, cols=2, subplot_titles=[name for name, _ in panels])
    eras = list(scores.eras)
    for index, (_name, values) in enumerate(panels):
        row, col = divmod(index, 2)
        for kind, mean in archetype_means(values, data.archetypes).items():
            figure.add_trace(
                go.Scatter(
                    x=eras,
                    y=np.cumsum(np.nan_to_num(mean)),
                    mode="lines",
                    name=kind,
                    legendgroup=kind,
                    showlegend=index == 0,
                    line={"color": archetype_color(kind)},
                ),
                row=row + 1,
                col=col + 1,
            )
    figure.update_xaxes(title_text="era")
    figure.update_yaxes(title_text="cumulative score")
    figure.update_layout(
        height=680, title="Cumulative score per archetype (mean over its models, validation fund)"
    )
    return figure


def ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")
    ranks = np.empty(len(values), dtype=int)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def rank_frame(data: ReportData) -> pd.DataFrame:
    scores = data.simulation.scores
    tc = np.nanmean(scores.tc, axis=0)
    corr = np.nanmean(scores.corr, axis=0)
    tc_rank, corr_rank = ranks(tc), ranks(corr)
    n_models = len(tc)
    return pd.DataFrame(
        {
            "model": data.model_names,
            "archetype": data.archetypes,
            "mean TC": tc,
            "mean CORR": corr,
            "TC rank": tc_rank,
            "CORR rank": corr_rank,
            "high TC, low CORR": (tc_rank <= max(1, n_models // 4)) & (corr_rank > n_models // 2),
        }
    )


def rank_figure(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for kind, group in frame.groupby("archetype", sort=False):
        figure.add_trace(
            go.Scatter(
                x=group["CORR rank"],
                y=group["TC rank"],
                mode="markers",
                name=str(kind),
                text=group["model"],
                marker={
                    "color": archetype_color(str(kind)),
                    "size": np.where(group["high TC, low CORR"], 14, 8),
                    "symbol": np.where(group["high TC, low CORR"], "star", "circle"),
                    "line": {"width": 1, "color": "#333"},
                },
                hovertemplate="%{text}<br>CORR rank %{x}<br>TC rank %{y}<extra></extra>",
            )
        )
    n_models = len(frame)
    figure.add_shape(
        type="rect",
        x0=n_models / 2,
        x1=n_models + 0.5,
        y0=0.5,
        y1=max(1, n_models // 4) + 0.5,
        line={"color": "#d62728", "dash": "dot"},
        fillcolor="rgba(214,39,40,0.06)",
    )
    figure.update_xaxes(title="CORR rank (1 = best)", autorange="reversed")
    figure.update_yaxes(title="TC rank (1 = best)", autorange="reversed")
    figure.update_layout(
        height=520, title="TC rank vs CORR rank, validation fund (stars: top-quartile TC, bottom-half CORR)"
    )
    return figure


def stake_share_figure(data: ReportData) -> go.Figure:
    tracks = {rule: track for rule, track in data.simulation.tracks.items() if rule != "static"}
    figure = make_subplots(
        rows=1, cols=max(1, len(tracks)), subplot_titles=[RULE_LABELS.get(rule, rule) for rule in tracks]
    )
    kinds = np.asarray(data.archetypes)
    for column, (_rule, track) in enumerate(tracks.items(), start=1):
        if track.stakes.size == 0:
            continue
        totals = track.stakes.sum(axis=1)
        for kind in dict.fromkeys(data.archetypes):
            share = track.stakes[:, kinds == kind].sum(axis=1) / totals
            figure.add_trace(
                go.Scatter(
                    x=list(track.eras),
                    y=share,
                    name=kind,
                    legendgroup=kind,
                    showlegend=column == 1,
                    stackgroup=f"s{column}",
                    line={"color": archetype_color(kind), "width": 0.5},
                ),
                row=1,
                col=column,
            )
    figure.update_yaxes(range=[0, 1], tickformat=".0%", title_text="share of the total stake")
    figure.update_xaxes(title_text="era")
    figure.update_layout(
        height=400, title="Share of stake per archetype as stakers follow the score they are paid on"
    )
    return figure
