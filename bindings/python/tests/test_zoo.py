"""The edge model zoo (issue 15; models and measurement in zoo.py): every model converts from the
nn.Module, TorchScript and ONNX (fixed and dynamic batch) and matches PyTorch through libstrata
(max abs error ≤ 1e-4 of the output scale, same argmax). A model that does not convert yet is a
strict expected failure naming the missing op, so it flips to a failure when the op lands.

`make test` runs the CI subset (CI_MODELS, a few seconds); `make zoo` runs every model
(STRATA_ZOO=all) and tools/zoo/write_table.py regenerates docs/OPS.md's zoo table."""
import os

import pytest
import zoo
from helpers import needs_library

pytestmark = needs_library

# The representative subset in `make test`: a residual CNN, the three edge classics.
CI_MODELS = ("resnet18", "sensor_cnn", "autoencoder", "keyword_spotter")
FULL = os.environ.get("STRATA_ZOO") == "all"

# model -> [(routes or "all", the op it needs that Strata lacks today)]: the refusal must name it
# (case-insensitive). Strict: a model that starts converting fails here until its entry goes.
EXPECTED_REFUSALS = {}  # every model converts from every route today


def _cases():
    for name in zoo.MODELS:
        for route in zoo.ROUTES:
            marks = []
            if not FULL and name not in CI_MODELS:
                marks.append(pytest.mark.skip(reason="the full zoo runs in `make zoo` (STRATA_ZOO=all)"))
            for routes, op in EXPECTED_REFUSALS.get(name, []):
                if routes == "all" or route in routes:
                    marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"refused: needs {op}"))
            yield pytest.param(name, route, marks=marks, id=f"{name}-{route}")


@pytest.mark.parametrize("name,route", list(_cases()))
def test_converts_and_matches_pytorch(name, route):
    result = zoo.evaluate(name, route)
    for routes, op in EXPECTED_REFUSALS.get(name, []):
        if (routes == "all" or route in routes) and not result["converted"] and op not in result["error"].lower():
            raise RuntimeError(f"{name} via {route} was expected to be refused for {op}, but: {result['error']}")
    assert result["converted"], f"{name} via {route} is refused: {result['error']}"
    assert result["max_error"] <= zoo.TOLERANCE, f"{name} via {route}: max abs error {result['max_error']:.3g} of the output scale"
    assert result["argmax_same"], f"{name} via {route}: argmax differs from PyTorch"
