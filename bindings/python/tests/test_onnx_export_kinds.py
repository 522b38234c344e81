"""ONNX files as torch.onnx.export writes them by default (issue 15): a fixed first dimension
(no dynamic_axes) and a dynamic one, and files below opset 13 (upgraded by onnx.version_converter).
Each is converted with the default `strata-convert` command line (4 self-test samples, --verify),
run by libstrata through the Python binding at several batch sizes, and compared with PyTorch
(and onnxruntime at the exported shape): max |strata − torch| ≤ 1e-4 · max(1, max |torch|)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import needs_library

import strata

pytestmark = needs_library
CONVERT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "convert")


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2), 1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(12, 16), nn.Linear(16, 5)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.tanh(self.fc1(x.reshape(x.shape[0], -1)))), dim=1)


def _model(cls):
    torch.manual_seed(0)
    m = cls().eval()
    for b in m.modules():
        if isinstance(b, nn.BatchNorm2d):  # non-trivial running statistics
            b.running_mean.uniform_(-0.5, 0.5)
            b.running_var.uniform_(0.5, 2.0)
    return m


def _export(model, shape, path, batch, dynamic, opset=17, dynamo=False):
    """torch.onnx.export: the TorchScript-based exporter (dynamo=False), or torch 2.13's default
    (dynamo=True, through torch.export; dynamic_shapes instead of dynamic_axes)."""
    if dynamo:
        kw = dict(dynamic_shapes=({0: torch.export.Dim("n")},)) if dynamic else {}
        batch = max(batch, 2) if dynamic else batch
    else:
        kw = dict(dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}) if dynamic else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(batch, *shape),), str(path), dynamo=dynamo, opset_version=opset,
                          input_names=["x"], output_names=["y"], **kw)
    return path


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(CONVERT_DIR))
    return subprocess.run([sys.executable, "-m", "strata_convert", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300)


def _ort(path, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def _compare(strata_path, model, shape, batches=(1, 2, 5)):
    rng = np.random.default_rng(1)
    with strata.Model(str(strata_path)) as m:
        result = m.self_test()
        assert result["passed"] and result["n_samples"] == 4, result
        for n in batches:
            x = rng.standard_normal((n, *shape), dtype=np.float32)
            with torch.no_grad():
                ref = model(torch.from_numpy(x)).numpy()
            got = m.run(x)
            err = float(np.abs(got.astype(np.float64) - ref).max())
            assert err <= 1e-4 * max(1.0, float(np.abs(ref).max())), f"batch {n}: max abs error {err:.3g}"
            assert (got.argmax(1) == ref.argmax(1)).all()


@pytest.mark.parametrize("kind", ["fixed", "dynamic"])
@pytest.mark.parametrize("cls,shape", [(SmallCNN, (1, 8, 8)), (MLP, (3, 4))], ids=["cnn", "mlp"])
def test_default_cli_converts_fixed_and_dynamic_batch_exports(tmp_path, kind, cls, shape):
    model = _model(cls)
    onnx_path = _export(model, shape, tmp_path / "m.onnx", 1, kind == "dynamic")
    out = tmp_path / "m.strata"
    r = _cli(onnx_path, "-o", out, "--verify")
    assert r.returncode == 0, r.stderr
    assert "verify: max abs error" in r.stdout
    _compare(out, model, shape)
    x = np.random.default_rng(2).standard_normal((1, *shape), dtype=np.float32)
    with strata.Model(str(out)) as m:
        assert np.abs(m.run(x) - _ort(onnx_path, x)).max() <= 1e-4


@pytest.mark.parametrize("kind", ["fixed", "dynamic"])
def test_default_dynamo_exporter(tmp_path, kind):
    """torch.onnx.export as torch 2.13 runs it by default (dynamo=True, opset 18, external data)."""
    pytest.importorskip("onnxscript")
    model = _model(SmallCNN)
    onnx_path = _export(model, (1, 8, 8), tmp_path / "d.onnx", 1, kind == "dynamic", opset=18, dynamo=True)
    out = tmp_path / "d.strata"
    r = _cli(onnx_path, "-o", out, "--verify")
    assert r.returncode == 0, r.stderr
    _compare(out, model, (1, 8, 8))


def test_fixed_batch_larger_than_one_and_odd_self_test_count(tmp_path):
    """Declared batch 3 with 4 (then 7) self-test samples: the reference runs in padded chunks."""
    model = _model(SmallCNN)
    onnx_path = _export(model, (1, 8, 8), tmp_path / "b3.onnx", 3, False)
    out = tmp_path / "b3.strata"
    r = _cli(onnx_path, "-o", out, "--self-test", "7")
    assert r.returncode == 0, r.stderr
    with strata.Model(str(out)) as m:
        assert m.self_test()["passed"]
    x = np.random.default_rng(3).standard_normal((3, 1, 8, 8), dtype=np.float32)
    with strata.Model(str(out)) as m:
        assert np.abs(m.run(x) - _ort(onnx_path, x)).max() <= 1e-4


@pytest.mark.parametrize("kind", ["fixed", "dynamic"])
def test_opset_11_export_is_upgraded(tmp_path, kind):
    model = _model(SmallCNN)
    onnx_path = _export(model, (1, 8, 8), tmp_path / "old.onnx", 1, kind == "dynamic", opset=11)
    out = tmp_path / "old.strata"
    r = _cli(onnx_path, "-o", out, "--verify")
    assert r.returncode == 0, r.stderr
    assert "upgraded from ai.onnx opset 11 to 17 with onnx.version_converter" in r.stdout
    _compare(out, model, (1, 8, 8))


def test_helper_built_opset_9_model_is_upgraded():
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from strata_convert.onnx_source import convert_onnx
    from strata_convert.writer import serialize
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]), helper.make_node("Softmax", ["r"], ["y"], axis=1)]
    graph = helper.make_graph(nodes, "old", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    onnx.checker.check_model(model)
    g = convert_onnx(model)
    assert "upgraded from ai.onnx opset 9" in g.metadata["description"]
    x = rng.standard_normal((5, 6)).astype(np.float32)
    import onnxruntime as ort
    ref = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with strata.Model.from_bytes(serialize(g)) as m:
        assert np.abs(m.run(x) - ref).max() <= 1e-5


def test_opset_that_cannot_be_upgraded_is_refused_clearly(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Scatter", ["x", "i", "x"], ["y"])], "scatter",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4]),
                               helper.make_tensor_value_info("i", TensorProto.INT64, ["n", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])])
    path = tmp_path / "scatter.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]), str(path))
    r = _cli(path, "-o", tmp_path / "s.strata")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "opset 11 and onnx.version_converter could not upgrade it to opset 17" in r.stderr
    assert "Scatter" in r.stderr and "re-export it with opset_version=17" in r.stderr
    assert not (tmp_path / "s.strata").exists()


class MixesTheBatch(nn.Module):
    """Exported with a fixed first dimension of 2, its ops treat the whole [2, 6] tensor as one
    input: a reshape over dim 0, a softmax over dim 0 and a LayerNorm over every dim."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 5)
        self.norm = nn.LayerNorm([2, 6])

    def forward(self, x):
        h = self.fc(self.norm(x).reshape(1, 12))         # [1, 5]: mixes the two rows
        return torch.softmax(h.reshape(5, 1) * 2.0, dim=0)  # [5, 1], over dim 0


def test_fixed_shape_graph_that_mixes_dim_0_runs_as_one_sample(tmp_path):
    """Refused before ("mixes the batch"): now converted with a new leading batch dimension."""
    model = _model(MixesTheBatch)
    onnx_path = _export(model, (6,), tmp_path / "mix.onnx", 2, False)
    out = tmp_path / "mix.strata"
    r = _cli(onnx_path, "-o", out, "--verify")
    assert r.returncode == 0, r.stderr
    assert "converted as one sample" in r.stdout
    rng = np.random.default_rng(6)
    xs = rng.standard_normal((3, 2, 6), dtype=np.float32)
    with strata.Model(str(out)) as m:
        assert m.self_test()["passed"]
        assert m.inputs[0].sample_shape == (2, 6) and m.outputs[0].sample_shape == (5, 1)
        got = m.run(xs)  # three independent runs of the exported graph
        for k in range(3):
            with torch.no_grad():
                ref = model(torch.from_numpy(xs[k])).numpy()
            assert got[k].shape == ref.shape == (5, 1)
            assert np.abs(got[k] - ref).max() <= 1e-5
            assert np.abs(got[k] - _ort(onnx_path, xs[k])).max() <= 1e-5
