"""The ctypes declaration of include/strata.h: every function, in header order, declared once.

The shared library is located (first match wins):

1. ``$STRATA_LIBRARY`` — a path to the library file; when set, nothing else is tried;
2. a copy inside this package directory (``strata/libstrata.so``), as a wheel would ship it;
3. the repository's build output relative to this file: ``<repo>/build/lib/libstrata.so``
   (``make lib``, the shipped Embedded Swift build), then ``<repo>/.build/release/libstrata.so``
   (``swift build -c release --product strata``);
4. the system search path (``ctypes.util.find_library("strata")``), e.g. after ``make install``.

The library is loaded on first use (``load()``), so ``import strata`` works without it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import POINTER, c_char_p, c_double, c_float, c_int32, c_int64, c_size_t, c_void_p
from pathlib import Path

# ---- Versions (mirror the header's macros) -------------------------------------------------
STRATA_VERSION_MAJOR = 0
STRATA_VERSION_MINOR = 2
STRATA_VERSION_PATCH = 0
STRATA_ABI_VERSION = 1
STRATA_FORMAT_VERSION_MAJOR = 1

# ---- Status codes (append-only, as in the header) ------------------------------------------
STRATA_STATUS_OK = 0
STRATA_STATUS_INVALID_ARGUMENT = -1
STRATA_STATUS_NULL_POINTER = -2
STRATA_STATUS_IO_ERROR = -3
STRATA_STATUS_TRUNCATED = -4
STRATA_STATUS_BAD_MAGIC = -5
STRATA_STATUS_UNSUPPORTED_VERSION = -6
STRATA_STATUS_CHECKSUM_MISMATCH = -7
STRATA_STATUS_MALFORMED = -8
STRATA_STATUS_UNSUPPORTED = -9
STRATA_STATUS_SHAPE_MISMATCH = -10
STRATA_STATUS_BUFFER_TOO_SMALL = -11
STRATA_STATUS_OUT_OF_MEMORY = -12
STRATA_STATUS_INTERNAL = -13
STRATA_STATUS_CANCELLED = -14
STRATA_STATUS_SESSION_BUSY = -15

#: status code -> short name without the prefix, e.g. -7 -> "CHECKSUM_MISMATCH".
STATUS_NAMES = {
    value: name[len("STRATA_STATUS_"):]
    for name, value in dict(globals()).items()
    if name.startswith("STRATA_STATUS_")
}


# ---- Types ---------------------------------------------------------------------------------
class strata_model(ctypes.Structure):
    """Opaque ``struct strata_model``; only pointers to it are used."""


class strata_session(ctypes.Structure):
    """Opaque ``struct strata_session``; only pointers to it are used."""


#: ``int32_t (*strata_abort_callback)(void *user_data)``: non-zero stops the run (CANCELLED).
strata_abort_callback = ctypes.CFUNCTYPE(c_int32, c_void_p)


class strata_session_params(ctypes.Structure):
    _fields_ = [
        ("size", c_size_t),
        ("initial_batch", c_int64),
        ("n_threads", c_int32),
        ("memory_limit", c_size_t),
        ("workspace", c_void_p),
        ("workspace_size", c_size_t),
        ("abort_callback", strata_abort_callback),
        ("abort_user_data", c_void_p),
    ]


class strata_load_params(ctypes.Structure):
    _fields_ = [
        ("size", c_size_t),
        ("verify_checksums", c_int32),
    ]


class strata_self_test_result(ctypes.Structure):
    _fields_ = [
        ("size", c_size_t),
        ("n_samples", c_int64),
        ("n_elements", c_int64),
        ("max_abs_error", ctypes.c_double),
        ("max_error_ratio", ctypes.c_double),
        ("passed", c_int32),
    ]


model_p = POINTER(strata_model)
session_p = POINTER(strata_session)
float_p = POINTER(c_float)

# (name, restype, argtypes) in the order of include/strata.h.
PROTOTYPES = (
    ("strata_version", c_char_p, ()),
    ("strata_abi_version", c_int32, ()),
    ("strata_status_string", c_char_p, (c_int32,)),
    ("strata_last_error", c_char_p, ()),
    ("strata_model_load_file", c_int32, (c_char_p, POINTER(model_p))),
    ("strata_model_load_memory", c_int32, (c_void_p, c_size_t, POINTER(model_p))),
    ("strata_model_free", None, (model_p,)),
    ("strata_model_n_inputs", c_int32, (model_p,)),
    ("strata_model_n_outputs", c_int32, (model_p,)),
    ("strata_model_input_name", c_char_p, (model_p, c_int32)),
    ("strata_model_output_name", c_char_p, (model_p, c_int32)),
    ("strata_model_input_shape", c_int32,
     (model_p, c_int32, POINTER(c_int64), c_size_t, POINTER(c_size_t))),
    ("strata_model_output_shape", c_int32,
     (model_p, c_int32, POINTER(c_int64), c_size_t, POINTER(c_size_t))),
    ("strata_model_metadata", c_char_p, (model_p, c_char_p)),
    ("strata_session_default_params", strata_session_params, ()),
    ("strata_session_create", c_int32,
     (model_p, POINTER(strata_session_params), POINTER(session_p))),
    ("strata_session_free", None, (session_p,)),
    ("strata_session_run", c_int32,
     (session_p, c_int64, float_p, c_size_t, float_p, c_size_t)),
    # Integrity, trusted loading and self-test (format 1.1)
    ("strata_load_default_params", strata_load_params, ()),
    ("strata_model_load_file_with_params", c_int32,
     (c_char_p, POINTER(strata_load_params), POINTER(model_p))),
    ("strata_model_load_memory_with_params", c_int32,
     (c_void_p, c_size_t, POINTER(strata_load_params), POINTER(model_p))),
    ("strata_model_verify", c_int32, (model_p, POINTER(c_int32))),
    ("strata_model_self_test", c_int32, (model_p, POINTER(strata_self_test_result))),
    # Profiling
    ("strata_session_set_profiling", c_int32, (session_p, c_int32)),
    ("strata_session_n_steps", c_int32, (session_p,)),
    ("strata_session_profile_step", c_int32,
     (session_p, c_int32, POINTER(c_char_p), POINTER(c_double), POINTER(c_int64))),
    # Bounded memory
    ("strata_session_workspace_size", c_int32,
     (model_p, POINTER(strata_session_params), c_int64, POINTER(c_size_t))),
    # Several inputs and outputs
    ("strata_session_run_multi", c_int32,
     (session_p, c_int64, POINTER(float_p), POINTER(c_size_t), c_size_t,
      POINTER(float_p), POINTER(c_size_t), c_size_t)),
    # Streaming (recurrent state held between runs)
    ("strata_session_set_stateful", c_int32, (session_p, c_int32)),
    ("strata_session_reset_state", c_int32, (session_p,)),
    ("strata_session_is_stateful", c_int32, (session_p,)),
)

# ---- Locating and loading ------------------------------------------------------------------
if sys.platform == "darwin":
    LIBRARY_NAME = "libstrata.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "strata.dll"
else:
    LIBRARY_NAME = "libstrata.so"

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_DIR = _PACKAGE_DIR.parents[2]  # bindings/python/strata -> repository root


def candidates() -> list[str]:
    """The paths tried, in order (see the module docstring)."""
    env = os.environ.get("STRATA_LIBRARY")
    if env:
        return [env]
    paths = [str(_PACKAGE_DIR / LIBRARY_NAME), str(_REPO_DIR / "build" / "lib" / LIBRARY_NAME),
             str(_REPO_DIR / ".build" / "release" / LIBRARY_NAME)]
    return paths


def find() -> str | None:
    """The path of the library that load() would use, or None when there is none."""
    paths = candidates()
    for path in paths:
        if os.path.isfile(path):
            return path
    if not os.environ.get("STRATA_LIBRARY"):
        return ctypes.util.find_library("strata")
    return None


_lib: ctypes.CDLL | None = None
_lib_path: str | None = None
_load_lock = threading.Lock()


def load() -> ctypes.CDLL:
    """Loads the library once, declares every function and checks the ABI version."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _load_lock:
        if _lib is not None:
            return _lib
        path = find()
        if path is None:
            raise OSError(
                f"strata: {LIBRARY_NAME} not found; tried {', '.join(candidates())}"
                + ("" if os.environ.get("STRATA_LIBRARY") else " and the system library path")
                + ". Build it with `make lib` "
                  "or set STRATA_LIBRARY to its path."
            )
        lib = ctypes.CDLL(path)
        for name, restype, argtypes in PROTOTYPES:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        abi = lib.strata_abi_version()
        if abi != STRATA_ABI_VERSION:
            raise OSError(
                f"strata: {path} has ABI version {abi}, these bindings need {STRATA_ABI_VERSION}"
            )
        _lib, _lib_path = lib, path
        return lib


def path() -> str:
    """The path of the loaded library (loading it if needed)."""
    load()
    assert _lib_path is not None
    return _lib_path
