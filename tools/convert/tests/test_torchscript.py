"""TorchScript conversion (torch.jit.script / trace / load): same IR, same checks, same errors."""
import pytest

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import models as M  # noqa: E402
from helpers import check_model  # noqa: E402
from strata_convert.errors import ConversionError  # noqa: E402
from strata_convert.torchscript_source import convert_torchscript  # noqa: E402
from strata_convert.writer import serialize  # noqa: E402

IMAGE, FLAT = (1, 28, 28), (784,)


def script(m, shape):
    return torch.jit.script(m.eval())


def trace(m, shape):
    return torch.jit.trace(m.eval(), torch.randn((2, *shape)))


class AddMM(nn.Module):
    """A linear layer written by hand, as older exports did."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(784, 10) * 0.05)
        self.b = nn.Parameter(torch.randn(10))
        self.w2 = nn.Parameter(torch.randn(10, 10) * 0.3)

    def forward(self, x):
        return torch.matmul(torch.addmm(self.b, x, self.w), self.w2) + self.b


class LayerNormGelu(nn.Module):
    """Format 1.2 ops in an MLP: LayerNorm, GELU (both forms), SiLU, LeakyReLU, erf, residual."""

    def __init__(self):
        super().__init__()
        self.fc1, self.norm, self.fc2, self.fc3 = nn.Linear(784, 64), nn.LayerNorm(64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        h = F.gelu(self.norm(self.fc1(x)))
        h = h + F.silu(self.fc2(h)) + F.gelu(h, approximate="tanh")
        return self.fc3(F.leaky_relu(h, 0.2) + torch.erf(h))


class Arithmetic(nn.Module):
    """Sub, Mul, Div and rsub with constants and between computed values."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 32)
        self.register_buffer("mean", torch.linspace(-1, 1, 784))

    def forward(self, x):
        x = (x - self.mean) / 2.5
        h = self.fc(x * 0.5)
        return (1 - h) * torch.sigmoid(h) - h / 3


class BatchNormMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Linear(784, 32), nn.BatchNorm1d(32), nn.Linear(32, 10)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)
            self.bn.weight.uniform_(0.5, 1.5)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


class SmallCNN(nn.Module):
    """Conv (padding, stride, groups, 'same'), BatchNorm2d, max/avg/adaptive pooling, flatten."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 8, 3, stride=2, groups=2)
        self.c3 = nn.Conv2d(8, 8, 3, padding="same", bias=False)
        self.fc = nn.Linear(8, 10)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
        x = F.avg_pool2d(torch.relu(self.c2(x)), 2, ceil_mode=True, count_include_pad=False)
        x = F.adaptive_avg_pool2d(self.c3(x), 1)
        return self.fc(torch.flatten(x, 1))


VARIANTS = [
    ("SimpleNN", M.SimpleNN, IMAGE),
    ("Sequential", M.sequential, IMAGE),
    ("Sequential inplace", lambda: M.sequential(inplace=True), IMAGE),
    ("view(x.size(0), -1)", M.ViewBySize, IMAGE),
    ("log_softmax", lambda: M.Mods(nn.Tanh(), nn.LogSoftmax(dim=1)), FLAT),
    ("softmax", lambda: M.Mods(nn.Sigmoid(), nn.Softmax(dim=-1)), FLAT),
    ("residual", M.Residual, FLAT),
    ("constant adds", M.ConstAdd, FLAT),
    ("F.dropout", M.FunctionalDropout, FLAT),
    ("two outputs", M.TwoHeads, FLAT),
    ("addmm and matmul", AddMM, FLAT),
    ("LayerNorm GELU SiLU LeakyReLU erf", LayerNormGelu, FLAT),
    ("sub mul div rsub", Arithmetic, FLAT),
    ("BatchNorm1d", BatchNormMLP, FLAT),
    ("CNN", SmallCNN, IMAGE),
]


@pytest.mark.parametrize("how", [script, trace])
@pytest.mark.parametrize("make, shape", [pytest.param(m, s, id=n) for n, m, s in VARIANTS])
def test_variant_matches_pytorch(make, shape, how):
    torch.manual_seed(0)
    module = make()
    check_model(how(module, shape), shape, convert=convert_torchscript)


@pytest.mark.parametrize("how", [script, trace])
def test_simple_nn_graph(how):
    g = convert_torchscript(how(M.SimpleNN(), IMAGE), torch.zeros(1, 1, 28, 28), class_labels=list("0123456789"))
    assert [n.op for n in g.nodes] == ["Reshape", "Linear", "Relu", "Linear", "Relu", "Linear"]
    assert [t.name for t in g.tensors] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert g.metadata["model_name"] == "SimpleNN" and g.metadata["class_labels"].split("\n")[9] == "9"


def test_input_shape_defaults_to_the_first_linear():
    g = convert_torchscript(torch.jit.script(M.SimpleNN().eval()))
    assert g.inputs[0].dims == [-1, 784]
    g = convert_torchscript(torch.jit.script(M.SimpleNN().eval()), input_shape=(1, 28, 28))
    assert g.inputs[0].dims == [-1, 1, 28, 28]


def test_saved_and_loaded_module_converts(tmp_path):
    m = M.SimpleNN().eval()
    torch.jit.save(torch.jit.script(m), tmp_path / "m.pt")
    check_model(torch.jit.load(tmp_path / "m.pt"), IMAGE, convert=convert_torchscript)


def test_same_bytes_as_the_fx_path_for_the_same_weights():
    from strata_convert.torch_source import convert_module
    m = M.sequential().eval()
    a = convert_module(m, torch.zeros(1, 1, 28, 28))
    b = convert_torchscript(torch.jit.script(m), torch.zeros(1, 1, 28, 28))
    assert [n.op for n in a.nodes] == [n.op for n in b.nodes]
    assert [t.array.tobytes() for t in a.tensors] == [t.array.tobytes() for t in b.tensors]
    assert serialize(b) == serialize(convert_torchscript(torch.jit.script(m), torch.zeros(3, 1, 28, 28)))


REFUSED = [
    ("sin", script, M.WithSin, FLAT, ["unsupported op 'aten::sin'", "models.py"]),
    ("sin traced", trace, M.WithSin, FLAT, ["unsupported op 'aten::sin'", "models.py"]),
    ("unfold", script, M.WithConv, IMAGE, ["unsupported op 'aten::im2col'"]),
    ("view mixing the batch", trace, M.MixBatch, FLAT, ["'aten::view'", "mixes the batch"]),
    ("celu", script, lambda: M.Mods(nn.CELU()), FLAT, ["unsupported op 'aten::celu'"]),
    ("unfold traced", trace, M.WithConv, IMAGE, ["unsupported op 'aten::im2col'"]),
    ("div with rounding", trace, lambda: M.Fn(lambda x: torch.div(x, 2, rounding_mode="floor")), FLAT, ["rounding_mode"]),
    ("softmax over dim 0", script, lambda: M.Mods(nn.ReLU(), nn.Softmax(dim=0)), FLAT, ["'aten::softmax'", "the batch"]),
]


@pytest.mark.parametrize("how, make, shape, fragments", [pytest.param(h, m, s, f, id=n) for n, h, m, s, f in REFUSED])
def test_unsupported_is_a_conversion_error_naming_the_op(how, make, shape, fragments):
    with pytest.raises(ConversionError) as e:
        convert_torchscript(how(make(), shape), torch.zeros((1, *shape)))
    for fragment in fragments:
        assert fragment in str(e.value)


def test_plain_module_is_refused():
    with pytest.raises(ConversionError, match="TorchScript"):
        convert_torchscript(M.SimpleNN())


def test_traced_functional_activations():
    check_model(trace(M.Fn(F.relu, lambda x: F.log_softmax(x, dim=1)), IMAGE), IMAGE, convert=convert_torchscript)
