"""Shape formulas against torch's own layers (the formulas' users rely on them)."""
import itertools

import pytest

from convlib import conv_output_size, conv_transpose_output_size


@pytest.mark.parametrize(
    "n,k,stride,padding,dilation",
    [c for c in itertools.product([1, 5, 8, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
     if c[3] * 2 + c[0] >= c[4] * (c[1] - 1) + 1],
)
def test_conv_output_size_matches_torch_conv1d(n, k, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    layer = torch.nn.Conv1d(1, 1, k, stride=stride, padding=padding, dilation=dilation)
    out = layer(torch.zeros(1, 1, n))
    assert conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation) == out.shape[-1]


@pytest.mark.parametrize(
    "n,k,stride,padding,output_padding,dilation",
    [c for c in itertools.product([1, 4, 7], [1, 2, 3], [1, 2, 3], [0, 1], [0, 1, 2], [1, 2])
     if c[4] < max(c[2], c[5]) and (c[0] - 1) * c[2] - 2 * c[3] + c[5] * (c[1] - 1) + c[4] + 1 >= 1],
)
def test_conv_transpose_output_size_matches_torch(n, k, stride, padding, output_padding, dilation):
    torch = pytest.importorskip("torch")
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=stride, padding=padding,
                                     output_padding=output_padding, dilation=dilation)
    out = layer(torch.zeros(1, 1, n))
    got = conv_transpose_output_size(n, k, stride=stride, padding=padding,
                                     output_padding=output_padding, dilation=dilation)
    assert got == out.shape[-1]


def test_kernel_larger_than_padded_input_is_an_error_naming_k():
    with pytest.raises(ValueError, match="kernel size k=6"):
        conv_output_size(4, 6)


@pytest.mark.parametrize("name,kwargs,exc", [
    ("stride", {"stride": 0}, ValueError),
    ("padding", {"padding": -1}, ValueError),
    ("dilation", {"dilation": 0}, ValueError),
    ("stride", {"stride": 1.5}, TypeError),
    ("padding", {"padding": True}, TypeError),
])
def test_bad_arguments_name_the_argument(name, kwargs, exc):
    with pytest.raises(exc, match=name):
        conv_output_size(8, 3, **kwargs)


def test_output_padding_must_be_below_stride_or_dilation():
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_size(4, 3, stride=2, output_padding=2)


def test_transpose_padding_too_large_is_an_error():
    with pytest.raises(ValueError, match="padding=3"):
        conv_transpose_output_size(1, 3, padding=3)
