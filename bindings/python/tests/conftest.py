"""Makes `strata` (this checkout's bindings) and `strata_convert` (tools/convert) importable,
and keeps torch on one thread so results and timings are reproducible on a shared machine."""
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

_PYTHON_DIR = Path(__file__).resolve().parents[1]  # bindings/python
_REPO = _PYTHON_DIR.parents[1]
for _path in (_PYTHON_DIR, _REPO / "tools" / "convert"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import torch  # noqa: E402  (after OMP_NUM_THREADS)

torch.set_num_threads(1)
