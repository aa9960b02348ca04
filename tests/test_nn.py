"""convlib._nn: the public layer names, where they live, and that torch stays unimported."""
import subprocess
import sys

import numpy as np

import convlib
from convlib import _nn, _nn_conv, _nn_pool

LAYERS = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]


def test_nn_reexports_exactly_the_six_layers_that_convlib_publishes():
    assert sorted(_nn.__all__) == sorted(LAYERS)
    for name in LAYERS:
        assert getattr(convlib, name) is getattr(_nn, name)
    assert _nn.conv2d is _nn_conv.conv2d and _nn.max_pool2d is _nn_pool.max_pool2d


def test_numpy_path_does_not_import_torch():
    code = (
        "import sys, numpy as np, convlib\n"
        "convlib.conv2d(np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3)), padding='same')\n"
        "convlib.conv_transpose1d(np.ones((1, 2, 5)), np.ones((2, 3, 3)), stride=2)\n"
        "convlib.max_pool2d(np.ones((1, 4, 4)), 2); convlib.avg_pool2d(np.ones((1, 4, 4)), 2)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_small_cnn_forward_pass_chains_the_layers_with_consistent_shapes():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    features = _nn.conv2d(images, rng.standard_normal((8, 1, 3, 3)).astype(np.float32), padding="same")
    pooled = _nn.max_pool2d(np.maximum(features, 0), 2)
    upsampled = _nn.conv_transpose2d(pooled, rng.standard_normal((8, 1, 2, 2)).astype(np.float32), stride=2)
    assert features.shape == (4, 8, 28, 28) and pooled.shape == (4, 8, 14, 14)
    assert upsampled.shape == images.shape and upsampled.dtype == np.float32
