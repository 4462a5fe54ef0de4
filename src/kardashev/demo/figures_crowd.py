"""The report's figures of the crowd (plotly): stakes, payouts and burns from the engine's ledger, how
alike the signals are, and the drill-down of the highest-TC model's contribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kardashev.demo.drilldown import Drilldown
from kardashev.demo.figures import archetype_color

__all__ = ["archetype_order", "drilldown_figure", "ledger_figure", "ledger_frame", "signal_heatmap"]


def archetype_order(model_names: tuple[str, ...], archetypes: tuple[str, ...]) -> np.ndarray:
    """Model positions grouped by archetype (first appearance order), then by name."""
    kinds = list(dict.fromkeys(archetypes))
    return np.array(
        sorted(range(len(model_names)), key=lambda k: (kinds.index(archetypes[k]), model_names[k])), dtype=int
    )


def ledger_frame(ledger: pd.DataFrame, archetypes: dict[str, str]) -> pd.DataFrame:
    """Per model and resolved round: stake at risk, payout (> 0) and burn (> 0), tokens, with archetype."""
    frame = ledger.reindex(columns=["model", "round", "stake", "payout"]).copy()
    frame["payout"] = frame["payout"].astype(float)
    frame["paid"] = frame["payout"].clip(lower=0.0)
    frame["burned"] = (-frame["payout"]).clip(lower=0.0)
    frame["archetype"] = frame["model"].map(archetypes)
    return frame.sort_values(["round", "model"]).reset_index(drop=True)


def ledger_figure(frame: pd.DataFrame) -> go.Figure:
    """Stake at risk per model per round (lines, coloured by archetype) and tokens paid and burned per
    round per archetype (bars: paid up, burned down)."""
    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.14,
        subplot_titles=("Stake at risk per model and round", "Paid (up) and burned (down) per round"),
    )
    shown: set[str] = set()
    for model, group in frame.groupby("model", sort=True):
        kind = str(group["archetype"].iloc[0])
        figure.add_trace(
            go.Scatter(
                x=group["round"], y=group["stake"], mode="lines", name=kind, legendgroup=kind,
                showlegend=kind not in shown, line={"color": archetype_color(kind), "width": 1.2},
                text=[str(model)] * len(group),
                hovertemplate="%{text}<br>round %{x}<br>stake %{y:,.2f}<extra></extra>",
            ),
            row=1, col=1,
        )  # fmt: skip
        shown.add(kind)
    per_round = frame.groupby(["round", "archetype"], sort=True)[["paid", "burned"]].sum().reset_index()
    for kind, group in per_round.groupby("archetype", sort=False):
        color = archetype_color(str(kind))
        for values, sign in ((group["paid"], 1.0), (group["burned"], -1.0)):
            figure.add_trace(
                go.Bar(
                    x=group["round"], y=sign * values, name=str(kind), legendgroup=str(kind),
                    showlegend=False, marker={"color": color},
                    hovertemplate=f"{kind}<br>round %{{x}}<br>%{{y:,.2f}} tokens<extra></extra>",
                ),
                row=2, col=1,
            )  # fmt: skip
    figure.update_xaxes(title_text="round")
    figure.update_yaxes(title_text="stake (tokens)", tickformat=",.0f", row=1, col=1)
    figure.update_yaxes(title_text="tokens (paid > 0, burned < 0)", tickformat=",.0f", row=2, col=1)
    figure.update_layout(height=760, barmode="relative", title="Stakes, payouts and burns (engine ledger)")
    return figure


def signal_heatmap(
    matrix: np.ndarray, model_names: tuple[str, ...], archetypes: tuple[str, ...]
) -> go.Figure:
    """Mean cross-sectional correlation between the models' signals, grouped by archetype."""
    order = archetype_order(model_names, archetypes)
    labels = [model_names[k] for k in order]
    figure = go.Figure(
        go.Heatmap(
            z=np.asarray(matrix)[np.ix_(order, order)],
            x=labels,
            y=labels,
            colorscale="RdBu",
            zmin=-1,
            zmax=1,
            colorbar={"title": {"text": "correlation"}},
            hovertemplate="%{y} vs %{x}<br>correlation %{z:.4f}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="model (grouped by archetype)", tickfont={"size": 8})
    figure.update_yaxes(title_text="model (grouped by archetype)", tickfont={"size": 8}, autorange="reversed")
    size = min(900, max(420, 12 * len(labels) + 200))
    figure.update_layout(height=size, title="How alike the signals are: mean correlation over the season")
    return figure


def drilldown_figure(drilldown: Drilldown, count: int = 20) -> go.Figure:
    """The stocks that make up most of the model's TC, and the constraints' shadow prices."""
    explanation = drilldown.explanation
    top = explanation.top(count).iloc[::-1]
    constraints = explanation.constraint_frame().reset_index()
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.22,
        subplot_titles=(f"Largest {len(top)} stock contributions", "Constraint shadow prices"),
    )
    figure.add_trace(
        go.Bar(
            x=top["contribution"], y=[str(stock) for stock in top.index], orientation="h",
            marker={"color": np.where(top["contribution"] >= 0, "#2ca02c", "#d62728")},
            name="stock", showlegend=False,
            hovertemplate="%{y}<br>contribution %{x:.2e}<extra></extra>",
        ),
        row=1, col=1,
    )  # fmt: skip
    figure.add_trace(
        go.Bar(
            x=constraints["shadow_price"], y=constraints["constraint"], orientation="h",
            marker={"color": np.where(constraints["active"], "#1f77b4", "#c7c7c7")},
            name="constraint", showlegend=False,
            hovertemplate="%{y}<br>shadow price %{x:.2e}<extra></extra>",
        ),
        row=1, col=2,
    )  # fmt: skip
    figure.update_xaxes(title_text="(G_ik − m_i)·∂R/∂m_i", exponentformat="e", row=1, col=1)
    figure.update_yaxes(title_text="stock", row=1, col=1)
    figure.update_xaxes(
        title_text="shadow price (objective per unit of slack)", exponentformat="e", row=1, col=2
    )
    figure.update_yaxes(title_text="constraint", row=1, col=2)
    figure.update_layout(
        height=max(460, 18 * len(top) + 160),
        title=f"Where {drilldown.model}'s TC in era {drilldown.era} comes from",
    )
    return figure
