"""convlib as a drop-in for scipy.signal's convolutions.

Cases from scipy's own suite (scipy/signal/tests/test_signaltools.py: TestConvolve,
TestConvolve2d, TestCorrelateReal, TestCorrelateComplex, TestCorrelate, TestFFTConvolve),
rewritten against convlib with the expected values scipy's tests use, plus every
positional call form scipy accepts and the float16 accuracy of the direct sums.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from numpy.testing import assert_allclose, assert_array_almost_equal, assert_array_equal

from convlib import convolve, convolve2d, correlate, correlate2d, fftconvolve
from convlib._convolve import METHODS

NUMPY_METHODS = [m for m in METHODS if m != "torch"]


def assert_equal_with_dtype(actual, expected):
    expected = np.asarray(expected)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert_array_equal(actual, expected)


# --------------------------------------------------------------------------- TestConvolve
class TestConvolve:
    @pytest.mark.parametrize("method", METHODS)
    def test_basic(self, method):
        result = convolve([3, 4, 5, 6, 5, 4], [1, 2, 3], "full", method)
        assert_equal_with_dtype(result, np.array([3, 10, 22, 28, 32, 32, 23, 12]))

    @pytest.mark.parametrize("method", METHODS)
    def test_same(self, method):
        assert_array_equal(convolve([3, 4, 5], [1, 2, 3, 4], "same", method), [10, 22, 34])
        assert_array_equal(convolve([3, 4, 5], [1, 2, 3], "same", method), [10, 22, 22])

    @pytest.mark.parametrize("method", METHODS)
    def test_complex(self, method):
        result = convolve(np.array([1 + 1j, 2 + 1j, 3 + 1j]), np.array([1 + 1j, 2 + 1j]), "full", method)
        assert_allclose(result, [2j, 2 + 6j, 5 + 8j, 5 + 5j], atol=1e-12)

    def test_zero_rank(self):
        assert convolve(np.array(1289), np.array(4567)) == 1289 * 4567
        assert convolve(1289, 4567) == 1289 * 4567

    def test_single_element(self):
        assert_array_equal(convolve(np.array([4967]), np.array([3920])), [4967 * 3920])

    def test_broadcastable_kernels_give_the_same_result_by_direct_and_fft(self):
        a = np.arange(27).reshape(3, 3, 3)
        for axis in range(3):
            shape = [1, 1, 1]
            shape[axis] = 3
            b = np.arange(3).reshape(shape)
            assert_allclose(convolve(a, b, method="direct"), convolve(a, b, method="fft"), atol=1e-14)

    @pytest.mark.parametrize("method", METHODS)
    def test_2d_arrays(self, method):
        result = convolve([[1, 2, 3], [3, 4, 5]], [[2, 3, 4], [4, 5, 6]], "full", method)
        assert_array_equal(result, [[2, 7, 16, 17, 12], [10, 30, 62, 58, 38], [12, 31, 58, 49, 30]])

    @pytest.mark.parametrize("method", NUMPY_METHODS)
    def test_input_swapping(self, method):
        small = np.arange(8).reshape(2, 2, 2)
        big = 1j * np.arange(27, dtype=complex).reshape(3, 3, 3) + np.arange(27, dtype=complex)[::-1].reshape(3, 3, 3)
        full = scipy.signal.convolve(small, big, "full", method="direct")
        for first, second in ((small, big), (big, small)):
            assert_allclose(convolve(first, second, "full", method), full, atol=1e-9)
            assert_allclose(convolve(first, second, "valid", method), full[1:3, 1:3, 1:3], atol=1e-9)
        assert_allclose(convolve(small, big, "same", method), full[1:3, 1:3, 1:3], atol=1e-9)
        assert_allclose(convolve(big, small, "same", method), full[0:3, 0:3, 0:3], atol=1e-9)

    @pytest.mark.parametrize("mode,method", [("spam", "auto"), ("eggs", "fft"), ("ham", "direct"),
                                             ("full", "bacon"), ("same", "bacon")])
    def test_invalid_params(self, mode, method):
        with pytest.raises(ValueError):
            convolve([3, 4, 5], [1, 2, 3], mode, method)

    def test_valid_mode2(self):
        a, b = [1, 2, 3, 6, 5, 3], [2, 3, 4, 5, 3, 4, 2, 2, 1]
        assert_array_equal(convolve(a, b, "valid"), [70, 78, 73, 65])
        assert_array_equal(convolve(b, a, "valid"), [70, 78, 73, 65])
        a, b = np.array([1 + 5j, 2 - 1j, 3 + 0j]), np.array([2 - 3j, 1 + 0j])
        assert_array_equal(convolve(a, b, "valid"), [2 - 3j, 8 - 10j])
        assert_array_equal(convolve(b, a, "valid"), [2 - 3j, 8 - 10j])

    def test_same_mode_with_a_longer_kernel(self):
        result = convolve([1, 2, 3, 3, 1, 2], [1, 4, 3, 4, 5, 6, 7, 4, 3, 2, 1, 1, 3], "same")
        assert_array_equal(result, [57, 61, 63, 57, 45, 36])

    def test_invalid_shapes(self):
        a, b = np.arange(1, 7).reshape(2, 3), np.arange(-6, 0).reshape(3, 2)
        for first, second in ((a, b), (b, a)):
            with pytest.raises(ValueError, match="valid"):
                convolve(first, second, mode="valid")

    def test_every_dtype_pair_gives_the_same_dtype_and_values_by_fft_and_direct(self):
        rng = np.random.RandomState(42)
        samples = {"i": rng.choice([0, 1], size=100), "f": rng.randn(100)}
        samples["b"] = samples["u"] = samples["i"]
        samples["c"] = samples["f"] + 0.5j * samples["f"]
        types = ["uint8", "int8", "int32", "uint64", "int64", "float16", "float32", "float64",
                 "complex64", "complex128", "bool"]
        for t1 in types:
            for t2 in types:
                x1 = samples[np.dtype(t1).kind].astype(t1)
                x2 = samples[np.dtype(t2).kind].astype(t2)
                for mode in ("valid", "full", "same"):
                    fft = convolve(x1, x2, mode, "fft")
                    direct = convolve(x1, x2, mode, "direct")
                    assert fft.dtype == direct.dtype == scipy.signal.convolve(x1, x2, mode, "fft").dtype
                    if t1 == t2 == "bool":
                        assert_array_equal(fft, direct)
                    elif "float32" in (t1, t2) or "complex64" in (t1, t2):
                        assert_allclose(fft, direct, rtol=1e-4, atol=1e-6)
                    elif "float16" in (t1, t2):
                        assert_allclose(fft, direct, rtol=1e-3, atol=1e-3)
                    else:
                        assert_allclose(fft, direct, rtol=1e-5, atol=1e-8)

    @pytest.mark.parametrize("n", [10, 20, 25, 31])
    def test_large_integers_stay_exact(self, n):
        z = np.array([2**n], dtype=np.int64)
        assert_array_equal(convolve(z, z, method="fft"), [2 ** (2 * n)])
        assert_array_equal(convolve(z, z, method="direct"), [2 ** (2 * n)])

    @pytest.mark.parametrize("first,second", [([1], 2), (1, [2]), ([1], [[2]]), ([3], 2)])
    @pytest.mark.parametrize("method", ["direct", "fft", "auto"])
    def test_mismatched_dims(self, first, second, method):
        with pytest.raises(ValueError, match="same number of dimensions"):
            convolve(first, second, "full", method)
        with pytest.raises(ValueError, match="same number of dimensions"):
            correlate(first, second, "full", method)


# --------------------------------------------------------------------------- TestConvolve2d
class TestConvolve2d:
    A = [[1, 2, 3], [3, 4, 5]]
    B = [[2, 3, 4], [4, 5, 6]]

    def test_2d_arrays(self):
        assert_array_equal(convolve2d(self.A, self.B),
                           [[2, 7, 16, 17, 12], [10, 30, 62, 58, 38], [12, 31, 58, 49, 30]])

    def test_valid_mode_swaps_like_scipy(self):
        e = [[2, 3, 4, 5, 6, 7, 8], [4, 5, 6, 7, 8, 9, 10]]
        assert_array_equal(convolve2d(e, self.A, "valid"), [[62, 80, 98, 116, 134]])
        assert_array_equal(convolve2d(self.A, e, "valid"), [[62, 80, 98, 116, 134]])
        f = np.array(self.A, dtype=complex) + 1j
        expected = [[62 + 24j, 80 + 30j, 98 + 36j, 116 + 42j, 134 + 48j]]
        assert_allclose(convolve2d(e, f, "valid"), expected)
        assert_allclose(convolve2d(f, e, "valid"), expected)

    def test_fillvalue_positional(self):
        assert_array_equal(convolve2d(self.A, self.B, "full", "fill", 1),
                           [[24, 26, 31, 34, 32], [28, 40, 62, 64, 52], [32, 46, 67, 62, 48]])

    @pytest.mark.parametrize("fillvalue", [1j, [1, 2], []])
    def test_fillvalue_errors(self, fillvalue):
        with pytest.raises(ValueError, match="fillvalue"):
            convolve2d([[1]], [[1, 2]], "full", "fill", fillvalue)

    def test_wrap_boundary_positional(self):
        assert_array_equal(convolve2d(self.A, self.B, "full", "wrap"),
                           [[80, 80, 74, 80, 80], [68, 68, 62, 68, 68], [80, 80, 74, 80, 80]])

    def test_symm_boundary_positional(self):
        assert_array_equal(convolve2d(self.A, self.B, "full", "symm"),
                           [[34, 30, 44, 62, 66], [52, 48, 62, 80, 84], [82, 78, 92, 110, 114]])

    @pytest.mark.parametrize("function", [convolve2d, correlate2d])
    @pytest.mark.parametrize("boundary,expected", [("symm", [[37.0, 42.0, 44.0, 45.0]]),
                                                   ("wrap", [[43.0, 44.0, 42.0, 39.0]])])
    def test_same_with_a_kernel_that_extends_the_image_more_than_once(self, function, boundary, expected):
        result = function(np.array([[2.0, -1.0, 3.0, 4.0]]), np.ones((1, 21)), "same", boundary)
        assert_array_equal(result, expected)

    def test_boundary_extension_same_matches_ndimage(self):
        import scipy.ndimage as ndi

        a = np.arange(1, 31, dtype=float).reshape(10, 3)
        b = np.arange(1, 101, dtype=float).reshape(10, 10)
        assert_allclose(convolve2d(a, b, "same", "wrap"), ndi.convolve(a, b, mode="wrap", origin=(-1, -1)))

    def test_boundary_extension_full_matches_ndimage(self):
        import scipy.ndimage as ndi

        a = np.arange(1, 10, dtype=float).reshape(3, 3)
        b = np.arange(1, 37, dtype=float).reshape(6, 6)
        padded = np.pad(a, ((3, 3), (3, 3)), "wrap")
        assert_allclose(convolve2d(a, b, "full", "wrap"), ndi.convolve(padded, b, mode="wrap")[:-1, :-1])

    def test_same_mode_with_the_larger_kernel(self):
        f = [[2, 3, 4, 5, 6, 7, 8], [4, 5, 6, 7, 8, 9, 10]]
        assert_array_equal(convolve2d(self.A, f, "same"), [[22, 28, 34], [80, 98, 116]])

    def test_valid_mode2_complex(self):
        e = np.array([[1 + 1j, 2 - 3j], [3 + 1j, 4 + 0j]])
        f = np.array([[2 - 1j, 3 + 2j, 4 + 0j], [4 - 0j, 5 + 1j, 6 - 3j]])
        assert_array_equal(convolve2d(e, f, "valid"), [[27 - 1j, 46 + 2j]])
        assert_array_equal(convolve2d(f, e, "valid"), [[27 - 1j, 46 + 2j]])

    @pytest.mark.parametrize("mode", ["full", "valid", "same"])
    def test_consistency_with_numpy_and_convolve(self, mode):
        a, b = np.arange(5), np.array([3.2, 1.4, 3])
        assert_allclose(convolve(a, b, mode), np.convolve(a, b, mode))
        assert_allclose(convolve2d(a[None, :], b[None, :], mode)[0], convolve(a, b, mode))

    @pytest.mark.parametrize("image,kernel", [(3, 4), ([3], [4]), ([[[3]]], [[[4]]])])
    def test_invalid_dims(self, image, kernel):
        with pytest.raises(ValueError, match="2-D"):
            convolve2d(image, kernel)

    @pytest.mark.parametrize("mode", ["full", "same", "valid"])
    @pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
    @pytest.mark.parametrize("function", ["convolve2d", "correlate2d"])
    def test_blocked_large_images_match_scipy(self, monkeypatch, mode, boundary, function):
        # inputs above the threshold are extended block by block of rows: same values, same dtype
        from convlib import _convolve

        monkeypatch.setattr(_convolve, "BLOCKED_2D_ELEMENTS", 100)
        monkeypatch.setattr(_convolve, "BLOCK_2D_ELEMENTS", 64)
        rng = np.random.default_rng(3)
        image = rng.integers(-50, 50, (37, 23))
        kernel = rng.integers(-5, 5, (4, 3))
        ours = getattr(_convolve, function)(image, kernel, mode, boundary, 7)
        theirs = getattr(scipy.signal, function)(image, kernel, mode, boundary, 7)
        assert_equal_with_dtype(ours, theirs)


# --------------------------------------------------------------------------- TestCorrelate*
REAL_DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
               "float32", "float64", "longdouble"]


def _rank3(dt):
    a = np.linspace(0, 39, 40).reshape((2, 4, 5), order="F").astype(dt)
    b = np.linspace(0, 23, 24).reshape((2, 3, 4), order="F").astype(dt)
    return a, b, scipy.signal.correlate(a.astype(float), b.astype(float), method="direct").astype(dt)


@pytest.mark.parametrize("dt", REAL_DTYPES)
class TestCorrelateReal:
    @pytest.mark.parametrize("method", NUMPY_METHODS)
    def test_rank1(self, dt, method):
        a, b = np.linspace(0, 3, 4).astype(dt), np.linspace(1, 2, 2).astype(dt)
        y_r = np.array([0, 2, 5, 8, 3]).astype(dt)
        for mode, expected in (("full", y_r), ("same", y_r[:-1]), ("valid", y_r[1:4])):
            y = correlate(a, b, mode, method)
            assert_array_almost_equal(y, expected)
            assert y.dtype == dt
        y = correlate(b, a, "valid", method)
        assert_array_almost_equal(y, y_r[1:4][::-1])
        assert y.dtype == dt

    @pytest.mark.parametrize("method", NUMPY_METHODS)
    def test_rank3(self, dt, method):
        a, b, y_r = _rank3(dt)
        # scipy's tolerance: half the decimal digits the dtype resolves
        decimal = int(-0.5 * np.log10(np.finfo(dt).resolution)) if np.dtype(dt).kind == "f" else 6
        y = correlate(a, b, "full", method)
        assert_array_almost_equal(y, y_r, decimal=decimal)
        assert y.dtype == dt
        assert_array_almost_equal(correlate(a, b, "same", method), y_r[0:-1, 1:-1, 1:-2], decimal=decimal)
        assert_array_almost_equal(correlate(a, b, "valid", method), y_r[1:2, 2:4, 3:5], decimal=decimal)
        y = correlate(b, a, "valid", method)
        assert_array_almost_equal(y, y_r[1:2, 2:4, 3:5][::-1, ::-1, ::-1], decimal=decimal)
        assert y.dtype == dt


@pytest.mark.parametrize("dt", [np.complex64, np.complex128, np.clongdouble])
class TestCorrelateComplex:
    @pytest.mark.parametrize("mode", ["full", "same", "valid"])
    @pytest.mark.parametrize("method", NUMPY_METHODS)
    def test_rank1_against_real_parts(self, dt, mode, method):
        rng = np.random.default_rng(9)
        a = (rng.standard_normal(10) + 1j * rng.standard_normal(10)).astype(dt)
        b = (rng.standard_normal(8) + 1j * rng.standard_normal(8)).astype(dt)
        expected = (correlate(a.real, b.real, mode) + correlate(a.imag, b.imag, mode)
                    + 1j * (-correlate(a.real, b.imag, mode) + correlate(a.imag, b.real, mode)))
        y = correlate(a, b, mode, method)
        decimal = 4 if dt == np.complex64 else 10
        assert_array_almost_equal(y, expected, decimal=decimal)
        assert y.dtype == dt

    def test_rank0(self, dt):
        a, b = np.array(3 + 4j, dtype=dt), np.array(1 - 2j, dtype=dt)
        assert correlate(a, b) == a * np.conj(b)


class TestCorrelate:
    def test_invalid_shapes(self):
        a, b = np.arange(1, 7).reshape(2, 3), np.arange(-6, 0).reshape(3, 2)
        for first, second in ((a, b), (b, a)):
            with pytest.raises(ValueError):
                correlate(first, second, "valid")

    @pytest.mark.parametrize("mode,method", [("spam", "auto"), ("eggs", "fft"), ("ham", "direct"),
                                             ("full", "bacon"), ("same", "bacon")])
    def test_invalid_params(self, mode, method):
        with pytest.raises(ValueError):
            correlate([3, 4, 5], [1, 2, 3], mode, method)

    def test_numpy_fastpath_values(self):
        assert_array_equal(correlate([1, 2, 3], [4, 5], "same"), [5, 14, 23])
        assert_array_equal(correlate([1, 2, 3], [4, 5, 6], "same"), [17, 32, 23])
        assert_array_equal(correlate([1, 2, 3], [4, 5, 6], "full"), [6, 17, 32, 23, 12])
        assert_array_equal(correlate([1, 2, 3], [4, 5, 6], "valid"), [32])


# --------------------------------------------------------------------------- TestFFTConvolve
class TestFFTConvolve:
    @pytest.mark.parametrize("axes", ["", None, 0, [0], -1, [-1]])
    def test_real(self, axes):
        a = np.array([1, 2, 3])
        out = fftconvolve(a, a) if axes == "" else fftconvolve(a, a, "full", axes)
        assert_allclose(out, [1, 4, 10, 12, 9.0], atol=1.5e-6)

    @pytest.mark.parametrize("axes", [1, [1], -1, [-1]])
    def test_complex_axes(self, axes):
        a = np.tile([1 + 1j, 2 + 2j, 3 + 3j], (2, 1))
        assert_allclose(fftconvolve(a, a, "full", axes), np.tile([2j, 8j, 20j, 24j, 18j], (2, 1)), atol=1.5e-6)

    def test_valid_mode_ignores_other_axes(self):
        a, b = np.tile([3, 2, 1], (2, 1)), np.tile([3, 3, 5, 6, 8, 7, 9, 0, 1], (1, 1))
        assert_allclose(fftconvolve(a, b, "valid", 1), np.tile([24.0, 31, 41, 43, 49, 25, 12], (2, 1)),
                        atol=1.5e-6)

    @pytest.mark.parametrize("a,b", [([], []), ([5, 6], []), ([], [7])])
    def test_empty_input_gives_an_empty_array_like_scipy(self, a, b):
        out = fftconvolve(a, b)
        expected = scipy.signal.fftconvolve(np.asarray(a), np.asarray(b))
        assert out.shape == expected.shape == (0,)
        assert out.dtype == expected.dtype

    def test_zero_rank_and_single_element(self):
        assert fftconvolve(np.array(4967), np.array(3920)) == 4967 * 3920
        assert_allclose(fftconvolve(np.array([4967]), np.array([3920])), [4967 * 3920])

    @pytest.mark.parametrize("axes", [1.5, [0.0], "0", [0, 1.0]])
    def test_non_integer_axes_are_a_value_error_like_scipy(self, axes):
        a = np.ones((2, 3))
        with pytest.raises(ValueError):
            scipy.signal.fftconvolve(a, a, "full", axes)
        with pytest.raises(ValueError, match="axes must be an int or a sequence of ints; got"):
            fftconvolve(a, a, "full", axes)

    @pytest.mark.parametrize("axes", [[1, 4], [4, 1], [1, -1], [-4, 4], [-1, -4]])
    def test_random_data_multidim_axes(self, axes):
        rng = np.random.default_rng(1234)
        a = rng.random((23, 12)) + 1j * rng.random((23, 12))
        b = rng.random((32, 11)) + 1j * rng.random((32, 11))
        expected = convolve2d(a, b, "full")
        a, b, expected = (np.moveaxis(v[:, :, None, None, None].swapaxes(0, 2), 1, 4) for v in (a, b, expected))
        a, b, expected = np.tile(a, (2, 1, 3, 1, 1)), np.tile(b, (2, 1, 1, 4, 1)), np.tile(expected, (2, 1, 3, 4, 1))
        assert_allclose(fftconvolve(a, b, "full", axes), expected, rtol=1e-10, atol=1e-10)

    @pytest.mark.parametrize("n", [1, 2, 7, 64, 97, 1000, 1031])
    def test_many_sizes(self, n):
        rng = np.random.default_rng(n)
        a = rng.random(n) + 1j * rng.random(n)
        b = rng.random(n) + 1j * rng.random(n)
        expected = np.convolve(a, b, "full")
        assert_allclose(fftconvolve(a, b, "full"), expected, atol=1e-10)
        assert_allclose(fftconvolve(a, b, "full", (0,)), expected, atol=1e-10)


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("method", NUMPY_METHODS + ["torch"])
def test_long_double_is_kept_like_scipy(method):
    x = np.linspace(0, 1, 7, dtype=np.longdouble)
    h = np.array([1, 2, 3], dtype=np.longdouble)
    expected = scipy.signal.convolve(x, h, method="direct")
    result = convolve(x, h, "full", method)
    assert result.dtype == expected.dtype == np.longdouble
    assert_allclose(result.astype(float), expected.astype(float), rtol=1e-14)
    assert fftconvolve(x, h).dtype == scipy.signal.fftconvolve(x, h).dtype
    assert convolve2d(x[None], h[None], "same", "symm").dtype == np.longdouble


def test_long_double_direct_keeps_more_than_double_precision():
    # 1 + 2**-60 is not a double; long double (x86: 64-bit mantissa) holds it
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("long double is double on this platform")
    x = np.array([1, 2.0**-60], dtype=np.longdouble)
    result = convolve(x, np.array([1], dtype=np.longdouble), method="direct")
    assert result[0] + result[1] != 1


def test_float16_direct_sums_are_as_accurate_as_scipys():
    # the case: float16 accumulation was 0.054 away, scipy 0.0074
    x = np.random.RandomState(42).randn(100).astype(np.float16)
    reference = np.convolve(x.astype(float), x.astype(float))
    scipy_error = np.abs(scipy.signal.convolve(x, x, method="direct") - reference).max()
    for method in NUMPY_METHODS:
        result = convolve(x, x, "full", method)
        assert result.dtype == np.float16
        assert np.abs(result - reference).max() <= 1.25 * scipy_error, method


@pytest.mark.parametrize("other", [np.float16, np.int8, np.uint8, np.bool_])
@pytest.mark.parametrize("method,kernel_shape", [("direct", (5, 6)), ("vectorized", (5, 6)), ("auto", (2, 2))])
def test_float16_nd_direct_sums_round_once(other, method, kernel_shape):
    # scipy's N-D direct refuses float16; rounding once gives at most one float16 ulp of error
    from convlib import choose_method

    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 11)).astype(np.float16)
    h = (rng.standard_normal(kernel_shape) * 3).astype(other)
    if other == np.bool_:
        h = rng.random(kernel_shape) > 0.5
    if method == "auto":
        assert choose_method(x, h) == "direct"  # the N-D path auto takes for small kernels
    result = convolve(x, h, "full", method)
    assert result.dtype == np.float16
    reference = scipy.signal.convolve(x.astype(float), h.astype(float), method="direct")
    ulp = np.spacing(np.abs(reference).astype(np.float16)).astype(float)
    assert np.all(np.abs(result.astype(float) - reference) <= ulp)


# --------------------------------------------------------------------------- positional forms
def test_every_positional_call_form_scipy_accepts():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    for method in ("auto", "direct", "fft"):
        assert_allclose(convolve(a, b, "full", method), scipy.signal.convolve(a, b, "full", method))
        assert_allclose(correlate(a, b, "same", method), scipy.signal.correlate(a, b, "same", method))
    for mode in ("full", "same", "valid"):
        for boundary in ("fill", "wrap", "symm"):
            assert_allclose(convolve2d(a, b, mode, boundary), scipy.signal.convolve2d(a, b, mode, boundary))
            assert_allclose(correlate2d(a, b, mode, boundary, 0.5),
                            scipy.signal.correlate2d(a, b, mode, boundary, 0.5))
    c = rng.standard_normal((6, 2))
    assert_allclose(fftconvolve(a, c, "valid", 1), scipy.signal.fftconvolve(a, c, "valid", 1))
    assert_allclose(fftconvolve(a, b, "same", (0, 1)), scipy.signal.fftconvolve(a, b, "same", (0, 1)))


def test_convlib_extra_options_stay_keyword_only():
    with pytest.raises(TypeError):
        convolve([1, 2], [1], "full", "torch", "cpu")
    assert_allclose(convolve([1.0, 2.0], [1.0], "full", "torch", device="cpu"), [1.0, 2.0])


@pytest.mark.parametrize("function", ["convolve", "correlate"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_empty_input_to_convolve_and_correlate_is_a_value_error_like_scipy(function, method):
    # scipy 1.17's method='fft' crashes with an IndexError here; convlib gives its ValueError
    with pytest.raises(IndexError if method == "fft" else ValueError):
        getattr(scipy.signal, function)(np.array([]), np.array([1.0]), "full", method)
    with pytest.raises(ValueError, match=r"x must not be empty; got an array of shape \(0,\)"):
        getattr(__import__("convlib"), function)(np.array([]), np.array([1.0]), "full", method)


def test_empty_image_is_a_value_error_where_scipy_returns_a_made_up_row():
    # scipy.signal.convolve2d(np.ones((0, 3)), np.ones((2, 2))) returns [[0., 0., 0., 0.]]: a row
    # that no convolution of an empty image has; convlib refuses (documented under Raises)
    assert scipy.signal.convolve2d(np.ones((0, 3)), np.ones((2, 2))).shape == (1, 4)
    with pytest.raises(ValueError, match="image must not be empty"):
        convolve2d(np.ones((0, 3)), np.ones((2, 2)))
