"""Homework 2, convolution in two dimensions: cases, references and known mistakes.

Students write ``convolve2d`` and ``correlate2d`` (equal to
:func:`scipy.signal.convolve2d` / :func:`scipy.signal.correlate2d` in every mode and
boundary), ``separable_convolve2d`` (two 1-D passes, equal to ``convolve2d`` with the
outer product of the two kernels) and ``gaussian_kernel`` (a ``size`` x ``size``
sampled Gaussian that sums to 1). The references are convlib's own functions; the
mistakes below are the classic wrong implementations, used only to name what went
wrong in the feedback.
"""
from __future__ import annotations

import numpy as np

from .inputs import floats, hidden_rng, normal, public_rng, small_ints
from .spec import Assignment, Case, FunctionSpec, Mistake

__all__ = ["ASSIGNMENT"]

_PAD_MODE = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}


# ---------------------------------------------------------------------------------------
# references (trusted: convlib)


def reference_convolve2d(image, kernel, mode="full", boundary="fill", fillvalue=0):
    from convlib import convolve2d

    return convolve2d(image, kernel, mode, boundary=boundary, fillvalue=fillvalue)


def reference_correlate2d(image, kernel, mode="full", boundary="fill", fillvalue=0):
    from convlib import correlate2d

    return correlate2d(image, kernel, mode, boundary=boundary, fillvalue=fillvalue)


def reference_separable_convolve2d(image, col_kernel, row_kernel, mode="full"):
    from convlib import convolve2d

    return convolve2d(image, np.outer(col_kernel, row_kernel), mode)


def reference_gaussian_kernel(size, sigma):
    from convlib.kernels import gaussian

    return gaussian(size, sigma=sigma, ndim=2)


# ---------------------------------------------------------------------------------------
# classic mistakes


def _crop(full: np.ndarray, shape: tuple[int, int], start: tuple[int, int]) -> np.ndarray:
    return full[start[0] : start[0] + shape[0], start[1] : start[1] + shape[1]]


def _full_with_boundary(image, kernel, boundary, fillvalue, *, pad_mode=None):
    """The 'full' result of a convolution on an image padded the given way."""
    from convlib import convolve2d

    image = np.asarray(image)
    kernel = np.asarray(kernel)
    widths = ((kernel.shape[0] - 1,) * 2, (kernel.shape[1] - 1,) * 2)
    mode = pad_mode or _PAD_MODE[boundary]
    if mode == "constant":
        padded = np.pad(image, widths, mode="constant", constant_values=fillvalue)
    else:
        padded = np.pad(image, widths, mode=mode)
    return convolve2d(padded, kernel, "valid")


def mistake_convolve_not_flipped(image, kernel, mode="full", boundary="fill", fillvalue=0):
    kernel = np.asarray(kernel)
    return reference_convolve2d(image, kernel[::-1, ::-1], mode, boundary, fillvalue)


def mistake_convolve_boundary_ignored(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_convolve2d(image, kernel, mode)


def mistake_convolve_mode_ignored(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_convolve2d(image, kernel, "full", boundary, fillvalue)


def mistake_convolve_always_same(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_convolve2d(image, kernel, "same", boundary, fillvalue)


def mistake_convolve_same_off_by_one(image, kernel, mode="full", boundary="fill", fillvalue=0):
    if mode != "same":
        return reference_convolve2d(image, kernel, mode, boundary, fillvalue)
    kernel = np.asarray(kernel)
    full = reference_convolve2d(image, kernel, "full", boundary, fillvalue)
    return _crop(full, np.shape(image), (kernel.shape[0] // 2, kernel.shape[1] // 2))


def mistake_convolve_symm_as_reflect(image, kernel, mode="full", boundary="fill", fillvalue=0):
    if boundary != "symm" or mode == "valid":
        return reference_convolve2d(image, kernel, mode, boundary, fillvalue)
    kernel = np.asarray(kernel)
    full = _full_with_boundary(image, kernel, boundary, fillvalue, pad_mode="reflect")
    if mode == "full":
        return full
    return _crop(full, np.shape(image), ((kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2))


def mistake_correlate_flipped(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_convolve2d(image, kernel, mode, boundary, fillvalue)


def mistake_correlate_no_conjugate(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_correlate2d(image, np.conj(kernel), mode, boundary, fillvalue)


def mistake_correlate_boundary_ignored(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_correlate2d(image, kernel, mode)


def mistake_correlate_mode_ignored(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_correlate2d(image, kernel, "full", boundary, fillvalue)


def mistake_correlate_always_same(image, kernel, mode="full", boundary="fill", fillvalue=0):
    return reference_correlate2d(image, kernel, "same", boundary, fillvalue)


def mistake_correlate_same_off_by_one(image, kernel, mode="full", boundary="fill", fillvalue=0):
    """'same' taken as a convolution with the flipped kernel: the window starts at (k-1)//2."""
    if mode != "same":
        return reference_correlate2d(image, kernel, mode, boundary, fillvalue)
    kernel = np.asarray(kernel)
    flipped = np.conj(kernel[::-1, ::-1])
    return reference_convolve2d(image, flipped, "same", boundary, fillvalue)


def mistake_separable_swapped(image, col_kernel, row_kernel, mode="full"):
    return reference_separable_convolve2d(image, row_kernel, col_kernel, mode)


def mistake_separable_one_pass(image, col_kernel, row_kernel, mode="full"):
    from convlib import convolve2d

    return convolve2d(image, np.asarray(col_kernel).reshape(-1, 1), mode)


def mistake_separable_not_flipped(image, col_kernel, row_kernel, mode="full"):
    return reference_separable_convolve2d(
        image, np.asarray(col_kernel)[::-1], np.asarray(row_kernel)[::-1], mode
    )


def mistake_separable_same_off_by_one(image, col_kernel, row_kernel, mode="full"):
    if mode != "same":
        return reference_separable_convolve2d(image, col_kernel, row_kernel, mode)
    full = reference_separable_convolve2d(image, col_kernel, row_kernel, "full")
    return _crop(full, np.shape(image), (len(col_kernel) // 2, len(row_kernel) // 2))


def _offsets(size: int) -> np.ndarray:
    return np.arange(size) - (size - 1) / 2.0


def mistake_gaussian_not_normalised(size, sigma):
    r = _offsets(size)
    return np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))


def mistake_gaussian_continuous_constant(size, sigma):
    return mistake_gaussian_not_normalised(size, sigma) / (2 * np.pi * sigma**2)


def mistake_gaussian_off_centre(size, sigma):
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def mistake_gaussian_sigma_as_variance(size, sigma):
    r = _offsets(size)
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma))
    return g / g.sum()


def mistake_gaussian_one_dimensional(size, sigma):
    from convlib.kernels import gaussian

    return gaussian(size, sigma=sigma, ndim=1)


_BOUNDARY_IGNORED = (
    "boundary ignored",
    "Your output matches zero padding whatever `boundary` and `fillvalue` say. "
    "'fill' pads with `fillvalue`, 'wrap' with the opposite edge (periodic), "
    "'symm' with the mirror image including the edge pixel (np.pad mode='symmetric').",
)
_ALWAYS_SAME = (
    "wrong output shape: always 'same'",
    "Your output always has the image's shape, whatever `mode` says. Only 'same' keeps the "
    "image's shape; 'full' has (N1 + K1 - 1, N2 + K2 - 1) pixels (pad K - 1 on every side), "
    "'valid' (N1 - K1 + 1, N2 - K2 + 1) (no padding).",
)
_MODE_IGNORED = (
    "wrong output shape: mode ignored",
    "You always return the 'full' result. 'same' keeps the centre window of the size of "
    "`image`; 'valid' keeps only the positions where the kernel fits entirely inside.",
)

# ---------------------------------------------------------------------------------------
# cases


def convolve2d_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(2, 1), hidden_rng(rng, 2, 1)
    cases = [
        Case("full mode, odd 3x3 kernel", (small_ints(fixed, (4, 5)), small_ints(fixed, (3, 3))), visible=True),
        Case("same mode, odd 3x3 kernel", (small_ints(fixed, (5, 4)), small_ints(fixed, (3, 3))), {"mode": "same"}, visible=True),
        Case("valid mode, odd 3x3 kernel", (small_ints(fixed, (5, 6)), small_ints(fixed, (3, 3))), {"mode": "valid"}, visible=True),
        Case("same mode, even 2x2 kernel", (small_ints(fixed, (4, 4)), small_ints(fixed, (2, 2))), {"mode": "same"}, visible=True),
        Case("wrap boundary, same mode", (small_ints(fixed, (4, 5)), small_ints(fixed, (3, 3))), {"mode": "same", "boundary": "wrap"}, visible=True),
        Case("symm boundary, same mode", (small_ints(fixed, (4, 5)), small_ints(fixed, (3, 3))), {"mode": "same", "boundary": "symm"}, visible=True),
        Case("full mode, even 2x4 kernel", (normal(rng, (6, 7)), normal(rng, (2, 4)))),
        Case("same mode, even 4x2 kernel", (normal(rng, (7, 6)), normal(rng, (4, 2))), {"mode": "same"}),
        Case("valid mode, even 4x4 kernel", (normal(rng, (8, 9)), normal(rng, (4, 4))), {"mode": "valid"}),
        Case("kernel larger than the image, full mode", (normal(rng, (3, 4)), normal(rng, (5, 6)))),
        Case("kernel larger than the image, same mode", (normal(rng, (3, 4)), normal(rng, (5, 6))), {"mode": "same"}),
        Case("kernel larger than the image in both axes, valid mode", (normal(rng, (2, 3)), normal(rng, (4, 5))), {"mode": "valid"}),
        Case("complex image and kernel, full mode", (normal(rng, (5, 5), complex_=True), normal(rng, (3, 2), complex_=True))),
        Case("complex image and kernel, same mode", (normal(rng, (6, 5), complex_=True), normal(rng, (3, 3), complex_=True)), {"mode": "same"}),
        Case("fill boundary with fillvalue=2, same mode", (normal(rng, (5, 6)), normal(rng, (3, 3))), {"mode": "same", "fillvalue": 2.0}),
        Case("fill boundary with fillvalue=-1, full mode", (normal(rng, (4, 4)), normal(rng, (2, 3))), {"boundary": "fill", "fillvalue": -1.0}),
        Case("wrap boundary, full mode", (normal(rng, (5, 6)), normal(rng, (3, 3))), {"boundary": "wrap"}),
        Case("wrap boundary, same mode, even kernel", (normal(rng, (6, 6)), normal(rng, (2, 4))), {"mode": "same", "boundary": "wrap"}),
        Case("symm boundary, same mode", (normal(rng, (6, 5)), normal(rng, (3, 3))), {"mode": "same", "boundary": "symm"}),
        Case("symm boundary, full mode, even kernel", (normal(rng, (5, 6)), normal(rng, (4, 2))), {"boundary": "symm"}),
        Case("symm boundary, valid mode (the boundary plays no part)", (normal(rng, (6, 6)), normal(rng, (3, 3))), {"mode": "valid", "boundary": "symm"}),
        Case("1x1 kernel", (normal(rng, (4, 5)), normal(rng, (1, 1))), {"mode": "same"}),
        Case("one-row kernel (a horizontal filter)", (normal(rng, (5, 8)), normal(rng, (1, 3))), {"mode": "valid"}),
        Case("larger image, 5x5 kernel, same mode", (normal(rng, (24, 32)), normal(rng, (5, 5))), {"mode": "same"}),
    ]
    return cases


def correlate2d_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(2, 2), hidden_rng(rng, 2, 2)
    return [
        Case("full mode, odd 3x3 kernel", (small_ints(fixed, (4, 5)), small_ints(fixed, (3, 3))), visible=True),
        Case("valid mode, odd 3x3 kernel", (small_ints(fixed, (5, 5)), small_ints(fixed, (3, 3))), {"mode": "valid"}, visible=True),
        Case("same mode, even 2x2 kernel", (small_ints(fixed, (4, 5)), small_ints(fixed, (2, 2))), {"mode": "same"}, visible=True),
        Case("complex data: the kernel is conjugated", (small_ints(fixed, (3, 3)) + 1j * small_ints(fixed, (3, 3)), small_ints(fixed, (2, 2)) + 1j * small_ints(fixed, (2, 2))), {"mode": "valid"}, visible=True),
        Case("wrap boundary, same mode", (small_ints(fixed, (4, 5)), small_ints(fixed, (3, 3))), {"mode": "same", "boundary": "wrap"}, visible=True),
        Case("same mode, odd 3x3 kernel", (normal(rng, (6, 5)), normal(rng, (3, 3))), {"mode": "same"}),
        Case("same mode, even 4x2 kernel", (normal(rng, (7, 6)), normal(rng, (4, 2))), {"mode": "same"}),
        Case("full mode, even 2x4 kernel", (normal(rng, (5, 6)), normal(rng, (2, 4)))),
        Case("valid mode, even 4x4 kernel", (normal(rng, (8, 7)), normal(rng, (4, 4))), {"mode": "valid"}),
        Case("kernel larger than the image, full mode", (normal(rng, (3, 3)), normal(rng, (4, 5)))),
        Case("kernel larger than the image, same mode", (normal(rng, (3, 4)), normal(rng, (5, 5))), {"mode": "same"}),
        Case("kernel larger than the image in both axes, valid mode", (normal(rng, (2, 3)), normal(rng, (4, 5))), {"mode": "valid"}),
        Case("complex image and kernel, full mode", (normal(rng, (5, 4), complex_=True), normal(rng, (3, 3), complex_=True))),
        Case("complex image and kernel, same mode, even kernel", (normal(rng, (5, 6), complex_=True), normal(rng, (2, 4), complex_=True)), {"mode": "same"}),
        Case("fill boundary with fillvalue=3, same mode", (normal(rng, (5, 6)), normal(rng, (3, 3))), {"mode": "same", "fillvalue": 3.0}),
        Case("wrap boundary, same mode", (normal(rng, (6, 5)), normal(rng, (3, 3))), {"mode": "same", "boundary": "wrap"}),
        Case("wrap boundary, full mode, even kernel", (normal(rng, (5, 5)), normal(rng, (2, 2))), {"boundary": "wrap"}),
        Case("symm boundary, same mode, even kernel", (normal(rng, (6, 6)), normal(rng, (4, 2))), {"mode": "same", "boundary": "symm"}),
        Case("symm boundary, full mode", (normal(rng, (5, 4)), normal(rng, (3, 3))), {"boundary": "symm"}),
        Case("larger image, 4x4 kernel, same mode", (normal(rng, (20, 24)), normal(rng, (4, 4))), {"mode": "same"}),
    ]


def separable_convolve2d_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(2, 3), hidden_rng(rng, 2, 3)
    return [
        Case("full mode, odd kernels of different lengths", (small_ints(fixed, (4, 5)), small_ints(fixed, (3,)), small_ints(fixed, (2,))), visible=True),
        Case("same mode, odd kernels", (small_ints(fixed, (5, 5)), small_ints(fixed, (3,)), small_ints(fixed, (1,)) + 2.0), {"mode": "same"}, visible=True),
        Case("valid mode", (small_ints(fixed, (5, 6)), small_ints(fixed, (3,)), small_ints(fixed, (4,))), {"mode": "valid"}, visible=True),
        Case("same mode, even kernels", (small_ints(fixed, (5, 6)), floats([1, -2]), floats([2, 1, 0, -1])), {"mode": "same"}, visible=True),
        Case("same mode, even kernels", (normal(rng, (6, 7)), normal(rng, (4,)), normal(rng, (2,))), {"mode": "same"}),
        Case("full mode, even and odd kernels", (normal(rng, (6, 5)), normal(rng, (2,)), normal(rng, (5,)))),
        Case("column kernel longer than the image", (normal(rng, (3, 6)), normal(rng, (5,)), normal(rng, (3,)))),
        Case("complex image and kernels, same mode", (normal(rng, (5, 6), complex_=True), normal(rng, (3,), complex_=True), normal(rng, (4,), complex_=True)), {"mode": "same"}),
        Case("Gaussian blur of a larger image, same mode", (normal(rng, (20, 16)), np.array([1.0, 4, 6, 4, 1]) / 16, np.array([1.0, 2, 1]) / 4), {"mode": "same"}),
    ]


def gaussian_kernel_cases() -> list[Case]:
    return [
        Case("size 3, sigma 1", (3, 1.0), visible=True),
        Case("size 5, sigma 1", (5, 1.0), visible=True),
        Case("even size 4, sigma 1 (the centre lies between samples)", (4, 1.0), visible=True),
        Case("size 5, sigma 2", (5, 2.0), visible=True),
        Case("size 7, sigma 2", (7, 2.0)),
        Case("size 9, sigma 0.5 (narrow)", (9, 0.5)),
        Case("even size 6, sigma 3 (wide)", (6, 3.0)),
        Case("size 1 (the identity kernel)", (1, 1.5)),
        Case("size 11, sigma 1.7", (11, 1.7)),
    ]


# ---------------------------------------------------------------------------------------

ASSIGNMENT = Assignment(
    name="hw2",
    functions=(
        FunctionSpec(
            name="convolve2d",
            grade_id="test_convolve2d",
            points=4,
            cases=convolve2d_cases,
            reference=reference_convolve2d,
            mistakes=(
                Mistake(
                    "kernel not flipped",
                    "Your output is a correlation: convolution flips the kernel in both axes "
                    "(kernel[::-1, ::-1]) before sliding it over the image.",
                    mistake_convolve_not_flipped,
                ),
                Mistake(*_BOUNDARY_IGNORED, mistake_convolve_boundary_ignored),
                Mistake(
                    "'same' window off by one",
                    "For an even kernel the 'same' window of the full output starts at "
                    "(k - 1) // 2 along each axis (as in scipy), not k // 2.",
                    mistake_convolve_same_off_by_one,
                ),
                Mistake(
                    "'symm' padded as 'reflect'",
                    "'symm' repeats the edge pixel (np.pad mode='symmetric'); mode='reflect' "
                    "mirrors about the edge pixel and skips it.",
                    mistake_convolve_symm_as_reflect,
                ),
                Mistake(*_MODE_IGNORED, mistake_convolve_mode_ignored),
                Mistake(*_ALWAYS_SAME, mistake_convolve_always_same),
            ),
        ),
        FunctionSpec(
            name="correlate2d",
            grade_id="test_correlate2d",
            points=3,
            cases=correlate2d_cases,
            reference=reference_correlate2d,
            mistakes=(
                Mistake(
                    "kernel flipped (a convolution)",
                    "Correlation slides the kernel as it is, without flipping it: out[i, j] = "
                    "sum over (m, n) of image[i + m, j + n] * conj(kernel[m, n]).",
                    mistake_correlate_flipped,
                ),
                Mistake(
                    "conjugate missing",
                    "For complex data correlation multiplies by the complex conjugate of the "
                    "kernel (np.conj); real data hides this mistake.",
                    mistake_correlate_no_conjugate,
                ),
                Mistake(*_BOUNDARY_IGNORED, mistake_correlate_boundary_ignored),
                Mistake(
                    "'same' window off by one",
                    "Writing correlation as a convolution with the flipped kernel is fine for "
                    "'full' and 'valid', but scipy's 'same' window of a correlation starts at "
                    "k // 2 of the full correlation, one sample later than the convolution's "
                    "(k - 1) // 2 when k is even.",
                    mistake_correlate_same_off_by_one,
                ),
                Mistake(*_MODE_IGNORED, mistake_correlate_mode_ignored),
                Mistake(*_ALWAYS_SAME, mistake_correlate_always_same),
            ),
        ),
        FunctionSpec(
            name="separable_convolve2d",
            grade_id="test_separable_convolve2d",
            points=2,
            cases=separable_convolve2d_cases,
            reference=reference_separable_convolve2d,
            mistakes=(
                Mistake(
                    "kernels swapped",
                    "`col_kernel` runs down the columns (along axis 0, the rows index) and "
                    "`row_kernel` along each row (axis 1): the 2-D kernel is "
                    "np.outer(col_kernel, row_kernel).",
                    mistake_separable_swapped,
                ),
                Mistake(
                    "only one pass applied",
                    "Your output is the image convolved with `col_kernel` alone: convolve the "
                    "result of the first pass along the other axis with `row_kernel`.",
                    mistake_separable_one_pass,
                ),
                Mistake(
                    "kernel not flipped",
                    "Each 1-D pass is a convolution: flip the 1-D kernels (or use your "
                    "convolve2d, which flips).",
                    mistake_separable_not_flipped,
                ),
                Mistake(
                    "'same' window off by one",
                    "The 'same' window of the full output starts at (len(kernel) - 1) // 2 "
                    "along each axis, not len(kernel) // 2.",
                    mistake_separable_same_off_by_one,
                ),
            ),
        ),
        FunctionSpec(
            name="gaussian_kernel",
            grade_id="test_gaussian_kernel",
            points=1,
            cases=gaussian_kernel_cases,
            reference=reference_gaussian_kernel,
            mistakes=(
                Mistake(
                    "gaussian not normalised",
                    "Divide by the sum of the samples so the kernel sums to 1 (a blur must "
                    "keep the mean brightness).",
                    mistake_gaussian_not_normalised,
                ),
                Mistake(
                    "normalised with the continuous constant",
                    "1 / (2 pi sigma^2) normalises the continuous Gaussian, not its few "
                    "samples: divide by the sum of the samples instead.",
                    mistake_gaussian_continuous_constant,
                ),
                Mistake(
                    "gaussian off centre",
                    "Centre the taps at (size - 1) / 2, which lies between two samples when "
                    "size is even; size // 2 shifts an even kernel by half a pixel.",
                    mistake_gaussian_off_centre,
                ),
                Mistake(
                    "sigma used as the variance",
                    "The exponent is -(x^2 + y^2) / (2 sigma^2): sigma is squared.",
                    mistake_gaussian_sigma_as_variance,
                ),
                Mistake(
                    "wrong output shape: 1-D kernel",
                    "Return the 2-D kernel of shape (size, size): the outer product of the "
                    "1-D Gaussian with itself.",
                    mistake_gaussian_one_dimensional,
                ),
            ),
        ),
    ),
    # forbidden here on top of _forbidden.ALWAYS_FORBIDDEN (library convolutions, sandbox escapes)
    forbidden=(
        "convlib.kernels",
    ),
)
