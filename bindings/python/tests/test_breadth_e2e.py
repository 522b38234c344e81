"""End to end on scikit-learn's 8×8 digits (issue 5): a small CNN, a residual MLP with LayerNorm
and GELU, and a GRU classifier (rows as a sequence), each trained briefly in PyTorch (seeded, one
thread), converted via torch.fx and via ONNX export (torch.onnx, TorchScript exporter), run by
libstrata through the Python binding, and compared with PyTorch's outputs.

Tolerance: max |strata − torch| ≤ 1e-4 · max(1, max |torch|) and the same predicted class. The
scikit-learn MLP (direct and through skl2onnx) and a state dict with --arch are checked likewise.
"""
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import needs_library
from strata_convert import numpy_ref
from strata_convert.onnx_source import convert_onnx
from strata_convert.torch_source import convert_module
from strata_convert.writer import serialize

import strata

pytestmark = needs_library


def _digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    return x, d.target.astype(np.int64)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(F.relu(self.bn(self.conv(x)))), 1))


class ResidualMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(64, 32)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(32), nn.Linear(32, 32), nn.GELU()) for _ in range(2)])
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 24, batch_first=True)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


MODELS = {
    "cnn": (CNN, lambda x: x[:, None]),          # [N, 1, 8, 8]
    "residual": (ResidualMLP, lambda x: x.reshape(len(x), 64)),
    "gru": (GRUClassifier, lambda x: x),           # [N, 8 rows, 8]
}
_TRAINED = {}


def trained(kind):
    if kind not in _TRAINED:
        cls, shape = MODELS[kind]
        torch.manual_seed(0)
        x, y = _digits()
        x = torch.from_numpy(shape(x))
        y = torch.from_numpy(y)
        model = cls()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(10):  # a few seconds on one thread
            for i in range(0, 1500, 100):
                opt.zero_grad()
                F.cross_entropy(model(x[i:i + 100]), y[i:i + 100]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(x[1500:]).argmax(1) == y[1500:]).float().mean())
        _TRAINED[kind] = (model, x[1500:].numpy(), acc)
    return _TRAINED[kind]


def _onnx_bytes(model, example):
    f = io.BytesIO()
    torch.onnx.export(model, (torch.from_numpy(example[:1]),), f, dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    return f.getvalue()


def _check(graph, model, x, what):
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    with strata.Model.from_bytes(serialize(graph)) as m:
        got = m.run(x)
    err = float(np.abs(got.astype(np.float64) - ref).max())
    tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
    print(f"{what}: max abs error {err:.3g} (tolerance {tol:.3g}) on {len(x)} digits")
    assert err <= tol, f"{what}: max abs error {err:.3g} > {tol:.3g}"
    assert (got.argmax(1) == ref.argmax(1)).all()
    ref_np = numpy_ref.run(graph, x)[0]
    assert float(np.abs(ref_np - ref).max()) <= tol
    return err


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("route", ["torch", "onnx"])
def test_digits_model(kind, route):
    model, x, acc = trained(kind)
    assert acc > 0.8, f"{kind} trained to only {acc:.2f}"
    if route == "torch":
        graph = convert_module(model, torch.from_numpy(x[:1]))
    else:
        import onnx
        graph = convert_onnx(onnx.load_from_string(_onnx_bytes(model, x)))
    _check(graph, model, x, f"{kind} via {route}")


def test_sklearn_mlp_direct_and_skl2onnx():
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
    from strata_convert.sklearn_source import convert_sklearn
    x, y = _digits()
    x = x.reshape(len(x), 64)
    clf = MLPClassifier((32,), max_iter=60, random_state=0).fit(x[:1500], y[:1500])
    ref = clf.predict_proba(x[1500:])
    onx = to_onnx(clf, x[:1], options={id(clf): {"zipmap": False}}, target_opset=17)
    for graph in (convert_sklearn(clf), convert_onnx(onx)):
        with strata.Model.from_bytes(serialize(graph)) as m:
            got = m.run(x[1500:])
        assert np.abs(got - ref).max() <= 1e-5
        assert (got.argmax(1) == ref.argmax(1)).all()
        assert graph.metadata["class_labels"].split("\n") == [str(c) for c in clf.classes_]


def test_skl2onnx_string_labels_reach_the_file():
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
    x, y = _digits()
    x = x.reshape(len(x), 64)[:400]
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = MLPClassifier((16,), max_iter=30, random_state=0).fit(x, names[y[:400]])
    graph = convert_onnx(to_onnx(clf, x[:1], options={id(clf): {"zipmap": False}}, target_opset=17))
    assert graph.metadata["class_labels"].split("\n") == list(clf.classes_)
    assert "class labels from 'classes'" in graph.metadata["description"]


def test_state_dict_with_arch(tmp_path):
    from strata_convert.statedict_source import convert_state_dict, load_state_dict
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(), nn.Linear(32, 10)).eval()
    torch.save(m.state_dict(), tmp_path / "w.pt")
    from safetensors.torch import save_file
    save_file(m.state_dict(), str(tmp_path / "w.safetensors"))
    x = _digits()[0].reshape(-1, 64)[:100]
    for path in ("w.pt", "w.safetensors"):
        graph = convert_state_dict(load_state_dict(tmp_path / path), "64-32-relu-dropout-10")
        _check(graph, m, x, f"state dict {path}")
