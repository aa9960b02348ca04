"""Shared steps of the homework tests (tests/test_grading_hw2.py ... hw4.py).

A *mutation* is a small edit of one function's solution cell that reproduces a
classic mistake the way a student writes it; the tests grade mutated notebooks
with the real sandboxed engine and expect that mistake to be named.
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

from convlib.grading.preprocessors import INSTRUCTOR_TAG  # cells the release drops

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


def mutation_ids(mutations: dict) -> list[str]:
    return [f"{function}-{mistake}" for function, mistake in mutations]


def graded_mutations(grader: Any, notebook: Any, mutations: dict) -> dict:
    """Grade every mutated notebook at once: ``(function, mistake) -> FunctionResult``."""
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
