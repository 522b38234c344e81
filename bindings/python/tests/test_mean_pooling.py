"""Means written by hand as global average pooling (MnasNet's head, squeeze-and-excitation with
`x.mean((2, 3), keepdim=True)`), from torch.fx, TorchScript and ONNX (ReduceMean), run by libstrata
against PyTorch; a mean over other dims is refused with a sentence that says what is supported."""
import io

import pytest
import torch
import torch.nn as nn
from helpers import assert_close_to_reference, batches, needs_library, torch_run
from strata_convert.errors import ConversionError
from strata_convert.onnx_source import convert_onnx
from strata_convert.torch_source import convert_module
from strata_convert.torchscript_source import convert_torchscript
from strata_convert.writer import serialize

import strata

pytestmark = needs_library


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc1, self.fc2, self.head = nn.Conv2d(3, 8, 3), nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1), nn.Linear(8, 5)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))
        x = x * s
        return self.head(torch.mean(x, [-1, -2]))


@pytest.mark.parametrize("route", ["fx", "script", "trace", "onnx"])
def test_matches_pytorch(route):
    torch.manual_seed(0)
    module, shape = SqueezeExcite().eval(), (3, 7, 6)
    example = torch.zeros((1, *shape))
    if route == "fx":
        graph = convert_module(module, example)
    elif route in ("script", "trace"):
        ts = torch.jit.script(module) if route == "script" else torch.jit.trace(module, torch.randn((2, *shape)))
        graph = convert_torchscript(ts, example)
    else:
        import onnx
        f = io.BytesIO()
        torch.onnx.export(module, (torch.randn((2, *shape)),), f, dynamo=False, opset_version=17, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
        graph = convert_onnx(onnx.load_from_string(f.getvalue()))
    assert [n.op for n in graph.nodes].count("GlobalAveragePool") == 2
    with strata.Model.from_bytes(serialize(graph)) as m:
        for x in batches(shape, sizes=(1, 9)):
            assert_close_to_reference(m.run(x), torch_run(module, x), f"via {route}, batch {len(x)}")


class _ChannelMean(nn.Module):
    def forward(self, x):
        return x.mean(1)


def test_a_mean_over_channels_is_a_reduce_mean_and_over_the_batch_is_refused():
    graph = convert_module(_ChannelMean(), torch.zeros((1, 3, 4, 4)))
    assert [n.op for n in graph.nodes] == ["ReduceMean"]  # format 1.5
    with strata.Model.from_bytes(serialize(graph)) as m:
        x = batches((3, 4, 4), sizes=(5,))[0]
        assert_close_to_reference(m.run(x), torch_run(_ChannelMean(), x), "mean over channels")
    with pytest.raises(ConversionError, match="the batch"):
        convert_module(_Fn0(), torch.zeros((1, 3, 4, 4)))


class _Fn0(nn.Module):
    def forward(self, x):
        return x.mean(0)
