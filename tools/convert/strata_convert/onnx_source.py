"""Converts an ONNX model (domain ai.onnx; below opset 13 upgraded by onnx_upgrade.py) to the graph IR.

How it works
- Dimension 0 of every graph input is the batch (a fixed dim 0, e.g. 1 from an export without
  dynamic axes, is read as the batch too). Every IR value keeps the batch first (docs/FORMAT.md).
- Constants (initializers, Constant nodes, and whatever is computed from them and from `Shape`)
  are folded with onnx's reference evaluator. Folding runs twice, once per batch size in
  builder.BATCHES, so shape arithmetic such as `Shape → Gather → Concat → Reshape` resolves to a
  target whose dim 0 is the batch; a constant that depends on the batch may feed only a Reshape.
- An ONNX value is an IR value seen through `axes` (ONNX dim i → IR dim `axes[i]`, or None for
  an inserted unit dim). Transpose/Squeeze/Unsqueeze of a value only change the view, which lets
  sequence-first recurrent layouts (torch's batch_first exports) meet the batch-first IR ops. A
  view is materialized (as a Reshape) when an op needs it; a view that moves the batch away
  from dim 0 cannot be and is refused, except for graph outputs (written batch-first, see
  below).
- Sequence-first recurrent inputs and outputs: a graph input used only as X of a layout-0
  RNN/GRU/LSTM (or as its initial state) is declared batch-first in the .strata file
  ([N, T, I], [N, H]); a graph output that is a sequence-first recurrent result is written
  batch-first with ONNX's num_directions dim dropped (Y → [N, T, H], Y_h/Y_c → [N, H]).
- Graph outputs that are not floating point (e.g. skl2onnx's label) are dropped, as are nodes
  that only feed them; `outputs=` selects outputs by name. A classifier's labels come from the
  dropped label path (skl2onnx's `classes` initializer) unless `class_labels=` is given.
- Affine ops after a Linear/Conv (MatMul+Add, BatchNormalization) are folded by folding.py.

Anything that does not map exactly raises ConversionError naming the node and why.
"""
import math

import numpy as np

from . import folding, op_families, spatial1d
from .builder import BATCHES, metadata
from .errors import ConversionError, FormatError
from .ir import Graph, Node, Tensor, ValueInfo
from .validate import _check_node, check_graph, node_label

__all__ = ["convert_onnx", "load_onnx"]

MIN_OPSET = 13


class _C:
    """A constant: its value in each folding run (equal unless it depends on the batch)."""

    def __init__(self, runs, name=""):
        self.runs, self.name = [np.asarray(r) for r in runs], name

    @property
    def fixed(self):
        a = self.runs[0]
        return all(r.shape == a.shape and np.array_equal(r, a) for r in self.runs[1:])


class _V:
    """An ONNX value backed by IR value `ir`; `axes` maps ONNX dims to IR dims (None = unit dim).
    `caller_layout`: as a graph output, write it as ONNX holds it with the batch in its own dim
    (format 1.5; a recurrent state [layers, N, H]) instead of batch-first."""

    def __init__(self, ir, axes, caller_layout=False):
        self.ir, self.axes, self.caller_layout = ir, tuple(axes), caller_layout


class _StateRow:
    """Row `index` of a recurrent state graph input [S, N, H] (IR [N, S, H]): one layer's initial
    state, taken by a Slice of one row; a recurrent node reads it with `state_index` (format 1.5)."""

    def __init__(self, ir, index):
        self.ir, self.index = ir, index


def load_onnx(path):
    """Load an ONNX file (with its external data, if any)."""
    import onnx
    try:
        return onnx.load(str(path))
    except Exception as e:
        raise ConversionError(f"cannot load ONNX file {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e


def convert_onnx(model, *, name=None, class_labels=None, constants=None, outputs=None, fold=True) -> Graph:
    """Convert an ONNX ModelProto (or a path) to a Graph.

    constants: {graph input name: array} -- graph inputs to store as weights (ONNX node tests
    pass weights as inputs). outputs: the graph outputs to keep (default: every floating-point
    output). fold: run folding.py (affine folding into Linear/Conv, GELU pattern).
    """
    if not hasattr(model, "graph"):
        model = load_onnx(model)
    from .onnx_upgrade import to_supported_opset
    model, upgraded = to_supported_opset(model, MIN_OPSET)  # below opset 13: onnx.version_converter
    converter = _OnnxConverter(model, constants or {}, outputs)
    if upgraded:
        converter.notes.append(upgraded)
    try:
        return converter.convert(name, class_labels, fold)
    except ConversionError as refusal:
        lifted = _convert_lifted(model, constants, outputs, name, class_labels, fold, upgraded)
        if lifted is None:
            raise
        return lifted


def _convert_lifted(model, constants, outputs, name, class_labels, fold, upgraded):
    """A fixed-shape graph the ordinary conversion refused, converted as one sample of a new batch
    dimension (onnx_lift.py); None when it cannot be (the caller keeps the refusal)."""
    from . import onnx_lift
    if not onnx_lift.all_inputs_fixed(model, constants or {}):
        return None
    try:
        converter = _OnnxConverter(onnx_lift.lift(model, constants), constants or {}, outputs)
        converter.notes += [upgraded] if upgraded else []
        converter.notes.append("fixed-shape graph converted as one sample: every input and output has a new "
                               "leading batch dimension (run it with [1, …] for the graph as exported)")
        graph = converter.convert(name, class_labels, fold)
    except (onnx_lift.LiftError, ConversionError):
        return None
    graph.lifted = True
    return graph


class _OnnxConverter:
    def __init__(self, model, constants, outputs):
        import onnx
        from onnx import numpy_helper
        self.onnx, self.nh = onnx, numpy_helper
        self.model, self.g = model, model.graph
        opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
        self.opset = opsets.get("ai.onnx")
        if self.opset is None or self.opset < MIN_OPSET:
            raise ConversionError(f"the model uses ai.onnx opset {self.opset}; Strata converts opset {MIN_OPSET} or later "
                                  "(re-export with opset_version=17, or upgrade it with onnx.version_converter)")
        self.env = {}        # ONNX name -> _C | _V
        self.nodes, self.tensors, self.dims = [], {}, {}   # IR
        self.inputs, self.notes, self.used = [], [], set()
        self.last_step = {}  # IR name of a recurrent Y -> IR name of its Y_h
        self.constants = constants
        self.want_outputs = outputs
        self.declared_batch = None

    # -- driver ----------------------------------------------------------------------

    def convert(self, model_name, class_labels, fold):
        g = self.g
        init = {t.name: t for t in g.initializer}
        for t in g.initializer:
            self.env[t.name] = _C([self.nh.to_array(t)] * len(BATCHES), t.name)
        for name, arr in self.constants.items():
            self.env[name] = _C([np.asarray(arr)] * len(BATCHES), name)
        outs = self._select_outputs()
        needed = self._live(outs)
        seq_first = self._sequence_first_inputs(needed)
        for vi in g.input:
            if vi.name in self.env or vi.name not in needed:
                continue
            self._graph_input(vi, seq_first.get(vi.name))
        if not self.inputs:
            raise ConversionError("the model has no graph input that its outputs depend on")
        for node in g.node:
            if not any(o in needed for o in node.output):
                continue
            self._convert_node(node)
        out_infos = []
        for o in outs:
            v = self.env.get(o.name)
            if isinstance(v, _C):
                raise ConversionError(f"graph output '{o.name}' is a constant; Strata outputs depend on the input")
            if isinstance(v, _V) and v.caller_layout:  # a recurrent state [S, N, H] (format 1.5)
                out_infos.append(ValueInfo(v.ir, "f32", [-1 if a == 0 else self.dims[v.ir][a] for a in v.axes]))
                continue
            ir = self._output_value(v, o.name)
            out_infos.append(ValueInfo(ir, "f32", list(self.dims[ir])))
        n_classes = out_infos[0].dims[-1] if len(out_infos) == 1 and len(out_infos[0].dims) == 2 else None
        if class_labels is None and n_classes is not None:
            class_labels = self._class_labels(init, n_classes)
        meta = metadata(f"onnx opset {self.opset} ({self.model.producer_name or '?'} {self.model.producer_version})".strip(),
                        model_name or self.g.name or "onnx_model", class_labels, n_classes)
        if self.notes:
            meta["description"] = "converted from ONNX: " + "; ".join(self.notes)
        graph = Graph(self.inputs, out_infos, self.nodes, list(self.tensors.values()), meta)
        graph.source_outputs = [o.name for o in outs]  # the ONNX names of the graph outputs, in order
        if fold:
            folding.optimize(graph)
        from .builder import pack_linear_weights
        pack_linear_weights(graph)
        try:
            check_graph(graph)
        except FormatError as e:
            raise ConversionError(f"internal error: the converted graph breaks docs/FORMAT.md: {e}") from e
        return graph

    def _class_labels(self, init, n_classes):
        """A classifier's labels from its dropped label output (skl2onnx: ArgMax → ArrayFeatureExtractor
        over a `classes` initializer of n_classes ints or strings), as strings; else None."""
        for node in self.g.node:
            if node.op_type != "ArrayFeatureExtractor" or node.input[0] not in init:
                continue
            classes = self.nh.to_array(init[node.input[0]])
            if classes.ndim == 1 and classes.size == n_classes:
                self.notes.append(f"class labels from '{node.input[0]}' (the dropped label output)")
                return [c.decode() if isinstance(c, bytes) else str(c) for c in classes.tolist()]
        return None

    def _select_outputs(self):
        outs = list(self.g.output)
        if self.want_outputs is not None:
            by = {o.name: o for o in outs}
            missing = [n for n in self.want_outputs if n not in by]
            if missing:
                raise ConversionError(f"no graph output named {', '.join(missing)}; outputs: {', '.join(by)}")
            return [by[n] for n in self.want_outputs]
        floats = [o for o in outs if o.type.tensor_type.elem_type in (1, 10, 11, 16)]
        dropped = [o.name for o in outs if o not in floats]
        if not floats:
            raise ConversionError("the model has no floating-point output")
        if dropped:
            self.notes.append(f"dropped non-float outputs {', '.join(dropped)}")
        return floats

    def _live(self, outs):
        needed = {o.name for o in outs}
        for node in reversed(self.g.node):
            if any(o in needed for o in node.output):
                needed.update(i for i in node.input if i)
        return needed

    def _sequence_first_inputs(self, needed):
        """Graph inputs used only as X (or initial states) of layout-0 recurrent nodes."""
        uses = {}
        for node in self.g.node:
            if any(o in needed for o in node.output):
                for k, i in enumerate(node.input):
                    uses.setdefault(i, []).append((node, k))
        out = {}
        for vi in self.g.input:
            us = uses.get(vi.name, [])
            if us and all(n.op_type in ("RNN", "GRU", "LSTM") and _attr(n, "layout", 0) == 0 and k in (0, 5, 6)
                          for n, k in us):
                ks = {k for _, k in us}
                if len(ks) == 1:
                    out[vi.name] = (1, 0, 2) if ks == {0} else (None, 0, 1)
        return out

    def _graph_input(self, vi, view):
        t = vi.type.tensor_type
        if t.elem_type not in (1, 10, 11, 16):
            raise ConversionError(f"graph input '{vi.name}' has element type {t.elem_type}; Strata inputs are float")
        dims = []
        symbolic = [k for k, d in enumerate(t.shape.dim) if not (d.HasField("dim_value") and d.dim_value > 0)]
        if view is None and len(symbolic) == 1 and symbolic[0] > 0:
            return self._state_input(vi, [d.dim_value for d in t.shape.dim], symbolic[0])
        for k, d in enumerate(t.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(d.dim_value)
            elif k == 0 or (view and view[k] in (None, 0)):  # the batch (or a unit dim) may be symbolic
                dims.append(-1)
            else:
                raise ConversionError(f"graph input '{vi.name}' dim {k} is symbolic ('{d.dim_param}'); "
                                      "only the batch (dim 0) may be")
        if not dims:
            raise ConversionError(f"graph input '{vi.name}' is a scalar; Strata inputs have a batch dimension")
        if view is None:
            view = tuple(range(len(dims)))
            ir_dims = [-1] + dims[1:]
            batch = dims[0]
        else:  # declared batch-first: ONNX dim k holds IR dim view[k]
            ir_dims = [0] * (max(a for a in view if a is not None) + 1)
            for k, a in enumerate(view):
                if a is not None:
                    ir_dims[a] = dims[k]
            batch = ir_dims[0]
            ir_dims[0] = -1
            self.notes.append(f"input '{vi.name}' is declared batch-first {ir_dims} (ONNX: sequence-first {dims})")
        if self.declared_batch is None and batch > 0:
            self.declared_batch = batch
        ir = self._fresh(vi.name)
        self.inputs.append(ValueInfo(ir, "f32", ir_dims))
        self.dims[ir] = ir_dims
        self.env[vi.name] = _V(ir, view)

    def _state_input(self, vi, dims, k):
        """A graph input whose one symbolic dim `k` > 0 is the batch (a recurrent state [S, N, H]):
        declared with the batch in dim k (format 1.5), batch-first inside."""
        caller = list(dims)
        caller[k] = -1
        ir_dims = [-1] + [d for i, d in enumerate(dims) if i != k]
        axes = [0 if i == k else (i + 1 if i < k else i) for i in range(len(dims))]
        ir = self._fresh(vi.name)
        self.inputs.append(ValueInfo(ir, "f32", caller))
        self.dims[ir] = ir_dims
        self.env[vi.name] = _V(ir, axes)

    def _output_value(self, v, name):
        try:
            return self._mat(v, f"graph output '{name}'")
        except ConversionError:
            if sorted(a for a in v.axes if a is not None) != list(range(len(self.dims[v.ir]))):
                raise
            producer = next((n.op for n in self.nodes if v.ir in n.outputs), None)
            if producer not in ("RNN", "GRU", "LSTM"):  # only a recurrent result is written batch-first
                raise
            self.notes.append(f"output '{name}' is written batch-first {self.dims[v.ir]}")
            return v.ir

    # -- IR emission ---------------------------------------------------------------------

    def _fresh(self, name):
        base, i = name or "v", 1
        name = name or "v"
        while name in self.used:
            name = f"{base}_{i}"
            i += 1
        self.used.add(name)
        return name

    def _emit(self, op, node, inputs, attrs=None, n_out=1, out_names=None):
        outs = [self._fresh(n) for n in (out_names or [f"{node.name or op}_out{k}" if k else (node.output[0] if node.output else op)
                                                        for k in range(n_out)])]
        ir = Node(op, node.name or "", list(inputs), outs, dict(attrs or {}))
        tensor_dims = {k: list(t.array.shape) for k, t in self.tensors.items()}
        try:
            dims = _check_node(ir, node_label(ir, len(self.nodes)), self.dims, tensor_dims)
        except FormatError as e:
            raise ConversionError(f"{_where(node)}: {e.message}") from e
        self.nodes.append(ir)
        for o, d in zip(outs, dims if isinstance(dims, tuple) else (dims,)):
            self.dims[o] = d
        return outs if n_out > 1 else outs[0]

    def _tensor(self, array, name):
        array = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        old = self.tensors.get(name)
        if old is not None and old.array.shape == array.shape and old.array.tobytes() == array.tobytes():
            return name
        name = self._fresh(name)
        self.tensors[name] = Tensor(name, array)
        return name

    def _mat(self, v, where):
        """The IR value of an ONNX value (a Reshape when the view inserts unit dims)."""
        if not isinstance(v, _V):
            raise ConversionError(f"{where}: expected a value computed from the model input, got a constant")
        axes = v.axes
        if axes == tuple(range(len(self.dims[v.ir]))):
            return v.ir
        real = [a for a in axes if a is not None]
        if sorted(real) != list(range(len(self.dims[v.ir]))) or axes[0] != 0:
            raise ConversionError(f"{where}: the batch is not dimension 0 of this value (a Transpose or a "
                                  "sequence-first layout); Strata keeps the batch first (dim 0)")
        if real != sorted(real):  # a permuted view: a Transpose node (format 1.5, shape_ops.py)
            from types import SimpleNamespace
            ir = self._emit("Transpose", SimpleNamespace(name=f"{v.ir}_transposed", output=[f"{v.ir}_transposed"],
                                                         op_type="Transpose"), [v.ir], {"perm": real})
            position = {a: k for k, a in enumerate(real)}
            v.ir, v.axes = ir, tuple(None if a is None else position[a] for a in axes)
            axes = v.axes
            if axes == tuple(range(len(self.dims[v.ir]))):
                return v.ir
        shape = [-1] + [1 if a is None else self.dims[v.ir][a] for a in axes[1:]]
        from types import SimpleNamespace
        ir = self._emit("Reshape", SimpleNamespace(name=f"{v.ir}_view", output=[f"{v.ir}_view"], op_type="view"),
                        [v.ir], {"shape": shape})
        v.ir, v.axes = ir, tuple(range(len(shape)))
        return ir

    def _onnx_shape(self, v, b):
        if isinstance(v, _C):
            return list(v.runs[BATCHES.index(b)].shape)
        d = self.dims[v.ir]
        return [1 if a is None else (b if a == 0 else d[a]) for a in v.axes]

    # -- nodes ---------------------------------------------------------------------------

    def _convert_node(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise ConversionError(f"{_where(node)}: domain '{node.domain}' is not supported (only ai.onnx)")
        args = [self.env.get(i) if i else None for i in node.input]
        for i, a in zip(node.input, args):
            if i and a is None:
                raise ConversionError(f"{_where(node)}: input '{i}' is not defined (a graph input without a value?)")
        if all(a is None or isinstance(a, _C) for a in args) and node.op_type not in _NO_FOLD:
            return self._fold(node, args)
        if node.op_type == "Shape":
            return self._shape(node, args[0])
        handler = getattr(self, "_op_" + node.op_type, None)
        if node.op_type == "Concat" and (stacked := self._concat_states(node, args)) is not None:
            handler = lambda node, args: stacked  # noqa: E731 (recurrent states [S, N, H], format 1.5)
        if node.op_type == "Slice" and (row := self._slice_state_row(node, args)) is not None:
            handler = lambda node, args: row  # noqa: E731 (one layer's row of a state input, format 1.5)
        if handler is None:
            raise ConversionError(f"{_where(node)}: op {node.op_type} is not supported by Strata")
        result = handler(node, args)
        results = result if isinstance(result, list) else [result]
        for o, r in zip(node.output, results):
            if o:
                self.env[o] = r

    def _fold(self, node, args):
        from onnx.reference import ReferenceEvaluator
        try:
            ev = ReferenceEvaluator(node)
            runs = [ev.run(None, {i: a.runs[k] for i, a in zip(node.input, args) if i}) for k in range(len(BATCHES))]
        except Exception as e:
            raise ConversionError(f"{_where(node)}: cannot fold this constant {node.op_type}: {str(e).splitlines()[0]}") from e
        for j, o in enumerate(node.output):
            if o:
                self.env[o] = _C([r[j] for r in runs], o)

    def _shape(self, node, v):
        runs = []
        for b in BATCHES:
            s = self._onnx_shape(v, b)
            start, end = _attr(node, "start", 0), _attr(node, "end", None)
            runs.append(np.array(s[slice(start, end)], dtype=np.int64))
        self.env[node.output[0]] = _C(runs)

    def _const(self, node, c, what):
        if not isinstance(c, _C):
            raise ConversionError(f"{_where(node)}: its {what} must be a constant (an initializer), not a value computed at run time")
        if not c.fixed:
            raise ConversionError(f"{_where(node)}: its {what} depends on the batch size")
        return c.runs[0]

    def _value(self, node, v, what="input"):
        if not isinstance(v, _V):
            raise ConversionError(f"{_where(node)}: its {what} must be computed from the model input")
        return self._mat(v, _where(node))

    def _unary(op, **fixed):
        def handler(self, node, args):
            v = args[0]
            if not isinstance(v, _V):
                raise ConversionError(f"{_where(node)}: its input must be computed from the model input")
            attrs = {k: f(node) for k, f in fixed.items()}
            return _V(self._emit(op, node, [v.ir], attrs), v.axes)  # elementwise: keeps the view
        return handler

    _op_Relu = _unary("Relu")
    _op_Sigmoid = _unary("Sigmoid")
    _op_Tanh = _unary("Tanh")
    _op_Erf = _unary("Erf")
    _op_LeakyRelu = _unary("LeakyRelu", alpha=lambda n: float(_attr(n, "alpha", 0.01)))

    _op_Gelu = _unary("Gelu", approximate=lambda n: _gelu_mode(n))

    def _op_CastLike(self, node, args):
        return self._op_Cast(node, args, 1)  # 1 = FLOAT: Strata computes in f32

    def _op_Cast(self, node, args, to=None):
        to = to or _attr(node, "to", 1)
        if isinstance(args[0], _C):
            if to not in (1, 10, 11, 16):
                raise ConversionError(f"{_where(node)}: casts to a non-float type")
            return _C([r.astype(np.float32) for r in args[0].runs], node.output[0])
        if to != 1:
            raise ConversionError(f"{_where(node)}: casts a value to element type {to}; Strata computes in f32 only")
        return args[0]

    def _op_Identity(self, node, args):
        return args[0]

    def _op_Dropout(self, node, args):
        if len(args) > 2 and args[2] is not None:
            mode = self._const(node, args[2], "training_mode")
            if bool(np.asarray(mode).reshape(-1)[0]):
                raise ConversionError(f"{_where(node)}: training_mode = true; Strata runs inference (Dropout is the identity)")
        if len(node.output) > 1 and node.output[1] and any(node.output[1] in n.input for n in self.g.node):
            raise ConversionError(f"{_where(node)}: its mask output is used; Strata has no mask")
        return [args[0], None]

    def _softmax(self, node, args, op):
        x = self._value(node, args[0])
        rank = len(self.dims[x])
        axis = _attr(node, "axis", -1)
        if not -rank <= axis < rank:
            raise ConversionError(f"{_where(node)}: axis {axis} is out of range for rank {rank}")
        if axis % rank == 0:
            raise ConversionError(f"{_where(node)}: {op} over axis 0, the batch; Strata never mixes samples")
        return _V(self._emit(op, node, [x], {"axis": axis % rank}), range(rank))

    def _op_Softmax(self, node, args):
        return self._softmax(node, args, "Softmax")

    def _op_LogSoftmax(self, node, args):
        return self._softmax(node, args, "LogSoftmax")

    # binary ops ----------------------------------------------------------------------------

    def _binary(self, node, args, op):
        a, b = args
        if isinstance(a, _V) and isinstance(b, _V):
            xa, xb = self._mat(a, _where(node)), self._mat(b, _where(node))
            if len(self.dims[xa]) != len(self.dims[xb]):
                raise ConversionError(f"{_where(node)}: values of ranks {len(self.dims[xa])} and {len(self.dims[xb])}; "
                                      "both carry the batch in dim 0, so they must have the same rank")
            return _V(self._emit(op, node, [xa, xb]), range(len(self.dims[xa])))
        v, c, first = (a, b, True) if isinstance(a, _V) else (b, a, False)
        arr = np.asarray(self._const(node, c, "constant operand"), dtype=np.float64)
        x = self._mat(v, _where(node))
        rank = len(self.dims[x])
        if arr.ndim > rank or (arr.ndim == rank and arr.shape[0] != 1):
            raise ConversionError(f"{_where(node)}: the constant of shape {list(arr.shape)} would broadcast over the "
                                  f"batch of a value of shape {self.dims[x]}")
        if arr.ndim == rank:
            arr = arr[0]
        if arr.ndim == 0:
            arr = arr.reshape(1)
        t = self._tensor(arr, c.name or f"{node.name or op}.const")
        return _V(self._emit(op, node, [x, t] if first else [t, x]), range(rank))

    def _op_Add(self, node, args):
        return self._binary(node, args, "Add")

    def _op_Sub(self, node, args):
        return self._binary(node, args, "Sub")

    def _op_Mul(self, node, args):
        return self._binary(node, args, "Mul")

    def _op_Div(self, node, args):
        return self._binary(node, args, "Div")

    # linear ------------------------------------------------------------------------------

    def _linear(self, node, x, w, bias):
        """x: IR value [..., K]; w: [M, K]; bias: [M] or None."""
        inputs = [x, self._tensor(w, f"{node.name or 'linear'}.weight"), ""]
        if bias is not None:
            inputs[2] = self._tensor(bias, f"{node.name or 'linear'}.bias")
        return self._emit("Linear", node, inputs)

    def _op_Gemm(self, node, args):
        if _attr(node, "transA", 0):
            raise ConversionError(f"{_where(node)}: transA = 1 transposes the batched input A, which would mix the batch")
        x = self._value(node, args[0], "input A")
        if len(self.dims[x]) != 2:
            raise ConversionError(f"{_where(node)}: A has shape {self.dims[x]}; Gemm takes a 2-D A")
        bmat = np.asarray(self._const(node, args[1], "B (the weight)"), dtype=np.float64)
        alpha, beta = float(_attr(node, "alpha", 1.0)), float(_attr(node, "beta", 1.0))
        w = (bmat if _attr(node, "transB", 0) else bmat.T) * alpha
        m = w.shape[0]
        bias = None
        if len(args) > 2 and args[2] is not None:
            c = np.asarray(self._const(node, args[2], "C (the bias)"), dtype=np.float64) * beta
            if c.ndim == 2 and c.shape[0] != 1:
                raise ConversionError(f"{_where(node)}: C has shape {list(c.shape)}; a bias that differs per row "
                                      "of A would mix the batch (Strata takes C of shape [M], [1, M] or a scalar)")
            bias = np.broadcast_to(c.reshape(-1) if c.ndim else c, (m,)).copy()
        return _V(self._linear(node, x, w, bias), (0, 1))

    def _op_MatMul(self, node, args):
        a, b = args
        if not isinstance(a, _V):
            raise ConversionError(f"{_where(node)}: A must be computed from the model input (constant · value is not supported)")
        if isinstance(b, _V):
            raise ConversionError(f"{_where(node)}: both operands are computed values; Strata's MatMul needs a constant weight")
        w = np.asarray(self._const(node, b, "B (the weight)"))
        if w.ndim != 2:
            raise ConversionError(f"{_where(node)}: the weight has shape {list(w.shape)}; Strata takes a 2-D weight")
        if len(a.axes) < 2:
            raise ConversionError(f"{_where(node)}: A is 1-D (it would contract the batch)")
        if a.axes[-1] is None or a.axes[-1] != len(self.dims[a.ir]) - 1:
            x = self._mat(a, _where(node))
            return _V(self._linear(node, x, w.T, None), range(len(self.dims[x])))
        # Linear works on the last IR dim: keep the view (e.g. a sequence-first recurrent output)
        return _V(self._linear(node, a.ir, w.T, None), a.axes)

    # shapes ------------------------------------------------------------------------------

    def _reshape_to(self, node, v, targets, allowzero=0):
        """Reshape `v` to per-run ONNX target shapes `targets` (0 copies, -1 infers)."""
        x = self._mat(v, _where(node))
        outs = []
        for b, t in zip(BATCHES, targets):
            src = self._onnx_shape(v, b)
            t = [int(d) for d in np.asarray(t).reshape(-1)]
            if self.declared_batch and t and t[0] == self.declared_batch and all(np.array_equal(targets[0], u) for u in targets):
                t = [b] + t[1:]  # a constant target whose dim 0 is the declared (fixed) batch
            shape = [src[i] if d == 0 and not allowzero and i < len(src) else d for i, d in enumerate(t)]
            if shape.count(-1) == 1:
                known = math.prod(d for d in shape if d != -1)
                if known == 0 or math.prod(src) % known:
                    raise ConversionError(f"{_where(node)}: cannot reshape {src} to {t}")
                shape[shape.index(-1)] = math.prod(src) // known
            if math.prod(shape) != math.prod(src) or any(d < 0 for d in shape):
                raise ConversionError(f"{_where(node)}: cannot reshape {src} to {t}")
            outs.append(shape)
        if any(not o or o[0] != b for o, b in zip(outs, BATCHES)) or any(o[1:] != outs[0][1:] for o in outs):
            runs = ", ".join(f"{o} for batch {b}" for o, b in zip(outs, BATCHES))
            raise ConversionError(f"{_where(node)}: this reshape mixes the batch (dim 0) with other dimensions "
                                  f"(its result would be {runs}); Strata keeps dim 0 the batch")
        rest = outs[0][1:]
        if rest == self.dims[x][1:]:
            return _V(x, range(len(self.dims[x])))
        if len(rest) == 1 and len(self.dims[x]) > 2:
            return _V(self._emit("Flatten", node, [x], {"axis": 1}), (0, 1))
        return _V(self._emit("Reshape", node, [x], {"shape": [-1] + rest}), range(len(rest) + 1))

    def _op_Reshape(self, node, args):
        shape = args[1]
        if not isinstance(shape, _C):
            raise ConversionError(f"{_where(node)}: its target shape is computed from data; it must be constant "
                                  "(or shape arithmetic on the input's shape)")
        return self._reshape_to(node, args[0], shape.runs, _attr(node, "allowzero", 0))

    def _op_Flatten(self, node, args):
        v, axis = args[0], _attr(node, "axis", 1)
        targets = []
        for b in BATCHES:
            s = self._onnx_shape(v, b)
            a = axis % len(s) if s else 0
            targets.append(np.array([math.prod(s[:a]), math.prod(s[a:])]))
        return self._reshape_to(node, v, targets, allowzero=1)

    def _op_Transpose(self, node, args):
        v = args[0]
        perm = _attr(node, "perm", None) or list(reversed(range(len(v.axes))))
        return _V(v.ir, [v.axes[p] for p in perm])

    def _axes_arg(self, node, args, rank):
        if len(args) > 1 and args[1] is not None:
            axes = self._const(node, args[1], "axes")
        else:
            axes = _attr(node, "axes", None)
        return None if axes is None else sorted(int(a) % rank for a in np.asarray(axes).reshape(-1))

    def _op_Squeeze(self, node, args):
        v = args[0]
        axes = self._axes_arg(node, args, len(v.axes))
        if axes is None:
            axes = [k for k, a in enumerate(v.axes) if a is None or (a != 0 and self.dims[v.ir][a] == 1)]
        new = []
        for k, a in enumerate(v.axes):
            if k in axes:
                if a == 0:
                    raise ConversionError(f"{_where(node)}: squeezes dim {k}, the batch")
                if a is not None and self.dims[v.ir][a] != 1:
                    raise ConversionError(f"{_where(node)}: dim {k} is not 1")
                if a is not None:  # a real unit dim of the IR value: reshape it away
                    x = self._mat(v, _where(node))
                    keep = [d for i, d in enumerate(self.dims[x]) if i not in axes]
                    return _V(self._emit("Reshape", node, [x], {"shape": [-1] + keep[1:]}), range(len(keep)))
                continue
            new.append(a)
        return _V(v.ir, new)

    def _op_Unsqueeze(self, node, args):
        v = args[0]
        axes = self._axes_arg(node, args, len(v.axes) + len(np.asarray(
            self._const(node, args[1], "axes") if len(args) > 1 and args[1] is not None else _attr(node, "axes", [])).reshape(-1)))
        new = list(v.axes)
        for a in axes:
            new.insert(a, None)
        return _V(v.ir, new)

    def _op_Gather(self, node, args):
        v, idx = args
        axis = _attr(node, "axis", 0) % len(v.axes)
        index = np.asarray(self._const(node, idx, "indices"))
        a = v.axes[axis]
        if a == 1 and index.ndim == 0 and v.ir in self.last_step:
            t = self.dims[v.ir][1]
            if int(index) in (-1, t - 1):  # out[:, -1] of a recurrent output is its final state
                new = [x if x is None or x < 1 else x - 1 for k, x in enumerate(v.axes) if k != axis]
                return _V(self.last_step[v.ir], new)
        raise ConversionError(f"{_where(node)}: Gather on a computed value is supported only to take the last "
                              "time step of an RNN/GRU/LSTM output (out[:, -1])")

    def _op_Slice(self, node, args):
        v = args[0]
        starts, ends = (np.asarray(self._const(node, args[k], n)).reshape(-1) for k, n in ((1, "starts"), (2, "ends")))
        axes = np.asarray(self._const(node, args[3], "axes")).reshape(-1) if len(args) > 3 and args[3] is not None else np.arange(len(starts))
        steps = np.asarray(self._const(node, args[4], "steps")).reshape(-1) if len(args) > 4 and args[4] is not None else np.ones(len(starts))
        state = self._state_row(v, starts, ends, axes, steps)
        if state is not None:
            return state
        if len(starts) == 1 and v.ir in self.last_step and steps[0] == 1:
            axis = int(axes[0]) % len(v.axes)
            t = self.dims[v.ir][1]
            if v.axes[axis] == 1 and int(starts[0]) in (-1, t - 1) and int(ends[0]) >= t:
                new = [None if k == axis else (x if x is None or x < 1 else x - 1) for k, x in enumerate(v.axes)]
                return _V(self.last_step[v.ir], new)
        raise ConversionError(f"{_where(node)}: Slice on a computed value is supported only to take the last "
                              "time step of an RNN/GRU/LSTM output (out[:, -1:])")

    def _slice_state_row(self, node, args):
        """A Slice of one row of a recurrent state input (see `_state_row`), else None."""
        v = args[0]
        if not isinstance(v, _V) or tuple(v.axes) != (1, 0, 2) or len(args) < 3:
            return None
        try:
            starts, ends = (np.asarray(self._const(node, args[k], n)).reshape(-1) for k, n in ((1, "starts"), (2, "ends")))
            axes = np.asarray(self._const(node, args[3], "axes")).reshape(-1) if len(args) > 3 and args[3] is not None else np.arange(len(starts))
            steps = np.asarray(self._const(node, args[4], "steps")).reshape(-1) if len(args) > 4 and args[4] is not None else np.ones(len(starts))
        except ConversionError:
            return None
        return self._state_row(v, starts, ends, axes, steps)

    def _state_row(self, v, starts, ends, axes, steps):
        """Slice [l, l+1) of dim 0 of a state input viewed [S, N, H] (IR [N, S, H]), else None."""
        if not isinstance(v, _V) or tuple(v.axes) != (1, 0, 2) or len(starts) != 1 or steps[0] != 1 \
                or int(axes[0]) % 3 != 0 or v.ir not in {i.name for i in self.inputs}:
            return None
        rows = self.dims[v.ir][1]
        start = int(starts[0]) + (rows if int(starts[0]) < 0 else 0)
        if not 0 <= start < rows or min(int(ends[0]), rows) != start + 1:
            return None
        return _StateRow(v.ir, start)

    def _concat_states(self, node, args):
        """Concat on axis 0 of recurrent final states [1, N, H]: the stacked state [S, N, H],
        batch-first inside ([N, S, H], a Reshape of each and a Concat on axis 1), written in
        ONNX's layout as a graph output (format 1.5). None when `args` are not such states."""
        if _attr(node, "axis", None) not in (0, -3) or not all(isinstance(v, _V) and tuple(v.axes) == (None, 0, 1) for v in args):
            return None
        from types import SimpleNamespace
        rows = []
        for v in args:
            h = self.dims[v.ir][1]
            rows.append(self._emit("Reshape", SimpleNamespace(name=f"{v.ir}_row", output=[f"{v.ir}_row"], op_type="view"),
                                   [v.ir], {"shape": [-1, 1, h]}))
        ir = rows[0] if len(rows) == 1 else self._emit("Concat", node, rows, {"axis": 1})
        return _V(ir, (1, 0, 2), caller_layout=True)

    # normalization -------------------------------------------------------------------------

    def _op_BatchNormalization(self, node, args):
        if _attr(node, "training_mode", 0):
            raise ConversionError(f"{_where(node)}: training_mode = 1; Strata folds BatchNormalization with its running statistics")
        x = self._value(node, args[0])
        s, b, mean, var = (np.asarray(self._const(node, a, n), dtype=np.float64)
                           for a, n in zip(args[1:5], ("scale", "B", "mean", "var")))
        eps = float(_attr(node, "epsilon", 1e-5))
        rank = len(self.dims[x])
        if rank < 2:
            raise ConversionError(f"{_where(node)}: input of rank {rank}; BatchNormalization needs [N, C, ...]")
        scale = s / np.sqrt(var + eps)
        shift = b - mean * scale
        shape = (-1,) + (1,) * (rank - 2)
        y = self._emit("Mul", node, [x, self._tensor(scale.reshape(shape), f"{node.name or 'bn'}.scale")],
                       out_names=[f"{node.name or 'bn'}_scaled"])
        y = self._emit("Add", node, [y, self._tensor(shift.reshape(shape), f"{node.name or 'bn'}.shift")])
        return [_V(y, range(rank))] + [None] * (len(node.output) - 1)

    def _op_LayerNormalization(self, node, args):
        x = self._value(node, args[0])
        rank = len(self.dims[x])
        axis = _attr(node, "axis", -1)
        if not -rank <= axis < rank or axis % rank == 0:
            raise ConversionError(f"{_where(node)}: axis {axis} normalizes over the batch (or is out of range); "
                                  "Strata normalizes over non-batch dims only")
        self._no_extra_outputs(node, "Mean and InvStdDev")
        want = self.dims[x][axis % rank:]
        scale = np.broadcast_to(np.asarray(self._const(node, args[1], "Scale")), want)
        inputs = [x, self._tensor(scale, f"{node.name or 'ln'}.scale"), ""]
        if len(args) > 2 and args[2] is not None:
            inputs[2] = self._tensor(np.broadcast_to(np.asarray(self._const(node, args[2], "B")), want), f"{node.name or 'ln'}.bias")
        y = self._emit("LayerNormalization", node, inputs, {"axis": axis % rank, "epsilon": float(_attr(node, "epsilon", 1e-5))})
        return [_V(y, range(rank))]

    def _no_extra_outputs(self, node, what):
        live = {i for n in self.g.node for i in n.input} | {o.name for o in self.g.output if o.name in self._kept_names()}
        if any(o and o in live for o in node.output[1:]):
            raise ConversionError(f"{_where(node)}: its {what} outputs are used; Strata computes only the first output")

    def _kept_names(self):
        return {o for o in (self.want_outputs or [o.name for o in self.g.output])}

    # convolution and pooling -------------------------------------------------------------

    def _pads(self, node, x_dims, kernel, strides, dilations):
        auto = _attr(node, "auto_pad", "NOTSET")
        if auto == "NOTSET":
            pads = list(_attr(node, "pads", [0, 0, 0, 0]))
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * 4
            for i in range(2):
                size = x_dims[2 + i]
                total = max(0, (-(-size // strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size)
                small, big = total // 2, total - total // 2
                pads[i], pads[i + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
        else:
            raise ConversionError(f"{_where(node)}: auto_pad = {auto!r} is not supported")
        if len(pads) != 4:
            raise ConversionError(f"{_where(node)}: pads {pads}; Strata supports 2-D windows (4 pads)")
        return [int(p) for p in pads]

    def _spatial(self, node, x, what):
        if len(self.dims[x]) != 4:
            raise ConversionError(f"{_where(node)}: input of shape {self.dims[x]}; Strata supports 2-D {what} "
                                  "on [N, C, H, W] only")

    def _op_Conv(self, node, args):
        if isinstance(args[0], _V) and len(args[0].axes) == 3:  # Conv1d: through the 2-D op (spatial1d.py)
            return spatial1d.onnx_1d(self, node, args, "Conv")
        x = self._value(node, args[0])
        self._spatial(node, x, "convolution")
        w = np.asarray(self._const(node, args[1], "weight"))
        if w.ndim != 4:
            raise ConversionError(f"{_where(node)}: weight of shape {list(w.shape)}; Strata supports 2-D convolution")
        strides = list(_attr(node, "strides", [1, 1]))
        dil = list(_attr(node, "dilations", [1, 1]))
        attrs = {"strides": strides, "pads": self._pads(node, self.dims[x], w.shape[2:], strides, dil),
                 "dilations": dil, "group": int(_attr(node, "group", 1))}
        inputs = [x, self._tensor(w, f"{node.name or 'conv'}.weight"), ""]
        if len(args) > 2 and args[2] is not None:
            inputs[2] = self._tensor(self._const(node, args[2], "bias"), f"{node.name or 'conv'}.bias")
        return _V(self._emit("Conv", node, inputs, attrs), range(4))

    def _pool(self, node, args, op):
        if isinstance(args[0], _V) and len(args[0].axes) == 3:  # 1-D pooling: through the 2-D op (spatial1d.py)
            return spatial1d.onnx_1d(self, node, args, op)
        x = self._value(node, args[0])
        self._spatial(node, x, "pooling")
        if len(node.output) > 1 and node.output[1]:
            raise ConversionError(f"{_where(node)}: the Indices output is not supported")
        k = list(_attr(node, "kernel_shape", []))
        strides = list(_attr(node, "strides", [1, 1]))
        dil = list(_attr(node, "dilations", [1, 1]))
        if len(k) != 2:
            raise ConversionError(f"{_where(node)}: kernel_shape {k}; Strata supports 2-D pooling")
        pads = self._pads(node, self.dims[x], k, strides, dil)
        if any(pads[i] >= dil[i % 2] * (k[i % 2] - 1) + 1 for i in range(4)):
            raise ConversionError(f"{_where(node)}: pads {pads} are not smaller than the window extent d·(k−1)+1 "
                                  f"(kernel {k}, dilations {dil})")
        attrs = {"kernel_shape": k, "strides": strides, "pads": pads, "dilations": dil,
                 "ceil_mode": int(_attr(node, "ceil_mode", 0))}
        if op == "AveragePool":
            attrs["count_include_pad"] = int(_attr(node, "count_include_pad", 0))
        return _V(self._emit(op, node, [x], attrs), range(4))

    def _op_MaxPool(self, node, args):
        if _attr(node, "storage_order", 0):
            pass  # only affects the Indices output, refused above
        return self._pool(node, args, "MaxPool")

    def _op_AveragePool(self, node, args):
        return self._pool(node, args, "AveragePool")

    def _op_GlobalAveragePool(self, node, args):
        x = self._value(node, args[0])
        return _V(self._emit("GlobalAveragePool", node, [x]), range(len(self.dims[x])))

    # recurrent ---------------------------------------------------------------------------

    def _recurrent(self, node, args, op, gates):
        direction = _attr(node, "direction", "forward")
        if direction != "forward":
            raise ConversionError(f"{_where(node)}: direction = {direction!r}; Strata runs forward recurrences only")
        for key in ("clip", "activation_alpha", "activation_beta"):
            if _attr(node, key, None) is not None:
                raise ConversionError(f"{_where(node)}: attribute {key} is not supported")
        if _attr(node, "input_forget", 0):
            raise ConversionError(f"{_where(node)}: input_forget = 1 is not supported")
        acts = [a.decode() if isinstance(a, bytes) else a for a in (_attr(node, "activations", None) or [])]
        defaults = {"RNN": [["Tanh"], ["Relu"]], "GRU": [["Sigmoid", "Tanh"]], "LSTM": [["Sigmoid", "Tanh", "Tanh"]]}[op]
        if acts and acts not in defaults:
            raise ConversionError(f"{_where(node)}: activations {acts} are not supported (Strata: {defaults})")
        layout = _attr(node, "layout", 0)
        h = int(_attr(node, "hidden_size", 0))
        v = args[0]
        if not isinstance(v, _V):
            raise ConversionError(f"{_where(node)}: X must be computed from the model input")
        # the IR wants X batch-first [N, T, I]
        want = (1, 0, 2) if layout == 0 else (0, 1, 2)
        if tuple(v.axes) != want:
            if layout == 0:
                raise ConversionError(f"{_where(node)}: X is sequence-first [T, N, I] (layout 0) but Strata cannot "
                                      "move the batch; export with batch_first=True or feed X straight from a graph input")
            x = self._mat(v, _where(node))
        else:
            x = v.ir
        if len(self.dims[x]) != 3:
            raise ConversionError(f"{_where(node)}: X has rank {len(self.dims[x])}; expected 3")
        w = np.asarray(self._const(node, args[1], "W"))
        r = np.asarray(self._const(node, args[2], "R"))
        if w.shape[0] != 1 or r.shape[0] != 1:
            raise ConversionError(f"{_where(node)}: num_directions {w.shape[0]}; Strata runs one direction")
        base = node.name or op.lower()
        inputs = [x, self._tensor(w[0], f"{base}.W"), self._tensor(r[0], f"{base}.R"), "", ""]
        if len(args) > 3 and args[3] is not None:
            bias = np.asarray(self._const(node, args[3], "B"))[0]
            inputs[3] = self._tensor(bias[:gates * h], f"{base}.WB")
            inputs[4] = self._tensor(bias[gates * h:], f"{base}.RB")
        if len(args) > 4 and args[4] is not None:
            lens = self._const(node, args[4], "sequence_lens")
            if np.any(np.asarray(lens) != self.dims[x][1]):
                raise ConversionError(f"{_where(node)}: sequence_lens {np.asarray(lens).tolist()} differ from the "
                                      f"sequence length {self.dims[x][1]}; Strata runs full sequences")
        states, row_index = [], None
        for k, what in ((5, "initial_h"), (6, "initial_c")):
            if len(args) > k and args[k] is not None:
                s = args[k]
                if isinstance(s, _C) and not any(np.any(r) for r in s.runs):
                    states.append("")  # zeros (torch exports them as a constant): the op's default
                    continue
                if isinstance(s, _C):
                    raise ConversionError(f"{_where(node)}: a constant {what} is not supported (it has the batch size baked in)")
                if isinstance(s, _StateRow):  # one row of a state input [S, N, H] (format 1.5)
                    if layout != 0 or row_index not in (None, s.index):
                        raise ConversionError(f"{_where(node)}: initial_h and initial_c come from different rows")
                    row_index = s.index
                    states.append(s.ir)
                    continue
                want_s = (None, 0, 1) if layout == 0 else (0, None, 1)
                if tuple(s.axes) != want_s:
                    raise ConversionError(f"{_where(node)}: {what} does not have the layout [1, N, H] / [N, 1, H]")
                states.append(s.ir)
            elif k < len(args) or (op == "LSTM" and k == 6):
                states.append("")
        if op == "LSTM" and len(args) > 7 and args[7] is not None:
            raise ConversionError(f"{_where(node)}: peepholes (input P) are not supported")
        inputs += states
        while inputs and inputs[-1] == "" and len(inputs) > 3:
            inputs.pop()
        attrs = {"hidden_size": h}
        if row_index is not None:
            attrs["state_index"] = row_index
        if op == "RNN":
            attrs["activation"] = "relu" if acts == ["Relu"] else "tanh"
        if op == "GRU":
            attrs["linear_before_reset"] = int(_attr(node, "linear_before_reset", 0))
        n_out = 3 if op == "LSTM" else 2
        outs = self._emit(op, node, inputs, attrs, n_out=n_out,
                          out_names=[f"{base}_Y", f"{base}_Y_h", f"{base}_Y_c"][:n_out])
        self.last_step[outs[0]] = outs[1]
        y_axes = (1, None, 0, 2) if layout == 0 else (0, 1, None, 2)
        s_axes = (None, 0, 1) if layout == 0 else (0, None, 1)
        return [_V(outs[0], y_axes)] + [_V(o, s_axes) for o in outs[1:]]

    def _op_RNN(self, node, args):
        return self._recurrent(node, args, "RNN", 1)

    def _op_GRU(self, node, args):
        return self._recurrent(node, args, "GRU", 3)

    def _op_LSTM(self, node, args):
        return self._recurrent(node, args, "LSTM", 4)

    elementwise_handler = staticmethod(_unary)  # for the op-family modules (activations.py)
    del _unary


for _family in op_families.FAMILIES:
    for _op, _handler in _family.onnx_handlers(_OnnxConverter.elementwise_handler, lambda n, k, d: _attr(n, k, d),
                                               _OnnxConverter._const, lambda n: _where(n)).items():
        if hasattr(_OnnxConverter, "_op_" + _op):  # a family handler may defer to the one it replaces
            setattr(_OnnxConverter, "_base_op_" + _op, getattr(_OnnxConverter, "_op_" + _op))
        setattr(_OnnxConverter, "_op_" + _op, _handler)
_NO_FOLD = set()  # ops never evaluated at conversion even on constants


def _attr(node, key, default):
    for a in node.attribute:
        if a.name == key:
            from onnx import helper
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                return v.decode()
            if isinstance(v, list):
                return [x.decode() if isinstance(x, bytes) else x for x in v]
            return v
    return default


def _gelu_mode(node):
    approx = _attr(node, "approximate", "none")
    if approx not in ("none", "tanh"):
        raise ConversionError(f"{_where(node)}: approximate = {approx!r} is not supported ('none' or 'tanh')")
    return approx


def _where(node) -> str:
    return f"ONNX node '{node.name}' ({node.op_type})" if node.name else f"ONNX {node.op_type} node producing '{node.output[0]}'"
