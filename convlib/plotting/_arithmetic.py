"""Convolution-arithmetic diagrams: which input cells feed which output cell.

The layer semantics are those of ``torch.nn.Conv1d/Conv2d`` (cross-correlation)
and ``torch.nn.ConvTranspose1d/ConvTranspose2d``; output sizes come from
:func:`convlib.conv_output_size` and :func:`convlib.conv_transpose_output_size`,
the one home of those formulas.
"""
from __future__ import annotations

import operator
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .._shapes import conv_output_size, conv_transpose_output_size

__all__ = [
    "receptive_field",
    "plot_conv_connections",
    "plot_conv_arithmetic",
    "plot_transposed_as_convolution",
]

_INPUT_COLOR = "#9ecae1"
_PADDING_COLOR = "#f0f0f0"
_HIGHLIGHT_COLOR = "#3182bd"
_OUTPUT_COLOR = "#fdd0a2"
_TARGET_COLOR = "#e6550d"


def _output_size(n: int, k: int, stride: int, padding: int, dilation: int,
                 transposed: bool, output_padding: int) -> int:
    if transposed:
        return conv_transpose_output_size(n, k, stride=stride, padding=padding,
                                          output_padding=output_padding, dilation=dilation)
    if output_padding:
        raise ValueError(
            f"output_padding only applies when transposed=True, got {output_padding}"
        )
    return conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)


def receptive_field(
    n: int,
    k: int,
    output_index: int,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Input positions and kernel taps that one output sample of a layer reads, along one axis.

    For a convolution layer (``torch.nn.Conv1d``, a cross-correlation)
    output ``o`` reads the padded input at ``o*stride + t*dilation - padding`` for
    every tap ``t``. For a transposed layer (``torch.nn.ConvTranspose1d``) input ``i``
    is scattered, through tap ``t``, to output ``i*stride + t*dilation - padding``;
    so output ``o`` gathers the inputs for which that equals ``o``. A 2-D layer
    applies the same rule to each axis.

    Parameters
    ----------
    n : int
        Input length.
    k : int
        Kernel length.
    output_index : int
        Which output sample, ``0 <= output_index < output length``.
    stride, padding, dilation : int
        The layer's options (torch semantics).
    transposed : bool, default False
        Describe the transposed convolution with these options instead.
    output_padding : int, default 0
        Extra output samples at the end (transposed layers only).

    Returns
    -------
    positions : ndarray of shape (m,) of int
        Input positions read; for a convolution, positions below 0 or at least ``n``
        are padding zeros. A transposed layer reads real inputs only.
    taps : ndarray of shape (m,) of int
        The kernel tap that multiplies each position.

    Raises
    ------
    ValueError
        If an option is out of range or ``output_index`` is not an output sample.

    Examples
    --------
    >>> positions, taps = receptive_field(5, 3, 1, stride=2, padding=1)
    >>> positions.tolist(), taps.tolist()
    ([1, 2, 3], [0, 1, 2])
    >>> positions, taps = receptive_field(3, 3, 2, stride=2, transposed=True)
    >>> positions.tolist(), taps.tolist()     # two inputs overlap on output 2
    ([1, 0], [0, 2])
    """
    size = _output_size(n, k, stride, padding, dilation, transposed, output_padding)
    if isinstance(output_index, bool):
        raise TypeError(f"output_index must be an integer, got a bool ({output_index!r})")
    output_index = operator.index(output_index)
    if not 0 <= output_index < size:
        raise ValueError(
            f"output_index must be in [0, {size}) for an output of length {size}, "
            f"got {output_index}"
        )
    taps = np.arange(k)
    if not transposed:
        return output_index * stride + taps * dilation - padding, taps
    numerator = output_index + padding - taps * dilation
    positions = numerator // stride
    keep = (numerator % stride == 0) & (positions >= 0) & (positions < n)
    return positions[keep], taps[keep]


def _pair(value: Any, name: str) -> tuple[int, int]:
    """``value`` as a pair of ints (an int is used for both axes)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return operator.index(value[0]), operator.index(value[1])
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got a bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return number, number


def _options_text(k: Any, stride: Any, padding: Any, dilation: Any,
                  transposed: bool, output_padding: Any) -> str:
    text = f"k={k}, stride={stride}, padding={padding}, dilation={dilation}"
    if transposed:
        text += f", output_padding={output_padding}"
    return text


def plot_conv_connections(
    n: int,
    k: int,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Draw a 1-D layer as a graph: every output sample linked to the inputs it reads.

    Inputs are the bottom row (padding zeros of a convolution drawn grey and
    dashed), outputs the top row; each link is coloured by the kernel tap that
    carries it, so the shared weights show as parallel links of one colour.

    Parameters
    ----------
    n : int
        Input length.
    k : int
        Kernel length.
    stride, padding, dilation : int
        The layer's options (torch semantics).
    transposed : bool, default False
        Draw the transposed convolution with these options.
    output_padding : int, default 0
        Extra output samples at the end (transposed layers only).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; its title states the sizes.

    Examples
    --------
    >>> ax = plot_conv_connections(5, 3, stride=2, padding=1)
    >>> ax.get_title()
    'conv: n=5 → 3   (k=3, stride=2, padding=1, dilation=1)'
    """
    size = _output_size(n, k, stride, padding, dilation, transposed, output_padding)
    links = [(o, int(p), int(t)) for o in range(size)
             for p, t in zip(*receptive_field(n, k, o, stride=stride, padding=padding,
                                               dilation=dilation, transposed=transposed,
                                               output_padding=output_padding))]
    ring = 0 if transposed else padding  # a convolution's padding zeros are drawn, read or not
    low = min([-ring] + [p for _, p, _ in links])
    high = max([n - 1 + ring] + [p for _, p, _ in links])
    width = max(high - low + 1, size)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(12, 1.2 + 0.55 * width), 2.6), layout="constrained")
    # centre both rows
    input_shift = (width - (high - low + 1)) / 2 - low
    output_shift = (width - size) / 2
    colors = plt.get_cmap("viridis")(np.linspace(0.05, 0.85, max(k, 1)))
    for output, position, tap in links:
        ax.add_line(Line2D([position + input_shift, output + output_shift], [0.4, 1.6],
                           color=colors[tap], linewidth=1.6, alpha=0.9))
    for position in range(low, high + 1):
        is_input = 0 <= position < n
        ax.add_patch(Rectangle((position + input_shift - 0.4, 0), 0.8, 0.4,
                               facecolor=_INPUT_COLOR if is_input else _PADDING_COLOR,
                               edgecolor="0.3", linestyle="-" if is_input else "--"))
        ax.text(position + input_shift, 0.2, str(position) if is_input else "0",
                ha="center", va="center", fontsize=8, color="black" if is_input else "0.5")
    for output in range(size):
        ax.add_patch(Rectangle((output + output_shift - 0.4, 1.6), 0.8, 0.4,
                               facecolor=_OUTPUT_COLOR, edgecolor="0.3"))
        ax.text(output + output_shift, 1.8, str(output), ha="center", va="center", fontsize=8)
    ax.text(-0.9, 0.2, "input", ha="right", va="center", fontsize=9)
    ax.text(-0.9, 1.8, "output", ha="right", va="center", fontsize=9)
    handles = [Line2D([], [], color=colors[t], linewidth=2, label=f"w[{t}]") for t in range(k)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False, title="tap")
    ax.set_xlim(-2.6, width)
    ax.set_ylim(-0.1, 2.1)
    ax.set_axis_off()
    kind = "transposed conv" if transposed else "conv"
    ax.set_title(f"{kind}: n={n} → {size}   "
                 f"({_options_text(k, stride, padding, dilation, transposed, output_padding)})")
    return ax


def plot_conv_arithmetic(
    input_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    transposed: bool = False,
    output_padding: int | tuple[int, int] = 0,
    output_index: tuple[int, int] = (0, 0),
    ax: Axes | None = None,
) -> Axes:
    """Draw a 2-D layer's input and output grids, marking the cells one output reads.

    The input grid (left, with a convolution's padding ring drawn grey and dashed)
    and the output grid (right) are drawn to scale. The output cell
    ``output_index`` is marked orange and every input cell it reads blue, labelled
    with the kernel tap ``(row, col)`` that multiplies it.

    Parameters
    ----------
    input_size : int or (int, int)
        Input height and width.
    kernel_size : int or (int, int)
        Kernel height and width.
    stride, padding, dilation, output_padding : int or (int, int)
        The layer's options (torch semantics; ``output_padding`` for transposed
        layers only).
    transposed : bool, default False
        Draw the transposed convolution with these options.
    output_index : (int, int), default (0, 0)
        The output cell to explain; indices wrap around the output size, so a
        slider over a fixed range can sweep outputs of any size.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; its title states the sizes.

    Examples
    --------
    >>> ax = plot_conv_arithmetic(5, 3, stride=2, padding=1, output_index=(1, 2))
    >>> ax.get_title()
    'conv: 5×5 → 3×3, output (1, 2) reads 9 cells'
    """
    sizes = _pair(input_size, "input_size")
    kernels = _pair(kernel_size, "kernel_size")
    strides = _pair(stride, "stride")
    paddings = _pair(padding, "padding")
    dilations = _pair(dilation, "dilation")
    output_paddings = _pair(output_padding, "output_padding")
    out_sizes = [_output_size(sizes[a], kernels[a], strides[a], paddings[a], dilations[a],
                              transposed, output_paddings[a]) for a in range(2)]
    target = _pair(output_index, "output_index")
    target = (target[0] % out_sizes[0], target[1] % out_sizes[1])
    fields = [receptive_field(sizes[a], kernels[a], target[a], stride=strides[a],
                              padding=paddings[a], dilation=dilations[a], transposed=transposed,
                              output_padding=output_paddings[a]) for a in range(2)]
    ring = (0, 0) if transposed else paddings
    in_height, in_width = sizes[0] + 2 * ring[0], sizes[1] + 2 * ring[1]
    gap = 2.0
    total_width = in_width + gap + out_sizes[1]
    total_height = max(in_height, out_sizes[0])
    if ax is None:
        scale = min(0.45, 11 / total_width)
        _, ax = plt.subplots(figsize=(0.6 + scale * total_width, 0.9 + scale * total_height),
                             layout="constrained")

    def cell(col: float, row: float, **style: Any) -> None:
        ax.add_patch(Rectangle((col, row), 1, 1, linewidth=0.8, **style))

    in_top = (total_height - in_height) / 2
    for row in range(-ring[0], sizes[0] + ring[0]):
        for col in range(-ring[1], sizes[1] + ring[1]):
            inside = 0 <= row < sizes[0] and 0 <= col < sizes[1]
            cell(col + ring[1], in_top + row + ring[0],
                 facecolor=_INPUT_COLOR if inside else _PADDING_COLOR,
                 edgecolor="0.3", linestyle="-" if inside else "--")
    read = 0
    for row, tap_row in zip(*fields[0]):
        for col, tap_col in zip(*fields[1]):
            read += 1
            x, y = col + ring[1], in_top + row + ring[0]
            cell(x, y, facecolor=_HIGHLIGHT_COLOR, edgecolor="black")
            ax.text(x + 0.5, y + 0.5, f"{tap_row},{tap_col}", ha="center", va="center",
                    fontsize=7, color="white")
    out_left = in_width + gap
    out_top = (total_height - out_sizes[0]) / 2
    for row in range(out_sizes[0]):
        for col in range(out_sizes[1]):
            hit = (row, col) == target
            cell(out_left + col, out_top + row, facecolor=_TARGET_COLOR if hit else _OUTPUT_COLOR,
                 edgecolor="black" if hit else "0.3")
    ax.annotate("", xy=(out_left - 0.2, total_height / 2), xytext=(in_width + 0.2, total_height / 2),
                arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.text(in_width / 2, -0.3, "input" + ("" if transposed else " (+ padding)"),
            ha="center", va="bottom", fontsize=9)
    ax.text(out_left + out_sizes[1] / 2, -0.3, "output", ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-0.2, total_width + 0.2)
    ax.set_ylim(total_height + 0.2, -1.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    kind = "transposed conv" if transposed else "conv"
    ax.set_title(f"{kind}: {sizes[0]}×{sizes[1]} → {out_sizes[0]}×{out_sizes[1]}, "
                 f"output {target} reads {read} cells")
    return ax


def plot_transposed_as_convolution(
    n: int,
    k: int,
    *,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
    output_index: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Draw a 1-D transposed convolution as an ordinary convolution of a zero-stuffed input.

    ``conv_transpose1d(x, w, stride=s, padding=p)`` equals ``conv1d`` (stride 1) of
    the sequence made by inserting ``s - 1`` zeros between the input cells and
    padding ``dilation*(k-1) - padding`` zeros at each end (``output_padding`` more
    at the right end), with the kernel flipped. A negative padding crops the
    stuffed sequence instead; cropped cells are drawn faded and dotted.

    Three rows, top to bottom: the input, the zero-stuffed and padded sequence
    (input cells blue, inserted zeros white, padding zeros grey and dashed) and the
    output. The window of output ``output_index`` is outlined and labelled with
    the flipped kernel taps. Every cell is a ``Rectangle`` whose ``gid`` names its
    role: ``"input"``, ``"stuffed_input"``, ``"stuffed_zero"``, ``"padding"``,
    ``"cropped"`` or ``"output"``.

    Parameters
    ----------
    n : int
        Input length.
    k : int
        Kernel length.
    stride, padding, dilation, output_padding : int
        The transposed layer's options (``torch.nn.ConvTranspose1d`` semantics).
    output_index : int, default 0
        The output whose window is outlined; wraps around the output length.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; its title states both sizes, which are equal.

    Raises
    ------
    ValueError
        If an option is out of range (as for
        :func:`convlib.conv_transpose_output_size`).

    See Also
    --------
    plot_conv_connections : the same layer drawn as input-to-output links.

    Examples
    --------
    >>> ax = plot_transposed_as_convolution(3, 3, stride=2, padding=1)
    >>> print(ax.get_title())
    conv_transpose(n=3, k=3, stride=2, padding=1) → 5 outputs
    = conv(7 cells: 1 zero between inputs, 1 padding zero each end; flipped kernel) → 5 outputs
    >>> sum(patch.get_gid() == "output" for patch in ax.patches)
    5
    """
    size = conv_transpose_output_size(n, k, stride=stride, padding=padding,
                                      output_padding=output_padding, dilation=dilation)
    span = dilation * (k - 1)
    left, right = span - padding, span - padding + output_padding
    last_input = (n - 1) * stride              # stuffed position of the last input cell
    first_used, last_used = -left, last_input + right
    stuffed_length = last_used - first_used + 1
    convolved = conv_output_size(stuffed_length, k, dilation=dilation)
    if convolved != size:  # the identity this picture shows; a failure is a bug in convlib
        raise RuntimeError(f"zero-stuffed convolution gives {convolved} outputs, not {size}")
    output_index = operator.index(output_index) % size
    low, high = min(0, first_used), max(last_input, last_used)
    if ax is None:
        width = high - low + 1
        figure_width = min(12.0, max(7.5, 2.2 + 0.5 * width))
        _, ax = plt.subplots(figsize=(figure_width, 3.2), layout="constrained")
    rows = {"input": 2.6, "stuffed": 1.3, "output": 0.0}

    def cell(x: float, y: float, gid: str, text: str, **style: Any) -> None:
        ax.add_patch(Rectangle((x - 0.4, y), 0.8, 0.5, gid=gid, edgecolor="0.3", **style))
        ax.text(x, y + 0.25, text, ha="center", va="center", fontsize=8)

    for i in range(n):
        x = i * stride
        cell(x, rows["input"], "input", f"x{i}", facecolor=_INPUT_COLOR)
        ax.add_line(Line2D([x, x], [rows["input"], rows["stuffed"] + 0.5], color="0.6",
                           linewidth=0.8, linestyle=":"))
    for position in range(low, high + 1):
        used = first_used <= position <= last_used
        is_input = 0 <= position <= last_input and position % stride == 0
        if not used:
            gid, text, style = "cropped", "", {"facecolor": "white", "linestyle": ":",
                                               "alpha": 0.5}
        elif is_input:
            gid, text, style = "stuffed_input", f"x{position // stride}", {
                "facecolor": _INPUT_COLOR}
        elif 0 <= position <= last_input:
            gid, text, style = "stuffed_zero", "0", {"facecolor": "white"}
        else:
            gid, text, style = "padding", "0", {"facecolor": _PADDING_COLOR, "linestyle": "--"}
        cell(position, rows["stuffed"], gid, text, **style)
    window = first_used + output_index
    for o in range(size):
        centre = first_used + o + span / 2
        hit = o == output_index
        cell(centre, rows["output"], "output", f"y{o}",
             facecolor=_TARGET_COLOR if hit else _OUTPUT_COLOR)
    ax.add_patch(Rectangle((window - 0.5, rows["stuffed"] - 0.1), span + 1, 0.7, fill=False,
                           edgecolor=_TARGET_COLOR, linewidth=2))
    for t in range(k):
        x = window + t * dilation
        ax.text(x, rows["stuffed"] - 0.25, f"w{k - 1 - t}", ha="center", va="center",
                fontsize=7, color=_TARGET_COLOR)
        ax.add_line(Line2D([x, window + span / 2], [rows["stuffed"] - 0.4, rows["output"] + 0.5],
                           color=_TARGET_COLOR, linewidth=1, alpha=0.7))
    for name, text in [("input", "input"), ("stuffed", "stuffed + padded"),
                       ("output", "output")]:
        ax.text(0.0, rows[name] + 0.25, text, ha="left", va="center", fontsize=9,
                transform=ax.get_yaxis_transform())      # x in axes units: labels stay put
    ax.set_xlim(low - 4.2, high + 0.8)
    ax.set_ylim(-0.2, 3.3)
    ax.set_axis_off()
    def plural(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    def edge_text(count: int) -> str:
        return plural(count, "padding zero") if count >= 0 else f"{-count} cropped"

    edge = (f"{edge_text(left)} each end" if left == right
            else f"{edge_text(left)} left, {edge_text(right)} right")
    ax.set_title(
        f"conv_transpose(n={n}, k={k}, stride={stride}, padding={padding}"
        + (f", dilation={dilation}" if dilation != 1 else "")
        + (f", output_padding={output_padding}" if output_padding else "")
        + f") → {size} outputs\n"
        f"= conv({stuffed_length} cells: {plural(stride - 1, 'zero')} between inputs, "
        f"{edge}; flipped kernel) → {convolved} outputs",
        fontsize=9)
    return ax
