"""The C side: strata.h compiles as strict C11 and C++17, and bindings/c/classify.c builds
against libstrata, runs a converted model and agrees with PyTorch."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import strata
from helpers import LIBRARY, assert_close_to_reference, convert, needs_library, torch_run
from models import SimpleNN, seeded

REPO = Path(__file__).resolve().parents[3]
INCLUDE = REPO / "include"
HEADER = INCLUDE / "strata.h"
CLASSIFY = REPO / "bindings" / "c" / "classify.c"
STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

CC = os.environ.get("CC", "cc")
CXX = os.environ.get("CXX", "c++")
CLANG = shutil.which("clang")


def compile_ok(args, cwd=None):
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stderr}"


# ---- the header alone --------------------------------------------------------------------------
@pytest.mark.parametrize("compiler,language,std", [
    (CC, "c", "c11"), (CC, "c", "c99"), (CXX, "c++", "c++17"), (CXX, "c++", "c++11"),
], ids=["cc-c11", "cc-c99", "c++-c++17", "c++-c++11"])
def test_header_compiles_strictly(compiler, language, std):
    compile_ok([compiler, f"-std={std}", *STRICT, "-x", language, "-fsyntax-only", str(HEADER)])


@pytest.mark.skipif(CLANG is None, reason="no clang on PATH")
@pytest.mark.parametrize("language,std", [("c", "c11"), ("c++", "c++17")])
def test_header_compiles_strictly_with_clang(language, std):
    compile_ok([CLANG, f"-std={std}", *STRICT, "-x", language, "-fsyntax-only", str(HEADER)])


@pytest.mark.skipif(CLANG is None, reason="no clang on PATH")
@pytest.mark.parametrize("language,std", [("c", "c11"), ("c++", "c++17")])
def test_header_nullability_is_complete_with_clang(language, std):
    """Every pointer is annotated (clang's -Wnullability-completeness), -pedantic aside."""
    compile_ok([CLANG, f"-std={std}", "-Wall", "-Wextra", "-Werror", "-Wnullability-completeness",
                "-x", language, "-fsyntax-only", str(HEADER)])


def test_header_is_self_contained_and_idempotent(tmp_path):
    source = tmp_path / "twice.c"
    source.write_text('#include "strata.h"\n#include "strata.h"\n'
                      "int main(void) { return STRATA_STATUS_OK; }\n")
    compile_ok([CC, "-std=c11", *STRICT, f"-I{INCLUDE}", "-fsyntax-only", str(source)])


# ---- the header against the library ------------------------------------------------------------
@needs_library
def test_cxx_program_links_and_runs(tmp_path):
    """extern "C" works: a C++ program links against libstrata and calls it."""
    source = tmp_path / "hello.cpp"
    source.write_text(
        '#include "strata.h"\n#include <cstdio>\n#include <cstring>\n'
        "int main() {\n"
        "  if (strata_abi_version() != STRATA_ABI_VERSION) return 3;\n"
        "  strata_session_params p = strata_session_default_params();\n"
        "  if (p.size != sizeof p) return 4;\n"
        "  strata_model *m = nullptr;\n"
        "  if (strata_model_load_file(\"/nonexistent.strata\", &m) != STRATA_STATUS_IO_ERROR) return 5;\n"
        "  if (m != nullptr || std::strlen(strata_last_error()) == 0) return 6;\n"
        "  std::printf(\"%s\\n\", strata_version());\n"
        "  return 0;\n}\n")
    libdir = str(Path(LIBRARY).resolve().parent)
    exe = tmp_path / "hello"
    compile_ok([CXX, "-std=c++17", *STRICT, f"-I{INCLUDE}", str(source), f"-L{libdir}", "-lstrata",
                f"-Wl,-rpath,{libdir}", "-o", str(exe)])
    result = subprocess.run([str(exe)], capture_output=True, text=True)
    assert result.returncode == 0, result
    assert result.stdout.strip() == strata.version()


# ---- classify.c ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def classify(tmp_path_factory):
    if LIBRARY is None:
        pytest.skip("libstrata is not built yet; build it with `make lib`")
    libdir = str(Path(LIBRARY).resolve().parent)
    exe = tmp_path_factory.mktemp("c") / "classify"
    compile_ok([CC, "-std=c11", "-O2", *STRICT, f"-I{INCLUDE}", str(CLASSIFY), f"-L{libdir}", "-lstrata",
                f"-Wl,-rpath,{libdir}", "-o", str(exe)])
    return exe


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    module = seeded(SimpleNN)
    path = convert(module, torch.zeros(1, 1, 28, 28), tmp_path_factory.mktemp("cm") / "simple.strata",
                   class_labels=LABELS)
    return module, path


def run_classify(exe, *args):
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=60)


def parse(stdout):
    """{sample: (class, label or None)}, {sample: outputs as float32}."""
    classes, outputs = {}, {}
    for line in stdout.splitlines():
        if m := re.fullmatch(r"sample (\d+): class (\d+)(?: \((.*)\))?", line):
            classes[int(m[1])] = (int(m[2]), m[3])
        elif m := re.fullmatch(r"outputs (\d+):((?: \S+)+)", line):
            outputs[int(m[1])] = np.array(m[2].split(), dtype=np.float64).astype(np.float32)
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return classes, outputs


def test_classify_matches_pytorch(classify, converted, tmp_path):
    module, path = converted
    x = np.random.default_rng(5).standard_normal((7, 1, 28, 28), dtype=np.float32)
    raw = tmp_path / "input.f32"
    x.astype("<f4").tofile(raw)
    result = run_classify(classify, "--print-outputs", path, raw)
    assert result.returncode == 0, result.stderr
    assert '[-1, 1, 28, 28]' in result.stderr and '[-1, 10]' in result.stderr
    classes, outputs = parse(result.stdout)
    assert sorted(classes) == sorted(outputs) == list(range(7))
    got = np.stack([outputs[i] for i in range(7)])
    expected = torch_run(module, x)
    assert_close_to_reference(got, expected, "classify outputs")
    for i in range(7):
        k = int(expected[i].argmax())
        assert classes[i] == (k, LABELS[k])
    with strata.Model(path) as model:  # %.9g round-trips: the C and Python paths agree exactly
        assert np.array_equal(got, model.run(x))


def test_classify_generated_pattern(classify, converted):
    _, path = converted
    result = run_classify(classify, "--print-outputs", "--batch", 3, path)
    assert result.returncode == 0, result.stderr
    classes, outputs = parse(result.stdout)
    i = np.arange(3 * 784, dtype=np.uint64)
    pattern = (((i * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)) >> np.uint64(24)).astype(np.float32)
    pattern = (pattern / np.float32(255)).reshape(3, 1, 28, 28)
    with strata.Model(path) as model:
        expected = model.run(pattern)
    assert np.array_equal(np.stack([outputs[j] for j in range(3)]), expected)
    assert [classes[j][0] for j in range(3)] == expected.argmax(1).tolist()


def test_classify_without_print_outputs(classify, converted):
    _, path = converted
    result = run_classify(classify, path)
    assert result.returncode == 0, result.stderr
    classes, outputs = parse(result.stdout)
    assert len(classes) == 4 and not outputs
    assert all(label in LABELS for _, label in classes.values())


def test_classify_without_labels(classify, tmp_path):
    path = convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path / "nolabels.strata")
    result = run_classify(classify, path)
    assert result.returncode == 0, result.stderr
    classes, _ = parse(result.stdout)
    assert all(label is None for _, label in classes.values())


def test_classify_missing_model(classify, tmp_path):
    missing = tmp_path / "missing.strata"
    result = run_classify(classify, missing)
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert "loading the model failed" in result.stderr, result.stderr
    assert result.stdout == ""


def test_classify_corrupted_model(classify, converted, tmp_path):
    _, path = converted
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    bad = tmp_path / "bad.strata"
    bad.write_bytes(bytes(data))
    result = run_classify(classify, bad)
    assert result.returncode == 1
    assert "loading the model failed" in result.stderr and "bad.strata" in result.stderr, result.stderr


def test_classify_partial_sample(classify, converted, tmp_path):
    _, path = converted
    raw = tmp_path / "partial.f32"
    np.zeros(784 + 3, np.float32).tofile(raw)
    result = run_classify(classify, path, raw)
    assert result.returncode == 1
    assert "whole number of samples" in result.stderr


def test_classify_usage(classify):
    assert run_classify(classify).returncode == 2
    assert run_classify(classify, "--bogus", "m").returncode == 2
