"""The sandbox: a fork server that runs student code in isolated, resource-limited children.

Run as ``python -m convlib.grading._sandbox`` by :class:`Sandbox` (the trusted
grader). The server imports NumPy (and what the assignment preloads) once and
replaces forbidden library functions by guards that never pass through. It holds
**no hidden input**: for each job the trusted side sends the job spec, the server
forks the child at once, and only then reads that job's case inputs (one frame per
case) into buffers that every later child wipes before running student code.

The child enters the operating-system sandbox (:func:`convlib.grading.isolation.enter`,
unless the instructor chose ``isolation="process"``), keeps only its own two pipes
(records out, inputs in), sets rlimits, installs an audit hook that refuses, and
flags for review, the introspection only cheating needs (frames of the grader,
``gc``, code objects, ``ctypes``, ``marshal``, signals, processes, sockets, the
course files), runs the student's cells, and then asks for one case's inputs at a
time (:data:`~convlib.grading.protocol.CASE` records).

The server, which runs no student code, watches each child: CPU time of its
process tree per cell and per case (the limit that decides), and a generous wall
clock only as a safety net (:data:`~convlib.grading.protocol.END_WALL`, never
charged to the student). It kills the child's process group when a limit is
passed, reaps it, and answers with a validated header and the child's record
stream, framed (:mod:`convlib.grading.protocol`). It sends a heartbeat frame while
idle, so the trusted side notices within seconds a server that died or was stopped.
"""
from __future__ import annotations

import builtins
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from . import protocol as P

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEARTBEAT = 0.5  # seconds between the server's "alive" frames
ANSWER_TIMEOUT = 5.0  # the trusted side gives up on a server silent for this long

# modules whose attributes a graded call may not replace (checked after each call)
_WATCHED_MODULES = ("builtins", "numpy", "numpy.fft", "numpy.linalg", "numpy.lib.stride_tricks",
                    "scipy.signal", "scipy.fft", "torch", "torch.nn.functional", "convlib",
                    "convlib.grading", "convlib.grading.compare")

# audit events that only cheating (or an attack) needs when student code asks for them
_REVIEW_EVENTS = frozenset({
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "sys.addaudithook",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "object.__getattr__", "object.__setattr__",
    "object.__delattr__", "function.__new__", "code.__new__", "marshal.loads", "marshal.load",
    "marshal.dumps", "pickle.find_class", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
    "ctypes.addressof", "ctypes.string_at", "ctypes.wstring_at", "ctypes.PyObj_FromPtr", "os.kill",
    "os.killpg", "signal.pthread_kill", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
    "os.system", "subprocess.Popen", "pty.spawn", "socket.connect", "socket.bind", "socket.sendto",
    "socket.__new__", "sqlite3.connect", "resource.prlimit", "resource.setrlimit", "mmap.__new__",
    "_thread.start_new_thread", "os.chmod", "os.remove", "os.rename", "os.unlink", "os.rmdir",
    "os.symlink", "os.link", "shutil.rmtree", "compile", "exec", "builtins.input", "cpython.run_command",
    "ctypes.call_function", "os.putenv", "os.unsetenv", "os.setxattr", "os.truncate", "os.utime",
})
# the events a library may raise on its own (imports, warnings, dataclasses...): refused only
# when student code asks for them itself
_LIBRARY_EVENTS = frozenset({
    "sys._getframe", "object.__getattr__", "object.__setattr__", "object.__delattr__", "pickle.find_class",
    "marshal.loads", "marshal.load", "marshal.dumps", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
    "ctypes.addressof", "ctypes.call_function", "socket.__new__", "mmap.__new__", "_thread.start_new_thread",
    "function.__new__", "code.__new__", "os.remove", "os.unlink", "os.rename", "os.chmod", "os.utime",
    "os.putenv", "os.unsetenv", "os.rmdir", "shutil.rmtree",
})
_STDLIB = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})


# --------------------------------------------------------------------------- the child


def _describe(error: BaseException) -> dict[str, str]:
    try:
        message = str(error)
    except BaseException:
        message = "<unprintable>"
    where = ""
    try:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
        if frames:
            frame = frames[-1]
            where = f"{frame.filename[1:-1]}, line {frame.lineno}"
            if frame.line:
                where += f": {frame.line.strip()}"
    except BaseException:
        pass
    return {"type": type(error).__name__, "message": message[:500], "where": where[:300]}


def _snapshot() -> dict[str, dict[str, Any]]:
    return {name: dict(vars(sys.modules[name])) for name in _WATCHED_MODULES if name in sys.modules}


def _changes(before: dict[str, dict[str, Any]]) -> list[str]:
    changed = []
    for name, old in before.items():
        module = sys.modules.get(name)
        new = vars(module) if module is not None else {}
        try:
            if new == old:  # identity first: a fast C loop when nothing changed
                continue
        except BaseException:
            pass
        for attribute, value in old.items():  # additions (lazy submodules...) are harmless
            if not attribute.startswith("__") and new.get(attribute, _MISSING) is not value:
                changed.append(f"{name}.{attribute}")
    return sorted(changed)[:10]


_MISSING = object()


def _redirect_output(path: Path) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _install_audit_hook(emit, protected: list[str]) -> list[bool]:
    """Refuse (and flag) what only cheating needs, when student code asks for it.

    Returns the hook's switch: ``[False]`` while the grader's own code runs (the
    cells are compiled and exec'd by the child itself), ``[True]`` once student code
    may run. The switch lives in this closure only (no audit hook is reachable from
    Python), and it is only ever turned on.
    """
    state = [False, False]  # [student code may run, inside the hook]
    protected = [p.rstrip("/") + "/" for p in protected if p]
    readable = (sys.prefix.rstrip("/") + "/", str(Path(__file__).resolve().parents[1]) + "/")
    student_files = ("<cell", "<string>", "<stdin>")

    def student_asked(walk: bool) -> bool:
        """Whether student code itself asked (``walk``: through the standard library)."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(student_files):
                return True
            if not walk or name == __file__:
                return False
            if not (name.startswith(_STDLIB) or name.startswith("<frozen")):
                return False  # a library (numpy, scipy...) doing its own work
            frame = frame.f_back
        return False

    def refuse(event: str, detail: str) -> None:
        emit(P.FLAGGED, {"event": event, "detail": detail[:200]})
        raise PermissionError(f"{detail} is not available during grading (flagged for review)")

    def hook(event: str, args: tuple) -> None:
        if not state[0] or state[1]:
            return
        state[1] = True
        try:
            check(event, args)
        finally:
            state[1] = False

    def protected_path(path: Any) -> str | None:
        """``path``, absolute, if it lies in a protected folder (the course root)."""
        if not isinstance(path, (str, bytes)) or not protected:
            return None
        path = os.path.abspath(os.fsdecode(path))
        return path if any((path + "/").startswith(p) for p in protected) else None

    def check(event: str, args: tuple) -> None:
        if event == "open":
            path = protected_path(args[0])
            if path is not None:
                reading = args[1] in (None, "r", "rb") and not (isinstance(args[2], int) and args[2] & 3)
                if not (reading and any(path.startswith(p) for p in readable)):
                    refuse("open", path)
            return
        if event in ("os.mkdir", "os.listdir", "os.scandir", "os.chdir"):
            path = protected_path(args[0] if args else None)
            if path is not None:
                refuse(event, path)
            return
        if event == "import":
            if args[0] in sys.modules and student_asked(True):
                refuse(event, f"reloading {args[0]}")
            return
        if event not in _REVIEW_EVENTS:
            return
        if event in ("compile", "exec"):
            if student_asked(False):
                refuse(event, event)
            return
        if event in _LIBRARY_EVENTS and not student_asked(True):
            return
        refuse(event, event if event != "object.__getattr__" else f"access to {args[1]}")

    sys.addaudithook(hook)
    return state


def _wipe_inputs(jobs: dict[int, "_Job"]) -> None:
    """Overwrite, in this (child) process, the inputs the server holds for other jobs."""
    for job in jobs.values():
        for buffer in job.inputs:
            buffer[:] = bytes(len(buffer))
        job.inputs = []


def _child(job: dict[str, Any], write_fd: int, input_fd: int, workdir: Path, config: dict[str, Any]) -> None:
    """Run one job in this (forked) process; never returns."""
    from . import _state
    from ._forbidden import GuardState, captured_originals, forget_originals, install_guards, matches, strip_magics
    from ._values import decode, encode, from_plain, to_plain

    def emit(kind: bytes, meta: dict[str, Any], value: bytes = b"") -> None:
        data = memoryview(P.pack_record(kind, meta, value))
        while data:
            written = os.write(write_fd, data)
            data = data[written:]

    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        keep = sorted({write_fd, input_fd})
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, 1 << 16)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        limits = job["limits"]
        level = config.get("isolation", "process")
        if job.get("cuda"):
            emit(P.SETUP, {})  # CUDA's own start-up (device nodes, driver), before any student code
        if level != "process":
            # the operating-system boundary: returns in the walled-in job (PID 2 of its own
            # namespaces, scratch /tmp as working directory); this process stays the supervisor
            from .isolation import Policy, enter

            enter(Policy.from_limits(limits, level=level, gpu=bool(job.get("cuda"))))
            workdir = Path(os.getcwd())
        else:
            os.chdir(workdir)
        _redirect_output(workdir / "cells.out")
        _lower_limit(resource.RLIMIT_CORE, 0)
        _lower_limit(resource.RLIMIT_FSIZE, int(limits["max_file"]))
        _lower_limit(resource.RLIMIT_CPU, int(limits["job_cpu"]) + 1)
        _lower_limit(resource.RLIMIT_NPROC, int(limits.get("processes", 64)))
        name = job["function"]
        if job.get("cuda"):
            import torch

            torch.zeros(1, device="cuda")
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        memory = int(limits["memory_mb"]) * 2**20
        _lower_limit(resource.RLIMIT_DATA, _vm_bytes("VmData") + memory)
        if not job.get("cuda"):  # shared anonymous mappings escape RLIMIT_DATA, not RLIMIT_AS
            _lower_limit(resource.RLIMIT_AS, _vm_bytes("VmSize") + memory)

        _state.IN_SANDBOX = True
        reported: set[str] = set()

        def report(path: str) -> None:
            if path not in reported:
                reported.add(path)
                emit(P.FORBIDDEN, {"path": path})

        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        baseline = _snapshot()
        loaded = set(sys.modules)  # guarded by the server, or the grader's own
        skip = set(job.get("skip", ()))
        codes = []
        for index, source in enumerate(job["cells"]):
            try:
                codes.append(compile(strip_magics(source), f"<cell {index}>", "exec"))
            except BaseException as error:
                codes.append(error)
        switch = _install_audit_hook(emit, config.get("protected", []))
        switch[0] = True
        for index, code in enumerate(codes):
            if index in skip:
                continue
            emit(P.CELL, {"cell": index})
            try:
                if isinstance(code, BaseException):
                    raise code
                exec(code, namespace)
            except BaseException as error:  # the student's cell: report, carry on like a notebook
                emit(P.CELL_ERROR, {"cell": index, "error": _describe(error)})
        patched = _changes(baseline)
        if patched:
            emit(P.PATCHED, {"patched": patched})
        forbidden = job.get("forbidden", [])
        if len(sys.modules) != len(loaded):  # the cells imported more: guard it too
            install_guards(forbidden, modules=set(sys.modules) - loaded)

        function = namespace.get(name)
        emit(P.CELLS_DONE, {})
        if not callable(function):
            emit(P.MISSING, {"defined": name in namespace, "type": type(function).__name__})
            return
        GuardState.report = report  # a forbidden call counts from now on (at top level it only fails)
        for path in captured_originals(function):  # taken before a late guard was installed
            report(path)
        forget_originals()
        _redirect_output(workdir / "function.out")
        after_cells = _snapshot()
        loaded = set(sys.modules)
        for k in job["cases"]:
            emit(P.CASE, {"case": k})  # the server answers with this case's inputs, and no other
            frame = P.read_frame(input_fd, timeout=None)
            case = decode(bytes(frame))
            args = from_plain(case["args"], device=case["device"])
            kwargs = from_plain(case["kwargs"], device=case["device"])
            meta: dict[str, Any] = {"case": k}
            value = b""
            modules = len(sys.modules)
            try:
                output = function(*args, **kwargs)
                plain = to_plain(output)
                value = encode(plain)
                meta["status"] = "ok"
            except BaseException as error:
                meta["status"] = "error"
                meta["error"] = _describe(error)
            meta["patched"] = _changes(after_cells)
            if len(sys.modules) != modules:  # imported during the call: a forbidden module?
                for module_name in sorted(set(sys.modules) - loaded):
                    if matches(module_name, forbidden):
                        report(module_name)
                loaded = set(sys.modules)
            emit(P.RESULT, meta, value)
        emit(P.DONE, {})
    except BaseException:
        try:
            emit(P.CRASH, {"error": traceback.format_exc()[-2000:]})
        except BaseException:
            pass
    finally:
        os._exit(0)


def _vm_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _lower_limit(which: int, value: int) -> None:
    """Set an rlimit to ``value`` unless it is already lower (limits only ever go down)."""
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


# --------------------------------------------------------------------------- the server


def _stat(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every process below it, alive or reaped."""
    from .isolation import tree_cpu_seconds

    return tree_cpu_seconds(pid)


def _runnable(pid: int) -> bool:
    """Whether a process of ``pid``'s tree is running or waiting for a CPU (starved, not asleep)."""
    children: dict[int, list[int]] = {}
    states: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
                states[int(entry)] = fields[0]
    todo = [pid]
    while todo:
        current = todo.pop()
        if states.get(current) in (b"R", b"D"):
            return True
        todo += children.get(current, [])
    return False


class _Job:
    def __init__(self, spec: dict[str, Any], pid: int, read_fd: int, input_fd: int, workdir: Path) -> None:
        self.spec = spec
        self.pid = pid
        self.read_fd = read_fd
        self.input_fd = input_fd
        self.workdir = workdir
        self.inputs: list[bytearray] = []
        self.pending = memoryview(b"")
        self.buffer = bytearray()
        self.parsed = 0
        self.phase: list[Any] = ["start", None]
        self.started = time.monotonic()
        self.phase_wall = self.started
        self.phase_cpu = 0.0
        self.cpu = 0.0
        self.cpu_checked = 0.0
        self.killed: str | None = None
        self.status: int | None = None
        self.eof = False

    def consume(self) -> None:
        """Track the phase (cell i, case k) from the records received so far; feed inputs."""
        while self.parsed + P.RECORD.size <= len(self.buffer) and self.killed is None:
            kind, meta_size, value_size = P.RECORD.unpack_from(self.buffer, self.parsed)
            end = self.parsed + P.RECORD.size + meta_size + value_size
            if kind not in P.KINDS:
                self.killed = P.END_GARBLED
                _kill_group(self.pid)
                return
            if end > len(self.buffer):
                return
            if kind in P.PHASE_OF:
                try:
                    meta = json.loads(bytes(self.buffer[self.parsed + P.RECORD.size:
                                                        self.parsed + P.RECORD.size + meta_size]))
                    index = meta.get("cell", meta.get("case"))
                    index = index if isinstance(index, int) else None
                except (ValueError, AttributeError):
                    self.killed = P.END_GARBLED
                    _kill_group(self.pid)
                    return
                self.phase = [P.PHASE_OF[kind], index]
                self.phase_wall = time.monotonic()
                self.cpu = _tree_cpu(self.pid)
                self.phase_cpu = self.cpu
                if kind == P.CASE:
                    self.feed(index)
            self.parsed = end

    def feed(self, case: int | None) -> None:
        """Send the child the inputs of ``case``, if it is one of this job's cases."""
        cases = self.spec["cases"]
        if case not in cases or self.pending or not self.inputs:
            self.killed = P.END_GARBLED
            _kill_group(self.pid)
            return
        position = cases.index(case)
        self.pending = memoryview(P.pack_frame(bytes(self.inputs[position])))
        buffer = self.inputs[position]
        buffer[:] = bytes(len(buffer))
        self.flush()

    def flush(self) -> None:
        while self.pending:
            try:
                written = os.write(self.input_fd, self.pending)
            except BlockingIOError:
                return
            except OSError:
                self.pending = memoryview(b"")
                return
            self.pending = self.pending[written:]

    def limits_passed(self) -> str | None:
        limits = self.spec["limits"]
        if len(self.buffer) > limits["max_stream"]:
            return P.END_TOO_LARGE
        kind = self.phase[0]
        if kind == "done":
            return None
        cpu_limit = limits["case_cpu"] if kind == "case" else limits["cell_cpu"]
        wall_limit = limits["case_wall"] if kind == "case" else limits["cell_wall"]
        if kind in ("setup", "start"):  # the child's own start-up (CUDA can take a while)
            cpu_limit, wall_limit = 5 * cpu_limit + 5, 5 * wall_limit + 10
        now = time.monotonic()
        if now - self.cpu_checked >= 0.05:
            self.cpu_checked = now
            self.cpu = max(self.cpu, _tree_cpu(self.pid))
        if self.cpu - self.phase_cpu > cpu_limit:
            return P.END_CPU
        if now - self.started > limits["job_wall"] or now - self.phase_wall > wall_limit:
            return P.END_WALL if _runnable(self.pid) else P.END_IDLE
        return None


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _kill_session(sid: int) -> None:
    """Kill every process left in session ``sid`` (daemons a child spawned without the OS layer;
    with it, the job's PID namespace ends with the job)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and len(fields) > 4 and int(fields[3]) == sid:
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def _become_subreaper() -> None:
    """Have every orphan of a job re-parented to this server (``PR_SET_CHILD_SUBREAPER``)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _kill_orphans(jobs: set[int]) -> list[int]:
    """Kill this server's children that are not running jobs (a job's re-parented daemons)."""
    from .isolation import child_pids

    killed = []
    for child in child_pids(os.getpid()):
        if child not in jobs:
            try:
                os.kill(child, signal.SIGKILL)
                killed.append(child)
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            import select

            select.select([], [fd], [], 1.0)


def serve() -> None:
    """The fork server's main loop (stdin: framed jobs; stdout: framed results and heartbeats)."""
    stdin_fd = sys.stdin.buffer.fileno()
    out_fd = sys.stdout.buffer.fileno()
    config = json.loads(bytes(P.read_frame(stdin_fd, timeout=60)))
    import numpy  # noqa: F401  (the point of a fork server: imported once)

    for module in config.get("preload", ()):
        __import__(module)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    from ._forbidden import install_guards

    import convlib.grading._check  # noqa: F401  (students' notebooks import check)

    install_guards(config.get("forbidden", ()))
    import gc

    gc.freeze()  # a child's garbage collections never walk (and copy the pages of) the server's objects
    scratch = Path(config["scratch"])
    _write_all(out_fd, P.pack_frame(b"ready"))

    selector = selectors.DefaultSelector()
    selector.register(stdin_fd, selectors.EVENT_READ, None)
    orphans: set[int] = set()  # killed strays, to be reaped
    process_level = config.get("isolation", "process") == "process"  # no PID namespace per job
    if process_level:
        _become_subreaper()
    jobs: dict[int, _Job] = {}
    closing = False
    last_beat = time.monotonic()
    while not closing or jobs:
        waiting = any(job.eof for job in jobs.values())
        for key, _ in selector.select((0.001 if waiting else 0.02) if jobs else HEARTBEAT):
            if key.data is None:
                try:
                    frame = P.read_frame(stdin_fd, timeout=ANSWER_TIMEOUT)
                except P.ProtocolError:
                    frame = None
                spec = json.loads(bytes(frame)) if frame else {"op": "exit"}
                if spec.get("op") == "exit":
                    closing = True
                    selector.unregister(stdin_fd)
                    for job in jobs.values():
                        job.killed = job.killed or P.END_SHUTDOWN
                        _kill_group(job.pid)
                    continue
                spec["forbidden"] = config.get("forbidden", [])
                job = _start(spec, scratch, config, jobs)
                # the inputs come after the fork: this child never had them, later ones wipe them
                job.inputs = [P.read_frame(stdin_fd, timeout=ANSWER_TIMEOUT) for _ in range(spec["n_inputs"])]
                jobs[job.pid] = job
                selector.register(job.read_fd, selectors.EVENT_READ, job)
            else:
                job = key.data
                try:
                    chunk = os.read(job.read_fd, 1 << 16)
                except BlockingIOError:
                    continue
                if chunk:
                    job.buffer += chunk
                    job.consume()
                else:  # the child closed its end: it is exiting (or hostile); reap it below
                    job.eof = True
                    selector.unregister(job.read_fd)
        for orphan in list(orphans):
            try:
                if os.waitpid(orphan, os.WNOHANG)[0]:
                    orphans.discard(orphan)
            except ChildProcessError:
                orphans.discard(orphan)
        for job in list(jobs.values()):
            job.flush()
            if job.killed is None:
                reason = job.limits_passed()
                if reason:
                    job.killed = reason
                    _kill_group(job.pid)
            pid, status = os.waitpid(job.pid, os.WNOHANG)
            if pid == 0:
                continue
            job.status = status
            if process_level:
                # stray grandchildren and daemons (the OS level ends its PID namespace): those
                # still in the job's session, and those that left it, re-parented to this subreaper
                _kill_session(job.pid)
                orphans.update(_kill_orphans(set(jobs)))
            while True:
                try:
                    chunk = os.read(job.read_fd, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                job.buffer += chunk
            job.consume()  # records that arrived with the exit still tell where the child was
            if not job.eof:
                selector.unregister(job.read_fd)
            os.close(job.read_fd)
            os.close(job.input_fd)
            del jobs[job.pid]
            _finish(job, out_fd)
            last_beat = time.monotonic()
        if time.monotonic() - last_beat >= HEARTBEAT:
            _write_all(out_fd, P.pack_frame(b""))
            last_beat = time.monotonic()


def _start(spec: dict[str, Any], scratch: Path, config: dict[str, Any], jobs: dict[int, _Job]) -> _Job:
    workdir = Path(tempfile.mkdtemp(prefix=f"job{spec['job']}-", dir=scratch))
    read_fd, write_fd = os.pipe()
    input_read, input_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _wipe_inputs(jobs)
            os.close(read_fd)
            os.close(input_write)
        finally:
            _child(spec, write_fd, input_read, workdir, config)
    os.close(write_fd)
    os.close(input_read)
    os.set_blocking(read_fd, False)
    os.set_blocking(input_write, False)
    return _Job(spec, pid, read_fd, input_write, workdir)


def _finish(job: _Job, out_fd: int) -> None:
    status = job.status or 0
    header = {
        "job": job.spec["job"],
        "end": job.killed or (P.END_SIGNAL if os.WIFSIGNALED(status) else P.END_EXIT),
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "phase": job.phase,
        "cpu": round(job.cpu, 3),
        "n": len(job.buffer),
    }
    _write_all(out_fd, P.pack_frame(json.dumps(header).encode()) + P.pack_frame(bytes(job.buffer)))
    shutil.rmtree(job.workdir, ignore_errors=True)


# --------------------------------------------------------------------------- the client

# the only variables of the grader's environment a sandbox sees (an allow-list: the grader's
# may hold the seed, the signing key, a database password, cloud credentials...)
SANDBOX_VARIABLES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LD_LIBRARY_PATH",
                               "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "CUBLAS_WORKSPACE_CONFIG"})
SANDBOX_VARIABLE_PREFIXES = ("LC_",)


def sandbox_environment(environ: dict[str, str]) -> dict[str, str]:
    """The part of ``environ`` passed on to the fork server and its children.

    Examples
    --------
    >>> sandbox_environment({"LANG": "C.UTF-8", "CONVLIB_GRADING_SEED": "42", "NBGRADER_DB_URL": "x"})
    {'LANG': 'C.UTF-8'}
    """
    return {key: value for key, value in environ.items()
            if key in SANDBOX_VARIABLES or key.startswith(SANDBOX_VARIABLE_PREFIXES)}



class SandboxError(RuntimeError):
    """The fork server failed (it died, stopped, or answered something unexpected)."""


class Sandbox:
    """The trusted side of the fork server: start it, submit jobs, read results.

    Parameters
    ----------
    forbidden : sequence of str
        Paths the server replaces by guards.
    preload : sequence of str
        Modules the server imports before forking.
    isolation : str, default "process"
        ``"process"`` (rlimits and Python guards only) or a level of
        :mod:`convlib.grading.isolation` that each child enters.
    protected : sequence of str
        Folders (the course root) that a child may not open, whatever the level.
    """

    def __init__(self, *, forbidden=(), preload=(), isolation: str = "process", protected=()) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="convlib-sandbox-"))
        package_root = str(Path(__file__).resolve().parents[2])
        env = sandbox_environment(os.environ)
        env.update({
            "PYTHONPATH": package_root,
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
        })
        self._process = subprocess.Popen(
            [sys.executable, "-m", "convlib.grading._sandbox"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self._scratch, env=env, start_new_session=True,
        )
        config = {"preload": list(preload), "forbidden": list(forbidden), "scratch": str(self._scratch),
                  "isolation": isolation, "protected": [str(p) for p in protected]}
        self._send(P.pack_frame(json.dumps(config).encode()))
        try:
            answer = self._frame(timeout=120.0)
        except SandboxError:
            answer = None
        if answer != b"ready":
            self.close()
            raise SandboxError("the sandbox's fork server did not start")

    @property
    def pid(self) -> int:
        """The fork server's process id."""
        return self._process.pid

    def _send(self, data: bytes) -> None:
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as error:
            raise SandboxError(f"the fork server is gone ({error})") from None

    def _frame(self, timeout: float) -> bytes:
        try:
            return bytes(P.read_frame(self._process.stdout.fileno(), timeout=timeout))
        except (P.ProtocolError, OSError, ValueError) as error:
            raise SandboxError(f"the fork server stopped answering ({error})") from None

    def submit(self, job: dict[str, Any], inputs: list[bytes]) -> None:
        """Start a job (``{"job": id, "function", "cases", "cells", "skip", "limits"}``).

        ``inputs``: one encoded input per case of ``job["cases"]``, in order; the
        server gets them only after the job's child is forked.
        """
        frames = [P.pack_frame(json.dumps({"op": "run", **job, "n_inputs": len(inputs)}).encode())]
        frames += [P.pack_frame(data) for data in inputs]
        self._send(b"".join(frames))

    def result(self, timeout: float = ANSWER_TIMEOUT) -> tuple[dict[str, Any], bytes]:
        """Wait for a job to end; its validated header and the child's raw record stream.

        Raises :class:`SandboxError` when the server is silent (no heartbeat) for
        ``timeout`` seconds, dead, or garbled.
        """
        while True:
            body = self._frame(timeout)
            if body:  # an empty frame is a heartbeat
                break
        try:
            header = P.validate_header(json.loads(body))
        except (ValueError, P.ProtocolError) as error:
            raise SandboxError(f"the fork server's answer is garbled ({error})") from None
        stream = self._frame(timeout)
        if len(stream) != header["n"]:
            raise SandboxError("the fork server's answer does not match its header")
        return header, stream

    def close(self) -> None:
        """Stop the fork server (killing any running job) and remove its scratch folder."""
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for target in (lambda: os.killpg(self._process.pid, signal.SIGKILL),
                       lambda: self._process.kill()):
            try:
                target()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self._process.wait()
        _kill_session(self._process.pid)
        if self._process.stdout:
            self._process.stdout.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


if __name__ == "__main__":
    serve()
