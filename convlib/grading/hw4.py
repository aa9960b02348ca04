"""Homework 4, the layers of a CNN: cases, references and known mistakes.

Students write ``conv_output_size``, ``conv2d_forward`` / ``conv2d_backward`` (NumPy,
equal to :func:`torch.nn.functional.conv2d` and its autograd gradients),
``max_pool2d_forward`` and ``conv2d_torch`` (torch tensors in and out, without
``F.conv2d``; checked on the CPU and, where the grading machine has one, on CUDA
against ``F.conv2d`` on the same device with TF32 off). The references are convlib's
functions and torch itself; the mistakes below are the classic wrong
implementations, used only to name what went wrong in the feedback.
"""
from __future__ import annotations

import math

import numpy as np

from .inputs import hidden_rng, normal, public_rng, small_ints
from .spec import Assignment, Case, FunctionSpec, Mistake

__all__ = ["ASSIGNMENT"]


# ---------------------------------------------------------------------------------------
# references (trusted: convlib and torch)


def reference_conv_output_size(n, k, stride=1, padding=0, dilation=1):
    from convlib import conv_output_size

    return conv_output_size(n, k, stride=stride, padding=padding, dilation=dilation)


def reference_conv2d_forward(x, w, b, stride=1, padding=0):
    from convlib import conv2d

    return conv2d(x, w, b, stride=stride, padding=padding)


def _torch_gradients(dout, x, w, b, stride, padding, *, flip_weight=False, keep_padding=False):
    """(dx, dw, db) of F.conv2d by autograd, float64; options give the classic wrong variants."""
    import torch
    import torch.nn.functional as F

    x_t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    if keep_padding:  # differentiate with respect to the padded input
        x_t = F.pad(x_t, (padding,) * 4)
        padding = 0
    x_t.requires_grad_(True)
    w_np = np.asarray(w, dtype=np.float64)
    w_t = torch.as_tensor(w_np[..., ::-1, ::-1].copy() if flip_weight else w_np)
    w_t.requires_grad_(True)
    b_t = torch.as_tensor(np.asarray(b, dtype=np.float64)).requires_grad_(True)
    out = F.conv2d(x_t, w_t, b_t, stride=stride, padding=padding)
    out.backward(torch.as_tensor(np.asarray(dout, dtype=np.float64)))
    dw = w_t.grad.numpy()
    if flip_weight:
        dw = dw[..., ::-1, ::-1]
    return x_t.grad.numpy(), dw.copy(), b_t.grad.numpy()


def reference_conv2d_backward(dout, x, w, b, stride=1, padding=0):
    return _torch_gradients(dout, x, w, b, stride, padding)


def reference_max_pool2d_forward(x, kernel_size, stride=None):
    from convlib import max_pool2d

    return max_pool2d(x, kernel_size, stride=stride)


def reference_conv2d_torch(x, w, b, stride=1, padding=0):
    import torch
    import torch.nn.functional as F

    from convlib._torch import tf32_disabled

    with tf32_disabled(), torch.no_grad():
        return F.conv2d(x, w, b, stride=stride, padding=padding)


# ---------------------------------------------------------------------------------------
# classic mistakes


def mistake_size_one_side(n, k, stride=1, padding=0, dilation=1):
    return (n + padding - dilation * (k - 1) - 1) // stride + 1


def mistake_size_dilation_ignored(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - k) // stride + 1


def mistake_size_no_plus_one(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride


def mistake_size_ceil(n, k, stride=1, padding=0, dilation=1):
    return math.ceil((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1


def mistake_size_stride_ignored(n, k, stride=1, padding=0, dilation=1):
    return n + 2 * padding - dilation * (k - 1)


def _pad_top_left(x, padding):
    return np.pad(np.asarray(x), ((0, 0), (0, 0), (padding, 0), (padding, 0)))


def mistake_forward_flipped(x, w, b, stride=1, padding=0):
    w = np.asarray(w)[..., ::-1, ::-1].copy()  # .copy(): fresh strides even for 1x1 kernels
    return reference_conv2d_forward(x, w, b, stride, padding)


def mistake_forward_stride_ignored(x, w, b, stride=1, padding=0):
    return reference_conv2d_forward(x, w, b, 1, padding)


def mistake_forward_padding_ignored(x, w, b, stride=1, padding=0):
    return reference_conv2d_forward(x, w, b, stride, 0)


def mistake_forward_one_side(x, w, b, stride=1, padding=0):
    return reference_conv2d_forward(_pad_top_left(x, padding), w, b, stride, 0)


def mistake_forward_no_bias(x, w, b, stride=1, padding=0):
    return reference_conv2d_forward(x, w, np.zeros_like(np.asarray(b)), stride, padding)


def mistake_backward_dw_flipped(dout, x, w, b, stride=1, padding=0):
    dx, dw, db = _torch_gradients(dout, x, w, b, stride, padding)
    return dx, dw[..., ::-1, ::-1].copy(), db


def mistake_backward_dx_not_flipped(dout, x, w, b, stride=1, padding=0):
    dx, _, _ = _torch_gradients(dout, x, w, b, stride, padding, flip_weight=True)
    _, dw, db = _torch_gradients(dout, x, w, b, stride, padding)
    return dx, dw, db


def mistake_backward_db_per_sample(dout, x, w, b, stride=1, padding=0):
    dx, dw, _ = _torch_gradients(dout, x, w, b, stride, padding)
    return dx, dw, np.asarray(dout, dtype=np.float64).sum(axis=(2, 3))


def mistake_backward_padding_kept(dout, x, w, b, stride=1, padding=0):
    dx, _, _ = _torch_gradients(dout, x, w, b, stride, padding, keep_padding=True)
    _, dw, db = _torch_gradients(dout, x, w, b, stride, padding)
    return dx, dw, db


def mistake_backward_crop_minus_zero(dout, x, w, b, stride=1, padding=0):
    """dx cropped with dx_pad[:, :, p:-p, p:-p]: right for p > 0, empty for p = 0."""
    dx, dw, db = reference_conv2d_backward(dout, x, w, b, stride, padding)
    if padding == 0:
        dx = dx[:, :, 0:0, 0:0]
    return dx, dw, db


def mistake_pool_stride_one(x, kernel_size, stride=None):
    return reference_max_pool2d_forward(x, kernel_size, 1 if stride is None else stride)


def mistake_pool_max_from_zero(x, kernel_size, stride=None):
    return np.maximum(reference_max_pool2d_forward(x, kernel_size, stride), 0.0)


def mistake_pool_average(x, kernel_size, stride=None):
    from convlib import avg_pool2d

    return avg_pool2d(x, kernel_size, stride=stride)


def mistake_pool_ceil(x, kernel_size, stride=None):
    from convlib import max_pool2d

    return max_pool2d(x, kernel_size, stride=stride, ceil_mode=True)


def mistake_torch_flipped(x, w, b, stride=1, padding=0):
    return reference_conv2d_torch(x, w.flip((-2, -1)), b, stride, padding)


def mistake_torch_stride_ignored(x, w, b, stride=1, padding=0):
    return reference_conv2d_torch(x, w, b, 1, padding)


def mistake_torch_one_side(x, w, b, stride=1, padding=0):
    import torch.nn.functional as F

    return reference_conv2d_torch(F.pad(x, (padding, 0, padding, 0)), w, b, stride, 0)


def mistake_torch_no_bias(x, w, b, stride=1, padding=0):
    return reference_conv2d_torch(x, w, None, stride, padding)


# ---------------------------------------------------------------------------------------
# cases


def conv_output_size_cases() -> list[Case]:
    def case(name, n, k, visible=False, **options):
        return Case(name, (n, k), options, visible=visible)

    return [
        case("'valid' convolution: 5 samples, 3 taps", 5, 3, visible=True),
        case("stride 2 and padding 1", 32, 3, visible=True, stride=2, padding=1),
        case("dilation 2", 7, 3, visible=True, dilation=2),
        case("stride that does not divide the length (floor)", 10, 4, stride=3),
        case("padding 2 keeps the size of a 5-tap kernel", 28, 5, visible=True, padding=2),
        case("even kernel, stride 2, padding 1", 6, 2, stride=2, padding=1),
        case("ResNet stem: 224, k=7, stride 2, padding 3", 224, 7, stride=2, padding=3),
        case("stride, padding and dilation together", 8, 3, stride=3, padding=2, dilation=2),
        case("dilation with stride 2, no padding", 9, 3, stride=2, dilation=2),
        case("kernel as long as the input", 4, 4),
        case("1x1 kernel", 1, 1),
        case("stride larger than the kernel", 11, 2, stride=4, padding=1),
    ]


def _conv_geometries(fixed: np.random.Generator, rng: np.random.Generator) -> list[Case]:
    """Forward-pass cases; the backward pass reuses the same geometries.

    Visible cases draw small integers from ``fixed``, hidden ones normal values from ``rng``.
    """

    def c(name, n, ch, h, w, f, kh, kw, *, stride=1, padding=0, visible=False):
        source, draw = (fixed, small_ints) if visible else (rng, normal)
        args = (draw(source, (n, ch, h, w)), draw(source, (f, ch, kh, kw)), draw(source, (f,)))
        return Case(name, args, {"stride": stride, "padding": padding}, visible=visible)

    return [
        c("one channel, 3x3 kernel, no padding", 1, 1, 5, 5, 1, 3, 3, visible=True),
        c("3 channels in, 2 out, padding 1", 1, 3, 4, 4, 2, 3, 3, padding=1, visible=True),
        c("stride 2", 1, 2, 6, 6, 2, 3, 3, stride=2, visible=True),
        c("even 2x2 kernel", 2, 2, 5, 6, 3, 2, 2),
        c("rectangular 3x2 kernel with padding 2", 1, 2, 5, 5, 2, 3, 2, padding=2),
        c("stride 2 that does not divide the input (floor)", 2, 3, 8, 7, 4, 3, 3, stride=2),
        c("stride 3 with padding 2", 1, 2, 9, 10, 3, 3, 3, stride=3, padding=2),
        c("stride 2, padding 1, even 4x4 kernel", 3, 2, 9, 9, 5, 4, 4, stride=2, padding=1),
        c("1x1 kernel (mixes channels only)", 2, 4, 3, 5, 3, 1, 1),
        c("kernel as large as the image (one output pixel)", 2, 3, 4, 4, 2, 4, 4),
        c("rectangular image, 5x5 kernel, padding 2", 2, 3, 6, 11, 4, 5, 5, padding=2),
    ]


def conv2d_forward_cases(rng: np.random.Generator | None = None) -> list[Case]:
    return _conv_geometries(public_rng(4, 2), hidden_rng(rng, 4, 2))


def conv2d_backward_cases(rng: np.random.Generator | None = None) -> list[Case]:
    from convlib import conv_output_size

    fixed, rng = public_rng(4, 3), hidden_rng(rng, 4, 3)
    cases = []
    for geometry in _conv_geometries(fixed, rng):
        x, w, b = geometry.args
        stride, padding = geometry.kwargs["stride"], geometry.kwargs["padding"]
        out_h = conv_output_size(x.shape[2], w.shape[2], stride=stride, padding=padding)
        out_w = conv_output_size(x.shape[3], w.shape[3], stride=stride, padding=padding)
        shape = (x.shape[0], w.shape[0], out_h, out_w)
        dout = small_ints(fixed, shape) if geometry.visible else normal(rng, shape)
        cases.append(Case(geometry.name, (dout, x, w, b), dict(geometry.kwargs), visible=geometry.visible))
    return cases


def max_pool2d_forward_cases(rng: np.random.Generator | None = None) -> list[Case]:
    fixed, rng = public_rng(4, 4), hidden_rng(rng, 4, 4)

    def case(name, shape, kernel_size, stride=None, visible=False, negative=False):
        x = small_ints(fixed, shape) if visible else normal(rng, shape)
        if negative:
            x = -np.abs(x) - 0.5
        kwargs = {} if stride is None else {"stride": stride}
        return Case(name, (x, kernel_size), kwargs, visible=visible)

    return [
        case("2x2 windows, default stride (= kernel_size)", (1, 1, 4, 4), 2, visible=True),
        case("3x3 windows on 7x7, default stride (floor)", (1, 1, 7, 7), 3, visible=True),
        case("overlapping windows: stride 1", (1, 2, 4, 5), 2, stride=1, visible=True),
        case("all values negative", (1, 1, 4, 4), 2, visible=True, negative=True),
        case("3x3 windows, stride 2 (overlap by one)", (2, 3, 9, 9), 3, stride=2),
        case("odd 5x5 input, 2x2 windows: the last row and column are dropped", (2, 2, 5, 5), 2),
        case("rectangular input", (1, 3, 6, 9), 3),
        case("negative values, several channels", (2, 3, 6, 6), 2, negative=True),
        case("1x1 windows (the identity)", (1, 2, 3, 4), 1),
        case("one window covering the whole input (global max)", (2, 4, 5, 5), 5),
        case("stride larger than the window", (1, 2, 10, 10), 2, stride=3),
    ]


# tolerances of conv2d_torch by (dtype, device): float32 sums are rounded differently by
# different algorithms (cuDNN picks its own), float64 ones agree to ~1e-14
_TORCH_TOLERANCES = {
    ("float64", "cpu"): (1e-10, 1e-10),
    ("float64", "cuda"): (1e-9, 1e-9),
    ("float32", "cpu"): (1e-4, 1e-4),
    ("float32", "cuda"): (2e-4, 2e-4),
}


def conv2d_torch_cases(rng: np.random.Generator | None = None) -> list[Case]:
    import torch

    fixed, rng = public_rng(4, 5), hidden_rng(rng, 4, 5)
    cases = []
    geometries = [
        ("3x3 kernel, no padding", (1, 1, 5, 5), (1, 1, 3, 3), 1, 0, True),
        ("several channels, padding 1", (2, 3, 6, 6), (4, 3, 3, 3), 1, 1, True),
        ("stride 2 with padding 1, even kernel", (2, 3, 9, 8), (4, 3, 4, 4), 2, 1, True),
        ("stride 3, padding 2, rectangular kernel", (1, 2, 10, 11), (3, 2, 3, 2), 3, 2, False),
        ("1x1 kernel", (2, 5, 4, 4), (3, 5, 1, 1), 1, 0, False),
        ("CNN layer: 8x16x16x16, 32 filters, 3x3, padding 1", (8, 16, 16, 16), (32, 16, 3, 3), 1, 1, False),
    ]
    for device in ("cpu", "cuda"):
        for dtype in (torch.float64, torch.float32):
            for name, x_shape, w_shape, stride, padding, visible in geometries:
                visible = visible and device == "cpu"
                source = fixed if visible else rng
                x = torch.as_tensor(normal(source, x_shape), dtype=dtype)
                w = torch.as_tensor(normal(source, w_shape), dtype=dtype)
                b = torch.as_tensor(normal(source, w_shape[:1]), dtype=dtype)
                dtype_name = str(dtype).removeprefix("torch.")
                rtol, atol = _TORCH_TOLERANCES[dtype_name, device]
                cases.append(
                    Case(
                        f"{name}, {dtype_name} on {device}",
                        (x, w, b),
                        {"stride": stride, "padding": padding},
                        visible=visible,
                        device=device,
                        rtol=rtol,
                        atol=atol,
                    )
                )
    return cases


# ---------------------------------------------------------------------------------------

_FORWARD_MISTAKES = (
    ("kernel flipped (a true convolution)", "CNN layers compute a cross-correlation: slide w "
     "as it is, without w[..., ::-1, ::-1]."),
    ("stride ignored", "Step the window by `stride` pixels: the output has "
     "conv_output_size(H, kh, stride, padding) rows."),
    ("padding ignored", "Pad the input with `padding` zeros on every side of both spatial axes "
     "before sliding the kernel."),
    ("padding on one side only", "Pad both sides: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) "
     "adds p zeros at the top AND the bottom, the left AND the right."),
    ("bias ignored", "Add b[f] to every output pixel of filter f."),
)

ASSIGNMENT = Assignment(
    name="hw4",
    functions=(
        FunctionSpec(
            name="conv_output_size",
            grade_id="test_conv_output_size",
            points=1,
            cases=conv_output_size_cases,
            reference=reference_conv_output_size,
            rtol=0,
            atol=0,
            mistakes=(
                Mistake("padding on one side only", "Padding adds p samples on EACH side: "
                        "n + 2p, not n + p.", mistake_size_one_side),
                Mistake("dilation ignored", "A dilated kernel spans d(k - 1) + 1 samples, not k.",
                        mistake_size_dilation_ignored),
                Mistake("wrong output shape: +1 forgotten", "Count the first window too: "
                        "floor((n + 2p - d(k-1) - 1) / s) + 1.", mistake_size_no_plus_one),
                Mistake("rounded up instead of down", "A window that does not fit entirely is "
                        "not computed: use floor division (//).", mistake_size_ceil),
                Mistake("stride ignored", "Divide the number of steps by the stride.",
                        mistake_size_stride_ignored),
            ),
        ),
        FunctionSpec(
            name="conv2d_forward",
            grade_id="test_conv2d_forward",
            points=3,
            cases=conv2d_forward_cases,
            reference=reference_conv2d_forward,
            mistakes=tuple(
                Mistake(name, explanation, wrong)
                for (name, explanation), wrong in zip(
                    _FORWARD_MISTAKES,
                    (mistake_forward_flipped, mistake_forward_stride_ignored,
                     mistake_forward_padding_ignored, mistake_forward_one_side,
                     mistake_forward_no_bias),
                )
            ),
        ),
        FunctionSpec(
            name="conv2d_backward",
            grade_id="test_conv2d_backward",
            points=3,
            cases=conv2d_backward_cases,
            reference=reference_conv2d_backward,
            mistakes=(
                Mistake(
                    "dw of the wrong orientation (not correlated)",
                    "dw[f, c] is the CORRELATION of the padded input with dout (no flip): "
                    "dw[f, c, i, j] = sum over n, y, x of dout[n, f, y, x] * "
                    "x_pad[n, c, y*s + i, x*s + j]. Yours is rotated by 180 degrees.",
                    mistake_backward_dw_flipped,
                ),
                Mistake(
                    "dx not a full convolution with the flipped kernel",
                    "dx is the FULL CONVOLUTION of (the stride-dilated) dout with w, i.e. a "
                    "correlation with w rotated by 180 degrees: scatter dout[n, f, y, x] * w[f] "
                    "back onto the window it came from. Yours used w without the rotation.",
                    mistake_backward_dx_not_flipped,
                ),
                Mistake(
                    "db not summed over the batch",
                    "The bias is shared by every sample and pixel: db = dout.sum(axis=(0, 2, 3)), "
                    "of shape (F,).",
                    mistake_backward_db_per_sample,
                ),
                Mistake(
                    "padding not removed from dx",
                    "Compute the gradient of the padded input, then crop the padding: "
                    "dx = dx_pad[:, :, p:p + H, p:p + W].",
                    mistake_backward_padding_kept,
                ),
                Mistake(
                    "padding cropped with -0 is empty",
                    "dx_pad[:, :, p:-p, p:-p] is empty when p = 0: -0 is 0, so the slice 0:0 keeps "
                    "nothing. Crop with explicit ends instead: dx = dx_pad[:, :, p:p + H, p:p + W].",
                    mistake_backward_crop_minus_zero,
                ),
            ),
            outputs=("dx", "dw", "db"),
        ),
        FunctionSpec(
            name="max_pool2d_forward",
            grade_id="test_max_pool2d_forward",
            points=2,
            cases=max_pool2d_forward_cases,
            reference=reference_max_pool2d_forward,
            mistakes=(
                Mistake(
                    "max_pool stride default wrong",
                    "stride=None means stride = kernel_size (non-overlapping windows), as in "
                    "torch.nn.functional.max_pool2d, not 1.",
                    mistake_pool_stride_one,
                ),
                Mistake(
                    "running max started at 0",
                    "Start the maximum at -inf (or at the first element of the window): with "
                    "negative inputs a running max that starts at 0 returns 0.",
                    mistake_pool_max_from_zero,
                ),
                Mistake("average instead of max", "Take the maximum of each window, not its mean.",
                        mistake_pool_average),
                Mistake(
                    "rounded up instead of down",
                    "A window that sticks out of the input is dropped: the output has "
                    "(H - k) // s + 1 rows.",
                    mistake_pool_ceil,
                ),
            ),
        ),
        FunctionSpec(
            name="conv2d_torch",
            grade_id="test_conv2d_torch",
            points=3,
            cases=conv2d_torch_cases,
            reference=reference_conv2d_torch,
            mistakes=tuple(
                Mistake(name, explanation, wrong)
                for (name, explanation), wrong in zip(
                    [m for m in _FORWARD_MISTAKES if m[0] != "padding ignored"],
                    (mistake_torch_flipped, mistake_torch_stride_ignored,
                     mistake_torch_one_side, mistake_torch_no_bias),
                )
            ),
        ),
    ),
    # forbidden here on top of _forbidden.ALWAYS_FORBIDDEN (library convolutions, sandbox escapes)
    forbidden=(
        "torch.nn.functional.max_pool2d",
        "torch.nn.MaxPool2d",
        "torch.nn.grad",
        "convlib.max_pool2d",
        "convlib.avg_pool2d",
        "convlib.conv_output_size",
    ),
)
