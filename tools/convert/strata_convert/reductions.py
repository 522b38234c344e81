"""Reductions from torch.fx, TorchScript and ONNX. Means written by hand that are global average
pooling — `x.mean((2, 3))`, `torch.mean(x, [-2, -1], keepdim=True)`, ONNX `ReduceMean` over every
axis after the channels (MnasNet's head, squeeze-and-excitation blocks) — are lowered to
`GlobalAveragePool` (plus a Reshape to `[N, C]` without keepdim); a mean, sum or max over any other
non-batch axes is a `ReduceMean`/`ReduceSum`/`ReduceMax` (format 1.5). `F.normalize` (p = 2) and
ONNX `LpNormalization` are lowered to `x / max(√ΣX², eps)`: Mul, ReduceSum, Sqrt, Clip, Div.
An op-family module (op_families.py)."""
import numpy as np

from .errors import FormatError

REDUCE_OPS = ("ReduceMean", "ReduceSum", "ReduceMax")


def _reduce_axes(label, rank, attrs):
    axes = attrs.get("axes")
    if not axes:
        raise FormatError("MALFORMED", f"{label}: needs a non-empty 'axes'")
    if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
        raise FormatError("MALFORMED", f"{label}: axes {axes} out of range or repeated for rank {rank}")
    if any(a % rank == 0 for a in axes):
        raise FormatError("UNSUPPORTED", f"{label}: reduces axis 0, the batch")
    return tuple(sorted(a % rank for a in axes))


def _infer_reduce(label, shapes, attrs):
    x = list(shapes[0][1])
    axes = _reduce_axes(label, len(x), attrs)
    if attrs.get("keepdims", 1):
        return [1 if k in axes else d for k, d in enumerate(x)]
    return [d for k, d in enumerate(x) if k not in axes]


def _reference(fn):
    def run(xs, attrs, dtype):
        x = xs[0]
        axes = tuple(sorted(a % x.ndim for a in attrs["axes"]))
        return fn(x, axis=axes, keepdims=bool(attrs.get("keepdims", 1)))
    return run


INFER = {op: _infer_reduce for op in REDUCE_OPS}
REFERENCE = {"ReduceMean": _reference(np.mean), "ReduceSum": _reference(np.sum), "ReduceMax": _reference(np.max)}
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
        return reduce(b, site, "ReduceMean", x, dims, keepdim, out, shapes)
    pooled = [(n, sample[0]) + (1,) * (rank - 2) for n in BATCHES]
    if keepdim:
        return b._node("GlobalAveragePool", site, [x], out, shapes)
    gap = b._node("GlobalAveragePool", site, [x], f"{out}_pooled", pooled)
    return b.reshape(site, gap, out, shapes)


def reduce(b, site, op, x, dims, keepdim, out, shapes):
    """ReduceMean/Sum/Max of builder value `x` over `dims` (an int, a list, or None: every non-batch dim)."""
    x = b._value(site, x)
    rank = len(b.sample[x]) + 1
    if dims is None or dims == []:
        dims = list(range(1, rank))
    dims = [dims] if isinstance(dims, int) else list(dims)
    if any(not isinstance(d, int) or not -rank <= d < rank for d in dims):
        raise unsupported(site, f"dims {dims!r} are not dims of a rank-{rank} value")
    axes = sorted({d % rank for d in dims})
    if 0 in axes:
        raise unsupported(site, f"it reduces over dim 0, the batch (dims {dims!r}); Strata keeps samples apart")
    if not axes:
        return b.alias(x)
    return b._node(op, site, [x], out, shapes, {"axes": axes, "keepdims": int(bool(keepdim))})


def l2_norm(b, site, x, dims, keepdim, out, shapes):
    """√(Σ x² over `dims`) of builder value `x`: Mul, ReduceSum, Sqrt (torch.norm / linalg.vector_norm with p = 2)."""
    from .builder import BATCHES
    x = b._value(site, x)
    same = [(n, *b.sample[x]) for n in BATCHES]
    sq = b._node("Mul", site, [x, x], f"{out}_sq", same)
    total = reduce(b, site, "ReduceSum", sq, dims, keepdim, f"{out}_sumsq", shapes)
    return b._node("Sqrt", site, [total], out, shapes)


def normalize(b, site, x, p, dim, eps, out, shapes):
    """F.normalize(x, p=2, dim, eps) = x / max(‖x‖₂ over dim, eps), from ops the engine has."""
    from .builder import BATCHES
    x = b._value(site, x)
    if p not in (2, 2.0):
        raise unsupported(site, f"p = {p!r}; Strata's normalize takes p = 2")
    rank = len(b.sample[x]) + 1
    if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"dim {dim!r}: Strata normalizes along a non-batch dim")
    same = [(n, *b.sample[x]) for n in BATCHES]
    kept = [(n, *[1 if k == dim % rank - 1 else d for k, d in enumerate(b.sample[x])]) for n in BATCHES]
    sq = b._node("Mul", site, [x, x], f"{out}_sq", same)
    total = b._node("ReduceSum", site, [sq], f"{out}_sumsq", kept, {"axes": [dim % rank], "keepdims": 1})
    norm = b._node("Sqrt", site, [total], f"{out}_norm", kept)
    if eps:
        norm = b._node("Clip", site, [norm], f"{out}_norm_clipped", kept, {"min": float(eps)})
    return b._node("Div", site, [x, norm], out, shapes)


# ---- torch.fx ---------------------------------------------------------------------------------

def _fx_mean(c, site, node, x, out, shapes):
    if node.kwargs.get("dtype") is not None:
        raise unsupported(site, "a dtype argument")
    dims = c.literal(site, node, 1, "dim", None)
    keepdim = c.literal(site, node, 2, "keepdim", False)
    return _lower(c.b, site, x, dims, bool(keepdim), out, shapes)


def _fx_reduce(op):
    def convert(c, site, node, x, out, shapes):
        if node.kwargs.get("dtype") is not None:
            raise unsupported(site, "a dtype argument")
        dims = c.literal(site, node, 1, "dim", None)
        return reduce(c.b, site, op, x, dims, bool(c.literal(site, node, 2, "keepdim", False)), out, shapes)
    return convert


def _fx_normalize(c, site, node, x, out, shapes):
    p = c.literal(site, node, 1, "p", 2.0)
    dim = c.literal(site, node, 2, "dim", 1)
    eps = c.literal(site, node, 3, "eps", 1e-12)
    return normalize(c.b, site, x, p, dim, eps, out, shapes)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch
    import torch.nn.functional as F
    functions[torch.mean] = _fx_mean
    methods["mean"] = _fx_mean
    functions[torch.sum] = methods["sum"] = _fx_reduce("ReduceSum")
    functions[torch.amax] = methods["amax"] = _fx_reduce("ReduceMax")
    functions[F.normalize] = _fx_normalize


# ---- TorchScript ---------------------------------------------------------------------------------

def _ts_mean(c, site, a, out, shapes):
    if c.literal(site, a.get("dtype"), "dtype") is not None:
        raise unsupported(site, "a dtype argument")
    dims = c.literal(site, a.get("dim"), "dim")
    keepdim = c.literal(site, a.get("keepdim"), "keepdim")
    return _lower(c.b, site, c.operand(a["self"]), dims, bool(keepdim), out, shapes)


def _ts_reduce(op):
    def convert(c, site, a, out, shapes):
        if c.literal(site, a.get("dtype"), "dtype") is not None:
            raise unsupported(site, "a dtype argument")
        dims = c.literal(site, a.get("dim"), "dim")
        keepdim = c.literal(site, a.get("keepdim"), "keepdim")
        return reduce(c.b, site, op, c.operand(a["self"]), dims, bool(keepdim), out, shapes)
    return convert


def _ts_norm(c, site, a, out, shapes):
    p = c.literal(site, a.get("p", a.get("ord")), "p")
    if p not in (None, 2, 2.0) or c.literal(site, a.get("dtype"), "dtype") is not None:
        raise unsupported(site, f"p = {p!r}; Strata computes the 2-norm only")
    dims = c.literal(site, a.get("dim"), "dim")
    return l2_norm(c.b, site, c.operand(a["self"]), dims, bool(c.literal(site, a.get("keepdim"), "keepdim")), out, shapes)


def _ts_expand_as(c, site, a, out, shapes):
    """x.expand_as(y) feeding a broadcasting op (F.normalize's divisor): the value itself, since Add/Sub/
    Mul/Div broadcast in the kernel; refused when it would add dims."""
    x = c.operand(a["self"])
    if not isinstance(x, str) or x not in c.b.sample or len(c.b.sample[x]) + 1 != len(shapes[0]):
        raise unsupported(site, "it expands to another rank")
    return c.b.alias(x)


ATEN = {"aten::mean": _ts_mean, "aten::sum": _ts_reduce("ReduceSum"), "aten::amax": _ts_reduce("ReduceMax"),
        "aten::norm": _ts_norm, "aten::linalg_vector_norm": _ts_norm, "aten::expand_as": _ts_expand_as}


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers by op type (see activations.onnx_handlers for the helpers)."""
    import numpy as np

    from .builder import BATCHES
    from .errors import ConversionError

    def axes_of(self, node, args, rank):
        axes = attr(node, "axes", None)  # an attribute before opset 13 (ReduceSum) / 18 (the others), then an input
        if axes is None and len(args) > 1 and args[1] is not None:
            axes = [int(a) for a in np.asarray(const(self, node, args[1], "axes input")).reshape(-1)]
        if not axes:
            if attr(node, "noop_with_empty_axes", 0):
                return []
            axes = list(range(rank))
        if any(not -rank <= a < rank for a in axes):
            raise ConversionError(f"{where(node)}: axes {axes} out of range for rank {rank}")
        return sorted({a % rank for a in axes})

    def handler(op):
        def convert(self, node, args):
            from .onnx_source import _V
            v = args[0]
            if not isinstance(v, _V):
                raise ConversionError(f"{where(node)}: its input must be computed from the model input")
            rank = len(v.axes)
            axes = axes_of(self, node, args, rank)
            if not axes:
                return v
            if 0 in axes:
                raise ConversionError(f"{where(node)}: {op} over axes {axes} includes axis 0, the batch; Strata keeps samples apart")
            keep = attr(node, "keepdims", 1)
            x = self._mat(v, where(node))
            if op == "ReduceMean" and _spatial(rank, axes):  # global average pooling
                pooled = _V(self._emit("GlobalAveragePool", node, [x]), range(rank))
                if keep:
                    return pooled
                return self._reshape_to(node, pooled, [np.array(self._onnx_shape(v, b)[:2]) for b in BATCHES], 1)
            y = self._emit(op, node, [x], {"axes": axes, "keepdims": int(bool(keep))})
            return _V(y, range(len(self.dims[y])))
        return convert

    def lp_normalization(self, node, args):
        from .onnx_source import _V
        v = args[0]
        if not isinstance(v, _V) or attr(node, "p", 2) != 2:
            raise ConversionError(f"{where(node)}: Strata's LpNormalization takes p = 2 on a computed value")
        x = self._mat(v, where(node))
        rank = len(self.dims[x])
        axis = attr(node, "axis", -1) % rank
        if axis == 0:
            raise ConversionError(f"{where(node)}: it normalizes along axis 0, the batch")
        base = node.output[0]
        sq = self._emit("Mul", node, [x, x], out_names=[f"{base}_sq"])
        total = self._emit("ReduceSum", node, [sq], {"axes": [axis], "keepdims": 1}, out_names=[f"{base}_sumsq"])
        norm = self._emit("Sqrt", node, [total], out_names=[f"{base}_norm"])
        return _V(self._emit("Div", node, [x, norm]), range(rank))

    def reduce_l2(self, node, args):
        from .onnx_source import _V
        v = args[0]
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        axes = axes_of(self, node, args, len(v.axes))
        if 0 in axes or not axes:
            raise ConversionError(f"{where(node)}: ReduceL2 over axes {axes}: Strata reduces non-batch axes only")
        x = self._mat(v, where(node))
        base = node.output[0]
        sq = self._emit("Mul", node, [x, x], out_names=[f"{base}_sq"])
        total = self._emit("ReduceSum", node, [sq], {"axes": axes, "keepdims": int(bool(attr(node, "keepdims", 1)))},
                           out_names=[f"{base}_sumsq"])
        y = self._emit("Sqrt", node, [total])
        return _V(y, range(len(self.dims[y])))

    return {"ReduceMean": handler("ReduceMean"), "ReduceSum": handler("ReduceSum"), "ReduceMax": handler("ReduceMax"),
            "LpNormalization": lp_normalization, "ReduceL2": reduce_l2}
