"""convlib._direct: the shift-and-add reference, checked against scipy's compiled direct sums."""
import itertools

import numpy as np
import pytest
import scipy.signal

from convlib._direct import convolve_direct

CASES = [(n, k) for n, k in itertools.product([(1,), (4,), (7,), (3, 4), (5, 2), (2, 3, 3)],
                                              [(1,), (2,), (3,), (2, 2), (3, 1), (1, 2, 2)])
         if len(n) == len(k)]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("x_shape,h_shape", CASES)
def test_matches_scipy_direct_exactly_on_integers(x_shape, h_shape, mode):
    if mode == "valid" and any(k > n for n, k in zip(x_shape, h_shape)):
        return  # convolve_direct expects the caller to have swapped
    rng = np.random.default_rng(0)
    x = rng.integers(-100, 100, x_shape)
    h = rng.integers(-100, 100, h_shape)
    result = convolve_direct(x, h, mode)
    expected = scipy.signal.convolve(x, h, mode, method="direct")
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_same_mode_with_kernel_longer_than_signal():
    x, h = np.array([1, 2, 3]), np.array([1, 10, 100, 1000, 10000])
    np.testing.assert_array_equal(convolve_direct(x, h, "same"), scipy.signal.convolve(x, h, "same"))


def test_integer_overflow_wraps_like_numpy():
    x = np.array([100, 100, 100], dtype=np.int8)
    h = np.array([2, 3], dtype=np.int8)
    np.testing.assert_array_equal(convolve_direct(x, h, "full"), np.convolve(x, h))


def test_infinity_affects_only_its_window():
    x = np.zeros(8)
    x[3] = np.inf
    result = convolve_direct(x, np.ones(3), "full")
    assert np.flatnonzero(~np.isfinite(result)).tolist() == [3, 4, 5]


def test_does_not_write_into_its_inputs():
    x, h = np.arange(6.0), np.array([1.0, -1.0])
    x.flags.writeable = h.flags.writeable = False
    np.testing.assert_array_equal(convolve_direct(x, h, "full"), np.convolve(x, h))
