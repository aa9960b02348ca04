"""Where the course's nbgrader gradebook lives, and what it holds.

The gradebook is an SQLite file at the course root (``gradebook.db``) unless the
environment variable ``NBGRADER_DB_URL`` names another SQLAlchemy database, for
example a PostgreSQL server shared by several graders::

    export NBGRADER_DB_URL=postgresql+psycopg://grader:secret@db.example.org/conv2026

``nbgrader_config.py`` sets ``c.CourseDirectory.db_url`` from :func:`database_url`,
and the class report reads the same URL, so every ``nbgrader`` command, the
parallel grader and the report use one database.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

__all__ = ["DB_URL_VARIABLE", "database_url", "gradebook_rows", "hide_password"]

DB_URL_VARIABLE = "NBGRADER_DB_URL"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\+[A-Za-z0-9_]+)?://")


def database_url(root: str | os.PathLike, environ: Mapping[str, str] | None = None) -> str:
    """The gradebook's SQLAlchemy URL: ``$NBGRADER_DB_URL`` or ``sqlite:///<root>/gradebook.db``.

    Parameters
    ----------
    root : path
        The course root (where ``nbgrader_config.py`` is).
    environ : mapping, optional
        Where to look for ``NBGRADER_DB_URL``; default ``os.environ``.

    Raises
    ------
    ValueError
        If ``NBGRADER_DB_URL`` is set but is not a database URL.

    Examples
    --------
    >>> database_url("/course", environ={})
    'sqlite:////course/gradebook.db'
    >>> database_url("/course", environ={"NBGRADER_DB_URL": "postgresql+psycopg://g@db/c"})
    'postgresql+psycopg://g@db/c'
    """
    environ = os.environ if environ is None else environ
    url = environ.get(DB_URL_VARIABLE, "").strip()
    if not url:
        return "sqlite:///" + str(Path(os.path.abspath(root)) / "gradebook.db")
    if not _URL.match(url):
        raise ValueError(f"{DB_URL_VARIABLE} must be an SQLAlchemy database URL such as "
                         f"'postgresql+psycopg://user:password@host:5432/course', got {hide_password(url)!r}")
    return url


def hide_password(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for logs and error messages).

    Examples
    --------
    >>> hide_password("postgresql+psycopg://grader:s3cret@db.example.org:5432/conv")
    'postgresql+psycopg://grader:***@db.example.org:5432/conv'
    >>> hide_password("grader:s3cret@db/conv")
    'grader:***@db/conv'
    >>> hide_password("sqlite:////course/gradebook.db")
    'sqlite:////course/gradebook.db'
    """
    return re.sub(r"([^:/@\s]+):[^@/\s]*@", r"\1:***@", url, count=1)


def gradebook_rows(db_url: str, assignment: str) -> dict[str, dict[str, Any]]:
    """Everything the gradebook says about ``assignment``'s submissions, without ids or times.

    One entry per student: each grade's ``(auto, manual, needs manual grade)``, each
    comment's ``(auto, manual)``, whether a notebook was flagged, and the score. Two
    gradebooks that hold the same grades give equal dictionaries, whatever database
    they live in.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     gradebook_rows(database_url(root, environ={}), "hw1")
    {}
    """
    from nbgrader.api import Gradebook, MissingEntry

    rows: dict[str, dict[str, Any]] = {}
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).exists():
        return rows  # reading never creates a gradebook
    with Gradebook(db_url) as gradebook:
        try:
            submissions = gradebook.assignment_submissions(assignment)
        except MissingEntry:
            return rows
        for submission in submissions:
            notebooks = {}
            for notebook in submission.notebooks:
                notebooks[notebook.name] = {
                    "grades": {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                               for g in notebook.grades},
                    "comments": {c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments},
                    "flagged": notebook.flagged,
                }
            rows[submission.student.id] = {"notebooks": notebooks, "score": submission.score}
    return rows
