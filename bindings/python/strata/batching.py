"""Running arrays larger than one batch: fixed-size chunks, one output array, optional threads.

    import numpy as np, strata
    with strata.Model("mnist.strata") as model:
        x = np.load("images.npy", mmap_mode="r")              # (1_000_000, 1, 28, 28), on disk
        y = strata.run_batched(model, x, batch_size=1024)      # (1_000_000, 10) float32
        for chunk in strata.iter_run(model, x, batch_size=1024):
            ...                                                 # or stream, chunk by chunk

* Chunks are views (``x[i:i + batch_size]``): nothing is copied for a C-contiguous float32
  array; other dtypes and layouts are converted one chunk at a time, so a large int8 or
  memory-mapped array is never converted whole.
* ``run_batched`` writes each chunk's result straight into its rows of one preallocated
  output (``Model.run(chunk, out=rows)``), so the results are not copied either.
* ``workers > 1`` runs chunks on that many threads, each with its own ``Session`` (the library
  releases the GIL while it computes). Results are identical to ``workers=1``.
* An input with 0 rows gives an output with 0 rows (the library itself rejects batch 0).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, Optional, Union

import numpy as np

from .model import Model, Session, StrataError, _StrataValueError
from . import _lib

__all__ = ["iter_batches", "iter_run", "run_batched", "DEFAULT_BATCH_SIZE"]

#: Rows per chunk when none is given: large enough to amortize the per-call cost, small enough
#: that a chunk's activations stay in cache for MNIST-sized models.
DEFAULT_BATCH_SIZE = 1024

Runner = Union[Model, Session]


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                f"batch_size must be a positive int, not {batch_size!r}")
    return int(batch_size)


def _model_of(runner: Runner) -> Model:
    return runner.model if isinstance(runner, Session) else runner


def iter_batches(x, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[np.ndarray]:
    """Yields consecutive row chunks ``x[i:i + batch_size]`` of ``x`` (views, not copies).

    ``x`` is an ndarray (a memory map works) or anything ``np.asarray`` accepts; the last chunk
    may be shorter. Raises StrataError (INVALID_ARGUMENT, also a ValueError) for a
    ``batch_size`` < 1 or a 0-dimensional ``x``.
    """
    batch_size = _check_batch_size(batch_size)
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim == 0:
        raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                "iter_batches needs an array with a batch dimension, not a scalar")
    for start in range(0, x.shape[0], batch_size):
        yield x[start:start + batch_size]


def iter_run(runner: Runner, x, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[np.ndarray]:
    """Runs ``x`` chunk by chunk and yields each chunk's output (a new array per chunk).

    ``x`` is either one array of shape ``(N, *sample_shape)``, cut with ``iter_batches``, or an
    iterable of such arrays (e.g. a generator reading a file), each run as one batch.
    Errors are the runner's: StrataError with the status and message.
    """
    chunks: Iterable = iter_batches(x, batch_size) if isinstance(x, np.ndarray) else x
    for chunk in chunks:
        yield runner.run(chunk)


def run_batched(runner: Runner, x, batch_size: int = DEFAULT_BATCH_SIZE,
                out: Optional[np.ndarray] = None, workers: int = 1) -> np.ndarray:
    """Runs all rows of ``x`` (shape ``(N, *sample_shape)``) in chunks of ``batch_size`` rows.

    Returns ``out`` (or a new array) of shape ``(N, *output_sample_shape)``, float32.

    ``runner`` is a Model or a Session. ``out``, if given, must be a writeable C-contiguous
    float32 array of exactly that shape. ``workers`` > 1 (Model or Session) runs chunks on
    that many threads, each with a session of its own; results do not depend on it.
    Raises StrataError: SHAPE_MISMATCH when ``x`` is not ``(N, *sample_shape)``;
    INVALID_ARGUMENT for a bad ``batch_size``, ``workers`` or ``out``; any error of ``run``.
    After a failure ``out``'s contents are unspecified.
    """
    batch_size = _check_batch_size(batch_size)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                f"workers must be a positive int, not {workers!r}")
    model = _model_of(runner)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise StrataError(_lib.STRATA_STATUS_UNSUPPORTED,
                          "run_batched handles models with one input and one output")
    sample_in = model.inputs[0].sample_shape
    sample_out = model.outputs[0].sample_shape
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim != len(sample_in) + 1 or tuple(x.shape[1:]) != tuple(sample_in):
        raise _StrataValueError(
            _lib.STRATA_STATUS_SHAPE_MISMATCH,
            f"input {model.inputs[0].name!r} has shape {tuple(x.shape)}; run_batched expects "
            f"(N, {', '.join(map(str, sample_in))})")
    shape = (x.shape[0],) + tuple(sample_out)
    if out is None:
        out = np.empty(shape, np.float32)
    elif (not isinstance(out, np.ndarray) or out.dtype != np.float32 or not out.flags.c_contiguous
          or not out.flags.writeable or out.shape != shape):
        raise _StrataValueError(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                                f"out must be a writeable C-contiguous float32 ndarray of shape {shape}")
    starts = range(0, x.shape[0], batch_size)
    if workers == 1 or len(starts) <= 1:
        for start in starts:
            runner.run(x[start:start + batch_size], out=out[start:start + batch_size])
        return out

    sessions = [model.session(initial_batch=batch_size) for _ in range(min(workers, len(starts)))]
    try:
        def work(k: int) -> None:
            session = sessions[k]
            for start in starts[k::len(sessions)]:
                session.run(x[start:start + batch_size], out=out[start:start + batch_size])

        with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
            for future in [pool.submit(work, k) for k in range(len(sessions))]:
                future.result()  # re-raises the first StrataError
    finally:
        for session in sessions:
            session.close()
    return out
