"""Timing helper shared by the chapters and the benchmarks (one home for "how long does it take").

Timings are the minimum over rounds: the minimum is the least disturbed by other
processes on a shared machine, which is what a comparison between methods needs.
"""
from __future__ import annotations

import time
from typing import Callable

__all__ = ["best_time"]


def best_time(
    function: Callable[[], object],
    *,
    repeat: int = 3,
    budget: float = 0.02,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Shortest time of one call of ``function()``, in seconds.

    The function is called once to warm up (allocations, plan caches, lazy imports),
    then ``repeat`` rounds are timed; each round calls it as many times as fit in
    about ``budget`` seconds, so that very short calls are not lost in the clock's
    resolution. The result is the smallest per-call time of the rounds.

    Parameters
    ----------
    function : callable
        Called with no arguments.
    repeat : int, default 3
        Number of timed rounds (positive).
    budget : float, default 0.02
        Seconds one round aims at (positive); a call longer than that is one round.
    clock : callable, default time.perf_counter
        The clock; ``time.process_time`` measures this process's CPU time instead
        of wall time, which is steadier while other processes share the cores.

    Returns
    -------
    float
        Seconds per call.

    Raises
    ------
    ValueError
        If ``repeat`` or ``budget`` is not positive.

    Examples
    --------
    >>> t = best_time(lambda: sum(range(1000)), repeat=2, budget=0.001)
    >>> 0 < t < 0.1
    True
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive integer, got {repeat!r}")
    if not budget > 0:
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    function()
    start = clock()
    function()
    once = clock() - start
    number = max(1, int(budget / max(once, 1e-7)))
    best = once
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            function()
        best = min(best, (clock() - start) / number)
    return best
