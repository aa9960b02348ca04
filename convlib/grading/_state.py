"""Process-wide grading state: set in the sandbox's child processes only."""
from __future__ import annotations

# True in a sandboxed child: convlib.grading.check() is then a silent no-op, because the
# trusted grader, not the student's process, decides the score.
IN_SANDBOX = False

# the public seed of the cases' random generator in a student's notebook; autograde
# uses the instructor's secret seed instead (see convlib.grading.engine.grading_seed)
PUBLIC_SEED = 0
