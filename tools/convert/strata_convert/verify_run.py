"""What `--verify` compares with the source framework: the converted file run by libstrata itself
(the `strata` Python binding, when it is importable and finds the library: the same code that will
run the file on the target), else the converter's float64 numpy reference of the graph.
STRATA_CONVERT_VERIFY=numpy forces the numpy reference."""
import os

import numpy as np

from . import numpy_ref, progress
from .reader import parse

# max |converted - source| allowed, times max(1, max |source output|): libstrata computes in f32
# (summation order differs from the framework's), the numpy reference in float64.
TOLERANCE = {"libstrata": 1e-4, "numpy": 1e-5}


def libstrata_unavailable() -> str | None:
    """None when libstrata can run the check, else why not (a sentence fragment)."""
    if os.environ.get("STRATA_CONVERT_VERIFY", "") == "numpy":
        return "STRATA_CONVERT_VERIFY=numpy"
    try:
        import strata
        from strata import _lib
    except ImportError:
        return "the strata Python binding (strata-runtime) is not installed"
    if _lib.find() is None:
        return f"libstrata is not built or not found (looked in {', '.join(_lib.candidates())})"
    return None


def run(data: bytes, feeds: list) -> tuple[list, str]:
    """Runs the serialized model `data` on `feeds` (one array per graph input, in graph order,
    sharing the batch dimension). Returns (the outputs in graph order, the runner: "libstrata" or
    "numpy"). A file libstrata refuses falls back to the numpy reference, with the reason on
    stderr."""
    reason = libstrata_unavailable()
    if reason is None:
        import strata
        try:
            with strata.Model.from_bytes(data) as model:
                outputs = model.run_all([np.ascontiguousarray(x, np.float32) for x in feeds])
            return list(outputs.values()), "libstrata"
        except strata.StrataError as e:
            reason = f"libstrata cannot run the conversion: {e}"
    progress.note(f"verify with the numpy reference: {reason}")
    graph = parse(data)
    with progress.bar("numpy reference", len(graph.nodes), "nodes") as advance:
        outputs = numpy_ref.run(graph, dict(zip([v.name for v in graph.inputs], feeds)), on_node=advance)
    return outputs, "numpy"


def describe(runner: str) -> str:
    """The runner as the verify line names it."""
    if runner == "libstrata":
        import strata
        return f"libstrata {strata.__version__}"
    return "the numpy reference"
