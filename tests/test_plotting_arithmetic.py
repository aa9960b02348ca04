"""Tests of convlib.plotting._arithmetic: receptive fields checked against torch's layers."""
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


def _torch_links(n, k, stride, padding, dilation, transposed, output_padding):
    """Set of (output, input, tap) triples that torch's layer connects, found by probing it
    with one-hot inputs and one-hot kernels (no use of convlib's formulas)."""
    links = set()
    for tap in range(k):
        weight = torch.zeros(1, 1, k, dtype=torch.float64)
        weight[0, 0, tap] = 1.0
        for position in range(n):
            x = torch.zeros(1, 1, n, dtype=torch.float64)
            x[0, 0, position] = 1.0
            if transposed:
                y = F.conv_transpose1d(x, weight, stride=stride, padding=padding,
                                       output_padding=output_padding, dilation=dilation)
            else:
                y = F.conv1d(x, weight, stride=stride, padding=padding, dilation=dilation)
            for output in torch.nonzero(y[0, 0]).flatten().tolist():
                links.add((output, position, tap))
    return links, y.shape[-1]


CASES = [
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product([4, 5, 7], [1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2])
    if d * (k - 1) + 1 <= n + 2 * p
]


@pytest.mark.parametrize("n,k,stride,padding,dilation", CASES)
def test_receptive_field_of_a_convolution_matches_torch_conv1d(n, k, stride, padding, dilation):
    expected, size = _torch_links(n, k, stride, padding, dilation, False, 0)
    found = set()
    for output in range(size):
        positions, taps = plotting.receptive_field(n, k, output, stride=stride,
                                                   padding=padding, dilation=dilation)
        assert len(positions) == k  # a convolution always reads k cells (some are padding)
        found |= {(output, int(p), int(t)) for p, t in zip(positions, taps) if 0 <= p < n}
    assert found == expected


@pytest.mark.parametrize("n,k,stride,padding,dilation", CASES)
def test_receptive_field_of_a_transposed_convolution_matches_torch(n, k, stride, padding, dilation):
    output_padding = stride - 1 if stride > 1 else 0
    try:
        expected, size = _torch_links(n, k, stride, padding, dilation, True, output_padding)
    except RuntimeError:  # torch finds no valid output size: convlib must refuse too
        with pytest.raises(ValueError, match="padding"):
            plotting.receptive_field(n, k, 0, stride=stride, padding=padding, dilation=dilation,
                                     transposed=True, output_padding=output_padding)
        return
    found = set()
    for output in range(size):
        positions, taps = plotting.receptive_field(n, k, output, stride=stride, padding=padding,
                                                   dilation=dilation, transposed=True,
                                                   output_padding=output_padding)
        assert np.all((positions >= 0) & (positions < n))
        found |= {(output, int(p), int(t)) for p, t in zip(positions, taps)}
    assert found == expected


def test_receptive_field_rejects_output_index_outside_the_output():
    size = convlib.conv_output_size(5, 3, stride=2)
    with pytest.raises(ValueError, match="output_index"):
        plotting.receptive_field(5, 3, size, stride=2)
    with pytest.raises(ValueError, match="output_padding"):
        plotting.receptive_field(5, 3, 0, output_padding=1)
    with pytest.raises(TypeError, match="output_index"):
        plotting.receptive_field(5, 3, True)


def test_plot_conv_connections_draws_one_link_per_real_input_read():
    n, k, stride, padding = 6, 3, 2, 1
    ax = plotting.plot_conv_connections(n, k, stride=stride, padding=padding)
    size = convlib.conv_output_size(n, k, stride=stride, padding=padding)
    links = sum(len(plotting.receptive_field(n, k, o, stride=stride, padding=padding)[0])
                for o in range(size))
    assert len(ax.lines) == links
    assert f"→ {size}" in ax.get_title()


def test_plot_conv_connections_transposed_title_uses_the_transposed_size():
    ax = plotting.plot_conv_connections(3, 3, stride=2, transposed=True, output_padding=1)
    size = convlib.conv_transpose_output_size(3, 3, stride=2, output_padding=1)
    assert ax.get_title().startswith(f"transposed conv: n=3 → {size}")


def test_plot_conv_arithmetic_marks_the_cells_the_output_reads():
    ax = plotting.plot_conv_arithmetic((5, 6), (3, 2), stride=(2, 1), padding=(1, 0),
                                       output_index=(1, 3))
    labels = sorted(t.get_text() for t in ax.texts if "," in t.get_text())
    assert labels == sorted(f"{r},{c}" for r in range(3) for c in range(2))
    rows = convlib.conv_output_size(5, 3, stride=2, padding=1)
    cols = convlib.conv_output_size(6, 2)
    assert ax.get_title() == f"conv: 5×6 → {rows}×{cols}, output (1, 3) reads 6 cells"


def test_plot_conv_arithmetic_wraps_the_output_index():
    ax = plotting.plot_conv_arithmetic(4, 3, output_index=(5, 2))
    assert "output (1, 0)" in ax.get_title()  # output is 2x2: 5 % 2 = 1, 2 % 2 = 0


def test_plot_conv_arithmetic_rejects_bad_sizes():
    with pytest.raises(ValueError, match="kernel"):
        plotting.plot_conv_arithmetic(3, 5)
    with pytest.raises(ValueError, match="stride"):
        plotting.plot_conv_arithmetic(5, 3, stride=(1, 2, 3))


def _zero_stuffed(x, stride, padding, dilation, k, output_padding):
    """The input of the ordinary convolution that equals a transposed one, built by hand:
    ``stride - 1`` zeros between the cells, ``dilation*(k-1) - padding`` zeros at each end
    (``output_padding`` more on the right); a negative count crops instead."""
    batch, channels, n = x.shape
    stuffed = np.zeros((batch, channels, (n - 1) * stride + 1))
    stuffed[..., ::stride] = x
    left = dilation * (k - 1) - padding
    right = left + output_padding
    stuffed = np.pad(stuffed, [(0, 0), (0, 0), (max(left, 0), max(right, 0))])
    return stuffed[..., max(-left, 0):stuffed.shape[-1] - max(-right, 0)]


TRANSPOSED_CASES = [
    (n, k, s, p, d, op)
    for n, k, s, p, d in itertools.product([3, 4], [1, 2, 3], [1, 2, 3], [0, 1, 3], [1, 2])
    for op in sorted({0, max(s, d) - 1})
]


@pytest.mark.parametrize("n,k,stride,padding,dilation,output_padding", TRANSPOSED_CASES)
def test_transposed_convolution_equals_convolution_of_the_zero_stuffed_input(
        n, k, stride, padding, dilation, output_padding):
    rng = np.random.default_rng(n * 1000 + k * 100 + stride * 10 + padding)
    x = rng.standard_normal((2, 2, n))
    weight = rng.standard_normal((2, 3, k))       # (in, out, k), as ConvTranspose1d
    options = dict(stride=stride, padding=padding, output_padding=output_padding,
                   dilation=dilation)
    try:
        expected = F.conv_transpose1d(torch.from_numpy(x), torch.from_numpy(weight),
                                      **options).numpy()
    except RuntimeError:  # no valid output: the size formula must refuse too
        with pytest.raises(ValueError):
            convlib.conv_transpose_output_size(n, k, **options)
        return
    transposed = convlib.conv_transpose1d(x, weight, **options)
    flipped = np.ascontiguousarray(weight.transpose(1, 0, 2)[..., ::-1])   # (out, in, k)
    stuffed = _zero_stuffed(x, stride, padding, dilation, k, output_padding)
    via_convolution = convlib.conv1d(stuffed, flipped, dilation=dilation)
    np.testing.assert_allclose(via_convolution, transposed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(transposed, expected, rtol=1e-12, atol=1e-12)


def _count(ax, *gids):
    return sum(patch.get_gid() in gids for patch in ax.patches)


@pytest.mark.parametrize("n,k,stride,padding,dilation,output_padding",
                         [case for case in TRANSPOSED_CASES if case[0] == 4 and case[3] < 3]
                         + [(4, 3, 2, 3, 1, 1), (4, 2, 1, 2, 1, 0)])
def test_plot_transposed_as_convolution_draws_the_sizes_torch_computes(
        n, k, stride, padding, dilation, output_padding):
    options = dict(stride=stride, padding=padding, output_padding=output_padding,
                   dilation=dilation)
    x = torch.ones(1, 1, n, dtype=torch.float64)
    size = F.conv_transpose1d(x, torch.ones(1, 1, k, dtype=torch.float64), **options).shape[-1]
    stuffed = _zero_stuffed(np.ones((1, 1, n)), stride, padding, dilation, k, output_padding)
    ax = plotting.plot_transposed_as_convolution(n, k, **options)
    assert _count(ax, "input") == n
    assert _count(ax, "output") == size
    assert _count(ax, "stuffed_input", "stuffed_zero", "padding") == stuffed.shape[-1]
    assert _count(ax, "stuffed_input") == int(stuffed.sum())    # input cells not cropped away
    assert f"→ {size} outputs\n" in ax.get_title()
    assert ax.get_title().endswith(f"→ {size} outputs")


def test_plot_transposed_as_convolution_labels_the_flipped_kernel_window():
    ax = plotting.plot_transposed_as_convolution(3, 3, stride=2, output_index=6)
    size = convlib.conv_transpose_output_size(3, 3, stride=2)
    assert _count(ax, "output") == size
    taps = [t.get_text() for t in ax.texts if t.get_text().startswith("w")]
    assert taps == ["w2", "w1", "w0"]
    outputs = [p for p in ax.patches if p.get_gid() == "output"]
    plain = outputs[0].get_facecolor()
    highlighted = [i for i, p in enumerate(outputs) if p.get_facecolor() != plain]
    assert highlighted == [6 % size]


def test_plot_transposed_as_convolution_rejects_an_empty_output():
    with pytest.raises(ValueError, match="padding"):
        plotting.plot_transposed_as_convolution(2, 2, padding=3)
