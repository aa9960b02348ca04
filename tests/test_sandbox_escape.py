"""Hostile submissions against the grading sandbox, graded next to honest students.

Each attacker is the correct hw1 submission plus one attack (a top-level cell or a
changed graded function). All of them are graded in ONE run with honest students
beside them (two workers), and the test asserts the attacker's exact scores and
flags, the honest students' exact grades, and that nothing of the grader was
reached. These attacks are stopped at every isolation level (the Python layer);
the attacks that need the operating-system layer (reading the gradebook, network,
daemons) belong with :mod:`convlib.grading.isolation`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from convlib.grading.engine import WITHHELD, Grader, IsolationUnavailable, isolation_level, student_cells

sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RELEASE = nbformat.read(str(ROOT / "exercises" / "hw1" / "hw1.ipynb"), as_version=4)
SEED = 4321
FULL = {"convolve_full": 2.0, "convolve": 3.0, "correlate": 3.0, "poly_multiply": 2.0}
CORRECT_POLY = subs.CORRECT["poly_multiply"]


def _with_cell(source: str) -> list[tuple[int, str]]:
    """The correct submission plus one extra top-level cell at the end."""
    cells = student_cells(subs.build(RELEASE, "correct"))
    return cells + [(10_000, source)]


def _with_poly(source: str) -> list[tuple[int, str]]:
    """The correct submission with poly_multiply's cell replaced."""
    cells = student_cells(subs.build(RELEASE, "correct"))
    return [(i, source if s == CORRECT_POLY.strip() or "def poly_multiply" in s else s) for i, s in cells]


# attack -> (cells, expected scores, expected flag substring or None, expected label on poly_multiply)
ATTACKS = {
    "reads_memory_with_gc": (_with_cell("import gc\nstuff = [o for o in gc.get_objects()]\n"),
                             dict.fromkeys(FULL, 0.0), "get_objects", None),
    "takes_original_from_guard_closure": (_with_poly(
        "import numpy as np\n_orig = [c.cell_contents for c in (getattr(np.convolve, '__clo' + 'sure__') or ())]\n"
        "def poly_multiply(p, q):\n    return np.convolve(p, q)\n"),
        dict.fromkeys(FULL, 0.0), "cell_contents", None),
    "disarms_guard_state": (_with_poly(
        "import numpy as np\nfrom convlib.grading import _forbidden as f\nf.GuardState.report = None\n"
        "def poly_multiply(p, q):\n    return np.convolve(p, q)\n"),
        dict.fromkeys(FULL, 0.0), "GuardState", None),
    "calls_from_a_thread": (_with_poly(
        "import numpy as np\nimport threading\ndef poly_multiply(p, q):\n    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(np.convolve(p, q)))\n    t.start(); t.join()\n"
        "    return out[0]\n"),
        dict.fromkeys(FULL, 0.0), "import threading", None),
    "reloads_numpy": (_with_cell("import importlib, numpy\nimportlib.reload(numpy)\n"),
                      dict.fromkeys(FULL, 0.0), "import importlib", None),
    "private_alias_of_correlate": (_with_poly(
        "import numpy as np\ndef poly_multiply(p, q):\n"
        "    return np._core.multiarray.correlate2(p, q[::-1], 2)\n"),
        dict.fromkeys(FULL, 0.0), "np._core", None),
    "captures_scipy_signal_at_top_level": (_with_poly(
        "import scipy.signal\nconv = getattr(scipy.signal, 'con' + 'volve')\n"
        "def poly_multiply(p, q):\n    return conv(p, q)\n"),
        {**FULL, "poly_multiply": 0.0}, None, "forbidden call"),
    "kills_the_fork_server": (_with_cell("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
                              dict.fromkeys(FULL, 0.0), "import signal", None),
    "forks_many_processes": (_with_cell("import os\nfor _ in range(200):\n    if os.fork() == 0:\n"
                                        "        import time; time.sleep(600)\n"),
                             dict.fromkeys(FULL, 0.0), "os.fork", None),
    "reads_the_secret_seed": (_with_cell(f"print(open({str(ROOT / '.grading_seed')!r}).read())\n"),
                              dict.fromkeys(FULL, 0.0), ".grading_seed", None),
    "reads_grader_frames": (_with_poly(
        "import sys\ndef poly_multiply(p, q):\n    f = sys._getframe(1)\n    return list(f.f_locals)\n"),
        dict.fromkeys(FULL, 0.0), "_getframe", None),
}

# a TCP listener on the host's 127.0.0.1: an attacker tries to send it the hidden inputs
LISTENER = socket.socket()
LISTENER.bind(("127.0.0.1", 0))
LISTENER.listen(8)
LISTENER.setblocking(False)
PORT = LISTENER.getsockname()[1]

ATTACKS.update({
    "edits_the_gradebook": (_with_cell(f"import sqlite3\ndb = sqlite3.connect({str(ROOT / 'gradebook.db')!r})\n"
                                       "db.execute('delete from grade')\n"),
                            dict.fromkeys(FULL, 0.0), "import sqlite3", None),
    "sends_to_localhost": (_with_cell(f"import socket\ns = socket.create_connection(('127.0.0.1', {PORT}))\n"
                                      "s.sendall(b'secret')\n"),
                           dict.fromkeys(FULL, 0.0), "import socket", None),
    "maps_shared_memory": (_with_cell("import mmap\nm = mmap.mmap(-1, 1300 * 2**20)\nm[::4096] = b'x' * (1300 * 256)\n"),
                           dict.fromkeys(FULL, 0.0), "import mmap", None),
    "spawns_a_daemon": (_with_cell("import os\nos.posix_spawn('/bin/sleep', ['sleep', '600'], dict(os.environ))\n"),
                        dict.fromkeys(FULL, 0.0), "os.posix_spawn", None),
    "sleeps_at_top_level": (_with_cell("import time\ntime.sleep(3600)\n"), FULL, None, None),
    "limits_the_grader": (_with_cell("import os, resource\nresource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))\n"),
                          dict.fromkeys(FULL, 0.0), "import resource", None),
})

HONEST = {
    "correct": student_cells(subs.build(RELEASE, "correct")),
    "imports_scipy_signal_to_compare": _with_cell("import scipy.signal\nimport numpy as np\n"
                                                  "print(np.allclose(convolve_full([1, 2], [1, 1]), [1, 3, 2]))\n"),
    "times_its_cell": [(i, ("%%time\n" + s) if "def poly_multiply" in s else s)
                       for i, s in student_cells(subs.build(RELEASE, "correct"))],
    "kernel_not_flipped": student_cells(subs.build(RELEASE, "kernel_not_flipped")),
}


def _processes_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == pid or int(fields[1]) == pid:  # the session, or a direct child
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def graded():
    with Grader("hw1", workers=2, seed=SEED, protected=[str(ROOT)]) as grader:
        server = grader.sandbox.pid
        results = grader.grade_many({**{k: v[0] for k, v in ATTACKS.items()}, **HONEST})
        restarts = grader.restarts
        left = [p for p in _processes_of(server) if p != server]
    return grader, results, restarts, left


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_gets_exact_score_and_flag(graded, attack):
    _, results, _, _ = graded
    _, scores, flag, label = ATTACKS[attack]
    result = results[attack]
    assert {f: v.score for f, v in result.functions.items()} == scores, result.as_dict()
    if flag is not None:
        assert any(flag in reason for reason in result.flagged), result.flagged
        assert all(v.labels[0] == WITHHELD for v in result.functions.values())
        assert WITHHELD in result.functions["poly_multiply"].feedback
    if label is not None:
        assert label in result.functions["poly_multiply"].labels
    if attack == "sleeps_at_top_level":  # held one wall-clock limit, then skipped: its cell, not its grade
        assert any("asleep" in text for text in result.cell_errors.values())


def test_honest_students_get_exact_grades_beside_attackers(graded):
    grader, results, _, _ = graded
    for name in ("correct", "imports_scipy_signal_to_compare", "times_its_cell"):
        assert {f: v.score for f, v in results[name].functions.items()} == FULL, name
        assert results[name].flagged == []
    assert ({f: v.score for f, v in results["kernel_not_flipped"].functions.items()}
            == subs.expected_scores("kernel_not_flipped", grader.cases))


def test_no_attack_breaks_the_server_or_leaves_processes(graded):
    _, _, restarts, left = graded
    assert restarts == 0
    assert left == []
    with pytest.raises(BlockingIOError):  # nobody reached the host's loopback
        LISTENER.accept()


def test_a_stopped_server_is_restarted_and_grades_are_unchanged():
    names = ["correct", "kernel_not_flipped", "kills_kernel"]
    cells = {name: student_cells(subs.build(RELEASE, name)) for name in names}
    with Grader("hw1", workers=2, seed=SEED) as grader:
        quiet = grader.grade_many(cells)
    with Grader("hw1", workers=2, seed=SEED) as grader:
        os.kill(grader.sandbox.pid, 19)  # SIGSTOP: the server no longer answers
        stopped = grader.grade_many(cells)
        assert grader.restarts >= 1
    with Grader("hw1", workers=2, seed=SEED) as grader:
        os.kill(grader.sandbox.pid, 9)  # SIGKILL: the server is gone
        killed = grader.grade_many(cells)
        assert grader.restarts >= 1
    for name in names:
        assert stopped[name].as_dict() == quiet[name].as_dict() == killed[name].as_dict()


def test_grades_do_not_depend_on_load():
    names = ["correct", "kernel_not_flipped", "kills_kernel", "infinite_loop", "syntax_error"]
    cells = {name: student_cells(subs.build(RELEASE, name)) for name in names}
    with Grader("hw1", workers=2, seed=SEED) as grader:
        quiet = grader.grade_many(cells)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4 * (os.cpu_count() or 1))]
    try:
        with Grader("hw1", workers=2, seed=SEED) as grader:
            busy = grader.grade_many(cells)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    for name in names:
        assert busy[name].as_dict() == quiet[name].as_dict(), name


def test_os_isolation_is_refused_where_missing_unless_process_is_chosen(monkeypatch):
    import convlib.grading.engine as engine

    monkeypatch.setitem(sys.modules, "convlib.grading.isolation", None)  # as on a machine without it
    monkeypatch.setattr(engine, "_CHECKED", set())
    with pytest.raises(IsolationUnavailable, match="--isolation=process"):
        isolation_level("os")
    assert isolation_level("process") == "process"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CONVLIB_GRADING_ISOLATION", None)
    code = ("import sys; sys.modules['convlib.grading.isolation'] = None\n"
            "from convlib.grading.autograde import main\n"
            "sys.exit(main(['hw1', '--root', sys.argv[1], '--no-nbgrader', '--isolation', 'os']))")
    refused = subprocess.run([sys.executable, "-c", code, str(ROOT)], env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "refusing to grade" in refused.stderr and "--isolation=process" in refused.stderr
