"""What a Python user takes for granted: path errors as the OSError subclasses, batch 0 as an empty
result everywhere, models that pickle (Ray and Spark ship objects by pickling)."""
import errno
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import strata
from helpers import convert, needs_library
from models import SimpleNN, seeded

pytestmark = needs_library


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path_factory.mktemp("polish") / "simple.strata")


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(3).standard_normal((5, 784), dtype=np.float32)


# ---- path errors --------------------------------------------------------------------------------
def test_missing_file_is_a_file_not_found_error(tmp_path):
    path = tmp_path / "nope.strata"
    with pytest.raises(FileNotFoundError) as info:
        strata.Model(path)
    error = info.value
    assert isinstance(error, strata.StrataError) and isinstance(error, strata.StrataFileNotFoundError)
    assert error.status_name == "IO_ERROR" and "nope.strata" in error.message
    assert error.errno == errno.ENOENT and error.filename == str(path)
    assert "nope.strata" in str(error) and "[IO_ERROR]" in str(error)


def test_dangling_symlink_is_a_file_not_found_error(tmp_path):
    link = tmp_path / "link.strata"
    link.symlink_to(tmp_path / "gone.strata")
    with pytest.raises(strata.StrataFileNotFoundError):
        strata.Model(link)


def test_directory_is_an_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        strata.Model(tmp_path)
    assert isinstance(info.value, strata.StrataIsADirectoryError) and isinstance(info.value, strata.StrataError)
    assert info.value.errno == errno.EISDIR and info.value.filename == str(tmp_path)


def test_other_load_errors_stay_plain_strata_errors(tmp_path):
    bad = tmp_path / "bad.strata"
    bad.write_bytes(b"not a model at all, just some bytes that are long enough" * 4)
    with pytest.raises(strata.StrataError) as info:
        strata.Model(bad)
    assert not isinstance(info.value, OSError)


def test_path_errors_pickle(tmp_path):
    with pytest.raises(strata.StrataFileNotFoundError) as info:
        strata.Model(tmp_path / "nope.strata")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is strata.StrataFileNotFoundError
    assert (again.status, again.message, again.filename, again.errno) == \
        (info.value.status, info.value.message, info.value.filename, errno.ENOENT)


# ---- batch 0 ------------------------------------------------------------------------------------
def test_batch_zero_is_an_empty_result_everywhere(model_path, x):
    empty = x[:0]
    with strata.Model(model_path) as model:
        assert model.run(empty).shape == (0, 10)
        assert model.run_all(empty)[model.outputs[0].name].shape == (0, 10)
        assert strata.run_batched(model, empty).shape == (0, 10)
        with model.session() as session:
            assert session.run(empty).shape == (0, 10)
            out = np.empty((0, 10), np.float32)
            assert session.run(empty, out=out) is out
        # and the model still runs afterwards
        np.testing.assert_array_equal(model.run(x), strata.run_batched(model, x, 2))


def test_batch_zero_still_checks_the_sample_shape(model_path):
    with strata.Model(model_path) as model:
        with pytest.raises(strata.StrataError) as info:
            model.run(np.zeros((0, 783), np.float32))
        assert info.value.status_name == "SHAPE_MISMATCH"


# ---- pickling -----------------------------------------------------------------------------------
def test_model_pickles_by_path(model_path, x):
    with strata.Model(model_path) as model:
        expected = model.run(x)
        data = pickle.dumps(model)
    assert len(data) < 1000  # the path, not the weights
    with pickle.loads(data) as again:
        assert again.path == str(model_path)
        np.testing.assert_array_equal(again.run(x), expected)


def test_model_pickles_by_bytes(model_path, x):
    image = model_path.read_bytes()
    for source in (image, bytearray(image), memoryview(image)):
        with strata.Model.from_bytes(source) as model:
            expected = model.run(x)
            data = pickle.dumps(model)
        assert len(data) > len(image)  # the image travels
        with pickle.loads(data) as again:
            assert again.path is None
            np.testing.assert_array_equal(again.run(x), expected)


def test_model_unpickles_in_another_process(model_path, x, tmp_path):
    with strata.Model.from_bytes(model_path.read_bytes()) as model:
        (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
        expected = model.run(x)
    np.save(tmp_path / "x.npy", x)
    code = ("import pickle, numpy as np, sys\n"
            "m = pickle.loads(open(sys.argv[1], 'rb').read())\n"
            "np.save(sys.argv[3], m.run(np.load(sys.argv[2])))\n")
    env = dict(os.environ, PYTHONPATH=str(Path(strata.__file__).parents[1]))
    subprocess.run([sys.executable, "-c", code, tmp_path / "model.pkl", tmp_path / "x.npy", tmp_path / "y.npy"],
                   check=True, timeout=120, env=env)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)


def test_closed_model_does_not_pickle(model_path):
    model = strata.Model(model_path)
    model.close()
    with pytest.raises(strata.StrataError, match="closed"):
        pickle.dumps(model)


# ---- strata_convert.save with the CLI's defaults -------------------------------------------------
STRATA_TOOL = Path(__file__).resolve().parents[3] / "build" / "bin" / "strata"


def test_save_defaults_pass_verify_self_test(tmp_path, capfd):
    """The demo's way of writing a model: save() embeds self-test samples and the payload SHA-256
    by default, as strata-convert does, so `strata verify --self-test` passes."""
    from strata_convert import torch_source
    path = tmp_path / "default.strata"
    torch_source.save(seeded(SimpleNN), torch.zeros(1, 784), path)
    progress = capfd.readouterr().err
    assert "converting the PyTorch module: done in" in progress and "self-test: 4 reference samples" in progress
    with strata.Model(path) as model:
        assert model.verify() is True  # the digest is recorded and matches
        result = model.self_test()
        assert result["n_samples"] == 4 and result["passed"], result
    if STRATA_TOOL.exists():
        done = subprocess.run([str(STRATA_TOOL), "verify", str(path), "--self-test"], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("precision", ["int8", "f16"])
def test_save_quantizes_like_the_cli(tmp_path, precision):
    from strata_convert import reader, torch_source
    path = tmp_path / f"{precision}.strata"
    module = seeded(SimpleNN)
    graph = torch_source.save(module, torch.zeros(1, 784), path, quantize=precision)
    stored = reader.read_model(path)
    quantized = {t.name: t.quantized is not None for t in stored.tensors if t.name.endswith(".weight")}
    assert quantized and all(quantized.values()), quantized
    assert "quantization" in stored.metadata, stored.metadata.keys()
    assert graph.metadata == {k: v for k, v in stored.metadata.items() if k in graph.metadata}
    with strata.Model(path) as model:
        result = model.self_test()  # the quantized file's own reference outputs
        assert result["n_samples"] == 4 and result["passed"], result
        x = np.random.default_rng(0).standard_normal((8, 784), dtype=np.float32)
        with torch.no_grad():
            expected = module(torch.from_numpy(x)).numpy()
        assert np.max(np.abs(model.run(x) - expected)) < 0.05 * max(1.0, np.abs(expected).max())


def test_save_can_still_write_a_plain_file(tmp_path):
    from strata_convert import torch_source
    path = tmp_path / "plain.strata"
    torch_source.save(seeded(SimpleNN), torch.zeros(1, 784), path, self_test=0, payload_sha256=False)
    with strata.Model(path) as model:
        assert model.verify() is False
