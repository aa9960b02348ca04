"""What an assignment's checks are made of: the data model shared by every hwN spec.

An assignment module (``convlib.grading.hw1`` ...) exposes ``ASSIGNMENT``, an
:class:`Assignment`. The grader (a trusted process) builds each function's
cases, calls the *student's* function on each case's inputs in a sandboxed
child process, and compares what came back with ``reference(*case.args,
**case.kwargs)`` computed in the trusted process. When a result is wrong it tries
each :class:`Mistake`: if the student's output matches the mistake's output, the
feedback names that mistake.

Adding an assignment is a new ``convlib/grading/hwN.py`` exposing ``ASSIGNMENT``
plus its notebook: :func:`load_assignment` finds it by name.

Rules the engine relies on
--------------------------
- ``FunctionSpec.cases`` is called either with no argument or, if it accepts one,
  with ``rng``: a :class:`numpy.random.Generator`. At autograde time that generator
  is seeded from the instructor's secret (``CONVLIB_GRADING_SEED`` or the
  ``.grading_seed`` file at the course root), so hidden random inputs cannot be
  predicted from the public source; in a student's notebook it is seeded with a
  public constant. Visible cases must not depend on it (the student sees them).
- torch tensors in a case's ``args`` are created on the CPU; the engine moves them
  to ``case.device`` before calling the reference and the student's function.
  Cases whose device is ``"cuda..."`` run only where the grading machine has CUDA;
  elsewhere they are left out of the score and the feedback says so.
- Results are compared with :func:`convlib.grading.compare.compare` (arrays, numbers,
  tuples and torch tensors, with ``rtol``/``atol``); ``FunctionSpec.compare``
  replaces it for one function. Array results may come back as lists of any length
  (compared as ``np.asarray`` converts them). A function that returns a tuple names
  its results in ``FunctionSpec.outputs`` (``("dx", "dw", "db")``) for the feedback.
- Every mistake should fail at least one *visible* case, so that the check in the
  student's own notebook can teach it (tests/test_grading_feedback.py enforces this):
  use asymmetric kernels, both length orders, even and odd kernels, complex data.
- A failed check may match several mistakes; the feedback names the one that explains
  the most failed checks (ties: the order of ``FunctionSpec.mistakes``).
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Assignment", "Case", "FunctionSpec", "Mistake", "load_assignment"]


@dataclass(frozen=True)
class Case:
    """One check: inputs, and what the case pins down (shown in feedback)."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    visible: bool = False  # visible cases also run in the student's notebook
    device: str = "cpu"  # "cuda" cases run only where the grading machine has CUDA
    rtol: float | None = None  # overrides FunctionSpec.rtol for this case
    atol: float | None = None  # overrides FunctionSpec.atol for this case


@dataclass(frozen=True)
class Mistake:
    """A classic wrong implementation, used to diagnose a wrong answer."""

    name: str  # short label for the class report, e.g. "kernel not flipped"
    explanation: str  # what the student should change, in a sentence or two
    wrong: Callable[..., Any]  # same signature as the graded function


@dataclass(frozen=True)
class FunctionSpec:
    """A graded function: its cases, its reference and the mistakes it knows."""

    name: str  # the name students define, fixed by the assignment
    grade_id: str  # the nbgrader grade cell that scores it
    points: float
    cases: Callable[..., list[Case]]  # deterministic: cases() or cases(rng), see module doc
    reference: Callable[..., Any]  # trusted: convlib / numpy / scipy / torch
    mistakes: tuple[Mistake, ...] = ()
    rtol: float = 1e-7
    atol: float = 1e-9
    # seconds of CPU time one call of the student's function may take in the sandbox
    time_limit: float = 2.0
    # memory the student's process may allocate beyond what the sandbox starts with
    memory_limit_mb: int = 1024
    # compare(expected, actual, rtol=..., atol=...) -> None when equal, else the problem
    compare: Callable[..., str | None] | None = None
    # names of the results when the function returns a tuple, e.g. ("dx", "dw", "db")
    outputs: tuple[str, ...] = ()

    def build_cases(self, rng: Any = None) -> list[Case]:
        """The cases: ``cases(rng)`` if ``cases`` takes an argument, else ``cases()``.

        Examples
        --------
        >>> import numpy as np
        >>> spec = load_assignment("hw1").function("poly_multiply")
        >>> cases = spec.build_cases(np.random.default_rng(0))
        >>> cases[0].name, cases[0].visible
        ('(1 + x)(1 - x) = 1 - x^2', True)
        """
        if inspect.signature(self.cases).parameters:
            return list(self.cases(rng))
        return list(self.cases())


@dataclass(frozen=True)
class Assignment:
    name: str  # "hw1"
    functions: tuple[FunctionSpec, ...]
    # library calls students may not use (module attribute paths, e.g. "numpy.convolve";
    # a module path such as "scipy.signal" forbids everything in it); the grader adds
    # convlib.grading._forbidden.ALWAYS_FORBIDDEN (every library convolution, sandbox escapes)
    forbidden: tuple[str, ...] = ()
    # modules imported once in the sandbox's fork server (numpy always; torch is added
    # when a forbidden path or a case needs it)
    preload: tuple[str, ...] = ()

    def function(self, name: str) -> FunctionSpec:
        """The :class:`FunctionSpec` called ``name`` (``KeyError`` if there is none).

        Examples
        --------
        >>> load_assignment("hw1").function("convolve").points
        3
        """
        for spec in self.functions:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.functions)
        raise KeyError(f"{self.name} has no graded function {name!r} (it has: {known})")


def load_assignment(name: str) -> Assignment:
    """Return the ``ASSIGNMENT`` of ``convlib.grading.<name>``.

    Parameters
    ----------
    name : str
        The assignment's name, e.g. ``"hw1"``: a module of :mod:`convlib.grading`.

    Returns
    -------
    Assignment
        Its functions, cases, references and mistakes.

    Raises
    ------
    ValueError
        If ``name`` is not an assignment of :mod:`convlib.grading`.

    Examples
    --------
    >>> hw1 = load_assignment("hw1")
    >>> [spec.name for spec in hw1.functions]
    ['convolve_full', 'convolve', 'correlate', 'poly_multiply']
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"assignment must be a module name like 'hw1', got {name!r}")
    try:
        module = importlib.import_module(f"convlib.grading.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"convlib.grading.{name}":
            raise
        raise ValueError(f"assignment {name!r}: no module convlib.grading.{name}") from None
    assignment = getattr(module, "ASSIGNMENT", None)
    if not isinstance(assignment, Assignment):
        raise ValueError(f"assignment {name!r}: convlib.grading.{name}.ASSIGNMENT is missing")
    return assignment
