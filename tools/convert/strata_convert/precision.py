"""Choosing the stored precision of each Linear weight, and the accuracy report of the result.

`apply_precision` returns a copy of a converted graph whose Linear weights (and RNN/GRU/LSTM W
and R) are stored as f32,
f16, bf16, int8, int4 (docs/FORMAT.md "Quantized weights") or int8-dynamic ("Dynamic int8");
`accuracy_report` runs the f32 and the quantized graph on the same inputs with the numpy
reference executor — for int8-dynamic layers the runtime's own integer arithmetic — and measures
the difference per layer and at the output. The converter stores the report's text under the
metadata key `quantization` (`strata info` shows it).
"""
import dataclasses

import numpy as np

from . import format as fmt
from . import numpy_ref
from .errors import ConversionError
from .quantize import PRECISIONS


def linear_layers(graph) -> list:
    """(layer name, weight tensor name) of every Linear node, in graph order. The layer name is
    the node's name (e.g. "fc1"), else its weight's name without ".weight"."""
    out = []
    for node in graph.nodes:
        if node.op == "Linear":
            w = node.inputs[1]
            out.append((node.name or w.removesuffix(".weight"), w))
    return out


#: Ops whose W and R weights (inputs 1 and 2) the default precision also covers.
RECURRENT_OPS = ("RNN", "GRU", "LSTM")


def recurrent_weights(graph) -> list:
    """(weight name, weight name) of the W and R of every RNN/GRU/LSTM node, in graph order — the
    tensors each step's products stream. Left out: the R of a GRU with linear_before_reset 0,
    whose rows the runtime splits (it needs that R in f32)."""
    out = []
    for node in graph.nodes:
        if node.op in RECURRENT_OPS:
            split_r = node.op == "GRU" and not node.attrs.get("linear_before_reset", 0)
            for w in node.inputs[1:2] if split_r else node.inputs[1:3]:
                out.append((w, w))
    return out


def layer_precisions(graph, default="f32", overrides=None, keep_f32=(), keep_ends_f32=False) -> dict:
    """Weight tensor name → precision. `overrides` maps a layer or weight name to a precision;
    `keep_f32` lists layers kept in f32; `keep_ends_f32` keeps the first and last Linear in f32.
    The default also covers the recurrent layers' W and R (`recurrent_weights`), except
    int8-dynamic, under which they stay int8 weight-only (the dynamic arithmetic is for Linear);
    they are named by their tensor names. Raises ConversionError naming an unknown layer or precision."""
    layers = linear_layers(graph)
    recurrent = recurrent_weights(graph)
    by_name = {}
    for layer, w in layers + recurrent:
        by_name[layer] = w
        by_name[w] = w
    chosen = {w: default for _, w in layers}
    chosen.update({w: "int8" if default == "int8-dynamic" else default for _, w in recurrent})
    if keep_ends_f32 and layers:
        chosen[layers[0][1]] = chosen[layers[-1][1]] = "f32"
    wanted = dict(overrides or {})
    wanted.update({name: "f32" for name in keep_f32})
    for name, precision in wanted.items():
        if name not in by_name:
            known = ", ".join([layer for layer, _ in layers] + [w for w, _ in recurrent]) or "none"
            raise ConversionError(f"no Linear layer named '{name}'; the layers are: {known}")
        if precision not in PRECISIONS:
            raise ConversionError(f"unknown precision {precision!r} for layer '{name}'; expected one of {', '.join(PRECISIONS)}")
        if precision == "int8-dynamic" and name in dict(recurrent):
            raise ConversionError(f"recurrent weight '{name}' cannot be int8-dynamic (the dynamic arithmetic is for Linear); use int8")
        chosen[by_name[name]] = precision
    if default not in PRECISIONS:
        raise ConversionError(f"unknown precision {default!r}; expected one of {', '.join(PRECISIONS)}")
    return chosen


def apply_precision(graph, precisions: dict):
    """A copy of `graph` with each weight named in `precisions` stored in that precision."""
    tensors = [t.quantized_as(precisions[t.name]) if t.name in precisions and t.array.ndim == 2 else t
               for t in graph.tensors]
    return dataclasses.replace(graph, tensors=tensors, metadata=dict(graph.metadata))


@dataclasses.dataclass
class Report:
    """Differences between the quantized and the f32 graph on the same inputs."""

    inputs: str                 # where the inputs came from, e.g. "256 random inputs"
    layers: list                # (layer, precision, max abs error, mean abs error) per Linear output
    max_abs_error: float        # at the (first) graph output
    mean_abs_error: float
    max_rel_error: float        # max abs error / max |f32 output|
    top1_agreement: float | None  # fraction of samples whose argmax agrees (rank-2 outputs)
    samples: int

    def text(self) -> str:
        """The report as stored in the metadata (`quantization` key)."""
        lines = [f"accuracy against f32 on {self.inputs}:"]
        for layer, precision, mx, mean in self.layers:
            lines.append(f"  {layer} ({precision}): max abs error {mx:.4g}, mean abs error {mean:.4g}")
        out = f"  output: max abs error {self.max_abs_error:.4g}, mean abs error {self.mean_abs_error:.4g}, " \
              f"max relative error {self.max_rel_error:.4g}"
        if self.top1_agreement is not None:
            out += f", top-1 agreement {100 * self.top1_agreement:.2f}% of {self.samples}"
        lines.append(out)
        return "\n".join(lines)


def calibration_inputs(graph, path=None, n=256, seed=0):
    """(inputs, description): the samples of a .npy file shaped [N, *input shape], else `n`
    standard-normal samples."""
    shape = tuple(graph.inputs[0].dims[1:])
    if path:
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ConversionError(f"cannot read calibration file {path}: {e}") from e
        x = np.asarray(x, np.float32)
        if x.shape[1:] != shape:
            if x.ndim >= 1 and int(np.prod(x.shape[1:])) == int(np.prod(shape)):
                x = x.reshape((x.shape[0], *shape))
            else:
                raise ConversionError(f"calibration file {path} holds {list(x.shape)}; expected [N, {', '.join(map(str, shape))}]")
        return x, f"{x.shape[0]} calibration inputs"
    x = np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)
    return x, f"{n} random inputs"


def accuracy_report(reference, quantized, precisions: dict, inputs, description: str) -> Report:
    """Run both graphs on `inputs` (float64 arithmetic, so the difference is the weights')."""
    ref_env = numpy_ref.run_values(reference, inputs.astype(np.float64))
    q_env = numpy_ref.run_values(quantized, inputs.astype(np.float64))
    layers = []
    for node in reference.nodes:
        if node.op == "Linear":
            d = np.abs(q_env[node.outputs[0]] - ref_env[node.outputs[0]])
            name = node.name or node.inputs[1].removesuffix(".weight")
            layers.append((name, precisions.get(node.inputs[1], "f32"), float(d.max(initial=0)), float(d.mean()) if d.size else 0.0))
    out = reference.outputs[0].name
    y, yq = ref_env[out], q_env[out]
    d = np.abs(yq - y)
    top1 = None
    if y.ndim == 2 and y.shape[1] > 1:
        top1 = float((y.argmax(1) == yq.argmax(1)).mean())
    return Report(description, layers, float(d.max(initial=0)), float(d.mean()) if d.size else 0.0,
                  float(d.max(initial=0) / max(float(np.abs(y).max(initial=0)), 1e-30)), top1, int(inputs.shape[0]))


#: Ops whose output the numpy reference computes with the runtime's bits when their input has them.
_EXACT_OPS = ("Relu", "Identity", "Flatten", "Reshape")


def dynamic_int8_allowance(graph, inputs, flips=4) -> float:
    """How far the runtime's outputs may be from the numpy reference's because of the dynamic-int8
    layers, on `inputs` (an array, or a dict name → array).

    A Linear with an int8-dynamic weight rounds its input to int8 per row. When that input has the
    runtime's bits — it is a graph input, or comes from one through ReLU, reshapes and other
    int8-dynamic Linears only — the reference reproduces the runtime exactly and this is 0.
    Otherwise (an f32 layer, a sigmoid or softmax before it) a value within rounding noise of a
    half step can round the other way in the runtime: one such flip at input k moves the layer's
    output by s · W[:, k]. The allowance is `flips` times the largest change at the graph outputs
    that one flip of the most influential input (either sign) causes, summed over such layers."""
    from .quantize import dynamic_quantize_rows
    dynamic = {t.name: t for t in graph.tensors if t.layout == fmt.LAYOUT_PANEL16K4}
    exact = {v.name for v in graph.inputs}
    inexact_layers = []
    for node in graph.nodes:
        if node.op == "Linear" and node.inputs[1] in dynamic:
            if node.inputs[0] in exact:
                exact.add(node.outputs[0])
            else:
                inexact_layers.append(node)
        elif node.op in _EXACT_OPS and node.inputs[0] in exact:
            exact.update(node.outputs)
    if not inexact_layers:
        return 0.0
    if not isinstance(inputs, dict):
        inputs = {graph.inputs[0].name: inputs}
    base = numpy_ref.run_values(graph, inputs)
    outputs = [v.name for v in graph.outputs]
    total = 0.0
    for node in inexact_layers:
        w = dynamic[node.inputs[1]].array                      # dequantized [n, k]
        x = base[node.inputs[0]]
        _, s = dynamic_quantize_rows(x.reshape(-1, x.shape[-1]).astype(np.float32))
        s = np.nan_to_num(s.astype(np.float64)).reshape(x.shape[:-1] + (1,))
        column = w[:, int(np.abs(w).sum(axis=0).argmax())].astype(np.float64)
        worst = 0.0
        for sign in (1.0, -1.0):
            env = numpy_ref.run_values(graph, inputs, perturb={node.outputs[0]: sign * s * column})
            worst = max(worst, max(float(np.nan_to_num(np.abs(env[o] - base[o])).max(initial=0)) for o in outputs))
        total += flips * worst
    return total


def store_report(graph, report: Report) -> None:
    """Record the report's text under the metadata key `quantization` (docs/FORMAT.md)."""
    graph.metadata[fmt.META_QUANTIZATION] = report.text()
