"""Run the generator's small matrix products on one BLAS thread.

The products here are tall and skinny (stocks × a few dozen columns). Multi-threaded OpenBLAS
gains nothing on them and, on a busy machine, loses a lot: measured 2.8 s vs 13.8 s for 12
eras of 5000 stocks on 2 oversubscribed cores. ``threadpoolctl`` limits the threads only inside
the ``with`` block, so the caller's own BLAS settings are untouched.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import threadpool_limits

__all__ = ["single_blas_thread"]


def single_blas_thread() -> AbstractContextManager:
    """A context in which BLAS uses one thread."""
    return threadpool_limits(limits=1, user_api="blas")
