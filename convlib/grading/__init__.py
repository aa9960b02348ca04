"""Homework grading: visible checks in the notebook, trusted sandboxed autograding.

- :func:`check` runs in a student's notebook (the test cell of each graded function).
- :mod:`convlib.grading.spec` is the data model of an assignment; ``hwN.py`` modules
  hold each assignment's cases, references and known mistakes.
- :mod:`convlib.grading.engine` grades notebooks in sandboxed, resource-limited child
  processes of a fork server, and compares their results in the trusted process.
- :mod:`convlib.grading.preprocessors` plugs the engine into ``nbgrader autograde``;
  :mod:`convlib.grading.autograde` grades a folder of submissions in parallel, on the
  Dask workers of :mod:`convlib.grading.cluster` (local or on several machines);
  :mod:`convlib.grading.gradebook` says where the gradebook is (SQLite or
  ``$NBGRADER_DB_URL``, e.g. PostgreSQL); :mod:`convlib.grading.report` writes the
  class report.
"""
from __future__ import annotations

from ._check import check

__all__ = ["check"]
