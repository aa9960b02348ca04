"""convlib._fft (the FFT engine) and the public fftconvolve built on it: against scipy.signal.fftconvolve, fast lengths, overlap-add."""
import itertools
import os

import numpy as np
import pytest
import scipy.fft
import scipy.signal

from convlib import fftconvolve
from convlib._fft import (
    PARALLEL_MIN_POINTS,
    convolve_fft,
    next_fast_len,
    overlap_add,
    overlap_add_block_length,
    overlap_add_threads,
    use_overlap_add,
)


def is_five_smooth(value):
    for prime in (2, 3, 5):
        while value % prime == 0:
            value //= prime
    return value == 1


@pytest.mark.parametrize("target", [1, 2, 7, 97, 1000, 1001, 4097, 65537, 10**6 + 1, 2**31 - 1])
def test_next_fast_len_is_the_smallest_five_smooth_length(target):
    length = next_fast_len(target)
    assert length >= target and is_five_smooth(length)
    assert not any(is_five_smooth(v) for v in range(target, length))
    assert length == scipy.fft.next_fast_len(target, real=True)  # scipy's real-FFT rule is 5-smooth too


def test_next_fast_len_refuses_nonpositive_targets():
    with pytest.raises(ValueError, match="target must be between 1"):
        next_fast_len(0)


def assert_close_like_scipy(result, expected):
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    single = expected.dtype in (np.float32, np.complex64)
    np.testing.assert_allclose(result, expected, atol=(1e-4 if single else 1e-10) * (1 + np.abs(expected).max()))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("x_shape,h_shape", [((9,), (4,)), ((4,), (9,)), ((6, 5), (3, 2)), ((2, 3), (4, 5)),
                                             ((5, 4, 3), (2, 2, 3))])
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("int64", "int8"), ("bool", "bool"),
                                    ("float32", "float32"), ("float16", "float16"), ("complex64", "complex64"),
                                    ("complex128", "float64")], ids="-".join)
def test_fftconvolve_matches_scipy_values_shapes_and_dtypes(x_shape, h_shape, mode, dtypes):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(x_shape) * 3).astype(dtypes[0])
    h = (rng.standard_normal(h_shape) * 3).astype(dtypes[1])
    if dtypes[0].startswith("complex"):
        x = x + 1j * x[..., ::-1]
    assert_close_like_scipy(fftconvolve(x, h, mode), scipy.signal.fftconvolve(x, h, mode))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("x_shape,h_shape,axes", [
    ((4, 9), (4, 3), 1),
    ((4, 9), (1, 3), -1),
    ((4, 9), (1, 3), [1]),
    ((3, 6, 5), (3, 2, 1), (1,)),
    ((3, 6, 5), (1, 2, 4), (1, 2)),
    ((5, 6), (2, 1), 0),
    ((5, 6), (3, 4), None),
])
def test_fftconvolve_axes_broadcasting_matches_scipy(x_shape, h_shape, axes, mode):
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal(x_shape), rng.standard_normal(h_shape)
    assert_close_like_scipy(fftconvolve(x, h, mode, axes=axes), scipy.signal.fftconvolve(x, h, mode, axes=axes))


@pytest.mark.parametrize("call,exception,words", [
    (lambda: fftconvolve(np.ones((2, 3)), np.ones((2, 2)), axes=[]), ValueError, "axes must not be empty"),
    (lambda: fftconvolve(np.ones((2, 3)), np.ones((3, 2)), axes=1), ValueError, "equal lengths"),
    (lambda: fftconvolve(np.ones((2, 3)), np.ones((2, 2)), axes=2), ValueError, r"axes entries must lie in \[-2, 2\)"),
    (lambda: fftconvolve(np.ones((2, 3)), np.ones((2, 2)), axes=[1, -1]), ValueError, "repeat"),
    (lambda: fftconvolve(np.ones((2, 3)), np.ones((2, 2)), axes=[1.0]), ValueError, "axes must be an int or a sequence of ints"),
    (lambda: fftconvolve(np.ones(3), np.ones((2, 2))), ValueError, "same number of dimensions"),
    (lambda: fftconvolve(np.ones(3), ["a"]), TypeError, "h must hold numbers"),
    (lambda: fftconvolve(np.ones(3), np.ones(2), "circular"), ValueError, "mode"),
    (lambda: fftconvolve(np.ones((3, 5)), np.ones((5, 3)), "valid"), ValueError, "valid"),
])
def test_fftconvolve_bad_input_names_the_argument(call, exception, words):
    with pytest.raises(exception, match=words):
        call()


def test_fftconvolve_of_two_scalars_is_their_product():
    assert fftconvolve(np.array(3.0), np.array(2.0)) == 6.0


@pytest.mark.parametrize("n,m", [(1, 1), (5, 3), (3, 5), (100, 100), (9_000, 37)])
@pytest.mark.parametrize("block", [8, 64, 1024])
def test_overlap_add_matches_numpy_for_any_block_length_and_window(n, m, block):
    if block < m:
        with pytest.raises(ValueError, match="block_length"):
            overlap_add(np.ones(n), np.ones(m), block_length=block)
        return
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    full = np.convolve(x, h)
    windows = [(0, n + m - 1), (0, 1), (n + m - 2, 1), ((n + m - 1) // 3, (n + m - 1) // 2 + 1)]
    for start, length in windows:
        np.testing.assert_allclose(overlap_add(x, h, window=(start, length), block_length=block),
                                   full[start:start + length], atol=1e-10)


def test_overlap_add_handles_complex_and_single_precision():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(3000) + 1j * rng.standard_normal(3000)).astype(np.complex64)
    h = rng.standard_normal(50).astype(np.float32)
    result = overlap_add(x, h, block_length=256)
    assert result.dtype == np.complex64
    np.testing.assert_allclose(result, np.convolve(x.astype(complex), h.astype(float)), atol=1e-3)


def test_block_length_is_fast_and_holds_several_kernels():
    for m in [1, 3, 300, 1000, 3000, 10_000]:
        block = overlap_add_block_length(m)
        assert is_five_smooth(block) and block >= 4 * m and block >= 16384
    assert use_overlap_add(10**6, 300) and not use_overlap_add(10**4, 300)


@pytest.mark.parametrize("n,m,block", [(100_000, 300, None), (60_000, 10_000, None), (5_000, 37, 128), (3_001, 7, 16)])
@pytest.mark.parametrize("threads", [2, 3, 8])
def test_threaded_overlap_add_is_bit_identical_to_the_serial_path_and_matches_scipy(n, m, block, threads):
    rng = np.random.default_rng(n + m)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    full = scipy.signal.convolve(x, h, method="direct" if n * m < 10**6 else "fft")
    for start, length in [(0, n + m - 1), (0, 1), (n + m - 2, 1), (n // 3, n // 2)]:
        serial = overlap_add(x, h, window=(start, length), block_length=block, threads=1)
        threaded = overlap_add(x, h, window=(start, length), block_length=block, threads=threads)
        np.testing.assert_array_equal(threaded, serial)
        np.testing.assert_allclose(threaded, full[start:start + length], atol=1e-10 * np.abs(full).max())


def test_threaded_overlap_add_keeps_complex_and_single_precision():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(20_000) + 1j * rng.standard_normal(20_000)).astype(np.complex64)
    h = rng.standard_normal(300).astype(np.float32)
    threaded = overlap_add(x, h, block_length=1024, threads=2)
    assert threaded.dtype == np.complex64
    np.testing.assert_array_equal(threaded, overlap_add(x, h, block_length=1024, threads=1))
    np.testing.assert_allclose(threaded, np.convolve(x.astype(complex), h.astype(float)), atol=1e-3)


def test_blocks_that_three_overlap_are_added_serially_for_the_same_rounding():
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal(4000), rng.standard_normal(50)
    assert overlap_add_threads(100, 64, 50) == 1  # 15 new samples per block, 49 overlapping
    np.testing.assert_array_equal(overlap_add(x, h, block_length=64, threads=4),
                                  overlap_add(x, h, block_length=64, threads=1))


def test_threads_are_used_only_for_large_problems(monkeypatch):
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "4")
    assert overlap_add_threads(1, 1 << 20, 300) == 1
    assert overlap_add_threads(3, PARALLEL_MIN_POINTS // 4, 300) == 1
    assert overlap_add_threads(3, PARALLEL_MIN_POINTS, 300) == 3
    assert overlap_add_threads(63, 16384, 300) == 4


def test_overlap_add_refuses_a_bad_thread_count():
    for bad, error in [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="threads must be"):
            overlap_add(np.ones(10), np.ones(3), threads=bad)


def test_convolve_fft_gives_the_same_bits_with_one_thread_or_several(monkeypatch):
    rng = np.random.default_rng(6)
    x, h = rng.standard_normal(300_000), rng.standard_normal(1000)
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "1")
    serial = convolve_fft(x, h, "same")
    monkeypatch.setenv("CONVLIB_NUM_THREADS", "2")
    np.testing.assert_array_equal(convolve_fft(x, h, "same"), serial)


@pytest.mark.parametrize("n,m", [(5, 3), (3, 5)])
@pytest.mark.parametrize("mode", ["full", "same"])
def test_convolve_fft_rounds_integers_back_to_the_integer_dtype(n, m, mode):
    for x, h in itertools.product([np.arange(1, n + 1, dtype=np.int16)], [np.arange(m, 0, -1, dtype=np.int16)]):
        result = convolve_fft(x, h, mode)
        expected = scipy.signal.convolve(x, h, mode, method="direct")
        assert result.dtype == np.int16
        np.testing.assert_array_equal(result, expected)


def test_fftconvolve_does_not_modify_inputs():
    x, h = np.arange(10.0).reshape(2, 5), np.ones((1, 3))
    x.flags.writeable = h.flags.writeable = False
    fftconvolve(x, h, "same", axes=1)
    np.testing.assert_array_equal(x, np.arange(10.0).reshape(2, 5))
