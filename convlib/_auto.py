"""How ``method="auto"`` chooses: a small cost model, measured on this kind of machine.

This module is the one place where the choice is made and documented. For the
shapes (and dtype) at hand, :func:`estimate_seconds` predicts the time of each
NumPy method from a handful of constants (:data:`COSTS`), and
:func:`choose_method` returns the cheapest. The constants were measured on the
course's reference machine (2 shared cores, AMD Zen 5, NumPy 2.4 with
OpenBLAS), with ``benchmarks/bench_convolve1d.py`` checking the result against
``scipy.signal.convolve``:

* **direct** for 1-D means ``numpy.convolve``
  (:func:`convlib._direct.convolve_direct_fast`: the same sums as convlib's
  shift-and-add, compiled). It has a fast path for short kernels (about 1 ns
  per output sample up to ~8 taps) and costs about 10 ns per output sample
  plus 0.12 ns per multiply-add beyond that. For N-D, direct is convlib's
  shift-and-add: one NumPy pass over the output per kernel tap.
* **fft** costs about ``c * L * log2(L)`` per transform of length ``L`` (three
  transforms), plus page faults on the fresh memory it needs. A long 1-D
  signal is processed by overlap-add in blocks (see :mod:`convlib._fft`),
  which keeps the memory small and the cost linear in the signal length.
  Large overlap-adds (:func:`convlib._fft.overlap_add_threads`) run their
  blocks on several threads (NumPy's FFT releases the GIL). The model counts
  only a conservative part of the ideal speed-up (:data:`COSTS`
  ``"fft_thread_gain"``: two threads measured 1.1-1.9x faster than one while
  other processes shared the two cores, 1.5-2x on idle cores). The *choice*
  uses the single-thread estimate (``threads=1``): near the crossover with
  ``numpy.convolve`` (e.g. n = 1e6, m = 30) a second thread that finds its
  core busy gains nothing, and picking the FFT there would make ``auto``
  slower than scipy. Threads thus only speed up problems the FFT wins anyway.
* **vectorized** (im2col) copies ``k`` numbers per output sample; it is the
  clearest fast formulation to teach but rarely the fastest, and the model
  knows it.

Integer data only go to the FFT when the result is exactly representable in
float64 (scipy's rule); otherwise the direct method keeps them exact.
``"torch"`` is never chosen by the model: it is used when a ``device`` is given.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from convlib._fft import next_fast_len, overlap_add_block_length, overlap_add_threads, use_overlap_add
from convlib._validation import as_numeric_array, check_mode, check_same_ndim, valid_swap_needed

__all__ = ["COSTS", "choose_method", "choose_checked", "estimate_seconds", "fft_is_exact"]

#: Measured constants of the cost model, in seconds.
COSTS = {
    # numpy.convolve (1-D direct)
    "np_convolve_short_per_output": 1.0e-9,  # kernels of up to SHORT_KERNEL taps
    "np_convolve_per_output": 10e-9,  # longer kernels: per output sample ...
    "np_convolve_per_mac": 0.12e-9,  # ... plus per multiply-add
    # shift-and-add (N-D direct): per kernel tap, a pass over the output
    "shift_add_per_element": 1.5e-9,
    "shift_add_per_tap": 3e-6,
    # im2col + matrix product: the copy dominates (padding, buffer, k numbers per output)
    "im2col_per_element": 2.5e-9,
    "im2col_call": 30e-6,
    # FFT: per L*log2(L) of one transform, and a fixed cost per call
    "fft_per_nlogn": 0.4e-9,
    "fft_call": 15e-6,
    # overlap-add on threads: each extra thread adds this fraction of one thread's speed ...
    "fft_thread_gain": 0.3,
    # ... and handing the blocks to the pool costs this, per thread
    "fft_thread_call": 30e-6,
    # page faults on fresh memory (above ~128 KB), per byte
    "page_fault_per_byte": 1.5e-6 / 4096,
}

#: Kernels up to this many taps take numpy.convolve's fast path.
SHORT_KERNEL = 8

#: 1-D problems with at most this many multiply-adds go to numpy.convolve without
#: evaluating the model (their direct cost is below the FFT's fixed cost).
SMALL_1D = 50_000

_FLOAT64_EXACT = 2**53


def _output_size(shape1: tuple[int, ...], shape2: tuple[int, ...], mode: str) -> int:
    if mode == "full":
        return math.prod(n + k - 1 for n, k in zip(shape1, shape2))
    if mode == "same":
        return math.prod(shape1)
    return math.prod(abs(n - k) + 1 for n, k in zip(shape1, shape2))


def _fft_seconds(length: int) -> float:
    """One transform of ``length`` points with fresh memory."""
    return (
        COSTS["fft_call"]
        + COSTS["fft_per_nlogn"] * length * math.log2(max(length, 2))
        + COSTS["page_fault_per_byte"] * 16 * length * (length * 16 > 131072)
    )


def estimate_seconds(
    x_shape: tuple[int, ...], h_shape: tuple[int, ...], mode: str, *, threads: int | None = None
) -> dict[str, float]:
    """Predicted run time of each NumPy method for float64 operands of these shapes.

    Parameters
    ----------
    x_shape, h_shape : tuple of int
        Shapes of the input and the kernel (same length, kernel not larger than
        the input in 'valid' mode).
    mode : {'full', 'same', 'valid'}
        The output mode.
    threads : int, optional
        Threads a 1-D overlap-add may use (default: as many as it would,
        :func:`convlib._fft.overlap_add_threads`); ``1`` for the serial estimate.

    Returns
    -------
    dict
        ``{"direct": seconds, "vectorized": seconds, "fft": seconds}``.

    Examples
    --------
    >>> costs = estimate_seconds((100_000,), (1_000,), "full")
    >>> min(costs, key=costs.get)
    'fft'
    >>> costs = estimate_seconds((100_000,), (5,), "full")
    >>> min(costs, key=costs.get)
    'direct'
    """
    outputs = _output_size(x_shape, h_shape, mode)
    taps = math.prod(h_shape)
    macs = outputs * taps
    if len(x_shape) == 1:
        per_output = (
            COSTS["np_convolve_short_per_output"] if taps <= SHORT_KERNEL else COSTS["np_convolve_per_output"]
        )
        direct = outputs * per_output + macs * COSTS["np_convolve_per_mac"]
    else:
        direct = taps * (COSTS["shift_add_per_tap"] + outputs * COSTS["shift_add_per_element"])
    vectorized = macs * COSTS["im2col_per_element"] + COSTS["im2col_call"]
    longer, shorter = max(x_shape[0], h_shape[0]), min(x_shape[0], h_shape[0])
    if len(x_shape) == 1 and use_overlap_add(longer, shorter):
        block = overlap_add_block_length(shorter)
        blocks = math.ceil(longer / (block - shorter + 1))
        per_block = 2 * (COSTS["fft_per_nlogn"] * block * math.log2(block) + 2e-6)
        if threads is None:
            threads = overlap_add_threads(blocks, block, shorter)
        speed_up = 1 + COSTS["fft_thread_gain"] * (threads - 1)
        fft = (
            blocks * per_block / speed_up
            + (threads > 1) * threads * COSTS["fft_thread_call"]
            + outputs * 8 * COSTS["page_fault_per_byte"]
            + COSTS["fft_call"]
        )
    else:
        length = math.prod(next_fast_len(n + k - 1) for n, k in zip(x_shape, h_shape))
        fft = 3 * _fft_seconds(length)
    return {"direct": direct, "vectorized": vectorized, "fft": fft}


def fft_is_exact(x: np.ndarray, h: np.ndarray, extra: Any = None) -> bool:
    """Whether float64 FFT arithmetic reproduces an integer convolution exactly (scipy's bound).

    ``extra`` is one more value ``x`` may hold (``convolve2d``'s fill value).

    Examples
    --------
    >>> import numpy as np
    >>> fft_is_exact(np.array([1000]), np.array([1000])), fft_is_exact(np.array([2**40]), np.array([2**20]))
    (True, False)
    """
    # the largest magnitudes from min and max: no temporary as large as the input
    x_max = max(abs(int(x.max())), abs(int(x.min())), 0 if extra is None else abs(int(extra)))
    bound = x_max * max(abs(int(h.max())), abs(int(h.min()))) * min(x.size, h.size)
    return bound < _FLOAT64_EXACT // 2


def choose_method(x: ArrayLike, h: ArrayLike, mode: str = "full") -> str:
    """The method ``convolve(x, h, mode, method="auto")`` uses (on the CPU, without torch).

    Parameters
    ----------
    x : array_like
        First input.
    h : array_like
        Second input, same number of dimensions.
    mode : {'full', 'same', 'valid'}, default 'full'
        The output mode.

    Returns
    -------
    str
        ``'direct'``, ``'vectorized'`` or ``'fft'``.

    Raises
    ------
    ValueError, TypeError
        For the same bad inputs as :func:`convlib.convolve`.

    Notes
    -----
    For 1-D inputs, ``'direct'`` runs ``numpy.convolve`` (compiled sums); the
    other methods are the ones of the same names. Integer inputs whose
    convolution could exceed float64's exact range never get ``'fft'``.

    Examples
    --------
    >>> import numpy as np
    >>> choose_method(np.ones(1000), np.ones(3))
    'direct'
    >>> choose_method(np.ones(100_000), np.ones(1_000))
    'fft'
    >>> choose_method(np.ones((512, 512)), np.ones((31, 31)), "same")
    'fft'
    """
    x = as_numeric_array(x, "x")
    h = as_numeric_array(h, "h")
    mode = check_mode(mode)
    if x.ndim == h.ndim == 0:
        return "direct"
    check_same_ndim(x, h)
    if valid_swap_needed(mode, x.shape, h.shape):
        x, h = h, x
    return choose_checked(x, h, mode)


def choose_checked(x: np.ndarray, h: np.ndarray, mode: str) -> str:
    """:func:`choose_method` for checked arrays (the hot path of ``convolve``).

    Examples
    --------
    >>> import numpy as np
    >>> choose_checked(np.ones(10), np.ones(3), "full")
    'direct'
    """
    if x.ndim == 1 and (h.shape[0] <= SHORT_KERNEL or x.shape[0] * h.shape[0] <= SMALL_1D):
        return "direct"  # numpy.convolve: cheaper than the three FFT calls alone
    costs = estimate_seconds(x.shape, h.shape, mode, threads=1)  # see the module docstring
    best = min(costs, key=costs.__getitem__)
    if best == "fft" and (x.dtype.kind in "iub" or h.dtype.kind in "iub") and not fft_is_exact(x, h):
        costs.pop("fft")
        best = min(costs, key=costs.__getitem__)
    return best
