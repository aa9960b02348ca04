"""From one function's case outcomes to a score and feedback that teaches.

Shared by the trusted grader and by :func:`convlib.grading.check` in a student's
notebook: the same outcomes give the same score and the same words.
"""
from __future__ import annotations

import copy
import inspect
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._values import TensorData
from .compare import find_mismatch, format_value
from .spec import Case, FunctionSpec

PASS = "pass"
GPU_SKIPPED = "gpu skipped"
NOT_GRADED = "not graded"  # the grader could not run the check (infrastructure): never counted

# generic diagnoses, for outcomes that are not a wrong value (label -> advice)
ADVICE = {
    "returned None": "Every path through the function must end with `return <result>`.",
    "raised an exception": "Run the failing input in your notebook and read the traceback.",
    "time limit exceeded": "A loop probably never ends (check the loop condition and that the "
                           "index moves), or the algorithm is far too slow for this input.",
    "memory limit exceeded": "The function allocates far too much memory: check the sizes you "
                             "pass to np.zeros / np.empty.",
    "process killed": "The function ended the Python process (os._exit, sys.exit in a child, a "
                      "crash or a kill): a graded function must return its result.",
    "forbidden call": "Write the computation yourself with NumPy primitives (slicing, np.pad, "
                      "sums, products, FFTs); library convolutions are what you are re-building.",
    "modified a library": "Graded functions may not replace attributes of numpy, convlib or "
                          "builtins; this has no effect on the verdict anyway.",
    "function not defined": "Define the function with exactly this name in its solution cell.",
    "not run": "Earlier checks of this function timed out, so the rest were not run.",
    "output too large": "The function returned or printed far more data than expected.",
}


@dataclass
class Outcome:
    """What happened on one case."""

    case: str
    status: str  # "pass", "fail", "error", "timeout", "crash", "forbidden", "not run", ...
    label: str | None = None  # diagnosis label (a Mistake's name or a generic one)
    detail: str = ""  # one sentence: the mismatch or the error
    explanation: str = ""  # what to change (from the Mistake or ADVICE)
    size: int = 0  # total number of input elements, to pick a small example
    example: str = ""  # inputs, expected and actual, for the smallest failing case


@dataclass
class FunctionResult:
    """A graded function's verdict: score, counts, diagnoses and feedback text."""

    function: str
    points: float
    score: float
    passed: int
    total: int
    gpu_skipped: int
    labels: list[str]  # diagnosed mistakes, most frequent first
    feedback: str
    outcomes: list[Outcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FunctionResult":
        data = dict(data)
        data["outcomes"] = [Outcome(**item) for item in data.get("outcomes", [])]
        return cls(**data)


def input_size(case: Case) -> int:
    """Total number of elements in a case's inputs (scalars count 1)."""

    def size(value: Any) -> int:
        if isinstance(value, (tuple, list)):
            return sum(size(item) for item in value)
        if isinstance(value, dict):
            return sum(size(item) for item in value.values())
        return int(np.prod(tuple(value.shape))) if hasattr(value, "shape") else 1

    return size(case.args) + size(case.kwargs)


def describe_inputs(spec: FunctionSpec, case: Case) -> str:
    """``name = value`` lines for a case's inputs, named after the reference's parameters."""
    try:
        bound = inspect.signature(spec.reference).bind(*case.args, **case.kwargs)
        pairs = list(bound.arguments.items())
    except (TypeError, ValueError):
        pairs = [(f"argument {i}", value) for i, value in enumerate(case.args)]
        pairs += list(case.kwargs.items())
    lines = []
    for name, value in pairs:
        shown = value
        if type(value).__module__.startswith("torch"):
            shown = TensorData(value.detach().cpu().numpy(), str(value.device), str(value.dtype))
        lines.append(f"{name} = {format_value(shown)}")
    return "\n".join(lines)


def tolerances(spec: FunctionSpec, case: Case) -> tuple[float, float]:
    rtol = spec.rtol if case.rtol is None else case.rtol
    atol = spec.atol if case.atol is None else case.atol
    return rtol, atol


def judge_value(spec: FunctionSpec, case: Case, expected: Any, actual: Any,
                mistake_outputs: list[Any]) -> Outcome:
    """Compare the student's plain ``actual`` with ``expected``; diagnose a mismatch.

    ``mistake_outputs[i]`` is ``spec.mistakes[i].wrong`` on this case as plain data
    (``None`` where the mistake does not apply to the case).
    """
    rtol, atol = tolerances(spec, case)
    if spec.compare is not None:
        text = spec.compare(expected, actual, rtol=rtol, atol=atol)
        mismatch = None if text is None else ("wrong values", text)
    else:
        found = find_mismatch(expected, actual, rtol=rtol, atol=atol)
        mismatch = None if found is None else (found.label, found.text)
    if mismatch is None:
        return Outcome(case.name, PASS, size=input_size(case))
    label, detail = mismatch
    explanation = ADVICE.get(label, "")
    for mistake, wrong_output in zip(spec.mistakes, mistake_outputs):
        if wrong_output is None:
            continue
        if find_mismatch(wrong_output, actual, rtol=rtol, atol=atol) is None:
            label, explanation = mistake.name, mistake.explanation
            break
    example = (f"{describe_inputs(spec, case)}\nexpected: {format_value(expected)}\n"
               f"got:      {format_value(actual)}")
    return Outcome(case.name, "fail", label, detail, explanation, input_size(case), example)


def problem_outcome(case: Case, status: str, label: str, detail: str, *,
                    spec: FunctionSpec | None = None) -> Outcome:
    """An outcome that is not a returned value: an error, a time-out, a crash..."""
    example = describe_inputs(spec, case) if spec is not None else ""
    return Outcome(case.name, status, label, detail, ADVICE.get(label, ""), input_size(case), example)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summarize(spec: FunctionSpec, outcomes: list[Outcome], *, notes: list[str] = (),
              forbidden: list[str] = (), visible_only: bool = False) -> FunctionResult:
    """Score ``spec``'s outcomes (fraction of checks passed) and write the feedback."""
    counted = [o for o in outcomes if o.status not in (GPU_SKIPPED, NOT_GRADED)]
    gpu_skipped = sum(o.status == GPU_SKIPPED for o in outcomes)
    passed = sum(o.status == PASS for o in counted)
    total = len(counted)
    if forbidden:
        score = 0.0
    else:
        score = round(float(spec.points) * passed / total, 2) if total else float(spec.points)
    failures = [o for o in counted if o.status != PASS]
    counts = Counter(o.label for o in failures if o.label and o.status != "not run")
    labels = [label for label, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]

    what = "visible checks" if visible_only else "checks"
    points = f"{float(spec.points):g}"
    lines = [f"{spec.name}: {passed} of {total} {what} passed, score {score:g} / {points}"]
    if forbidden:
        names = ", ".join(forbidden)
        lines.append(f"Score 0: {spec.name} uses {names}, which this assignment forbids.")
        lines.append("    " + ADVICE["forbidden call"])
    for position, label in enumerate(labels[:3]):
        first = next(o for o in failures if o.label == label)
        head = "Most likely mistake" if position == 0 else "Also"
        lines.append(f"{head}: {label} ({_plural(counts[label], 'check')})")
        if first.explanation:
            lines.append(f"    {first.explanation}")
        if not first.example and first.detail:
            lines.append(f"    ({first.detail})")
    shown = [o for o in failures if o.example]
    if shown:
        smallest = min(shown, key=lambda o: o.size)
        lines.append(f"A small input on which it fails ({smallest.case}):")
        lines += ["    " + line for line in smallest.example.splitlines()]
        if smallest.detail:
            lines.append(f"    ({smallest.detail})")
    if failures:
        names = "; ".join(o.case for o in failures[:8])
        more = f"; and {len(failures) - 8} more" if len(failures) > 8 else ""
        lines.append(f"Failed checks: {names}{more}")
    if gpu_skipped:
        lines.append(f"The {_plural(gpu_skipped, 'GPU check')} were not run (this machine has no "
                     "CUDA device); they do not count for or against you.")
    lines += list(notes)
    if visible_only:
        lines.append("(These are the visible checks only; grading runs more, hidden ones.)")
    return FunctionResult(spec.name, float(spec.points), score, passed, total, gpu_skipped,
                          labels, "\n".join(lines) + "\n", outcomes)


def mistake_outputs(spec: FunctionSpec, case: Case, expected: Any) -> list[Any]:
    """Each mistake's output on ``case`` as plain data (``None`` if it does not apply).

    A mistake that raises, or that gives the right answer on this case, cannot
    explain a wrong answer here, so it is ``None``.
    """
    from ._values import on_device, to_plain

    outputs = []
    rtol, atol = tolerances(spec, case)
    for mistake in spec.mistakes:
        try:
            args = copy.deepcopy(on_device(case.args, case.device))
            kwargs = copy.deepcopy(on_device(case.kwargs, case.device))
            output = to_plain(mistake.wrong(*args, **kwargs))
        except Exception:
            outputs.append(None)
            continue
        same = find_mismatch(expected, output, rtol=rtol, atol=atol) is None
        outputs.append(None if same else output)
    return outputs
