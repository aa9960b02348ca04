"""Tests for convlib.signals: generators against numpy/scipy, the examples, the shipped data."""
import numpy as np
import pytest
import scipy.signal

from convlib import signals


def test_impulse_is_one_sample_of_one():
    x = signals.impulse(7, index=3)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, np.eye(7)[3])


def test_impulse_negative_index_counts_from_the_end():
    np.testing.assert_array_equal(signals.impulse(4, index=-1), [0, 0, 0, 1])


def test_step_is_cumulative_sum_of_impulse():
    np.testing.assert_array_equal(signals.step(9, index=4), np.cumsum(signals.impulse(9, index=4)))


@pytest.mark.parametrize("bad", [0, -3])
def test_length_must_be_positive(bad):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        signals.impulse(bad)


def test_length_must_be_an_integer():
    with pytest.raises(TypeError, match="n must be an integer"):
        signals.step(2.5)


def test_index_out_of_range_names_index():
    with pytest.raises(ValueError, match="index"):
        signals.impulse(3, index=3)


def test_sinusoid_matches_numpy_cosine():
    t = np.linspace(0, 2, 101)
    got = signals.sinusoid(t, frequency=3.0, amplitude=2.0, phase=0.4)
    np.testing.assert_allclose(got, 2.0 * np.cos(2 * np.pi * 3.0 * t + 0.4))


@pytest.mark.parametrize("f0, f1", [(0.0, 5.0), (2.0, 1.0), (1.5, 1.5)])
def test_chirp_matches_scipy_linear_chirp(f0, f1):
    t = np.linspace(0, 3, 301)
    np.testing.assert_allclose(
        signals.chirp(t, f0=f0, f1=f1),
        scipy.signal.chirp(t, f0, 3.0, f1, method="linear"),
        atol=1e-12,
    )


def test_noise_is_reproducible_from_seed_and_generator():
    a = signals.noise(1000, rng=7, scale=2.0)
    b = signals.noise(1000, rng=np.random.default_rng(7), scale=2.0)
    np.testing.assert_array_equal(a, b)
    assert abs(a.std() - 2.0) < 0.2 and abs(a.mean()) < 0.2


def test_noise_requires_a_generator():
    with pytest.raises(TypeError, match="rng"):
        signals.noise(3, rng="seed")


def test_rectangular_pulse_is_half_open():
    t = np.array([-0.5, 0.0, 1.0, 2.999, 3.0, 4.0])
    np.testing.assert_array_equal(signals.rectangular_pulse(t, amplitude=2), [0, 2, 2, 2, 0, 0])


def test_rectangular_pulse_rejects_empty_interval():
    with pytest.raises(ValueError, match="start must be smaller than stop"):
        signals.rectangular_pulse(np.zeros(3), start=1.0, stop=1.0)


def test_outdoor_temperature_has_a_daily_cycle_and_a_cold_front():
    t, temp = signals.outdoor_temperature(14, samples_per_day=24, rng=1)
    assert t.shape == temp.shape == (14 * 24,)
    hour = np.round((t % 1) * 24).astype(int)
    daily = np.array([temp[hour == h].mean() for h in range(24)])
    assert daily.argmin() in (3, 4, 5) and daily.argmax() in (15, 16, 17)
    assert temp[: 5 * 24].mean() - temp[-5 * 24:].mean() > 5


def test_outdoor_temperature_does_not_change_callers_generator_type():
    rng = np.random.default_rng(3)
    signals.outdoor_temperature(2, rng=rng)
    assert isinstance(rng, np.random.Generator)


@pytest.mark.parametrize("name", sorted(signals.WORKED_EXAMPLES))
def test_worked_examples_return_fresh_float_arrays(name):
    x, h = signals.worked_example(name)
    x[0] = 99
    x2, _ = signals.worked_example(name)
    assert x2[0] != 99 and x2.dtype == np.float64 and h.ndim == 1


def test_worked_example_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="slides"):
        signals.worked_example("nope")


def test_stock_prices_are_ordered_daily_prices():
    dates, price = signals.stock_prices()
    assert dates.shape == price.shape and np.all(np.diff(dates) > np.timedelta64(0, "D"))
    assert np.all(price > 0)


def test_eeg_channels_differ_and_have_80_hz_sampling():
    t, a = signals.eeg(0)
    _, b = signals.eeg(3)
    np.testing.assert_allclose(np.diff(t), 1 / 80)
    assert not np.allclose(a, b)
    with pytest.raises(ValueError, match="channel"):
        signals.eeg(4)


def test_photograph_gray_is_luminance_of_rgb():
    rgb = signals.photograph(gray=False)
    gray = signals.photograph()
    assert 0 <= gray.min() and gray.max() <= 1
    np.testing.assert_allclose(gray, 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])
