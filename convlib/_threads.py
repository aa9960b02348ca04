"""How many threads convlib's parallel paths use, and the one pool they run on.

The FFT method's overlap-add blocks and conv2d's im2col tiles both run on
threads (NumPy's FFT and BLAS release the GIL). Both ask :func:`num_threads`
how many, and both submit their work to :func:`thread_pool`.
"""
from __future__ import annotations

import concurrent.futures
import os
import threading

__all__ = ["num_threads", "thread_pool"]

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def num_threads() -> int:
    """Threads convlib may use: ``CONVLIB_NUM_THREADS``, or the cores this process may run on.

    Set the environment variable ``CONVLIB_NUM_THREADS=1`` for serial paths.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ValueError
        If ``CONVLIB_NUM_THREADS`` is set but not a positive integer.

    Examples
    --------
    >>> num_threads() >= 1
    True
    """
    value = os.environ.get("CONVLIB_NUM_THREADS", "").strip()
    if not value:
        if hasattr(os, "sched_getaffinity"):
            return max(1, len(os.sched_getaffinity(0)))
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CONVLIB_NUM_THREADS must be a positive integer; got {value!r}")
    return int(value)


def thread_pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    """convlib's thread pool, with at least ``workers`` threads (created or grown on demand).

    Work submitted to it must not wait for other work of the pool (the
    callers take part in their own work instead), so a pool of any size
    cannot deadlock.

    Parameters
    ----------
    workers : int
        Threads the caller wants to run at once (positive).

    Returns
    -------
    concurrent.futures.ThreadPoolExecutor
        The same pool for every caller while it is large enough.

    Examples
    --------
    >>> pool = thread_pool(2)
    >>> pool.submit(sum, [1, 2, 3]).result()
    6
    >>> thread_pool(1) is pool
    True
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convlib")
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)  # its queued work still runs
        return _pool
