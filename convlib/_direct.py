"""The direct method: convolution as shift-and-add over the kernel taps.

This is convlib's readable reference. For every tap ``h[j]`` of the kernel,
the whole input, scaled by that tap, is added into the output at offset ``j``:

.. math:: y[t] = \\sum_j h[j]\\, x[t - j]
          \\quad\\Longleftrightarrow\\quad
          y[j : j + n] \\mathrel{+}= h[j]\\, x \\text{ for every } j

The output is computed in blocks of rows (:data:`BLOCK_ELEMENTS` samples) so
that the accumulator and the product of one tap stay in the cache and no
temporary array is ever as large as the input: the memory used is the output
plus two blocks. Sums are added up in :func:`convlib._dtypes.accumulation_dtype`
(float32 for float16 results, as NumPy's ``dot`` and scipy do, otherwise the
result dtype), so integer inputs give exact integer outputs (wrapping around on
overflow, like NumPy and scipy), and a NaN in the input spoils only the outputs
whose window contains it.

:func:`convolve_direct_fast` is what ``method="auto"`` runs when it picks
"direct": in 1-D the same sums compiled (``numpy.convolve``), in N-D the
shift-and-add itself.

The functions here take arrays that are already checked (see
:mod:`convlib._convolve` for the public entry points).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from convlib._dtypes import accumulation_dtype
from convlib._shapes import mode_window

__all__ = ["BLOCK_ELEMENTS", "convolve_direct", "convolve_direct_fast"]

#: Output samples per block of the shift-and-add (two blocks of 8-byte numbers
#: take 512 KiB: they stay in a core's L2 cache).
BLOCK_ELEMENTS = 1 << 15


def _add_taps(acc: np.ndarray, product: np.ndarray, x: np.ndarray, h: np.ndarray,
              window: tuple[tuple[int, int], ...]) -> None:
    """``acc`` (zeroed, of the window's shape) += every tap's shifted, scaled copy of ``x``."""
    for tap in itertools.product(*(range(k) for k in h.shape)):
        # Output index t (full coordinates) receives h[tap] * x[t - tap]. Restricted to the
        # window [start, start + length), the input slice is [start - tap, start - tap + length)
        # clipped to [0, n); the output slice is shifted back by the same amount.
        out_slices, in_slices = [], []
        for (start, length), offset, n in zip(window, tap, x.shape):
            first = max(start - offset, 0)
            last = min(start - offset + length, n)
            if first >= last:
                break
            in_slices.append(slice(first, last))
            out_slices.append(slice(first + offset - start, last + offset - start))
        else:
            target = acc[tuple(out_slices)]
            scaled = product[tuple(out_slices)]
            np.multiply(x[tuple(in_slices)], h[tap], out=scaled)
            np.add(target, scaled, out=target)


def convolve_direct(x: np.ndarray, h: np.ndarray, mode: str) -> np.ndarray:
    """N-dimensional convolution by shift-and-add (the definition, tap by tap).

    Parameters
    ----------
    x : ndarray of shape (n_1, ..., n_d)
        The input, numeric, not empty.
    h : ndarray of shape (k_1, ..., k_d)
        The kernel, same number of dimensions as ``x``. In ``'valid'`` mode it
        must not be larger than ``x`` in any dimension (the caller swaps).
    mode : {'full', 'same', 'valid'}
        Which part of the full convolution to return (scipy.signal's rules).

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(x, h)`` (float16 results are
        added up in float32 and rounded once); shape ``(n_i + k_i - 1, ...)``
        for ``'full'``, ``x.shape`` for ``'same'`` and ``(n_i - k_i + 1, ...)``
        for ``'valid'``.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_direct(np.array([3, 4, 5]), np.array([2, 1]), "full")
    array([ 6, 11, 14,  5])
    >>> convolve_direct(np.array([1.0, np.nan, 0.0, 0.0, 0.0]), np.array([1.0, 1.0]), "full")
    array([ 1., nan, nan,  0.,  0.,  0.])
    """
    dtype = np.result_type(x, h)
    acc_dtype = accumulation_dtype(dtype)
    window = mode_window(x.shape, h.shape, mode)
    out_shape = tuple(length for _, length in window)
    out = np.empty(out_shape, dtype=dtype)
    weights = h.astype(acc_dtype)  # the kernel is small: one converted copy
    row = math.prod(out_shape[1:])
    rows_per_block = max(1, min(out_shape[0], BLOCK_ELEMENTS // max(row, 1)))
    product = np.empty((rows_per_block, *out_shape[1:]), dtype=acc_dtype)
    wider = acc_dtype != dtype
    acc_buffer = np.empty_like(product) if wider else None
    (start, _), rest = window[0], window[1:]
    for first in range(0, out_shape[0], rows_per_block):
        rows = min(rows_per_block, out_shape[0] - first)
        acc = acc_buffer[:rows] if wider else out[first : first + rows]
        acc[...] = 0
        _add_taps(acc, product[:rows], x, weights, ((start + first, rows), *rest))
        if wider:
            out[first : first + rows] = acc  # one rounding, at the end
    return out


def convolve_direct_fast(x: np.ndarray, h: np.ndarray, mode: str) -> np.ndarray:
    """The direct sums as ``method="auto"`` runs them: ``numpy.convolve`` in 1-D.

    ``numpy.convolve`` computes the same sums as :func:`convolve_direct`, in
    compiled code (float16 added up in float32 there too); for N-D inputs this
    is :func:`convolve_direct` itself. Arguments and result as there.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_direct_fast(np.array([1, 2, 3]), np.array([1, 1, 1, 1, 1]), "same")
    array([6, 6, 6])
    """
    if x.ndim != 1:
        return convolve_direct(x, h, mode)
    if mode == "same" and h.shape[0] > x.shape[0]:
        # numpy's 'same' keeps the longer operand's length; scipy's keeps x's
        ((start, length),) = mode_window(x.shape, h.shape, mode)
        return np.convolve(x, h)[start : start + length]
    return np.convolve(x, h, mode)
