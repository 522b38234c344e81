"""Builds the graph IR from a traced model; shared by the torch.fx and TorchScript sources.

A source walks its traced graph, runs the model on two batch sizes (`BATCHES`) to learn every
value's shape, and calls one method per op. The builder checks that dimension 0 stays the batch
(the same shape but for dim 0 in both runs), maps the op to docs/FORMAT.md, and raises
`ConversionError` naming the op and where it is when it cannot.
"""
import math
from dataclasses import dataclass

import numpy as np

from . import __version__
from . import format as fmt
from .errors import ConversionError, FormatError
from .ir import Graph, Node, Tensor, ValueInfo
from .validate import check_graph

# The source runs the model on these batch sizes; a value whose dim 0 is not the batch in both
# runs, or whose other dims differ between them, mixes the batch with the features.
BATCHES = (2, 3)


@dataclass
class Site:
    """Where an op is, for messages: its user-facing name, its node name and a detail."""

    op: str        # e.g. "torch.nn.Linear", "Tensor.view", "aten::view"
    node: str      # node name in the traced graph; also the IR node name
    detail: str = ""  # e.g. "module fc1", "line 12 of model.py: x = x.view(-1, 392)"

    def __str__(self):
        return f"'{self.op}' at node '{self.node}'" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Const:
    """A constant operand: a stored tensor (parameter, buffer) or a Python number."""

    name: str      # suggested tensor name (e.g. "fc1.weight"), "" for literals
    array: np.ndarray


class _Scalar:
    """Marks a number computed at run time by shape arithmetic (x.size(0), ...). Reshapes take
    their target from the propagated shapes, so only they may consume it."""

    def __repr__(self):
        return "SCALAR"


SCALAR = _Scalar()


def unsupported(site: Site, why: str = "") -> ConversionError:
    """The error for an op Strata cannot run."""
    return ConversionError(f"unsupported op {site}" + (f": {why}" if why else ""))


class Builder:
    """Accumulates inputs, nodes, tensors and outputs; every method returns the IR value name."""

    def __init__(self):
        self.inputs, self.outputs, self.nodes = [], [], []
        self.tensors = {}   # name -> Tensor, in first-use order
        self.sample = {}    # value name -> per-sample shape (dims after the batch)
        self.used = set()   # every value and tensor name

    # -- names, values, constants -------------------------------------------------------

    def _fresh(self, name: str) -> str:
        base, i = name or "v", 1
        while name in self.used or not name:
            name = f"{base}_{i}"
            i += 1
        self.used.add(name)
        return name

    def _checked(self, site: Site, shapes) -> tuple:
        """The per-sample shape of an op's output after checking it keeps the batch first."""
        shapes = [tuple(int(d) for d in s) for s in shapes]
        if any(len(s) == 0 or s[0] != b for s, b in zip(shapes, BATCHES)) or len({s[1:] for s in shapes}) != 1:
            runs = ", ".join(f"{list(s)} for batch {b}" for s, b in zip(shapes, BATCHES))
            raise ConversionError(f"{site} mixes the batch dimension with the other dimensions "
                                  f"(its output is {runs}); Strata needs dimension 0 to stay the batch")
        return shapes[0][1:]

    def input(self, name: str, shapes, batch_axis: int = 0) -> str:
        """Declare a graph input; `shapes` are its shapes in the runs, with the batch in dim
        `batch_axis` (format 1.5 when not 0: a recurrent state [layers, N, hidden])."""
        shapes = [tuple(s[batch_axis:batch_axis + 1]) + tuple(s[:batch_axis]) + tuple(s[batch_axis + 1:]) for s in shapes]
        sample = self._checked(Site("input", name), shapes)
        if len(sample) + 1 > fmt.MAX_RANK:
            raise ConversionError(f"input '{name}' has rank {len(sample) + 1}; at most {fmt.MAX_RANK} is supported")
        name = self._fresh(name)
        dims = [*sample]
        dims.insert(batch_axis, -1)
        self.inputs.append(ValueInfo(name, "f32", dims))
        self.sample[name] = sample
        return name

    def tensor(self, const: Const, fallback: str) -> str:
        """Store `const` (cast to f32) under its name, or `fallback` when it has none; return the name."""
        array = np.ascontiguousarray(np.asarray(const.array, dtype=np.float32))
        name = const.name or fallback
        old = self.tensors.get(name)
        if old is not None and old.array.shape == array.shape and old.array.tobytes() == array.tobytes():
            return name
        name = self._fresh(name)
        self.tensors[name] = Tensor(name, array)
        return name

    def _node(self, op: str, site: Site, inputs, out: str, shapes, attrs=None) -> str:
        sample = self._checked(site, shapes)
        out = self._fresh(out)
        self.nodes.append(Node(op, site.node, list(inputs), [out], dict(attrs or {})))
        self.sample[out] = sample
        return out

    def _value(self, site: Site, x, what="input") -> str:
        if not isinstance(x, str) or x not in self.sample:
            raise unsupported(site, f"its {what} must be a value computed from the model input, not {_describe(x)}")
        return x

    # -- ops -------------------------------------------------------------------------

    def unary(self, op: str, site: Site, x, out: str, shapes) -> str:
        """Relu, Sigmoid, Tanh or Identity."""
        return self._node(op, site, [self._value(site, x)], out, shapes)

    def linear(self, site: Site, x, weight, bias, out: str, shapes) -> str:
        """Y = X·Wᵀ + B with W a Const [M, K] and B a Const [M] or None."""
        x = self._value(site, x)
        if not isinstance(weight, Const) or weight.array.ndim != 2:
            raise unsupported(site, f"the weight must be a constant 2-D tensor, not {_describe(weight)}")
        m, k = weight.array.shape
        if not self.sample[x] or self.sample[x][-1] != k:
            raise ConversionError(f"{site}: input shape {[-1, *self.sample[x]]} does not end in {k}")
        inputs = [x, self.tensor(weight, f"{site.node}.weight"), ""]
        if bias is not None:
            if not isinstance(bias, Const) or bias.array.shape != (m,):
                raise unsupported(site, f"the bias must be a constant tensor of shape [{m}], not {_describe(bias)}")
            inputs[2] = self.tensor(bias, f"{site.node}.bias")
        return self._node("Linear", site, inputs, out, shapes)

    def softmax(self, op: str, site: Site, x, dim, out: str, shapes) -> str:
        """Softmax or LogSoftmax over `dim` (None = PyTorch's legacy implicit dim)."""
        x = self._value(site, x)
        rank = len(self.sample[x]) + 1
        if dim is None:
            dim = 0 if rank in (0, 1, 3) else 1
        if not -rank <= dim < rank:
            raise ConversionError(f"{site}: dim {dim} is out of range for rank {rank}")
        axis = dim % rank
        if axis == 0:
            raise unsupported(site, f"{op} over dim {dim} of a rank-{rank} value, the batch; Strata never mixes samples")
        return self._node(op, site, [x], out, shapes, {"axis": axis})

    def reshape(self, site: Site, x, out: str, shapes, flatten: bool = False) -> str:
        """A view/reshape/flatten whose output shapes are `shapes`: Flatten(axis 1) when
        `flatten` and the result is [N, rest], otherwise Reshape to [-1, *sample]."""
        x = self._value(site, x)
        sample = self._checked(site, shapes)
        if flatten and sample == (math.prod(self.sample[x]),):
            return self._node("Flatten", site, [x], out, shapes, {"axis": 1})
        if len(sample) + 1 > fmt.MAX_RANK:
            raise unsupported(site, f"its result has rank {len(sample) + 1}; at most {fmt.MAX_RANK} is supported")
        return self._node("Reshape", site, [x], out, shapes, {"shape": [-1, *sample]})

    def add(self, site: Site, a, b, out: str, shapes, alpha=1) -> str:
        """a + alpha·b where each operand is a value name or a Const (Python numbers as 0-d Consts)."""
        if alpha != 1:
            if not isinstance(b, Const):
                raise unsupported(site, f"alpha = {alpha} between two computed values")
            b = Const("", np.asarray(b.array, dtype=np.float64) * alpha)
        return self.binary("Add", site, a, b, out, shapes)

    def binary(self, op: str, site: Site, a, b, out: str, shapes) -> str:
        """Add/Sub/Mul/Div with broadcasting (FORMAT.md 1.2); a Const may be either operand."""
        if isinstance(a, Const) and isinstance(b, str) and op in ("Add", "Mul"):
            a, b = b, a  # commutative: keep the batched value first
        if isinstance(a, str) and isinstance(b, str):
            a, b = self._value(site, a, "first operand"), self._value(site, b, "second operand")
            if len(self.sample[a]) != len(self.sample[b]):
                raise unsupported(site, f"it broadcasts {[-1, *self.sample[a]]} with {[-1, *self.sample[b]]}; "
                                        "values of different ranks would broadcast over the batch")
            return self._node(op, site, [a, b], out, shapes)
        v, c = (a, b) if isinstance(a, str) else (b, a)
        v = self._value(site, v, "operand")
        if not isinstance(c, Const):
            raise unsupported(site, f"its other operand is {_describe(c)}")
        arr = np.asarray(c.array, dtype=np.float64)
        rank = len(self.sample[v]) + 1
        if arr.ndim > rank or (arr.ndim == rank and arr.shape[0] != 1):
            raise unsupported(site, f"a constant of shape {list(arr.shape)} would broadcast over the batch of "
                                    f"a value of shape {[-1, *self.sample[v]]}")
        if arr.ndim == rank:
            arr = arr[0]
        while arr.ndim > 1 and arr.shape[0] == 1:
            arr = arr[0]  # leading 1s only broadcast
        if arr.ndim == 0:
            arr = arr.reshape(1)
        t = self.tensor(Const(c.name if arr.shape == np.shape(c.array) else "", arr), f"{site.node}.const")
        return self._node(op, site, [v, t] if isinstance(a, str) else [t, v], out, shapes)

    def op(self, op: str, site: Site, x, out: str, shapes, attrs=None, tensors=()) -> str:
        """A single-output op on value `x`, with stored tensors (Const, suggested name) or None."""
        inputs = [self._value(site, x)]
        for t in tensors:
            inputs.append("" if t is None else self.tensor(t[0], t[1]))
        while len(inputs) > 1 and inputs[-1] == "":
            inputs.pop()
        return self._node(op, site, inputs, out, shapes, attrs)

    def multi(self, op: str, site: Site, inputs, outs, samples, attrs) -> list:
        """A multi-output op (RNN/GRU/LSTM): `samples` are the per-sample shapes of the outputs."""
        names = [self._fresh(o) for o in outs]
        self.nodes.append(Node(op, site.node, list(inputs), names, dict(attrs)))
        for n, s in zip(names, samples):
            self.sample[n] = tuple(s)
        return names

    def alias(self, x) -> str:
        """An op removed from the graph (Dropout in eval mode): its output is its input."""
        return x

    # -- result ------------------------------------------------------------------------

    def finish(self, outputs, metadata: dict, batch_axes=None) -> Graph:
        """Declare the graph outputs (value names) and return the validated graph. `batch_axes`:
        per output, the dim of the batch in what the caller receives (default 0; format 1.5)."""
        seen = set()
        batch_axes = batch_axes or [0] * len(outputs)
        for i, x in enumerate(outputs):
            x = self._value(Site("output", f"output {i}"), x, "value")
            if x in seen:  # a value returned twice: give the second one its own name
                x = self.unary("Identity", Site("output", f"output_{i}"), x, f"{x}_out{i}",
                               [(b, *self.sample[x]) for b in BATCHES])
            seen.add(x)
            dims = [*self.sample[x]]
            dims.insert(batch_axes[i], -1)
            self.outputs.append(ValueInfo(x, "f32", dims))
        graph = Graph(self.inputs, self.outputs, self.nodes, list(self.tensors.values()), dict(metadata))
        from . import folding
        folding.optimize(graph)  # BatchNorm (written as Mul+Add) into the Linear/Conv before it
        pack_linear_weights(graph)
        try:
            check_graph(graph)
        except FormatError as e:
            raise ConversionError(f"internal error: the converted graph breaks docs/FORMAT.md: {e}") from e
        return graph


def _describe(x) -> str:
    if isinstance(x, Const):
        return f"a constant of shape {list(np.shape(x.array))}"
    if isinstance(x, str):
        return f"value '{x}'"
    if x is None:
        return "None"
    if x is SCALAR:
        return "a number computed at run time"
    return f"a {type(x).__name__} computed at run time"


def metadata(source_framework: str, model_name: str, class_labels=None, n_classes=None) -> dict:
    """The well-known metadata of a converted model."""
    meta = {fmt.META_PRODUCER: f"strata-convert {__version__}", fmt.META_SOURCE_FRAMEWORK: source_framework}
    if model_name:
        meta[fmt.META_MODEL_NAME] = model_name
    if class_labels is not None:
        labels = [str(s) for s in class_labels]
        if any("\n" in s for s in labels):
            raise ConversionError("class labels must not contain a newline")
        if n_classes is not None and len(labels) != n_classes:
            raise ConversionError(f"{len(labels)} class labels given but the model has {n_classes} outputs")
        meta[fmt.META_CLASS_LABELS] = "\n".join(labels)
    return meta


def pack_linear_weights(graph: Graph) -> None:
    """Stores every tensor used only as a Linear weight in the panel16 layout, which the engine's
    GEMM reads in place (docs/FORMAT.md, "Tensor layouts"); other tensors stay row-major."""
    uses = {}
    for node in graph.nodes:
        for i, name in enumerate(node.inputs):
            uses.setdefault(name, set()).add((node.op, i))
    for t in graph.tensors:
        if t.array.ndim == 2 and uses.get(t.name) == {("Linear", 1)}:
            t.layout = fmt.LAYOUT_PANEL16
