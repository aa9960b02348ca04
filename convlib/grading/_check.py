"""``check``: the visible checks of one function, run in the student's own notebook."""
from __future__ import annotations

import copy
import dis
import inspect
import os
import sysconfig
import textwrap
import traceback
from typing import Any, Callable

import numpy as np

from . import _state
from ._forbidden import ALWAYS_FORBIDDEN, matches, scan
from ._judge import (GPU_SKIPPED, Outcome, judge_value, mistake_outputs, problem_outcome,
                     summarize)
from ._values import on_device, to_plain
from .spec import load_assignment


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _code_paths(func: Callable[..., Any]) -> list[str]:
    """``module.attr.attr`` chains a function's bytecode loads (for when there is no source)."""
    code = getattr(func, "__code__", None)
    namespace = getattr(func, "__globals__", {})
    paths = []
    stack = [code] if code is not None else []
    while stack:
        current = stack.pop()
        stack += [c for c in current.co_consts if hasattr(c, "co_names")]
        chain: list[str] = []
        for instruction in dis.get_instructions(current):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                value = namespace.get(instruction.argval)
                chain = [value.__name__] if isinstance(value, type(inspect)) else []
            elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and chain:
                chain.append(instruction.argval)
                paths.append(".".join(chain))
            else:
                chain = []
    return paths


def _forbidden_in(func: Callable[..., Any], function: str, forbidden: tuple[str, ...]) -> list[str]:
    """Forbidden paths ``func`` uses, from its source (when available) and its bytecode."""
    found: set[str] = set()
    try:
        source = textwrap.dedent(inspect.getsource(func))
        found.update(scan([source], getattr(func, "__name__", function), forbidden))
    except (OSError, TypeError, SyntaxError):
        pass
    entries = tuple(forbidden) + ALWAYS_FORBIDDEN
    found.update(path for path in _code_paths(func) if matches(path, entries))
    return sorted(found)


def _where(error: BaseException) -> str:
    """Where in the student's code ``error`` was raised: IPython's cell name and the line.

    The innermost frame that is not in an installed package (numpy, convlib...) is the
    student's; IPython names its cells ``Cell In[5]``, as its own tracebacks do.
    """
    package_dirs = tuple({sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib")}
                         | {os.path.dirname(os.path.dirname(__file__))})
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(frame.filename).startswith(package_dirs)]
    if not frames:
        return ""
    frame = frames[-1]
    name = os.path.basename(frame.filename)
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821
        name = " ".join(shell.compile.format_code_name(frame.filename) or (name,))
    except Exception:  # not in IPython, or an IPython without format_code_name
        pass
    where = f"{name}, line {frame.lineno}"
    return where + (f": {frame.line.strip()}" if frame.line else "")


def check(assignment: str, function: str, func: Callable[..., Any]) -> float | None:
    """Run the visible checks of ``function`` on ``func``, print feedback, return the score.

    In a student's notebook this runs the assignment's *visible* cases in the
    notebook's own kernel and prints what went wrong and why (the classic mistake
    it recognises, a small failing input, expected and actual values). At autograde
    time the trusted grader does not run this cell: it grades the function in a
    sandbox on every case, hidden ones included, and writes the cell's output itself.

    Parameters
    ----------
    assignment : str
        The assignment, e.g. ``"hw1"``.
    function : str
        The graded function's name, e.g. ``"convolve_full"``.
    func : callable
        The student's implementation.

    Returns
    -------
    float or None
        Points earned on the visible checks (the function's points times the
        fraction passed); ``None`` inside the grader's sandbox.

    Raises
    ------
    ValueError
        If the assignment or the function is unknown.
    TypeError
        If ``func`` is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> score = check("hw1", "convolve_full", lambda x, h: np.convolve(x, h))
    convolve_full: 0 of ... visible checks passed, score 0 / 2
    Score 0: convolve_full uses numpy.convolve, which this assignment forbids.
    ...
    >>> score
    0.0
    """
    if _state.IN_SANDBOX:
        return None
    if not callable(func):
        raise TypeError(f"func must be the function {function!r} itself, got {type(func).__name__}")
    spec = load_assignment(assignment)
    try:
        fspec = spec.function(function)
    except KeyError as error:
        raise ValueError(str(error.args[0])) from None

    forbidden = _forbidden_in(func, function, spec.forbidden)

    cuda = None
    outcomes: list[Outcome] = []
    cases = [case for case in fspec.build_cases(np.random.default_rng(_state.PUBLIC_SEED)) if case.visible]
    for case in cases:
        if case.device.startswith("cuda"):
            cuda = _cuda_available() if cuda is None else cuda
            if not cuda:
                outcomes.append(Outcome(case.name, GPU_SKIPPED))
                continue
        args = on_device(case.args, case.device)
        kwargs = on_device(case.kwargs, case.device)
        expected = to_plain(fspec.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        if forbidden:
            outcomes.append(problem_outcome(case, "forbidden", "forbidden call", ", ".join(forbidden)))
            continue
        try:
            actual = to_plain(func(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        except Exception as error:  # the student's bug: report it, keep checking
            detail = f"{type(error).__name__}: {error}"[:300]
            where = _where(error)
            if where:
                detail += f" ({where})"
            outcomes.append(problem_outcome(case, "error", "raised an exception", detail, spec=fspec))
            continue
        outcomes.append(judge_value(fspec, case, expected, actual, mistake_outputs(fspec, case, expected)))
    result = summarize(fspec, outcomes, forbidden=forbidden, visible_only=True)
    print(result.feedback, end="")
    return result.score
