"""Shape arithmetic: the one home of the output-size formulas.

Every function in convlib that needs an output length calls these two
functions; nothing else re-derives the formulas.
"""
from __future__ import annotations

import operator

__all__ = ["conv_output_size", "conv_transpose_output_size"]


def _as_int(value: object, name: str, *, minimum: int) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the bound."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got a bool ({value!r})")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer, got {type(value).__name__} ({value!r})"
        ) from None
    if result < minimum:
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {bound} integer, got {result}")
    return result


def conv_output_size(
    n: int, k: int, *, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Length of a convolution's output along one axis, as in ``torch.nn.Conv1d``.

    .. math:: n_{out} = \\left\\lfloor \\frac{n + 2p - d(k - 1) - 1}{s} \\right\\rfloor + 1

    Parameters
    ----------
    n : int
        Input length (positive).
    k : int
        Kernel length (positive).
    stride : int, default 1
        Step between windows (positive).
    padding : int, default 0
        Zeros added on *each* side (non-negative).
    dilation : int, default 1
        Spacing between kernel taps (positive).

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ValueError
        If an argument is out of range, or the dilated kernel is larger than the
        padded input.

    Examples
    --------
    >>> conv_output_size(5, 3)                        # 'valid': 5 - 3 + 1
    3
    >>> conv_output_size(32, 3, stride=2, padding=1)
    16
    >>> conv_output_size(7, 3, dilation=2)            # the kernel spans 5 samples
    3
    """
    n = _as_int(n, "n", minimum=1)
    k = _as_int(k, "k", minimum=1)
    stride = _as_int(stride, "stride", minimum=1)
    padding = _as_int(padding, "padding", minimum=0)
    dilation = _as_int(dilation, "dilation", minimum=1)
    span = dilation * (k - 1) + 1
    padded = n + 2 * padding
    if span > padded:
        raise ValueError(
            f"kernel size k={k} with dilation={dilation} spans {span} samples, more than "
            f"the padded input (n={n} + 2*padding={2 * padding} = {padded})"
        )
    return (padded - span) // stride + 1


def conv_transpose_output_size(
    n: int,
    k: int,
    *,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Length of a transposed convolution's output, as in ``torch.nn.ConvTranspose1d``.

    .. math:: n_{out} = (n - 1)s - 2p + d(k - 1) + p_{out} + 1

    Parameters
    ----------
    n : int
        Input length (positive).
    k : int
        Kernel length (positive).
    stride : int, default 1
        Stride of the convolution this one transposes (positive).
    padding : int, default 0
        Padding of the convolution this one transposes (non-negative).
    output_padding : int, default 0
        Extra samples added to one side of the output; must be smaller than
        ``stride`` or ``dilation``, as torch requires.
    dilation : int, default 1
        Spacing between kernel taps (positive).

    Returns
    -------
    int
        The output length.

    Raises
    ------
    ValueError
        If an argument is out of range or the result is not positive.

    Examples
    --------
    >>> conv_transpose_output_size(16, 3, stride=2, padding=1, output_padding=1)
    32
    >>> conv_transpose_output_size(3, 3)              # undoes a 'valid' shrink
    5
    """
    n = _as_int(n, "n", minimum=1)
    k = _as_int(k, "k", minimum=1)
    stride = _as_int(stride, "stride", minimum=1)
    padding = _as_int(padding, "padding", minimum=0)
    output_padding = _as_int(output_padding, "output_padding", minimum=0)
    dilation = _as_int(dilation, "dilation", minimum=1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than stride or dilation "
            f"(stride={stride}, dilation={dilation}), got {output_padding}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(
            f"transposed convolution output size would be {size}: padding={padding} is "
            f"too large for n={n}, k={k}, stride={stride}, dilation={dilation}"
        )
    return size
