"""Plotting helpers for 1-D signals (chapters 1, 2 and 4): signals, flip-and-slide, spectra.

Every helper draws into the axes it is given (or a new figure's axes when
``ax``/``axes`` is None) and returns them. Helpers only *draw*: convolution outputs
are computed by the chapters with convlib and passed in.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = [
    "plot_signal", "plot_flip_and_slide", "kernel_tap_label", "plot_continuous_convolution",
    "plot_spectrum",
]

INPUT_COLOR, KERNEL_COLOR, PRODUCT_COLOR, OUTPUT_COLOR = "C0", "C1", "C2", "C3"


def _as_signal(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty ndarray of shape (n,), got shape {array.shape}")
    return array.astype(float)


# Fixed margins rather than layout="constrained": constrained layout measures every tick label
# on every draw and was two thirds of a live redraw's time (convlib.widgets.time_redraw).
_MARGINS = {"left": 0.1, "right": 0.97, "bottom": 0.17, "top": 0.88}
_TICKS = 5  # at most ~6 ticks per axis


def _fewer_ticks(axes: Any) -> None:
    # tick objects are most of a redraw's cost in matplotlib: ~5 per axis keeps live redraws fast
    for ax in np.ravel(axes):
        ax.locator_params(nbins=_TICKS)


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        figure, ax = plt.subplots(figsize=figsize)
        figure.subplots_adjust(**_MARGINS)
        _fewer_ticks(ax)
    return ax


def _new_axes_pair(axes: Sequence[Axes] | None, figsize: tuple[float, float]) -> np.ndarray:
    if axes is None:
        figure, axes = plt.subplots(2, 1, figsize=figsize)
        figure.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.93, hspace=0.45)
        _fewer_ticks(axes)
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(f"axes must hold 2 matplotlib axes, got {axes.size}")
    return axes


def plot_signal(
    t: Any,
    x: Any = None,
    *,
    ax: Axes | None = None,
    stem: bool = False,
    label: str | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    color: str | None = None,
) -> Axes:
    """Draw a signal as a line (continuous time) or as stems (discrete time).

    Parameters
    ----------
    t : array_like of shape (n,)
        Sample times or indices; when ``x`` is omitted, ``t`` holds the samples and
        the indices 0, 1, ... are used as times.
    x : array_like of shape (n,), optional
        The samples.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    stem : bool, default False
        Draw stems (discrete signal) instead of a line.
    label, title, xlabel, ylabel : str, optional
        Legend label (a legend is added when given), axes title and axis labels.
    color : str, optional
        Matplotlib colour.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Examples
    --------
    >>> ax = plot_signal([3, 4, 5], stem=True, label="x[n]")
    >>> len(ax.containers), ax.get_legend() is not None
    (1, True)
    >>> plt.close("all")
    """
    if x is None:
        samples = _as_signal(t, "t")
        times = np.arange(samples.size, dtype=float)
    else:
        times, samples = _as_signal(t, "t"), _as_signal(x, "x")
        if times.shape != samples.shape:
            raise ValueError(f"t and x must have the same shape, got {times.shape} and {samples.shape}")
    ax = _new_axes(ax, (6, 2.5))
    if stem:
        markers, stems, base = ax.stem(times, samples, label=label, basefmt="k-")
        if color is not None:
            plt.setp([markers, stems], color=color)
    else:
        ax.plot(times, samples, label=label, color=color)
    if label is not None:
        ax.legend(loc="best")
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def kernel_tap_label(n: int, m: int, *, correlate: bool = False) -> str:
    """The legend of the kernel placed for output ``n``: which tap sits at input index k.

    For convolution tap ``j`` sits at ``k = n - j``, so the sample there is ``h[n - k]``.
    For cross-correlation's 'full' output (``scipy.signal.correlate``) tap ``j`` sits at
    ``k = n - (m - 1) + j``, so the sample there is ``h[k - (n - m + 1)]``.

    Parameters
    ----------
    n : int
        Index into the 'full' output.
    m : int
        The kernel's length.
    correlate : bool, default False
        Cross-correlation (no flip) instead of convolution.

    Returns
    -------
    str
        ``"h[n - k]"`` with the number for ``n``, or for cross-correlation ``"h[k]"``,
        ``"h[k - s]"`` or ``"h[k + s]"`` with the offset ``s`` written out.

    Examples
    --------
    >>> kernel_tap_label(3, 2)
    'h[3 - k]'
    >>> kernel_tap_label(0, 2, correlate=True)
    'h[k + 1]'
    >>> kernel_tap_label(3, 2, correlate=True)
    'h[k - 2]'
    """
    if not correlate:
        return f"h[{n} - k]"
    offset = n - (m - 1)
    if offset == 0:
        return "h[k]"
    return f"h[k - {offset}]" if offset > 0 else f"h[k + {-offset}]"


def plot_flip_and_slide(
    x: Any,
    h: Any,
    n: int,
    y: Any,
    *,
    correlate: bool = False,
    axes: Sequence[Axes] | None = None,
) -> np.ndarray:
    """Picture one step of discrete convolution: the kernel flipped, slid to ``n``, multiplied.

    Top: the input :math:`x[k]` and the kernel placed for output ``n`` (for convolution
    tap :math:`j` sits at :math:`k = n - j`, flipped; for cross-correlation, as in
    ``scipy.signal.correlate``'s 'full' output, at :math:`k = n - (m - 1) + j`, not flipped),
    with the products written above the overlapping samples. Bottom: the full output,
    with ``y[n]`` highlighted and the samples after ``n`` faded.

    Parameters
    ----------
    x : array_like of shape (n_x,)
        The input.
    h : array_like of shape (m,)
        The kernel.
    n : int
        Index into the 'full' output, ``0 <= n < n_x + m - 1``.
    y : array_like of shape (n_x + m - 1,)
        The 'full' output, computed by the caller (e.g. ``convlib.convolve(x, h)``).
    correlate : bool, default False
        Slide the kernel without flipping it (cross-correlation).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw; a new figure with two rows is made when omitted.

    Returns
    -------
    ndarray of 2 matplotlib.axes.Axes
        The top and bottom axes.

    Examples
    --------
    >>> import numpy as np
    >>> x, h = np.array([3.0, 4.0, 5.0]), np.array([2.0, 1.0])
    >>> top, bottom = plot_flip_and_slide(x, h, 1, np.convolve(x, h))
    >>> top.get_title()
    'output index n = 1: y[1] = 3·1 + 4·2 = 11'
    >>> plt.close("all")
    """
    x, h, y = _as_signal(x, "x"), _as_signal(h, "h"), _as_signal(y, "y")
    full = x.size + h.size - 1
    if y.size != full:
        raise ValueError(f"y must be the 'full' output of length {full}, got length {y.size}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < full:
        raise ValueError(f"n must be an integer index in [0, {full}), got {n!r}")
    top, bottom = _new_axes_pair(axes, (7, 4))
    taps = np.arange(h.size)
    positions = (n - (h.size - 1) + taps) if correlate else (n - taps)
    top.stem(np.arange(x.size), x, linefmt=INPUT_COLOR, markerfmt="o", basefmt="k-", label="x[k]")
    kernel_label = kernel_tap_label(n, h.size, correlate=correlate)
    top.stem(positions, h, linefmt=KERNEL_COLOR + "--", markerfmt="s", basefmt=" ", label=kernel_label)
    terms = []
    for tap, k in sorted(zip(taps, positions), key=lambda pair: pair[1]):
        if 0 <= k < x.size:
            terms.append(f"{x[k]:g}·{h[tap]:g}")
            top.annotate(
                f"{x[k] * h[tap]:g}", (k, max(x[k], h[tap])), textcoords="offset points",
                xytext=(0, 6), ha="center", color=PRODUCT_COLOR,
            )
    top.legend(loc="upper right", fontsize="small")
    top.set_title(f"output index n = {n}: y[{n}] = {' + '.join(terms) or '0'} = {y[n]:g}")
    low = min(0, positions.min()) - 0.5
    high = max(full - 1, positions.max()) + 0.5
    top.set_xlim(low, high)
    top.set_ylim(min(0.0, x.min(), h.min()) * 1.3 - 0.1, max(x.max(), h.max(), 0.0) * 1.35 + 0.1)
    indices = np.arange(full)
    bottom.stem(indices[: n + 1], y[: n + 1], linefmt=OUTPUT_COLOR, markerfmt="o", basefmt="k-")
    if n + 1 < full:
        bottom.stem(indices[n + 1:], y[n + 1:], linefmt="0.8", markerfmt="o", basefmt="k-")
    bottom.plot([n], [y[n]], "o", markersize=12, markerfacecolor="none", color=OUTPUT_COLOR)
    bottom.set_ylim(min(0.0, y.min()) * 1.2 - 0.1, max(0.0, y.max()) * 1.2 + 0.1)
    bottom.set_xlabel("k (top), n (bottom)")
    bottom.set_ylabel("y[n]")
    return np.array([top, bottom], dtype=object)


def plot_continuous_convolution(
    x: Callable[[np.ndarray], np.ndarray],
    h: Callable[[np.ndarray], np.ndarray],
    t: float,
    *,
    tau: Any,
    y_times: Any,
    y_values: Any,
    axes: Sequence[Axes] | None = None,
) -> np.ndarray:
    """Picture :math:`y(t) = \\int h(\\tau)\\, x(t - \\tau)\\, d\\tau` at one time ``t``.

    Top: :math:`h(\\tau)`, the flipped and shifted input :math:`x(t - \\tau)` and their
    product, whose shaded area is :math:`y(t)`. Bottom: the output :math:`y` drawn up
    to ``t``, with the current value marked.

    Parameters
    ----------
    x, h : callable
        The input and the impulse response, as functions of an array of times.
    t : float
        The output time shown.
    tau : array_like of shape (n,)
        Grid of :math:`\\tau` values for the top panel.
    y_times, y_values : array_like of shape (p,)
        The output :math:`y` on a grid, computed by the caller (e.g. with ``convlib.convolve``).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw; a new figure with two rows is made when omitted.

    Returns
    -------
    ndarray of 2 matplotlib.axes.Axes
        The top and bottom axes.

    Examples
    --------
    >>> import numpy as np
    >>> step = lambda s: (np.asarray(s) >= 0).astype(float)
    >>> grid = np.linspace(-2, 4, 61)
    >>> top, bottom = plot_continuous_convolution(
    ...     step, step, 1.0, tau=grid, y_times=grid, y_values=np.clip(grid, 0, None))
    >>> len(top.lines), len(bottom.lines)    # h, x flipped, product, marker of t; y, y so far, y(t)
    (4, 3)
    >>> plt.close("all")
    """
    tau = _as_signal(tau, "tau")
    y_times, y_values = _as_signal(y_times, "y_times"), _as_signal(y_values, "y_values")
    if y_times.shape != y_values.shape:
        raise ValueError(
            f"y_times and y_values must have the same shape, got {y_times.shape} and {y_values.shape}"
        )
    top, bottom = _new_axes_pair(axes, (7, 4.2))
    h_tau = np.asarray(h(tau), dtype=float)
    x_flipped = np.asarray(x(t - tau), dtype=float)
    product = h_tau * x_flipped
    top.plot(tau, h_tau, color=KERNEL_COLOR, label=r"$h(\tau)$")
    # labels stay constant (mathtext parses are cached); the value of t goes in the title
    top.plot(tau, x_flipped, color=INPUT_COLOR, label=r"$x(t - \tau)$")
    top.plot(tau, product, color=PRODUCT_COLOR, linewidth=1, label=r"$h(\tau)\,x(t - \tau)$")
    top.fill_between(tau, product, color=PRODUCT_COLOR, alpha=0.35)
    top.axvline(t, color="0.6", linewidth=0.8, linestyle=":")
    top.set_xlim(tau.min(), tau.max())
    top.legend(loc="upper right", fontsize="small")
    top.set_xlabel(r"$\tau$")
    top.set_title(f"t = {t:g}", fontsize="medium")
    shown = y_times <= t
    bottom.plot(y_times, y_values, color="0.85")
    bottom.plot(y_times[shown], y_values[shown], color=OUTPUT_COLOR, linewidth=2)
    current = np.interp(t, y_times, y_values)
    bottom.plot([t], [current], "o", color=OUTPUT_COLOR)
    bottom.set_xlim(tau.min(), tau.max())
    bottom.set_ylim(min(0.0, y_values.min()) - 0.1, max(0.0, y_values.max()) * 1.15 + 0.1)
    bottom.set_xlabel("t")
    bottom.set_ylabel("y(t)")
    bottom.set_title(f"y({t:g}) = shaded area = {current:.3f}", fontsize="medium")
    return np.array([top, bottom], dtype=object)


def plot_spectrum(
    x: Any,
    *,
    sample_rate: float = 1.0,
    n_fft: int | None = None,
    ax: Axes | None = None,
    db: bool = False,
    label: str | None = None,
) -> Axes:
    """Draw the magnitude of a real signal's (or filter's) discrete Fourier transform.

    Parameters
    ----------
    x : array_like of shape (n,)
        A real signal, or a filter's impulse response (its frequency response).
    sample_rate : float, default 1.0
        Samples per unit of time; the frequency axis is in cycles per unit.
    n_fft : int, optional
        Transform length (zero-padding gives a smoother curve); defaults to ``max(n, 512)``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    db : bool, default False
        Plot :math:`20 \\log_{10} |X|` (decibels) instead of :math:`|X|`.
    label : str, optional
        Legend label (a legend is added when given).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn into.

    Examples
    --------
    >>> ax = plot_spectrum(np.ones(4) / 4, label="box(4)")
    >>> float(ax.lines[0].get_ydata()[0])                # the DC gain of an averaging filter
    1.0
    >>> plt.close("all")
    """
    x = _as_signal(x, "x")
    if not sample_rate > 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    n_fft = max(x.size, 512) if n_fft is None else int(n_fft)
    if n_fft < x.size:
        raise ValueError(f"n_fft must be at least the signal length {x.size}, got {n_fft}")
    magnitude = np.abs(np.fft.rfft(x, n_fft))
    frequencies = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    ax = _new_axes(ax, (6, 2.5))
    values = 20 * np.log10(np.maximum(magnitude, 1e-12)) if db else magnitude
    ax.plot(frequencies, values, label=label)
    ax.set_xlabel("frequency (cycles per unit time)" if sample_rate == 1.0 else "frequency")
    ax.set_ylabel("|X(f)| (dB)" if db else "|X(f)|")
    if label is not None:
        ax.legend(loc="best")
    return ax
