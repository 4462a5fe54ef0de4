"""How alike the crowd's signals are: the season's mean cross-sectional correlation between models."""

from __future__ import annotations

import numpy as np

from kardashev.errors import InvalidInputError

__all__ = ["SignalCorrelation"]


class SignalCorrelation:
    """Accumulates, era by era, the Pearson correlation between models' gaussianized predictions.

    :meth:`matrix` is the mean over eras (a model pair with no finite correlation in any era is NaN).
    """

    def __init__(self, n_models: int) -> None:
        self.n_models = int(n_models)
        self._sum = np.zeros((self.n_models, self.n_models))
        self._count = np.zeros((self.n_models, self.n_models))

    def add(self, gaussianized: np.ndarray) -> None:
        """One era's ``(n_stocks, n_models)`` gaussianized predictions."""
        values = np.asarray(gaussianized, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_models:
            raise InvalidInputError(
                f"predictions must be (n_stocks, {self.n_models}), got shape {values.shape}"
            )
        centered = values - np.nanmean(values, axis=0)
        centered = np.where(np.isfinite(centered), centered, 0.0)
        norms = np.sqrt((centered**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = (centered.T @ centered) / np.outer(norms, norms)
        finite = np.isfinite(corr)
        self._sum += np.where(finite, corr, 0.0)
        self._count += finite

    def matrix(self) -> np.ndarray:
        """``(n_models, n_models)`` mean correlation over the eras added."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._count > 0, self._sum / np.maximum(self._count, 1), np.nan)
