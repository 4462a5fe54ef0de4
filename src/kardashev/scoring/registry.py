"""The one registry of per-era scores: what each score needs from an :class:`~kardashev.data.era.Era`.

Every consumer reads score names from here: the batch and round scorers, the payout rule
(``payable`` scores), the API's diagnostics, the CLI, the backfill and the demo. A score is computed
by the layer that owns its math: ``"scoring"`` scores by :func:`compute_scores` below (one shared
gaussianization of the era, then matrix products), ``"contribution"`` scores (TC, True Return) by
``kardashev.contribution.scores``, which calls this module for the rest. Adding a score means one
entry here, its computation in the module that owns it, and its test.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.scoring.batch import score_era
from kardashev.scoring.ranking import gaussianize
from kardashev.scoring.signals import alpha, meta_portfolio_contribution, orthonormal_neutralizers

__all__ = [
    "SCORES",
    "Score",
    "available_scores",
    "compute_scores",
    "gaussianize_predictions",
    "payable_scores",
    "score_names",
    "with_gaussianized",
]

CLASSIC, SIGNALS, CRYPTO = "classic", "signals", "crypto"
_BOTH = frozenset({CLASSIC, SIGNALS, CRYPTO})  # Crypto rounds are scored like Classic


@dataclass(frozen=True)
class Score:
    """One per-era score.

    Attributes
    ----------
    name
        Machine name (columns of per-era tables, payout multipliers, API fields).
    label
        Short human label for tables.
    description
        One line: what it measures.
    needs
        The :class:`~kardashev.data.era.Era` inputs it is computed from (``stakes``: a positive total).
    layer
        ``"scoring"`` or ``"contribution"`` (the optimizer-based scores).
    payable
        Whether a payout rule may pay on it.
    kinds
        The tournaments it applies to (``"classic"``, ``"signals"``).
    """

    name: str
    label: str
    description: str
    needs: tuple[str, ...]
    layer: str = "scoring"
    payable: bool = False
    kinds: frozenset[str] = _BOTH


SCORES: Mapping[str, Score] = {
    score.name: score
    for score in (
        Score("corr", "CORR", "Numerai correlation with the target", ("predictions", "target"), payable=True),
        Score(
            "mmc",
            "MMC",
            "correlation contribution: what the prediction adds to the meta model",
            ("predictions", "target", "meta_model"),
            payable=True,
        ),
        Score(
            "bmc",
            "BMC",
            "benchmark model contribution",
            ("predictions", "target", "benchmark"),
            payable=True,
        ),
        Score(
            "fnc",
            "FNC",
            "CORR of the prediction neutralized to every feature",
            ("predictions", "target", "features"),
            payable=True,
        ),
        Score("cwmm", "CWMM", "correlation with the meta model", ("predictions", "target", "meta_model")),
        Score(
            "feature_exposure_max",
            "FExpMax",
            "largest |Pearson| with a feature",
            ("predictions", "target", "features"),
        ),
        Score(
            "feature_exposure_rms",
            "FExpRMS",
            "root mean square |Pearson| with the features",
            ("predictions", "target", "features"),
        ),
        Score(
            "alpha",
            "Alpha",
            "Signals alpha: the neutralized portfolio's return on the target",
            ("predictions", "target", "exposures"),
            payable=True,
            kinds=frozenset({SIGNALS}),
        ),
        Score(
            "mpc",
            "MPC",
            "meta portfolio contribution (Signals)",
            ("predictions", "target", "exposures", "stakes"),
            payable=True,
            kinds=frozenset({SIGNALS}),
        ),
        Score(
            "tc",
            "TC",
            "True Contribution: Σs·∂(rᵀw*)/∂s_k of the fund's optimized portfolio",
            ("predictions", "stakes", "realized_returns", "meta_model"),
            layer="contribution",
            payable=True,
        ),
        Score(
            "true_return",
            "TrueRet",
            "the model's own optimized portfolio's realized return after trading costs",
            ("predictions", "realized_returns"),
            layer="contribution",
        ),
    )
}

_BATCH = ("corr", "mmc", "bmc", "fnc", "cwmm", "feature_exposure_max", "feature_exposure_rms")


def score_names(*, layer: str | None = None) -> tuple[str, ...]:
    """Every registered score name (of one layer), in registry order."""
    return tuple(name for name, score in SCORES.items() if layer is None or score.layer == layer)


def payable_scores() -> tuple[str, ...]:
    """The scores a payout rule may pay on."""
    return tuple(name for name, score in SCORES.items() if score.payable)


def available_scores(era: Era, *, kind: str = CLASSIC, layer: str | None = None) -> tuple[str, ...]:
    """The registered scores (of ``layer``) that ``era``'s inputs allow for a ``kind`` tournament."""
    return tuple(
        name
        for name, score in SCORES.items()
        if kind in score.kinds
        and (layer is None or score.layer == layer)
        and all(era.has(need) for need in score.needs)
    )


def check_names(names: Collection[str], era: Era, *, kind: str = CLASSIC) -> None:
    """Raise :class:`InvalidInputError` for unknown names or scores ``era`` cannot provide."""
    unknown = sorted(set(names) - set(SCORES))
    if unknown:
        raise InvalidInputError(f"unknown score(s) {unknown}; known: {list(SCORES)}", code="unknown_score")
    for name in names:
        score = SCORES[name]
        if kind not in score.kinds:
            raise InvalidInputError(f"{name} is not scored in {kind} tournaments", code="unknown_score")
        era.require(*score.needs, what=name)


def gaussianize_predictions(predictions: np.ndarray, *, workers: int | None = None) -> np.ndarray:
    """``gaussianize`` of every column, on column blocks in parallel threads.

    Gaussianizing is column-wise, so blocks give bit-identical results; numpy's sort releases the
    GIL, so threads use every core (it dominates the cost of a whole era's TC). ``workers``
    defaults to the number of CPUs (at most 8). Returns a float64 ``(n_stocks, n_models)`` array.
    """
    n_models = predictions.shape[1]
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or n_models < 64:
        return gaussianize(predictions)
    out = np.empty(predictions.shape, dtype=np.float64, order="F")
    edges = np.linspace(0, n_models, 4 * workers + 1).astype(int)

    def block(i: int) -> None:
        out[:, edges[i] : edges[i + 1]] = gaussianize(predictions[:, edges[i] : edges[i + 1]])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(block, range(edges.size - 1)))
    return out


def with_gaussianized(era: Era) -> Era:
    """``era`` carrying ``gaussianized = Φ⁻¹(tkr(P))`` column-wise (computed here only if missing).

    Columns with NaN predictions are gaussianized on their own rows (NaN elsewhere), as numerai-tools
    ranks a model on the stocks it predicted.
    """
    if era.gaussianized is not None or era.predictions is None:
        return era
    return era.with_(gaussianized=gaussianize_predictions(era.predictions))


def compute_scores(
    era: Era,
    names: Collection[str] | None = None,
    *,
    kind: str = CLASSIC,
    target_pow15: bool = True,
) -> tuple[dict[str, NDArray[np.float64]], Era]:
    """The ``"scoring"``-layer scores of every model of ``era`` (default: all its inputs allow).

    Returns ``(name → (n_models,) scores, era)``; the returned era carries the gaussianized matrix
    when one was computed (NaN-free predictions), for True Contribution and True Return to share.
    Rows where the target (or meta model, benchmark, features) is NaN are dropped for the batch
    scores; each model is scored on the stocks it predicted (see :func:`kardashev.scoring.score_era`).
    """
    if names is None:
        names = available_scores(era, kind=kind, layer="scoring")
    else:
        names = [name for name in names if SCORES.get(name, Score(name, "", "", ())).layer == "scoring"]
        check_names(names, era, kind=kind)
    era.require("predictions", what="scoring")
    results: dict[str, NDArray[np.float64]] = {}
    batch = [name for name in names if name in _BATCH]
    uses = set(batch)
    if era.predictions is not None and not np.isnan(era.predictions).any():
        era = with_gaussianized(era)
    if batch:
        scored = score_era(
            era.required("predictions"),
            era.required("target"),
            meta_model=era.meta_model if uses & {"mmc", "cwmm"} else None,
            benchmark=era.benchmark if "bmc" in uses else None,
            features=era.features if uses & {"fnc", "feature_exposure_max", "feature_exposure_rms"} else None,
            model_names=era.model_names,
            era=era.era,
            metrics=batch,
            target_pow15=target_pow15,
            gaussianized=era.gaussianized,
        )
        results.update(scored.metrics())
    if {"alpha", "mpc"} & set(names):
        results.update(_signals_scores(era, names))
    return {name: results[name] for name in names if name in results}, era


def _signals_scores(era: Era, names: Collection[str]) -> dict[str, NDArray[np.float64]]:
    """Signals alpha / MPC with an orthonormal basis of ``[exposures, 1]`` and equal sample weights."""
    era.require("predictions", "target", "exposures", what="Signals alpha and MPC")
    assert era.target is not None and era.exposures is not None and era.predictions is not None  # for mypy
    weights = np.ones(era.n_stocks)
    # Signals' formulas need N with Nᵀdiag(v)N = I: an orthonormal basis of [exposures, 1].
    neutralizers = orthonormal_neutralizers(era.exposures, weights, add_intercept=True)
    scores: dict[str, NDArray[np.float64]] = {}
    if "alpha" in names:
        scores["alpha"] = np.asarray(alpha(era.predictions, neutralizers, weights, era.target), dtype=float)
    if "mpc" in names and era.stakes is not None:
        scores["mpc"] = np.asarray(
            meta_portfolio_contribution(era.predictions, era.stakes, neutralizers, weights, era.target),
            dtype=float,
        )
    return {name: values.reshape(era.n_models) for name, values in scores.items()}
