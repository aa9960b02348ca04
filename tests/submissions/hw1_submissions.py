"""Synthetic hw1 submissions: a correct one, one per classic mistake, one per hostile case.

Each submission is the release notebook with some solution cells replaced (and, for
some, extra cells or a damaged notebook). Every function's cell is self-contained
(it defines its own private ``_full`` helper) so that a mistake or an attack in one
function does not leak into the others: the expected score of the others is full.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

FUNCTIONS = ("convolve_full", "convolve", "correlate", "poly_multiply")
POINTS = {"convolve_full": 2.0, "convolve": 3.0, "correlate": 3.0, "poly_multiply": 2.0}

_FULL = '''
import numpy as np

def _full(x, h):
    x = np.asarray(x)
    h = np.asarray(h)
    y = np.zeros(len(x) + len(h) - 1, dtype=np.result_type(x, h, float))
    for k in range(len(h)):
        y[k : k + len(x)] += h[k] * x
    return y
'''

_WINDOW = '''
def _window(full, n, m, mode, start=None):
    longest, shortest = max(n, m), min(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (shortest - 1) // 2 if start is None else start
        return full[start : start + longest]
    return full[shortest - 1 : longest]
'''

CORRECT = {
    "convolve_full": _FULL + "\ndef convolve_full(x, h):\n    return _full(x, h)\n",
    "convolve": _FULL + _WINDOW + "\ndef convolve(x, h, mode='full'):\n    return _window(_full(x, h), len(x), len(h), mode)\n",
    "correlate": _FULL + _WINDOW + '''
def correlate(x, h, mode="valid"):
    n, m = len(x), len(h)
    start = (m - 1) // 2 if n >= m else n // 2
    return _window(_full(x, np.conj(np.asarray(h))[::-1]), n, m, mode, start)
''',
    "poly_multiply": _FULL + "\ndef poly_multiply(p, q):\n    return _full(p, q)\n",
}

# classic mistakes: (function, source, the diagnosis the feedback must name)
MISTAKES = {
    "kernel_not_flipped": ("convolve_full", '''
import numpy as np
def convolve_full(x, h):
    x, h = np.asarray(x), np.asarray(h)
    y = np.zeros(len(x) + len(h) - 1, dtype=np.result_type(x, h, float))
    for k in range(len(h)):
        y[k : k + len(x)] += h[len(h) - 1 - k] * x
    return y
''', "kernel not flipped"),
    "circular": ("convolve_full", '''
import numpy as np
def convolve_full(x, h):
    n = max(len(x), len(h))
    y = np.fft.ifft(np.fft.fft(x, n) * np.fft.fft(h, n))
    return y if np.iscomplexobj(x) or np.iscomplexobj(h) else y.real
''', "circular instead of linear convolution"),
    "last_sample_missing": ("convolve_full", CORRECT["convolve_full"].replace(
        "return _full(x, h)", "return _full(x, h)[:-1]"), "wrong output shape: last sample missing"),
    "same_off_by_one": ("convolve", _FULL + _WINDOW + '''
def convolve(x, h, mode="full"):
    return _window(_full(x, h), len(x), len(h), mode, start=min(len(x), len(h)) // 2)
''', "'same' window off by one"),
    "mode_ignored": ("convolve", _FULL + "\ndef convolve(x, h, mode='full'):\n    return _full(x, h)\n",
                     "mode ignored"),
    "conjugate_missing": ("correlate", CORRECT["correlate"].replace("np.conj(np.asarray(h))", "np.asarray(h)"),
                          "conjugate missing"),
    "zeros_trimmed": ("poly_multiply", _FULL + '''
def poly_multiply(p, q):
    return np.trim_zeros(_full(p, q), "b")
''', "wrong output shape: zero coefficients trimmed"),
}

# hostile or broken submissions: function -> source, plus extra cells / damage, and the
# expected verdict: {function: (score, label or None)}; unlisted functions score full.
HOSTILE = {
    "infinite_loop": {"functions": {"correlate": "def correlate(x, h, mode='valid'):\n    while True:\n        pass\n"},
                      "expect": {"correlate": (0.0, "time limit exceeded")}},
    "kills_kernel": {"functions": {"poly_multiply": "import os\ndef poly_multiply(p, q):\n    os._exit(1)\n"},
                     "expect": {"poly_multiply": (0.0, "process killed")}},
    "runaway_allocation": {"functions": {"correlate": "def correlate(x, h, mode='valid'):\n    return [0.0] * 10**12\n"},
                           "expect": {"correlate": (0.0, "memory limit exceeded")}},
    "forbidden_static": {"functions": {"poly_multiply": "import numpy as np\ndef poly_multiply(p, q):\n    return np.convolve(p, q)\n"},
                         "expect": {"poly_multiply": (0.0, "forbidden call")}},
    "forbidden_dynamic": {"functions": {"poly_multiply": "import numpy as np\ndef poly_multiply(p, q):\n"
                                        "    return getattr(np, 'con' + 'volve')(p, q)\n"},
                          "expect": {"poly_multiply": (0.0, "forbidden call")}},
    "forbidden_hidden_in_helper": {"functions": {"convolve_full": "import numpy\nfrom scipy import signal as s\n"
                                                 "def _helper(a, b):\n    return s.fftconvolve(a, b)\n"
                                                 "def convolve_full(x, h):\n    return _helper(x, h)\n"},
                                   "expect": {"convolve_full": (0.0, "forbidden call")}},
    "monkeypatches_numpy": {"functions": {"correlate": CORRECT["correlate"].replace(
        'def correlate(x, h, mode="valid"):\n',
        'def correlate(x, h, mode="valid"):\n    np.allclose = lambda *args, **kwargs: True\n    np.isclose = np.allclose\n')},
                            "expect": {"correlate": (0.0, "modified a library")}},
    "patches_checks_at_top_level": {"extra": ["import convlib.grading\nconvlib.grading.check = lambda *a, **k: 3.0\n"
                                              "import numpy\nnumpy.isclose = lambda *a, **k: True\n"],
                                    "expect": {}},
    "prints_to_stderr": {"functions": {"convolve": CORRECT["convolve"].replace(
        "def convolve(x, h, mode='full'):\n", "import sys\ndef convolve(x, h, mode='full'):\n"
        "    print('warning: slow', file=sys.stderr)\n    import warnings; warnings.warn('careful')\n")},
                         "expect": {}},
    "kills_kernel_at_top_level": {"extra": ["import os\nos._exit(0)\n"], "expect": {}},
    "edits_locked_test_cell": {"functions": {"convolve_full": "import numpy as np\ndef convolve_full(x, h):\n"
                                             "    return np.zeros(len(x) + len(h) - 1)\n"},
                               "edit_test": ("test_convolve_full", "print('all good')\n2.0"),
                               "expect": {"convolve_full": (0.0, "wrong values")}},
    "deleted_test_cell": {"delete": "test_correlate", "expect": {}},
    "syntax_error": {"functions": {"convolve": "def convolve(x, h, mode='full':\n    return x\n"},
                     "expect": {"convolve": (0.0, "function not defined")}},
}


def fill(release: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the release with the solution cell of each function replaced."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        function = grade_id.removesuffix("_impl")
        if grade_id.endswith("_impl") and function in sources:
            cell.source = sources[function].strip("\n")
    return nb


def build(release: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode | str:
    """The submission called ``name`` (a notebook, or a string for a malformed file)."""
    if name == "correct":
        return fill(release, CORRECT)
    if name == "unchanged_release":
        return copy.deepcopy(release)
    if name == "malformed_json":
        return json.dumps(release)[:-200] + "{not json"
    if name in MISTAKES:
        function, source, _ = MISTAKES[name]
        return fill(release, {**CORRECT, function: source})
    spec = HOSTILE[name]
    nb = fill(release, {**CORRECT, **spec.get("functions", {})})
    for source in spec.get("extra", []):
        nb.cells.append(nbformat.v4.new_code_cell(source))
    if "edit_test" in spec:
        grade_id, source = spec["edit_test"]
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
                cell.source = source
    if "delete" in spec:
        nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != spec["delete"]]
    return nb


NAMES = ("correct", "unchanged_release", "malformed_json", *MISTAKES, *HOSTILE)


def write_submissions(release_path: Path, submitted: Path, names=NAMES, *, copies: int = 1) -> list[str]:
    """Write ``submitted/<student>/hw1/hw1.ipynb`` for each name; return the student IDs."""
    release = nbformat.read(str(release_path), as_version=4)
    students = []
    for copy_index in range(copies):
        for name in names:
            student = name if copies == 1 else f"{name}-{copy_index:03d}"
            folder = submitted / student / "hw1"
            folder.mkdir(parents=True, exist_ok=True)
            content = build(release, name)
            if isinstance(content, str):
                (folder / "hw1.ipynb").write_text(content)
            else:
                nbformat.write(content, str(folder / "hw1.ipynb"))
            students.append(student)
    return students


# ----------------------------------------------------------------------------- expected scores

import numpy as np  # noqa: E402

ORACLES = {
    "convolve_full": lambda x, h: np.convolve(x, h),
    "convolve": lambda x, h, mode="full": np.convolve(x, h, mode),
    "correlate": lambda x, h, mode="valid": np.correlate(x, h, mode),
    "poly_multiply": lambda p, q: np.convolve(p, q),
}


def oracle_score(function: str, source: str, cases) -> float:
    """The score ``source``'s ``function`` deserves: numpy is the oracle (independent of the grader)."""
    namespace: dict = {}
    exec(source, namespace)
    implementation = namespace[function]
    passed = 0
    for case in cases:
        want = ORACLES[function](*case.args, **case.kwargs)
        try:
            got = np.asarray(implementation(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))
        except Exception:
            continue
        passed += got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-7, atol=1e-9))
    return round(POINTS[function] * passed / len(cases), 2)


def expected_scores(name: str, cases: dict) -> dict[str, float]:
    """``function -> score`` a submission must get (``cases``: the grader's cases per function)."""
    if name == "unchanged_release":
        return {f: 0.0 for f in FUNCTIONS}
    scores = {f: POINTS[f] for f in FUNCTIONS}
    if name in MISTAKES:
        function, source, _ = MISTAKES[name]
        scores[function] = oracle_score(function, source, cases[function])
    elif name in HOSTILE:
        scores.update({f: score for f, (score, _) in HOSTILE[name]["expect"].items()})
    return scores
