"""Plotly figures of the web pages, serialized for ``static/charts.js`` (no inline script needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup

__all__ = ["SCORE_LABELS", "bar_figure", "figure_json", "line_figure"]

SCORE_LABELS = {
    "corr": "CORR",
    "mmc": "MMC",
    "tc": "TC",
    "fnc": "FNC",
    "true_return": "True Return",
    "alpha": "Alpha",
    "mpc": "MPC",
    "cwmm": "Corr with meta model",
    "feature_exposure_max": "Max feature exposure",
    "feature_exposure_rms": "RMS feature exposure",
}
_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.2},
}


def figure_json(figure: go.Figure) -> Markup:
    """The figure as JSON safe to place inside ``<script type="application/json">`` (``<``, ``>`` and
    ``&`` only occur inside JSON strings, where their ``\\u`` escapes mean the same)."""
    text = figure.to_json()
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escape)
    return Markup(text)


def _clean(values: Sequence[object]) -> list[float | None]:
    out: list[float | None] = []
    for value in values:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = float("nan")
        out.append(number if np.isfinite(number) else None)
    return out


def line_figure(
    x: Sequence[object], series: Mapping[str, Sequence[object]], *, title: str, x_title: str = "round"
) -> go.Figure:
    """One line per series (missing values leave gaps)."""
    figure = go.Figure()
    for name, values in series.items():
        figure.add_trace(
            go.Scatter(x=list(x), y=_clean(values), mode="lines+markers", name=SCORE_LABELS.get(name, name))
        )
    figure.update_layout(title=title, xaxis_title=x_title, xaxis_type="category", **_LAYOUT)
    return figure


def bar_figure(
    x: Sequence[object], series: Mapping[str, Sequence[object]], *, title: str, x_title: str = "round"
) -> go.Figure:
    """Grouped bars, one colour per series."""
    figure = go.Figure()
    for name, values in series.items():
        figure.add_trace(go.Bar(x=list(x), y=_clean(values), name=SCORE_LABELS.get(name, name)))
    figure.update_layout(title=title, xaxis_title=x_title, xaxis_type="category", barmode="group", **_LAYOUT)
    return figure
