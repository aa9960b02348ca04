"""nbgrader end to end, on temporary copies of the course: release, autograde, feedback, report.

Plain serial ``nbgrader autograde``, the parallel ``python -m convlib.grading.autograde``
and a run interrupted twice then resumed must leave the same gradebook, with the exact
scores the synthetic submissions deserve.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from convlib.grading.engine import Grader

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402
from _homework import nbgrader_env  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEED = "1234"
ENV = nbgrader_env(ROOT, seed=SEED)


def _run(course: Path, *args: str, check: bool = True, **popen) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), cwd=course, env=ENV, capture_output=True, text=True, timeout=900, **popen)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(course, sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}", check=check)


def _autograde_cli(course: Path, check: bool = True) -> subprocess.CompletedProcess:
    return _run(course, sys.executable, "-m", "convlib.grading.autograde", "hw1", "--workers", "2", check=check)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("release") / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "hw1", course / "solutions" / "hw1")
    _nbgrader(course, "generate_assignment", "hw1", "--force")
    return course


def _cells(path: Path) -> list[tuple]:
    notebook = nbformat.read(str(path), as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("nbgrader"), c.metadata.get("tags")) for c in notebook.cells]


def test_committed_release_is_up_to_date_with_the_solutions(released):
    generated = _cells(released / "exercises" / "hw1" / "hw1.ipynb")
    committed = _cells(ROOT / "exercises" / "hw1" / "hw1.ipynb")
    assert generated == committed, "run `nbgrader generate_assignment hw1 --force` and commit exercises/hw1"


def test_release_leaks_no_solution_and_no_instructor_notes(released):
    release = (released / "exercises" / "hw1" / "hw1.ipynb").read_text()
    source = nbformat.read(str(ROOT / "solutions" / "hw1" / "hw1.ipynb"), as_version=4)
    hidden = []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 12:
                hidden.append(line.strip())
        if "instructor-notes" in cell.metadata.get("tags", []):
            hidden += [line.strip() for line in cell.source.splitlines() if len(line.strip()) > 12]
    assert hidden, "the source notebook should have solutions and notes"
    leaked = [line for line in hidden if json.dumps(line)[1:-1] in release]
    assert leaked == []
    assert "BEGIN SOLUTION" not in release and "raise NotImplementedError()" in release


def _dump(course: Path) -> dict:
    """Everything the gradebook says about submissions (no ids, no timestamps)."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions("hw1"):
            for notebook in submission.notebooks:
                grades = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades}
                comments = {c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments}
                rows[submission.student.id] = {"grades": grades, "comments": comments,
                                               "flagged": notebook.flagged, "score": submission.score}
    return rows


def _count(pattern: str, course: Path) -> int:
    return len(list(course.glob(pattern)))


def _interrupt(course: Path, command: list[str], pattern: str, count: int) -> None:
    """Start ``command`` and kill its whole process group once ``count`` files match."""
    process = subprocess.Popen(command, cwd=course, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while _count(pattern, course) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def courses(released, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("base") / "course"
    shutil.copytree(released, base)
    subs.write_submissions(base / "exercises" / "hw1" / "hw1.ipynb", base / "submitted")
    made = {}
    for name in ("serial", "parallel", "interrupted", "loaded"):
        made[name] = tmp_path_factory.mktemp(name) / "course"
        shutil.copytree(base, made[name])
    _nbgrader(made["serial"], "autograde", "hw1", "--force", check=False)  # one notebook is malformed
    _autograde_cli(made["parallel"], check=False)
    course = made["interrupted"]
    _interrupt(course, [sys.executable, "-m", "convlib.grading.autograde", "hw1", "--workers", "2"],
               "grading_results/hw1/*/hw1.json", 6)
    _interrupt(course, [sys.executable, "-m", "nbgrader", "autograde", "hw1", "--force",
                        f"--CourseDirectory.root={course}"], "autograded/*/hw1/hw1.ipynb", 5)
    _autograde_cli(course, check=False)
    return made


def test_serial_parallel_and_interrupted_runs_leave_the_same_gradebook(courses):
    serial = _dump(courses["serial"])
    assert len(serial) == len(subs.NAMES)
    assert _dump(courses["parallel"]) == serial
    assert _dump(courses["interrupted"]) == serial


@pytest.fixture(scope="module")
def loaded(courses) -> Path:
    """The submissions graded by the parallel command with four busy loops per core beside it."""
    course = courses["loaded"]
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4 * (os.cpu_count() or 1))]
    try:
        _autograde_cli(course, check=False)  # one notebook is malformed
    finally:
        for loop in busy:
            loop.kill()
            loop.wait()
    return course


def test_gradebook_does_not_depend_on_load(courses, loaded):
    """The issue's acceptance: the same gradebook, cell for cell, with four busy loops per core."""
    assert _dump(loaded) == _dump(courses["serial"])


def test_gradebook_holds_the_exact_scores(courses):
    gradebook = _dump(courses["serial"])
    cases = Grader("hw1", seed=int(SEED)).cases
    for name in subs.NAMES:
        grades = gradebook[name]["grades"]
        if name == "malformed_json":  # unreadable: no score, flagged for a human
            assert all(auto is None and needs for auto, _, needs in grades.values())
            continue
        got = {grade_id.removeprefix("test_"): auto for grade_id, (auto, _, _) in grades.items()}
        assert got == subs.expected_scores(name, cases), name


def _test_cell(course: Path, student: str, grade_id: str):
    notebook = nbformat.read(str(course / "autograded" / student / "hw1" / "hw1.ipynb"), as_version=4)
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_test_cells_hold_the_trusted_feedback_and_score(courses):
    cell = _test_cell(courses["serial"], "kernel_not_flipped", "test_convolve_full")
    stream, result = cell.outputs
    assert "Most likely mistake: kernel not flipped" in stream.text
    assert float(result.data["text/plain"]) < 2.0
    edited = _test_cell(courses["serial"], "edits_locked_test_cell", "test_convolve_full")
    assert 'check("hw1", "convolve_full", convolve_full)' in edited.source  # restored by nbgrader


def test_feedback_never_shows_hidden_case_sources(courses):
    course = courses["serial"]
    _nbgrader(course, "generate_feedback", "hw1", "--student=kernel_not_flipped", "--force")
    html = next((course / "feedback" / "kernel_not_flipped" / "hw1").glob("*.html")).read_text()
    assert "kernel not flipped" in html
    for secret in ("default_rng", "_cases(", "BEGIN HIDDEN", "reference_convolve", "CONVLIB_GRADING_SEED"):
        assert secret not in html


def test_class_report_lists_scores_and_mistakes(courses, tmp_path):
    from convlib.grading import report

    assert report.main(["--root", str(courses["parallel"]), "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "mistakes.csv").read_text().splitlines()
    assert "hw1,convolve_full,kernel not flipped,1" in rows
    assert "hw1,correlate,time limit exceeded,1" in rows
    scores = (tmp_path / "scores.csv").read_text().splitlines()
    assert "hw1,correct,10.0,10.0" in scores and len(scores) == len(subs.NAMES) + 1
    summary = (tmp_path / "summary.md").read_text()
    assert "| hw1 |" in summary
    assert f"Graded in the {os.environ['CONVLIB_GRADING_ISOLATION']!r} sandbox." in summary
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------- hostile notebooks, forged files


@pytest.fixture(scope="module")
def hostile_course(released, tmp_path_factory) -> Path:
    """A course with a script in a student's markdown, a duplicated graded cell, a forged result
    for an honest student and a fake in-progress marker naming a live process (this one)."""
    from convlib.grading.results import MARKER_NAME, RESULTS_DIRECTORY

    course = tmp_path_factory.mktemp("hostile") / "course"
    shutil.copytree(released, course)
    release = course / "exercises" / "hw1" / "hw1.ipynb"
    subs.write_submissions(release, course / "submitted", names=("correct",))
    xss = subs.build(nbformat.read(str(release), as_version=4), "correct")
    xss.cells.insert(0, nbformat.v4.new_markdown_cell(
        "Hello <script>document.title='pwned'</script><img src=x onerror=\"alert('pwned')\">"))
    (course / "submitted" / "xss" / "hw1").mkdir(parents=True)
    nbformat.write(xss, str(course / "submitted" / "xss" / "hw1" / "hw1.ipynb"))
    duplicated = subs.build(nbformat.read(str(release), as_version=4), "correct")
    test_cell = next(c for c in duplicated.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_convolve")
    duplicated.cells.insert(duplicated.cells.index(test_cell), copy.deepcopy(test_cell))
    (course / "submitted" / "duplicated" / "hw1").mkdir(parents=True)
    nbformat.write(duplicated, str(course / "submitted" / "duplicated" / "hw1" / "hw1.ipynb"))
    # forged: a zero result stored under the honest student's name, and a marker naming a live pid
    forged = course / RESULTS_DIRECTORY / "hw1" / "correct" / "hw1.json"
    forged.parent.mkdir(parents=True)
    forged.write_text(json.dumps({"payload": {"key": "x", "result": {"functions": {}}}, "signature": "0" * 64}))
    (course / RESULTS_DIRECTORY / "hw1" / MARKER_NAME).write_text(json.dumps(
        {"payload": {"pid": os.getpid(), "start": None, "keys": {}}, "signature": "0" * 64}))
    _nbgrader(course, "autograde", "hw1", "--force")  # would wait an hour if the marker were trusted
    _nbgrader(course, "generate_feedback", "hw1", "--force")
    return course


def test_feedback_escapes_student_html_and_scripts(hostile_course):
    html = (hostile_course / "feedback" / "xss" / "hw1" / "hw1.html").read_text()
    assert "Hello" in html
    assert re.search(r"<script>[^<]*pwned", html) is None  # shown as text, never run
    assert re.search(r"<[a-z]+[^>]*onerror", html) is None
    assert "graded in the" in html


def test_a_duplicated_graded_cell_is_graded_not_crashed(hostile_course):
    rows = _dump(hostile_course)
    assert rows["duplicated"]["score"] == 10.0
    assert rows["xss"]["score"] == 10.0


def test_forged_results_and_fake_markers_are_ignored(hostile_course):
    rows = _dump(hostile_course)
    assert rows["correct"]["score"] == 10.0  # the forged zero was not trusted
    from convlib.grading.results import ResultStore

    assert ResultStore(hostile_course, "hw1").load("correct", "hw1") is not None  # re-signed by the grader
