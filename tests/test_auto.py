"""convlib._auto: the method chooser returns sensible, safe choices and auto agrees with scipy."""
import numpy as np
import pytest
import scipy.signal

import convlib
from convlib._auto import COSTS, SHORT_KERNEL, choose_method, estimate_seconds


@pytest.mark.parametrize("n,m", [(10, 3), (1000, 8), (10**6, 5)])
def test_short_1d_kernels_use_numpy_direct_sums(n, m):
    assert choose_method(np.ones(n), np.ones(m)) == "direct"
    assert m <= SHORT_KERNEL


@pytest.mark.parametrize("n,m", [(10**5, 300), (10**5, 1000), (10**6, 10**4), (20_000, 2_000)])
def test_long_kernels_on_long_signals_use_the_fft(n, m):
    assert choose_method(np.ones(n), np.ones(m)) == "fft"


def test_large_2d_kernels_use_the_fft_and_small_ones_do_not():
    assert choose_method(np.ones((256, 256)), np.ones((31, 31)), "same") == "fft"
    assert choose_method(np.ones((64, 64)), np.ones((3, 3)), "same") != "fft"


def test_integers_that_float64_cannot_hold_exactly_never_go_to_the_fft():
    big = np.full(10**5, 2**30, dtype=np.int64)
    assert choose_method(big, np.full(1000, 2**20, dtype=np.int64)) != "fft"
    assert choose_method(np.ones(10**5, dtype=np.int64), np.ones(1000, dtype=np.int64)) == "fft"


def test_threaded_overlap_add_is_predicted_faster_but_never_moves_the_direct_fft_crossover(monkeypatch):
    grid = [(n, m) for n in (10**4, 10**5, 10**6) for m in (10, 30, 100, 300)]
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "1")
    serial_choices = [choose_method(np.ones(n), np.ones(m)) for n, m in grid]
    assert estimate_seconds((10**6,), (1000,), "full") == estimate_seconds((10**6,), (1000,), "full", threads=1)
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "2")
    threaded = estimate_seconds((10**6,), (1000,), "full")
    assert threaded["fft"] < estimate_seconds((10**6,), (1000,), "full", threads=1)["fft"]
    assert [choose_method(np.ones(n), np.ones(m)) for n, m in grid] == serial_choices


def test_choice_is_made_after_the_valid_mode_swap():
    assert choose_method(np.ones(3), np.ones(10**5), "valid") == choose_method(np.ones(10**5), np.ones(3), "valid")


def test_estimates_are_positive_for_every_method_and_mode():
    for mode in ("full", "same", "valid"):
        costs = estimate_seconds((5000,), (50,), mode)
        assert set(costs) == {"direct", "vectorized", "fft"}
        assert all(value > 0 for value in costs.values())
    assert all(value > 0 for value in COSTS.values())


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(10, 3), (2000, 40), (50_000, 500), (3000, 3000), (17, 400)])
def test_auto_matches_scipy_wherever_it_goes(n, m, mode):
    rng = np.random.default_rng(n * m)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    result = convlib.convolve(x, h, mode)
    expected = scipy.signal.convolve(x, h, mode)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, atol=1e-10 * np.abs(expected).max())


def test_auto_on_integers_keeps_the_integer_dtype_exactly():
    rng = np.random.default_rng(0)
    x, h = rng.integers(-1000, 1000, 60_000), rng.integers(-1000, 1000, 700)
    result = convlib.convolve(x, h)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, np.convolve(x, h))


def test_choose_method_checks_its_arguments_like_convolve():
    with pytest.raises(ValueError, match="mode"):
        choose_method([1, 2], [1], "circular")
    with pytest.raises(ValueError, match="same number of dimensions"):
        choose_method(np.ones(3), np.ones((1, 1)))
    assert choose_method(np.array(2.0), np.array(3.0)) == "direct"
