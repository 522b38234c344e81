"""Quantized weights end to end (issue 3): networks trained on scikit-learn's digits — the seed
MNIST MLP and a 3-hidden-layer MLP — converted to f16, bf16, int8, int4 and int8-dynamic and run
by the library.

File sizes against the f32 file, top-1 agreement with PyTorch f32 on held-out digits, the f16
error, exact agreement with the numpy reference on the stored (dequantized) weights — for
int8-dynamic bit for bit with the reference of its integer arithmetic (`quantize.dynamic_linear`)
—, bit-for-bit agreement of the Swift and numpy dequantizers (through `strata tensor`),
determinism across batch sizes, positions and threads, the accuracy report in `strata info`, and
the CLI options."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

import strata
from helpers import assert_close_to_reference, needs_library, torch_run
from models import SimpleNN
from strata_convert import numpy_ref, precision, quantize, torch_source
from strata_convert.reader import read_model
from strata_convert.writer import write_model
from test_digits import digits_as_mnist

pytestmark = needs_library

ROOT = Path(__file__).resolve().parents[3]
STRATA = ROOT / "build" / "bin" / "strata"
PRECISIONS = ("f32", "f16", "bf16", "int8", "int4", "int8-dynamic")


class Deep(nn.Module):
    """A 3-hidden-layer MLP: 784 → 256 → 128 → 64 → 10."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 256), nn.Linear(256, 128)
        self.fc3, self.fc4 = nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = x.flatten(1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        x = torch.relu(self.fc3(x))
        return self.fc4(x)


def _train(model, x, y, epochs=8, seed=0):
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(xt), generator=generator).split(32):
            optimizer.zero_grad()
            loss_fn(model(xt[batch]), yt[batch]).backward()
            optimizer.step()
    return model.eval()


def _write(graph, dtype, path, calibration, **choice):
    """graph stored in `dtype` (with its accuracy report); returns (path, file size, graph written)."""
    chosen = precision.layer_precisions(graph, dtype, **choice)
    q = precision.apply_precision(graph, chosen)
    if dtype != "f32" or choice:
        report = precision.accuracy_report(graph, q, chosen, calibration, f"{len(calibration)} calibration inputs")
        precision.store_report(q, report)
    return path, write_model(path, q), q


@pytest.fixture(scope="module", params=["mnist", "deep"])
def trained(request, tmp_path_factory):
    x, y = digits_as_mnist()
    order = np.random.default_rng(0).permutation(len(x))
    train_idx, test_idx = order[:1297], order[1297:]
    torch.manual_seed(0)
    module = _train(SimpleNN() if request.param == "mnist" else Deep(), x[train_idx], y[train_idx])
    graph = torch_source.convert_module(module, torch.from_numpy(x[:1]))
    directory = tmp_path_factory.mktemp(request.param)
    files = {d: _write(graph, d, directory / f"{d}.strata", x[train_idx][:256]) for d in PRECISIONS}
    return request.param, module, files, x[test_idx], y[test_idx]


def test_file_sizes(trained):
    name, _, files, _, _ = trained
    f32 = files["f32"][1]
    ratios = {d: files[d][1] / f32 for d in PRECISIONS}
    print(f"\n{name}: file sizes " + ", ".join(f"{d} {files[d][1]:,} B ({ratios[d]:.3f}x)" for d in PRECISIONS))
    assert ratios["f16"] <= 0.51 and ratios["bf16"] <= 0.51
    assert ratios["int8"] <= 0.27
    assert ratios["int4"] <= 0.16
    assert ratios["int8-dynamic"] <= 0.27 and abs(files["int8-dynamic"][1] - files["int8"][1]) <= 0.01 * files["int8"][1]


def test_top1_agreement_with_pytorch_f32(trained):
    name, module, files, x_test, y_test = trained
    expected = torch_run(module, x_test)
    agreement = {}
    for d in PRECISIONS:
        with strata.Model(files[d][0]) as model:
            got = model.run(x_test)
        agreement[d] = float(np.mean(got.argmax(1) == expected.argmax(1)))
        if d == "f16":
            relative = float(np.abs(got - expected).max() / np.abs(expected).max())
            assert relative <= 1e-2, f"f16 max error {relative:.3g} relative"
    print(f"\n{name}: top-1 agreement with PyTorch f32 on {len(x_test)} held-out digits: "
          + ", ".join(f"{d} {100 * a:.2f}%" for d, a in agreement.items())
          + f"; PyTorch accuracy {100 * float(np.mean(expected.argmax(1) == y_test)):.2f}%")
    assert agreement["f32"] == 1.0
    assert agreement["int8"] >= 0.99
    assert agreement["int4"] >= 0.97
    assert agreement["int8-dynamic"] >= 0.99


@pytest.mark.parametrize("dtype", PRECISIONS[1:])
def test_runtime_equals_the_reference_on_the_stored_weights(trained, dtype):
    _, _, files, x_test, _ = trained
    path, _, graph = files[dtype]
    expected = numpy_ref.run(graph, x_test.astype(np.float64))[0]
    with strata.Model(path) as model:
        got = model.run(x_test)
    if dtype == "int8-dynamic":  # integer sums and f32 epilogues on both sides, ReLU between: exact
        assert np.array_equal(got.view(np.uint32), expected.astype(np.float32).view(np.uint32)), \
            f"int8-dynamic logits differ from the reference in {int((got != expected).sum())} places"
    else:
        assert_close_to_reference(got, expected, f"{dtype} logits")


@pytest.mark.skipif(not STRATA.exists(), reason="build/bin/strata is not built (run `make cli`)")
@pytest.mark.parametrize("dtype", PRECISIONS[1:])
def test_swift_dequantizer_equals_numpy_bit_for_bit(trained, dtype):
    _, _, files, _, _ = trained
    path, _, _ = files[dtype]
    back = read_model(path)
    for t in back.tensors:
        if t.array.ndim != 2:
            continue
        out = subprocess.run([str(STRATA), "tensor", str(path), t.name], capture_output=True, check=True).stdout
        assert t.precision == dtype
        assert out == quantize.dequantize(t.quantized).astype("<f4").tobytes(), t.name


@pytest.mark.parametrize("dtype", PRECISIONS[1:])
def test_deterministic_across_batch_position_and_threads(trained, dtype):
    """Batches below 6 rows decode weights inside the tiles, larger ones decode each K block once
    into the workspace (int8-dynamic: 1-row, 2–4-row tiles, signed and unsigned kernels): every
    sample's logits are the same bits either way, at any position and on 1–3 threads."""
    _, _, files, x_test, _ = trained
    x = np.ascontiguousarray(x_test[:300])
    with strata.Model(files[dtype][0]) as model:
        whole = model.run(x)
        for start, n in [(0, 1), (17, 1), (3, 2), (9, 3), (40, 4), (50, 6), (5, 7), (100, 64), (7, 97), (299, 1)]:
            assert np.array_equal(model.run(x[start:start + n]), whole[start:start + n]), f"rows {start}..{start + n}"
        for threads in (2, 3):
            with model.session(n_threads=threads) as session:
                assert np.array_equal(session.run(x), whole), f"{threads} threads"
                assert np.array_equal(session.run(x[11:16]), whole[11:16]), f"5 rows on {threads} threads"


RUN_SCRIPT = """
import sys, numpy as np, strata
with strata.Model(sys.argv[1]) as model:
    np.save(sys.argv[3], model.run(np.load(sys.argv[2])))
"""


def test_int8_dynamic_same_bits_on_every_dot_kernel(trained, tmp_path):
    """The dot kernel is chosen once per process from the CPU (x86-64: AVX-512 VNNI tiles where
    CPUID reports them, else AVX2; STRATA_PRETEND_NO_VNNI=1 forces AVX2): a subprocess with and one
    without the switch give this process's logits bit for bit, on signed first-layer rows and
    non-negative hidden rows, at batch 1 and 64."""
    import os
    _, _, files, x_test, _ = trained
    path = files["int8-dynamic"][0]
    with strata.Model(path) as model:
        expected = {n: model.run(np.ascontiguousarray(x_test[:n])) for n in (1, 64)}
    env = dict(os.environ)
    bindings = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (bindings, env.get("PYTHONPATH")) if p)
    for pretend in ("1", "0"):
        env["STRATA_PRETEND_NO_VNNI"] = pretend
        for n, want in expected.items():
            np.save(tmp_path / "x.npy", np.ascontiguousarray(x_test[:n]))
            done = subprocess.run([sys.executable, "-c", RUN_SCRIPT, str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                                  capture_output=True, text=True, env=env)
            assert done.returncode == 0, done.stderr
            got = np.load(tmp_path / "y.npy")
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), f"STRATA_PRETEND_NO_VNNI={pretend}, batch {n}"


def test_info_shows_the_accuracy_report(trained):
    _, _, files, _, _ = trained
    with strata.Model(files["int8"][0]) as model:
        report = model.metadata("quantization")
    assert report.startswith("accuracy against f32 on 256 calibration inputs:")
    assert "fc1 (int8): max abs error" in report and "top-1 agreement" in report
    if STRATA.exists():
        info = subprocess.run([str(STRATA), "info", str(files["int4"][0])], capture_output=True, text=True, check=True).stdout
        assert "quantization:" in info and "int4" in info and "format 1.2" in info


def test_keep_ends_f32(trained):
    _, module, files, x_test, _ = trained
    graph = torch_source.convert_module(module, torch.from_numpy(x_test[:1]))
    path, size, written = _write(graph, "int4", files["f32"][0].parent / "ends.strata", x_test[:64], keep_ends_f32=True)
    dtypes = [t.dtype for t in written.tensors if t.array.ndim == 2]
    assert dtypes[0] == dtypes[-1] == "f32" and set(dtypes[1:-1]) <= {"int4"}
    with strata.Model(path) as model:
        assert_close_to_reference(model.run(x_test), numpy_ref.run(written, x_test.astype(np.float64))[0])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "strata_convert", *map(str, args)], capture_output=True, text=True)


def test_cli_quantize_options_self_test_and_max_error(tmp_path):
    torch.manual_seed(1)
    module = SimpleNN().eval()
    pt = tmp_path / "m.pt"
    torch.save(module, pt)
    models = str(Path(__file__).with_name("models.py"))
    out = tmp_path / "q.strata"
    r = _cli(pt, "--trust-pickle", "-o", out, "--import", models, "--input-shape", "1,28,28", "--quantize", "int4",
             "--quantize-layer", "fc2=int8", "--keep-f32", "fc3")
    assert r.returncode == 0, r.stderr
    assert "accuracy against f32 on 256 random inputs" in r.stdout and "fc2 (int8)" in r.stdout
    assert [t.dtype for t in read_model(out).tensors if t.array.ndim == 2] == ["int4", "int8", "f32"]
    with strata.Model(out) as model:
        assert model.self_test()["passed"]
    failing = tmp_path / "fail.strata"
    r = _cli(pt, "--trust-pickle", "-o", failing, "--import", models, "--input-shape", "1,28,28", "--quantize", "int4", "--max-error", "1e-9")
    assert r.returncode == 2 and "quantization error too large" in r.stderr and not failing.exists()
    r = _cli(pt, "--trust-pickle", "-o", failing, "--import", models, "--input-shape", "1,28,28", "--quantize-layer", "fc9=int8")
    assert r.returncode == 2 and "no Linear layer named 'fc9'" in r.stderr


def test_cli_int8_dynamic_self_test_and_info(tmp_path):
    """--quantize int8-dynamic: the self-test passes both when the reference is exact (every layer
    dynamic, ReLU between) and when an f32 first layer feeds a dynamic one (its allowance covers
    activations that round the other way); `strata info` names the precision and format 1.3."""
    torch.manual_seed(2)
    module = SimpleNN().eval()
    pt = tmp_path / "m.pt"
    torch.save(module, pt)
    models = str(Path(__file__).with_name("models.py"))
    for extra in ([], ["--keep-ends-f32"], ["--quantize-layer", "fc2=int8"]):
        out = tmp_path / f"d{len(extra)}.strata"
        r = _cli(pt, "--trust-pickle", "-o", out, "--import", models, "--input-shape", "1,28,28", "--quantize", "int8-dynamic",
                 "--self-test", "16", *extra)
        assert r.returncode == 0, r.stderr
        assert "(int8-dynamic): max abs error" in r.stdout
        with strata.Model(out) as model:
            result = model.self_test()
            assert result["passed"], (extra, result)
        if STRATA.exists() and not extra:
            info = subprocess.run([str(STRATA), "info", str(out)], capture_output=True, text=True, check=True).stdout
            assert "format 1.3" in info and "int8-dynamic:" in info
