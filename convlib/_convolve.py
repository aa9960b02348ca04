"""Convolution and correlation with scipy.signal's semantics, several algorithms.

This is the module that dispatches. The public functions here (``convolve``,
``correlate``, ``fftconvolve``, ``convolve2d``, ``correlate2d``) take scipy's
arguments in scipy's positional order, check them once, apply scipy.signal's
rules (operand swap in 'valid' mode, 'same' centred on the first input,
conjugation in correlation, dtype of the result) and hand checked arrays to
one of the methods of :data:`ALGORITHMS`:

========== ======================================== =========================
method     algorithm                                module
========== ======================================== =========================
direct     shift-and-add over the kernel taps       :mod:`convlib._direct`
vectorized sliding windows + one matrix product     :mod:`convlib._vectorized`
fft        product of spectra (overlap-add in 1-D)  :mod:`convlib._fft`
torch      ``torch.nn.functional.conv{1,2,3}d``     :mod:`convlib._torch`
auto       the fastest, by a measured cost model    :mod:`convlib._auto`
========== ======================================== =========================

When ``auto`` picks "direct" it runs
:func:`convlib._direct.convolve_direct_fast` (``numpy.convolve`` in 1-D).
convlib's own options (``device=``) are keyword-only.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from convlib._auto import choose_checked, estimate_seconds, fft_is_exact
from convlib._direct import convolve_direct, convolve_direct_fast
from convlib._fft import convolve_fft, fft_full, normalize_axes, spectral_dtype
from convlib._validation import (
    PAD_MODES,
    as_numeric_array,
    check_boundary,
    check_device,
    check_mode,
    check_same_ndim,
    choice,
    valid_swap_needed,
)
from convlib._vectorized import convolve_vectorized

__all__ = [
    "ALGORITHMS",
    "METHODS",
    "check_method",
    "convolve",
    "correlate",
    "fftconvolve",
    "convolve2d",
    "correlate2d",
]


def _convolve_torch(x: np.ndarray, h: np.ndarray, mode: str, device: Any = None) -> np.ndarray:
    from convlib._torch import convolve_torch  # torch is imported only when asked for

    return convolve_torch(x, h, mode, device=device)


#: The methods ``convolve`` and ``correlate`` can run: name -> function(x, h, mode) of
#: checked arrays (same ndim, 'valid' operands already ordered). The one method table.
ALGORITHMS: dict[str, Callable[..., np.ndarray]] = {
    "direct": convolve_direct,
    "vectorized": convolve_vectorized,
    "fft": convolve_fft,
    "torch": _convolve_torch,
}

#: Names accepted by ``method=``: ``'auto'`` and every algorithm.
METHODS = ("auto", *ALGORITHMS)


def check_method(method: Any) -> str:
    """Return ``method`` if it is ``'auto'`` or names one of :data:`ALGORITHMS`.

    Parameters
    ----------
    method : str
        One of ``'auto'``, ``'direct'``, ``'vectorized'``, ``'fft'``, ``'torch'``.

    Returns
    -------
    str
        ``method`` unchanged.

    Raises
    ------
    ValueError
        If ``method`` is not one of the known algorithms.
    TypeError
        If ``method`` is not a string.

    Examples
    --------
    >>> check_method("fft")
    'fft'
    >>> check_method("winograd")
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'auto', 'direct', 'vectorized', 'fft', 'torch'; got 'winograd'
    """
    return choice(method, "method", METHODS)


def _run(x: np.ndarray, h: np.ndarray, mode: str, method: str, device: Any) -> np.ndarray:
    """Convolve checked arrays (same ndim >= 1, 'valid' operands already ordered)."""
    if method == "auto":
        if device is not None:
            return _convolve_torch(x, h, mode, device)
        method = choose_checked(x, h, mode)
        if method == "direct":
            return convolve_direct_fast(x, h, mode)
    if method == "torch":
        return _convolve_torch(x, h, mode, device)
    return ALGORITHMS[method](x, h, mode)


def _check_method_device(method: Any, device: Any) -> tuple[str, Any]:
    method = check_method(method)
    if device is not None:
        device = check_device(device)
        if method not in ("auto", "torch"):
            raise ValueError(
                f"device={device!r} needs method='torch' or 'auto' (the NumPy methods run on the CPU); "
                f"got method={method!r}"
            )
    return method, device


def convolve(
    x: ArrayLike, h: ArrayLike, mode: str = "full", method: str = "auto", *, device: Any = None
) -> np.ndarray:
    """Convolve two N-dimensional arrays, like ``scipy.signal.convolve``.

    .. math:: y[t] = \\sum_j x[j]\\, h[t - j]

    Parameters
    ----------
    x : array_like
        First input (the signal or image).
    h : array_like
        Second input (the kernel), with the same number of dimensions as ``x``.
    mode : {'full', 'same', 'valid'}, default 'full'
        ``'full'``: the whole linear convolution, ``n + k - 1`` samples per axis.
        ``'same'``: the size of ``x``, centred on the full output (starting at
        ``(k - 1) // 2``), even if ``h`` is the larger input.
        ``'valid'``: only the ``|n - k| + 1`` samples computed without zero
        padding; one input must be at least as large as the other in every
        dimension (they are swapped if ``h`` is the larger one).
    method : {'auto', 'direct', 'vectorized', 'fft', 'torch'}, default 'auto'
        ``'direct'``: shift-and-add over the kernel taps (exact on integers).
        ``'vectorized'``: sliding windows and a matrix product (im2col).
        ``'fft'``: product of spectra, overlap-add for long 1-D signals.
        ``'torch'``: PyTorch's convolution on ``device`` (1- to 3-D).
        ``'auto'``: the fastest NumPy method for these shapes
        (see :func:`convlib.choose_method`), or torch if ``device`` is given.
    device : None, str or torch.device, optional, keyword-only
        ``None`` computes with NumPy on the CPU. ``'cpu'``, ``'cuda'``,
        ``'cuda:1'``, ... run the torch method there (float64 data stay
        float64, TF32 is off); the result comes back as a NumPy array.

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(x, h)``: integer inputs give
        integer outputs (rounded from the floating-point result for the
        'fft' and 'torch' methods), float32 stays float32, long double stays
        long double (except with 'torch', which computes in float64). float16
        results are added up in float32 and rounded once, as scipy does. Two
        0-d inputs give their product.

    Raises
    ------
    ValueError
        Unknown ``mode`` or ``method``, empty input, different numbers of
        dimensions, 'valid' with neither input at least as large as the other,
        ``device`` with a NumPy method, or a CUDA device that is not available.
    TypeError
        Non-numeric input (strings, objects).

    See Also
    --------
    correlate : the same sums without flipping ``h``.
    fftconvolve : always by FFT, with an ``axes`` argument.
    numpy.convolve : 1-D only; its 'same' mode follows the *longer* input.

    Notes
    -----
    The FFT method spreads a NaN or infinity to every output sample; the
    direct method spoils only the outputs whose window contains it.

    Examples
    --------
    >>> import numpy as np
    >>> convolve([3, 4, 5], [2, 1])
    array([ 6, 11, 14,  5])
    >>> convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="same")
    array([1. , 2.5, 4. ])
    >>> convolve([1, 2, 3], [1, 1, 1, 1, 1], mode="same")   # centred on x, not the longer input
    array([6, 6, 6])
    >>> convolve(np.eye(3), np.ones((2, 2)), "valid", "direct")   # scipy's positional order
    array([[2., 1.],
           [1., 2.]])
    """
    x = as_numeric_array(x, "x")
    h = as_numeric_array(h, "h")
    mode = check_mode(mode)
    method, device = _check_method_device(method, device)
    if x.ndim == h.ndim == 0:
        return x * h
    check_same_ndim(x, h)
    if valid_swap_needed(mode, x.shape, h.shape):
        x, h = h, x
    return _run(x, h, mode, method, device)


def _reverse_conj(h: np.ndarray) -> np.ndarray:
    """``h`` reversed along every axis and complex-conjugated (a view when real)."""
    reversed_h = h[(slice(None, None, -1),) * h.ndim]
    return np.conj(reversed_h) if h.dtype.kind == "c" else reversed_h


def correlate(
    x: ArrayLike, h: ArrayLike, mode: str = "full", method: str = "auto", *, device: Any = None
) -> np.ndarray:
    """Cross-correlate two N-dimensional arrays, like ``scipy.signal.correlate``.

    .. math:: z[t] = \\sum_j x[j]\\, \\overline{h[j - t]}

    i.e. the convolution of ``x`` with ``h`` reversed and complex-conjugated.
    In the 'full' output, lag ``-(k - 1)`` comes first and lag ``n - 1`` last.

    Parameters
    ----------
    x : array_like
        First input.
    h : array_like
        Second input (the template), same number of dimensions.
    mode : {'full', 'same', 'valid'}, default 'full'
        As in :func:`convolve`.
    method : {'auto', 'direct', 'vectorized', 'fft', 'torch'}, default 'auto'
        As in :func:`convolve`.
    device : None, str or torch.device, optional
        As in :func:`convolve`.

    Returns
    -------
    ndarray
        The cross-correlation, dtype ``np.result_type(x, h)``.

    Raises
    ------
    ValueError, TypeError
        For the same bad inputs as :func:`convolve`.

    Examples
    --------
    >>> correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> correlate([1j, 2], [1j])     # the second input is conjugated
    array([1.+0.j, 0.-2.j])
    """
    x = as_numeric_array(x, "x")
    h = as_numeric_array(h, "h")
    mode = check_mode(mode)
    method, device = _check_method_device(method, device)
    if x.ndim == h.ndim == 0:
        return x * np.conj(h) if h.dtype.kind == "c" else x * h
    check_same_ndim(x, h)
    h = _reverse_conj(h)
    if valid_swap_needed(mode, x.shape, h.shape):
        x, h = h, x
    return _run(x, h, mode, method, device)


def fftconvolve(
    x: ArrayLike, h: ArrayLike, mode: str = "full", axes: int | Sequence[int] | None = None
) -> np.ndarray:
    """Convolve two N-dimensional arrays using the FFT, like ``scipy.signal.fftconvolve``.

    Parameters
    ----------
    x : array_like
        First input.
    h : array_like
        Second input, with the same number of dimensions as ``x``.
    mode : {'full', 'same', 'valid'}, default 'full'
        ``'full'``: the whole linear convolution; ``'same'``: the size of ``x``,
        centred on the full output; ``'valid'``: only the samples computed
        without zero padding (one input must be at least as large as the other
        along every convolved axis).
    axes : int or sequence of int, optional
        Axes to convolve over (default: all). Along the other axes the two
        inputs must have equal lengths or length 1, and are broadcast against
        each other (multiplied element by element).

    Returns
    -------
    ndarray
        The convolution, never integer: real inputs give a real output
        (float32 for float16/float32 inputs, long double for long double,
        float64 otherwise), complex inputs a complex one. An empty input gives
        ``np.array([])``, as in scipy.

    Raises
    ------
    ValueError
        For an unknown ``mode``, mismatched dimensionality, ``axes`` that are
        not integers, out of range or repeated, incompatible shapes along the
        other axes, or a 'valid' request where neither input is at least as
        large as the other.
    TypeError
        If an input is not numeric.

    See Also
    --------
    convolve : chooses the fastest method itself and keeps integer dtypes.

    Notes
    -----
    NaN or infinity anywhere in an input spreads to every output sample.

    Examples
    --------
    >>> import numpy as np
    >>> fftconvolve([1, 2, 3], [1, 0.5]).round(12)
    array([1. , 2.5, 4. , 1.5])
    >>> fftconvolve(np.ones((2, 3)), np.ones((1, 2)), "full", 1).round(12)
    array([[1., 2., 2., 1.],
           [1., 2., 2., 1.]])
    >>> fftconvolve([], [1.0])
    array([], dtype=float64)
    """
    x = as_numeric_array(x, "x", allow_empty=True)
    h = as_numeric_array(h, "h", allow_empty=True)
    mode = check_mode(mode)
    if x.ndim == h.ndim == 0:
        return x * h
    check_same_ndim(x, h)
    if x.size == 0 or h.size == 0:
        return np.array([])  # scipy's answer for empty input
    axes_list = normalize_axes(axes, x.ndim)
    # axes where one input has length 1 need no transform: broadcasting does it
    axes_list = [a for a in axes_list if x.shape[a] != 1 and h.shape[a] != 1]
    for a in range(x.ndim):
        if a not in axes_list and not (x.shape[a] == h.shape[a] or 1 in (x.shape[a], h.shape[a])):
            raise ValueError(
                f"x and h must have equal lengths (or length 1) along axes not convolved; "
                f"got x.shape={x.shape} and h.shape={h.shape} (axis {a})"
            )
    shape_x = x.shape
    if valid_swap_needed(mode, x.shape, h.shape, axes=axes_list):
        x, h = h, x
    full = fft_full(x, h, axes_list)
    if not axes_list:  # a plain product: still the FFT's floating dtype
        full = full.astype(spectral_dtype(x.dtype, h.dtype), copy=False)
    if mode == "full":
        return full
    if mode == "same":
        target = shape_x
    else:  # valid
        target = tuple(
            x.shape[a] - h.shape[a] + 1 if a in axes_list else full.shape[a] for a in range(full.ndim)
        )
    starts = [(current - wanted) // 2 for current, wanted in zip(full.shape, target)]
    return full[tuple(slice(s, s + t) for s, t in zip(starts, target))].copy()


def _check_2d(image: np.ndarray, kernel: np.ndarray, name: str) -> None:
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"{name} needs 2-D image and kernel; got image.ndim={image.ndim} and kernel.ndim={kernel.ndim}"
        )
    for array, label in ((image, "image"), (kernel, "kernel")):
        if array.dtype.kind == "b":
            raise TypeError(
                f"{name} does not accept a bool {label} (scipy.signal.{name} refuses it too); "
                f"got {label}.dtype=bool: convert it, e.g. {label}.astype(int)"
            )


def _fill_scalar(fillvalue: Any, dtype: np.dtype) -> Any:
    """``fillvalue`` as a scalar of the output dtype (scipy's rules and errors)."""
    value = np.asarray(fillvalue)
    if value.size != 1:
        raise ValueError(f"fillvalue must be a scalar (or an array with one element); got shape {value.shape}")
    if value.dtype.kind not in "buifc":
        raise TypeError(f"fillvalue must be a number; got {value.dtype}")
    if value.dtype.kind == "c" and dtype.kind != "c":
        raise ValueError(
            f"fillvalue must be real when the output dtype is real ({dtype}); got {fillvalue!r}: "
            "pass a real fillvalue or complex data"
        )
    return value.reshape(()).astype(dtype)


#: ``convolve2d`` inputs whose boundary-extended image has more elements than this are
#: convolved in blocks of rows, each extended on the fly (no extended copy of the image).
BLOCKED_2D_ELEMENTS = 1 << 22

#: Extended-image elements per block of rows.
BLOCK_2D_ELEMENTS = 1 << 18


def _extension_index(n: int, before: int, after: int, boundary: str) -> np.ndarray:
    """Index into an axis of length ``n`` extended by the boundary rule (-1: the fill value)."""
    index = np.arange(n)
    if boundary == "fill":
        return np.pad(index, (before, after), constant_values=-1)
    return np.pad(index, (before, after), mode=PAD_MODES[boundary])


def _extended_blocks(
    image: np.ndarray, kernel: np.ndarray, dtype: np.dtype, fill: Any, boundary: str,
    top: int, left: int, out_shape: tuple[int, int], method: str,
) -> np.ndarray:
    """'valid' convolution of the boundary-extended image, computed block by block of rows.

    Output ``(i, j)`` is the 'valid' convolution of ``kernel`` with the extended
    image at rows ``top + i ...``, columns ``left + j ...``; every block of
    output rows extends only the image rows it needs, so the memory used is the
    output plus one block (scipy's convolve2d needs the output alone).
    """
    kh, kw = kernel.shape
    rows, cols = image.shape
    out_rows, out_cols = out_shape
    row_index = _extension_index(rows, kh - 1, kh - 1, boundary)[top : top + out_rows + kh - 1]
    col_index = _extension_index(cols, kw - 1, kw - 1, boundary)[left : left + out_cols + kw - 1]
    col_fill = col_index < 0
    col_take = np.where(col_fill, 0, col_index)
    out = np.empty(out_shape, dtype=dtype)
    block = max(4 * kh, BLOCK_2D_ELEMENTS // col_index.size)
    convolve_block = convolve_direct_fast if method == "direct" else ALGORITHMS[method]
    for first in range(0, out_rows, block):
        count = min(block, out_rows - first)
        needed = row_index[first : first + count + kh - 1]
        row_fill = needed < 0
        slab = image.take(np.where(row_fill, 0, needed), axis=0).take(col_take, axis=1)
        slab = slab.astype(dtype, copy=False)
        if fill is not None:
            slab[row_fill] = fill
            slab[:, col_fill] = fill
        out[first : first + count] = convolve_block(slab, kernel, "valid")
    return out


def _convolve2d(image, kernel, mode, boundary, fillvalue, *, name: str, flip: bool) -> np.ndarray:
    image = as_numeric_array(image, "image")
    kernel = as_numeric_array(kernel, "kernel")
    mode = check_mode(mode)
    boundary = check_boundary(boundary)
    _check_2d(image, kernel, name)
    if mode == "valid":  # no boundary involved: swap like convolve
        if valid_swap_needed(mode, image.shape, kernel.shape, names=("image", "kernel")):
            image, kernel = kernel, image
            if not flip:
                # scipy's correlate2d correlates the swapped pair and flips the result back
                return convolve(image, _reverse_conj(kernel), "valid")[::-1, ::-1]
        return convolve(image, kernel if flip else _reverse_conj(kernel), "valid")
    if not flip:
        kernel = _reverse_conj(kernel)
    dtype = np.result_type(image, kernel)
    fill = _fill_scalar(fillvalue, dtype) if boundary == "fill" else None
    kh, kw = kernel.shape
    rows, cols = image.shape
    # The image extended by k - 1 on each side by the boundary rule: its 'valid' convolution is
    # the 'full' output, of which 'same' keeps a centred part. convolve2d centres at (k - 1) // 2
    # like convolve; correlate2d at k // 2 (scipy's documented 1-sample offset for even kernels),
    # because it centres the unflipped kernel.
    if mode == "same":
        top, left = ((kh - 1) // 2, (kw - 1) // 2) if flip else (kh // 2, kw // 2)
        out_shape = (rows, cols)
    else:
        top, left, out_shape = 0, 0, (rows + kh - 1, cols + kw - 1)
    extended_shape = (out_shape[0] + kh - 1, out_shape[1] + kw - 1)
    if math.prod(extended_shape) > BLOCKED_2D_ELEMENTS:
        # Large: choose the method by the cost model, and unless it is the FFT (which needs
        # the whole extended image), extend and convolve block by block of rows.
        costs = estimate_seconds(extended_shape, kernel.shape, "valid", threads=1)
        if dtype.kind in "iu" and not fft_is_exact(image, kernel, fill):
            costs.pop("fft")
        method = min(costs, key=costs.__getitem__)
        if method != "fft":
            return _extended_blocks(image, kernel, dtype, fill, boundary, top, left, out_shape, method)
    pad = ((kh - 1, kh - 1), (kw - 1, kw - 1))
    if boundary == "fill":
        extended = np.pad(image.astype(dtype, copy=False), pad, constant_values=fill)
    else:
        extended = np.pad(image.astype(dtype, copy=False), pad, mode=PAD_MODES[boundary])
    extended = extended[top : top + extended_shape[0], left : left + extended_shape[1]]
    return convolve(extended, kernel, "valid")


def convolve2d(
    image: ArrayLike, kernel: ArrayLike, mode: str = "full", boundary: str = "fill", fillvalue: Any = 0
) -> np.ndarray:
    """Convolve two 2-D arrays with a boundary rule, like ``scipy.signal.convolve2d``.

    Parameters
    ----------
    image : array_like of shape (rows, cols)
        The image.
    kernel : array_like of shape (kh, kw)
        The kernel.
    mode : {'full', 'same', 'valid'}, default 'full'
        As in :func:`convolve`; 'valid' ignores ``boundary``.
    boundary : {'fill', 'wrap', 'symm'}, default 'fill'
        How the image continues beyond its edges: ``'fill'`` with
        ``fillvalue``, ``'wrap'`` periodically (alias ``'circular'``),
        ``'symm'`` mirrored with the edge sample repeated (alias ``'symmetric'``).
    fillvalue : scalar, default 0
        The value outside the image for ``boundary='fill'``, cast to the output
        dtype (it must not be complex if the output is real).

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(image, kernel)``.

    Raises
    ------
    ValueError
        Unknown ``mode`` or ``boundary``, inputs that are not 2-D, empty input,
        a non-scalar or mismatched complex ``fillvalue``, or 'valid' with neither
        input at least as large as the other.
    TypeError
        Non-numeric or bool input.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(9).reshape(3, 3)
    >>> convolve2d(image, [[0, 0], [0, 1]], mode="same")           # a shift by one sample
    array([[0, 0, 0],
           [0, 0, 1],
           [0, 3, 4]])
    >>> convolve2d(image, [[1, 1]], "same", "wrap")        # scipy's positional order
    array([[ 2,  1,  3],
           [ 8,  7,  9],
           [14, 13, 15]])
    """
    return _convolve2d(image, kernel, mode, boundary, fillvalue, name="convolve2d", flip=True)


def correlate2d(
    image: ArrayLike, kernel: ArrayLike, mode: str = "full", boundary: str = "fill", fillvalue: Any = 0
) -> np.ndarray:
    """Cross-correlate two 2-D arrays with a boundary rule, like ``scipy.signal.correlate2d``.

    Parameters
    ----------
    image : array_like of shape (rows, cols)
        The image.
    kernel : array_like of shape (kh, kw)
        The template (complex-conjugated, not flipped).
    mode : {'full', 'same', 'valid'}, default 'full'
        As in :func:`correlate`; but see the Notes for 'same' with even kernels.
    boundary : {'fill', 'wrap', 'symm'}, default 'fill'
        As in :func:`convolve2d`.
    fillvalue : scalar, default 0
        As in :func:`convolve2d`.

    Returns
    -------
    ndarray
        The cross-correlation, dtype ``np.result_type(image, kernel)``.

    Raises
    ------
    ValueError, TypeError
        For the same bad inputs as :func:`convolve2d`.

    Notes
    -----
    Like scipy, in 'same' mode with an even kernel dimension the output of
    ``correlate2d`` is shifted by one sample relative to :func:`correlate`:
    the window starts ``k // 2`` samples into the full output, not
    ``(k - 1) // 2``. In 'valid' mode with a kernel larger than the image,
    scipy swaps the operands without conjugating again, so for complex data
    the result is conjugated relative to :func:`correlate`; convlib does the same.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(9).reshape(3, 3)
    >>> correlate2d(image, [[1, 1]], mode="same")       # sums image[i, j] + image[i, j + 1]
    array([[ 1,  3,  2],
           [ 7,  9,  5],
           [13, 15,  8]])
    >>> correlate(image, [[1, 1]], mode="same")         # the N-D function is centred differently
    array([[ 0,  1,  3],
           [ 3,  7,  9],
           [ 6, 13, 15]])
    """
    return _convolve2d(image, kernel, mode, boundary, fillvalue, name="correlate2d", flip=False)
