"""Converts a PyTorch `nn.Module` to the graph IR with torch.fx.

The module is traced with `torch.fx` (as symbolic_trace does, also recording source lines) in eval
mode and run with `ShapeProp` on two batch sizes (builder.BATCHES) to learn every value's shape. Every node
maps to a docs/FORMAT.md op through the tables at the end of this file; anything else raises
`ConversionError` naming the op and where it is.
"""
import contextlib
import io
import linecache
import operator
import os
import sys

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from .builder import BATCHES, SCALAR, Builder, Const, Site, metadata, unsupported
from .errors import ConversionError
from .ir import Graph
from .writer import write_model

__all__ = ["convert_module", "save", "example_batches", "first_linear_in_features", "param_dtype"]


def param_dtype(module):
    """The dtype of the module's first floating-point parameter or buffer (None when it has none)."""
    tensors = list(module.parameters()) + list(module.buffers())
    return next((t.dtype for t in tensors if t.is_floating_point()), None)


def example_batches(example_input, dtype=None, batch_axes=None):
    """Random inputs shaped like `example_input` (a tensor or tuple of tensors) for each of BATCHES,
    of `dtype` (default: the example's dtype). `batch_axes`: per input, the dim of its batch
    (default 0; 1 for a recurrent state [num_layers, N, H])."""
    examples = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    axes = batch_axes or [0] * len(examples)
    for x, a in zip(examples, axes):
        if not isinstance(x, torch.Tensor) or x.dim() <= a or not x.is_floating_point():
            raise ConversionError(f"the example input must be a floating-point tensor of shape (N, ...), not {_short(x)}")
    gen = torch.Generator().manual_seed(0)
    return [tuple(torch.randn((*x.shape[:a], b, *x.shape[a + 1:]), generator=gen).to(dtype or x.dtype)
                  for x, a in zip(examples, axes))
            for b in BATCHES]


def first_linear_in_features(module):
    """(in_features,) of the first Linear layer of `module` (nn.Module or TorchScript), or None."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            return (m.in_features,)
        if getattr(m, "original_name", None) == "Linear" and isinstance(getattr(m, "weight", None), torch.Tensor):
            return (int(m.weight.shape[1]),)
    return None


def convert_module(module: nn.Module, example_input, *, name=None, class_labels=None) -> Graph:
    """Convert `module` (in eval mode) to a Graph.

    example_input: a tensor (N, ...) giving the per-sample input shape (N is ignored), or a
    tuple of them for a model with several inputs. class_labels: optional list of output class
    names, stored as metadata. Raises ConversionError for anything Strata cannot run.
    """
    if not isinstance(module, nn.Module):
        raise ConversionError(f"expected a torch.nn.Module, got {type(module).__name__}")
    was_training = module.training
    module.eval()
    try:
        gm = _trace(module)
        # a recurrent module's initial state (hx) is [num_layers, N, H]: its batch is dim 1
        states = torch_ops.state_inputs(gm)
        axes = {p.name: 1 if p.name in states else 0 for p in gm.graph.nodes if p.op == "placeholder"}
        runs = example_batches(example_input, param_dtype(module), list(axes.values()))
        shapes = [_propagate(gm, inputs) for inputs in runs]
        return _FxConverter(gm, shapes, axes).convert(name or type(module).__name__, class_labels)
    finally:
        module.train(was_training)


def save(module: nn.Module, example_input, path, *, quantize="f32", quantize_layers=None, keep_ends_f32=False,
         self_test: int = 4, payload_sha256: bool = True, **kw) -> Graph:
    """Convert `module` (see convert_module) and write it to `path`; return the graph written.

    The defaults are the `strata-convert` command's, so the file passes `strata verify --self-test`:
    quantize: the Linear weights' precision ("f32", "f16", "bf16", "int8", "int4" or
        "int8-dynamic"; docs/FORMAT.md), and the RNN/GRU/LSTM W and R's (int8 for int8-dynamic); quantize_layers: {layer name: precision} overrides;
        keep_ends_f32: keep the first and last Linear layer in f32. A quantized graph gets the
        accuracy report in its metadata, as with `--quantize`.
    self_test: embed that many reference samples (the example input's samples, then seeded
        random ones) with PyTorch's outputs for them (a SELFTEST section, format 1.1; 0 = none;
        default 4). For a quantized graph the outputs are those of the stored weights.
    payload_sha256: record the payload's SHA-256 in the metadata (format 1.1; default True).
    """
    from . import precision, progress, selftest
    from .cli import _quantized_reference
    with progress.stage("converting the PyTorch module"):
        graph = convert_module(module, example_input, **kw)
    quantizing = quantize != "f32" or bool(quantize_layers) or keep_ends_f32
    if quantizing:
        with progress.stage(f"quantizing to {quantize}"):
            chosen = precision.layer_precisions(graph, quantize, dict(quantize_layers or {}), (), keep_ends_f32)
            quantized = precision.apply_precision(graph, chosen)
            inputs, description = precision.calibration_inputs(graph, None)
            precision.store_report(quantized, precision.accuracy_report(graph, quantized, chosen, inputs, description))
            graph = quantized
    data = None
    if self_test:
        with progress.stage(f"self-test: {self_test} reference samples"):
            data = selftest.from_module(module, graph, example_input, self_test)
            if quantizing:
                data = _quantized_reference(graph, data)
    with progress.stage(f"writing {path}"):
        write_model(path, graph, self_test=data, payload_sha256=payload_sha256)
    return graph


class _Tracer(fx.Tracer):
    """torch.fx's tracer, recording the user's source line of each node (cheaper than
    record_stack_traces, which imports torch._dynamo)."""

    def create_proxy(self, *args, **kwargs):
        proxy = super().create_proxy(*args, **kwargs)
        proxy.node.meta["strata_source"] = _user_line()
        return proxy


def _user_line() -> str:
    """'line 12 of model.py: x = torch.sin(x)' for the innermost frame outside torch and this package."""
    frame = sys._getframe(1)
    while frame is not None:
        file = frame.f_code.co_filename
        if not file.startswith((_TORCH_DIR, _PACKAGE_DIR)) and not file.startswith("<"):
            code = linecache.getline(file, frame.f_lineno).strip()
            return f"line {frame.f_lineno} of {os.path.basename(file)}" + (f": {code}" if code else "")
        frame = frame.f_back
    return ""


def _trace(module):
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
    except Exception as e:
        raise ConversionError(f"torch.fx cannot trace {type(module).__name__}: {_first_line(e)} "
                              "(data-dependent control flow is not supported; try TorchScript)") from e
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def _propagate(gm, inputs) -> dict:
    """Node name -> output shape (None when the node does not produce one tensor)."""
    with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints tracebacks
        try:
            ShapeProp(gm).propagate(*inputs)
        except Exception as e:
            shapes = ", ".join(str(list(x.shape)) for x in inputs)
            raise ConversionError(f"running the model on an input of shape {shapes} failed: "
                                  f"{_first_line(_root_cause(e))} (is the input shape right?)") from e
    return {n.name: tuple(m.shape) if isinstance(m := n.meta.get("tensor_meta"), TensorMetadata) else None
            for n in gm.graph.nodes}


class _FxConverter:
    def __init__(self, gm, runs, axes=None):
        self.gm, self.runs, self.b, self.env = gm, runs, Builder(), {}
        self.axes = axes or {}  # placeholder name -> its batch dim
        self.last_step = {}  # recurrent Y value -> its final state Y_h (torch_ops)

    def convert(self, model_name, class_labels) -> Graph:
        for node in self.gm.graph.nodes:
            if node.op == "output":
                results = node.args[0]
                results = list(results) if isinstance(results, (tuple, list)) else [results]
                outs = [self.env.get(r.name) if isinstance(r, fx.Node) else r for r in results]
                # h_n / c_n returned whole: [num_layers, N, H], the batch in dim 1 (format 1.5)
                axes = [1 if torch_ops.is_states(o) else 0 for o in outs]
                outs = [o.stacked(self.b, Site("output", f"output {i}")) if torch_ops.is_states(o) else o
                        for i, o in enumerate(outs)]
                sample = self.b.sample.get(outs[0]) if len(outs) == 1 and isinstance(outs[0], str) else None
                meta = metadata(f"pytorch {torch.__version__}", model_name, class_labels,
                                sample[-1] if sample else None)
                return self.b.finish(outs, meta, axes)
            self.env[node.name] = getattr(self, "_" + node.op)(node)
        raise ConversionError("the traced graph has no output")

    # -- helpers ---------------------------------------------------------------------

    def shapes(self, node):
        return [run[node.name] for run in self.runs]

    def val(self, a):
        """The builder operand for a node argument: value name, Const, or the literal itself."""
        if isinstance(a, fx.Node):
            return self.env[a.name]
        if isinstance(a, (int, float)) and not isinstance(a, bool):
            return Const("", np.asarray(a, dtype=np.float64))
        return a

    def site(self, node, op):
        if node.op == "call_module":
            return Site(op, node.name, f"module {node.target}")
        return Site(op, node.name, node.meta.get("strata_source", ""))

    def literal(self, site, node, index, key, default):
        """An int/None argument that must be known when converting (a dim, a flag)."""
        a = node.args[index] if len(node.args) > index else node.kwargs.get(key, default)
        if isinstance(a, fx.Node):
            raise unsupported(site, f"its '{key}' argument is computed at run time")
        return a

    def check_inplace(self, site, node, inplace):
        x = node.args[0] if node.args else None
        if inplace and isinstance(x, fx.Node) and len(x.users) > 1:
            raise unsupported(site, "it modifies its input in place and that input is also used elsewhere; "
                                    "use the out-of-place form")

    # -- node kinds ------------------------------------------------------------------

    def _placeholder(self, node):
        shapes = self.shapes(node)
        if shapes[0] is None:
            raise ConversionError(f"model input '{node.name}' is not a tensor")
        return self.b.input(node.name, shapes, self.axes.get(node.name, 0))

    def _get_attr(self, node):
        obj = self.gm
        for part in node.target.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, torch.Tensor):
            raise unsupported(Site(f"attribute {node.target}", node.name), "only tensor attributes are supported")
        return Const(node.target, _numpy(obj))

    def _call_module(self, node):
        m = self.gm.get_submodule(node.target)
        site = self.site(node, _module_name(type(m)))
        x = self.val(node.args[0]) if node.args else None
        out, shapes = node.name, self.shapes(node)
        for cls, convert in _MODULES:
            if isinstance(m, cls):
                return convert(self, site, node, m, x, out, shapes)
        raise unsupported(site)

    def _call_function(self, node):
        name = _function_name(node.target)
        if node.target not in _FUNCTIONS and name in _FUNCTIONS_BY_NAME:  # a library imported after this module
            return self._call(node, node.target, name, {node.target: _FUNCTIONS_BY_NAME[name]})
        return self._call(node, node.target, name, _FUNCTIONS)

    def _call_method(self, node):
        return self._call(node, node.target, f"Tensor.{node.target}", _METHODS)

    def _call(self, node, target, op_name, table):
        site = self.site(node, op_name)
        shapes = self.shapes(node)
        if target in (operator.getitem, "__getitem__") and node.args and isinstance(node.args[0], fx.Node) \
                and not isinstance(self.env.get(node.args[0].name), str) and self.env.get(node.args[0].name) is not SCALAR:
            return table[target](self, site, node, self.env[node.args[0].name], node.name, shapes)
        if shapes[0] is None and not getattr(table.get(target), "multi_output", False):  # chunk, split: tuples
            if target in _SHAPE_QUERIES:
                return SCALAR
            raise unsupported(site, "it does not produce a single tensor")
        convert = table.get(target)
        if convert is None:
            raise unsupported(site)
        x = self.val(node.args[0]) if node.args else self.val(node.kwargs.get("input"))
        return convert(self, site, node, x, node.name, shapes)


# -- op tables -------------------------------------------------------------------------------
# Each converter is f(conv, site, node, [module,] x, out, shapes) -> builder operand.

def _unary(op):
    def convert(c, site, node, x, out, shapes):
        inplace = str(node.target).endswith("_") or node.kwargs.get("inplace", False) is True or (
            len(node.args) > 1 and node.args[1] is True)
        c.check_inplace(site, node, inplace)
        return c.b.unary(op, site, x, out, shapes)
    return convert


def _softmax(op, first=1):
    def convert(c, site, node, x, out, shapes):
        dim = c.literal(site, node, first, "dim", None)
        dtype = c.literal(site, node, first + 2 if node.op == "call_function" and node.target in (F.softmax, F.log_softmax)
                          else first + 1, "dtype", None)
        if dtype not in (None, torch.float32):
            raise unsupported(site, f"dtype={dtype}")
        return c.b.softmax(op, site, x, dim, out, shapes)
    return convert


def _reshape(c, site, node, x, out, shapes):
    return c.b.reshape(site, x, out, shapes)


def _flatten(c, site, node, x, out, shapes):
    start = c.literal(site, node, 1, "start_dim", 0)
    end = c.literal(site, node, 2, "end_dim", -1)
    return _flatten_dims(c, site, x, out, shapes, start, end)


def _flatten_dims(c, site, x, out, shapes, start, end):
    rank = len(c.b.sample.get(x, ())) + 1 if isinstance(x, str) else 0
    flatten = rank > 0 and start % rank == 1 and end % rank == rank - 1
    return c.b.reshape(site, x, out, shapes, flatten=flatten)


def _add(c, site, node, x, out, shapes):
    other = node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
    alpha = node.kwargs.get("alpha", 1)  # keyword-only in torch.add and Tensor.add
    if isinstance(alpha, fx.Node):
        raise unsupported(site, "its alpha is computed at run time")
    c.check_inplace(site, node, str(node.target).endswith("_"))
    return c.b.add(site, x, c.val(other), out, shapes, alpha=alpha)


def _linear(c, site, node, x, out, shapes):
    weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
    bias = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
    return c.b.linear(site, x, c.val(weight), c.val(bias), out, shapes)


def _removed(c, site, node, x, out, shapes):
    return c.b.alias(x)


_FUNCTIONS = {
    torch.relu: _unary("Relu"), torch.relu_: _unary("Relu"), F.relu: _unary("Relu"),
    torch.sigmoid: _unary("Sigmoid"), F.sigmoid: _unary("Sigmoid"),
    torch.tanh: _unary("Tanh"), F.tanh: _unary("Tanh"),
    torch.softmax: _softmax("Softmax"), F.softmax: _softmax("Softmax"),
    torch.log_softmax: _softmax("LogSoftmax"), F.log_softmax: _softmax("LogSoftmax"),
    torch.flatten: _flatten, torch.reshape: _reshape,
    operator.add: _add, torch.add: _add,
    F.linear: _linear,
    F.dropout: _removed, F.dropout1d: _removed, F.dropout2d: _removed, F.dropout3d: _removed,
    F.alpha_dropout: _removed, F.feature_alpha_dropout: _removed, torch.dropout: _removed,
}

_METHODS = {
    "relu": _unary("Relu"), "relu_": _unary("Relu"), "sigmoid": _unary("Sigmoid"), "sigmoid_": _unary("Sigmoid"),
    "tanh": _unary("Tanh"), "tanh_": _unary("Tanh"),
    "softmax": _softmax("Softmax"), "log_softmax": _softmax("LogSoftmax"),
    "view": _reshape, "reshape": _reshape, "flatten": _flatten, "unflatten": _reshape,
    "add": _add, "add_": _add,
    "contiguous": _removed,
}

# Non-tensor nodes allowed in a graph: shape arithmetic, which only reshapes consume (they take
# their target shape from the propagated shapes, not from these nodes).
_SHAPE_QUERIES = {"size", "dim", getattr, len, operator.getitem, operator.mul, operator.floordiv,
                  operator.add, operator.sub}


def _m_unary(op):
    def convert(c, site, node, m, x, out, shapes):
        c.check_inplace(site, node, getattr(m, "inplace", False))
        return c.b.unary(op, site, x, out, shapes)
    return convert


_MODULES = [
    (nn.Linear, lambda c, site, node, m, x, out, shapes: c.b.linear(
        site, x, Const(f"{node.target}.weight", _numpy(m.weight)),
        None if m.bias is None else Const(f"{node.target}.bias", _numpy(m.bias)), out, shapes)),
    (nn.ReLU, _m_unary("Relu")), (nn.Sigmoid, _m_unary("Sigmoid")), (nn.Tanh, _m_unary("Tanh")),
    (nn.Identity, _m_unary("Identity")),
    (nn.Softmax, lambda c, site, node, m, x, out, shapes: c.b.softmax("Softmax", site, x, m.dim, out, shapes)),
    (nn.LogSoftmax, lambda c, site, node, m, x, out, shapes: c.b.softmax("LogSoftmax", site, x, m.dim, out, shapes)),
    (nn.Flatten, lambda c, site, node, m, x, out, shapes: _flatten_dims(c, site, x, out, shapes, m.start_dim, m.end_dim)),
    (nn.Unflatten, lambda c, site, node, m, x, out, shapes: c.b.reshape(site, x, out, shapes)),
    (nn.modules.dropout._DropoutNd, lambda c, site, node, m, x, out, shapes: c.b.alias(x)),
]


from . import op_families  # noqa: E402
from . import torch_ops  # noqa: E402
from .torch_ops import register as _register_1_2  # noqa: E402

_register_1_2(_FUNCTIONS, _METHODS, _MODULES, _SHAPE_QUERIES)
for _family in op_families.FAMILIES:
    _family.register_fx(_FUNCTIONS, _METHODS, _MODULES)
# Functions of optional libraries (torchvision) by qualified name: found whenever the library is imported.
_FUNCTIONS_BY_NAME = {k: v for f in op_families.FAMILIES for k, v in getattr(f, "FX_BY_NAME", {}).items()}


# -- names for messages ----------------------------------------------------------------------

def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.float32).numpy()


def _module_name(cls) -> str:
    """'torch.nn.Conv2d' for modules exported by torch.nn, else module.qualname."""
    if getattr(nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _function_name(fn) -> str:
    """'torch.sin', 'torch.nn.functional.gelu', 'operator.mul', ..."""
    name = getattr(fn, "__name__", None)
    for namespace, prefix in ((torch, "torch"), (F, "torch.nn.functional"), (operator, "operator"),
                              (torch.Tensor, "torch.Tensor")):
        if name and getattr(namespace, name, None) is fn:
            return f"{prefix}.{name}"
    return f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', name or repr(fn))}"


_TORCH_DIR = os.path.dirname(torch.__file__)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _root_cause(e):
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def _first_line(e) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]


def _short(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a {x.dtype} tensor of shape {list(x.shape)}"
    return type(x).__name__
