"""The torch.fx converters of the ops of format 1.2 (docs/FORMAT.md "Ops (1.2)"): arithmetic with
broadcasting, GELU/SiLU/LeakyReLU/erf, LayerNorm, BatchNorm (folded by folding.py), Conv2d,
pools, and RNN/GRU/LSTM. `register` adds them to torch_source's tables.

Recurrent modules: batch_first=True only (the model input keeps the batch in dim 0; a
batch_first=False model converts through ONNX export, whose importer declares X batch-first).
Their outputs map to the IR op's outputs: `out` is Y [N, T, H]; `h_n` is [layers, N, H] in
PyTorch, so only `h_n[-1]` / `h_n[k]` / `h_n.squeeze(0)` (one layer) are accepted; `out[:, -1]`
is the final state Y_h. PyTorch's gate orders become ONNX's (GRU r,z,n → z,r,h with
linear_before_reset = 1; LSTM i,f,g,o → i,o,f,c).
"""
import operator

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from .builder import BATCHES, Const, unsupported


class _States:
    """PyTorch's h_n / c_n [num_layers, N, H]: one IR value [N, H] per layer."""

    def __init__(self, names):
        self.names = names

    def stacked(self, b, site):
        """One IR value [N, num_layers, H] (a graph output declared [num_layers, -1, H])."""
        h = b.sample[self.names[0]][-1]
        rows = [b.reshape(site, n, f"{n}_row", [(bb, 1, h) for bb in BATCHES]) for n in self.names]
        if len(rows) == 1:
            return rows[0]
        return b._node("Concat", site, rows, f"{self.names[0]}_stack",
                       [(bb, len(rows), h) for bb in BATCHES], {"axis": 1})


def is_states(x):
    """Whether a converted value is a recurrent layer's h_n/c_n (see `_States`)."""
    return isinstance(x, _States)


def state_inputs(gm, recurrent_types=(nn.GRU, nn.LSTM, nn.RNN)):
    """Names of the placeholders of `gm` used as a recurrent module's initial state (hx): their
    batch is dim 1 ([num_layers, N, H])."""
    names = set()
    for node in gm.graph.nodes:
        if node.op == "call_module" and isinstance(gm.get_submodule(node.target), recurrent_types):
            hx = node.args[1] if len(node.args) > 1 else node.kwargs.get("hx")
            for s in (hx if isinstance(hx, (tuple, list)) else (hx,)):
                if isinstance(s, fx.Node) and s.op == "placeholder":
                    names.add(s.name)
    return names


def _np(t):
    return t.detach().cpu().to(torch.float32).numpy()


def _arg(node, index, key, default):
    return node.args[index] if len(node.args) > index else node.kwargs.get(key, default)


def _binary(op, reverse=False):
    def convert(c, site, node, x, out, shapes):
        other = c.val(_arg(node, 1, "other", None))
        if node.op == "call_method" and str(node.target).endswith("_"):
            c.check_inplace(site, node, True)
        alpha = node.kwargs.get("alpha", 1)
        if alpha != 1:
            if op not in ("Add", "Sub") or not isinstance(other, Const):
                raise unsupported(site, f"alpha = {alpha}")
            other = Const("", np.asarray(other.array, np.float64) * alpha)
        if node.kwargs.get("rounding_mode") is not None:
            raise unsupported(site, f"rounding_mode = {node.kwargs['rounding_mode']!r}")
        a, b = (other, x) if reverse else (x, other)
        return c.b.binary(op, site, a, b, out, shapes)
    return convert


def _unary(op, **fixed):
    def convert(c, site, node, x, out, shapes):
        return c.b.op(op, site, x, out, shapes, fixed)
    return convert


def _gelu(c, site, node, x, out, shapes):
    approx = node.kwargs.get("approximate", "none")
    return c.b.op("Gelu", site, x, out, shapes, {"approximate": approx})


def _leaky(c, site, node, x, out, shapes):
    slope = _arg(node, 1, "negative_slope", 0.01)
    return c.b.op("LeakyRelu", site, x, out, shapes, {"alpha": float(slope)})


def _layer_norm_op(c, site, x, out, shapes, normalized_shape, weight, bias, eps, prefix):
    rank = len(c.b.sample[x]) + 1
    ns = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    if len(ns) >= rank:
        raise unsupported(site, "it normalizes over the batch dimension")
    w = weight if weight is not None else Const("", np.ones(ns))
    return c.b.op("LayerNormalization", site, x, out, shapes, {"axis": rank - len(ns), "epsilon": float(eps)},
                  [(w, f"{prefix}.weight"), None if bias is None else (bias, f"{prefix}.bias")])


def _f_layer_norm(c, site, node, x, out, shapes):
    ns = _arg(node, 1, "normalized_shape", None)
    w, b = c.val(_arg(node, 2, "weight", None)), c.val(_arg(node, 3, "bias", None))
    return _layer_norm_op(c, site, x, out, shapes, ns, w, b, _arg(node, 4, "eps", 1e-5), node.name)


def _m_layer_norm(c, site, node, m, x, out, shapes):
    w = Const(f"{node.target}.weight", _np(m.weight)) if m.weight is not None else None
    b = Const(f"{node.target}.bias", _np(m.bias)) if getattr(m, "bias", None) is not None else None
    return _layer_norm_op(c, site, x, out, shapes, m.normalized_shape, w, b, m.eps, node.target)


def _m_batch_norm(c, site, node, m, x, out, shapes):
    if m.training and not m.track_running_stats or m.running_mean is None:
        raise unsupported(site, "it has no running statistics (track_running_stats=False)")
    rank = len(c.b.sample[x]) + 1
    var, mean = _np(m.running_var).astype(np.float64), _np(m.running_mean).astype(np.float64)
    scale = 1 / np.sqrt(var + m.eps)
    if m.weight is not None:
        scale = scale * _np(m.weight)
    shift = -mean * scale + (_np(m.bias) if m.bias is not None else 0)
    shape = (-1,) + (1,) * (rank - 2)
    y = c.b.binary("Mul", site, x, Const(f"{node.target}.scale", scale.reshape(shape)), f"{node.name}_scaled",
                   [(b, *c.b.sample[x]) for b in BATCHES])
    return c.b.binary("Add", site, y, Const(f"{node.target}.shift", shift.reshape(shape)), out, shapes)


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(a) for a in v]


def _m_conv(c, site, node, m, x, out, shapes):
    if m.padding_mode != "zeros":
        raise unsupported(site, f"padding_mode = {m.padding_mode!r}; Strata pads with zeros")
    k = list(m.kernel_size)
    if isinstance(m.padding, str):
        if m.padding == "valid":
            pads = [0, 0, 0, 0]
        else:  # "same" (stride 1): PyTorch puts the odd extra pad at the end
            tot = [m.dilation[i] * (k[i] - 1) for i in range(2)]
            pads = [tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2]
    else:
        p = _pair(m.padding)
        pads = [p[0], p[1], p[0], p[1]]
    attrs = {"strides": _pair(m.stride), "pads": pads, "dilations": _pair(m.dilation), "group": int(m.groups)}
    w = Const(f"{node.target}.weight", _np(m.weight))
    b = None if m.bias is None else (Const(f"{node.target}.bias", _np(m.bias)), f"{node.target}.bias")
    return c.b.op("Conv", site, x, out, shapes, attrs, [(w, f"{node.target}.weight"), b])


def _pool_attrs(site, kernel, stride, padding, dilation, ceil_mode):
    k = _pair(kernel)
    s = _pair(stride) if stride not in (None, [], ()) else k
    p = _pair(padding)
    return {"kernel_shape": k, "strides": s, "pads": [p[0], p[1], p[0], p[1]], "dilations": _pair(dilation),
            "ceil_mode": int(bool(ceil_mode))}


def _m_maxpool(c, site, node, m, x, out, shapes):
    if m.return_indices:
        raise unsupported(site, "return_indices=True")
    return c.b.op("MaxPool", site, x, out, shapes,
                  _pool_attrs(site, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode))


def _m_avgpool(c, site, node, m, x, out, shapes):
    if m.divisor_override:
        raise unsupported(site, "divisor_override")
    attrs = _pool_attrs(site, m.kernel_size, m.stride, m.padding, 1, m.ceil_mode)
    attrs["count_include_pad"] = int(bool(m.count_include_pad))
    return c.b.op("AveragePool", site, x, out, shapes, attrs)


def _f_maxpool(c, site, node, x, out, shapes):
    if _arg(node, 6, "return_indices", False):
        raise unsupported(site, "return_indices=True")
    attrs = _pool_attrs(site, _arg(node, 1, "kernel_size", None), _arg(node, 2, "stride", None),
                        _arg(node, 3, "padding", 0), _arg(node, 4, "dilation", 1), _arg(node, 5, "ceil_mode", False))
    return c.b.op("MaxPool", site, x, out, shapes, attrs)


def _f_avgpool(c, site, node, x, out, shapes):
    if _arg(node, 6, "divisor_override", None):
        raise unsupported(site, "divisor_override")
    attrs = _pool_attrs(site, _arg(node, 1, "kernel_size", None), _arg(node, 2, "stride", None),
                        _arg(node, 3, "padding", 0), 1, _arg(node, 4, "ceil_mode", False))
    attrs["count_include_pad"] = int(bool(_arg(node, 5, "count_include_pad", True)))
    return c.b.op("AveragePool", site, x, out, shapes, attrs)


def _adaptive(c, site, x, size, out, shapes):
    sample = c.b.sample[x]
    size = _pair(size) if size is not None else None
    if len(sample) != 3:
        raise unsupported(site, "its input is not [N, C, H, W]")
    if size == [1, 1]:
        return c.b.op("GlobalAveragePool", site, x, out, shapes)
    h, w = sample[1:]
    if size and h % size[0] == 0 and w % size[1] == 0:
        k = [h // size[0], w // size[1]]
        return c.b.op("AveragePool", site, x, out, shapes, {"kernel_shape": k, "strides": k})
    raise unsupported(site, f"output size {size} does not divide the input {h}×{w} (Strata has no adaptive windows)")


def _m_recurrent(c, site, node, m, x, out, shapes):
    kind = type(m).__name__
    if getattr(m, "proj_size", 0):
        raise unsupported(site, "proj_size > 0")
    hx = node.args[1] if len(node.args) > 1 else node.kwargs.get("hx")
    states = [c.val(s) for s in (hx if isinstance(hx, (tuple, list)) else (hx,))] if hx is not None else []

    def weights(layer, d):
        sfx = "_reverse" if d else ""
        get = lambda n: _np(getattr(m, f"{n}_l{layer}{sfx}"))  # noqa: E731
        return (get("weight_ih"), get("weight_hh")) + ((get("bias_ih"), get("bias_hh")) if m.bias else ())

    return emit_recurrent(c.b, site, kind, x, weights, m.num_layers, m.bidirectional, m.hidden_size,
                          getattr(m, "nonlinearity", "tanh"), m.batch_first, states, node.target, node.name, c.last_step)


def emit_recurrent(b, site, kind, x, weights, num_layers, bidirectional, h, nonlinearity, batch_first, states,
                   param_prefix, base, last_step):
    """The IR of a PyTorch recurrent layer stack (torch.fx and TorchScript): per layer one op per
    direction (a reverse op for the backward half, Y concatenated on axis 2). `weights(layer, d)`
    gives PyTorch's (w_ih, w_hh[, b_ih, b_hh]); `states` the IR values of h0 (and c0), each
    [N, layers·directions, H] inside (a model input [layers·directions, N, H]), or []. Returns
    (Y, _States(h_n)) or (Y, (_States(h_n), _States(c_n))) for LSTM."""
    if not batch_first:
        raise unsupported(site, "batch_first=False: the model input would be sequence-first, and Strata keeps the "
                                "batch in dim 0; use batch_first=True (same weights) or convert an ONNX export, "
                                "which declares the input batch-first")
    dirs = 2 if bidirectional else 1
    rows = num_layers * dirs
    for v in states:
        if not isinstance(v, str) or b.sample.get(v) != (rows, h):
            raise unsupported(site, f"its initial state must be a model input of shape [{rows}, N, {h}] "
                                    f"(h0, and c0 for LSTM), not {v!r}")
    x = b._value(site, x)
    sample = b.sample[x]
    if len(sample) != 2:
        raise unsupported(site, f"its input is {[-1, *sample]}, not [N, T, I] (unbatched input)")
    t = sample[0]
    order = {"RNN": [0], "GRU": [1, 0, 2], "LSTM": [0, 3, 1, 2]}[kind]

    def reorder(a):
        return np.concatenate([a[g * h:(g + 1) * h] for g in order], axis=0)

    hs, cs = [], []
    for layer in range(num_layers):
        ys = []
        for d in range(dirs):  # a bidirectional layer: a forward and a reverse op, Y concatenated
            sfx = "_reverse" if d else ""
            w = weights(layer, d)
            p = f"{param_prefix}.l{layer}{sfx}"
            ins = [x, b.tensor(Const(f"{p}.W", reorder(w[0])), f"{p}.W"), b.tensor(Const(f"{p}.R", reorder(w[1])), f"{p}.R")]
            if len(w) > 2:
                ins.append(b.tensor(Const(f"{p}.WB", reorder(w[2])), f"{p}.WB"))
                ins.append(b.tensor(Const(f"{p}.RB", reorder(w[3])), f"{p}.RB"))
            attrs = {"hidden_size": h}
            if states:
                ins += [""] * (5 - len(ins)) + list(states)
                attrs["state_index"] = layer * dirs + d  # PyTorch's h_n row order
            if d:
                attrs["direction"] = "reverse"
            if kind == "RNN":
                attrs["activation"] = nonlinearity
            if kind == "GRU":
                attrs["linear_before_reset"] = 1
            n_out = 3 if kind == "LSTM" else 2
            name = f"{base}_l{layer}{sfx}"
            names = b.multi(kind, site, ins, [f"{name}_Y", f"{name}_Y_h", f"{name}_Y_c"][:n_out],
                            [(t, h), (h,), (h,)][:n_out], attrs)
            ys.append(names[0])
            hs.append(names[1])
            cs.extend(names[2:])
            if not bidirectional:
                last_step[names[0]] = names[1]
        x = ys[0] if dirs == 1 else b._node("Concat", site, ys, f"{base}_l{layer}_Y",
                                             [(bb, t, 2 * h) for bb in BATCHES], {"axis": 2})
    if kind == "LSTM":
        return (x, (_States(hs), _States(cs)))
    return (x, _States(hs))


def _getitem(c, site, node, x, out, shapes):
    index = node.args[1]
    if isinstance(x, tuple):
        return x[index]
    if isinstance(x, _States):
        if isinstance(index, int) and -len(x.names) <= index < len(x.names):
            return x.names[index]
        raise unsupported(site, f"index {index!r} of h_n; take one layer (h_n[-1])")
    if isinstance(x, str) and x in c.last_step and isinstance(index, tuple) and len(index) == 2 \
            and index[0] == slice(None) and isinstance(index[1], int):
        t = c.b.sample[x][0]
        if index[1] in (-1, t - 1):
            return c.last_step[x]
    raise unsupported(site, "indexing a computed value is supported only as out[:, -1] of a recurrent output "
                            "and h_n[k]")


def _squeeze(c, site, node, x, out, shapes):
    dim = _arg(node, 1, "dim", None)
    if isinstance(x, _States) and len(x.names) == 1 and dim in (0, None):
        return x.names[0]
    return c.b.reshape(site, x, out, shapes)


def _erf(c, site, node, x, out, shapes):
    return c.b.op("Erf", site, x, out, shapes)


def register(functions, methods, modules, shape_queries):
    """Add the 1.2 converters to torch_source's tables (modules: list of (class, converter))."""
    for f, op in ((operator.sub, "Sub"), (torch.sub, "Sub"), (operator.mul, "Mul"), (torch.mul, "Mul"),
                  (operator.truediv, "Div"), (torch.div, "Div"), (torch.true_divide, "Div")):
        functions[f] = _binary(op)
    functions[operator.add] = functions[torch.add] = _binary("Add")
    functions[operator.getitem] = _getitem
    functions.update({
        F.gelu: _gelu, F.silu: _unary("Silu"), F.leaky_relu: _leaky, torch.erf: _erf, torch.special.erf: _erf,
        F.layer_norm: _f_layer_norm, F.max_pool2d: _f_maxpool, F.avg_pool2d: _f_avgpool,
        F.adaptive_avg_pool2d: lambda c, site, node, x, out, shapes: _adaptive(c, site, x, _arg(node, 1, "output_size", None), out, shapes),
        torch.squeeze: _squeeze,
    })
    for name, op in (("sub", "Sub"), ("sub_", "Sub"), ("mul", "Mul"), ("mul_", "Mul"), ("div", "Div"), ("div_", "Div"),
                     ("add", "Add"), ("add_", "Add")):
        methods[name] = _binary(op)
    methods.update({"rsub": _binary("Sub", reverse=True), "erf": _erf, "squeeze": _squeeze, "__getitem__": _getitem})
    functions[getattr(operator, "sub")] = _binary("Sub")
    modules[:0] = [
        (nn.GELU, lambda c, site, node, m, x, out, shapes: c.b.op("Gelu", site, x, out, shapes, {"approximate": m.approximate})),
        (nn.SiLU, lambda c, site, node, m, x, out, shapes: c.b.op("Silu", site, x, out, shapes)),
        (nn.LeakyReLU, lambda c, site, node, m, x, out, shapes: c.b.op("LeakyRelu", site, x, out, shapes,
                                                                       {"alpha": float(m.negative_slope)})),
        (nn.LayerNorm, _m_layer_norm), (nn.BatchNorm1d, _m_batch_norm), (nn.BatchNorm2d, _m_batch_norm),
        (nn.Conv2d, _m_conv), (nn.MaxPool2d, _m_maxpool), (nn.AvgPool2d, _m_avgpool),
        (nn.AdaptiveAvgPool2d, lambda c, site, node, m, x, out, shapes: _adaptive(c, site, x, m.output_size, out, shapes)),
        (nn.GRU, _m_recurrent), (nn.LSTM, _m_recurrent), (nn.RNN, _m_recurrent),
    ]


_ = fx  # torch.fx node types appear in the converters' arguments
