"""Strata vs PyTorch on the MLPs users write: one line per model (see helpers.assert_matches_torch).

Each test converts the model once and runs batches of 1, 2, 7, 64 and 257 samples.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn

from helpers import assert_matches_torch, batches, needs_library
from models import LogisticRegression, ResidualMLP, SimpleNN, seeded, sequential

pytestmark = needs_library

FLAT = (784,)
IMAGE = (1, 28, 28)
SHAPES = pytest.mark.parametrize("shape", [FLAT, IMAGE], ids=["N,784", "N,1,28,28"])


def example(shape):
    return torch.zeros((1, *shape))


@SHAPES
def test_simple_nn(shape):
    assert_matches_torch(seeded(SimpleNN), example(shape), batches(shape))


@SHAPES
def test_sequential_with_dropout(shape):
    assert_matches_torch(seeded(sequential), example(shape), batches(shape))


@pytest.mark.parametrize("act", [torch.sigmoid, torch.tanh], ids=["sigmoid", "tanh"])
@SHAPES
def test_simple_nn_activation(act, shape):
    assert_matches_torch(seeded(SimpleNN, act), example(shape), batches(shape))


@pytest.mark.parametrize("head", [nn.Softmax(dim=1), nn.LogSoftmax(dim=1)], ids=["softmax", "log_softmax"])
@SHAPES
def test_sequential_with_head(head, shape):
    assert_matches_torch(seeded(sequential, head), example(shape), batches(shape))


def test_logistic_regression():
    assert_matches_torch(seeded(LogisticRegression), example(FLAT), batches(FLAT))


@SHAPES
def test_residual_mlp(shape):
    assert_matches_torch(seeded(ResidualMLP), example(shape), batches(shape))


def test_example_batch_size_does_not_matter():
    """A model traced with a batch of 7 runs any batch size."""
    assert_matches_torch(seeded(SimpleNN), torch.ones((7, *IMAGE)), batches(IMAGE))


def test_large_and_tiny_values():
    """Inputs far from the unit range (softmax saturation, big logits)."""
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((64, 784), dtype=np.float32) * scale for scale in (1e-3, 30.0)]
    assert_matches_torch(seeded(sequential, nn.Softmax(dim=1)), example(FLAT), inputs)
    assert_matches_torch(seeded(sequential, nn.LogSoftmax(dim=1)), example(FLAT), inputs)
