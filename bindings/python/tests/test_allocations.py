"""A run allocates nothing once a session has seen its largest batch: bindings/c/tests/
count_allocations.c interposes malloc and friends and counts calls during 1 600 runs per case
(batch sizes 1, 7, 64, 300; profiling off and on), on 1, 2 and 3 threads, with f32 weights and
with int8-dynamic ones (whose quantized activations live in the per-thread GEMM workspace), and on
a convolutional block with the clamp family, and on models of the format 1.5 families."""
import os
import subprocess
from pathlib import Path

import pytest
import torch

from helpers import LIBRARY, convert, needs_library
from models import SimpleNN

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "bindings" / "c" / "tests" / "count_allocations.c"


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    if LIBRARY is None:
        pytest.skip("libstrata is not built yet; build it with `make lib`")
    libdir = str(Path(LIBRARY).resolve().parent)
    exe = tmp_path_factory.mktemp("alloc") / "count_allocations"
    cc = os.environ.get("CC", "cc")
    done = subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'include'}", str(SOURCE),
                           f"-L{libdir}", "-lstrata", f"-Wl,-rpath,{libdir}", "-o", str(exe)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return exe


def _model(tmp_path, precision_name):
    """The seed MNIST network (seeded), its Linear weights in `precision_name`."""
    torch.manual_seed(0)
    path = convert(SimpleNN().eval(), torch.zeros(1, 1, 28, 28), tmp_path / "m.strata")
    if precision_name != "f32":
        from strata_convert import precision
        from strata_convert.reader import read_model
        from strata_convert.writer import write_model
        graph = read_model(path)
        write_model(path, precision.apply_precision(graph, precision.layer_precisions(graph, precision_name)))
    return path


@needs_library
@pytest.mark.parametrize("weights", ["f32", "int8-dynamic"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_runs_allocate_nothing_after_the_first(counter, tmp_path, threads, weights):
    path = _model(tmp_path, weights)
    done = subprocess.run([str(counter), str(path), str(threads), "1", "7", "64", "300"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "allocations: 0", done.stdout + done.stderr
    assert done.returncode == 0


@needs_library
@pytest.mark.parametrize("weights", ["f32", "int8-dynamic"])
@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_runs_allocate_nothing_either(counter, tmp_path, threads, weights):
    """A session with a memory limit of 5 samples runs batches of 7, 64 and 300 in chunks."""
    path = _model(tmp_path, weights)
    done = subprocess.run([str(counter), str(path), str(threads), "1", "7", "64", "300"],
                          capture_output=True, text=True, env={**os.environ, "CHUNK_BATCH": "5"})
    assert done.stdout.strip() == "allocations: 0", done.stdout + done.stderr
    assert done.returncode == 0


@needs_library
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_and_clamp_family_runs_allocate_nothing(counter, tmp_path, threads):
    """A MobileNet-style block: Conv+BN+ReLU6, depthwise Conv+Hardswish, Hardsigmoid
    squeeze-excitation (broadcasting Mul), Hardtanh, Linear head."""
    from test_clamp_family import MobileBlock, _init
    path = convert(_init(MobileBlock()), torch.zeros(1, 3, 6, 6), tmp_path / "mobile.strata")
    done = subprocess.run([str(counter), str(path), str(threads), "1", "7", "64", "300"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "allocations: 0", done.stdout + done.stderr
    assert done.returncode == 0


@needs_library
@pytest.mark.parametrize("kind", ["shuffle", "reduce", "unary"])
def test_format_1_5_families_run_allocate_nothing(counter, tmp_path, kind):
    """The families of format 1.5 (test_zoo_ops.py): Transpose and Slice (a ShuffleNet unit),
    ReduceMean/Sum/Max with squeeze-excitation and F.normalize, the elementwise math."""
    from test_zoo_ops import MODELS, _init
    cls, shape, _ = MODELS[kind]
    path = convert(_init(cls()), torch.zeros(1, *shape), tmp_path / f"{kind}.strata")
    done = subprocess.run([str(counter), str(path), "2", "1", "7", "64", "300"], capture_output=True, text=True)
    assert done.stdout.strip() == "allocations: 0", done.stdout + done.stderr
    assert done.returncode == 0


@needs_library
def test_the_counter_can_fail(counter, tmp_path):
    """The interposer really sees the library's allocations: loading a model allocates."""
    source = SOURCE.read_text().replace("atomic_store(&counting, 1);\n        for (int r",
                                        "atomic_store(&counting, 1);\n        { strata_model *m2 = NULL; "
                                        "strata_model_load_file(argv[1], &m2); strata_model_free(m2); }\n"
                                        "        for (int r", 1)
    assert source != SOURCE.read_text()
    variant = tmp_path / "variant.c"
    variant.write_text(source)
    libdir = str(Path(LIBRARY).resolve().parent)
    exe = tmp_path / "variant"
    subprocess.run(["cc", "-std=c11", "-O2", f"-I{REPO / 'include'}", f"-I{SOURCE.parent}", str(variant), f"-L{libdir}", "-lstrata",
                    f"-Wl,-rpath,{libdir}", "-o", str(exe)], check=True)
    torch.manual_seed(0)
    path = convert(SimpleNN().eval(), torch.zeros(1, 784), tmp_path / "m.strata")
    done = subprocess.run([str(exe), str(path), "1", "1"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout.startswith("allocations: ") and done.stdout.strip() != "allocations: 0"


@needs_library
@pytest.mark.parametrize("threads", [1, 2])
def test_spatial_ops_runs_allocate_nothing(counter, tmp_path, threads):
    """Format 1.5's spatial ops (issue 15 part B): ConvTranspose, Resize (nearest, bilinear both
    ways), Pad (reflect, edge, constant) in test_spatial_ops.Decoder, and Conv1d/1-D pools."""
    from test_spatial_ops import Decoder, Sensor1D
    for name, module, shape in (("decoder", Decoder(), (1, 4, 5, 6)), ("sensor", Sensor1D(), (1, 4, 32))):
        path = convert(module.eval(), torch.zeros(shape), tmp_path / f"{name}.strata")
        done = subprocess.run([str(counter), str(path), str(threads), "1", "7", "20"],  # small: the counter runs each 1 600 times
                              capture_output=True, text=True)
        assert done.stdout.strip() == "allocations: 0", name + ": " + done.stdout + done.stderr
        assert done.returncode == 0


@needs_library
@pytest.mark.parametrize("threads", [1, 2])
def test_stateful_recurrent_runs_allocate_nothing(counter, tmp_path, threads):
    """A stateful session of a 2-layer GRU and an LSTM (per-step outputs): every run continues the
    streams of the one before (held state loaded and stored), batch changes reset the state."""
    import torch.nn as nn
    from test_streaming import PerStep
    torch.manual_seed(0)
    for name, (cell, layers) in {"gru": (nn.GRU, 2), "lstm": (nn.LSTM, 1)}.items():
        path = convert(PerStep(cell, layers).eval(), torch.zeros(2, 3, 12), tmp_path / f"{name}.strata")
        done = subprocess.run([str(counter), str(path), str(threads), "1", "7", "64"],
                              capture_output=True, text=True, env={**os.environ, "STATEFUL": "1"})
        assert done.stdout.strip() == "allocations: 0", name + ": " + done.stdout + done.stderr
        assert done.returncode == 0
