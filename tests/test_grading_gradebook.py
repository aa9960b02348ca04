"""The gradebook on a real PostgreSQL server (initdb + pg_ctl on 127.0.0.1, a random port).

``NBGRADER_DB_URL`` points every command at it: ``nbgrader generate_assignment`` and
``autograde``, the Dask grader (``--scheduler``) and the class report. Both runs
must leave the gradebook a plain SQLite run leaves.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convlib.grading.gradebook import DB_URL_VARIABLE, database_url, gradebook_rows, hide_password

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import hw1_submissions as subs  # noqa: E402
from _servers import DaskCluster, PostgresServer  # noqa: E402
from _homework import nbgrader_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = nbgrader_env(ROOT, seed="2468")
NAMES = ("correct", "unchanged_release", "malformed_json", "kernel_not_flipped", "same_off_by_one",
         "forbidden_static", "kills_kernel", "monkeypatches_numpy", "syntax_error")


def test_database_url_defaults_to_sqlite_at_the_course_root(tmp_path):
    assert database_url(tmp_path, environ={}) == f"sqlite:///{tmp_path}/gradebook.db"
    assert database_url(tmp_path, environ={DB_URL_VARIABLE: "  "}) == f"sqlite:///{tmp_path}/gradebook.db"
    url = "postgresql+psycopg://grader:pw@db:5432/course"
    assert database_url(tmp_path, environ={DB_URL_VARIABLE: url}) == url


def test_a_bad_database_url_is_named_without_its_password(tmp_path):
    with pytest.raises(ValueError, match="NBGRADER_DB_URL must be an SQLAlchemy database URL") as error:
        database_url(tmp_path, environ={DB_URL_VARIABLE: "grader:hunter2@db/course"})
    assert "hunter2" not in str(error.value)
    assert hide_password("postgresql://grader:hunter2@db/course") == "postgresql://grader:***@db/course"


def _run(course: Path, env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _nbgrader(course: Path, env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run(course, env, sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
                check=check)


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def _course(where: Path, env: dict) -> Path:
    course = where / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "hw1", course / "solutions" / "hw1")
    _nbgrader(course, env, "generate_assignment", "hw1", "--force")
    subs.write_submissions(course / "exercises" / "hw1" / "hw1.ipynb", course / "submitted", NAMES)
    return course


@pytest.fixture(scope="module")
def sqlite_rows(tmp_path_factory) -> dict:
    course = _course(tmp_path_factory.mktemp("sqlite"), ENV)
    _nbgrader(course, ENV, "autograde", "hw1", "--force", check=False)  # one notebook is malformed
    rows = gradebook_rows(database_url(course, environ={}), "hw1")
    assert set(rows) >= set(NAMES) - {"malformed_json"}
    return rows


@pytest.mark.slow
def test_serial_nbgrader_on_postgresql_writes_the_sqlite_gradebook(postgres, sqlite_rows, tmp_path):
    url = postgres.create_database("serial")
    env = {**ENV, DB_URL_VARIABLE: url}
    course = _course(tmp_path, env)
    _nbgrader(course, env, "autograde", "hw1", "--force", check=False)
    assert not (course / "gradebook.db").exists()  # nothing went to SQLite
    assert gradebook_rows(url, "hw1") == sqlite_rows
    # the class report reads the same database
    out = tmp_path / "report"
    _run(course, env, sys.executable, "-m", "convlib.grading.report", "--root", str(course), "--out", str(out))
    scores = (out / "scores.csv").read_text().splitlines()
    assert "hw1,correct,10.0,10.0" in scores
    assert len(scores) == len(sqlite_rows) + 1
    assert "hw1,convolve_full,kernel not flipped,1" in (out / "mistakes.csv").read_text().splitlines()


@pytest.mark.slow
def test_dask_grading_into_postgresql_writes_the_sqlite_gradebook(postgres, sqlite_rows, tmp_path):
    url = postgres.create_database("cluster")
    env = {**ENV, DB_URL_VARIABLE: url}
    course = _course(tmp_path, env)
    cluster = DaskCluster(2, env={k: v for k, v in ENV.items() if k != "CONVLIB_GRADING_SEED"}).start()
    try:
        _run(course, {**env, "DASK_SCHEDULER_ADDRESS": cluster.address}, sys.executable, "-m",
             "convlib.grading.autograde", "hw1", "--quiet", check=False)
    finally:
        cluster.stop()
    assert not (course / "gradebook.db").exists()
    assert gradebook_rows(url, "hw1") == sqlite_rows
    assert len(list((course / "grading_results" / "hw1").glob("*/hw1.json"))) == len(NAMES) - 1
