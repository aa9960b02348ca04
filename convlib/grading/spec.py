"""What an assignment's checks are made of: the data model shared by every hwN spec.

An assignment module (``convlib.grading.hw1`` ...) exposes ``ASSIGNMENT``, an
:class:`Assignment`. The grader (a trusted process) builds each function's
cases, calls the *student's* function on each case's inputs in a sandboxed
child process, and compares what came back with ``reference(*case.args,
**case.kwargs)`` computed in the trusted process. When a result is wrong it tries
each :class:`Mistake`: if the student's output matches the mistake's output, the
feedback names that mistake.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Case:
    """One check: inputs, and what the case pins down (shown in feedback)."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    visible: bool = False  # visible cases also run in the student's notebook
    device: str = "cpu"  # "cuda" cases run only where the grading machine has CUDA


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
    cases: Callable[[], list[Case]]  # deterministic (fixed seeds)
    reference: Callable[..., Any]  # trusted: convlib / numpy / scipy / torch
    mistakes: tuple[Mistake, ...] = ()
    rtol: float = 1e-7
    atol: float = 1e-9


@dataclass(frozen=True)
class Assignment:
    name: str  # "hw1"
    functions: tuple[FunctionSpec, ...]
    # library calls students may not use (module attribute paths, e.g. "numpy.convolve")
    forbidden: tuple[str, ...] = ()
