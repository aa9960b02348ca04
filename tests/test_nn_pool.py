"""convlib's max_pool2d/avg_pool2d against torch.nn.functional (the oracle, same run)."""
import itertools

import numpy as np
import pytest

from convlib import avg_pool2d, max_pool2d

torch = pytest.importorskip("torch")
F = torch.nn.functional


def torch_pool(function, x, **kwargs):
    return function(torch.from_numpy(np.array(x, dtype=np.float64)), **kwargs).numpy()


def _valid(case):
    kernel, stride, padding, _ = case
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (padding, padding) if isinstance(padding, int) else padding
    return all(2 * p <= k for p, k in zip(padding, kernel))


POOL_CASES = [
    case for case in itertools.product(
        [2, 3, (2, 3)],            # kernel_size
        [None, 1, 2, (1, 3)],      # stride
        [0, 1, (1, 0)],            # padding
        [False, True],             # ceil_mode
    )
    if _valid(case)
]


@pytest.mark.parametrize("function,oracle", [(max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)],
                         ids=["max", "avg"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index,case", list(enumerate(POOL_CASES)))
def test_pooling_matches_torch_functional(index, case, dtype, function, oracle):
    kernel_size, stride, padding, ceil_mode = case
    rng = np.random.default_rng(index)
    batched = index % 2 == 0
    x = rng.standard_normal((2, 3, 7, 8) if batched else (3, 7, 8)).astype(dtype)
    x.flags.writeable = False                    # the input must not be modified
    kwargs = dict(stride=stride, padding=padding, ceil_mode=ceil_mode)
    expected = torch_pool(oracle, x, kernel_size=kernel_size, **kwargs)
    got = function(x, kernel_size, **kwargs)
    assert got.dtype == dtype
    assert got.shape == expected.shape
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("size", [5, 6, 7, 8, 9])
@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 1), (3, 2, 1), (3, 3, 0), (2, 3, 1), (3, 2, 0)])
def test_ceil_mode_drops_a_last_window_that_starts_in_the_right_padding_like_torch(size, kernel,
                                                                                  stride, padding):
    x = np.random.default_rng(size).standard_normal((1, 1, size, size))
    for function, oracle in [(max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)]:
        expected = torch_pool(oracle, x, kernel_size=kernel, stride=stride, padding=padding,
                              ceil_mode=True)
        got = function(x, kernel, stride=stride, padding=padding, ceil_mode=True)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_avg_pool_counts_the_padding_but_not_what_lies_beyond_it_in_ceil_mode():
    # 5x5 of ones, window 2, stride 2, padding 1, ceil mode: the corner window holds one
    # input and three padding zeros (1/4); the last window ends at the padding (1.0)
    got = avg_pool2d(np.ones((1, 5, 5)), 2, padding=1, ceil_mode=True)
    expected = torch_pool(F.avg_pool2d, np.ones((1, 5, 5)), kernel_size=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(got, expected)
    assert got[0, 0, 0] == 0.25 and got[0, -1, -1] == 1.0


def test_max_pool_pads_with_minus_infinity_so_negative_inputs_win():
    x = -np.ones((1, 1, 4, 4))
    got = max_pool2d(x, 2, padding=1)
    np.testing.assert_array_equal(got, torch_pool(F.max_pool2d, x, kernel_size=2, padding=1))
    assert np.all(got == -1.0)


def test_max_pool_propagates_nan_like_torch():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    got = max_pool2d(x, 2)
    expected = torch_pool(F.max_pool2d, x, kernel_size=2)
    np.testing.assert_array_equal(got, expected)      # NaN == NaN for assert_array_equal
    assert np.isnan(got[0, 0, 0, 0]) and not np.isnan(got[0, 0, 1, 1])


def test_integer_input_is_pooled_in_float64():
    x = np.arange(2 * 6 * 6).reshape(2, 6, 6)
    got_max, got_avg = max_pool2d(x, 3), avg_pool2d(x, 3)
    assert got_max.dtype == got_avg.dtype == np.float64
    np.testing.assert_array_equal(got_max, torch_pool(F.max_pool2d, x, kernel_size=3))
    np.testing.assert_allclose(got_avg, torch_pool(F.avg_pool2d, x, kernel_size=3), rtol=1e-15)


def test_float16_is_returned_as_float16():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float16)
    got = avg_pool2d(x, 2)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, torch_pool(F.avg_pool2d, x, kernel_size=2), rtol=1e-3, atol=1e-3)


X = np.ones((1, 2, 6, 6))


@pytest.mark.parametrize("function", [max_pool2d, avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("x,args,kwargs,error,match", [
    (X, (3,), dict(padding=2), ValueError, "padding must be at most half of kernel_size"),
    (X, (3,), dict(padding=-1), ValueError, "padding must be a non-negative integer"),
    (X, (0,), {}, ValueError, "kernel_size must be a positive integer"),
    (X, ((2, 2, 2),), {}, ValueError, "kernel_size must be an int or a sequence of 2 ints"),
    (X, (2,), dict(stride=0), ValueError, "stride must be a positive integer"),
    (X, (2.5,), {}, TypeError, "kernel_size must be an integer"),
    (X, (2,), dict(ceil_mode="yes"), TypeError, "ceil_mode must be a bool"),
    (X, (7,), {}, ValueError, "kernel_size is larger than the padded input along spatial axis 0"),
    (np.ones((6, 6)), (2,), {}, ValueError, r"x must have shape \(N, C, H, W\) or \(C, H, W\)"),
    (np.ones((1, 0, 6, 6)), (2,), {}, ValueError, "x must not be empty"),
    (np.ones((1, 6, 6), complex), (2,), {}, TypeError, "x must hold real numbers"),
    (np.array([[["a"]]]), (1,), {}, TypeError, "x must hold numbers"),
])
def test_pooling_bad_arguments_raise_naming_the_argument(function, x, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(x, *args, **kwargs)


@pytest.mark.parametrize("oracle", [F.max_pool2d, F.avg_pool2d])
def test_torch_refuses_the_same_padding_convlib_refuses(oracle):
    # convlib's 'at most half of kernel_size' rule is torch's, not a stricter one
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        oracle(torch.ones(1, 2, 6, 6), 3, padding=2)
    accepted = oracle(torch.ones(1, 2, 6, 6), 3, padding=1)  # what convlib accepts, torch does
    assert max_pool2d(X, 3, padding=1).shape == tuple(accepted.shape)
