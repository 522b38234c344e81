"""Shared material of the scale-out tests (docs/SCALING.md run for real): a labelled model, a
Parquet input of a few thousand rows, the single-process reference and the recipe blocks."""
import contextlib
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("STRATA_CONVERT_QUIET", "1")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "bindings" / "python", REPO / "tools" / "convert"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import strata  # noqa: E402

ROWS = 4000
FILES = 4
LABELS = [f"digit {k}" for k in range(10)]


@dataclass
class ScaleCase:
    """A model, its Parquet input and the answers a single process gives for it."""
    model_path: Path
    input_path: Path
    ids: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray


@contextlib.contextmanager
def deadline(seconds: int):
    """Fails the test (TimeoutError in the main thread) instead of hanging when the body takes
    longer than `seconds`: a cluster job that waits forever (Ray's actors holding every CPU) must
    fail CI, not stall it."""
    def expire(signum, frame):
        raise TimeoutError(f"the recipe did not finish within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def recipe(marker: str) -> str:
    """The ```python block of docs/SCALING.md whose first line is `# <marker>`."""
    doc = (REPO / "docs" / "SCALING.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", doc, flags=re.S) if b.startswith(f"# {marker}\n")]
    assert len(blocks) == 1, f"docs/SCALING.md should have one block starting '# {marker}'"
    return blocks[0]


def run_recipes(case: "ScaleCase", output_path: Path, *markers: str, namespace: dict | None = None) -> dict:
    """Executes the predictor block, then the named recipe blocks, as one script with the
    documented variables set, in `namespace` (a new dict by default; pass one to see what a
    failing recipe left, e.g. a Spark session to stop); returns it. The module name is not
    importable, so Ray and Spark ship StrataPredictor and predict by value, as they would from a
    user's script."""
    namespace = {} if namespace is None else namespace
    namespace.update({"__name__": "scaling_recipe", "model_path": str(case.model_path),
                      "input_path": str(case.input_path), "output_path": str(output_path)})
    for marker in ("predictor",) + markers:
        exec(compile(recipe(marker), f"SCALING.md:{marker}", "exec"), namespace)
    return namespace


def check_output(case: "ScaleCase", output_path: Path) -> None:
    """Every input row appears once in the output, with the single-process prediction and label,
    and the output does not carry the images."""
    table = pq.read_table(output_path)
    assert "image" not in table.column_names, f"the output copies the input images: {table.column_names}"
    assert {"id", "prediction", "label"} <= set(table.column_names), table.column_names
    order = np.argsort(table.column("id").to_numpy())
    ids = table.column("id").to_numpy()[order]
    np.testing.assert_array_equal(ids, case.ids)
    np.testing.assert_array_equal(table.column("prediction").to_numpy()[order], case.predictions)
    np.testing.assert_array_equal(np.asarray(table.column("label").to_pylist(), dtype=object)[order], case.labels)


@pytest.fixture(scope="session")
def case(tmp_path_factory) -> ScaleCase:
    """A labelled 784-128-10 MLP (seeded), ROWS rows of digits-like images in FILES Parquet files
    (columns id, image: list<float>), and what one strata.Model.run of all rows answers."""
    import torch
    from strata_convert import torch_source

    root = tmp_path_factory.mktemp("scale")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).eval()
    model_path = root / "mnist.strata"
    torch_source.save(module, torch.zeros(1, 784), str(model_path), class_labels=LABELS)

    rng = np.random.default_rng(0)
    images = rng.random((ROWS, 784), dtype=np.float32)
    ids = np.arange(ROWS, dtype=np.int64)
    input_path = root / "digits"
    input_path.mkdir()
    for k, part in enumerate(np.array_split(ids, FILES)):
        flat = pa.array(images[part].ravel(), pa.float32())
        column = pa.ListArray.from_arrays(pa.array(np.arange(0, len(part) * 784 + 1, 784, dtype=np.int32)), flat)
        pq.write_table(pa.table({"id": pa.array(ids[part]), "image": column}), input_path / f"part-{k}.parquet")

    with strata.Model(model_path) as model:
        predictions = model.run(images).argmax(axis=1)
    return ScaleCase(model_path, input_path, ids, predictions, np.array([LABELS[k] for k in predictions], dtype=object))
