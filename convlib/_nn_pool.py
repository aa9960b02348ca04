"""Pooling layers with ``torch.nn.functional`` semantics, NumPy in and out.

Both layers visit the ``kH * kW`` taps of the window one at a time, each a
strided view of the padded input, and combine them into the output with
``np.maximum`` or ``+=``: no window array is ever built.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from convlib._nn_common import add_batch_axis, as_layer_input, compute_dtypes, pad_spatial
from convlib._shapes import conv_output_size
from convlib._validation import as_int_tuple

__all__ = ["max_pool2d", "avg_pool2d"]

Pair = tuple[int, int]


def _pool_axis_size(n: int, k: int, stride: int, padding: int, ceil_mode: bool, axis: int) -> int:
    """Output length along one axis, torch's rule (``ceil_mode`` included)."""
    # ceil((n + 2p - k) / s) is floor((n + s - 1 + 2p - k) / s): the same formula on a
    # longer input
    extra = stride - 1 if ceil_mode else 0
    try:
        size = conv_output_size(n + extra, k, stride=stride, padding=padding)
    except ValueError as error:
        raise ValueError(
            f"kernel_size is larger than the padded input along spatial axis {axis}: {error}"
        ) from None
    # torch: in ceil mode the last window must start inside the input or the left padding
    if ceil_mode and (size - 1) * stride >= n + padding:
        size -= 1
    return size


def _pool_setup(
    x: Any, kernel_size: Any, stride: Any, padding: Any, ceil_mode: Any
) -> tuple[np.ndarray, bool, np.dtype, Pair, Pair, Pair, Pair]:
    """Check the arguments; return batched data and per-axis kernel/stride/padding/output."""
    x = as_layer_input(x, "x", spatial_ndim=2, allow_complex=False)
    kernel = as_int_tuple(kernel_size, "kernel_size", length=2, minimum=1)
    stride = kernel if stride is None else as_int_tuple(stride, "stride", length=2, minimum=1)
    padding = as_int_tuple(padding, "padding", length=2, minimum=0)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be a bool; got {type(ceil_mode).__name__} ({ceil_mode!r})")
    for p, k in zip(padding, kernel):
        if 2 * p > k:
            raise ValueError(
                f"padding must be at most half of kernel_size (as in torch); "
                f"got padding={padding} and kernel_size={kernel}"
            )
    x, unbatched = add_batch_axis(x, 2)
    compute_dtype, result_dtype = compute_dtypes(x)
    out_shape = tuple(
        _pool_axis_size(n, k, s, p, bool(ceil_mode), axis)
        for axis, (n, k, s, p) in enumerate(zip(x.shape[2:], kernel, stride, padding))
    )
    return (x.astype(compute_dtype, copy=False), unbatched, result_dtype,
            kernel, stride, padding, out_shape)


def _padded_for_windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                        out_shape: Pair, fill: float) -> np.ndarray:
    """Pad ``x`` so that every window (ceil mode's last one too) lies inside the array."""
    pads = []
    for n, k, s, p, m in zip(x.shape[2:], kernel, stride, padding, out_shape):
        end = max(n + 2 * p, (m - 1) * s + k)  # ceil mode's last window may pass n + p
        pads.append((p, end - n - p))
    return pad_spatial(x, tuple(pads), fill=fill)


def _taps(xp: np.ndarray, kernel: Pair, stride: Pair, out_shape: Pair) -> Iterator[np.ndarray]:
    """The ``kH * kW`` strided views of shape (N, C, H_out, W_out), one per window tap."""
    (kh, kw), (sh, sw), (h_out, w_out) = kernel, stride, out_shape
    for i in range(kh):
        rows = slice(i, i + (h_out - 1) * sh + 1, sh)
        for j in range(kw):
            yield xp[:, :, rows, j:j + (w_out - 1) * sw + 1:sw]


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C, H, W)`` or ``(C, H, W)``; real numbers.
    kernel_size : int or tuple of 2 ints
        Window size (positive).
    stride : int or tuple of 2 ints, optional
        Step between windows; defaults to ``kernel_size``.
    padding : int or tuple of 2 ints, default 0
        Implicit ``-inf`` added on both sides (never chosen as a maximum); at
        most half of ``kernel_size``, as torch requires.
    ceil_mode : bool, default False
        Round the output size up instead of down; as in torch, a last window
        that would start inside the right padding is dropped.

    Returns
    -------
    ndarray
        ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``. float32 stays float32,
        float64 stays float64, integers and bools come back as float64, float16
        as float16. NaN in a window gives NaN, as in torch.

    Raises
    ------
    TypeError
        If ``x`` is not real numbers or an argument has the wrong type.
    ValueError
        If ``x`` is empty or has the wrong number of dimensions, ``padding`` is
        negative or more than half of ``kernel_size``, ``kernel_size``/``stride``
        is not positive, or the window is larger than the padded input.

    See Also
    --------
    avg_pool2d

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import max_pool2d
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> max_pool2d(x, 2)
    array([[[ 5.,  7.],
            [13., 15.]]])
    >>> max_pool2d(x, 3, stride=2, padding=1)
    array([[[ 5.,  7.],
            [13., 15.]]])
    >>> max_pool2d(np.ones((1, 1, 5, 5)), 2, ceil_mode=True).shape
    (1, 1, 3, 3)
    """
    x, unbatched, result_dtype, kernel, stride, padding, out_shape = _pool_setup(
        x, kernel_size, stride, padding, ceil_mode
    )
    xp = _padded_for_windows(x, kernel, stride, padding, out_shape, -np.inf)
    taps = _taps(xp, kernel, stride, out_shape)
    out = np.array(next(taps))  # a copy: never write into the input
    for tap in taps:
        np.maximum(out, tap, out=out)
    out = out.astype(result_dtype, copy=False)
    return out[0] if unbatched else out


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    The zero padding counts in the average (torch's default
    ``count_include_pad=True``); in ``ceil_mode``, the part of a last window
    that lies beyond the padding does not count, as in torch.

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C, H, W)`` or ``(C, H, W)``; real numbers.
    kernel_size : int or tuple of 2 ints
        Window size (positive).
    stride : int or tuple of 2 ints, optional
        Step between windows; defaults to ``kernel_size``.
    padding : int or tuple of 2 ints, default 0
        Zeros added on both sides; at most half of ``kernel_size``.
    ceil_mode : bool, default False
        Round the output size up instead of down (torch's rule).

    Returns
    -------
    ndarray
        ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``; dtypes as in
        :func:`max_pool2d`.

    Raises
    ------
    TypeError, ValueError
        As :func:`max_pool2d`.

    See Also
    --------
    max_pool2d

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import avg_pool2d
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> avg_pool2d(x, 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    >>> avg_pool2d(np.ones((1, 2, 2)), 2, padding=1)      # the padding counts
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    x, unbatched, result_dtype, kernel, stride, padding, out_shape = _pool_setup(
        x, kernel_size, stride, padding, ceil_mode
    )
    xp = _padded_for_windows(x, kernel, stride, padding, out_shape, 0)
    taps = _taps(xp, kernel, stride, out_shape)
    out = np.array(next(taps))
    for tap in taps:
        out += tap
    # divisor: the window clipped to the padded input, per axis (torch's count_include_pad)
    counts = []
    for n, k, s, p, m in zip(x.shape[2:], kernel, stride, padding, out_shape):
        starts = np.arange(m) * s - p
        counts.append(np.minimum(starts + k, n + p) - starts)
    out /= np.multiply.outer(counts[0], counts[1]).astype(out.dtype)
    out = out.astype(result_dtype, copy=False)
    return out[0] if unbatched else out
