"""Test signals, the lectures' worked examples, and real data that ships with our packages.

Every generator returns a new float64 array; nothing here downloads anything. The
real data come from matplotlib's sample data (``matplotlib.cbook.get_sample_data``),
so matplotlib is imported only by the functions that read them.

Examples
--------
>>> from convlib import signals
>>> signals.impulse(5, index=2)
array([0., 0., 1., 0., 0.])
>>> x, h = signals.worked_example("ahn")
>>> x, h
(array([3., 4., 5.]), array([2., 1.]))
"""
from __future__ import annotations

import numbers

import numpy as np

from convlib._validation import as_int

__all__ = [
    "impulse",
    "step",
    "sinusoid",
    "chirp",
    "noise",
    "rectangular_pulse",
    "outdoor_temperature",
    "worked_example",
    "WORKED_EXAMPLES",
    "stock_prices",
    "eeg",
    "photograph",
]

# name -> (x, h, where it comes from); the values are the lectures', the results are not:
# the chapters compute every output with convlib.
WORKED_EXAMPLES: dict[str, tuple[tuple[float, ...], tuple[float, ...], str]] = {
    "ahn": ((3, 4, 5), (2, 1), "Song Ho Ahn's 'Convolution': x = [3, 4, 5], h = [2, 1]"),
    "slides": ((1, 2, 3, 4, 5), (2, 1), "the lecture slides' table: x = [1, 2, 3, 4, 5], g = [2, 1]"),
    "polynomial": ((1, 2, 3), (3, 2, 2), "(1 + 2x + 3x^2)(3 + 2x + 2x^2) as coefficient lists"),
    "numpy_docs": ((1, 2, 3), (0, 1, 0.5), "numpy.convolve's documentation: [1, 2, 3] and [0, 1, 0.5]"),
}


def _length(n: object, name: str = "n") -> int:
    return as_int(n, name, minimum=1)


def _index(index: object, n: int) -> int:
    index = as_int(index, "index")
    if not -n <= index < n:
        raise ValueError(f"index must lie in [-{n}, {n}) for a signal of length n={n}; got {index}")
    return int(index) % n


def _times(t: object) -> np.ndarray:
    times = np.asarray(t, dtype=float)
    if times.ndim > 1:
        raise ValueError(f"t must be a scalar or a 1-D array of times; got shape {times.shape}")
    return times


def impulse(n: int, *, index: int = 0) -> np.ndarray:
    """Unit impulse (Kronecker delta) of length ``n``: 1 at ``index``, 0 elsewhere.

    Parameters
    ----------
    n : int
        Number of samples (positive).
    index : int, default 0
        Position of the 1 (negative values count from the end, as in NumPy).

    Returns
    -------
    ndarray of shape (n,)
        float64 samples of :math:`\\delta[k - \\text{index}]`.

    Examples
    --------
    >>> impulse(4)
    array([1., 0., 0., 0.])
    >>> impulse(4, index=-1)
    array([0., 0., 0., 1.])
    """
    n = _length(n)
    out = np.zeros(n)
    out[_index(index, n)] = 1.0
    return out


def step(n: int, *, index: int = 0) -> np.ndarray:
    """Unit step of length ``n``: 0 before ``index``, 1 from ``index`` on.

    Parameters
    ----------
    n : int
        Number of samples (positive).
    index : int, default 0
        First sample that equals 1 (negative values count from the end).

    Returns
    -------
    ndarray of shape (n,)
        float64 samples of :math:`u[k - \\text{index}]`.

    Examples
    --------
    >>> step(5, index=2)
    array([0., 0., 1., 1., 1.])
    """
    n = _length(n)
    out = np.zeros(n)
    out[_index(index, n):] = 1.0
    return out


def sinusoid(
    t: np.ndarray, *, frequency: float, amplitude: float = 1.0, phase: float = 0.0
) -> np.ndarray:
    """Sampled sinusoid :math:`A \\cos(2 \\pi f t + \\varphi)`.

    Parameters
    ----------
    t : ndarray of shape (n,)
        Sample times, in seconds (or any unit; ``frequency`` is cycles per unit).
    frequency : float
        Frequency :math:`f` in cycles per unit of ``t``.
    amplitude : float, default 1.0
        Peak value :math:`A`.
    phase : float, default 0.0
        Phase :math:`\\varphi` in radians.

    Returns
    -------
    ndarray of shape (n,)
        The samples.

    Examples
    --------
    >>> t = np.arange(4) / 4           # four samples per second
    >>> np.round(sinusoid(t, frequency=1.0), 12) + 0.0
    array([ 1.,  0., -1.,  0.])
    """
    times = _times(t)
    return amplitude * np.cos(2 * np.pi * frequency * times + phase)


def chirp(t: np.ndarray, *, f0: float, f1: float, t1: float | None = None) -> np.ndarray:
    """Linear chirp: a cosine whose frequency rises from ``f0`` at t = 0 to ``f1`` at ``t1``.

    Same values as ``scipy.signal.chirp(t, f0, t1, f1, method="linear")``:
    :math:`\\cos\\big(2\\pi (f_0 t + \\tfrac{f_1 - f_0}{2 t_1} t^2)\\big)`.

    Parameters
    ----------
    t : ndarray of shape (n,)
        Sample times.
    f0 : float
        Frequency at t = 0 (cycles per unit of ``t``).
    f1 : float
        Frequency at ``t1``.
    t1 : float, optional
        Time at which the frequency reaches ``f1``; defaults to the last time in ``t``.

    Returns
    -------
    ndarray of shape (n,)
        The samples.

    Examples
    --------
    >>> t = np.linspace(0, 1, 5)
    >>> chirp(t, f0=0.0, f1=0.0)
    array([1., 1., 1., 1., 1.])
    """
    times = _times(t)
    if t1 is None:
        if times.size == 0 or float(np.max(times)) <= 0:
            raise ValueError("t1 must be given when t has no positive time")
        t1 = float(np.max(times))
    if t1 <= 0:
        raise ValueError(f"t1 must be positive; got {t1}")
    rate = (f1 - f0) / t1
    return np.cos(2 * np.pi * (f0 * times + 0.5 * rate * times**2))


def noise(
    n: int, *, rng: np.random.Generator | int, scale: float = 1.0
) -> np.ndarray:
    """White Gaussian noise with standard deviation ``scale``, drawn from ``rng``.

    The generator is explicit so every figure and exercise is reproducible.

    Parameters
    ----------
    n : int
        Number of samples (positive).
    rng : numpy.random.Generator or int
        The random generator to draw from, or a seed for ``numpy.random.default_rng``.
    scale : float, default 1.0
        Standard deviation (non-negative).

    Returns
    -------
    ndarray of shape (n,)
        The samples.

    Examples
    --------
    >>> a = noise(3, rng=0)
    >>> b = noise(3, rng=np.random.default_rng(0))
    >>> bool(np.array_equal(a, b)), a.shape
    (True, (3,))
    """
    n = _length(n)
    if scale < 0:
        raise ValueError(f"scale must be non-negative; got {scale}")
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator or an integer seed; got {type(rng).__name__}"
        )
    return rng.normal(0.0, scale, size=n)


def rectangular_pulse(
    t: np.ndarray, *, start: float = 0.0, stop: float = 3.0, amplitude: float = 1.0
) -> np.ndarray:
    """Rectangular pulse: ``amplitude`` for ``start <= t < stop``, 0 elsewhere.

    With the defaults this is the input x(t) of chapter 1's continuous convolution
    with :func:`convlib.kernels.exponential_response`.

    Parameters
    ----------
    t : ndarray of shape (n,)
        Sample times.
    start, stop : float, default 0.0 and 3.0
        Where the pulse begins and ends (``start < stop``).
    amplitude : float, default 1.0
        Height of the pulse.

    Returns
    -------
    ndarray of shape (n,)
        The samples.

    Examples
    --------
    >>> rectangular_pulse(np.array([-1.0, 0.0, 1.5, 3.0]))
    array([0., 1., 1., 0.])
    """
    if not start < stop:
        raise ValueError(f"start must be smaller than stop; got start={start}, stop={stop}")
    times = _times(t)
    return np.where((times >= start) & (times < stop), float(amplitude), 0.0)


def outdoor_temperature(
    days: int = 14,
    *,
    samples_per_day: int = 24,
    rng: np.random.Generator | int = 0,
    mean: float = 10.0,
    daily_swing: float = 6.0,
    front_drop: float = 8.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic outdoor temperature record (degrees Celsius) for the room-temperature example.

    A daily cycle (coldest at 4 am, warmest at 4 pm), a cold front that lowers the
    temperature by ``front_drop`` from the middle of the record on, and weather noise.
    No temperature record ships with our packages, so this one is generated.

    Parameters
    ----------
    days : int, default 14
        Length of the record in days (positive).
    samples_per_day : int, default 24
        Samples per day (24 = hourly).
    rng : numpy.random.Generator or int, default 0
        Generator (or seed) for the weather noise.
    mean : float, default 10.0
        Mean temperature before the front.
    daily_swing : float, default 6.0
        Half the difference between the warmest and the coldest hour of a day.
    front_drop : float, default 8.0
        How much colder it is after the front.

    Returns
    -------
    t_days : ndarray of shape (days * samples_per_day,)
        Sample times in days.
    temperature : ndarray of shape (days * samples_per_day,)
        Temperatures in degrees Celsius.

    Examples
    --------
    >>> t, temp = outdoor_temperature(2, samples_per_day=4)
    >>> t
    array([0.  , 0.25, 0.5 , 0.75, 1.  , 1.25, 1.5 , 1.75])
    >>> temp.shape
    (8,)
    """
    days = _length(days, "days")
    samples_per_day = _length(samples_per_day, "samples_per_day")
    n = days * samples_per_day
    t_days = np.arange(n) / samples_per_day
    cycle = -daily_swing * np.cos(2 * np.pi * (t_days - 4 / 24))  # minimum at 4 am
    front = -front_drop / (1 + np.exp(-(t_days - days / 2) * 3))  # smooth drop mid-record
    weather = np.cumsum(noise(n, rng=rng, scale=0.3 / np.sqrt(samples_per_day / 24)))
    weather -= np.linspace(weather[0], weather[-1], n)  # a random walk tied down at both ends
    return t_days, mean + cycle + front + weather


def worked_example(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The input and kernel of one of the lectures' worked examples.

    Parameters
    ----------
    name : {'ahn', 'slides', 'polynomial', 'numpy_docs'}
        Which example (see ``WORKED_EXAMPLES`` for where each comes from).

    Returns
    -------
    x : ndarray of shape (n,)
        The input signal.
    h : ndarray of shape (m,)
        The kernel (impulse response, filter).

    Examples
    --------
    >>> worked_example("slides")
    (array([1., 2., 3., 4., 5.]), array([2., 1.]))
    """
    if name not in WORKED_EXAMPLES:
        raise ValueError(f"name must be one of {sorted(WORKED_EXAMPLES)}; got {name!r}")
    x, h, _ = WORKED_EXAMPLES[name]
    return np.array(x, dtype=float), np.array(h, dtype=float)


def stock_prices() -> tuple[np.ndarray, np.ndarray]:
    """Google's daily adjusted closing price, 2004-08-19 to 2008-10-14 (matplotlib sample data).

    Returns
    -------
    dates : ndarray of shape (1047,), dtype datetime64[D]
        Trading days.
    price : ndarray of shape (1047,)
        Adjusted close in US dollars.

    Examples
    --------
    >>> dates, price = stock_prices()
    >>> str(dates[0]), float(price[0])
    ('2004-08-19', 100.34)
    """
    from matplotlib import cbook

    data = cbook.get_sample_data("goog.npz")["price_data"]
    return np.array(data["date"]), np.array(data["adj_close"], dtype=float)


def eeg(channel: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One channel of the 4-channel EEG recording in matplotlib's sample data (80 samples/s, 10 s).

    Parameters
    ----------
    channel : int, default 0
        Which of the 4 channels (0-3).

    Returns
    -------
    t : ndarray of shape (800,)
        Sample times in seconds.
    voltage : ndarray of shape (800,)
        The recording (arbitrary units, as stored).

    Examples
    --------
    >>> t, v = eeg()
    >>> t.shape, v.shape, float(t[1])
    ((800,), (800,), 0.0125)
    """
    from matplotlib import cbook

    n_samples, n_channels = 800, 4
    if isinstance(channel, bool) or not isinstance(channel, numbers.Integral):
        raise TypeError(f"channel must be an integer; got {type(channel).__name__}")
    if not 0 <= channel < n_channels:
        raise ValueError(f"channel must be in 0..{n_channels - 1}; got {channel}")
    with cbook.get_sample_data("eeg.dat") as file:
        data = np.fromfile(file, dtype=float).reshape(n_samples, n_channels)
    t = 10.0 * np.arange(n_samples) / n_samples
    return t, data[:, channel].copy()


def photograph(*, gray: bool = True) -> np.ndarray:
    """Grace Hopper's portrait from matplotlib's sample data, as floats in [0, 1].

    Parameters
    ----------
    gray : bool, default True
        Return luminance (ITU-R 601 weights) instead of RGB.

    Returns
    -------
    ndarray of shape (600, 512) or (600, 512, 3)
        The image, row 0 at the top.

    Examples
    --------
    >>> photograph().shape, photograph(gray=False).shape
    ((600, 512), (600, 512, 3))
    """
    from matplotlib import cbook
    import matplotlib.image as mpimg

    with cbook.get_sample_data("grace_hopper.jpg") as file:
        rgb = mpimg.imread(file, format="jpg").astype(float) / 255.0
    if not gray:
        return rgb
    return rgb @ np.array([0.299, 0.587, 0.114])
