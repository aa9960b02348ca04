"""Classic convolution kernels (filters, impulse responses) used throughout the course.

All kernels are new float64 arrays. The smoothing kernels (:func:`box`,
:func:`gaussian`) sum to 1 so they keep a signal's mean; the edge kernels
(:func:`sobel`, :func:`laplacian`) sum to 0 so a constant signal maps to 0.
Kernels are written for *convolution* (``convlib.convolve2d``, ``scipy.signal.convolve2d``):
a network layer (``convlib.conv2d``, ``torch.nn.functional.conv2d``) cross-correlates,
which is the same as convolving with the kernel flipped.

Examples
--------
>>> from convlib import kernels
>>> kernels.box(4)
array([0.25, 0.25, 0.25, 0.25])
>>> kernels.laplacian()
array([[ 0.,  1.,  0.],
       [ 1., -4.,  1.],
       [ 0.,  1.,  0.]])
"""
from __future__ import annotations


import numpy as np

from convlib._validation import as_int

__all__ = ["box", "gaussian", "sobel", "sharpen", "laplacian", "exponential_response"]


def _size(size: object, name: str = "size") -> int:
    return as_int(size, name, minimum=1)


def _ndim(ndim: object) -> int:
    if ndim not in (1, 2) or isinstance(ndim, bool):
        raise ValueError(f"ndim must be 1 or 2; got {ndim!r}")
    return int(ndim)


def box(size: int, *, ndim: int = 1) -> np.ndarray:
    """Box (moving-average) kernel: every tap equals 1 / (number of taps).

    Parameters
    ----------
    size : int
        Taps along each axis (positive).
    ndim : {1, 2}, default 1
        1 for a 1-D kernel, 2 for a ``size`` x ``size`` kernel.

    Returns
    -------
    ndarray of shape (size,) or (size, size)
        The kernel; it sums to 1.

    Examples
    --------
    >>> box(2)
    array([0.5, 0.5])
    >>> box(2, ndim=2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    size = _size(size)
    shape = (size,) * _ndim(ndim)
    return np.full(shape, 1.0 / size ** len(shape))


def gaussian(size: int, *, sigma: float | None = None, ndim: int = 1) -> np.ndarray:
    """Sampled Gaussian low-pass kernel, normalised to sum to 1.

    Tap :math:`k` (centred, :math:`k = -(size-1)/2, \\dots, (size-1)/2`) is proportional to
    :math:`e^{-k^2 / (2 \\sigma^2)}`; the 2-D kernel is the outer product of two 1-D ones
    (the Gaussian is separable).

    Parameters
    ----------
    size : int
        Taps along each axis (positive).
    sigma : float, optional
        Standard deviation in samples (positive); defaults to ``size / 6`` so the
        kernel spans about :math:`\\pm 3 \\sigma`.
    ndim : {1, 2}, default 1
        1 for a 1-D kernel, 2 for a ``size`` x ``size`` kernel.

    Returns
    -------
    ndarray of shape (size,) or (size, size)
        The kernel; it sums to 1 and is symmetric.

    Examples
    --------
    >>> np.round(gaussian(5, sigma=1.0), 4)
    array([0.0545, 0.2442, 0.4026, 0.2442, 0.0545])
    >>> gaussian(3, ndim=2).shape
    (3, 3)
    """
    size = _size(size)
    ndim = _ndim(ndim)
    if sigma is None:
        sigma = size / 6.0
    if not sigma > 0:
        raise ValueError(f"sigma must be positive; got {sigma}")
    offsets = np.arange(size) - (size - 1) / 2.0
    taps = np.exp(-0.5 * (offsets / sigma) ** 2)
    taps /= taps.sum()
    return taps if ndim == 1 else np.outer(taps, taps)


def sobel(direction: str = "x") -> np.ndarray:
    """3 x 3 Sobel edge kernel: a derivative along one axis, smoothed along the other.

    Convolving an image with ``sobel("x")`` gives a positive response where the
    intensity increases along the columns (left to right); ``sobel("y")`` where it
    increases along the rows (top to bottom).

    Parameters
    ----------
    direction : {'x', 'y'}, default 'x'
        Axis of the derivative: 'x' = columns (axis 1), 'y' = rows (axis 0).

    Returns
    -------
    ndarray of shape (3, 3)
        The kernel; it sums to 0.

    Examples
    --------
    >>> sobel("x")
    array([[ 1.,  0., -1.],
           [ 2.,  0., -2.],
           [ 1.,  0., -1.]])
    >>> bool(np.array_equal(sobel("y"), sobel("x").T))
    True
    """
    if direction not in ("x", "y"):
        raise ValueError(f"direction must be 'x' or 'y'; got {direction!r}")
    kernel = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    return kernel if direction == "x" else kernel.T.copy()


def sharpen() -> np.ndarray:
    """3 x 3 sharpening kernel: the identity plus the negative Laplacian.

    Returns
    -------
    ndarray of shape (3, 3)
        The kernel; it sums to 1, so flat regions are unchanged.

    Examples
    --------
    >>> sharpen()
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    """
    identity = np.zeros((3, 3))
    identity[1, 1] = 1.0
    return identity - laplacian()


def laplacian() -> np.ndarray:
    """3 x 3 discrete Laplacian (4-neighbour): the sum of the second differences along both axes.

    Returns
    -------
    ndarray of shape (3, 3)
        The kernel; it sums to 0.

    Examples
    --------
    >>> laplacian().sum()
    np.float64(0.0)
    """
    second_difference = np.array([1.0, -2.0, 1.0])
    kernel = np.zeros((3, 3))
    kernel[1, :] += second_difference
    kernel[:, 1] += second_difference
    return kernel


def exponential_response(
    t: np.ndarray, *, amplitude: float = 2.0, time_constant: float = 2.0
) -> np.ndarray:
    """Causal exponential impulse response :math:`h(t) = A e^{-t/\\tau}` for t >= 0, 0 before.

    With the defaults this is :math:`h(t) = 2 e^{-t/2}`, the impulse response of chapter 1
    (a room whose temperature relaxes towards the outdoor temperature, or an RC circuit).

    Parameters
    ----------
    t : ndarray of shape (n,)
        Sample times (any grid; negative times give 0).
    amplitude : float, default 2.0
        :math:`A = h(0)`.
    time_constant : float, default 2.0
        :math:`\\tau` (positive), in the unit of ``t``.

    Returns
    -------
    ndarray of shape (n,)
        The samples.

    Examples
    --------
    >>> exponential_response(np.array([-1.0, 0.0, 2.0]))
    array([0.        , 2.        , 0.73575888])
    """
    if not time_constant > 0:
        raise ValueError(f"time_constant must be positive; got {time_constant}")
    times = np.asarray(t, dtype=float)
    if times.ndim > 1:
        raise ValueError(f"t must be a scalar or a 1-D array of times; got shape {times.shape}")
    return np.where(times >= 0, amplitude * np.exp(-np.clip(times, 0, None) / time_constant), 0.0)
