"""The ``diagnostics`` result type: every key numerapi 3.1.1 asks for; those Kardashev computes are filled
from :func:`kardashev.api.diagnostics.run_diagnostics`, the others (MMC, ratings, example-prediction
correlations …) are null."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["Diagnostics", "EraDiagnostics"]


@strawberry.type
class EraDiagnostics:
    era: str
    validation_corr: float | None = None
    validation_feature_neutral_corr: float | None = None
    validation_feature_corr_max: float | None = None
    example_preds_corr: float | None = None
    validation_alpha: float | None = None
    validation_bmc: float | None = None
    validation_churn: float | None = None
    validation_corr_v4: float | None = None
    validation_feature_neutral_corr_v3: float | None = None
    validation_mmc: float | None = None
    validation_fnc_v4: float | None = None
    validation_ic_v2: float | None = None
    validation_ric: float | None = None


_DIAGNOSTIC_NULLS = [
    "example_preds_corr_mean",
    "validation_corr_mean_rating",
    "validation_corr_plus_mmc_mean",
    "validation_corr_plus_mmc_mean_rating",
    "validation_corr_plus_mmc_sharpe",
    "validation_corr_plus_mmc_sharpe_diff",
    "validation_corr_plus_mmc_sharpe_diff_rating",
    "validation_corr_plus_mmc_sharpe_rating",
    "validation_corr_plus_mmc_std",
    "validation_corr_plus_mmc_std_rating",
    "validation_corr_sharpe_rating",
    "validation_corr_std_rating",
    "validation_feature_corr_max_rating",
    "validation_feature_neutral_corr_mean_rating",
    "validation_max_drawdown_rating",
    "validation_mmc_mean",
    "validation_mmc_mean_rating",
    "validation_mmc_sharpe",
    "validation_mmc_sharpe_rating",
    "validation_mmc_std",
    "validation_mmc_std_rating",
    "validation_bmc_mean",
    "validation_adjusted_sharpe",
    "validation_apy",
    "validation_autocorr",
    "validation_corr_corr_w_example_preds",
    "validation_corr_v4_corr_w_example_preds",
    "validation_corr_v4_max_drawdown",
    "validation_corr_v4_mean",
    "validation_corr_v4_sharpe",
    "validation_corr_v4_std",
    "validation_feature_neutral_corr_v3_mean",
    "validation_feature_neutral_corr_v3_mean_rating",
    "validation_fnc_v4_corr_w_example_preds",
    "validation_fnc_v4_max_drawdown",
    "validation_fnc_v4_mean",
    "validation_fnc_v4_sharpe",
    "validation_fnc_v4_std",
    "validation_ic_v2_corr_w_example_preds",
    "validation_ic_v2_max_drawdown",
    "validation_ic_v2_mean",
    "validation_ic_v2_sharpe",
    "validation_ic_v2_std",
    "validation_ric_corr_w_example_preds",
    "validation_ric_max_drawdown",
    "validation_ric_mean",
    "validation_ric_sharpe",
    "validation_ric_std",
    "validation_alpha_corr_w_example_preds",
    "validation_alpha_max_drawdown",
    "validation_alpha_mean",
    "validation_alpha_sharpe",
    "validation_alpha_std",
]


_DIAGNOSTIC_FIELDS: dict[str, object] = {
    "id": str,
    "status": str,
    "updated_at": dt.datetime,
    "eras_accepted_count": int,
    "per_era_diagnostics": list[EraDiagnostics],
    "message": str | None,
    "trained_on_val": bool | None,
    **{
        name: float | None
        for name in (
            "validation_corr_mean",
            "validation_corr_std",
            "validation_corr_sharpe",
            "validation_max_drawdown",
            "validation_corr_max_drawdown",
            "validation_feature_neutral_corr_mean",
            "validation_feature_corr_max",
            *_DIAGNOSTIC_NULLS,
        )
    },
}
Diagnostics = strawberry.type(
    type(
        "Diagnostics",
        (),
        {
            "__module__": __name__,
            "__doc__": "Diagnostics of a validation predictions file (numerapi's keys; null where "
            "Kardashev has no such measure).",
            "__annotations__": _DIAGNOSTIC_FIELDS,
            **{name: None for name in list(_DIAGNOSTIC_FIELDS)[5:]},
        },
    )
)
