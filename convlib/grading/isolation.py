"""The operating-system boundary around a student's job (Linux namespaces, Landlock, seccomp).

One call, :func:`enter`, made in a freshly forked child of the fork server before any
student code runs, walls that child in:

- new user, mount, PID, network, IPC and UTS namespaces (and cgroup, where the kernel
  has it); the job runs as an unprivileged uid (``Policy.uid`` inside, ``Policy.host_uid``
  outside) with no capabilities and ``no_new_privs``;
- a minimal read-only filesystem: the Python installation, the virtual environment,
  convlib's own package directory, the system libraries (``/usr``), ``/dev/null``,
  ``/dev/zero``, ``/dev/urandom`` (and ``/dev/nvidia*`` for GPU jobs); a private,
  size-capped tmpfs scratch at ``/tmp`` (the working directory, ``HOME`` and
  ``TMPDIR``); a ``/proc`` of its own PID namespace. Nothing else of the host is
  visible: not the course root, ``/root``, ``/home`` or ``/work``;
- no network: only a loopback interface in its own network namespace;
- a second layer where the kernel has it: Landlock (writes only beneath the scratch,
  no TCP bind or connect, no signals or abstract sockets outside the sandbox) and a
  seccomp filter that makes dangerous system calls fail with ``EPERM``;
- limits: processes (``RLIMIT_NPROC``, counted per user namespace), open files,
  file size, address space (``RLIMIT_AS`` counts shared anonymous mappings, which
  ``RLIMIT_DATA`` ignores), scratch size.

The forked child (the *supervisor*, whose pid the fork server knows) stays outside the
new PID namespace and waits; :func:`enter` returns in its child, the job, which is
PID 1 (the init) of the new PID namespace. When the job ends, the kernel kills
everything else in the namespace (daemons, double forks, ``pty.fork``); the supervisor
then ends *the same way as the job* (same exit code, or killed by the same signal), so
the fork server's diagnoses are unchanged. If the supervisor is killed, the job dies
with it (``PR_SET_PDEATHSIG``), and so does the whole namespace. As an init, the job
ignores the signals it sends itself without a handler (``os.kill(os.getpid(), 9)`` does
nothing; the kernel's own, such as a segmentation fault or ``RLIMIT_CPU``, do kill it),
and its orphaned grandchildren stay zombies until it ends: one fork per job less (a
fork of a process with torch loaded costs milliseconds).

The fork server keeps its own CPU-time limits; :func:`tree_cpu_seconds` gives the CPU
time of the supervisor's whole process tree (the job and everything it spawned).

Examples
--------
>>> import os
>>> pid = os.fork()
>>> if pid == 0:  # a job's child process
...     try:
...         enter(Policy(scratch_mb=16))
...         os._exit(7 if (os.getuid(), os.getpid()) == (65534, 1) else 1)
...     finally:
...         os._exit(2)
>>> os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
7
"""
from __future__ import annotations

import ctypes.util
import errno
import fcntl
import json
import os
import platform
import resource
import select
import signal
import socket
import struct
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from ctypes import CDLL, addressof, c_char, c_char_p, c_int, c_long, c_size_t, c_uint32, c_ulong, get_errno
from typing import Any, Mapping

__all__ = ["OS", "PROCESS", "LEVELS", "REQUIRED_LAYERS", "OPTIONAL_LAYERS", "SCRATCH", "Policy",
           "IsolationError", "Layer", "enter", "probe", "check_available", "tree_cpu_seconds",
           "visible_paths", "gpu_devices", "landlock_abi", "ACTIVE"]

# --------------------------------------------------------------------------- levels

OS = "os"  # namespaces + minimal filesystem + limits (+ Landlock and seccomp where present)
PROCESS = "process"  # no OS layer: the Python guards and rlimits only (explicit opt-in)
LEVELS = (OS, PROCESS)

# layers without which the "os" level refuses to run
REQUIRED_LAYERS = ("user namespace", "mount namespace", "pid namespace", "network namespace",
                   "ipc namespace", "uts namespace", "unprivileged uid", "no capabilities",
                   "no_new_privs", "minimal filesystem", "rlimits")
# layers used where the kernel has them (a policy can require them too)
OPTIONAL_LAYERS = ("landlock", "landlock network", "seccomp", "cgroup v2 memory",
                   "cgroup v2 pids", "gpu device nodes")

# what the job may see of the host, read-only (besides the Python installation, the
# virtual environment and convlib's package directory)
SYSTEM_PATHS = ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin",
                "/etc/ld.so.cache", "/etc/localtime")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
GPU_DEVICE_PREFIX = "nvidia"
SCRATCH = "/tmp"  # the job's writable scratch inside the sandbox (cwd, HOME, TMPDIR)

# what a successful enter() set up in this process (read by probe())
ACTIVE: dict[str, Any] = {}


class IsolationError(RuntimeError):
    """A layer of the operating-system sandbox is missing or could not be set up.

    Examples
    --------
    >>> str(IsolationError("seccomp: not available"))
    'seccomp: not available'
    """


@dataclass(frozen=True)
class Policy:
    """What a job's sandbox looks like.

    Parameters
    ----------
    level : {"os", "process"}
        ``"os"``: every layer below; ``"process"``: :func:`enter` does nothing.
    scratch_mb : int
        Size of the private tmpfs scratch (``/tmp`` inside).
    memory_mb : int or None
        Address space the job may add to what it has at :func:`enter` (``RLIMIT_AS``;
        for GPU jobs, whose drivers reserve huge address ranges, not set here).
    max_processes : int
        Processes (and threads) the job may have at once (``RLIMIT_NPROC`` in its own
        user namespace).
    max_open_files, max_file_bytes : int
        ``RLIMIT_NOFILE`` and ``RLIMIT_FSIZE``.
    gpu : bool
        Expose the ``/dev/nvidia*`` device nodes (:func:`check_available` requires them;
        :func:`enter` goes on without them, and CUDA then fails to start in the job).
    readable : tuple of str
        Extra host paths to show read-only (at the same place).
    uid, host_uid : int
        The job's uid inside its user namespace, and the host uid it maps to.
    require : tuple of str
        Optional layers (see ``OPTIONAL_LAYERS``) that must be present as well.

    Examples
    --------
    >>> Policy(memory_mb=512).level
    'os'
    >>> Policy(level="vm")
    Traceback (most recent call last):
    ...
    ValueError: level must be one of ('os', 'process'), got 'vm'
    """

    level: str = OS
    scratch_mb: int = 256
    memory_mb: int | None = None
    max_processes: int = 64
    max_open_files: int = 256
    max_file_bytes: int = 64 * 2**20
    gpu: bool = False
    readable: tuple[str, ...] = ()
    uid: int = 65534
    host_uid: int = 65534
    require: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        for name in ("scratch_mb", "max_processes", "max_open_files", "max_file_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.memory_mb is not None and (isinstance(self.memory_mb, bool)
                                           or not isinstance(self.memory_mb, int)
                                           or self.memory_mb < 1):
            raise ValueError(f"memory_mb must be a positive integer or None, got {self.memory_mb!r}")
        unknown = [name for name in self.require if name not in OPTIONAL_LAYERS + REQUIRED_LAYERS]
        if unknown:
            raise ValueError(f"require must name layers of {OPTIONAL_LAYERS}, got {unknown}")

    @classmethod
    def from_limits(cls, limits: Mapping[str, Any], *, level: str = OS, gpu: bool = False) -> "Policy":
        """The policy of a fork-server job from its ``limits`` (``memory_mb``, ``max_file``).

        Parameters
        ----------
        limits : mapping
            The job's limits, as the grading engine writes them.
        level : {"os", "process"}
        gpu : bool
            Whether the job runs CUDA cases.

        Examples
        --------
        >>> Policy.from_limits({"memory_mb": 1024, "max_file": 2**20}).memory_mb
        1024
        """
        memory = int(limits["memory_mb"]) if limits.get("memory_mb") else None
        return cls(level=level, gpu=gpu, memory_mb=memory,
                   max_file_bytes=int(limits.get("max_file", cls.max_file_bytes)))


@dataclass(frozen=True)
class Layer:
    """One layer of the sandbox on this machine: whether it is active, and why (not).

    Examples
    --------
    >>> Layer("seccomp", True, "filter mode", required=False).ok
    True
    """

    name: str
    ok: bool
    detail: str
    required: bool


# --------------------------------------------------------------------------- the kernel interface

# bound here: the fork server's guards replace os.fork/os.kill (and ctypes') in other modules,
# but never in convlib.grading's own (import this module before installing them)
_fork, _kill = os.fork, os.kill
_LIBC = CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
if sys.platform.startswith("linux"):  # elsewhere (macOS) only the "process" level exists
    for _name, _types in (("unshare", [c_int]),
                          ("mount", [c_char_p, c_char_p, c_char_p, c_ulong, c_char_p]),
                          ("umount2", [c_char_p, c_int]),
                          ("sethostname", [c_char_p, c_size_t]),
                          ("prctl", [c_int, c_ulong, c_ulong, c_ulong, c_ulong])):
        getattr(_LIBC, _name).argtypes = _types
        getattr(_LIBC, _name).restype = c_int
    _LIBC.syscall.restype = c_long

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x80
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 4096, 16384, 1 << 18, 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 24, 38, 22
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4

# the raw system calls glibc has no wrapper for, per machine
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "capset": 126, "landlock_create_ruleset": 444,
               "landlock_add_rule": 445, "landlock_restrict_self": 446},
    "aarch64": {"pivot_root": 41, "capset": 91, "landlock_create_ruleset": 444,
                "landlock_add_rule": 445, "landlock_restrict_self": 446},
}.get(platform.machine(), {})


def _check(result: int, what: str) -> int:
    if result < 0:
        code = get_errno()
        raise IsolationError(f"{what} failed: {os.strerror(code)} (errno {code})")
    return result


def _syscall(name: str, *args: Any) -> int:
    if name not in _SYSCALLS:
        raise IsolationError(f"{name}: unsupported machine {platform.machine()!r}")
    return _LIBC.syscall(c_long(_SYSCALLS[name]), *args)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_LIBC.mount(source.encode() if source else None, target.encode(),
                       fstype.encode() if fstype else None, flags, data.encode() if data else None),
           f"mount {source or fstype} on {target}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- what is visible


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]  # convlib/


def visible_paths(policy: Policy | None = None) -> list[str]:
    """The host paths a job sees (read-only, at the same place), in mount order.

    The Python installation (``sys.base_prefix``, ``sys.prefix``), convlib's package
    directory (only it, even when convlib lives in a course folder), the system
    libraries and a few device nodes; existing paths only.

    Parameters
    ----------
    policy : Policy, optional
        Its ``readable`` paths and, with ``gpu``, the NVIDIA device nodes are added.

    Examples
    --------
    >>> import convlib
    >>> paths = visible_paths()
    >>> str(Path(convlib.__file__).parent) in paths, "/root" in paths, "/dev/null" in paths
    (True, False, True)
    """
    policy = policy or Policy()
    candidates = [*SYSTEM_PATHS, sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
                  str(_package_dir()), *policy.readable, *DEVICES]
    if policy.gpu:
        candidates += [str(path) for path in gpu_devices()]
    paths: list[str] = []
    for candidate in candidates:
        path = os.path.abspath(candidate)
        if path not in paths and os.path.lexists(path) and path != "/":
            paths.append(path)
    # a path inside an already listed directory comes with it (keep the outer one)
    return [p for p in paths if not any(p != q and p.startswith(q.rstrip("/") + "/")
                                        and not os.path.islink(q) for q in paths)]


_VISIBLE: dict[tuple[tuple[str, ...], bool], list[str]] = {}


def _visible_paths_cached(readable: tuple[str, ...], gpu: bool) -> list[str]:
    """:func:`visible_paths`, remembered (the fork server fills it before it forks)."""
    key = (tuple(readable), bool(gpu))
    if key not in _VISIBLE:
        _VISIBLE[key] = visible_paths(Policy(readable=key[0], gpu=key[1]))
    return _VISIBLE[key]


def gpu_devices() -> list[Path]:
    """The NVIDIA device nodes of this machine (``/dev/nvidia*``; none without a GPU).

    Examples
    --------
    >>> all(path.name.startswith("nvidia") for path in gpu_devices())
    True
    """
    dev = Path("/dev")
    nodes = sorted(path for path in dev.glob(GPU_DEVICE_PREFIX + "*") if not path.is_dir())
    caps = dev / "nvidia-caps"
    return nodes + (sorted(caps.iterdir()) if caps.is_dir() else [])


def _build_root(root: str, policy: Policy, *, owner: int, privileged: bool) -> None:
    """Populate a tmpfs at ``root`` with the visible paths, the scratch (owned by ``owner``), a proc."""
    sources = []
    for path in _visible_paths_cached(policy.readable, policy.gpu):
        if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems
            sources.append((path, None, os.readlink(path)))
            continue
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)  # opened before the tmpfs hides anything
        sources.append((path, fd, None))
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    # the scratch first: a visible path beneath it (a course cloned under /tmp) is
    # then bound on top of the scratch instead of being hidden by it
    os.makedirs(root + SCRATCH, exist_ok=True)
    _mount("tmpfs", root + SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,size={policy.scratch_mb}m,uid={owner},gid={owner}")
    for path, fd, link in sources:
        target = root + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if link is not None:
            os.symlink(link, target)
            continue
        is_dir = os.path.isdir(f"/proc/self/fd/{fd}")
        if is_dir:
            os.makedirs(target, exist_ok=True)
        else:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)
        device = path.startswith("/dev/")
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | (0 if device else MS_NODEV)
        _mount(None, target, None, flags | _locked_flags(target))
    os.makedirs(root + "/proc", exist_ok=True)
    # a proc of the host's PID namespace under the job's own: the kernel lets a user
    # namespace mount proc only where one is already fully visible; the job covers it
    if privileged:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    else:
        _mount("/proc", root + "/proc", None, MS_BIND | MS_REC)


def _locked_flags(path: str) -> int:
    """The flags of the mount at ``path`` that a user namespace may not drop in a remount."""
    flags = os.statvfs(path).f_flag
    return ((MS_NOEXEC if flags & os.ST_NOEXEC else 0) | (1024 if flags & os.ST_NOATIME else 0)
            | (2048 if flags & os.ST_NODIRATIME else 0) | (1 << 21 if flags & os.ST_RELATIME else 0))


def _pivot(root: str) -> None:
    os.chdir(root)
    _check(_syscall("pivot_root", b".", b"."), "pivot_root")
    _check(_LIBC.umount2(b".", MNT_DETACH), "umount of the old root")
    os.chdir("/")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


_visible_paths_cached((), False)  # at import, in the fork server: its children inherit the list


# --------------------------------------------------------------------------- limits and layers


def _bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack_from("16sH", fcntl.ioctl(sock, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", flags | 0x1 | 0x40))  # UP, RUNNING


def _set_rlimits(policy: Policy) -> None:
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_NPROC, policy.max_processes + 1),
              (resource.RLIMIT_NOFILE, policy.max_open_files),
              (resource.RLIMIT_FSIZE, policy.max_file_bytes)]
    if policy.memory_mb is not None and not policy.gpu:
        limits.append((resource.RLIMIT_AS, _vm_size() + policy.memory_mb * 2**20))
    for which, value in limits:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _drop_capabilities() -> None:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _check(_LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap}")
    _LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = bytes(24)  # effective, permitted, inheritable, twice: all empty
    _check(_syscall("capset", c_char_p(header), c_char_p(data)), "capset")


# Landlock rights (include/uapi/linux/landlock.h)
_LL_EXECUTE, _LL_WRITE_FILE, _LL_READ_FILE, _LL_READ_DIR = 1, 2, 4, 8
# writes of ABI 1 (WRITE_FILE, REMOVE_*, MAKE_*), then REFER, TRUNCATE, IOCTL_DEV
_LL_WRITES_BY_ABI = {1: 0b1_1111_1111_0010, 2: 1 << 13, 3: 1 << 14, 5: 1 << 15}
_LL_FILE_RIGHTS = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | (1 << 14) | (1 << 15)


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel (0 where Landlock is missing or disabled).

    Examples
    --------
    >>> landlock_abi() >= 0
    True
    """
    if "landlock_create_ruleset" not in _SYSCALLS:
        return 0
    version = _syscall("landlock_create_ruleset", None, c_size_t(0), c_uint32(1))
    return max(int(version), 0)


def _apply_landlock(policy: Policy) -> dict[str, Any]:
    abi = landlock_abi()
    if abi < 1:
        return {}
    writes = 0
    for version, rights in _LL_WRITES_BY_ABI.items():
        if abi >= version:
            writes |= rights
    handled_net = 0b11 if abi >= 4 else 0  # BIND_TCP | CONNECT_TCP: no rule allows either
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals stay inside
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    attr = struct.pack("QQQ", writes, handled_net, scoped)[:size]
    ruleset = _check(_syscall("landlock_create_ruleset", c_char_p(attr), c_size_t(size),
                              c_uint32(0)), "landlock_create_ruleset")
    try:
        allowed = [(SCRATCH, writes)]
        allowed += [(path, writes & _LL_FILE_RIGHTS) for path in DEVICES if os.path.exists(path)]
        if policy.gpu:
            allowed += [(str(path), writes & _LL_FILE_RIGHTS) for path in gpu_devices()]
        for path, rights in allowed:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = struct.pack("=Qi", rights, fd)
                _check(_syscall("landlock_add_rule", c_int(ruleset), c_int(1),
                                c_char_p(rule), c_uint32(0)), f"landlock rule for {path}")
            finally:
                os.close(fd)
        _check(_syscall("landlock_restrict_self", c_int(ruleset), c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return {"abi": abi, "network": bool(handled_net), "scoped": bool(scoped)}


# seccomp: system calls that fail with EPERM (x86_64 numbers)
_DENIED_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438,
    "kcmp": 312, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "mount_setattr": 442, "unshare": 272, "setns": 308, "bpf": 321,
    "keyctl": 250, "add_key": 248, "request_key": 249, "perf_event_open": 298,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "syslog": 103, "iopl": 172, "ioperm": 173, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "quotactl": 179, "lookup_dcookie": 212, "vhangup": 153,
}
# (not CLONE_NEWTIME: in clone()'s flags that bit belongs to the exit signal)
_NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                    | CLONE_NEWPID | CLONE_NEWNET)
_AUDIT_ARCH_X86_64 = 0xC000003E


def _seccomp_program() -> bytes:
    """A classic BPF seccomp filter (x86_64): EPERM for the denied calls, ENOSYS for clone3."""
    ld, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    # (code, jump-if-true label, jump-if-false label, k); labels are names or 0 (next)
    prog: list[tuple[int, Any, Any, int]] = [
        (ld, 0, 0, 4), (jeq, 0, "kill", _AUDIT_ARCH_X86_64),
        (ld, 0, 0, 0), (jge, "eperm", 0, 0x40000000),  # x32 ABI
        (jeq, "enosys", 0, 435),  # clone3: its flags are out of reach; glibc falls back to clone
        (jeq, "clone", 0, 56), (jeq, "socket", 0, 41), (jeq, "socket", 0, 53),
    ]
    for number in sorted(_DENIED_X86_64.values()):
        prog.append((jeq, "eperm", 0, number))
    prog += [
        (ret, 0, 0, allow),
        ("clone", None, None, None), (ld, 0, 0, 16), (jset, "eperm", 0, _NAMESPACE_FLAGS),
        (ret, 0, 0, allow),
        ("socket", None, None, None), (ld, 0, 0, 16), (jeq, 0, "eperm", socket.AF_UNIX),
        (ret, 0, 0, allow),
        ("eperm", None, None, None), (ret, 0, 0, eperm),
        ("enosys", None, None, None), (ret, 0, 0, enosys),
        ("kill", None, None, None), (ret, 0, 0, kill),
    ]
    labels, code = {}, []
    for item in prog:
        if isinstance(item[0], str):
            labels[item[0]] = len(code)
        else:
            code.append(item)
    out = b""
    for index, (op, jt, jf, k) in enumerate(code):
        offset = [labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf)]
        if not all(0 <= o < 256 for o in offset):
            raise IsolationError("seccomp program too long for its jumps")
        out += struct.pack("HBBI", op, offset[0], offset[1], k)
    return out


_SECCOMP_PROGRAM = _seccomp_program()


def _apply_seccomp() -> bool:
    if platform.machine() != "x86_64":
        return False
    program = _SECCOMP_PROGRAM
    buffer = (c_char * len(program)).from_buffer_copy(program)  # not ctypes.create_string_buffer:
    fprog = struct.pack("HxxxxxxQ", len(program) // 8, addressof(buffer))  # the guards replace it
    fprog_buffer = (c_char * len(fprog)).from_buffer_copy(fprog)
    _check(_LIBC.prctl(PR_SET_SECCOMP, 2, addressof(fprog_buffer), 0, 0), "seccomp filter")
    return True


# --------------------------------------------------------------------------- enter


def enter(policy: Policy) -> None:
    """Wall this (freshly forked, single-threaded) process in; return in the walled-in job.

    Call it in a child of the fork server, after it has opened every host file it needs
    (they stay open) and before any student code runs. It returns in a new process,
    PID 1 of a new PID namespace, as an unprivileged user without capabilities, in the
    minimal filesystem, with ``/tmp`` (the scratch) as working directory; the calling
    process stays outside as the supervisor and never returns: it ends the way the job
    ends (same exit status or signal) after everything the job spawned is dead.
    Inherited descriptors other than 0-2 should be few (the result pipe): they stay
    open in the job.

    Parameters
    ----------
    policy : Policy
        With ``level="process"``, nothing is done.

    Raises
    ------
    IsolationError
        A required layer could not be set up (see :func:`check_available`).

    Examples
    --------
    >>> pid = os.fork()
    >>> if pid == 0:
    ...     try:
    ...         enter(Policy())
    ...         os._exit(3 if os.getpid() == 1 else 1)  # the job, PID 1, ends with 3...
    ...     finally:
    ...         os._exit(2)
    >>> os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])  # ...and so does the supervisor
    3
    """
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a Policy, got {type(policy).__name__}")
    if policy.level == PROCESS:
        ACTIVE.clear()
        ACTIVE["level"] = PROCESS
        return
    if not sys.platform.startswith("linux"):
        raise IsolationError(f"the operating-system sandbox needs Linux namespaces; this is {sys.platform}")
    if "seccomp" in policy.require and platform.machine() != "x86_64":
        raise IsolationError(f"seccomp filter: not available on {platform.machine()}")
    if "landlock" in policy.require and landlock_abi() < 1:
        raise IsolationError("landlock: not available in this kernel")
    if "landlock network" in policy.require and landlock_abi() < 4:
        raise IsolationError("landlock network: needs Landlock ABI 4")
    for name in ("cgroup v2 memory", "cgroup v2 pids"):
        if name in policy.require:
            raise IsolationError(f"{name}: {_cgroup_v2_detail(name.split()[-1])}")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    root = "/tmp"  # the host path the new root's tmpfs covers (in the new mount namespace only)
    namespaces = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        # as host root, in a private mount namespace: the minimal root (root reads any source)
        _check(_LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _build_root(root, policy, owner=policy.host_uid, privileged=True)
        _pivot(root)
        # then down to the unprivileged host uid (a user namespace whose ids map to root would
        # let the job pass RLIMIT_NPROC), and new namespaces owned by it
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except (ValueError, OSError):
            pass  # the job's own limit is set in its user namespace
        os.setgroups([])
        os.setresgid(policy.host_uid, policy.host_uid, policy.host_uid)
        os.setresuid(policy.host_uid, policy.host_uid, policy.host_uid)
        _map_ids(namespaces, policy)
    else:  # an ordinary grading user: the user namespace first, which then owns the mounts
        _map_ids(namespaces | CLONE_NEWNS, policy)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _build_root(root, policy, owner=policy.uid, privileged=False)
        _pivot(root)
    alive_read, alive_write = os.pipe()
    job = _fork()
    if job:  # hold no descriptor of the job's: its pipes must end when the job does
        _close_all_but(alive_write)
        _supervise(job)
    os.close(alive_write)
    _job(policy, alive_read)


def _map_ids(flags: int, policy: Policy) -> None:
    """Unshare ``flags`` (with a new user namespace) and map ``policy.uid`` to this process's ids."""
    host_uid, host_gid = os.geteuid(), os.getegid()
    _check(_LIBC.unshare(flags), "unshare(user, pid, net, ipc, uts namespaces)")
    _LIBC.unshare(CLONE_NEWCGROUP)  # hides cgroup paths only: nice to have, not required
    _LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # a uid change made /proc/self root's
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{policy.uid} {host_uid} 1\n")
    _write("/proc/self/gid_map", f"{policy.uid} {host_gid} 1\n")
    _LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _close_all_but(*keep: int) -> None:
    previous = -1
    for fd in sorted(keep):
        os.closerange(previous + 1, fd)
        previous = fd
    os.closerange(previous + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _supervise(job: int) -> None:
    """Outside the PID namespace: wait for it to end, then end the way the job ended.

    The job is the namespace's init: when it ends, the kernel kills everything else in
    the namespace and ``waitpid`` returns once they are all gone.
    """
    try:
        _, status = os.waitpid(job, 0)
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            if signum not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(signum, signal.SIG_DFL)
            _kill(os.getpid(), signum)
            os._exit(128 + signum)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125)
    finally:
        os._exit(125)


def _job(policy: Policy, alive_read: int) -> None:
    """PID 1 of the new namespaces: finish the set-up and the limits, then return to the caller."""
    try:
        _check(_LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
        if select.select([alive_read], [], [], 0)[0]:  # the supervisor died before that
            os._exit(125)
        os.close(alive_read)
        _check(_LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS) in the user namespace")
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _bring_up_loopback()
        _check(_LIBC.sethostname(b"sandbox", 7), "sethostname")
    except BaseException as error:  # noqa: BLE001  (a half-built sandbox never runs the caller's code)
        try:
            os.write(2, f"sandbox set-up failed: {error}\n".encode())
        finally:
            os._exit(125)
    os.chdir(SCRATCH)
    os.environ.update({"HOME": SCRATCH, "TMPDIR": SCRATCH, "TMP": SCRATCH, "TEMP": SCRATCH})
    tempfile.tempdir = None
    _set_rlimits(policy)
    _drop_capabilities()
    _check(_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    landlock = _apply_landlock(policy)
    seccomp = _apply_seccomp()
    ACTIVE.clear()
    ACTIVE.update({"level": OS, "landlock": landlock, "seccomp": seccomp})


# --------------------------------------------------------------------------- CPU time of a tree


def tree_cpu_seconds(pid: int, *, rescan: bool = False) -> float:
    """CPU seconds used by process ``pid`` and all its descendants (alive or reaped).

    The fork server measures a job's time limits with it: the supervisor ``pid`` it
    forked does not compute, the job (its child) and whatever it spawned do.
    The descendants are found again on every call from the tree's
    ``/proc/<pid>/task/<tid>/children`` files. On a kernel without them, that means
    reading every ``/proc/<pid>/stat`` of the machine, so it is done on every
    ``RESCAN_EVERY``-th call for a tree (or with ``rescan``); the calls between read the
    known members only (a process started since is counted from the next scan on,
    with all its time).

    Parameters
    ----------
    pid : int
        The root of the tree (the fork server's child).
    rescan : bool, default False
        Look for new descendants now.

    Examples
    --------
    >>> tree_cpu_seconds(os.getpid()) > 0
    True
    >>> tree_cpu_seconds(2**22 + 1)  # no such process
    0.0
    """
    calls, members = _TREES.get(pid, (0, [pid]))
    if rescan or _CHILDREN_FILES or calls % RESCAN_EVERY == 0:
        members = _descendants(pid)
    total, alive = 0.0, []
    for member in members:
        times = _cpu_times(member)
        if times is not None:
            total += times
            alive.append(member)
    if pid in alive:
        if len(_TREES) > 1024:  # roots whose end nobody asked about
            _TREES.clear()
        _TREES[pid] = (calls + 1, alive)
    else:
        _TREES.pop(pid, None)
    return total


RESCAN_EVERY = 8  # where the kernel has no children files
_CHILDREN_FILES = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
_TREES: dict[int, tuple[int, list[int]]] = {}  # root -> (calls, members at the last look)


def _cpu_times(pid: int) -> float | None:
    """utime + stime + cutime + cstime of ``pid`` in seconds (None: no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def child_pids(pid: int) -> list[int]:
    """The direct children of process ``pid`` (of all its threads); none once it is gone.

    Read from ``/proc/<pid>/task/<tid>/children``; on a kernel without those files
    (no ``CONFIG_PROC_CHILDREN``) the list is empty.

    Examples
    --------
    >>> import subprocess
    >>> child = subprocess.Popen(["sleep", "5"])
    >>> child.pid in child_pids(os.getpid())
    True
    >>> child.kill(); child.wait()
    -9
    >>> child.pid in child_pids(os.getpid())
    False
    >>> child_pids(2**22 + 1)
    []
    """
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found  # gone
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as listing:
                found += [int(child) for child in listing.read().split()]
        except OSError:
            continue  # the thread or the process ended meanwhile
    return found


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it.

    From each member's children files (a few reads for a job's tree), or, on a
    kernel without them, from one pass over all of ``/proc``.
    """
    if not _CHILDREN_FILES:
        return _descendants_by_scan(pid)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += child_pids(current)
    return found


def _descendants_by_scan(pid: int) -> list[int]:
    """``pid`` and every process below it, from one pass over ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- probing


def _cgroup_v2_detail(controller: str) -> str:
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        path = Path(root) / "cgroup.controllers"
        if path.is_file():
            if controller in path.read_text().split():
                return f"the {controller} controller exists in {root}, but this version does not use it yet"
            return f"cgroup v2 at {root} has no {controller} controller (a cgroup v1 or hybrid setup)"
    return "no cgroup v2 hierarchy is mounted"


def probe(policy: Policy | None = None) -> list[Layer]:
    """Start one job through :func:`enter` and report which layers it really got.

    Parameters
    ----------
    policy : Policy, optional
        Default ``Policy()``; its ``gpu`` and ``require`` make those layers required.

    Returns
    -------
    list of Layer

    Examples
    --------
    >>> layers = {layer.name: layer for layer in probe()}
    >>> layers["pid namespace"].ok, layers["no capabilities"].ok
    (True, True)
    """
    policy = replace(policy or Policy(), level=OS)
    # enter() refuses a policy whose required layers are missing: probe without them
    trial = replace(policy, require=(), gpu=policy.gpu and bool(gpu_devices()))
    host_ns = {}
    for name in ("user", "mnt", "pid", "net", "ipc", "uts"):
        try:
            host_ns[name] = os.stat(f"/proc/self/ns/{name}").st_ino
        except OSError:
            host_ns[name] = None
    visible = visible_paths(trial)
    read_fd, write_fd = os.pipe()
    pid = _fork()
    if pid == 0:
        os.close(read_fd)
        report: dict[str, Any] = {}
        try:
            enter(trial)
            report = _self_report(host_ns, visible)
        except BaseException as error:  # noqa: BLE001
            report = {"error": f"{error}"}
        finally:
            os.write(write_fd, json.dumps(report).encode())
            os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 1 << 16):
        data += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    report = json.loads(data or b"{}")
    return _layers(policy, report)


def _self_report(host_ns: Mapping[str, int | None], visible: list[str]) -> dict[str, Any]:
    """Inside the sandbox: what this process can see of its own confinement."""
    status = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    namespaces = {name: os.stat(f"/proc/self/ns/{name}").st_ino != inode for name, inode in host_ns.items()}
    with open("/proc/net/dev") as handle:  # the network namespace's interfaces
        interfaces = sorted(line.split(":")[0].strip() for line in handle if ":" in line)
    hidden = []  # host entries seen beside the mount points of the visible paths
    for folder in ("/", "/root", "/home", "/work", str(_package_dir().parent)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if path not in (SCRATCH, "/proc", "/dev", "/etc") and not any(
                    entry == path or entry.startswith(path + "/") for entry in visible):
                hidden.append(path)
    return {"ns": namespaces, "pid": os.getpid(), "uid": os.getuid(), "cap_eff": status.get("CapEff"),
            "no_new_privs": status.get("NoNewPrivs"), "seccomp": status.get("Seccomp"),
            "interfaces": interfaces, "visible": hidden, "active": dict(ACTIVE),
            "rlimits": {name: resource.getrlimit(getattr(resource, name))[0]
                        for name in ("RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_FSIZE", "RLIMIT_AS")},
            "gpu": sorted(path.name for path in Path("/dev").glob(GPU_DEVICE_PREFIX + "*"))}


def _layers(policy: Policy, report: Mapping[str, Any]) -> list[Layer]:
    required = set(REQUIRED_LAYERS) | set(policy.require) | ({"gpu device nodes"} if policy.gpu else set())
    error = report.get("error")
    layers: list[Layer] = []

    def add(name: str, ok: bool, detail: str) -> None:
        layers.append(Layer(name, bool(ok), detail, name in required))

    ns = report.get("ns", {})
    for label, key in (("user namespace", "user"), ("mount namespace", "mnt"), ("pid namespace", "pid"),
                       ("network namespace", "net"), ("ipc namespace", "ipc"), ("uts namespace", "uts")):
        ok = bool(ns.get(key))
        add(label, ok, "own namespace" if ok else error or "shares the host's")
    uid = report.get("uid")
    host = policy.host_uid if os.geteuid() == 0 else os.geteuid()
    add("unprivileged uid", uid not in (None, 0), f"uid {uid} inside, host uid {host}"
        if uid not in (None, 0) else error or "runs as root")
    cap = report.get("cap_eff")
    add("no capabilities", cap is not None and int(cap, 16) == 0, f"CapEff {cap}" if cap else error or "?")
    add("no_new_privs", report.get("no_new_privs") == "1",
        "set" if report.get("no_new_privs") == "1" else error or "not set")
    visible = report.get("visible")
    fs_ok = visible == [] and "error" not in report
    add("minimal filesystem", fs_ok, "tmpfs root, read-only Python and convlib, tmpfs scratch "
        f"of {policy.scratch_mb} MiB" if fs_ok else error or f"host paths visible: {visible}")
    limits = report.get("rlimits", {})
    rl_ok = bool(limits) and all(value != resource.RLIM_INFINITY for key, value in limits.items()
                                 if key != "RLIMIT_AS" or policy.memory_mb is not None)
    add("rlimits", rl_ok, ", ".join(f"{key[7:]}={value}" for key, value in limits.items()) or error or "?")
    landlock = (report.get("active") or {}).get("landlock") or {}
    abi = landlock_abi()
    add("landlock", bool(landlock), f"ABI {landlock['abi']}: writes only beneath {SCRATCH}"
        if landlock else f"not available (kernel ABI {abi})")
    add("landlock network", bool(landlock.get("network")), "no TCP bind or connect" if landlock.get("network")
        else f"needs Landlock ABI 4 (kernel ABI {abi})")
    seccomp = report.get("seccomp")
    add("seccomp", seccomp == "2",
        "filter mode: EPERM for ptrace, mount, unshare, bpf, non-AF_UNIX sockets..."
        if seccomp == "2" else f"not available on {platform.machine()}" if not error else error)
    for controller in ("memory", "pids"):
        add(f"cgroup v2 {controller}", False, _cgroup_v2_detail(controller)
            + ("; RLIMIT_AS stands in (counts shared memory)" if controller == "memory"
               else "; RLIMIT_NPROC per user namespace stands in"))
    nodes = report.get("gpu", [])
    add("gpu device nodes", bool(nodes), ", ".join(f"/dev/{n}" for n in nodes) if nodes
        else "no /dev/nvidia* device nodes" + (" on this machine" if not gpu_devices() else ""))
    return layers


def check_available(policy: Policy | None = None) -> list[Layer]:
    """Refuse to grade without the sandbox's required layers; the layers otherwise.

    Call it once before grading. With ``level="process"`` (the instructor's explicit
    opt-out), nothing is checked.

    Parameters
    ----------
    policy : Policy, optional
        Default ``Policy()``; its ``gpu`` and ``require`` are required layers too.

    Returns
    -------
    list of Layer
        Every layer, as :func:`probe` found it.

    Raises
    ------
    IsolationError
        Naming each missing layer and why, and the way out (``--isolation=process``).

    Examples
    --------
    >>> check_available(Policy(level=PROCESS))
    []
    >>> check_available(Policy(require=("cgroup v2 memory",)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    convlib.grading.isolation.IsolationError: the operating-system sandbox is missing cgroup v2 memory (...
    """
    policy = policy or Policy()
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a Policy, got {type(policy).__name__}")
    if policy.level == PROCESS:
        return []
    if not sys.platform.startswith("linux"):
        raise IsolationError(f"the operating-system sandbox needs Linux namespaces; this is {sys.platform} "
                             "(grade with --isolation=process to accept Python-level guards only)")
    layers = probe(policy)
    missing = [layer for layer in layers if layer.required and not layer.ok]
    if missing:
        names = "; ".join(f"{layer.name} ({layer.detail})" for layer in missing)
        raise IsolationError(f"the operating-system sandbox is missing {names}; grade with "
                             "--isolation=process to accept Python-level guards only")
    return layers
