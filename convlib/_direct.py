"""The direct method: convolution as shift-and-add over the kernel taps.

This is convlib's readable reference. For every tap ``h[j]`` of the kernel,
the whole input, scaled by that tap, is added into the output at offset ``j``:

.. math:: y[t] = \\sum_j h[j]\\, x[t - j]
          \\quad\\Longleftrightarrow\\quad
          y[j : j + n] \\mathrel{+}= h[j]\\, x \\text{ for every } j

The arithmetic is done in the result dtype, so integer inputs give exact
integer outputs (wrapping around on overflow, like NumPy and scipy), and a NaN
in the input spoils only the outputs whose window contains it.

The functions here take arrays that are already checked (see
:mod:`convlib._signal` for the public entry points).
"""
from __future__ import annotations

import itertools

import numpy as np

from convlib._validation import mode_window

__all__ = ["convolve_direct"]


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
        The convolution, dtype ``np.result_type(x, h)``; shape
        ``(n_i + k_i - 1, ...)`` for ``'full'``, ``x.shape`` for ``'same'`` and
        ``(n_i - k_i + 1, ...)`` for ``'valid'``.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_direct(np.array([3, 4, 5]), np.array([2, 1]), "full")
    array([ 6, 11, 14,  5])
    >>> convolve_direct(np.array([1.0, np.nan, 0.0, 0.0, 0.0]), np.array([1.0, 1.0]), "full")
    array([ 1., nan, nan,  0.,  0.,  0.])
    """
    dtype = np.result_type(x, h)
    window = mode_window(x.shape, h.shape, mode)
    out = np.zeros(tuple(length for _, length in window), dtype=dtype)
    x = x.astype(dtype, copy=False)
    for tap in itertools.product(*(range(k) for k in h.shape)):
        weight = h[tap]
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
            out[tuple(out_slices)] += weight * x[tuple(in_slices)]
    return out
