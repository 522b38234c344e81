"""1-D convolution and pooling over `[N, C, L]` (sensor and audio CNNs), from every source, lowered to
the 2-D ops with a unit height: Reshape to `[N, C, 1, L]`, the 2-D `Conv`/`MaxPool`/`AveragePool`
with a `1 × k` window (weight `[O, I/g, k]` stored as `[O, I/g, 1, k]`), Reshape back to
`[N, C', L']`. No op of its own: the file records the lowering, and the numbers are the 2-D
kernels' (one FMA chain per output in the same order as a native 1-D kernel would use).

- Conv1d: `nn.Conv1d` (zero padding, `padding="same"/"valid"`), TorchScript `aten::conv1d` and
  traced `aten::_convolution` with a 3-D weight, ONNX `Conv` on a rank-3 input.
- MaxPool1d / AvgPool1d: modules, `F.max_pool1d`/`F.avg_pool1d`, `aten::max_pool1d`/`avg_pool1d`,
  ONNX `MaxPool`/`AveragePool` on a rank-3 input (ceil_mode, padding, dilation for max).
- AdaptiveAvgPool1d/2d to any size: averaging windows of different sizes is a Linear with the
  pooling matrix (average_as_linear). AdaptiveAvgPool1d / AdaptiveMaxPool1d (and AdaptiveMaxPool2d)
  to `L_out` dividing `L`: PyTorch's start/end rule
  (`start = ⌊i·L/L_out⌋`, `end = ⌈(i+1)·L/L_out⌉`) gives equal windows of `L/L_out`, so it is the
  pool with kernel = stride = `L/L_out` (size 1 averaging becomes GlobalAveragePool). Other sizes are
  refused with that reason.

An op-family module (op_families.py): it adds converters only."""
import numpy as np

INFER = {}
REFERENCE = {}
ATEN_TAKES_LISTS = set()


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports op_families
    return make(site, why)


def _one(v, what="argument"):
    """An int from an int or a 1-element sequence."""
    if isinstance(v, (list, tuple)):
        if len(v) != 1:
            raise ValueError(f"{what} {list(v)} is not one value")
        v = v[0]
    return int(v)


def same_pads(kernel, dilation):
    """PyTorch's padding="same" (stride 1): the odd extra pad goes at the end."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


# ---- the lowering, shared by torch.fx and TorchScript (builder values) ------------------------

def lower(b, site, x, op, out, shapes, attrs, tensors=()):
    """`op` (Conv/MaxPool/AveragePool/GlobalAveragePool) of builder value `x` [N, C, L] through the
    2-D op on [N, C, 1, L]; `attrs` are already 2-D; `shapes` are the [N, C', L'] output shapes."""
    from .builder import BATCHES
    x = b._value(site, x)
    sample = b.sample[x]
    if len(sample) != 2:
        raise unsupported(site, f"its input has shape {[-1, *sample]}; a 1-D op needs [N, C, L]")
    c, length = sample
    x2 = b.reshape(site, x, f"{out}_2d", [(n, c, 1, length) for n in BATCHES])
    y_sample = tuple(shapes[0][1:])
    y2 = b.op(op, site, x2, f"{out}_2d_out", [(n, y_sample[0], 1, y_sample[1]) for n in BATCHES], attrs, tensors)
    return b.reshape(site, y2, out, shapes)


def conv_attrs(stride, padding, dilation, groups, kernel):
    """The 2-D Conv attributes of a 1-D convolution (padding an int, "same" or "valid")."""
    if isinstance(padding, str):
        p0, p1 = (0, 0) if padding == "valid" else same_pads(kernel, dilation)
    else:
        p0 = p1 = padding
    return {"strides": [1, stride], "pads": [0, p0, 0, p1], "dilations": [1, dilation], "group": int(groups)}


def pool_attrs(kernel, stride, padding, dilation, ceil_mode):
    kernel = _one(kernel, "kernel_size")
    stride = kernel if stride in (None, [], ()) else _one(stride, "stride")
    padding = _one(padding, "padding")
    return {"kernel_shape": [1, kernel], "strides": [1, stride], "pads": [0, padding, 0, padding],
            "dilations": [1, _one(dilation, "dilation")], "ceil_mode": int(bool(ceil_mode))}


def adaptive(b, site, x, size, out, shapes, is_max):
    """AdaptiveAvgPool1d / AdaptiveMaxPool1d to `size` (see the module docstring)."""
    x = b._value(site, x)
    sample = b.sample[x]
    if len(sample) != 2:
        raise unsupported(site, f"its input has shape {[-1, *sample]}; a 1-D pool needs [N, C, L]")
    if size is None:
        return b.alias(x)
    size, length = _one(size, "output_size"), sample[1]
    if size == 1 and not is_max:
        return b._node("GlobalAveragePool", site, [x], out, shapes)
    if length % size:
        if is_max:
            raise unsupported(site, f"output size {size} does not divide the input length {length}: its windows would "
                                    "have different sizes, which Strata's max pools do not have yet")
        return average_as_linear(b, site, x, [size], out, shapes)
    k = length // size
    attrs = {"kernel_shape": [1, k], "strides": [1, k]}
    return lower(b, site, x, "MaxPool" if is_max else "AveragePool", out, shapes, attrs)


# The largest pooling matrix (outputs × inputs per channel) average_as_linear stores.
MAX_POOLING_MATRIX = 1 << 20


def adaptive_windows(size_in, size_out):
    """PyTorch's adaptive pooling windows: [⌊o·in/out⌋, ⌈(o+1)·in/out⌉) for each output o."""
    return [((o * size_in) // size_out, -(-((o + 1) * size_in) // size_out)) for o in range(size_out)]


def average_as_linear(b, site, x, sizes, out, shapes):
    """Adaptive average pooling of builder value `x` [N, C, spatial…] to `sizes` whose windows
    differ in size: averaging is linear, so it is a Linear without bias on the flattened spatial
    dims, its weight the pooling matrix (1/|window| where an input lies in an output's window,
    the Kronecker product of the per-axis matrices): Reshape → Linear → Reshape. The sums are the
    GEMM's (one FMA chain per output), not PyTorch's sum-then-divide, so results differ by rounding."""
    import math

    from .builder import BATCHES, Const
    sample = b.sample[x]
    ins = list(sample[1:])
    matrix = np.ones((1, 1))
    for size_in, size_out in zip(ins, sizes):
        axis = np.zeros((size_out, size_in))
        for o, (start, end) in enumerate(adaptive_windows(size_in, size_out)):
            axis[o, start:end] = 1.0 / (end - start)
        matrix = np.kron(matrix, axis)
    if matrix.size > MAX_POOLING_MATRIX:
        raise unsupported(site, f"adaptive average pooling of {ins} to {sizes} with windows of different sizes would "
                                f"need a {matrix.shape[0]}×{matrix.shape[1]} pooling matrix (at most {MAX_POOLING_MATRIX} entries)")
    c = sample[0]
    flat = b.reshape(site, x, f"{out}_flat", [(n, c, math.prod(ins)) for n in BATCHES])
    pooled = b.linear(site, flat, Const(f"{site.node}.pooling", matrix.astype(np.float32)), None, f"{out}_pooled",
                      [(n, c, math.prod(sizes)) for n in BATCHES])
    return b.reshape(site, pooled, out, shapes)


def _adaptive2d_target(b, site, x, size):
    """(value, output size [H', W'], input [H, W]) of an adaptive 2-D pool: `size` an int, or a
    pair whose None entries keep the input's size; refuses an input that is not [N, C, H, W]."""
    x = b._value(site, x)
    sample = b.sample[x]
    if len(sample) != 3:
        raise unsupported(site, f"its input has shape {[-1, *sample]}; a 2-D pool needs [N, C, H, W]")
    size = [size, size] if isinstance(size, int) else [sample[1 + i] if s is None else int(s) for i, s in enumerate(size)]
    return x, size, sample[1:]


def adaptive_avg2d(b, site, x, size, out, shapes):
    """AdaptiveAvgPool2d to any size: GlobalAveragePool (1×1), AveragePool (the output divides
    the input: equal windows), else average_as_linear."""
    x, size, (h, w) = _adaptive2d_target(b, site, x, size)
    if size == [1, 1]:
        return b._node("GlobalAveragePool", site, [x], out, shapes)
    if h % size[0] == 0 and w % size[1] == 0:
        k = [h // size[0], w // size[1]]
        return b._node("AveragePool", site, [x], out, shapes, {"kernel_shape": k, "strides": k})
    return average_as_linear(b, site, x, size, out, shapes)


def adaptive_max2d(b, site, x, size, out, shapes):
    """AdaptiveMaxPool2d to an output dividing the input: MaxPool with kernel = stride = H/H', W/W'
    (the start/end rule gives those equal windows); other sizes are refused with that reason."""
    x, size, (h, w) = _adaptive2d_target(b, site, x, size)
    if h % size[0] or w % size[1]:
        raise unsupported(site, f"output size {size} does not divide the input {h}×{w}: its windows would have different "
                                "sizes, which Strata's pools do not have yet")
    k = [h // size[0], w // size[1]]
    return b._node("MaxPool", site, [x], out, shapes, {"kernel_shape": k, "strides": k})


# ---- torch.fx ----------------------------------------------------------------------------------

def _arg(node, index, key, default):
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(key, default)


def _m_conv1d(c, site, node, m, x, out, shapes):
    from .builder import Const
    if m.padding_mode != "zeros":
        raise unsupported(site, f"padding_mode = {m.padding_mode!r}; Strata pads with zeros")
    padding = m.padding if isinstance(m.padding, str) else m.padding[0]
    attrs = conv_attrs(m.stride[0], padding, m.dilation[0], m.groups, m.kernel_size[0])
    w = m.weight.detach().cpu().numpy().astype(np.float32)
    tensors = [(Const(f"{node.target}.weight", w[:, :, None, :]), f"{node.target}.weight"),
               None if m.bias is None else (Const(f"{node.target}.bias", m.bias.detach().cpu().numpy()), f"{node.target}.bias")]
    return lower(c.b, site, x, "Conv", out, shapes, attrs, tensors)


def _m_maxpool1d(c, site, node, m, x, out, shapes):
    if m.return_indices:
        raise unsupported(site, "return_indices=True")
    return lower(c.b, site, x, "MaxPool", out, shapes, pool_attrs(m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode))


def _m_avgpool1d(c, site, node, m, x, out, shapes):
    attrs = pool_attrs(m.kernel_size, m.stride, m.padding, 1, m.ceil_mode)
    attrs["count_include_pad"] = int(bool(m.count_include_pad))
    return lower(c.b, site, x, "AveragePool", out, shapes, attrs)


def _f_maxpool1d(c, site, node, x, out, shapes):
    if _arg(node, 6, "return_indices", False):
        raise unsupported(site, "return_indices=True")
    attrs = pool_attrs(_arg(node, 1, "kernel_size", None), _arg(node, 2, "stride", None), _arg(node, 3, "padding", 0),
                       _arg(node, 4, "dilation", 1), _arg(node, 5, "ceil_mode", False))
    return lower(c.b, site, x, "MaxPool", out, shapes, attrs)


def _f_avgpool1d(c, site, node, x, out, shapes):
    attrs = pool_attrs(_arg(node, 1, "kernel_size", None), _arg(node, 2, "stride", None), _arg(node, 3, "padding", 0),
                       1, _arg(node, 4, "ceil_mode", False))
    attrs["count_include_pad"] = int(bool(_arg(node, 5, "count_include_pad", True)))
    return lower(c.b, site, x, "AveragePool", out, shapes, attrs)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch.nn as nn
    import torch.nn.functional as F
    functions[F.max_pool1d] = _f_maxpool1d
    functions[F.avg_pool1d] = _f_avgpool1d
    functions[F.adaptive_avg_pool1d] = lambda c, site, node, x, out, shapes: adaptive(
        c.b, site, x, _arg(node, 1, "output_size", None), out, shapes, False)
    functions[F.adaptive_max_pool1d] = lambda c, site, node, x, out, shapes: adaptive(
        c.b, site, x, _arg(node, 1, "output_size", None), out, shapes, True)
    functions[F.adaptive_avg_pool2d] = lambda c, site, node, x, out, shapes: adaptive_avg2d(
        c.b, site, x, _arg(node, 1, "output_size", None), out, shapes)
    functions[F.adaptive_max_pool2d] = lambda c, site, node, x, out, shapes: adaptive_max2d(
        c.b, site, x, _arg(node, 1, "output_size", None), out, shapes)
    modules[:0] = [
        (nn.AdaptiveAvgPool2d, lambda c, site, node, m, x, out, shapes: adaptive_avg2d(c.b, site, x, m.output_size, out, shapes)),
        (nn.AdaptiveMaxPool2d, lambda c, site, node, m, x, out, shapes: _no_indices(m, site) or adaptive_max2d(
            c.b, site, x, m.output_size, out, shapes)),
        (nn.Conv1d, _m_conv1d), (nn.MaxPool1d, _m_maxpool1d), (nn.AvgPool1d, _m_avgpool1d),
        (nn.AdaptiveAvgPool1d, lambda c, site, node, m, x, out, shapes: adaptive(c.b, site, x, m.output_size, out, shapes, False)),
        (nn.AdaptiveMaxPool1d, lambda c, site, node, m, x, out, shapes: _no_indices(m, site) or adaptive(
            c.b, site, x, m.output_size, out, shapes, True)),
    ]


def _no_indices(m, site):
    if m.return_indices:
        raise unsupported(site, "return_indices=True")


# ---- TorchScript -------------------------------------------------------------------------------

def _ts_conv(c, site, a, out, shapes):
    """aten::conv1d, and aten::_convolution with a 3-D weight; other convolutions go to the 2-D converter."""
    from .torchscript_source import _conv, _const
    w = _const(c, site, a, "weight", "weight")
    transposed = "transposed" in a and c.literal(site, a["transposed"], "transposed")
    if transposed:
        from .spatial import ts_conv_transpose
        return ts_conv_transpose(c, site, a, out, shapes)
    if w is None or w.array.ndim != 3:
        return _conv(c, site, a, out, shapes)
    padding = c.literal(site, a["padding"], "padding")
    if not isinstance(padding, str):
        padding = _one(padding, "padding")
    attrs = conv_attrs(_one(c.literal(site, a["stride"], "stride")), padding,
                       _one(c.literal(site, a["dilation"], "dilation")), c.literal(site, a["groups"], "groups"),
                       w.array.shape[2])
    from .builder import Const
    bias = _const(c, site, a, "bias", "bias")
    tensors = [(Const(w.name, np.asarray(w.array)[:, :, None, :]), w.name or f"{out}.weight"),
               None if bias is None else (bias, bias.name or f"{out}.bias")]
    return lower(c.b, site, c.operand(a["input"]), "Conv", out, shapes, attrs, tensors)


def _ts_pool(op):
    def convert(c, site, a, out, shapes):
        lit = lambda k: c.literal(site, a[k], k)  # noqa: E731
        attrs = pool_attrs(lit("kernel_size"), lit("stride"), lit("padding"),
                           lit("dilation") if op == "MaxPool" else 1, lit("ceil_mode"))
        if op == "AveragePool":
            attrs["count_include_pad"] = int(bool(lit("count_include_pad")))
        return lower(c.b, site, c.operand(a["self"]), op, out, shapes, attrs)
    return convert


def _ts_adaptive(is_max):
    def convert(c, site, a, out, shapes):
        return adaptive(c.b, site, c.operand(a["self"]), c.literal(site, a["output_size"], "output_size"), out, shapes, is_max)
    return convert


ATEN = {"aten::conv1d": _ts_conv, "aten::_convolution": _ts_conv, "aten::_convolution_mode": _ts_conv,
        "aten::max_pool1d": _ts_pool("MaxPool"), "aten::avg_pool1d": _ts_pool("AveragePool"),
        "aten::adaptive_avg_pool1d": _ts_adaptive(False), "aten::adaptive_max_pool1d": _ts_adaptive(True),
        "aten::adaptive_avg_pool2d": lambda c, site, a, out, shapes: adaptive_avg2d(
            c.b, site, c.operand(a["self"]), c.literal(site, a["output_size"], "output_size"), out, shapes),
        "aten::adaptive_max_pool2d": lambda c, site, a, out, shapes: adaptive_max2d(
            c.b, site, c.operand(a["self"]), c.literal(site, a["output_size"], "output_size"), out, shapes)}


# ---- ONNX (called by onnx_source's Conv/MaxPool/AveragePool for a rank-3 input) -------------------

def onnx_1d(conv, node, args, op):
    """ONNX `op` (Conv, MaxPool, AveragePool) on a rank-3 value through the 2-D op; `conv` is the
    ONNX converter (onnx_source._OnnxConverter)."""
    from types import SimpleNamespace

    from .errors import ConversionError
    from .onnx_source import _attr, _V, _where
    v = args[0]
    if not isinstance(v, _V):
        raise ConversionError(f"{_where(node)}: its input must be computed from the model input")
    x = conv._mat(v, _where(node))
    n_c, length = conv.dims[x][1], conv.dims[x][2]

    def view(name, source, shape):
        output = node.output[0] if name == "1d" else f"{node.output[0]}_{name}"
        fake = SimpleNamespace(name=f"{node.name or op}_{name}", output=[output], op_type="Reshape")
        return conv._emit("Reshape", fake, [source], {"shape": shape})

    if op == "Conv":
        w = np.asarray(conv._const(node, args[1], "weight"))
        if w.ndim != 3:
            raise ConversionError(f"{_where(node)}: weight of shape {list(w.shape)} for a rank-3 input")
        k = [w.shape[2]]
    else:
        if len(node.output) > 1 and node.output[1]:
            raise ConversionError(f"{_where(node)}: the Indices output is not supported")
        k = list(_attr(node, "kernel_shape", []))
    strides = list(_attr(node, "strides", [1]))
    dil = list(_attr(node, "dilations", [1]))
    auto = _attr(node, "auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if len(k) != 1 or len(strides) != 1 or len(dil) != 1:
        raise ConversionError(f"{_where(node)}: kernel {k}, strides {strides}, dilations {dil} on a rank-3 input")
    if auto in ("NOTSET", "VALID"):
        pads = [0, 0] if auto == "VALID" else [int(p) for p in _attr(node, "pads", [0, 0])]
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        total = max(0, (-(-length // strides[0]) - 1) * strides[0] + (k[0] - 1) * dil[0] + 1 - length)
        pads = [total // 2, total - total // 2] if auto == "SAME_UPPER" else [total - total // 2, total // 2]
    else:
        raise ConversionError(f"{_where(node)}: auto_pad = {auto!r} is not supported")
    attrs = {"strides": [1, strides[0]], "pads": [0, pads[0], 0, pads[1]], "dilations": [1, dil[0]]}
    x2 = view("2d", x, [-1, n_c, 1, length])
    if op == "Conv":
        attrs["group"] = int(_attr(node, "group", 1))
        inputs = [x2, conv._tensor(w[:, :, None, :], f"{node.name or 'conv'}.weight"), ""]
        if len(args) > 2 and args[2] is not None:
            inputs[2] = conv._tensor(conv._const(node, args[2], "bias"), f"{node.name or 'conv'}.bias")
    else:
        if any(p >= dil[0] * (k[0] - 1) + 1 for p in pads):
            raise ConversionError(f"{_where(node)}: pads {pads} are not smaller than the window extent")
        attrs.update({"kernel_shape": [1, k[0]], "ceil_mode": int(_attr(node, "ceil_mode", 0))})
        if op == "AveragePool":
            attrs["count_include_pad"] = int(_attr(node, "count_include_pad", 0))
        inputs = [x2]
    fake = SimpleNamespace(name=node.name, output=[f"{node.output[0]}_2d_out"], op_type=op)
    y2 = conv._emit(op, fake, inputs, attrs)
    d = conv.dims[y2]
    return _V(view("1d", y2, [-1, d[1], d[3]]), range(3))


def onnx_handlers(unary, attr, const, where):
    """No ONNX op types of its own: onnx_source's Conv/MaxPool/AveragePool call onnx_1d for rank 3."""
    return {}
