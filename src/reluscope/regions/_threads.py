"""Run independent pieces of an engine's work in threads.

The compiled kernels release the GIL (``nogil=True``) and so do NumPy's large array
operations, so threads share the cores without processes or pickling. Callers cut their
work into pieces that do not depend on the number of threads, so results do not either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["in_threads"]

T = TypeVar("T")


def in_threads(tasks: Sequence[Callable[[], T]], n_jobs: int, *, single_blas: bool = True) -> list[T]:
    """Results of ``tasks`` (in order), run by up to ``n_jobs`` threads.

    ``single_blas`` caps BLAS at one thread meanwhile: our threads already share the
    cores, and BLAS threads on top would only spin. If a task raises (or Ctrl-C arrives),
    the tasks not started are cancelled and the error is raised.

    Examples
    --------
    >>> in_threads([lambda: 1, lambda: 2, lambda: 3], 2)
    [1, 2, 3]
    """
    if n_jobs <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    limit = threadpool_limits(1, user_api="blas") if single_blas else nullcontext()
    with limit, ThreadPoolExecutor(max_workers=min(n_jobs, len(tasks)), thread_name_prefix="reluscope") as ex:
        futures = [ex.submit(task) for task in tasks]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise
