"""The trusted engine on synthetic hw1 submissions: exact scores, diagnoses, isolation, seeds, GPU."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from convlib.grading.engine import Grader, student_cells
from convlib.grading.spec import Assignment, Case, FunctionSpec, Mistake

sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RELEASE = nbformat.read(str(ROOT / "exercises" / "hw1" / "hw1.ipynb"), as_version=4)
SEED = 1234
NAMES = [name for name in subs.NAMES if name != "malformed_json"]


def _cells(name):
    return student_cells(subs.build(RELEASE, name))


def _correct_but_poly_multiply(source):
    """The correct submission, poly_multiply's cell replaced by ``source`` (a last cell)."""
    return [(i, s) for i, s in _cells("correct") if "def poly_multiply" not in s] + [(10_000, source)]


# poly_multiply(p, q) as torch's conv1d sees it: x and the flipped kernel w, shaped (1, 1, n)
TORCH_OPERANDS = ("    x = torch.tensor(np.asarray(p, float))[None, None]\n"
                  "    w = torch.tensor(np.asarray(q, float)[::-1].copy())[None, None]\n")


@pytest.fixture(scope="module")
def graded():
    """Every synthetic submission graded once, two sandboxed jobs at a time."""
    with Grader("hw1", workers=2, seed=SEED) as grader:
        results = grader.grade_many({name: _cells(name) for name in NAMES})
        return grader, results


def test_correct_submission_scores_full(graded):
    _, results = graded
    assert results["correct"].score == 10.0
    assert all(f.passed == f.total for f in results["correct"].functions.values())


def test_unchanged_release_scores_zero(graded):
    _, results = graded
    verdicts = results["unchanged_release"].functions
    assert results["unchanged_release"].score == 0.0
    assert all(v.labels == ["raised an exception"] for v in verdicts.values())
    assert "NotImplementedError" in verdicts["convolve"].feedback


@pytest.mark.parametrize("name", sorted(subs.MISTAKES))
def test_mistake_scores_exactly_and_is_named(graded, name):
    grader, results = graded
    function, _, label = subs.MISTAKES[name]
    expected = subs.expected_scores(name, grader.cases)
    got = {f: v.score for f, v in results[name].functions.items()}
    assert got == expected
    verdict = results[name].functions[function]
    assert verdict.labels[0] == label
    assert f"Most likely mistake: {label}" in verdict.feedback
    assert "expected:" in verdict.feedback and "got:" in verdict.feedback


@pytest.mark.parametrize("name", sorted(subs.HOSTILE))
def test_hostile_code_costs_only_what_it_breaks(graded, name):
    grader, results = graded
    expected = subs.expected_scores(name, grader.cases)
    got = {f: v.score for f, v in results[name].functions.items()}
    assert got == expected
    for function, (_, label) in subs.HOSTILE[name]["expect"].items():
        assert label in results[name].functions[function].labels


def test_forbidden_call_feedback_names_the_call(graded):
    _, results = graded
    assert "numpy.convolve" in results["forbidden_static"].functions["poly_multiply"].feedback
    assert "numpy.convolve" in results["forbidden_dynamic"].functions["poly_multiply"].feedback
    assert "scipy.signal.fftconvolve" in results["forbidden_hidden_in_helper"].functions["convolve_full"].feedback


def test_top_level_trouble_is_reported_on_the_cell(graded):
    _, results = graded
    killed = results["kills_kernel_at_top_level"]
    assert any("ended the Python process" in text for text in killed.cell_errors.values())
    syntax = results["syntax_error"]
    assert any(text.startswith("SyntaxError") for text in syntax.cell_errors.values())
    assert "def convolve(x, h, mode='full':" in syntax.functions["convolve"].feedback
    patched = results["patches_checks_at_top_level"]
    assert any("numpy.isclose" in note for note in patched.notes)


def test_a_looping_function_stops_after_two_time_outs(graded):
    _, results = graded
    outcomes = results["infinite_loop"].functions["correlate"].outcomes
    assert [o.status for o in outcomes].count("timeout") == 2
    assert all(o.status in ("timeout", "not run") for o in outcomes)


def test_parallel_grading_equals_serial(graded):
    _, results = graded
    names = ["correct", "kernel_not_flipped", "kills_kernel", "monkeypatches_numpy", "syntax_error"]
    with Grader("hw1", workers=1, seed=SEED) as grader:
        serial = grader.grade_many({name: _cells(name) for name in names})
    for name in names:
        assert serial[name].as_dict() == results[name].as_dict()


def test_a_library_first_imported_by_the_cells_is_guarded_too():
    # hw1 does not preload torch: the cells import it, and the child guards it then
    # (with no new forbidden object, only the modules the cells imported are walked)
    cells = _correct_but_poly_multiply(
        "import torch\nimport torch.nn.functional as F\nconv = F.conv1d\n"
        "import numpy as np\nimport json, html  # new modules, nothing new to guard\n"
        "def poly_multiply(p, q):\n" + TORCH_OPERANDS +
        "    return conv(x, w, padding=len(q) - 1)[0, 0].numpy()\n")
    with Grader("hw1", seed=SEED) as grader:
        result = grader.grade_cells(cells)
    assert result.functions["poly_multiply"].score == 0.0
    assert "forbidden call" in result.functions["poly_multiply"].labels
    assert "torch.nn.functional.conv1d" in result.functions["poly_multiply"].feedback
    assert result.functions["convolve_full"].score == 2.0  # the others are untouched


def test_torch_private_alias_is_guarded_at_run_time_not_only_by_review():
    # torch._VF finds conv1d in torch's immutable C class; the name is spelled so that
    # review() (which flags the text "torch._VF") does not see it
    cells = _correct_but_poly_multiply(
        "import torch\nimport numpy as np\nvf = getattr(torch, '_' + 'VF')\n"
        "def poly_multiply(p, q):\n" + TORCH_OPERANDS +
        "    return vf.conv1d(x, w, None, [1], [len(q) - 1])[0, 0].numpy()\n")
    with Grader("hw1", seed=SEED) as grader:
        result = grader.grade_cells(cells)
    verdict = result.functions["poly_multiply"]
    assert result.flagged == []  # not caught by review
    assert verdict.score == 0.0 and "forbidden call" in verdict.labels, verdict.feedback


def test_student_code_sees_none_of_the_graders_secrets(monkeypatch):
    secrets = {"CONVLIB_GRADING_SEED": "918273", "CONVLIB_GRADING_KEY": "k-918273",
               "NBGRADER_DB_URL": "postgresql://grader:pw918273@db/course", "AWS_SECRET_ACCESS_KEY": "918273"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    cells = _correct_but_poly_multiply(
        "import os\nimport numpy as np\n"
        "SEEN = [k for k, v in os.environ.items() if '918273' in k + v]\n"
        "def poly_multiply(p, q):\n"
        "    p, q = np.asarray(p), np.asarray(q)\n"
        "    out = np.zeros(len(p) + len(q) - 1, np.result_type(p, q, float))\n"
        "    for i, a in enumerate(p):\n"
        "        out[i:i + len(q)] += a * q\n"
        "    return out if not SEEN else out + 1\n")
    with Grader("hw1", seed=SEED) as grader:
        result = grader.grade_cells(cells)
    assert result.functions["poly_multiply"].score == 2.0, result.functions["poly_multiply"].feedback


def test_solution_notebook_passes_every_case_for_any_seed():
    solution = nbformat.read(str(ROOT / "solutions" / "hw1" / "hw1.ipynb"), as_version=4)
    for seed in (0, 987654321):
        with Grader("hw1", seed=seed) as grader:
            result = grader.grade_notebook(solution)
        assert result.score == 10.0, {f: v.feedback for f, v in result.functions.items()}


def test_the_secret_seed_changes_hidden_inputs_only():
    one, two, again = (Grader("hw1", seed=s) for s in (1, 2, 1))
    for function in ("convolve", "correlate"):
        pairs = list(zip(one.cases[function], two.cases[function], again.cases[function]))
        for a, b, c in pairs:
            assert all(np.array_equal(x, z) for x, z in zip(a.args, c.args))  # reproducible
            if a.visible:
                assert all(np.array_equal(x, y) for x, y in zip(a.args, b.args))
        assert any(not a.visible and not np.array_equal(a.args[0], b.args[0]) for a, b, _ in pairs)


def test_the_cache_key_depends_on_code_and_seed_only():
    one, two = Grader("hw1", seed=1), Grader("hw1", seed=2)
    cells = [(3, "def f():\n    pass")]
    assert one.cache_key(cells) == one.cache_key([(7, "def f():\n    pass")])
    assert one.cache_key(cells) != one.cache_key([(3, "def f():\n    return 1")])
    assert one.cache_key(cells) != two.cache_key(cells)


# ----------------------------------------------------------------------------- torch and CUDA


def _double_cases():
    import torch

    return [Case(f"{dtype} on {device}", (torch.arange(6, dtype=dtype).reshape(2, 3) - 2,), device=device)
            for device in ("cpu", "cuda") for dtype in (torch.float32, torch.float64)]


TORCH_DEMO = Assignment(
    name="torch_demo",
    functions=(FunctionSpec("double", "test_double", 1, _double_cases, lambda x: x * 2,
                            mistakes=(Mistake("added one", "Multiply by two.", lambda x: x + 1),)),),
    forbidden=("torch.nn.functional.conv1d",),
    preload=("torch",),
)
GOOD_DOUBLE = [(0, "def double(x):\n    return x + x")]
CPU_DOUBLE = [(0, "def double(x):\n    return (x + x).cpu()")]


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def test_gpu_checks_are_left_out_without_cuda():
    with Grader(TORCH_DEMO, cuda=False) as grader:
        verdict = grader.grade_cells(GOOD_DOUBLE).functions["double"]
    assert (verdict.score, verdict.passed, verdict.total, verdict.gpu_skipped) == (1.0, 2, 2, 2)
    assert "GPU checks were not run" in verdict.feedback


@pytest.mark.skipif(not _cuda_available(), reason="CUDA not available")
def test_gpu_checks_run_on_cuda_and_check_the_device():
    with Grader(TORCH_DEMO, cuda=True) as grader:
        good = grader.grade_cells(GOOD_DOUBLE).functions["double"]
        wrong_device = grader.grade_cells(CPU_DOUBLE).functions["double"]
    assert (good.score, good.passed, good.total, good.gpu_skipped) == (1.0, 4, 4, 0)
    assert (wrong_device.passed, wrong_device.labels) == (2, ["wrong device"])


@pytest.mark.skipif(_cuda_available(), reason="needs a machine without CUDA (CUDA machines run the GPU checks)")
def test_cuda_failing_to_start_in_the_sandbox_costs_no_points():
    with Grader(TORCH_DEMO, cuda=True) as grader:  # told to run CUDA cases where CUDA cannot start
        verdict = grader.grade_cells(GOOD_DOUBLE).functions["double"]
    assert (verdict.score, verdict.passed, verdict.total, verdict.gpu_skipped) == (1.0, 2, 2, 2)
    assert "CUDA could not start" in verdict.feedback


def test_creating_or_listing_folders_of_the_course_is_refused_and_flagged(tmp_path):
    course = tmp_path / "course"
    (course / "submitted" / "ada").mkdir(parents=True)
    cells = _cells("correct") + [(10_000, f"import os\nos.makedirs({str(course / 'submitted' / 'fake')!r})\n"),
                                 (10_001, f"import os\nprint(os.listdir({str(course / 'submitted')!r}))\n")]
    with Grader("hw1", seed=SEED, protected=[course]) as grader:
        result = grader.grade_cells(cells)
    assert not (course / "submitted" / "fake").exists()
    # makedirs is refused on the first folder it tries (the course itself where it is not visible)
    assert str(course / "submitted") in result.flagged, result.flagged  # os.listdir
    assert any(reason.startswith(str(course)) and reason != str(course / "submitted")
               for reason in result.flagged), result.flagged  # os.mkdir
    assert result.score == 0.0  # withheld for review
