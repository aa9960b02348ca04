"""The book's execution cache is honest: a change to convlib re-executes the chapters.

jupyter-cache keys a notebook on its code cells only; ``make book`` therefore runs
``book/_ext/cache_key.py`` first, which clears the cache when convlib's source or a build
switch (``CONVLIB_STATIC``) changed. This test keeps its cost bounded (about a minute): it
builds a one-page book, with the same script and ``jupyter-book build``, against a private copy
of convlib (put first on the kernel's ``PYTHONPATH``), edits a plotting helper in the copy and
builds again: the page's figure must change. An unchanged rebuild must reuse the cache (same
figure, cache kept), so the check is not vacuous.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "book" / "_ext" / "cache_key.py"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
HELPER = Path("plotting") / "_signals.py"
LINE = "ax.plot(times, samples, label=label, color=color)"

PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# One figure

```{code-cell} ipython3
import matplotlib.pyplot as plt
import numpy as np

from convlib import plotting

plotting.plot_signal(np.arange(8.0), np.sin(np.arange(8.0)), title="a signal")
plt.show()
```
"""


@pytest.fixture()
def tiny_book(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "convlib", tmp_path / "src" / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    book = tmp_path / "book"
    book.mkdir()
    (book / "page.md").write_text(PAGE)
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "_config.yml").write_text(
        "title: cache test\n"
        "execute:\n  execute_notebooks: cache\n"
        f"  cache: {tmp_path / 'out' / '_build' / '.jupyter_cache'}\n"
        "  allow_errors: false\n"
    )
    return tmp_path


def _build(root: Path) -> tuple[bytes, str]:
    """cache_key.py, then jupyter-book build; the figure's PNG and the script's message."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "CONVLIB_STATIC": "1"}
    key = subprocess.run(
        [sys.executable, str(SCRIPT), str(root / "out" / "_build"),
         str(root / "src" / "convlib"),
         "CONVLIB_STATIC"], env=env, capture_output=True, text=True, check=True)
    build = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(root / "book"), "--path-output", str(root / "out")],
        env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    html = root / "out" / "_build" / "html"
    images = re.findall(r'<img[^>]*src="(_images/[^"]+\.png)"', (html / "page.html").read_text())
    assert len(images) == 1, f"expected the page's one figure, got {images}"
    return (html / images[0]).read_bytes(), key.stdout


def test_editing_a_plotting_helper_rebuilds_the_figure(tiny_book: Path):
    first, message = _build(tiny_book)
    again, message_again = _build(tiny_book)
    assert again == first and message_again == "", "an unchanged rebuild must reuse the cache"

    helper = tiny_book / "src" / "convlib" / HELPER
    source = helper.read_text()
    assert source.count(LINE) == 1, f"{HELPER} no longer draws with {LINE!r}"
    helper.write_text(source.replace(LINE, LINE.replace("color=color", 'color=color or "red"')))
    changed, message_changed = _build(tiny_book)
    assert "clearing" in message_changed
    assert changed != first, "the page shows the figure drawn by the old plotting helper"


def test_changing_convlib_static_clears_the_cache(tiny_book: Path):
    build = tiny_book / "out" / "_build"
    cache = build / ".jupyter_cache"
    run = [sys.executable, str(SCRIPT), str(build), str(tiny_book / "src" / "convlib"),
           "CONVLIB_STATIC"]
    subprocess.run(run, env={**os.environ, "CONVLIB_STATIC": "1"}, check=True)
    cache.mkdir()
    (cache / "marker").write_text("an executed chapter")
    subprocess.run(run, env={**os.environ, "CONVLIB_STATIC": "1"}, check=True)
    assert (cache / "marker").exists(), "the same switches must keep the cache"
    subprocess.run(run, env={**os.environ, "CONVLIB_STATIC": "0"}, check=True)
    assert not (cache / "marker").exists(), "a changed CONVLIB_STATIC must clear the cache"
