"""torch.export as the fourth PyTorch source (issue 15): ExportedProgram objects through the Python
API and `.pt2` files (torch.export.save) through `strata-convert`, exported with a dynamic and a
fixed batch, for an MLP, a CNN (Conv2d, BatchNorm2d, MaxPool2d, view) and a residual block
(LayerNorm, GELU, skip additions). Each graph runs in libstrata through the Python binding at
several batch sizes and is compared with PyTorch: max |strata − torch| ≤ 1e-4 · max(1, max |torch|)."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import needs_library
from strata_convert import convert_exported
from strata_convert.writer import serialize

import strata

pytestmark = needs_library
CONVERT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "convert")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(20, 32), nn.Linear(32, 16), nn.Linear(16, 4)

    def forward(self, x):
        return torch.log_softmax(self.fc3(torch.sigmoid(self.fc2(F.relu(self.fc1(x))))), dim=-1)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc, self.head = nn.Linear(8 * 2 * 2, 6), nn.Linear(8, 6)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)       # [N, 8, 4, 4]
        h = F.silu(self.conv2(h))                                   # [N, 8, 2, 2]
        return self.fc(h.view(h.size(0), -1)) + self.head(self.pool(h).flatten(1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(12, 24)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(24), nn.Linear(24, 24), nn.GELU()) for _ in range(2)])
        self.out = nn.Linear(24, 5)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h) * 0.5 - 1.0


SHAPES = {"mlp": (MLP, (20,)), "cnn": (CNN, (3, 8, 8)), "residual": (Residual, (12,))}


def _model(kind):
    torch.manual_seed(0)
    cls, shape = SHAPES[kind]
    m = cls().eval()
    for b in m.modules():
        if isinstance(b, nn.BatchNorm2d):
            b.running_mean.uniform_(-0.5, 0.5)
            b.running_var.uniform_(0.5, 2.0)
    return m, shape


def _export(model, shape, dynamic):
    x = torch.randn(3 if dynamic else 1, *shape)
    return torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},) if dynamic else None)


def _compare(model, shape, strata_model):
    rng = np.random.default_rng(5)
    for n in (1, 2, 9):
        x = rng.standard_normal((n, *shape), dtype=np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = strata_model.run(x)
        err = float(np.abs(got.astype(np.float64) - ref).max())
        assert err <= 1e-4 * max(1.0, float(np.abs(ref).max())), f"batch {n}: max abs error {err:.3g}"
        assert (got.argmax(1) == ref.argmax(1)).all()


@pytest.mark.parametrize("dynamic", [True, False], ids=["dynamic", "fixed"])
@pytest.mark.parametrize("kind", list(SHAPES))
def test_exported_program_matches_pytorch(kind, dynamic):
    model, shape = _model(kind)
    graph = convert_exported(_export(model, shape, dynamic))
    assert "torch.export" in graph.metadata["source_framework"]
    assert graph.inputs[0].dims == [-1, *shape]
    with strata.Model.from_bytes(serialize(graph)) as m:
        _compare(model, shape, m)


@pytest.mark.parametrize("kind", ["cnn", "residual"])
def test_pt2_file_through_the_cli(tmp_path, kind):
    model, shape = _model(kind)
    path = tmp_path / f"{kind}.pt2"
    torch.export.save(_export(model, shape, dynamic=kind == "cnn"), str(path))
    out = tmp_path / f"{kind}.strata"
    env = dict(os.environ, PYTHONPATH=os.path.abspath(CONVERT_DIR))
    r = subprocess.run([sys.executable, "-m", "strata_convert", str(path), "-o", str(out), "--verify"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "verify: max abs error" in r.stdout and "(torch.export)" in r.stdout
    with strata.Model(str(out)) as m:
        assert m.self_test()["passed"]
        _compare(model, shape, m)


def test_save_embeds_a_self_test_from_the_program(tmp_path):
    from strata_convert.export_source import save
    model, shape = _model("residual")
    out = tmp_path / "r.strata"
    save(_export(model, shape, dynamic=False), str(out), self_test=5, payload_sha256=True)
    with strata.Model(str(out)) as m:
        result = m.self_test()
        assert result["passed"] and result["n_samples"] == 5
        assert m.verify()
        _compare(model, shape, m)


def test_not_a_program_is_refused(tmp_path):
    from strata_convert import ConversionError
    from strata_convert.export_source import load_exported
    with pytest.raises(ConversionError, match="expected a torch.export.ExportedProgram"):
        convert_exported(nn.Linear(2, 2))
    bad = tmp_path / "x.pt2"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConversionError, match="cannot load torch.export program .*torch.export.save"):
        load_exported(bad)
