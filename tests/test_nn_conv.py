"""convlib's conv1d/conv2d/conv_transpose1d/conv_transpose2d against torch.nn.functional.

torch on the CPU, in float64, is the oracle for every case, computed in the same run.
Each case runs three ways: the NumPy path (device=None), the torch path on the CPU
(device="cpu") and on CUDA (skipped with the reason where there is no CUDA device).
"""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convlib
from convlib import _nn_conv, conv1d, conv2d, conv_transpose1d, conv_transpose2d

torch = pytest.importorskip("torch")
F = torch.nn.functional

DEVICES = [
    None,
    "cpu",
    pytest.param("cuda", marks=[
        pytest.mark.cuda,
        pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available"),
    ]),
]
DTYPES = [np.float64, np.float32]


def random_array(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def torch_oracle(function, x, weight, bias, **kwargs):
    """torch.nn.functional on the CPU in float64 (the data are cast exactly)."""
    def t(a):
        return None if a is None else torch.from_numpy(np.array(a, dtype=np.float64))
    with warnings.catch_warnings():  # torch warns that 'same' with an even kernel copies x
        warnings.simplefilter("ignore", UserWarning)
        return function(t(x), t(weight), t(bias), **kwargs).numpy()


def assert_matches_oracle(got, expected, dtype):
    assert got.dtype == dtype
    assert got.shape == expected.shape
    if dtype == np.float64:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    else:  # float32 sums of up to a few hundred products of O(1) numbers
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def read_only(*arrays):
    """Read-only copies: any write into an input raises, so 'inputs never modified' is tested."""
    out = []
    for a in arrays:
        if a is not None:
            a = a.copy()
            a.flags.writeable = False
        out.append(a)
    return out


# --------------------------------------------------------------------------- conv2d
CONV2D_CASES = [
    (stride, padding, 1 + index % 2, groups, kernel)      # dilation 1 and 2 alternate
    for index, (stride, padding, groups, kernel) in enumerate(itertools.product(
        [1, 2],                           # stride
        [0, (1, 2), "same", "valid"],     # padding
        ["1", "2", "depthwise"],          # groups
        [(3, 3), (2, 4), (3, 2), (1, 1)], # kernel: odd, even, mixed, 1x1
    ))
    if not (padding == "same" and stride != 1)
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,case", list(enumerate(CONV2D_CASES)))
def test_conv2d_matches_torch_functional(index, case, dtype, device):
    stride, padding, dilation, groups_name, kernel = case
    rng = np.random.default_rng(index)
    c_in = 4
    groups = {"1": 1, "2": 2, "depthwise": c_in}[groups_name]
    c_out = 6 if groups_name != "depthwise" else 2 * c_in
    with_bias, batched = index % 2 == 0, index % 3 != 0      # both alternate over the cases
    x = random_array(rng, (2, c_in, 9, 10) if batched else (c_in, 9, 10), dtype)
    weight = random_array(rng, (c_out, c_in // groups, *kernel), dtype)
    bias = random_array(rng, (c_out,), dtype) if with_bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    expected = torch_oracle(F.conv2d, x, weight, bias, **kwargs)
    x_ro, weight_ro, bias_ro = read_only(x, weight, bias)
    got = conv2d(x_ro, weight_ro, bias_ro, device=device, **kwargs)
    assert_matches_oracle(got, expected, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_conv2d_same_padding_puts_the_odd_zero_at_the_end_like_torch(device):
    # an even kernel (2x4) and a dilated even one: the total padding is odd
    rng = np.random.default_rng(1)
    x = random_array(rng, (1, 1, 6, 7), np.float64)
    for kernel, dilation in [((2, 4), 1), ((2, 2), 3)]:
        weight = random_array(rng, (1, 1, *kernel), np.float64)
        got = conv2d(x, weight, padding="same", dilation=dilation, device=device)
        expected = torch_oracle(F.conv2d, x, weight, None, padding="same", dilation=dilation)
        assert got.shape == x.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        # and not the other split: padding the odd zero at the start differs
        kh, kw = (dilation * (k - 1) for k in kernel)
        start_heavy = np.pad(x, ((0, 0), (0, 0), (kh - kh // 2, kh // 2), (kw - kw // 2, kw // 2)))
        assert not np.allclose(got, conv2d(start_heavy, weight, dilation=dilation))


@pytest.mark.parametrize("threads", ["one thread", "one thread per core"])
@pytest.mark.parametrize("budget_rows", [1, 2, 3, 7, 8, 9, 16, 50])
def test_conv2d_tiling_into_batch_chunks_and_row_blocks_gives_the_same_result(monkeypatch,
                                                                               budget_rows, threads):
    # the column buffer holds `budget_rows` output rows: below one sample (8 rows here) the
    # samples are cut into row blocks (3 and 7 leave a shorter last block), above it the
    # batch is cut into chunks of whole samples (9, 16, 50 rows: 1, 2 and 6 samples);
    # the tiles run in turn, or shared out to threads (even for this small input)
    if threads == "one thread":
        monkeypatch.setattr(_nn_conv, "_parallel_workers", lambda: 1)
    else:
        monkeypatch.setattr(_nn_conv, "_PARALLEL_MIN_BYTES", 0)
    rng = np.random.default_rng(2)
    x = random_array(rng, (7, 4, 16, 15), np.float64)
    weight = random_array(rng, (6, 2, 3, 2), np.float64)
    kwargs = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    row_bytes = 4 * 3 * 2 * 17 * 8             # C_in * kH * kW * W_out * itemsize
    monkeypatch.setattr(_nn_conv, "_COLUMNS_CHUNK_BYTES", budget_rows * row_bytes)
    got = conv2d(x, weight, **kwargs)
    assert got.shape == (7, 6, 8, 17)
    np.testing.assert_allclose(got, torch_oracle(F.conv2d, x, weight, None, **kwargs),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", ["one thread", "tile threads"])
@pytest.mark.parametrize("chunk_bytes", [1, 2000, 1 << 20])
def test_depthwise_tiles_match_torch(monkeypatch, threads, chunk_bytes):
    # depthwise layers (one input channel per group, two output channels each): tiles of one
    # output row, several rows or whole samples, run in turn or on the thread pool
    monkeypatch.setattr(_nn_conv, "_COLUMNS_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(_nn_conv, "_PARALLEL_MIN_BYTES", 0 if threads == "tile threads" else 1 << 40)
    rng = np.random.default_rng(4)
    x = random_array(rng, (3, 5, 13, 12), np.float64)
    weight = random_array(rng, (10, 1, 3, 4), np.float64)
    bias = random_array(rng, (10,), np.float64)
    kwargs = dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=5)
    got = conv2d(x, weight, bias, **kwargs)
    np.testing.assert_allclose(got, torch_oracle(F.conv2d, x, weight, bias, **kwargs), rtol=1e-12, atol=1e-12)


def test_conv2d_tile_plan_gives_every_core_work_and_respects_the_buffer_size(monkeypatch):
    monkeypatch.setattr(_nn_conv, "_COLUMNS_CHUNK_BYTES", 1000)
    monkeypatch.setattr(_nn_conv, "_PARALLEL_MIN_BYTES", 0)
    assert _nn_conv._tile_plan(8, 10, 100, 2) == (1, 10, 2)      # 8000 B: 8 tiles of one sample
    assert _nn_conv._tile_plan(8, 10, 25, 2) == (4, 10, 2)       # 2000 B: 2 tiles, one per core
    assert _nn_conv._tile_plan(1, 10, 100, 4) == (1, 3, 4)       # one sample: row blocks
    assert _nn_conv._tile_plan(2, 10, 10, 2) == (1, 10, 2)       # tiny, still one per core
    monkeypatch.setattr(_nn_conv, "_PARALLEL_MIN_BYTES", 10**6)
    assert _nn_conv._tile_plan(2, 10, 10, 2) == (2, 10, 1)       # tiny: one thread, one tile


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_1x1_kernel_fast_path_matches_torch(groups):
    rng = np.random.default_rng(3)
    x = random_array(rng, (3, 4, 5, 6), np.float32)
    weight = random_array(rng, (8, 4 // groups, 1, 1), np.float32)
    bias = random_array(rng, (8,), np.float32)
    got = conv2d(x, weight, bias, groups=groups)
    assert_matches_oracle(got, torch_oracle(F.conv2d, x, weight, bias, groups=groups), np.float32)


def test_conv2d_is_a_correlation_not_a_convolution_and_does_not_conjugate():
    x = np.zeros((1, 1, 3, 3), complex)
    x[0, 0, 1, 1] = 1.0                       # an impulse in the middle
    weight = np.arange(9).reshape(1, 1, 3, 3) * 1j
    got = conv2d(x, weight, padding=1)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(weight), padding=1)
    np.testing.assert_allclose(got, expected.numpy())
    # correlating an impulse gives the kernel reversed (a convolution would give it as is)
    np.testing.assert_allclose(got[0, 0], weight[0, 0, ::-1, ::-1])


def test_conv2d_integer_input_is_computed_exactly_in_float64():
    x = np.arange(2 * 10 * 10).reshape(1, 2, 10, 10)
    weight = np.arange(3 * 2 * 3 * 3).reshape(3, 2, 3, 3) - 20
    bias = np.array([1, 2, 3])
    got = conv2d(x, weight, bias)
    assert got.dtype == np.float64
    # integer sums this small are exact in float64
    np.testing.assert_array_equal(got, torch_oracle(F.conv2d, x, weight, bias))


def test_conv2d_float16_is_returned_as_float16():
    rng = np.random.default_rng(4)
    x = random_array(rng, (1, 2, 6, 6), np.float16)
    weight = random_array(rng, (3, 2, 3, 3), np.float16)
    got = conv2d(x, weight)
    assert got.dtype == np.float16
    expected = torch_oracle(F.conv2d, x, weight, None)
    np.testing.assert_allclose(got.astype(np.float64), expected, rtol=1e-2, atol=1e-2)


def test_conv2d_mixed_float32_and_float64_follow_numpy_promotion():
    rng = np.random.default_rng(5)
    x = random_array(rng, (1, 2, 6, 6), np.float32)
    weight = random_array(rng, (3, 2, 3, 3), np.float64)
    got = conv2d(x, weight)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, torch_oracle(F.conv2d, x, weight, None), rtol=1e-12, atol=1e-12)


def test_conv2d_accepts_nested_lists():
    got = conv2d([[[1.0, 2.0], [3.0, 4.0]]], [[[[1.0, 1.0], [1.0, 1.0]]]])
    np.testing.assert_array_equal(got, [[[10.0]]])


# --------------------------------------------------------------------------- conv1d
CONV1D_CASES = [
    (stride, padding, 1 + index % 2, groups, k)           # dilation 1 and 2 alternate
    for index, (stride, padding, groups, k) in enumerate(itertools.product(
        [1, 3],                    # stride
        [0, 2, (1,), "same", "valid"],
        [1, 2],                    # groups
        [3, 4],                    # kernel: odd and even
    ))
    if not (padding == "same" and stride != 1)
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,case", list(enumerate(CONV1D_CASES)))
def test_conv1d_matches_torch_functional(index, case, dtype, device):
    stride, padding, dilation, groups, k = case
    rng = np.random.default_rng(100 + index)
    with_bias, batched = index % 2 == 1, index % 3 != 1
    x = random_array(rng, (3, 4, 17) if batched else (4, 17), dtype)
    weight = random_array(rng, (6, 4 // groups, k), dtype)
    bias = random_array(rng, (6,), dtype) if with_bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = torch_oracle(F.conv1d, x, weight, bias, **kwargs)
    got = conv1d(*read_only(x, weight, bias), device=device, **kwargs)
    assert_matches_oracle(got, expected, dtype)


# --------------------------------------------------------------------------- transposed
def _valid_transpose_case(n, k, stride, padding, output_padding, dilation):
    return (output_padding < max(stride, dilation)
            and (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 >= 1)


CONV_T2D_CASES = [
    (stride, padding, output_padding, dilation, 1 + index % 2, kernel)   # groups 1 and 2 alternate
    for index, (stride, padding, output_padding, dilation, kernel) in enumerate(itertools.product(
        [1, 2, 3],                 # stride
        [0, 1, (2, 0)],            # padding
        [0, 1],                    # output_padding
        [1, 2],                    # dilation
        [(3, 3), (2, 4)],          # kernel
    ))
    if output_padding < max(stride, dilation)
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index,case", list(enumerate(CONV_T2D_CASES)))
def test_conv_transpose2d_matches_torch_functional(index, case, dtype, device):
    stride, padding, output_padding, dilation, groups, kernel = case
    rng = np.random.default_rng(200 + index)
    with_bias, batched = index % 2 == 0, index % 3 != 2
    x = random_array(rng, (2, 4, 5, 6) if batched else (4, 5, 6), dtype)
    weight = random_array(rng, (4, 6 // groups, *kernel), dtype)
    bias = random_array(rng, (6,), dtype) if with_bias else None
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding,
                  dilation=dilation, groups=groups)
    expected = torch_oracle(F.conv_transpose2d, x, weight, bias, **kwargs)
    got = conv_transpose2d(*read_only(x, weight, bias), device=device, **kwargs)
    assert_matches_oracle(got, expected, dtype)


CONV_T1D_CASES = [
    case for case in itertools.product([1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2], [1, 2], [3, 4])
    if _valid_transpose_case(7, case[5], *case[:4])
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("index,case", list(enumerate(CONV_T1D_CASES)))
def test_conv_transpose1d_matches_torch_functional(index, case, device):
    stride, padding, output_padding, dilation, groups, k = case
    rng = np.random.default_rng(300 + index)
    x = random_array(rng, (2, 4, 7) if index % 2 else (4, 7), np.float64)
    weight = random_array(rng, (4, 3, k), np.float64)
    bias = random_array(rng, (3 * groups,), np.float64)
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding,
                  dilation=dilation, groups=groups)
    expected = torch_oracle(F.conv_transpose1d, x, weight, bias, **kwargs)
    got = conv_transpose1d(*read_only(x, weight, bias), device=device, **kwargs)
    assert_matches_oracle(got, expected, np.float64)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3), groups=st.integers(1, 3), per_group_in=st.integers(1, 2),
    per_group_out=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9),
    kh=st.integers(1, 4), kw=st.integers(1, 4), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), seed=st.integers(0, 2**32 - 1),
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(n, groups, per_group_in, per_group_out, h, w,
                                                   kh, kw, stride, padding, dilation, seed):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every stride/padding/dilation/groups."""
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
    if any(span > size + 2 * p for span, size, p in zip(spans, (h, w), padding)):
        return  # conv2d refuses a kernel larger than the padded input (tested elsewhere)
    rng = np.random.default_rng(seed)
    c_in, c_out = groups * per_group_in, groups * per_group_out
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, per_group_in, kh, kw))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y_shape = conv2d(x, weight, **kwargs).shape
    y = rng.standard_normal(y_shape)
    # output_padding recovers the input size a strided convolution rounded away
    # (computed from the unpadded size: padding p crops 2p samples)
    output_padding = tuple(
        size - (convlib.conv_transpose_output_size(m, k, stride=s, dilation=d) - 2 * p)
        for size, m, k, s, p, d in zip((h, w), y_shape[2:], (kh, kw), stride, padding, dilation)
    )
    back = conv_transpose2d(y, weight, output_padding=output_padding, **kwargs)
    assert back.shape == x.shape
    left = np.vdot(conv2d(x, weight, **kwargs), y)
    right = np.vdot(x, back)
    assert np.isclose(left, right, rtol=1e-10, atol=1e-10)


def test_conv_transpose1d_is_the_adjoint_of_conv1d_with_same_padding():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 11))
    weight = rng.standard_normal((6, 2, 4))            # even kernel: asymmetric 'same'
    y = rng.standard_normal((2, 6, 11))
    # 'same' with k=4, d=1 pads 1 before and 2 after; conv_transpose crops `padding` on both
    # sides, so compare against the padded 'valid' convolution's adjoint, cropped by hand
    x_padded = np.pad(x, ((0, 0), (0, 0), (1, 2)))
    forward = conv1d(x, weight, padding="same", groups=2)
    np.testing.assert_allclose(forward, conv1d(x_padded, weight, groups=2), rtol=1e-12, atol=1e-12)
    back = conv_transpose1d(y, weight, groups=2)[:, :, 1:-2]
    assert np.isclose(np.vdot(forward, y), np.vdot(x, back), rtol=1e-10)


# --------------------------------------------------------------------------- errors
X = np.ones((1, 4, 8, 8))
W = np.ones((6, 4, 3, 3))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(padding="full"), ValueError, r"padding must be .*'same' or 'valid'; got 'full'"),
    (dict(padding=-1), ValueError, "padding must be a non-negative integer"),
    (dict(padding=(1, 2, 3)), ValueError, "padding must be an int or a sequence of 2 ints"),
    (dict(padding="same", stride=2), ValueError, r"padding='same' needs stride=1"),
    (dict(stride=0), ValueError, "stride must be a positive integer"),
    (dict(dilation=0), ValueError, "dilation must be a positive integer"),
    (dict(groups=0), ValueError, "groups must be a positive integer"),
    (dict(groups=1.5), TypeError, "groups must be an integer"),
    (dict(stride=1.0), TypeError, "stride must be an integer"),
    (dict(groups=3), ValueError, r"groups=3 must divide the number of input channels of x \(C=4\)"),
    (dict(groups=2), ValueError, r"weight.shape\[1\] \* groups must equal"),
    (dict(dilation=4), ValueError, "weight's kernel is larger than the padded input"),
    (dict(device=3), TypeError, "device must be None"),
])
def test_conv2d_bad_arguments_raise_naming_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(X, W, **kwargs)


@pytest.mark.parametrize("x,weight,bias,error,match", [
    (np.ones((0, 4, 8, 8)), W, None, ValueError, "x must not be empty"),
    (np.ones((8, 8)), W, None, ValueError, r"x must have shape \(N, C, H, W\) or \(C, H, W\)"),
    (np.array([["a"]]), W, None, TypeError, "x must hold numbers"),
    (X, np.ones((6, 4, 3)), None, ValueError, r"weight must have shape \(C_out, C_in/groups, kH, kW\)"),
    (X, np.ones((6, 4, 0, 3)), None, ValueError, "weight must not be empty"),
    (X, np.ones((6, 3, 3, 3)), None, ValueError, r"weight.shape\[1\] \* groups must equal"),
    (X, W, np.ones(5), ValueError, r"bias must have shape \(C_out,\) = \(6,\)"),
    (X, W, np.array(["b"] * 6), TypeError, "bias must hold numbers"),
    (np.ones((1, 4, 2, 8)), W, None, ValueError, "larger than the padded input along spatial axis 0"),
])
def test_conv2d_bad_arrays_raise_naming_the_argument(x, weight, bias, error, match):
    with pytest.raises(error, match=match):
        conv2d(x, weight, bias)


def test_conv2d_output_channels_not_divisible_by_groups_is_an_error():
    with pytest.raises(ValueError, match=r"groups=2 must divide the number of output channels"):
        conv2d(np.ones((1, 4, 8, 8)), np.ones((5, 2, 3, 3)), groups=2)


def test_conv1d_errors_name_the_1d_layout():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, L\) or \(C, L\)"):
        conv1d(np.ones(8), np.ones((1, 1, 3)))
    with pytest.raises(ValueError, match=r"weight must have shape \(C_out, C_in/groups, kL\)"):
        conv1d(np.ones((1, 8)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="stride must be an int or a sequence of 1 ints"):
        conv1d(np.ones((1, 8)), np.ones((1, 1, 3)), stride=(1, 1))


@pytest.mark.parametrize("kwargs,match", [
    (dict(output_padding=2, stride=2), "output_padding must be smaller than stride or dilation"),
    (dict(output_padding=-1), "output_padding must be a non-negative integer"),
    (dict(padding="same"), "padding must be an int or a tuple of 2 ints for a transposed"),
    (dict(padding=9), "padding=9 is too large"),
    (dict(groups=3), "groups=3 must divide the number of input channels of x"),
])
def test_conv_transpose2d_bad_arguments_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_transpose2d(np.ones((1, 4, 5, 5)), np.ones((4, 2, 3, 3)), **kwargs)


def test_conv_transpose2d_weight_must_have_the_input_channels_first():
    with pytest.raises(ValueError, match=r"weight.shape\[0\]=6 must equal the number of input channels"):
        conv_transpose2d(np.ones((1, 4, 5, 5)), np.ones((6, 4, 3, 3)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available: no error to test")
@pytest.mark.parametrize("function,weight", [(conv2d, W), (conv_transpose2d, np.ones((4, 2, 3, 3)))])
def test_asking_for_cuda_without_cuda_is_an_error_naming_the_device(function, weight):
    with pytest.raises(ValueError, match="cuda"):
        function(X, weight, device="cuda")
