"""Input handling shared by the ``torch.nn.functional``-style layers.

One home for what ``conv*`` and ``*_pool2d`` both need: checking the layout of
the data array (batched or not), and the dtype rule (float32 stays float32,
float64 stays float64, integers and bools are computed in float64 and given
back as float64, float16 is computed in float32 and given back as float16; the
compute dtype is :func:`convlib._dtypes.compute_dtype`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from convlib._dtypes import compute_dtype
from convlib._validation import as_numeric_array

__all__ = ["layout_names", "as_layer_input", "compute_dtypes", "add_batch_axis", "pad_spatial"]

_SPATIAL_NAMES = {1: ("L",), 2: ("H", "W")}


def layout_names(spatial_ndim: int) -> tuple[str, str]:
    """The batched and unbatched layouts, e.g. ``('(N, C, H, W)', '(C, H, W)')``."""
    axes = ", ".join(_SPATIAL_NAMES[spatial_ndim])
    return f"(N, C, {axes})", f"(C, {axes})"


def as_layer_input(
    value: Any, name: str, *, spatial_ndim: int, allow_complex: bool = True
) -> np.ndarray:
    """Check that ``value`` is a non-empty numeric batched or unbatched array.

    Parameters
    ----------
    value : array_like
        ``(N, C, *spatial)`` or ``(C, *spatial)`` data.
    name : str
        The argument's name, for messages.
    spatial_ndim : int
        Number of spatial axes (1 for ``conv1d``, 2 for ``conv2d``).
    allow_complex : bool, default True
        Whether complex data are accepted (pooling refuses them, as torch does).

    Returns
    -------
    ndarray
        ``np.asarray(value)`` (not copied: never write into it).

    Raises
    ------
    TypeError
        If the data are not numbers (or complex where refused).
    ValueError
        If the array is empty or has the wrong number of dimensions.

    Examples
    --------
    >>> as_layer_input(np.zeros((3, 8, 8)), "x", spatial_ndim=2).shape
    (3, 8, 8)
    >>> as_layer_input(np.zeros((8, 8)), "x", spatial_ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: x must have shape (N, C, H, W) or (C, H, W); got ndim=2, shape (8, 8)
    """
    array = as_numeric_array(value, name)
    if not allow_complex and array.dtype.kind == "c":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}")
    if array.ndim not in (spatial_ndim + 1, spatial_ndim + 2):
        batched, unbatched = layout_names(spatial_ndim)
        raise ValueError(
            f"{name} must have shape {batched} or {unbatched}; "
            f"got ndim={array.ndim}, shape {array.shape}"
        )
    return array


def compute_dtypes(*arrays: np.ndarray | None) -> tuple[np.dtype, np.dtype]:
    """The dtype to compute in and the dtype to return, for NumPy's promotion of ``arrays``.

    Integers and bools are computed in float64 (torch refuses integer
    convolution on the CPU; convlib computes it exactly in float64 instead);
    float16 is computed in float32 and returned as float16.

    Examples
    --------
    >>> compute_dtypes(np.zeros(2, np.float32), np.zeros(2, np.float32))
    (dtype('float32'), dtype('float32'))
    >>> compute_dtypes(np.zeros(2, np.int64), None)
    (dtype('float64'), dtype('float64'))
    >>> compute_dtypes(np.zeros(2, np.float16), np.zeros(2, np.float16))
    (dtype('float32'), dtype('float16'))
    """
    dtype = np.result_type(*(a.dtype for a in arrays if a is not None))
    work = compute_dtype(dtype)  # convlib's one compute-dtype rule (convlib._dtypes)
    return work, (work if dtype.kind in "biu" else dtype)


def add_batch_axis(x: np.ndarray, spatial_ndim: int) -> tuple[np.ndarray, bool]:
    """Return ``x`` with a leading batch axis (a view) and whether one was added.

    Examples
    --------
    >>> batched, added = add_batch_axis(np.zeros((3, 5)), 1)
    >>> batched.shape, added
    ((1, 3, 5), True)
    """
    if x.ndim == spatial_ndim + 1:
        return x[np.newaxis], True
    return x, False


def pad_spatial(
    x: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]], *, fill: float = 0
) -> np.ndarray:
    """``x`` of shape (N, C, H, W) with ``pads = ((top, bottom), (left, right))`` of ``fill``.

    Returns ``x`` itself (not a copy) when there is nothing to add.

    Examples
    --------
    >>> pad_spatial(np.ones((1, 1, 1, 2)), ((0, 1), (1, 0)), fill=-np.inf)
    array([[[[-inf,   1.,   1.],
             [-inf, -inf, -inf]]]])
    """
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out
