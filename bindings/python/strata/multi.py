"""Running models with several graph inputs or outputs (``strata_session_run_multi``).

``run_all(inputs)`` takes one array per graph input — a dict by input name, a sequence in graph
order, or a single array when the model has one input — and returns a dict of every graph
output by name, in graph order. Every input carries the same batch ``N`` as its first
dimension; or, when every input has its sample shape (no batch dimension), one sample is run
and the outputs come back without a batch dimension either.
"""
from __future__ import annotations

import ctypes
from typing import Mapping, Sequence

import numpy as np

from . import _lib

_F32 = np.dtype(np.float32)


def _as_f32(x, name: str, error) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as e:
            raise error(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                        f"input {name!r}: cannot make an array of {type(x).__name__}: {e}", TypeError) from None
    if x.dtype.kind not in "biuf":
        raise error(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                    f"input {name!r}: dtype {x.dtype} is not a real number type; expected float32", TypeError)
    return np.ascontiguousarray(x, dtype=_F32)


def _by_position(inputs, infos, error) -> list:
    names = [t.name for t in infos]
    if isinstance(inputs, Mapping):
        unknown = [k for k in inputs if k not in names]
        missing = [n for n in names if n not in inputs]
        if unknown or missing:
            raise error(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                        f"inputs by name: the model's inputs are {names}"
                        + (f"; unknown {unknown}" if unknown else "") + (f"; missing {missing}" if missing else ""),
                        ValueError)
        return [inputs[n] for n in names]
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, Sequence):
        inputs = [inputs]
    if len(inputs) != len(names):
        raise error(_lib.STRATA_STATUS_INVALID_ARGUMENT,
                    f"got {len(inputs)} input array(s); the model has {len(names)}: {names}", ValueError)
    return list(inputs)


def run_multi(lib, handle, in_infos, out_infos, inputs, error) -> dict:
    """Checks and converts ``inputs``, runs, and returns ``{output name: array}``.

    ``error(status, message, kind)`` builds the StrataError subclass the binding raises.
    """
    arrays = [_as_f32(x, t.name, error) for x, t in zip(_by_position(inputs, in_infos, error), in_infos)]
    unbatched = all(a.shape == t.sample_shape for a, t in zip(arrays, in_infos))
    if unbatched:
        batch = 1
    else:
        first = in_infos[0].batch_axis
        batch = arrays[0].shape[first] if arrays[0].ndim > first else -1
        for a, t in zip(arrays, in_infos):
            if a.ndim != len(t.shape) or a.shape != t.batched_shape(batch):
                expected = ", ".join("N" if d is None else str(d) for d in t.shape)
                raise error(_lib.STRATA_STATUS_SHAPE_MISMATCH,
                            f"input {t.name!r} has shape {tuple(a.shape)}; the model expects "
                            f"({expected}) with the same N for every input, "
                            f"or one sample of shape {t.sample_shape} for every input", ValueError)
    outs = [np.empty(t.sample_shape if unbatched else t.batched_shape(batch), _F32) for t in out_infos]
    if batch == 0:  # nothing to run: empty outputs, as run() and run_batched give
        return {t.name: o for t, o in zip(out_infos, outs)}
    n_in, n_out = len(arrays), len(outs)
    in_ptrs = (_lib.float_p * n_in)(*[a.ctypes.data_as(_lib.float_p) for a in arrays])
    in_counts = (ctypes.c_size_t * n_in)(*[a.size for a in arrays])
    out_ptrs = (_lib.float_p * n_out)(*[o.ctypes.data_as(_lib.float_p) for o in outs])
    out_counts = (ctypes.c_size_t * n_out)(*[o.size for o in outs])
    status = lib.strata_session_run_multi(handle, batch, in_ptrs, in_counts, n_in, out_ptrs, out_counts, n_out)
    if status:
        raise error(status, None, None)
    return {t.name: o for t, o in zip(out_infos, outs)}
