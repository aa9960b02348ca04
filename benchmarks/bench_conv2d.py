"""Benchmark: convlib's NumPy conv2d (and friends) against torch on the CPU, float32.

For CNN layer shapes, times ``convlib.conv2d`` (NumPy path, device=None) and
``torch.nn.functional.conv2d`` with torch using as many threads as the machine
has cores (numpy's OpenBLAS does the same by default), plus one shape each of
``conv_transpose2d``, ``max_pool2d`` and ``avg_pool2d``. Every timing is the
minimum over repeated runs; every result is checked against torch before it is
timed. Prints a table (ms, ratio against torch, GFLOP/s), and writes
``benchmarks/results/bench_conv2d.csv`` and ``.png``.

The target is "within 2x of torch CPU" for the conv2d layer shapes.

``--compare-openblas`` also times the NumPy path in a child process with the
other OpenBLAS kernel choice: ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` unset
(OpenBLAS picks the kernels for this CPU) if they are set here, or
``OPENBLAS_CORETYPE=Haswell`` if they are not.

Run: ``python benchmarks/bench_conv2d.py [--repeat K] [--compare-openblas]``
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # run as a script from anywhere: use this checkout's convlib
import convlib  # noqa: E402
from convlib.timing import best_time  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results"

# name, operation, input shape, weight/kernel, keyword arguments
CASES = [
    ("CNN layer N=8 C=16 32x32 O=32 k3", "conv2d", (8, 16, 32, 32), (32, 16, 3, 3), dict(padding=1)),
    ("RGB image 1x3x224x224 O=16 k5", "conv2d", (1, 3, 224, 224), (16, 3, 5, 5), dict(padding=2)),
    ("N=64 C=64 16x16 O=64 k3", "conv2d", (64, 64, 16, 16), (64, 64, 3, 3), dict(padding=1)),
    ("1x1 conv N=8 C=64 32x32 O=128", "conv2d", (8, 64, 32, 32), (128, 64, 1, 1), {}),
    ("depthwise N=8 C=64 32x32 k3", "conv2d", (8, 64, 32, 32), (64, 1, 3, 3), dict(padding=1, groups=64)),
    ("stride 2 N=8 C=32 64x64 O=64 k3", "conv2d", (8, 32, 64, 64), (64, 32, 3, 3), dict(padding=1, stride=2)),
    ("transposed N=8 C=64 16x16 O=32 k3 s2", "conv_transpose2d", (8, 64, 16, 16), (64, 32, 3, 3),
     dict(stride=2, padding=1, output_padding=1)),
    ("max pool N=8 C=64 64x64 k2", "max_pool2d", (8, 64, 64, 64), 2, {}),
    ("avg pool N=8 C=64 64x64 k3 s2 p1", "avg_pool2d", (8, 64, 64, 64), 3, dict(stride=2, padding=1)),
]
CONV2D_TARGET = 2.0


def flops(op: str, x_shape, weight_shape, out_shape) -> float | None:
    """Multiply-adds x2 of a convolution (None for pooling)."""
    if op == "conv2d":
        return 2.0 * np.prod(out_shape) * np.prod(weight_shape[1:])
    if op == "conv_transpose2d":
        return 2.0 * np.prod(x_shape) * np.prod(weight_shape[1:])
    return None


def make_inputs() -> list[tuple]:
    """The same float32 data for every run: (x, weight or kernel_size) per case."""
    rng = np.random.default_rng(0)
    inputs = []
    for _, _, x_shape, weight, _ in CASES:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        if isinstance(weight, tuple):
            weight = rng.standard_normal(weight, dtype=np.float32)
        inputs.append((x, weight))
    return inputs


def time_numpy_path(repeat: int) -> tuple[list[dict], list[np.ndarray]]:
    """convlib's NumPy path for every case: timings and results (torch is not imported yet,
    so its OpenMP threads cannot spin beside the ones of OpenBLAS)."""
    rows, results = [], []
    for (name, op, x_shape, weight_shape, kwargs), (x, weight) in zip(CASES, make_inputs()):
        function = getattr(convlib, op)
        results.append(function(x, weight, **kwargs))
        seconds = best_time(lambda: function(x, weight, **kwargs), repeat=repeat, budget=0.05)
        rows.append(dict(case=name, op=op, convlib_ms=1e3 * seconds,
                         flops=flops(op, x_shape, weight_shape, results[-1].shape)))
    return rows, results


def time_torch(repeat: int, numpy_results: list[np.ndarray]) -> list[float]:
    """torch.nn.functional for every case, after checking convlib's results against it."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    times = []
    with torch.no_grad():
        for (name, op, _, _, kwargs), (x, weight), got in zip(CASES, make_inputs(), numpy_results):
            x = torch.from_numpy(x)
            weight = torch.from_numpy(weight) if isinstance(weight, np.ndarray) else weight
            function = getattr(torch.nn.functional, op)
            expected = function(x, weight, **kwargs).numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max(),
                                       err_msg=f"convlib differs from torch for {name}")
            times.append(1e3 * best_time(lambda: function(x, weight, **kwargs), repeat=repeat, budget=0.05))
    return times


def other_openblas_setting() -> tuple[str, dict]:
    """The label and environment of the OpenBLAS kernel choice this process does not use."""
    env = dict(os.environ)
    if env.get("OPENBLAS_CORETYPE"):
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            env.pop(name, None)
        return "OpenBLAS auto", env
    env["OPENBLAS_CORETYPE"] = "Haswell"
    return "OB Haswell", env


def other_openblas_times(repeat: int) -> list[float]:
    """The NumPy path again, in a child process with the other OpenBLAS kernel choice."""
    _, env = other_openblas_setting()
    child = subprocess.run([sys.executable, __file__, "--numpy-json", "--repeat", str(repeat)],
                           env=env, capture_output=True, text=True, check=True)
    return [row["convlib_ms"] for row in json.loads(child.stdout)]


def print_table(rows: list[dict]) -> None:
    has_other = "convlib_other_openblas_ms" in rows[0]
    header = f"{'case':40s} {'convlib ms':>10s} {'torch ms':>9s} {'ratio':>6s} {'GFLOP/s np/torch':>17s}"
    if has_other:
        header += f" {'np ms, ' + other_openblas_setting()[0]:>20s} {'ratio':>6s}"
    print(header)
    print("-" * len(header))
    for row in rows:
        gflops = ""
        if row["flops"]:
            gflops = f"{row['flops'] / row['convlib_ms'] / 1e6:7.0f} /{row['flops'] / row['torch_ms'] / 1e6:6.0f}"
        line = (f"{row['case']:40s} {row['convlib_ms']:10.3f} {row['torch_ms']:9.3f} "
                f"{row['ratio']:6.2f} {gflops:>17s}")
        if has_other:
            other = row["convlib_other_openblas_ms"]
            line += f" {other:20.3f} {other / row['torch_ms']:6.2f}"
        print(line)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    positions = np.arange(len(rows))
    ax.barh(positions, [r["ratio"] for r in rows], color="tab:blue", label="convlib (NumPy) / torch")
    if "convlib_other_openblas_ms" in rows[0]:
        ax.plot([r["convlib_other_openblas_ms"] / r["torch_ms"] for r in rows], positions, "o",
                color="tab:orange", label=f"convlib, {other_openblas_setting()[0]}")
    ax.axvline(1.0, color="black", lw=1)
    ax.axvline(CONV2D_TARGET, color="tab:red", ls="--", label=f"target {CONV2D_TARGET:g}x (conv2d)")
    ax.set_yticks(positions, [r["case"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("time relative to torch CPU (lower is better)")
    ax.set_title(f"convlib vs torch {_torch_version()}, float32, {os.cpu_count()} cores")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _torch_version() -> str:
    import torch

    return torch.__version__


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="minimum runs per timing (default 15)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate NumPy and torch timings this many times, keep the minimum "
                             "(other processes on the machine make single rounds noisy; default 3)")
    parser.add_argument("--compare-openblas", action="store_true",
                        help="also time NumPy with OpenBLAS choosing its own kernels")
    parser.add_argument("--numpy-json", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.numpy_json:  # child process of --compare-openblas
        print(json.dumps(time_numpy_path(options.repeat)[0]))
        return

    rows, results = time_numpy_path(options.repeat)
    for round_index in range(options.rounds):
        if round_index:
            for row, again in zip(rows, time_numpy_path(options.repeat)[0]):
                row["convlib_ms"] = min(row["convlib_ms"], again["convlib_ms"])
        time.sleep(0.5)  # let idle BLAS/OpenMP threads stop spinning before the other side runs
        for row, torch_ms in zip(rows, time_torch(options.repeat, results)):
            row["torch_ms"] = min(row.get("torch_ms", torch_ms), torch_ms)
        time.sleep(0.5)
    for row in rows:
        row["ratio"] = row["convlib_ms"] / row["torch_ms"]
    if options.compare_openblas:
        for row, other_ms in zip(rows, other_openblas_times(options.repeat)):
            row["convlib_other_openblas_ms"] = other_ms
    from convlib import _nn_conv

    print(f"numpy {np.__version__}, torch {_torch_version()}, {os.cpu_count()} cores, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"convlib conv2d tile threads: {_nn_conv._parallel_workers()}; "
          f"min of >= {options.repeat} runs x {options.rounds} rounds")
    print_table(rows)
    conv_rows = [r for r in rows if r["op"] == "conv2d"]
    missed = [r["case"] for r in conv_rows if r["ratio"] > CONV2D_TARGET]
    print(f"\nconv2d within {CONV2D_TARGET:g}x of torch: {len(conv_rows) - len(missed)}/{len(conv_rows)}"
          + (f"; missed: {', '.join(missed)}" if missed else ""))

    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "bench_conv2d.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, RESULTS / "bench_conv2d.png")
    print(f"wrote {RESULTS / 'bench_conv2d.csv'} and {RESULTS / 'bench_conv2d.png'}")


if __name__ == "__main__":
    main()
