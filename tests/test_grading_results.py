"""The signed result store: what the trusted grader wrote is trusted, nothing else is."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from convlib.grading.engine import NotebookResult
from convlib.grading.results import KEY_FILE, ResultStore, signing_key

RESULT = NotebookResult({}, {1: "SyntaxError"}, ["a note"], "os", [])


def test_a_written_result_loads_back_with_its_key_only(tmp_path):
    store = ResultStore(tmp_path, "hw1")
    store.write("ada", "hw1", "k1", RESULT)
    assert store.load("ada", "hw1", "k1").as_dict() == RESULT.as_dict()
    assert store.load("ada", "hw1", "k2") is None
    assert [(s, n) for s, n, _ in store.results()] == [("ada", "hw1")]


def test_the_signing_key_is_private_to_the_course(tmp_path):
    signing_key(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0


def test_a_forged_or_copied_result_is_ignored(tmp_path):
    store = ResultStore(tmp_path, "hw1")
    path = store.write("ada", "hw1", "k1", RESULT)
    data = json.loads(path.read_text())
    data["payload"]["result"]["cell_errors"] = {}
    path.write_text(json.dumps(data))  # edited: the signature no longer matches
    assert store.load("ada", "hw1") is None
    store.write("ada", "hw1", "k1", RESULT)
    other = store.path("bob", "hw1")
    other.parent.mkdir(parents=True)
    shutil.copy(path, other)  # a valid file under another student's name
    assert store.load("bob", "hw1") is None


def test_a_fake_marker_naming_a_live_process_is_not_waited_for(tmp_path):
    store = ResultStore(tmp_path, "hw1")
    store.folder.mkdir(parents=True)
    store.marker.write_text(json.dumps({"payload": {"pid": os.getpid(), "start": None, "keys": {"ada/hw1": "k"}},
                                        "signature": "0" * 64}))
    assert store.wait("ada", "hw1", "k", timeout=3600) is None  # returns at once: not signed


def test_a_real_marker_of_a_finished_process_is_not_waited_for(tmp_path):
    store = ResultStore(tmp_path, "hw1")
    store.announce({"ada/hw1": "k"})
    payload = json.loads(store.marker.read_text())["payload"]
    assert payload["pid"] == os.getpid()
    store.write("ada", "hw1", "k", RESULT)
    assert store.wait("ada", "hw1", "k").as_dict() == RESULT.as_dict()
    store.withdraw()
    assert not store.marker.exists()


@pytest.mark.parametrize("bad", ["", "a/b", ".hidden"])
def test_bad_names_are_refused_naming_the_argument(tmp_path, bad):
    with pytest.raises(ValueError, match="student"):
        ResultStore(tmp_path, "hw1").path(bad, "hw1")
