"""Grading benchmark: 100 hw1 submissions, serial vs parallel, trusted engine vs stock nbgrader.

Builds a temporary course (this repository's ``nbgrader_config.py`` and
``solutions/hw1``), releases hw1, and writes N synthetic submissions: mostly correct,
a share of classic mistakes, and a few hostile ones (infinite loop, ``os._exit``,
runaway allocation, forbidden calls, monkeypatching, stderr, syntax errors). Then it
times, on fresh copies of that course:

* ``engine, 1 worker`` / ``engine, N workers``: the sandboxed grading alone, at the
  ``--isolation`` level (``os`` where the machine has it), and with ``--workers`` at the
  ``process`` level too (what the operating-system layer costs);
* ``engine, N workers, under load``: the same beside four busy loops per core (the
  grades must be the same, cell for cell: time limits are CPU time);
* ``nbgrader autograde (trusted, serial)``: plain ``nbgrader autograde hw1 --force``
  with this course's configuration (the trusted preprocessor grades each notebook);
* ``convlib autograde, N workers``: ``python -m convlib.grading.autograde`` (parallel
  grading, then nbgrader records the grades), split into its two phases;
* ``nbgrader recording only``: ``nbgrader autograde hw1 --force`` again once every
  result is stored: nbgrader's own work per notebook, which no grader can remove;
* ``stock nbgrader (kernel per notebook)``: nbgrader's own ``Execute`` on a subset of
  ordinary submissions (and one looping one), extrapolated per submission.

Prints a table, writes ``benchmarks/results/bench_grading.{csv,json,png}``, and checks
that the serial and parallel gradebooks are identical.

Usage: ``python benchmarks/bench_grading.py [--students 100] [--workers 2] [--stock 6]
[--isolation os|process] [--no-load]``. Target: 100 submissions with ``--workers 2`` in
under 20 s on 2 cores (engine only).

``--dask`` instead measures the Dask paths of :mod:`convlib.grading.cluster` (issue 12)
on ``--students`` submissions (200 by default there): the engine's own pool with 1 and
2 jobs (no Dask), a ``LocalCluster`` of 1 and 2 workers, and a ``dask scheduler`` plus
two ``dask worker`` processes started from the command line; it reports the
per-notebook overhead Dask adds, the cluster path against the local one, and writes
``bench_grading_dask.{csv,json,png}``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "submissions"))
sys.path.insert(0, str(ROOT / "tests"))

import hw1_submissions as subs  # noqa: E402

from convlib.grading.engine import Grader, IsolationUnavailable, isolation_level, student_cells  # noqa: E402

ENV = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
       "PYTHONPATH": str(ROOT)}

HOSTILE_MIX = ["infinite_loop", "kills_kernel", "runaway_allocation", "forbidden_static", "forbidden_dynamic",
               "monkeypatches_numpy", "prints_to_stderr", "syntax_error", "kills_kernel_at_top_level"]
STOCK_PRE = """
from nbgrader.preprocessors import (Execute, IgnorePattern, LimitOutput, SaveAutoGrades,
                                    AssignLatePenalties, CheckCellMetadata)
from nbconvert.preprocessors import ClearMetadataPreprocessor
c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.Execute.timeout = 30
"""


def mix(students: int) -> list[str]:
    """Submission kinds for ``students`` students: ~10% hostile, ~35% mistakes, the rest correct."""
    hostile = max(1, students // 10)
    mistakes = (students * 35) // 100
    names = [HOSTILE_MIX[i % len(HOSTILE_MIX)] for i in range(hostile)]
    kinds = sorted(subs.MISTAKES)
    names += [kinds[i % len(kinds)] for i in range(mistakes)]
    names += ["correct"] * (students - len(names))
    return names


def make_course(where: Path, names: list[str]) -> Path:
    course = where / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "hw1", course / "solutions" / "hw1")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "hw1", "--force",
                    f"--CourseDirectory.root={course}"], cwd=course, env=ENV, check=True, capture_output=True)
    release = course / "exercises" / "hw1" / "hw1.ipynb"
    import nbformat

    notebook = nbformat.read(str(release), as_version=4)
    for index, name in enumerate(names):
        folder = course / "submitted" / f"s{index:03d}-{name}" / "hw1"
        folder.mkdir(parents=True)
        nbformat.write(subs.build(notebook, name), str(folder / "hw1.ipynb"))
    return course


def timed(command: list[str], course: Path, env: dict | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=course, env=env or ENV, capture_output=True, text=True)
    return time.perf_counter() - started, result.stdout + result.stderr


def gradebook(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        return {s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
                for s in book.assignment_submissions("hw1")}


def bench_dask(students: int, out: Path) -> None:
    """Grading phase only (no nbgrader): engine pool vs LocalCluster vs command-line cluster."""
    import nbformat

    from _servers import DaskCluster
    from convlib.grading.cluster import GradingCluster

    names = mix(students)
    seed = int(os.environ["CONVLIB_GRADING_SEED"])
    rows = []  # (label, notebooks, start-up seconds, grading seconds)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = make_course(Path(scratch) / "base", names)
        notebooks = {path.parent.parent.name: student_cells(nbformat.read(str(path), as_version=4))
                     for path in sorted((base / "submitted").glob("*/hw1/hw1.ipynb"))}

        for jobs in (1, 2):
            label = f"engine pool, {jobs} job{'s' if jobs > 1 else ''} (no Dask)"
            started = time.perf_counter()
            with Grader("hw1", workers=jobs, seed=seed, cuda=False) as grader:
                results[label] = {k: r.as_dict() for k, r in grader.grade_many(notebooks).items()}
            rows.append((label, len(notebooks), 0.0, time.perf_counter() - started))

        def on_cluster(label: str, **where) -> None:
            stored = {}
            started = time.perf_counter()
            with GradingCluster(quiet=True, **where) as cluster, \
                    Grader("hw1", seed=seed, cuda=False) as grader:
                if "scheduler" in where:
                    cluster.client.wait_for_workers(2, timeout=300)
                up = time.perf_counter() - started
                cluster.grade(grader, notebooks, lambda name, result: stored.__setitem__(name, result.as_dict()))
                rows.append((label, len(notebooks), up, time.perf_counter() - started - up))
            results[label] = stored

        on_cluster("Dask LocalCluster, 1 worker", workers=1)
        on_cluster("Dask LocalCluster, 2 workers", workers=2)
        started = time.perf_counter()
        cli = DaskCluster(2, env={k: v for k, v in ENV.items() if k != "CONVLIB_GRADING_SEED"}).start()
        cli_up = time.perf_counter() - started
        try:
            on_cluster("dask scheduler + 2 dask worker (CLI)", scheduler=cli.address)
        finally:
            cli.stop()
        label, count, up, seconds = rows[-1]
        rows[-1] = (label, count, up + cli_up, seconds)

    reference = results["engine pool, 1 job (no Dask)"]
    identical = {label: sum(result.get(k) == reference[k] for k in reference) for label, result in results.items()}
    seconds = {label: s for label, _, _, s in rows}
    n = len(notebooks)
    overhead_1 = (seconds["Dask LocalCluster, 1 worker"] - seconds["engine pool, 1 job (no Dask)"]) / n
    overhead_2 = (seconds["Dask LocalCluster, 2 workers"] - seconds["engine pool, 2 jobs (no Dask)"]) / n
    cluster_vs_local = seconds["dask scheduler + 2 dask worker (CLI)"] / seconds["Dask LocalCluster, 2 workers"]

    width = max(len(label) for label, *_ in rows)
    print(f"\nhw1 grading on Dask: {n} submissions ({names.count('correct')} correct, "
          f"{sum(k in subs.MISTAKES for k in names)} mistakes, {sum(k in subs.HOSTILE for k in names)} hostile), "
          f"{os.cpu_count()} CPUs\n")
    print(f"{'run':<{width}}  {'start s':>7}  {'grading s':>9}  {'s/notebook':>10}  {'same results':>12}")
    for label, count, up, grading in rows:
        print(f"{label:<{width}}  {up:>7.1f}  {grading:>9.1f}  {grading / count:>10.3f}  "
              f"{identical[label]:>6}/{count}")
    print(f"\nDask overhead per notebook: {overhead_1 * 1000:+.0f} ms (1 worker), {overhead_2 * 1000:+.0f} ms "
          f"(2 workers); CLI cluster / LocalCluster (2 workers): {cluster_vs_local:.3f}")

    with open(out / "bench_grading_dask.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "notebooks", "startup_s", "grading_s"])
        writer.writerows((label, count, round(up, 2), round(grading, 2)) for label, count, up, grading in rows)
    (out / "bench_grading_dask.json").write_text(json.dumps(
        {"students": n, "cpus": os.cpu_count(), "rows": rows, "identical_results": identical,
         "overhead_per_notebook_s": {"1 worker": overhead_1, "2 workers": overhead_2},
         "cli_cluster_over_local_cluster": cluster_vs_local}, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.5))
    labels = [label for label, *_ in rows][::-1]
    axis.barh(labels, [grading for *_, grading in rows][::-1], color="#4477aa", label="grading")
    axis.barh(labels, [up for _, _, up, _ in rows][::-1], left=[g for *_, g in rows][::-1], color="#ddcc77",
              label="cluster start-up")
    axis.set_xlabel("seconds (wall clock)")
    axis.legend(loc="lower right")
    axis.set_title(f"Grading {n} hw1 submissions: engine pool vs Dask ({os.cpu_count()} CPUs)")
    figure.tight_layout()
    figure.savefig(out / "bench_grading_dask.png", dpi=100)
    print(f"wrote {out / 'bench_grading_dask.csv'} and {out / 'bench_grading_dask.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=None, help="default 100 (200 with --dask)")
    parser.add_argument("--dask", action="store_true",
                        help="measure the Dask paths (LocalCluster 1/2 workers, CLI scheduler + 2 workers)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--stock", type=int, default=6, help="ordinary submissions graded by stock nbgrader")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--isolation", choices=("os", "process"), default=None,
                        help="sandbox level (default: os where available, else process)")
    parser.add_argument("--no-load", action="store_true", help="skip the run beside busy loops")
    args = parser.parse_args()
    try:
        level = isolation_level(args.isolation or "os")
    except IsolationUnavailable as error:
        if args.isolation:
            raise SystemExit(f"refusing: {error}")
        level = "process"
    os.environ["CONVLIB_GRADING_ISOLATION"] = level
    ENV["CONVLIB_GRADING_ISOLATION"] = level
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CONVLIB_GRADING_SEED", "2026")
    ENV["CONVLIB_GRADING_SEED"] = os.environ["CONVLIB_GRADING_SEED"]
    if args.dask:
        bench_dask(args.students or 200, out)
        return
    names = mix(args.students or 100)
    rows = []

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        base = make_course(scratch / "base", names)
        import nbformat

        notebooks = {path.parent.parent.name: student_cells(nbformat.read(str(path), as_version=4))
                     for path in sorted((base / "submitted").glob("*/hw1/hw1.ipynb"))}
        engine_results = {}
        runs = [(w, level) for w in sorted({1, args.workers})]
        if level != "process":
            runs.append((args.workers, "process"))
        for workers, run_level in runs:
            started = time.perf_counter()
            with Grader("hw1", workers=workers, isolation=run_level) as grader:
                engine_results[(workers, run_level)] = grader.grade_many(notebooks)
            rows.append((f"engine only, {workers} worker{'s' if workers > 1 else ''}, {run_level!r} sandbox",
                         len(notebooks), time.perf_counter() - started))
        reference = engine_results[(1, level)]

        def graded(result):  # everything but the level it was graded at
            return {**result.as_dict(), "isolation": None}

        same_engine = all(graded(reference[k]) == graded(result[k])
                          for result in engine_results.values() for k in notebooks)
        same_under_load = None
        if not args.no_load:
            loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                     for _ in range(4 * (os.cpu_count() or 1))]
            try:
                started = time.perf_counter()
                with Grader("hw1", workers=args.workers, isolation=level) as grader:
                    loaded = grader.grade_many(notebooks)
                rows.append((f"engine only, {args.workers} workers, {level!r}, beside {len(loops)} busy loops",
                             len(notebooks), time.perf_counter() - started))
            finally:
                for loop in loops:
                    loop.kill()
                    loop.wait()
            same_under_load = all(graded(reference[k]) == graded(loaded[k]) for k in notebooks)

        serial = scratch / "serial"
        shutil.copytree(base, serial)
        seconds, _ = timed([sys.executable, "-m", "nbgrader", "autograde", "hw1", "--force",
                            f"--CourseDirectory.root={serial}"], serial)
        rows.append(("nbgrader autograde (trusted, serial)", len(names), seconds))

        parallel = scratch / "parallel"
        shutil.copytree(base, parallel)
        seconds, log = timed([sys.executable, "-m", "convlib.grading.autograde", "hw1",
                              "--workers", str(args.workers), "--isolation", level], parallel)
        rows.append((f"convlib autograde, {args.workers} workers (total)", len(names), seconds))
        for line in log.splitlines():  # the sandboxed grading runs while nbgrader records grades
            if line.startswith("[convlib.grading]") and "graded with" in line:
                phase = float(line.rsplit("(", 1)[1].split(" s")[0])
                rows.append(("  of which sandboxed grading (overlapped)", len(names), phase))
        same_gradebook = gradebook(serial) == gradebook(parallel)
        # nbgrader's own work per notebook (sanitize, overwrite cells, validate, gradebook), every
        # result already stored: the floor of any run that records grades with nbgrader
        seconds, _ = timed([sys.executable, "-m", "nbgrader", "autograde", "hw1", "--force",
                            f"--CourseDirectory.root={parallel}"], parallel)
        rows.append(("nbgrader recording only (all results stored)", len(names), seconds))

        if args.stock:
            stock = scratch / "stock"
            shutil.copytree(base, stock)
            with open(stock / "nbgrader_config.py", "a") as handle:
                handle.write(STOCK_PRE)
            shutil.rmtree(stock / "submitted")
            chosen = [p for p in sorted((base / "submitted").glob("*-correct"))][: args.stock]
            loop = [p for p in sorted((base / "submitted").glob("*-infinite_loop"))][:1]
            for path in chosen:
                shutil.copytree(path, stock / "submitted" / path.name)
            seconds, _ = timed([sys.executable, "-m", "nbgrader", "autograde", "hw1", "--force",
                                f"--CourseDirectory.root={stock}"], stock)
            rows.append((f"stock nbgrader, {len(chosen)} ordinary submissions", len(chosen), seconds))
            per_ordinary = seconds / max(len(chosen), 1)
            if loop:
                shutil.rmtree(stock / "submitted")
                shutil.copytree(loop[0], stock / "submitted" / loop[0].name)
                seconds, _ = timed([sys.executable, "-m", "nbgrader", "autograde", "hw1", "--force",
                                    f"--CourseDirectory.root={stock}"], stock)
                rows.append(("stock nbgrader, 1 looping submission", 1, seconds))
                loops = sum(name == "infinite_loop" for name in names)
                estimate = per_ordinary * (len(names) - loops) + seconds * loops
                rows.append((f"stock nbgrader, {len(names)} submissions (extrapolated)", len(names), estimate))

    width = max(len(label) for label, _, _ in rows)
    print(f"\nhw1 grading benchmark: {len(names)} submissions "
          f"({names.count('correct')} correct, {sum(n in subs.MISTAKES for n in names)} mistakes, "
          f"{sum(n in subs.HOSTILE for n in names)} hostile), {os.cpu_count()} CPUs\n")
    print(f"{'run':<{width}}  {'notebooks':>9}  {'seconds':>8}  {'s/notebook':>10}")
    for label, count, seconds in rows:
        print(f"{label:<{width}}  {count:>9}  {seconds:>8.1f}  {seconds / count:>10.3f}")
    serial_s = next(s for label, _, s in rows if label.startswith("nbgrader autograde"))
    parallel_s = next(s for label, _, s in rows if label.startswith("convlib autograde"))
    print(f"\nparallel / serial: {parallel_s / serial_s:.2f}; engine results identical (1 worker, "
          f"{args.workers} workers, both levels): {same_engine}; under load: {same_under_load}; "
          f"gradebooks identical: {same_gradebook}; isolation: {level}")

    with open(out / "bench_grading.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "notebooks", "seconds"])
        writer.writerows((label.strip(), count, round(seconds, 2)) for label, count, seconds in rows)
    (out / "bench_grading.json").write_text(json.dumps(
        {"students": len(names), "cpus": os.cpu_count(), "rows": rows, "same_gradebook": same_gradebook,
         "same_engine": same_engine, "same_under_load": same_under_load, "isolation": level}, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    labels = [label.strip() for label, _, _ in rows][::-1]
    axis.barh(labels, [seconds for _, _, seconds in rows][::-1], color="#4477aa")
    axis.axvline(20, color="#cc6677", linestyle="--", label="target: 100 submissions, 2 workers, in 20 s")
    axis.set_xlabel("seconds (wall clock)")
    axis.legend(loc="lower right")
    axis.set_title(f"Grading {len(names)} hw1 submissions on {os.cpu_count()} CPUs")
    figure.tight_layout()
    figure.savefig(out / "bench_grading.png", dpi=100)
    print(f"wrote {out / 'bench_grading.csv'} and {out / 'bench_grading.png'}")


if __name__ == "__main__":
    main()
