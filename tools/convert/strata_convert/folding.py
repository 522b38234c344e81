"""Graph rewrites shared by the sources, applied to a finished IR graph (docs/FORMAT.md ops).

- Affine folding: `Mul`/`Div`/`Add`/`Sub` by a per-output-channel tensor right after a
  `Linear` or `Conv` whose output has no other use is folded into its weight and bias. This is
  how BatchNormalization (written as Mul+Add by the sources) disappears, and how ONNX's
  MatMul+Add becomes one Linear.
- GELU: the erf pattern older exporters emit, `x·(erf(x/√2) + 1)·0.5` (any order of the last two
  products), becomes one `Gelu`.
Every rewrite keeps the outputs' names and values (up to rounding).
"""
import math

import numpy as np

from .ir import Tensor


def optimize(graph) -> None:
    """Apply every rewrite until none applies; drop tensors no node uses."""
    while _fold_affine(graph) or _fuse_gelu(graph):
        pass
    used = {i for n in graph.nodes for i in n.inputs}
    graph.tensors = [t for t in graph.tensors if t.name in used]


def _consumers(graph):
    uses = {}
    for n in graph.nodes:
        for i in n.inputs:
            uses.setdefault(i, []).append(n)
    return uses


def _producer(graph):
    return {o: n for n in graph.nodes for o in n.outputs}


def _channel_vector(arr, rank, channel_axis, m):
    """`arr` as a length-m vector when, aligned right to `rank` dims, it varies along
    `channel_axis` only; else None."""
    if arr.ndim > rank:
        return None
    full = (1,) * (rank - arr.ndim) + arr.shape
    if any(d != 1 for k, d in enumerate(full) if k != channel_axis) or full[channel_axis] not in (1, m):
        return None
    return np.broadcast_to(arr.reshape(-1), (m,)).astype(np.float64)


def _fold_affine(graph) -> bool:
    tensors = graph.tensor_map()
    uses, prod = _consumers(graph), _producer(graph)
    outputs = {v.name for v in graph.outputs}
    for node in graph.nodes:
        if node.op not in ("Mul", "Div", "Add", "Sub") or len(node.inputs) != 2:
            continue
        x, t = node.inputs
        if x not in prod and node.op in ("Mul", "Add") and t in prod:
            x, t = t, x
        p = prod.get(x)
        if p is None or t not in tensors or p.op not in ("Linear", "Conv") or x in outputs or len(uses.get(x, [])) != 1:
            continue
        w = tensors[p.inputs[1]].array.astype(np.float64)
        m = w.shape[0]
        arr = tensors[t].array
        if p.op == "Linear":  # channels are the last axis
            vec = _channel_vector(arr, max(arr.ndim, 1), max(arr.ndim, 1) - 1, m)
        else:  # [N, M, H, W]
            vec = _channel_vector(arr, 4, 1, m)
        if vec is None:
            continue
        b = tensors[p.inputs[2]].array.astype(np.float64) if len(p.inputs) > 2 and p.inputs[2] else np.zeros(m)
        shape = (-1,) + (1,) * (w.ndim - 1)
        if node.op == "Mul":
            w, b = w * vec.reshape(shape), b * vec
        elif node.op == "Div":
            if np.any(vec == 0):
                continue
            w, b = w / vec.reshape(shape), b / vec
        elif node.op == "Add":
            b = b + vec
        else:
            b = b - vec
        base = p.name or p.outputs[0]
        wname, bname = _new_name(graph, f"{base}.weight"), _new_name(graph, f"{base}.bias")
        graph.tensors += [Tensor(wname, w, tensors[p.inputs[1]].layout), Tensor(bname, b)]
        p.inputs = [p.inputs[0], wname, bname]
        p.outputs = [node.outputs[0]]
        graph.nodes.remove(node)
        return True
    return False


def _new_name(graph, name):
    taken = {t.name for t in graph.tensors} | {o for n in graph.nodes for o in n.outputs} | {v.name for v in graph.inputs}
    base, i = name, 1
    while name in taken:
        name = f"{base}_{i}"
        i += 1
    return name


def _scalar(tensors, name):
    t = tensors.get(name)
    if t is None or t.array.size != 1:
        return None
    return float(t.array.reshape(-1)[0])


def _fuse_gelu(graph) -> bool:
    """Div(x, √2) | Mul(x, 1/√2) → Erf → Add(·, 1) → Mul(x, ·) and Mul(·, 0.5) (either order) → Gelu."""
    tensors, uses, prod = graph.tensor_map(), _consumers(graph), _producer(graph)
    outputs = {v.name for v in graph.outputs}

    def only_use(name):
        us = uses.get(name, [])
        return us[0] if len(us) == 1 and name not in outputs else None

    def other(node, name):
        return node.inputs[1] if node.inputs[0] == name else node.inputs[0]

    for erf in graph.nodes:
        if erf.op != "Erf":
            continue
        scale = prod.get(erf.inputs[0])
        if scale is None or only_use(scale.outputs[0]) is not erf:
            continue
        x = scale.inputs[0]
        c = _scalar(tensors, scale.inputs[1])
        if c is None or not ((scale.op == "Div" and abs(c - math.sqrt(2)) < 1e-4) or
                             (scale.op == "Mul" and abs(c - 1 / math.sqrt(2)) < 1e-4)):
            continue
        add = only_use(erf.outputs[0])
        if add is None or add.op != "Add" or _scalar(tensors, other(add, erf.outputs[0])) != 1.0:
            continue
        m1 = only_use(add.outputs[0])
        if m1 is None or m1.op != "Mul":
            continue
        chain = [scale, erf, add, m1]
        partner = other(m1, add.outputs[0])
        if partner == x:  # x·(1+erf) then ·0.5
            m2 = only_use(m1.outputs[0])
            if m2 is None or m2.op != "Mul" or _scalar(tensors, other(m2, m1.outputs[0])) != 0.5:
                continue
            chain.append(m2)
        else:  # (0.5·x)·(1+erf)
            half = prod.get(partner)
            if half is None or half.op != "Mul" or only_use(partner) is not m1 or x not in half.inputs \
                    or _scalar(tensors, other(half, x)) != 0.5:
                continue
            chain.append(half)
        last = chain[-1] if partner == x else m1
        first = min(graph.nodes.index(n) for n in chain)
        gelu = type(erf)("Gelu", erf.name, [x], [last.outputs[0]], {"approximate": "none"})
        for n in chain:
            graph.nodes.remove(n)
        graph.nodes.insert(first, gelu)
        return True
    return False
