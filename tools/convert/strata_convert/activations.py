"""The clamp family (format 1.4: Clip, HardSigmoid, HardSwish) from every source, in one place:
the shape rule and numpy reference semantics, the torch.fx converters (functions, Tensor methods,
modules), the TorchScript (aten::) converters and the ONNX handlers. An op-family module
(op_families.py lists them); the frontends, numpy_ref and validate merge its tables into theirs.

Adding an elementwise op: a row in format.py's OPS, its reference here, and its converters here
(docs/ADDING_AN_OP.md)."""
import numpy as np


def unsupported(site, why):
    """builder.unsupported, imported when first needed (validate imports this module, and builder
    imports validate)."""
    from .builder import unsupported as make
    return make(site, why)

SIXTH = np.float32(1.0) / np.float32(6.0)


def _unit_clamp(t, dtype):
    return np.clip(t, dtype(0), dtype(1))


# numpy reference semantics, (inputs, attributes, dtype) -> output: numpy_ref runs them in the
# graph's dtype; NaN propagates as in the engine.
REFERENCE = {
    "Clip": lambda xs, a, dtype: np.minimum(np.maximum(xs[0], dtype(a.get("min", -np.inf))), dtype(a.get("max", np.inf))),
    "HardSigmoid": lambda xs, a, dtype: _unit_clamp(dtype(a.get("alpha", 0.2)) * xs[0] + dtype(a.get("beta", 0.5)), dtype),
    "HardSwish": lambda xs, a, dtype: xs[0] * _unit_clamp(xs[0] * dtype(SIXTH) + dtype(0.5), dtype),
}
# Shape rules (validate): elementwise, the output has the input's shape.
INFER = {op: (lambda label, shapes, attrs: list(shapes[0][1])) for op in REFERENCE}


def _bound(site, v, what):
    """A clamp bound known at conversion time: a Python number or None; a tensor is refused."""
    if v is None or isinstance(v, (int, float)) and not isinstance(v, bool):
        return None if v is None else float(v)
    raise unsupported(site, f"its {what} bound is a tensor; Strata's Clip takes constant bounds")


def _clip_attrs(site, lo, hi):
    lo, hi = _bound(site, lo, "min"), _bound(site, hi, "max")
    if lo is not None and np.isnan(lo) or hi is not None and np.isnan(hi):
        raise unsupported(site, "a clamp bound is NaN")
    attrs = {}  # min > max is allowed: every value becomes max (PyTorch and ONNX agree)
    if lo is not None:
        attrs["min"] = lo
    if hi is not None:
        attrs["max"] = hi
    return attrs


HARDSIGMOID_TORCH = {"alpha": float(SIXTH), "beta": 0.5}


# ---- torch.fx: (c, site, node, x, out, shapes) for functions and Tensor methods, and
# ---- (c, site, node, m, x, out, shapes) for modules ------------------------------------------

def _fx_arg(node, index, key, default):
    return node.args[index] if len(node.args) > index else node.kwargs.get(key, default)


def _fx_inplace(c, site, node, inplace):
    c.check_inplace(site, node, inplace or str(node.target).endswith("_"))


def _fx_clip(lo_index, hi_index, lo_default=None, hi_default=None, lo_key="min", hi_key="max", inplace_index=None):
    def convert(c, site, node, x, out, shapes):
        inplace = node.kwargs.get("inplace", False) is True or (
            inplace_index is not None and len(node.args) > inplace_index and node.args[inplace_index] is True)
        _fx_inplace(c, site, node, inplace)
        lo = _fx_arg(node, lo_index, lo_key, lo_default) if lo_index is not None else lo_default
        hi = _fx_arg(node, hi_index, hi_key, hi_default) if hi_index is not None else hi_default
        return c.b.op("Clip", site, x, out, shapes, _clip_attrs(site, lo, hi))
    return convert


def _fx_fixed(op, attrs=None):
    def convert(c, site, node, x, out, shapes):
        _fx_inplace(c, site, node, node.kwargs.get("inplace", False) is True or (
            len(node.args) > 1 and node.args[1] is True))
        return c.b.op(op, site, x, out, shapes, dict(attrs) if attrs else None)
    return convert


def _fx_module_hardtanh(c, site, node, m, x, out, shapes):  # nn.ReLU6 is a Hardtanh(0, 6)
    c.check_inplace(site, node, m.inplace)
    return c.b.op("Clip", site, x, out, shapes, _clip_attrs(site, m.min_val, m.max_val))


def _fx_module_fixed(op, attrs=None):
    def convert(c, site, node, m, x, out, shapes):
        c.check_inplace(site, node, getattr(m, "inplace", False))
        return c.b.op(op, site, x, out, shapes, dict(attrs) if attrs else None)
    return convert


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    functions.update({
        F.relu6: _fx_clip(None, None, 0.0, 6.0, inplace_index=1),
        F.hardtanh: _fx_clip(1, 2, -1.0, 1.0, "min_val", "max_val", inplace_index=3),
        F.hardtanh_: _fx_clip(1, 2, -1.0, 1.0, "min_val", "max_val"),
        torch.clamp: _fx_clip(1, 2), torch.clip: _fx_clip(1, 2), torch.clamp_: _fx_clip(1, 2),
        torch.clamp_min: _fx_clip(1, None), torch.clamp_max: _fx_clip(None, 1, hi_key="max"),
        F.hardsigmoid: _fx_fixed("HardSigmoid", HARDSIGMOID_TORCH),
        F.hardswish: _fx_fixed("HardSwish"),
    })
    for name in ("clamp", "clip", "clamp_", "clip_"):
        methods[name] = _fx_clip(1, 2)
    methods.update({"clamp_min": _fx_clip(1, None), "clamp_min_": _fx_clip(1, None),
                    "clamp_max": _fx_clip(None, 1, hi_key="max"), "clamp_max_": _fx_clip(None, 1, hi_key="max")})
    modules[:0] = [(nn.Hardtanh, _fx_module_hardtanh),
                   (nn.Hardsigmoid, _fx_module_fixed("HardSigmoid", HARDSIGMOID_TORCH)),
                   (nn.Hardswish, _fx_module_fixed("HardSwish"))]


# ---- TorchScript: (c, site, a, out, shapes) with `a` the schema's arguments by name -----------

def _ts_clip(lo_key, hi_key, lo_default=None, hi_default=None):
    def convert(c, site, a, out, shapes):
        lo = c.literal(site, a.get(lo_key), lo_key) if lo_key else None
        hi = c.literal(site, a.get(hi_key), hi_key) if hi_key else None
        lo = lo_default if lo is None else lo
        hi = hi_default if hi is None else hi
        return c.b.op("Clip", site, c.operand(a["self"]), out, shapes, _clip_attrs(site, lo, hi))
    return convert


def _ts_fixed(op, attrs=None):
    return lambda c, site, a, out, shapes: c.b.op(op, site, c.operand(a["self"]), out, shapes, dict(attrs) if attrs else None)


def _ts_table():
    table = {}
    for suffix in ("", "_"):
        table.update({
            f"aten::relu6{suffix}": _ts_clip(None, None, 0.0, 6.0),
            f"aten::hardtanh{suffix}": _ts_clip("min_val", "max_val", -1.0, 1.0),
            f"aten::clamp{suffix}": _ts_clip("min", "max"), f"aten::clip{suffix}": _ts_clip("min", "max"),
            f"aten::clamp_min{suffix}": _ts_clip("min", None), f"aten::clamp_max{suffix}": _ts_clip(None, "max"),
            f"aten::hardsigmoid{suffix}": _ts_fixed("HardSigmoid", HARDSIGMOID_TORCH),
            f"aten::hardswish{suffix}": _ts_fixed("HardSwish"),
        })
    return table


ATEN = _ts_table()
ATEN_TAKES_LISTS = set()


# ---- ONNX: handler(converter, node, args) -> value, args[i] None for an absent input ----------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers by op type, made with the ONNX converter's helpers:
    `unary(op, **attr_getters)` its elementwise handler maker, `attr(node, key, default)` an attribute,
    `const(converter, node, c, what)` an initializer's array, `where(node)` the node for messages."""
    def scalar(self, node, args, index, what):
        if len(args) <= index or args[index] is None:
            return None
        v = np.asarray(const(self, node, args[index], f"{what} input"))
        if v.size != 1:
            raise unsupported(where(node), f"its {what} input has {v.size} values; Clip takes one")
        return float(v.reshape(-1)[0])

    def clip(self, node, args):
        lo, hi = attr(node, "min", None), attr(node, "max", None)  # opset < 11: attributes
        lo = scalar(self, node, args, 1, "min") if lo is None else lo  # opset >= 11: optional inputs
        hi = scalar(self, node, args, 2, "max") if hi is None else hi
        attrs = _clip_attrs(where(node), None if lo is None else float(lo), None if hi is None else float(hi))
        return unary("Clip", **{k: (lambda n, v=v: v) for k, v in attrs.items()})(self, node, args[:1])

    return {
        "Clip": clip,
        "HardSigmoid": unary("HardSigmoid", alpha=lambda n: float(attr(n, "alpha", 0.2)),
                             beta=lambda n: float(attr(n, "beta", 0.5))),
        "HardSwish": unary("HardSwish"),
    }
