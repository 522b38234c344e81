"""torch.fx conversion: every supported model variant matches PyTorch; unsupported ones are refused."""
import pytest

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import models as M  # noqa: E402
from helpers import check_model  # noqa: E402
import strata_convert  # noqa: E402
from strata_convert import format as fmt  # noqa: E402
from strata_convert.errors import ConversionError  # noqa: E402
from strata_convert.torch_source import convert_module, save  # noqa: E402
from strata_convert.writer import serialize  # noqa: E402

IMAGE, FLAT = (1, 28, 28), (784,)

VARIANTS = [
    ("SimpleNN image", lambda: M.SimpleNN(), IMAGE),
    ("SimpleNN flat", lambda: M.SimpleNN(), FLAT),
    ("Sequential", lambda: M.sequential(), IMAGE),
    ("Sequential inplace ReLU", lambda: M.sequential(inplace=True), IMAGE),
    ("torch.sigmoid", lambda: M.Fn(torch.sigmoid), IMAGE),
    ("torch.tanh", lambda: M.Fn(torch.tanh), IMAGE),
    ("F.relu", lambda: M.Fn(F.relu), IMAGE),
    ("F.softmax", lambda: M.Fn(F.relu, lambda x: F.softmax(x, dim=1)), IMAGE),
    ("F.log_softmax", lambda: M.Fn(F.relu, lambda x: F.log_softmax(x, dim=-1)), IMAGE),
    ("x.softmax(-1)", lambda: M.Fn(F.relu, lambda x: x.softmax(-1)), IMAGE),
    ("torch.softmax", lambda: M.Fn(F.relu, lambda x: torch.softmax(x, 1)), IMAGE),
    ("x.reshape", lambda: M.Fn(F.relu, flatten=lambda x: x.reshape(-1, 784)), IMAGE),
    ("torch.flatten", lambda: M.Fn(F.relu, flatten=lambda x: torch.flatten(x, 1)), IMAGE),
    ("x.flatten(1)", lambda: M.Fn(F.relu, flatten=lambda x: x.flatten(1)), IMAGE),
    ("bias=False", lambda: M.Fn(F.relu, bias=False), FLAT),
    ("nn.Sigmoid", lambda: M.Mods(nn.Sigmoid()), FLAT),
    ("nn.Tanh", lambda: M.Mods(nn.Tanh()), FLAT),
    ("nn.Softmax", lambda: M.Mods(nn.ReLU(), nn.Softmax(dim=1)), FLAT),
    ("nn.LogSoftmax", lambda: M.Mods(nn.ReLU(), nn.LogSoftmax(dim=1)), FLAT),
    ("nn.Identity", lambda: M.Mods(nn.Identity()), FLAT),
    ("plain Linear", lambda: nn.Linear(784, 10), FLAT),
    ("residual +", lambda: M.Residual(), FLAT),
    ("residual torch.add", lambda: M.Residual(use_torch_add=True), FLAT),
    ("view(x.size(0), -1)", lambda: M.ViewBySize(), IMAGE),
    ("constant adds", lambda: M.ConstAdd(), FLAT),
    ("F.dropout", lambda: M.FunctionalDropout(), FLAT),
    ("two outputs", lambda: M.TwoHeads(), FLAT),
    ("float64", lambda: M.SimpleNN().double(), IMAGE),
]


@pytest.mark.parametrize("make, shape", [pytest.param(m, s, id=n) for n, m, s in VARIANTS])
def test_variant_matches_pytorch(make, shape):
    torch.manual_seed(0)
    check_model(make(), shape)


def test_simple_nn_graph_and_metadata():
    g = convert_module(M.SimpleNN(), torch.zeros(1, 1, 28, 28), class_labels=[str(d) for d in range(10)])
    assert [n.op for n in g.nodes] == ["Reshape", "Linear", "Relu", "Linear", "Relu", "Linear"]
    assert g.nodes[0].attrs == {"shape": [-1, 784]}
    assert [t.name for t in g.tensors] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert g.tensors[0].array.shape == (128, 784)  # [out, in] as PyTorch stores it
    assert g.inputs[0].dims == [-1, 1, 28, 28] and g.outputs[0].dims == [-1, 10]
    assert g.metadata == {
        fmt.META_PRODUCER: f"strata-convert {strata_convert.__version__}", fmt.META_SOURCE_FRAMEWORK: f"pytorch {torch.__version__}",
        fmt.META_MODEL_NAME: "SimpleNN", fmt.META_CLASS_LABELS: "0\n1\n2\n3\n4\n5\n6\n7\n8\n9"}


def test_sequential_drops_dropout_and_uses_flatten():
    g = convert_module(M.sequential(), torch.zeros(1, 1, 28, 28))
    assert [n.op for n in g.nodes] == ["Flatten", "Linear", "Relu", "Linear", "Relu", "Linear"]
    assert g.nodes[0].attrs == {"axis": 1}
    assert g.tensors[0].name == "1.weight"


def test_softmax_axis_is_normalised():
    g = convert_module(M.Mods(nn.ReLU(), nn.Softmax(dim=-1)), torch.zeros(1, 784))
    assert g.nodes[-1].op == "Softmax" and g.nodes[-1].attrs == {"axis": 1}


def test_bias_free_linear_has_an_empty_bias_input():
    g = convert_module(nn.Linear(784, 10, bias=False), torch.zeros(1, 784))
    assert g.nodes[0].inputs[2] == "" and len(g.tensors) == 1


def test_float64_parameters_are_cast_to_f32():
    g = convert_module(M.SimpleNN().double(), torch.zeros(1, 784, dtype=torch.float64))
    assert all(t.array.dtype.name == "float32" for t in g.tensors)


def test_conversion_is_deterministic_and_leaves_the_module_as_it_was():
    torch.manual_seed(0)
    m = M.sequential().train()
    a = serialize(convert_module(m, torch.zeros(1, 1, 28, 28), class_labels=list("abcdefghij")))
    b = serialize(convert_module(m, torch.zeros(7, 1, 28, 28), class_labels=list("abcdefghij")))
    assert a == b
    assert m.training


def test_save_writes_a_readable_file(tmp_path):
    from strata_convert.reader import read_model
    g = save(M.SimpleNN(), torch.zeros(1, 784), tmp_path / "m.strata", name="mnist")
    read = read_model(tmp_path / "m.strata")
    assert len(read.metadata.pop("payload_sha256")) == 64  # recorded by default, as the CLI does
    assert read == g and g.metadata["model_name"] == "mnist"


REFUSED = [
    ("Unfold", lambda: M.WithConv(), IMAGE, ["unsupported op 'torch.nn.Unfold' at node 'conv1' (module conv1)"]),
    ("torch.sin", lambda: M.WithSin(), FLAT, ["unsupported op 'torch.sin' at node 'sin'", "models.py", "torch.sin(self.fc(x))"]),
    ("view mixing the batch", lambda: M.MixBatch(), FLAT, ["'Tensor.view' at node 'view'", "mixes the batch", "x.view(-1, 392)"]),
    ("flatten of the batch", lambda: M.Fn(F.relu, head=lambda x: torch.flatten(x)), FLAT, ["'torch.flatten'", "mixes the batch"]),
    ("softmax over dim 0", lambda: M.Mods(nn.ReLU(), nn.Softmax(dim=0)), FLAT, ["'torch.nn.Softmax' at node 'head'", "the batch"]),
    ("F.celu", lambda: M.Fn(F.celu), FLAT, ["unsupported op 'torch.nn.functional.celu'"]),
    ("nn.CELU", lambda: M.Mods(nn.CELU()), FLAT, ["unsupported op 'torch.nn.CELU' at node 'act' (module act)"]),
    ("power of a tensor", lambda: M.Fn(lambda x: x ** x), FLAT, ["unsupported op 'operator.pow' at node 'pow'", "exponent"]),
    ("indexing with a list", lambda: M.Fn(lambda x: x + x[:, [0, 2]].sum(1, keepdim=True)), FLAT,
     ["unsupported op 'operator.getitem'"]),
    ("in-place on a reused value", lambda: M.InplaceReused(), FLAT, ["'torch.nn.functional.relu'", "in place"]),
]


@pytest.mark.parametrize("make, shape, fragments", [pytest.param(m, s, f, id=n) for n, m, s, f in REFUSED])
def test_unsupported_is_a_conversion_error_naming_the_op(make, shape, fragments):
    with pytest.raises(ConversionError) as e:
        convert_module(make(), torch.zeros((1, *shape)))
    for fragment in fragments:
        assert fragment in str(e.value)


def test_wrong_input_shape_is_a_conversion_error():
    with pytest.raises(ConversionError, match="failed"):
        convert_module(M.SimpleNN(), torch.zeros(1, 100))


def test_label_count_must_match_the_outputs():
    with pytest.raises(ConversionError, match="3 class labels"):
        convert_module(M.SimpleNN(), torch.zeros(1, 784), class_labels=["a", "b", "c"])
