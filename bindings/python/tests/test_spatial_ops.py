"""The spatial ops of issue 15 part B end to end, from torch.fx, TorchScript (trace) and ONNX, run
by libstrata against PyTorch (max abs error ≤ 1e-5 of the output scale, same argmax), bitwise the
same per sample at any batch position: Conv1d / MaxPool1d / AvgPool1d / adaptive 1-D pools
(lowered to the 2-D ops, spatial1d.py), ConvTranspose1d/2d, Upsample/interpolate (nearest,
bilinear, align_corners both ways, by scale or size) and Pad (constant, reflect, replicate)."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import assert_close_to_reference, batches, graph_by_route, needs_library, torch_run
from strata_convert.errors import ConversionError
from strata_convert.torch_source import convert_module
from strata_convert.writer import serialize

import strata

pytestmark = needs_library


class Sensor1D(nn.Module):
    """Conv1d with padding="same", dilation, groups and stride; max/avg 1-D pools (ceil mode); the
    adaptive 1-D pools to sizes dividing the length."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, padding="same", dilation=2)
        self.c2 = nn.Conv1d(8, 8, 3, stride=2, padding=1, groups=4)
        self.mp = nn.MaxPool1d(3, stride=2, ceil_mode=True)
        self.ap = nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)
        self.head = nn.Linear(8 * 4 + 8 * 2, 5)

    def forward(self, x):
        x = self.ap(self.mp(torch.relu(self.c2(torch.relu(self.c1(x))))))
        a = F.adaptive_avg_pool1d(x, 4).flatten(1)
        b = nn.functional.adaptive_max_pool1d(x, 2).flatten(1)
        return self.head(torch.cat([a, b], 1))


class Decoder(nn.Module):
    """ConvTranspose2d (stride, padding, output_padding, groups, dilation), nearest upsampling by
    scale, bilinear by size (align_corners both ways), constant/reflect/replicate padding."""

    def __init__(self):
        super().__init__()
        self.t1 = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
        self.t2 = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=2, dilation=2, groups=2, bias=False)
        self.reflect, self.zero = nn.ReflectionPad2d((1, 2, 2, 1)), nn.ZeroPad2d(1)

    def forward(self, x):
        x = torch.relu(self.t1(x))
        x = self.t2(x)
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.reflect(x)
        x = F.interpolate(x, size=(9, 11), mode="bilinear", align_corners=False)
        x = F.pad(x, (0, 1, 1, 0), mode="replicate")
        x = F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True)
        return self.zero(x).flatten(1)


class Decoder1D(nn.Module):
    """ConvTranspose1d, 1-D upsampling and padding."""

    def __init__(self):
        super().__init__()
        self.t = nn.ConvTranspose1d(3, 5, 4, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="linear")

    def forward(self, x):
        x = self.up(torch.tanh(self.t(x)))
        return F.pad(x, (2, 1), mode="reflect").flatten(1)


class AdaptiveMax2D(nn.Module):
    """AdaptiveMaxPool2d to an output dividing the input; AdaptiveAvgPool2d and 1d to sizes whose
    windows differ (PyTorch's start/end rule; larger than the input too), then a head."""

    def __init__(self):
        super().__init__()
        self.pool, self.avg, self.head = nn.AdaptiveMaxPool2d((2, 3)), nn.AdaptiveAvgPool2d((4, 7)), nn.Linear(18 + 84 + 15, 4)

    def forward(self, x):
        one_d = F.adaptive_avg_pool1d(x.flatten(2), 5)
        return self.head(torch.cat([self.pool(x).flatten(1), self.avg(x).flatten(1), one_d.flatten(1)], 1))


class FractionalScales(nn.Module):
    """Resize by non-integer scales: coordinates follow 1/scale, not the size ratio."""

    def forward(self, x):
        a = F.interpolate(x, scale_factor=1.5, mode="nearest")
        b = F.interpolate(x, scale_factor=(1.7, 0.6), mode="bilinear", align_corners=False)
        return torch.cat([a.flatten(1), b.flatten(1)], 1)


MODELS = {"sensor1d": (Sensor1D, (4, 32)), "decoder": (Decoder, (4, 5, 6)), "decoder1d": (Decoder1D, (3, 10)),
          "adaptive2d": (AdaptiveMax2D, (3, 6, 6)), "fractional": (FractionalScales, (2, 7, 9))}


def _graph(kind, route):
    cls, shape = MODELS[kind]
    torch.manual_seed(0)
    module = cls().eval()
    return module, shape, graph_by_route(module, shape, route)


@pytest.mark.parametrize("route", ["fx", "trace", "onnx"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_matches_pytorch(kind, route):
    if kind == "adaptive2d" and route == "onnx":
        pytest.skip("torch.onnx.export refuses adaptive pooling whose output does not divide the input")
    module, shape, graph = _graph(kind, route)
    with strata.Model.from_bytes(serialize(graph)) as m:
        for x in batches(shape, sizes=(1, 7)):
            assert_close_to_reference(m.run(x), torch_run(module, x), f"{kind} via {route}, batch {len(x)}")


@pytest.mark.parametrize("kind", ["decoder", "decoder1d"])
def test_batch_position_determinism(kind):
    module, shape, graph = _graph(kind, "fx")
    x = batches(shape, sizes=(9,), seed=3)[0]
    with strata.Model.from_bytes(serialize(graph)) as m:
        whole = m.run(x)
        for i in (0, 4, 8):
            assert np.array_equal(m.run(x[i:i + 1])[0], whole[i])
    ops = {n.op for n in graph.nodes}
    assert {"ConvTranspose", "Resize", "Pad"} <= ops or kind == "decoder1d"


class _Adaptive(nn.Module):
    def forward(self, x):
        return F.adaptive_max_pool1d(x, 3)


class _Cubic(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode="bicubic")


class _Circular(nn.Module):
    def forward(self, x):
        return F.pad(x, (1, 1, 1, 1), mode="circular")


@pytest.mark.parametrize("module,shape,match", [
    (_Adaptive(), (2, 8), "does not divide the input length 8"),  # max: windows of different sizes
    (_Cubic(), (2, 4, 4), "bicubic"),
    (_Circular(), (2, 4, 4), "circular"),
])
def test_refusals_name_the_reason(module, shape, match):
    with pytest.raises(ConversionError, match=match):
        convert_module(module, torch.zeros((1, *shape)))


def test_thread_count_does_not_change_the_bits():
    module, shape, graph = _graph("decoder", "fx")
    x = batches(shape, sizes=(13,), seed=4)[0]
    with strata.Model.from_bytes(serialize(graph)) as m:
        with m.session(n_threads=1) as one, m.session(n_threads=3) as three:
            assert np.array_equal(one.run(x), three.run(x))


def _one_node(op, attrs, x_dims=(-1, 2, 4, 5), tensors=()):
    """A graph of one `op` node on input x (dims with -1 for the batch), written without the
    converter's checks so the runtime's own are what answers."""
    from strata_convert.ir import Graph, Node, Tensor, ValueInfo
    names = ["x"] + [t.name for t in tensors]
    node = Node(op, "n", names, ["y"], attrs)
    graph = Graph([ValueInfo("x", "f32", list(x_dims))], [ValueInfo("y", "f32", [-1, 1])], [node], list(tensors),
                  {"producer": "test"})
    for t in graph.tensors:
        assert isinstance(t, Tensor)
    return serialize(graph, validate=False)


@pytest.mark.parametrize("op,attrs,tensors,status,fragment", [
    ("Pad", {"pads": [4, 0, 0, 0], "mode": "reflect"}, (), "SHAPE_MISMATCH", "must each be smaller than the padded dimension"),
    ("Pad", {"pads": [1, 1, 1, 1], "mode": "wrap"}, (), "UNSUPPORTED", "mode 'wrap'"),
    ("Resize", {"sizes": [8, 10], "mode": "cubic"}, (), "UNSUPPORTED", "mode 'cubic'"),
    ("Resize", {"sizes": [8, 10], "mode": "nearest", "coordinate_transformation_mode": "half_pixel"}, (), "UNSUPPORTED",
     "nearest: asymmetric"),
    ("ConvTranspose", {"strides": [2, 2], "output_padding": [2, 0]}, ("w",), "MALFORMED", "output_padding"),
    ("ConvTranspose", {"pads": [3, 0, 3, 0]}, ("w",), "SHAPE_MISMATCH", "remove more than"),
])
def test_runtime_rejects_bad_attributes_with_a_sentence(op, attrs, tensors, status, fragment):
    from strata_convert.ir import Tensor
    stored = [Tensor("w", np.ones((2, 3, 2, 2), np.float32))] if tensors else []
    data = _one_node(op, attrs, tensors=stored)
    with pytest.raises(strata.StrataError) as e:
        strata.Model.from_bytes(data)
    assert e.value.status_name == status and fragment in e.value.message, str(e.value)
