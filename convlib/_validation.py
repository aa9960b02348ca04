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

import operator

import numpy as np

__all__ = [
    "MODES",
    "BOUNDARIES",
    "PAD_MODES",
    "choice",
    "check_mode",
    "check_boundary",
    "pad_mode",
    "check_device",
    "as_int",
    "as_numeric_array",
    "check_same_ndim",
    "valid_swap_needed",
    "as_int_tuple",
]

#: Output sizes understood by the scipy.signal-style functions.
MODES = ("full", "same", "valid")

#: Boundary names accepted by ``convolve2d`` (scipy's aliases included) -> canonical name.
BOUNDARIES = {
    "fill": "fill",
    "wrap": "wrap",
    "circular": "wrap",
    "symm": "symm",
    "symmetric": "symm",
}

#: Canonical boundary name -> the ``numpy.pad`` mode that extends an array the same way.
PAD_MODES = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}

# dtype kinds convlib computes with: bool, signed/unsigned integer, float, complex
_NUMERIC_KINDS = "buifc"


def choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices``, else raise naming ``name``.

    Examples
    --------
    >>> choice("fft", "method", ("direct", "fft"))
    'fft'
    >>> choice("gpu", "method", ("direct", "fft"))
    Traceback (most recent call last):
    ...
    ValueError: method must be one of 'direct', 'fft'; got 'gpu'
    """
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
    return choice(mode, "mode", MODES)


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
    return BOUNDARIES[choice(boundary, "boundary", tuple(BOUNDARIES))]


def pad_mode(boundary: Any) -> str:
    """The ``numpy.pad`` mode that extends an array like ``convolve2d``'s ``boundary`` rule.

    The one home of this correspondence: ``'fill'`` is ``'constant'`` (with
    the fill value), ``'wrap'`` is ``'wrap'``, ``'symm'`` (the edge sample
    repeated in the mirror image) is ``'symmetric'``, not ``'reflect'``.

    Parameters
    ----------
    boundary : str
        A boundary rule or one of scipy's aliases (see :func:`check_boundary`).

    Returns
    -------
    str
        ``'constant'``, ``'wrap'`` or ``'symmetric'``.

    Raises
    ------
    ValueError, TypeError
        As :func:`check_boundary`.

    Examples
    --------
    >>> import numpy as np
    >>> pad_mode("symm")
    'symmetric'
    >>> np.pad([1, 2, 3], 2, mode=pad_mode("circular"))
    array([2, 3, 1, 2, 3, 1, 2])
    """
    return PAD_MODES[check_boundary(boundary)]


def as_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` (the one integer check of convlib).

    Parameters
    ----------
    value : int-like
        Anything ``operator.index`` accepts (Python and NumPy integers); bools
        are refused.
    name : str
        The argument's name, for messages.
    minimum : int, optional
        Smallest accepted value: 1 for "positive", 0 for "non-negative".

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (or is a bool).
    ValueError
        If ``value`` is below ``minimum``.

    Examples
    --------
    >>> as_int(3, "n", minimum=1)
    3
    >>> as_int(0, "n", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: n must be a positive integer; got 0
    >>> as_int(2.5, "n")
    Traceback (most recent call last):
    ...
    TypeError: n must be an integer; got float (2.5)
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer; got a bool ({value!r})")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} ({value!r})") from None
    if minimum is not None and result < minimum:
        bound = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {bound}; got {result}")
    return result


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
    return tuple(as_int(v, name, minimum=minimum) for v in values)
