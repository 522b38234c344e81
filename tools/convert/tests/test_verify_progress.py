"""`strata-convert --verify` runs the conversion through libstrata when the `strata` binding finds
the library (the numpy reference otherwise, or with STRATA_CONVERT_VERIFY=numpy), and long loops
draw a progress bar on stderr (forced here with STRATA_CONVERT_PROGRESS=1: stderr is not a tty)."""
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import CONVERT_DIR  # noqa: E402
from strata_convert import cli, verify_run  # noqa: E402
from strata_convert.torch_source import convert_module  # noqa: E402
from strata_convert.writer import serialize  # noqa: E402

BINDINGS = str(Path(CONVERT_DIR).parents[1] / "bindings" / "python")
needs_libstrata = pytest.mark.skipif(verify_run.libstrata_unavailable() is not None,
                                     reason=f"{verify_run.libstrata_unavailable()} (run `make lib`)")


def mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    torch.save(mlp(0), d / "mlp.pt")
    return d


def convert(cwd, *args, **env):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([CONVERT_DIR, BINDINGS]), **env)
    environment.pop("STRATA_CONVERT_QUIET", None)
    return subprocess.run([sys.executable, "-m", "strata_convert", "mlp.pt", "--trust-pickle", *map(str, args)],
                          cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


@needs_libstrata
def test_verify_runs_the_file_through_libstrata(saved):
    r = convert(saved, "-o", "lib.strata", "--verify", "--input-shape", "20")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("verify:"))
    assert re.search(r"run by libstrata \d+\.\d+\.\d+\)$", line), line
    assert float(line.split()[4]) <= 1e-4
    assert "numpy reference" not in r.stderr


def test_verify_falls_back_to_the_numpy_reference_with_its_reason(saved):
    r = convert(saved, "-o", "np.strata", "--verify", "--input-shape", "20", STRATA_CONVERT_VERIFY="numpy")
    assert r.returncode == 0, r.stderr
    assert "run by the numpy reference)" in r.stdout
    assert "verify with the numpy reference: STRATA_CONVERT_VERIFY=numpy" in r.stderr
    assert float(r.stdout.split("verify: max abs error ")[1].split()[0]) <= 1e-5


@needs_libstrata
@pytest.mark.parametrize("runner", ["libstrata", "numpy"])
def test_verify_fails_when_the_file_computes_something_else(runner, monkeypatch):
    """The check can fail: another model's file against this module is refused, on either runner."""
    if runner == "numpy":
        monkeypatch.setenv("STRATA_CONVERT_VERIFY", "numpy")
    other = serialize(convert_module(mlp(1), torch.zeros(1, 20)))
    with pytest.raises(cli.CliError, match="verification failed"):
        cli._verify(mlp(0), other, (20,))
    cli._verify(mlp(1), other, (20,))  # and passes on the module it came from


@needs_libstrata
def test_libstrata_and_the_numpy_reference_agree(saved):
    data = serialize(convert_module(mlp(2), torch.zeros(1, 20)))
    x = np.random.default_rng(0).standard_normal((5, 20)).astype(np.float32)
    got, runner = verify_run.run(data, [x])
    assert runner == "libstrata"
    os.environ["STRATA_CONVERT_VERIFY"] = "numpy"
    try:
        ref, runner = verify_run.run(data, [x])
    finally:
        del os.environ["STRATA_CONVERT_VERIFY"]
    assert runner == "numpy"
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-5)


def test_progress_bars_for_the_numpy_reference_and_the_self_test(saved):
    r = convert(saved, "-o", "bar.strata", "--verify", "--input-shape", "20", "--self-test", "40",
                STRATA_CONVERT_VERIFY="numpy", STRATA_CONVERT_PROGRESS="1")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.replace("\r", "\n").splitlines()
    assert re.search(r"numpy reference \[#{30}\] 3/3 nodes$", r.stderr, flags=re.M), r.stderr
    assert any(re.search(r"self-test: PyTorch \[#{30}\] 40/40 samples$", x) for x in lines), r.stderr
    # The stdout summary carries no bar; without a terminal (and not forced) no bar is drawn.
    assert "[#" not in r.stdout
    quiet = convert(saved, "-o", "nobar.strata", "--self-test", "40")
    assert quiet.returncode == 0 and "[#" not in quiet.stderr and "\r" not in quiet.stderr
    assert (saved / "nobar.strata").read_bytes() == (saved / "bar.strata").read_bytes()


@needs_libstrata
def test_a_chunked_self_test_passes_in_libstrata(saved):
    """--self-test 40 computes PyTorch's reference 16 samples at a time; the file still passes."""
    import strata
    r = convert(saved, "-o", "st.strata", "--self-test", "40")
    assert r.returncode == 0, r.stderr
    with strata.Model(saved / "st.strata") as model:
        result = model.self_test()
    assert result["passed"] and result["n_samples"] == 40, result


@needs_libstrata
@pytest.mark.parametrize("batch", [1, None])
def test_onnx_self_test_in_chunks_passes_in_libstrata(tmp_path, batch):
    """The source-framework path (onnxruntime here) also computes its self-test reference in
    chunks with a bar, for a fixed first dimension (batch 1) and a dynamic one."""
    import strata
    onnx_path = tmp_path / "m.onnx"
    kw = {} if batch else dict(dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    with warnings.catch_warnings():  # the TorchScript-based exporter is deprecated
        warnings.simplefilter("ignore")
        torch.onnx.export(mlp(3), (torch.zeros(batch or 2, 20),), str(onnx_path), dynamo=False, input_names=["x"],
                          output_names=["y"], **kw)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([CONVERT_DIR, BINDINGS]), STRATA_CONVERT_PROGRESS="1")
    environment.pop("STRATA_CONVERT_QUIET", None)
    r = subprocess.run([sys.executable, "-m", "strata_convert", str(onnx_path), "-o", str(tmp_path / "m.strata"),
                        "--self-test", "40"], env=environment, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(r"self-test: reference \[#{30}\] 40/40 samples$", r.stderr.replace("\r", "\n"), flags=re.M), r.stderr
    with strata.Model(tmp_path / "m.strata") as model:
        result = model.self_test()
    assert result["passed"] and result["n_samples"] == 40, result
