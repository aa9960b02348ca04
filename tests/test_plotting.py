"""Tests for the 1-D plotting helpers (convlib.plotting._signals)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convlib import plotting  # noqa: E402
from convlib.kernels import exponential_response  # noqa: E402
from convlib.signals import rectangular_pulse  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_signal_line_draws_the_samples():
    t = np.linspace(0, 1, 11)
    ax = plotting.plot_signal(t, t**2)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), t**2)


def test_plot_signal_stem_uses_indices_when_given_one_array():
    ax = plotting.plot_signal([3, 4, 5], stem=True)
    markers = ax.containers[0].markerline
    np.testing.assert_array_equal(markers.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(markers.get_ydata(), [3, 4, 5])


def test_plot_signal_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        plotting.plot_signal([0, 1, 2], [1, 2])


@pytest.mark.parametrize("correlate", [False, True])
def test_flip_and_slide_places_kernel_taps(correlate):
    x, h = np.array([1.0, 2, 3, 4, 5]), np.array([2.0, 1.0, 0.5])
    y = np.correlate(x, h, "full") if correlate else np.convolve(x, h)
    n = 3
    top, bottom = plotting.plot_flip_and_slide(x, h, n, y, correlate=correlate)
    kernel_markers = top.containers[1].markerline
    positions = np.asarray(kernel_markers.get_xdata())
    # the title's sum must equal the output: sum over taps of x[position] * h[tap]
    total = sum(x[int(k)] * v for k, v in zip(positions, kernel_markers.get_ydata()) if 0 <= k < x.size)
    assert np.isclose(total, y[n])
    assert top.get_title().endswith(f"= {y[n]:g}")


@pytest.mark.parametrize("correlate", [False, True])
@pytest.mark.parametrize("n", range(6))
def test_flip_and_slide_legend_names_the_tap_drawn_at_each_k(correlate, n):
    """The kernel's legend, e.g. h[k + 1], read at each drawn position k, is the tap drawn there."""
    import re

    x, h = np.array([1.0, 2, 3, 4]), np.array([5.0, 6.0, 7.0])
    y = np.correlate(x, h, "full") if correlate else np.convolve(x, h)
    top, _ = plotting.plot_flip_and_slide(x, h, n, y, correlate=correlate)
    label = top.containers[1].get_label()
    positions = np.asarray(top.containers[1].markerline.get_xdata())
    values = np.asarray(top.containers[1].markerline.get_ydata())
    index = re.fullmatch(r"h\[(.*)\]", label).group(1)
    for k, value in zip(positions, values):
        tap = eval(index, {"k": int(k)})  # e.g. "k - 2" or "3 - k"
        assert h[tap] == value, f"{label} at k = {k} names h[{tap}], but h = {value} is drawn"
    plt.close("all")


def test_flip_and_slide_convolution_title_for_ahn_example():
    x, h = np.array([3.0, 4.0, 5.0]), np.array([2.0, 1.0])
    top, _ = plotting.plot_flip_and_slide(x, h, 2, np.convolve(x, h))
    assert top.get_title() == "output index n = 2: y[2] = 4·1 + 5·2 = 14"


def test_flip_and_slide_checks_output_length_and_index():
    x, h = np.ones(3), np.ones(2)
    with pytest.raises(ValueError, match="full"):
        plotting.plot_flip_and_slide(x, h, 0, np.ones(2))
    with pytest.raises(ValueError, match="n must be"):
        plotting.plot_flip_and_slide(x, h, 4, np.ones(4))


def test_continuous_convolution_shades_the_product():
    tau = np.linspace(-2, 15, 341)
    h = exponential_response
    x = rectangular_pulse
    top, bottom = plotting.plot_continuous_convolution(
        x, h, 4.0, tau=tau, y_times=tau, y_values=np.zeros_like(tau)
    )
    product = top.lines[2].get_ydata()
    np.testing.assert_allclose(product, h(tau) * x(4.0 - tau))
    assert len(top.collections) == 1  # the shaded area


def test_spectrum_of_box_filter_matches_numpy_fft_magnitude():
    h = np.ones(5) / 5
    ax = plotting.plot_spectrum(h, n_fft=64)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.abs(np.fft.rfft(h, 64)))
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.fft.rfftfreq(64))


def test_spectrum_in_decibels():
    ax = plotting.plot_spectrum(np.array([1.0, 0.0]), db=True, n_fft=8)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 0.0, atol=1e-12)
