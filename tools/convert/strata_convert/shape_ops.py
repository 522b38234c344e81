"""Transpose and Slice (format 1.5) from every source, in one place, with the converter-only shape
ops around them: `permute`/`transpose`/`swapaxes` (Transpose; a channel shuffle, reshape → transpose
→ reshape, is a Reshape, one Transpose whose inner H·W block the engine copies whole, and a Reshape),
indexing with slices, `narrow`, `chunk` and `split` (one Slice per piece), `unsqueeze` (a Reshape),
and `torchvision.ops.stochastic_depth` in eval (the identity). The batch (dim 0) is never moved or
sliced. An op-family module (op_families.py)."""
import numpy as np

from .errors import FormatError


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports this module
    return make(site, why)


def slice_bounds(n, start, end, step):
    """ONNX Slice on a dim of size n: (first index, count), negative start/end counted from the end
    and clamped (a negative step walks backwards)."""
    s = start + n if start < 0 else start
    e = end + n if end < 0 else end
    if step > 0:
        s, e = min(max(s, 0), n), min(max(e, 0), n)
        return s, max(0, -(-(e - s) // step))
    s, e = min(max(s, 0), n - 1), min(max(e, -1), n - 1)
    return s, max(0, -(-(s - e) // -step))


def _slice_spec(attrs, rank):
    starts, ends = attrs["starts"], attrs["ends"]
    axes = attrs.get("axes") or list(range(len(starts)))
    steps = attrs.get("steps") or [1] * len(starts)
    return [(a % rank, s, e, st) for a, s, e, st in zip(axes, starts, ends, steps)]


def _infer_slice(label, shapes, attrs):
    x = list(shapes[0][1])
    rank = len(x)
    if attrs.get("starts") is None or attrs.get("ends") is None:
        raise FormatError("MALFORMED", f"{label}: Slice needs 'starts' and 'ends'")
    n = len(attrs["starts"])
    if any(len(attrs.get(k) or [0] * n) != n for k in ("ends", "axes", "steps")):
        raise FormatError("MALFORMED", f"{label}: starts, ends, axes and steps differ in length")
    seen = set()
    for a, s, e, st in _slice_spec(attrs, rank):
        if a == 0:
            raise FormatError("UNSUPPORTED", f"{label}: Slice along axis 0, the batch")
        if a in seen or st == 0:
            raise FormatError("MALFORMED", f"{label}: axis {a} repeated or step 0")
        seen.add(a)
        x[a] = slice_bounds(x[a], s, e, st)[1]
    return x


def _ref_slice(xs, attrs, dtype):
    x = xs[0]
    index = [slice(None)] * x.ndim
    for a, s, e, st in _slice_spec(attrs, x.ndim):
        first, count = slice_bounds(x.shape[a], s, e, st)
        index[a] = slice(first, first + st * count, st) if count else slice(0, 0)
        if count and st < 0 and first + st * count < 0:
            index[a] = slice(first, None, st)
    return x[tuple(index)]


def _infer_transpose(label, shapes, attrs):
    x, perm = shapes[0][1], attrs.get("perm")
    if perm is None or sorted(perm) != list(range(len(x))):
        raise FormatError("MALFORMED", f"{label}: perm {perm} is not a permutation of {len(x)} dims")
    if perm[0] != 0:
        raise FormatError("UNSUPPORTED", f"{label}: perm {perm} moves the batch")
    return [x[p] for p in perm]


INFER = {"Transpose": _infer_transpose, "Slice": _infer_slice}
REFERENCE = {"Transpose": lambda xs, a, dtype: np.transpose(xs[0], a["perm"]), "Slice": _ref_slice}


# ---- emitting (shared by torch.fx and TorchScript) -------------------------------------------------

def _batched(b, sample):
    from .builder import BATCHES
    return [(n, *sample) for n in BATCHES]


def transpose(b, site, x, perm, out, shapes):
    """Transpose of builder value `x` by `perm` (full rank; dim 0 must stay); the identity is an alias."""
    x = b._value(site, x)
    rank = len(b.sample[x]) + 1
    perm = [p % rank for p in perm]
    if sorted(perm) != list(range(rank)):
        raise unsupported(site, f"dims {perm} are not a permutation of the {rank} dims")
    if perm[0] != 0:
        raise unsupported(site, f"it moves the batch (dim 0) to dim {perm.index(0)}; Strata keeps samples apart")
    if perm == list(range(rank)):
        return b.alias(x)
    return b._node("Transpose", site, [x], out, shapes, {"perm": perm})


def slice_(b, site, x, specs, out):
    """Slice of builder value `x` by specs [(axis, start, end, step)] (Python slice semantics, step > 0);
    the whole range is an alias."""
    x = b._value(site, x)
    sample = list(b.sample[x])
    rank = len(sample) + 1
    axes, starts, ends, steps = [], [], [], []
    for axis, start, end, step in specs:
        axis %= rank
        first, stop, st = slice(start, end, step).indices(sample[axis - 1] if axis else 1)
        if axis == 0:
            if (first, stop, st) == (0, 1, 1):
                continue  # x[:, ...] keeps the batch whole
            raise unsupported(site, "it slices dim 0, the batch (Strata keeps samples apart)")
        if st <= 0:
            raise unsupported(site, f"step {step}")
        count = len(range(first, stop, st))
        if (first, count, st) == (0, sample[axis - 1], 1):
            continue
        axes.append(axis); starts.append(first); ends.append(first + count * st if count else first); steps.append(st)
        sample[axis - 1] = count
    if not axes:
        return b.alias(x)
    attrs = {"starts": starts, "ends": ends, "axes": axes}
    if any(s != 1 for s in steps):
        attrs["steps"] = steps
    return b._node("Slice", site, [x], out, _batched(b, sample), attrs)


def pieces(b, site, x, dim, sizes, out):
    """`x` cut along `dim` into pieces of `sizes` (chunk, split): a tuple of Slices."""
    x = b._value(site, x)
    rank = len(b.sample[x]) + 1
    if not isinstance(dim, int) or not -rank <= dim < rank:
        raise unsupported(site, f"dim {dim!r} is not a dimension of a rank-{rank} value")
    result, start = [], 0
    for k, size in enumerate(sizes):
        result.append(slice_(b, site, x, [(dim, start, start + size, 1)], f"{out}_{k}"))
        start += size
    return tuple(result)


def unsqueeze(b, site, x, dim, out, shapes):
    """A unit dim inserted at `dim` (not before the batch): a Reshape."""
    x = b._value(site, x)
    rank = len(b.sample[x]) + 2
    if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"dim {dim!r}: Strata inserts a unit dim after the batch only")
    return b.reshape(site, x, out, shapes)


def _chunk_sizes(n, chunks):
    size = -(-n // chunks)  # torch.chunk: pieces of ceil(n / chunks), the last smaller, fewer when it divides unevenly
    return [min(size, n - s) for s in range(0, n, size)] if n else [0]


def _split_sizes(site, n, split):
    if isinstance(split, int):
        if split <= 0:
            raise unsupported(site, f"split size {split}")
        return [min(split, n - s) for s in range(0, n, split)] or [0]
    sizes = list(split)
    if sum(sizes) != n:
        raise unsupported(site, f"split sizes {sizes} do not add up to {n}")
    return sizes


# ---- torch.fx ----------------------------------------------------------------------------------

def _fx_dims(node, first):
    dims = node.args[first:] if len(node.args) > first else node.kwargs.get("dims", ())
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return list(dims)


def _fx_permute(c, site, node, x, out, shapes):
    dims = _fx_dims(node, 1)
    if any(not isinstance(d, int) for d in dims):
        raise unsupported(site, "its dims are computed at run time")
    return transpose(c.b, site, x, dims, out, shapes)


def _fx_transpose(c, site, node, x, out, shapes):
    d0, d1 = c.literal(site, node, 1, "dim0", None), c.literal(site, node, 2, "dim1", None)
    rank = len(c.b.sample.get(x, ())) + 1 if isinstance(x, str) else 0
    if not isinstance(d0, int) or not isinstance(d1, int) or not rank:
        raise unsupported(site, "its dims must be numbers written in the model")
    perm = list(range(rank))
    perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
    return transpose(c.b, site, x, perm, out, shapes)


def _fx_unsqueeze(c, site, node, x, out, shapes):
    return unsqueeze(c.b, site, x, c.literal(site, node, 1, "dim", None), out, shapes)


def _fx_narrow(c, site, node, x, out, shapes):
    dim, start, length = (c.literal(site, node, k, key, None) for k, key in ((1, "dim"), (2, "start"), (3, "length")))
    if not all(isinstance(v, int) for v in (dim, start, length)):
        raise unsupported(site, "its dim, start and length must be numbers written in the model")
    return slice_(c.b, site, x, [(dim, start, start + length if start >= 0 or start + length < 0 else None, 1)], out)


def _fx_chunk(c, site, node, x, out, shapes):
    chunks, dim = c.literal(site, node, 1, "chunks", None), c.literal(site, node, 2, "dim", 0)
    x = c.b._value(site, x)
    rank = len(c.b.sample[x]) + 1
    if not isinstance(chunks, int) or chunks < 1 or not isinstance(dim, int) or not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"chunks {chunks!r} along dim {dim!r}: Strata cuts a non-batch dim into a fixed number of pieces")
    return pieces(c.b, site, x, dim, _chunk_sizes(c.b.sample[x][dim % rank - 1], chunks), out)


def _fx_split(c, site, node, x, out, shapes):
    split = node.args[1] if len(node.args) > 1 else node.kwargs.get("split_size_or_sections", node.kwargs.get("split_size"))
    dim = c.literal(site, node, 2, "dim", 0)
    x = c.b._value(site, x)
    rank = len(c.b.sample[x]) + 1
    if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"dim {dim!r}: Strata splits a non-batch dim")
    if not isinstance(split, (int, list, tuple)) or isinstance(split, bool):
        raise unsupported(site, "its sizes must be numbers written in the model")
    return pieces(c.b, site, x, dim, _split_sizes(site, c.b.sample[x][dim % rank - 1], split), out)


for _f in (_fx_chunk, _fx_split):
    _f.multi_output = True  # torch_source calls it although its result is a tuple


def _fx_getitem(fallback):
    """x[...] on a value with ints, slices, None and Ellipsis: Slices and Reshapes; else `fallback`."""
    def convert(c, site, node, x, out, shapes):
        index = node.args[1]
        index = index if isinstance(index, tuple) else (index,)
        if not isinstance(x, str) or x not in c.b.sample or x in c.last_step or \
                not all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index):
            return fallback(c, site, node, x, out, shapes)
        if any(isinstance(s, slice) and any(isinstance(v, type(node)) for v in (s.start, s.stop, s.step)) for s in index):
            raise unsupported(site, "its slice bounds are computed at run time")
        rank = len(c.b.sample[x]) + 1
        real = [i for i in index if i is not None and i is not Ellipsis]
        if index.count(Ellipsis) > 1 or len(real) > rank:
            raise unsupported(site, f"index {index!r}")
        if Ellipsis in index:
            k = index.index(Ellipsis)
            index = index[:k] + (slice(None),) * (rank - len(real)) + index[k + 1:]
        specs, ints = [], False
        axis = 0
        for i in index:
            if i is None:
                continue
            if isinstance(i, int):
                n = c.b.sample[x][axis - 1] if axis else None
                if axis == 0 or not -n <= i < n:
                    raise unsupported(site, f"index {i} on dim {axis}" + (" (the batch)" if axis == 0 else ""))
                specs.append((axis, i % n, i % n + 1, 1))
                ints = True
            else:
                specs.append((axis, i.start, i.stop, 1 if i.step is None else i.step))
            axis += 1
        y = slice_(c.b, site, x, specs, out if not ints and None not in index else f"{out}_sliced")
        if ints or None in index:
            return c.b.reshape(site, y, out, shapes)
        return y
    return convert


def _fx_stochastic_depth(c, site, node, x, out, shapes):
    training = node.args[3] if len(node.args) > 3 else node.kwargs.get("training", True)
    p = node.args[1] if len(node.args) > 1 else node.kwargs.get("p")
    if training is not False and p != 0:
        raise unsupported(site, "training=True (stochastic depth is the identity only in eval mode)")
    return c.b.alias(x)


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import operator

    import torch
    functions.update({torch.permute: _fx_permute, torch.transpose: _fx_transpose, torch.swapaxes: _fx_transpose,
                      torch.swapdims: _fx_transpose, torch.unsqueeze: _fx_unsqueeze, torch.narrow: _fx_narrow,
                      torch.chunk: _fx_chunk, torch.split: _fx_split})
    methods.update({"permute": _fx_permute, "transpose": _fx_transpose, "swapaxes": _fx_transpose,
                    "swapdims": _fx_transpose, "unsqueeze": _fx_unsqueeze, "narrow": _fx_narrow,
                    "chunk": _fx_chunk, "split": _fx_split})
    functions[operator.getitem] = _fx_getitem(functions[operator.getitem])
    methods["__getitem__"] = _fx_getitem(methods["__getitem__"])


# torch.fx functions of optional libraries by qualified name (torch_source looks them up when called).
FX_BY_NAME = {"torchvision.ops.stochastic_depth.stochastic_depth": _fx_stochastic_depth}


# ---- TorchScript ---------------------------------------------------------------------------------

def _ts_permute(c, site, a, out, shapes):
    return transpose(c.b, site, c.operand(a["self"]), c.literal(site, a["dims"], "dims"), out, shapes)


def _ts_transpose(c, site, a, out, shapes):
    x = c.operand(a["self"])
    rank = len(c.b.sample.get(x, ())) + 1 if isinstance(x, str) else 0
    d0, d1 = c.literal(site, a["dim0"], "dim0"), c.literal(site, a["dim1"], "dim1")
    if not rank:
        raise unsupported(site, "its input must be a value computed from the model input")
    perm = list(range(rank))
    perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
    return transpose(c.b, site, x, perm, out, shapes)


def _ts_slice(c, site, a, out, shapes):
    dim, start, end, step = (c.literal(site, a.get(k), k) for k in ("dim", "start", "end", "step"))
    return slice_(c.b, site, c.operand(a["self"]), [(dim or 0, start, end, 1 if step is None else step)], out)


def _ts_narrow(c, site, a, out, shapes):
    dim, start, length = (c.literal(site, a.get(k), k) for k in ("dim", "start", "length"))
    return slice_(c.b, site, c.operand(a["self"]), [(dim, start, start + length, 1)], out)


def _ts_select(c, site, a, out, shapes):
    x = c.operand(a["self"])
    dim, index = c.literal(site, a["dim"], "dim"), c.literal(site, a["index"], "index")
    if not isinstance(x, str) or x not in c.b.sample:
        raise unsupported(site, "its input must be a value computed from the model input")
    rank = len(c.b.sample[x]) + 1
    n = c.b.sample[x][dim % rank - 1] if dim % rank else 0
    if dim % rank == 0 or not -n <= index < n:
        raise unsupported(site, f"index {index} of dim {dim}")
    y = slice_(c.b, site, x, [(dim, index % n, index % n + 1, 1)], f"{out}_sliced")
    return c.b.reshape(site, y, out, shapes)


def _ts_unsqueeze(c, site, a, out, shapes):
    return unsqueeze(c.b, site, c.operand(a["self"]), c.literal(site, a["dim"], "dim"), out, shapes)


ATEN = {"aten::permute": _ts_permute, "aten::transpose": _ts_transpose, "aten::swapaxes": _ts_transpose,
        "aten::slice": _ts_slice, "aten::narrow": _ts_narrow, "aten::select": _ts_select,
        "aten::unsqueeze": _ts_unsqueeze, "aten::contiguous": lambda c, site, a, out, shapes: c.b.alias(c.operand(a["self"]))}
ATEN_TAKES_LISTS = set()


def _ts_chunk(c, site, a, out, shapes):
    x = c.operand(a["self"])
    x = c.b._value(site, x)
    rank = len(c.b.sample[x]) + 1
    chunks, dim = c.literal(site, a["chunks"], "chunks"), c.literal(site, a.get("dim"), "dim") or 0
    if not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"dim {dim}: Strata cuts a non-batch dim")
    return pieces(c.b, site, x, dim, _chunk_sizes(c.b.sample[x][dim % rank - 1], chunks), out)


def _ts_split(c, site, a, out, shapes):
    x = c.b._value(site, c.operand(a["self"]))
    rank = len(c.b.sample[x]) + 1
    split = c.literal(site, a.get("split_size", a.get("split_sizes")), "split sizes")
    dim = c.literal(site, a.get("dim"), "dim") or 0
    if not -rank <= dim < rank or dim % rank == 0:
        raise unsupported(site, f"dim {dim}: Strata splits a non-batch dim")
    return pieces(c.b, site, x, dim, _split_sizes(site, c.b.sample[x][dim % rank - 1], split), out)


# aten ops that return a list of tensors (torchscript_source unpacks it with prim::ListUnpack)
ATEN_RETURNS_LISTS = {"aten::chunk": _ts_chunk, "aten::split": _ts_split, "aten::split_with_sizes": _ts_split}


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """The family's ONNX handlers: Slice (Transpose is a view of onnx_source that `_mat` turns into
    a Transpose node when needed; Split becomes Slices)."""
    from .errors import ConversionError

    def slice_node(self, node, x, specs, name):
        rank = len(self.dims[x])
        axes, starts, ends, steps = [], [], [], []
        for a, s, e, st in specs:
            a %= rank
            if a == 0:  # whole: [0, declared batch) for a fixed batch, [0, ∞) for a dynamic one
                n0 = getattr(self, "declared_batch", None)
                if st == 1 and s == 0 and (slice_bounds(n0, s, e, st) == (0, n0) if n0 else e >= 2**31 - 1):
                    continue
                raise ConversionError(f"{where(node)}: it slices axis 0, the batch (Strata keeps samples apart)")
            axes.append(a); starts.append(int(s)); ends.append(int(max(min(e, 2**62), -2**62))); steps.append(int(st))
        if not axes:
            return x
        for a, s, e, st in zip(axes, starts, ends, steps):
            if slice_bounds(self.dims[x][a], s, e, st)[1] == 0:
                raise ConversionError(f"{where(node)}: its result along axis {a} is empty; Strata values have no empty dims")
        attrs = {"starts": starts, "ends": ends, "axes": axes}
        if any(s != 1 for s in steps):
            attrs["steps"] = steps
        return self._emit("Slice", node, [x], attrs, out_names=[name])

    def slice_(self, node, args):
        from .onnx_source import _V
        v = args[0]
        if isinstance(v, _V) and v.ir in self.last_step:
            return self._base_op_Slice(node, args)  # out[:, -1:] of a recurrent output (onnx_source)
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        x = self._mat(v, where(node))
        starts, ends = (np.asarray(const(self, node, args[k], n)).reshape(-1) for k, n in ((1, "starts"), (2, "ends")))
        axes = np.asarray(const(self, node, args[3], "axes")).reshape(-1) if len(args) > 3 and args[3] is not None else np.arange(len(starts))
        steps = np.asarray(const(self, node, args[4], "steps")).reshape(-1) if len(args) > 4 and args[4] is not None else np.ones(len(starts), np.int64)
        specs = [(int(a), int(s), int(e), int(st)) for a, s, e, st in zip(axes, starts, ends, steps)]
        y = slice_node(self, node, x, specs, node.output[0])
        return _V(y, range(len(self.dims[y])))

    def split(self, node, args):
        from .onnx_source import _V
        v = args[0]
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        x = self._mat(v, where(node))
        rank = len(self.dims[x])
        axis = attr(node, "axis", 0) % rank
        if axis == 0:
            raise ConversionError(f"{where(node)}: it splits axis 0, the batch")
        n = self.dims[x][axis]
        sizes = attr(node, "split", None)
        if sizes is None and len(args) > 1 and args[1] is not None:
            sizes = [int(s) for s in np.asarray(const(self, node, args[1], "split")).reshape(-1)]
        if sizes is None:
            k = attr(node, "num_outputs", len(node.output))
            size = -(-n // k)
            sizes = [min(size, n - s) for s in range(0, n, size)]
        if sum(sizes) != n or len(sizes) != len(node.output):
            raise ConversionError(f"{where(node)}: split sizes {sizes} do not cut {n} into {len(node.output)} outputs")
        outs, start = [], 0
        for name, size in zip(node.output, sizes):
            y = slice_node(self, node, x, [(axis, start, start + size, 1)], name or f"{node.name}_piece")
            outs.append(_V(y, range(rank)))
            start += size
        return outs

    def gather(self, node, args):
        from .onnx_source import _C, _V
        v, idx = args
        if not isinstance(v, _V) or not isinstance(idx, _C) or v.ir in self.last_step:
            return self._base_op_Gather(node, args)  # the last step of a recurrent output (onnx_source)
        index = np.asarray(const(self, node, idx, "indices"))
        x = self._mat(v, where(node))
        rank = len(self.dims[x])
        axis = attr(node, "axis", 0) % rank
        if index.ndim != 0 or axis == 0:
            raise ConversionError(f"{where(node)}: Gather on a computed value takes one constant index on a non-batch axis")
        n = self.dims[x][axis]
        i = int(index)
        if not -n <= i < n:
            raise ConversionError(f"{where(node)}: index {i} is out of range for axis {axis} of size {n}")
        y = slice_node(self, node, x, [(axis, i % n, i % n + 1, 1)], f"{node.output[0]}_slice") if n > 1 else x
        kept = [d for k, d in enumerate(self.dims[y]) if k != axis]
        return _V(self._emit("Reshape", node, [y], {"shape": [-1] + kept[1:]}), range(len(kept)))  # the unit axis dropped

    def expand(self, node, args):
        """Expand of a value to a shape it broadcasts to: a Mul by a small tensor of ones holding
        only the expanded dims (x · 1 = x exactly, −0 and NaN included)."""
        from .builder import BATCHES
        from .onnx_source import _V
        v = args[0]
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        x = self._mat(v, where(node))
        dims = self.dims[x]
        from .onnx_source import _C
        if not isinstance(args[1], _C):
            raise ConversionError(f"{where(node)}: its shape must be constant (or computed from the input's shape)")
        runs = [[int(t) for t in np.asarray(r).reshape(-1)] for r in args[1].runs]
        if any(len(r) != len(runs[0]) or r[1:] != runs[0][1:] for r in runs):
            raise ConversionError(f"{where(node)}: its shape depends on the batch size beyond dim 0")
        target = runs[0]  # dim 0 (the batch, whatever its value per run) never expands here
        if len(target) > len(dims):
            raise ConversionError(f"{where(node)}: it expands {dims} to rank {len(target)}; Strata keeps the rank")
        target = [1] * (len(dims) - len(target)) + target
        if len(target) == len(dims) and target[0] not in (1, -1) and target[0] not in BATCHES:
            raise ConversionError(f"{where(node)}: it expands dim 0, the batch, to {target[0]}")
        ones = [t if d == 1 and t > 1 else 1 for d, t in zip(dims[1:], target[1:])]
        if any(d != 1 and t not in (1, d) for d, t in zip(dims[1:], target[1:])):
            raise ConversionError(f"{where(node)}: {dims} does not broadcast to {target}")
        if all(o == 1 for o in ones):
            return v
        t = self._tensor(np.ones(ones, np.float32), f"{node.name or node.output[0]}.ones")
        return _V(self._emit("Mul", node, [x, t]), range(len(dims)))

    return {"Slice": slice_, "Split": split, "Gather": gather, "Expand": expand}
