"""Peak memory and time of convolve2d on a huge image: convlib against scipy.signal.

The issue's case is a 268435 x 1000 int64 image (2.1 GB) with a small kernel;
scipy needs the input plus the output (4.3 GB). Each library runs in a fresh
subprocess, so its peak resident memory (``ru_maxrss``) is its own; the table
gives both peaks and times side by side, and the ratios convlib / scipy.

Usage::

    python benchmarks/bench_convolve2d_large.py            # 1/4 of the issue's rows
    python benchmarks/bench_convolve2d_large.py --fraction 1   # the full 268435 rows (~9 GB free needed)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

ROWS, COLS = 268_435, 1_000

_CHILD = r"""
import json, resource, sys, time
import numpy as np
rows, cols, library, mode, boundary = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
if library == "scipy":
    from scipy.signal import convolve2d
else:
    from convlib import convolve2d
image = np.random.default_rng(0).integers(-100, 100, size=(rows, cols), dtype=np.int64)
kernel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.int64)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
out = convolve2d(image, kernel, mode, boundary)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
check = int(out[:: max(1, rows // 7), :5].sum())
print(json.dumps({"seconds": seconds, "peak_kib": peak, "before_kib": before, "check": check}))
"""


def run(rows: int, library: str, mode: str, boundary: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _CHILD, str(rows), str(COLS), library, mode, boundary],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.25, help="share of the issue's 268435 rows")
    args = parser.parse_args()
    rows = max(16, int(ROWS * args.fraction))
    print(f"convolve2d of a {rows} x {COLS} int64 image ({rows * COLS * 8 / 1e9:.2f} GB) with a 3x3 "
          "int64 kernel; each run in its own process")
    print(f"{'mode':>5} {'boundary':>8} | {'scipy s':>8} {'convlib s':>9} {'time ratio':>10} | "
          f"{'scipy GB':>8} {'convlib GB':>10} {'peak ratio':>10}")
    for mode, boundary in (("same", "fill"), ("full", "symm"), ("valid", "fill")):
        peer = run(rows, "scipy", mode, boundary)
        ours = run(rows, "convlib", mode, boundary)
        if peer["check"] != ours["check"]:
            raise SystemExit(f"results differ for mode={mode}, boundary={boundary}")
        print(f"{mode:>5} {boundary:>8} | {peer['seconds']:8.2f} {ours['seconds']:9.2f} "
              f"{ours['seconds'] / peer['seconds']:10.2f} | {peer['peak_kib'] / 1e6 * 1.024:8.2f} "
              f"{ours['peak_kib'] / 1e6 * 1.024:10.2f} {ours['peak_kib'] / peer['peak_kib']:10.3f}")


if __name__ == "__main__":
    main()
