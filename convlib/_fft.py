"""The FFT method: convolution as a product of spectra.

By the convolution theorem, zero-padding both operands to the full output size
``n + k - 1`` (per axis) and multiplying their discrete Fourier transforms
gives the transform of their linear convolution. Real inputs use the real
transforms (``rfftn``/``irfftn``, half the work); transform lengths are rounded
up to 5-smooth numbers (:func:`next_fast_len`), which FFT libraries handle
fastest.

For a long 1-D signal and a much shorter kernel one big transform wastes work
and memory; :func:`overlap_add` cuts the signal into blocks of a few ten
thousand samples, convolves each with one transform of a fixed length and adds
the overlapping tails, reusing the same buffers for every block. On this kind
of machine that was 2-4x faster than scipy's single big FFT for kernels of
>= 300 taps on signals of >= 1e5 samples.
"""
from __future__ import annotations

import bisect
import functools
import operator
import threading
from collections.abc import Sequence

import numpy as np

from convlib._dtypes import cast_result
from convlib._shapes import mode_window
from convlib._threads import num_threads, thread_pool
from convlib._validation import as_int

__all__ = [
    "fft_full",
    "spectral_dtype",
    "normalize_axes",
    "next_fast_len",
    "overlap_add",
    "overlap_add_block_length",
    "overlap_add_threads",
    "use_overlap_add",
    "convolve_fft",
]

_SMOOTH_LIMIT = 1 << 40


@functools.cache
def _five_smooth_numbers() -> list[int]:
    """All numbers 2^a 3^b 5^c up to ``_SMOOTH_LIMIT``, sorted (about 10,000 of them)."""
    numbers = []
    power5 = 1
    while power5 <= _SMOOTH_LIMIT:
        power35 = power5
        while power35 <= _SMOOTH_LIMIT:
            value = power35
            while value <= _SMOOTH_LIMIT:
                numbers.append(value)
                value *= 2
            power35 *= 3
        power5 *= 5
    return sorted(numbers)


def next_fast_len(target: int) -> int:
    """Smallest 5-smooth number (only prime factors 2, 3, 5) that is ``>= target``.

    FFTs of such lengths run fastest; padding to them costs little
    (at most a few percent more samples than ``target``).

    Parameters
    ----------
    target : int
        Minimum length (positive).

    Returns
    -------
    int
        A length ``>= target`` of the form ``2**a * 3**b * 5**c``.

    Raises
    ------
    ValueError
        If ``target`` is not positive or too large.

    Examples
    --------
    >>> next_fast_len(7)
    8
    >>> next_fast_len(1001)
    1024
    >>> next_fast_len(4097)
    4320
    """
    target = operator.index(target)
    if target < 1 or target > _SMOOTH_LIMIT:
        raise ValueError(f"target must be between 1 and {_SMOOTH_LIMIT}; got {target}")
    numbers = _five_smooth_numbers()
    return numbers[bisect.bisect_left(numbers, target)]


def overlap_add_block_length(kernel_length: int) -> int:
    """FFT length used by :func:`overlap_add` for a kernel of ``kernel_length`` taps.

    At least 16384 (shorter transforms pay more per-call overhead than they save)
    and 4 kernel lengths (so most of each transform yields new output).
    Measured on this kind of machine (CPU time, min of 7): 16384 was best for
    kernels of 300 to 3000 taps, 32768 to 65536 for 10^4 taps; a single big FFT
    was 2-3x slower than the best block length for signals of 1e5 to 1e6 samples.

    Parameters
    ----------
    kernel_length : int
        Number of kernel taps.

    Returns
    -------
    int
        A 5-smooth transform length.

    Examples
    --------
    >>> overlap_add_block_length(301)
    16384
    >>> overlap_add_block_length(10_000)
    40000
    """
    return next_fast_len(max(16384, 4 * kernel_length))


def use_overlap_add(signal_length: int, kernel_length: int) -> bool:
    """Whether the 1-D FFT method processes the signal in blocks (:func:`overlap_add`).

    Blocks pay off once the signal spans at least two of them.

    Parameters
    ----------
    signal_length, kernel_length : int
        Lengths of the longer and the shorter operand.

    Returns
    -------
    bool

    Examples
    --------
    >>> use_overlap_add(1_000_000, 301), use_overlap_add(10_000, 301)
    (True, False)
    """
    return signal_length >= 2 * overlap_add_block_length(kernel_length)


#: Overlap-add runs on threads only when its blocks hold at least this many
#: transform points in all (about 0.5 ms of transforms; measured with another
#: process loading both cores, two threads took 0.55-0.8 of one thread's time
#: from 4 blocks of 16384 points up): below, handing work to threads costs a
#: noticeable part of the time saved.
PARALLEL_MIN_POINTS = 1 << 16

_buffers = threading.local()


def overlap_add_threads(block_count: int, fft_length: int, kernel_length: int) -> int:
    """Number of threads :func:`overlap_add` uses for these blocks by default.

    Parameters
    ----------
    block_count : int
        Number of blocks transformed.
    fft_length : int
        Transform length per block.
    kernel_length : int
        Number of kernel taps.

    Returns
    -------
    int
        1 (serial) for small problems (fewer than :data:`PARALLEL_MIN_POINTS`
        transform points), or when blocks overlap by more than one neighbour
        (the sums would then be added in another order than serially);
        otherwise up to :func:`convlib._threads.num_threads`, at most one per block.

    Examples
    --------
    >>> overlap_add_threads(1, 16384, 301)
    1
    >>> overlap_add_threads(62, 16384, 301) == min(num_threads(), 62)
    True
    """
    if block_count < 2 or block_count * fft_length < PARALLEL_MIN_POINTS:
        return 1
    if fft_length - kernel_length + 1 < kernel_length - 1:
        return 1
    return min(num_threads(), block_count)


def _new_buffers(fft_length: int, segment_dtype: np.dtype, spectrum_h: np.ndarray, piece_dtype: np.dtype):
    """Block buffers: the zero-padded segment, its spectrum and the transformed-back piece."""
    return np.zeros(fft_length, segment_dtype), np.empty_like(spectrum_h), np.empty(fft_length, piece_dtype)


def _thread_buffers(fft_length: int, segment_dtype: np.dtype, spectrum_h: np.ndarray, piece_dtype: np.dtype):
    """This pool thread's block buffers, kept between calls (fresh large arrays cost page faults)."""
    key = (fft_length, segment_dtype, spectrum_h.shape, spectrum_h.dtype, piece_dtype)
    if getattr(_buffers, "key", None) != key:
        _buffers.key = key
        _buffers.arrays = _new_buffers(fft_length, segment_dtype, spectrum_h, piece_dtype)
    return _buffers.arrays


class _BlockQueue:
    """Blocks of one overlap-add, handed out one at a time to whichever thread asks first.

    Dynamic hand-out keeps all threads busy when one of them loses its core to
    another process (a fixed split would wait for the slowest thread). Each
    block adds its samples before the next block's start to ``out`` and keeps
    the rest, the part the next block also adds to, as a tail that the caller
    adds once all blocks are done: so no two threads write the same samples,
    and as each sample is a sum of at most two numbers, whose order does not
    matter, the result is bit for bit the serial one.
    """

    def __init__(self, starts: range) -> None:
        self._starts = iter(starts)
        self._in_flight = 0
        self._condition = threading.Condition()
        self.tails: list[tuple[int, np.ndarray]] = []
        self.errors: list[BaseException] = []

    def claim(self) -> int | None:
        """The next block's start (now in flight), or None when all are taken."""
        with self._condition:
            start = next(self._starts, None)
            if start is not None:
                self._in_flight += 1
            return start

    def finish(self, tail: tuple[int, np.ndarray] | None) -> None:
        with self._condition:
            if tail is not None:
                self.tails.append(tail)
            self._in_flight -= 1
            self._condition.notify_all()

    def wait(self) -> None:
        """Wait until every claimed block is finished (call once ``claim`` returned None)."""
        with self._condition:
            self._condition.wait_for(lambda: self._in_flight == 0)


def _overlap_add_blocks(
    x: np.ndarray,
    spectrum_h: np.ndarray,
    out: np.ndarray,
    starts: range | _BlockQueue,
    *,
    fft_length: int,
    step: int,
    window: tuple[int, int],
    in_pool: bool = True,
) -> None:
    """Add the blocks of ``x`` starting at ``starts`` (a range: serially, in order) into ``out``.

    With a :class:`_BlockQueue`, blocks are claimed from it until none is left
    and each block's tail is handed to the queue instead of added to ``out``.
    """
    n = x.shape[0]
    start, length = window
    is_complex = spectrum_h.dtype.kind == "c" and out.dtype.kind == "c"
    forward, inverse = (np.fft.fft, np.fft.ifft) if is_complex else (np.fft.rfft, np.fft.irfft)
    segment_dtype = np.result_type(x.dtype, out.dtype)
    buffers = _thread_buffers if in_pool else _new_buffers
    segment, spectrum, piece = buffers(fft_length, segment_dtype, spectrum_h, out.dtype)
    queue = starts if isinstance(starts, _BlockQueue) else None
    blocks = iter(queue.claim, None) if queue is not None else iter(starts)
    for i in blocks:
        tail = None
        try:
            count = min(step, n - i)
            segment[:count] = x[i : i + count]
            segment[count:] = 0
            forward(segment, out=spectrum)
            spectrum *= spectrum_h
            inverse(spectrum, fft_length, out=piece)
            lo = max(i, start)
            hi = min(i + fft_length, start + length)
            if queue is not None and hi > i + step:
                middle = max(lo, i + step)
                tail = (middle - start, piece[middle - i : hi - i].copy())
                hi = middle
            if hi > lo:
                out[lo - start : hi - start] += piece[lo - i : hi - i]
        except BaseException as error:
            if queue is not None:
                queue.errors.append(error)
            raise
        finally:
            if queue is not None:
                queue.finish(tail)


def overlap_add(
    x: np.ndarray,
    h: np.ndarray,
    *,
    window: tuple[int, int] | None = None,
    block_length: int | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """1-D convolution by overlap-add: FFT-convolve blocks of ``x`` and add the tails.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Signal, float or complex.
    h : ndarray of shape (k,)
        Kernel, float or complex.
    window : (int, int), optional
        ``(start, length)`` of the part of the full convolution to compute
        (default: all ``n + k - 1`` samples); see :func:`convlib._shapes.mode_window`.
    block_length : int, optional
        FFT length per block; must be at least ``k``. By default, the signal is
        cut into as many blocks as :func:`overlap_add_block_length` needs, all
        of the same size, and each block's transform length is the next fast
        length (never longer than the default).
    threads : int, optional
        Threads that transform blocks in parallel (default:
        :func:`overlap_add_threads`). This thread and ``threads - 1`` pool
        threads take the blocks one at a time; the block boundaries are the
        same for any number of threads, and the result is bit for bit that
        of the serial path (``threads=1``) whenever a sample gets contributions
        from at most two blocks (``block_length >= 2 * k - 2``); otherwise the
        blocks are done serially.

    Returns
    -------
    ndarray of shape (length,)
        float64/complex128 (float32/complex64 if both inputs are single precision).

    Examples
    --------
    >>> import numpy as np
    >>> overlap_add(np.arange(6.0), np.array([1.0, -1.0]), block_length=4).round(12)
    array([ 0.,  1.,  1.,  1.,  1.,  1., -5.])
    """
    n, k = x.shape[0], h.shape[0]
    start, length = window if window is not None else (0, n + k - 1)
    if block_length is None:
        # as many blocks as the default length needs, then of equal size (no short last block)
        blocks = -(-n // (overlap_add_block_length(k) - k + 1))
        fft_length = next_fast_len(-(-n // blocks) + k - 1)
    else:
        fft_length = block_length
    if fft_length < k:
        raise ValueError(f"block_length must be at least the kernel length {k}; got {fft_length}")
    if threads is not None:
        threads = as_int(threads, "threads", minimum=1)
    is_complex = np.iscomplexobj(x) or np.iscomplexobj(h)
    spectrum_h = (np.fft.fft if is_complex else np.fft.rfft)(h, fft_length)
    step = fft_length - k + 1  # new input samples per block
    dtype = spectrum_h.dtype if is_complex else spectrum_h.real.dtype
    out = np.zeros(length, dtype=dtype)
    # Input samples [i, i + step) affect full-convolution samples [i, i + step + k - 1); only
    # blocks that reach the window [start, start + length) are transformed.
    first_block = max(0, (start - k + 1) // step * step)
    starts = range(first_block, min(n, start + length), step)
    if threads is None:
        threads = overlap_add_threads(len(starts), fft_length, k)
    elif step < k - 1:
        threads = 1  # a sample gets three or more contributions: keep the serial order
    threads = min(threads, len(starts))
    window = (start, length)
    if threads <= 1:
        _overlap_add_blocks(x, spectrum_h, out, starts, fft_length=fft_length, step=step, window=window, in_pool=False)
        return out
    # threads - 1 pool threads and this one take blocks from a shared queue, each with its own buffers
    queue = _BlockQueue(starts)
    pool = thread_pool(threads - 1)
    for _ in range(threads - 1):
        pool.submit(_overlap_add_blocks, x, spectrum_h, out, queue, fft_length=fft_length, step=step, window=window)
    _overlap_add_blocks(x, spectrum_h, out, queue, fft_length=fft_length, step=step, window=window)
    queue.wait()  # blocks claimed by pool threads are done; a thread that starts late finds none left
    if queue.errors:
        raise queue.errors[0]
    for offset, values in queue.tails:
        out[offset : offset + values.shape[0]] += values
    return out


def spectral_dtype(*dtypes: np.dtype) -> np.dtype:
    """Floating dtype of an FFT result: single precision stays single, long double stays
    long double (NumPy's FFT computes in it, as scipy's does), the rest is double.

    Examples
    --------
    >>> spectral_dtype(np.dtype(np.float16), np.dtype(np.int8))
    dtype('float32')
    >>> spectral_dtype(np.dtype(np.int64)), spectral_dtype(np.dtype(np.complex64))
    (dtype('float64'), dtype('complex64'))
    """
    result = np.result_type(*dtypes)
    if result.kind == "c":
        return np.dtype(np.complex64) if result.itemsize <= 8 else result
    if result.kind == "f" and result.itemsize <= 4:
        return np.dtype(np.float32)
    if result.kind == "f":
        return result
    return np.dtype(np.float64)


def fft_full(x: np.ndarray, h: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Full linear convolution along ``axes`` (other axes broadcast) with one transform.

    Examples
    --------
    >>> fft_full(np.array([1.0, 2.0]), np.array([1.0, 1.0]), [0]).round(12)
    array([1., 3., 2.])
    """
    if not axes:
        return x * h
    is_complex = np.iscomplexobj(x) or np.iscomplexobj(h)
    work_dtype = spectral_dtype(x.dtype, h.dtype)
    x = x.astype(work_dtype, copy=False)
    h = h.astype(work_dtype, copy=False)
    full = [x.shape[a] + h.shape[a] - 1 for a in axes]
    fast = [next_fast_len(s) for s in full]
    if is_complex:
        spectrum = np.fft.fftn(x, fast, axes=axes) * np.fft.fftn(h, fast, axes=axes)
        result = np.fft.ifftn(spectrum, fast, axes=axes)
    else:
        spectrum = np.fft.rfftn(x, fast, axes=axes) * np.fft.rfftn(h, fast, axes=axes)
        result = np.fft.irfftn(spectrum, fast, axes=axes)
    crop = [slice(None)] * result.ndim
    for a, s in zip(axes, full):
        crop[a] = slice(0, s)
    return result[tuple(crop)].astype(work_dtype, copy=False)


def convolve_fft(x: np.ndarray, h: np.ndarray, mode: str) -> np.ndarray:
    """N-dimensional convolution by FFT, in the dtype of the direct method.

    Integer and bool inputs are transformed in float64 and the result rounded
    back (exact while sums stay below 2**53); 1-D problems with a long signal
    and a comparatively short kernel use :func:`overlap_add`.

    Parameters
    ----------
    x : ndarray of shape (n_1, ..., n_d)
        The input, numeric, not empty.
    h : ndarray of shape (k_1, ..., k_d)
        The kernel, same number of dimensions; in ``'valid'`` mode not larger
        than ``x`` in any dimension.
    mode : {'full', 'same', 'valid'}
        Which part of the full convolution to return (scipy.signal's rules).

    Returns
    -------
    ndarray
        The convolution, dtype ``np.result_type(x, h)``.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_fft(np.array([3, 4, 5]), np.array([2, 1]), "full")
    array([ 6, 11, 14,  5])
    >>> convolve_fft(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "same")
    array([1. , 2.5, 4. ])
    """
    dtype = np.result_type(x, h)
    window = mode_window(x.shape, h.shape, mode)
    if dtype.kind in "iub":
        x = x.astype(np.float64)
        h = h.astype(np.float64)
    if x.ndim == 1:
        # the full convolution is symmetric in its operands: block the longer one
        longer, shorter = (x, h) if x.shape[0] >= h.shape[0] else (h, x)
        if use_overlap_add(longer.shape[0], shorter.shape[0]):
            return cast_result(overlap_add(longer, shorter, window=window[0]), dtype)
    full = fft_full(x, h, tuple(range(x.ndim)))
    return cast_result(full[tuple(slice(s, s + n) for s, n in window)], dtype)


def normalize_axes(axes: int | Sequence[int] | None, ndim: int) -> list[int]:
    """``fftconvolve``'s ``axes`` as a list of distinct non-negative ints (scipy's rules and errors).

    Examples
    --------
    >>> normalize_axes(-1, 3), normalize_axes(None, 2)
    ([2], [0, 1])
    >>> normalize_axes(1.5, 2)
    Traceback (most recent call last):
    ...
    ValueError: axes must be an int or a sequence of ints; got 1.5
    """
    if axes is None:
        return list(range(ndim))
    values = [axes] if np.ndim(axes) == 0 else list(np.asarray(axes, dtype=object).ravel())
    if not values:
        raise ValueError("axes must not be empty when given (use axes=None for all axes); got []")
    result = []
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"axes must be an int or a sequence of ints; got {axes!r}")
        if not -ndim <= value < ndim:
            raise ValueError(f"axes entries must lie in [-{ndim}, {ndim}) for {ndim}-D inputs; got {value}")
        result.append(int(value) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"axes must not repeat an axis; got {axes!r}")
    return result
