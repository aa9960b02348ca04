"""convlib.timing.best_time: the minimum per-call time, with argument checks."""
import time

import pytest

from convlib.timing import best_time, best_times


def test_best_time_reflects_a_known_sleep():
    t = best_time(lambda: time.sleep(0.01), repeat=2, budget=0.001)
    assert 0.009 < t < 0.5


def test_best_time_divides_by_the_number_of_calls_per_round():
    calls = []
    t = best_time(lambda: calls.append(None), repeat=2, budget=0.001)
    assert len(calls) > 4          # warm-up, calibration, then several calls per round
    assert t < 1e-3


def test_process_time_clock_counts_cpu_not_sleep():
    t = best_time(lambda: time.sleep(0.02), repeat=1, budget=0.001, clock=time.process_time)
    assert t < 0.015


@pytest.mark.parametrize("kwargs,error,words", [
    ({"repeat": 0}, ValueError, "repeat must be a positive integer; got 0"),
    ({"repeat": 1.5}, TypeError, r"repeat must be an integer; got float \(1.5\)"),
    ({"budget": 0}, ValueError, "budget")])
def test_bad_arguments_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        best_time(lambda: None, **kwargs)


def test_best_times_ranks_a_longer_sleep_above_a_shorter_one():
    times = best_times({"short": lambda: time.sleep(0.001), "long": lambda: time.sleep(0.01)},
                       repeat=2, budget=0.001)
    assert times["short"] < times["long"]
    assert 0.009 < times["long"] < 0.5


def test_max_seconds_caps_the_rounds_but_keeps_two():
    calls = []
    best_times({"slow": lambda: (calls.append(None), time.sleep(0.02))}, repeat=50, budget=0.001,
               max_seconds=0.001)
    assert len(calls) == 2 + 2     # warm-up and calibration, then two rounds of one call
