"""Means written by hand that are global average pooling — `x.mean((2, 3))`, `torch.mean(x, [-2, -1],
keepdim=True)`, ONNX `ReduceMean` over every axis after the channels (MnasNet's head, squeeze-and-
excitation blocks) — lowered to `GlobalAveragePool` (plus a Reshape to `[N, C]` without keepdim),
from torch.fx, TorchScript and ONNX. A mean over other axes is refused with what is supported.
An op-family module (op_families.py): it adds converters only, no op of its own."""

INFER = {}
REFERENCE = {}
ATEN_TAKES_LISTS = set()


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports op_families
    return make(site, why)


def _spatial(rank, dims):
    """True when `dims` (any order, negatives allowed) are exactly the axes 2 … rank-1 of a rank ≥ 3 value."""
    if dims is None or rank < 3:
        return False
    dims = [dims] if isinstance(dims, int) else list(dims)
    return sorted(d % rank for d in dims) == list(range(2, rank)) and len(set(d % rank for d in dims)) == len(dims)


def _lower(b, site, x, dims, keepdim, out, shapes):
    """GlobalAveragePool of builder value `x` (and a Reshape to [N, C] unless `keepdim`)."""
    from .builder import BATCHES
    x = b._value(site, x)
    sample = b.sample[x]
    rank = len(sample) + 1
    if not _spatial(rank, dims):
        raise unsupported(site, f"it averages over dims {dims!r} of a rank-{rank} value; Strata lowers a mean over "
                                "every dim after the channels (2 … rank-1) to global average pooling, and no other")
    pooled = [(n, sample[0]) + (1,) * (rank - 2) for n in BATCHES]
    if keepdim:
        return b._node("GlobalAveragePool", site, [x], out, shapes)
    gap = b._node("GlobalAveragePool", site, [x], f"{out}_pooled", pooled)
    return b.reshape(site, gap, out, shapes)


# ---- torch.fx ---------------------------------------------------------------------------------

def _fx_mean(c, site, node, x, out, shapes):
    if node.kwargs.get("dtype") is not None:
        raise unsupported(site, "a dtype argument")
    dims = c.literal(site, node, 1, "dim", None)
    keepdim = c.literal(site, node, 2, "keepdim", False)
    return _lower(c.b, site, x, dims, bool(keepdim), out, shapes)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch
    functions[torch.mean] = _fx_mean
    methods["mean"] = _fx_mean


# ---- TorchScript ---------------------------------------------------------------------------------

def _ts_mean(c, site, a, out, shapes):
    if c.literal(site, a.get("dtype"), "dtype") is not None:
        raise unsupported(site, "a dtype argument")
    dims = c.literal(site, a.get("dim"), "dim")
    keepdim = c.literal(site, a.get("keepdim"), "keepdim")
    return _lower(c.b, site, c.operand(a["self"]), dims, bool(keepdim), out, shapes)


ATEN = {"aten::mean": _ts_mean}


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers by op type (see activations.onnx_handlers for the helpers)."""
    def reduce_mean(self, node, args):
        import numpy as np
        from .builder import BATCHES
        from .errors import ConversionError
        from .onnx_source import _V
        v = args[0]
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        axes = attr(node, "axes", None)  # opset < 18: an attribute; since 18: an optional input
        if axes is None and len(args) > 1 and args[1] is not None:
            axes = [int(a) for a in np.asarray(const(self, node, args[1], "axes input")).reshape(-1)]
        rank = len(v.axes)
        if not _spatial(rank, axes):
            raise ConversionError(f"{where(node)}: ReduceMean over axes {axes} of a rank-{rank} value; Strata lowers "
                                  "a mean over every axis after the channels (2 … rank-1) to GlobalAveragePool, and no other")
        x = self._mat(v, where(node))
        pooled = _V(self._emit("GlobalAveragePool", node, [x]), range(rank))
        if attr(node, "keepdims", 1):
            return pooled
        return self._reshape_to(node, pooled, [np.array(self._onnx_shape(v, b)[:2]) for b in BATCHES], 1)
    return {"ReduceMean": reduce_mean}
