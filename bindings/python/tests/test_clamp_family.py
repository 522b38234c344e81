"""The clamp family (format 1.4: Clip, HardSigmoid, HardSwish) end to end: MobileNet-style blocks
with ReLU6, Hardswish, Hardsigmoid squeeze-excitation, Hardtanh and torch.clamp, converted from
torch.fx, TorchScript (script and trace) and ONNX, run by libstrata and compared with PyTorch
(max abs error ≤ 1e-5 of the output scale, same argmax); fused and unfused give the same bits;
batch-position determinism; NaN propagates; the file is stamped format 1.4."""

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


class MobileBlock(nn.Module):
    """Conv-BN-ReLU6, depthwise Conv-Hardswish, squeeze-excitation with Hardsigmoid, Hardtanh, head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.act = nn.Hardswish()
        self.se_pool = nn.AdaptiveAvgPool2d(1)
        self.se = nn.Conv2d(8, 8, 1)
        self.gate = nn.Hardsigmoid()
        self.clamp = nn.Hardtanh(-2.0, 2.5)
        self.head = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        x = self.act(self.dw(self.stem(x)))
        x = x * self.gate(self.se(self.se_pool(x)))
        x = self.clamp(x)
        return self.head(x.flatten(1))


class ClampMLP(nn.Module):
    """Every spelling of the family in an MLP: functions, Tensor methods, bounds on one side."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(12, 32), nn.Linear(32, 32), nn.Linear(32, 6)

    def forward(self, x):
        h = F.relu6(self.a(x) * 3)
        h = torch.clamp(self.b(h), min=-0.4) + F.hardswish(h) - F.hardsigmoid(h)
        h = F.hardtanh(h, -1.5, 1.25) + h.clamp(max=0.3) + torch.clip(h, -0.2, 0.2)
        return self.c(h).clamp_min(-1.0)


def _init(module):
    torch.manual_seed(0)
    for p in module.parameters():
        nn.init.normal_(p, std=0.4)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return module.eval()


MODELS = {"mobile": (MobileBlock, (3, 6, 6)), "mlp": (ClampMLP, (12,))}


def _convert(kind, route):
    cls, shape = MODELS[kind]
    module = _init(cls())
    return module, shape, graph_by_route(module, shape, route)


@pytest.mark.parametrize("route", ["fx", "script", "trace", "onnx"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_matches_pytorch(kind, route):
    module, shape, graph = _convert(kind, route)
    ops = {n.op for n in graph.nodes}
    assert {"Clip", "HardSwish", "HardSigmoid"} <= ops, ops
    data = serialize(graph)
    assert data[10] == 4, "a file with an op of 'Ops (1.4)' is format 1.4"
    with strata.Model.from_bytes(data) as m:
        for x in batches(shape, sizes=(1, 7, 64)):
            x = x * 3  # reach both bounds of every clamp
            assert_close_to_reference(m.run(x), torch_run(module, x), f"{kind} via {route}, batch {len(x)}")


def test_batch_position_determinism():
    module, shape, graph = _convert("mobile", "fx")
    with strata.Model.from_bytes(serialize(graph)) as m:
        x = batches(shape, sizes=(33,), seed=3)[0] * 3
        assert_batch_position_independent(m, x)


@pytest.mark.parametrize("act", [nn.ReLU6(), nn.Hardswish(), nn.Hardsigmoid(), nn.Hardtanh(-0.3, 0.2)],
                         ids=["relu6", "hardswish", "hardsigmoid", "hardtanh"])
def test_fused_epilogue_equals_unfused_step(act):
    x = batches((20,), sizes=(9,), seed=4)[0] * 4
    outs = []
    for keep, (out, ref) in zip((False, True), fused_and_unfused_runs(act, x)):
        outs.append(out)
        assert_close_to_reference(outs[-1], ref, f"{act} keep={keep}")
    assert np.array_equal(outs[0], outs[1]), "the fused epilogue and the separate step differ"


class _Family(nn.Module):
    def forward(self, x):
        return F.relu6(x), F.hardswish(x), F.hardsigmoid(x)


def test_values_at_the_bounds_and_nan():
    graph = convert_module(_Family(), torch.zeros((1, 4)))
    x = np.array([[np.nan, -7.0, 3.0, 9.0]], np.float32)
    with strata.Model.from_bytes(serialize(graph)) as m:
        relu6, hardswish, hardsigmoid = m.run_all(x).values()
    assert np.isnan(relu6[0, 0]) and np.isnan(hardswish[0, 0]) and np.isnan(hardsigmoid[0, 0])
    assert relu6[0, 1:].tolist() == [0.0, 3.0, 6.0]
    assert hardswish[0, 1:].tolist() == [0.0, 3.0, 9.0]
    assert hardsigmoid[0, 1:].tolist() == [0.0, 1.0, 1.0]
