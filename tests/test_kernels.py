"""Tests for convlib.kernels: sums, symmetry, and what the kernels do under scipy's convolution."""
import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from convlib import kernels


@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_box_is_the_moving_average(size):
    x = np.random.default_rng(0).normal(size=50)
    got = np.convolve(x, kernels.box(size), mode="valid")
    expected = np.array([x[i:i + size].mean() for i in range(x.size - size + 1)])
    np.testing.assert_allclose(got, expected)


def test_box_2d_sums_to_one():
    k = kernels.box(3, ndim=2)
    assert k.shape == (3, 3) and np.isclose(k.sum(), 1.0)


@pytest.mark.parametrize("size, sigma", [(5, 1.0), (9, 2.0), (4, 0.7)])
def test_gaussian_matches_scipy_window_normalised(size, sigma):
    window = scipy.signal.windows.gaussian(size, sigma)
    np.testing.assert_allclose(kernels.gaussian(size, sigma=sigma), window / window.sum())


def test_gaussian_2d_is_separable_and_normalised():
    g1 = kernels.gaussian(7, sigma=1.5)
    g2 = kernels.gaussian(7, sigma=1.5, ndim=2)
    np.testing.assert_allclose(g2, np.outer(g1, g1))
    assert np.isclose(g2.sum(), 1.0) and np.allclose(g2, g2.T)


def test_gaussian_default_sigma_spans_three_sigmas():
    g = kernels.gaussian(12)
    window = scipy.signal.windows.gaussian(12, 2.0)
    np.testing.assert_allclose(g, window / window.sum())


@pytest.mark.parametrize("bad", [dict(sigma=0.0), dict(sigma=-1.0), dict(ndim=3)])
def test_gaussian_rejects_bad_options(bad):
    with pytest.raises(ValueError):
        kernels.gaussian(5, **bad)


def test_sobel_x_convolution_matches_scipy_ndimage_sobel_along_columns():
    image = np.random.default_rng(1).normal(size=(12, 10))
    got = scipy.signal.convolve2d(image, kernels.sobel("x"), mode="valid")
    expected = scipy.ndimage.sobel(image, axis=1)[1:-1, 1:-1]
    np.testing.assert_allclose(got, expected)


def test_sobel_y_responds_to_brightness_increasing_downwards():
    ramp = np.repeat(np.arange(6.0)[:, None], 6, axis=1)  # brighter further down
    got = scipy.signal.convolve2d(ramp, kernels.sobel("y"), mode="valid")
    assert np.all(got > 0)
    assert np.all(scipy.signal.convolve2d(ramp, kernels.sobel("x"), mode="valid") == 0)


def test_sobel_rejects_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        kernels.sobel("z")


def test_laplacian_is_sum_of_second_differences():
    image = np.random.default_rng(2).normal(size=(9, 9))
    got = scipy.signal.convolve2d(image, kernels.laplacian(), mode="valid")
    expected = scipy.ndimage.laplace(image)[1:-1, 1:-1]
    np.testing.assert_allclose(got, expected)


def test_sharpen_is_identity_minus_laplacian_and_keeps_flat_regions():
    flat = np.full((5, 5), 3.0)
    assert np.allclose(scipy.signal.convolve2d(flat, kernels.sharpen(), mode="valid"), 3.0)
    np.testing.assert_array_equal(kernels.sharpen() + kernels.laplacian(), np.pad([[1.0]], 1))


def test_exponential_response_is_causal_and_decays_with_time_constant():
    t = np.array([-3.0, -1e-9, 0.0, 2.0, 4.0])
    h = kernels.exponential_response(t)
    np.testing.assert_allclose(h, [0, 0, 2.0, 2.0 * np.exp(-1), 2.0 * np.exp(-2)])


def test_exponential_response_integrates_to_amplitude_times_time_constant():
    t = np.linspace(0, 60, 60001)
    h = kernels.exponential_response(t, amplitude=2.0, time_constant=2.0)
    assert np.isclose(np.trapezoid(h, t), 4.0, rtol=1e-4)


def test_kernels_are_fresh_arrays():
    a = kernels.laplacian()
    a[0, 0] = 7
    assert kernels.laplacian()[0, 0] == 0
