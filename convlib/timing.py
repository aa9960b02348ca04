"""Timing helpers shared by the chapters and the benchmarks (one home for "how long does it take").

Timings are the minimum over rounds: the minimum is the least disturbed by other
processes on a shared machine, which is what a comparison between methods needs.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Mapping

from convlib._validation import as_int

__all__ = ["best_time", "best_times"]


def _check(repeat: int, budget: float) -> None:
    as_int(repeat, "repeat", minimum=1)
    if not budget > 0:
        raise ValueError(f"budget must be a positive number of seconds; got {budget!r}")


def best_times(
    functions: Mapping[str, Callable[[], object]],
    *,
    repeat: int = 3,
    budget: float = 0.02,
    clock: Callable[[], float] = time.perf_counter,
    max_seconds: float | None = None,
) -> dict[str, float]:
    """Shortest time of one call of each function, measured in interleaved rounds.

    Each function is called once to warm up (allocations, plan caches, lazy
    imports) and to calibrate how many calls fit in about ``budget`` seconds, so
    that very short calls are not lost in the clock's resolution. Then every round
    times each function in turn, so that all of them see the same background load,
    and the smallest per-call time of the rounds is kept.

    Parameters
    ----------
    functions : mapping of str to callable
        Named functions, each called with no arguments.
    repeat : int, default 3
        Number of timed rounds (positive).
    budget : float, default 0.02
        Seconds one timing of one function aims at (positive); a call longer than
        that is timed once per round.
    clock : callable, default time.perf_counter
        The clock; ``time.process_time`` measures this process's CPU time instead
        of wall time, which is steadier while other processes share the cores.
    max_seconds : float, optional
        Cap on the time the rounds take in all: fewer rounds (at least 2, or
        ``repeat`` if smaller) are run when ``repeat`` of them would take longer.

    Returns
    -------
    dict of str to float
        Seconds per call, by name.

    Raises
    ------
    ValueError
        If ``repeat`` or ``budget`` is not positive.

    Examples
    --------
    >>> times = best_times({"short": lambda: sum(range(10)), "long": lambda: sum(range(10_000))},
    ...                    repeat=2, budget=0.001)
    >>> times["short"] < times["long"]
    True
    """
    _check(repeat, budget)
    numbers, round_seconds = {}, 0.0
    for name, function in functions.items():
        function()
        start = clock()
        function()
        once = clock() - start
        numbers[name] = max(1, int(budget / max(once, 1e-9)))
        round_seconds += once * numbers[name]
    rounds = repeat
    if max_seconds is not None:
        rounds = max(min(2, repeat), min(repeat, int(max_seconds / max(round_seconds, 1e-9))))
    best = dict.fromkeys(functions, math.inf)
    for _ in range(rounds):
        for name, function in functions.items():
            number = numbers[name]
            start = clock()
            for _ in range(number):
                function()
            best[name] = min(best[name], (clock() - start) / number)
    return best


def best_time(
    function: Callable[[], object],
    *,
    repeat: int = 3,
    budget: float = 0.02,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Shortest time of one call of ``function()``, in seconds.

    The one-function case of :func:`best_times`: a warm-up call, then ``repeat``
    rounds of as many calls as fit in about ``budget`` seconds.

    Parameters
    ----------
    function : callable
        Called with no arguments.
    repeat : int, default 3
        Number of timed rounds (positive).
    budget : float, default 0.02
        Seconds one round aims at (positive); a call longer than that is one round.
    clock : callable, default time.perf_counter
        The clock (``time.process_time`` for CPU time).

    Returns
    -------
    float
        Seconds per call.

    Examples
    --------
    >>> t = best_time(lambda: sum(range(1000)), repeat=2, budget=0.001)
    >>> 0 < t < 0.1
    True
    """
    return best_times({"function": function}, repeat=repeat, budget=budget, clock=clock)["function"]
