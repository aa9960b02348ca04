"""The sandbox's wire protocol: one home for the record kinds, frames and the job header.

Three parties speak it:

- the **child** (a forked, sandboxed process running one student's cells and one
  graded function) writes *records* into its own result pipe, and reads the hidden
  inputs of one case at a time from its own input pipe, only after its cells ran;
- the **fork server** (``python -m convlib.grading._sandbox``, no student code)
  watches the child, feeds it one case's inputs when asked, and answers the trusted
  grader with one *result frame* per job: a header (:data:`HEADER_FIELDS`) and the
  child's raw record stream;
- the **judge** (:mod:`convlib.grading.engine`, the trusted process) decodes the
  records (:func:`iter_records`) and scores them.

Records
-------
``pack_record(kind, meta, value)``: a 9-byte prefix ``!cII`` (kind, meta length,
value length), a JSON object ``meta`` and an opaque ``value`` (a
:func:`convlib.grading._values.encode` payload for :data:`RESULT`). The kinds are
the constants below (:data:`KINDS`); :func:`iter_records` stops at the first torn,
unknown or malformed record, so a garbled stream ends the job's evidence there.

Frames
------
Between the trusted grader and the server every message is a *frame*: a 4-byte
big-endian length, then that many bytes (:func:`pack_frame`, :func:`read_frame`).
A job request is a frame holding the JSON job spec followed by one frame per case
holding that case's encoded inputs (``spec["n_inputs"]`` of them); a server answer
is a frame holding the JSON header followed by a frame holding the record stream.
Frames are read with a deadline (:func:`read_frame`), and a header is validated
(:func:`validate_header`) before anything in it is used: a garbled or silent
server is detected, never trusted.

Examples
--------
>>> stream = pack_record(CELL, {"cell": 0}) + pack_record(RESULT, {"case": 1}, b"xy")
>>> [(kind, meta, value) for kind, meta, value in iter_records(stream)]
[(b'K', {'cell': 0}, b''), (b'R', {'case': 1}, b'xy')]
>>> list(iter_records(b"Z" + stream))  # garbled from the start: no evidence at all
[]
>>> validate_header({"job": 3, "end": "exit", "signal": None, "code": 0,
...                  "phase": ["done", None], "cpu": 0.5, "n": 0})["end"]
'exit'
"""
from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any, Iterator

__all__ = [
    "CASE", "CASE_INPUTS", "CELL", "CELLS_DONE", "CELL_ERROR", "CRASH", "DONE", "END_REASONS", "FLAGGED",
    "FORBIDDEN", "HEADER_FIELDS", "KINDS", "MISSING", "PATCHED", "PHASES", "ProtocolError", "RESULT",
    "SETUP", "iter_records", "pack_frame", "pack_record", "read_frame", "validate_header",
]

RECORD = struct.Struct("!cII")  # kind, meta length, value length
FRAME = struct.Struct("!I")  # length of a frame's body
MAX_FRAME = 256 * 2**20

# ------------------------------------------------------------------ record kinds (child -> judge)
SETUP = b"U"  # CUDA's start-up begins (before any student code)
CELL = b"K"  # a top-level cell starts: {"cell": position}
CELL_ERROR = b"E"  # a cell raised: {"cell", "error": {"type", "message", "where"}}
PATCHED = b"N"  # the cells replaced library attributes: {"patched": [...]}
CELLS_DONE = b"C"  # every cell ran; the child asks for the first case's inputs
MISSING = b"M"  # the graded function is not defined: {"defined", "type"}
CASE = b"S"  # a case starts: {"case": k} (the child asks for its inputs)
RESULT = b"R"  # a case's result: {"case", "status", "error"?, "patched"}, value: encoded output
FORBIDDEN = b"F"  # a guard caught a forbidden call: {"path"}
FLAGGED = b"V"  # introspection only cheating needs: {"event", "detail"} (withheld for review)
DONE = b"D"  # every case ran
CRASH = b"X"  # the child's own machinery failed: {"error"}
KINDS = frozenset({SETUP, CELL, CELL_ERROR, PATCHED, CELLS_DONE, MISSING, CASE, RESULT, FORBIDDEN,
                   FLAGGED, DONE, CRASH})

# the records that move the server's idea of where the child is (see PHASES)
PHASE_OF = {SETUP: "setup", CELL: "cell", CELLS_DONE: "cases", CASE: "case", DONE: "done", MISSING: "done"}
PHASES = ("start", "setup", "cell", "cases", "case", "done")

# server -> child: one case's inputs, on the child's own input pipe (a frame)
CASE_INPUTS = "inputs"

# ------------------------------------------------------------------ the job header (server -> judge)
END_EXIT, END_SIGNAL = "exit", "signal"
END_CPU = "timeout"  # a CPU-time limit of the student's process tree: the student's doing
END_WALL = "wall"  # the wall-clock safety net while the job was runnable (starved): never costs points
END_IDLE = "idle"  # the wall-clock safety net while every process of the job was asleep: its own doing
END_TOO_LARGE = "too_large"  # the child sent more than the job's max_stream
END_GARBLED = "garbled"  # the child's record stream is not well-formed
END_SHUTDOWN = "shutdown"  # the server was told to stop
END_REASONS = frozenset({END_EXIT, END_SIGNAL, END_CPU, END_WALL, END_IDLE, END_TOO_LARGE, END_GARBLED, END_SHUTDOWN})

# job: the id the judge gave; end: one of END_REASONS; signal/code: how the child ended;
# phase: [one of PHASES, cell position or case index or None]; cpu: CPU seconds of the
# child's process tree; n: length of the record stream that follows
HEADER_FIELDS = ("job", "end", "signal", "code", "phase", "cpu", "n")


class ProtocolError(RuntimeError):
    """A message broke the protocol (garbled, too long, missing fields, or too late)."""


def pack_record(kind: bytes, meta: dict[str, Any], value: bytes = b"") -> bytes:
    """One record of a child's result stream (see the module docstring)."""
    if kind not in KINDS:
        raise ProtocolError(f"unknown record kind {kind!r}")
    body = json.dumps(meta, separators=(",", ":")).encode()
    return RECORD.pack(kind, len(body), len(value)) + body + value


def iter_records(stream: bytes) -> Iterator[tuple[bytes, dict[str, Any], bytes]]:
    """``(kind, meta, value)`` for each well-formed record; stops at a torn, unknown or bad one."""
    offset = 0
    while offset + RECORD.size <= len(stream):
        kind, meta_size, value_size = RECORD.unpack_from(stream, offset)
        end = offset + RECORD.size + meta_size + value_size
        if kind not in KINDS or end > len(stream):
            return
        start = offset + RECORD.size
        try:
            meta = json.loads(bytes(stream[start : start + meta_size]))
        except ValueError:
            return
        if not isinstance(meta, dict):
            return
        yield kind, meta, bytes(stream[start + meta_size : end])
        offset = end


def pack_frame(body: bytes) -> bytes:
    """A length-prefixed frame.

    Examples
    --------
    >>> pack_frame(b"abc")
    b'\\x00\\x00\\x00\\x03abc'
    """
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes is over the {MAX_FRAME} limit")
    return FRAME.pack(len(body)) + body


def _read_exact(fd: int, size: int, deadline: float | None, into: bytearray | None = None) -> bytearray:
    buffer = into if into is not None else bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ProtocolError("no answer in time")
        try:
            count = os.readv(fd, [view[got:size]])
        except BlockingIOError:
            continue
        if count == 0:
            raise ProtocolError("the other side closed the channel")
        got += count
    return buffer


def read_frame(fd: int, *, timeout: float | None = None, max_size: int = MAX_FRAME) -> bytearray:
    """Read one frame's body from ``fd``, within ``timeout`` seconds (``None``: wait).

    The body is read straight into a fresh ``bytearray`` (no intermediate copies), so
    a caller holding secrets can wipe it afterwards.

    Examples
    --------
    >>> read, write = os.pipe()
    >>> _ = os.write(write, pack_frame(b"hello"))
    >>> bytes(read_frame(read, timeout=1.0))
    b'hello'
    >>> os.close(read); os.close(write)
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = FRAME.unpack(bytes(_read_exact(fd, FRAME.size, deadline)))
    if size > max_size:
        raise ProtocolError(f"a frame of {size} bytes is over the {max_size} limit")
    return _read_exact(fd, size, deadline)


def validate_header(header: Any) -> dict[str, Any]:
    """Check a server's job header against :data:`HEADER_FIELDS`; raise :class:`ProtocolError`."""
    if not isinstance(header, dict) or set(header) != set(HEADER_FIELDS):
        raise ProtocolError(f"malformed job header: {str(header)[:200]}")
    ok = (isinstance(header["job"], int) and header["end"] in END_REASONS
          and (header["signal"] is None or isinstance(header["signal"], int))
          and (header["code"] is None or isinstance(header["code"], int))
          and isinstance(header["phase"], list) and len(header["phase"]) == 2
          and header["phase"][0] in PHASES
          and (header["phase"][1] is None or isinstance(header["phase"][1], int))
          and isinstance(header["cpu"], (int, float)) and isinstance(header["n"], int)
          and 0 <= header["n"] <= MAX_FRAME)
    if not ok:
        raise ProtocolError(f"malformed job header: {str(header)[:200]}")
    return header
