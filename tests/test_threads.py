"""convlib._threads.num_threads: the thread count every parallel path asks for."""
import os

import pytest

from convlib import _fft, _nn_conv
from convlib._threads import num_threads


def test_thread_count_comes_from_the_environment_or_the_cores(monkeypatch):
    monkeypatch.delenv("CONVLIB_NUM_THREADS", raising=False)
    assert num_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "3")
    assert num_threads() == 3


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_a_bad_environment_value_is_an_error_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("CONVLIB_NUM_THREADS", bad)
    with pytest.raises(ValueError, match="CONVLIB_NUM_THREADS"):
        num_threads()


def test_fft_and_conv2d_follow_the_same_setting(monkeypatch):
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "1")
    assert _fft.overlap_add_threads(63, 16384, 300) == 1
    if _nn_conv._blas_controller() is not None:
        assert _nn_conv._parallel_workers() == 1
