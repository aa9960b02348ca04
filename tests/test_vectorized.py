"""convlib._vectorized: sliding windows + matrix product, against scipy and across block sizes."""
import numpy as np
import pytest
import scipy.signal

import convlib._vectorized as vectorized


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("x_shape,h_shape", [((9,), (4,)), ((3,), (5,)), ((6, 7), (3, 2)), ((4, 4, 5), (2, 3, 3))])
@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.complex128])
def test_matches_scipy(x_shape, h_shape, mode, dtype):
    if mode == "valid" and any(k > n for n, k in zip(x_shape, h_shape)):
        return  # the caller swaps first
    rng = np.random.default_rng(1)
    x = (rng.integers(-9, 9, x_shape) + (1j * rng.integers(-9, 9, x_shape) if dtype == np.complex128 else 0)).astype(dtype)
    h = rng.integers(-9, 9, h_shape).astype(dtype)
    result = vectorized.convolve_vectorized(x, h, mode)
    expected = scipy.signal.convolve(x, h, mode, method="direct")
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-5)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 18])
def test_result_does_not_depend_on_the_block_size(monkeypatch, block):
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((23, 9)), rng.standard_normal((4, 3))
    monkeypatch.setattr(vectorized, "BLOCK_ELEMENTS", block)
    np.testing.assert_allclose(vectorized.convolve_vectorized(x, h, "same"), scipy.signal.convolve(x, h, "same"),
                               atol=1e-12)


def test_integers_stay_exact_and_integer():
    x = np.array([2**40, 1, 2**40], dtype=np.int64)
    h = np.array([3, 2**10], dtype=np.int64)
    result = vectorized.convolve_vectorized(x, h, "full")
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, np.convolve(x, h))
