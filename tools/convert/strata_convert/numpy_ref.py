"""A pure-numpy reference executor of the graph IR (docs/FORMAT.md "Ops"), used by --verify and tests."""
import numpy as np

from . import format as fmt


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _reshape(x, shape):
    target = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(target)


def _apply(op, args, attrs, dtype):
    x = args[0]
    if op == "Linear":
        y = x @ args[1].T
        return y + args[2] if len(args) > 2 and args[2] is not None else y
    if op == "Relu":
        return np.maximum(x, dtype(0))
    if op == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    if op == "Tanh":
        return np.tanh(x)
    if op == "Softmax":
        return _softmax(x, attrs["axis"])
    if op == "LogSoftmax":
        return _log_softmax(x, attrs["axis"])
    if op == "Identity":
        return x.copy()
    if op == "Flatten":
        a = attrs["axis"] + x.ndim if attrs["axis"] < 0 else attrs["axis"]
        return x.reshape(x.shape[:a] + (-1,))
    if op == "Reshape":
        return _reshape(x, attrs["shape"])
    if op == "Add":
        return x + args[1]
    raise ValueError(f"numpy_ref: unknown op {op!r}")


def run(graph, inputs, dtype=np.float64) -> list:
    """Execute `graph` on `inputs`; the outputs in graph order (see `run_values`)."""
    env = run_values(graph, inputs, dtype)
    return [env[v.name] for v in graph.outputs]


def run_values(graph, inputs, dtype=np.float64) -> dict:
    """Execute `graph` on `inputs` (an array for a single-input graph, or a dict name -> array).

    Computes in `dtype` (float64 or float32) with the stored f32 weights (dequantized for
    quantized ones); returns every value by name (inputs, tensors, node outputs).
    """
    if not isinstance(inputs, dict):
        if len(graph.inputs) != 1:
            raise ValueError(f"the graph has {len(graph.inputs)} inputs; pass a dict")
        inputs = {graph.inputs[0].name: inputs}
    env = {name: np.asarray(v, dtype=dtype) for name, v in inputs.items()}
    for t in graph.tensors:
        env[t.name] = t.array.astype(dtype)
    for node in graph.nodes:
        attrs = {k: d for k, _, d in fmt.OPS[node.op].attrs}
        attrs.update(node.attrs)
        args = [env[name] if name else None for name in node.inputs]
        env[node.outputs[0]] = np.asarray(_apply(node.op, args, attrs, dtype), dtype=dtype)
    return env
