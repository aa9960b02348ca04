"""The operating-system boundary of a grading job (convlib.grading.isolation).

Every test forks a real child, walls it in with ``isolation.enter`` and has it try
what a hostile (or an honest) student would; the child reports what happened as JSON
through a pipe it holds from before ``enter``.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

import convlib
from convlib.grading import isolation
from convlib.grading.isolation import OS, PROCESS, IsolationError, Policy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(convlib.__file__).resolve().parent


def run_job(job, policy: Policy | None = None, *, before_wait=None):
    """Run ``job()`` in a forked child walled in by ``policy``: (its JSON result, wait status).

    With ``before_wait(pid)``, the job may call :func:`gate` once: it then waits there
    until ``before_wait`` (run here meanwhile) has returned.
    """
    policy = policy or Policy()
    read_fd, write_fd = os.pipe()
    _GATE[:] = [*os.pipe(), *os.pipe()]  # job -> test, test -> job
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            isolation.enter(policy)
            try:
                result = job()
            except BaseException as error:  # noqa: BLE001
                result = {"error": f"{type(error).__name__}: {error}",
                          "traceback": traceback.format_exc()[-1500:]}
            data = json.dumps(result).encode()
            while data:
                data = data[os.write(write_fd, data):]
        finally:
            os._exit(0)
    os.close(write_fd)
    if before_wait is not None:
        assert os.read(_GATE[0], 1) == b"1"
        before_wait(pid)
        os.write(_GATE[3], b"1")
    for fd in _GATE:
        os.close(fd)
    data = b""
    while chunk := os.read(read_fd, 1 << 16):
        data += chunk
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), status


_GATE: list[int] = []


def gate() -> None:
    """In a job: let the test look (see :func:`run_job`), then carry on."""
    os.write(_GATE[1], b"1")
    os.read(_GATE[2], 1)


def _errno_of(call):
    try:
        call()
    except OSError as error:
        return error.errno
    return 0


def _processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


# --------------------------------------------------------------------------- filesystem


def test_job_cannot_see_the_course_root_or_root_home():
    secrets = [ROOT / "nbgrader_config.py", ROOT / "tests" / "test_grading_isolation.py",
               ROOT / ".git", Path("/root/.bashrc"), Path("/root/.profile"), Path("/etc/shadow")]
    present = [str(path) for path in secrets if path.exists()]
    assert present  # the host has some of them: their absence inside means something

    def job():
        readable = []
        for path in present:
            try:
                with open(path, "rb") as handle:
                    handle.read(1)
                readable.append(path)
            except OSError:
                pass
        listings = {folder: sorted(os.listdir(folder)) for folder in ("/root", "/work", str(ROOT))
                    if os.path.isdir(folder)}
        return {"readable": readable, "listings": listings,
                "exists": [p for p in present if os.path.exists(p)]}

    result, status = run_job(job)
    assert status == 0 and "error" not in result, result
    assert result["readable"] == [] and result["exists"] == []
    visible = isolation.visible_paths()
    for folder, names in result["listings"].items():  # only the way to a visible path
        for name in names:
            path = os.path.join(folder, name)
            assert any(entry == path or entry.startswith(path + "/") for entry in visible), path
    assert result["listings"].get(str(ROOT), ["convlib"]) in (["convlib"], [".venv", "convlib"])


def test_job_cannot_write_outside_its_scratch():
    target = PACKAGE / "grading" / "isolation.py"
    before = target.read_bytes()

    def job():
        codes = {}
        for path in (str(target), "/usr/evil", "/evil", str(PACKAGE / "evil.py"), "/proc/evil"):
            codes[path] = _errno_of(lambda: open(path, "w").write("x"))
        codes["chmod"] = _errno_of(lambda: os.chmod(str(target), 0o777))
        with open("/tmp/ok.txt", "w") as handle:
            handle.write("scratch works")
        with open("/dev/null", "w") as handle:
            handle.write("discarded")
        return {"codes": codes, "cwd": os.getcwd(), "home": os.environ["HOME"],
                "scratch": open("/tmp/ok.txt").read()}

    result, status = run_job(job)
    assert status == 0 and "error" not in result, result
    assert all(code in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT)
               for code in result["codes"].values()), result["codes"]
    assert result["scratch"] == "scratch works"
    assert result["cwd"] == result["home"] == isolation.SCRATCH
    assert target.read_bytes() == before and not (PACKAGE / "evil.py").exists()


def test_scratch_size_cap_holds():
    def job():
        written = 0
        block = b"x" * 2**20
        try:
            with open("/tmp/fill", "wb") as handle:
                for _ in range(64):
                    handle.write(block)
                    handle.flush()
                    written += 1
        except OSError as error:
            return {"written_mb": written, "errno": error.errno}
        return {"written_mb": written, "errno": 0}

    result, status = run_job(job, Policy(scratch_mb=8))
    assert status == 0
    assert result["errno"] == errno.ENOSPC and result["written_mb"] <= 8, result


# --------------------------------------------------------------------------- identity


def test_job_runs_unprivileged_without_capabilities():
    def job():
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        return {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(),
                "cap_eff": status["CapEff"].strip(), "cap_prm": status["CapPrm"].strip(),
                "cap_bnd": status["CapBnd"].strip(), "nnp": status["NoNewPrivs"].strip(),
                "processes": sorted(int(name) for name in os.listdir("/proc") if name.isdigit()),
                "hostname": socket.gethostname()}

    result, status = run_job(job)
    assert status == 0, result
    assert result["uid"] != 0 and result["euid"] != 0
    assert int(result["cap_eff"], 16) == int(result["cap_prm"], 16) == int(result["cap_bnd"], 16) == 0
    assert result["nnp"] == "1"
    assert result["pid"] == 1 and result["processes"] == [1]  # the init of its own PID namespace
    assert result["hostname"] == "sandbox" != socket.gethostname()


# --------------------------------------------------------------------------- network


def test_job_cannot_reach_a_listener_on_host_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]

        def job():
            outcome = {}
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                    conn.sendall(b"secret")
                outcome["connect"] = "connected"
            except OSError as error:
                outcome["connect"] = errno.errorcode.get(error.errno, str(error))
            outcome["inet"] = _errno_of(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
            outcome["inet6"] = _errno_of(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close())
            outcome["netlink"] = _errno_of(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW).close())
            outcome["unix"] = _errno_of(lambda: socket.socketpair(socket.AF_UNIX)[0].close())
            outcome["interfaces"] = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev")
                                           if ":" in line)
            return outcome

        result, status = run_job(job)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody knocked
            listener.accept()
    assert status == 0, result
    assert result["connect"] != "connected"
    assert result["inet"] == result["inet6"] == result["netlink"] == errno.EPERM
    assert result["unix"] == 0  # honest multiprocessing-style pipes still work
    assert result["interfaces"] == ["lo"]


def test_network_namespace_alone_hides_host_loopback():
    """Without the seccomp and Landlock layers (a kernel without them), the network is still gone."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]

        def job():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            return {"connect": sock.connect_ex(("127.0.0.1", port))}

        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # only the namespaces: stop enter() before its second layer
            try:
                os.close(read_fd)
                isolation._apply_landlock = lambda policy: {}  # noqa: SLF001 (this child only)
                isolation._apply_seccomp = lambda: False  # noqa: SLF001
                isolation.enter(Policy())
                os.write(write_fd, json.dumps(job()).encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        data = os.read(read_fd, 4096)
        os.close(read_fd)
        os.waitpid(pid, 0)
    assert json.loads(data)["connect"] == errno.ECONNREFUSED  # its own, empty loopback


# --------------------------------------------------------------------------- system calls


def test_ptrace_mount_unshare_and_bpf_fail_with_eperm():
    def job():
        libc = ctypes.CDLL(None, use_errno=True)
        codes = {}
        for name, call in (("ptrace", lambda: libc.ptrace(16, 1, 0, 0)),  # PTRACE_ATTACH to init
                           ("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                           ("unshare", lambda: libc.unshare(0x10000000)),
                           ("setns", lambda: libc.setns(0, 0)),
                           ("bpf", lambda: libc.syscall(321, 0, 0, 0)),
                           ("keyctl", lambda: libc.syscall(250, 0, 0, 0)),
                           ("perf_event_open", lambda: libc.syscall(298, 0, 0, -1, -1, 0))):
            ctypes.set_errno(0)
            codes[name] = (call(), ctypes.get_errno())
        return codes

    result, status = run_job(job)
    assert status == 0, result
    for name, (value, code) in result.items():
        assert value == -1 and code == errno.EPERM, (name, value, code)


# --------------------------------------------------------------------------- nothing outlives a job


def test_daemons_die_with_the_job():
    marker = f"{1000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"  # sleep's unique argument

    def job():
        import pty

        spawned = {}
        spawned["posix_spawn"] = os.posix_spawn("/usr/bin/sleep", ["sleep", marker], {"PATH": "/usr/bin"},
                                                setsid=True)
        if os.fork() == 0:  # double fork: the grandchild is orphaned
            os.setsid()
            if os.fork() == 0:
                os.execv("/usr/bin/sleep", ["sleep", marker])
            os._exit(0)
        try:
            pid, _ = pty.fork()
            if pid == 0:
                os.execv("/usr/bin/sleep", ["sleep", marker])
            spawned["pty"] = pid
        except OSError as error:  # no pseudo-terminals in the sandbox
            spawned["pty"] = f"refused: {error}"
        os.wait()  # the double fork's middle process
        gate()
        return spawned

    seen = []

    def watch(pid):  # while the job waits at its gate: its sleepers exist (on the host's /proc)
        for _ in range(2000):
            seen[:] = _processes_with(marker)
            if len(seen) >= 2:
                return
            time.sleep(0.005)

    result, status = run_job(job, before_wait=watch)
    assert status == 0 and "error" not in result, result
    assert len(seen) >= 2  # the daemons did start
    assert _processes_with(marker) == []  # and none outlives the job


def test_killing_the_supervisor_kills_the_whole_namespace():
    marker = f"{2000 + os.getpid() % 1000}.{time.time_ns() % 10**6}"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            isolation.enter(Policy())
            os.posix_spawn("/usr/bin/sleep", ["sleep", marker], {}, setsid=True)
            os.write(write_fd, b"up")
            time.sleep(600)
        finally:
            os._exit(0)
    os.close(write_fd)
    assert os.read(read_fd, 2) == b"up"
    os.close(read_fd)
    for _ in range(2000):
        if _processes_with(marker):
            break
        time.sleep(0.005)
    assert _processes_with(marker)
    os.kill(pid, signal.SIGKILL)  # what the fork server does at a time-out
    os.waitpid(pid, 0)
    for _ in range(2000):  # PR_SET_PDEATHSIG reaches init, then the kernel empties the namespace
        if not _processes_with(marker):
            break
        time.sleep(0.005)
    assert _processes_with(marker) == []


def test_supervisor_ends_the_way_the_job_ends():
    def exit_with_3():
        os._exit(3)

    def out_of_cpu_time():
        resource.setrlimit(resource.RLIMIT_CPU, (1, 1))
        while True:
            pass

    def kills_itself():  # an init ignores the signals it sends itself without a handler
        os.kill(os.getpid(), signal.SIGKILL)
        return "still here"

    def segfault():
        import faulthandler

        faulthandler.disable()  # pytest's would print the crash
        ctypes.string_at(0)

    assert run_job(exit_with_3)[1] == 3 << 8
    _, status = run_job(out_of_cpu_time)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert run_job(kills_itself) == ("still here", 0)
    _, status = run_job(segfault)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV


# --------------------------------------------------------------------------- limits


def test_fork_bomb_fails_cleanly():
    def job():
        children, error = [], None
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as failure:
                error = failure.errno
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
        return {"started": len(children), "errno": error}

    policy = Policy(max_processes=32)
    result, status = run_job(job, policy)
    assert status == 0, result
    assert result["errno"] == errno.EAGAIN
    assert result["started"] <= policy.max_processes


def test_shared_anonymous_memory_beyond_the_limit_is_stopped():
    def job():
        import mmap

        outcome = {}
        for name, size in (("small", 128 * 2**20), ("large", 1300 * 2**20)):
            try:
                area = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
                area[::4096] = b"x" * len(range(0, size, 4096))  # touch every page
                area.close()
                outcome[name] = "allocated"
            except (OSError, MemoryError) as error:
                outcome[name] = type(error).__name__
        return outcome

    result, status = run_job(job, Policy(memory_mb=1024))
    assert status == 0, result
    assert result == {"small": "allocated", "large": "OSError"}


def test_open_files_and_file_size_are_limited():
    def job():
        outcome = {"nofile": None}
        handles = []
        try:
            for _ in range(100):
                handles.append(open("/dev/null"))
        except OSError as error:
            outcome["nofile"] = error.errno
        for handle in handles:
            handle.close()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        with open("/tmp/big", "wb") as handle:
            try:
                handle.write(b"x" * (3 * 2**20))
                handle.flush()
                outcome["fsize"] = 0
            except OSError as error:
                outcome["fsize"] = error.errno
        return outcome

    result, status = run_job(job, Policy(max_open_files=50, max_file_bytes=2**20))
    assert status == 0, result
    assert result == {"nofile": errno.EMFILE, "fsize": errno.EFBIG}


def test_tree_cpu_seconds_counts_the_job_inside_the_namespace():
    go_read, go_write = os.pipe()
    done_read, done_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(go_write)
            os.close(done_read)
            isolation.enter(Policy())
            while time.process_time() < 0.3:  # CPU time, not wall time
                pass
            os.write(done_write, b"1")
            os.read(go_read, 1)
        finally:
            os._exit(0)
    os.close(go_read)
    os.close(done_write)
    assert os.read(done_read, 1) == b"1"
    tree = isolation.tree_cpu_seconds(pid)
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    os.write(go_write, b"1")
    os.waitpid(pid, 0)
    assert tree >= 0.3 - 0.02  # the job's time, measured from the host
    assert own < 0.3 - 0.02  # which the supervisor's own counter does not show


# --------------------------------------------------------------------------- honest work


def test_honest_numpy_code_works_inside():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(64), rng.standard_normal((16, 16))
    expected = {"fft": np.abs(np.fft.rfft(x)).round(8).tolist(), "matmul": (y @ y.T).sum().round(8)}

    def job():
        import tempfile

        import numpy.fft

        with tempfile.NamedTemporaryFile("w+", suffix=".txt") as handle:
            handle.write("temporary")
            handle.seek(0)
            text = handle.read()
            where = handle.name
        return {"fft": np.abs(numpy.fft.rfft(x)).round(8).tolist(), "matmul": (y @ y.T).sum().round(8),
                "temp": text, "where": where, "convlib": convlib.convolve(x[:5], x[:3]).shape[0]}

    result, status = run_job(job)
    assert status == 0 and "error" not in result, result
    assert result["fft"] == expected["fft"] and result["matmul"] == expected["matmul"]
    assert result["temp"] == "temporary" and result["where"].startswith(isolation.SCRATCH + "/")
    assert result["convlib"] == 7


def test_torch_imports_lazily_inside():
    script = (
        "import json, os, sys\n"
        "import numpy\n"
        "from convlib.grading import isolation\n"
        "assert 'torch' not in sys.modules\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    try:\n"
        "        isolation.enter(isolation.Policy(memory_mb=4096))\n"
        "        import torch\n"
        "        x = torch.arange(6.0).reshape(2, 3)\n"
        "        os.write(w, json.dumps([float((x @ x.T).sum()), torch.get_num_threads()]).encode())\n"
        "    finally:\n"
        "        os._exit(0)\n"
        "os.close(w)\n"
        "print(os.read(r, 1000).decode())\n"
        "os.waitpid(pid, 0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    value, _ = json.loads(done.stdout)
    assert value == 83.0  # [[0, 1, 2], [3, 4, 5]] @ its transpose: 5 + 14 + 14 + 50


def test_an_ordinary_grading_user_gets_the_same_sandbox():
    """Without root, the user namespace comes first and owns the mounts (another code path)."""

    def as_ordinary_user():
        if os.geteuid() == 0:  # become one; it cannot read what root's home holds (pyenv's Python)
            key = ((), False)
            isolation._VISIBLE[key] = [p for p in isolation._VISIBLE[key]  # noqa: SLF001 (this child)
                                       if not p.startswith("/root/")]
            os.setgroups([])
            os.setresgid(1000, 1000, 1000)
            os.setresuid(1000, 1000, 1000)

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            as_ordinary_user()
            host_uid = os.geteuid()
            isolation.enter(Policy(max_processes=16))
            status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
            with open("/tmp/scratch.txt", "w") as handle:
                handle.write("ok")
            forks = 0
            try:
                for _ in range(100):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    forks += 1
            except OSError:
                pass
            report = {"host_uid": host_uid, "pid": os.getpid(), "uid": os.getuid(),
                      "cap_eff": status["CapEff"].strip(), "forks": forks,
                      "course_file": os.path.exists(str(ROOT / "nbgrader_config.py")),
                      "inet": _errno_of(lambda: socket.socket(socket.AF_INET).close()),
                      "writes_usr": _errno_of(lambda: open("/usr/evil", "w"))}
            os.write(write_fd, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    data = os.read(read_fd, 1 << 16)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    result = json.loads(data)
    assert status == 0
    assert result["host_uid"] != 0 and result["pid"] == 1 and result["uid"] == Policy().uid
    assert int(result["cap_eff"], 16) == 0 and not result["course_file"]
    assert result["forks"] < 16 and result["inet"] == errno.EPERM and result["writes_usr"] != 0


def test_enter_works_in_a_fork_server_whose_guards_are_installed():
    """The fork server installs its guards before it forks jobs; enter still works under them."""
    script = (
        "import os, sys\n"
        "import numpy\n"
        "from convlib.grading import isolation\n"
        "from convlib.grading._forbidden import ALWAYS_FORBIDDEN, install_guards\n"
        "assert 'ctypes' in ALWAYS_FORBIDDEN and 'os.fork' in ALWAYS_FORBIDDEN\n"
        "install_guards(ALWAYS_FORBIDDEN)\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    try:\n"
        "        isolation.enter(isolation.Policy(memory_mb=512))\n"
        "        os.write(w, str(isolation.ACTIVE['seccomp'] and os.getpid() + 1).encode())\n"
        "    finally:\n"
        "        os._exit(0)\n"
        "os.close(w)\n"
        "print(os.read(r, 100).decode())\n"
        "os.waitpid(pid, 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


# --------------------------------------------------------------------------- levels, probing, doctor


def test_process_level_adds_no_os_layer():
    def job():
        return {"uid": os.getuid(), "tests_visible": os.path.exists(__file__)}

    result, status = run_job(job, Policy(level=PROCESS))
    assert status == 0
    assert result == {"uid": os.getuid(), "tests_visible": True}
    assert isolation.LEVELS == (OS, PROCESS)


def test_check_available_names_a_missing_layer():
    with pytest.raises(IsolationError, match=r"missing cgroup v2 memory \(.*--isolation=process"):
        isolation.check_available(Policy(require=("cgroup v2 memory",)))
    if not isolation.gpu_devices():
        with pytest.raises(IsolationError, match="/dev/nvidia"):
            isolation.check_available(Policy(gpu=True))
    layers = {layer.name: layer for layer in isolation.check_available(Policy())}
    assert all(layers[name].ok for name in isolation.REQUIRED_LAYERS)
    assert layers["landlock"].ok == (isolation.landlock_abi() >= 1)
    assert isolation.check_available(Policy(level=PROCESS)) == []


def test_bad_policy_is_refused_with_the_argument_named():
    with pytest.raises(ValueError, match="scratch_mb must be a positive integer"):
        Policy(scratch_mb=0)
    with pytest.raises(ValueError, match="require must name layers"):
        Policy(require=("magic",))
    with pytest.raises(TypeError, match="policy must be a Policy"):
        isolation.enter("os")


def test_doctor_reports_every_layer_on_this_machine():
    done = subprocess.run([sys.executable, "-m", "convlib.grading.doctor"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    lines = {line.split("  ")[0].strip(): line for line in done.stdout.splitlines() if "  " in line}
    for name in isolation.REQUIRED_LAYERS:
        assert " OK " in lines[name] + " ", lines.get(name)
    assert ("OK" in lines["landlock"].split()) == (isolation.landlock_abi() >= 1)
    gpu = lines["gpu device nodes"]
    assert ("MISSING" in gpu.split()) == (not isolation.gpu_devices())
    assert done.returncode == 0, done.stdout + done.stderr
    failing = subprocess.run([sys.executable, "-m", "convlib.grading.doctor", "--require", "cgroup v2 pids"],
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             timeout=120)
    assert failing.returncode == 1 and "cgroup v2 pids" in failing.stdout


@pytest.mark.parametrize("children_files", [True, False], ids=["children-files", "proc-scan"])
def test_tree_cpu_counts_a_busy_grandchild(monkeypatch, children_files):
    # the job's time limit is CPU time of its whole tree: a grandchild's counts too, found
    # from /proc/<pid>/task/<tid>/children or, on kernels without them, a scan of /proc
    monkeypatch.setattr(isolation, "_CHILDREN_FILES", children_files and isolation._CHILDREN_FILES)
    burn = ("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4:\n    pass\n"
            "time.sleep(30)\n")
    tree = subprocess.Popen(["bash", "-c", f"{sys.executable} -c '{burn}' & wait"])
    try:
        deadline = time.monotonic() + 120  # a safety net only: the assertion is on CPU time
        seen = 0.0
        while seen < 0.4 and time.monotonic() < deadline:
            seen = isolation.tree_cpu_seconds(tree.pid, rescan=not children_files)
            time.sleep(0.05)
        assert seen >= 0.4
        if children_files:
            assert sorted(isolation._descendants(tree.pid)) == sorted(isolation._descendants_by_scan(tree.pid))
    finally:
        for pid in isolation._descendants_by_scan(tree.pid):
            os.kill(pid, signal.SIGKILL)
        tree.wait()
