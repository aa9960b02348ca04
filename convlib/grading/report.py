"""The class report: score distributions and the most common diagnosed mistakes.

``python -m convlib.grading.report [--root .] [--out DIR]`` reads the scores from
nbgrader's gradebook (the database ``nbgrader`` uses: ``gradebook.db`` at the course
root or ``$NBGRADER_DB_URL``, see :mod:`convlib.grading.gradebook`) and the diagnoses from ``grading_results/`` (written by the
trusted grader for every autograded notebook) and writes, into ``DIR`` (default
``grading_results/report``): ``scores.csv`` (one row per submission),
``mistakes.csv`` (assignment, function, mistake, number of students),
``summary.md`` (both as markdown tables) and ``report.png`` (the score histogram of
each assignment and the most common mistakes).
"""
from __future__ import annotations

import argparse
import csv
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .gradebook import database_url
from .results import RESULTS_DIRECTORY

__all__ = ["ClassReport", "collect", "main", "write_report"]

# labels that describe the grading rather than a mistake
_NOT_MISTAKES = {"not run", "grader error", "infrastructure error"}


@dataclass
class ClassReport:
    """Scores per assignment and mistake counts, ready to be written out."""

    scores: dict[str, list[tuple[str, float, float]]]  # assignment -> (student, score, max)
    mistakes: Counter  # (assignment, function, label) -> number of students
    # (assignment, student) -> why the notebook is withheld for review; sandbox levels used
    flagged: dict = field(default_factory=dict)
    isolation: set = field(default_factory=set)

    def summary_rows(self) -> list[dict[str, object]]:
        rows = []
        for assignment, entries in sorted(self.scores.items()):
            values = [score for _, score, _ in entries]
            maximum = max((m for _, _, m in entries), default=0.0)
            rows.append({
                "assignment": assignment, "submissions": len(values), "max_score": maximum,
                "mean": round(statistics.fmean(values), 2) if values else 0.0,
                "median": round(statistics.median(values), 2) if values else 0.0,
                "min": min(values, default=0.0), "max": max(values, default=0.0),
            })
        return rows

    def top_mistakes(self, count: int = 15) -> list[tuple[str, str, str, int]]:
        ordered = sorted(self.mistakes.items(), key=lambda item: (-item[1], item[0]))
        return [(a, f, label, n) for (a, f, label), n in ordered[:count]]


def _diagnoses(root: Path, assignment: str, report: "ClassReport | None" = None) -> Counter:
    from .results import ResultStore

    counts: Counter = Counter()
    for student, _, result in ResultStore(root, assignment).results():
        if report is not None:
            report.isolation.add(result.isolation)
            if result.flagged:
                report.flagged[(assignment, student)] = list(result.flagged)
        for function, verdict in sorted(result.functions.items()):
            for label in verdict.labels:
                if label not in _NOT_MISTAKES:
                    counts[(assignment, function, label)] += 1
    return counts


def collect(root: str | Path, *, db_url: str | None = None) -> ClassReport:
    """Read the gradebook at the course ``root`` and the stored diagnoses.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     report = collect(root)
    >>> report.scores, dict(report.mistakes)
    ({}, {})
    """
    from nbgrader.api import Gradebook

    root = Path(root)
    db_url = db_url or database_url(root)
    scores: dict[str, list[tuple[str, float, float]]] = {}
    mistakes: Counter = Counter()
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).exists():
        return ClassReport(scores, mistakes)
    report = ClassReport(scores, mistakes)
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            entries = []
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                entries.append((submission.student.id, round(float(submission.score), 2),
                                float(submission.max_score)))
            scores[assignment.name] = entries
            mistakes.update(_diagnoses(root, assignment.name, report))
    return report


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(report: ClassReport, out: str | Path) -> list[Path]:
    """Write ``scores.csv``, ``mistakes.csv``, ``summary.md`` and ``report.png`` into ``out``.

    Examples
    --------
    >>> import tempfile
    >>> report = ClassReport({"hw1": [("ada", 9.5, 10.0), ("bob", 6.0, 10.0)]},
    ...                      Counter({("hw1", "convolve", "kernel not flipped"): 1}))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = write_report(report, out)
    ...     rows = (Path(out) / "mistakes.csv").read_text().splitlines()
    >>> [path.name for path in paths]
    ['scores.csv', 'mistakes.csv', 'summary.md', 'report.png']
    >>> rows[1]
    'hw1,convolve,kernel not flipped,1'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scores.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["assignment", "student", "score", "max_score"])
        for assignment, entries in sorted(report.scores.items()):
            writer.writerows([assignment, *entry] for entry in entries)
    with open(out / "mistakes.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["assignment", "function", "mistake", "students"])
        writer.writerows(report.top_mistakes(count=10**6))
    summary = report.summary_rows()
    levels = ", ".join(repr(level) for level in sorted(report.isolation)) or "unknown"
    text = ["# Class report", "", f"Graded in the {levels} sandbox.", "", "## Scores", ""]
    text.append(_markdown_table(list(summary[0]) if summary else ["assignment"],
                                [list(row.values()) for row in summary]))
    if report.flagged:
        text += ["", "## Withheld: flagged for review (0 points until an instructor reviews them)", ""]
        text.append(_markdown_table(["assignment", "student", "why"],
                                    [(a, student, ", ".join(why)) for (a, student), why in sorted(report.flagged.items())]))
    text += ["", "## Most common diagnosed mistakes", ""]
    text.append(_markdown_table(["assignment", "function", "mistake", "students"], report.top_mistakes()))
    (out / "summary.md").write_text("\n".join(text) + "\n")

    assignments = sorted(report.scores)
    columns = max(len(assignments), 1)
    figure, axes = plt.subplots(2, columns, figsize=(4 * columns + 2, 7), squeeze=False)
    for column, assignment in enumerate(assignments):
        values = [score for _, score, _ in report.scores[assignment]]
        maximum = max((m for _, _, m in report.scores[assignment]), default=1.0) or 1.0
        axis = axes[0][column]
        axis.hist(values, bins=min(20, max(5, len(values))), range=(0, maximum), color="#4477aa")
        axis.set_title(f"{assignment}: {len(values)} submissions")
        axis.set_xlabel(f"score (out of {maximum:g})")
        axis.set_ylabel("students")
    for column in range(1, columns):
        axes[1][column].remove()
    bottom = axes[1][0]
    if columns > 1:
        bottom.remove()
        bottom = figure.add_subplot(2, 1, 2)
    top = report.top_mistakes(10)
    if top:
        labels = [f"{a} {f}: {label}" for a, f, label, _ in reversed(top)]
        bottom.barh(labels, [n for *_, n in reversed(top)], color="#cc6677")
        bottom.set_xlabel("students")
        bottom.set_title("Most common diagnosed mistakes")
    else:
        bottom.text(0.5, 0.5, "no diagnosed mistakes", ha="center", va="center")
        bottom.set_axis_off()
    figure.tight_layout()
    figure.savefig(out / "report.png", dpi=100)
    plt.close(figure)
    return [out / name for name in ("scores.csv", "mistakes.csv", "summary.md", "report.png")]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the class report of the course at ``--root``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     code = main(["--root", root, "--out", root])
    /.../scores.csv
    /.../mistakes.csv
    /.../summary.md
    /.../report.png
    >>> code
    0
    """
    parser = argparse.ArgumentParser(prog="python -m convlib.grading.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=".", help="the course root (where nbgrader_config.py is)")
    parser.add_argument("--db-url", default=None,
                        help="the gradebook's database URL (default: $NBGRADER_DB_URL, else ROOT/gradebook.db)")
    parser.add_argument("--out", default=None, help="output folder (default grading_results/report)")
    args = parser.parse_args(argv)
    report = collect(args.root, db_url=args.db_url)
    out = Path(args.out) if args.out else Path(args.root) / RESULTS_DIRECTORY / "report"
    for path in write_report(report, out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
