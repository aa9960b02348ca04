"""How many threads convlib's parallel paths use: the one home of that rule.

The FFT method's overlap-add blocks and conv2d's im2col tiles both run on
threads (NumPy's FFT and BLAS release the GIL). Both ask :func:`num_threads`.
"""
from __future__ import annotations

import os

__all__ = ["num_threads"]


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
