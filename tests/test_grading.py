"""Unit tests of convlib.grading: values on the wire, comparison, forbidden calls, check()."""
from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from convlib.grading import _state, check
from convlib.grading._forbidden import matches, scan, strip_magics
from convlib.grading._values import DecodeError, Opaque, TensorData, decode, encode, to_plain
from convlib.grading.compare import distinct_texts, find_mismatch, value_code
from convlib.grading.spec import load_assignment

HW1 = load_assignment("hw1")


# ----------------------------------------------------------------------------- values


def test_encode_decode_round_trips_plain_data():
    value = (np.arange(6, dtype=np.int16).reshape(2, 3), np.array([1 + 2j, -3j]), np.array([True, False]),
             [1.5, None, "same", 2**70, 3 - 4j], {"mode": "valid"},
             TensorData(np.ones((2, 2), np.float32), "cuda:0", "torch.float32", True),
             Opaque("generator", "<generator object f>"))
    back = decode(encode(value))
    assert isinstance(back, tuple) and len(back) == len(value)
    for want, got in zip(value[:3], back[:3]):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert back[3] == value[3] and back[4] == value[4]
    assert back[5].device == "cuda:0" and back[5].dtype == "torch.float32" and back[5].requires_grad
    assert np.array_equal(back[5].array, value[5].array)
    assert back[6] == value[6]


def test_decode_refuses_pickled_objects():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    header = json.dumps({"t": "array", "i": 0}).encode()
    data = struct.pack("!II", len(header), 1) + header + struct.pack("!Q", len(blob)) + blob
    with pytest.raises(DecodeError):
        decode(data)


def test_decode_refuses_garbage():
    with pytest.raises(DecodeError):
        decode(b"\x00\x00\x00\x05\x00\x00\x00\x00{not")


def test_to_plain_keeps_no_student_objects():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    sneaky = np.arange(3.0).view(Sneaky)
    plain = to_plain(sneaky)
    assert type(plain) is np.ndarray and np.array_equal(plain, [0.0, 1.0, 2.0])
    assert isinstance(to_plain(object()), Opaque)
    assert isinstance(to_plain(np.array(["a"])), Opaque)
    assert to_plain(np.float64(2.5)) == 2.5 and type(to_plain(np.int64(3))) is int


# ----------------------------------------------------------------------------- comparison


@pytest.mark.parametrize("expected, actual, label", [
    (np.arange(3.0), np.arange(4.0), "wrong output shape"),
    (np.array([1 + 1j, 2]), np.array([1.0, 2.0]), "imaginary part dropped"),
    (np.arange(3.0), None, "returned None"),
    (np.arange(3.0), np.array([0.0, 1.0, 2.5]), "wrong values"),
    (np.arange(3.0), Opaque("generator", "..."), "wrong type"),
    (16, 16.0, "wrong type"),
    ((np.zeros(2), np.ones(2)), (np.zeros(2),), "wrong type"),
    (TensorData(np.zeros(2), "cuda:0", "torch.float32"), TensorData(np.zeros(2), "cpu", "torch.float32"), "wrong device"),
    (TensorData(np.zeros(2), "cpu", "torch.float64"), TensorData(np.zeros(2), "cpu", "torch.float32"), "wrong dtype"),
])
def test_find_mismatch_names_the_problem(expected, actual, label):
    assert find_mismatch(expected, actual).label == label


def test_find_mismatch_accepts_equal_values_within_tolerance():
    reference = np.convolve([1.0, 2.0, 3.0], [0.5, 0.25])
    assert find_mismatch(reference, reference * (1 + 1e-12)) is None
    assert find_mismatch(reference, list(reference)) is None  # array-like is fine
    assert find_mismatch((reference, 3), (reference.copy(), 3)) is None
    assert find_mismatch(reference, reference * (1 + 1e-4)) is not None


@pytest.mark.parametrize("expected, actual", [
    (0.0743745123, 0.0743745198), (1.0, 1.0 + 2e-16), (-3.25e-12, -3.2500001e-12), (1 + 2j, 1 + 2.0000001j),
])
def test_distinct_texts_show_the_digits_that_differ(expected, actual):
    want, got = distinct_texts(expected, actual)
    assert want != got
    assert complex(want) == pytest.approx(expected, rel=1e-6) and complex(got) == pytest.approx(actual, rel=1e-6)


def test_a_mismatch_states_the_difference_against_the_tolerance():
    # equal to 6 digits (what the feedback printed before), different in the 7th
    text = find_mismatch(np.array([0.07437451234]), np.array([0.0743745225])).text
    assert "expected 0.07437451, got 0.07437452" in text
    assert "(difference 1e-08, relative 1.4e-07; the tolerance allows 1e-09 + 1e-07 * |expected| = 8.4e-09)" in text


def test_tuple_results_are_named_when_the_spec_names_them():
    expected = (np.zeros(2), np.ones(3))
    assert find_mismatch(expected, (np.zeros(2), np.zeros(3)), names=("dw", "db")).text.startswith("db: ")
    assert find_mismatch(expected, (np.zeros(2), np.zeros(3))).text.startswith("result 1: ")
    assert "(dw, db)" in find_mismatch(expected, np.zeros(2), names=("dw", "db")).text


@pytest.mark.parametrize("value", [
    np.array([0.1 + 0.2, -1e-300, 3.0]), np.arange(12).reshape(3, 4), np.array([[1 + 2j, -0.5j]]),
    np.array([1.5, 2.25], dtype=np.float32), np.zeros((2, 0)), np.array([True, False]),
    (1, "same", 2.5), {"mode": "valid"},
])
def test_value_code_rebuilds_the_value_exactly(value):
    rebuilt = eval(value_code(value), {"np": np})
    if isinstance(value, np.ndarray):
        assert rebuilt.dtype == value.dtype and rebuilt.shape == value.shape
        assert np.array_equal(rebuilt, value)
    else:
        assert rebuilt == value


def test_value_code_writes_tensors_with_dtype_and_device():
    torch = pytest.importorskip("torch")
    tensor = TensorData(np.array([[0.5, -1.0]], np.float32), "cuda:0", "torch.float32")
    code = value_code(tensor)
    assert code == 'torch.tensor([[0.5, -1.0]], dtype=torch.float32, device="cuda:0")'
    rebuilt = eval(code.replace(', device="cuda:0"', ""), {"torch": torch})
    assert rebuilt.dtype == torch.float32 and rebuilt.tolist() == [[0.5, -1.0]]


# ----------------------------------------------------------------------------- forbidden calls


@pytest.mark.parametrize("source, expected", [
    ("import numpy as np\ndef f(x, h):\n    return np.convolve(x, h)", ["numpy.convolve"]),
    ("from numpy import correlate as c\ndef f(x, h):\n    return c(x, h)", ["numpy.correlate"]),
    ("from numpy import *\ndef f(x, h):\n    return convolve(x, h)", ["numpy.convolve"]),
    ("import numpy\ndef f(x, h):\n    return getattr(numpy, 'convolve')(x, h)", ["numpy.convolve"]),
    ("def f(x, h):\n    return __import__('scipy.signal').signal.fftconvolve(x, h)", ["scipy.signal.fftconvolve"]),
    ("from scipy import signal\ndef f(x, h):\n    return signal.oaconvolve(x, h)", ["scipy.signal.oaconvolve"]),
    ("import numpy as np\nc = np.convolve\ndef g(a, b):\n    return c(a, b)\ndef f(x, h):\n    return g(x, h)",
     ["numpy.convolve"]),
    ("import numpy._core.multiarray as m\ndef f(x, h):\n    return m.correlate(x, h)", ["numpy._core.multiarray.correlate"]),
    ("import os\ndef f(x, h):\n    os.system('ls')\n    return x", ["os.system"]),
])
def test_scan_finds_forbidden_calls_through_aliases_and_helpers(source, expected):
    assert scan([source], "f", HW1.forbidden) == expected


def test_scan_does_not_flag_students_own_functions_or_other_cells():
    cells = [
        "import numpy as np\nprint(np.convolve([1, 2], [1, 1]))  # comparing at top level is fine",
        "def convolve(x, h, mode='full'):\n    return np.zeros(len(x) + len(h) - 1)",
        "def correlate(x, h, mode='valid'):\n    return convolve(x, np.conj(h)[::-1], mode)",
        "def poly_multiply(p, q):\n    return np.fft.irfft(np.fft.rfft(p, 8) * np.fft.rfft(q, 8))",
    ]
    assert scan(cells, "correlate", HW1.forbidden) == []
    assert scan(cells, "poly_multiply", HW1.forbidden) == []


def test_matches_respects_path_boundaries():
    assert matches("numpy.convolved", ["numpy.convolve"]) is None
    assert matches("scipy.signalling", ["scipy.signal"]) is None
    assert matches("scipy.signal.windows.hann", ["scipy.signal"]) == "scipy.signal"


def test_strip_magics_keeps_python_and_drops_magics():
    assert strip_magics("%%timeit\nx = 1") == "pass\nx = 1"  # IPython runs the body: so does grading
    assert strip_magics("%%time\ndef f():\n    return 1") == "pass\ndef f():\n    return 1"
    assert strip_magics("%%bash\nrm -rf /") == ""
    assert strip_magics("  !ls\ny = 2") == "  pass\ny = 2"


# ----------------------------------------------------------------------------- check()


def _convolve_full(x, h):
    x, h = np.asarray(x), np.asarray(h)
    y = np.zeros(len(x) + len(h) - 1, dtype=np.result_type(x, h, float))
    for k in range(len(h)):
        y[k : k + len(x)] += h[k] * x
    return y


def _not_flipped(x, h):
    return _convolve_full(x, np.asarray(h)[::-1])


def _forbidden(x, h):
    return np.convolve(x, h)


def test_check_gives_full_visible_score_to_a_correct_function(capsys):
    visible = [case for case in HW1.function("convolve_full").build_cases(np.random.default_rng(0)) if case.visible]
    assert check("hw1", "convolve_full", _convolve_full) == 2.0
    assert f"{len(visible)} of {len(visible)} visible checks passed" in capsys.readouterr().out


def test_check_names_the_mistake_and_shows_a_failing_input(capsys):
    score = check("hw1", "convolve_full", _not_flipped)
    out = capsys.readouterr().out
    assert score < 2.0
    assert "Most likely mistake: kernel not flipped" in out
    assert "expected:" in out and "got:" in out and "convolve_full(np.array([" in out


def test_check_scores_zero_for_a_forbidden_call(capsys):
    assert check("hw1", "convolve_full", _forbidden) == 0.0
    assert "numpy.convolve" in capsys.readouterr().out


def test_check_survives_a_raising_function(capsys):
    def broken(x, h):
        raise ZeroDivisionError("oops")

    assert check("hw1", "convolve_full", broken) == 0.0
    assert "ZeroDivisionError: oops" in capsys.readouterr().out


def test_check_rejects_bad_arguments():
    with pytest.raises(ValueError, match="no graded function"):
        check("hw1", "convolve_fast", _convolve_full)
    with pytest.raises(ValueError, match="assignment"):
        check("hw99", "convolve_full", _convolve_full)
    with pytest.raises(TypeError, match="func"):
        check("hw1", "convolve_full", "convolve_full")


def test_check_is_silent_inside_the_sandbox(monkeypatch, capsys):
    monkeypatch.setattr(_state, "IN_SANDBOX", True)
    assert check("hw1", "convolve_full", _forbidden) is None
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- the hw1 spec


def test_hw1_references_are_numpy():
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal(9) + 1j * rng.standard_normal(9), rng.standard_normal(4) + 1j
    for mode in ("full", "same", "valid"):
        assert np.array_equal(HW1.function("convolve").reference(x, h, mode), np.convolve(x, h, mode))
        assert np.array_equal(HW1.function("correlate").reference(x, h, mode), np.correlate(x, h, mode))


def test_hw1_cases_cover_modes_lengths_and_complex_data():
    for spec in HW1.functions:
        cases = spec.build_cases(np.random.default_rng(0))
        assert any(c.visible for c in cases) and any(not c.visible for c in cases), spec.name
        assert any(np.iscomplexobj(c.args[0]) or np.iscomplexobj(c.args[1]) for c in cases), spec.name
        assert any(len(c.args[1]) > len(c.args[0]) for c in cases), spec.name
        assert any(len(c.args[1]) % 2 == 0 for c in cases) and any(len(c.args[1]) % 2 for c in cases)
    for name in ("convolve", "correlate"):
        modes = {c.kwargs.get("mode") for c in HW1.function(name).build_cases(np.random.default_rng(0))}
        assert {"full", "same", "valid"} <= modes


def test_each_hw1_mistake_is_distinguishable_from_the_reference():
    def differs(spec, mistake, case):
        try:
            wrong = to_plain(mistake.wrong(*case.args, **case.kwargs))
        except ValueError:  # e.g. an element-wise product of unequal lengths: no output to match
            return False
        return find_mismatch(np.asarray(spec.reference(*case.args, **case.kwargs)), wrong) is not None

    for spec in HW1.functions:
        cases = spec.build_cases(np.random.default_rng(0))
        for mistake in spec.mistakes:
            assert any(differs(spec, mistake, c) for c in cases), f"{spec.name}: {mistake.name}"


def test_load_assignment_rejects_unknown_names():
    with pytest.raises(ValueError, match="no module"):
        load_assignment("hw0")
    with pytest.raises(ValueError, match="module name"):
        load_assignment("../hw1")


@pytest.mark.parametrize("hw", ["hw1", "hw2", "hw3", "hw4"])
@pytest.mark.parametrize("call", ["np.convolve(x, h)", "scipy.signal.fftconvolve(x, h)",
                                  "convlib.conv2d(x, h)", "convlib.fftconvolve(x, h)",
                                  "F.conv1d(x, h)", "torch.nn.Conv2d(1, 1, 3)"])
def test_every_library_convolution_is_forbidden_in_every_homework(hw, call):
    source = ("import numpy as np\nimport scipy.signal\nimport convlib\nimport torch\n"
              "import torch.nn.functional as F\n"
              f"def graded(x, h):\n    return {call}\n")
    assert scan([source], "graded", load_assignment(hw).forbidden), f"{hw} lets {call} through"


def test_a_function_with_nothing_graded_scores_zero_and_its_feedback_says_so():
    # every check "not graded" (the sandbox broke down twice): no points yet, and the
    # feedback's score line agrees with the gradebook's
    from convlib.grading._judge import NOT_GRADED, problem_outcome, summarize

    spec = HW1.function("convolve_full")
    cases = spec.build_cases(np.random.default_rng(0))
    outcomes = [problem_outcome(case, NOT_GRADED, "not graded, infrastructure error", "broke down")
                for case in cases]
    result = summarize(spec, outcomes)
    assert (result.score, result.total) == (0.0, 0)
    assert result.feedback.splitlines()[0] == "convolve_full: 0 of 0 checks passed, score 0 / 2"
