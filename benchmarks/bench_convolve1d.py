"""Benchmark: 1-D float64 convolution, every convlib method against its peers.

Times ``convlib.convolve`` with each method against ``scipy.signal.convolve``
(method='auto'), ``numpy.convolve`` and ``torch.nn.functional.conv1d`` (float64,
on the CPU, tensors prepared in advance) over a grid of signal lengths (10 to
10^6) and kernel lengths (3 to 10^4), mode 'full'. Every timing is the minimum
over several repeats of elapsed (wall-clock) time by default: convlib's
overlap-add runs its blocks on several threads (``CONVLIB_NUM_THREADS``,
default the CPU count), and this process's CPU time (``--clock cpu``) would add
up the time of all of them. The minimum is the least disturbed run and all
methods are timed in interleaved rounds, so they see the same background load
of the shared cores. Ratios are relative to scipy's auto in the same run.

O(n*m) methods are skipped where n*m exceeds their cost cap (:data:`COST_CAPS`);
the table says "skip" there. torch runs with one thread by default
(``--torch-threads``). Results go to ``benchmarks/results/`` (CSV and PNG).

Usage::

    python benchmarks/bench_convolve1d.py            # the full grid (a few minutes)
    python benchmarks/bench_convolve1d.py --quick    # a small grid (seconds)
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import convlib  # noqa: E402
from convlib._threads import num_threads  # noqa: E402
from convlib.timing import best_times  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

FULL_SIGNALS = [10, 100, 1_000, 10_000, 100_000, 1_000_000]
FULL_KERNELS = [3, 10, 30, 100, 300, 1_000, 3_000, 10_000]
QUICK_SIGNALS = [100, 10_000, 100_000]
QUICK_KERNELS = [3, 30, 300]

#: Largest n*m each O(n*m) method is timed at (beyond: "skip").
COST_CAPS = {
    "convlib direct": 3e7,
    "convlib vectorized": 3e7,
    "numpy.convolve": 1e9,
    "torch conv1d": 3e7,
    "convlib torch": 3e7,
}


def candidates(x: np.ndarray, h: np.ndarray) -> dict[str, Callable[[], object]]:
    """The functions timed for one (signal, kernel) pair."""
    import scipy.signal
    import torch
    import torch.nn.functional as F

    x_t = torch.from_numpy(x)[None, None]
    h_t = torch.from_numpy(h[::-1].copy())[None, None]
    pad = h.shape[0] - 1
    return {
        "scipy auto": lambda: scipy.signal.convolve(x, h),
        "numpy.convolve": lambda: np.convolve(x, h),
        "torch conv1d": lambda: F.conv1d(x_t, h_t, padding=pad),
        "convlib auto": lambda: convlib.convolve(x, h),
        "convlib direct": lambda: convlib.convolve(x, h, method="direct"),
        "convlib vectorized": lambda: convlib.convolve(x, h, method="vectorized"),
        "convlib fft": lambda: convlib.convolve(x, h, method="fft"),
        "convlib torch": lambda: convlib.convolve(x, h, method="torch"),
    }


def run(
    signals: list[int], kernels: list[int], *, repeats: int, budget: float, clock: Callable[[], float]
) -> list[dict]:
    import scipy.signal
    rng = np.random.default_rng(0)
    rows = []
    for n in signals:
        for m in kernels:
            if m > n:
                continue
            x = rng.standard_normal(n)
            h = rng.standard_normal(m)
            reference = scipy.signal.convolve(x, h, method="fft" if n * m > 1e7 else "direct")
            scale = np.abs(reference).max()
            row = {"n": n, "m": m, "auto_choice": convlib.choose_method(x, h)}
            timed = {}
            for name, function in candidates(x, h).items():
                if n * m > COST_CAPS.get(name, math.inf):
                    row[name] = math.nan
                    continue
                result = function()
                if hasattr(result, "numpy"):
                    result = result.numpy()[0, 0]
                error = float(np.abs(np.asarray(result) - reference).max() / scale)
                if error > 1e-9:
                    raise AssertionError(f"{name} is wrong for n={n}, m={m}: relative error {error:.1e}")
                timed[name] = function
            row.update(best_times(timed, repeat=repeats, budget=0.02, clock=clock, max_seconds=budget * len(timed)))
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


NAMES = [
    "scipy auto",
    "numpy.convolve",
    "torch conv1d",
    "convlib auto",
    "convlib direct",
    "convlib vectorized",
    "convlib fft",
    "convlib torch",
]


def header() -> str:
    short = ["scipy", "numpy", "torch", "auto", "direct", "vector", "fft", "cltorch"]
    times = "".join(f"{s:>10}" for s in short)
    ratios = "".join(f"{s:>8}" for s in short[1:])
    return f"{'n':>8} {'m':>6} {'choice':>10} |{times} | ratios:{ratios}"


def format_row(row: dict) -> str:
    def seconds(value: float) -> str:
        if math.isnan(value):
            return f"{'skip':>10}"
        for unit, factor in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
            if value >= factor:
                return f"{value / factor:8.2f}{unit:>2}"
        return f"{value / 1e-6:8.2f}us"

    base = row["scipy auto"]
    times = "".join(seconds(row[name]) for name in NAMES)
    ratios = "".join(
        f"{'skip':>8}" if math.isnan(row[name]) else f"{row[name] / base:8.2f}" for name in NAMES[1:]
    )
    return f"{row['n']:>8} {row['m']:>6} {row['auto_choice']:>10} |{times} | {'':>6}{ratios}"


def summary(rows: list[dict]) -> str:
    ratios = [(row["convlib auto"] / row["scipy auto"], row["n"], row["m"]) for row in rows]
    worst = max(ratios)
    lines = [f"convlib auto / scipy auto: worst {worst[0]:.2f} (n={worst[1]}, m={worst[2]}), "
             f"median {np.median([r[0] for r in ratios]):.2f}"]
    target = [r for r in ratios if r[1] >= 100_000 and r[2] >= 300]
    if target:
        slowest = max(target)
        lines.append(
            f"m >= 300 and n >= 1e5: speed-up over scipy auto at least {1 / slowest[0]:.2f}x "
            f"(n={slowest[1]}, m={slowest[2]}; target >= 2x)"
        )
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["n", "m", "auto_choice", *[f"{name} [s]" for name in NAMES],
                         *[f"{name} / scipy auto" for name in NAMES[1:]]])
        for row in rows:
            writer.writerow([row["n"], row["m"], row["auto_choice"], *[row[name] for name in NAMES],
                             *[row[name] / row["scipy auto"] for name in NAMES[1:]]])


def write_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    kernels = sorted({row["m"] for row in rows})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in kernels:
        chosen = [row for row in rows if row["m"] == m]
        left.plot([r["n"] for r in chosen], [r["convlib auto"] / r["scipy auto"] for r in chosen],
                  marker="o", label=f"m = {m}")
    left.axhline(1.0, color="black", lw=0.8)
    left.axhline(0.5, color="gray", lw=0.8, ls=":")
    left.set(xscale="log", yscale="log", xlabel="signal length n", ylabel="time / scipy auto",
             title="convlib auto relative to scipy.signal.convolve")
    left.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    left.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    left.legend(fontsize=8)
    largest = max(row["n"] for row in rows)
    chosen = [row for row in rows if row["n"] == largest]
    for name in NAMES:
        points = [(r["m"], r[name]) for r in chosen if not math.isnan(r[name])]
        if points:
            right.plot(*zip(*points), marker="o", label=name)
    right.set(xscale="log", yscale="log", xlabel="kernel length m", ylabel="seconds (min of repeats)",
              title=f"every method at n = {largest:,}")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small grid (a few seconds)")
    parser.add_argument("--repeats", type=int, default=7, help="timing rounds per measurement (min is kept)")
    parser.add_argument("--budget", type=float, default=0.5, help="seconds spent per measurement at most")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch CPU threads (default 1: on shared cores torch's thread pool stalls for "
                             "milliseconds on small problems)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="wall",
                        help="wall (default): elapsed time, what a user waits for (convlib's FFT may use several "
                             "threads); cpu: this process's CPU time (user + system, summed over all its threads)")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    import torch

    torch.set_num_threads(args.torch_threads)
    signals, kernels = (QUICK_SIGNALS, QUICK_KERNELS) if args.quick else (FULL_SIGNALS, FULL_KERNELS)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores (possibly shared), "
          f"numpy {np.__version__}, torch threads {args.torch_threads}, convlib FFT threads up to {num_threads()}, "
          f"clock {args.clock}{' (elapsed: threads run in parallel)' if args.clock == 'wall' else ' (summed over threads)'}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; times: min of repeats; "
          f"ratios: time / scipy auto (< 1 is faster)")
    print(header())
    rows = run(signals, kernels, repeats=args.repeats, budget=args.budget, clock=clock)
    print(summary(rows))
    RESULTS.mkdir(exist_ok=True)
    stem = "convolve1d_quick" if args.quick else "convolve1d"
    write_csv(rows, RESULTS / f"{stem}.csv")
    write_plot(rows, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / (stem + '.csv')} and {RESULTS / (stem + '.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
