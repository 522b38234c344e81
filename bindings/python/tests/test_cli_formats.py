"""The `strata` tool in the ecosystem: .npy in and out of `run` (raw f32 only with --raw, checked),
`--json` for info, run, bench and verify, `--help` on every subcommand."""
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import convert, torch_run
from models import SimpleNN

ROOT = Path(__file__).resolve().parents[3]
STRATA = ROOT / "build" / "bin" / "strata"
pytestmark = pytest.mark.skipif(not STRATA.exists(), reason="build/bin/strata is not built (run `make cli`)")
COMMANDS = ["info", "run", "bench", "verify", "tensor"]


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    torch.manual_seed(4)
    module = SimpleNN().eval()
    path = tmp_path_factory.mktemp("fmt") / "mnist.strata"
    from strata_convert import torch_source
    torch_source.save(module, torch.zeros(1, 1, 28, 28), str(path), class_labels=[f"d{k}" for k in range(10)])
    return module, path  # with self-test samples and the payload digest (save's defaults)


def strata(*args, stdin=None):
    return subprocess.run([str(STRATA), *map(str, args)], input=stdin, capture_output=True, timeout=120)


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (1, 28, 28)], ids=["batch", "one-sample"])
def test_run_reads_npy(mnist, tmp_path, dtype, shape):
    module, path = mnist
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    done = strata("run", path, "--input", tmp_path / "x.npy")
    assert done.returncode == 0, done.stderr
    got = np.array([line.split() for line in done.stdout.decode().splitlines()], np.float32)
    expected = torch_run(module, x.astype(np.float32).reshape(-1, 1, 28, 28))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    from_stdin = strata("run", path, stdin=npy_bytes(x))
    assert from_stdin.stdout == done.stdout


def test_run_writes_npy(mnist, tmp_path):
    module, path = mnist
    x = np.random.default_rng(1).standard_normal((4, 1, 28, 28), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    done = strata("run", path, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert done.returncode == 0 and done.stdout == b"", done.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and y.shape == (4, 10)
    np.testing.assert_allclose(y, torch_run(module, x), rtol=1e-5, atol=1e-5)
    printed = strata("run", path, "--input", tmp_path / "x.npy")
    assert np.array_equal(y, np.array([line.split() for line in printed.stdout.decode().splitlines()], np.float32))


def test_a_npy_header_is_never_read_as_samples(mnist, tmp_path):
    """What used to happen: the .npy header read as floats, exit 0. Without --raw the input must be
    .npy; with --raw a .npy file is refused too."""
    _, path = mnist
    x = np.zeros((1, 784), np.float32)
    (tmp_path / "x.f32").write_bytes(x.tobytes())
    raw_without_flag = strata("run", path, "--input", tmp_path / "x.f32")
    assert raw_without_flag.returncode == 2 and b"is not a .npy file" in raw_without_flag.stderr
    assert b"--raw" in raw_without_flag.stderr and raw_without_flag.stdout == b""
    npy_with_flag = strata("run", path, "--raw", stdin=npy_bytes(x))
    assert npy_with_flag.returncode == 2 and b"is a .npy file" in npy_with_flag.stderr


@pytest.mark.parametrize("array, message", [
    (np.zeros((2, 783), np.float32), b"holds an array of shape [2, 783]"),
    (np.zeros((2, 784), np.int32), b"dtype '<i4' is not supported"),
    (np.asfortranarray(np.zeros((2, 1, 28, 28), np.float32)), b"Fortran-ordered"),
    (np.zeros((0, 1, 28, 28), np.float32), b"holds an array of shape [0, 1, 28, 28]"),
])
def test_run_refuses_npy_it_cannot_use(mnist, array, message):
    _, path = mnist
    done = strata("run", path, stdin=npy_bytes(array))
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_run_refuses_a_cut_npy(mnist):
    _, path = mnist
    data = npy_bytes(np.zeros((2, 784), np.float32))
    done = strata("run", path, stdin=data[:-4])
    assert done.returncode == 2 and b"the .npy data has" in done.stderr, done.stderr


def test_raw_input_must_be_whole_samples(mnist):
    _, path = mnist
    done = strata("run", path, "--raw", stdin=b"\0" * (3136 + 4))
    assert done.returncode == 2 and b"expected a positive multiple of 3136" in done.stderr


def test_run_json(mnist, tmp_path):
    module, path = mnist
    x = np.random.default_rng(2).standard_normal((2, 1, 28, 28), dtype=np.float32)
    done = strata("run", path, "--json", stdin=npy_bytes(x))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    expected = torch_run(module, x)
    assert doc["batch"] == 2 and doc["output"]["shape"] == [2, 10]
    np.testing.assert_allclose(np.array(doc["outputs"], np.float32), expected, rtol=1e-5, atol=1e-5)
    assert [t["class"] for t in doc["top1"]] == list(expected.argmax(1))
    assert [t["label"] for t in doc["top1"]] == [f"d{k}" for k in expected.argmax(1)]


def test_info_json(mnist):
    _, path = mnist
    doc = json.loads(strata("info", path, "--json").stdout)
    assert doc["file_size"] == path.stat().st_size and doc["format"] == "1.1"
    assert doc["inputs"] == [{"name": "x", "shape": [None, 1, 28, 28], "dtype": "f32"}]
    assert doc["outputs"][0]["shape"] == [None, 10]
    assert doc["class_labels"] == [f"d{k}" for k in range(10)]
    assert doc["parameters"] == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert doc["parameters_by_dtype"] == {"f32": doc["parameters"]}
    assert doc["metadata"]["producer"].startswith("strata-convert ")
    assert any(step["kind"] == "Linear+Relu" for step in doc["steps"])


def test_verify_json(mnist, tmp_path):
    _, path = mnist
    done = strata("verify", path, "--self-test", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True and doc["self_test"]["ok"] is True and doc["self_test"]["samples"] == 4
    assert len(doc["sha256"]["digest"]) == 64 and [s["name"] for s in doc["crc32"]["sections"]][-1] == "SELFTEST"
    corrupt = bytearray(path.read_bytes())
    corrupt[-1] ^= 0xFF
    (tmp_path / "corrupt.strata").write_bytes(bytes(corrupt))
    failed = strata("verify", tmp_path / "corrupt.strata", "--json")
    assert failed.returncode == 1
    doc = json.loads(failed.stdout)
    assert doc["ok"] is False and doc["failed"] == "load" and "CHECKSUM_MISMATCH" in doc["error"]


def test_bench_json(mnist):
    _, path = mnist
    done = strata("bench", path, "--batch", "1,3", "--seconds", "0.05", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [row["batch"] for row in doc["results"]] == [1, 3]
    for row in doc["results"]:
        assert row["p10_us"] <= row["median_us"] <= row["p90_us"] and row["runs"] >= 5


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    for args in ([command, "--help"], [command, "-h"], ["help", command]):
        done = strata(*args)
        assert done.returncode == 0, (args, done.stderr)
        text = done.stdout.decode()
        assert text.startswith(f"usage: strata {command}"), text
    assert strata(command, "model.strata", "--help").stdout.decode().startswith(f"usage: strata {command}")
    for flag in {"run": ["--raw", "--output", "--json"], "info": ["--json"], "bench": ["--json"],
                 "verify": ["--json", "--self-test"], "tensor": []}[command]:
        assert flag in strata(command, "--help").stdout.decode()


def test_unknown_help_topic():
    done = strata("help", "frobnicate")
    assert done.returncode == 2 and b"no command 'frobnicate'" in done.stderr
