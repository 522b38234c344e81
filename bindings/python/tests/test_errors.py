"""Bad input: every failure is a StrataError with the specific status and a message naming the
problem — never a crash."""
import struct

import numpy as np
import pytest
import torch

import strata
from helpers import (convert, data_section_offset, flip_byte, needs_library, with_header_field)
from models import LogisticRegression, SimpleNN, seeded

pytestmark = needs_library


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path_factory.mktemp("err") / "simple.strata")


@pytest.fixture(scope="module")
def model_bytes(model_path):
    return model_path.read_bytes()


@pytest.fixture(params=["file", "memory"])
def load(request, tmp_path):
    """Loads bytes through Model(path) or Model.from_bytes; returns (loader, name in message)."""
    def from_file(data):
        path = tmp_path / "bad.strata"
        path.write_bytes(data)
        return strata.Model(path)
    return from_file if request.param == "file" else strata.Model.from_bytes


def raises(status_name, *substrings):
    """Context manager: a StrataError with status_name whose message contains every substring
    (case-insensitive; a tuple means any one of its members)."""
    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(strata.StrataError)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self._ctx.__exit__(*exc)
            error = self.info.value
            assert error.status_name == status_name, f"{error.status_name}: {error.message}"
            assert error.status == getattr(strata._lib, "STRATA_STATUS_" + status_name)
            assert error.message, "empty message"
            message = error.message.lower()
            for wanted in substrings:
                options = wanted if isinstance(wanted, tuple) else (wanted,)
                assert any(o.lower() in message for o in options), \
                    f"message {error.message!r} names none of {options}"
            return handled
    return _Check()


# ---- loading ---------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "does-not-exist.strata"
    with raises("IO_ERROR", "does-not-exist.strata"):
        strata.Model(path)


def test_directory_instead_of_file(tmp_path):
    with raises("IO_ERROR", str(tmp_path)):
        strata.Model(tmp_path)


def test_empty_file(load):
    with raises("TRUNCATED", ("trunc", "short", "ends", "bytes", "size")):
        load(b"")


@pytest.mark.parametrize("keep", [10, 63, 0.5, -1], ids=["10B", "63B", "half", "all-but-1"])
def test_truncated(load, model_bytes, keep):
    end = int(len(model_bytes) * keep) if isinstance(keep, float) else keep % len(model_bytes)
    with raises("TRUNCATED", ("trunc", "short", "ends", "bytes", "size")):
        load(model_bytes[:end])


def test_corrupted_weight_byte(load, model_bytes):
    """One flipped byte inside the first weight tensor: the DATA section's CRC catches it."""
    corrupted = flip_byte(model_bytes, data_section_offset(model_bytes) + 5)
    with raises("CHECKSUM_MISMATCH", ("checksum", "crc")):
        load(corrupted)


def test_corrupted_header_crc(load, model_bytes):
    with raises("CHECKSUM_MISMATCH", ("checksum", "crc")):
        load(flip_byte(model_bytes, 61))


def test_corrupted_section_table(load, model_bytes):
    """A flipped byte in a section's stored CRC (the table is covered by no CRC of its own)."""
    table = struct.unpack_from("<Q", model_bytes, 32)[0]
    with raises("CHECKSUM_MISMATCH", ("checksum", "crc")):
        load(flip_byte(model_bytes, table + 24))


@pytest.mark.parametrize("fix_crc", [True, False], ids=["crc-fixed", "crc-stale"])
def test_wrong_magic(load, model_bytes, fix_crc):
    with raises("BAD_MAGIC", "magic"):
        load(with_header_field(model_bytes, 0, b"STRATX\0\0", fix_crc))


def test_not_a_model(load):
    """Some other file (here text) is 'not a .strata file', not a checksum error."""
    with raises("BAD_MAGIC", "magic"):
        load(b"this is a plain text file, long enough to hold a whole header: " * 4)


@pytest.mark.parametrize("major", [2, 0, 0xFFFF])
def test_unsupported_version(load, model_bytes, major):
    with raises("UNSUPPORTED_VERSION", "version", str(major)):
        load(with_header_field(model_bytes, 8, struct.pack("<H", major)))


def test_newer_minor_version_loads(load, model_bytes):
    """A reader accepts any minor version of its major (docs/FORMAT.md)."""
    with load(with_header_field(model_bytes, 10, struct.pack("<H", 7))) as model:
        assert model.run(np.zeros((1, 784), np.float32)).shape == (1, 10)


def test_trailing_bytes(load, model_bytes):
    """file_size != actual length (a longer file) is MALFORMED."""
    with raises("MALFORMED"):
        load(model_bytes + b"\0" * 64)


def test_valid_bytes_load(load, model_bytes):
    with load(model_bytes) as model:
        assert model.outputs[0].shape == (None, 10)


# ---- running ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model(model_path):
    with strata.Model(model_path) as model:
        yield model


@pytest.mark.parametrize("shape", [(3, 783), (3, 28, 28), (3, 1, 28, 28), (784, 1), (10,), ()],
                         ids=str)
def test_wrong_input_shape(model, shape):
    with raises("SHAPE_MISMATCH", "784", str(tuple(shape))):
        model.run(np.zeros(shape, np.float32))


def test_wrong_input_shape_is_a_value_error(model):
    with pytest.raises(ValueError):
        model.run(np.zeros((2, 3), np.float32))


def test_zero_size_batch_is_an_empty_result(model):
    assert model.run(np.zeros((0, 784), np.float32)).shape == (0, 10)  # as run_batched gives


@pytest.mark.parametrize("x", [
    np.array([["a"] * 784]),
    np.zeros((2, 784), np.complex64),
    np.zeros((2, 784), object),
    np.zeros((2, 784), "datetime64[s]"),
    [["x"] * 784],
], ids=["str", "complex", "object", "datetime", "list-of-str"])
def test_non_numeric_dtype(model, x):
    with raises("INVALID_ARGUMENT", "dtype", "float32"):
        model.run(x)


def test_ragged_list(model):
    with raises("INVALID_ARGUMENT"):
        model.run([[1.0] * 784, [2.0]])


@pytest.mark.parametrize("out", [
    np.empty((2, 10), np.float64),
    np.empty((2, 11), np.float32),
    np.empty((3, 10), np.float32),
    np.empty((10, 2), np.float32).T,
], ids=["f64", "short", "long", "transposed"])
def test_bad_out_array(model, out):
    with raises("INVALID_ARGUMENT", "out"):
        model.run(np.zeros((2, 784), np.float32), out=out)


def test_read_only_out_array(model):
    out = np.empty((2, 10), np.float32)
    out.flags.writeable = False
    with raises("INVALID_ARGUMENT", "out"):
        model.run(np.zeros((2, 784), np.float32), out=out)


# ---- closed objects --------------------------------------------------------------------------
def test_closed_model(model_path):
    model = strata.Model(model_path)
    model.run(np.zeros((1, 784), np.float32))
    model.close()
    model.close()  # idempotent
    assert model.closed
    for call in (lambda: model.run(np.zeros((1, 784), np.float32)),
                 lambda: model.metadata("producer"),
                 lambda: model.class_labels,
                 lambda: model.session()):
        with raises("NULL_POINTER", "closed"):
            call()
    with pytest.raises(ValueError):
        model.run(np.zeros((1, 784), np.float32))


def test_closed_model_closes_its_sessions(model_path):
    model = strata.Model(model_path)
    session = model.session()
    session.run(np.zeros((1, 784), np.float32))
    model.close()
    assert session.closed
    with raises("NULL_POINTER", "closed"):
        session.run(np.zeros((1, 784), np.float32))


def test_closed_session(model_path):
    with strata.Model(model_path) as model:
        with model.session() as session:
            pass
        with raises("NULL_POINTER", "closed"):
            session.run(np.zeros((1, 784), np.float32))
        assert model.run(np.zeros((1, 784), np.float32)).shape == (1, 10)


@pytest.mark.parametrize("kwargs", [dict(initial_batch=0), dict(initial_batch=-5), dict(n_threads=-1)],
                         ids=str)
def test_bad_session_params(model, kwargs):
    with raises("INVALID_ARGUMENT", tuple(kwargs)):
        model.session(**kwargs)


def test_error_attributes(tmp_path):
    with pytest.raises(strata.StrataError) as info:
        strata.Model(tmp_path / "missing.strata")
    error = info.value
    assert isinstance(error.status, int) and error.status < 0
    assert error.status_name in str(error)
    assert error.message in str(error)


def test_error_is_picklable(tmp_path):
    import pickle
    with pytest.raises(strata.StrataError) as info:
        strata.Model(tmp_path / "missing.strata")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.status, copy.status_name, copy.message) == \
        (info.value.status, info.value.status_name, info.value.message)


FUZZ_SCRIPT = """
import sys, collections
import numpy as np
import strata
from surgery import mutations
data = open(sys.argv[1], "rb").read()
seen = collections.Counter()
for image in mutations(data, int(sys.argv[2]), int(sys.argv[3])):
    try:
        with strata.Model.from_bytes(image) as model:
            model.run(np.ones((3,) + model.inputs[0].sample_shape, np.float32))
            seen["OK"] += 1
    except strata.StrataError as e:
        assert e.message, e.status_name
        seen[e.status_name] += 1
print(dict(seen))
"""


@pytest.fixture(scope="module")
def small_model_path(tmp_path_factory):
    """Every op family in a few hundred bytes: Flatten, Linear, Relu, Tanh, Add, Softmax."""
    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(16, 8)
            self.fc2 = torch.nn.Linear(8, 8)
            self.fc3 = torch.nn.Linear(8, 4)

        def forward(self, x):
            h = torch.relu(self.fc1(torch.flatten(x, 1)))
            h = h + torch.tanh(self.fc2(h))
            return torch.softmax(self.fc3(h), dim=1)
    return convert(seeded(Small), torch.zeros(1, 2, 8), tmp_path_factory.mktemp("fuzz") / "small.strata")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_files_never_crash(small_model_path, seed):
    """Nothing a caller passes can crash the process: mutated files (with CRCs fixed up) load
    and run, or fail with a StrataError. Runs in a subprocess so a crash is a clean failure."""
    import os, subprocess, sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", FUZZ_SCRIPT, str(small_model_path), str(seed), "4000"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"seed {seed}: exit {result.returncode}\n{result.stderr[-2000:]}"
    assert "MALFORMED" in result.stdout, result.stdout
