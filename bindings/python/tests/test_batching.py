"""strata.run_batched / iter_run / iter_batches: chunked runs equal one big run, chunks are views,
dtype conversion happens per chunk, threads give identical results, errors are StrataErrors."""
import numpy as np
import pytest
import torch

import strata
from helpers import convert, needs_library
from models import SimpleNN, seeded

pytestmark = needs_library


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = convert(seeded(SimpleNN), torch.zeros(1, 1, 28, 28), tmp_path_factory.mktemp("b") / "m.strata")
    with strata.Model(path) as m:
        yield m


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal((1000, 1, 28, 28), dtype=np.float32)


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * max(1.0, float(np.abs(b).max())))


def test_iter_batches_yields_views_covering_every_row(x):
    chunks = list(strata.iter_batches(x, 300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert all(np.shares_memory(c, x) and c.flags.c_contiguous for c in chunks)
    assert list(strata.iter_batches(x[:0], 7)) == []


@pytest.mark.parametrize("batch_size", [1, 7, 64, 999, 1000, 4096])
def test_run_batched_equals_one_run(model, x, batch_size):
    close(strata.run_batched(model, x, batch_size), model.run(x))


def test_run_batched_writes_into_out_without_copies(model, x):
    out = np.full((1000, 10), np.nan, np.float32)
    assert strata.run_batched(model, x, 128, out=out) is out
    close(out, model.run(x))
    with pytest.raises(strata.StrataError) as e:
        strata.run_batched(model, x, 128, out=np.empty((999, 10), np.float32))
    assert e.value.status_name == "INVALID_ARGUMENT" and isinstance(e.value, ValueError)


@pytest.mark.parametrize("workers", [2, 3])
def test_threads_give_identical_results(model, x, workers):
    np.testing.assert_array_equal(strata.run_batched(model, x, 97, workers=workers),
                                  strata.run_batched(model, x, 97))
    with model.session() as session:
        np.testing.assert_array_equal(strata.run_batched(session, x, 97, workers=workers),
                                      strata.run_batched(model, x, 97))


def test_other_dtypes_and_memmaps_are_converted_per_chunk(model, tmp_path):
    ints = np.random.default_rng(1).integers(0, 255, (300, 1, 28, 28), dtype=np.uint8)
    close(strata.run_batched(model, ints, 64), model.run(ints.astype(np.float32)))
    path = tmp_path / "x.npy"
    np.save(path, np.asfortranarray(ints.astype(np.float64)))
    mapped = np.load(path, mmap_mode="r")
    close(strata.run_batched(model, mapped, 50), model.run(ints.astype(np.float32)))


def test_iter_run_streams_arrays_and_iterables(model, x):
    parts = list(strata.iter_run(model, x, 256))
    assert [len(p) for p in parts] == [256, 256, 256, 232]
    close(np.concatenate(parts), model.run(x))
    generator = (x[i:i + 10] for i in range(0, 30, 10))
    close(np.concatenate(list(strata.iter_run(model, generator))), model.run(x[:30]))


def test_empty_input_gives_empty_output(model, x):
    assert strata.run_batched(model, x[:0]).shape == (0, 10)


@pytest.mark.parametrize("kwargs,status", [
    ({"batch_size": 0}, "INVALID_ARGUMENT"), ({"batch_size": 2.5}, "INVALID_ARGUMENT"),
    ({"workers": 0}, "INVALID_ARGUMENT"),
])
def test_bad_arguments(model, x, kwargs, status):
    with pytest.raises(strata.StrataError) as e:
        strata.run_batched(model, x, **kwargs)
    assert e.value.status_name == status


def test_wrong_sample_shape_is_a_shape_mismatch(model):
    with pytest.raises(strata.StrataError) as e:
        strata.run_batched(model, np.zeros((10, 784), np.float32))
    assert e.value.status_name == "SHAPE_MISMATCH" and "(N, 1, 28, 28)" in e.value.message
    with pytest.raises(strata.StrataError):
        strata.run_batched(model, np.zeros((1, 28, 28), np.float32))  # one sample, no batch dim


def test_scaling_doc_predictor(model, x, tmp_path):
    """docs/SCALING.md's per-worker predictor (the block marked `# predictor`) runs as written,
    on Ray's numpy batch format, with flat and with per-row object columns."""
    from pathlib import Path
    import re

    doc = (Path(__file__).resolve().parents[3] / "docs" / "SCALING.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", doc, flags=re.S) if b.startswith("# predictor")]
    namespace = {}
    exec(compile(code, "SCALING.md", "exec"), namespace)
    path = tmp_path / "labelled.strata"
    convert(seeded(SimpleNN), torch.zeros(1, 1, 28, 28), path, class_labels=[f"d{k}" for k in range(10)])
    predictor = namespace["StrataPredictor"](path.read_bytes(), batch_size=100)
    with strata.Model(path) as reference:
        expected = reference.run(x[:300]).argmax(axis=1)
    flat = {"image": x[:300].reshape(300, 784), "id": np.arange(300)}
    out = predictor(flat)
    np.testing.assert_array_equal(out["prediction"], expected)
    assert list(out["label"][:3]) == [f"d{k}" for k in expected[:3]] and "id" in out
    rows = np.empty(300, dtype=object)
    rows[:] = [row.ravel().tolist() for row in x[:300]]  # Spark/Arrow arrays arrive like this
    np.testing.assert_array_equal(predictor({"image": rows})["prediction"], expected)
