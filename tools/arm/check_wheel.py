"""The ARM-aware install test (issue 16): the bindings' aarch64 wheel (make wheel-aarch64), checked
on this x86-64 machine as far as it honestly can be without an aarch64 Python.

    python tools/arm/check_wheel.py WHEEL WORKDIR "AARCH64_RUNNER..." WHEEL_LOADER MODEL...

1. The tag: the file is `strata_runtime-<version>-py3-none-manylinux_2_34_aarch64.whl`, and
   `auditwheel show` (which reads the ELF files inside) agrees that it is consistent with
   manylinux_2_34_aarch64.
2. The library inside: `strata/libstrata.so` is a 64-bit little-endian AArch64 ELF, soname
   libstrata.so.<ABI>, needing only glibc (libc, libm and the aarch64 loader ld-linux-aarch64.so.1)
   at symbol versions up to GLIBC_2.34.
3. pip on a board: pip given the platform tags its own run on an aarch64 board computes
   (manylinux_2_<glibc minor> down to manylinux_2_17, as `packaging.tags` does) accepts the wheel
   for glibc 2.36 (Raspberry Pi OS 12) and 2.34, and refuses it for glibc 2.31 (Raspberry Pi OS 11)
   and for an x86-64 machine with glibc 2.36.
4. The bindings inside the wheel, unpacked, find the library next to them (strata._lib.find(),
   run by this machine's Python on the wheel's pure-Python files with no STRATA_LIBRARY), and the
   loader name there is the aarch64 file; then WHEEL_LOADER (tools/arm/wheel_loader.c, aarch64)
   does under qemu what ctypes does — dlopen that file, resolve every function in
   strata._lib.PROTOTYPES, check the ABI and version — and runs each MODEL on a batch, whose
   outputs must be bitwise the x86-64 library's (through this machine's bindings).

Not checked (no aarch64 Python here): `import strata` by a Python running on aarch64.
Exits 1 naming the first check that fails.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

EM_AARCH64 = 183
TAG = "py3-none-manylinux_2_34_aarch64"
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "ld-linux-aarch64.so.1"}
BATCH = 5


def fail(message: str) -> None:
    raise SystemExit(f"check_wheel: FAIL: {message}")


def run(args: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)


def check_tag(wheel: Path) -> None:
    if not re.fullmatch(rf"strata_runtime-[0-9][^-]*-{TAG}\.whl", wheel.name):
        fail(f"{wheel.name} is not tagged {TAG}")
    shown = run([sys.executable, "-m", "auditwheel", "show", wheel])
    flat = " ".join(shown.stdout.split())
    if shown.returncode != 0 or 'consistent with the following platform tag: "manylinux_2_34_aarch64"' not in flat:
        fail(f"auditwheel show: {shown.stdout}{shown.stderr}")
    print(f"check_wheel: {wheel.name}: auditwheel: consistent with manylinux_2_34_aarch64")


def check_library(lib: Path, abi: int) -> None:
    header = lib.read_bytes()[:20]
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        fail(f"{lib} is not a 64-bit little-endian ELF file")
    machine = int.from_bytes(header[18:20], "little")
    if machine != EM_AARCH64:
        fail(f"{lib} is for ELF machine {machine}, not AArch64 ({EM_AARCH64})")
    dynamic = run(["aarch64-linux-gnu-readelf", "-d", "-V", lib]).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
    glibc = sorted({tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([0-9.]+)", dynamic)})
    if not needed <= ALLOWED_NEEDED:
        fail(f"{lib} needs {sorted(needed - ALLOWED_NEEDED)} beyond glibc")
    if soname != [f"libstrata.so.{abi}"]:
        fail(f"{lib} has soname {soname}, not libstrata.so.{abi}")
    if not glibc or glibc[-1] > (2, 34):
        fail(f"{lib} needs glibc symbol versions {glibc}, beyond 2.34")
    print(f"check_wheel: strata/libstrata.so: AArch64 ELF, soname libstrata.so.{abi}, needs {sorted(needed)}, "
          f"glibc symbols up to GLIBC_{'.'.join(map(str, glibc[-1]))}")


def pip_accepts(wheel: Path, machine: str, glibc_minor: int, target: Path) -> bool:
    """Whether pip installs the wheel on a `machine` Linux with glibc 2.<glibc_minor> (dry run)."""
    platforms = [a for m in range(glibc_minor, 16, -1) for a in ("--platform", f"manylinux_2_{m}_{machine}")]
    done = run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--no-index",
                "--only-binary=:all:", *platforms, "--python-version", "3.11", "--implementation", "cp",
                "--target", target, wheel])
    return done.returncode == 0


def check_pip(wheel: Path, work: Path) -> None:
    for machine, minor, want in (("aarch64", 36, True), ("aarch64", 34, True), ("aarch64", 31, False),
                                 ("x86_64", 36, False)):
        if pip_accepts(wheel, machine, minor, work / "pip-target") != want:
            fail(f"pip on {machine} with glibc 2.{minor} {'refuses' if want else 'accepts'} {wheel.name}")
    print("check_wheel: pip accepts it on aarch64 with glibc 2.36 and 2.34, refuses it with glibc 2.31 and on x86-64")


def bindings_view(unpacked: Path) -> dict:
    """What the wheel's own strata._lib says, imported from the unpacked wheel in a clean process."""
    env = {k: v for k, v in os.environ.items() if k not in ("STRATA_LIBRARY", "PYTHONPATH")}
    env["PYTHONPATH"] = str(unpacked)
    code = ("import json, strata, strata._lib as L\n"
            "print(json.dumps({'file': strata.__file__, 'found': L.find(), 'name': L.LIBRARY_NAME,\n"
            "  'abi': L.STRATA_ABI_VERSION, 'version': strata.__version__, 'names': [p[0] for p in L.PROTOTYPES]}))\n")
    done = run([sys.executable, "-c", code], env=env, cwd=unpacked)
    if done.returncode != 0:
        fail(f"the wheel's bindings do not import: {done.stderr}")
    return json.loads(done.stdout)


def main(argv: list) -> int:
    wheel, work, runner, loader = Path(argv[1]), Path(argv[2]).resolve(), shlex.split(argv[3]), argv[4]
    models = [Path(m) for m in argv[5:]]
    work.mkdir(parents=True, exist_ok=True)
    check_tag(wheel)
    unpacked = work / "unpacked"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(unpacked)
    view = bindings_view(unpacked)
    lib = unpacked / "strata" / view["name"]
    if view["name"] != "libstrata.so" or view["found"] is None or Path(view["found"]).resolve() != lib.resolve():
        fail(f"the wheel's bindings look for {view['name']} and find {view['found']}, not {lib}")
    if not Path(view["file"]).resolve().is_relative_to(unpacked.resolve()):
        fail(f"imported strata from {view['file']}, not from the wheel")
    print(f"check_wheel: the wheel's bindings find their own library: {Path(view['found']).relative_to(unpacked)}")
    check_library(lib, view["abi"])
    check_pip(wheel, work)

    import strata  # this machine's bindings and x86-64 library: the expected outputs
    for model in models:
        with strata.Model(model) as m:
            x = np.random.default_rng(16).standard_normal((BATCH,) + tuple(m.inputs[0].sample_shape), dtype=np.float32)
            expected = m.run(x)
        inputs, outputs = work / f"{model.stem}.in.f32", work / f"{model.stem}.aarch64.out"
        x.astype("<f4").tofile(inputs)
        done = run(runner + [loader, lib, view["abi"], view["version"], model, inputs, BATCH, expected.size, outputs]
                   + view["names"])
        if done.returncode != 0:
            fail(f"{' '.join(runner[:3])} wheel_loader {model.name}: {done.stdout}{done.stderr}")
        got = np.fromfile(outputs, dtype="<u4")
        if not np.array_equal(got, np.ascontiguousarray(expected, dtype="<f4").reshape(-1).view("<u4")):
            fail(f"{model.name}: the wheel's aarch64 library gives other bits than x86-64")
        if model == models[0]:
            print(done.stdout.strip().splitlines()[0])
        print(f"check_wheel: {model.name}: the wheel's library, dlopened under qemu, gives the x86-64 bits")
    print("check_wheel: the aarch64 wheel passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
