"""Deep-learning layers with ``torch.nn.functional`` semantics, NumPy in and out.

The public names live in two modules with one job each: convolutions in
:mod:`convlib._nn_conv` and pooling in :mod:`convlib._nn_pool`; shared input
handling is in :mod:`convlib._nn_common`.

Examples
--------
>>> import numpy as np
>>> from convlib._nn import conv2d, max_pool2d
>>> feature_map = conv2d(np.ones((1, 3, 8, 8)), np.ones((4, 3, 3, 3)), padding=1)
>>> max_pool2d(feature_map, 2).shape
(1, 4, 4, 4)
"""
from __future__ import annotations

from convlib._nn_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from convlib._nn_pool import avg_pool2d, max_pool2d

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]
