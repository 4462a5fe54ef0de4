"""The demo's HTML report: one self-contained file (plotly.js embedded once, no network needed).

:func:`render_report` turns a :class:`ReportData` into HTML; :func:`write_report` writes it. Sections
(each an element with a stable ``id``): ``summary``, ``validation``, ``cumulative-scores``,
``tc-vs-corr``, ``fund``, ``grades``, ``leaderboard``, ``exposures``, ``optimizer``.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kardashev.demo.figures import (
    RULE_LABELS,
    archetype_color,
    cumulative_scores_figure,
    fund_figure,
    rank_figure,
    rank_frame,
    stake_share_figure,
)
from kardashev.demo.simulation import SimulationResult

__all__ = ["SECTION_IDS", "ReportData", "render_report", "write_report"]

SECTION_IDS = (
    "summary",
    "validation",
    "cumulative-scores",
    "tc-vs-corr",
    "fund",
    "grades",
    "leaderboard",
    "exposures",
    "optimizer",
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


def _format(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "–"
        number = float(value)
        if abs(number) < 1e-12:  # rounding noise of quantities that are 0 by construction
            return "0"
        return f"{number:.4g}" if abs(number) >= 1e-3 else f"{number:.2e}"
    return str(value)


def _table(frame: pd.DataFrame, *, highlight: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        marked = highlight is not None and bool(row.get(highlight, False))
        cells = "".join(f"<td>{html.escape(_format(value))}</td>" for value in row.to_numpy())
        rows.append(f'<tr class="{"marked" if marked else ""}">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class _Figures:
    """Renders figures; the first one carries plotly.js inline, the others reuse it."""

    def __init__(self) -> None:
        self._first = True

    def __call__(self, figure: go.Figure, *, div_id: str) -> str:
        figure.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 90, "b": 50})
        out = figure.to_html(
            full_html=False, include_plotlyjs=self._first, div_id=div_id, config={"displaylogo": False}
        )
        self._first = False
        return out


def _fund_table(data: ReportData) -> pd.DataFrame:
    rows = []
    unstaked = np.asarray(data.archetypes) == "unstaked_original"
    originals = np.isin(np.asarray(data.archetypes), ("original", "unstaked_original"))
    for rule, track in data.simulation.tracks.items():
        first, second = track.half_sharpes()
        final = track.stakes[-1] if track.stakes.size else np.zeros(len(data.archetypes))
        total = final.sum() if final.sum() > 0 else 1.0
        planted = data.simulation.planted_value(rule)
        rows.append(
            {
                "payout rule": RULE_LABELS.get(rule, rule),
                "total return": float(np.sum(track.returns)),
                "mean per era": float(np.mean(track.returns)) if len(track.returns) else float("nan"),
                "mean 1st half": track.half_means()[0],
                "mean 2nd half": track.half_means()[1],
                "std per era": float(np.std(track.returns)) if len(track.returns) else float("nan"),
                "Sharpe (season)": track.sharpe,
                "Sharpe 1st half": first,
                "Sharpe 2nd half": second,
                "final stake share: originals": float(final[originals].sum() / total),
                "final stake share: unstaked original": float(final[unstaked].sum() / total),
                "effective number of staked models (end)": float(1.0 / np.sum((final / total) ** 2))
                if final.sum() > 0
                else float("nan"),
                "planted value of the stakes: start": float(planted[0]) if planted.size else float("nan"),
                "planted value of the stakes: end": float(planted[-1]) if planted.size else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _validation_html(data: ReportData, figures: _Figures) -> str:
    validation = data.simulation.validation
    if validation is None:
        return "<p>Validation was not run (<code>--no-validate</code>).</p>"
    names = {"tc": "TC", "mmc": "MMC", "corr": "CORR", "mpc": "MPC"}
    frame = pd.DataFrame(
        {
            "score": [names[key] for key in names],
            "Spearman with leave-one-out": [validation.spearman_loo[key] for key in names],
            "Spearman with stake bump": [validation.spearman_bump[key] for key in names],
            "Spearman with planted true value": [validation.spearman_true_value[key] for key in names],
        }
    )
    cutoff = max(1, int(np.ceil(0.1 * validation.n_models)))
    ranks = ", ".join(map(str, validation.unstaked_original_tc_rank)) or "–"
    verdict = (
        f"Spearman(TC, LOO) = <b>{validation.spearman_loo['tc']:.3f}</b> (target ≥ 0.8; "
        f"{'higher' if validation.tc_beats_others else 'not higher'} than CORR, MMC and MPC). "
        f"Unstaked original TC rank: <b>{ranks}</b> "
        f"of {validation.n_models} (top decile = rank ≤ {cutoff}: "
        f"{'yes' if validation.unstaked_original_top_decile else 'no'})."
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
                hovertemplate="%{text}<br>LOO %{x:.4g}<br>TC %{y:.4g}<extra></extra>",
            )
        )
    scatter.update_xaxes(title="leave-one-out marginal value (season sum, per unit of stake share)")
    scatter.update_yaxes(title="TC (season sum)")
    scatter.update_layout(height=450, title="TC vs leave-one-out marginal value, per model")
    return (
        f"<p class='verdict'>{verdict}</p>"
        + _table(frame)
        + f"<p>Over {validation.n_eras} eras on the static-stake fund. Leave-one-out: the fund re-optimized "
        "without the model, <code>(R(s) − R(s − s<sub>k</sub>e<sub>k</sub>))·Σs/s<sub>k</sub></code> "
        "(a stake bump for zero-stake models); stake bump: central difference of re-optimized returns "
        "with a bump of 0.1% of the total stake.</p>" + figures(scatter, div_id="validation-scatter")
    )


def _exposure_table(data: ReportData, top: int = 15) -> pd.DataFrame:
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


def _config_table(config: object) -> pd.DataFrame:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        fields = dataclasses.asdict(config)
    else:
        fields = dict(vars(config))
    return pd.DataFrame({"option": list(fields), "value": [str(value) for value in fields.values()]})


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1d2a3a;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:1.6em} header p{margin:4px 0 0;color:#c9d3df}
main{max-width:1200px;margin:0 auto;padding:12px 32px 40px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:12px 20px;margin:18px 0}
h2{font-size:1.2em;margin:6px 0 10px;color:#1d2a3a}
table{border-collapse:collapse;font-size:0.85em;margin:8px 0}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 8px;text-align:right}
th{background:#f1f4f8;position:sticky;top:0} td:first-child,th:first-child{text-align:left}
tr.marked td{background:#fff2f2;font-weight:600}
.verdict{font-size:1.05em;background:#f4f8ff;border-left:4px solid #1f77b4;padding:8px 12px}
.scroll{max-height:520px;overflow:auto}
ul{margin:6px 0}
"""


def render_report(data: ReportData) -> str:
    """The report as one self-contained HTML page."""
    figures = _Figures()
    window = max(3, min(8, len(data.simulation.scores.eras) // 3))
    ranks_table = rank_frame(data)
    fund_table = _fund_table(data)
    settings = "".join(
        f"<li><b>{html.escape(str(name))}</b>: {html.escape(_format(value))}</li>"
        for name, value in data.settings.items()
    )
    season = "".join(f"<li>{html.escape(line)}</li>" for line in data.season_summary)
    fund_grade = "".join(f"<li>{html.escape(line)}</li>" for line in data.fund_grade)
    marked = ranks_table[ranks_table["high TC, low CORR"]].sort_values("TC rank")
    sections = {
        "summary": (
            "Summary",
            f"<ul>{settings}<li><b>runtime</b>: {data.runtime_seconds:.1f} s</li></ul>"
            + (f"<h3>Season through the tournament engine</h3><ul>{season}</ul>" if season else ""),
        ),
        "validation": ("Validation against the planted truth", _validation_html(data, figures)),
        "cumulative-scores": (
            "Cumulative CORR, MMC, TC and True Return per archetype",
            figures(cumulative_scores_figure(data), div_id="cumulative-figure"),
        ),
        "tc-vs-corr": (
            "TC rank vs CORR rank",
            figures(rank_figure(ranks_table), div_id="rank-figure")
            + "<p>Models ranked in the top quarter by TC but the bottom half by CORR:</p>"
            + (_table(marked.drop(columns=["high TC, low CORR"])) if len(marked) else "<p>none</p>"),
        ),
        "fund": (
            "The fund under each payout rule",
            figures(fund_figure(data, window), div_id="fund-figure")
            + _table(fund_table)
            + figures(stake_share_figure(data), div_id="stake-share-figure"),
        ),
        "grades": (
            "Kardashev grades",
            f"<ul>{fund_grade}</ul><div class='scroll'>{_table(data.grades)}</div>",
        ),
        "leaderboard": (
            "Leaderboard (tournament engine)",
            f"<div class='scroll'>{_table(data.leaderboard)}</div>",
        ),
        "exposures": (
            "Meta model: largest feature exposures",
            "<p>Pearson correlation of the stake-weighted meta model with each feature, per era.</p>"
            + _table(_exposure_table(data)),
        ),
        "optimizer": ("Optimizer configuration", _table(_config_table(data.optimizer_config))),
    }
    body = "".join(
        f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{content}</section>'
        for section_id, (title, content) in sections.items()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
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
