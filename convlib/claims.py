"""Claims the book's text makes about its own outputs, checked when the book builds.

Every sentence of a chapter that states a computed result (a value, an argmax, an
equality, "faster", "the same") is backed by a :func:`claim` in a cell that the reader
does not see, right after the cell that computes the result::

    ```{code-cell} ipython3
    :tags: [remove-cell]

    claim(found.tolist() == [60, 290], "the two peaks are at 60 and 290")
    ```

A ``remove-cell`` cell is executed like any other but not shown on the page. When a
change (to the chapter's code, to convlib, to the data) makes the sentence false, the
claim raises :class:`ClaimError`, the cell fails, and ``make book`` (which builds with
``-W``) fails with the sentence in the error log (``_build/html/reports/``).

One home for the pattern: chapters import :func:`claim` and :func:`claim_close` from
here, nothing else.

Examples
--------
>>> from convlib.claims import claim, claim_close
>>> claim(2 + 2 == 4, "two and two make four")
>>> claim_close(0.1 + 0.2, 0.3, "0.1 + 0.2 is 0.3 to print precision", atol=1e-9)
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["ClaimError", "claim", "claim_close"]


class ClaimError(AssertionError):
    """A sentence of the book that its own computation contradicts.

    Examples
    --------
    >>> issubclass(ClaimError, AssertionError)
    True
    """


def claim(condition: Any, statement: str) -> None:
    """Check that a sentence of the text holds for the computed result.

    Parameters
    ----------
    condition : bool-like
        The computed fact; anything whose truth value is defined (a NumPy array is
        not: reduce it with ``.all()``, ``np.array_equal`` or ``np.allclose`` first).
    statement : str
        The sentence of the text (or its gist) that ``condition`` backs; it is the
        error message when the claim is false.

    Raises
    ------
    ClaimError
        If ``condition`` is false.
    TypeError
        If ``statement`` is not a non-empty string.

    Examples
    --------
    >>> claim(max([3, 1, 2]) == 3, "the largest value is 3")
    >>> claim(1 > 2, "one is larger than two")
    Traceback (most recent call last):
    ...
    convlib.claims.ClaimError: the text says: one is larger than two
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"claim: `statement` must be the sentence it checks, got {statement!r}")
    if not bool(condition):
        raise ClaimError(f"the text says: {statement}")


def claim_close(
    value: float, expected: float, statement: str, *, rtol: float = 0.0, atol: float = 0.0
) -> None:
    """Check that a number the text quotes matches the computed one.

    The text usually rounds: pass ``atol`` equal to half a unit of the last printed
    digit (``0.005`` for two decimals) or a relative tolerance ``rtol``.

    Parameters
    ----------
    value : float
        The computed value.
    expected : float
        The number the text states.
    statement : str
        The sentence of the text that quotes ``expected``.
    rtol, atol : float, optional
        Relative and absolute tolerance, as in :func:`math.isclose` (both 0 by
        default: exact equality).

    Raises
    ------
    ClaimError
        If ``value`` is not within the tolerance of ``expected``.

    Examples
    --------
    >>> claim_close(3.9149, 3.91, "the first peak scores 3.91", atol=0.005)
    >>> claim_close(4.63, 5.01, "both peaks score the same", atol=0.005)
    Traceback (most recent call last):
    ...
    convlib.claims.ClaimError: the text says: both peaks score the same (computed 4.63, stated 5.01)
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"claim_close: `rtol` and `atol` must be >= 0, got {rtol} and {atol}")
    value, expected = float(value), float(expected)
    if not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        claim(False, f"{statement} (computed {value:.6g}, stated {expected:.6g})")
