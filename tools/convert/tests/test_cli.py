"""strata-convert end to end, via subprocess, as a user runs it."""
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import CONVERT_DIR  # noqa: E402
from helpers import mlp_graph  # noqa: E402
from strata_convert.reader import read_model  # noqa: E402
from strata_convert.writer import write_model  # noqa: E402

TRAIN_SCRIPT = textwrap.dedent('''
    import torch
    import torch.nn as nn

    class SimpleNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(28 * 28, 128); self.fc2 = nn.Linear(128, 64); self.fc3 = nn.Linear(64, 10)
        def forward(self, x):
            x = x.view(-1, 28 * 28)
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    class WithConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Unfold(3); self.fc = nn.Linear(9 * 26 * 26, 10)
        def forward(self, x):
            return self.fc(torch.flatten(self.conv1(x), 1))

    if __name__ == "__main__":
        torch.save(SimpleNN(), "simple.pt")
        torch.save(SimpleNN().state_dict(), "state_dict.pt")
        torch.save(WithConv(), "conv.pt")
        torch.jit.save(torch.jit.script(SimpleNN()), "scripted.pt")
''')


def run(cwd, *args, module="strata_convert"):
    env = dict(os.environ, PYTHONPATH=CONVERT_DIR)
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "train.py").write_text(TRAIN_SCRIPT)
    subprocess.run([sys.executable, "train.py"], cwd=d, check=True, timeout=300)
    return d


def assert_user_error(result, *fragments):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("strata-convert [")]
    assert len(lines) == 1 and lines[0].startswith("strata-convert: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_whole_module_with_import_and_verify(work):
    r = run(work, "simple.pt", "--trust-pickle", "-o", "simple.strata", "--import", "train.py", "--labels", ",".join("0123456789"),
            "--input-shape", "1,28,28", "--verify")
    assert r.returncode == 0, r.stderr
    assert "verify: max abs error" in r.stdout and "wrote simple.strata" in r.stdout
    assert "parameters: 109,386" in r.stdout
    g = read_model(work / "simple.strata")
    assert g.inputs[0].dims == [-1, 1, 28, 28]
    assert g.metadata["class_labels"] == "\n".join("0123456789") and g.metadata["model_name"] == "SimpleNN"
    # progress on stderr: each stage with the time since the start, then how long it took
    for stage in ("loading simple.pt with PyTorch", "converting", "verifying the f32 conversion against PyTorch",
                  "self-test: 4 reference samples"):
        assert re.search(rf"^strata-convert \[ *[\d.]+ s\]: {re.escape(stage)} …$", r.stderr, flags=re.M), r.stderr
        assert re.search(rf"^strata-convert \[ *[\d.]+ s\]: {re.escape(stage)}: done in [\d.]+ s$", r.stderr,
                         flags=re.M), r.stderr
    quiet = subprocess.run([sys.executable, "-m", "strata_convert", "simple.pt", "-o", "quiet.strata", "--trust-pickle",
                            "--import", "train.py"], cwd=work, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, PYTHONPATH=CONVERT_DIR, STRATA_CONVERT_QUIET="1"))
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


@pytest.mark.parametrize("quantize", ["int8", "int4", "int8-dynamic"])
def test_verify_checks_the_f32_conversion_when_quantizing(work, quantize):
    """--verify compares the f32 conversion with PyTorch (tight), the quantization report gives the
    quantized error; a quantized graph against PyTorch at 1e-5 would fail by design."""
    r = run(work, "simple.pt", "--trust-pickle", "-o", f"q-{quantize}.strata", "--import", "train.py", "--verify",
            "--quantize", quantize)
    assert r.returncode == 0, r.stderr
    err = float(r.stdout.split("verify: max abs error ")[1].split()[0])
    assert err <= 1e-5, r.stdout
    assert (work / f"q-{quantize}.strata").exists()


def test_input_shape_defaults_to_the_first_linear(work):
    r = run(work, "simple.pt", "--trust-pickle", "-o", "flat.strata", "--import", "train.py")
    assert r.returncode == 0, r.stderr
    assert read_model(work / "flat.strata").inputs[0].dims == [-1, 784]


def test_torchscript_file_with_labels_file(work):
    (work / "labels.txt").write_text("".join(f"digit {d}\n" for d in range(10)))
    r = run(work, "scripted.pt", "-o", "scripted.strata", "--input-shape", "784", "--labels-file", "labels.txt",
            "--verify")
    assert r.returncode == 0, r.stderr
    g = read_model(work / "scripted.strata")
    assert g.metadata["class_labels"].split("\n") == [f"digit {d}" for d in range(10)]
    assert [t.name for t in g.tensors][:2] == ["fc1.weight", "fc1.bias"]


def test_missing_class_asks_for_import(work):
    assert_user_error(run(work, "simple.pt", "--trust-pickle", "-o", "x.strata"), "--import")
    assert not (work / "x.strata").exists()


def test_whole_module_pickle_is_refused_without_trust_pickle(work):
    """Unpickling a whole module runs code from the file: refused by default, with why and what to
    use instead; nothing of the file's code runs (its class is not even needed) and nothing is written."""
    r = run(work, "simple.pt", "-o", "x.strata", "--import", "train.py")
    assert_user_error(r, "simple.pt", "refusing to unpickle a whole-module torch.save file", "runs any code",
                      "--trust-pickle", "state dict", "safetensors", "TorchScript", "ONNX", "torch.export")
    assert not (work / "x.strata").exists()


def test_a_malicious_pickle_does_not_run_without_trust_pickle(work, tmp_path):
    """A torch.save file whose unpickling would run a command: without the flag it never runs."""
    marker = tmp_path / "pwned"
    (tmp_path / "evil.py").write_text(
        "import os, torch\n"
        "class Evil:\n"
        f"    def __reduce__(self): return (os.system, ('touch {marker}',))\n"
        "torch.save({'model': Evil()}, 'evil.pt')\n")
    subprocess.run([sys.executable, "evil.py"], cwd=tmp_path, check=True, timeout=300)
    assert_user_error(run(tmp_path, "evil.pt", "-o", "x.strata"), "refusing to unpickle")
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_sklearn_pickle_needs_trust_pickle(tmp_path):
    import joblib
    from sklearn.neural_network import MLPClassifier
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    joblib.dump(MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(x, y), tmp_path / "mlp.joblib")
    assert_user_error(run(tmp_path, "mlp.joblib", "-o", "mlp.strata"),
                      "refusing to unpickle a pickled/joblib scikit-learn model", "--trust-pickle", "skl2onnx")
    assert not (tmp_path / "mlp.strata").exists()
    r = run(tmp_path, "mlp.joblib", "-o", "mlp.strata", "--trust-pickle")
    assert r.returncode == 0, r.stderr
    assert read_model(tmp_path / "mlp.strata").inputs[0].dims == [-1, 6]


def test_python_api_needs_trust_pickle(work):
    from strata_convert.cli import CliError, load_model
    with pytest.raises(CliError, match="state dict"):
        load_model(work / "state_dict.pt")  # a state dict: recognised without unpickling code
    with pytest.raises(CliError, match=r"refusing to unpickle .*trust_pickle=True"):
        load_model(work / "simple.pt")


def test_unsupported_layer_writes_nothing(work):
    r = run(work, "conv.pt", "--trust-pickle", "-o", "conv.strata", "--import", "train.py", "--input-shape", "1,28,28")
    assert_user_error(r, "unsupported op 'torch.nn.Unfold' at node 'conv1' (module conv1)")
    assert not (work / "conv.strata").exists()


def test_state_dict_is_explained(work):
    assert_user_error(run(work, "state_dict.pt", "-o", "x.strata"), "state dict")


def test_missing_file_and_bad_shape(work):
    assert_user_error(run(work, "nope.pt", "-o", "x.strata"), "nope.pt")
    assert_user_error(run(work, "simple.pt", "--trust-pickle", "-o", "x.strata", "--import", "train.py", "--input-shape", "a,b"),
                      "--input-shape")
    assert_user_error(run(work, "simple.pt", "--trust-pickle", "-o", "x.strata", "--import", "train.py", "--input-shape", "100"),
                      "failed")


def test_inspect(tmp_path):
    write_model(tmp_path / "m.strata", mlp_graph())
    r = run(tmp_path, "m.strata", module="strata_convert.inspect")
    assert r.returncode == 0, r.stderr
    assert "fc1.weight" in r.stdout and "Linear" in r.stdout and "DATA" in r.stdout
    (tmp_path / "garbage.strata").write_bytes(b"not a model at all" * 10)
    r = run(tmp_path, "garbage.strata", module="strata_convert.inspect")
    assert r.returncode == 2 and "BAD_MAGIC" in r.stderr


def test_package_imports_without_torch():
    code = "import sys, strata_convert, strata_convert.reader, strata_convert.writer; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=CONVERT_DIR))
