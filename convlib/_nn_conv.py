"""Convolution layers with ``torch.nn.functional`` semantics, NumPy in and out.

``conv1d``/``conv2d`` compute a cross-correlation (no kernel flip, no complex
conjugation) exactly as ``torch.nn.functional.conv1d``/``conv2d`` do;
``conv_transpose1d``/``conv_transpose2d`` compute its adjoint, exactly as
``torch.nn.functional.conv_transpose1d``/``conv_transpose2d``.

The NumPy path lowers every convolution to matrix products ("im2col"): the
input windows are copied, tile by tile, into a reused GEMM-friendly buffer that
stays in cache, and ``np.matmul`` writes straight into the output; tiles run on
one thread per core, with a single-threaded BLAS (through threadpoolctl, when it
is installed; otherwise the tiles run in turn with BLAS's own threads). The transposed convolution is the adjoint of that: one matrix product,
then a scatter-add of the columns ("col2im"). One-dimensional layers are the
two-dimensional ones with a unit height.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convlib._dtypes import torch_compute_dtype
from convlib._nn_common import add_batch_axis, as_layer_input, compute_dtypes
from convlib._shapes import conv_output_size, conv_transpose_output_size
from convlib._threads import num_threads, thread_pool
from convlib._validation import as_int, as_int_tuple, as_numeric_array, check_device

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

#: Bytes of im2col columns built at once (per tile): a tile this size stays in a
#: core's L2 cache (1 MiB on recent x86 cores; 1 MiB measured 1.3-1.4x faster than
#: 4 MiB on the CNN shapes of benchmarks/bench_conv2d.py), and large inputs never
#: need a column matrix of their full size.
_COLUMNS_CHUNK_BYTES = 1 << 20

#: Below this many bytes of columns, one thread does all the work (thread start-up
#: would cost more than it saves).
_PARALLEL_MIN_BYTES = 256 << 10

#: At most this many tile threads, however many cores there are.
_MAX_WORKERS = 16

_PADDING_STRINGS = ("same", "valid")


# --------------------------------------------------------------------------- threads
@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """threadpoolctl's controller of the loaded BLAS libraries, or None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _parallel_workers() -> int:
    """Threads for the im2col tiles: one per core where BLAS can be made single-threaded."""
    if _blas_controller() is None:
        return 1  # BLAS keeps its own threads; tiles run one after the other
    return min(num_threads(), _MAX_WORKERS)


def _single_threaded_blas() -> Any:
    """Context manager: the BLAS behind NumPy runs on one thread inside (process-wide)."""
    return _blas_controller().limit(limits=1, user_api="blas")


# --------------------------------------------------------------------------- arguments
class _ConvArgs:
    """Checked, per-axis arguments of one convolution call (batched 2-D form)."""

    __slots__ = ("x", "weight", "bias", "stride", "pads", "dilation", "groups", "output_padding",
                 "out_shape", "unbatched", "compute_dtype", "result_dtype")


def _check_padding(padding: Any, spatial_ndim: int) -> str | tuple[int, ...]:
    """Return ``'same'``, ``'valid'`` or a tuple of non-negative per-axis paddings."""
    if isinstance(padding, str):
        if padding not in _PADDING_STRINGS:
            raise ValueError(
                f"padding must be an int, a tuple of {spatial_ndim} ints, 'same' or 'valid'; "
                f"got {padding!r}"
            )
        return padding
    return as_int_tuple(padding, "padding", length=spatial_ndim, minimum=0)


def _check_channels(x: np.ndarray, weight: np.ndarray, groups: int, *, transposed: bool) -> int:
    """Check channel counts against ``groups``; return the number of output channels."""
    c_in = x.shape[1]
    if c_in % groups:
        raise ValueError(
            f"groups={groups} must divide the number of input channels of x (C={c_in})"
        )
    if transposed:
        if weight.shape[0] != c_in:
            raise ValueError(
                f"weight.shape[0]={weight.shape[0]} must equal the number of input channels "
                f"of x (C={c_in}) for a transposed convolution; weight has shape "
                f"{weight.shape} (C_in, C_out/groups, *kernel)"
            )
        return weight.shape[1] * groups
    if weight.shape[1] * groups != c_in:
        raise ValueError(
            f"weight.shape[1] * groups must equal the number of input channels of x "
            f"(C={c_in}); got weight of shape {weight.shape} (C_out, C_in/groups, *kernel) "
            f"and groups={groups}"
        )
    if weight.shape[0] % groups:
        raise ValueError(
            f"groups={groups} must divide the number of output channels "
            f"(weight.shape[0]={weight.shape[0]})"
        )
    return weight.shape[0]


def _parse(
    x: Any, weight: Any, bias: Any, *, stride: Any, padding: Any, dilation: Any, groups: Any,
    spatial_ndim: int, transposed: bool = False, output_padding: Any = 0,
) -> _ConvArgs:
    """Check every argument of a (transposed) convolution; lift 1-D to 2-D."""
    x = as_layer_input(x, "x", spatial_ndim=spatial_ndim)
    weight = as_numeric_array(weight, "weight")
    if weight.ndim != spatial_ndim + 2:
        kernel = ", ".join(["kH", "kW"] if spatial_ndim == 2 else ["kL"])
        layout = "(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, "
        raise ValueError(
            f"weight must have shape {layout}{kernel}); got ndim={weight.ndim}, shape {weight.shape}"
        )
    if bias is not None:
        bias = as_numeric_array(bias, "bias")
    groups = as_int(groups, "groups", minimum=1)
    stride = as_int_tuple(stride, "stride", length=spatial_ndim, minimum=1)
    dilation = as_int_tuple(dilation, "dilation", length=spatial_ndim, minimum=1)
    if transposed:
        if isinstance(padding, str):
            raise ValueError(
                f"padding must be an int or a tuple of {spatial_ndim} ints for a transposed "
                f"convolution; got {padding!r}"
            )
        padding = as_int_tuple(padding, "padding", length=spatial_ndim, minimum=0)
        output_padding = as_int_tuple(output_padding, "output_padding", length=spatial_ndim)
    else:
        padding = _check_padding(padding, spatial_ndim)
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(
                f"padding='same' needs stride=1 (as in torch); got stride={stride}"
            )
    x, unbatched = add_batch_axis(x, spatial_ndim)
    c_out = _check_channels(x, weight, groups, transposed=transposed)
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(
            f"bias must have shape (C_out,) = ({c_out},); got shape {bias.shape}"
        )

    args = _ConvArgs()
    args.compute_dtype, args.result_dtype = compute_dtypes(x, weight, bias)
    args.groups = groups
    args.unbatched = unbatched
    kernel = weight.shape[2:]
    spatial = x.shape[2:]
    if transposed:
        args.pads = tuple((p, p) for p in padding)
        args.output_padding = output_padding
        args.out_shape = tuple(
            conv_transpose_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
            for n, k, s, p, op, d in zip(spatial, kernel, stride, padding, output_padding, dilation)
        )
    else:
        if padding == "valid":
            args.pads = ((0, 0),) * spatial_ndim
        elif padding == "same":  # torch's split: the odd sample of padding goes to the end
            args.pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                              for k, d in zip(kernel, dilation))
        else:
            args.pads = tuple((p, p) for p in padding)
        args.out_shape = tuple(
            _conv_axis_size(n, k, s, pads, d, axis)
            for axis, (n, k, s, pads, d) in enumerate(zip(spatial, kernel, stride, args.pads, dilation))
        )
    # lift the 1-D case to 2-D: a unit height, kernel height 1
    if spatial_ndim == 1:
        x, weight = x[:, :, np.newaxis, :], weight[:, :, np.newaxis, :]
        stride, dilation = (1, *stride), (1, *dilation)
        args.pads = ((0, 0), *args.pads)
        args.out_shape = (1, *args.out_shape)
        if transposed:
            args.output_padding = (0, *args.output_padding)
    args.x, args.weight, args.bias = x, weight, bias
    args.stride, args.dilation = stride, dilation
    return args


def _conv_axis_size(n: int, k: int, stride: int, pads: tuple[int, int], dilation: int,
                    axis: int) -> int:
    """Output length along one axis, with padding ``pads = (before, after)``."""
    before, after = pads
    try:  # the extra padding at the end (torch's 'same' split) lengthens the input
        return conv_output_size(n + after - before, k, stride=stride, padding=before,
                                dilation=dilation)
    except ValueError as error:
        raise ValueError(
            f"weight's kernel is larger than the padded input along spatial axis {axis}: {error}"
        ) from None


# --------------------------------------------------------------------------- NumPy kernels
def _windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int], out_shape: tuple[int, int]) -> np.ndarray:
    """Read-only view of shape (N, C, kH, kW, H_out, W_out) over the padded input."""
    sn, sc, sh, sw = xp.strides
    shape = (*xp.shape[:2], *kernel, *out_shape)
    strides = (sn, sc, dilation[0] * sh, dilation[1] * sw, stride[0] * sh, stride[1] * sw)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def _tile_plan(n: int, h_out: int, row_bytes: int, workers: int) -> tuple[int, int, int]:
    """Samples per tile, output rows per tile and number of workers for the im2col tiles.

    Tiles hold at most :data:`_COLUMNS_CHUNK_BYTES` of columns; when there is
    enough work, there are at least ``workers`` of them so that every core gets
    some.
    """
    total = n * h_out * row_bytes
    if total < _PARALLEL_MIN_BYTES:
        workers = 1
    wanted = max(workers, -(-total // _COLUMNS_CHUNK_BYTES))
    if wanted <= n:  # whole samples per tile
        return -(-n // wanted), h_out, workers
    per_sample = -(-wanted // n)  # blocks of output rows of one sample
    return 1, -(-h_out // per_sample), workers


def _conv2d_numpy(args: _ConvArgs) -> np.ndarray:
    """im2col + matmul, tile by tile, written straight into the output.

    A tile is a chunk of the batch, or a block of output rows of one sample; its
    columns are copied into a reused buffer (in cache, no page faults) and one
    ``np.matmul`` per tile writes every group's output rows in place. Tiles are
    shared out to one thread per core, each running a single-threaded BLAS
    (fewer, larger parallel tasks than OpenBLAS's own threading of each small
    matrix product, which loses badly when other processes share the cores).
    """
    x, weight, groups = args.x, args.weight, args.groups
    n, c_in, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    h_out, w_out = args.out_shape
    positions = h_out * w_out
    depth = c_group * kh * kw
    # (groups, C_out/groups, C_in/groups * kH * kW): one matrix per group
    w_matrix = weight.reshape(groups, c_out // groups, depth)
    out = np.empty((n, c_out, h_out, w_out), dtype=x.dtype)
    out_matrices = out.reshape(n, groups, c_out // groups, positions)  # a view

    (top, bottom), (left, right) = args.pads
    padded_size = (h + top + bottom, w + left + right)
    if (kh, kw) == (1, 1) and args.stride == (1, 1) and padded_size == (h, w):
        np.matmul(w_matrix, x.reshape(n, groups, c_group, positions), out=out_matrices)
        return out  # 1x1 kernel: the input already is the column matrix

    row_bytes = c_in * kh * kw * w_out * x.itemsize
    batch, rows, workers = _tile_plan(n, h_out, row_bytes, _parallel_workers())
    tiles = [(start, min(n, start + batch) - start, row, min(h_out, row + rows) - row)
             for start in range(0, n, batch) for row in range(0, h_out, rows)]

    def run(my_tiles: list[tuple[int, int, int, int]]) -> None:
        buffer = np.empty(batch * c_in * kh * kw * rows * w_out, dtype=x.dtype)
        padded = None
        if padded_size != (h, w):  # zero borders written once, interiors copied per chunk
            padded = np.zeros((batch, c_in, *padded_size), dtype=x.dtype)
        loaded = None
        for start, m, row, r in my_tiles:
            if padded is None:
                xp = x[start:start + m]
            else:
                xp = padded[:m]
                if loaded != start:
                    xp[:, :, top:top + h, left:left + w] = x[start:start + m]
                    loaded = start
            tile = buffer[:m * c_in * kh * kw * r * w_out].reshape(m, c_in, kh, kw, r, w_out)
            np.copyto(tile, _windows(xp[:, :, row * args.stride[0]:], (kh, kw), args.stride,
                                     args.dilation, (r, w_out)))
            np.matmul(
                w_matrix,
                tile.reshape(m, groups, depth, r * w_out),
                out=out_matrices[start:start + m, :, :, row * w_out:(row + r) * w_out],
            )

    workers = min(workers, len(tiles))
    if workers == 1:
        run(tiles)
        return out
    shares = [tiles[i * len(tiles) // workers:(i + 1) * len(tiles) // workers] for i in range(workers)]
    with _single_threaded_blas():
        list(thread_pool(workers).map(run, shares))  # list(): re-raise a worker's exception
    return out


def _conv_transpose2d_numpy(args: _ConvArgs) -> np.ndarray:
    """The adjoint of :func:`_conv2d_numpy`: one matmul, then a col2im scatter-add."""
    x, weight, groups = args.x, args.weight, args.groups
    n, c_in, h, w = x.shape
    _, c_group_out, kh, kw = weight.shape
    c_group_in = c_in // groups
    c_out = c_group_out * groups
    (sh, sw), (dh, dw) = args.stride, args.dilation
    (ph, _), (pw, _) = args.pads
    h_out, w_out = args.out_shape
    # columns[n, g, (co, i, j), p] = sum_ci weight[g, ci, (co, i, j)] * x[n, g, ci, p]
    w_matrix = weight.reshape(groups, c_group_in, c_group_out * kh * kw).transpose(0, 2, 1)
    columns = np.matmul(w_matrix, x.reshape(n, groups, c_group_in, h * w))
    columns = columns.reshape(n, c_out, kh, kw, h, w)
    # scatter-add every kernel tap into the (padded) output, then crop the padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1
    full_w = (w - 1) * sw + dw * (kw - 1) + 1
    canvas = np.zeros((n, c_out, max(full_h, ph + h_out), max(full_w, pw + w_out)), dtype=x.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + (h - 1) * sh + 1, sh)
        for j in range(kw):
            canvas[:, :, rows, j * dw:j * dw + (w - 1) * sw + 1:sw] += columns[:, :, i, j]
    return np.ascontiguousarray(canvas[:, :, ph:ph + h_out, pw:pw + w_out])


# --------------------------------------------------------------------------- torch path
def _run_torch(args: _ConvArgs, device: Any, *, transposed: bool, spatial_ndim: int) -> np.ndarray:
    """Compute with ``torch.nn.functional`` on ``device``; return NumPy (2-D batched form)."""
    import torch
    import torch.nn.functional as F

    from convlib._torch import resolve_device, tf32_disabled, to_numpy, to_tensor

    torch_device = resolve_device(device)
    axes = slice(2 - spatial_ndim, None)  # the 1-D case: drop the unit height again
    stride, dilation, pads = args.stride[axes], args.dilation[axes], args.pads[axes]
    work = torch_compute_dtype(args.compute_dtype)  # torch has no long double
    with tf32_disabled(), torch.no_grad():
        x, weight = (to_tensor(a, torch_device, dtype=work) for a in (args.x, args.weight))
        bias = None if args.bias is None else to_tensor(args.bias, torch_device, dtype=work)
        if spatial_ndim == 1:
            x, weight = x[:, :, 0, :], weight[:, :, 0, :]
        padding = tuple(before for before, _ in pads)
        if transposed:
            function = F.conv_transpose1d if spatial_ndim == 1 else F.conv_transpose2d
            result = function(x, weight, bias, stride=stride, padding=padding,
                              output_padding=args.output_padding[axes], groups=args.groups,
                              dilation=dilation)
        else:
            if any(before != after for before, after in pads):  # torch's 'same' split, done
                # here with F.pad so that torch does not warn about the padded copy
                x = F.pad(x, [p for pair in reversed(pads) for p in pair])
                padding = 0
            function = F.conv1d if spatial_ndim == 1 else F.conv2d
            result = function(x, weight, bias, stride=stride, padding=padding,
                              dilation=dilation, groups=args.groups)
        result = to_numpy(result)
    return result[:, :, np.newaxis, :] if spatial_ndim == 1 else result


# --------------------------------------------------------------------------- shared driver
def _convolve(args: _ConvArgs, device: Any, *, transposed: bool, spatial_ndim: int) -> np.ndarray:
    device = check_device(device)
    if device is not None:
        out = _run_torch(args, device, transposed=transposed, spatial_ndim=spatial_ndim)
    else:
        args.x = args.x.astype(args.compute_dtype, copy=False)
        args.weight = args.weight.astype(args.compute_dtype, copy=False)
        out = _conv_transpose2d_numpy(args) if transposed else _conv2d_numpy(args)
        if args.bias is not None:
            out += args.bias.astype(args.compute_dtype, copy=False)[:, np.newaxis, np.newaxis]
    if spatial_ndim == 1:
        out = out[:, :, 0, :]
    if args.unbatched:
        out = out[0]
    return out.astype(args.result_dtype, copy=False)


# --------------------------------------------------------------------------- public API
def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    device: Any = None,
) -> np.ndarray:
    """2-D convolution layer, as ``torch.nn.functional.conv2d`` (a cross-correlation).

    .. math:: y[n, o, i, j] = b[o] + \\sum_{c, u, v} w[o, c, u, v]\\,
              x_{pad}[n, g(o) + c, s_0 i + d_0 u, s_1 j + d_1 v]

    The kernel is not flipped and complex weights are not conjugated.

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C_in, H, W)``, or ``(C_in, H, W)`` for one sample.
    weight : array_like
        Kernels of shape ``(C_out, C_in / groups, kH, kW)``.
    bias : array_like of shape (C_out,), optional
        Added to every output channel.
    stride : int or tuple of 2 ints, default 1
        Step between windows (positive).
    padding : int, tuple of 2 ints, 'same' or 'valid', default 0
        Zeros added on both sides of each spatial axis. ``'same'`` keeps the
        input size (stride 1 only); when the dilated kernel spans an even number
        of samples, the extra zero goes at the end (bottom/right), as in torch.
    dilation : int or tuple of 2 ints, default 1
        Spacing between kernel taps (positive).
    groups : int, default 1
        Number of channel groups; ``groups == C_in`` is a depthwise convolution.
    device : None, str or torch.device, optional
        ``None`` computes with NumPy; ``'cpu'``, ``'cuda'``, ... compute with
        ``torch.nn.functional.conv2d`` on that device (float64 stays float64).

    Returns
    -------
    ndarray
        ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)``), with
        ``H_out = conv_output_size(H, kH, stride=..., padding=..., dilation=...)``.
        float32 in gives float32 out, float64 gives float64; integer and bool
        inputs are computed in float64 (torch refuses them); float16 is computed
        in float32 and returned as float16; mixed dtypes follow NumPy's promotion.

    Raises
    ------
    TypeError
        If an array is not numeric or an integer argument is not an integer.
    ValueError
        If an array is empty or has the wrong shape, the channels do not match
        ``groups``, ``padding`` is unknown or negative, ``padding='same'`` comes
        with a stride above 1, the kernel is larger than the padded input, or a
        stride/dilation/groups is not positive; if ``device`` asks for CUDA
        where there is none.

    See Also
    --------
    conv1d, conv_transpose2d, convlib.correlate2d

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])      # no flip: x[i, j] - x[i+1, j+1]
    >>> conv2d(x, w)
    array([[[[-5., -5., -5.],
             [-5., -5., -5.],
             [-5., -5., -5.]]]])
    >>> conv2d(x, w, padding="same").shape               # the extra zero row/column at the end
    (1, 1, 4, 4)
    >>> conv2d(np.ones((3, 8, 8), np.float32), np.ones((6, 1, 3, 3), np.float32),
    ...        stride=2, padding=1, groups=3).shape         # unbatched, grouped
    (6, 4, 4)
    """
    args = _parse(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, spatial_ndim=2)
    return _convolve(args, device, transposed=False, spatial_ndim=2)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
    device: Any = None,
) -> np.ndarray:
    """1-D convolution layer, as ``torch.nn.functional.conv1d`` (a cross-correlation).

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C_in, L)``, or ``(C_in, L)`` for one sample.
    weight : array_like
        Kernels of shape ``(C_out, C_in / groups, kL)``.
    bias : array_like of shape (C_out,), optional
        Added to every output channel.
    stride : int or tuple of 1 int, default 1
        Step between windows (positive).
    padding : int, tuple of 1 int, 'same' or 'valid', default 0
        Zeros added on both ends; ``'same'`` keeps the length (stride 1 only,
        the odd extra zero at the end, as in torch).
    dilation : int or tuple of 1 int, default 1
        Spacing between kernel taps (positive).
    groups : int, default 1
        Number of channel groups.
    device : None, str or torch.device, optional
        ``None`` computes with NumPy; otherwise ``torch.nn.functional.conv1d``
        runs on that device.

    Returns
    -------
    ndarray
        ``(N, C_out, L_out)`` or ``(C_out, L_out)``; dtypes as in :func:`conv2d`.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv2d`.

    See Also
    --------
    conv2d, conv_transpose1d, convlib.correlate

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv1d
    >>> x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    >>> conv1d(x, np.array([[[1.0, 0.0, -1.0]]]))         # x[i] - x[i+2]: not flipped
    array([[[-2., -2., -2.]]])
    >>> conv1d(x, np.array([[[1.0, 1.0]]]), padding="same")  # the extra zero at the end
    array([[[3., 5., 7., 9., 5.]]])
    """
    args = _parse(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, spatial_ndim=1)
    return _convolve(args, device, transposed=False, spatial_ndim=1)


def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
    device: Any = None,
) -> np.ndarray:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    It is the adjoint of :func:`conv2d` with the same ``weight``, ``stride``,
    ``padding``, ``dilation`` and ``groups``: every input pixel scatters a
    scaled copy of its kernels into the output, ``stride`` pixels apart.

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C_in, H, W)``, or ``(C_in, H, W)``.
    weight : array_like
        Kernels of shape ``(C_in, C_out / groups, kH, kW)``.
    bias : array_like of shape (C_out,), optional
        Added to every output channel.
    stride : int or tuple of 2 ints, default 1
        Stride of the convolution this one transposes (positive).
    padding : int or tuple of 2 ints, default 0
        Padding of the convolution this one transposes: ``dilation * (k - 1) -
        padding`` samples are cropped from both sides of the full output.
    output_padding : int or tuple of 2 ints, default 0
        Extra rows/columns added at the end of the output (smaller than
        ``stride`` or ``dilation``), to pick one of the input sizes a strided
        convolution maps to the same output size.
    groups : int, default 1
        Number of channel groups.
    dilation : int or tuple of 2 ints, default 1
        Spacing between kernel taps (positive).
    device : None, str or torch.device, optional
        ``None`` computes with NumPy; otherwise ``torch.nn.functional.conv_transpose2d``
        runs on that device.

    Returns
    -------
    ndarray
        ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, with
        ``H_out = conv_transpose_output_size(H, kH, stride=..., padding=...,
        output_padding=..., dilation=...)``; dtypes as in :func:`conv2d`.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv2d`; also if ``output_padding`` is not smaller than
        ``stride`` or ``dilation``, or ``padding`` leaves no output.

    See Also
    --------
    conv2d, conv_transpose1d

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv_transpose2d
    >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> conv_transpose2d(x, np.ones((1, 1, 2, 2)), stride=2)   # each pixel becomes a 2x2 block
    array([[[[1., 1., 2., 2.],
             [1., 1., 2., 2.],
             [3., 3., 4., 4.],
             [3., 3., 4., 4.]]]])
    >>> conv_transpose2d(np.ones((1, 4, 8, 8)), np.ones((4, 2, 3, 3)),
    ...                  stride=2, padding=1, output_padding=1).shape   # undoes a stride-2 conv
    (1, 2, 16, 16)
    """
    args = _parse(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, spatial_ndim=2, transposed=True, output_padding=output_padding)
    return _convolve(args, device, transposed=True, spatial_ndim=2)


def conv_transpose1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
    device: Any = None,
) -> np.ndarray:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    The adjoint of :func:`conv1d` with the same arguments.

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C_in, L)``, or ``(C_in, L)``.
    weight : array_like
        Kernels of shape ``(C_in, C_out / groups, kL)``.
    bias : array_like of shape (C_out,), optional
        Added to every output channel.
    stride, padding, output_padding, groups, dilation, device
        As in :func:`conv_transpose2d`, with one value (or a 1-tuple) per axis.

    Returns
    -------
    ndarray
        ``(N, C_out, L_out)`` or ``(C_out, L_out)``, with
        ``L_out = conv_transpose_output_size(L, kL, ...)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv_transpose2d`.

    See Also
    --------
    conv1d, conv_transpose2d

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv_transpose1d
    >>> conv_transpose1d(np.array([[[1.0, 10.0]]]), np.array([[[1.0, 2.0, 3.0]]]), stride=2)
    array([[[ 1.,  2., 13., 20., 30.]]])
    """
    args = _parse(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, spatial_ndim=1, transposed=True, output_padding=output_padding)
    return _convolve(args, device, transposed=True, spatial_ndim=1)
