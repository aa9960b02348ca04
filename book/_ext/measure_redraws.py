"""Time one live redraw of every interactive cell of the book (the kernel path of ``explore``).

Runs each chapter's code cells in order (matplotlib's Agg backend, ``CONVLIB_STATIC`` unset),
with ``convlib.widgets.explore`` replaced by a recorder, then times each recorded cell with
``convlib.widgets.time_redraw`` (``draw`` at the default values plus the PNG encoding: what a
reader waits for after moving a control). Prints a Markdown table; the chapters aim for < 100 ms.

Usage: ``python book/_ext/measure_redraws.py [book/01_signals.md ...]`` from the repository root.
"""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

os.environ.pop("CONVLIB_STATIC", None)
os.environ["MPLBACKEND"] = "Agg"


def main(paths: list[Path]) -> None:
    import jupytext
    import matplotlib.pyplot as plt

    import convlib.widgets as widgets

    rows = []
    for path in paths:
        recorded = []

        def recorder(draw, /, *, static=None, play=False, dpi=80, max_frames=150, **params):
            recorded.append((draw, dpi, params))

        original = widgets.explore
        widgets.explore = recorder
        namespace: dict = {"__name__": "__main__"}
        cwd = os.getcwd()
        os.chdir(path.parent)
        started = time.perf_counter()
        try:
            for cell in jupytext.read(path).cells:
                if cell.cell_type != "code" or cell.source.lstrip().startswith(("%", "!")):
                    continue
                exec(compile(cell.source, f"{path.name}", "exec"), namespace)
                plt.close("all")
        finally:
            os.chdir(cwd)
            widgets.explore = original
        run_seconds = time.perf_counter() - started
        for index, (draw, dpi, params) in enumerate(recorded, start=1):
            resolved = {k: v if isinstance(v, widgets.Param) else widgets.Param(v) for k, v in params.items()}
            frames = math.prod(len(p.values) for p in resolved.values())
            seconds = widgets.time_redraw(draw, repeat=5, dpi=dpi, **params)
            cpu_start = time.process_time()  # CPU time: what the wall time would be on an idle machine
            for _ in range(3):
                widgets.render_png(draw(**{k: p.default for k, p in resolved.items()}), dpi=dpi,
                                   compress_level=1)
            cpu = (time.process_time() - cpu_start) / 3
            shape = " x ".join(f"{name}[{len(p.values)}]" for name, p in resolved.items())
            rows.append((path.stem, index, shape, frames, seconds * 1e3, cpu * 1e3, frames * seconds))
        print(f"# {path.stem}: {len(recorded)} interactive cells, chapter code ran in {run_seconds:.1f} s",
              file=sys.stderr)
    print("| chapter | cell | parameters | frames | one redraw, wall (ms) | one redraw, CPU (ms) "
          "| all frames, est. (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for chapter, index, shape, frames, ms, cpu_ms, total in rows:
        print(f"| {chapter} | {index} | {shape} | {frames} | {ms:.0f} | {cpu_ms:.0f} | {total:.1f} |")


if __name__ == "__main__":
    chosen = [Path(p) for p in sys.argv[1:]] or sorted(Path("book").glob("0[0-9]_*.md"))
    sys.path.insert(0, os.getcwd())
    main([p.resolve() for p in chosen])
