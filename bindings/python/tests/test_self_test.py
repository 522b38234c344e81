"""The format 1.1 C functions through the bindings: strata_model_self_test (Model.self_test),
strata_model_verify (Model.verify), strata_model_load_*_with_params, and the malformed fixture
files of Tests/Fixtures/malformed loaded through the C ABI (status and message per MANIFEST.tsv)."""
import ctypes
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import strata
from strata import _lib
from strata_convert import selftest, torch_source
from strata_convert.reader import read_sections

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "Tests" / "Fixtures" / "malformed"


def _mlp():
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 5), torch.nn.LogSoftmax(dim=-1)).eval()


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    path = tmp_path_factory.mktemp("selftest") / "mlp.strata"
    torch_source.save(_mlp(), torch.zeros(1, 3, 4), str(path), self_test=6, payload_sha256=True)
    return path


def test_self_test_passes_on_this_machine(converted):
    with strata.Model(converted) as model:
        r = model.self_test()
    assert r["n_samples"] == 6 and r["n_elements"] == 6 * 5
    assert r["passed"] and r["max_error_ratio"] <= 1.0
    assert 0.0 <= r["max_abs_error"] < 1e-4


def test_self_test_detects_a_wrong_reference(converted):
    data = bytearray(converted.read_bytes())
    table = {s.kind: s for s in read_sections(bytes(data))}
    st = table[5]
    struct.pack_into("<f", data, st.offset + st.size - 4, 3.0)  # last reference output: 3.0 (log-probs are ≤ 0)
    params = _lib.load().strata_load_default_params()
    params.verify_checksums = 0  # the edited section's CRC no longer matches
    model = _load_memory(bytes(data), params)
    try:
        result = _lib.strata_self_test_result(size=ctypes.sizeof(_lib.strata_self_test_result))
        assert _lib.load().strata_model_self_test(model, ctypes.byref(result)) == _lib.STRATA_STATUS_OK
        assert result.passed == 0 and result.max_abs_error > 3.0
        checked = ctypes.c_int32(-1)
        assert _lib.load().strata_model_verify(model, ctypes.byref(checked)) == _lib.STRATA_STATUS_CHECKSUM_MISMATCH
        assert b"section 4 (SELFTEST) checksum mismatch" in _lib.load().strata_last_error()
        assert checked.value == -1, "untouched on failure"
    finally:
        _lib.load().strata_model_free(model)


def _load_memory(data, params):
    lib = _lib.load()
    buf = ctypes.create_string_buffer(data, len(data))
    model = _lib.model_p()
    status = lib.strata_model_load_memory_with_params(buf, len(data), ctypes.byref(params), ctypes.byref(model))
    assert status == _lib.STRATA_STATUS_OK, lib.strata_last_error()
    return model


def test_a_file_without_self_test_data_is_unsupported(tmp_path):
    path = tmp_path / "plain.strata"
    torch_source.save(_mlp(), torch.zeros(1, 3, 4), str(path), self_test=0, payload_sha256=False)
    with strata.Model(path) as model:
        with pytest.raises(strata.StrataError) as e:
            model.self_test()
        assert e.value.status_name == "UNSUPPORTED" and "no self-test data" in e.value.message
        assert model.verify() is False  # CRCs fine, no digest recorded


def test_verify_checks_the_recorded_digest(converted):
    with strata.Model(converted) as model:
        assert model.verify() is True


def test_load_params_skip_crcs_and_reject_bad_params(converted):
    lib = _lib.load()
    data = bytearray(converted.read_bytes())
    table = {s.kind: s for s in read_sections(bytes(data))}
    data[table[4].offset] ^= 1  # a weight bit: DATA's CRC fails
    params = lib.strata_load_default_params()
    assert params.size == ctypes.sizeof(_lib.strata_load_params) and params.verify_checksums == 1
    model = _lib.model_p()
    buf = ctypes.create_string_buffer(bytes(data), len(data))
    assert lib.strata_model_load_memory_with_params(buf, len(data), ctypes.byref(params), ctypes.byref(model)) \
        == _lib.STRATA_STATUS_CHECKSUM_MISMATCH and not model
    assert lib.strata_model_load_memory_with_params(buf, len(data), None, ctypes.byref(model)) \
        == _lib.STRATA_STATUS_CHECKSUM_MISMATCH
    params.verify_checksums = 0
    model = _load_memory(bytes(data), params)
    lib.strata_model_free(model)
    params.verify_checksums = 2
    assert lib.strata_model_load_memory_with_params(buf, len(data), ctypes.byref(params), ctypes.byref(model)) \
        == _lib.STRATA_STATUS_INVALID_ARGUMENT
    assert b"verify_checksums is 2" in lib.strata_last_error()
    params.verify_checksums, params.size = 1, 4
    assert lib.strata_model_load_file_with_params(str(converted).encode(), ctypes.byref(params), ctypes.byref(model)) \
        == _lib.STRATA_STATUS_INVALID_ARGUMENT
    assert lib.strata_model_load_file_with_params(None, None, ctypes.byref(model)) == _lib.STRATA_STATUS_NULL_POINTER
    assert lib.strata_model_load_file_with_params(str(converted).encode(), None, ctypes.byref(model)) == 0
    lib.strata_model_free(model)


def test_self_test_argument_errors(converted):
    lib = _lib.load()
    assert lib.strata_model_self_test(None, None) == _lib.STRATA_STATUS_NULL_POINTER
    with strata.Model(converted) as model:
        small = _lib.strata_self_test_result(size=8)
        assert lib.strata_model_self_test(model._handle, ctypes.byref(small)) == _lib.STRATA_STATUS_INVALID_ARGUMENT
        assert small.n_samples == 0, "untouched on failure"
        assert lib.strata_model_self_test(model._handle, None) == _lib.STRATA_STATUS_NULL_POINTER
    assert lib.strata_model_verify(None, None) == _lib.STRATA_STATUS_NULL_POINTER


def test_selftest_section_parses_like_the_swift_reader(converted):
    from strata_convert.reader import parse
    data = converted.read_bytes()
    graph = parse(data)
    s = {x.kind: x for x in read_sections(data)}[5]
    st = selftest.parse(data[s.offset:s.offset + s.size], graph)
    assert st.n_samples == 6 and st.outputs[0].shape == (6, 5)
    np.testing.assert_allclose(st.outputs[0], _mlp()(torch.from_numpy(st.inputs[0])).detach().numpy(), atol=1e-6)


def _manifest():
    rows = []
    for line in (FIXTURES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@pytest.mark.parametrize("file, layer, status, fragment, sha", _manifest(), ids=lambda v: v if str(v).endswith(".strata") else "")
def test_fixture_file_is_rejected_through_the_c_abi(file, layer, status, fragment, sha):
    with pytest.raises(strata.StrataError) as e:
        strata.Model(FIXTURES / file)
    if file.endswith("-empty-file.strata"):
        fragment = "is empty (0 bytes)"
    assert e.value.status_name == status, e.value.message
    assert fragment in e.value.message


# ---- `strata verify` (build/bin/strata, or $STRATA_CLI) --------------------------------------
import os  # noqa: E402
import subprocess  # noqa: E402

STRATA_CLI = Path(os.environ.get("STRATA_CLI", ROOT / "build" / "bin" / "strata"))
needs_cli = pytest.mark.skipif(not STRATA_CLI.exists(), reason="build/bin/strata is not built (run `make cli`)")


def _verify(*args):
    return subprocess.run([str(STRATA_CLI), "verify", *map(str, args)], capture_output=True, text=True)


@needs_cli
def test_cli_verify_prints_each_check(converted):
    done = _verify(converted, "--self-test")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "format 1.1" in out and "crc32:      header ok" in out
    assert "section 4 SELFTEST (optional)" in out
    assert "sha256:     " in out and " ok" in out.split("sha256:")[1].splitlines()[0]
    assert "6 reference samples" in out and "PASS" in out and out.rstrip().endswith("verified")


@needs_cli
def test_cli_verify_fails_on_a_forged_payload(converted, tmp_path):
    from strata_convert.writer import assemble
    data = converted.read_bytes()
    secs = [(s.kind, s.flags, bytearray(data[s.offset:s.offset + s.size])) for s in read_sections(data)]
    secs[3][2][0] ^= 1  # a weight bit, with every CRC recomputed by assemble(): only the digest notices
    forged = tmp_path / "forged.strata"
    forged.write_bytes(assemble([(k, f, bytes(b)) for k, f, b in secs], minor=1))
    done = _verify(forged)
    assert done.returncode == 1
    assert "payload SHA-256 mismatch" in done.stdout and "[CHECKSUM_MISMATCH]" in done.stdout
    no_crc = _verify(forged, "--no-crc")
    assert no_crc.returncode == 1 and "crc32:      skipped (--no-crc)" in no_crc.stdout


@needs_cli
def test_cli_verify_usage_errors(converted):
    assert _verify(converted, "--bogus").returncode == 2
    missing = _verify(ROOT / "no-such-file.strata")
    assert missing.returncode == 1 and "IO_ERROR" in missing.stdout
