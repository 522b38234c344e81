"""The CPU gate (Sources/CStrataABI/abi.c): on a CPU without AVX2/FMA the load functions return
UNSUPPORTED with a sentence instead of faulting. STRATA_PRETEND_NO_AVX2=1 makes the gate refuse,
in a subprocess, since the check is made once per process."""
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from helpers import convert, needs_library
from models import SimpleNN

SCRIPT = """
import sys, strata
try:
    strata.Model(sys.argv[1])
except strata.StrataError as e:
    print(e.status_name, "|", e.message)
else:
    print("LOADED")
"""


def load_in_subprocess(path, pretend):
    env = dict(os.environ)
    bindings = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (bindings, env.get("PYTHONPATH")) if p)
    if pretend:
        env["STRATA_PRETEND_NO_AVX2"] = "1"
    else:
        env.pop("STRATA_PRETEND_NO_AVX2", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_library
def test_a_cpu_without_avx2_gets_an_error_not_a_crash(tmp_path):
    torch.manual_seed(0)
    path = convert(SimpleNN().eval(), torch.zeros(1, 784), tmp_path / "m.strata")
    refused = load_in_subprocess(path, pretend=True)
    # The sentence names what is missing on this architecture (Sources/CStrataABI/abi.c).
    missing = "does not report Advanced SIMD (NEON)" if platform.machine() == "aarch64" else "lacks AVX2 or FMA"
    assert refused.startswith(f"UNSUPPORTED | this CPU {missing}"), refused
    assert load_in_subprocess(path, pretend=False) == "LOADED"
