"""Converts a TorchScript module (torch.jit.script / torch.jit.trace / torch.jit.load) to the IR.

The module is frozen in eval mode (`torch.jit.freeze`: parameters become constants, submodules
are inlined) and its graph is walked node by node. Each node is also evaluated with
`torch.ops` on two batch sizes (builder.BATCHES), which gives every value's shape and the
values of shape arithmetic such as `x.size(0)`; a `prim::If` (the shape checks inside scripted
functions) follows the branch its condition takes, which must not depend on tensor data. Ops map
to docs/FORMAT.md through `_ATEN`: the 1.0 ops, and the 1.2 ones (arithmetic, GELU, SiLU,
LeakyReLU, erf, LayerNorm, inference BatchNorm, Conv2d, pooling) and recurrent layers
(`aten::gru`/`lstm`/`rnn_tanh`/`rnn_relu` of traced or frozen modules, batch_first; a model input
used as the initial state is [layers, N, H], its batch in dim 1, as is a returned h_n: format 1.5).
"""
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from . import op_families
from .builder import BATCHES, SCALAR, Builder, Const, Site, metadata, unsupported
from .errors import ConversionError
from .ir import Graph
from .torch_source import _first_line, example_batches, first_linear_in_features, param_dtype

__all__ = ["convert_torchscript"]


def convert_torchscript(script_module, example_input=None, *, input_shape=None, name=None,
                        class_labels=None) -> Graph:
    """Convert a TorchScript module to a Graph.

    example_input: a tensor (N, ...) giving the per-sample shape; or input_shape, the per-sample
    shape as a tuple; when both are absent, (in_features,) of the first Linear. Raises
    ConversionError for anything Strata cannot run.
    """
    if not isinstance(script_module, torch.jit.ScriptModule):
        raise ConversionError(f"expected a TorchScript module, got {type(script_module).__name__}")
    if example_input is None:
        shape = input_shape or first_linear_in_features(script_module)
        if shape is None:
            raise ConversionError("cannot infer the input shape (no Linear layer found); pass an example input or --input-shape")
        example_input = torch.zeros((1, *shape))
    graph = _freeze(script_module)
    states = _state_inputs(graph)
    axes = [1 if v.unique() in states else 0 for v in list(graph.inputs())[1:]]
    runs = example_batches(example_input, param_dtype(script_module), axes)
    model_name = name or getattr(script_module, "original_name", None) or type(script_module).__name__
    return _TsConverter(graph, runs, axes).convert(model_name, class_labels)


_RECURRENT = {"aten::gru": "GRU", "aten::lstm": "LSTM", "aten::rnn_tanh": "RNN", "aten::rnn_relu": "RNN"}


def _state_inputs(graph) -> set:
    """The unique ids of graph inputs used as a recurrent node's initial state (hx)."""
    inputs = {v.unique() for v in list(graph.inputs())[1:]}
    found = set()
    for node in graph.nodes():
        if node.kind() in _RECURRENT:
            hx = node.inputsAt(1)
            items = list(hx.node().inputs()) if hx.node().kind() == "prim::ListConstruct" else [hx]
            found.update(v.unique() for v in items if v.unique() in inputs)
    return found


def _freeze(module):
    was_training = module.training
    module.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.jit.freeze(module).graph
    except Exception as e:
        raise ConversionError(f"torch.jit.freeze failed: {_first_line(e)}") from e
    finally:
        module.train(was_training)


@dataclass
class _E:
    """What a TorchScript value is during conversion."""

    kind: str             # "value" (IR value), "const", "scalar" (shape arithmetic), "list" (of entries)
    runs: list            # its Python/torch value in each run
    ir: str = ""          # IR value name, for "value"
    name: str = ""        # parameter name, for a "const" tensor
    items: list = field(default_factory=list)  # for "list"


class _TsConverter:
    def __init__(self, graph, runs, axes=None):
        self.graph, self.runs, self.b, self.env = graph, runs, Builder(), {}
        self.axes = axes or [0] * len(runs[0])  # per model input, its batch dim
        self.last_step = {}  # recurrent Y value -> its final state Y_h (torch_ops.emit_recurrent)

    def convert(self, model_name, class_labels) -> Graph:
        inputs = list(self.graph.inputs())[1:]  # input 0 is the module itself
        if len(inputs) != len(self.runs[0]):
            raise ConversionError(f"the model takes {len(inputs)} inputs but {len(self.runs[0])} example inputs were given")
        for k, v in enumerate(inputs):
            xs = [run[k] for run in self.runs]
            self.env[v.unique()] = _E("value", list(xs), ir=self.b.input(v.debugName(), [x.shape for x in xs], self.axes[k]))
        for node in self.graph.nodes():
            self._node(node)
        outs = []
        for v in self.graph.outputs():
            e = self.env[v.unique()]
            outs += e.items if e.kind == "list" else [e]
        # a returned h_n / c_n: [layers, N, H], the batch in dim 1 (format 1.5)
        axes = [1 if e.kind == "states" else 0 for e in outs]
        names = [e.ir if e.kind == "value" else e.items[0].stacked(self.b, Site("output", f"output {i}"))
                 if e.kind == "states" else SCALAR for i, e in enumerate(outs)]
        sample = self.b.sample.get(names[0]) if len(names) == 1 else None
        meta = metadata(f"pytorch {torch.__version__}", model_name, class_labels, sample[-1] if sample else None)
        return self.b.finish(names, meta, axes)

    def _node(self, node):
        kind, outs = node.kind(), list(node.outputs())
        if kind == "prim::Constant":
            v = outs[0].toIValue()
            self.env[outs[0].unique()] = _E("const", [v, v], name=_param_name(outs[0].debugName()))
            return
        if kind == "prim::If":  # shape checks in scripted functions: follow the branch taken
            self._if(node, outs)
            return
        if kind == "prim::RaiseException":
            raise ConversionError(f"the model raises an exception for the example input ({_source_line(node) or 'TorchScript'})")
        if kind == "prim::unchecked_cast":  # Optional[T] refined to T after an `is not None` check
            self.env[outs[0].unique()] = self.env[node.inputsAt(0).unique()]
            return
        ins = [self.env[i.unique()] for i in node.inputs()]
        site = Site(kind, outs[0].debugName() if outs else kind, _source_line(node))
        kinds = {e.kind for e in ins}
        if kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            if kinds <= {"const"}:
                e = _E("const", [[x.runs[0] for x in ins]] * 2)
            elif kinds <= {"const", "scalar"}:
                e = _E("scalar", [[x.runs[r] for x in ins] for r in range(len(BATCHES))])
            else:
                e = _E("list", [[x.runs[r] for x in ins] for r in range(len(BATCHES))], items=ins)
            self.env[outs[0].unique()] = e
            return
        if kind in _RECURRENT:
            self._recurrent(node, ins, outs, site)
            return
        if "states" in kinds or (kind in ("aten::select", "aten::slice") and ins[0].ir in self.last_step):
            self.env[outs[0].unique()] = self._index_recurrent(node, ins, site)
            return
        if kind in ("prim::ListUnpack", "prim::TupleUnpack") and ins and ins[0].kind == "list" \
                and len(ins[0].items) == len(outs):  # the pieces of a list-returning op (chunk, split)
            for o, e in zip(outs, ins[0].items):
                self.env[o.unique()] = e
            return
        if kind in ("prim::ListUnpack", "prim::TupleUnpack") and ins and ins[0].kind in ("scalar", "const"):
            for k, o in enumerate(outs):  # shape arithmetic: n, c, h, w = x.size()
                self.env[o.unique()] = _E(ins[0].kind, [r[k] for r in ins[0].runs])
            return
        if kind == "aten::zeros" and kinds <= {"const", "scalar"}:  # a zero initial state of the batch's size
            self.env[outs[0].unique()] = _E("zeros", [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))])
            return
        if kinds in ({"scalar"}, {"scalar", "const"}) and kind not in _ATEN and len(outs) == 1:
            # shape arithmetic traced as tensor ops (c // 2 in a trace): evaluated per run, like a number
            self.env[outs[0].unique()] = _E("scalar", [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))])
            return
        if "list" in kinds and kind not in _ATEN_TAKES_LISTS:
            raise unsupported(site)
        if kind in _ATEN_RETURNS_LISTS and len(outs) == 1 and "value" in kinds:
            results = [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))]
            schema = torch._C.parse_schema(node.schema())
            args = {a.name: e for a, e in zip(schema.arguments, ins)}
            names = _ATEN_RETURNS_LISTS[kind](self, site, args, outs[0].debugName(), [[tuple(t.shape) for t in r] for r in results])
            items = [_E("value", [r[k] for r in results], ir=name) for k, name in enumerate(names)]
            self.env[outs[0].unique()] = _E("list", [list(r) for r in results], items=items)
            return
        if kind == "prim::NumToTensor" or all(o.type().kind() != "TensorType" for o in outs):
            if "value" in kinds and kind not in ("aten::size", "aten::dim"):
                raise unsupported(site, "it computes a number from tensor data")
            if len(outs) != 1:
                raise unsupported(site)
            results = [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))]
            self.env[outs[0].unique()] = _E("scalar", results)
            return
        # Ops whose outputs after the first are indices (adaptive max pooling): fine when unused.
        values_only = len(outs) > 1 and kind in _ATEN_VALUES_FIRST and not any(o.uses() for o in outs[1:])
        if kind not in _ATEN or (len(outs) != 1 and not values_only):
            raise unsupported(site)
        if kinds <= {"const"}:  # constant folding (e.g. aten::t of a weight)
            r = _evaluate(node, [x.runs[0] for x in ins])
            self.env[outs[0].unique()] = _E("const", [r, r])
            return
        convert = _ATEN[kind]
        if convert is None:
            raise unsupported(site, "it is supported on constants only")
        if kind.endswith("_") and len(list(node.inputs())[0].uses()) > 1:
            raise unsupported(site, "it modifies its input in place and that input is also used elsewhere")
        results = [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))]
        if values_only:
            results = [r[0] for r in results]
        schema = torch._C.parse_schema(node.schema())
        args = {a.name: e for a, e in zip(schema.arguments, ins)}
        shapes = [tuple(t.shape) for t in results]
        ir = convert(self, site, args, outs[0].debugName(), shapes)
        self.env[outs[0].unique()] = _E("value", results, ir=ir)

    def _recurrent(self, node, ins, outs, site):
        """aten::gru/lstm/rnn_tanh/rnn_relu(input, hx, params, has_biases, num_layers, dropout,
        train, bidirectional, batch_first) -> (output, h_n[, c_n])."""
        from .torch_ops import emit_recurrent
        x, hx, params = ins[0], ins[1], ins[2]
        if x.kind != "value":
            raise unsupported(site, "its input is not computed from the model input")
        items = hx.items if hx.kind == "list" else [hx]
        if all(e.kind == "zeros" and not any(torch.count_nonzero(r) for r in e.runs) for e in items):
            states = []  # zeros: the op's default
        elif all(e.kind == "value" for e in items):
            states = [e.ir for e in items]
        else:
            raise unsupported(site, "its initial state must be zeros or model inputs [layers, N, H]")
        if params.kind != "const":
            raise unsupported(site, "its weights are not constants")
        has_biases, num_layers, _, train, bidirectional, batch_first = (
            self.literal(site, e, what) for e, what in zip(ins[3:9], ("has_biases", "num_layers", "dropout", "train",
                                                                     "bidirectional", "batch_first")))
        if train:
            raise unsupported(site, "train=True")
        tensors = [t.detach().cpu().to(torch.float32).numpy() for t in params.runs[0]]
        per, dirs = (4 if has_biases else 2), (2 if bidirectional else 1)
        if len(tensors) != per * dirs * num_layers:
            raise unsupported(site, f"{len(tensors)} weight tensors for {num_layers} layers (proj_size is not supported)")
        hidden = tensors[1].shape[1]
        kind = _RECURRENT[node.kind()]

        def weights(layer, d):
            k = (layer * dirs + d) * per
            return tuple(tensors[k:k + per])

        results = [_evaluate(node, [e.runs[r] for e in ins]) for r in range(len(BATCHES))]
        y, st = emit_recurrent(self.b, site, kind, x.ir, weights, num_layers, bidirectional, hidden,
                               "relu" if node.kind() == "aten::rnn_relu" else "tanh", batch_first, states,
                               outs[0].debugName(), outs[0].debugName(), self.last_step)
        self.env[outs[0].unique()] = _E("value", [r[0] for r in results], ir=y)
        for k, s in enumerate(st if isinstance(st, tuple) else (st,), 1):
            self.env[outs[k].unique()] = _E("states", [r[k] for r in results], items=[s])

    def _index_recurrent(self, node, ins, site):
        """h_n[k] (aten::select on dim 0 of a recurrent state), and out[:, -1] of a recurrent
        output (aten::slice of the whole batch dim, then aten::select of the last step)."""
        kind, e = node.kind(), ins[0]
        runs = [_evaluate(node, [x.runs[r] for x in ins]) for r in range(len(BATCHES))]
        if e.kind == "states" and kind == "aten::select" and self.literal(site, ins[1], "dim") == 0:
            names = e.items[0].names
            index = self.literal(site, ins[2], "index")
            if -len(names) <= index < len(names):
                return _E("value", runs, ir=names[index])
        if e.kind == "value" and kind == "aten::slice" and self.literal(site, ins[1], "dim") == 0 \
                and self.literal(site, ins[2], "start") in (0, None) and self.literal(site, ins[4], "step") == 1 \
                and (self.literal(site, ins[3], "end") or 0) >= 2 ** 62:
            return _E("value", runs, ir=e.ir)  # x[:] keeps everything
        if e.kind == "value" and kind == "aten::select" and self.literal(site, ins[1], "dim") == 1:
            t = self.b.sample[e.ir][0]
            if self.literal(site, ins[2], "index") in (-1, t - 1):
                return _E("value", runs, ir=self.last_step[e.ir])
        raise unsupported(site, "indexing a recurrent result is supported only as out[:, -1] and h_n[k]")

    def _if(self, node, outs):
        """Converts the nodes of the branch a `prim::If` takes; its condition must not depend on tensor data."""
        cond = self.env[node.inputsAt(0).unique()]
        site = Site("prim::If", outs[0].debugName() if outs else "if", _source_line(node))
        taken = self.literal(site, cond, "condition")
        block = list(node.blocks())[0 if taken else 1]
        for inner in block.nodes():
            self._node(inner)
        for out, value in zip(outs, block.outputs()):
            self.env[out.unique()] = self.env[value.unique()]

    # -- operands --------------------------------------------------------------------

    def operand(self, e):
        """A builder operand: value name, Const, None, or SCALAR."""
        if e is None:
            return None
        if e.kind == "value":
            return e.ir
        if e.kind == "const":
            v = e.runs[0]
            if v is None:
                return None
            if isinstance(v, torch.Tensor):
                return Const(e.name, v.detach().cpu().to(torch.float32).numpy())
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return Const("", np.asarray(v, dtype=np.float64))
        return SCALAR

    def literal(self, site, e, what):
        """A number needed at conversion time (a dim, alpha): the same in every run."""
        if e is None:
            return None
        if e.kind in ("const", "scalar") and all(r == e.runs[0] for r in e.runs):
            v = e.runs[0]
            return v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v
        raise unsupported(site, f"its {what} is computed from tensor data")


def _evaluate(node, args):
    """Run one node with torch.ops on concrete arguments."""
    if node.kind() == "prim::NumToTensor":
        return torch.scalar_tensor(args[0])
    if node.kind() == "aten::len":  # torch.ops cannot type a Python list for len.t
        return len(args[0])
    if node.kind() in ("aten::__is__", "aten::__isnot__"):
        return (args[0] is args[1]) == (node.kind() == "aten::__is__")
    schema = torch._C.parse_schema(node.schema())
    ns, name = schema.name.split("::")
    packet = getattr(getattr(torch.ops, ns), name)
    op = getattr(packet, schema.overload_name or "default")
    positional, keywords = [], {}
    for a, v in zip(schema.arguments, args):
        if isinstance(v, torch.Tensor) and node.kind().endswith("_"):
            v = v.clone()  # in-place ops must not change the values of earlier runs
        if a.kwarg_only:
            keywords[a.name] = v
        else:
            positional.append(v)
    with torch.no_grad():
        return op(*positional, **keywords)


# -- op table: f(conv, site, args by schema name, out name, shapes) -> IR value name ---------

def _unary(op):
    return lambda c, site, a, out, shapes: c.b.unary(op, site, c.operand(a["self"]), out, shapes)


def _softmax(op):
    def convert(c, site, a, out, shapes):
        dtype = c.literal(site, a.get("dtype"), "dtype")
        if dtype not in (None, torch.float32):
            raise unsupported(site, f"dtype={dtype}")
        return c.b.softmax(op, site, c.operand(a["self"]), c.literal(site, a["dim"], "dim"), out, shapes)
    return convert


def _linear(c, site, a, out, shapes):
    return c.b.linear(site, c.operand(a["input"]), c.operand(a["weight"]), c.operand(a.get("bias")), out, shapes)


def _matmul(c, site, a, out, shapes):
    w = c.operand(a["other"] if "other" in a else a["mat2"])
    if not isinstance(w, Const) or w.array.ndim != 2:
        raise unsupported(site, "only a product with a constant 2-D matrix (a linear layer) is supported")
    return c.b.linear(site, c.operand(a["self"]), Const("", w.array.T), None, out, shapes)


def _addmm(c, site, a, out, shapes):
    beta, alpha = c.literal(site, a["beta"], "beta"), c.literal(site, a["alpha"], "alpha")
    w, bias = c.operand(a["mat2"]), c.operand(a["self"])
    if not isinstance(w, Const) or w.array.ndim != 2 or not isinstance(bias, Const):
        raise unsupported(site, "only bias + x @ W with constant W and bias (a linear layer) is supported")
    m = w.array.shape[1]
    if bias.array.size not in (1, m):
        raise unsupported(site, f"a bias of shape {list(bias.array.shape)}")
    b = np.broadcast_to(np.asarray(bias.array, dtype=np.float64).reshape(-1), (m,)) * beta
    return c.b.linear(site, c.operand(a["mat1"]), Const("", w.array.T * alpha),
                      Const(bias.name if beta == 1 and bias.array.shape == (m,) else "", b), out, shapes)


def _reshape(c, site, a, out, shapes):
    return c.b.reshape(site, c.operand(a["self"]), out, shapes)


def _flatten(c, site, a, out, shapes):
    x = c.operand(a["self"])
    start, end = c.literal(site, a["start_dim"], "start_dim"), c.literal(site, a["end_dim"], "end_dim")
    rank = len(c.b.sample.get(x, ())) + 1 if isinstance(x, str) else 0
    flatten = rank > 0 and start % rank == 1 and end % rank == rank - 1
    return c.b.reshape(site, x, out, shapes, flatten=flatten)


def _add(c, site, a, out, shapes):
    alpha = c.literal(site, a.get("alpha"), "alpha")
    return c.b.add(site, c.operand(a["self"]), c.operand(a["other"]), out, shapes, alpha=1 if alpha is None else alpha)


def _removed(c, site, a, out, shapes):
    return c.b.alias(c.operand(a.get("input", a.get("self"))))


def _binary(op, reverse=False):
    """aten::sub/mul/div (Tensor and Scalar overloads, in place too) and aten::rsub."""
    def convert(c, site, a, out, shapes):
        x, other = c.operand(a["self"]), c.operand(a["other"])
        alpha = c.literal(site, a.get("alpha"), "alpha")
        if alpha not in (None, 1):
            if op not in ("Add", "Sub") or not isinstance(other if not reverse else x, Const):
                raise unsupported(site, f"alpha = {alpha}")
            if reverse:
                x = Const("", np.asarray(x.array, np.float64) * alpha)
            else:
                other = Const("", np.asarray(other.array, np.float64) * alpha)
        if c.literal(site, a.get("rounding_mode"), "rounding_mode") is not None:
            raise unsupported(site, f"rounding_mode = {c.literal(site, a['rounding_mode'], 'rounding_mode')!r}")
        first, second = (other, x) if reverse else (x, other)
        return c.b.binary(op, site, first, second, out, shapes)
    return convert


def _op(op, **attrs):
    return lambda c, site, a, out, shapes: c.b.op(op, site, c.operand(a["self"]), out, shapes, attrs or None)


def _gelu(c, site, a, out, shapes):
    approximate = c.literal(site, a.get("approximate"), "approximate") or "none"
    return c.b.op("Gelu", site, c.operand(a["self"]), out, shapes, {"approximate": approximate})


def _leaky_relu(c, site, a, out, shapes):
    slope = c.literal(site, a.get("negative_slope"), "negative_slope")
    return c.b.op("LeakyRelu", site, c.operand(a["self"]), out, shapes, {"alpha": float(0.01 if slope is None else slope)})


def _const(c, site, a, key, what):
    """A stored tensor argument (weight, bias, running statistics) as a Const, or None."""
    v = c.operand(a.get(key))
    if v is None or isinstance(v, Const):
        return v
    raise unsupported(site, f"its {what} is computed, not a stored tensor")


def _layer_norm(c, site, a, out, shapes):
    x = c.operand(a["input"])
    ns = c.literal(site, a["normalized_shape"], "normalized_shape")
    rank = len(c.b.sample[x]) + 1
    ns = [ns] if isinstance(ns, int) else list(ns)
    if len(ns) >= rank:
        raise unsupported(site, "it normalizes over the batch dimension")
    w, b = _const(c, site, a, "weight", "weight"), _const(c, site, a, "bias", "bias")
    w = w if w is not None else Const("", np.ones(ns))
    return c.b.op("LayerNormalization", site, x, out, shapes,
                  {"axis": rank - len(ns), "epsilon": float(c.literal(site, a["eps"], "eps"))},
                  [(w, w.name or f"{out}.weight"), None if b is None else (b, b.name or f"{out}.bias")])


def _batch_norm(c, site, a, out, shapes):
    """Inference-mode batch norm as x · scale + shift (per channel, axis 1)."""
    if c.literal(site, a["training"], "training"):
        raise unsupported(site, "it normalizes with batch statistics (training mode)")
    x = c.operand(a["input"])
    mean, var = _const(c, site, a, "running_mean", "running mean"), _const(c, site, a, "running_var", "running variance")
    if mean is None or var is None:
        raise unsupported(site, "it has no running statistics")
    w, b = _const(c, site, a, "weight", "weight"), _const(c, site, a, "bias", "bias")
    scale = 1 / np.sqrt(np.asarray(var.array, np.float64) + float(c.literal(site, a["eps"], "eps")))
    if w is not None:
        scale = scale * np.asarray(w.array, np.float64)
    shift = -np.asarray(mean.array, np.float64) * scale + (np.asarray(b.array, np.float64) if b is not None else 0)
    shape = (-1,) + (1,) * (len(c.b.sample[x]) - 1)
    scaled = c.b.binary("Mul", site, x, Const("", scale.reshape(shape)), f"{out}_scaled",
                        [(n, *c.b.sample[x]) for n in BATCHES])
    return c.b.binary("Add", site, scaled, Const("", shift.reshape(shape)), out, shapes)


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _conv(c, site, a, out, shapes):
    """aten::conv2d, and aten::_convolution (what tracing records) when it is a plain 2-D convolution."""
    if "transposed" in a and c.literal(site, a["transposed"], "transposed"):
        raise unsupported(site, "it is a transposed convolution")
    x, w = c.operand(a["input"]), _const(c, site, a, "weight", "weight")
    if w is None or w.array.ndim != 4:
        raise unsupported(site, "only 2-D convolutions with a stored weight are supported")
    padding = c.literal(site, a["padding"], "padding")
    k, dilation = list(w.array.shape[2:]), _pair(c.literal(site, a["dilation"], "dilation"))
    if isinstance(padding, str):
        if padding == "valid":
            pads = [0, 0, 0, 0]
        else:  # "same" (stride 1): PyTorch puts the odd extra pad at the end
            tot = [dilation[i] * (k[i] - 1) for i in range(2)]
            pads = [tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2]
    else:
        p = _pair(padding)
        if len(p) != 2:
            raise unsupported(site, f"padding {p}")
        pads = [p[0], p[1], p[0], p[1]]
    if "output_padding" in a and any(_pair(c.literal(site, a["output_padding"], "output_padding"))):
        raise unsupported(site, "output_padding")
    attrs = {"strides": _pair(c.literal(site, a["stride"], "stride")), "pads": pads, "dilations": dilation,
             "group": int(c.literal(site, a["groups"], "groups"))}
    b = _const(c, site, a, "bias", "bias")
    return c.b.op("Conv", site, x, out, shapes, attrs,
                  [(w, w.name or f"{out}.weight"), None if b is None else (b, b.name or f"{out}.bias")])


def _pool_attrs(c, site, a, dilation=True):
    k = _pair(c.literal(site, a["kernel_size"], "kernel_size"))
    stride = c.literal(site, a["stride"], "stride")
    p = _pair(c.literal(site, a["padding"], "padding"))
    return {"kernel_shape": k, "strides": _pair(stride) if stride not in (None, [], ()) else k,
            "pads": [p[0], p[1], p[0], p[1]],
            "dilations": _pair(c.literal(site, a["dilation"], "dilation")) if dilation else [1, 1],
            "ceil_mode": int(bool(c.literal(site, a["ceil_mode"], "ceil_mode")))}


def _max_pool(c, site, a, out, shapes):
    return c.b.op("MaxPool", site, c.operand(a["self"]), out, shapes, _pool_attrs(c, site, a))


def _avg_pool(c, site, a, out, shapes):
    if c.literal(site, a.get("divisor_override"), "divisor_override"):
        raise unsupported(site, "divisor_override")
    attrs = _pool_attrs(c, site, a, dilation=False)
    attrs["count_include_pad"] = int(bool(c.literal(site, a["count_include_pad"], "count_include_pad")))
    return c.b.op("AveragePool", site, c.operand(a["self"]), out, shapes, attrs)


def _adaptive_avg_pool(c, site, a, out, shapes):
    x = c.operand(a["self"])
    size = _pair(c.literal(site, a["output_size"], "output_size"))
    sample = c.b.sample[x]
    if len(sample) != 3:
        raise unsupported(site, "its input is not [N, C, H, W]")
    if size == [1, 1]:
        return c.b.op("GlobalAveragePool", site, x, out, shapes)
    h, w = sample[1:]
    if h % size[0] == 0 and w % size[1] == 0:
        k = [h // size[0], w // size[1]]
        return c.b.op("AveragePool", site, x, out, shapes, {"kernel_shape": k, "strides": k})
    raise unsupported(site, f"output size {size} does not divide the input {h}×{w} (Strata has no adaptive windows)")


_ATEN = {
    "aten::linear": _linear, "aten::matmul": _matmul, "aten::mm": _matmul, "aten::addmm": _addmm,
    "aten::relu": _unary("Relu"), "aten::relu_": _unary("Relu"),
    "aten::sigmoid": _unary("Sigmoid"), "aten::sigmoid_": _unary("Sigmoid"),
    "aten::tanh": _unary("Tanh"), "aten::tanh_": _unary("Tanh"),
    "aten::softmax": _softmax("Softmax"), "aten::log_softmax": _softmax("LogSoftmax"),
    "aten::view": _reshape, "aten::reshape": _reshape, "aten::unflatten": _reshape, "aten::flatten": _flatten,
    "aten::add": _add, "aten::add_": _add,
    "aten::dropout": _removed, "aten::dropout_": _removed, "aten::feature_dropout": _removed,
    "aten::alpha_dropout": _removed, "aten::feature_alpha_dropout": _removed,
    "aten::contiguous": _removed, "aten::detach": _removed,
    "aten::t": None, "aten::transpose": None,  # constant folding only (see _TsConverter._node)
    # format 1.2
    "aten::sub": _binary("Sub"), "aten::sub_": _binary("Sub"), "aten::rsub": _binary("Sub", reverse=True),
    "aten::mul": _binary("Mul"), "aten::mul_": _binary("Mul"), "aten::div": _binary("Div"), "aten::div_": _binary("Div"),
    "aten::gelu": _gelu, "aten::gelu_": _gelu, "aten::silu": _op("Silu"), "aten::silu_": _op("Silu"),
    "aten::leaky_relu": _leaky_relu, "aten::leaky_relu_": _leaky_relu, "aten::erf": _op("Erf"), "aten::erf_": _op("Erf"),
    "aten::layer_norm": _layer_norm, "aten::batch_norm": _batch_norm,
    "aten::conv2d": _conv, "aten::_convolution": _conv, "aten::_convolution_mode": _conv,
    "aten::neg": lambda c, site, a, out, shapes: c.b.binary("Mul", site, c.operand(a["self"]), Const("", np.asarray(-1.0)), out, shapes),
    "aten::max_pool2d": _max_pool, "aten::avg_pool2d": _avg_pool, "aten::adaptive_avg_pool2d": _adaptive_avg_pool,
}

_ATEN.update(op_families.merged("ATEN"))
_ATEN_TAKES_LISTS = op_families.merged("ATEN_TAKES_LISTS")
# aten ops returning a list of tensors (chunk, split): converter(c, site, args, out, shapes per run) -> value names
_ATEN_RETURNS_LISTS = {k: v for f in op_families.FAMILIES for k, v in getattr(f, "ATEN_RETURNS_LISTS", {}).items()}
_ATEN_VALUES_FIRST = {"aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d"}  # (values, indices)

def _param_name(debug_name: str) -> str:
    """'self.fc1.weight' -> 'fc1.weight'; '' for unnamed constants ('12')."""
    if debug_name.startswith("self."):
        return debug_name[len("self."):]
    return ""


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)|^\s*(?P<tfile>[^\n]+)\((?P<tline>\d+)\): \S+$', re.M)
_TORCH_DIR = os.path.dirname(torch.__file__)


def _source_line(node) -> str:
    """'line 7 of model.py' for a node's source range (the first frame outside torch), or ''."""
    try:
        text = node.sourceRange()
    except Exception:
        return ""
    frames = [(m["file"] or m["tfile"].strip(), m["line"] or m["tline"]) for m in _FRAME.finditer(text)]
    user = [f for f in frames if not f[0].startswith(_TORCH_DIR)]
    if not (user or frames):
        return ""
    file, line = (user or frames)[0]
    return f"line {line} of {os.path.basename(file)}"
