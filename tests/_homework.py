"""Shared steps and checks of the homework tests (tests/test_grading_hw2.py ... hw4.py).

A *mutation* is a small edit of one function's solution cell that reproduces a
classic mistake the way a student writes it; the tests grade mutated notebooks
with the real sandboxed engine and expect that mistake to be named.

:class:`HomeworkSuite` holds the four checks every homework passes; a test module
subclasses it with its assignment's name and mutations and keeps only its own tests.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from convlib.grading.engine import Grader, student_cells
from convlib.grading.preprocessors import INSTRUCTOR_TAG  # cells the release drops
from convlib.grading.spec import Assignment, load_assignment

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def solution_notebook(hw: str) -> Any:
    """The instructor's notebook ``solutions/<hw>/<hw>.ipynb``."""
    return nbformat.read(str(ROOT / "solutions" / hw / f"{hw}.ipynb"), as_version=4)


def _nbgrader(cell: Any) -> dict:
    return cell.metadata.get("nbgrader", {})


def mutated_cells(notebook: Any, function: str, edits: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """The set-up cells plus ``function``'s solution cell with ``edits`` applied.

    Each ``old`` text must occur exactly once in the cell, so that a change of the
    solution cannot silently turn a mutation into a no-op.
    """
    cells = []
    for index, cell in enumerate(notebook.cells):
        meta = _nbgrader(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("locked") and not meta.get("grade"):  # the imports cell
            cells.append((index, cell.source))
        elif meta.get("grade_id") == f"{function}_impl":
            source = cell.source
            for old, new in edits:
                assert source.count(old) == 1, f"{function}: {old!r} occurs {source.count(old)} times"
                source = source.replace(old, new)
            cells.append((index, source))
    assert any(source for index, source in cells if f"def {function}(" in source)
    return cells


def edited_cells(hw: str, function: str, edits: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Every code cell of the solution notebook, ``function``'s solution cell edited.

    Unlike :func:`mutated_cells`, the other solution cells stay, for functions that
    call each other (hw1's ``convolve`` calls ``convolve_full``); the cell positions
    are the notebook's own.
    """
    notebook = solution_notebook(hw)
    cells = []
    for index, source in student_cells(notebook):
        if _nbgrader(notebook.cells[index]).get("grade_id") == f"{function}_impl":
            for old, new in edits:
                assert source.count(old) == 1, f"{function}: {old!r} occurs {source.count(old)} times"
                source = source.replace(old, new)
        cells.append((index, source))
    return cells


def mutation_ids(mutations: dict) -> list[str]:
    return [f"{function}-{mistake}" for function, mistake in mutations]


def graded_mutations(grader: Any, notebook: Any, mutations: dict, *, whole_notebook: bool = False) -> dict:
    """Grade every mutated notebook at once: ``(function, mistake) -> FunctionResult``.

    ``whole_notebook``: keep every cell of the solution (see :func:`edited_cells`), for
    assignments whose functions call each other.
    """
    if whole_notebook:
        hw = grader.assignment.name
        notebooks = {f"{function}/{mistake}": edited_cells(hw, function, edits)
                     for (function, mistake), edits in mutations.items()}
    else:
        notebooks = {f"{function}/{mistake}": mutated_cells(notebook, function, edits)
                     for (function, mistake), edits in mutations.items()}
    results = grader.grade_many(notebooks)
    return {(function, mistake): results[f"{function}/{mistake}"].functions[function]
            for function, mistake in mutations}


def generated_release(hw: str, tmp_path: Path) -> Any:
    """Run ``nbgrader generate_assignment`` on a copy of the course; return the release."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions" / hw, course / "solutions" / hw)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    # nbgrader runs alembic from PATH; the course's config imports convlib from this checkout
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    completed = subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", hw, "--force",
         f"--CourseDirectory.root={course}", f"--CourseDirectory.db_url=sqlite:///{course}/gradebook.db"],
        cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return nbformat.read(str(course / "exercises" / hw / f"{hw}.ipynb"), as_version=4)


def release_problems(source: Any, release: Any) -> list[str]:
    """Ways in which ``release`` leaks the solution or differs in structure from ``source``."""
    problems = []
    notes = [cell for cell in source.cells if INSTRUCTOR_TAG in cell.metadata.get("tags", [])]
    if not notes:
        problems.append("the source has no instructor notes")
    kept = [cell for cell in source.cells if INSTRUCTOR_TAG not in cell.metadata.get("tags", [])]
    if len(release.cells) != len(kept):
        problems.append(f"{len(release.cells)} cells in the release, {len(kept)} expected")
    released_text = "\n".join(cell.source for cell in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "Instructor notes"):
        if marker in released_text:
            problems.append(f"the release contains {marker!r}")
    release_lines = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    for cell in notes:
        for line in cell.source.splitlines():
            if len(line.strip()) > 12 and line.strip() in release_lines:
                problems.append(f"instructor note {line.strip()!r} is in the release")
    for cell, released in zip(kept, release.cells):
        meta = _nbgrader(cell)
        for region in SOLUTION_REGION.findall(cell.source):
            for line in region.splitlines():
                line = line.strip()
                if len(line) > 12 and line in release_lines:
                    problems.append(f"solution line {line!r} is in the release")
        if meta.get("solution"):
            if "raise NotImplementedError()" not in released.source:
                problems.append(f"{meta['grade_id']}: no NotImplementedError stub in the release")
        elif meta.get("grade") and released.source != cell.source:
            problems.append(f"{meta['grade_id']}: the test cell differs in the release")
    return problems


class HomeworkSuite:
    """The checks every homework passes, graded by the sandboxed engine as autograding does.

    - The solution notebook scores full marks on every case.
    - Every mistake of the spec has a mutation, and each mutated solution is
      diagnosed as its mistake (named first, points taken off).
    - The release generated by nbgrader has no solution, scores zero and equals
      the committed ``exercises/<hw>``.

    A test module subclasses it (``class TestHw2(HomeworkSuite)``) and sets:

    hw : str
        The assignment's name, e.g. ``"hw2"``.
    mutations : dict
        ``(function, mistake) -> [(old, new), ...]`` edits of that function's solution cell.
    min_cases : int
        The fewest graded cases each function must have.
    whole_notebook : bool, default False
        Grade each mutation with every other solution cell kept (functions that call
        each other, as in hw1); otherwise only the imports and the mutated cell.
    """

    hw: str
    mutations: dict[tuple[str, str], list[tuple[str, str]]]
    min_cases: int
    whole_notebook: bool = False

    @property
    def assignment(self) -> Assignment:
        return load_assignment(self.hw)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One test per mutation, with ids ``function-mistake``."""
        if {"function", "mistake"} <= set(metafunc.fixturenames):
            metafunc.parametrize("function, mistake", list(self.mutations),
                                 ids=mutation_ids(self.mutations))

    def check_solution_result(self, result: Any, grader: Any) -> None:
        """Assignment-specific checks of the solution's grading result (none by default)."""

    @pytest.fixture(scope="class")
    @classmethod
    def grader(cls):
        with Grader(cls.hw) as grader:
            yield grader

    @pytest.fixture(scope="class")
    @classmethod
    def mutation_results(cls, grader):
        return graded_mutations(grader, solution_notebook(cls.hw), cls.mutations,
                                whole_notebook=cls.whole_notebook)

    def test_solution_notebook_scores_full_marks_on_every_case(self, grader):
        result = grader.grade_cells(student_cells(solution_notebook(self.hw)))
        assert not result.cell_errors
        assert set(result.functions) == {spec.name for spec in self.assignment.functions}
        for spec in self.assignment.functions:
            graded = result.functions[spec.name]
            assert graded.total >= self.min_cases, f"{spec.name}: too few cases"
            assert (graded.passed, graded.score) == (graded.total, spec.points), graded.feedback
        self.check_solution_result(result, grader)

    def test_every_mistake_of_the_spec_has_a_mutation(self):
        declared = {(spec.name, mistake.name)
                    for spec in self.assignment.functions for mistake in spec.mistakes}
        assert declared == set(self.mutations)

    def test_mutated_solution_is_diagnosed_as_its_mistake(self, mutation_results, function, mistake):
        graded = mutation_results[function, mistake]
        points = self.assignment.function(function).points
        assert graded.score < points, graded.feedback
        assert graded.labels[0] == mistake, graded.feedback
        assert f"Most likely mistake: {mistake}" in graded.feedback

    @pytest.mark.slow  # runs nbgrader generate_assignment
    def test_release_has_no_solution_scores_zero_and_is_up_to_date(self, grader, tmp_path):
        release = generated_release(self.hw, tmp_path)
        assert release_problems(solution_notebook(self.hw), release) == []
        result = grader.grade_cells(student_cells(release))
        for spec in self.assignment.functions:
            graded = result.functions[spec.name]
            assert graded.score == 0, graded.feedback
            assert graded.passed == 0
        committed = ROOT / "exercises" / self.hw / f"{self.hw}.ipynb"
        assert committed.is_file(), f"run `nbgrader generate_assignment {self.hw} --force` from the repo root"
        want = [(cell.cell_type, cell.source) for cell in release.cells]
        have = [(cell.cell_type, cell.source) for cell in nbformat.read(str(committed), as_version=4).cells]
        assert have == want, (f"exercises/{self.hw} is out of date: "
                              "regenerate it with nbgrader generate_assignment")


def nbgrader_env(pythonpath: str | os.PathLike = ROOT, *, seed: str | None = None,
                 **extra: str) -> dict[str, str]:
    """The environment to run ``nbgrader`` and convlib's graders on a course copy.

    The virtual environment's ``bin`` first on ``PATH`` (nbgrader runs ``alembic``),
    ``PYTHONPATH`` the folder whose ``convlib`` grades, the hidden inputs' seed
    (``CONVLIB_GRADING_SEED``, when given) and ``extra`` variables; the caller's
    ``NBGRADER_DB_URL`` and ``DASK_SCHEDULER_ADDRESS`` are dropped, so each course copy
    keeps its own SQLite gradebook and grades on this machine.
    """
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
           "PYTHONPATH": str(pythonpath)}
    env.pop("NBGRADER_DB_URL", None)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env.pop("CONVLIB_GRADING_SEED", None)
    if seed is not None:
        env["CONVLIB_GRADING_SEED"] = str(seed)
    env.update(extra)
    return env
