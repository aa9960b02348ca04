"""Plotting helpers for the chapters: each takes ``ax=None`` and returns the axes.

matplotlib is imported only when this package is imported. Topics live in small
private modules; their public names are re-exported here.
"""
from ._signals import *  # noqa: F401,F403  (1-D signals, flip-and-slide, spectra)
from ._images import *  # noqa: F401,F403  (images, kernels, feature maps)
from ._arithmetic import *  # noqa: F401,F403  (convolution-arithmetic diagrams)
from ._cnn import *  # noqa: F401,F403  (receptive fields, channels, im2col)
from ._signals import __all__ as _a1
from ._images import __all__ as _a2
from ._arithmetic import __all__ as _a3
from ._cnn import __all__ as _a4

__all__ = [*_a1, *_a2, *_a3, *_a4]
