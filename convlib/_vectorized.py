"""The vectorized method: sliding windows and one matrix product (im2col).

Every output sample is a dot product between the flipped kernel and the window
of the (zero-padded) input under it. ``numpy.lib.stride_tricks.sliding_window_view``
gives all windows as a view at no cost; copying them into a matrix with one row
per output sample ("im2col") turns the whole convolution into a single
matrix-vector product that BLAS runs at full speed. The copy is the price:
``k`` numbers per output sample, so the work is split into blocks of output
rows that keep the copied matrix near :data:`BLOCK_ELEMENTS` elements
(fresh memory above ~128 KB costs page faults on every use).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convlib._dtypes import accumulation_dtype
from convlib._shapes import mode_window

__all__ = ["convolve_vectorized", "BLOCK_ELEMENTS"]

#: Largest im2col block (number of elements) built at once.
BLOCK_ELEMENTS = 1 << 18


def convolve_vectorized(x: np.ndarray, h: np.ndarray, mode: str) -> np.ndarray:
    """N-dimensional convolution as sliding windows times the flipped kernel.

    Parameters
    ----------
    x : ndarray of shape (n_1, ..., n_d)
        The input, numeric, not empty.
    h : ndarray of shape (k_1, ..., k_d)
        The kernel, same number of dimensions; in ``'valid'`` mode not larger
        than ``x`` in any dimension.
    mode : {'full', 'same', 'valid'}
        Which part of the full convolution to return (scipy.signal's rules).

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(x, h)`` (integers stay exact;
        float16 is added up in float32 and rounded once).

    Examples
    --------
    >>> import numpy as np
    >>> convolve_vectorized(np.array([3, 4, 5]), np.array([2, 1]), "full")
    array([ 6, 11, 14,  5])
    >>> convolve_vectorized(np.eye(3), np.ones((2, 2)), "valid")
    array([[2., 1.],
           [1., 2.]])
    """
    dtype = np.result_type(x, h)
    acc_dtype = accumulation_dtype(dtype)  # float16 is added up in float32
    window = mode_window(x.shape, h.shape, mode)
    # Pad x so that output t (full coordinates) is the dot product of the flipped kernel with
    # padded[t - start + ...] : the window needs k - 1 - start zeros before and enough after.
    pad = []
    for (start, length), n, k in zip(window, x.shape, h.shape):
        before = k - 1 - start
        after = length + k - 1 - n - before
        pad.append((before, after))
    padded = np.pad(x.astype(dtype, copy=False), pad) if any(p != (0, 0) for p in pad) else x.astype(dtype, copy=False)
    flipped = h[(slice(None, None, -1),) * h.ndim].astype(acc_dtype, copy=False).reshape(-1)
    windows = sliding_window_view(padded, h.shape)  # shape: output shape + kernel shape
    out_shape = windows.shape[: x.ndim]
    out = np.empty(out_shape, dtype=dtype)
    rows_per_block = max(1, BLOCK_ELEMENTS // max(1, h.size * int(np.prod(out_shape[1:]))))
    rows_per_block = min(rows_per_block, out_shape[0])
    # one im2col buffer, reused by every block (fresh large arrays cost page faults)
    buffer = np.empty((rows_per_block, *windows.shape[1:]), dtype=acc_dtype)
    for first in range(0, out_shape[0], rows_per_block):
        block = windows[first : first + rows_per_block]
        columns = buffer[: block.shape[0]]
        np.copyto(columns, block)  # the im2col copy: one row of k numbers per output sample
        matrix = columns.reshape(-1, h.size)
        out[first : first + block.shape[0]] = (matrix @ flipped).reshape(block.shape[: x.ndim])
    return out
