"""Self-test data (docs/FORMAT.md, "SELFTEST section", format 1.1): a few reference inputs and
the outputs the source framework computed for them, stored in the file so that
`strata_model_self_test()` / `strata verify --self-test` can prove on the target machine that
conversion and runtime agree.

    u32 n_samples (1 … 1024)   u32 n_inputs   u32 n_outputs   u32 reserved (0)
    f32 atol   f32 rtol        (finite, ≥ 0; pass when |y - ref| ≤ atol + rtol·|ref|)
    per graph input, then per graph output: n_samples × elements-per-sample f32, all finite
"""
import math
import struct
from dataclasses import dataclass

import numpy as np

from .errors import ConversionError, FormatError

__all__ = ["SelfTest", "from_module", "parse", "MAX_SAMPLES", "DEFAULT_SAMPLES"]

MAX_SAMPLES = 1024
DEFAULT_SAMPLES = 4
#: Default tolerance: atol = ATOL_SCALE × max(1, max |reference output|), rtol = RTOL.
ATOL_SCALE = 1e-4
RTOL = 1e-4


def _per_sample(info) -> int:
    return math.prod(d for d in info.dims if d != -1)


def _shape(info, n) -> tuple:
    """The shape of `n` samples of a graph input or output as the caller holds them: the batch
    (-1) in its dim (format 1.5: not always dim 0). Self-test arrays are stored in this layout."""
    return tuple(n if d == -1 else d for d in info.dims)


@dataclass(eq=False)
class SelfTest:
    """Reference inputs and outputs, one float32 array (n_samples, *sample shape) per graph value."""

    inputs: list
    outputs: list
    atol: float
    rtol: float

    @property
    def n_samples(self) -> int:
        """The number of reference samples."""
        return int(self.inputs[0].shape[0])

    def serialize(self, graph) -> bytes:
        """The SELFTEST section body for `graph`; raises ConversionError when shapes disagree or a
        value is not finite."""
        n = self.n_samples
        if not 1 <= n <= MAX_SAMPLES:
            raise ConversionError(f"self-test: {n} samples; 1 … {MAX_SAMPLES} can be stored")
        if len(self.inputs) != len(graph.inputs) or len(self.outputs) != len(graph.outputs):
            raise ConversionError(f"self-test: {len(self.inputs)} inputs and {len(self.outputs)} outputs for a graph with "
                                  f"{len(graph.inputs)} and {len(graph.outputs)}")
        if not (math.isfinite(self.atol) and math.isfinite(self.rtol) and self.atol >= 0 and self.rtol >= 0):
            raise ConversionError(f"self-test: tolerances must be finite and ≥ 0, got atol {self.atol}, rtol {self.rtol}")
        out = struct.pack("<IIIIff", n, len(self.inputs), len(self.outputs), 0, self.atol, self.rtol)
        for array, info in zip(self.inputs + self.outputs, graph.inputs + graph.outputs):
            a = np.ascontiguousarray(array, dtype="<f4")
            if a.size != n * _per_sample(info):
                raise ConversionError(f"self-test: '{info.name}' has {a.size} values; {n} samples of {info.dims} need "
                                      f"{n * _per_sample(info)}")
            if not np.isfinite(a).all():
                raise ConversionError(f"self-test: '{info.name}' has values that are not finite (NaN or infinity); "
                                      "they cannot serve as a reference")
            out += a.tobytes()
        return out


def parse(body: bytes, graph) -> SelfTest:
    """Validate a SELFTEST section body against `graph` as the Swift reader does; raises
    FormatError("MALFORMED") naming the broken rule."""
    def bad(message):
        return FormatError("MALFORMED", f"section SELFTEST: {message}")
    if len(body) < 24:
        raise bad(f"is {len(body)} bytes, shorter than its 24-byte header")
    n, n_in, n_out, reserved, atol, rtol = struct.unpack_from("<IIIIff", body)
    if not 1 <= n <= MAX_SAMPLES:
        raise bad(f"sample count is {n}, expected 1 … {MAX_SAMPLES}")
    if (n_in, n_out) != (len(graph.inputs), len(graph.outputs)):
        raise bad(f"has {n_in} inputs and {n_out} outputs; the graph has {len(graph.inputs)} and {len(graph.outputs)}")
    if reserved:
        raise bad("reserved field is not zero")
    if not (math.isfinite(atol) and math.isfinite(rtol) and atol >= 0 and rtol >= 0):
        raise bad(f"tolerances must be finite and ≥ 0, got {atol}, {rtol}")
    pos, arrays = 24, []
    for info in graph.inputs + graph.outputs:
        count = n * _per_sample(info)
        if count * 4 > len(body) - pos:
            raise bad(f"ends inside the values of '{info.name}'")
        a = np.frombuffer(body, "<f4", count, pos).reshape(_shape(info, n)).astype(np.float32)
        if not np.isfinite(a).all():
            raise bad(f"values of '{info.name}' are not all finite")
        arrays.append(a)
        pos += count * 4
    if pos != len(body):
        raise bad(f"has {len(body) - pos} unexpected bytes after its content")
    k = len(graph.inputs)
    return SelfTest(arrays[:k], arrays[k:], float(atol), float(rtol))


def sample_inputs(graph, example_input=None, n=DEFAULT_SAMPLES, seed=0) -> list:
    """n reference samples per graph input: the samples of `example_input` (a tensor or array,
    or a tuple of them) first, then standard-normal samples from a fixed seed (so the same model
    gives the same file)."""
    examples = example_input if isinstance(example_input, (tuple, list)) else [example_input]
    rng = np.random.default_rng(seed)
    out = []
    for k, info in enumerate(graph.inputs):
        axis = list(info.dims).index(-1)
        shape = tuple(d for d in info.dims if d != -1)
        given = examples[k] if k < len(examples) and examples[k] is not None else None
        rows = []
        if given is not None:
            g = np.asarray(given.detach().cpu().numpy() if hasattr(given, "detach") else given, dtype=np.float32)
            if g.ndim == len(info.dims):
                g = np.moveaxis(g, axis, 0)
            g = g.reshape((-1, *shape)) if g.size % max(1, math.prod(shape)) == 0 else g[:0].reshape((0, *shape))
            rows = list(g[:n])
        while len(rows) < n:
            rows.append(rng.standard_normal(shape).astype(np.float32))
        out.append(np.ascontiguousarray(np.moveaxis(np.stack(rows).astype(np.float32), 0, axis)))
    return out


def from_module(module, graph, example_input=None, n=DEFAULT_SAMPLES, seed=0, atol=None, rtol=RTOL) -> SelfTest:
    """Run PyTorch `module` (in eval mode, without gradients) on `n` reference samples and keep
    its outputs as the reference. atol defaults to ATOL_SCALE × max(1, max |output|)."""
    import torch
    if not 1 <= n <= MAX_SAMPLES:
        raise ConversionError(f"--self-test {n}: the number of samples must be 1 … {MAX_SAMPLES} (0 disables)")
    inputs = sample_inputs(graph, example_input, n, seed)
    dtype = next((p.dtype for p in module.parameters()), torch.float32)
    was_training = getattr(module, "training", False)
    module.eval()
    try:
        with torch.no_grad():
            ys = module(*[torch.from_numpy(x).to(dtype) for x in inputs])
    finally:
        module.train(was_training)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    outputs = [y.detach().to(torch.float32).cpu().numpy().reshape(_shape(info, n)) for y, info in zip(ys, graph.outputs)]
    if len(outputs) != len(graph.outputs):
        raise ConversionError(f"self-test: the module returned {len(ys)} outputs, the graph has {len(graph.outputs)}")
    if atol is None:
        atol = ATOL_SCALE * max(1.0, max(float(np.abs(y).max()) for y in outputs))
    return SelfTest(inputs, outputs, float(atol), float(rtol))
