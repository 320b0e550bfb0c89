"""One rule for native threads in the models: cap them, because the platform shares two cores.

scikit-learn's histogram gradient boosting (OpenMP) and numpy's BLAS start one thread per core. When
two such computations run at once (two Dagster steps, pytest and a fit), the threads spin-wait for
each other: a double-ML fit took 30.7 s instead of 10.8 s with one thread, and two forecaster fits
with two threads each ran 10-30x slower than with one thread each (measured on two cores). Every
estimator here therefore takes ``n_threads`` (1 by default) and fits inside :func:`limit_threads`.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

__all__ = ["limit_threads"]


def limit_threads(n_threads: int | None) -> AbstractContextManager:
    """Context capping OpenMP and BLAS threads at ``n_threads`` for its block; None: no cap.

    threadpoolctl only limits runtimes already loaded, so scikit-learn's OpenMP runtime is loaded
    first (importing ``sklearn.ensemble``); numpy's BLAS is loaded with numpy.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n_threads))
