"""The result store: where the trusted grader keeps each notebook's result, signed.

One home for everything about stored results, shared by the nbgrader preprocessor
(:class:`~convlib.grading.preprocessors.TrustedExecute`), the parallel command
(:mod:`convlib.grading.autograde`), the class report (:mod:`convlib.grading.report`)
and, later, a database-backed store with the same API:

- :data:`RESULTS_DIRECTORY` (``grading_results``), relative to the course root;
- :meth:`ResultStore.path` ``<root>/grading_results/<assignment>/<student>/<notebook>.json``;
- :meth:`ResultStore.write` (atomic), :meth:`ResultStore.load` (``None`` when missing,
  stale, i.e. another *key*, or not signed by this course), :meth:`ResultStore.wait`
  (for a result the parallel command announced), :meth:`ResultStore.results` (every
  valid stored result of the assignment, for the report);
- the *in-progress marker* ``.in_progress.json`` (:meth:`ResultStore.announce`,
  :meth:`ResultStore.withdraw`): the parallel command's process id, its start time and
  the keys it is about to write.

A result's *key* (:meth:`convlib.grading.engine.Grader.cache_key`) is a hash of the
code that runs and of the grader: anyone can compute it, so it proves nothing by
itself. Every stored file and the marker are therefore signed with HMAC-SHA256 under
the course's signing key (:func:`signing_key`: ``CONVLIB_GRADING_KEY`` or the file
``.grading_key`` at the course root, created with mode 0600 on first use; the
sandbox never sees it). A file whose signature does not verify, for its own path,
is ignored: a forged result or a fake marker naming a live process is never trusted,
and a copied result is not valid under another student's name.

Examples
--------
>>> import tempfile
>>> from convlib.grading.engine import NotebookResult
>>> with tempfile.TemporaryDirectory() as root:
...     store = ResultStore(root, "hw1", key=b"secret")
...     _ = store.write("ada", "hw1", "key-1", NotebookResult({}, {2: "SyntaxError"}))
...     same, stale = store.load("ada", "hw1", "key-1"), store.load("ada", "hw1", "key-2")
...     forged = ResultStore(root, "hw1", key=b"guess").load("ada", "hw1", "key-1")
>>> same.cell_errors, stale, forged
({2: 'SyntaxError'}, None, None)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .engine import NotebookResult

__all__ = ["KEY_FILE", "MARKER_NAME", "RESULTS_DIRECTORY", "ResultStore", "signing_key"]

RESULTS_DIRECTORY = "grading_results"
MARKER_NAME = ".in_progress.json"
KEY_FILE = ".grading_key"
KEY_VARIABLE = "CONVLIB_GRADING_KEY"


def signing_key(root: str | os.PathLike) -> bytes:
    """The course's secret key for signing stored results (created on first use).

    ``CONVLIB_GRADING_KEY`` wins; otherwise ``<root>/.grading_key`` (32 random bytes,
    hex, mode 0600; keep it out of version control like ``.grading_seed``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     first, again = signing_key(root), signing_key(root)
    >>> first == again and len(first) >= 32
    True
    """
    text = os.environ.get(KEY_VARIABLE)
    if text:
        return text.encode()
    path = Path(root) / KEY_FILE
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value.encode()


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


class ResultStore:
    """Signed per-notebook results of one assignment at a course root.

    Parameters
    ----------
    root : path
        The course root.
    assignment : str
        E.g. ``"hw1"``.
    key : bytes, optional
        The signing key; default :func:`signing_key` of ``root``.
    """

    def __init__(self, root: str | os.PathLike, assignment: str, *, key: bytes | None = None) -> None:
        if not isinstance(assignment, str) or not assignment or "/" in assignment:
            raise ValueError(f"assignment must be a folder name such as 'hw1', got {assignment!r}")
        self.root = Path(root)
        self.assignment = assignment
        self.folder = self.root / RESULTS_DIRECTORY / assignment
        self._key = None if key is None else bytes(key)

    # ----------------------------------------------------------------- signing
    def _sign(self, relative: str, payload: Any) -> str:
        if self._key is None:  # read (or made) on first use: a store that is never used needs no key
            self._key = signing_key(self.root)
        return hmac.new(self._key, relative.encode() + b"\0" + _canonical(payload), hashlib.sha256).hexdigest()

    def _read_signed(self, path: Path) -> Any | None:
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                return None
            payload, signature = data["payload"], str(data["signature"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        relative = path.relative_to(self.root).as_posix()
        if not hmac.compare_digest(signature, self._sign(relative, payload)):
            return None
        return payload

    def _write_signed(self, path: Path, payload: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        relative = path.relative_to(self.root).as_posix()
        text = json.dumps({"payload": payload, "signature": self._sign(relative, payload)}, indent=1,
                          sort_keys=True)
        temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
        temporary.write_text(text + "\n")
        os.replace(temporary, path)

    # ----------------------------------------------------------------- results
    def path(self, student: str, notebook: str) -> Path:
        """Where the result of ``student``'s ``notebook`` is stored.

        Examples
        --------
        >>> ResultStore("/course", "hw1", key=b"k").path("ada", "hw1").as_posix()
        '/course/grading_results/hw1/ada/hw1.json'
        """
        for name, value in (("student", student), ("notebook", notebook)):
            if not value or "/" in value or value.startswith("."):
                raise ValueError(f"{name} must be a plain file name, got {value!r}")
        return self.folder / student / f"{notebook}.json"

    def write(self, student: str, notebook: str, key: str, result: "NotebookResult") -> Path:
        """Store a result atomically, signed (an interrupted run never leaves half a file)."""
        path = self.path(student, notebook)
        self._write_signed(path, {"key": key, "result": result.as_dict()})
        return path

    def load(self, student: str, notebook: str, key: str | None = None) -> "NotebookResult | None":
        """The stored, validly signed result (with ``key``, when given), or ``None``."""
        from .engine import NotebookResult

        payload = self._read_signed(self.path(student, notebook))
        if not isinstance(payload, dict) or (key is not None and payload.get("key") != key):
            return None
        try:
            return NotebookResult.from_dict(payload["result"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def results(self) -> Iterator[tuple[str, str, "NotebookResult"]]:
        """``(student, notebook, result)`` for every validly signed stored result, sorted."""
        for path in sorted(self.folder.glob("*/*.json")):
            result = self.load(path.parent.name, path.stem)
            if result is not None:
                yield path.parent.name, path.stem, result

    # ----------------------------------------------------------------- in-progress marker
    @property
    def marker(self) -> Path:
        """The in-progress marker's path (``grading_results/<assignment>/.in_progress.json``)."""
        return self.folder / MARKER_NAME

    def announce(self, keys: dict[str, str]) -> None:
        """Publish that this process is about to write ``{"student/notebook": key}``."""
        self._write_signed(self.marker, {"pid": os.getpid(), "start": _process_start(os.getpid()),
                                         "keys": dict(keys)})

    def withdraw(self) -> None:
        """Remove the marker (the parallel command finished or was interrupted)."""
        self.marker.unlink(missing_ok=True)

    def wait(self, student: str, notebook: str, key: str, *, timeout: float = 600.0,
             poll: float = 0.05) -> "NotebookResult | None":
        """The result a live, signed marker announced with this very ``key``; ``None`` otherwise.

        Gives up (``None``) when the announcing process is gone, when its pid now
        belongs to another process, or after ``timeout`` seconds.
        """
        payload = self._read_signed(self.marker)
        if not isinstance(payload, dict):
            return None
        try:
            pid, start, planned = int(payload["pid"]), payload["start"], payload["keys"].get(f"{student}/{notebook}")
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if planned != key:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.load(student, notebook, key)
            if result is not None:
                return result
            if _process_start(pid) != start:  # gone (or the pid was reused)
                return self.load(student, notebook, key)
            time.sleep(poll)
        return None
