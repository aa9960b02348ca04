"""Benchmark: what the operating-system sandbox adds to one grading job.

Times, in this process (NumPy imported, as in the fork server; ``--torch`` imports
torch too), a job that does nothing, side by side:

- ``process``: fork a child, which exits; wait for it (today's "process" level);
- ``os``: fork a child, which calls :func:`convlib.grading.isolation.enter`
  (namespaces, minimal filesystem, Landlock, seccomp, limits) and exits; wait for it
  (the supervisor returns after the whole namespace is gone).

Prints the median and quartiles over ``--jobs`` jobs, the ratio, and the cost of
``enter`` itself (median difference), and writes
``benchmarks/results/bench_isolation.csv`` and ``.png``.

Run: ``python benchmarks/bench_isolation.py [--jobs 50] [--torch]``
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # run as a script from anywhere: use this checkout's convlib
from convlib.grading import isolation  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results"


def one_job(level: str) -> float:
    """Milliseconds from fork to the reaped end of one empty job at ``level``."""
    policy = isolation.Policy(level=level, memory_mb=1024)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            isolation.enter(policy)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - start) * 1e3
    if status != 0:
        raise RuntimeError(f"a {level} job failed (wait status {status})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50, help="jobs per level (default 50)")
    parser.add_argument("--torch", action="store_true", help="import torch first (a bigger process to fork)")
    args = parser.parse_args()
    if args.torch:
        import torch  # noqa: F401
    isolation.check_available()
    times: dict[str, list[float]] = {isolation.PROCESS: [], isolation.OS: []}
    for _ in range(args.jobs):  # interleaved, so that both levels see the same machine load
        for level in times:
            times[level].append(one_job(level))
    summary = {level: np.percentile(values, [25, 50, 75]) for level, values in times.items()}
    cost = np.median(np.array(times[isolation.OS]) - np.array(times[isolation.PROCESS]))
    loaded = "numpy + torch" if args.torch else "numpy"
    print(f"one empty job, fork to reaped end, {args.jobs} jobs per level, {loaded} imported")
    print(f"{'level':<10}{'q25 ms':>10}{'median ms':>12}{'q75 ms':>10}{'ratio':>8}")
    base = summary[isolation.PROCESS][1]
    for level, (q25, median, q75) in summary.items():
        print(f"{level:<10}{q25:>10.2f}{median:>12.2f}{q75:>10.2f}{median / base:>8.2f}")
    print(f"cost of isolation.enter per job (median of paired differences): {cost:.2f} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "bench_isolation_torch" if args.torch else "bench_isolation"
    with open(RESULTS / f"{stem}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job", *times])
        writer.writerows(zip(range(args.jobs), *times.values()))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.boxplot(list(times.values()), labels=[f"{level} level" for level in times])
    ax.set_ylabel("ms per job (fork to reaped end)")
    ax.set_title(f"Sandbox set-up per job ({loaded} imported)")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{stem}.png", dpi=120)
    print(f"wrote {RESULTS / (stem + '.csv')} and .png")


if __name__ == "__main__":
    main()
