"""The torch method: PyTorch's convolution kernels, NumPy in and NumPy out.

torch is imported inside the functions, never when convlib is imported. This
module is also the one home of device handling for the rest of convlib
(:func:`resolve_device`, :func:`to_tensor`, :func:`to_numpy`,
:func:`tf32_disabled`): asking for CUDA where there is none is a
``ValueError`` naming the device, never a silent fall back to the CPU.

torch's ``conv1d``/``conv2d``/``conv3d`` compute a cross-correlation, so the
kernel is flipped first. Integer and bool data are convolved in float64 and
rounded back (exact while sums stay below 2**53); float16 is computed in
float32, long double in float64 (torch has no long double). TF32 (a reduced-precision mode of recent NVIDIA GPUs) is switched off
during the call, so float32 results on the GPU match the CPU's.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from convlib._dtypes import cast_result, torch_compute_dtype
from convlib._shapes import mode_window
from convlib._validation import check_device

__all__ = ["cuda_available", "resolve_device", "to_tensor", "to_numpy", "tf32_disabled", "convolve_torch"]


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA device (False without torch).

    The one place convlib asks; torch is imported only by this call.

    Examples
    --------
    >>> isinstance(cuda_available(), bool)
    True
    """
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: Any = None) -> Any:
    """Turn a ``device`` argument into a ``torch.device`` that exists on this machine.

    Parameters
    ----------
    device : None, str or torch.device
        ``None`` or ``'cpu'`` for the CPU, ``'cuda'`` / ``'cuda:<index>'`` for a GPU.

    Returns
    -------
    torch.device
        The device.

    Raises
    ------
    ValueError
        If the string is not a device torch knows, or names a CUDA device
        that is not available (no CUDA, or an index beyond the device count).
    TypeError
        If ``device`` is not None, a string or a torch.device.

    Examples
    --------
    >>> resolve_device(None)
    device(type='cpu')
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not a device torch knows; use 'cpu', 'cuda' or 'cuda:<index>'
    """
    import torch

    device = check_device(device)
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str):
        try:
            resolved = torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"device={device!r} is not a device torch knows; use 'cpu', 'cuda' or 'cuda:<index>'"
            ) from None
    else:
        resolved = device
    if resolved.type == "cuda":
        if not cuda_available():
            raise ValueError(
                f"device={str(resolved)!r} was requested but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False); use device=None or 'cpu'"
            )
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"device={str(resolved)!r} was requested but this machine has {count} CUDA device(s)"
            )
    elif resolved.type != "cpu":
        raise ValueError(f"device={str(resolved)!r} is not supported; use 'cpu', 'cuda' or 'cuda:<index>'")
    return resolved


def to_tensor(array: np.ndarray, device: Any, *, dtype: Any = None) -> Any:
    """Copy a NumPy array to a torch tensor on ``device`` (the array is never shared or modified).

    Parameters
    ----------
    array : ndarray
        The data.
    device : torch.device
        Where the tensor lives (see :func:`resolve_device`).
    dtype : numpy dtype, optional
        Convert to this dtype first (default: keep the array's dtype).

    Returns
    -------
    torch.Tensor
        A tensor with the same shape and values.

    Examples
    --------
    >>> import numpy as np
    >>> to_tensor(np.array([1.0, 2.0]), resolve_device("cpu"))
    tensor([1., 2.], dtype=torch.float64)
    """
    import torch

    values = np.array(array, dtype=dtype, copy=True, order="C")
    return torch.from_numpy(values).to(device)


def to_numpy(tensor: Any) -> np.ndarray:
    """Bring a torch tensor back to the CPU as a NumPy array.

    Parameters
    ----------
    tensor : torch.Tensor
        Any tensor (on any device, with or without autograd history).

    Returns
    -------
    ndarray
        The values, same shape and matching dtype.

    Examples
    --------
    >>> import torch
    >>> to_numpy(torch.arange(3))
    array([0, 1, 2])
    """
    return tensor.detach().cpu().numpy()


@contextlib.contextmanager
def tf32_disabled() -> Iterator[None]:
    """Context manager: TensorFloat-32 off for matmul and cuDNN inside, restored after.

    Examples
    --------
    >>> import torch
    >>> with tf32_disabled():
    ...     torch.backends.cudnn.allow_tf32
    False
    """
    import torch

    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def convolve_torch(x: np.ndarray, h: np.ndarray, mode: str, *, device: Any = None) -> np.ndarray:
    """1-, 2- or 3-D convolution with ``torch.nn.functional.conv{1,2,3}d`` on ``device``.

    Parameters
    ----------
    x : ndarray of shape (n_1, ..., n_d), d <= 3
        The input, numeric, not empty.
    h : ndarray of shape (k_1, ..., k_d)
        The kernel, same number of dimensions; in ``'valid'`` mode not larger
        than ``x`` in any dimension.
    mode : {'full', 'same', 'valid'}
        Which part of the full convolution to return (scipy.signal's rules).
    device : None, str or torch.device, optional
        Where to compute (default: the CPU).

    Returns
    -------
    ndarray
        The convolution on the CPU, dtype ``np.result_type(x, h)``.

    Raises
    ------
    ValueError
        If the arrays have more than 3 dimensions, or the device is not available.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_torch(np.array([3, 4, 5]), np.array([2, 1]), "full")
    array([ 6, 11, 14,  5])
    >>> convolve_torch(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0]), "valid")
    array([3., 5.])
    """
    import torch
    import torch.nn.functional as F

    if x.ndim > 3:
        raise ValueError(f"method='torch' supports 1-, 2- and 3-D arrays; got x.ndim={x.ndim}")
    resolved = resolve_device(device)
    dtype = np.result_type(x, h)
    work = torch_compute_dtype(dtype)
    window = mode_window(x.shape, h.shape, mode)
    # conv{d}d computes a 'valid' cross-correlation: pad x so that its valid part is the window
    padding = []
    for (start, length), n, k in zip(reversed(window), reversed(x.shape), reversed(h.shape)):
        before = k - 1 - start
        padding += [before, length + k - 1 - n - before]
    flipped = np.flip(h)
    conv = (F.conv1d, F.conv2d, F.conv3d)[x.ndim - 1]
    with tf32_disabled(), torch.no_grad():
        signal = to_tensor(x, resolved, dtype=work)[None, None]
        kernel = to_tensor(flipped, resolved, dtype=work)[None, None]
        if any(padding):
            signal = F.pad(signal, padding)
        result = to_numpy(conv(signal, kernel)[0, 0])
    return cast_result(result, dtype)
