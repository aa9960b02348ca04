"""The sandbox: a fork server that runs student code in resource-limited children.

Run as ``python -m convlib.grading._sandbox`` by :class:`Sandbox` (the trusted
grader). The server imports NumPy (and what the assignment preloads) once,
replaces forbidden library functions by guards, reads every case's inputs, and
then forks one child per job (a student's notebook and one graded function): the
child starts a new session, closes every inherited descriptor but its result pipe,
sets memory, file-size and CPU limits, runs the student's cells, then calls the
function on each case and streams the results back as plain data.

The server, which runs no student code, watches each child: the CPU time and wall
time of the current cell or case (read from ``/proc``), and the size of what it
sends; it kills the child's whole process group when a limit is passed, reaps it,
and forwards what the child sent with how it ended. Nothing in this process or
the children decides a score: the trusted grader decodes the results
(``allow_pickle=False``) and compares them with its own references.
"""
from __future__ import annotations

import builtins
import json
import os
import resource
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from . import isolation  # ---- OS isolation: imported before the guards replace os.fork, ctypes...

_RECORD = struct.Struct("!cII")  # kind, meta length, value length
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# modules whose attributes a graded call may not replace (checked after each call)
_WATCHED_MODULES = ("builtins", "numpy", "numpy.fft", "numpy.linalg", "numpy.lib.stride_tricks",
                    "scipy.signal", "scipy.fft", "torch", "torch.nn.functional", "convlib",
                    "convlib.grading", "convlib.grading.compare")


def pack_record(kind: bytes, meta: dict[str, Any], value: bytes = b"") -> bytes:
    """One record of a child's result stream."""
    body = json.dumps(meta, separators=(",", ":")).encode()
    return _RECORD.pack(kind, len(body), len(value)) + body + value


def iter_records(stream: bytes):
    """``(kind, meta, value)`` for each complete record of a stream (stops at a torn one)."""
    offset = 0
    while offset + _RECORD.size <= len(stream):
        kind, meta_size, value_size = _RECORD.unpack_from(stream, offset)
        end = offset + _RECORD.size + meta_size + value_size
        if end > len(stream):
            return
        start = offset + _RECORD.size
        try:
            meta = json.loads(stream[start : start + meta_size])
        except ValueError:
            return
        if not isinstance(meta, dict):
            return
        yield kind, meta, stream[start + meta_size : end]
        offset = end


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


def _redirect_output(path: Path | int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    fd = path if isinstance(path, int) else os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _child(job: dict[str, Any], inputs: dict[str, Any], write_fd: int, workdir: Path) -> None:
    """Run one job in this (forked) process; never returns."""
    from . import _state
    from ._forbidden import GuardState, install_guards, matches, strip_magics
    from ._values import encode, from_plain, to_plain

    def emit(kind: bytes, meta: dict[str, Any], value: bytes = b"") -> None:
        data = memoryview(pack_record(kind, meta, value))
        while data:
            written = os.write(write_fd, data)
            data = data[written:]

    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        _redirect_output(workdir / "cells.out")
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, 1 << 16)
        os.chdir(workdir)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        limits = job["limits"]
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file"], limits["max_file"]))
        cpu_budget = int(limits["job_cpu"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_budget, cpu_budget))
        name = job["function"]
        cases = [inputs[name][k] for k in job["cases"]]
        # ---- OS isolation (convlib.grading.isolation): from here on, the host is out of sight;
        # files on the host are opened before (they stay open). Returns in PID 2 of new namespaces.
        function_out = os.open(workdir / "function.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        gpu = any(case["device"].startswith("cuda") for case in cases)
        isolation.enter(isolation.Policy.from_limits(limits, level=job.get("isolation", isolation.OS), gpu=gpu))
        # ---- end of OS isolation
        if any(case["device"].startswith("cuda") for case in cases):
            emit(b"U", {})  # CUDA's own start-up, before any student code and memory limit
            import torch

            torch.zeros(1, device="cuda")
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        data_limit = _vm_data_bytes() + int(limits["memory_mb"]) * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))

        _state.IN_SANDBOX = True
        GuardState.report = lambda path: emit(b"F", {"path": path})
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        baseline = _snapshot()
        skip = set(job.get("skip", ()))
        for index, source in enumerate(job["cells"]):
            if index in skip:
                continue
            emit(b"K", {"cell": index})
            try:
                exec(compile(strip_magics(source), f"<cell {index}>", "exec"), namespace)
            except BaseException as error:  # the student's cell: report, carry on like a notebook
                emit(b"E", {"cell": index, "error": _describe(error)})
        patched = _changes(baseline)
        if patched:
            emit(b"N", {"patched": patched})
        forbidden = job.get("forbidden", [])
        if len(sys.modules) != job.get("modules", 0):  # the cells imported more: guard it too
            install_guards(forbidden)

        function = namespace.get(name)
        if not callable(function):
            emit(b"M", {"defined": name in namespace, "type": type(function).__name__})
            return
        _redirect_output(function_out)
        after_cells = _snapshot()
        loaded = set(sys.modules)
        for k, case in zip(job["cases"], cases):
            emit(b"S", {"case": k})
            args = from_plain(case["args"], device=case["device"])
            kwargs = from_plain(case["kwargs"], device=case["device"])
            meta: dict[str, Any] = {"case": k}
            value = b""
            modules = len(sys.modules)
            GuardState.armed = True
            try:
                output = function(*args, **kwargs)
                plain = to_plain(output)
                GuardState.armed = False
                value = encode(plain)
                meta["status"] = "ok"
            except BaseException as error:
                GuardState.armed = False
                meta["status"] = "error"
                meta["error"] = _describe(error)
            finally:
                GuardState.armed = False
            meta["patched"] = _changes(after_cells)
            if len(sys.modules) != modules:  # imported during the call: a forbidden module?
                for module_name in sorted(set(sys.modules) - loaded):
                    if matches(module_name, forbidden):
                        emit(b"F", {"path": module_name})
                loaded = set(sys.modules)
            emit(b"R", meta, value)
        emit(b"D", {})
    except BaseException:
        try:
            emit(b"X", {"error": traceback.format_exc()[-2000:]})
        except BaseException:
            pass
    finally:
        os._exit(0)


def _vm_data_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


# --------------------------------------------------------------------------- the server


def _cpu_seconds(pid: int) -> float:
    # ---- OS isolation: the job runs in the forked child's grandchild (see isolation.enter)
    return isolation.tree_cpu_seconds(pid)


class _Job:
    def __init__(self, spec: dict[str, Any], pid: int, read_fd: int, workdir: Path) -> None:
        self.spec = spec
        self.pid = pid
        self.read_fd = read_fd
        self.workdir = workdir
        self.buffer = bytearray()
        self.parsed = 0
        self.phase: list[Any] = ["start", None]
        self.started = time.monotonic()
        self.phase_wall = self.started
        self.phase_cpu = 0.0
        self.cpu = 0.0
        self.killed: str | None = None
        self.status: int | None = None
        self.eof = False

    def consume(self) -> None:
        """Track the phase (cell i, case k) from the records received so far."""
        while self.parsed + _RECORD.size <= len(self.buffer):
            kind, meta_size, value_size = _RECORD.unpack_from(self.buffer, self.parsed)
            end = self.parsed + _RECORD.size + meta_size + value_size
            if end > len(self.buffer):
                return
            if kind in (b"K", b"S", b"U", b"D", b"M"):
                meta = json.loads(bytes(self.buffer[self.parsed + _RECORD.size :
                                                     self.parsed + _RECORD.size + meta_size]))
                index = meta.get("cell", meta.get("case"))
                self.phase = [{b"K": "cell", b"S": "case", b"U": "setup"}.get(kind, "done"), index]
                self.phase_wall = time.monotonic()
                self.phase_cpu = _cpu_seconds(self.pid)
            self.parsed = end

    def limits_passed(self) -> str | None:
        limits = self.spec["limits"]
        if len(self.buffer) > limits["max_stream"]:
            return "too_large"
        kind = self.phase[0]
        if kind == "done":
            return None
        cpu_limit = limits["case_cpu"] if kind == "case" else limits["cell_cpu"]
        wall_limit = limits["case_wall"] if kind == "case" else limits["cell_wall"]
        if kind == "setup":  # CUDA's start-up can take a while on a cold GPU
            cpu_limit, wall_limit = 5 * cpu_limit, 5 * wall_limit
        self.cpu = _cpu_seconds(self.pid)
        if self.cpu - self.phase_cpu > cpu_limit or time.monotonic() - self.phase_wall > wall_limit:
            return "timeout"
        return None


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _read_head(path: Path, size: int = 2000) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(size).decode("utf-8", "replace")
    except OSError:
        return ""


def serve() -> None:
    """The fork server's main loop (stdin: JSON commands; stdout: job results)."""
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    config = json.loads(stdin.readline())
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
    from ._values import decode

    import convlib.grading._check  # noqa: F401  (students' notebooks import check)

    install_guards(config.get("forbidden", ()))
    module_count = len(sys.modules)

    inputs = decode(Path(config["inputs"]).read_bytes())
    scratch = Path(config["scratch"])
    stdout.write(b"ready\n")
    stdout.flush()

    selector = selectors.DefaultSelector()
    stdin_fd = stdin.fileno()
    os.set_blocking(stdin_fd, False)
    selector.register(stdin_fd, selectors.EVENT_READ, None)
    jobs: dict[int, _Job] = {}
    commands = b""
    closing = False
    while not closing or jobs:
        waiting = any(job.eof for job in jobs.values())
        for key, _ in selector.select((0.001 if waiting else 0.02) if jobs else None):
            if key.data is None:
                try:
                    data = os.read(stdin_fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    closing = True
                    selector.unregister(stdin_fd)
                    for job in jobs.values():
                        job.killed = job.killed or "shutdown"
                        _kill_group(job.pid)
                    continue
                commands += data
                while b"\n" in commands:
                    line, commands = commands.split(b"\n", 1)
                    spec = json.loads(line)
                    if spec.get("op") == "exit":
                        closing = True
                        continue
                    spec["forbidden"] = config.get("forbidden", [])
                    spec["isolation"] = config.get("isolation", "os")  # ---- OS isolation level
                    spec["modules"] = module_count
                    job = _start(spec, inputs, scratch)
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
        for job in list(jobs.values()):
            if job.killed is None:
                reason = job.limits_passed()
                if reason:
                    job.killed = reason
                    _kill_group(job.pid)
            pid, status = os.waitpid(job.pid, os.WNOHANG)
            if pid == 0:
                continue
            job.status = status
            job.cpu = max(job.cpu, _cpu_seconds(job.pid))
            _kill_group(job.pid)  # stray grandchildren
            while True:
                try:
                    chunk = os.read(job.read_fd, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                job.buffer += chunk
            job.consume()  # ---- OS isolation: the last records may arrive here (the child ends later)
            if not job.eof:
                selector.unregister(job.read_fd)
            os.close(job.read_fd)
            del jobs[job.pid]
            _finish(job, stdout)


def _start(spec: dict[str, Any], inputs: dict[str, Any], scratch: Path) -> _Job:
    workdir = Path(tempfile.mkdtemp(prefix=f"job{spec['job']}-", dir=scratch))
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(spec, inputs, write_fd, workdir)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return _Job(spec, pid, read_fd, workdir)


def _finish(job: _Job, stdout) -> None:
    status = job.status or 0
    header = {
        "job": job.spec["job"],
        "end": job.killed or ("signal" if os.WIFSIGNALED(status) else "exit"),
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "phase": job.phase,
        "cpu": round(job.cpu, 3),
        "wall": round(time.monotonic() - job.started, 3),
        "output": _read_head(job.workdir / "function.out"),
        "n": len(job.buffer),
    }
    stdout.write(json.dumps(header).encode() + b"\n" + bytes(job.buffer))
    stdout.flush()
    shutil.rmtree(job.workdir, ignore_errors=True)


# --------------------------------------------------------------------------- the client


class SandboxError(RuntimeError):
    """The fork server failed (it died, or answered something unexpected)."""


class Sandbox:
    """The trusted side of the fork server: start it, submit jobs, read results.

    Parameters
    ----------
    inputs : bytes
        :func:`convlib.grading._values.encode` of ``{function: [case inputs]}``, where
        each case's inputs are ``{"args": ..., "kwargs": ..., "device": str}``.
    forbidden : sequence of str
        Paths the server replaces by guards.
    preload : sequence of str
        Modules the server imports before forking.
    """

    def __init__(self, inputs: bytes, *, forbidden=(), preload=()) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="convlib-sandbox-"))
        inputs_path = self._scratch / "inputs.bin"
        inputs_path.write_bytes(inputs)
        package_root = str(Path(__file__).resolve().parents[2])
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("CONVLIB_GRADING") and key != "PYTHONPATH"}
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
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=self._scratch, env=env,
        )
        config = {"preload": list(preload), "forbidden": list(forbidden),
                  "inputs": str(inputs_path), "scratch": str(self._scratch)}
        self._send(config)
        if self._process.stdout.readline() != b"ready\n":
            self.close()
            raise SandboxError("the sandbox's fork server did not start")
        inputs_path.unlink()

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._process.stdin.write(json.dumps(message).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise SandboxError(f"the fork server is gone ({error})") from None

    def submit(self, job: dict[str, Any]) -> None:
        """Start a job: ``{"job": id, "function", "cases", "cells", "skip", "limits"}``."""
        self._send({"op": "run", **job})

    def result(self) -> tuple[dict[str, Any], bytes]:
        """Block until a job ends; its header and the child's raw result stream."""
        line = self._process.stdout.readline(1 << 20)
        if not line.endswith(b"\n"):
            raise SandboxError("the fork server stopped answering")
        header = json.loads(line)
        stream = self._process.stdout.read(int(header["n"]))
        if len(stream) != int(header["n"]):
            raise SandboxError("the fork server's answer was cut short")
        return header, stream

    def close(self) -> None:
        """Stop the fork server (killing any running job) and remove its scratch folder."""
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


if __name__ == "__main__":
    serve()
