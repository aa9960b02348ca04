"""Pictures of CNN ideas (chapters 5 and 6): receptive fields, channels, im2col.

Every helper draws into the axes it is given (or a new figure's axes when
omitted) and returns them. The numbers drawn come from convlib's own layers
(:func:`convlib.conv2d`), so a picture cannot disagree with the library.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .._nn_conv import conv2d
from ._images import show_image, show_kernel

__all__ = ["receptive_field_cone", "plot_receptive_field", "plot_channel_sums",
           "plot_im2col"]

_CELL_COLOR = "#f0f0f0"
_CONE_COLOR = "#9ecae1"
_TARGET_COLOR = "#e6550d"


def _positive_ints(values: Any, name: str) -> list[int]:
    items = list(values)
    if not items or any(not isinstance(v, (int, np.integer)) or v < 1 for v in items):
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, "
                         f"got {values!r}")
    return [int(v) for v in items]


def receptive_field_cone(
    kernel_sizes: Sequence[int],
    dilations: Sequence[int] | None = None,
    *,
    output_index: int = 0,
) -> list[np.ndarray]:
    """Positions, layer by layer, that one output of a stack of 'same' layers reads.

    Every layer is a stride-1 convolution with odd kernel size ``k`` and
    dilation ``d``, padded so that its output has the size of its input
    (``padding = d (k - 1) / 2``): output ``i`` reads inputs
    ``i + d (j - (k - 1) / 2)`` for ``j = 0 .. k - 1``. Walking back from one
    output of the last layer gives its *cone* in every layer below.

    Parameters
    ----------
    kernel_sizes : sequence of int
        The odd kernel size of each layer, first layer first.
    dilations : sequence of int, optional
        The dilation of each layer; all 1 when omitted.
    output_index : int, default 0
        The position of the output of the last layer.

    Returns
    -------
    list of ndarray of int
        ``cone[0]`` holds the input positions the output depends on,
        ``cone[l]`` those of layer ``l`` and ``cone[-1] == [output_index]``.

    Examples
    --------
    >>> [c.tolist() for c in receptive_field_cone([3, 3], output_index=5)]
    [[3, 4, 5, 6, 7], [4, 5, 6], [5]]
    >>> receptive_field_cone([3, 3], [1, 2])[0].tolist()
    [-3, -2, -1, 0, 1, 2, 3]
    """
    kernel_sizes = _positive_ints(kernel_sizes, "kernel_sizes")
    if any(k % 2 == 0 for k in kernel_sizes):
        raise ValueError(f"kernel_sizes must be odd (a 'same' layer), got {kernel_sizes}")
    dilations = [1] * len(kernel_sizes) if dilations is None else _positive_ints(
        dilations, "dilations")
    if len(dilations) != len(kernel_sizes):
        raise ValueError(f"dilations must have one entry per layer ({len(kernel_sizes)}), "
                         f"got {len(dilations)}")
    cone = [np.array([int(output_index)])]
    for k, d in zip(reversed(kernel_sizes), reversed(dilations)):
        offsets = d * (np.arange(k) - (k - 1) // 2)
        cone.append(np.unique(cone[-1][:, None] + offsets[None, :]))
    return cone[::-1]


def plot_receptive_field(
    kernel_sizes: Sequence[int],
    dilations: Sequence[int] | None = None,
    *,
    width: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the cone of input cells that one output of a stack of layers reads.

    The input is the bottom row and each layer a row above it; the cells in the
    cone of the middle output of the top layer (orange) are blue, and every
    link a cell in the cone reads from the row below is drawn.

    Parameters
    ----------
    kernel_sizes : sequence of int
        The odd kernel size of each layer, first layer first.
    dilations : sequence of int, optional
        The dilation of each layer; all 1 when omitted.
    width : int, optional
        Cells drawn per row; by default the receptive field plus two cells.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; the title states the receptive field.

    Examples
    --------
    >>> ax = plot_receptive_field([3, 3, 3], [1, 2, 4])
    >>> ax.get_title()
    'receptive field: 15 inputs (kernels 3, 3, 3; dilations 1, 2, 4)'
    """
    cone = receptive_field_cone(kernel_sizes, dilations)
    dilations = [1] * len(cone[1:]) if dilations is None else list(dilations)
    field = int(cone[0].max() - cone[0].min() + 1)
    width = field + 2 if width is None else int(width)
    if width < field:
        raise ValueError(f"width must be at least the receptive field ({field}), got {width}")
    half = width // 2
    positions = np.arange(-half, width - half)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(12, 1.5 + 0.4 * width), 0.9 * len(cone) + 0.6),
                             layout="constrained")
    for row, members in enumerate(cone):
        if row > 0:
            k, d = kernel_sizes[row - 1], dilations[row - 1]
            offsets = d * (np.arange(k) - (k - 1) // 2)
            for position in members:
                for offset in offsets:
                    ax.add_line(Line2D([position + offset, position], [row - 1 + 0.3, row - 0.3],
                                       color="0.45", linewidth=0.8))
        top = row == len(cone) - 1
        for position in positions:
            inside = position in members
            color = _TARGET_COLOR if (inside and top) else _CONE_COLOR if inside else _CELL_COLOR
            ax.add_patch(Rectangle((position - 0.4, row - 0.3), 0.8, 0.6, facecolor=color,
                                   edgecolor="0.3" if inside else "0.7"))
        label = "input" if row == 0 else f"layer {row} (d={dilations[row - 1]})"
        ax.text(positions[0] - 0.8, row, label, ha="right", va="center", fontsize=8)
    ax.set_xlim(positions[0] - 4.5, positions[-1] + 0.6)
    ax.set_ylim(-0.5, len(cone) - 0.5)
    ax.set_axis_off()
    ax.set_title(f"receptive field: {field} inputs "
                 f"(kernels {', '.join(map(str, kernel_sizes))}; "
                 f"dilations {', '.join(map(str, dilations))})")
    return ax


def plot_channel_sums(
    x: Any,
    weight: Any,
    *,
    out_channel: int = 0,
    axes: Any = None,
) -> np.ndarray:
    """Draw one output channel of a layer as the sum of one map per input channel.

    Row ``c`` shows input channel ``x[c]``, its kernel ``weight[out_channel, c]``
    and their correlation (``convlib.conv2d`` of that channel alone); the last
    column shows the sum of the rows, which is output channel ``out_channel``.

    Parameters
    ----------
    x : array_like of shape (C, H, W)
        The input channels.
    weight : array_like of shape (F, C, kh, kw)
        The layer's kernels.
    out_channel : int, default 0
        Which output channel to take apart.
    axes : array_like of matplotlib.axes.Axes of shape (C, 4), optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    ndarray of shape (C, 4) of matplotlib.axes.Axes
        Columns: input channel, kernel, per-channel map, and (in the middle
        row, the others hidden) their sum.

    Examples
    --------
    >>> import numpy as np
    >>> axes = plot_channel_sums(np.ones((3, 5, 5)), np.ones((2, 3, 3, 3)))
    >>> axes.shape, axes[1, 3].get_title()
    ((3, 4), 'sum = output channel 0')
    """
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (C, H, W), got shape {x.shape}")
    if weight.ndim != 4 or weight.shape[1] != x.shape[0]:
        raise ValueError(f"weight must have shape (F, {x.shape[0]}, kh, kw), "
                         f"got shape {weight.shape}")
    if not 0 <= out_channel < weight.shape[0]:
        raise ValueError(f"out_channel must be in [0, {weight.shape[0]}), got {out_channel}")
    channels = x.shape[0]
    if axes is None:
        _, axes = plt.subplots(channels, 4, figsize=(8, 1.9 * channels),
                               layout="constrained", squeeze=False)
    axes = np.asarray(axes, dtype=object).reshape(channels, 4)
    terms = [conv2d(x[c:c + 1], weight[out_channel:out_channel + 1, c:c + 1])[0]
             for c in range(channels)]
    for c in range(channels):
        show_image(x[c], ax=axes[c, 0], title=f"input channel {c}")
        show_kernel(weight[out_channel, c], ax=axes[c, 1],
                    title=f"w[{out_channel}, {c}]")
        show_image(terms[c], ax=axes[c, 2], symmetric=True,
                   title=f"channel {c} ⋆ w[{out_channel}, {c}]")
        axes[c, 3].set_axis_off()
    middle = channels // 2
    axes[middle, 3].set_axis_on()
    show_image(np.sum(terms, axis=0), ax=axes[middle, 3], symmetric=True,
               title=f"sum = output channel {out_channel}")
    return axes


def plot_im2col(rows: int, cols: int, k: int, *, axes: Any = None) -> np.ndarray:
    """Draw im2col: every k x k window of an image becomes one column of a matrix.

    The image's cells are numbered row by row; the matrix has one row per
    kernel tap and one column per window, each entry the number of the cell it
    copies. A convolution (stride 1, no padding) is then the kernel, as a row
    vector of ``k * k`` taps, times this matrix.

    Parameters
    ----------
    rows, cols : int
        The image's size.
    k : int
        The kernel's size (square).
    axes : sequence of two matplotlib.axes.Axes, optional
        Where to draw the image and the matrix; a new figure is made when omitted.

    Returns
    -------
    ndarray of shape (2,) of matplotlib.axes.Axes
        The image's axes and the matrix's axes.

    Examples
    --------
    >>> axes = plot_im2col(4, 4, 3)
    >>> axes[1].get_title()
    'im2col matrix: 9 taps x 4 windows'
    """
    rows, cols, k = _positive_ints([rows, cols, k], "rows, cols and k")
    if k > min(rows, cols):
        raise ValueError(f"k must be at most min(rows, cols) = {min(rows, cols)}, got {k}")
    out_rows, out_cols = rows - k + 1, cols - k + 1
    numbers = np.arange(rows * cols).reshape(rows, cols)
    windows = np.lib.stride_tricks.sliding_window_view(numbers, (k, k))
    matrix = windows.reshape(out_rows * out_cols, k * k).T
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(3 + 0.45 * matrix.shape[1], 3.2),
                               layout="constrained",
                               gridspec_kw={"width_ratios": [cols, matrix.shape[1]]})
    axes = np.asarray(axes, dtype=object).ravel()
    colors = plt.get_cmap("tab10")
    for ax, table in ((axes[0], numbers), (axes[1], matrix)):
        ax.set_xlim(-0.5, table.shape[1] - 0.5)
        ax.set_ylim(table.shape[0] - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for (r, c), value in np.ndenumerate(table):
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white",
                                   edgecolor="0.7"))
            ax.text(c, r, str(value), ha="center", va="center", fontsize=8)
    first = colors(0)
    axes[0].add_patch(Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor=first,
                                linewidth=2.5))
    for column in range(matrix.shape[1]):
        axes[1].add_patch(Rectangle((column - 0.5, -0.5), 1, k * k, facecolor=colors(column % 10),
                                    alpha=0.25, edgecolor="none"))
    axes[0].set_title(f"image {rows}x{cols}, window {k}x{k}")
    axes[1].set_title(f"im2col matrix: {k * k} taps x {matrix.shape[1]} windows")
    axes[1].set_ylabel("tap (u, v)")
    axes[1].set_xlabel("window (output pixel)")
    return axes
