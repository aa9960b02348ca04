"""Homework 3, fast convolution: cases, references and known mistakes.

Students write ``fft_convolve`` (equal to :func:`scipy.signal.fftconvolve` for 1-D real
or complex input in every mode) and ``overlap_add`` (the full linear convolution,
computed block by block with FFTs). The references are convlib's own functions; the
mistakes below are the classic wrong implementations, used only to name what went
wrong in the feedback.
"""
from __future__ import annotations

import numpy as np

from .inputs import hidden_rng, normal, public_rng, small_ints
from .spec import Assignment, Case, FunctionSpec, Mistake

__all__ = ["ASSIGNMENT"]


# ---------------------------------------------------------------------------------------
# references (trusted: convlib)


def reference_fft_convolve(x, h, mode="full"):
    from convlib import fftconvolve

    return fftconvolve(x, h, mode)


def reference_overlap_add(x, h, block_size):
    from convlib import convolve

    return convolve(x, h, "full")


# ---------------------------------------------------------------------------------------
# classic mistakes


def _apply_mode(full: np.ndarray, n: int, m: int, mode: str) -> np.ndarray:
    """Crop a (possibly wrong) 'full' result the way a correct solution does."""
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return full[start : start + n]
    lo, hi = min(n, m), max(n, m)
    return full[lo - 1 : hi]


def _circular(x, h, length: int) -> np.ndarray:
    """Circular convolution of period ``length`` (both inputs cut or zero-padded to it)."""
    x = np.asarray(x)
    h = np.asarray(h)
    out = np.fft.ifft(np.fft.fft(x, length) * np.fft.fft(h, length))
    if not (np.iscomplexobj(x) or np.iscomplexobj(h)):
        out = out.real
    return out


def mistake_fft_circular(x, h, mode="full"):
    """FFT of length max(n, m): no zero padding, so the tail wraps onto the start."""
    n, m = len(x), len(h)
    return _apply_mode(_circular(x, h, max(n, m)), n, m, mode)


def mistake_fft_one_short(x, h, mode="full"):
    """FFT of length n + m - 2: the last output sample wraps onto the first."""
    n, m = len(x), len(h)
    if n + m - 2 < 1:
        return reference_fft_convolve(x, h, mode)
    return _apply_mode(_circular(x, h, n + m - 2), n, m, mode)


def mistake_fft_real_part(x, h, mode="full"):
    return np.real(reference_fft_convolve(x, h, mode))


def mistake_fft_inputs_made_real(x, h, mode="full"):
    return reference_fft_convolve(np.real(x), np.real(h), mode)


def mistake_fft_same_off_by_one(x, h, mode="full"):
    if mode != "same":
        return reference_fft_convolve(x, h, mode)
    full = reference_fft_convolve(x, h, "full")
    start = len(h) // 2
    return full[start : start + len(x)]


def mistake_fft_valid_not_swapped(x, h, mode="full"):
    if mode != "valid":
        return reference_fft_convolve(x, h, mode)
    full = reference_fft_convolve(x, h, "full")
    return full[len(h) - 1 : len(x)]


def mistake_fft_mode_ignored(x, h, mode="full"):
    return reference_fft_convolve(x, h, "full")


def _blocks(n: int, block_size: int):
    for start in range(0, n, block_size):
        yield start, min(start + block_size, n)


def _full_output(x, h) -> np.ndarray:
    dtype = np.result_type(np.asarray(x).dtype, np.asarray(h).dtype, float)
    return np.zeros(len(x) + len(h) - 1, dtype=dtype)


def mistake_ola_tails_dropped(x, h, block_size):
    """Each block keeps only its first len(block) outputs: the tails are never added."""
    out = _full_output(x, h)
    for start, stop in _blocks(len(x), block_size):
        piece = reference_overlap_add(x[start:stop], h, block_size)
        out[start:stop] = piece[: stop - start]
    return out


def mistake_ola_tails_overwritten(x, h, block_size):
    """Block results assigned with '=' instead of added with '+='."""
    out = _full_output(x, h)
    for start, stop in _blocks(len(x), block_size):
        piece = reference_overlap_add(x[start:stop], h, block_size)
        out[start : start + len(piece)] = piece
    return out


def mistake_ola_circular_blocks(x, h, block_size):
    """Each block's FFT is as long as the block (or kernel): circular, not linear."""
    out = _full_output(x, h)
    length = max(block_size, len(h))
    for start, stop in _blocks(len(x), block_size):
        piece = _circular(x[start:stop], h, length)
        piece = piece[: len(out) - start]
        out[start : start + len(piece)] += piece
    return out


def mistake_ola_last_block_dropped(x, h, block_size):
    out = _full_output(x, h)
    kept = len(x) - len(x) % block_size
    if kept:
        out[: kept + len(h) - 1] = reference_overlap_add(x[:kept], h, block_size)
    return out


def mistake_ola_trimmed(x, h, block_size):
    return reference_overlap_add(x, h, block_size)[: len(x)]


_MODE_IGNORED = (
    "wrong output shape: mode ignored",
    "You always return the 'full' result (length n + m - 1). 'same' keeps the centre n "
    "samples; 'valid' keeps the max(n, m) - min(n, m) + 1 samples where one input covers "
    "the other completely.",
)

# ---------------------------------------------------------------------------------------
# cases


def fft_convolve_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(3, 1), hidden_rng(rng, 3, 1)
    return [
        Case("full mode, odd kernel", (small_ints(fixed, 6), small_ints(fixed, 3)), visible=True),
        Case("same mode, odd kernel", (small_ints(fixed, 7), small_ints(fixed, 3)), {"mode": "same"}, visible=True),
        Case("valid mode, odd kernel", (small_ints(fixed, 8), small_ints(fixed, 3)), {"mode": "valid"}, visible=True),
        Case("same mode, even kernel", (small_ints(fixed, 6), small_ints(fixed, 4)), {"mode": "same"}, visible=True),
        Case("complex signal and kernel, full mode", (small_ints(fixed, 4) + 1j * small_ints(fixed, 4), small_ints(fixed, 2) - 1j * small_ints(fixed, 2)), visible=True),
        Case("valid mode, kernel longer than the signal", (small_ints(fixed, 3), small_ints(fixed, 6)), {"mode": "valid"}, visible=True),
        Case("full mode, even kernel", (normal(rng, 11), normal(rng, 6))),
        Case("valid mode, even kernel", (normal(rng, 12), normal(rng, 4)), {"mode": "valid"}),
        Case("kernel longer than the signal, full mode", (normal(rng, 4), normal(rng, 9))),
        Case("kernel longer than the signal, same mode", (normal(rng, 5), normal(rng, 8)), {"mode": "same"}),
        Case("kernel longer than the signal, valid mode", (normal(rng, 3), normal(rng, 7)), {"mode": "valid"}),
        Case("equal lengths, valid mode (one sample)", (normal(rng, 6), normal(rng, 6)), {"mode": "valid"}),
        Case("complex signal, real kernel, same mode", (normal(rng, 9, complex_=True), normal(rng, 4)), {"mode": "same"}),
        Case("real signal, complex kernel, valid mode", (normal(rng, 10), normal(rng, 3, complex_=True)), {"mode": "valid"}),
        Case("complex signal and kernel, same mode, even kernel", (normal(rng, 8, complex_=True), normal(rng, 2, complex_=True)), {"mode": "same"}),
        Case("complex signal and kernel, valid mode", (normal(rng, 9, complex_=True), normal(rng, 4, complex_=True)), {"mode": "valid"}),
        Case("one-tap kernel", (normal(rng, 7), normal(rng, 1))),
        Case("one-sample signal", (normal(rng, 1), normal(rng, 5)), {"mode": "same"}),
        Case("prime lengths 997 and 37, full mode", (normal(rng, 997), normal(rng, 37))),
        Case("long signal, 64-tap kernel, same mode", (normal(rng, 1500), normal(rng, 64)), {"mode": "same"}),
    ]


def overlap_add_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(3, 2), hidden_rng(rng, 3, 2)
    return [
        Case("10 samples in blocks of 4 (the last block is short)", (small_ints(fixed, 10), small_ints(fixed, 3), 4), visible=True),
        Case("12 samples in blocks of 4", (small_ints(fixed, 12), small_ints(fixed, 3), 4), visible=True),
        Case("kernel longer than the block", (small_ints(fixed, 9), small_ints(fixed, 5), 2), visible=True),
        Case("block size 1", (normal(rng, 7), normal(rng, 3), 1)),
        Case("one block larger than the signal", (normal(rng, 6), normal(rng, 4), 16)),
        Case("block size equal to the signal length", (normal(rng, 8), normal(rng, 3), 8)),
        Case("even kernel, uneven blocks", (normal(rng, 23), normal(rng, 4), 5)),
        Case("kernel longer than the signal", (normal(rng, 5), normal(rng, 9), 2)),
        Case("complex signal and kernel", (normal(rng, 20, complex_=True), normal(rng, 5, complex_=True), 6)),
        Case("one-tap kernel", (normal(rng, 9), normal(rng, 1), 4)),
        Case("1000 samples, 64-tap kernel, blocks of 128", (normal(rng, 1000), normal(rng, 64), 128)),
    ]


# ---------------------------------------------------------------------------------------

ASSIGNMENT = Assignment(
    name="hw3",
    functions=(
        FunctionSpec(
            name="fft_convolve",
            grade_id="test_fft_convolve",
            points=4,
            cases=fft_convolve_cases,
            reference=reference_fft_convolve,
            rtol=1e-7,
            atol=1e-9,
            mistakes=(
                Mistake(
                    "circular instead of linear convolution",
                    "Multiplying FFTs gives a circular convolution of the FFT length. Zero-pad "
                    "both inputs to at least n + m - 1 samples (np.fft.fft(x, L)) so the tail "
                    "does not wrap around onto the start.",
                    mistake_fft_circular,
                ),
                Mistake(
                    "FFT length one short",
                    "With an FFT of n + m - 2 samples the last output wraps onto the first: the "
                    "full convolution has n + m - 1 samples, so the FFT needs at least that many.",
                    mistake_fft_one_short,
                ),
                Mistake(
                    "imaginary part discarded",
                    "np.real (or irfft) throws away the imaginary part: with complex inputs "
                    "use fft/ifft and keep the complex result; take the real part only when "
                    "both inputs are real.",
                    mistake_fft_real_part,
                ),
                Mistake(
                    "imaginary part of the inputs dropped",
                    "x.real (or np.real, .astype(float)) before the FFT throws the imaginary "
                    "part away (np.fft.rfft refuses complex input for this reason): use "
                    "np.fft.fft / np.fft.ifft when x or h is complex.",
                    mistake_fft_inputs_made_real,
                ),
                Mistake(
                    "'same' window off by one",
                    "The 'same' window of the full output starts at (m - 1) // 2 (as in scipy), "
                    "not m // 2: the two differ when the kernel length m is even.",
                    mistake_fft_same_off_by_one,
                ),
                Mistake(
                    "'valid' wrong when the kernel is longer",
                    "'valid' has max(n, m) - min(n, m) + 1 samples whichever input is longer: "
                    "take full[min(n, m) - 1 : max(n, m)].",
                    mistake_fft_valid_not_swapped,
                ),
                Mistake(*_MODE_IGNORED, mistake_fft_mode_ignored),
            ),
        ),
        FunctionSpec(
            name="overlap_add",
            grade_id="test_overlap_add",
            points=3,
            cases=overlap_add_cases,
            reference=reference_overlap_add,
            rtol=1e-7,
            atol=1e-9,
            mistakes=(
                Mistake(
                    "overlap-add blocks not overlapped",
                    "Each block's convolution is len(block) + m - 1 samples long: its last m - 1 "
                    "samples (the tail) must be added onto the start of the next block's output.",
                    mistake_ola_tails_dropped,
                ),
                Mistake(
                    "block tails overwritten instead of added",
                    "Use out[start:start + L] += piece, not =: the tail of the previous block is "
                    "already there and must be summed with the new block.",
                    mistake_ola_tails_overwritten,
                ),
                Mistake(
                    "circular instead of linear convolution in each block",
                    "Zero-pad each block and the kernel to at least len(block) + m - 1 samples "
                    "before the FFT, or every block wraps around.",
                    mistake_ola_circular_blocks,
                ),
                Mistake(
                    "last partial block dropped",
                    "When len(x) is not a multiple of block_size the last block is shorter: "
                    "process it too.",
                    mistake_ola_last_block_dropped,
                ),
                Mistake(
                    "wrong output shape: trimmed to the signal length",
                    "The full convolution has len(x) + len(h) - 1 samples: allocate the output "
                    "that long.",
                    mistake_ola_trimmed,
                ),
            ),
        ),
    ),
    # numpy.fft is a lazily imported submodule: load it before any student code runs
    preload=("numpy.fft",),
)
