"""A network trained on scikit-learn's digits: Strata's held-out accuracy equals PyTorch's."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

import strata
from helpers import assert_close_to_reference, convert, needs_library, torch_run
from models import SimpleNN

pytestmark = needs_library

LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def digits_as_mnist():
    """The 8x8 digits scaled to [0, 1], upsampled 3x and padded to (N, 1, 28, 28)."""
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    images = np.kron(images, np.ones((1, 3, 3), np.float32))
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None]
    return np.ascontiguousarray(images), digits.target.astype(np.int64)


def train(x, y, epochs=8, seed=0):
    torch.manual_seed(seed)
    model = SimpleNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(xt), generator=generator).split(32):
            optimizer.zero_grad()
            loss_fn(model(xt[batch]), yt[batch]).backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    x, y = digits_as_mnist()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train_idx, test_idx = order[:1297], order[1297:]
    model = train(x[train_idx], y[train_idx])
    path = convert(model, torch.from_numpy(x[:1]), tmp_path_factory.mktemp("digits") / "digits.strata",
                   class_labels=LABELS)
    return model, path, x[test_idx], y[test_idx]


def test_accuracy_equals_pytorch(trained):
    module, path, x_test, y_test = trained
    expected = torch_run(module, x_test)
    with strata.Model(path) as model:
        got = model.run(x_test)
    assert_close_to_reference(got, expected, "digits logits")
    torch_accuracy = float(np.mean(expected.argmax(1) == y_test))
    strata_accuracy = float(np.mean(got.argmax(1) == y_test))
    assert strata_accuracy == torch_accuracy
    assert torch_accuracy > 0.9, f"training went wrong: accuracy {torch_accuracy}"


def test_one_sample_at_a_time(trained):
    module, path, x_test, y_test = trained
    with strata.Model(path) as model:
        predictions = np.array([model.run(sample).argmax() for sample in x_test[:100]])
    assert np.array_equal(predictions, torch_run(module, x_test[:100]).argmax(1))


def test_class_labels(trained):
    _, path, x_test, _ = trained
    with strata.Model(path) as model:
        assert model.class_labels == LABELS
        assert model.metadata("class_labels") == "\n".join(LABELS)
        label = model.class_labels[int(model.run(x_test[0]).argmax())]
        assert label in LABELS
