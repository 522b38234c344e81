"""The ops of format 1.5, part A (issue 15) end to end: elementwise math (Elu, Selu, Softplus, Mish,
Abs, Neg, Sqrt, Pow, Exp, Log, Reciprocal, PReLU), shape ops (permute/transpose, a ShuffleNet
channel shuffle, chunk/split/narrow/slicing, unsqueeze) and reductions (mean/sum/amax over any
axes, squeeze-excitation, F.normalize), converted from torch.fx, TorchScript (script and trace)
and ONNX, run by libstrata and compared with PyTorch (max abs error ≤ 1e-5 of the output scale,
same argmax); fused and unfused activations give the same bits; batch-position determinism; the
file is stamped format 1.5."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import (assert_batch_position_independent, assert_close_to_reference, batches,
                     fused_and_unfused_runs, graph_by_route, needs_library, torch_run)
from strata_convert.torch_source import convert_module
from strata_convert.writer import serialize

import strata

pytestmark = needs_library


class UnaryNet(nn.Module):
    """Every elementwise op of 1.5 in an MLP, as modules, functions and Tensor methods."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(12, 24), nn.Linear(24, 24), nn.Linear(24, 6)
        self.elu, self.softplus, self.prelu = nn.ELU(0.7), nn.Softplus(1.5), nn.PReLU(24)

    def forward(self, x):
        h = self.elu(self.a(x))
        h = F.selu(h) + F.mish(h) + self.softplus(h) - F.softplus(h)
        h = self.prelu(self.b(h))
        m = h.abs()
        h = torch.sqrt(m) + torch.exp(-m) + torch.log(m + 1) - h.neg() * 0.5 + torch.reciprocal(m + 1)
        h = h + m ** 1.5 * 0.1 + torch.pow(h, 2) * 0.05 - h ** 3 * 0.01
        return self.c(h)


class ShuffleBlock(nn.Module):
    """ShuffleNet v2's unit (chunk, branch, cat, channel shuffle) and slicing, permute and unsqueeze."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4), nn.ReLU(),
                                    nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.Conv2d(4, 4, 1), nn.ReLU())
        self.head = nn.Linear(8 * 3 * 2 + 4 * 6, 5)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        x = torch.cat((a, self.branch(b)), dim=1)
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)  # channel shuffle
        y = x[:, :, 1:, ::2].permute(0, 2, 3, 1)  # [N, 5, 3, 8]
        z = y.narrow(1, 1, 3).unsqueeze(1)[:, 0, :2]  # [N, 2, 3, 8]
        return self.head(torch.cat((z.flatten(1), x[:, 2:6, 3].flatten(1)), dim=1))


class ReduceNet(nn.Module):
    """Squeeze-excitation (x · sigmoid(conv(mean(x)))), reductions over other axes, F.normalize."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.se = nn.Conv2d(8, 8, 1)
        self.head = nn.Linear(8 + 6 + 6 + 8, 4)

    def forward(self, x):
        x = F.silu(self.stem(x))
        x = x * torch.sigmoid(self.se(x.mean((2, 3), keepdim=True)))
        a = x.mean(dim=(1, 3))              # [N, 6]
        s = x.sum(1).amax(-1)               # [N, 6]
        m = torch.amax(x, dim=(2, 3))       # [N, 8]
        f = F.normalize(torch.cat((a, s, m, x.sum((2, 3))), 1), dim=1)
        return self.head(f)


def _init(module):
    torch.manual_seed(0)
    for p in module.parameters():
        nn.init.normal_(p, std=0.4)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return module.eval()


MODELS = {"unary": (UnaryNet, (12,), {"Elu", "Selu", "Mish", "Softplus", "Abs", "Sqrt", "Exp", "Log", "Neg",
                                       "Reciprocal", "Pow"}),
          "shuffle": (ShuffleBlock, (3, 6, 6), {"Transpose", "Slice"}),
          "reduce": (ReduceNet, (3, 6, 6), {"ReduceMean", "ReduceSum", "ReduceMax", "Sqrt", "GlobalAveragePool"})}


def _convert(kind, route):
    cls, shape, _ = MODELS[kind]
    module = _init(cls())
    return module, shape, graph_by_route(module, shape, route)


ROUTES = ["fx", "script", "trace", "onnx", "onnx-fixed-batch"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", list(MODELS))
def test_matches_pytorch(kind, route):
    module, shape, graph = _convert(kind, route)
    ops = {n.op for n in graph.nodes}
    expected = MODELS[kind][2] - ({"Mish"} if route.startswith("onnx") else set())  # exported as x·tanh(softplus(x))
    assert expected <= ops, ops
    data = serialize(graph)
    assert data[10] == 5, "a file with an op of 'Ops (1.5)' is format 1.5"
    with strata.Model.from_bytes(data) as m:
        for x in batches(shape, sizes=(1, 7, 64)):
            assert_close_to_reference(m.run(x), torch_run(module, x), f"{kind} via {route}, batch {len(x)}")


@pytest.mark.parametrize("kind", list(MODELS))
def test_batch_position_determinism(kind):
    module, shape, graph = _convert(kind, "fx")
    with strata.Model.from_bytes(serialize(graph)) as m:
        x = batches(shape, sizes=(33,), seed=3)[0]
        assert_batch_position_independent(m, x)


class _Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


ACTIVATIONS = {"elu": nn.ELU(0.5), "selu": nn.SELU(), "softplus": nn.Softplus(2.0, 3.0), "mish": nn.Mish(),
               "abs": _Fn(torch.abs), "neg": _Fn(torch.neg), "sqrt": _Fn(lambda x: torch.sqrt(x)),
               "pow2": _Fn(lambda x: x ** 2), "pow-1.5": _Fn(lambda x: x ** -1.5), "pow3": _Fn(lambda x: x ** 3),
               "exp": _Fn(torch.exp), "log": _Fn(torch.log), "reciprocal": _Fn(torch.reciprocal)}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_fused_epilogue_equals_unfused_step_and_pytorch(name):
    act = ACTIVATIONS[name]
    x = batches((20,), sizes=(9,), seed=4)[0] * 2
    outs = []
    for keep, (out, ref) in zip((False, True), fused_and_unfused_runs(act, x)):
        outs.append(out)
        finite = np.isfinite(ref)
        assert np.array_equal(np.isnan(outs[-1]), np.isnan(ref)), f"{name}: NaN where PyTorch has NaN, only"
        assert_close_to_reference(np.where(finite, outs[-1], 0), np.where(finite, ref, 0), f"{name} keep={keep}")
    assert np.array_equal(outs[0], outs[1], equal_nan=True), "the fused epilogue and the separate step differ"


def test_transpose_and_slice_refuse_the_batch():
    from strata_convert.errors import ConversionError

    with pytest.raises(ConversionError, match="batch"):
        convert_module(_Fn(lambda x: x.permute(1, 0, 2)), torch.zeros((1, 3, 4)))
    with pytest.raises(ConversionError, match="batch"):
        convert_module(_Fn(lambda x: x[1:]), torch.zeros((1, 3, 4)))
    with pytest.raises(ConversionError, match="batch"):
        convert_module(_Fn(lambda x: x.sum(0)), torch.zeros((1, 3, 4)))


@pytest.mark.parametrize("kind", list(MODELS))
def test_thread_count_determinism(kind):
    """1, 2 and 3 threads give the same bits (each sample's values are computed in one order)."""
    module, shape, graph = _convert(kind, "fx")
    x = batches(shape, sizes=(37,), seed=5)[0]
    with strata.Model.from_bytes(serialize(graph)) as m:
        outs = []
        for n in (1, 2, 3):
            with m.session(n_threads=n) as s:
                outs.append(s.run(x))
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
