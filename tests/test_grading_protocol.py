"""The sandbox's wire protocol: frames with deadlines, records, and header validation."""
from __future__ import annotations

import os

import pytest

from convlib.grading import protocol as P


def test_records_round_trip_and_stop_at_garbage():
    stream = P.pack_record(P.CELL, {"cell": 2}) + P.pack_record(P.RESULT, {"case": 0}, b"\x00\x01")
    assert list(P.iter_records(stream + b"junk")) == [(P.CELL, {"cell": 2}, b""), (P.RESULT, {"case": 0}, b"\x00\x01")]
    torn = stream[:-1]
    assert [kind for kind, _, _ in P.iter_records(torn)] == [P.CELL]
    with pytest.raises(P.ProtocolError, match="unknown record kind"):
        P.pack_record(b"Q", {})


def test_a_silent_channel_raises_after_its_deadline():
    read, write = os.pipe()
    try:
        os.write(write, P.pack_frame(b"abcdef")[:5])  # a torn frame: never completed
        with pytest.raises(P.ProtocolError, match="no answer in time"):
            P.read_frame(read, timeout=0.2)
    finally:
        os.close(read)
        os.close(write)


def test_an_oversized_frame_is_refused():
    read, write = os.pipe()
    try:
        os.write(write, P.FRAME.pack(2**31))
        with pytest.raises(P.ProtocolError, match="over the"):
            P.read_frame(read, timeout=1.0, max_size=1024)
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.parametrize("change", [{"end": "hacked"}, {"phase": ["case"]}, {"n": -1}, {"extra": 1}, {"job": "1"}])
def test_malformed_headers_are_refused(change):
    header = {"job": 1, "end": "exit", "signal": None, "code": 0, "phase": ["case", 3], "cpu": 0.1, "n": 0}
    with pytest.raises(P.ProtocolError, match="malformed job header"):
        P.validate_header({**header, **change})
