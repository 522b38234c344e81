"""The `strata` command-line tool (build/bin/strata): `info` and `run` on a converted model."""
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import convert, torch_run
from models import SimpleNN

ROOT = Path(__file__).resolve().parents[3]
STRATA = ROOT / "build" / "bin" / "strata"
needs_cli = pytest.mark.skipif(not STRATA.exists(), reason="build/bin/strata is not built (run `make cli`)")


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    torch.manual_seed(3)
    module = SimpleNN().eval()
    path = convert(module, torch.zeros(1, 1, 28, 28), tmp_path_factory.mktemp("cli") / "mnist.strata",
                   class_labels=[f"digit{d}" for d in range(10)])
    return module, path


def strata(*args, stdin=None):
    return subprocess.run([str(STRATA), *map(str, args)], input=stdin, capture_output=True)


@needs_cli
def test_info_lists_inputs_outputs_layers_parameters_and_size(mnist):
    _, path = mnist
    done = strata("info", path)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert f"({path.stat().st_size} bytes, format 1.0)" in text
    assert "input:       x [N, 1, 28, 28] f32" in text
    assert "[N, 10] f32" in text
    assert f"parameters:  {784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10} (f32:" in text
    assert "Linear+Relu [fc1, relu]" in text
    assert "digit0, digit1" in text


@needs_cli
@pytest.mark.parametrize("from_stdin", [True, False], ids=["stdin", "file"])
def test_run_prints_outputs_matching_pytorch(mnist, tmp_path, from_stdin):
    module, path = mnist
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28), dtype=np.float32)
    raw = x.astype("<f4").tobytes()
    if from_stdin:
        done = strata("run", path, "--raw", stdin=raw)
    else:
        (tmp_path / "in.f32").write_bytes(raw)
        done = strata("run", path, "--input", tmp_path / "in.f32", "--raw")
    assert done.returncode == 0, done.stderr
    got = np.array([[float(v) for v in line.split()] for line in done.stdout.decode().splitlines()], np.float32)
    expected = torch_run(module, x)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-5 * max(1.0, np.abs(expected).max())


@needs_cli
def test_run_top1_prints_class_and_label(mnist):
    module, path = mnist
    x = np.random.default_rng(1).standard_normal((3, 784), dtype=np.float32)
    done = strata("run", path, "--top1", "--raw", stdin=x.tobytes())
    assert done.returncode == 0, done.stderr
    classes = torch_run(module, x.reshape(3, 1, 28, 28)).argmax(1)
    assert done.stdout.decode().splitlines() == [f"{i}: {c} digit{c}" for i, c in enumerate(classes)]


@needs_cli
def test_errors_are_one_line_with_nonzero_exit(mnist, tmp_path):
    _, path = mnist
    missing = strata("info", tmp_path / "missing.strata")
    assert missing.returncode != 0 and b"cannot open" in missing.stderr and b"IO_ERROR" in missing.stderr
    partial = strata("run", path, "--raw", stdin=b"\0" * 100)
    assert partial.returncode != 0 and b"expected a positive multiple of 3136" in partial.stderr
    corrupt = bytearray(path.read_bytes())
    corrupt[-1] ^= 0xFF
    (tmp_path / "corrupt.strata").write_bytes(bytes(corrupt))
    bad = strata("info", tmp_path / "corrupt.strata")
    assert bad.returncode != 0 and b"CHECKSUM_MISMATCH" in bad.stderr
    usage = strata("frobnicate")
    assert usage.returncode == 2 and b"usage:" in usage.stderr
