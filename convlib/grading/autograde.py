"""Grade a folder of submissions in parallel, then record the grades with nbgrader.

``python -m convlib.grading.autograde hw1 --workers 2`` (from the course root, or
with ``--root``):

1. reads every ``submitted/<student>/hw1/<notebook>.ipynb``, restores its locked
   cells from the release (as nbgrader's ``OverwriteCells`` will), and grades all of
   them on Dask (:mod:`convlib.grading.cluster`): a local cluster of ``--workers``
   processes, or the existing cluster at ``--scheduler tcp://HOST:PORT`` (or
   ``$DASK_SCHEDULER_ADDRESS``), each worker grading one notebook at a time in its
   own sandbox; each
   result is written atomically to ``grading_results/hw1/<student>/<notebook>.json``
   as soon as it is ready, so an interrupted run loses nothing and a rerun grades only
   what is missing or changed;
2. meanwhile runs ``nbgrader autograde hw1 --force``: its trusted preprocessor finds
   each notebook's stored result (same key: same code, same grader), waiting for it if
   phase 1 announced it in ``grading_results/hw1/.in_progress.json``, and writes the
   cells' outputs and the gradebook exactly as a serial ``nbgrader autograde`` would.

The gradebook is therefore written by nbgrader itself, serially, and is identical
to the one a plain serial ``nbgrader autograde hw1 --force`` leaves.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from .cluster import GradingCluster, scheduler_address
from .engine import (CUDA_VARIABLE, ISOLATION_LEVELS, Grader, IsolationUnavailable, NotebookResult, grading_seed,
                     isolation_level, student_cells)
from .results import ResultStore

__all__ = ["main", "plan_results", "prepare_results", "restored_cells", "submitted_notebooks"]


def submitted_notebooks(root: str | os.PathLike, assignment: str, student: str = "*") -> list[tuple[str, str, Path]]:
    """``(student, notebook, path)`` of every submitted notebook of ``assignment``, sorted.

    Examples
    --------
    >>> submitted_notebooks("/nonexistent", "hw1")
    []
    """
    paths = sorted(Path(root, "submitted").glob(f"{student}/{assignment}/*.ipynb"))
    return [(path.parent.parent.name, path.stem, path) for path in paths]


def _release_cells(root: Path, assignment: str, notebook: str) -> dict[str, Any]:
    """grade_id -> release cell, for the cells nbgrader restores before autograding."""
    import nbformat

    path = root / "exercises" / assignment / f"{notebook}.ipynb"
    try:
        release = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return {}
    cells = {}
    for cell in release.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            cells[grade_id] = cell
    return cells


def restored_cells(notebook: Any, release: dict[str, Any]) -> list[tuple[int, str]]:
    """The cells the autograder will run: locked cells and cell types restored from the release.

    Examples
    --------
    >>> import nbformat
    >>> locked = {"nbgrader": {"grade_id": "setup", "locked": True}}
    >>> release = {"setup": nbformat.v4.new_code_cell("import numpy as np", metadata=locked)}
    >>> submitted = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("import os; os._exit(0)", metadata=locked)])
    >>> restored_cells(submitted, release)
    [(0, 'import numpy as np')]
    """
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        original = release.get(meta.get("grade_id"))
        if original is None:
            continue
        cell["cell_type"] = original.cell_type
        if original.get("metadata", {}).get("nbgrader", {}).get("locked"):
            cell["source"] = original.source
    return student_cells(notebook)


class _Plan:
    """What phase 1 will grade: cells, keys and result paths, by ``student/notebook``."""

    def __init__(self) -> None:
        self.pending: dict[str, list[tuple[int, str]]] = {}
        self.targets: dict[str, tuple[str, str, str]] = {}  # name -> (student, notebook, key)
        self.counts = {"submissions": 0, "stored": 0, "graded": 0, "unreadable": 0}


def plan_results(root: Path, assignment: str, grader: Grader, student: str = "*") -> _Plan:
    """Find the submissions whose stored result is missing or stale.

    Examples
    --------
    >>> plan_results(Path("/nonexistent"), "hw1", Grader("hw1")).counts["submissions"]
    0
    """
    import nbformat

    plan = _Plan()
    store = ResultStore(root, assignment)
    releases: dict[str, dict[str, Any]] = {}
    for student_id, notebook, path in submitted_notebooks(root, assignment, student):
        plan.counts["submissions"] += 1
        try:
            submission = nbformat.read(str(path), as_version=4)
        except Exception:  # nbgrader will report (and skip) the malformed notebook
            plan.counts["unreadable"] += 1
            continue
        if notebook not in releases:
            releases[notebook] = _release_cells(root, assignment, notebook)
        cells = restored_cells(submission, releases[notebook])
        key = grader.cache_key(cells)
        if store.load(student_id, notebook, key) is not None:
            plan.counts["stored"] += 1
            continue
        plan.pending[f"{student_id}/{notebook}"] = cells
        plan.targets[f"{student_id}/{notebook}"] = (student_id, notebook, key)
    return plan


def prepare_results(root: str | os.PathLike, assignment: str, *, workers: int = 1, student: str = "*",
                    time_scale: float = 1.0, while_grading=None, scheduler: str | None = None,
                    quiet: bool = False, isolation: str | None = None) -> dict[str, int]:
    """Grade every submission whose stored result is missing or stale, on Dask; return counts.

    ``isolation``: the sandbox level (see :func:`convlib.grading.engine.isolation_level`).

    ``workers`` worker processes of a local Dask cluster grade the notebooks, or the
    workers of the existing cluster at ``scheduler`` (see :mod:`convlib.grading.cluster`).
    ``while_grading(cuda)`` is called once the plan is published (the marker file lists
    the result keys about to be written) and before the grading starts, with whether
    the CUDA cases run: the command line starts ``nbgrader autograde`` there, so both
    phases overlap.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     prepare_results(root, "hw1", isolation="process")
    {'submissions': 0, 'stored': 0, 'graded': 0, 'unreadable': 0, 'infrastructure_errors': 0}
    """
    root = Path(root).resolve()
    seed = grading_seed(root)
    level = isolation_level(isolation)
    grader = Grader(assignment, seed=seed, time_scale=time_scale, cuda=False, isolation=level, protected=[root])
    needs_cuda = any(case.device.startswith("cuda") for cases in grader.cases.values() for case in cases)
    cluster = GradingCluster(workers=workers, scheduler=scheduler, quiet=quiet)
    with contextlib.ExitStack() as stack:
        if needs_cuda:  # where the CUDA cases run decides the results' keys
            stack.enter_context(cluster)
            if cluster.cuda_for(grader):
                grader = Grader(assignment, seed=seed, time_scale=time_scale, cuda=True, isolation=level,
                                protected=[root])
        plan = plan_results(root, assignment, grader, student)
        plan.counts["infrastructure_errors"] = 0
        store = ResultStore(root, assignment)
        store.announce({name: key for name, (_, _, key) in plan.targets.items()})

        def keep(name: str, result: NotebookResult) -> None:
            student_id, notebook, key = plan.targets[name]
            store.write(student_id, notebook, key, result)

        try:
            if while_grading is not None:
                while_grading(grader.cuda)
            if plan.pending:
                if cluster.client is None:
                    stack.enter_context(cluster)
                counts = cluster.grade(grader, plan.pending, keep,
                                       options={"isolation": level, "protected": (str(root),)})
                plan.counts["infrastructure_errors"] = counts["infrastructure_errors"]
        finally:
            store.withdraw()
    plan.counts["graded"] = len(plan.pending)
    return plan.counts


def _run_nbgrader(root: str | os.PathLike, assignment: str, *, student: str = "*", force: bool = True,
                 wait: bool = True, cuda: bool | None = None):
    """``nbgrader autograde`` from the course root, with this Python's ``bin`` on ``PATH``.

    ``cuda`` (when given) tells nbgrader's grader whether the CUDA cases ran, so that
    it computes the same result keys. Returns the exit code, or the running process
    when ``wait`` is false.
    """
    env = dict(os.environ)
    if cuda is not None:
        env[CUDA_VARIABLE] = "1" if cuda else "0"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [package_root, env.get("PYTHONPATH", "")] if p)
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment,
               f"--CourseDirectory.root={Path(root).resolve()}"]
    if student != "*":
        command.append(f"--student={student}")
    if force:
        command.append("--force")
    process = subprocess.Popen(command, cwd=root, env=env)
    return process.wait() if wait else process


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--workers must be a positive integer, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: grade in parallel while nbgrader records the grades.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     main(["hw1", "--root", root, "--no-nbgrader", "--workers", "1", "--isolation", "process"])
    [convlib.grading] 0 submissions: 0 graded with 1 workers in the 'process' sandbox, 0 already up to date, 0 unreadable, 0 not graded (infrastructure error) (...)
    0
    """
    parser = argparse.ArgumentParser(prog="python -m convlib.grading.autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", help="e.g. hw1")
    parser.add_argument("--root", default=".", help="the course root (where nbgrader_config.py is)")
    parser.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                        help="worker processes of the local Dask cluster (default: the number of CPUs)")
    parser.add_argument("--scheduler", default=None,
                        help="grade on the existing Dask cluster at this address, e.g. tcp://10.0.0.5:8786 "
                             "(default: $DASK_SCHEDULER_ADDRESS, else a local cluster of --workers)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    parser.add_argument("--student", default="*", help="one student ID (default: everyone)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies CPU time limits")
    parser.add_argument("--isolation", choices=ISOLATION_LEVELS, default=None,
                        help="sandbox level: 'os' (default; refused where this machine lacks it) or "
                             "'process' (rlimits and Python guards only, printed in every feedback)")
    parser.add_argument("--no-nbgrader", action="store_true",
                        help="only fill grading_results/ (do not run nbgrader autograde)")
    args = parser.parse_args(argv)
    try:
        scheduler = scheduler_address(args.scheduler)
    except ValueError as error:
        parser.error(str(error))
    try:
        level = isolation_level(args.isolation)
    except IsolationUnavailable as error:
        print(f"[convlib.grading] refusing to grade: {error}", file=sys.stderr)
        return 2
    os.environ["CONVLIB_GRADING_ISOLATION"] = level  # nbgrader's preprocessor (and Dask's workers) grade at it
    started = time.perf_counter()
    nbgrader = []

    def start_nbgrader(cuda: bool) -> None:
        if not args.no_nbgrader:
            nbgrader.append(_run_nbgrader(args.root, args.assignment, student=args.student, wait=False,
                                          cuda=cuda))

    try:
        counts = prepare_results(args.root, args.assignment, workers=args.workers, student=args.student,
                                 time_scale=args.time_scale, while_grading=start_nbgrader,
                                 scheduler=scheduler, quiet=args.quiet, isolation=level)
    except BaseException:
        for process in nbgrader:
            process.kill()
        raise
    where = f"on {scheduler}" if scheduler else f"with {args.workers} workers"
    print(f"[convlib.grading] {counts['submissions']} submissions: {counts['graded']} graded {where} "
          f"in the {level!r} sandbox, "
          f"{counts['stored']} already up to date, {counts['unreadable']} unreadable, "
          f"{counts['infrastructure_errors']} not graded (infrastructure error) "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    if not nbgrader:
        return 0
    code = nbgrader[0].wait()
    print(f"[convlib.grading] nbgrader autograde: exit {code} ({time.perf_counter() - started:.1f} s in all)")
    return code


if __name__ == "__main__":
    sys.exit(main())
