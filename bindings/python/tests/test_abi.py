"""The C contract of include/strata.h, exercised through the raw ctypes declarations: the
declarations match the header, and every documented status and post-failure state holds."""
import ctypes
import re
import threading
from ctypes import byref, c_float, c_int64, c_size_t
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import convert, needs_library
from models import SimpleNN, seeded
from strata import _lib

HEADER = Path(__file__).resolve().parents[3] / "include" / "strata.h"


# ---- the declarations match the header (no library needed) ---------------------------------
def header_functions():
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    return re.findall(r"STRATA_API\b[^;(]*?\b(strata_\w+)\s*\(", text)


def test_every_function_declared_in_header_order():
    names = header_functions()
    assert len(names) >= 18
    assert [name for name, _, _ in _lib.PROTOTYPES] == names


def test_argument_counts_match_header():
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    for name, _restype, argtypes in _lib.PROTOTYPES:
        params = re.search(rf"\b{name}\s*\(([^)]*)\)", text).group(1).strip()
        count = 0 if params == "void" else params.count(",") + 1
        assert len(argtypes) == count, name


def test_constants_match_header():
    defines = dict(re.findall(r"#define (STRATA_(?:STATUS|VERSION|ABI|FORMAT)\w*) \(?(-?\d+)\)?",
                              HEADER.read_text()))
    assert defines, "no constants parsed"
    for name, value in defines.items():
        assert getattr(_lib, name) == int(value), name
    declared = {n for n in dir(_lib) if re.fullmatch(r"STRATA_(STATUS|VERSION|ABI|FORMAT)\w*", n)}
    assert declared == set(defines)


def test_params_struct_layout():
    """The first version's fields keep their offsets (a 24-byte struct); new ones are appended."""
    assert ctypes.sizeof(_lib.strata_session_params) == 64
    assert _lib.strata_session_params.initial_batch.offset == 8
    assert _lib.strata_session_params.n_threads.offset == 16
    assert _lib.strata_session_params.memory_limit.offset == 24
    assert _lib.strata_session_params.abort_user_data.offset == 56


# ---- the library honours the contract ----------------------------------------------------------
@pytest.fixture(scope="module")
def lib():
    if _lib.find() is None:
        pytest.skip("libstrata is not built yet; build it with `make lib`")
    return _lib.load()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return convert(seeded(SimpleNN), torch.zeros(1, 784), tmp_path_factory.mktemp("abi") / "m.strata")


@pytest.fixture
def model(lib, model_file):
    handle = _lib.model_p()
    assert lib.strata_model_load_file(str(model_file).encode(), byref(handle)) == 0
    yield handle
    lib.strata_model_free(handle)


@pytest.fixture
def session(lib, model):
    handle = _lib.session_p()
    assert lib.strata_session_create(model, None, byref(handle)) == 0
    yield handle
    lib.strata_session_free(handle)


def last_error(lib):
    return lib.strata_last_error().decode()


def garbage(pointer_type):
    """A non-NULL pointer value, to check that failures reset out-parameters to NULL."""
    return ctypes.cast(ctypes.c_void_p(0x1000), pointer_type)


def test_versions(lib):
    assert lib.strata_abi_version() == _lib.STRATA_ABI_VERSION
    expected = f"{_lib.STRATA_VERSION_MAJOR}.{_lib.STRATA_VERSION_MINOR}.{_lib.STRATA_VERSION_PATCH}"
    assert lib.strata_version().decode() == expected


def test_status_strings(lib):
    strings = {code: lib.strata_status_string(code).decode() for code in _lib.STATUS_NAMES}
    assert all(strings.values())
    assert len(set(strings.values())) == len(strings), "status strings are not distinct"
    for unknown in (1, -16, -1000, 2**31 - 1, -2**31):
        assert lib.strata_status_string(unknown).decode() == "unknown status"


def test_last_error_is_empty_on_a_fresh_thread_and_thread_local(lib, tmp_path):
    seen = {}

    def fresh():
        seen["fresh"] = last_error(lib)

    thread = threading.Thread(target=fresh)
    thread.start()
    thread.join()
    assert seen["fresh"] == ""
    handle = _lib.model_p()
    assert lib.strata_model_load_file(str(tmp_path / "nope.strata").encode(), byref(handle)) \
        == _lib.STRATA_STATUS_IO_ERROR
    thread = threading.Thread(target=fresh)
    thread.start()
    thread.join()
    assert seen["fresh"] == "", "strata_last_error() leaked across threads"
    assert "nope.strata" in last_error(lib)


def test_load_null_arguments(lib, model_file):
    out = garbage(_lib.model_p)
    assert lib.strata_model_load_file(None, byref(out)) == _lib.STRATA_STATUS_NULL_POINTER
    assert not out, "*out_model not set to NULL after a failure"
    assert lib.strata_model_load_file(str(model_file).encode(), None) == _lib.STRATA_STATUS_NULL_POINTER
    out = garbage(_lib.model_p)
    assert lib.strata_model_load_memory(None, 100, byref(out)) == _lib.STRATA_STATUS_NULL_POINTER
    assert not out
    data = model_file.read_bytes()
    assert lib.strata_model_load_memory(data, len(data), None) == _lib.STRATA_STATUS_NULL_POINTER


def test_failed_load_resets_out_model(lib, tmp_path):
    out = garbage(_lib.model_p)
    status = lib.strata_model_load_file(str(tmp_path / "missing.strata").encode(), byref(out))
    assert status == _lib.STRATA_STATUS_IO_ERROR
    assert not out
    out = garbage(_lib.model_p)
    assert lib.strata_model_load_memory(b"STRATA", 6, byref(out)) == _lib.STRATA_STATUS_TRUNCATED
    assert not out


def test_load_memory_size_zero(lib):
    out = _lib.model_p()
    assert lib.strata_model_load_memory(b"", 0, byref(out)) == _lib.STRATA_STATUS_TRUNCATED
    assert not out


def test_free_accepts_null(lib):
    lib.strata_model_free(None)
    lib.strata_session_free(None)


def test_queries_on_null_model(lib):
    null = _lib.STRATA_STATUS_NULL_POINTER
    assert lib.strata_model_n_inputs(None) == null
    assert lib.strata_model_n_outputs(None) == null
    assert lib.strata_model_input_name(None, 0) is None
    assert lib.strata_model_output_name(None, 0) is None
    rank = c_size_t(99)
    dims = (c_int64 * 8)()
    assert lib.strata_model_input_shape(None, 0, dims, 8, byref(rank)) == null
    assert lib.strata_model_output_shape(None, 0, dims, 8, byref(rank)) == null
    assert lib.strata_model_metadata(None, b"producer") is None


def test_model_queries(lib, model):
    assert lib.strata_model_n_inputs(model) == 1
    assert lib.strata_model_n_outputs(model) == 1
    assert lib.strata_model_input_name(model, 0)
    assert lib.strata_model_output_name(model, 0)
    for bad in (-1, 1, 2**31 - 1):
        assert lib.strata_model_input_name(model, bad) is None
        assert str(bad) in last_error(lib) or "index" in last_error(lib).lower()
        assert lib.strata_model_output_name(model, bad) is None
    assert lib.strata_model_metadata(model, None) is None
    assert lib.strata_model_metadata(model, b"absent key") is None


@pytest.mark.parametrize("which", ["input", "output"])
def test_shape_queries(lib, model, which):
    fn = getattr(lib, f"strata_model_{which}_shape")
    expected = [-1, 784] if which == "input" else [-1, 10]
    dims = (c_int64 * 8)(*([7] * 8))
    rank = c_size_t(0)
    assert fn(model, 0, dims, 8, byref(rank)) == 0
    assert rank.value == 2 and list(dims[:2]) == expected
    # capacity < rank: BUFFER_TOO_SMALL, rank set, dims untouched
    dims = (c_int64 * 8)(*([7] * 8))
    rank = c_size_t(0)
    assert fn(model, 0, dims, 1, byref(rank)) == _lib.STRATA_STATUS_BUFFER_TOO_SMALL
    assert rank.value == 2 and list(dims) == [7] * 8
    # NULL dims with capacity 0 is the documented way to ask for the rank
    rank = c_size_t(0)
    assert fn(model, 0, None, 0, byref(rank)) == _lib.STRATA_STATUS_BUFFER_TOO_SMALL
    assert rank.value == 2
    assert fn(model, 0, None, 8, byref(rank)) == _lib.STRATA_STATUS_NULL_POINTER
    assert fn(model, 0, dims, 8, None) == _lib.STRATA_STATUS_NULL_POINTER
    for bad in (-1, 1, 1000):
        assert fn(model, bad, dims, 8, byref(rank)) == _lib.STRATA_STATUS_INVALID_ARGUMENT


def test_default_params(lib):
    params = lib.strata_session_default_params()
    assert params.size == ctypes.sizeof(_lib.strata_session_params)
    assert params.initial_batch == 1
    assert params.n_threads == 1


def test_session_create_errors(lib, model):
    def create(params, model_handle=model):
        out = garbage(_lib.session_p)
        status = lib.strata_session_create(model_handle, params, byref(out))
        if status:
            assert not out, "*out_session not NULL after a failure"
        else:
            lib.strata_session_free(out)
        return status

    assert create(None) == 0
    assert create(byref(lib.strata_session_default_params())) == 0
    assert create(None, None) == _lib.STRATA_STATUS_NULL_POINTER
    assert lib.strata_session_create(model, None, None) == _lib.STRATA_STATUS_NULL_POINTER
    for field, value in (("size", 0), ("size", 8), ("initial_batch", 0), ("initial_batch", -1),
                         ("n_threads", -1)):
        params = lib.strata_session_default_params()
        setattr(params, field, value)
        assert create(byref(params)) == _lib.STRATA_STATUS_INVALID_ARGUMENT, (field, value)
        assert field.split("_")[-1] in last_error(lib) or field in last_error(lib), last_error(lib)
    params = lib.strata_session_default_params()
    params.size = 4096  # a newer caller's bigger struct: accepted (only a too-small size is an error)
    big = (ctypes.c_char * 4096)()
    ctypes.memmove(big, byref(params), ctypes.sizeof(params))
    out = _lib.session_p()
    assert lib.strata_session_create(model, ctypes.cast(big, ctypes.POINTER(_lib.strata_session_params)),
                                     byref(out)) == 0
    lib.strata_session_free(out)


def run(lib, session, batch, input_count, output_count, input_=True, output=True):
    x = np.ones(max(input_count, 1), np.float32)
    y = np.zeros(max(output_count, 1), np.float32)
    x_p = x.ctypes.data_as(_lib.float_p) if input_ else None
    y_p = y.ctypes.data_as(_lib.float_p) if output else None
    return lib.strata_session_run(session, batch, x_p, input_count, y_p, output_count), y


def test_session_run_errors(lib, session):
    s = _lib
    assert run(lib, session, 2, 2 * 784, 2 * 10)[0] == 0
    assert run(lib, None, 2, 2 * 784, 2 * 10)[0] == s.STRATA_STATUS_NULL_POINTER
    assert run(lib, session, 2, 2 * 784, 2 * 10, input_=False)[0] == s.STRATA_STATUS_NULL_POINTER
    assert run(lib, session, 2, 2 * 784, 2 * 10, output=False)[0] == s.STRATA_STATUS_NULL_POINTER
    for batch in (0, -1, -2**63):
        assert run(lib, session, batch, 0, 0)[0] == s.STRATA_STATUS_INVALID_ARGUMENT, batch
        assert "batch" in last_error(lib)
    assert run(lib, session, 2, 2 * 784 - 1, 2 * 10)[0] == s.STRATA_STATUS_SHAPE_MISMATCH
    assert run(lib, session, 2, 2 * 784 + 1, 2 * 10)[0] == s.STRATA_STATUS_SHAPE_MISMATCH
    assert run(lib, session, 2, 2 * 784, 2 * 10 - 1)[0] == s.STRATA_STATUS_BUFFER_TOO_SMALL
    status, y = run(lib, session, 2, 2 * 784, 2 * 10 + 5)  # a bigger output buffer is fine
    assert status == 0 and np.all(y[20:] == 0)
    # batch * sample size overflows: INVALID_ARGUMENT, and nothing is allocated or read
    assert run(lib, session, 2**62, 784, 10)[0] == s.STRATA_STATUS_INVALID_ARGUMENT
    assert run(lib, session, 2**63 - 1, 784, 10)[0] == s.STRATA_STATUS_INVALID_ARGUMENT
    # the session stays usable after every failure
    status, y = run(lib, session, 3, 3 * 784, 3 * 10)
    assert status == 0 and np.all(np.isfinite(y))


def test_session_run_matches_after_growth(lib, session):
    x = np.random.default_rng(0).standard_normal((300, 784), dtype=np.float32)
    outputs = {}
    for batch in (1, 300, 1, 17):
        y = np.empty((batch, 10), np.float32)
        status = lib.strata_session_run(session, batch, x.ctypes.data_as(_lib.float_p), batch * 784,
                                        y.ctypes.data_as(_lib.float_p), batch * 10)
        assert status == 0
        outputs.setdefault(batch, []).append(y)
    assert np.array_equal(outputs[1][0], outputs[1][1])
    assert np.allclose(outputs[300][0][:17], outputs[17][0], rtol=1e-5, atol=1e-5)
