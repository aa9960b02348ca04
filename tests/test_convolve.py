"""convlib.convolve / correlate / convolve2d / correlate2d against scipy.signal and numpy."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import convlib

METHODS = ["direct", "vectorized", "fft", "torch", "auto"]
MODES = ["full", "same", "valid"]

# (x shape, h shape): odd and even kernels, equal sizes, kernels longer than the signal, 1-3 D
SHAPES = [
    ((7,), (3,)),
    ((8,), (4,)),
    ((5,), (5,)),
    ((3,), (6,)),
    ((1,), (1,)),
    ((6,), (1,)),
    ((2,), (7,)),
    ((5, 6), (3, 2)),
    ((4, 4), (4, 4)),
    ((2, 3), (4, 5)),
    ((3, 5), (4, 2)),  # 'valid' is impossible: neither is larger in every dimension
    ((4, 3, 5), (2, 3, 2)),
]


def valid_possible(shape1, shape2):
    return all(a >= b for a, b in zip(shape1, shape2)) or all(a <= b for a, b in zip(shape1, shape2))


def random_array(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -9), min(info.max, 9), shape, endpoint=True).astype(dtype)
    values = rng.standard_normal(shape)
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def assert_matches(result, expected):
    """Same shape and dtype; exact for integers and bools, close for floating point."""
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(result, expected)
    else:
        single = expected.dtype in (np.float32, np.complex64)
        scale = max(1.0, float(np.abs(expected).max(initial=0)))
        np.testing.assert_allclose(result, expected, rtol=1e-4 if single else 1e-10,
                                   atol=(1e-4 if single else 1e-10) * scale)


CUDA_AVAILABLE = False
try:  # torch is a test dependency; convlib itself imports it lazily
    import torch

    CUDA_AVAILABLE = torch.cuda.is_available()
except ImportError:  # pragma: no cover
    pass

DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not CUDA_AVAILABLE, reason="CUDA not available")])]


# ---------------------------------------------------------------- values against scipy.signal


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("function", ["convolve", "correlate"])
def test_values_match_scipy_signal_for_every_mode_method_and_shape(function, shapes, mode, method):
    rng = np.random.default_rng(hash((shapes, mode)) % 2**32)
    x = random_array(rng, shapes[0], np.complex128)
    h = random_array(rng, shapes[1], np.complex128)
    ours = getattr(convlib, function)
    theirs = getattr(scipy.signal, function)
    if mode == "valid" and not valid_possible(*shapes):
        with pytest.raises(ValueError, match="valid"):
            ours(x, h, mode, method=method)
        return
    assert_matches(ours(x, h, mode, method=method), theirs(x, h, mode, method="direct"))


DTYPE_PAIRS = [
    ("int64", "int64"),
    ("int8", "int8"),  # wraps around on overflow, like scipy
    ("uint8", "int8"),  # -> int16
    ("bool", "bool"),
    ("float32", "float32"),  # stays float32
    ("float32", "int64"),  # -> float64
    ("float64", "float64"),
    ("complex64", "float32"),  # stays complex64
    ("complex128", "int32"),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids="-".join)
@pytest.mark.parametrize("shapes", [((9,), (4,)), ((5, 4), (3, 3))], ids=str)
def test_result_dtype_and_values_follow_scipy_for_every_dtype(shapes, dtypes, mode, method):
    rng = np.random.default_rng(1)
    x = random_array(rng, shapes[0], dtypes[0])
    h = random_array(rng, shapes[1], dtypes[1])
    if dtypes == ("int8", "int8"):
        x = x * np.int8(10)  # products overflow int8: all methods must wrap the same way
    if x.dtype == bool and x.ndim > 1:
        # scipy's N-D direct code refuses bool; the logical result is "any product is True"
        expected = scipy.signal.convolve(x.astype(int), h.astype(int), mode, method="direct") > 0
    else:
        expected = scipy.signal.convolve(x, h, mode, method="direct")
    assert_matches(convlib.convolve(x, h, mode, method=method), expected)


@pytest.mark.parametrize("mode", ["full", "valid"])
def test_1d_values_match_numpy_convolve_and_correlate(mode):
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal(11), rng.standard_normal(4)
    assert_matches(convlib.convolve(x, h, mode, method="direct"), np.convolve(x, h, mode))
    assert_matches(convlib.correlate(x, h, mode, method="vectorized"), np.correlate(x, h, mode))


LONG_CASES = [  # O(n*m) methods only where n*m is small enough for a unit test
    (n, m, method)
    for n, m in [(70_000, 301), (40_000, 7), (300, 20_000)]
    for method in METHODS
    if method in ("fft", "auto") or n * m <= 1e6
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n,m,method", LONG_CASES)
def test_long_1d_problems_match_scipy_including_overlap_add(n, m, method, mode):
    rng = np.random.default_rng(3)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    assert_matches(convlib.convolve(x, h, mode, method=method), scipy.signal.convolve(x, h, mode))


@pytest.mark.parametrize("mode", MODES)
def test_long_complex_signal_with_fft_method_matches_scipy(mode):
    rng = np.random.default_rng(4)
    x = random_array(rng, (50_000,), np.complex128)
    h = random_array(rng, (500,), np.complex128)
    assert_matches(convlib.correlate(x, h, mode, method="fft"), scipy.signal.correlate(x, h, mode))


# ---------------------------------------------------------------- scipy's special rules


def test_same_mode_is_centred_on_x_even_when_the_kernel_is_longer_unlike_numpy():
    x, h = np.array([1.0, 2.0, 3.0]), np.arange(1.0, 6.0)
    ours = convlib.convolve(x, h, "same")
    assert ours.shape == x.shape
    assert_matches(ours, scipy.signal.convolve(x, h, "same"))
    # numpy swaps the operands and keeps the longer length: a different result
    assert np.convolve(x, h, "same").shape == h.shape


@pytest.mark.parametrize("method", METHODS)
def test_valid_mode_swaps_operands_when_the_kernel_is_larger(method):
    x, h = np.array([1, 2, 3]), np.array([1, 0, 2, 5, 1])
    assert_matches(convlib.convolve(x, h, "valid", method=method), scipy.signal.convolve(x, h, "valid"))
    assert_matches(convlib.correlate(x, h, "valid", method=method), scipy.signal.correlate(x, h, "valid"))


@pytest.mark.parametrize("function", ["convolve", "correlate"])
@pytest.mark.parametrize("values", [(3, 2), (3 + 1j, 2 - 1j), (np.float32(1.5), 2)])
def test_zero_dimensional_inputs_give_the_product_like_scipy(function, values):
    ours = getattr(convlib, function)(np.array(values[0]), np.array(values[1]))
    theirs = getattr(scipy.signal, function)(np.array(values[0]), np.array(values[1]))
    assert ours == theirs
    assert np.asarray(ours).dtype == np.asarray(theirs).dtype


@pytest.mark.parametrize("method", METHODS)
def test_correlation_conjugates_the_second_input(method):
    x = np.array([1j, 2.0, 0.5 - 1j])
    h = np.array([1j, 1.0])
    # z[t] = sum_i x[i] conj(h[i - t]) for t = -1 .. 2
    expected = np.array([sum(x[i] * np.conj(h[i - t]) for i in range(3) if 0 <= i - t < 2)
                         for t in range(-1, 3)])
    np.testing.assert_allclose(convlib.correlate(x, h, method=method), expected, atol=1e-12)


def test_direct_method_confines_nan_to_the_outputs_it_touches_like_scipy():
    x = np.array([1.0, np.nan, 3.0, 0.0, 0.0, 0.0, 0.0])
    ours = convlib.convolve(x, [1.0, 1.0], method="direct")
    theirs = scipy.signal.convolve(x, [1.0, 1.0], method="direct")
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.isnan(ours).sum() == 2


def test_direct_method_is_exact_on_integers_beyond_float64_precision():
    x = np.array([2**40 + 1, 3, 2**40 - 1], dtype=np.int64)
    h = np.array([2**12 + 1, -1], dtype=np.int64)
    expected = np.array([sum(int(x[i]) * int(h[t - i]) for i in range(3) if 0 <= t - i < 2) for t in range(4)])
    result = convlib.convolve(x, h, method="direct")
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    # auto must not send such integers to the (inexact) FFT
    np.testing.assert_array_equal(convlib.convolve(np.tile(x, 1000), np.tile(h, 200)),
                                  scipy.signal.convolve(np.tile(x, 1000), np.tile(h, 200), method="direct"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("function", ["convolve", "correlate"])
def test_inputs_are_never_modified(function, method):
    rng = np.random.default_rng(5)
    x, h = random_array(rng, (6, 5), np.complex128), random_array(rng, (3, 2), np.complex128)
    x_copy, h_copy = x.copy(), h.copy()
    x.flags.writeable = False  # any write would raise
    h.flags.writeable = False
    getattr(convlib, function)(x, h, "same", method=method)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(h, h_copy)


# ---------------------------------------------------------------- devices (torch path)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "complex128"])
@pytest.mark.parametrize("shapes", [((9,), (4,)), ((6, 5), (3, 2)), ((4, 3, 5), (2, 3, 2))], ids=str)
def test_device_argument_runs_torch_and_returns_numpy_in_the_scipy_dtype(shapes, dtype, device):
    rng = np.random.default_rng(6)
    x, h = random_array(rng, shapes[0], dtype), random_array(rng, shapes[1], dtype)
    for mode in MODES:
        result = convlib.convolve(x, h, mode, device=device)
        assert isinstance(result, np.ndarray)
        assert_matches(result, scipy.signal.convolve(x, h, mode, method="direct"))
        assert_matches(convlib.correlate(x, h, mode, method="torch", device=device),
                       scipy.signal.correlate(x, h, mode, method="direct"))


# ---------------------------------------------------------------- convolve2d / correlate2d

SHAPES_2D = [
    ((5, 6), (3, 3)),
    ((5, 6), (2, 4)),  # even kernel: the correlate2d 'same' offset
    ((4, 4), (4, 4)),
    ((3, 4), (5, 6)),  # kernel larger than the image in both dimensions
    ((3, 5), (4, 2)),  # 'valid' impossible
    ((1, 7), (1, 2)),
    ((2, 2), (5, 1)),
]


@pytest.mark.parametrize("fillvalue", [0, 2.5])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "circular", "symmetric"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES_2D, ids=str)
@pytest.mark.parametrize("function", ["convolve2d", "correlate2d"])
def test_2d_functions_match_scipy_for_every_boundary_mode_and_shape(function, shapes, mode, boundary, fillvalue):
    rng = np.random.default_rng(7)
    image = random_array(rng, shapes[0], np.complex128)
    kernel = random_array(rng, shapes[1], np.complex128)
    ours = getattr(convlib, function)
    theirs = getattr(scipy.signal, function)
    if mode == "valid" and not valid_possible(*shapes):
        with pytest.raises(ValueError, match="valid"):
            ours(image, kernel, mode, boundary=boundary, fillvalue=fillvalue)
        return
    assert_matches(ours(image, kernel, mode, boundary=boundary, fillvalue=fillvalue),
                   theirs(image, kernel, mode, boundary, fillvalue))


@pytest.mark.parametrize("dtypes", [("int8", "int8"), ("uint8", "float32"), ("int32", "float32"),
                                    ("float32", "float32"), ("int64", "int64")], ids="-".join)
@pytest.mark.parametrize("fillvalue", [0, 1.5, -3])
def test_2d_dtype_and_fillvalue_cast_follow_scipy(dtypes, fillvalue):
    rng = np.random.default_rng(8)
    image = random_array(rng, (6, 5), dtypes[0])
    kernel = random_array(rng, (3, 2), dtypes[1])
    for function in ("convolve2d", "correlate2d"):
        for mode in MODES:
            assert_matches(getattr(convlib, function)(image, kernel, mode, fillvalue=fillvalue),
                           getattr(scipy.signal, function)(image, kernel, mode, fillvalue=fillvalue))


def test_correlate2d_same_with_even_kernel_is_offset_by_one_from_correlate():
    rng = np.random.default_rng(9)
    image, kernel = rng.standard_normal((6, 6)), rng.standard_normal((2, 4))
    full = convlib.correlate(image, kernel, "full")
    same2d = convlib.correlate2d(image, kernel, "same")
    # correlate2d starts k // 2 into the full output, correlate starts (k - 1) // 2
    np.testing.assert_allclose(same2d, full[1:7, 2:8])
    np.testing.assert_allclose(convlib.correlate(image, kernel, "same"), full[0:6, 1:7])
    assert not np.allclose(same2d, convlib.correlate(image, kernel, "same"))


def test_2d_inputs_are_never_modified():
    image = np.arange(20.0).reshape(4, 5)
    kernel = np.ones((2, 3))
    image.flags.writeable = kernel.flags.writeable = False
    for boundary in ("fill", "wrap", "symm"):
        convlib.convolve2d(image, kernel, "same", boundary=boundary)
        convlib.correlate2d(image, kernel, "full", boundary=boundary)
    np.testing.assert_array_equal(image, np.arange(20.0).reshape(4, 5))


# ---------------------------------------------------------------- bad input

BAD_CALLS = [
    # (call, exception, words the message must contain)
    (lambda: convlib.convolve([1, 2], [1], "circular"), ValueError, "mode"),
    (lambda: convlib.convolve([1, 2], [1], 2), TypeError, "mode"),
    (lambda: convlib.convolve([1, 2], [1], method="winograd"), ValueError, "method"),
    (lambda: convlib.correlate([1, 2], [1], method="FFT"), ValueError, "method"),
    (lambda: convlib.convolve([], [1.0]), ValueError, "x must not be empty"),
    (lambda: convlib.correlate([1.0], np.ones((1, 0))), ValueError, "h must not be empty"),
    (lambda: convlib.convolve(["a", "b"], [1]), TypeError, "x must hold numbers"),
    (lambda: convlib.convolve([1, 2], np.array([1, 2], dtype=object)), TypeError, "h must hold numbers"),
    (lambda: convlib.convolve(np.ones(3), np.ones((2, 2))), ValueError, "same number of dimensions"),
    (lambda: convlib.convolve(np.ones(3), np.array(2.0)), ValueError, "same number of dimensions"),
    (lambda: convlib.convolve(np.ones((3, 5)), np.ones((5, 3)), "valid"), ValueError, "valid"),
    (lambda: convlib.correlate(np.ones((3, 5)), np.ones((5, 3)), "valid"), ValueError, "valid"),
    (lambda: convlib.convolve([1, 2], [1], method="fft", device="cpu"), ValueError, "device"),
    (lambda: convlib.convolve([1, 2], [1], device="gpu"), ValueError, "device='gpu'"),
    (lambda: convlib.convolve([1, 2], [1], device=3), TypeError, "device"),
    (lambda: convlib.convolve(np.ones((2,) * 4), np.ones((1,) * 4), method="torch"), ValueError, "1-, 2- and 3-D"),
    (lambda: convlib.convolve2d(np.ones(3), np.ones(2)), ValueError, "2-D"),
    (lambda: convlib.correlate2d(np.ones((3, 3)), np.ones((1, 2, 2))), ValueError, "2-D"),
    (lambda: convlib.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect"), ValueError, "boundary"),
    (lambda: convlib.convolve2d(np.ones((3, 3)), np.ones((2, 2)), mode="circular"), ValueError, "mode"),
    (lambda: convlib.convolve2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=1j), ValueError, "fillvalue"),
    (lambda: convlib.convolve2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=[1, 2]), ValueError, "fillvalue"),
    (lambda: convlib.convolve2d(np.ones((3, 3), bool), np.ones((2, 2))), TypeError, "bool"),
    (lambda: convlib.convolve2d(np.ones((0, 3)), np.ones((2, 2))), ValueError, "image must not be empty"),
    (lambda: convlib.correlate2d(np.ones((3, 5)), np.ones((5, 3)), "valid"), ValueError, "valid"),
]


@pytest.mark.parametrize("call,exception,words", BAD_CALLS, ids=[c[2] for c in BAD_CALLS])
def test_bad_input_raises_an_error_naming_the_argument(call, exception, words):
    with pytest.raises(exception, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.skipif(CUDA_AVAILABLE, reason="this machine has CUDA: the request would succeed")
def test_asking_for_cuda_without_cuda_is_a_value_error_naming_the_device():
    with pytest.raises(ValueError, match="device='cuda:1'.*CUDA is not available"):
        convlib.convolve([1.0, 2.0], [1.0], device="cuda:1")


def test_bool_inputs_follow_scipy_logical_result():
    x = np.array([True, False, False, True, False])
    h = np.array([True, True])
    for method in METHODS:
        assert_matches(convlib.convolve(x, h, method=method), scipy.signal.convolve(x, h))


# ---------------------------------------------------------------- properties (hypothesis)

small_ints = hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(-50, 50))
method_names = st.sampled_from(["direct", "vectorized", "fft", "auto"])


@settings(max_examples=60, deadline=None)
@given(a=small_ints, b=small_ints, method=method_names)
def test_convolution_is_commutative(a, b, method):
    np.testing.assert_array_equal(convlib.convolve(a, b, method=method), convlib.convolve(b, a, method=method))


@settings(max_examples=60, deadline=None)
@given(a=small_ints, b=small_ints, alpha=st.integers(-5, 5), beta=st.integers(-5, 5), method=method_names)
def test_convolution_is_linear_in_the_kernel(a, b, alpha, beta, method):
    c = b[::-1].copy()
    left = convlib.convolve(a, alpha * b + beta * c, method=method)
    right = alpha * convlib.convolve(a, b, method=method) + beta * convlib.convolve(a, c, method=method)
    np.testing.assert_array_equal(left, right)


@settings(max_examples=60, deadline=None)
@given(a=small_ints, b=small_ints, shift=st.integers(0, 6), method=method_names)
def test_convolution_is_shift_equivariant(a, b, shift, method):
    shifted_input = np.concatenate([np.zeros(shift, np.int64), a])
    shifted_output = np.concatenate([np.zeros(shift, np.int64), convlib.convolve(a, b, method=method)])
    np.testing.assert_array_equal(convlib.convolve(shifted_input, b, method=method), shifted_output)


@settings(max_examples=60, deadline=None)
@given(
    a=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-10, 10)),
    b=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-10, 10)),
    method=method_names,
)
def test_convolution_theorem_spectrum_of_the_result_is_the_product_of_spectra(a, b, method):
    size = tuple(p + q - 1 for p, q in zip(a.shape, b.shape))
    spectrum = np.fft.fft2(convlib.convolve(a, b, method=method), size)
    product = np.fft.fft2(a, size) * np.fft.fft2(b, size)
    np.testing.assert_allclose(spectrum, product, atol=1e-8 * (1 + np.abs(product).max()))


def test_shapes_cover_every_combination_of_odd_even_and_longer_kernels():
    lengths = [(s[0][0], s[1][0]) for s in SHAPES if len(s[0]) == 1]
    assert any(k % 2 == 1 and k < n for n, k in lengths)
    assert any(k % 2 == 0 and k < n for n, k in lengths)
    assert any(k > n for n, k in lengths)
    assert {len(s[0]) for s in SHAPES} == {1, 2, 3}
    assert set(itertools.chain.from_iterable((len(a), len(b)) for a, b in SHAPES)) == {1, 2, 3}
