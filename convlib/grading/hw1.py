"""Homework 1, convolution in one dimension: cases, references and known mistakes.

Students write ``convolve_full(x, h)``, ``convolve(x, h, mode="full")`` (equal to
:func:`numpy.convolve` in every mode, whichever input is longer), ``correlate(x, h,
mode="valid")`` (equal to :func:`numpy.correlate`, complex conjugate included) and
``poly_multiply(p, q)`` (coefficients lowest degree first). The references are
NumPy's own functions (the contract is "equal to numpy"); the mistakes are the
classic wrong implementations, used only to name what went wrong in the feedback.

Visible cases use fixed small integers; hidden ones draw from the ``rng`` the
grader passes (seeded from the instructor's secret at autograde time).
"""
from __future__ import annotations

import numpy as np

from .inputs import floats, normal
from .spec import Assignment, Case, FunctionSpec, Mistake

__all__ = ["ASSIGNMENT"]

_MODES = ("full", "same", "valid")


# ---------------------------------------------------------------------------------------
# references (trusted: NumPy, the contract of the assignment)


def reference_convolve_full(x, h):
    return np.convolve(x, h, mode="full")


def reference_convolve(x, h, mode="full"):
    return np.convolve(x, h, mode=mode)


def reference_correlate(x, h, mode="valid"):
    return np.correlate(x, h, mode=mode)


def reference_poly_multiply(p, q):
    return np.convolve(p, q, mode="full")


# ---------------------------------------------------------------------------------------
# classic mistakes (each is a small wrong implementation)


def _window(full: np.ndarray, n: int, m: int, mode: str, *, same_start: int | None = None):
    """Cut numpy's 'same'/'valid' window out of a full result of length n + m - 1."""
    if mode == "full":
        return full
    longest, shortest = max(n, m), min(n, m)
    if mode == "same":
        start = (shortest - 1) // 2 if same_start is None else same_start
        return full[start : start + longest]
    return full[shortest - 1 : longest]


def _not_flipped(x, h):
    return np.convolve(np.asarray(x), np.asarray(h)[::-1])


def _circular(x, h):
    x, h = np.asarray(x), np.asarray(h)
    length = max(len(x), len(h))
    out = np.fft.ifft(np.fft.fft(x, length) * np.fft.fft(h, length))
    real = not (np.iscomplexobj(x) or np.iscomplexobj(h))
    return out.real if real else out


def mistake_full_not_flipped(x, h):
    return _not_flipped(x, h)


def mistake_full_circular(x, h):
    return _circular(x, h)


def mistake_full_too_short(x, h):
    return np.convolve(x, h)[:-1]


def mistake_full_same_length(x, h):
    return np.convolve(x, h)[: len(x)]


def mistake_full_real_only(x, h):
    return np.convolve(x, h).real


def mistake_mode_not_flipped(x, h, mode="full"):
    return _window(_not_flipped(x, h), len(x), len(h), mode)


def mistake_mode_ignored(x, h, mode="full"):
    return np.convolve(x, h)


def mistake_same_off_by_one(x, h, mode="full"):
    n, m = len(x), len(h)
    return _window(np.convolve(x, h), n, m, mode, same_start=min(n, m) // 2)


def mistake_same_length_of_x(x, h, mode="full"):
    """scipy's 'same' (length of the first input) instead of numpy's (the longer one)."""
    if mode != "same" or len(h) <= len(x):
        return np.convolve(x, h, mode)
    full = np.convolve(x, h)
    start = (len(h) - 1) // 2
    return full[start : start + len(x)]


def mistake_valid_assumes_longer_x(x, h, mode="full"):
    if mode != "valid" or len(h) <= len(x):
        return np.convolve(x, h, mode)
    return np.zeros(0, dtype=np.result_type(x, h))


def mistake_assumes_longer_x(x, h, mode="full"):
    """'same' and 'valid' cut out of the full result as if x were the longer input."""
    n, m = len(x), len(h)
    full = np.convolve(x, h)
    if mode == "same":
        start = (m - 1) // 2
        return full[start : start + n]
    if mode == "valid":
        return full[m - 1 : n]
    return full


def mistake_mode_circular(x, h, mode="full"):
    return _window(_circular(x, h), len(x), len(h), mode) if mode != "full" else _circular(x, h)


def mistake_correlate_no_conjugate(x, h, mode="valid"):
    return np.correlate(x, np.conj(h), mode)


def mistake_correlate_flipped(x, h, mode="valid"):
    return np.convolve(x, np.conj(h), mode)


def mistake_correlate_reversed(x, h, mode="valid"):
    return np.correlate(x, h, mode)[::-1]


def mistake_correlate_mode_ignored(x, h, mode="valid"):
    return np.correlate(x, h, "full")


def mistake_correlate_same_off_by_one(x, h, mode="valid"):
    """numpy's 'same' window of the correlation, started one sample off.

    numpy starts it at (M - 1) // 2 when N >= M and at N // 2 when N < M (it swaps
    the inputs); the classic mistake uses the other of the two (they differ when
    min(N, M) is even).
    """
    n, m = len(x), len(h)
    if mode != "same":
        return np.correlate(x, h, mode)
    shortest = min(n, m)
    right = (m - 1) // 2 if n >= m else n // 2
    wrong = shortest // 2 if right == (shortest - 1) // 2 else (shortest - 1) // 2
    full = np.correlate(x, h, "full")
    return full[wrong : wrong + max(n, m)]


def mistake_poly_added(p, q):
    p, q = np.asarray(p), np.asarray(q)
    out = np.zeros(max(len(p), len(q)), dtype=np.result_type(p, q))
    out[: len(p)] += p
    out[: len(q)] += q
    return out


def mistake_poly_elementwise(p, q):
    """Matching coefficients multiplied (as zip(p, q) pairs them: the shorter length)."""
    p, q = np.asarray(p), np.asarray(q)
    n = min(len(p), len(q))
    return p[:n] * q[:n]


def mistake_poly_top_lost(p, q):
    return np.convolve(p, q)[:-1]


def mistake_poly_trimmed(p, q):
    return np.trim_zeros(np.convolve(p, q), "b")


def mistake_poly_one_reversed(p, q):
    return np.convolve(np.asarray(p)[::-1], q)


# ---------------------------------------------------------------------------------------
# cases


def convolve_full_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("odd kernel (3 taps)", (floats([1, 2, 3, 4]), floats([1, 0, -1])), visible=True),
        Case("even kernel (2 taps), not symmetric", (floats([2, -1, 3]), floats([1, 2])), visible=True),
        Case("kernel longer than the signal", (floats([1, 2]), floats([3, 0, 1, -1])), visible=True),
        Case("complex signal and kernel", (np.array([1, 2j, -1]), np.array([1 - 1j, 2])), visible=True),
        Case("random signal, odd kernel", (normal(rng, 17), normal(rng, 5))),
        Case("random signal, even kernel", (normal(rng, 12), normal(rng, 4))),
        Case("kernel longer than the signal, random", (normal(rng, 3), normal(rng, 8))),
        Case("one-tap kernel", (normal(rng, 6), normal(rng, 1))),
        Case("one-sample signal", (normal(rng, 1), normal(rng, 4))),
        Case("equal lengths", (normal(rng, 5), normal(rng, 5))),
        Case("complex signal and kernel", (normal(rng, 7, complex_=True), normal(rng, 3, complex_=True))),
        Case("integer inputs", (rng.integers(-5, 6, 9), rng.integers(-5, 6, 4))),
        Case("longer signal (400 samples, 33 taps)", (normal(rng, 400), normal(rng, 33))),
    ]


def convolve_cases(rng: np.random.Generator) -> list[Case]:
    visible = [
        Case("'full' mode", (floats([1, 2, 3, 4, 5]), floats([1, 0, -1])), {"mode": "full"}, visible=True),
        Case("'same' mode, odd kernel", (floats([1, 2, 3, 4, 5]), floats([1, 2, 3])), {"mode": "same"}, visible=True),
        Case("'same' mode, even kernel", (floats([1, 2, 3, 4, 5]), floats([1, -1])), {"mode": "same"}, visible=True),
        Case("'valid' mode", (floats([1, 2, 3, 4, 5]), floats([2, 1, 0])), {"mode": "valid"}, visible=True),
        Case("default mode is 'full'", (floats([3, 1, 2]), floats([1, -2])), visible=True),
        Case("'same' mode, kernel longer than the signal", (floats([1, 2, 3]), floats([1, 0, -1, 2, 1])), {"mode": "same"}, visible=True),
        Case("'valid' mode, kernel longer than the signal", (floats([1, -1]), floats([1, 2, 3, 4])), {"mode": "valid"}, visible=True),
    ]
    hidden = []
    for mode in _MODES:
        hidden += [
            Case(f"'{mode}' mode, odd kernel", (normal(rng, 11), normal(rng, 5)), {"mode": mode}),
            Case(f"'{mode}' mode, even kernel", (normal(rng, 10), normal(rng, 4)), {"mode": mode}),
            Case(f"'{mode}' mode, kernel longer than the signal (odd)", (normal(rng, 4), normal(rng, 9)), {"mode": mode}),
            Case(f"'{mode}' mode, kernel longer than the signal (even)", (normal(rng, 3), normal(rng, 6)), {"mode": mode}),
            Case(f"'{mode}' mode, complex data", (normal(rng, 8, complex_=True), normal(rng, 3, complex_=True)), {"mode": mode}),
        ]
    hidden += [
        Case("'same' mode, one-tap kernel", (normal(rng, 6), normal(rng, 1)), {"mode": "same"}),
        Case("'valid' mode, equal lengths (one sample)", (normal(rng, 6), normal(rng, 6)), {"mode": "valid"}),
        Case("'same' mode, equal even lengths", (normal(rng, 4), normal(rng, 4)), {"mode": "same"}),
    ]
    return visible + hidden


def correlate_cases(rng: np.random.Generator) -> list[Case]:
    visible = [
        Case("'valid' mode (the default)", (floats([1, 2, 3, 4, 5]), floats([1, 0, -1])), visible=True),
        Case("'full' mode", (floats([1, 2, 3]), floats([0, 1, 2])), {"mode": "full"}, visible=True),
        Case("'same' mode, odd kernel", (floats([1, 2, 3, 4]), floats([1, 2, 3])), {"mode": "same"}, visible=True),
        Case("complex kernel: conjugated", (floats([1, 2, 3]), np.array([1j, 1.0])), {"mode": "full"}, visible=True),
        Case("'same' mode, even kernel", (floats([1, 2, 3, 4, 5]), floats([2, -1])), {"mode": "same"}, visible=True),
    ]
    hidden = []
    for mode in _MODES:
        hidden += [
            Case(f"'{mode}' mode, odd kernel", (normal(rng, 10), normal(rng, 3)), {"mode": mode}),
            Case(f"'{mode}' mode, even kernel", (normal(rng, 9), normal(rng, 4)), {"mode": mode}),
            Case(f"'{mode}' mode, complex data (conjugate)", (normal(rng, 7, complex_=True), normal(rng, 3, complex_=True)), {"mode": mode}),
            Case(f"'{mode}' mode, kernel longer than the signal", (normal(rng, 3), normal(rng, 7)), {"mode": mode}),
        ]
    hidden += [
        Case("'same' mode, even kernel, complex", (normal(rng, 8, complex_=True), normal(rng, 2, complex_=True)), {"mode": "same"}),
        Case("'valid' mode, equal lengths", (normal(rng, 5), normal(rng, 5))),
    ]
    return visible + hidden


def poly_multiply_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("(1 + x)(1 - x) = 1 - x^2", (floats([1, 1]), floats([1, -1])), visible=True),
        Case("(1 + 2x + 3x^2)(4 + 5x)", (floats([1, 2, 3]), floats([4, 5])), visible=True),
        Case("a constant times a polynomial", (floats([3]), floats([1, 0, 2])), visible=True),
        Case("zero top coefficient is kept", (floats([1, 2, 0]), floats([3, 0])), visible=True),
        Case("random degrees 5 and 3", (normal(rng, 6), normal(rng, 4))),
        Case("equal degrees", (normal(rng, 5), normal(rng, 5))),
        Case("the longer polynomial second", (normal(rng, 2), normal(rng, 7))),
        Case("complex coefficients", (normal(rng, 3, complex_=True), normal(rng, 4, complex_=True))),
        Case("integer coefficients", (rng.integers(-4, 5, 6), rng.integers(-4, 5, 3))),
    ]


_FLIP = ("Convolution flips the kernel: y[n] = sum over k of x[k] h[n - k]. Sliding h "
         "without reversing it computes a correlation.")
_CIRCULAR = ("Multiplying FFTs of length max(N, M) gives a circular convolution (the end wraps "
             "onto the start): zero-pad both to N + M - 1 first.")

ASSIGNMENT = Assignment(
    name="hw1",
    functions=(
        FunctionSpec(
            name="convolve_full",
            grade_id="test_convolve_full",
            points=2,
            cases=convolve_full_cases,
            reference=reference_convolve_full,
            mistakes=(
                Mistake("kernel not flipped", _FLIP, mistake_full_not_flipped),
                Mistake("circular instead of linear convolution", _CIRCULAR, mistake_full_circular),
                Mistake("wrong output shape: last sample missing",
                        "The full convolution has N + M - 1 samples: the last one is "
                        "x[N-1] * h[M-1].", mistake_full_too_short),
                Mistake("wrong output shape: cut to the signal's length",
                        "'full' keeps every partial overlap: N + M - 1 samples, not N.",
                        mistake_full_same_length),
                Mistake("imaginary part dropped",
                        "Allocate the output with a dtype that can hold the result, e.g. "
                        "np.result_type(x, h), so complex inputs give a complex output.",
                        mistake_full_real_only),
            ),
        ),
        FunctionSpec(
            name="convolve",
            grade_id="test_convolve",
            points=3,
            cases=convolve_cases,
            reference=reference_convolve,
            mistakes=(
                Mistake("kernel not flipped", _FLIP, mistake_mode_not_flipped),
                Mistake("'same' window off by one",
                        "numpy's 'same' keeps max(N, M) samples of the full result starting at "
                        "index (min(N, M) - 1) // 2; with an even kernel, min(N, M) // 2 is one "
                        "too far.", mistake_same_off_by_one),
                Mistake("mode ignored", "Cut the full result down for 'same' and 'valid'.",
                        mistake_mode_ignored),
                Mistake("'same' length taken from x",
                        "numpy's 'same' output has max(N, M) samples, also when the kernel is "
                        "the longer input (scipy's has len(x)).", mistake_same_length_of_x),
                Mistake("'valid' assumes the signal is longer",
                        "When h is longer than x, 'valid' has M - N + 1 samples (the roles swap), "
                        "not zero.", mistake_valid_assumes_longer_x),
                Mistake("assumes len(x) >= len(h)",
                        "When the kernel is the longer input the roles swap: 'same' keeps max(N, M) "
                        "samples starting at (min(N, M) - 1) // 2, 'valid' keeps full[min(N, M) - 1 : "
                        "max(N, M)]. Cutting with len(x) and len(h) in fixed roles fails when "
                        "len(h) > len(x).", mistake_assumes_longer_x),
                Mistake("circular instead of linear convolution", _CIRCULAR, mistake_mode_circular),
            ),
        ),
        FunctionSpec(
            name="correlate",
            grade_id="test_correlate",
            points=3,
            cases=correlate_cases,
            reference=reference_correlate,
            mistakes=(
                Mistake("conjugate missing",
                        "numpy.correlate conjugates the second input: c[k] = sum over n of "
                        "x[n + k] * conj(h[n]).", mistake_correlate_no_conjugate),
                Mistake("kernel flipped (computed a convolution)",
                        "Correlation slides h as it is; only convolution reverses it.",
                        mistake_correlate_flipped),
                Mistake("output reversed",
                        "The lag runs from -(M - 1) to N - 1: the first output sample pairs the "
                        "first x with the last h.", mistake_correlate_reversed),
                Mistake("mode ignored", "Cut the full result down for 'same' and 'valid'.",
                        mistake_correlate_mode_ignored),
                Mistake("'same' window off by one",
                        "numpy's 'same' keeps max(N, M) samples of the full correlation, "
                        "starting at (M - 1) // 2 when N >= M and at N // 2 when N < M.",
                        mistake_correlate_same_off_by_one),
            ),
        ),
        FunctionSpec(
            name="poly_multiply",
            grade_id="test_poly_multiply",
            points=2,
            cases=poly_multiply_cases,
            reference=reference_poly_multiply,
            mistakes=(
                Mistake("coefficients added",
                        "A product of polynomials multiplies every pair of terms: the "
                        "coefficient of x^n is sum over k of p[k] q[n - k].", mistake_poly_added),
                Mistake("element-wise product",
                        "p * q multiplies matching coefficients only; the product needs every "
                        "pair p[i] q[j], collected at degree i + j.", mistake_poly_elementwise),
                Mistake("wrong output shape: top degree lost",
                        "Degrees add up: a degree-a times a degree-b polynomial has degree a + b, "
                        "so len(p) + len(q) - 1 coefficients.", mistake_poly_top_lost),
                Mistake("wrong output shape: zero coefficients trimmed",
                        "Keep all len(p) + len(q) - 1 coefficients, zeros included.",
                        mistake_poly_trimmed),
                Mistake("one polynomial reversed",
                        "Both coefficient lists run from the lowest degree up: reverse neither.",
                        mistake_poly_one_reversed),
            ),
        ),
    ),
    # forbidden here on top of _forbidden.ALWAYS_FORBIDDEN (library convolutions, sandbox escapes)
    forbidden=(
        "numpy.polymul",
        "numpy.polynomial",
        "numpy.poly1d",
    ),
)
