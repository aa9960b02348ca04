"""From one function's case outcomes to a score and feedback that teaches.

Shared by the trusted grader and by :func:`convlib.grading.check` in a student's
notebook: the same outcomes give the same score and the same words.

Each diagnosis in the feedback comes with the smallest check it explains, written as
code the student can paste into a cell (the call with its inputs in full, every digit,
and the defaults it relies on), the shapes, and the expected and actual results with
the digits it takes to see where they differ.
"""
from __future__ import annotations

import copy
import inspect
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._values import TensorData
from .compare import distinct_texts, find_mismatch, format_value, value_code
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
    "computed in float32": "The reference computes in float64 (about 16 significant digits); "
                           "float32 keeps about 7, so sums drift in the 7th digit. Do not convert "
                           "the inputs to np.float32 or allocate the output with dtype=np.float32: "
                           "use np.result_type(x, h, float).",
}

# inputs of at most this many numbers are shown in full in an example; larger ones by shape
MAX_SHOWN_INPUT = 200
# outputs of at most this many numbers are shown in full in an example
MAX_SHOWN_OUTPUT = 120


@dataclass
class Outcome:
    """What happened on one case."""

    case: str
    status: str  # "pass", "fail", "error", "timeout", "crash", "forbidden", "not run", ...
    label: str | None = None  # diagnosis label (a Mistake's name or a generic one)
    detail: str = ""  # one sentence: the mismatch or the error
    explanation: str = ""  # what to change (from the Mistake or ADVICE)
    size: int = 0  # total number of input elements, to pick a small example
    example: str = ""  # the call as code, expected and actual values
    # every catalogue mistake whose output equals the student's (in catalogue order);
    # summarize() picks among them the one that explains the most checks
    candidates: list[str] = field(default_factory=list)


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


def _arguments(spec: FunctionSpec, case: Case) -> tuple[list[tuple[str, Any, bool]], list[tuple[str, Any]]]:
    """``(name, value, passed by keyword)`` of a case's arguments, and the defaults it relies on."""
    try:
        signature = inspect.signature(spec.reference)
        bound = signature.bind(*case.args, **case.kwargs)
    except (TypeError, ValueError):
        passed = [(f"arg{i}", value, False) for i, value in enumerate(case.args)]
        return passed + [(name, value, True) for name, value in case.kwargs.items()], []
    passed = [(name, value, name in case.kwargs) for name, value in bound.arguments.items()]
    defaults = [(name, parameter.default) for name, parameter in signature.parameters.items()
                if name not in bound.arguments and parameter.default is not parameter.empty]
    return passed, defaults


def _shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, TensorData):
        return value.array.shape
    return value.shape if isinstance(value, np.ndarray) else None


def _count(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        return sum(_count(item) for item in value)
    shape = _shape(value)
    return int(np.prod(shape)) if shape is not None else 1


def describe_inputs(spec: FunctionSpec, case: Case) -> str:
    """The call a case makes, as code a student can paste, with the shapes of its arrays.

    Inputs of at most ``MAX_SHOWN_INPUT`` numbers are written out in full (every
    digit); larger ones are named, with their shape and dtype.
    """
    from ._values import to_plain

    passed, defaults = _arguments(spec, case)
    values = [(name, to_plain(value), keyword) for name, value, keyword in passed]
    small = sum(_count(value) for _, value, _ in values) <= MAX_SHOWN_INPUT
    inline = small and all(_shape(value) is None or len(value_code(value)) <= 60
                           for _, value, _ in values)
    lines, call = [], []
    for name, value, keyword in values:
        if _shape(value) is None or (small and inline):
            text = value_code(value)
        elif small:
            lines.append(f"{name} = {value_code(value)}")
            text = name
        else:
            array = value.array if isinstance(value, TensorData) else value
            lines.append(f"# {name}: {array.dtype} values of shape {array.shape} (too many to "
                         f"show: {array.size})")
            text = name
        call.append(f"{name}={text}" if keyword else text)
    comment = ""
    if defaults:
        comment = "  # default " + ", ".join(f"{name}={value_code(value)}" for name, value in defaults)
    lines.append(f"{spec.name}({', '.join(call)}){comment}")
    shapes = [f"{name} {_shape(value)}" for name, value, _ in values if _shape(value) is not None]
    if shapes:
        lines.append("# shapes: " + ", ".join(shapes))
    return "\n".join(part for line in lines for part in _wrapped(line))


def _digits(expected: Any, actual: Any) -> int:
    """Significant digits that tell ``actual`` from ``expected`` where they first differ."""
    want, got = (v.array if isinstance(v, TensorData) else v for v in (expected, actual))
    if not (isinstance(want, np.ndarray) and isinstance(got, np.ndarray)) or want.shape != got.shape:
        return 6
    with np.errstate(all="ignore"):
        differ = np.argwhere(~np.isclose(got, want, rtol=0, atol=0, equal_nan=True))
    if not len(differ):
        return 6
    index = tuple(differ[0])
    texts = distinct_texts(want[index], got[index])
    digits = max(len(text.strip("-()j").replace(".", "").lstrip("0").split("e")[0]) for text in texts)
    return min(max(digits, 6), 17)


def _numbers(value: Any, digits: int) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_numbers(item, digits) for item in value) + "]"
    if isinstance(value, complex):
        return f"({value.real:.{digits}g}{value.imag:+.{digits}g}j)"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return repr(value)


def _shown(value: Any, digits: int = 6) -> str:
    """A result for the example: all its numbers when they are few, else its shape."""
    shape = _shape(value)
    if shape is None:
        return value_code(value) if _count(value) <= MAX_SHOWN_OUTPUT else format_value(value)
    array = value.array if isinstance(value, TensorData) else value
    if _count(value) <= MAX_SHOWN_OUTPUT:
        return f"{_numbers(array.tolist(), digits)}   (shape {shape}, {array.dtype})"
    return f"{array.dtype} values of shape {shape} (too many to show: {array.size})"


def _wrapped(line: str, width: int = 100) -> list[str]:
    """A line of code broken at spaces after commas: still valid Python inside brackets.

    A comment line goes on as a comment; a trailing comment stays on the last line.
    """
    if len(line) <= width:
        return [line]
    if line.startswith("#"):
        return textwrap.wrap(line, width, subsequent_indent="#     ", break_long_words=False,
                             break_on_hyphens=False)
    code, hash_, comment = line.partition("  # ")
    lines = textwrap.wrap(code, width, subsequent_indent="    ", break_long_words=False,
                          break_on_hyphens=False)
    if hash_:
        lines[-1] += hash_ + comment
    return lines


def describe_results(spec: FunctionSpec, expected: Any, actual: Any, *, rtol: float = 1e-7,
                     atol: float = 1e-9) -> str:
    """``expected:`` and ``got:`` lines; for tuple results, the first result that differs.

    Numbers are shown with as many significant digits as it takes to see the first
    difference.
    """
    names = tuple(spec.outputs)
    label = ""
    if (isinstance(expected, tuple) and isinstance(actual, (tuple, list))
            and len(actual) == len(expected)):
        for position, (want, got) in enumerate(zip(expected, actual)):
            if find_mismatch(want, got, rtol=rtol, atol=atol) is not None:
                label = " " + (names[position] if len(names) == len(expected) else f"result {position}")
                expected, actual = want, got
                break
    digits = _digits(expected, actual)
    pad = " " * (len("expected") - len("got"))
    lines = [f"expected{label}: {_shown(expected, digits)}", f"got{label}:{pad} {_shown(actual, digits)}"]
    return "\n".join(part for line in lines for part in _wrapped(line))


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
        found = find_mismatch(expected, actual, rtol=rtol, atol=atol, names=tuple(spec.outputs))
        mismatch = None if found is None else (found.label, found.text)
    if mismatch is None:
        return Outcome(case.name, PASS, size=input_size(case))
    label, detail = mismatch
    explanation = ADVICE.get(label, "")
    candidates = [mistake.name for mistake, wrong_output in zip(spec.mistakes, mistake_outputs)
                  if wrong_output is not None
                  and find_mismatch(wrong_output, actual, rtol=rtol, atol=atol) is None]
    if candidates:
        label = candidates[0]
        explanation = next(m.explanation for m in spec.mistakes if m.name == label)
    example = f"{describe_inputs(spec, case)}\n{describe_results(spec, expected, actual, rtol=rtol, atol=atol)}"
    return Outcome(case.name, "fail", label, detail, explanation, input_size(case), example,
                   candidates)


def problem_outcome(case: Case, status: str, label: str, detail: str, *,
                    spec: FunctionSpec | None = None) -> Outcome:
    """An outcome that is not a returned value: an error, a time-out, a crash..."""
    example = describe_inputs(spec, case) if spec is not None else ""
    return Outcome(case.name, status, label, detail, ADVICE.get(label, ""), input_size(case), example)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _explain_most(spec: FunctionSpec, failures: list[Outcome]) -> None:
    """Label each diagnosed failure with the mistake that explains the most checks.

    A check may match several catalogue mistakes; the one that matches the most
    failed checks is named for all of them (ties: the catalogue's order), then the
    next one for the checks left, and so on.
    """
    order = {mistake.name: position for position, mistake in enumerate(spec.mistakes)}
    explanations = {mistake.name: mistake.explanation for mistake in spec.mistakes}
    left = [o for o in failures if o.candidates]
    while left:
        counts = Counter(name for o in left for name in o.candidates)
        best = min(counts, key=lambda name: (-counts[name], order.get(name, len(order))))
        for outcome in left:
            if best in outcome.candidates:
                outcome.label, outcome.explanation = best, explanations.get(best, outcome.explanation)
        left = [o for o in left if best not in o.candidates]


def summarize(spec: FunctionSpec, outcomes: list[Outcome], *, notes: list[str] = (),
              forbidden: list[str] = (), visible_only: bool = False) -> FunctionResult:
    """Score ``spec``'s outcomes (fraction of checks passed) and write the feedback.

    Each diagnosis comes with the smallest failing check of its own, as code the
    student can paste, so the example always shows the mistake it is listed under.
    Checks the grader could not run (GPU checks without a GPU, ``NOT_GRADED``) are
    not counted.
    """
    counted = [o for o in outcomes if o.status not in (GPU_SKIPPED, NOT_GRADED)]
    gpu_skipped = sum(o.status == GPU_SKIPPED for o in outcomes)
    passed = sum(o.status == PASS for o in counted)
    total = len(counted)
    if forbidden or (total == 0 and any(o.status == NOT_GRADED for o in outcomes)):
        score = 0.0  # nothing graded (the machine's fault): no points yet, never full marks by default
    else:
        score = round(float(spec.points) * passed / total, 2) if total else float(spec.points)
    failures = [o for o in counted if o.status != PASS]
    _explain_most(spec, failures)
    counts = Counter(o.label for o in failures if o.label and o.status != "not run")
    labels = [label for label, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]

    what = "visible checks" if visible_only else "checks"
    points = f"{float(spec.points):g}"
    lines = [f"{spec.name}: {passed} of {total} {what} passed, score {score:g} / {points}"]
    if forbidden:
        names = ", ".join(forbidden)
        lines.append(f"Score 0: {spec.name} uses {names}, which this assignment forbids.")
        lines.append("    " + ADVICE["forbidden call"])
    for position, label in enumerate(labels[:4]):
        group = [o for o in failures if o.label == label]
        shown = [o for o in group if o.example]
        first = min(shown, key=lambda o: o.size) if shown else group[0]
        head = "Most likely mistake" if position == 0 else "Also"
        lines.append(f"{head}: {label} ({_plural(counts[label], 'check')})")
        if first.explanation:
            lines.append(f"    {first.explanation}")
        if first.example:
            lines.append(f"    The smallest check it fails ({first.case}):")
            lines += ["        " + line for line in first.example.splitlines()]
            if first.detail:
                lines.append(f"        ({first.detail})")
        elif first.detail:
            lines.append(f"    ({first.detail})")
    if len(labels) > 4:
        lines.append("Also: " + "; ".join(f"{label} ({_plural(counts[label], 'check')})"
                                         for label in labels[4:]))
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
