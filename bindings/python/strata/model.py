"""Models and sessions: thin owners of the C handles of include/strata.h.

Shapes: a ``TensorInfo.shape`` is a tuple whose first element, the batch, is ``None`` (any
size); e.g. ``(None, 1, 28, 28)``. ``TensorInfo.sample_shape`` drops it: ``(1, 28, 28)``.

``run(x)``:
  * ``x`` of shape ``(N, *sample_shape)`` with ``N >= 1`` gives ``(N, *output_sample_shape)``;
  * ``x`` of shape ``sample_shape`` (one sample, no batch dimension) gives
    ``output_sample_shape`` (no batch dimension either);
  * anything else raises ``StrataError`` (status ``SHAPE_MISMATCH``; no reshaping is guessed).
  ``x`` is used in place when it already is a C-contiguous float32 ndarray; other real
  dtypes (bool, int, float16/64) and layouts are converted (copied) first; strings, complex
  and objects raise ``StrataError`` (``INVALID_ARGUMENT``).

Threads: ``Model.run``, ``Model.run_all`` and calling a model are thread-safe: any number of
threads may call them on one ``Model`` at once and each gets exactly the single-threaded result.
The model keeps a small pool of sessions, created on demand (one per concurrent caller at most)
and freed with the model; a call takes an idle one, or makes one, and puts it back. A ``Session``
(``model.session()``) is for callers who want control (threads, memory, cancellation): it runs
one call at a time, and a second thread's concurrent call on it raises ``StrataError`` with
status ``SESSION_BUSY`` (never a wrong result); use one session per thread.

Bounded memory and cancellation: ``model.session(memory_limit=..., workspace=..., abort=...)``
bounds the session's scratch memory (bigger batches run in chunks, bit for bit the same) or puts
it in a caller's buffer, and lets a callable stop a run (``StrataError`` with status
``CANCELLED``); ``model.workspace_size(batch)`` says how many bytes a batch needs.
"""
from __future__ import annotations

import ctypes
import errno
import os
import threading
import weakref
from ctypes import byref
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # typing.Self is new in Python 3.11; annotations are not evaluated at run time
    from typing_extensions import Self

import numpy as np

from . import _lib
from .multi import run_multi
from ._lib import STATUS_NAMES, model_p, session_p

__all__ = ["BoundRun", "Model", "Session", "StrataError", "StrataFileNotFoundError", "StrataIsADirectoryError",
           "TensorInfo", "version"]

_F32 = np.dtype(np.float32)
_float_p = _lib.float_p
_c_float_from_buffer = ctypes.c_float.from_buffer


def _float_pointer(array: np.ndarray):
    """The `float *` argument for a C-contiguous float32 array. A c_float over its first element
    is the cheapest pointer ctypes takes (passed by reference automatically); it needs a
    writeable, non-empty buffer, else the slower `.ctypes` route."""
    try:
        return _c_float_from_buffer(array)
    except (TypeError, ValueError):  # read-only or empty
        return array.ctypes.data_as(_float_p)


_CONVERTIBLE_KINDS = frozenset("biuf")  # bool, signed, unsigned, floating


class StrataError(Exception):
    """A failed Strata call: ``status`` (negative int), ``status_name`` (e.g.
    ``"CHECKSUM_MISMATCH"``) and ``message`` (``strata_last_error()`` or the binding's own)."""

    def __init__(self, status: int, message: str):
        self.status = int(status)
        self.status_name = STATUS_NAMES.get(self.status, f"UNKNOWN({self.status})")
        self.message = message
        super().__init__(f"{message} [{self.status_name}]")

    def __reduce__(self):
        return (type(self), (self.status, self.message))


class _StrataValueError(StrataError, ValueError):
    """An argument error detected by the bindings (also a ValueError)."""


class _StrataTypeError(StrataError, TypeError):
    """A dtype error detected by the bindings (also a TypeError)."""


class StrataFileNotFoundError(StrataError, FileNotFoundError):
    """``Model(path)`` on a path that does not exist: a StrataError (status ``IO_ERROR``) that is
    also a FileNotFoundError, with ``errno`` ENOENT and ``filename`` set."""

    def __init__(self, status: int, message: str, filename=None):
        super().__init__(status, message)
        self.errno, self.strerror, self.filename = errno.ENOENT, message, filename

    def __str__(self) -> str:
        return f"{self.message} [{self.status_name}]"

    def __reduce__(self):
        return (type(self), (self.status, self.message, self.filename))


class StrataIsADirectoryError(StrataError, IsADirectoryError):
    """``Model(path)`` on a directory: a StrataError (status ``IO_ERROR``) that is also an
    IsADirectoryError, with ``errno`` EISDIR and ``filename`` set."""

    def __init__(self, status: int, message: str, filename=None):
        super().__init__(status, message)
        self.errno, self.strerror, self.filename = errno.EISDIR, message, filename

    __str__ = StrataFileNotFoundError.__str__
    __reduce__ = StrataFileNotFoundError.__reduce__


def _load_error(lib, status: int, path) -> StrataError:
    """The error of a failed strata_model_load_file: a missing path or a directory gets the
    matching OSError subclass, anything else a plain StrataError."""
    error = _error(lib, status)
    if status == _lib.STRATA_STATUS_IO_ERROR:
        if os.path.isdir(path):
            return StrataIsADirectoryError(status, error.message, os.fspath(path))
        if not os.path.lexists(path) or (os.path.islink(path) and not os.path.exists(path)):
            return StrataFileNotFoundError(status, error.message, os.fspath(path))
    return error


class TensorInfo(NamedTuple):
    """A graph input or output: ``name`` and ``shape``, whose batch dimension is None (dim 0,
    or another dim for e.g. a recurrent state ``(layers, None, hidden)``, format 1.5)."""

    name: str
    shape: tuple

    @property
    def batch_axis(self) -> int:
        """The index of the batch dimension in ``shape``."""
        return self.shape.index(None) if None in self.shape else 0

    @property
    def sample_shape(self) -> tuple:
        """The shape of one sample: ``shape`` without the batch dimension."""
        k = self.batch_axis
        return self.shape[:k] + self.shape[k + 1:]

    def batched_shape(self, batch: int) -> tuple:
        """``shape`` with ``batch`` in the batch dimension."""
        k = self.batch_axis
        return self.shape[:k] + (batch,) + self.shape[k + 1:]


def version() -> str:
    """The library's version, ``"MAJOR.MINOR.PATCH"`` (``strata_version()``)."""
    return _lib.load().strata_version().decode()


def _error(lib, status: int) -> StrataError:
    """The StrataError for a status just returned on this thread."""
    message = lib.strata_last_error().decode("utf-8", "replace")
    if not message:
        message = lib.strata_status_string(status).decode("utf-8", "replace")
    return StrataError(status, message)


def _closed(what: str) -> StrataError:
    return _StrataValueError(_lib.STRATA_STATUS_NULL_POINTER, f"the {what} is closed")


def _shape(fn, handle, index: int) -> tuple:
    """Calls strata_model_{input,output}_shape, growing the buffer if ever needed."""
    rank = ctypes.c_size_t(0)
    capacity = 8
    while True:
        dims = (ctypes.c_int64 * capacity)()
        status = fn(handle, index, dims, capacity, byref(rank))
        if status == _lib.STRATA_STATUS_BUFFER_TOO_SMALL and rank.value > capacity:
            capacity = rank.value
            continue
        if status:
            raise _error(_lib.load(), status)
        shape = tuple(int(d) for d in dims[: rank.value])
        return tuple(None if d == -1 else d for d in shape)


class _Runner:
    """What Model and Session share: the shapes and the run path."""

    __slots__ = ()

    # Lifecycle shared by Model and Session: both keep their C handle in `_handle` and free it
    # in an idempotent `close()`.
    @property
    def closed(self) -> bool:
        """True once close() has run."""
        return self._handle is None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _prepare(self, x):
        """Converts x to a C-contiguous float32 ndarray (a copy only when needed)."""
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except (TypeError, ValueError) as e:
                raise _StrataTypeError(
                    _lib.STRATA_STATUS_INVALID_ARGUMENT,
                    f"input {self._in_name!r}: cannot make an array of {type(x).__name__}: {e}",
                ) from None
        if x.dtype.kind not in _CONVERTIBLE_KINDS:
            raise _StrataTypeError(
                _lib.STRATA_STATUS_INVALID_ARGUMENT,
                f"input {self._in_name!r}: dtype {x.dtype} is not a real number type; "
                f"expected float32 (bool, int and float arrays are converted)",
            )
        return np.ascontiguousarray(x, dtype=_F32)

    def _shape_error(self, x) -> StrataError:
        sample = self._in_sample
        return _StrataValueError(
            _lib.STRATA_STATUS_SHAPE_MISMATCH,
            f"input {self._in_name!r} has shape {tuple(x.shape)}; the model expects "
            f"(N, {', '.join(map(str, sample))}) or one sample of shape {sample}",
        )

    def _execute_all(self, handle, inputs) -> dict:
        """Runs a model with any number of inputs and outputs (``strata.multi``)."""
        def error(status, message, kind):
            if message is None:
                return _error(self._lib_, status)
            return (_StrataTypeError if kind is TypeError else _StrataValueError)(status, message)
        return run_multi(self._lib_, handle, self._io[0], self._io[1], inputs, error)

    def _execute(self, handle, x, out):
        """Runs one batch on a session handle. See the module docstring for the shapes."""
        if self._multi:
            if out is not None:
                raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                        "out= is for models with one input and one output; "
                                        "this one returns a dict of its outputs")
            return self._execute_all(handle, x)
        if type(x) is not np.ndarray or x.dtype is not _F32 or not x.flags.c_contiguous:
            x = self._prepare(x)
        shape = x.shape
        if shape[1:] == self._in_sample and len(shape) == self._in_rank:
            batch = shape[0]
            out_shape = (batch,) + self._out_sample
        elif shape == self._in_sample:
            batch = 1
            out_shape = self._out_sample
        else:
            raise self._shape_error(x)
        if out is None:
            out = np.empty(out_shape, _F32)
        elif (type(out) is not np.ndarray or out.dtype is not _F32 or not out.flags.c_contiguous
              or not out.flags.writeable or out.shape != out_shape):
            raise _StrataValueError(
                _lib.STRATA_STATUS_INVALID_ARGUMENT,
                f"out must be a writeable C-contiguous float32 ndarray of shape {out_shape}",
            )
        if batch == 0:  # nothing to run: an empty result, as run_batched gives
            return out
        status = self._run_fn(handle, batch, _float_pointer(x), x.size, _float_pointer(out), out.size)
        if status:
            raise _error(self._lib_, status)
        return out


class Model(_Runner):
    """A loaded, validated .strata model.

    ``Model(path)`` maps the file read-only; ``Model.from_bytes(data)`` copies a bytes-like
    image. Use as a context manager or call ``close()``; a model also frees itself when
    garbage-collected. Closing a model closes every session made from it.
    """

    __slots__ = ("_handle", "_pool", "_pool_lock", "_sessions", "_lib_", "_run_fn", "_inputs",
                 "_outputs", "_in_name", "_in_sample", "_in_rank", "_out_sample", "_multi", "_io",
                 "path", "_image", "__weakref__")

    def __init__(self, path):
        self._handle = None
        self._pool = []
        self._pool_lock = threading.Lock()
        lib = _lib.load()
        handle = model_p()
        status = lib.strata_model_load_file(os.fsencode(path), byref(handle))
        if status:
            raise _load_error(lib, status, path)
        self.path = os.fspath(path)
        self._image = None
        self._init(lib, handle)

    @classmethod
    def from_bytes(cls, data) -> "Model":
        """Loads a model from a bytes-like .strata image (copied; ``data`` may go afterwards)."""
        self = cls.__new__(cls)
        self._handle = None
        self._pool = []
        self._pool_lock = threading.Lock()
        lib = _lib.load()
        try:
            buf = np.frombuffer(data, dtype=np.uint8)
        except BufferError:  # a non-contiguous buffer: copy it into one piece
            buf = np.frombuffer(memoryview(data).tobytes(), dtype=np.uint8)
        handle = model_p()
        status = lib.strata_model_load_memory(buf.ctypes.data, buf.size, byref(handle))
        if status:
            raise _error(lib, status)
        self.path = None
        # Kept for pickling: the caller's bytes object itself (no copy), else a bytes copy.
        self._image = data if type(data) is bytes else buf.tobytes()
        self._init(lib, handle)
        return self

    def __reduce__(self):
        """Pickles by path (``Model(path)``: the file must exist where it is unpickled) or by the
        image's bytes (``Model.from_bytes``); unpickling loads a new, working model."""
        self._live_handle()
        if self.path is not None:
            return (Model, (self.path,))
        return (_model_from_bytes, (self._image,))

    def _init(self, lib, handle):
        self._handle = handle
        self._lib_ = lib
        self._run_fn = lib.strata_session_run
        self._sessions = weakref.WeakSet()
        try:
            n_in = lib.strata_model_n_inputs(handle)
            n_out = lib.strata_model_n_outputs(handle)
            if n_in < 0:
                raise _error(lib, n_in)
            if n_out < 0:
                raise _error(lib, n_out)
            self._inputs = tuple(
                TensorInfo(self._name(lib.strata_model_input_name, i),
                           _shape(lib.strata_model_input_shape, handle, i))
                for i in range(n_in))
            self._outputs = tuple(
                TensorInfo(self._name(lib.strata_model_output_name, i),
                           _shape(lib.strata_model_output_shape, handle, i))
                for i in range(n_out))
        except BaseException:
            self.close()
            raise
        self._in_name = self._inputs[0].name
        self._in_sample = self._inputs[0].sample_shape
        self._in_rank = len(self._inputs[0].shape)
        self._out_sample = self._outputs[0].sample_shape
        self._io = (self._inputs, self._outputs)
        self._multi = len(self._inputs) != 1 or len(self._outputs) != 1

    def _name(self, fn, index: int) -> str:
        name = fn(self._handle, index)
        if name is None:
            raise _error(self._lib_, _lib.STRATA_STATUS_INVALID_ARGUMENT)
        return name.decode("utf-8", "replace")

    # ---- description --------------------------------------------------------------------
    @property
    def inputs(self) -> list[TensorInfo]:
        """The graph inputs; ``shape[0]`` (the batch) is None."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        """The graph outputs; ``shape[0]`` (the batch) is None."""
        return list(self._outputs)

    def metadata(self, key: str) -> str | None:
        """The metadata value stored under ``key`` (see docs/FORMAT.md), or None if absent."""
        value = self._lib_.strata_model_metadata(self._live_handle(), key.encode())
        return None if value is None else value.decode("utf-8", "replace")

    @property
    def class_labels(self) -> list[str] | None:
        """The "class_labels" metadata split on newlines, or None when the model has none."""
        value = self.metadata("class_labels")
        return None if value is None else value.split("\n")

    # ---- integrity and self-test (format 1.1) -------------------------------------------
    def self_test(self) -> dict:
        """Runs the reference samples embedded in the file (``strata_model_self_test()``) and
        returns ``{"n_samples", "n_elements", "max_abs_error", "max_error_ratio", "passed"}``.

        Raises StrataError (``UNSUPPORTED``) when the file has no self-test data. A run whose
        outputs exceed the tolerance is not an error: ``passed`` is False.
        """
        result = _lib.strata_self_test_result()
        result.size = ctypes.sizeof(result)
        status = self._lib_.strata_model_self_test(self._live_handle(), byref(result))
        if status:
            raise _error(self._lib_, status)
        return {"n_samples": result.n_samples, "n_elements": result.n_elements,
                "max_abs_error": result.max_abs_error, "max_error_ratio": result.max_error_ratio,
                "passed": bool(result.passed)}

    def verify(self) -> bool:
        """Re-checks every CRC-32 and the recorded payload SHA-256 (``strata_model_verify()``);
        returns True when a SHA-256 was recorded and matched, False when the file records none.
        Raises StrataError (``CHECKSUM_MISMATCH``) on a mismatch."""
        checked = ctypes.c_int32(0)
        status = self._lib_.strata_model_verify(self._live_handle(), byref(checked))
        if status:
            raise _error(self._lib_, status)
        return bool(checked.value)

    # ---- running ------------------------------------------------------------------------
    def run(self, x, out=None) -> np.ndarray:
        """Runs the model on ``x`` (see the module docstring for the shapes and dtypes).

        ``out``, if given, must be a writeable C-contiguous float32 array of the result's
        shape; it is filled and returned. Thread-safe: concurrent calls from any number of
        threads each get exactly the single-threaded result (each call runs on a session of the
        model's pool that no other call is using).
        """
        pool = self._pool
        try:
            handle = pool.pop()
        except IndexError:
            handle = self._new_pooled_session()
        try:
            return self._execute(handle, x, out)
        finally:
            self._return_to_pool(handle)

    __call__ = run

    def run_all(self, inputs) -> dict[str, np.ndarray]:
        """Runs the model on one array per graph input and returns every graph output.

        ``inputs`` is a dict by input name, a sequence in graph order, or one array for a
        one-input model; all share the batch dimension N (or all are single samples without
        it). Returns ``{output name: array}`` in graph order. Works for any model; ``run(x)``
        calls it for models with several inputs or outputs (``strata_session_run_multi``).
        Thread-safe, as ``run``.
        """
        pool = self._pool
        try:
            handle = pool.pop()
        except IndexError:
            handle = self._new_pooled_session()
        try:
            return self._execute_all(handle, inputs)
        finally:
            self._return_to_pool(handle)

    def session(self, initial_batch: int | None = None, n_threads: int | None = None, *,
                memory_limit: int | None = None, workspace=None, abort=None,
                stateful: bool = False) -> "Session":
        """A new Session for this model, for use by one thread at a time.

        ``memory_limit``: most bytes of scratch the session may hold; ``workspace``: a writeable
        buffer (bytearray, numpy array, ...) to hold it instead, kept alive by the session. With
        either, batches larger than fit run in chunks (outputs bitwise identical). ``abort``: a
        callable polled before each step of a run; a true result (or an exception) stops the run
        with ``StrataError`` status ``CANCELLED``. ``stateful``: keep every recurrent layer's state
        between runs, one stream per batch row (``Session.reset_state`` starts again; see
        docs/EMBEDDING.md "Streaming"). See include/strata.h.
        """
        session = Session(self, initial_batch=initial_batch, n_threads=n_threads, memory_limit=memory_limit,
                          workspace=workspace, abort=abort)
        if stateful:
            try:
                session.set_stateful(True)
            except BaseException:
                session.close()
                raise
        return session

    def workspace_size(self, batch: int, n_threads: int | None = None) -> int:
        """Bytes of scratch a session (on ``n_threads`` threads) needs to run ``batch`` samples in
        one pass: a ``memory_limit`` or ``workspace`` this large runs such batches unchunked."""
        lib = self._lib_
        params = lib.strata_session_default_params()
        if n_threads is not None:
            params.n_threads = n_threads
        size = ctypes.c_size_t(0)
        status = lib.strata_session_workspace_size(self._live_handle(), byref(params), batch, byref(size))
        if status:
            raise _error(lib, status)
        return size.value

    # The session pool of run/run_all: a list used only through its atomic pop() and append()
    # (atomic under the GIL, and per-object locked in free-threaded Python), so a call costs no
    # lock. It holds the idle sessions; a running call holds its own out of the list.
    def _new_pooled_session(self):
        with self._pool_lock:  # not while close() frees the C model
            return _create_session(self._lib_, self._live_handle(), None, None)[0]

    def _return_to_pool(self, handle):
        self._pool.append(handle)
        if self._handle is None:  # closed while this call ran: free what close() could not
            self._drain_pool()

    def _drain_pool(self):
        pool, free = self._pool, self._lib_.strata_session_free
        while True:
            try:
                handle = pool.pop()
            except IndexError:
                return
            free(handle)

    @property
    def pooled_sessions(self) -> int:
        """Sessions in the pool of ``run``/``run_all`` now (idle ones; at most the largest number
        of concurrent calls so far)."""
        return len(self._pool)

    def _live_handle(self):
        handle = self._handle
        if handle is None:
            raise _closed("model")
        return handle

    # ---- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Frees the sessions made from this model, then the model. Idempotent, and safe to
        call while other threads run the model (their calls finish or raise "closed")."""
        if self._handle is None:
            return
        with self._pool_lock:  # one closer wins; no pooled session is being made meanwhile
            handle, self._handle = self._handle, None
        if handle is None:
            return
        for session in list(getattr(self, "_sessions", ())):
            session.close()
        # Sessions a concurrent run still holds go back to the pool and are freed by that run
        # (_return_to_pool); each keeps the C model alive until then.
        self._drain_pool()
        self._lib_.strata_model_free(handle)

    def __repr__(self) -> str:
        if self._handle is None:
            return "<strata.Model closed>"
        ins = ", ".join(f"{t.name}{t.shape}" for t in self._inputs)
        outs = ", ".join(f"{t.name}{t.shape}" for t in self._outputs)
        return f"<strata.Model inputs=[{ins}] outputs=[{outs}]>"


def _abort_callback(abort):
    """The C callback for a Python ``abort`` callable: non-zero when it returns true or raises."""
    def poll(_user_data):
        try:
            return 1 if abort() else 0
        except BaseException:  # an exception cannot cross the C frames: stop the run instead
            return 1
    return _lib.strata_abort_callback(poll)


def _create_session(lib, model_handle, initial_batch, n_threads, memory_limit=None, workspace=None,
                    abort=None):
    """The session handle, plus what must stay alive as long as it: (workspace view, callback)."""
    params = None
    keep = (None, None)
    if any(v is not None for v in (initial_batch, n_threads, memory_limit, workspace, abort)):
        params = lib.strata_session_default_params()
        if initial_batch is not None:
            params.initial_batch = initial_batch
        if n_threads is not None:
            params.n_threads = n_threads
        if memory_limit is not None:
            params.memory_limit = memory_limit
        view = callback = None
        if workspace is not None:
            try:
                view = np.frombuffer(workspace, dtype=np.uint8)
            except (TypeError, ValueError, BufferError) as e:
                raise _StrataTypeError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                       f"workspace must be a contiguous buffer: {e}") from None
            if not view.flags.writeable:
                raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT, "workspace must be writeable")
            params.workspace = view.ctypes.data if view.size else None
            params.workspace_size = view.size
        if abort is not None:
            callback = _abort_callback(abort)
            params.abort_callback = callback
        keep = (view, callback)
        params = byref(params)
    handle = session_p()
    status = lib.strata_session_create(model_handle, params, byref(handle))
    if status:
        raise _error(lib, status)
    return handle, keep


def _model_from_bytes(data) -> Model:
    """Unpickles a model pickled by its image (``Model.__reduce__``)."""
    return Model.from_bytes(data)


class Session(_Runner):
    """Per-thread state for running a Model (``strata_session``); one call at a time: a
    concurrent call from another thread raises ``StrataError`` with status ``SESSION_BUSY``.

    Keeps its model alive; closing the model closes the session.
    """

    __slots__ = ("_handle", "_model", "_lib_", "_run_fn", "_in_name", "_in_sample",
                 "_in_rank", "_out_sample", "_multi", "_io", "_keep", "__weakref__")

    def __init__(self, model: Model, initial_batch: int | None = None,
                 n_threads: int | None = None, *, memory_limit: int | None = None, workspace=None,
                 abort=None):
        self._handle = None
        lib = model._lib_
        # _keep: the workspace view and abort callback, alive as long as the C session.
        self._handle, self._keep = _create_session(lib, model._live_handle(), initial_batch, n_threads,
                                                   memory_limit, workspace, abort)
        self._model = model
        self._lib_ = lib
        self._run_fn = model._run_fn
        self._in_name = model._in_name
        self._in_sample = model._in_sample
        self._in_rank = model._in_rank
        self._out_sample = model._out_sample
        self._multi = model._multi
        self._io = model._io
        model._sessions.add(self)

    @property
    def model(self) -> Model:
        return self._model

    def run(self, x, out=None) -> np.ndarray:
        """As Model.run, on this session."""
        handle = self._handle
        if handle is None:
            raise _closed("session")
        return self._execute(handle, x, out)

    __call__ = run

    def bind(self, x, out=None) -> "BoundRun":
        """Checks ``x`` and ``out`` once and returns a callable that runs this session on them.

        For a loop over the same buffers (a stream of frames): write each input into
        ``bound.input`` in place and call ``bound()``, which returns ``bound.output``. The call
        skips run()'s per-call checks and conversions (about 2-3 µs from Python). ``x`` must
        be a C-contiguous float32 ndarray (it is used as is, not copied); ``out`` one too, of the
        output shape, or None for a new one. Only for models with one input and one output.
        """
        if self._handle is None:
            raise _closed("session")
        if self._multi:
            raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                    "bind() is for models with one input and one output")
        if type(x) is not np.ndarray or x.dtype != _F32 or not x.flags.c_contiguous:
            raise _StrataTypeError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                   f"input {self._in_name!r}: bind() needs a C-contiguous float32 ndarray "
                                   f"(it runs on the array in place)")
        shape = x.shape
        if shape[1:] == self._in_sample and len(shape) == self._in_rank and shape[0] >= 1:
            batch, out_shape = shape[0], (shape[0],) + self._out_sample
        elif shape == self._in_sample:
            batch, out_shape = 1, self._out_sample
        else:
            raise self._shape_error(x)
        if out is None:
            out = np.empty(out_shape, _F32)
        elif (type(out) is not np.ndarray or out.dtype != _F32 or not out.flags.c_contiguous
              or not out.flags.writeable or out.shape != out_shape):
            raise _StrataValueError(
                _lib.STRATA_STATUS_INVALID_ARGUMENT,
                f"out must be a writeable C-contiguous float32 ndarray of shape {out_shape}",
            )
        return BoundRun(self, x, out, batch)

    def run_all(self, inputs) -> dict[str, np.ndarray]:
        """As Model.run_all, on this session."""
        handle = self._handle
        if handle is None:
            raise _closed("session")
        return self._execute_all(handle, inputs)

    def set_stateful(self, enabled: bool = True) -> None:
        """Turns held recurrent state on or off (``strata_session_set_stateful``); either forgets
        the state held so far. Raises StrataError (UNSUPPORTED: the model has no recurrent layer)."""
        self._state_call(self._lib_.strata_session_set_stateful, 1 if enabled else 0)

    def reset_state(self) -> None:
        """Starts every stream again from the initial state (``strata_session_reset_state``)."""
        self._state_call(self._lib_.strata_session_reset_state)

    @property
    def stateful(self) -> bool:
        """Whether runs continue each stream where the previous run left it."""
        handle = self._handle
        if handle is None:
            raise _closed("session")
        return self._lib_.strata_session_is_stateful(handle) == 1

    def _state_call(self, fn, *args) -> None:
        handle = self._handle
        if handle is None:
            raise _closed("session")
        status = fn(handle, *args)
        if status:
            raise _error(self._lib_, status)

    def close(self) -> None:
        """Frees the session. Idempotent."""
        handle = self._handle
        if handle is None:
            return
        self._handle = None
        self._lib_.strata_session_free(handle)


_RUN_SYMBOL = "strata_session_run"


class BoundRun:
    """A session bound to one input and one output array (``Session.bind``): ``bound()`` runs
    the session on ``bound.input`` and returns ``bound.output``. The arrays stay referenced (and
    so cannot be resized) as long as this object lives; the session must stay open."""

    __slots__ = ("_session", "_fn", "_args", "input", "output")

    def __init__(self, session: Session, x: np.ndarray, out: np.ndarray, batch: int):
        self._session = session
        # The call's arguments as ctypes objects, made once, and a function object without
        # argtypes: nothing is converted per call (0.8 µs of a 7.3 µs MNIST call). The arrays stay
        # referenced here, so their addresses stay valid.
        self._fn = session._lib_[_RUN_SYMBOL]
        self._fn.restype = ctypes.c_int32
        self._fn.argtypes = None
        self.input, self.output = x, out
        self._args = (ctypes.cast(session._handle, ctypes.c_void_p), ctypes.c_int64(batch),
                      ctypes.c_void_p(x.ctypes.data), ctypes.c_size_t(x.size),
                      ctypes.c_void_p(out.ctypes.data), ctypes.c_size_t(out.size))

    def __call__(self) -> np.ndarray:
        """Runs the session on ``input``; returns ``output``."""
        session = self._session
        if session._handle is None:
            raise _closed("session")
        status = self._fn(*self._args)
        if status:
            raise _error(session._lib_, status)
        return self.output

