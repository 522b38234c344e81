"""The bindings and the converter on the lowest Python the packages declare (requires-python) and on
the newest one this machine kind has (pyenv: ~/.pyenv/versions).

Each version gets its own venv under build/pyvenvs/ with only a pinned numpy (from PyPI, once; kept
for later runs). The test imports the checkout's packages, builds an MLP with the converter's
numpy-only path, writes it, and runs it through libstrata against numpy.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

import strata
from helpers import LIBRARY, needs_library

REPO = Path(__file__).resolve().parents[3]
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
# The numpy each Python gets: the newest release that supports it.
NUMPY_FOR = {"3.10": "2.2.6", "3.13": "2.4.6"}
pytestmark = needs_library


def declared_floor(pyproject: Path) -> str:
    found = re.search(r'^requires-python = ">=(\d+\.\d+)"$', pyproject.read_text(), flags=re.M)
    assert found, f"{pyproject} declares no requires-python floor"
    return found.group(1)


FLOOR = declared_floor(REPO / "bindings" / "python" / "pyproject.toml")
NEWEST = max(NUMPY_FOR, key=lambda v: tuple(map(int, v.split("."))))


def test_both_packages_declare_the_floor_this_file_tests():
    assert declared_floor(REPO / "tools" / "convert" / "pyproject.toml") == FLOOR
    assert FLOOR in NUMPY_FOR, f"requires-python >={FLOOR} is not a version this file tests"


def interpreter(version: str) -> Path:
    candidates = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not candidates:
        pytest.skip(f"no Python {version} under {PYENV} (this machine kind has 3.9 to 3.13 there)")
    return candidates[-1]


def venv_for(version: str) -> Path:
    root = REPO / "build" / "pyvenvs" / version
    marker = root / f".numpy-{NUMPY_FOR[version]}"
    if not marker.exists():
        subprocess.run([str(interpreter(version)), "-m", "venv", "--clear", str(root)], check=True, timeout=300)
        subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        f"numpy=={NUMPY_FOR[version]}"], check=True, timeout=600)
        marker.touch()
    return root / "bin" / "python"


PROGRAM = r"""
import sys, numpy as np
import strata, strata_convert
from strata_convert import mlp_graph, writer
rng = np.random.default_rng(0)
w1, b1 = rng.standard_normal((16, 8), dtype=np.float32), rng.standard_normal(16, dtype=np.float32)
w2, b2 = rng.standard_normal((3, 16), dtype=np.float32), rng.standard_normal(3, dtype=np.float32)
graph = mlp_graph.mlp([("linear", w1, b1, "fc1"), ("act", "Relu", {}), ("linear", w2, b2, "fc2")], 8,
                      source="numpy", name="tiny")
writer.write_model(sys.argv[1], graph)
x = rng.standard_normal((5, 8), dtype=np.float32)
with strata.Model(sys.argv[1]) as model:
    y = model.run(x)
    empty = model.run(np.zeros((0, 8), np.float32))
expected = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
assert empty.shape == (0, 3), empty.shape
print("%d.%d" % sys.version_info[:2], strata.__version__, strata_convert.__version__,
      float(np.max(np.abs(y - expected))))
"""


@pytest.mark.parametrize("version", sorted({FLOOR, NEWEST}))
def test_bindings_and_converter_run_on(version, tmp_path):
    python = venv_for(version)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = f"{REPO / 'bindings' / 'python'}:{REPO / 'tools' / 'convert'}"
    env["STRATA_LIBRARY"] = str(Path(LIBRARY).resolve())
    result = subprocess.run([str(python), "-c", PROGRAM, str(tmp_path / "tiny.strata")], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    ran_on, runtime_version, converter_version, error = result.stdout.split()
    assert ran_on == version
    assert runtime_version == converter_version == strata.__version__
    assert float(error) < 1e-4
