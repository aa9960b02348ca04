"""Benchmark: what the operating-system sandbox adds to one grading job.

Times, in this process (NumPy imported, as in the fork server; ``--torch`` imports
torch too), a job that does nothing, side by side:

- ``process``: fork a child, which exits; wait for it (today's "process" level);
- ``os``: fork a child, which calls :func:`convlib.grading.isolation.enter`
  (namespaces, minimal filesystem, Landlock, seccomp, limits) and exits; wait for it
  (the supervisor returns after the whole namespace is gone).

Prints the median and quartiles over ``--jobs`` jobs of the wall time and of the
CPU time of the job's processes, the ratios, and the cost of ``enter`` itself (median
of paired differences), and writes
``benchmarks/results/bench_isolation.csv`` and ``.png``.

Run: ``python benchmarks/bench_isolation.py [--jobs 50] [--torch]``
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # run as a script from anywhere: use this checkout's convlib
from convlib.grading import isolation  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results"


def one_job(level: str) -> tuple[float, float]:
    """Milliseconds from fork to the reaped end of one empty job at ``level``: wall, CPU.

    The CPU time is that of the job's processes (the supervisor and the job, from
    ``RUSAGE_CHILDREN``), user plus system: less sensitive to the machine's load than
    the wall time (the kernel's deferred clean-up of a namespace is not in it).
    """
    policy = isolation.Policy(level=level, memory_mb=1024)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            isolation.enter(policy)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - start) * 1e3
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise RuntimeError(f"a {level} job failed (wait status {status})")
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e3
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50, help="jobs per level (default 50)")
    parser.add_argument("--torch", action="store_true", help="import torch first (a bigger process to fork)")
    args = parser.parse_args()
    if args.torch:
        import torch  # noqa: F401
    isolation.check_available()
    times: dict[str, list[float]] = {isolation.PROCESS: [], isolation.OS: []}
    cpu: dict[str, list[float]] = {isolation.PROCESS: [], isolation.OS: []}
    for _ in range(args.jobs):  # interleaved, so that both levels see the same machine load
        for level in times:
            wall, used = one_job(level)
            times[level].append(wall)
            cpu[level].append(used)
    loaded = "numpy + torch" if args.torch else "numpy"
    print(f"one empty job, fork to reaped end, {args.jobs} jobs per level, {loaded} imported")
    print(f"{'level':<10}{'wall q25':>10}{'median':>8}{'q75':>8}{'ratio':>7}"
          f"{'CPU q25':>10}{'median':>8}{'q75':>8}{'ratio':>7}   (ms)")
    base = np.median(times[isolation.PROCESS]), np.median(cpu[isolation.PROCESS])
    for level in times:
        w, c = np.percentile(times[level], [25, 50, 75]), np.percentile(cpu[level], [25, 50, 75])
        print(f"{level:<10}{w[0]:>10.2f}{w[1]:>8.2f}{w[2]:>8.2f}{w[1] / base[0]:>7.2f}"
              f"{c[0]:>10.2f}{c[1]:>8.2f}{c[2]:>8.2f}{c[1] / max(base[1], 1e-9):>7.2f}")
    for name, values in (("wall", times), ("CPU", cpu)):
        cost = np.median(np.array(values[isolation.OS]) - np.array(values[isolation.PROCESS]))
        print(f"cost of isolation.enter per job, {name} (median of paired differences): {cost:.2f} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "bench_isolation_torch" if args.torch else "bench_isolation"
    with open(RESULTS / f"{stem}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job", *(f"{level}_wall_ms" for level in times),
                         *(f"{level}_cpu_ms" for level in cpu)])
        writer.writerows(zip(range(args.jobs), *times.values(), *cpu.values()))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, values, what in ((axes[0], times, "wall"), (axes[1], cpu, "CPU")):
        ax.boxplot(list(values.values()), tick_labels=[f"{level} level" for level in values])
        ax.set_ylabel(f"{what} ms per job")
        ax.set_title(f"{what} time, fork to reaped end ({loaded})")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{stem}.png", dpi=120)
    print(f"wrote {RESULTS / (stem + '.csv')} and .png")


if __name__ == "__main__":
    main()
