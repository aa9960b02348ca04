"""The trusted grading engine: grade notebooks in the sandbox, judge in this process.

A :class:`Grader` holds one assignment's cases, their reference results (computed
here, in the trusted process) and a :class:`~convlib.grading._sandbox.Sandbox`
fork server. For each student it runs one sandboxed job per graded function: the
student's code cells, then the function on every case; crashes, time-outs and
forbidden calls cost only the cases they hit. The student's results come back as
plain data and are compared here; the score of a function is its points times the
fraction of checks passed.

Examples
--------
>>> with Grader("hw1") as grader:
...     result = grader.grade_cells([(0, "def poly_multiply(p, q):\\n    return p")])
>>> result.functions["poly_multiply"].score
0.0
>>> result.functions["poly_multiply"].labels[0]
'wrong output shape'
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import _state
from . import protocol as P
from ._forbidden import ALWAYS_FORBIDDEN, review, scan
from ._judge import (GPU_SKIPPED, NOT_GRADED, FunctionResult, Outcome, judge_value, mistake_outputs,
                     problem_outcome, summarize)
from ._sandbox import Sandbox, SandboxError
from ._values import DecodeError, decode, encode, on_device, to_plain
from .spec import Assignment, Case, FunctionSpec, load_assignment

__all__ = ["ISOLATION_LEVELS", "Grader", "IsolationUnavailable", "NotebookResult", "grading_seed",
           "isolation_level", "student_cells"]

ENGINE_VERSION = "2"
SEED_FILE = ".grading_seed"
CUDA_VARIABLE = "CONVLIB_GRADING_CUDA"  # "1"/"0": run the CUDA cases or not, whatever this machine has

# ---- the time limits' one home (CPU seconds of the student's process tree, times time_scale)
MAX_TIMEOUTS = 2  # time-outs per function before its remaining checks are not run
CELL_CPU_LIMIT = 4.0  # one top-level notebook cell
NOTEBOOK_CPU_BUDGET = 120.0  # every job of one notebook together
NOTEBOOK_WALL_BUDGET = 1200.0  # wall-clock safety net of one notebook (never costs points)
WALL_FACTOR, WALL_EXTRA = 10.0, 20.0  # wall-clock safety net: WALL_FACTOR * CPU limit + WALL_EXTRA s
JOB_ATTEMPTS = 2  # a job stopped by the wall clock or by a broken server runs at most this often

WITHHELD = "withheld: flagged for review"
NOT_GRADED_LABEL = "not graded, rerun"
ISOLATION_LEVELS = ("os", "process")
ISOLATION_VARIABLE = "CONVLIB_GRADING_ISOLATION"


_CHECKED: set[str] = set()  # levels found available in this process


class IsolationUnavailable(RuntimeError):
    """The operating-system sandbox cannot be set up here (and ``isolation="process"`` was not chosen)."""


def isolation_level(level: str | None = None) -> str:
    """The isolation level to grade with: ``level``, ``$CONVLIB_GRADING_ISOLATION`` or ``"os"``.

    ``"os"`` needs :mod:`convlib.grading.isolation` and the kernel features it uses;
    where they are missing this raises :class:`IsolationUnavailable` naming what is
    missing. ``"process"`` (rlimits and Python guards only) is never refused.

    Examples
    --------
    >>> isolation_level("process")
    'process'
    >>> isolation_level("none")
    Traceback (most recent call last):
    ...
    ValueError: isolation must be one of 'os', 'process', got 'none'
    """
    level = level or os.environ.get(ISOLATION_VARIABLE) or "os"
    if level not in ISOLATION_LEVELS:
        raise ValueError(f"isolation must be one of 'os', 'process', got {level!r}")
    if level == "process":
        return level
    if level not in _CHECKED:
        try:
            from .isolation import IsolationError, Policy, check_available
        except ImportError:
            raise IsolationUnavailable(
                "the operating-system sandbox is not available: convlib.grading.isolation cannot be imported; "
                "grade with --isolation=process (Python-level guards only) to go on anyway") from None
        try:
            check_available(Policy(level=level))
        except IsolationError as error:
            raise IsolationUnavailable(str(error)) from None
        _CHECKED.add(level)
    return level


def grading_seed(root: str | os.PathLike | None = None) -> int:
    """The instructor's secret seed for hidden random inputs.

    Read from the environment variable ``CONVLIB_GRADING_SEED`` or, failing that,
    from the file ``.grading_seed`` at the course root (keep it out of version
    control). Without either, the public seed is used (hidden inputs are then
    predictable from the public source).

    Examples
    --------
    >>> grading_seed("/nonexistent") == int(os.environ.get("CONVLIB_GRADING_SEED", 0))
    True
    """
    text = os.environ.get("CONVLIB_GRADING_SEED")
    if text is None and root is not None:
        path = Path(root) / SEED_FILE
        if path.is_file():
            text = path.read_text().strip()
    if not text:
        return _state.PUBLIC_SEED
    try:
        return int(text)
    except ValueError:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def student_cells(notebook: Any) -> list[tuple[int, str]]:
    """``(cell index, source)`` of the code cells a student's notebook runs before grading.

    Every code cell except the graded test cells (``grade`` and not ``solution``),
    which the trusted grader replaces by its own checks.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("# hw"),
    ...     nbformat.v4.new_code_cell("x = 1"),
    ...     nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "solution": False}})])
    >>> student_cells(nb)
    [(1, 'x = 1')]
    """
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade") and not meta.get("solution"):
            continue
        source = cell.get("source", "")
        cells.append((index, "".join(source) if isinstance(source, list) else str(source)))
    return cells


@dataclass
class NotebookResult:
    """One student's notebook: each graded function's result, and what went wrong in cells."""

    functions: dict[str, FunctionResult]
    # position among the student's code cells (see student_cells) -> what went wrong
    cell_errors: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    isolation: str = "process"
    flagged: list[str] = field(default_factory=list)  # why it is withheld for review

    @property
    def score(self) -> float:
        return round(sum(result.score for result in self.functions.values()), 2)

    def as_dict(self) -> dict[str, Any]:
        return {"functions": {name: result.as_dict() for name, result in self.functions.items()},
                "cell_errors": {str(index): text for index, text in sorted(self.cell_errors.items())},
                "notes": list(self.notes), "isolation": self.isolation, "flagged": list(self.flagged)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NotebookResult":
        return cls({name: FunctionResult.from_dict(value) for name, value in data["functions"].items()},
                   {int(index): text for index, text in data.get("cell_errors", {}).items()},
                   list(data.get("notes", [])), str(data.get("isolation", "process")),
                   list(data.get("flagged", [])))


def _first_line(source: str) -> str:
    lines = [line for line in source.strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    return text if len(text) <= 60 else text[:57] + "..."


_WHERE = re.compile(r"cell (\d+), line (\d+)")


def _error_text(error: Mapping[str, str], cells: list[tuple[int, str]] = ()) -> str:
    """The error in one line; its place as the notebook's own cell number and the line in it.

    The sandbox names the k-th code cell it ran ``cell k``; ``cells`` (see
    :func:`student_cells`) turns that into the cell's position in the notebook, counted
    from 1 as a student counts them, and the cell's first line.
    """
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}".strip()
    where = error.get("where") or ""
    match = _WHERE.match(where)
    if match and int(match[1]) < len(cells):
        index, source = cells[int(match[1])]
        rest = where[match.end():]
        lines = source.splitlines()
        if not rest and 0 < int(match[2]) <= len(lines):  # exec'd code has no line text
            rest = f": {lines[int(match[2]) - 1].strip()}"
        where = (f"cell {index + 1} of the notebook, the one starting {_first_line(source)!r}, "
                 f"line {match[2]}{rest}")
    if where:
        text += f" ({where})"
    return text[:600]


class _FunctionTask:
    """One student's graded function while its jobs run."""

    def __init__(self, spec: FunctionSpec, cases: list[Case], runnable: list[int]) -> None:
        self.spec = spec
        self.cases = cases
        self.outcomes: dict[int, Outcome] = {}
        for index, case in enumerate(cases):
            if index not in runnable:
                self.outcomes[index] = Outcome(case.name, GPU_SKIPPED)
        self.timeouts = 0
        self.attempts = 0  # runs stopped by the wall clock or by a broken server
        self.forbidden: set[str] = set()
        self.flagged: set[str] = set()
        self.notes: list[str] = []

    def remaining(self) -> list[int]:
        return [k for k in range(len(self.cases)) if k not in self.outcomes]

    def set_all(self, status: str, label: str, detail: str) -> None:
        for k in self.remaining():
            self.outcomes[k] = problem_outcome(self.cases[k], status, label, detail)


class _Student:
    def __init__(self, key: str, cells: list[tuple[int, str]], grader: "Grader") -> None:
        self.key = key
        self.cells = list(cells)
        self.indices = [index for index, _ in cells]
        self.sources = [source for _, source in cells]
        self.skip: set[int] = set()
        self.cell_errors: dict[int, str] = {}
        self.notes: list[str] = []
        self.tasks = deque(grader.assignment.functions)
        self.current: _FunctionTask | None = None
        self.results: dict[str, FunctionResult] = {}
        self.flagged = set(review(self.sources))
        self.cpu = 0.0  # CPU seconds this notebook's jobs used
        self.suspect = False  # in flight when the server broke: runs alone next time
        self.started: float | None = None  # when its first job started (monotonic)
        self.isolation = grader.isolation

    def result(self) -> NotebookResult:
        if self.flagged:
            for name, verdict in self.results.items():
                self.results[name] = _withheld(verdict, sorted(self.flagged))
        return NotebookResult(self.results, dict(self.cell_errors), list(self.notes), self.isolation,
                              sorted(self.flagged))


def _withheld(verdict: FunctionResult, reasons: list[str]) -> FunctionResult:
    """0 points until an instructor reviews it: the notebook uses what only cheating needs."""
    if WITHHELD in verdict.labels:
        return verdict
    text = (f"{verdict.function}: {WITHHELD} (score 0 until an instructor reviews it): the notebook uses "
            f"{', '.join(reasons)}, which only introspection of the grader needs.\n")
    return FunctionResult(verdict.function, verdict.points, 0.0, verdict.passed, verdict.total,
                          verdict.gpu_skipped, [WITHHELD, *verdict.labels], text + verdict.feedback,
                          verdict.outcomes)


class Grader:
    """Grade students' notebooks for one assignment, in a sandbox, with ``workers`` jobs at once.

    Parameters
    ----------
    assignment : str or Assignment
        E.g. ``"hw1"``.
    workers : int, default 1
        Sandboxed jobs run in parallel (one per CPU core is a good choice).
    seed : int, optional
        Seed of the hidden cases' random inputs; default :func:`grading_seed`.
    cuda : bool, optional
        Whether to run the CUDA cases; default: whether torch sees a CUDA device.
    time_scale : float, default 1.0
        Multiplies every function's CPU time limit (slow grading machines).
    isolation : {"os", "process"}, optional
        The sandbox level (:func:`isolation_level`); default ``$CONVLIB_GRADING_ISOLATION``
        or ``"os"``, which is refused (:class:`IsolationUnavailable`) where missing.
    protected : sequence of path, optional
        Folders a student's process may never open (the course root).
    """

    def __init__(self, assignment: str | Assignment, *, workers: int = 1, seed: int | None = None,
                 cuda: bool | None = None, time_scale: float = 1.0, isolation: str | None = None,
                 protected=()) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        self.assignment = assignment if isinstance(assignment, Assignment) else load_assignment(assignment)
        self.workers = workers
        self.seed = grading_seed() if seed is None else int(seed)
        self.time_scale = float(time_scale)
        self.isolation = isolation_level(isolation)
        self.protected = [str(Path(p).resolve()) for p in protected]
        self.restarts = 0  # fork servers started again after one broke
        self.cases: dict[str, list[Case]] = {}
        for spec in self.assignment.functions:
            stream = zlib.crc32(f"{self.assignment.name}/{spec.name}".encode())
            self.cases[spec.name] = spec.build_cases(np.random.default_rng([self.seed, stream]))
        needs_cuda = any(case.device.startswith("cuda") for cases in self.cases.values() for case in cases)
        if cuda is None:
            cuda = needs_cuda and _cuda_available()
        self.cuda = bool(cuda)
        self._expected: dict[tuple[str, int], Any] = {}
        self._mistakes: dict[tuple[str, int], list[Any]] = {}
        self._sandbox: Sandbox | None = None
        self._next_job = 0
        self._fingerprint: str | None = None

    # ----------------------------------------------------------------- trusted results

    def runnable(self, function: str) -> list[int]:
        """Indices of ``function``'s cases that run on this machine (CUDA ones need CUDA)."""
        return [k for k, case in enumerate(self.cases[function])
                if self.cuda or not case.device.startswith("cuda")]

    def expected(self, spec: FunctionSpec, k: int) -> Any:
        key = (spec.name, k)
        if key not in self._expected:
            case = self.cases[spec.name][k]
            value = spec.reference(*on_device(case.args, case.device), **on_device(case.kwargs, case.device))
            self._expected[key] = to_plain(value)
        return self._expected[key]

    def mistakes(self, spec: FunctionSpec, k: int) -> list[Any]:
        key = (spec.name, k)
        if key not in self._mistakes:
            self._mistakes[key] = mistake_outputs(spec, self.cases[spec.name][k], self.expected(spec, k))
        return self._mistakes[key]

    def fingerprint(self) -> str:
        """Changes whenever a result could change: engine, spec, seed, CUDA."""
        digest = hashlib.sha256(f"{ENGINE_VERSION}|{self.assignment.name}|{self.seed}|{self.cuda}|"
                                f"{self.time_scale}|{self.isolation}".encode())
        package = Path(__file__).parent
        for path in sorted(package.glob("*.py")):
            if not path.name.startswith("hw") or path.stem == self.assignment.name:
                digest.update(path.name.encode() + path.read_bytes())
        return digest.hexdigest()

    def cache_key(self, cells: list[tuple[int, str]]) -> str:
        """Key of a notebook's result: the fingerprint and the exact code that runs, in order.

        Cell positions in the notebook are left out (nbgrader may re-insert a deleted
        test cell), so the key is the same before and after nbgrader's sanitizing.
        """
        if self._fingerprint is None:
            self._fingerprint = self.fingerprint()
        text = json.dumps([self._fingerprint, [source for _, source in cells]], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    # ----------------------------------------------------------------- the sandbox

    def _start_sandbox(self) -> Sandbox:
        uses_torch = False
        for spec in self.assignment.functions:
            for case in self.cases[spec.name]:
                uses_torch = uses_torch or "TensorData" in repr((to_plain(case.args), to_plain(case.kwargs)))
        preload = list(self.assignment.preload)
        if uses_torch or any(p.split(".")[0] == "torch" for p in self.assignment.forbidden):
            preload.append("torch")
        forbidden = tuple(self.assignment.forbidden) + ALWAYS_FORBIDDEN
        # guard every forbidden module before any child exists: nothing to capture before a late guard
        preload += [m for m in ("scipy.signal", "scipy.ndimage") if m not in preload]
        return Sandbox(forbidden=forbidden, preload=preload, isolation=self.isolation, protected=self.protected)

    def _inputs(self, function: str, cases: list[int]) -> list[bytes]:
        """The encoded inputs of ``cases`` (sent to the server after the job's child is forked)."""
        return [encode({"args": to_plain(self.cases[function][k].args),
                        "kwargs": to_plain(self.cases[function][k].kwargs),
                        "device": self.cases[function][k].device}) for k in cases]

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self._start_sandbox()
        return self._sandbox

    def close(self) -> None:
        """Stop the sandbox's fork server."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ----------------------------------------------------------------- grading

    def grade_cells(self, cells: list[tuple[int, str]]) -> NotebookResult:
        """Grade one notebook given as ``(cell index, source)`` pairs (see :func:`student_cells`)."""
        return self.grade_many({"student": cells})["student"]

    def grade_notebook(self, notebook: Any) -> NotebookResult:
        """Grade one nbformat notebook."""
        return self.grade_cells(student_cells(notebook))

    def grade_many(self, notebooks: Mapping[str, list[tuple[int, str]]], *,
                   on_result: Callable[[str, NotebookResult], None] | None = None
                   ) -> dict[str, NotebookResult]:
        """Grade many notebooks (``key -> cells``), ``workers`` sandboxed jobs at a time.

        ``on_result(key, result)`` is called as soon as each notebook is graded.
        """
        students = deque(_Student(key, cells, self) for key, cells in notebooks.items())
        active: dict[int, tuple[_Student, dict[str, Any]]] = {}
        finished: dict[str, NotebookResult] = {}
        while students or active:
            while students and len(active) < self.workers:
                student = students[0]
                if student.suspect and active:
                    break  # a suspect of a broken server runs alone
                students.popleft()
                job = self._next_job_for(student)
                if job is None:
                    finished[student.key] = student.result()
                    if on_result is not None:
                        on_result(student.key, finished[student.key])
                    continue
                try:
                    self.sandbox.submit(job, self._inputs(job["function"], job["cases"]))
                except SandboxError:
                    students.appendleft(student)
                    self._server_broke(active, students)
                    break
                active[job["job"]] = (student, job)
                if student.suspect:
                    break
            if not active:
                continue
            try:
                header, stream = self.sandbox.result()
                student, job = active.pop(header["job"])
            except (SandboxError, KeyError):
                self._server_broke(active, students)
                continue
            self._absorb(student, job, header, stream)
            students.appendleft(student)
        return {key: finished[key] for key in notebooks}

    def _server_broke(self, active: dict[int, tuple["_Student", dict[str, Any]]], students: deque) -> None:
        """The fork server died, stopped or garbled its answer: restart it, re-run what was in flight.

        Each job in flight is re-run once, alone (so an innocent neighbour is graded
        normally); a job that breaks the server again is the culprit and is recorded
        "not graded" (never looped on, never charged to anyone else).
        """
        self.close()
        self.restarts += 1
        for student, job in active.values():
            task = student.current
            task.attempts += 1
            if task.attempts >= JOB_ATTEMPTS:
                task.set_all(NOT_GRADED, "not graded, infrastructure error",
                             "the grading sandbox broke down twice while running this function")
                note = ("Some checks were not graded: the grading sandbox broke down while running them "
                        "(an infrastructure error, not counted against you; the instructor will rerun them).")
                if note not in task.notes:
                    task.notes.append(note)
            student.suspect = True
            students.appendleft(student)
        active.clear()

    def _limits(self, spec: FunctionSpec, n_cells: int, n_cases: int) -> dict[str, Any]:
        case_cpu = spec.time_limit * self.time_scale
        cell_cpu = CELL_CPU_LIMIT * self.time_scale
        job_cpu = cell_cpu * (n_cells + 1) + case_cpu * n_cases + 10
        return {
            "case_cpu": case_cpu,
            "case_wall": WALL_FACTOR * case_cpu + WALL_EXTRA,
            "cell_cpu": cell_cpu,
            "cell_wall": WALL_FACTOR * cell_cpu + WALL_EXTRA,
            "job_wall": WALL_FACTOR * job_cpu + WALL_EXTRA,
            "memory_mb": spec.memory_limit_mb,
            "max_file": 64 * 2**20,
            "max_stream": 64 * 2**20,
            "processes": 64,
            "job_cpu": job_cpu,
        }

    def _next_job_for(self, student: _Student) -> dict[str, Any] | None:
        while True:
            task = student.current
            if task is None:
                if not student.tasks:
                    return None
                spec = student.tasks.popleft()
                task = student.current = _FunctionTask(spec, self.cases[spec.name], self.runnable(spec.name))
                used = scan(student.sources, spec.name, self.assignment.forbidden)
                if used:
                    task.forbidden.update(used)
                    task.set_all("forbidden", "forbidden call", f"uses {', '.join(used)}")
            remaining = task.remaining()
            if student.started is None:
                student.started = time.monotonic()
            if remaining and time.monotonic() - student.started > NOTEBOOK_WALL_BUDGET * self.time_scale:
                task.set_all(NOT_GRADED, NOT_GRADED_LABEL, "the notebook ran past the grader's wall-clock "
                             "safety net (the machine was too busy)")
                continue
            if remaining and student.cpu > NOTEBOOK_CPU_BUDGET * self.time_scale:
                task.set_all("not run", "not run", f"the notebook used up its {NOTEBOOK_CPU_BUDGET * self.time_scale:g} "
                             "s CPU-time budget")
                continue
            if not remaining:
                result = summarize(task.spec, [task.outcomes[k] for k in range(len(task.cases))],
                                   notes=task.notes, forbidden=sorted(task.forbidden))
                if any(o.status == NOT_GRADED for o in task.outcomes.values()):
                    result.labels.insert(0, NOT_GRADED_LABEL)
                    note = f"{task.spec.name}: some checks were not graded (rerun this notebook)."
                    if note not in student.notes:
                        student.notes.append(note)
                if task.flagged:
                    student.flagged.update(task.flagged)
                student.results[task.spec.name] = result
                student.current = None
                continue
            self._next_job += 1
            return {
                "job": self._next_job,
                "function": task.spec.name,
                "cases": remaining,
                "cells": student.sources,
                "skip": sorted(student.skip),
                "limits": self._limits(task.spec, len(student.sources), len(remaining)),
                "cuda": any(self.cases[task.spec.name][k].device.startswith("cuda") for k in remaining),
            }

    def _absorb(self, student: _Student, job: dict[str, Any], header: dict[str, Any], stream: bytes) -> None:
        task = student.current
        spec = task.spec
        student.cpu += float(header.get("cpu") or 0.0)
        complete = False
        phase, index = "start", None  # where the child was, from its own records
        for kind, meta, value in P.iter_records(stream):
            if kind in P.PHASE_OF:
                phase = P.PHASE_OF[kind]
                index = meta.get("cell", meta.get("case"))
            if kind == P.CELL_ERROR:
                ordinal = int(meta["cell"])
                error = meta.get("error", {})
                if error.get("type") == "ForbiddenCallError":  # a top-level comparison: not the student's error
                    where = _error_text({"where": error.get("where", "")}, student.cells)
                    where = where[where.find("(") + 1 : -1] if "(" in where else "a cell"
                    note = (f"A top-level call to a library convolution ({where}) was not run: they are "
                            "unavailable while grading (only your functions are graded).")
                    if note not in student.notes:
                        student.notes.append(note)
                    continue
                student.cell_errors.setdefault(ordinal, _error_text(error, student.cells))
            elif kind == P.PATCHED:
                note = (f"Your notebook replaced {', '.join(meta.get('patched', []))} at top level; "
                        "grading ignores such changes.")
                if note not in student.notes:
                    student.notes.append(note)
            elif kind == P.FORBIDDEN:
                task.forbidden.add(str(meta.get("path")))
            elif kind == P.FLAGGED:
                task.flagged.add(str(meta.get("detail") or meta.get("event")))
            elif kind == P.MISSING:
                detail = f"{spec.name} is not defined when the notebook's cells have run"
                failed = [i for i, text in student.cell_errors.items() if not text.startswith("ForbiddenCallError")]
                if failed:
                    first = min(failed)
                    detail += (f" (the cell that starts with {_first_line(student.sources[first])!r} "
                               f"failed: {student.cell_errors[first]})")
                task.set_all("missing", "function not defined", detail)
                complete = True
            elif kind == P.RESULT:
                k = int(meta["case"])
                if k not in job["cases"] or k in task.outcomes:
                    continue
                task.outcomes[k] = self._judge_record(spec, k, meta, value, student.cells)
            elif kind == P.DONE:
                complete = True
        if complete:
            task.set_all("not run", "not run", "not reached")
            return
        reason = header.get("end")
        if reason == P.END_IDLE and phase == "cell" and isinstance(index, int) and index not in student.skip:
            student.skip.add(index)  # asleep at top level (time.sleep, input()): the student's doing
            student.cell_errors[index] = ("This cell was still waiting (asleep, not computing) after the "
                                          "grader's wall-clock limit; grading skipped it.")
            return
        if reason == P.END_IDLE and phase in ("start", "cases", "setup"):
            reason = P.END_WALL
        if reason == P.END_WALL or reason == P.END_SHUTDOWN:  # the machine's fault, not the student's
            task.attempts += 1
            if task.attempts >= JOB_ATTEMPTS:
                task.set_all(NOT_GRADED, NOT_GRADED_LABEL,
                             "stopped twice by the grader's wall-clock safety net (the machine was too busy)")
                note = ("Some checks were not graded because the grading machine was too busy; they are not "
                        "counted against you (the instructor will rerun them).")
                if note not in task.notes:
                    task.notes.append(note)
            return
        if phase == "setup":  # CUDA failed to start in the sandbox: the machine's fault, not the student's
            for k in task.remaining():
                if self.cases[spec.name][k].device.startswith("cuda"):
                    task.outcomes[k] = Outcome(self.cases[spec.name][k].name, GPU_SKIPPED)
            note = "CUDA could not start in the grading sandbox, so the GPU checks were not counted."
            if note not in task.notes:
                task.notes.append(note)
            return
        if phase == "cell" and isinstance(index, int) and index not in student.skip:
            student.skip.add(index)
            what = ("did not finish within its CPU-time limit" if reason == P.END_CPU
                    else "ended the Python process")
            student.cell_errors[index] = f"This cell {what} when run at top level; grading skipped it."
            return
        if phase == "case" and isinstance(index, int) and index in job["cases"] and index not in task.outcomes:
            k = index
            case = self.cases[spec.name][k]
            if reason == P.END_CPU or header.get("signal") == signal.SIGXCPU:
                task.timeouts += 1
                limit = spec.time_limit * self.time_scale
                task.outcomes[k] = problem_outcome(
                    case, "timeout", "time limit exceeded", f"stopped after {limit:g} s of CPU time", spec=spec)
            elif reason == P.END_IDLE:
                task.timeouts += 1
                limit = self._limits(spec, 0, 0)["case_wall"]
                task.outcomes[k] = problem_outcome(
                    case, "timeout", "time limit exceeded",
                    f"still waiting (asleep, not computing) after {limit:g} s", spec=spec)
            elif reason == P.END_TOO_LARGE:
                task.outcomes[k] = problem_outcome(case, "crash", "output too large",
                                                   "more than 64 MB of results", spec=spec)
            else:
                how = (f"signal {header['signal']}" if header.get("signal") is not None
                       else f"exit code {header.get('code')}")
                task.outcomes[k] = problem_outcome(case, "crash", "process killed",
                                                   f"the process ended ({how}) during this check", spec=spec)
            if task.timeouts >= MAX_TIMEOUTS:
                task.set_all("not run", "not run", f"not run after {MAX_TIMEOUTS} time-outs")
            return
        if reason == P.END_GARBLED or phase in ("start", "cases"):
            # the child ended or garbled its stream outside any cell or case: its own doing
            # (os._exit at top level is reported on the cell); once more, then not graded
            task.attempts += 1
            if task.attempts >= JOB_ATTEMPTS:
                task.set_all(NOT_GRADED, "not graded, infrastructure error",
                             f"the sandbox ended unexpectedly twice ({reason}, {phase})")
            return
        task.set_all(NOT_GRADED, "not graded, infrastructure error", f"the sandbox ended unexpectedly ({reason}, {phase})")

    def _judge_record(self, spec: FunctionSpec, k: int, meta: Mapping[str, Any], value: bytes,
                      cells: list[tuple[int, str]] = ()) -> Outcome:
        case = self.cases[spec.name][k]
        patched = [str(p) for p in meta.get("patched", [])]
        if patched:
            return problem_outcome(case, "fail", "modified a library",
                                   f"the call replaced {', '.join(patched)}", spec=spec)
        if meta.get("status") != "ok":
            error = meta.get("error", {})
            kind = error.get("type")
            if kind == "ForbiddenCallError":
                return problem_outcome(case, "forbidden", "forbidden call", _error_text(error))
            label = "memory limit exceeded" if kind == "MemoryError" else "raised an exception"
            return problem_outcome(case, "error", label, _error_text(error, cells), spec=spec)
        try:
            actual = decode(value)
        except DecodeError as error:
            return problem_outcome(case, "error", "raised an exception", f"unreadable result ({error})")
        return judge_value(spec, case, self.expected(spec, k), actual, self.mistakes(spec, k))


def _cuda_available() -> bool:
    # the parallel grader decides where CUDA cases run (GPU workers) and tells nbgrader
    forced = os.environ.get(CUDA_VARIABLE)
    if forced in ("0", "1"):
        return forced == "1"
    from convlib._torch import cuda_available  # the one CUDA check of convlib

    return cuda_available()
