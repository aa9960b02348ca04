"""pytest set-up shared by ``tests/`` and convlib's doctests.

The grading sandbox's isolation level: ``os`` (the operating-system sandbox of
:mod:`convlib.grading.isolation`) wherever this machine has it, otherwise the
explicit ``process`` level; the level in use is printed in pytest's header, and
``tests/test_sandbox_escape.py`` pins what each level must stop.
"""
import os


def _best_isolation() -> str:
    from convlib.grading.engine import IsolationUnavailable, isolation_level

    try:
        return isolation_level("os")
    except IsolationUnavailable:
        return "process"


os.environ.setdefault("CONVLIB_GRADING_ISOLATION", _best_isolation())


def pytest_report_header(config):
    return f"grading sandbox isolation: {os.environ['CONVLIB_GRADING_ISOLATION']}"
