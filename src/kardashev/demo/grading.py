"""Kardashev grades of the demo's models, from the validation fund's per-era scores.

Thin edge over :func:`kardashev.tournament.grades.grade_models`: it builds the tidy per-era table
(CORR, True Return after costs, TC per model and era) and labels the result for the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.demo.simulation import SeasonScores
from kardashev.tournament.grades import GradeConfig, grade_models

__all__ = ["grade_season"]

_GRADE_NAMES = {0: "–", 1: "Type I", 2: "Type II", 3: "Type III"}


def grade_season(
    scores: SeasonScores, *, model_names: tuple[str, ...], archetypes: tuple[str, ...], horizon: int
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Grades per model (a table for the report) and lines describing the fund's Type IV test."""
    n_eras = len(scores.eras)
    table = pd.DataFrame(
        {
            "model": np.repeat(np.asarray(model_names, dtype=object), n_eras),
            "era": np.tile(np.asarray(scores.eras, dtype=object), len(model_names)),
            "corr": scores.corr.T.reshape(-1),
            "true_return": scores.true_return.T.reshape(-1),
            "tc": scores.tc.T.reshape(-1),
        }
    )
    config = GradeConfig(target_horizon_eras=horizon, min_eras=min(8, max(2, n_eras)))
    grades = grade_models(table, config=config)
    test_label = "EWC" if config.method == "ewc" else "NW"
    correction = "Holm" if config.correction == "holm" else "BH"
    frame = grades.to_frame().reindex(pd.Index(model_names, name="model"))
    out = pd.DataFrame(
        {
            "model": model_names,
            "archetype": archetypes,
            "grade": [_GRADE_NAMES.get(int(g), str(g)) if np.isfinite(g) else "–" for g in frame["grade"]],
            "types passed": frame["types"].fillna("").replace("", "–").to_numpy(),
            "CORR mean": frame["corr_mean"].to_numpy(),
            f"CORR t ({test_label})": frame["corr_t"].to_numpy(),
            "True Return mean": frame["true_return_mean"].to_numpy(),
            f"True Return t ({test_label})": frame["true_return_t"].to_numpy(),
            "TC mean": frame["tc_mean"].to_numpy(),
            f"TC t ({test_label})": frame["tc_t"].to_numpy(),
            f"TC p ({correction})": frame["tc_p_adjusted"].to_numpy(),
        }
    )
    fund = grades.fund
    more = " …" if len(fund.significant_models) > 6 else ""
    verdict = (
        "the fund is Type IV: no signal has significantly positive TC"
        if fund.type_iv
        else f"the fund is not Type IV: {len(fund.significant_models)} signal(s) still have significantly "
        f"positive TC ({', '.join(fund.significant_models[:6])}{more})"
    )
    if config.method == "ewc":
        test = f"equal-weighted cosine test with {config.ewc_df_for(n_eras)} degrees of freedom"
    else:
        test = f"Newey–West lag {config.lag_for(n_eras)}"
    lines = (
        f"{verdict} — every type's p-values {fund.correction}-corrected across the {fund.n_tested} models "
        f"tested, at level {fund.significance}; {test} for the {horizon}-era overlapping targets "
        "(a model is Type III exactly when it blocks Type IV)",
    )
    order = np.lexsort(
        (-np.nan_to_num(out["TC mean"].to_numpy(), nan=-np.inf), -frame["grade"].fillna(0).to_numpy())
    )
    return out.iloc[order].reset_index(drop=True), lines
