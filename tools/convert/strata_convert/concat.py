"""Concat (format 1.4) from every source, in one place: its shape rule (validate), numpy reference
(numpy_ref), and the torch.fx (`torch.cat`/`concat`/`concatenate`), TorchScript (`aten::cat`) and
ONNX (`Concat`) converters. Every input must be a value computed from the model input, joined
along a dimension other than the batch."""
import numpy as np

from .errors import FormatError


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports this module
    return make(site, why)


def _infer(label, shapes, attrs):
    """The output shape (batch included) of Concat on `shapes` [(kind, full shape)]."""
    if any(kind != "value" for kind, _ in shapes):
        raise FormatError("UNSUPPORTED", f"{label}: every input must be a computed value, not a stored tensor")
    dims = [list(s) for _, s in shapes]
    rank, axis = len(dims[0]), attrs["axis"]
    if axis is None:
        raise FormatError("MALFORMED", f"{label}: Concat needs the int attribute 'axis'")
    if not -rank <= axis < rank:
        raise FormatError("MALFORMED", f"{label}: axis {axis} is out of range for rank {rank}")
    axis %= rank
    if axis == 0:
        raise FormatError("UNSUPPORTED", f"{label}: axis 0 is the batch")
    for d in dims[1:]:
        if len(d) != rank or any(a != b for i, (a, b) in enumerate(zip(d, dims[0])) if i != axis):
            raise FormatError("SHAPE_MISMATCH", f"{label}: shapes {dims} differ outside axis {axis}")
    out = list(dims[0])
    out[axis] = sum(d[axis] for d in dims)
    return out


INFER = {"Concat": _infer}
REFERENCE = {"Concat": lambda args, attrs, dtype: np.concatenate(args, axis=attrs["axis"])}


def _emit(b, site, values, dim, out, shapes):
    """A Concat node of builder values `values` along `dim` (of the full rank, batch included)."""
    names = [b._value(site, v, "inputs") for v in values]
    rank = len(b.sample[names[0]]) + 1
    if not isinstance(dim, int) or not -rank <= dim < rank:
        raise unsupported(site, f"dim {dim!r} is not a dimension of a rank-{rank} value")
    if dim % rank == 0:
        raise unsupported(site, "it joins along dimension 0, the batch (Strata keeps samples apart)")
    if len(names) == 1:
        return b.alias(names[0])
    axis = dim % rank
    while len(names) > 16:  # a node takes at most 16 inputs: join in groups of 16 first (DenseNet)
        groups = [names[k:k + 16] for k in range(0, len(names), 16)]
        names = [g[0] if len(g) == 1 else b._node("Concat", site, g, f"{out}_part{k}", _joined(b, g, axis), {"axis": axis})
                 for k, g in enumerate(groups)]
    return b._node("Concat", site, names, out, shapes, {"axis": axis})


def _joined(b, names, axis):
    """The shapes (per run) of `names` joined along `axis`."""
    from .builder import BATCHES
    sample = list(b.sample[names[0]])
    sample[axis - 1] = sum(b.sample[n][axis - 1] for n in names)
    return [(n, *sample) for n in BATCHES]


# ---- torch.fx ----------------------------------------------------------------------------------

def _fx_cat(c, site, node, x, out, shapes):
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    if not isinstance(tensors, (list, tuple)):
        raise unsupported(site, "its tensors are not a list written in the model")
    dim = c.literal(site, node, 1, "dim", 0) if "axis" not in node.kwargs else node.kwargs["axis"]
    return _emit(c.b, site, [c.val(t) for t in tensors], dim, out, shapes)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch
    for f in (torch.cat, torch.concat, torch.concatenate):
        functions[f] = _fx_cat


# ---- TorchScript ---------------------------------------------------------------------------------

def _ts_cat(c, site, a, out, shapes):
    tensors = a["tensors"]
    if tensors is None or tensors.kind != "list":
        raise unsupported(site, "its tensors are not a list written in the model")
    dim = c.literal(site, a.get("dim"), "dim")
    return _emit(c.b, site, [c.operand(e) for e in tensors.items], 0 if dim is None else dim, out, shapes)


ATEN = {"aten::cat": _ts_cat, "aten::concat": _ts_cat, "aten::concatenate": _ts_cat}
ATEN_TAKES_LISTS = set(ATEN)


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers by op type (see activations.onnx_handlers for the helpers)."""
    def concat(self, node, args):
        from .errors import ConversionError
        from .onnx_source import _V
        if not all(isinstance(v, _V) for v in args):
            raise ConversionError(f"{where(node)}: every input must be computed from the model input "
                                  "(a constant input is not supported)")
        rank = len(args[0].axes)
        axis = attr(node, "axis", None)
        if axis is None or not -rank <= axis < rank:
            raise ConversionError(f"{where(node)}: axis {axis} is missing or out of range for rank {rank}")
        if axis % rank == 0:
            raise ConversionError(f"{where(node)}: it joins along axis 0, the batch (Strata keeps samples apart)")
        irs = [self._mat(v, where(node)) for v in args]
        k = 0
        while len(irs) > 16:  # a node takes at most 16 inputs: join in groups of 16 first (DenseNet)
            irs = [g[0] if len(g) == 1 else self._emit("Concat", node, g, {"axis": axis % rank},
                                                        out_names=[f"{node.output[0]}_part{k}_{j}"])
                   for j, g in enumerate(irs[i:i + 16] for i in range(0, len(irs), 16))]
            k += 1
        return _V(self._emit("Concat", node, irs, {"axis": axis % rank}), range(rank))
    return {"Concat": concat}
