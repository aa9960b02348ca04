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

__all__ = ["Mismatch", "compare", "distinct_texts", "find_mismatch", "format_value", "value_code"]


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


def distinct_texts(expected: Any, actual: Any) -> tuple[str, str]:
    """Two numbers as text, with just enough significant digits to tell them apart.

    Examples
    --------
    >>> distinct_texts(0.07437451, 0.07437452)
    ('0.07437451', '0.07437452')
    >>> distinct_texts(2.0, 2.5)
    ('2.0', '2.5')
    """
    def text(value: Any, digits: int) -> str:
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, complex):
            return f"({text(value.real, digits)}{'+' if value.imag >= 0 else '-'}{text(abs(value.imag), digits)}j)"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return repr(value)
        return f"{value:.{digits}g}" if isinstance(value, float) else repr(value)

    for digits in range(6, 18):
        pair = text(expected, digits), text(actual, digits)
        if pair[0] != pair[1]:
            return pair
    return text(expected, 17), text(actual, 17)


def _difference(expected: Any, actual: Any, rtol: float, atol: float) -> str:
    """The absolute and relative difference of two numbers, against the tolerance."""
    with np.errstate(all="ignore"):
        absolute = float(abs(complex(actual) - complex(expected)))
        scale = float(abs(complex(expected)))
    if not np.isfinite(absolute):
        return "one of them is not a finite number"
    relative = f"{absolute / scale:.2g}" if scale else "inf"
    allowed = atol + rtol * scale
    return (f"difference {absolute:.2g}, relative {relative}; the tolerance allows "
            f"{atol:g} + {rtol:g} * |expected| = {allowed:.2g}")


_SINGLE = {np.dtype(np.float64): np.float32, np.dtype(np.complex128): np.complex64}


def _low_precision(expected: np.ndarray, actual: np.ndarray) -> str | None:
    """Why ``actual`` looks computed in single (or half) precision, if it does.

    Only when it is close to ``expected`` (relative error under 1e-3 of the largest
    value): a result that is far off has a real mistake, whatever its precision.
    """
    if expected.dtype not in _SINGLE or actual.dtype.kind not in "fc":
        return None
    with np.errstate(all="ignore"):
        error = np.max(np.abs(actual - expected)) / max(float(np.max(np.abs(expected))), 1e-300)
    if not error < 1e-3:
        return None
    if actual.dtype.itemsize < expected.dtype.itemsize:
        digits = np.finfo(actual.dtype).precision + 1
        return f"your result has dtype {actual.dtype}, which keeps about {digits} significant digits"
    if actual.dtype not in _SINGLE:
        return None
    with np.errstate(all="ignore"):
        representable = np.all(actual.astype(_SINGLE[actual.dtype]).astype(actual.dtype) == actual)
        exact_expected = np.all(expected.astype(_SINGLE[expected.dtype]).astype(expected.dtype) == expected)
    if representable and not exact_expected:
        return ("every value of your result is a float32 number (converted to float64 at the "
                "end): the computation ran in single precision")
    return None


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
    want, got = distinct_texts(expected[index], actual[index])
    text = (f"{int((~close).sum())} of {close.size} values differ; the first at index {where}: "
            f"expected {want}, got {got} ({_difference(expected[index], actual[index], rtol, atol)})")
    precision = _low_precision(expected, actual)
    if precision is not None:
        return Mismatch("computed in float32", f"{text}; {precision}")
    return Mismatch("wrong values", text)


def find_mismatch(expected: Any, actual: Any, *, rtol: float = 1e-7, atol: float = 1e-9,
                  names: tuple[str, ...] = ()) -> Mismatch | None:
    """How ``actual`` differs from ``expected``, or ``None`` when it matches.

    Parameters
    ----------
    expected : plain data
        The reference's result.
    actual : plain data
        The result under test.
    rtol, atol : float
        Tolerances as in :func:`numpy.isclose`.
    names : tuple of str, optional
        The names of the results when ``expected`` is a tuple (``("dx", "dw", "db")``),
        used in the sentence instead of "result 0", "result 1", ...

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
        named = len(names) == len(expected)
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            what = f" ({', '.join(names)})" if named else ""
            return Mismatch("wrong type", f"expected a tuple of {len(expected)} results{what}, "
                            f"got {_kind(actual)}")
        for position, (want, got) in enumerate(zip(expected, actual)):
            mismatch = find_mismatch(want, got, rtol=rtol, atol=atol)
            if mismatch is not None:
                name = names[position] if named else f"result {position}"
                return Mismatch(mismatch.label, f"{name}: {mismatch.text}")
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
    >>> compare(np.array([1.0, 2.0]), np.array([1.0, 2.5])).split(" (")[0]
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


def _code_items(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_code_items(item) for item in value) + "]"
    return _scalar_code(value)


def _scalar_code(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, complex):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else f"float('{value}')"
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return repr(value)


_DEFAULT_DTYPES = ("float64", "int64", "complex128", "bool")


def value_code(value: Any) -> str:
    """Python source that rebuilds ``value`` exactly (arrays as ``np.array([...])``).

    Used for examples a student can paste into a notebook cell: floats are written
    with every digit they need to round-trip, nothing is elided.

    Examples
    --------
    >>> value_code(np.array([1.0, 0.1 + 0.2]))
    'np.array([1.0, 0.30000000000000004])'
    >>> value_code(np.zeros((1, 2), dtype=np.float32))
    'np.array([[0.0, 0.0]], dtype=np.float32)'
    >>> value_code((2, "same"))
    '(2, "same")'
    """
    if isinstance(value, TensorData):
        options = f", dtype={value.dtype}"
        if value.device != "cpu":
            options += f', device="{value.device}"'
        return f"torch.tensor({_code_items(value.array.tolist())}{options})"
    if isinstance(value, np.ndarray):
        dtype = "" if value.dtype.name in _DEFAULT_DTYPES else f", dtype=np.{value.dtype.name}"
        return f"np.array({_code_items(value.tolist())}{dtype})"
    if isinstance(value, Opaque):
        return f"<{value.type_name}: {value.text}>"
    if isinstance(value, tuple):
        inner = ", ".join(value_code(item) for item in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, list):
        return "[" + ", ".join(value_code(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {value_code(item)}" for key, item in value.items()) + "}"
    return _scalar_code(value)
