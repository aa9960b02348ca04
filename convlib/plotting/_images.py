"""Plotting helpers for images, kernels and feature maps (chapters 3 and 5).

Every helper draws into the axes it is given (or a new figure's axes when
``ax=None``) and returns the axes, so that chapters compose figures from them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

__all__ = ["show_image", "show_kernel", "show_image_grid", "show_padding"]

# scipy.signal.convolve2d boundary name -> numpy.pad mode
from convlib._validation import as_int, pad_mode


def _as_image(image: Any, name: str) -> np.ndarray:
    """Return ``image`` as a real 2-D array (or an RGB(A) stack), or raise naming ``name``."""
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    is_color = array.ndim == 3 and array.shape[-1] in (3, 4)
    if array.ndim != 2 and not is_color:
        raise ValueError(
            f"{name} must be an ndarray of shape (rows, cols) or (rows, cols, 3|4), "
            f"got shape {array.shape}"
        )
    return array


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def show_image(
    image: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    symmetric: bool = False,
    colorbar: bool = False,
) -> Axes:
    """Draw an image with its pixel grid as the axes' coordinates.

    Parameters
    ----------
    image : array_like of shape (rows, cols) or (rows, cols, 3)
        A grey-level image (any real values) or an RGB image.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Axes title.
    cmap : str, optional
        Colour map for grey-level images; ``"gray"`` by default, or ``"RdBu_r"``
        when ``symmetric`` is true.
    vmin, vmax : float, optional
        Colour limits; by default the data's range.
    symmetric : bool, default False
        Centre the colour limits on zero (``vmin = -vmax``, with ``vmax`` the largest
        magnitude unless given), which shows the sign of filter responses such as edge
        maps: zero is white, negative blue, positive red.
    colorbar : bool, default False
        Add a colour bar beside the axes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Examples
    --------
    >>> import numpy as np
    >>> ax = show_image(np.eye(4), title="identity")
    >>> ax.get_title(), ax.images[0].get_array().shape
    ('identity', (4, 4))
    >>> show_image(np.array([[-1.0, 2.0]]), symmetric=True).images[0].get_clim()
    (-2.0, 2.0)
    >>> show_image(np.array([[-1.0, 2.0]]), symmetric=True, vmax=0.5).images[0].get_clim()
    (-0.5, 0.5)
    """
    array = _as_image(image, "image")
    ax = _new_axes(ax, (4, 4))
    if array.ndim == 2:
        if symmetric:
            if vmax is not None:
                limit = abs(float(vmax))
            else:
                limit = float(np.max(np.abs(array))) if array.size else 1.0
            limit = limit if limit > 0 else 1.0
            vmin, vmax = -limit, limit
            cmap = cmap or "RdBu_r"
        artist = ax.imshow(array, cmap=cmap or "gray", vmin=vmin, vmax=vmax,
                           interpolation="nearest")
        if colorbar:
            ax.figure.colorbar(artist, ax=ax, shrink=0.8)
    else:
        ax.imshow(array, interpolation="nearest")
    if title is not None:
        ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def show_kernel(
    kernel: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool = True,
    decimals: int = 2,
    cmap: str = "RdBu_r",
) -> Axes:
    """Draw a small kernel as coloured cells, each labelled with its weight.

    The colour scale is centred on zero, so positive and negative weights read at
    a glance (red and blue).

    Parameters
    ----------
    kernel : array_like of shape (k,) or (rows, cols)
        The weights; a 1-D kernel is drawn as one row.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Axes title.
    annotate : bool, default True
        Write each weight inside its cell (skipped for kernels wider than 11 cells).
    decimals : int, default 2
        Decimals of the written weights (trailing zeros dropped).
    cmap : str, default "RdBu_r"
        A diverging colour map.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Examples
    --------
    >>> import numpy as np
    >>> ax = show_kernel(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]), title="Sobel x")
    >>> [text.get_text() for text in ax.texts][:3]
    ['1', '0', '-1']
    """
    array = np.asarray(kernel)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    array = _as_image(array, "kernel")
    if array.ndim != 2:
        raise ValueError(f"kernel must be 1-D or 2-D, got shape {array.shape}")
    ax = _new_axes(ax, (0.5 + 0.45 * array.shape[1], 0.5 + 0.45 * array.shape[0]))
    show_image(array, ax=ax, title=title, cmap=cmap, symmetric=True)
    limit = float(np.max(np.abs(array))) or 1.0
    if annotate and max(array.shape) <= 11:
        for (row, col), value in np.ndenumerate(array):
            text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
            text = "0" if text in ("-0", "") else text
            color = "white" if abs(value) > 0.6 * limit else "black"
            ax.text(col, row, text, ha="center", va="center", fontsize=8, color=color)
    if max(array.shape) <= 11:  # thin lines between cells (clutter, and slow, on big kernels)
        ax.set_xticks(np.arange(-0.5, array.shape[1]), minor=True)
        ax.set_yticks(np.arange(-0.5, array.shape[0]), minor=True)
        ax.grid(which="minor", color="0.6", linewidth=0.5)
        ax.tick_params(which="both", length=0)
    return ax


def show_image_grid(
    images: Any,
    *,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    axes: Any = None,
    symmetric: bool = False,
    cmap: str | None = None,
    panel_size: float = 1.6,
) -> np.ndarray:
    """Draw a stack of images (feature maps, learned filters, digits) as small panels.

    Parameters
    ----------
    images : array_like of shape (n, rows, cols) or a sequence of 2-D arrays
        The panels, drawn left to right and top to bottom.
    ncols : int, optional
        Panels per row; by default ``min(n, 8)``.
    titles : sequence of str, optional
        One title per panel.
    axes : array_like of matplotlib.axes.Axes, optional
        At least ``n`` axes to draw into; a new figure is made when omitted.
    symmetric : bool, default False
        Centre each panel's colours on zero (see :func:`show_image`).
    cmap : str, optional
        Colour map (see :func:`show_image`).
    panel_size : float, default 1.6
        Size in inches of one panel of a new figure.

    Returns
    -------
    ndarray of shape (n,) of matplotlib.axes.Axes
        The axes that hold the panels (unused axes of the grid are hidden).

    Examples
    --------
    >>> import numpy as np
    >>> axes = show_image_grid(np.zeros((5, 3, 3)), ncols=3, titles=list("abcde"))
    >>> axes.shape, axes[4].get_title()
    ((5,), 'e')
    """
    panels = [_as_image(image, f"images[{index}]") for index, image in enumerate(images)]
    if not panels:
        raise ValueError("images must hold at least one image, got none")
    count = len(panels)
    if titles is not None and len(titles) != count:
        raise ValueError(f"titles must have one entry per image ({count}), got {len(titles)}")
    if ncols is not None and (not isinstance(ncols, int) or ncols < 1):
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = min(count, ncols or 8)
    if axes is None:
        nrows = -(-count // ncols)
        _, grid = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                               figsize=(panel_size * ncols, panel_size * nrows + 0.3))
        flat = grid.ravel()
    else:
        flat = np.asarray(axes, dtype=object).ravel()
        if flat.size < count:
            raise ValueError(f"axes must hold at least {count} axes, got {flat.size}")
    for index, panel in enumerate(panels):
        show_image(panel, ax=flat[index], symmetric=symmetric, cmap=cmap,
                   title=None if titles is None else titles[index])
    for extra in flat[count:]:
        extra.set_axis_off()
    return flat[:count]


def show_padding(
    image: Any,
    pad_width: int,
    *,
    boundary: str = "fill",
    fillvalue: float = 0.0,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "gray",
) -> Axes:
    """Draw an image extended past its edges the way a ``boundary`` rule extends it.

    ``boundary`` takes the names of :func:`convlib.convolve2d` and
    :func:`scipy.signal.convolve2d`: ``"fill"`` pads with ``fillvalue``, ``"wrap"``
    repeats the image periodically, ``"symm"`` mirrors it (the edge pixel repeated).
    A rectangle marks the original image.

    Parameters
    ----------
    image : array_like of shape (rows, cols)
        A grey-level image.
    pad_width : int
        Pixels added on each side (non-negative).
    boundary : {"fill", "wrap", "symm"}, default "fill"
        The boundary rule.
    fillvalue : float, default 0.0
        The value outside the image for ``"fill"``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Axes title; by default the boundary's name.
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into; the extended image is ``ax.images[0].get_array()``.

    Examples
    --------
    >>> import numpy as np
    >>> ax = show_padding(np.array([[1.0, 2.0, 3.0]]), 2, boundary="symm")
    >>> ax.images[0].get_array()[2].tolist()
    [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]
    """
    array = _as_image(image, "image")
    if array.ndim != 2:
        raise ValueError(f"image must be an ndarray of shape (rows, cols), got shape {array.shape}")
    mode = pad_mode(boundary)
    pad_width = as_int(pad_width, "pad_width", minimum=0)
    options = {"constant_values": fillvalue} if mode == "constant" else {}
    extended = np.pad(array.astype(float), int(pad_width), mode=mode, **options)
    ax = _new_axes(ax, (4, 4))
    low, high = float(np.min(extended)), float(np.max(extended))
    show_image(extended, ax=ax, title=boundary if title is None else title, cmap=cmap,
               vmin=low, vmax=high if high > low else low + 1)
    ax.add_patch(Rectangle((pad_width - 0.5, pad_width - 0.5), array.shape[1], array.shape[0],
                           fill=False, edgecolor="tab:orange", linewidth=2))
    return ax
