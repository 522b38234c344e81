"""Elementwise math of format 1.5 (Elu, Selu, Softplus, Mish, Abs, Neg, Sqrt, Pow with a constant
exponent, Exp, Log, Reciprocal) and PReLU, from every source, in one place: the shape rule and numpy
reference semantics, the torch.fx converters (functions, Tensor methods, modules), the TorchScript
(aten::) converters and the ONNX handlers. The runtime runs each op as an `Activation` (alone or
fused into the Linear/Conv before it). PReLU (a per-channel slope) is lowered to
`Relu(x) − slope · Relu(Neg(x))`, which is exact. An op-family module (op_families.py)."""
import numpy as np

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports this module
    return make(site, why)


def _softplus(x, a, dtype):
    beta, threshold = dtype(a.get("beta", 1.0)), a.get("threshold", np.inf)
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _pow(x, e):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.power(x, x.dtype.type(e))


# numpy reference semantics, (inputs, attributes, dtype) -> output
REFERENCE = {
    "Elu": lambda xs, a, dtype: np.where(xs[0] > 0, xs[0], dtype(a.get("alpha", 1.0)) * np.expm1(xs[0])),
    "Selu": lambda xs, a, dtype: dtype(SELU_SCALE) * np.where(xs[0] > 0, xs[0], dtype(SELU_ALPHA) * np.expm1(xs[0])),
    "Softplus": lambda xs, a, dtype: _softplus(xs[0], a, dtype),
    "Mish": lambda xs, a, dtype: xs[0] * np.tanh(_softplus(xs[0], {"threshold": 20.0}, dtype)),
    "Abs": lambda xs, a, dtype: np.abs(xs[0]),
    "Neg": lambda xs, a, dtype: -xs[0],
    "Sqrt": lambda xs, a, dtype: np.sqrt(xs[0]),
    "Pow": lambda xs, a, dtype: _pow(xs[0], a["exponent"]),
    "Exp": lambda xs, a, dtype: np.exp(xs[0]),
    "Log": lambda xs, a, dtype: np.log(xs[0]),
    "Reciprocal": lambda xs, a, dtype: 1 / xs[0],
}
INFER = {op: (lambda label, shapes, attrs: list(shapes[0][1])) for op in REFERENCE}


def _float_attr(site, v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise unsupported(site, f"its {what} must be a finite number known when converting, not {v!r}")
    return float(v)


def _pow_attrs(site, exponent):
    return {"exponent": _float_attr(site, exponent, "exponent")}


def _softplus_attrs(site, beta, threshold):
    beta = _float_attr(site, beta, "beta")
    if beta == 0:
        raise unsupported(site, "beta = 0")
    return {"beta": beta, "threshold": _float_attr(site, threshold, "threshold")}


def prelu(b, site, x, slope, out, shapes):
    """PReLU of builder value `x` with Const `slope` (one value, or one per channel, dim 1)."""
    from .builder import BATCHES, Const
    x = b._value(site, x)
    a = np.asarray(slope.array, dtype=np.float64).reshape(-1)
    sample = b.sample[x]
    if a.size not in (1, sample[0] if sample else 1):
        raise unsupported(site, f"its slope has {a.size} values for {sample[0] if sample else 1} channels")
    shape = (a.size,) + (1,) * (len(sample) - 1) if a.size > 1 else (1,)
    same = [(n, *sample) for n in BATCHES]
    pos = b._node("Relu", site, [x], f"{out}_pos", same)
    neg = b._node("Relu", site, [b._node("Neg", site, [x], f"{out}_neg_x", same)], f"{out}_neg", same)
    scaled = b.binary("Mul", site, neg, Const(slope.name, a.reshape(shape)), f"{out}_neg_scaled", same)
    return b.binary("Sub", site, pos, scaled, out, shapes)


# ---- torch.fx ----------------------------------------------------------------------------------

def _fx_arg(node, index, key, default):
    return node.args[index] if len(node.args) > index else node.kwargs.get(key, default)


def _fx_inplace(c, site, node, flag_index=None):
    inplace = str(node.target).endswith("_") or node.kwargs.get("inplace", False) is True or (
        flag_index is not None and len(node.args) > flag_index and node.args[flag_index] is True)
    c.check_inplace(site, node, inplace)


def _fx_fixed(op, flag_index=None):
    def convert(c, site, node, x, out, shapes):
        _fx_inplace(c, site, node, flag_index)
        return c.b.op(op, site, x, out, shapes)
    return convert


def _fx_elu(c, site, node, x, out, shapes):
    _fx_inplace(c, site, node, 2)
    return c.b.op("Elu", site, x, out, shapes, {"alpha": _float_attr(site, _fx_arg(node, 1, "alpha", 1.0), "alpha")})


def _fx_softplus(c, site, node, x, out, shapes):
    attrs = _softplus_attrs(site, _fx_arg(node, 1, "beta", 1.0), _fx_arg(node, 2, "threshold", 20.0))
    return c.b.op("Softplus", site, x, out, shapes, attrs)


def _fx_pow(c, site, node, x, out, shapes):
    e = _fx_arg(node, 1, "exponent", None)
    if not isinstance(x, str):
        raise unsupported(site, "its base is not a value computed from the model input (a constant base is not supported)")
    _fx_inplace(c, site, node)
    return c.b.op("Pow", site, x, out, shapes, _pow_attrs(site, e))


def _fx_square(c, site, node, x, out, shapes):
    return c.b.op("Pow", site, x, out, shapes, {"exponent": 2.0})


def _fx_rsqrt(c, site, node, x, out, shapes):
    return c.b.op("Pow", site, x, out, shapes, {"exponent": -0.5})


def _fx_prelu(c, site, node, x, out, shapes):
    w = c.val(_fx_arg(node, 1, "weight", None))
    from .builder import Const
    if not isinstance(w, Const):
        raise unsupported(site, "its weight must be a constant tensor")
    return prelu(c.b, site, x, w, out, shapes)


def _m_fixed(op, attrs=lambda m: None):
    def convert(c, site, node, m, x, out, shapes):
        c.check_inplace(site, node, getattr(m, "inplace", False))
        return c.b.op(op, site, x, out, shapes, attrs(m))
    return convert


def _m_prelu(c, site, node, m, x, out, shapes):
    from .builder import Const
    return prelu(c.b, site, x, Const(f"{node.target}.weight", m.weight.detach().float().numpy()), out, shapes)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import operator

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    functions.update({
        F.elu: _fx_elu, F.elu_: _fx_elu, F.selu: _fx_fixed("Selu", 1), torch.selu: _fx_fixed("Selu"),
        F.softplus: _fx_softplus, F.mish: _fx_fixed("Mish", 1),
        torch.abs: _fx_fixed("Abs"), torch.absolute: _fx_fixed("Abs"), torch.neg: _fx_fixed("Neg"),
        torch.negative: _fx_fixed("Neg"), operator.neg: _fx_fixed("Neg"), operator.abs: _fx_fixed("Abs"),
        torch.sqrt: _fx_fixed("Sqrt"), torch.exp: _fx_fixed("Exp"), torch.log: _fx_fixed("Log"),
        torch.reciprocal: _fx_fixed("Reciprocal"), torch.pow: _fx_pow, operator.pow: _fx_pow,
        torch.square: _fx_square, torch.rsqrt: _fx_rsqrt, F.prelu: _fx_prelu, torch.prelu: _fx_prelu,
    })
    for name, op in (("abs", "Abs"), ("neg", "Neg"), ("negative", "Neg"), ("sqrt", "Sqrt"), ("exp", "Exp"),
                     ("log", "Log"), ("reciprocal", "Reciprocal")):
        methods[name] = methods[name + "_"] = _fx_fixed(op)
    methods.update({"pow": _fx_pow, "pow_": _fx_pow, "__pow__": _fx_pow, "square": _fx_square, "rsqrt": _fx_rsqrt})
    modules[:0] = [
        (nn.ELU, _m_fixed("Elu", lambda m: {"alpha": float(m.alpha)})),
        (nn.SELU, _m_fixed("Selu")),
        (nn.Softplus, lambda c, site, node, m, x, out, shapes: c.b.op(
            "Softplus", site, x, out, shapes, _softplus_attrs(site, m.beta, m.threshold))),
        (nn.Mish, _m_fixed("Mish")),
        (nn.PReLU, _m_prelu),
    ]


# ---- TorchScript ---------------------------------------------------------------------------------

def _ts_fixed(op):
    return lambda c, site, a, out, shapes: c.b.op(op, site, c.operand(a["self"]), out, shapes)


def _ts_elu(c, site, a, out, shapes):
    for key, want in (("scale", 1), ("input_scale", 1)):
        if c.literal(site, a.get(key), key) not in (None, want):
            raise unsupported(site, f"{key} ≠ 1")
    alpha = c.literal(site, a.get("alpha"), "alpha")
    return c.b.op("Elu", site, c.operand(a["self"]), out, shapes, {"alpha": _float_attr(site, 1.0 if alpha is None else alpha, "alpha")})


def _ts_softplus(c, site, a, out, shapes):
    beta, threshold = c.literal(site, a.get("beta"), "beta"), c.literal(site, a.get("threshold"), "threshold")
    return c.b.op("Softplus", site, c.operand(a["self"]), out, shapes,
                  _softplus_attrs(site, 1.0 if beta is None else beta, 20.0 if threshold is None else threshold))


def _ts_pow(c, site, a, out, shapes):
    if "exponent" not in a or a["exponent"].kind == "value":
        raise unsupported(site, "its exponent is a tensor; Strata's Pow takes a constant number")
    e = c.literal(site, a["exponent"], "exponent")
    return c.b.op("Pow", site, c.operand(a["self"]), out, shapes, _pow_attrs(site, e))


def _ts_prelu(c, site, a, out, shapes):
    from .builder import Const
    w = c.operand(a["weight"])
    if not isinstance(w, Const):
        raise unsupported(site, "its weight must be a constant tensor")
    return prelu(c.b, site, c.operand(a["self"]), w, out, shapes)


def _ts_table():
    table = {"aten::elu": _ts_elu, "aten::elu_": _ts_elu, "aten::softplus": _ts_softplus,
             "aten::pow": _ts_pow, "aten::pow_": _ts_pow, "aten::prelu": _ts_prelu,
             "aten::square": lambda c, site, a, out, shapes: c.b.op("Pow", site, c.operand(a["self"]), out, shapes, {"exponent": 2.0}),
             "aten::rsqrt": lambda c, site, a, out, shapes: c.b.op("Pow", site, c.operand(a["self"]), out, shapes, {"exponent": -0.5})}
    for name, op in (("selu", "Selu"), ("mish", "Mish"), ("abs", "Abs"), ("absolute", "Abs"), ("neg", "Neg"),
                     ("negative", "Neg"), ("sqrt", "Sqrt"), ("exp", "Exp"), ("log", "Log"), ("reciprocal", "Reciprocal")):
        table[f"aten::{name}"] = table[f"aten::{name}_"] = _ts_fixed(op)
    return table


ATEN = _ts_table()
ATEN_TAKES_LISTS = set()


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers by op type (see activations.onnx_handlers for the helpers)."""
    from .errors import ConversionError

    def selu(self, node, args):
        alpha, gamma = attr(node, "alpha", 1.67326319217681884765625), attr(node, "gamma", 1.05070102214813232421875)
        if abs(alpha - SELU_ALPHA) > 1e-6 or abs(gamma - SELU_SCALE) > 1e-6:
            raise ConversionError(f"{where(node)}: alpha {alpha}, gamma {gamma}; Strata's Selu has the standard constants only")
        return unary("Selu")(self, node, args)

    def pow_(self, node, args):
        from .onnx_source import _V
        if not isinstance(args[0], _V):
            raise ConversionError(f"{where(node)}: its base must be computed from the model input")
        e = np.asarray(const(self, node, args[1], "exponent input"))
        if e.size != 1 or not np.isfinite(e).all():
            raise ConversionError(f"{where(node)}: its exponent has {e.size} values; Strata's Pow takes one finite constant")
        return unary("Pow", exponent=lambda n, v=float(e.reshape(-1)[0]): v)(self, node, args[:1])

    def prelu_(self, node, args):
        from .onnx_source import _V
        if not isinstance(args[0], _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        x = self._mat(args[0], where(node))
        rank = len(self.dims[x])
        slope = np.asarray(const(self, node, args[1], "slope input"), dtype=np.float64)
        channels = self.dims[x][1] if rank > 1 else 1
        padded = (1,) * (rank - slope.ndim) + slope.shape
        s = slope.reshape(-1)
        if slope.ndim > rank or s.size not in (1, channels) or any(d != 1 for k, d in enumerate(padded) if k != 1):
            raise ConversionError(f"{where(node)}: slope of shape {list(slope.shape)}; Strata's PRelu takes one slope "
                                  f"or one per channel (dim 1 of {self.dims[x]})")
        shape = (s.size,) + (1,) * (rank - 2) if s.size > 1 else (1,)
        pos = self._emit("Relu", node, [x], out_names=[f"{node.output[0]}_pos"])
        neg = self._emit("Relu", node, [self._emit("Neg", node, [x], out_names=[f"{node.output[0]}_negx"])],
                         out_names=[f"{node.output[0]}_neg"])
        t = self._tensor(s.reshape(shape), f"{node.name or node.output[0]}.slope")
        scaled = self._emit("Mul", node, [neg, t], out_names=[f"{node.output[0]}_scaled"])
        return _V(self._emit("Sub", node, [pos, scaled]), range(rank))

    def softplus(self, node, args):
        return unary("Softplus", beta=lambda n: 1.0, threshold=lambda n: float("inf"))(self, node, args)

    return {
        "Elu": unary("Elu", alpha=lambda n: float(attr(n, "alpha", 1.0))),
        "Selu": selu, "Softplus": softplus, "Mish": unary("Mish"), "Abs": unary("Abs"), "Neg": unary("Neg"),
        "Sqrt": unary("Sqrt"), "Exp": unary("Exp"), "Log": unary("Log"), "Reciprocal": unary("Reciprocal"),
        "Pow": pow_, "PRelu": prelu_,
    }
