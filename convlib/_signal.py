"""Convolution and correlation with scipy.signal's semantics, several algorithms.

The public functions here check their arguments once, apply scipy.signal's
rules (operand swap in 'valid' mode, 'same' centred on the first input,
conjugation in correlation, dtype of the result) and hand checked arrays to one
of the methods:

========== ======================================== =========================
method     algorithm                                module
========== ======================================== =========================
direct     shift-and-add over the kernel taps       :mod:`convlib._direct`
vectorized sliding windows + one matrix product     :mod:`convlib._vectorized`
fft        product of spectra (overlap-add in 1-D)  :mod:`convlib._fft`
torch      ``torch.nn.functional.conv{1,2,3}d``     :mod:`convlib._torch`
auto       the fastest, by a measured cost model    :mod:`convlib._auto`
========== ======================================== =========================
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from convlib._auto import _choose
from convlib._direct import convolve_direct
from convlib._fft import convolve_fft
from convlib._validation import (
    as_numeric_array,
    check_boundary,
    check_device,
    check_method,
    check_mode,
    check_same_ndim,
    mode_window,
    valid_swap_needed,
)
from convlib._vectorized import convolve_vectorized

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d"]


def _convolve_torch(x: np.ndarray, h: np.ndarray, mode: str, device: Any) -> np.ndarray:
    from convlib._torch import convolve_torch  # torch is imported only when asked for

    return convolve_torch(x, h, mode, device=device)


def _numpy_convolve_1d(x: np.ndarray, h: np.ndarray, mode: str) -> np.ndarray:
    """1-D direct sums by ``numpy.convolve`` (what ``auto`` runs for 'direct' in 1-D)."""
    if mode == "same" and h.shape[0] > x.shape[0]:
        # numpy's 'same' keeps the longer operand's length; scipy's keeps x's
        ((start, length),) = mode_window(x.shape, h.shape, mode)
        return np.convolve(x, h)[start : start + length]
    return np.convolve(x, h, mode)


def _run(x: np.ndarray, h: np.ndarray, mode: str, method: str, device: Any) -> np.ndarray:
    """Convolve checked arrays (same ndim >= 1, 'valid' operands already ordered)."""
    if method == "auto":
        if device is not None:
            return _convolve_torch(x, h, mode, device)
        method = _choose(x, h, mode)
        if method == "direct" and x.ndim == 1:
            return _numpy_convolve_1d(x, h, mode)
    if method == "direct":
        return convolve_direct(x, h, mode)
    if method == "fft":
        return convolve_fft(x, h, mode)
    if method == "vectorized":
        return convolve_vectorized(x, h, mode)
    return _convolve_torch(x, h, mode, device)


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
    x: ArrayLike, h: ArrayLike, mode: str = "full", *, method: str = "auto", device: Any = None
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
    device : None, str or torch.device, optional
        ``None`` computes with NumPy on the CPU. ``'cpu'``, ``'cuda'``,
        ``'cuda:1'``, ... run the torch method there (float64 data stay
        float64, TF32 is off); the result comes back as a NumPy array.

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(x, h)``: integer inputs give
        integer outputs (rounded from the floating-point result for the
        'fft' and 'torch' methods), float32 stays float32. Two 0-d inputs give
        their product.

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
    >>> convolve(np.eye(3), np.ones((2, 2)), mode="valid", method="direct")
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
    x: ArrayLike, h: ArrayLike, mode: str = "full", *, method: str = "auto", device: Any = None
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


def _check_2d(image: np.ndarray, kernel: np.ndarray, name: str) -> None:
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            f"{name} needs 2-D image and kernel; got image.ndim={image.ndim} and kernel.ndim={kernel.ndim}"
        )
    for array, label in ((image, "image"), (kernel, "kernel")):
        if array.dtype.kind == "b":
            raise TypeError(
                f"{name} does not accept a bool {label} (scipy.signal.{name} refuses it too); "
                f"convert it, e.g. {label}.astype(int)"
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
            f"fillvalue={fillvalue!r} is complex but the output dtype {dtype} is real; "
            "pass a real fillvalue or complex data"
        )
    return value.reshape(()).astype(dtype)


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
    kh, kw = kernel.shape
    # Extend the image by k - 1 on each side by the boundary rule; the 'valid' convolution of the
    # extended image is then the 'full' output, of which 'same' keeps a centred part.
    pad = ((kh - 1, kh - 1), (kw - 1, kw - 1))
    if boundary == "fill":
        extended = np.pad(image.astype(dtype, copy=False), pad, constant_values=_fill_scalar(fillvalue, dtype))
    else:
        extended = np.pad(image.astype(dtype, copy=False), pad, mode="wrap" if boundary == "wrap" else "symmetric")
    if mode == "same":
        # convolve2d centres at (k - 1) // 2 like convolve; correlate2d at k // 2 (scipy's documented
        # 1-sample offset for even kernels), because it centres the unflipped kernel.
        top, left = ((kh - 1) // 2, (kw - 1) // 2) if flip else (kh // 2, kw // 2)
        rows, cols = image.shape
        extended = extended[top : top + rows + kh - 1, left : left + cols + kw - 1]
    return convolve(extended, kernel, "valid")


def convolve2d(
    image: ArrayLike, kernel: ArrayLike, mode: str = "full", *, boundary: str = "fill", fillvalue: Any = 0
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
    >>> convolve2d(image, [[1, 1]], mode="same", boundary="wrap")
    array([[ 2,  1,  3],
           [ 8,  7,  9],
           [14, 13, 15]])
    """
    return _convolve2d(image, kernel, mode, boundary, fillvalue, name="convolve2d", flip=True)


def correlate2d(
    image: ArrayLike, kernel: ArrayLike, mode: str = "full", *, boundary: str = "fill", fillvalue: Any = 0
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
