"""Shape arithmetic: the one home of the output-size formulas.

Every function in convlib that needs an output length calls these
functions: :func:`conv_output_size` and :func:`conv_transpose_output_size` for
the layers of :mod:`torch.nn.functional`, :func:`mode_window` for scipy.signal's
'full', 'same' and 'valid' modes; nothing else re-derives the formulas.
"""
from __future__ import annotations

from convlib._validation import as_int, check_mode

__all__ = ["conv_output_size", "conv_transpose_output_size", "mode_window"]


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
    n = as_int(n, "n", minimum=1)
    k = as_int(k, "k", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
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
    n = as_int(n, "n", minimum=1)
    k = as_int(k, "k", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    padding = as_int(padding, "padding", minimum=0)
    output_padding = as_int(output_padding, "output_padding", minimum=0)
    dilation = as_int(dilation, "dilation", minimum=1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than stride or dilation "
            f"(stride={stride}, dilation={dilation}); got {output_padding}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(
            f"transposed convolution output size would be {size}: padding={padding} is "
            f"too large for n={n}, k={k}, stride={stride}, dilation={dilation}"
        )
    return size


def mode_window(
    shape1: tuple[int, ...], shape2: tuple[int, ...], mode: str
) -> tuple[tuple[int, int], ...]:
    """Where each mode's output lies inside the full convolution: ``(start, length)`` per axis.

    This is scipy.signal's rule, the one home of the 'same' centring and the
    'valid' size in convlib: the full convolution of shapes ``n`` and ``k`` has
    ``n + k - 1`` samples per axis; ``'same'`` keeps ``n`` of them starting at
    ``(k - 1) // 2`` (centred on the *first* input, whatever its size), and
    ``'valid'`` keeps the ``n - k + 1`` that need no zero padding, starting at
    ``k - 1`` (the caller swaps the operands first if the second is larger).

    Parameters
    ----------
    shape1, shape2 : tuple of int
        Shapes of the input and the kernel.
    mode : {'full', 'same', 'valid'}
        The output mode.

    Returns
    -------
    tuple of (int, int)
        ``(start, length)`` for every axis, in full-convolution coordinates.

    Examples
    --------
    >>> mode_window((5,), (3,), "same")
    ((1, 5),)
    >>> mode_window((5, 4), (2, 2), "valid")
    ((1, 4), (1, 3))
    >>> mode_window((3,), (5,), "same")    # the kernel is longer: still 3 samples
    ((2, 3),)
    """
    if mode == "full":
        return tuple((0, n + k - 1) for n, k in zip(shape1, shape2))
    if mode == "same":
        return tuple(((k - 1) // 2, n) for n, k in zip(shape1, shape2))
    if mode == "valid":
        return tuple((k - 1, n - k + 1) for n, k in zip(shape1, shape2))
    return mode_window(shape1, shape2, check_mode(mode))
