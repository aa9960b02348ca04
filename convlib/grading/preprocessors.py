"""nbgrader preprocessor: autograde with the trusted, sandboxed engine.

``nbgrader_config.py`` puts :class:`TrustedExecute` in place of nbgrader's
``Execute`` in ``c.Autograde.autograde_preprocessors``, so plain ``nbgrader
autograde hwN`` grades the trusted way: the student's notebook is *not* run in a
Jupyter kernel whose output decides the score. The engine runs the student's code
cells and graded functions in sandboxed children, compares their results with the
references in this process, and this preprocessor writes each graded test cell's
outputs itself: the feedback on stdout and the score as the cell's
``execute_result`` (nbgrader's partial credit). Nothing in a test cell's output
comes from the student's process, and no hidden case's source is ever printed.

Each notebook's result is also kept in the signed result store
(:class:`convlib.grading.results.ResultStore`, ``grading_results/``): the class
report reads it, and ``python -m convlib.grading.autograde`` fills it in parallel
(while nbgrader runs), in which case this preprocessor only reads it back, waiting for
it if the command announced it (the key is a hash of the code that would run and of
the grader itself, so a stale result is never used; the signature, so a forged one is
never trusted).
"""
from __future__ import annotations

import atexit
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from .engine import Grader, NotebookResult, grading_seed, student_cells
from .results import ResultStore
from .spec import load_assignment

__all__ = ["DropDuplicateIds", "RemoveInstructorNotes", "SanitizeStudentHTML", "TrustedExecute"]

_GRADERS: dict[tuple[Any, ...], Grader] = {}


def _close_graders() -> None:
    for grader in _GRADERS.values():
        grader.close()
    _GRADERS.clear()


atexit.register(_close_graders)


def _get_grader(assignment: str, *, root: str, workers: int = 1, time_scale: float = 1.0,
                isolation: str | None = None) -> Grader:
    """A :class:`Grader` for ``assignment``, started once per process and reused."""
    key = (assignment, str(root), workers, time_scale, grading_seed(root), isolation)
    if key not in _GRADERS:
        _GRADERS[key] = Grader(assignment, workers=workers, seed=grading_seed(root), time_scale=time_scale,
                               isolation=isolation, protected=[root])
    return _GRADERS[key]


def _stream(text: str) -> NotebookNode:
    return from_dict({"output_type": "stream", "name": "stdout", "text": text})


def _score(value: float) -> NotebookNode:
    return from_dict({"output_type": "execute_result", "execution_count": None, "metadata": {},
                      "data": {"text/plain": repr(float(value))}})


def _error(name: str, text: str) -> NotebookNode:
    return from_dict({"output_type": "error", "ename": name, "evalue": text, "traceback": [f"{name}: {text}"]})


def _write_outputs(nb: NotebookNode, result: NotebookResult, grade_ids: dict[str, str]) -> None:
    """Replace every code cell's outputs by the trusted grader's (feedback and score)."""
    first_graded = True
    header = f"(graded in the {result.isolation!r} sandbox"
    header += ("; the operating-system layer was off)\n" if result.isolation == "process" else ")\n")
    errors = {index: result.cell_errors[k] for k, (index, _) in enumerate(student_cells(nb))
              if k in result.cell_errors}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            function = grade_ids.get(meta.get("grade_id"))
            if function is None or function not in result.functions:
                cell.outputs = [_error("GradingError", "this test cell has no trusted check")]
                continue
            verdict = result.functions[function]
            text = verdict.feedback + header
            if first_graded and result.notes:
                text += "\n".join(result.notes) + "\n"
            first_graded = False
            cell.outputs = [_stream(text), _score(verdict.score)]
        elif index in errors:
            cell.outputs = [_error("CellError", errors[index])]


class TrustedExecute(NbGraderPreprocessor):
    """Autograde a notebook with :mod:`convlib.grading.engine` instead of a kernel."""

    workers = Integer(1, help="Sandboxed jobs run at once for one notebook's functions").tag(config=True)
    time_scale = Float(1.0, help="Multiplies every function's CPU time limit").tag(config=True)
    isolation = Unicode(
        "", help="Sandbox level: 'os' or 'process' (default: $CONVLIB_GRADING_ISOLATION, else 'os')"
    ).tag(config=True)
    fallback_execute = Bool(
        True, help="Run nbgrader's Execute for assignments without a convlib.grading spec"
    ).tag(config=True)

    def _course_root(self) -> str:
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config).root

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        try:
            spec = load_assignment(assignment)
        except ValueError:
            if not self.fallback_execute:
                raise
            from nbgrader.preprocessors import Execute

            self.log.warning("No convlib.grading spec for %s: running nbgrader's Execute", assignment)
            return Execute(config=self.config, parent=self.parent).preprocess(nb, resources)
        root = self._course_root()
        grader = _get_grader(assignment, root=root, workers=self.workers, time_scale=self.time_scale,
                             isolation=self.isolation or None)
        cells = student_cells(nb)
        key = grader.cache_key(cells)
        store = ResultStore(root, assignment)
        result = store.load(student, notebook, key)
        if result is None:
            result = store.wait(student, notebook, key)
        if result is None:
            self.log.info("Grading %s/%s/%s in the sandbox", assignment, student, notebook)
            result = grader.grade_cells(cells)
            store.write(student, notebook, key, result)
        else:
            self.log.info("Using the stored result of %s/%s/%s", assignment, student, notebook)
        _write_outputs(nb, result, {f.grade_id: f.name for f in spec.functions})
        return nb, resources


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's ``DeduplicateIds``, leaving no empty ``nbgrader`` metadata behind.

    nbgrader keeps the last cell of a duplicated ``grade_id`` and empties the earlier
    copies' metadata to ``{}``, on which its own ``OverwriteCells`` then fails (a
    ``KeyError`` that loses the whole notebook). Here the earlier copy becomes a plain
    cell, and the notebook is graded as if the copy were not graded.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if "nbgrader" in cell.metadata and not cell.metadata["nbgrader"]:
            del cell.metadata["nbgrader"]
        return cell, resources


class SanitizeStudentHTML(NbGraderPreprocessor):
    """Make a student's notebook safe to open as feedback: no HTML or script of theirs runs.

    nbgrader's feedback template renders markdown cells itself (nbconvert's
    ``sanitize_html`` never reaches them), so this preprocessor, first in
    ``c.GenerateFeedback.preprocessors``, passes every markdown cell's source through
    nbconvert's ``clean_html`` (disallowed tags and attributes, such as ``<script>`` and
    ``onerror``, are escaped and shown as text), turns raw cells into plain text, and
    drops attachments.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Hi <script>x()</script>")])
    >>> SanitizeStudentHTML().preprocess(nb, {})[0].cells[0].source
    'Hi &lt;script&gt;x()&lt;/script&gt;'
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        from nbconvert.filters import clean_html

        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = clean_html(cell.source)
                cell.pop("attachments", None)
            elif cell.cell_type == "raw":
                cell.metadata.pop("format", None)
                cell.metadata.pop("raw_mimetype", None)
                cell.source = clean_html(cell.source)
        return nb, resources


INSTRUCTOR_TAG = "instructor-notes"


class RemoveInstructorNotes(NbGraderPreprocessor):
    """Drop the cells tagged ``instructor-notes`` from a release (``generate_assignment``).

    The source notebooks in ``solutions/`` double as instructor notebooks: notes on the
    mistakes students make, and how to teach them, live in markdown cells with this
    tag. nbgrader has no release step that removes a whole untracked cell, so this
    preprocessor runs first in ``c.GenerateAssignment.preprocessors``.
    """

    tag = Unicode(INSTRUCTOR_TAG, help="Cells with this tag are removed from the release").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        nb.cells = [cell for cell in nb.cells if self.tag not in cell.get("metadata", {}).get("tags", [])]
        return nb, resources
