"""A pure-numpy reference executor of the graph IR (docs/FORMAT.md "Ops"), used by --verify and tests."""
import numpy as np

from . import format as fmt, op_families


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _reshape(x, shape):
    target = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(target)


def _erf(x):
    from math import erf
    return np.vectorize(erf, otypes=[np.float64])(x).astype(x.dtype)


def _windows(x, kernel, strides, dilations, out_hw):
    """[N, C, Ho, Wo, kH, kW] view of the (padded) input's windows."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    shape = (n, c, out_hw[0], out_hw[1], kernel[0], kernel[1])
    st = (sn, sc, sh * strides[0], sw * strides[1], sh * dilations[0], sw * dilations[1])
    return np.lib.stride_tricks.as_strided(x, shape, st, writeable=False)


def _out_size(size, pad0, pad1, k, s, d, ceil_mode):
    span = size + pad0 + pad1 - d * (k - 1) - 1
    n = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + pad0:
        n -= 1
    return n


def _conv(x, w, b, attrs):
    s, p, d, g = attrs["strides"], attrs["pads"], attrs["dilations"], attrs["group"]
    kh, kw = w.shape[2:]
    out = [_out_size(x.shape[2 + i], p[i], p[i + 2], w.shape[2 + i], s[i], d[i], 0) for i in range(2)]
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    win = _windows(xp, (kh, kw), s, d, out)            # [N, C, Ho, Wo, kH, kW]
    cg, mg = x.shape[1] // g, w.shape[0] // g
    ys = [np.einsum("nchwij,mcij->nmhw", win[:, k * cg:(k + 1) * cg], w[k * mg:(k + 1) * mg]) for k in range(g)]
    y = np.concatenate(ys, axis=1)
    return y + b.reshape(1, -1, 1, 1) if b is not None else y


def _pool(op, x, attrs):
    k, s, p, d, ceil = attrs["kernel_shape"], attrs["strides"], attrs["pads"], attrs["dilations"], attrs["ceil_mode"]
    out = [_out_size(x.shape[2 + i], p[i], p[i + 2], k[i], s[i], d[i], ceil) for i in range(2)]
    # pad the end far enough for every window (ceil mode); positions past the padded input are NaN
    extra = [max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (x.shape[2 + i] + p[i] + p[i + 2])) for i in range(2)]
    fill = -np.inf if op == "MaxPool" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=fill)
    xp = np.pad(xp, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), constant_values=fill)
    win = _windows(np.ascontiguousarray(xp), k, s, d, out)
    if op == "MaxPool":
        return win.max(axis=(4, 5))
    # divisor: real input positions, or (count_include_pad) positions inside the padded input
    ones = np.zeros(xp.shape[2:], dtype=x.dtype)
    if attrs["count_include_pad"]:
        ones[:x.shape[2] + p[0] + p[2], :x.shape[3] + p[1] + p[3]] = 1
    else:
        ones[p[0]:p[0] + x.shape[2], p[1]:p[1] + x.shape[3]] = 1
    count = _windows(ones[None, None], k, s, d, out).sum(axis=(4, 5))
    return win.sum(axis=(4, 5)) / count


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _recurrent(op, args, attrs):
    x, w, r = args[0], args[1], args[2]
    wb = args[3] if len(args) > 3 and args[3] is not None else 0
    rb = args[4] if len(args) > 4 and args[4] is not None else 0
    n, t_len, _ = x.shape
    hs = attrs["hidden_size"]
    def initial(k):
        if len(args) <= k or args[k] is None:
            return np.zeros((n, hs), x.dtype)
        return args[k][:, attrs.get("state_index", 0)] if args[k].ndim == 3 else args[k]
    h, c = initial(5), initial(6)
    ys = []
    reverse = attrs.get("direction", "forward") == "reverse"
    for t in (reversed(range(t_len)) if reverse else range(t_len)):
        xw = x[:, t] @ w.T + wb
        if op == "RNN":
            a = xw + h @ r.T + rb
            h = np.tanh(a) if attrs["activation"] == "tanh" else np.maximum(a, 0)
        elif op == "GRU":
            hr = h @ r.T + rb
            z = _sigmoid(xw[:, :hs] + hr[:, :hs])
            rr = _sigmoid(xw[:, hs:2 * hs] + hr[:, hs:2 * hs])
            rbh = rb[2 * hs:] if np.ndim(rb) else 0
            if attrs["linear_before_reset"]:
                hh = np.tanh(xw[:, 2 * hs:] + rr * hr[:, 2 * hs:])
            else:
                hh = np.tanh(xw[:, 2 * hs:] + (rr * h) @ r[2 * hs:].T + rbh)
            h = (1 - z) * hh + z * h
        else:
            a = xw + h @ r.T + rb
            i, o, f = _sigmoid(a[:, :hs]), _sigmoid(a[:, hs:2 * hs]), _sigmoid(a[:, 2 * hs:3 * hs])
            c = f * c + i * np.tanh(a[:, 3 * hs:])
            h = o * np.tanh(c)
        ys.append(h)
    if reverse:
        ys = ys[::-1]
    y = np.stack(ys, axis=1) if ys else np.zeros((n, 0, hs), x.dtype)
    return (y, h, c) if op == "LSTM" else (y, h)


_FAMILY_REFERENCE = op_families.merged("REFERENCE")


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
    if op == "Sub":
        return x - args[1]
    if op == "Mul":
        return x * args[1]
    if op == "Div":
        with np.errstate(divide="ignore", invalid="ignore"):
            return x / args[1]
    if op == "LeakyRelu":
        return np.where(x >= 0, x, dtype(attrs["alpha"]) * x)
    if op == "Gelu":
        if attrs["approximate"] == "tanh":
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + _erf(x / np.sqrt(2)))
    if op == "Silu":
        return x / (1 + np.exp(-x))
    if op == "Erf":
        return _erf(x)
    if op == "LayerNormalization":
        axes = tuple(range(attrs["axis"] % x.ndim, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + dtype(attrs["epsilon"])) * args[1]
        return y + args[2] if len(args) > 2 and args[2] is not None else y
    if op == "Conv":
        return _conv(x, args[1], args[2] if len(args) > 2 else None, attrs)
    if op in ("MaxPool", "AveragePool"):
        return _pool(op, x, attrs)
    if op == "GlobalAveragePool":
        return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)
    if op in ("RNN", "GRU", "LSTM"):
        return _recurrent(op, args, attrs)
    if op in _FAMILY_REFERENCE:
        return _FAMILY_REFERENCE[op](args, attrs, dtype)
    raise ValueError(f"numpy_ref: unknown op {op!r}")


def run(graph, inputs, dtype=np.float64) -> list:
    """Execute `graph` on `inputs`; the outputs in graph order (see `run_values`)."""
    env = run_values(graph, inputs, dtype)
    # each output's batch back to its declared dim (format 1.5)
    return [np.moveaxis(env[v.name], 0, list(v.dims).index(-1)) for v in graph.outputs]


def run_values(graph, inputs, dtype=np.float64, perturb=None) -> dict:
    """Execute `graph` on `inputs` (an array for a single-input graph, or a dict name -> array).

    Computes in `dtype` (float64 or float32) with the stored f32 weights (dequantized for
    quantized ones); a Linear with an int8-dynamic weight runs the runtime's exact f32/int32
    arithmetic instead (`quantize.dynamic_linear`, on its input rounded to f32). Returns every
    value by name (inputs, tensors, node outputs). `perturb` maps a node output's name to an
    array added to it as soon as it is computed (for sensitivity estimates).
    """
    from .quantize import dynamic_linear
    dynamic = {t.name: t.quantized for t in graph.tensors
               if getattr(t, "quantized", None) is not None and t.quantized.layout == fmt.LAYOUT_PANEL16K4}
    if not isinstance(inputs, dict):
        if len(graph.inputs) != 1:
            raise ValueError(f"the graph has {len(graph.inputs)} inputs; pass a dict")
        inputs = {graph.inputs[0].name: inputs}
    axes = {v.name: list(v.dims).index(-1) for v in graph.inputs}  # the batch moves to dim 0 (format 1.5)
    env = {name: np.moveaxis(np.asarray(v, dtype=dtype), axes.get(name, 0), 0) for name, v in inputs.items()}
    for t in graph.tensors:
        env[t.name] = t.array.astype(dtype)
    for node in graph.nodes:
        attrs = {k: d for k, _, d in fmt.OPS[node.op].attrs}
        attrs.update(node.attrs)
        args = [env[name] if name else None for name in node.inputs]
        if node.op == "Linear" and node.inputs[1] in dynamic:
            result = dynamic_linear(args[0], dynamic[node.inputs[1]], args[2] if len(args) > 2 else None)
        else:
            result = _apply(node.op, args, attrs, dtype)
        for name, y in zip(node.outputs, result if isinstance(result, tuple) else (result,)):
            env[name] = np.asarray(y, dtype=dtype)
            if perturb and name in perturb:
                env[name] = env[name] + perturb[name]
    return env
