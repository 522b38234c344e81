"""Reliability (issue 7) from Python and from C programs: bounded memory, cancellation, 100 000
load/run/free cycles with flat resident memory, a short soak."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import strata
from helpers import LIBRARY, needs_library
from models import SimpleNN, seeded

pytestmark = needs_library

REPO = Path(__file__).resolve().parents[3]
C_TESTS = REPO / "bindings" / "c" / "tests"
MALFORMED = sorted(str(p) for p in (REPO / "Tests" / "Fixtures" / "malformed").glob("*.strata"))


def _make_models():
    spec = importlib.util.spec_from_file_location("make_models", REPO / "tools" / "soak" / "make_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The soak's generated models: {name: path}."""
    paths = _make_models().write_models(tmp_path_factory.mktemp("models"))
    return {p.stem: p for p in paths}


def _compile(name, tmp_path_factory):
    libdir = str(Path(LIBRARY).resolve().parent)
    exe = tmp_path_factory.mktemp(name) / name
    done = subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                           f"-I{REPO / 'include'}", str(C_TESTS / f"{name}.c"), f"-L{libdir}", "-lstrata",
                           "-lpthread", f"-Wl,-rpath,{libdir}", "-o", str(exe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return exe


# ---- Python API ------------------------------------------------------------------------------
def test_workspace_size_grows_with_batch_and_threads(seed_mnist):
    one, two = seed_mnist.workspace_size(1), seed_mnist.workspace_size(2)
    assert two > one and seed_mnist.workspace_size(101) == one + 100 * (two - one)
    assert seed_mnist.workspace_size(1, n_threads=2) == one  # f32 weights: the GEMM needs no per-thread scratch
    with pytest.raises(strata.StrataError) as e:
        seed_mnist.workspace_size(0)
    assert e.value.status_name == "INVALID_ARGUMENT" and "batch is 0" in e.value.message


@pytest.mark.parametrize("dtype", ["int8", "int8-dynamic"])
def test_quantized_weights_add_103_kib_of_gemm_scratch_per_thread(tmp_path, dtype):
    from strata_convert import precision, torch_source
    from strata_convert.writer import write_model
    graph = torch_source.convert_module(seeded(SimpleNN).eval(), torch.zeros(1, 784))
    q = precision.apply_precision(graph, precision.layer_precisions(graph, dtype))
    write_model(tmp_path / "q.strata", q)
    with strata.Model(tmp_path / "q.strata") as model:
        one = model.workspace_size(1)
        # gemmWorkspaceFloats · 4: decoded weights or quantized activation rows, per thread
        assert model.workspace_size(1, n_threads=2) == one + 103 * 1024
        assert model.workspace_size(1, n_threads=3) == one + 2 * 103 * 1024
        x = np.random.default_rng(4).standard_normal((9, 784), dtype=np.float32)
        with model.session(n_threads=2) as two, model.session(workspace=bytearray(model.workspace_size(9, n_threads=1))) as bounded:
            assert np.array_equal(two.run(x), model.run(x)) and np.array_equal(bounded.run(x), model.run(x))


@pytest.mark.parametrize("kind", ["memory_limit", "bytearray", "numpy"])
def test_bounded_sessions_give_the_same_bits(seed_mnist, kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 784), dtype=np.float32)
    expected = seed_mnist.run(x)
    size = seed_mnist.workspace_size(7)
    kwargs = {"memory_limit": dict(memory_limit=size), "bytearray": dict(workspace=bytearray(size)),
              "numpy": dict(workspace=np.zeros(size, np.uint8))}[kind]
    with seed_mnist.session(**kwargs) as session:
        for n in (1, 7, 8, 300):
            assert session.run(x[:n]).tobytes() == expected[:n].tobytes()


def test_too_small_budgets_are_refused(seed_mnist):
    one = seed_mnist.workspace_size(1)
    with pytest.raises(strata.StrataError) as e:
        seed_mnist.session(memory_limit=one - 1)
    assert e.value.status_name == "OUT_OF_MEMORY" and f"memory limit of {one - 1} bytes" in e.value.message
    with pytest.raises(strata.StrataError) as e:
        seed_mnist.session(workspace=bytearray(100))
    assert e.value.status_name == "BUFFER_TOO_SMALL" and "workspace of 100 bytes" in e.value.message
    with pytest.raises(strata.StrataError) as e:
        seed_mnist.session(workspace=b"read-only bytes")
    assert e.value.status_name == "INVALID_ARGUMENT"


def test_abort_cancels_and_the_session_stays_usable(seed_mnist):
    x = np.ones((5, 784), np.float32)
    calls = []
    state = {"stop_after": 1}

    def abort():
        calls.append(1)
        return len(calls) > state["stop_after"]

    with seed_mnist.session(abort=abort) as session:
        with pytest.raises(strata.StrataError) as e:
            session.run(x)
        assert e.value.status_name == "CANCELLED" and e.value.status == strata._lib.STRATA_STATUS_CANCELLED
        assert "before step 2" in e.value.message and len(calls) == 2
        state["stop_after"] = 10**9
        assert session.run(x).tobytes() == seed_mnist.run(x).tobytes()


def test_an_exception_in_abort_cancels_the_run(seed_mnist):
    def abort():
        raise RuntimeError("boom")

    with seed_mnist.session(abort=abort) as session:
        with pytest.raises(strata.StrataError) as e:
            session.run(np.ones((1, 784), np.float32))
        assert e.value.status_name == "CANCELLED"


# ---- C programs ------------------------------------------------------------------------------
def test_100k_load_run_free_cycles_keep_resident_memory_flat(generated, tmp_path_factory):
    """100 000 cycles of in-memory load, session (default, memory limit, workspace, 2 threads),
    runs, a failed run, a cancelled run, a refused session, a malformed and a missing file, free:
    RSS grows by less than 1 MiB after the first 1 % and no thread outlives its session."""
    exe = _compile("leak_cycles", tmp_path_factory)
    done = subprocess.run([str(exe), str(generated["tiny_f32"]), "100000", "1024", *MALFORMED],
                          capture_output=True, text=True, timeout=600)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = dict(re.findall(r"(\w+) (-?\d+)", done.stdout))
    assert int(figures["cycles"]) == 100000 and int(figures["growth_kib"]) < 1024


def test_leak_cycles_can_fail(generated, tmp_path_factory, tmp_path):
    """The RSS check bites: a variant that leaks 64 bytes per cycle fails."""
    source = (C_TESTS / "leak_cycles.c").read_text()
    leak = ('        { char *leak = malloc(64); if (leak) memset(leak, 1, 64); '
            '__asm__ volatile("" : : "r"(leak) : "memory"); }\n')
    leaky = source.replace("        if (c % 10 == 0) {", leak + "        if (c % 10 == 0) {", 1)
    assert leaky != source
    (tmp_path / "leaky.c").write_text(leaky)
    libdir = str(Path(LIBRARY).resolve().parent)
    subprocess.run(["cc", "-std=c11", "-O2", f"-I{REPO / 'include'}", f"-I{C_TESTS}", str(tmp_path / "leaky.c"),
                    f"-L{libdir}", "-lstrata", f"-Wl,-rpath,{libdir}", "-o", str(tmp_path / "leaky")], check=True)
    done = subprocess.run([str(tmp_path / "leaky"), str(generated["tiny_f32"]), "30000", "1024"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout


def test_soak_smoke(generated, tmp_path_factory):
    """Three seconds of the `make soak` load on 2 threads: no failure, no leftover thread."""
    exe = _compile("soak", tmp_path_factory)
    done = subprocess.run([str(exe), "3", "2", *map(str, generated.values()), "--", *MALFORMED],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"runs [1-9]\d* .*errors [1-9]\d* .*failures 0", done.stdout), done.stdout
    assert re.search(r"shared sessions: runs [1-9]\d*, busy \d+; wrong outputs with OK 0;", done.stdout), done.stdout


def test_python_soak_smoke(generated):
    """Two seconds of the Python half of `make soak`: 8 threads on one shared Model and 2 on one
    shared Session; every OK result equals the single-threaded one, the only error is SESSION_BUSY."""
    done = subprocess.run([sys.executable, str(REPO / "tools" / "soak" / "python_soak.py"), "2", "8",
                           str(generated["residual256_f32"])], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"runs [1-9]\d* busy \d+ wrong outputs with OK 0 unexpected errors 0", done.stdout), done.stdout
