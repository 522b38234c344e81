"""The Python API: description, run() shapes and dtypes, sessions, lifetime."""
import gc
import re

import numpy as np
import pytest
import torch

import strata
from helpers import assert_close_to_reference, convert, needs_library, torch_run
from models import SimpleNN, seeded, sequential

pytestmark = needs_library

LABELS = [f"digit {i}" for i in range(10)]


@pytest.fixture(scope="module")
def module():
    return seeded(sequential)


@pytest.fixture(scope="module")
def path(module, tmp_path_factory):
    return convert(module, torch.zeros(1, 1, 28, 28), tmp_path_factory.mktemp("api") / "m.strata",
                   class_labels=LABELS)


@pytest.fixture
def model(path):
    with strata.Model(path) as model:
        yield model


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(3).standard_normal((7, 1, 28, 28), dtype=np.float32)


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", strata.version())
    major, minor, patch = map(int, strata.version().split("."))
    assert (major, minor) == (strata._lib.STRATA_VERSION_MAJOR, strata._lib.STRATA_VERSION_MINOR)


def test_description(model, path):
    assert len(model.inputs) == 1 and len(model.outputs) == 1
    (inp,), (out,) = model.inputs, model.outputs
    assert isinstance(inp, strata.TensorInfo)
    assert isinstance(inp.name, str) and inp.name
    assert isinstance(out.name, str) and out.name
    assert inp.shape == (None, 1, 28, 28) and inp.sample_shape == (1, 28, 28)
    assert out.shape == (None, 10) and out.sample_shape == (10,)
    assert model.path == str(path)
    assert inp.name in repr(model)


def test_metadata(model):
    assert model.class_labels == LABELS
    assert model.metadata("class_labels") == "\n".join(LABELS)
    assert model.metadata("no such key") is None
    producer = model.metadata("producer")
    assert producer is None or isinstance(producer, str)


def test_no_class_labels(tmp_path):
    with strata.Model(convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path / "m.strata")) as model:
        assert model.class_labels is None


def test_run_batch(model, module, x):
    got = model.run(x)
    assert got.shape == (7, 10) and got.dtype == np.float32 and got.flags.c_contiguous
    assert_close_to_reference(got, torch_run(module, x))
    assert np.array_equal(model(x), got)  # __call__


def test_run_one_sample_has_no_batch_dimension(model, x):
    one = model.run(x[3])
    assert one.shape == (10,)
    assert np.array_equal(one, model.run(x[3:4])[0])


def test_out_argument(model, x):
    out = np.full((7, 10), np.nan, np.float32)
    assert model.run(x, out=out) is out
    assert np.array_equal(out, model.run(x))
    single = np.empty(10, np.float32)
    assert model.run(x[0], out=single) is single


@pytest.mark.parametrize("convert_input", [
    lambda x: x.astype(np.float64),
    lambda x: (x * 100).astype(np.int64),
    lambda x: (x * 100).astype(np.int16),
    lambda x: (x > 0),
    lambda x: x.astype(np.float16),
    lambda x: x.astype(">f4"),
    lambda x: np.asfortranarray(x),
    lambda x: np.repeat(x, 2, axis=0)[::2],
    lambda x: x.tolist(),
    lambda x: torch.from_numpy(x),
], ids=["float64", "int64", "int16", "bool", "float16", "big-endian", "fortran", "strided", "list", "tensor"])
def test_input_conversion(model, x, convert_input):
    """Other real dtypes, layouts and array-likes equal running their float32 C-order copy."""
    converted = convert_input(x)
    reference = np.ascontiguousarray(np.asarray(converted), dtype=np.float32)
    assert np.array_equal(model.run(converted), model.run(reference))


def test_read_only_input(model, x):
    frozen = x.copy()
    frozen.flags.writeable = False
    assert np.array_equal(model.run(frozen), model.run(x))
    from_bytes = np.frombuffer(x.tobytes(), np.float32).reshape(x.shape)
    assert np.array_equal(model.run(from_bytes), model.run(x))


def test_input_is_not_modified(model, x):
    before = x.copy()
    model.run(x)
    assert np.array_equal(x, before)


def test_from_bytes(path, x):
    data = path.read_bytes()
    with strata.Model(path) as from_file:
        expected = from_file.run(x)
    for image in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        with strata.Model.from_bytes(image) as model:
            assert model.path is None
            assert model.class_labels == LABELS
            assert np.array_equal(model.run(x), expected)


def test_from_bytes_copies(path, x):
    """The caller may reuse its buffer once from_bytes returns."""
    data = bytearray(path.read_bytes())
    model = strata.Model.from_bytes(data)
    expected = model.run(x)
    data[:] = bytes(len(data))
    del data
    gc.collect()
    assert np.array_equal(model.run(x), expected)
    model.close()


def test_batch_sizes_reuse_one_session(model, module):
    """The model's session grows for a larger batch and stays correct for smaller ones."""
    rng = np.random.default_rng(4)
    small = rng.standard_normal((2, 1, 28, 28), dtype=np.float32)
    first = model.run(small)
    for n in (257, 1, 64, 3):
        big = rng.standard_normal((n, 1, 28, 28), dtype=np.float32)
        assert_close_to_reference(model.run(big), torch_run(module, big), f"batch {n}")
    assert np.array_equal(model.run(small), first)


def test_session(model, x):
    expected = model.run(x)
    with model.session(initial_batch=64) as session:
        assert session.model is model
        assert np.array_equal(session.run(x), expected)
        assert np.array_equal(session(x[0]), expected[0])
    assert session.closed


def test_session_keeps_model_alive(path, x):
    model = strata.Model(path)
    expected = model.run(x)
    session = model.session()
    del model
    gc.collect()
    assert np.array_equal(session.run(x), expected)
    session.close()


def test_garbage_collection_frees(path, x):
    """Models and sessions dropped without close() are freed by __del__ (no crash, no leak of
    handles visible as errors)."""
    for _ in range(50):
        model = strata.Model(path)
        session = model.session()
        model.run(x[:1])
        session.run(x[:1])
        del model, session
    gc.collect()


def test_context_manager_closes(path):
    with strata.Model(path) as model:
        assert not model.closed
    assert model.closed
    assert "closed" in repr(model)


def test_model_from_pathlike_and_str(path):
    for p in (path, str(path), bytes(str(path), "utf-8")):
        with strata.Model(p) as model:
            assert model.outputs[0].shape == (None, 10)
