"""Which dtype convlib computes in, and which it gives back: the one home of these rules.

* **Result dtype** of the scipy.signal-style functions: ``np.result_type`` of
  the inputs (integers stay integers, float32 stays float32, long double stays
  long double), as scipy.
* **Accumulation** (:func:`accumulation_dtype`): sums of products are added
  up in the result dtype, except float16, which is added up in float32 and
  rounded once at the end (NumPy's ``dot`` and ``numpy.convolve`` do the same;
  adding in float16 loses about 8x more accuracy). Integer sums wrap around
  modulo ``2**bits`` whatever the width they are added in, so they need no
  wider type.
* **Compute dtype** of the floating-point engines (FFT, torch, the NN layers:
  :func:`compute_dtype`): integers and bools in float64 (exact while the sums
  stay below ``2**53``), float16 in float32, float32/float64/long double and
  their complex types as they are; torch has no long double, so
  :func:`torch_compute_dtype` computes it in float64 (complex128).
* **Back to the result dtype** (:func:`cast_result`): integer results are
  rounded, and wrap around on overflow as integer arithmetic does.
"""
from __future__ import annotations

import numpy as np

__all__ = ["accumulation_dtype", "compute_dtype", "torch_compute_dtype", "cast_result"]


def accumulation_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype that sums of products of a ``dtype`` result are added up in.

    Examples
    --------
    >>> import numpy as np
    >>> accumulation_dtype(np.dtype(np.float16))
    dtype('float32')
    >>> accumulation_dtype(np.dtype(np.int8))
    dtype('int8')
    """
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The floating dtype an FFT, torch or NN-layer computation of a ``dtype`` result runs in.

    Examples
    --------
    >>> import numpy as np
    >>> compute_dtype(np.dtype(np.int64)), compute_dtype(np.dtype(np.float16))
    (dtype('float64'), dtype('float32'))
    >>> compute_dtype(np.dtype(np.complex64))
    dtype('complex64')
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def torch_compute_dtype(dtype: np.dtype) -> np.dtype:
    """:func:`compute_dtype` for torch, which has no long double: that one runs in double.

    Examples
    --------
    >>> import numpy as np
    >>> torch_compute_dtype(np.dtype(np.longdouble)), torch_compute_dtype(np.dtype(np.int8))
    (dtype('float64'), dtype('float64'))
    """
    work = compute_dtype(dtype)
    if work.kind == "f" and work.itemsize > 8:
        return np.dtype(np.float64)
    if work.kind == "c" and work.itemsize > 16:
        return np.dtype(np.complex128)
    return work


def cast_result(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast floating results to ``dtype``, rounding first for integer and bool results.

    Examples
    --------
    >>> import numpy as np
    >>> cast_result(np.array([0.9999999, 255.9999999, 2.0]), np.dtype(np.uint8))
    array([1, 0, 2], dtype=uint8)
    >>> cast_result(np.array([0.2, 1.0]), np.dtype(bool))
    array([False,  True])
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        rounded = np.rint(values.real if np.iscomplexobj(values) else values)
        if dtype.kind == "b":
            return rounded > 0
        # through int64 so that overflow wraps around as it does with integer arithmetic
        return rounded.astype(np.int64).astype(dtype)
    return values.astype(dtype, copy=False)
