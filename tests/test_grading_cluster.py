"""Grading on a real Dask cluster on 127.0.0.1: ``dask scheduler`` + two ``dask worker`` processes.

``python -m convlib.grading.autograde hw1 --scheduler tcp://...`` must leave the same
gradebook as serial ``nbgrader autograde``, also when a worker is killed halfway, and
a notebook during which two workers die is recorded as an infrastructure error.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convlib.grading.cluster import INFRASTRUCTURE_ERROR, GradingCluster, Progress, grade_notebook
from convlib.grading.engine import Grader, NotebookResult
from convlib.grading.gradebook import database_url, gradebook_rows

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402
from _servers import DaskCluster  # noqa: E402
from _homework import nbgrader_env  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEED = "4321"
ENV = nbgrader_env(ROOT, seed=SEED)
# 20 submissions: correct, unchanged, malformed, every classic mistake, hostile ones
NAMES = subs.NAMES[:20]
WORKER_ENV = {key: value for key, value in ENV.items() if key != "CONVLIB_GRADING_SEED"}


def _run(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), cwd=course, env=ENV, capture_output=True, text=True, timeout=1200)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(course, sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}", check=check)


def _rows(course: Path) -> dict:
    return gradebook_rows(database_url(course, environ={}), "hw1")


def _same_gradebook(course: Path, serial: dict) -> None:
    """Assert the gradebooks are equal; on failure, show the stored results of the differing students."""
    rows = _rows(course)
    differing = sorted(name for name in set(rows) | set(serial) if rows.get(name) != serial.get(name))
    details = []
    for name in differing:
        path = course / "grading_results" / "hw1" / name / "hw1.json"
        details.append(f"{name}: gradebook {rows.get(name)}\n  serial {serial.get(name)}\n  stored "
                       f"{path.read_text()[:3000] if path.exists() else None}")
    assert not differing, "\n".join(details)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """hw1 released, 20 submissions, not graded yet."""
    course = tmp_path_factory.mktemp("cluster") / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "hw1", course / "solutions" / "hw1")
    _nbgrader(course, "generate_assignment", "hw1", "--force")
    subs.write_submissions(course / "exercises" / "hw1" / "hw1.ipynb", course / "submitted", NAMES)
    return course


@pytest.fixture(scope="module")
def serial(course, tmp_path_factory) -> dict:
    copy = tmp_path_factory.mktemp("serial") / "course"
    shutil.copytree(course, copy)
    _nbgrader(copy, "autograde", "hw1", "--force", check=False)  # one notebook is malformed
    rows = _rows(copy)
    assert len(rows) == len(NAMES) - 1 or len(rows) == len(NAMES)
    return rows


@pytest.fixture
def cluster():
    # the workers get no seed from their environment: it travels with the tasks
    cluster = DaskCluster(2, env=WORKER_ENV).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_grading_on_a_dask_cluster_leaves_the_serial_gradebook(course, serial, cluster, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    out = _run(copy, sys.executable, "-m", "convlib.grading.autograde", "hw1", "--scheduler", cluster.address,
               check=False)
    assert f"graded on {cluster.address}" in out.stdout, out.stdout + out.stderr
    assert "notebooks" in out.stderr  # progress lines (not a terminal)
    _same_gradebook(copy, serial)
    scores = {student: row["score"] for student, row in serial.items()}
    assert scores["correct"] == 10.0 and scores["kernel_not_flipped"] < 10.0


def test_a_worker_killed_halfway_leaves_the_same_gradebook(course, serial, cluster, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    command = [sys.executable, "-m", "convlib.grading.autograde", "hw1", "--scheduler", cluster.address,
               "--no-nbgrader"]
    process = subprocess.Popen(command, cwd=copy, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    results = copy / "grading_results" / "hw1"
    deadline = time.monotonic() + 600
    while len(list(results.glob("*/hw1.json"))) < len(NAMES) // 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.02)
    victim = cluster.workers[0]
    victim.send_signal(signal.SIGKILL)
    done_when_killed = len(list(results.glob("*/hw1.json")))
    victim.wait(timeout=60)
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output
    assert done_when_killed < len(NAMES) - 1, "the worker was killed after the grading ended"
    assert "0 not graded (infrastructure error)" in output
    _nbgrader(copy, "autograde", "hw1", "--force", check=False)
    _same_gradebook(copy, serial)


# pickled by value (a lambda), so the workers need not import this test module
_KILL_MY_WORKER = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)  # noqa: E731


def test_a_notebook_that_kills_two_workers_is_an_infrastructure_error(cluster, monkeypatch):
    """The task kills whichever worker runs it: after two deaths it is given up, not retried."""
    import convlib.grading.cluster as module

    for _ in range(2):
        cluster.add_worker()
    stored = {}
    with GradingCluster(scheduler=cluster.address, quiet=True) as grading, Grader("hw1", seed=int(SEED)) as grader:
        grading.client.wait_for_workers(4, timeout=300)
        monkeypatch.setattr(module, "grade_notebook", _KILL_MY_WORKER)
        counts = grading.grade(grader, {"lethal": [(0, "x = 1")]}, stored.__setitem__)
        alive = grading.worker_count()
    assert counts["infrastructure_errors"] == 1
    result = stored["lethal"]
    assert result.score == 0.0
    assert all(f.labels == [INFRASTRUCTURE_ERROR] for f in result.functions.values())
    assert "infrastructure error" in result.notes[0]
    assert alive == 2  # two workers died, the other two were spared
    assert sum(worker.poll() is not None for worker in cluster.workers) == 2


def test_the_seed_reaches_workers_only_with_the_task(cluster):
    """Workers started without the seed grade with the client's seed (hidden inputs differ per seed)."""
    from distributed import Client

    cells = [(0, subs.MISTAKES["kernel_not_flipped"][1])]
    with Client(cluster.address) as client:
        environments = client.run(lambda: dict(os.environ))
        remote = {seed: client.submit(grade_notebook, "hw1", cells, seed=seed, pure=False).result()
                  for seed in (1, 2)}
    assert len(environments) == 2
    assert all("CONVLIB_GRADING_SEED" not in env for env in environments.values())
    assert remote[1]["result"] != remote[2]["result"]
    for seed, answer in remote.items():
        with Grader("hw1", seed=seed, cuda=False) as grader:
            assert answer["fingerprint"] == grader.fingerprint()
            local = grader.grade_cells(cells)
        assert NotebookResult.from_dict(answer["result"]).as_dict() == local.as_dict()


def test_cuda_assignments_go_to_gpu_workers_only(cluster):
    """hw4 runs its CUDA cases only when a worker has the GPU resource, and then only there."""
    from distributed import get_task_stream

    with GradingCluster(scheduler=cluster.address, quiet=True) as grading:
        assert grading.gpu_workers() == 0
        assert not grading.cuda_for(Grader("hw4", seed=1, cuda=False))  # "not run", at no cost
        assert not grading.cuda_for(Grader("hw1", seed=1, cuda=False))
        cluster.add_worker(resources="GPU=1")
        grading.client.wait_for_workers(3, timeout=300)
        assert grading.gpu_workers() == 1
        assert grading.cuda_for(Grader("hw4", seed=1, cuda=False))
        assert not grading.cuda_for(Grader("hw1", seed=1, cuda=False))
        gpu_worker = next(address for address, info in grading.client.scheduler_info(n_workers=-1)["workers"].items()
                          if info["resources"].get("GPU"))
        stored = {}
        with Grader("hw4", seed=1, cuda=True) as grader, get_task_stream(grading.client) as stream:
            counts = grading.grade(grader, {f"s{k}": [(0, "x = 1")] for k in range(3)}, stored.__setitem__)
        assert counts["graded"] == 3 and sorted(stored) == ["s0", "s1", "s2"]
        places = {task["worker"] for task in stream.data if task["key"].startswith("grade-")}
        assert places == {gpu_worker}


def test_progress_prints_lines_when_not_on_a_terminal(capsys):
    progress = Progress(3, every=0.0)
    progress.update()
    progress.update(failed=True)
    progress.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[convlib.grading] 1/3 notebooks, 0 failures")
    assert "3/3 notebooks, 1 failure," in lines[-1] and "notebooks/s, ETA 0:00:00" in lines[-1]
    quiet = Progress(1, quiet=True)
    quiet.update()
    assert capsys.readouterr().err == ""


def test_bad_cluster_arguments_are_named():
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        GradingCluster(workers=0)
    with pytest.raises(ValueError, match="--scheduler .* tcp://HOST:PORT"):
        GradingCluster(scheduler="localhost:8786")
    out = subprocess.run([sys.executable, "-m", "convlib.grading.autograde", "hw1", "--workers", "0"],
                         capture_output=True, text=True, env=ENV)
    assert out.returncode == 2 and "--workers must be a positive integer" in out.stderr
