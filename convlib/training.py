"""A small convolutional network for scikit-learn's 8x8 digits, trained on the CPU in seconds.

Chapter 5 trains it while the book builds; the functions keep the data split,
the model, the training loop and the read-out of feature maps in one place.
torch and scikit-learn are imported only when a function needs them.

Examples
--------
>>> from convlib import training
>>> data = training.load_digits_split()
>>> data.train_images.shape, data.test_images.shape
((1347, 1, 8, 8), (450, 1, 8, 8))
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from convlib._validation import as_int

__all__ = ["DigitsSplit", "load_digits_split", "make_digits_cnn", "train_classifier",
           "predict", "accuracy", "feature_maps"]


class DigitsSplit(NamedTuple):
    """Training and test halves of the digits data (images scaled to [0, 1]).

    Attributes
    ----------
    train_images, test_images : ndarray of shape (n, 1, 8, 8)
        float32 images, one channel.
    train_labels, test_labels : ndarray of shape (n,)
        The digit shown, 0 to 9.

    Examples
    --------
    >>> split = load_digits_split()
    >>> split.train_images.shape[1:], split.train_labels.shape == split.train_images.shape[:1]
    ((1, 8, 8), True)
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_digits_split(*, test_fraction: float = 0.25, seed: int = 0) -> DigitsSplit:
    """Scikit-learn's handwritten digits as image tensors, split into train and test sets.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Share of the 1,797 images held out for testing (strictly between 0 and 1).
    seed : int, default 0
        Seed of the shuffle (the split is stratified by label).

    Returns
    -------
    DigitsSplit
        ``train_images`` and ``test_images`` are float32 ndarrays of shape
        (n, 1, 8, 8) with values in [0, 1]; the labels are int64 ndarrays of shape (n,).

    Examples
    --------
    >>> data = load_digits_split(test_fraction=0.5)
    >>> len(data.train_labels) + len(data.test_labels), float(data.train_images.max())
    (1797, 1.0)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; got {test_fraction!r}")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, np.newaxis]
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    return DigitsSplit(train_x, train_y, test_x, test_y)


def make_digits_cnn(*, channels: tuple[int, int] = (8, 16), n_classes: int = 10,
                    seed: int = 0) -> Any:
    """A two-layer CNN for 8x8 grey images: (conv 3x3, ReLU, 2x2 max-pool) twice, then linear.

    Shapes: (batch, 1, 8, 8) → conv → (batch, c1, 8, 8) → pool → (batch, c1, 4, 4)
    → conv → (batch, c2, 4, 4) → pool → (batch, c2, 2, 2) → linear → (batch, n_classes).
    The convolutions use ``padding=1`` so they keep the size; pooling halves it.

    Parameters
    ----------
    channels : (int, int), default (8, 16)
        Output channels of the two convolution layers.
    n_classes : int, default 10
        Number of classes (logits out).
    seed : int, default 0
        Seed of the initial weights.

    Returns
    -------
    torch.nn.Sequential
        The untrained model (float32, on the CPU). Its convolution layers are
        ``model[0]`` and ``model[3]``.

    Examples
    --------
    >>> model = make_digits_cnn()
    >>> sum(p.numel() for p in model.parameters())
    1898
    """
    import torch
    from torch import nn

    if not isinstance(channels, (tuple, list)) or len(channels) != 2:
        raise ValueError(f"channels must be a pair of positive integers; got {channels!r}")
    first, second = (as_int(c, "channels", minimum=1) for c in channels)
    n_classes = as_int(n_classes, "n_classes", minimum=1)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = nn.Sequential(
            nn.Conv2d(1, first, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(first, second, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(second * 2 * 2, n_classes),
        )
    finally:
        torch.random.set_rng_state(generator_state)
    return model


def train_classifier(
    model: Any,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> list[float]:
    """Train ``model`` in place with Adam and cross-entropy; return the mean loss of each epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float32 tensor of shape (batch, ...) to logits of shape (batch, classes).
    images : ndarray of shape (n, ...)
        Training inputs.
    labels : ndarray of shape (n,)
        Integer class labels.
    epochs : int, default 20
        Passes over the data.
    batch_size : int, default 64
        Samples per gradient step.
    learning_rate : float, default 1e-2
        Adam's step size.
    seed : int, default 0
        Seed of the mini-batch order (the run is reproducible on one machine).

    Returns
    -------
    list of float
        Mean training loss per epoch (``epochs`` entries).

    Examples
    --------
    >>> data = load_digits_split()
    >>> model = make_digits_cnn()
    >>> losses = train_classifier(model, data.train_images[:300], data.train_labels[:300],
    ...                           epochs=2)
    >>> len(losses), losses[1] < losses[0]
    (2, True)
    """
    import torch

    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels)
    if images.ndim < 2 or labels.shape != (images.shape[0],):
        raise ValueError(
            f"labels must be an ndarray of shape (n,) matching images of shape (n, ...); "
            f"got images {images.shape} and labels {labels.shape}"
        )
    epochs = as_int(epochs, "epochs", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate!r}")
    inputs = torch.from_numpy(images)
    targets = torch.from_numpy(labels.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_function = torch.nn.CrossEntropyLoss()
    model.train()
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_function(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append(total / len(inputs))
    model.eval()
    return history


def predict(model: Any, images: np.ndarray) -> np.ndarray:
    """Class predicted by ``model`` for each image.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits.
    images : ndarray of shape (n, ...)
        Inputs.

    Returns
    -------
    ndarray of shape (n,)
        The index of the largest logit of each input.

    Examples
    --------
    >>> data = load_digits_split()
    >>> predict(make_digits_cnn(), data.test_images[:3]).shape
    (3,)
    """
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(np.asarray(images, dtype=np.float32)))
    return logits.argmax(dim=1).numpy()


def accuracy(model: Any, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` that ``model`` classifies as ``labels``.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits.
    images : ndarray of shape (n, ...)
        Inputs.
    labels : ndarray of shape (n,)
        True classes.

    Returns
    -------
    float
        Accuracy in [0, 1].

    Examples
    --------
    >>> data = load_digits_split()
    >>> 0.0 <= accuracy(make_digits_cnn(), data.test_images, data.test_labels) <= 1.0
    True
    """
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},); got {labels.shape}")
    return float(np.mean(predict(model, images) == labels))


def feature_maps(model: Any, image: np.ndarray) -> list[np.ndarray]:
    """Outputs of every convolution layer of ``model`` (after its activation) for one image.

    Parameters
    ----------
    model : torch.nn.Sequential
        A model such as :func:`make_digits_cnn` returns.
    image : ndarray of shape (channels, rows, cols)
        One input image.

    Returns
    -------
    list of ndarray of shape (out_channels, rows, cols)
        One entry per ``torch.nn.Conv2d`` in ``model``, in order: the output of the
        layer that follows it (its activation) when there is one.

    Examples
    --------
    >>> data = load_digits_split()
    >>> [m.shape for m in feature_maps(make_digits_cnn(), data.test_images[0])]
    [(8, 8, 8), (16, 4, 4)]
    """
    import torch

    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"image must be an ndarray of shape (channels, rows, cols); got {image.shape}")
    layers = list(model)
    maps = []
    model.eval()
    with torch.no_grad():
        value = torch.from_numpy(image)[np.newaxis]
        for index, layer in enumerate(layers):
            value = layer(value)
            if isinstance(layer, torch.nn.Conv2d):
                after = layers[index + 1] if index + 1 < len(layers) else None
                if after is not None and not isinstance(after, (torch.nn.Conv2d, torch.nn.MaxPool2d,
                                                                torch.nn.Flatten, torch.nn.Linear)):
                    maps.append(after(value)[0].numpy().copy())
                else:
                    maps.append(value[0].numpy().copy())
    return maps
