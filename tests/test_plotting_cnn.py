"""Tests of convlib.plotting._cnn: the pictures agree with torch's layers and convlib's."""
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import convlib  # noqa: E402
from convlib import plotting  # noqa: E402

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _torch_dependencies(kernel_sizes, dilations, n, output_index):
    """Input positions the chosen output of a stack of 'same' conv1d layers depends on,
    found by autograd (positions with a non-zero gradient for all-positive weights)."""
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = x
    for k, d in zip(kernel_sizes, dilations):
        weight = torch.ones(1, 1, k, dtype=torch.float64)
        y = F.conv1d(y, weight, padding=d * (k - 1) // 2, dilation=d)
    y[0, 0, output_index].backward()
    return torch.nonzero(x.grad[0, 0]).flatten().numpy()


@pytest.mark.parametrize("kernel_sizes,dilations", [
    ([3], [1]), ([3, 3], [1, 1]), ([3, 3, 3], [1, 2, 4]), ([5, 3], [1, 3]),
    ([1, 3], [1, 2]), ([3, 5, 3], [2, 1, 2]),
])
def test_receptive_field_cone_is_where_torch_autograd_finds_gradients(kernel_sizes, dilations):
    n, output_index = 61, 30
    cone = plotting.receptive_field_cone(kernel_sizes, dilations, output_index=output_index)
    expected = _torch_dependencies(kernel_sizes, dilations, n, output_index)
    assert cone[0].tolist() == expected.tolist()
    assert cone[-1].tolist() == [output_index]
    assert len(cone) == len(kernel_sizes) + 1


@pytest.mark.parametrize("depth,k", list(itertools.product([1, 2, 3, 4], [3, 5])))
def test_receptive_field_grows_linearly_with_depth_and_exponentially_with_doubling_dilations(
        depth, k):
    plain = plotting.receptive_field_cone([k] * depth)[0]
    assert plain.size == 1 + depth * (k - 1)
    doubling = plotting.receptive_field_cone([k] * depth, [2 ** i for i in range(depth)])[0]
    assert doubling.size == 1 + (k - 1) * (2 ** depth - 1)


def test_plot_receptive_field_draws_one_blue_or_orange_cell_per_cone_member():
    ax = plotting.plot_receptive_field([3, 3], [1, 2], width=11)
    cone = plotting.receptive_field_cone([3, 3], [1, 2])
    coloured = [p for p in ax.patches
                if matplotlib.colors.to_hex(p.get_facecolor()) in ("#9ecae1", "#e6550d")]
    assert len(coloured) == sum(c.size for c in cone)
    assert "receptive field: 7 inputs" in ax.get_title()


def test_receptive_field_rejects_bad_input_naming_the_argument():
    with pytest.raises(ValueError, match="kernel_sizes must be odd"):
        plotting.receptive_field_cone([2, 3])
    with pytest.raises(ValueError, match="dilations must have one entry per layer"):
        plotting.receptive_field_cone([3, 3], [1])
    with pytest.raises(ValueError, match="kernel_sizes must be a non-empty"):
        plotting.receptive_field_cone([])
    with pytest.raises(ValueError, match="width must be at least"):
        plotting.plot_receptive_field([3, 3], width=3)


def test_channel_sums_panels_add_up_to_the_layer_output():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 7))
    weight = rng.standard_normal((2, 3, 3, 3))
    axes = plotting.plot_channel_sums(x, weight, out_channel=1)
    assert axes.shape == (3, 4)
    terms = [np.asarray(axes[c, 2].images[0].get_array()) for c in range(3)]
    total = np.asarray(axes[1, 3].images[0].get_array())
    expected = convlib.conv2d(x, weight)[1]
    assert np.allclose(np.sum(terms, axis=0), expected)
    assert np.allclose(total, expected)
    torch_out = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight))[0, 1].numpy()
    assert np.allclose(total, torch_out)
    assert not axes[0, 3].axison and axes[1, 3].get_title() == "sum = output channel 1"


def test_channel_sums_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"weight must have shape \(F, 3, kh, kw\)"):
        plotting.plot_channel_sums(np.ones((3, 5, 5)), np.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="x must have shape"):
        plotting.plot_channel_sums(np.ones((5, 5)), np.ones((2, 1, 3, 3)))
    with pytest.raises(ValueError, match="out_channel must be in"):
        plotting.plot_channel_sums(np.ones((1, 5, 5)), np.ones((2, 1, 3, 3)), out_channel=2)


@pytest.mark.parametrize("rows,cols,k", [(4, 4, 3), (5, 6, 2), (3, 3, 3), (6, 4, 1)])
def test_im2col_matrix_times_the_kernel_is_conv2d(rows, cols, k):
    axes = plotting.plot_im2col(rows, cols, k)
    matrix_texts = [t for t in axes[1].texts]
    n_windows = (rows - k + 1) * (cols - k + 1)
    assert len(matrix_texts) == k * k * n_windows
    # rebuild the matrix from the drawn numbers and use it on a random image
    matrix = np.zeros((k * k, n_windows), dtype=int)
    for text in matrix_texts:
        column, row = (int(round(v)) for v in text.get_position())
        matrix[row, column] = int(text.get_text())
    rng = np.random.default_rng(1)
    image = rng.standard_normal((rows, cols))
    kernel = rng.standard_normal((k, k))
    product = kernel.ravel() @ image.ravel()[matrix]
    expected = convlib.conv2d(image[None], kernel[None, None])[0].ravel()
    assert np.allclose(product, expected)


def test_im2col_rejects_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match="k must be at most"):
        plotting.plot_im2col(3, 5, 4)
