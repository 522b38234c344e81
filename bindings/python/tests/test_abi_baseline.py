"""The ABI check (tools/abi/check.sh, `make abi-check`): the built library matches the committed
libabigail baseline, and the check really fails on an incompatible change (a removed function, a
changed soname) while passing a compatible addition."""
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import LIBRARY, needs_library

REPO = Path(__file__).resolve().parents[3]
CHECK = REPO / "tools" / "abi" / "check.sh"
BASELINE = REPO / "abi" / f"libstrata.so.1.{platform.machine()}.abi"

pytestmark = [needs_library,
              pytest.mark.skipif(shutil.which("abidiff") is None, reason="abigail-tools (make setup-system)"),
              pytest.mark.skipif(not BASELINE.exists(), reason=f"no ABI baseline for {platform.machine()}")]


def check(baseline):
    library = Path(LIBRARY).resolve()
    return subprocess.run([str(CHECK), str(baseline), str(library)], capture_output=True, text=True, timeout=120)


def test_built_library_matches_the_baseline():
    r = check(BASELINE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "is ABI-compatible" in r.stdout


def test_a_removed_function_fails(tmp_path):
    text = BASELINE.read_text()
    extra = ("<elf-symbol name='strata_removed_later' version='STRATA_1' is-default-version='yes' type='func-type' "
             "binding='global-binding' visibility='default-visibility' is-defined='yes'/>\n    ")
    baseline = tmp_path / "old.abi"
    baseline.write_text(text.replace("<elf-symbol name='strata_version'", extra + "<elf-symbol name='strata_version'", 1))
    r = check(baseline)
    assert r.returncode == 1 and "INCOMPATIBLE" in r.stdout and "strata_removed_later" in r.stdout, r.stdout


def test_a_changed_soname_fails(tmp_path):
    baseline = tmp_path / "old.abi"
    baseline.write_text(re.sub(r"soname='libstrata\.so\.1'", "soname='libstrata.so.0'", BASELINE.read_text()))
    r = check(baseline)
    assert r.returncode == 1 and "INCOMPATIBLE" in r.stdout, r.stdout


def test_an_added_function_passes_with_a_note(tmp_path):
    baseline = tmp_path / "old.abi"
    baseline.write_text("\n".join(l for l in BASELINE.read_text().splitlines() if "name='strata_version'" not in l))
    r = check(baseline)
    assert r.returncode == 0 and "compatible ABI additions" in r.stdout and "strata_version" in r.stdout, r.stdout
