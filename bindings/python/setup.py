"""Build hook of the `strata` wheel: puts libstrata.so inside the package.

`pip install ./bindings/python` (or `pip wheel`) copies the shared library into
`strata/libstrata.so`, where `strata._lib` finds it first (after $STRATA_LIBRARY), so the
installed package needs no environment variable. The library is taken from, in order:

1. ``$STRATA_LIBRARY`` (a path), when set;
2. the newest of ``<repo>/build/lib/libstrata.so.<ABI>`` (``make lib``: Embedded Swift, stripped)
   and ``<repo>/.build/release/libstrata.so`` (``swift build -c release --product strata``);
3. otherwise it is built with ``make lib`` when swift and make are on PATH.

Because the wheel carries a native library it is tagged for that library's platform, not as a
pure-Python wheel: on Linux `py3-none-manylinux_2_34_<machine>` (libstrata needs glibc 2.34 and
nothing but libc, libm and libpthread; tests/test_install_python.py checks the tag with
`auditwheel show`). <machine> is read from the library's ELF header, so a cross-built library
(`make wheel-aarch64`: STRATA_LIBRARY=build/aarch64/lib/libstrata.so.1 on an x86-64 machine) gives
a `manylinux_2_34_aarch64` wheel; tools/arm/check_wheel.py checks that one.
Everything else is declared in pyproject.toml.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel; older ones use the `wheel` package's.
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - depends on the setuptools version
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LIBRARY_NAME = "libstrata.dylib" if sys.platform == "darwin" else "libstrata.so"
# The oldest glibc libstrata runs on (its newest GLIBC_* symbol version): the manylinux policy.
MANYLINUX = "manylinux_2_34"
# ELF e_machine -> the machine name of wheel tags (and of `uname -m`).
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}


def library_machine(path: Path) -> str:
    """The machine an ELF library is built for (e.g. "aarch64"); this machine's for other files."""
    header = path.read_bytes()[:20]
    if header[:4] == b"\x7fELF" and header[5] == 1:  # little-endian
        machine = int.from_bytes(header[18:20], "little")
        if machine in ELF_MACHINES:
            return ELF_MACHINES[machine]
    return platform.machine()


def _abi_version() -> str:
    for line in (REPO / "include" / "strata.h").read_text().splitlines():
        if line.startswith("#define STRATA_ABI_VERSION "):
            return line.split()[2]
    raise RuntimeError("STRATA_ABI_VERSION not found in include/strata.h")


def find_library() -> Path:
    """The libstrata to ship (see the module docstring); builds it when nothing is found."""
    env = os.environ.get("STRATA_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise RuntimeError(f"STRATA_LIBRARY={env} is not a file")
        return Path(env)
    built = [p for p in (REPO / "build" / "lib" / f"{LIBRARY_NAME}.{_abi_version()}",
                         REPO / ".build" / "release" / LIBRARY_NAME) if p.is_file()]
    if built:
        return max(built, key=lambda p: p.stat().st_mtime)
    if shutil.which("swift") and shutil.which("make") and (REPO / "Makefile").is_file():
        print("strata: building libstrata with `make lib`", flush=True)
        subprocess.run(["make", "lib"], cwd=REPO, check=True)
        return REPO / "build" / "lib" / f"{LIBRARY_NAME}.{_abi_version()}"
    raise RuntimeError(
        f"strata: no {LIBRARY_NAME} to put in the wheel; run `make lib` at the repository root "
        "or set STRATA_LIBRARY to the library's path")


class build_py_with_library(build_py):
    """build_py that also copies libstrata into the built package (stripped when possible)."""

    def run(self):
        super().run()
        source = find_library()
        target = Path(self.build_lib) / "strata" / LIBRARY_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        # A cross-built library (another machine's ELF) is copied as `make lib` stripped it.
        strip = shutil.which("strip") if library_machine(source) == platform.machine() else None
        if strip and sys.platform.startswith("linux"):
            subprocess.run([strip, "--strip-unneeded", "-o", str(target), str(source)], check=True)
        else:
            shutil.copyfile(source, target)
        target.chmod(0o755)


class BinaryDistribution(Distribution):
    """Marks the distribution as platform-specific, so the package lands in platlib."""

    def has_ext_modules(self):
        return True


class platform_wheel(bdist_wheel):
    """A wheel for this platform: it carries a native library, but no CPython extension."""

    def get_tag(self):
        _, _, plat = super().get_tag()
        if sys.platform.startswith("linux"):
            plat = f"{MANYLINUX}_{library_machine(find_library())}"
        return "py3", "none", plat


setup(distclass=BinaryDistribution,
      cmdclass={"build_py": build_py_with_library, "bdist_wheel": platform_wheel})
