"""The book's sentences about its own outputs are checked when it builds (convlib.claims).

Editing the input of one claim must make the chapter fail. To stay cheap this executes only
chapter 1's cells up to that claim (a few seconds), with jupytext + nbclient as the build does,
once as written (it passes: the check is not vacuous) and once with the pattern hidden
elsewhere (the text's "peaks at 60 and 290" becomes false and the claim cell fails).
"""
from pathlib import Path

import jupytext
import nbclient
import pytest
from nbclient.exceptions import CellExecutionError

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "01_signals.md"
CLAIM = 'claim(found == [60, 290], "the two best peaks are at 60 and 290")'
INPUT = "for start in (60, 290):"


def _run_up_to_the_claim(replace: tuple[str, str] | None = None) -> None:
    notebook = jupytext.read(CHAPTER)
    sources = ["".join(cell.source) for cell in notebook.cells]
    last = next(i for i, source in enumerate(sources) if CLAIM in source)
    assert "remove-cell" in notebook.cells[last].metadata.get("tags", []), "claims are hidden"
    notebook.cells = notebook.cells[: last + 1]
    if replace is not None:
        old, new = replace
        edited = [cell for cell in notebook.cells if old in cell.source]
        assert len(edited) == 1, f"the claim's input {old!r} is no longer in the chapter"
        edited[0].source = edited[0].source.replace(old, new)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(CHAPTER.parent)}},
    )
    client.execute()


def test_the_chapter_as_written_satisfies_its_claim():
    _run_up_to_the_claim()


def test_moving_the_hidden_pattern_makes_the_claim_fail():
    with pytest.raises(CellExecutionError, match="the text says: the two best peaks are at 60"):
        _run_up_to_the_claim(replace=(INPUT, "for start in (60, 250):"))
