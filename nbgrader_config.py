"""nbgrader configuration: the repository root is the course root.

- ``solutions/hwN/hwN.ipynb`` is the source (instructor) notebook, ``exercises/`` the
  generated release (``nbgrader generate_assignment hwN --force``).
- ``nbgrader autograde hwN`` grades with convlib's trusted, sandboxed engine
  (``convlib.grading.preprocessors.TrustedExecute`` replaces nbgrader's ``Execute``);
  ``python -m convlib.grading.autograde hwN --workers 2`` does the same in parallel.
- Instructor notes are markdown cells tagged ``instructor-notes`` in the source notebooks;
  the release drops them.
- The gradebook is ``gradebook.db`` here unless ``NBGRADER_DB_URL`` names another
  database (PostgreSQL: ``postgresql+psycopg://user:password@host:5432/dbname``).
- Hidden inputs are drawn from a secret seed: set ``CONVLIB_GRADING_SEED`` or write it
  to ``.grading_seed`` here (never commit it).
Run nbgrader from this folder (it reads ``nbgrader_config.py`` from the current folder)
with the virtual environment's ``bin`` on ``PATH`` (nbgrader runs ``alembic``).
"""
import os
import sys

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

_root = os.path.dirname(os.path.abspath(__file__))
if _root not in sys.path:
    sys.path.insert(0, _root)

c.CourseDirectory.root = _root
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

from convlib.grading.gradebook import database_url  # noqa: E402

# the gradebook: SQLite at the course root, or the database named by NBGRADER_DB_URL
# (e.g. postgresql+psycopg://grader:password@db-host:5432/course, shared by several graders)
c.CourseDirectory.db_url = database_url(_root)
# nbgrader's default course id is "": SQLite ignores the assignment -> course foreign key,
# PostgreSQL enforces it (nbgrader then fails to add the assignment), so name the course
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "convolution")

from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback  # noqa: E402
from nbgrader.preprocessors import DeduplicateIds, Execute  # noqa: E402

from convlib.grading.preprocessors import (DropDuplicateIds, RemoveInstructorNotes,  # noqa: E402
                                           SanitizeStudentHTML, TrustedExecute)

# nbgrader's own lists, derived (not copied): the release first drops the cells tagged
# "instructor-notes"; autograding runs the trusted, sandboxed grader instead of Execute
c.GenerateAssignment.preprocessors = [
    RemoveInstructorNotes, *GenerateAssignment.class_traits()["preprocessors"].default()]
c.Autograde.autograde_preprocessors = [
    TrustedExecute if p is Execute else p for p in Autograde.class_traits()["autograde_preprocessors"].default()]
# a duplicated graded cell: the earlier copy becomes a plain cell (nbgrader's own would crash)
c.Autograde.sanitize_preprocessors = [
    DropDuplicateIds if p is DeduplicateIds else p for p in Autograde.class_traits()["sanitize_preprocessors"].default()]
# the feedback shows the student's markdown, but no HTML or script of theirs runs when opened
c.HTMLExporter.sanitize_html = True
c.GenerateFeedback.preprocessors = [
    SanitizeStudentHTML, *GenerateFeedback.class_traits()["preprocessors"].default()]
# the sandbox's level: "os" (refused where the machine lacks it) or an explicit "process";
# CONVLIB_GRADING_ISOLATION (set by `python -m convlib.grading.autograde --isolation=...`) wins
c.TrustedExecute.isolation = os.environ.get("CONVLIB_GRADING_ISOLATION", "os")
# a deleted test cell is put back (and graded) rather than silently missing
c.OverwriteCells.add_missing_cells = True
# `nbgrader validate` still runs a kernel: the visible checks, a few seconds per cell
c.Execute.timeout = 60
