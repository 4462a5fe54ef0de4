"""Meta models: the stake-weighted blend of the crowd's gaussianized predictions."""

from kardashev.metamodel.blend import (
    align_stakes,
    as_prediction_matrix,
    gaussianize_predictions,
    meta_model_from_gaussianized,
    naive_meta_model,
    stake_weighted_meta_model,
    standardize,
    validate_stakes,
)

__all__ = [
    "align_stakes",
    "as_prediction_matrix",
    "gaussianize_predictions",
    "meta_model_from_gaussianized",
    "naive_meta_model",
    "stake_weighted_meta_model",
    "standardize",
    "validate_stakes",
]
