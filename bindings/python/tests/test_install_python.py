"""`pip install ./bindings/python` and `pip install ./tools/convert[torch]` into a fresh venv:
the bindings' wheel carries libstrata.so, so the installed package works with no environment
variable and no checkout on sys.path; `strata-py` (console entry) mirrors the native tool without
shadowing it. Both wheels carry the Apache-2.0 LICENSE; the bindings' wheel is manylinux_2_34.

Offline: the venv reuses this environment's packages (numpy, torch, setuptools) through a .pth
file appended after its own site-packages, and pip runs with --no-index --no-build-isolation.
"""
import os
import platform
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import strata
from helpers import LIBRARY, convert, needs_library
from models import SimpleNN, seeded

REPO = Path(__file__).resolve().parents[3]
pytestmark = needs_library


def clean_env(**extra):
    """No STRATA_LIBRARY, no PYTHONPATH pointing into the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("STRATA_LIBRARY", "PYTHONPATH")}
    env.update(extra)
    return env


def run(args, **kw):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result




@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return convert(seeded(SimpleNN), torch.zeros(1, 1, 28, 28),
                   tmp_path_factory.mktemp("m") / "simple.strata", class_labels=[f"c{d}" for d in range(10)])


def in_venv(venv, code, cwd):
    return run([venv[0] / "bin" / "python", "-c", code], env=clean_env(), cwd=cwd)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """The two wheels as `make wheels` builds them: {"runtime": path, "convert": path}."""
    out = tmp_path_factory.mktemp("dist")
    env = clean_env(STRATA_LIBRARY=str(Path(LIBRARY).resolve()))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", out, "./bindings/python", "./tools/convert"], cwd=REPO, env=env)
    (runtime,) = out.glob("strata_runtime-*.whl")
    (converter,) = out.glob("strata_convert-*.whl")
    return {"runtime": runtime, "convert": converter}


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheels):
    """A fresh venv with the two built wheels pip-installed (the converter with its torch extra)."""
    root = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", "--without-pip", root])
    site = Path(run([root / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "zz_host_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([root / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-index", wheels["runtime"],
         f"{wheels['convert']}[torch]"], cwd=REPO, env=clean_env())
    return root, site


def metadata_of(z: zipfile.ZipFile) -> str:
    return z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()


def test_wheel_carries_library_types_and_entry_point(wheels):
    wheel = wheels["runtime"]
    version = strata.__version__
    assert wheel.name == f"strata_runtime-{version}-py3-none-manylinux_2_34_{platform.machine()}.whl", wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert {"strata/libstrata.so", "strata/py.typed", "strata/batching.py", "strata/cli.py"} <= names
        assert z.getinfo("strata/libstrata.so").file_size > 1_000_000
        entry_points = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        assert re.search(r"^strata-py = strata\.cli:main$", entry_points, flags=re.M)
        assert not re.search(r"^strata = ", entry_points, flags=re.M), "would shadow the native tool"
        assert "Root-Is-Purelib: false" in z.read(next(n for n in names if n.endswith("/WHEEL"))).decode()
        metadata = metadata_of(z)
        assert re.search(r"^Name: strata-runtime$", metadata, flags=re.M)
        assert re.search(r"^Requires-Python: >=3\.10$", metadata, flags=re.M)


@pytest.mark.parametrize("which", ["runtime", "convert"])
def test_wheels_carry_the_license(wheels, which):
    with zipfile.ZipFile(wheels[which]) as z:
        (license_file,) = [n for n in z.namelist() if re.search(r"\.dist-info/(licenses/)?LICENSE$", n)]
        assert z.read(license_file) == (REPO / "LICENSE").read_bytes()
        assert re.search(r"^License-Expression: Apache-2\.0$", metadata_of(z), flags=re.M)
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License")


def test_runtime_wheel_is_manylinux_2_34(wheels):
    """auditwheel reads the wheel's ELF files: libstrata needs nothing outside the manylinux_2_34 policy."""
    shown = run([sys.executable, "-m", "auditwheel", "show", wheels["runtime"]]).stdout
    flat = " ".join(shown.split())
    assert f'is consistent with the following platform tag: "manylinux_2_34_{platform.machine()}"' in flat, shown


def test_installed_package_uses_its_own_library(venv, model_path, tmp_path):
    out = in_venv(venv, (
        "import strata, strata._lib as L, numpy as np\n"
        "print(L.path())\n"
        f"m = strata.Model({str(model_path)!r})\n"
        "x = np.arange(3 * 784, dtype=np.float32).reshape(3, 1, 28, 28) / 784\n"
        "np.save('y.npy', m.run(x))\n"
        "print(strata.__file__)\n"), cwd=tmp_path).stdout.split("\n")
    assert Path(out[0]).resolve() == (venv[1] / "strata" / "libstrata.so").resolve()
    assert Path(out[1]).resolve().is_relative_to(venv[1].resolve())
    x = np.arange(3 * 784, dtype=np.float32).reshape(3, 1, 28, 28) / 784
    with strata.Model(model_path) as model:
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.run(x))


def test_installed_package_is_typed(venv, tmp_path):
    assert (venv[1] / "strata" / "py.typed").is_file()


def test_console_entry_mirrors_the_tool(venv, model_path, tmp_path):
    assert not (venv[0] / "bin" / "strata").exists(), "the pip-installed command shadows the native tool"
    exe = venv[0] / "bin" / "strata-py"
    info = run([exe, "info", model_path], env=clean_env(), cwd=tmp_path).stdout
    assert re.search(r"^input:\s+x \[N, 1, 28, 28\] f32$", info, flags=re.M), info
    assert re.search(r"^output:\s+\S+ \[N, 10\] f32$", info, flags=re.M), info
    assert "labels:      c0, c1" in info
    x = np.random.default_rng(1).standard_normal((4, 1, 28, 28), dtype=np.float32)
    raw = tmp_path / "x.f32"
    raw.write_bytes(x.astype("<f4").tobytes())
    with strata.Model(model_path) as model:
        expected = model.run(x)
    printed = run([exe, "run", model_path, "--input", raw, "--raw", "--batch-size", "3"], env=clean_env()).stdout
    got = np.array([line.split() for line in printed.splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(got, expected)  # str(np.float32) round-trips
    np.save(tmp_path / "x.npy", x)
    from_npy = run([exe, "run", model_path, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy"], env=clean_env())
    assert from_npy.stdout == ""
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
    not_npy = subprocess.run([str(exe), "run", str(model_path), "--input", str(raw)], capture_output=True, text=True,
                             env=clean_env(), timeout=120)
    assert not_npy.returncode == 2 and "is not a .npy file" in not_npy.stderr
    top1 = subprocess.run([str(exe), "run", str(model_path), "--top1", "--raw"], input=raw.read_bytes(),
                          capture_output=True, env=clean_env(), timeout=120).stdout.decode()
    assert top1.splitlines() == [f"{i}: {k} c{k}" for i, k in enumerate(expected.argmax(axis=1))]
    bad = subprocess.run([str(exe), "run", str(model_path), "--raw"], input=b"\0" * 12, capture_output=True,
                         env=clean_env(), timeout=120)
    assert bad.returncode == 2 and b"expected a positive multiple of 3136" in bad.stderr
    missing = subprocess.run([str(exe), "info", "/nonexistent.strata"], capture_output=True, text=True,
                             env=clean_env(), timeout=120)
    assert missing.returncode == 2 and "/nonexistent.strata" in missing.stderr and "IO_ERROR" in missing.stderr


def test_console_run_agrees_with_native_tool(venv, model_path, tmp_path):
    native = REPO / "build" / "bin" / "strata"
    if not native.exists():
        pytest.skip("build/bin/strata is not built (make cli)")
    x = np.random.default_rng(2).standard_normal((3, 1, 28, 28), dtype=np.float32).astype("<f4").tobytes()
    ours = subprocess.run([str(venv[0] / "bin" / "strata-py"), "run", str(model_path), "--top1", "--raw"], input=x,
                          capture_output=True, env=clean_env(), timeout=120)
    theirs = subprocess.run([str(native), "run", str(model_path), "--top1", "--raw"], input=x, capture_output=True,
                            timeout=120)
    if theirs.returncode != 0:
        pytest.skip(f"build/bin/strata cannot read this model: {theirs.stderr.decode().strip()}")
    assert ours.stdout == theirs.stdout


def test_converter_installs_with_torch_extra(venv, tmp_path):
    out = in_venv(venv, (
        "import strata_convert, torch\n"
        "from strata_convert import torch_source\n"
        "print(strata_convert.__file__)\n"
        "m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()).eval()\n"
        "torch_source.save(m, torch.zeros(1, 4), 'tiny.strata')\n"
        "import strata, numpy as np\n"
        "x = np.ones((2, 4), np.float32)\n"
        "with strata.Model('tiny.strata') as s:\n"
        "    y = s.run(x)\n"
        "ref = m(torch.from_numpy(x)).detach().numpy()\n"
        "print(float(np.max(np.abs(y - ref))))\n"), cwd=tmp_path).stdout.split()
    assert Path(out[0]).resolve().is_relative_to(venv[1].resolve())
    assert float(out[1]) <= 1e-6
    assert (venv[0] / "bin" / "strata-convert").exists()
    help_text = run([venv[0] / "bin" / "strata-convert", "--help"], env=clean_env()).stdout
    assert "usage" in help_text.lower()
