"""How the homework specs draw their checks' inputs: one home for all four ``hwN`` modules.

Visible cases use small integer-valued floats from a fixed, public generator (the
student sees them, and reads them easily in feedback); hidden cases draw from the
generator the grader passes, seeded from the instructor's secret, or, without one,
from another fixed generator.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["floats", "hidden_rng", "normal", "public_rng", "small_ints"]

_BASE = 20_260_000  # public seeds: _BASE + 100 * homework number + stream


def public_rng(homework: int, stream: int) -> np.random.Generator:
    """The fixed generator of one homework's visible inputs (stream ``stream``).

    Parameters
    ----------
    homework : int
        The homework's number (2 for hw2).
    stream : int
        Which of its streams (one per graded function).

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> bool(public_rng(2, 1).integers(10) == public_rng(2, 1).integers(10))
    True
    """
    return np.random.default_rng(_BASE + 100 * homework + stream)


def hidden_rng(rng: np.random.Generator | None, homework: int, stream: int) -> np.random.Generator:
    """The generator for hidden inputs: the grader's, or without one a fixed public one.

    Parameters
    ----------
    rng : numpy.random.Generator or None
        The generator the grader passes (seeded from the instructor's secret).
    homework, stream : int
        As in :func:`public_rng`; the fallback is ``public_rng(homework, 100 + stream)``.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> mine = np.random.default_rng(0)
    >>> hidden_rng(mine, 2, 1) is mine
    True
    """
    return rng if rng is not None else public_rng(homework, 100 + stream)


def small_ints(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Integer-valued floats from -3 to 3: easy to read in feedback and exact in any sum.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : int or tuple of int

    Returns
    -------
    ndarray of float64

    Examples
    --------
    >>> small_ints(np.random.default_rng(0), 4)
    array([ 2.,  1.,  0., -2.])
    """
    return rng.integers(-3, 4, size=shape).astype(float)


def normal(rng: np.random.Generator, shape: int | tuple[int, ...], *,
           complex_: bool = False) -> np.ndarray:
    """Standard normal values (real and imaginary parts independent when ``complex_``).

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : int or tuple of int
    complex_ : bool, default False

    Returns
    -------
    ndarray of float64 or complex128

    Examples
    --------
    >>> normal(np.random.default_rng(0), (2, 3), complex_=True).dtype
    dtype('complex128')
    """
    values = rng.standard_normal(shape)
    if complex_:
        values = values + 1j * rng.standard_normal(shape)
    return values


def floats(values: Any) -> np.ndarray:
    """Literal values of a visible case as a float64 array.

    Parameters
    ----------
    values : array_like

    Returns
    -------
    ndarray of float64

    Examples
    --------
    >>> floats([1, 2, 3])
    array([1., 2., 3.])
    """
    return np.asarray(values, dtype=float)
