"""The PDF edition: `make pdf` builds the whole book with Jupyter Book's LaTeX builder (XeLaTeX).

Checked with poppler's tools (``make tex`` installs them with TeX): the PDF has every chapter's
title in its text, every figure of the executed chapters embedded (interactive figures as
their default frame, with a note), no unresolved reference ("??"), and XeLaTeX reported no
error, no missing glyph and no line that runs off the page. The execution cache that
`make book` fills makes the build take about a minute.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LATEX = ROOT / "_build" / "latex"
PDF_NAME = "convolution-course.pdf"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("0[0-9]_*.md"))
NOTE = "Interactive figure, shown at its default setting"
TOO_WIDE_PT = 10.0  # an overfull line wider than this visibly runs into the margin


@pytest.fixture(scope="module")
def pdf() -> Path:
    # -o: the venv that runs this test is installed; never let `make` reinstall it from here
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "pdf"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, (
        "`make pdf` failed:\n" + result.stdout[-8000:] + result.stderr[-4000:]
    )
    path = LATEX / PDF_NAME
    assert path.is_file(), f"`make pdf` succeeded but {path} is missing"
    return path


@pytest.fixture(scope="module")
def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def log(pdf: Path) -> str:
    return pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")


def _flat(value: str) -> str:
    return " ".join(value.split()).lower()


def _title(chapter: str) -> str:
    in_code = False
    for line in (ROOT / "book" / f"{chapter}.md").read_text().splitlines():
        in_code = in_code != line.startswith("```")
        if not in_code and line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{chapter}.md has no '# ' title")


def _figures(chapter: str) -> tuple[int, int]:
    """(figures, interactive figures) of the chapter as executed for the build.

    The outputs come from the build's execution cache (jupyter-cache, ``_build/.jupyter_cache``),
    the record matching the chapter's code; cells tagged to hide their output are skipped.
    """
    import jupytext
    from jupyter_cache import get_cache

    cache = get_cache(ROOT / "_build" / ".jupyter_cache")
    record = cache.match_cache_notebook(jupytext.read(ROOT / "book" / f"{chapter}.md"))
    # a glued figure (myst_nb's glue) shows where a {glue:figure} directive places it,
    # not in the cell that computed it
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    figures, interactive = source.count("```{glue:figure}"), 0
    for cell in cache.get_cache_bundle(record.pk).nb.cells:
        if {"remove-output", "remove-cell"} & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "scrapbook" in output.get("metadata", {}):
                continue
            if 'class="convlib-explore"' in "".join(data.get("text/html", "")):
                interactive += 1
            elif "image/png" in data:
                figures += 1
    return figures + interactive, interactive


def test_pdf_copy_is_served_by_the_site(pdf):
    served = ROOT / "_build" / "html" / PDF_NAME
    assert served.read_bytes() == pdf.read_bytes(), "the site would link a stale PDF"


def test_pdf_has_every_chapter_title(text):
    flat = _flat(text)
    missing = [c for c in CHAPTERS if _flat(_title(c)) not in flat]
    assert not missing, f"chapter titles missing from the PDF's text: {[_title(c) for c in missing]}"


def test_every_figure_is_embedded(pdf, text):
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    embedded = sum(1 for row in listing if row.split()[2] == "image")
    counts = [_figures(c) for c in CHAPTERS]
    figures, interactive = sum(f for f, _ in counts), sum(i for _, i in counts)
    assert figures > 0 and interactive > 0, "no figures counted: the check would be vacuous"
    assert embedded == figures, f"{figures} figures in the chapters, {embedded} images in the PDF"
    assert _flat(text).count(_flat(NOTE)) == interactive, (
        "every interactive figure prints its default frame with a note that the site has it live"
    )


def test_no_unresolved_references(text, log):
    assert "??" not in text
    assert not re.search(r"Reference `[^']*' on page \d+ undefined", log)
    assert "There were undefined references" not in log


def test_no_latex_errors_and_no_missing_glyphs(log):
    errors = [line for line in log.splitlines() if line.startswith("! ")]
    assert not errors, f"LaTeX errors: {errors[:10]}"
    missing = sorted(set(re.findall(r"Missing character: There is no (.) \((U\+[0-9A-F]+)\)", log)))
    assert not missing, f"glyphs the fonts lack (they print as nothing): {missing}"


def test_no_line_runs_off_the_page(log):
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    too_wide = [w for w in widths if w > TOO_WIDE_PT]
    assert not too_wide, (
        f"{len(too_wide)} lines run {max(too_wide):.0f}pt past the margin "
        "(look for 'Overfull \\hbox' in _build/latex/convolution-course.log)"
    )
