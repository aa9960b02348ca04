"""Tests of convlib.plotting._images: images, kernels, panels and boundary pictures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import signal  # noqa: E402

from convlib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_show_image_draws_the_pixels_unchanged_and_leaves_input_alone():
    image = np.arange(12.0).reshape(3, 4)
    before = image.copy()
    ax = plotting.show_image(image, title="ramp")
    np.testing.assert_array_equal(ax.images[0].get_array(), image)
    np.testing.assert_array_equal(image, before)
    assert ax.get_title() == "ramp"


def test_show_image_symmetric_centres_colours_on_zero():
    ax = plotting.show_image(np.array([[-3.0, 1.0]]), symmetric=True)
    assert ax.images[0].get_clim() == (-3.0, 3.0)
    assert ax.images[0].get_cmap().name == "RdBu_r"


def test_show_image_symmetric_uses_a_given_vmax_as_the_limit():
    ax = plotting.show_image(np.array([[-3.0, 1.0]]), symmetric=True, vmax=-0.5)
    assert ax.images[0].get_clim() == (-0.5, 0.5)


def test_show_image_draws_into_the_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plotting.show_image(np.ones((2, 2)), ax=right)
    assert returned is right
    assert not left.images


def test_show_image_accepts_rgb():
    rgb = np.zeros((4, 5, 3))
    assert plotting.show_image(rgb).images[0].get_array().shape == (4, 5, 3)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 2, 2, 2)), np.zeros((3, 3, 5))])
def test_show_image_rejects_wrong_shapes_naming_the_argument(bad):
    with pytest.raises(ValueError, match="image"):
        plotting.show_image(bad)


def test_show_image_rejects_non_numeric():
    with pytest.raises(TypeError, match="image"):
        plotting.show_image(np.array([["a", "b"]]))


def test_show_kernel_labels_every_weight_in_reading_order():
    kernel = np.array([[0.5, -1.0], [0.25, 2.0]])
    ax = plotting.show_kernel(kernel)
    assert [t.get_text() for t in ax.texts] == ["0.5", "-1", "0.25", "2"]
    assert ax.images[0].get_clim() == (-2.0, 2.0)


def test_show_kernel_draws_a_1d_kernel_as_one_row():
    ax = plotting.show_kernel([1, 2, 1])
    assert ax.images[0].get_array().shape == (1, 3)


def test_show_image_grid_hides_unused_axes():
    axes = plotting.show_image_grid(np.random.default_rng(0).normal(size=(5, 4, 4)), ncols=3)
    assert len(axes) == 5
    figure_axes = axes[0].figure.axes
    assert len(figure_axes) == 6
    assert not figure_axes[5].axison


def test_show_image_grid_checks_titles_and_axes():
    with pytest.raises(ValueError, match="titles"):
        plotting.show_image_grid(np.zeros((2, 3, 3)), titles=["one"])
    _, axes = plt.subplots(1, 1)
    with pytest.raises(ValueError, match="axes"):
        plotting.show_image_grid(np.zeros((2, 3, 3)), axes=[axes])
    with pytest.raises(ValueError, match="images"):
        plotting.show_image_grid([])


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
def test_show_padding_matches_scipy_boundary_rules(boundary):
    # A centred delta kernel of size 2p+1 in 'full' mode returns the input extended by
    # p pixels on each side exactly as scipy's boundary rule extends it: the oracle.
    rng = np.random.default_rng(1)
    image = rng.normal(size=(5, 6))
    pad = 2
    delta = np.zeros((2 * pad + 1, 2 * pad + 1))
    delta[pad, pad] = 1.0
    expected = signal.convolve2d(image, delta, mode="full", boundary=boundary, fillvalue=0.7)
    ax = plotting.show_padding(image, pad, boundary=boundary, fillvalue=0.7)
    np.testing.assert_allclose(ax.images[0].get_array(), expected, atol=1e-12)
    assert ax.get_title() == boundary


def test_show_padding_rejects_unknown_boundary_and_bad_width():
    with pytest.raises(ValueError, match="boundary"):
        plotting.show_padding(np.ones((3, 3)), 1, boundary="reflect")
    with pytest.raises(ValueError, match="pad_width"):
        plotting.show_padding(np.ones((3, 3)), -1)
