"""Argument checks shared by all of convlib.

Every public function validates its arguments with these helpers, so a bad
argument gives the same kind of error with the same wording everywhere:
``ValueError`` for a bad value (unknown mode, empty array, wrong
dimensionality) and ``TypeError`` for a bad type (a string or object array),
always naming the argument and what was expected. The helpers never modify
their inputs.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convlib._shapes import _as_int

__all__ = [
    "MODES",
    "METHODS",
    "BOUNDARIES",
    "check_mode",
    "check_method",
    "check_boundary",
    "check_device",
    "as_numeric_array",
    "check_same_ndim",
    "valid_swap_needed",
    "as_int_tuple",
    "mode_window",
]

#: Output sizes understood by the scipy.signal-style functions.
MODES = ("full", "same", "valid")

#: Algorithms understood by :func:`convlib.convolve` and :func:`convlib.correlate`.
METHODS = ("auto", "direct", "vectorized", "fft", "torch")

#: Boundary names accepted by ``convolve2d`` (scipy's aliases included) -> canonical name.
BOUNDARIES = {
    "fill": "fill",
    "wrap": "wrap",
    "circular": "wrap",
    "symm": "symm",
    "symmetric": "symm",
}

# dtype kinds convlib computes with: bool, signed/unsigned integer, float, complex
_NUMERIC_KINDS = "buifc"


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name``."""
    if isinstance(value, str) and value in choices:
        return value
    options = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {options}; got {type(value).__name__} ({value!r})")
    raise ValueError(f"{name} must be one of {options}; got {value!r}")


def check_mode(mode: Any) -> str:
    """Return ``mode`` if it is ``'full'``, ``'same'`` or ``'valid'``.

    Parameters
    ----------
    mode : str
        The requested output size.

    Returns
    -------
    str
        ``mode`` unchanged.

    Raises
    ------
    ValueError
        If ``mode`` is a string but not one of the three modes.
    TypeError
        If ``mode`` is not a string.

    Examples
    --------
    >>> check_mode("same")
    'same'
    >>> check_mode("circular")
    Traceback (most recent call last):
    ...
    ValueError: mode must be one of 'full', 'same', 'valid'; got 'circular'
    """
    return _choice(mode, "mode", MODES)


def check_method(method: Any) -> str:
    """Return ``method`` if it names one of convlib's convolution algorithms.

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
    return _choice(method, "method", METHODS)


def check_boundary(boundary: Any) -> str:
    """Return the canonical name (``'fill'``, ``'wrap'`` or ``'symm'``) of a boundary rule.

    scipy's aliases ``'circular'`` (for ``'wrap'``) and ``'symmetric'`` (for
    ``'symm'``) are accepted too.

    Parameters
    ----------
    boundary : str
        How ``convolve2d`` extends the image beyond its edges.

    Returns
    -------
    str
        ``'fill'``, ``'wrap'`` or ``'symm'``.

    Raises
    ------
    ValueError
        If ``boundary`` is not a known rule.
    TypeError
        If ``boundary`` is not a string.

    Examples
    --------
    >>> check_boundary("circular")
    'wrap'
    >>> check_boundary("reflect")
    Traceback (most recent call last):
    ...
    ValueError: boundary must be one of 'fill', 'wrap', 'circular', 'symm', 'symmetric'; got 'reflect'
    """
    return BOUNDARIES[_choice(boundary, "boundary", tuple(BOUNDARIES))]


def check_device(device: Any) -> Any:
    """Check the *form* of a ``device`` argument without importing torch.

    Whether the device exists is checked later, by
    :func:`convlib._torch.resolve_device`, when torch is imported anyway.

    Parameters
    ----------
    device : None, str or torch.device
        ``None`` (compute with NumPy), ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ... or
        a ``torch.device``.

    Returns
    -------
    None, str or torch.device
        ``device`` unchanged (a string is stripped and lower-cased).

    Raises
    ------
    TypeError
        If ``device`` is neither ``None``, a string nor a ``torch.device``.
    ValueError
        If ``device`` is an empty string.

    Examples
    --------
    >>> check_device("CUDA:1")
    'cuda:1'
    >>> check_device(None) is None
    True
    >>> check_device(0)
    Traceback (most recent call last):
    ...
    TypeError: device must be None, a string such as 'cpu' or 'cuda:0', or a torch.device; got int (0)
    """
    if device is None:
        return None
    if isinstance(device, str):
        cleaned = device.strip().lower()
        if not cleaned:
            raise ValueError("device must be None, 'cpu', 'cuda' or 'cuda:<index>'; got an empty string")
        return cleaned
    if type(device).__name__ == "device" and hasattr(device, "type"):  # a torch.device
        return device
    raise TypeError(
        "device must be None, a string such as 'cpu' or 'cuda:0', or a torch.device; "
        f"got {type(device).__name__} ({device!r})"
    )


def as_numeric_array(value: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """Convert ``value`` to an ndarray of a numeric dtype (bool, integer, float, complex).

    The input is never copied unless NumPy must (a list becomes a new array;
    an ndarray is returned as is, so callers must not write into the result).

    Parameters
    ----------
    value : array_like
        The data.
    name : str
        The argument's name, used in error messages.
    allow_empty : bool, default False
        Whether an array with no elements is acceptable.

    Returns
    -------
    ndarray
        ``np.asarray(value)``.

    Raises
    ------
    TypeError
        If the data are not numeric (strings, objects, datetimes, ...).
    ValueError
        If the array is empty and ``allow_empty`` is false, or the data are
        ragged.

    Examples
    --------
    >>> as_numeric_array([1, 2, 3], "x")
    array([1, 2, 3])
    >>> as_numeric_array(["a", "b"], "x")
    Traceback (most recent call last):
    ...
    TypeError: x must hold numbers (bool, integer, float or complex); got dtype <U1
    >>> as_numeric_array([], "h")
    Traceback (most recent call last):
    ...
    ValueError: h must not be empty; got an array of shape (0,)
    """
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except ValueError as error:  # ragged nested sequences
            raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{name} must hold numbers (bool, integer, float or complex); got dtype {array.dtype}"
        )
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty; got an array of shape {array.shape}")
    return array


def check_same_ndim(first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("x", "h")) -> None:
    """Raise ``ValueError`` unless both arrays have the same number of dimensions.

    Parameters
    ----------
    first, second : ndarray
        The two operands.
    names : tuple of str, default ("x", "h")
        Their argument names, for the message.

    Raises
    ------
    ValueError
        If ``first.ndim != second.ndim``.

    Examples
    --------
    >>> import numpy as np
    >>> check_same_ndim(np.ones(3), np.ones((2, 2)))
    Traceback (most recent call last):
    ...
    ValueError: x and h must have the same number of dimensions; got x.ndim=1 and h.ndim=2
    """
    if first.ndim != second.ndim:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of dimensions; "
            f"got {names[0]}.ndim={first.ndim} and {names[1]}.ndim={second.ndim}"
        )


def valid_swap_needed(
    mode: str,
    shape1: tuple[int, ...],
    shape2: tuple[int, ...],
    *,
    axes: Sequence[int] | None = None,
    names: tuple[str, str] = ("x", "h"),
) -> bool:
    """Whether 'valid' mode must swap the operands (scipy's rule), or raise if neither fits.

    In 'valid' mode one operand must be at least as large as the other in every
    dimension (of ``axes``). If the second is the larger one, the operands are
    swapped (convolution is commutative).

    Parameters
    ----------
    mode : str
        The output mode; only ``'valid'`` can ask for a swap.
    shape1, shape2 : tuple of int
        Shapes of the first and second operand.
    axes : sequence of int, optional
        Axes to compare (default: all).
    names : tuple of str, default ("x", "h")
        Argument names, for the message.

    Returns
    -------
    bool
        True if the second operand is the larger one.

    Raises
    ------
    ValueError
        In 'valid' mode, if neither operand is at least as large as the other
        in every dimension.

    Examples
    --------
    >>> valid_swap_needed("valid", (3,), (5,))
    True
    >>> valid_swap_needed("valid", (3, 5), (5, 3))
    Traceback (most recent call last):
    ...
    ValueError: mode='valid' needs x or h to be at least as large as the other in every dimension; got x.shape=(3, 5) and h.shape=(5, 3)
    """
    if mode != "valid" or len(shape1) == 0:
        return False
    if axes is None:
        axes = range(len(shape1))
    first_fits = all(shape1[a] >= shape2[a] for a in axes)
    second_fits = all(shape2[a] >= shape1[a] for a in axes)
    if not (first_fits or second_fits):
        raise ValueError(
            f"mode='valid' needs {names[0]} or {names[1]} to be at least as large as the other "
            f"in every dimension; got {names[0]}.shape={tuple(shape1)} and {names[1]}.shape={tuple(shape2)}"
        )
    return not first_fits


def as_int_tuple(value: Any, name: str, *, length: int, minimum: int = 0) -> tuple[int, ...]:
    """Expand an int or a sequence of ints to a tuple of ``length`` ints, each ``>= minimum``.

    Used for per-axis arguments such as ``stride=2`` or ``padding=(1, 2)``.

    Parameters
    ----------
    value : int or sequence of int
        One value for every axis, or one per axis.
    name : str
        The argument's name, for messages.
    length : int
        Number of axes.
    minimum : int, default 0
        Smallest accepted value (1 means "positive").

    Returns
    -------
    tuple of int
        ``length`` integers.

    Raises
    ------
    TypeError
        If an entry is not an integer (bools are refused).
    ValueError
        If the sequence has the wrong length or an entry is below ``minimum``.

    Examples
    --------
    >>> as_int_tuple(2, "stride", length=2, minimum=1)
    (2, 2)
    >>> as_int_tuple((1, 0), "padding", length=2)
    (1, 0)
    >>> as_int_tuple((1, 2, 3), "stride", length=2, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: stride must be an int or a sequence of 2 ints; got 3 values: (1, 2, 3)
    """
    if isinstance(value, (list, tuple, np.ndarray)):
        values = tuple(value)
        if len(values) != length:
            raise ValueError(
                f"{name} must be an int or a sequence of {length} ints; got {len(values)} values: {value!r}"
            )
    else:
        values = (value,) * length
    return tuple(_as_int(v, name, minimum=minimum) for v in values)


def mode_window(
    shape1: tuple[int, ...], shape2: tuple[int, ...], mode: str
) -> tuple[tuple[int, int], ...]:
    """Where each mode's output lies inside the full convolution: ``(start, length)`` per axis.

    This is scipy.signal's rule, the one home of the 'same' centring and the
    'valid' size in convlib: the full convolution of shapes ``n`` and ``k`` has
    ``n + k - 1`` samples per axis; ``'same'`` keeps ``n`` of them starting at
    ``(k - 1) // 2`` (centred on the *first* input, whatever its size), and
    ``'valid'`` keeps the ``n - k + 1`` that need no zero padding, starting at
    ``k - 1`` (the caller swaps the operands first if the second is larger).

    Parameters
    ----------
    shape1, shape2 : tuple of int
        Shapes of the input and the kernel.
    mode : {'full', 'same', 'valid'}
        The output mode.

    Returns
    -------
    tuple of (int, int)
        ``(start, length)`` for every axis, in full-convolution coordinates.

    Examples
    --------
    >>> mode_window((5,), (3,), "same")
    ((1, 5),)
    >>> mode_window((5, 4), (2, 2), "valid")
    ((1, 4), (1, 3))
    >>> mode_window((3,), (5,), "same")    # the kernel is longer: still 3 samples
    ((2, 3),)
    """
    if mode == "full":
        return tuple((0, n + k - 1) for n, k in zip(shape1, shape2))
    if mode == "same":
        return tuple(((k - 1) // 2, n) for n, k in zip(shape1, shape2))
    if mode == "valid":
        return tuple((k - 1, n - k + 1) for n, k in zip(shape1, shape2))
    return mode_window(shape1, shape2, check_mode(mode))
