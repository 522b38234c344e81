"""include/strata.hpp: compiles warning-free as strict C++17 (g++ and clang++), its contract
holds against a real model (bindings/c/test_strata_hpp.cpp), and the C++ sample prints exactly
what the C sample prints."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from helpers import LIBRARY, convert, needs_library
from models import SimpleNN, seeded

REPO = Path(__file__).resolve().parents[3]
INCLUDE = REPO / "include"
SAMPLES = REPO / "bindings" / "c"
STRICT = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-Wconversion"]
CXX = os.environ.get("CXX", "c++")
COMPILERS = [CXX] + ([shutil.which("clang++")] if shutil.which("clang++") else [])


def build(compiler, source, exe, *extra):
    libdir = Path(LIBRARY).resolve().parent
    args = [compiler, *STRICT, *extra, f"-I{INCLUDE}", str(source), f"-L{libdir}", "-lstrata",
            f"-Wl,-rpath,{libdir}", "-o", str(exe)]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stderr}"
    return exe


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return convert(seeded(SimpleNN), torch.zeros(1, 1, 28, 28),
                   tmp_path_factory.mktemp("cpp") / "simple.strata",
                   class_labels=[str(d) for d in range(10)])


@pytest.mark.parametrize("compiler", COMPILERS)
def test_wrapper_header_compiles_strictly_alone(compiler, tmp_path):
    source = tmp_path / "only.cpp"
    source.write_text('#include "strata.hpp"\n#include "strata.hpp"\nint main() { return 0; }\n')
    result = subprocess.run([compiler, *STRICT, f"-I{INCLUDE}", "-fsyntax-only", str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@needs_library
@pytest.mark.parametrize("compiler", COMPILERS)
def test_wrapper_contract(compiler, model_path, tmp_path):
    exe = build(compiler, SAMPLES / "test_strata_hpp.cpp", tmp_path / "test_strata_hpp")
    result = subprocess.run([str(exe), str(model_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() [-1] == "ok"
    assert "run errors" in result.stdout and "ownership" in result.stdout


@needs_library
def test_wrapper_contract_under_sanitizers(model_path, tmp_path):
    """No leak, double free or use after free in the RAII types (ASan + UBSan)."""
    exe = build(CXX, SAMPLES / "test_strata_hpp.cpp", tmp_path / "test_asan",
                "-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="halt_on_error=1")
    result = subprocess.run([str(exe), str(model_path)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split()[-1] == "ok"


@needs_library
def test_cpp_sample_prints_what_the_c_sample_prints(model_path, tmp_path):
    cpp = build(CXX, SAMPLES / "classify.cpp", tmp_path / "classify_cpp")
    libdir = Path(LIBRARY).resolve().parent
    c = tmp_path / "classify"
    subprocess.run(["cc", "-std=c11", f"-I{INCLUDE}", str(SAMPLES / "classify.c"), f"-L{libdir}",
                    "-lstrata", f"-Wl,-rpath,{libdir}", "-o", str(c)], check=True)
    for batch in ("1", "3", "17"):
        from_c = subprocess.run([str(c), "--print-outputs", "--batch", batch, str(model_path)],
                                capture_output=True, text=True, check=True).stdout
        from_cpp = subprocess.run([str(cpp), str(model_path), batch], capture_output=True, text=True,
                                  check=True).stdout
        assert from_cpp == from_c and from_c.count("\n") == 2 * int(batch)
    failed = subprocess.run([str(cpp), "/nonexistent.strata"], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "/nonexistent.strata" in failed.stderr and f"status {-3}" in failed.stderr
