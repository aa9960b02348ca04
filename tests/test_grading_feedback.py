"""Feedback a student can act on (issue 10): each case graded as a real submission.

Each test grades a realistic submission (the solution notebook with one cell
edited the way students write it) with the sandboxed engine, or runs
``check`` as the student's notebook does, and asserts the score and the words:

1. a list of any length is accepted as ``np.asarray`` would (no false "wrong type");
2. numbers are shown with the digits that tell them apart, the difference against the
   tolerance, and a float32 computation is named;
3. an error's place is the notebook's own cell number and the line in that cell;
4. each diagnosis shows the smallest check *it* explains;
5. examples are code that reproduces the failure when pasted, with shapes;
6. the common real bugs are diagnosed as themselves;
7. tuple results are named (dx, dw, db), and the visible checks catch every
   catalogue mistake.
"""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from _homework import edited_cells
from convlib.grading import check
from convlib.grading._values import Opaque, to_plain
from convlib.grading.compare import find_mismatch
from convlib.grading.engine import Grader
from convlib.grading.spec import load_assignment

SEED = 4321


def block(feedback: str, head: str) -> str:
    """The lines of ``feedback`` from the one starting with ``head`` to the next diagnosis."""
    lines = feedback.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[start:end])


HW1_SUBMISSIONS = {
    # 1: a correct convolve_full that returns a Python list (432 items on the longest case)
    "returns a list": ("convolve_full", [("    return y\n", "    return list(y)\n")]),
    # 2: computes in single precision
    "float32": ("convolve_full", [("dtype=np.result_type(x, h, float)",
                                   "dtype=np.complex64 if np.iscomplexobj(x) or np.iscomplexobj(h) "
                                   "else np.float32")]),
    # 3: raises when the kernel is longer than the signal, in line 22 of notebook cell 6
    "raises in its cell": ("convolve_full", [("y[k : k + n] += h[k] * x", "y[k : k + n] += h[k] * x[: n - (m > n)]")]),
    # 4: drops the last sample and, separately, raises on complex input
    "two mistakes": ("convolve_full", [("dtype=np.result_type(x, h, float)", "dtype=float"),
                                       ("    return y\n", "    return y[:-1]\n")]),
    # 6: the 1-D bugs of the catalogue, as students write them
    "assumes len(x) >= len(h)": ("convolve", [("longest, shortest = max(n, m), min(n, m)", "longest, shortest = n, m")]),
    "mode ignored": ("convolve", [('    if mode == "full":\n        return full\n', "    return full\n")]),
}


@pytest.fixture(scope="module")
def hw1():
    with Grader("hw1", seed=SEED) as grader:
        results = grader.grade_many({name: edited_cells("hw1", function, edits)
                                     for name, (function, edits) in HW1_SUBMISSIONS.items()})
        yield grader, {name: results[name].functions[HW1_SUBMISSIONS[name][0]] for name in results}


# ----------------------------------------------------------------------------- 1. lists


def test_a_correct_function_returning_a_long_list_gets_full_marks(hw1):
    grader, results = hw1
    graded = results["returns a list"]
    longest = max(len(case.args[0]) + len(case.args[1]) - 1 for case in grader.cases["convolve_full"])
    assert longest > 64  # longer than a list the sandbox sends item by item
    assert (graded.passed, graded.score) == (graded.total, 2.0), graded.feedback
    assert "wrong type" not in graded.feedback


def test_one_rule_for_lists_of_every_length():
    expected = np.arange(1000.0)
    assert find_mismatch(expected, to_plain(list(expected))) is None
    assert find_mismatch(expected[:10], to_plain(list(expected[:10]))) is None
    for bad in (["a"], [1.0, None], [[1.0], [2.0, 3.0]]):  # strings, None, ragged rows
        short, long = bad * 2, bad * 500
        assert isinstance(to_plain(long), Opaque)
        texts = {find_mismatch(expected[: len(v)], to_plain(v)).text for v in (short, long)}
        assert texts == {"expected an array, got a list"}, bad
    nested = [[[[1.5] * 3] * 2] * 2] * 70  # deeper and longer than sent item by item
    assert to_plain(nested).shape == (70, 2, 2, 3)


# ----------------------------------------------------------------------------- 2. digits, float32


def test_values_are_shown_with_the_digits_that_differ_and_float32_is_named(hw1):
    _, results = hw1
    graded = results["float32"]
    assert graded.labels == ["computed in float32"], graded.feedback
    assert graded.score == round(2 * graded.passed / graded.total, 2) < 2
    headline = block(graded.feedback, "Most likely mistake: computed in float32")
    assert "float32 keeps about 7" in headline and "np.result_type(x, h, float)" in headline
    want, got = re.search(r"expected (\S+), got (\S+) \(difference", headline).groups()
    assert want != got and float(want) != float(got)
    assert re.search(r"difference [\d.e+-]+, relative [\d.e+-]+; the tolerance allows 1e-09 \+ "
                     r"1e-07 \* \|expected\| = [\d.e+-]+", headline)


def test_a_float64_result_of_float32_arithmetic_is_named_too():
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal(20), rng.standard_normal(5)
    single = np.convolve(x.astype(np.float32), h.astype(np.float32)).astype(np.float64)
    mismatch = find_mismatch(np.convolve(x, h), single)
    assert mismatch.label == "computed in float32"
    assert "single precision" in mismatch.text
    assert find_mismatch(np.convolve(x, h), np.convolve(x, h) + 1e-3).label == "wrong values"
    flipped = np.convolve(x.astype(np.float32), h[::-1].astype(np.float32))  # a real mistake
    assert find_mismatch(np.convolve(x, h), flipped).label == "wrong values"


# ----------------------------------------------------------------------------- 3. cell numbers


def test_an_error_names_the_notebooks_own_cell_and_the_line_in_it(hw1):
    _, results = hw1
    graded = results["raises in its cell"]
    cells = edited_cells("hw1", "convolve_full", HW1_SUBMISSIONS["raises in its cell"][1])
    index, source = next((i, s) for i, s in cells if "def convolve_full(" in s)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "x[: n - (m > n)]" in text)
    assert index == 5  # the sixth cell: markdown and code cells both count
    assert (f"(cell 6 of the notebook, the one starting 'def convolve_full(x, h):', line {line}: "
            "y[k : k + n] += h[k] * x[: n - (m > n)])") in graded.feedback, graded.feedback
    assert "cell 2" not in graded.feedback


def test_check_in_ipython_names_the_cell_as_ipython_does():
    IPython = pytest.importorskip("IPython")
    shell = IPython.core.interactiveshell.InteractiveShell.instance()
    try:
        cells = ["import numpy as np", "from convlib.grading import check", "1 + 1",
                 "def convolve_full(x, h):\n    y = np.zeros(len(x) + len(h) - 1)\n"
                 "    for k in range(len(h)):\n        y[k:k + len(x)] += h[k] * x\n    return y",
                 "score = check('hw1', 'convolve_full', convolve_full)"]
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for source in cells:
                shell.run_cell(source, store_history=True)
        text = out.getvalue()
        assert "Cell In[4], line 4: y[k:k + len(x)] += h[k] * x" in text, text
        assert shell.user_ns["score"] < 2
    finally:
        IPython.core.interactiveshell.InteractiveShell.clear_instance()


# ----------------------------------------------------------------------------- 4. headline example


def test_each_diagnosis_shows_an_example_of_itself(hw1):
    _, results = hw1
    graded = results["two mistakes"]
    shape, error = "wrong output shape: last sample missing", "raised an exception"
    assert graded.labels == [shape, error], graded.feedback
    headline = block(graded.feedback, f"Most likely mistake: {shape}")
    assert "(wrong output shape: expected" in headline and "Error" not in headline
    assert "j" not in headline.split("smallest check it fails")[1]  # a real input
    other = block(graded.feedback, f"Also: {error}")
    assert "UFuncTypeError" in other and "j)" in other  # its own example: a complex input
    for part in (headline, other):
        assert part.count("The smallest check it fails") == 1


# ----------------------------------------------------------------------------- 5. paste-able examples


def _example_code(feedback: str) -> str:
    lines = feedback.splitlines()
    start = next(i for i, line in enumerate(lines) if "The smallest check it fails" in line) + 1
    code = []
    for line in lines[start:]:
        if line.strip().startswith(("expected", "(")):
            break
        code.append(line.strip() if not line.startswith(" " * 12) else "    " + line.strip())
    return "\n".join(code)


def test_the_example_is_code_that_reproduces_the_failure(capsys):
    def convolve(x, h, mode="full"):  # 'same' window one sample late for even kernels
        full = np.zeros(len(x) + len(h) - 1)
        for k in range(len(h)):
            full[k:k + len(x)] += h[k] * np.asarray(x)
        n, m = len(x), len(h)
        if mode == "same":
            start = min(n, m) // 2
            return full[start:start + max(n, m)]
        if mode == "valid":
            return full[min(n, m) - 1:max(n, m)]
        return full

    assert check("hw1", "convolve", convolve) < 3
    out = capsys.readouterr().out
    assert "..." not in out
    code = _example_code(out)
    assert code.startswith('convolve(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, -1.0]), mode="same")'), out
    assert "# shapes: x (5,), h (2,)" in code
    result = eval(code.splitlines()[0], {"np": np, "convolve": convolve})  # pasted: the same output
    shown = re.search(r"got: +(\[[^\]]*\]) +\(shape \((\d+),\)", out)
    assert np.array_equal(np.array(eval(shown[1])), result) and int(shown[2]) == len(result)


def test_an_example_names_the_defaults_it_relies_on(capsys):
    def convolve(x, h, mode="same"):  # wrong default
        return np.asarray([sum(x[k] * h[n - k] for k in range(len(x)) if 0 <= n - k < len(h))
                           for n in range(len(x) + len(h) - 1)])[: len(x) if mode == "same" else None]

    check("hw1", "convolve", convolve)
    out = capsys.readouterr().out
    assert 'convolve(np.array([3.0, 1.0, 2.0]), np.array([1.0, -2.0]))  # default mode="full"' in out


def test_large_inputs_are_described_by_shape_without_ellipses(hw1):
    grader, _ = hw1
    from convlib.grading._judge import describe_inputs

    spec = load_assignment("hw1").function("convolve_full")
    big = max(grader.cases["convolve_full"], key=lambda case: len(case.args[0]))
    text = describe_inputs(spec, big)
    assert "..." not in text
    assert "# x: float64 values of shape (400,) (too many to show: 400)" in text
    assert "convolve_full(x, h)" in text


# ----------------------------------------------------------------------------- 6. common real bugs


@pytest.mark.parametrize("name", ["assumes len(x) >= len(h)", "mode ignored"])
def test_the_1d_mode_bugs_are_diagnosed_as_themselves(hw1, name):
    _, results = hw1
    graded = results[name]
    assert graded.score < 3 and graded.labels[0] == name, graded.feedback
    assert f"Most likely mistake: {name}" in graded.feedback


def test_a_backward_pass_cropping_with_minus_zero_is_named_with_dx():
    cells = edited_cells("hw4", "conv2d_backward", [("dx = dx_pad[:, :, p:p + h_in, p:p + w_in]",
                                                     "dx = dx_pad[:, :, p:-p, p:-p]")])
    with Grader("hw4", seed=SEED) as grader:
        graded = grader.grade_cells(cells).functions["conv2d_backward"]
        padded = sum(case.kwargs["padding"] > 0 for case in grader.cases["conv2d_backward"])
    assert graded.passed == padded and graded.score == round(3 * padded / graded.total, 2)
    assert graded.labels == ["padding cropped with -0 is empty"], graded.feedback
    headline = block(graded.feedback, "Most likely mistake: padding cropped with -0 is empty")
    assert "dx: wrong output shape: expected (1, 1, 5, 5), got (1, 1, 0, 0)" in headline
    assert "expected dx:" in headline and "got dx:" in headline
    assert "result 0" not in graded.feedback
    assert "padding=0" in headline


# ----------------------------------------------------------------------------- 7. visible checks


def _catches(spec, mistake, case) -> bool:
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    expected = to_plain(spec.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
    try:
        wrong = to_plain(mistake.wrong(*args, **kwargs))
    except Exception:
        return True  # a student's version of it would fail there too
    rtol = spec.rtol if case.rtol is None else case.rtol
    atol = spec.atol if case.atol is None else case.atol
    return find_mismatch(expected, wrong, rtol=rtol, atol=atol) is not None


@pytest.mark.parametrize("hw", ["hw1", "hw2", "hw3", "hw4"])
def test_the_visible_checks_catch_every_catalogue_mistake(hw):
    if hw == "hw4":
        pytest.importorskip("torch")
    missed = []
    for spec in load_assignment(hw).functions:
        visible = [case for case in spec.build_cases(np.random.default_rng(0))
                   if case.visible and case.device == "cpu"]
        missed += [f"{spec.name}: {mistake.name}" for mistake in spec.mistakes
                   if not any(_catches(spec, mistake, case) for case in visible)]
    assert missed == []


def test_an_unflipped_kernel_fails_the_default_mode_check(capsys):
    def convolve(x, h, mode="full"):
        x, h = np.asarray(x, float), np.asarray(h, float)[::-1]
        full = np.zeros(len(x) + len(h) - 1)
        for k in range(len(h)):
            full[k:k + len(x)] += h[k] * x
        return full if mode == "full" else full[: max(len(x), len(h))]

    check("hw1", "convolve", convolve)
    out = capsys.readouterr().out
    assert "default mode is 'full'" in out.split("Failed checks:")[1]


@pytest.mark.parametrize("hw", ["hw1", "hw2", "hw3", "hw4"])
def test_every_example_call_rebuilds_its_case_exactly(hw):
    """Pasted into a cell, each small case's example calls the function with the very inputs."""
    torch = pytest.importorskip("torch") if hw == "hw4" else None
    from convlib.grading._judge import MAX_SHOWN_INPUT, describe_inputs, input_size

    rebuilt = 0
    for spec in load_assignment(hw).functions:
        for case in spec.build_cases(np.random.default_rng(0)):
            code = describe_inputs(spec, case)
            assert "..." not in code
            compile(code, "<example>", "exec")
            if input_size(case) > MAX_SHOWN_INPUT:
                assert "too many to show" in code  # the inputs are named by shape and dtype
                continue
            calls = []
            namespace = {"np": np, "torch": torch, spec.name: lambda *a, **k: calls.append((a, k))}
            exec(compile(code, "<example>", "exec"), namespace)
            (args, kwargs), = calls
            assert kwargs.keys() == case.kwargs.keys() and len(args) == len(case.args)
            for got, want in zip(list(args) + list(kwargs.values()), list(case.args) + list(case.kwargs.values())):
                if hasattr(want, "dtype"):
                    assert got.dtype == want.dtype and got.shape == want.shape
                    assert np.array_equal(np.asarray(got.tolist()), np.asarray(want.tolist()))
                else:
                    assert got == want
            rebuilt += 1
    assert rebuilt >= 20
