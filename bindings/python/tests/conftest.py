"""Makes `strata` (this checkout's bindings) and `strata_convert` (tools/convert) importable,
keeps torch on one thread so results and timings are reproducible on a shared machine, and
provides `seed_mnist`, the seeded seed network loaded once per test module."""
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

_PYTHON_DIR = Path(__file__).resolve().parents[1]  # bindings/python
_REPO = _PYTHON_DIR.parents[1]
for _path in (_PYTHON_DIR, _REPO / "tools" / "convert"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pytest  # noqa: E402
import torch  # noqa: E402  (after OMP_NUM_THREADS)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def seed_mnist(tmp_path_factory):
    """The seed MNIST network (SimpleNN, seeded weights, flat [N, 784] input), converted and loaded."""
    import strata
    from helpers import convert
    from models import SimpleNN, seeded
    path = convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path_factory.mktemp("seed") / "m.strata")
    with strata.Model(path) as model:
        yield model
