"""TC at home: a participant's True Contribution estimated from what the operator publishes.

The engine's TC of model ``p`` differentiates the fund's realized return through the blend of every
staked model, ``m = (1 − s)·B + s·G_p`` with ``B`` the stake-weighted blend of the *others'*
gaussianized predictions and ``s`` the participant's share of the total stake. A participant knows
``G_p``, the optimizer configuration, the risk data and (after resolution) the returns — all
published in ``FUND.toml`` (:mod:`kardashev.contribution.fund_config`) — but not ``B``. The released
(lagged, naive or stake-weighted) meta model stands in for it: ranks are gaussianized and put on the
blend's scale (``release.scale``), a raw blend is used as it is. The estimate is then the engine's
own :func:`~kardashev.contribution.true_contribution` of a two-model era ``[B̂, G_p]`` with stakes
``[1 − s, s]``; when ``B̂ = B`` and ``s`` is the true share it *is* the engine's TC (tested).

With ``s = 0`` (the derivative at zero stake) every participant column shares one blend, so all
columns cost a single optimization; with ``s > 0`` each column has its own blend and its own solve.
"""

from __future__ import annotations

import numpy as np

from kardashev.contribution.fund_config import FundConfig, ReleaseSpec
from kardashev.contribution.solve import risk_model_of
from kardashev.contribution.true_contribution import true_contribution
from kardashev.data.era import Era
from kardashev.errors import InvalidInputError
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import gaussianize

__all__ = ["estimate_era_tc", "local_tc", "others_blend"]


def others_blend(released: np.ndarray, *, release: ReleaseSpec) -> np.ndarray:
    """The released meta model as a stand-in for the others' blend ``B`` (NaN: the blend's mean 0).

    ``form = "rank"``: ``scale · Φ⁻¹(tie-kept rank)``; ``form = "blend"``: the values as given.
    """
    values = np.asarray(released, dtype=np.float64).reshape(-1)
    finite = np.isfinite(values)
    if finite.sum() < 2:
        raise InvalidInputError(
            "the released meta model has fewer than 2 values for this era's stocks", code="missing_meta_model"
        )
    blend = np.zeros(values.shape)
    blend[finite] = release.scale * gaussianize(values[finite]) if release.form == "rank" else values[finite]
    return blend


def _participant_matrix(era: Era) -> np.ndarray:
    """``G`` of the era's prediction columns (NaN, a stock a model skipped: 0, the blend's mean)."""
    if era.gaussianized is not None:
        matrix = np.asarray(era.gaussianized, dtype=np.float64)
    else:
        matrix = gaussianize(np.asarray(era.required("predictions"), dtype=np.float64))
    if (np.isfinite(matrix).sum(axis=0) < 2).any():
        bad = era.model_names[int(np.flatnonzero(np.isfinite(matrix).sum(axis=0) < 2)[0])]
        raise InvalidInputError(
            f"era {era.era}: model {bad!r} predicts fewer than 2 stocks", code="missing_predictions"
        )
    return np.where(np.isfinite(matrix), matrix, 0.0)


def local_tc(
    era: Era, others: np.ndarray, *, share: float, config: OptimizerConfig, method: str = "auto"
) -> np.ndarray:
    """``(n_models,)`` TC of each prediction column of ``era`` as a participant holding ``share``
    of the total stake, next to ``others`` (the others' blend, ``(n_stocks,)``, gaussianized scale).

    The era must carry predictions and realized returns; its exposures, risk model and ADV are the
    optimizer's (previous holdings are not public and are not used).
    """
    era.require("predictions", "realized_returns", what="TC at home")
    if not (isinstance(share, float | int) and not isinstance(share, bool) and 0.0 <= share < 1.0):
        raise InvalidInputError(
            f"the stake share must be in [0, 1), got {share!r}", code="invalid_stake_share"
        )
    blend = np.asarray(others, dtype=np.float64).reshape(-1)
    if blend.shape != (era.n_stocks,) or not np.isfinite(blend).all():
        raise InvalidInputError(
            f"era {era.era}: the others' blend needs {era.n_stocks} finite values", code="shape_mismatch"
        )
    if np.ptp(blend) == 0:
        raise InvalidInputError(
            f"era {era.era}: the released meta model is constant", code="constant_meta_model"
        )
    participants = _participant_matrix(era)
    returns, exposures, risk_model = era.required("realized_returns"), era.exposures, risk_model_of(era)

    def tc_of(columns: np.ndarray, stakes: np.ndarray) -> np.ndarray:
        result = true_contribution(
            columns, stakes, returns, exposures, config, risk_model=risk_model, adv=era.adv, method=method,
            gaussianized=True,
        )  # fmt: skip
        return np.asarray(result.exact_tc, dtype=np.float64)

    if share == 0.0:  # the derivative at zero stake: one blend, one solve for every column
        stakes = np.zeros(participants.shape[1] + 1)
        stakes[0] = 1.0
        return tc_of(np.column_stack([blend, participants]), stakes)[1:]
    pair_stakes = np.array([1.0 - share, share])
    estimates = np.array(
        [
            tc_of(np.column_stack([blend, participants[:, k]]), pair_stakes)[1]
            for k in range(participants.shape[1])
        ]
    )
    return estimates


def estimate_era_tc(
    era: Era, fund: FundConfig, *, share: float | None = None, method: str = "auto"
) -> np.ndarray:
    """TC at home for one era whose ``meta_model`` holds the released meta model (as published).

    ``share`` overrides ``fund.stake_share``. Returns ``(n_models,)`` estimates, one per prediction column.
    """
    released = era.required("meta_model")
    others = others_blend(released, release=fund.release)
    return local_tc(
        era,
        others,
        share=fund.stake_share if share is None else share,
        config=fund.optimizer,
        method=method,
    )
