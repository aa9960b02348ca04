"""Real servers on 127.0.0.1 for the tests: PostgreSQL (initdb + pg_ctl), a Dask cluster,
and a static HTTP server for the built site.

Each server is started as a child process in a fresh temporary folder, on a free
random port, and stopped by its own process id (never by name).
"""
from __future__ import annotations

import contextlib
import functools
import glob
import http.server
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run `make postgresql` (Debian's postgresql)")
    return found[-1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:g} s")


def stop_pid(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM ``pid``, then SIGKILL if it is still alive after ``timeout`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
                return
        except (ProcessLookupError, FileNotFoundError):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class PostgresServer:
    """A throw-away PostgreSQL server: ``initdb`` and ``pg_ctl`` in a temporary folder.

    PostgreSQL refuses to run as root, so under root the server runs as the
    ``postgres`` system user that Debian's package creates.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="convlib-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "grader"
        self.pid: int | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, text=True, timeout=300,
                       cwd=self.folder)

    def start(self) -> "PostgresServer":
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                  "--no-sync", "-E", "UTF8")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", "120", "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.pid is not None:
            stop_pid(self.pid)
            self.pid = None
        shutil.rmtree(self.folder, ignore_errors=True)


class DaskCluster:
    """``dask scheduler`` and ``workers`` × ``dask worker`` processes from the command line."""

    def __init__(self, workers: int = 2, *, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.count = workers
        self.folder = Path(tempfile.mkdtemp(prefix="convlib-dask-"))
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        handle = open(self.folder / log, "w")
        return subprocess.Popen([str(BIN / "dask"), *args], env=self.env, cwd=self.cwd or self.folder,
                                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> "DaskCluster":
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                     "--no-dashboard", log="scheduler.log")
        _wait_for_port(self.port, self.scheduler, "dask scheduler")
        for _ in range(self.count):
            self.add_worker()
        from distributed import Client

        with Client(self.address, timeout=120) as client:
            client.wait_for_workers(self.count, timeout=300)
        return self

    def add_worker(self, *, resources: str | None = None) -> subprocess.Popen:
        """Start one more ``dask worker`` (one process, one thread, no nanny: killing it kills it)."""
        extra = ["--resources", resources] if resources else []
        worker = self._start("worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                             "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(self.folder),
                             *extra, log=f"worker{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                stop_pid(process.pid)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.folder, ignore_errors=True)
