"""Concat (format 1.4) end to end: SqueezeNet's fire module (channels), a DenseNet-style block
(growing channels), an MLP joining features, from torch.fx, TorchScript (script and trace) and
ONNX, run by libstrata against PyTorch (max abs error ≤ 1e-5 of the output scale, same argmax),
bitwise the same per sample at any batch size; joining along the batch is refused."""

import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import assert_close_to_reference, batches, graph_by_route, needs_library, torch_run
from strata_convert.errors import ConversionError
from strata_convert.torch_source import convert_module
from strata_convert.writer import serialize

import strata

pytestmark = needs_library


class Fire(nn.Module):
    """SqueezeNet's fire module: squeeze 1×1, then 1×1 and 3×3 expands joined along channels."""

    def __init__(self):
        super().__init__()
        self.squeeze, self.e1, self.e3 = nn.Conv2d(4, 3, 1), nn.Conv2d(3, 5, 1), nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.e1(x)), torch.relu(self.e3(x))], 1).flatten(1)


class Dense(nn.Module):
    """Two DenseNet layers: each appends its features to everything before it."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Conv2d(4, 2, 3, padding=1), nn.Conv2d(6, 2, 3, padding=1)

    def forward(self, x):
        x = torch.cat((x, torch.relu(self.l1(x))), dim=1)
        x = torch.concat([x, torch.relu(self.l2(x))], dim=-3)
        return x.flatten(1)


class Features(nn.Module):
    """Two MLP branches joined along the last axis, then a head."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.head = nn.Linear(10, 7), nn.Linear(10, 5), nn.Linear(22, 3)

    def forward(self, x):
        return self.head(torch.cat([torch.tanh(self.a(x)), x, torch.sigmoid(self.b(x))], dim=-1))


MODELS = {"fire": (Fire, (4, 5, 5)), "dense": (Dense, (4, 4, 4)), "features": (Features, (10,))}


def _graph(kind, route):
    cls, shape = MODELS[kind]
    torch.manual_seed(0)
    module = cls().eval()
    return module, shape, graph_by_route(module, shape, route)


@pytest.mark.parametrize("route", ["fx", "script", "trace", "onnx"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_matches_pytorch(kind, route):
    module, shape, graph = _graph(kind, route)
    assert "Concat" in {n.op for n in graph.nodes}
    with strata.Model.from_bytes(serialize(graph)) as m:
        for x in batches(shape, sizes=(1, 7, 64)):
            assert_close_to_reference(m.run(x), torch_run(module, x), f"{kind} via {route}, batch {len(x)}")


def test_batch_position_determinism():
    module, shape, graph = _graph("fire", "fx")
    x = batches(shape, sizes=(19,), seed=2)[0]
    with strata.Model.from_bytes(serialize(graph)) as m:
        whole = m.run(x)
        for i in (0, 7, 18):
            assert np.array_equal(m.run(x[i:i + 1])[0], whole[i])


class _BatchCat(nn.Module):
    def forward(self, x):
        return torch.cat([x, x], 0)


def test_joining_along_the_batch_is_refused():
    with pytest.raises(ConversionError, match="the batch"):
        convert_module(_BatchCat(), torch.zeros((1, 3)))
