"""Run a Kardashev function and its numerai-tools 0.7.2 namesake on the same inputs and compare.

Where numerai-tools returns, Kardashev must return the same thing (numbers to 1e-9, labels
exactly); where numerai-tools asserts, Kardashev must raise a ``KardashevError``. Each side gets
its own deep copy of the inputs (numerai-tools modifies some), and Kardashev must not modify its
copy.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import KardashevError

TOLERANCE = 1e-9


def assert_same(ours: Any, reference: Any, *, path: str = "result") -> None:
    """Recursive comparison of results (floats to ``TOLERANCE``, NaN where NaN)."""
    if isinstance(reference, pd.DataFrame):
        assert isinstance(ours, pd.DataFrame), f"{path}: {type(ours).__name__} instead of a DataFrame"
        assert list(ours.columns) == list(reference.columns), f"{path}: columns differ"
        assert list(ours.index) == list(reference.index), f"{path}: index differs"
        for column in reference.columns:
            assert_same(ours[column], reference[column], path=f"{path}[{column!r}]")
    elif isinstance(reference, pd.Series):
        assert isinstance(ours, pd.Series), f"{path}: {type(ours).__name__} instead of a Series"
        assert list(ours.index) == list(reference.index), f"{path}: index differs"
        assert ours.name == reference.name, f"{path}: name {ours.name!r} != {reference.name!r}"
        _same_values(ours.to_numpy(), reference.to_numpy(), path)
    elif isinstance(reference, np.ndarray):
        assert np.shape(ours) == reference.shape, f"{path}: shape {np.shape(ours)} != {reference.shape}"
        _same_values(np.asarray(ours), reference, path)
    elif isinstance(reference, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(reference), f"{path}: tuple length"
        for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
            assert_same(a, b, path=f"{path}[{i}]")
    elif isinstance(reference, list):
        assert isinstance(ours, list) and len(ours) == len(reference), f"{path}: list length"
        if all(isinstance(item, str) for item in reference):  # numerai-tools' order follows str hashing
            assert sorted(ours) == sorted(reference), f"{path}: {ours} != {reference}"
        else:
            for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
                assert_same(a, b, path=f"{path}[{i}]")
    elif reference is None or isinstance(reference, str):
        assert ours == reference, f"{path}: {ours!r} != {reference!r}"
    else:
        _same_values(np.asarray(ours, dtype=float), np.asarray(reference, dtype=float), path)


def _same_values(ours: np.ndarray, reference: np.ndarray, path: str) -> None:
    if reference.dtype.kind not in "fiub" or ours.dtype.kind not in "fiub":
        assert ours.tolist() == reference.tolist(), f"{path}: values differ"
        return
    np.testing.assert_allclose(
        ours.astype(float), reference.astype(float), rtol=0, atol=TOLERANCE, equal_nan=True, err_msg=path
    )


def _unchanged(before: Any, after: Any) -> bool:
    if isinstance(before, pd.DataFrame | pd.Series):
        return before.equals(after) and list(before.index) == list(after.index)
    if isinstance(before, np.ndarray):
        return np.array_equal(before, after, equal_nan=True)
    if isinstance(before, list | tuple):
        return all(_unchanged(a, b) for a, b in zip(before, after, strict=True))
    if isinstance(before, dict):
        return all(_unchanged(before[key], after[key]) for key in before)
    return True


def compare(ours: Callable[..., Any], reference: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Call both; return ``"same"`` or ``"asserts"`` (what happened), failing the test otherwise.

    Inputs numerai-tools neither scores nor asserts on (it crashes with another exception) are not
    compared; Kardashev must then still fail with a ``KardashevError`` or return.
    """
    reference_args, reference_kwargs = copy.deepcopy((args, kwargs))
    our_args, our_kwargs = copy.deepcopy((args, kwargs))
    try:
        expected = reference(*reference_args, **reference_kwargs)
    except AssertionError:
        with pytest.raises(KardashevError):
            ours(*our_args, **our_kwargs)
        return "asserts"
    except Exception:
        with contextlib.suppress(KardashevError):
            ours(*our_args, **our_kwargs)
        return "reference_crashes"
    result = ours(*our_args, **our_kwargs)
    assert_same(result, expected)
    assert _unchanged((args, kwargs), (our_args, our_kwargs)), "Kardashev modified its inputs"
    return "same"
