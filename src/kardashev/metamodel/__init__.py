"""Meta models: the stake-weighted blend of the crowd's gaussianized predictions."""

from kardashev.metamodel.blend import (
    align_stakes,
    as_prediction_matrix,
    gaussianize_predictions,
    meta_model_from_gaussianized,
    meta_model_or_none,
    naive_meta_model,
    stake_weighted_meta_model,
    standardize,
    validate_stakes,
    with_meta_model,
)

__all__ = [
    "align_stakes",
    "as_prediction_matrix",
    "gaussianize_predictions",
    "meta_model_from_gaussianized",
    "meta_model_or_none",
    "naive_meta_model",
    "stake_weighted_meta_model",
    "standardize",
    "validate_stakes",
    "with_meta_model",
]
