"""Grade many notebooks on a Dask cluster: a local one, or machines the instructor started.

The client (``python -m convlib.grading.autograde``) sends each notebook's code to a
Dask worker; the worker grades it with the trusted engine (its own sandbox and
judge, on its own machine) and returns the plain result; the client stores it
(``on_result``) so that nbgrader, on the client, writes the gradebook.

- ``workers=N`` starts a :class:`distributed.LocalCluster` of N single-threaded
  worker processes on this machine; ``scheduler="tcp://host:8786"`` uses an existing
  cluster (``dask scheduler`` / ``dask worker`` from the command line,
  dask-jobqueue, dask-kubernetes...).
- The secret seed travels as an argument of each task, over the cluster's
  connection (use ``tls://`` between machines); workers need no copy of it, and it
  never reaches a student's process (the sandbox gets the cases' inputs only).
- Assignments with CUDA cases (hw4) send their notebooks to workers started with
  ``--resources GPU=1`` when there are any; otherwise the CUDA cases are "not run",
  at no cost, as on a machine without CUDA.
- A worker that dies while grading (killed, out of memory) has its notebook re-run
  on another worker; a notebook during which two workers died is recorded as
  "not graded, infrastructure error" (score 0, flagged in the feedback) instead of
  taking down a third.
"""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from typing import Any, Callable, Mapping, TextIO

from ._judge import problem_outcome, summarize
from .engine import Grader, NotebookResult

__all__ = ["GPU_RESOURCE", "INFRASTRUCTURE_ERROR", "GradingCluster", "Progress", "grade_notebook",
           "infrastructure_error", "scheduler_address"]

GPU_RESOURCE = "GPU"
INFRASTRUCTURE_ERROR = "infrastructure error"
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
# a notebook whose grading is interrupted by this many worker deaths is not retried again
WORKER_DEATHS_PER_NOTEBOOK = 2
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+$")

_local = threading.local()


def scheduler_address(value: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The scheduler to use: ``value``, else ``$DASK_SCHEDULER_ADDRESS``, else None (a local cluster).

    Raises
    ------
    ValueError
        If the address is not ``protocol://host:port``.

    Examples
    --------
    >>> scheduler_address(None, environ={}) is None
    True
    >>> scheduler_address(None, environ={"DASK_SCHEDULER_ADDRESS": "tcp://10.0.0.5:8786"})
    'tcp://10.0.0.5:8786'
    >>> scheduler_address("10.0.0.5")
    Traceback (most recent call last):
    ...
    ValueError: --scheduler (or DASK_SCHEDULER_ADDRESS) must look like tcp://HOST:PORT, got '10.0.0.5'
    """
    environ = os.environ if environ is None else environ
    address = value or environ.get(SCHEDULER_VARIABLE) or None
    if address is not None and not _ADDRESS.match(address):
        raise ValueError(f"--scheduler (or {SCHEDULER_VARIABLE}) must look like tcp://HOST:PORT, got {address!r}")
    return address


# ----------------------------------------------------------------------------- the worker's side

def _worker_grader(assignment: str, seed: int, time_scale: float, cuda: bool,
                   options: Mapping[str, Any]) -> Grader:
    """One grader (and sandbox) per worker thread, kept for the next notebooks."""
    graders = getattr(_local, "graders", None)
    if graders is None:
        graders = _local.graders = {}
    key = (assignment, seed, time_scale, cuda, tuple(sorted(options.items())))
    if key not in graders:
        graders[key] = Grader(assignment, seed=seed, time_scale=time_scale, cuda=cuda, **options)
    return graders[key]


def grade_notebook(assignment: str, cells: list[tuple[int, str]], *, seed: int, time_scale: float = 1.0,
                   cuda: bool = False, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Grade one notebook where this runs (a Dask worker) and return the plain result.

    ``options`` are further keyword arguments of :class:`~convlib.grading.engine.Grader`
    (plain values, e.g. the sandbox's isolation level). Returns ``{"fingerprint": ...,
    "result": NotebookResult.as_dict()}``; the fingerprint lets the client check that
    the worker runs the same grader.

    Examples
    --------
    >>> out = grade_notebook("hw1", [(0, "def poly_multiply(p, q):\\n    return p")], seed=0)
    >>> NotebookResult.from_dict(out["result"]).functions["poly_multiply"].score
    0.0
    """
    grader = _worker_grader(assignment, int(seed), float(time_scale), bool(cuda), dict(options or {}))
    return {"fingerprint": grader.fingerprint(), "result": grader.grade_cells(list(cells)).as_dict()}


# ----------------------------------------------------------------------------- the client's side

def infrastructure_error(grader: Grader, detail: str) -> NotebookResult:
    """The result of a notebook the cluster could not grade: every check 0, labelled as such.

    Examples
    --------
    >>> result = infrastructure_error(Grader("hw1"), "two workers died")
    >>> result.score, result.functions["convolve"].labels
    (0.0, ['infrastructure error'])
    """
    functions = {}
    for spec in grader.assignment.functions:
        outcomes = [problem_outcome(case, "crash", INFRASTRUCTURE_ERROR, detail) for case in grader.cases[spec.name]]
        functions[spec.name] = summarize(spec, outcomes)
    note = (f"Not graded, infrastructure error: {detail}. This is not a judgement of your code; "
            "the instructor will grade this notebook again.")
    return NotebookResult(functions, {}, [note])


class Progress:
    """Notebooks done / total, failures, rate and ETA: a bar on a terminal, log lines otherwise.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress(2, stream=out, every=0.0)
    >>> progress.update(); progress.update(failed=True); progress.close()
    >>> print(out.getvalue().splitlines()[-1])
    [convlib.grading] 2/2 notebooks, 1 failure, ... notebooks/s, ETA 0:00:00
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, quiet: bool = False,
                 every: float = 10.0) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self.every = every
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = self._last = time.monotonic()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        if rate > 0:
            minutes, seconds = divmod(round((self.total - self.done) / rate), 60)
            eta = f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
        else:
            eta = "?"
        failures = f"{self.failed} failure{'' if self.failed == 1 else 's'}"
        return f"[convlib.grading] {self.done}/{self.total} notebooks, {failures}, {rate:.2f} notebooks/s, ETA {eta}"

    def _bar(self) -> str:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        return "\r|" + "#" * filled + "." * (width - filled) + "| " + self.line()

    def update(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += bool(failed)
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write(self._bar())
            self.stream.flush()
        elif now - self._last >= self.every or self.done == self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet and self.total:
            self.stream.write("\n")
            self.stream.flush()


def _set_allowed_failures(dask_scheduler: Any = None, count: int = WORKER_DEATHS_PER_NOTEBOOK - 1) -> int:
    """Run on the scheduler: a task is given up (KilledWorker) after ``count + 1`` worker deaths."""
    dask_scheduler.allowed_failures = count
    return count


class GradingCluster:
    """A connection to Dask workers that grade notebooks: a local cluster or an existing one.

    Parameters
    ----------
    workers : int, default 1
        Worker processes of the local cluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    quiet : bool, default False
        No progress output.
    stream : file, optional
        Where progress goes (default ``sys.stderr``).

    Examples
    --------
    >>> with GradingCluster(workers=1, quiet=True) as cluster, Grader("hw1") as grader:
    ...     def show(name, result):
    ...         print(name, result.functions["poly_multiply"].score)
    ...     counts = cluster.grade(grader, {"ada": [(0, "def poly_multiply(p, q):\\n    return p")]}, show)
    ada 0.0
    >>> counts["graded"], counts["infrastructure_errors"]
    (1, 0)
    """

    def __init__(self, *, workers: int = 1, scheduler: str | None = None, quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.scheduler = scheduler_address(scheduler, environ={})
        self.quiet = quiet
        self.stream = stream
        self.client: Any = None
        self._local: Any = None

    def log(self, text: str) -> None:
        if not self.quiet:
            print(f"[convlib.grading] {text}", file=self.stream or sys.stderr, flush=True)

    def __enter__(self) -> "GradingCluster":
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            self.client = Client(self.scheduler, timeout="60s")
        else:
            self._local = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1", silence_logs=40)
            self.client = Client(self._local)
        self.client.run_on_scheduler(_set_allowed_failures)
        self.client.wait_for_workers(1, timeout=600)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._local is not None:
            self._local.close()
            self._local = None

    def worker_count(self) -> int:
        """Workers connected now."""
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def gpu_workers(self) -> int:
        """Workers started with ``--resources GPU=1`` (or more)."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return sum(1 for info in workers if info.get("resources", {}).get(GPU_RESOURCE, 0) >= 1)

    def cuda_for(self, grader: Grader) -> bool:
        """Whether ``grader``'s CUDA cases will run: it has some and a GPU worker is connected."""
        needs = any(case.device.startswith("cuda") for cases in grader.cases.values() for case in cases)
        if not needs:
            return False
        if self.gpu_workers() == 0:
            self.log("no worker has the GPU resource: the CUDA checks are not run (no cost to students)")
            return False
        return True

    def grade(self, grader: Grader, notebooks: Mapping[str, list[tuple[int, str]]],
              on_result: Callable[[str, NotebookResult], None], *,
              options: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Grade ``notebooks`` (``name -> cells``) on the workers; ``on_result(name, result)`` as each ends.

        ``grader`` (the client's; it starts no sandbox here) fixes the assignment, seed,
        time scale and whether CUDA cases run; ``options`` are further ``Grader``
        arguments the workers use; the client checks each worker ran the same grader
        (fingerprint). Returns ``{"graded", "infrastructure_errors", "workers"}``.
        """
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        counts = {"graded": 0, "infrastructure_errors": 0, "workers": self.worker_count()}
        if not notebooks:
            return counts
        expected = grader.fingerprint()
        resources = {GPU_RESOURCE: 1} if grader.cuda else None
        self.log(f"grading {len(notebooks)} notebooks on {counts['workers']} Dask workers "
                 f"({self.client.scheduler.address})")
        names: dict[str, str] = {}
        futures = []
        stamp = time.time_ns()
        for name, cells in notebooks.items():
            future = self.client.submit(grade_notebook, grader.assignment.name, list(cells), seed=grader.seed,
                                        time_scale=grader.time_scale, cuda=grader.cuda,
                                        options=dict(options or {}), resources=resources,
                                        pure=False, key=f"grade-{grader.assignment.name}-{name}-{stamp}")
            names[future.key] = name
            futures.append(future)
        progress = Progress(len(notebooks), stream=self.stream, quiet=self.quiet)
        for future in as_completed(futures):
            name = names[future.key]
            failed = False
            try:
                answer = future.result()
            except (KilledWorker, FutureCancelledError) as error:
                failed = True
                result = infrastructure_error(
                    grader, f"{WORKER_DEATHS_PER_NOTEBOOK} grading workers stopped while grading it")
                self.log(f"{name}: not graded, infrastructure error ({type(error).__name__})")
            else:
                if answer["fingerprint"] != expected:
                    raise RuntimeError("a Dask worker runs a different version of convlib.grading than this "
                                       "client: install the same course code and venv on every worker")
                result = NotebookResult.from_dict(answer["result"])
            on_result(name, result)
            counts["graded"] += 1
            counts["infrastructure_errors"] += failed
            progress.update(failed=failed)
            future.release()
        progress.close()
        return counts
