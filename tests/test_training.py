"""Tests of convlib.training: the digits split, the small CNN, its training and read-outs."""
import numpy as np
import pytest

import convlib
from convlib import training

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def data():
    return training.load_digits_split()


@pytest.fixture(scope="module")
def trained(data):
    torch.set_num_threads(1)
    model = training.make_digits_cnn(seed=0)
    losses = training.train_classifier(model, data.train_images, data.train_labels, seed=0)
    return model, losses


def test_split_is_disjoint_stratified_and_scaled(data):
    from sklearn.datasets import load_digits

    digits = load_digits()
    assert len(data.train_images) + len(data.test_images) == len(digits.target)
    assert data.train_images.dtype == np.float32
    assert data.train_images.min() >= 0 and data.train_images.max() == 1.0
    # every class appears in the test set in about its share of the data
    counts = np.bincount(data.test_labels, minlength=10)
    expected = np.bincount(digits.target) * 0.25
    assert np.all(np.abs(counts - expected) <= 1)
    # each test image is one of the originals (no augmentation), scaled by 1/16
    flat = (digits.images / 16.0).reshape(len(digits.target), -1).astype(np.float32)
    first = data.test_images[0].reshape(-1)
    assert np.any(np.all(flat == first, axis=1))


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        training.load_digits_split(test_fraction=1.0)


def test_model_layer_shapes_follow_the_output_size_formula(data):
    model = training.make_digits_cnn(channels=(4, 6))
    maps = training.feature_maps(model, data.test_images[0])
    size = convlib.conv_output_size(8, 3, padding=1)
    pooled = convlib.conv_output_size(size, 2, stride=2)
    assert maps[0].shape == (4, size, size)
    second = convlib.conv_output_size(pooled, 3, padding=1)
    assert maps[1].shape == (6, second, second)


def test_same_seed_same_initial_weights_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a = training.make_digits_cnn(seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = training.make_digits_cnn(seed=3)
    c = training.make_digits_cnn(seed=4)
    assert torch.equal(a[0].weight, b[0].weight)
    assert not torch.equal(a[0].weight, c[0].weight)


def test_training_reaches_high_test_accuracy(trained, data):
    model, losses = trained
    assert len(losses) == 20
    assert losses[-1] < 0.25 * losses[0]
    assert training.accuracy(model, data.test_images, data.test_labels) > 0.93


def test_training_is_reproducible(data):
    torch.set_num_threads(1)
    runs = []
    for _ in range(2):
        model = training.make_digits_cnn(seed=1)
        runs.append(training.train_classifier(model, data.train_images[:200],
                                              data.train_labels[:200], epochs=2, seed=5))
    assert runs[0] == runs[1]


def test_feature_maps_equal_convlib_conv2d_with_the_learned_weights(trained, data):
    model, _ = trained
    image = data.test_images[7]
    first = training.feature_maps(model, image)[0]
    weight = model[0].weight.detach().numpy()
    bias = model[0].bias.detach().numpy()
    expected = np.maximum(convlib.conv2d(image[np.newaxis], weight, bias, padding=1)[0], 0)
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-5)


def test_predict_agrees_with_torch_argmax(trained, data):
    model, _ = trained
    with torch.no_grad():
        logits = model(torch.from_numpy(data.test_images[:50])).numpy()
    np.testing.assert_array_equal(training.predict(model, data.test_images[:50]),
                                  logits.argmax(axis=1))


def test_bad_arguments_name_the_argument(data):
    model = training.make_digits_cnn()
    with pytest.raises(ValueError, match="labels"):
        training.train_classifier(model, data.train_images, data.train_labels[:-1])
    with pytest.raises(ValueError, match="epochs"):
        training.train_classifier(model, data.train_images, data.train_labels, epochs=0)
    with pytest.raises(ValueError, match="channels"):
        training.make_digits_cnn(channels=(8,))
    with pytest.raises(ValueError, match="image"):
        training.feature_maps(model, data.test_images[:2])
    with pytest.raises(ValueError, match="labels"):
        training.accuracy(model, data.test_images, data.test_labels[:3])
