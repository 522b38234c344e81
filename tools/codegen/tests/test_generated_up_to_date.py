"""The generated Swift files under Sources/StrataKernels/Generated/ are exactly what their
generators in tools/codegen produce now: editing a generator without `make codegen` (or editing a
generated file by hand) fails here."""
import importlib.util
from pathlib import Path

import pytest

CODEGEN = Path(__file__).resolve().parents[1]
GENERATED = CODEGEN.parents[1] / "Sources" / "StrataKernels" / "Generated"
GENERATORS = sorted(CODEGEN.glob("gen_*.py"))


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generator_writes_into_generated_and_every_generated_file_has_a_generator():
    outs = {load(g).OUT.resolve() for g in GENERATORS}
    assert GENERATORS, "no generators found"
    assert all(o.parent == GENERATED.resolve() for o in outs), outs
    assert outs == {p.resolve() for p in GENERATED.glob("*.swift")}


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda p: p.name)
def test_generated_file_matches_its_generator(generator):
    module = load(generator)
    current = module.OUT.read_text()
    assert current == module.render(), f"{module.OUT.name} is stale: run `make codegen` and commit the result"
