"""Comparing a student's result with the reference, and showing values in feedback.

Both sides are plain data (see :func:`convlib.grading._values.to_plain`): arrays,
numbers, tuples/lists, :class:`~convlib.grading._values.TensorData` and
:class:`~convlib.grading._values.Opaque`. The same code runs in the trusted grader
and in a student's notebook, so both say the same thing about the same output.
"""
from __future__ import annotations

from numbers import Number
from typing import Any, NamedTuple

import numpy as np

from ._values import Opaque, TensorData

__all__ = ["Mismatch", "compare", "find_mismatch", "format_value"]


class Mismatch(NamedTuple):
    """Why two results differ: a short ``label`` (for statistics) and a sentence."""

    label: str
    text: str


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, TensorData):
        return f"a torch tensor ({value.dtype} on {value.device})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _as_array(value: Any) -> np.ndarray | None:
    """``value`` as a numeric array, if it is array-like plain data (lists, numbers)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (Opaque, TensorData)) or value is None or isinstance(value, (str, dict)):
        return None
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return array if array.dtype.kind in "biufc" else None


def _compare_arrays(expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float) -> Mismatch | None:
    if actual.shape != expected.shape:
        return Mismatch("wrong output shape",
                        f"wrong output shape: expected {expected.shape}, got {actual.shape}")
    if expected.dtype.kind == "c" and actual.dtype.kind != "c" and np.any(expected.imag != 0):
        return Mismatch("imaginary part dropped",
                        "the result should be complex, but yours is real: the imaginary part was lost")
    if expected.size == 0:
        return None
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    where = index[0] if len(index) == 1 else index
    return Mismatch("wrong values",
                    f"{int((~close).sum())} of {close.size} values differ; the first at index "
                    f"{where}: expected {format_value(expected[index])}, got {format_value(actual[index])}")


def find_mismatch(expected: Any, actual: Any, *, rtol: float = 1e-7, atol: float = 1e-9) -> Mismatch | None:
    """How ``actual`` differs from ``expected``, or ``None`` when it matches.

    Parameters
    ----------
    expected : plain data
        The reference's result.
    actual : plain data
        The result under test.
    rtol, atol : float
        Tolerances as in :func:`numpy.isclose`.

    Returns
    -------
    Mismatch or None
        A label such as ``"wrong output shape"`` and a sentence for the feedback.

    Examples
    --------
    >>> find_mismatch(np.array([1.0, 2.0]), np.array([1.0, 2.0, 0.0])).label
    'wrong output shape'
    >>> find_mismatch(np.array([1.0, 2.0]), [1.0, 2.0]) is None
    True
    """
    if isinstance(expected, TensorData):
        if not isinstance(actual, TensorData):
            return Mismatch("wrong type", f"expected a torch tensor, got {_kind(actual)}")
        if actual.device.split(":")[0] != expected.device.split(":")[0]:
            return Mismatch("wrong device",
                            f"expected a tensor on {expected.device}, got one on {actual.device}")
        if actual.dtype != expected.dtype:
            return Mismatch("wrong dtype", f"expected dtype {expected.dtype}, got {actual.dtype}")
        return _compare_arrays(expected.array, actual.array, rtol, atol)
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return Mismatch("wrong type", f"expected a tuple of {len(expected)} results, got {_kind(actual)}")
        for position, (want, got) in enumerate(zip(expected, actual)):
            mismatch = find_mismatch(want, got, rtol=rtol, atol=atol)
            if mismatch is not None:
                return Mismatch(mismatch.label, f"result {position}: {mismatch.text}")
        return None
    if actual is None and expected is not None:
        return Mismatch("returned None", "the function returned None: is a `return` missing?")
    if isinstance(expected, np.ndarray):
        array = _as_array(actual)
        if array is None:
            return Mismatch("wrong type", f"expected an array, got {_kind(actual)}")
        return _compare_arrays(expected, array, rtol, atol)
    if isinstance(expected, (bool, int)) and not isinstance(expected, float):
        if isinstance(actual, bool) != isinstance(expected, bool) or not isinstance(actual, int):
            return Mismatch("wrong type", f"expected an int ({expected!r}), got {_kind(actual)} ({format_value(actual)})")
        return None if actual == expected else Mismatch("wrong values", f"expected {expected!r}, got {actual!r}")
    if isinstance(expected, Number):
        if not isinstance(actual, Number) or isinstance(actual, bool):
            return Mismatch("wrong type", f"expected a number, got {_kind(actual)}")
        return _compare_arrays(np.asarray(expected), np.asarray(actual), rtol, atol)
    if actual == expected:
        return None
    return Mismatch("wrong values", f"expected {format_value(expected)}, got {format_value(actual)}")


def compare(expected: Any, actual: Any, *, rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    """``None`` when ``actual`` matches ``expected``, else the problem in one sentence.

    Parameters
    ----------
    expected, actual : plain data
        Arrays, numbers, tuples of them, or tensors as
        :class:`~convlib.grading._values.TensorData`.
    rtol, atol : float
        Tolerances as in :func:`numpy.isclose`.

    Returns
    -------
    str or None

    Examples
    --------
    >>> compare(np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    '1 of 2 values differ; the first at index 1: expected 2.0, got 2.5'
    """
    mismatch = find_mismatch(expected, actual, rtol=rtol, atol=atol)
    return None if mismatch is None else mismatch.text


def format_value(value: Any, *, max_chars: int = 400) -> str:
    """A short, readable text for a value shown in feedback.

    Examples
    --------
    >>> format_value(np.array([1.0, 2.5, -3.0]))
    '[ 1.   2.5 -3. ]'
    >>> format_value((1, 'same'))
    "(1, 'same')"
    """
    if isinstance(value, TensorData):
        text = f"tensor({format_value(value.array)}, dtype={value.dtype}, device={value.device})"
    elif isinstance(value, Opaque):
        text = f"<{value.type_name}: {value.text}>"
    elif isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, threshold=60, edgeitems=4,
                               max_line_width=100)
    elif isinstance(value, np.generic):
        text = format_value(value.item())
    elif isinstance(value, float):
        text = repr(value) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    elif isinstance(value, complex):
        text = f"{value:.4g}"
    elif isinstance(value, tuple):
        inner = ", ".join(format_value(item) for item in value)
        text = f"({inner}{',' if len(value) == 1 else ''})"
    elif isinstance(value, list):
        text = "[" + ", ".join(format_value(item) for item in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."
