"""The graph rules of docs/FORMAT.md, shared by the writer (never write a wrong file) and the
reader: names and caps, SSA order, known ops and attributes, and shape inference.

`check_graph` raises `FormatError` with the status a Strata reader reports.
"""
import math

from . import format as fmt, op_families
from .errors import FormatError, attribute_ints as _ints


def attr_type(value) -> int:
    """The attribute type id for a Python attribute value."""
    if isinstance(value, bool):
        raise FormatError("MALFORMED", f"attribute value {value!r} is a bool; use an int")
    if isinstance(value, int):
        return fmt.ATTR_INT
    if isinstance(value, float):
        return fmt.ATTR_FLOAT
    if isinstance(value, str):
        return fmt.ATTR_STRING
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return fmt.ATTR_INTS
    raise FormatError("MALFORMED", f"attribute value {value!r} is not an int, float, list of ints or str")


def check_name(name, what: str, *, allow_empty=False, cap=fmt.MAX_NAME_BYTES):
    """A str of at most `cap` UTF-8 bytes, non-empty unless `allow_empty`."""
    if not isinstance(name, str):
        raise FormatError("MALFORMED", f"{what} {name!r} is not a string")
    try:
        n = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise FormatError("MALFORMED", f"{what} {name!r} is not valid UTF-8") from None
    if n > cap:
        raise FormatError("MALFORMED", f"{what} is {n} bytes, more than the limit of {cap}")
    if n == 0 and not allow_empty:
        raise FormatError("MALFORMED", f"{what} is empty")


def _cap(n: int, cap: int, what: str, low: int = 0):
    if not low <= n <= cap:
        raise FormatError("MALFORMED", f"{what} is {n}; it must be {low}…{cap}")


def _check_value_info(v, what: str):
    check_name(v.name, f"name of graph {what}")
    if v.dtype not in fmt.DTYPE_BY_NAME:
        raise FormatError("UNSUPPORTED", f"graph {what} '{v.name}' has unknown dtype {v.dtype!r}")
    if v.dtype != "f32":
        raise FormatError("UNSUPPORTED", f"graph {what} '{v.name}' has dtype {v.dtype}; graph inputs and outputs are f32 in 1.0")
    _cap(len(v.dims), fmt.MAX_RANK, f"rank of graph {what} '{v.name}'", low=1)
    if v.dims.count(-1) != 1:
        raise FormatError("MALFORMED", f"graph {what} '{v.name}' shape {list(v.dims)} must have exactly one dim -1 (the dynamic batch)")
    for i, d in enumerate(v.dims):
        if d != -1 and not 1 <= d <= fmt.MAX_DIM:
            raise FormatError("MALFORMED", f"graph {what} '{v.name}' dim {i} is {d}; it must be 1…2^32")
    if math.prod(sample_dims(v.dims)) > fmt.U64_MAX:
        raise FormatError("MALFORMED", f"graph {what} '{v.name}' shape {v.dims} overflows 64 bits")


def batch_axis(dims) -> int:
    """The batch dim of a graph input or output: the dim that is -1 (0 up to format 1.4; any
    dim from 1.5, e.g. a recurrent state [layers, -1, hidden])."""
    return list(dims).index(-1)


def sample_dims(dims) -> list:
    """A graph input or output's dims without the batch."""
    return [d for d in dims if d != -1]


def internal_dims(dims) -> list:
    """The dims the graph computes with: the batch first (-1), then the sample dims."""
    return [-1] + sample_dims(dims)


def _check_tensors(tensors):
    _cap(len(tensors), fmt.MAX_TENSORS, "tensor count")
    shapes = {}
    for t in tensors:
        check_name(t.name, "tensor name")
        if t.name in shapes:
            raise FormatError("MALFORMED", f"tensor name '{t.name}' appears more than once")
        dims = list(t.array.shape)
        if t.layout not in fmt.LAYOUTS:
            raise FormatError("UNSUPPORTED", f"tensor '{t.name}' has unknown layout {t.layout}")
        if getattr(t, "dtype", "f32") != "f32" and (t.layout not in (fmt.LAYOUT_PANEL16, fmt.LAYOUT_PANEL16K4) or len(dims) != 2):
            raise FormatError("MALFORMED", f"tensor '{t.name}' has dtype {t.dtype}, which is valid only in layout panel16 (a Linear weight)")
        if t.layout == fmt.LAYOUT_PANEL16K4 and getattr(t, "dtype", "f32") != "int8":
            raise FormatError("MALFORMED", f"tensor '{t.name}' has layout panel16k4 (dynamic int8), which holds only int8 weights, not {getattr(t, 'dtype', 'f32')}")
        if fmt.stored_elements(t.layout, dims) is None:
            raise FormatError("MALFORMED", f"tensor '{t.name}' has layout {fmt.LAYOUTS[t.layout]}, which needs a rank-2 tensor, not {dims}")
        _cap(len(dims), fmt.MAX_RANK, f"rank of tensor '{t.name}'")
        for i, d in enumerate(dims):
            if d > fmt.MAX_DIM:
                raise FormatError("MALFORMED", f"tensor '{t.name}' dim {i} is {d}, more than 2^32")
        shapes[t.name] = dims
    return shapes


def check_graph(graph) -> dict:
    """Validate `graph` against docs/FORMAT.md; return every value's inferred dims (batch = -1).

    Raises FormatError("MALFORMED" | "UNSUPPORTED" | "SHAPE_MISMATCH", message).
    """
    _cap(len(graph.metadata), fmt.MAX_METADATA_ENTRIES, "metadata entry count")
    for k, v in graph.metadata.items():
        check_name(k, "metadata key")
        check_name(v, f"metadata value '{k}'", allow_empty=True, cap=fmt.MAX_METADATA_VALUE_BYTES)
    tensor_shapes = _check_tensors(graph.tensors)
    _cap(len(graph.inputs), fmt.MAX_GRAPH_IO, "graph input count", low=1)
    _cap(len(graph.outputs), fmt.MAX_GRAPH_IO, "graph output count", low=1)
    _cap(len(graph.nodes), fmt.MAX_NODES, "node count")
    for v in graph.inputs:
        _check_value_info(v, "input")
    for v in graph.outputs:
        _check_value_info(v, "output")

    values = {}  # value name -> dims

    def define(name, dims, who):
        if name in tensor_shapes:
            raise FormatError("MALFORMED", f"{who} defines value '{name}', which is also a tensor name")
        if name in values:
            raise FormatError("MALFORMED", f"{who} defines value '{name}', which is already defined")
        values[name] = dims

    for v in graph.inputs:
        define(v.name, internal_dims(v.dims), "graph input")
    for i, node in enumerate(graph.nodes):
        label = node_label(node, i)
        dims = _check_node(node, label, values, tensor_shapes)
        for name, d in zip(node.outputs, dims if isinstance(dims, tuple) else (dims,)):
            define(name, d, label)

    seen = set()
    for v in graph.outputs:
        if v.name not in values:
            raise FormatError("MALFORMED", f"graph output '{v.name}' is not defined by any node or graph input")
        if v.name in seen:
            raise FormatError("MALFORMED", f"graph output '{v.name}' is listed twice")
        seen.add(v.name)
        if internal_dims(v.dims) != values[v.name]:
            raise FormatError("SHAPE_MISMATCH", f"graph output '{v.name}' is declared {list(v.dims)} but its shape is {values[v.name]}")
    return values


def node_label(node, index: int) -> str:
    """"node 3 'fc1' (Linear)" for messages."""
    name = f" '{node.name}'" if node.name else ""
    return f"node {index}{name} ({node.op})"


def _check_node(node, label, values, tensors):
    check_name(node.op, "op name")
    check_name(node.name, "node name", allow_empty=True)
    _cap(len(node.inputs), fmt.MAX_NODE_INPUTS, f"input count of {label}")
    _cap(len(node.outputs), fmt.MAX_NODE_OUTPUTS, f"output count of {label}", low=1)
    _cap(len(node.attrs), fmt.MAX_ATTRS, f"attribute count of {label}")
    for name in node.inputs:
        check_name(name, f"input name of {label}", allow_empty=True)
    for name in node.outputs:
        check_name(name, f"output name of {label}")
    for key, value in node.attrs.items():
        check_name(key, f"attribute name of {label}")
        t = attr_type(value)
        if t == fmt.ATTR_INTS:
            _cap(len(value), fmt.MAX_ATTR_INTS, f"length of attribute '{key}' of {label}")
        if t == fmt.ATTR_INT or t == fmt.ATTR_INTS:
            for x in (value if t == fmt.ATTR_INTS else [value]):
                if not fmt.I64_MIN <= x <= fmt.I64_MAX:
                    raise FormatError("MALFORMED", f"attribute '{key}' of {label} value {x} does not fit in i64")
        if t == fmt.ATTR_FLOAT and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
            raise FormatError("MALFORMED", f"attribute '{key}' of {label} value {value} does not fit in f32")
        if t == fmt.ATTR_STRING:
            check_name(value, f"attribute '{key}' of {label}", allow_empty=True, cap=fmt.MAX_STRING_ATTR_BYTES)

    schema = fmt.OPS.get(node.op)
    if schema is None:
        raise FormatError("UNSUPPORTED", f"{label} uses op '{node.op}', which this version does not know; known ops: {', '.join(sorted(fmt.OPS))}")
    if not schema.min_inputs <= len(node.inputs) <= schema.max_inputs:
        raise FormatError("MALFORMED", f"{label} has {len(node.inputs)} inputs; {node.op} takes {schema.min_inputs}…{schema.max_inputs}")
    if len(node.outputs) != schema.n_outputs:
        raise FormatError("MALFORMED", f"{label} has {len(node.outputs)} outputs; {node.op} has {schema.n_outputs}")
    types = schema.attr_types()
    for key, value in node.attrs.items():
        if key not in types:
            raise FormatError("UNSUPPORTED", f"{label} has attribute '{key}', which {node.op} does not take")
        if attr_type(value) != types[key]:
            raise FormatError("MALFORMED", f"{label} attribute '{key}' has type {fmt.ATTR_TYPE_NAMES[attr_type(value)]}, expected {fmt.ATTR_TYPE_NAMES[types[key]]}")

    shapes = []  # per input: ("value" | "tensor" | None, dims)
    for k, name in enumerate(node.inputs):
        if name == "":
            if k not in schema.optional_inputs:
                raise FormatError("MALFORMED", f"{label} input {k} is empty but is required")
            shapes.append((None, None))
        elif name in values:
            shapes.append(("value", values[name]))
        elif name in tensors:
            shapes.append(("tensor", tensors[name]))
        else:
            raise FormatError("MALFORMED", f"{label} input {k} '{name}' is not a tensor, a graph input or the output of an earlier node")
    if shapes[0][0] != "value" and node.op not in fmt.BINARY_OPS:
        raise FormatError("UNSUPPORTED", f"{label} input 0 '{node.inputs[0]}' is a tensor; the first input of {node.op} must be a batched value")
    attrs = {k: d for k, _, d in schema.attrs}
    attrs.update(node.attrs)
    return _INFER[node.op](label, shapes, attrs)


def _same(label, shapes, attrs):
    return list(shapes[0][1])


def _linear(label, shapes, attrs):
    x = shapes[0][1]
    kind_w, w = shapes[1]
    if kind_w != "tensor":
        raise FormatError("UNSUPPORTED", f"{label}: the weight W must be a stored tensor")
    if len(w) != 2 or w[0] < 1:
        raise FormatError("SHAPE_MISMATCH", f"{label}: weight shape {w} is not [M, K]")
    if len(x) < 2 or x[-1] != w[1]:
        raise FormatError("SHAPE_MISMATCH", f"{label}: input shape {x} does not end in K = {w[1]} (weight shape {w})")
    if len(shapes) == 3 and shapes[2][0] is not None:
        kind_b, b = shapes[2]
        if kind_b != "tensor":
            raise FormatError("UNSUPPORTED", f"{label}: the bias B must be a stored tensor")
        if b != [w[0]]:
            raise FormatError("SHAPE_MISMATCH", f"{label}: bias shape {b} is not [{w[0]}]")
    return x[:-1] + [w[0]]


def _flatten(label, shapes, attrs):
    x, axis = shapes[0][1], attrs["axis"]
    if not -len(x) <= axis < len(x):
        raise FormatError("MALFORMED", f"{label}: axis {axis} is out of range for rank {len(x)}")
    if (axis + len(x) if axis < 0 else axis) != 1:
        raise FormatError("UNSUPPORTED", f"{label}: axis {axis}; only axis 1 is supported")
    return [-1, math.prod(x[1:])]


def _reshape(label, shapes, attrs):
    x, shape = shapes[0][1], attrs["shape"]
    if not shape:
        raise FormatError("MALFORMED", f"{label} needs a non-empty 'shape' attribute")
    if len(shape) > fmt.MAX_RANK:
        raise FormatError("MALFORMED", f"{label}: target rank {len(shape)} is more than {fmt.MAX_RANK}")
    if shape[0] not in (-1, 0):
        raise FormatError("UNSUPPORTED", f"{label}: target {list(shape)} fixes the batch; dimension 0 must be -1 or 0")
    rest, infer = [], None
    for i, d in enumerate(shape[1:], 1):
        if d == -1:
            if shape[0] != 0 or infer is not None:
                raise FormatError("UNSUPPORTED", f"{label}: target {list(shape)} infers more than one dimension")
            infer = len(rest)
            rest.append(1)
        elif d == 0:
            if i >= len(x):
                raise FormatError("MALFORMED", f"{label}: target dim {i} is 0 but the input has rank {len(x)}")
            rest.append(x[i])
        elif 0 < d <= fmt.MAX_DIM:
            rest.append(d)
        else:
            raise FormatError("MALFORMED", f"{label}: target {list(shape)} has invalid dimension {d}")
    total, known = math.prod(x[1:]), math.prod(rest)
    if infer is not None:
        if total % known:
            raise FormatError("SHAPE_MISMATCH", f"{label}: {total} elements per sample do not divide into {list(shape)}")
        rest[infer] = total // known
    elif known != total:
        raise FormatError("UNSUPPORTED", f"{label}: reshaping {x} to {list(shape)} changes the elements per sample "
                                         f"({total} -> {known}), which would mix the batch with features")
    return [-1] + rest


def minor_version(graph) -> int:
    """The lowest 1.x minor whose ops a (valid) graph uses: the highest `since` of its ops (2 for
    "Ops (1.2)", 4 for "Ops (1.4)"), at least 2 for a broadcasting Add beyond 1.0's rule or
    Softmax/LogSoftmax over an axis other than the last; else 0 (the caller raises it to 1 for
    1.1 features)."""
    values = check_graph(graph)
    tensors = {t.name: list(t.array.shape) for t in graph.tensors}
    minor = 0
    if any(batch_axis(v.dims) != 0 for v in graph.inputs + graph.outputs):
        minor = 5  # the batch in another dim than 0
    for node in graph.nodes:
        minor = max(minor, fmt.OPS[node.op].since)
        if node.op in ("RNN", "GRU", "LSTM") and (node.attrs.get("state_index", 0) != 0
                                                   or node.attrs.get("direction", "forward") != "forward"
                                                   or any(len(values.get(n, [])) == 3 for n in node.inputs[5:] if n)):
            minor = max(minor, 5)
        if node.op in ("Softmax", "LogSoftmax") and node.attrs.get("axis", -1) not in (-1, len(values[node.inputs[0]]) - 1):
            minor = max(minor, 2)
        if node.op == "Add":
            shapes = [("value", values[n]) if n in values else ("tensor", tensors[n]) for n in node.inputs]
            try:
                _add_1_0(node.op, shapes, {})
            except FormatError:
                minor = max(minor, 2)
    return minor


def _add_1_0(label, shapes, attrs):
    (kind_a, a), (kind_b, b) = shapes
    if kind_a == "tensor":  # Add is commutative: the value may come second
        (kind_a, a), (kind_b, b) = (kind_b, b), (kind_a, a)
    if kind_a != "value":
        raise FormatError("UNSUPPORTED", f"{label}: both inputs are tensors; one must be a batched value")
    if kind_b == "value":
        if b != a:
            raise FormatError("UNSUPPORTED", f"{label}: shapes {a} and {b} differ")
    elif len(b) >= len(a) or (b and a[len(a) - len(b):] != b):
        raise FormatError("SHAPE_MISMATCH", f"{label}: tensor shape {b} is not the trailing dims of {a}")
    return list(a)


def _binary(label, shapes, attrs):
    """Add/Sub/Mul/Div (1.2): numpy broadcasting; a tensor aligns right and never reaches the batch."""
    (kind_a, a), (kind_b, b) = shapes
    if kind_a != "value" and kind_b != "value":
        raise FormatError("UNSUPPORTED", f"{label}: both inputs are tensors; one must be a batched value")
    if kind_a == "value" and kind_b == "value":
        if len(a) != len(b):
            raise FormatError("UNSUPPORTED", f"{label}: values of ranks {len(a)} and {len(b)}; both carry the batch in dim 0")
        rest = _broadcast(label, a[1:], b[1:])
        return [-1] + rest
    (v, t) = (a, b) if kind_a == "value" else (b, a)
    if len(t) > len(v) or (len(t) == len(v) and t[0] != 1):
        raise FormatError("UNSUPPORTED", f"{label}: tensor shape {t} would broadcast over the batch of {v}")
    if len(t) == len(v):
        t = t[1:]
    return [-1] + _broadcast(label, v[1:], t)


def _broadcast(label, a, b):
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise FormatError("SHAPE_MISMATCH", f"{label}: shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return out


def _softmax(label, shapes, attrs):
    x, axis = shapes[0][1], attrs["axis"]
    if not -len(x) <= axis < len(x):
        raise FormatError("MALFORMED", f"{label}: axis {axis} is out of range for rank {len(x)}")
    if axis % len(x) == 0:
        raise FormatError("UNSUPPORTED", f"{label}: axis {axis} is the batch")
    return list(x)


def _gelu(label, shapes, attrs):
    if attrs["approximate"] not in ("none", "tanh"):
        raise FormatError("UNSUPPORTED", f"{label}: approximate = {attrs['approximate']!r}; 'none' or 'tanh'")
    return list(shapes[0][1])


def _layer_norm(label, shapes, attrs):
    x, axis = shapes[0][1], attrs["axis"]
    if not -len(x) <= axis < len(x) or axis % len(x) == 0:
        raise FormatError("UNSUPPORTED" if -len(x) <= axis < len(x) else "MALFORMED",
                          f"{label}: axis {axis} of a rank-{len(x)} value; it must be a non-batch axis")
    if not attrs["epsilon"] > 0:
        raise FormatError("MALFORMED", f"{label}: epsilon {attrs['epsilon']} must be > 0")
    want = x[axis % len(x):]
    for k in (1, 2):
        if len(shapes) > k and shapes[k][0] is not None:
            if shapes[k][0] != "tensor" or shapes[k][1] != want:
                raise FormatError("SHAPE_MISMATCH", f"{label}: input {k} must be a tensor of shape {want}, not {shapes[k][1]}")
    return list(x)


def _window(label, x, kernel, attrs, ceil_mode=0):
    if len(x) != 4:
        raise FormatError("UNSUPPORTED", f"{label}: input shape {x} is not [N, C, H, W]")
    s, p, d = _ints(label, attrs, "strides", 2, 1), _ints(label, attrs, "pads", 4, 0), _ints(label, attrs, "dilations", 2, 1)
    out = []
    for i in range(2):
        span = x[2 + i] + p[i] + p[i + 2] - d[i] * (kernel[i] - 1) - 1
        n = (span + (s[i] - 1 if ceil_mode else 0)) // s[i] + 1 if span >= 0 else 0
        if ceil_mode and n > 0 and (n - 1) * s[i] >= x[2 + i] + p[i]:
            n -= 1  # the last window would start in the end padding
        if n < 1:
            raise FormatError("SHAPE_MISMATCH", f"{label}: the window does not fit in input {x}")
        out.append(n)
    return out


def _conv(label, shapes, attrs):
    x = shapes[0][1]
    kind_w, w = shapes[1]
    if kind_w != "tensor" or len(w) != 4:
        raise FormatError("UNSUPPORTED" if kind_w != "tensor" else "SHAPE_MISMATCH", f"{label}: W must be a tensor [M, C/group, kH, kW]")
    g = attrs["group"]
    if g < 1 or len(x) != 4 or x[1] % g or w[0] % g or w[1] * g != x[1]:
        raise FormatError("SHAPE_MISMATCH", f"{label}: input {x}, weight {w} and group {g} do not match")
    if len(shapes) > 2 and shapes[2][0] is not None and (shapes[2][0] != "tensor" or shapes[2][1] != [w[0]]):
        raise FormatError("SHAPE_MISMATCH", f"{label}: bias must be a tensor [{w[0]}]")
    return [-1, w[0]] + _window(label, x, w[2:], attrs)


def _pool(label, shapes, attrs):
    x = shapes[0][1]
    k = _ints(label, attrs, "kernel_shape", 2, 1)
    p = _ints(label, attrs, "pads", 4, 0)
    d = _ints(label, attrs, "dilations", 2, 1)
    if any(p[i] >= d[i % 2] * (k[i % 2] - 1) + 1 for i in range(4)):  # FORMAT.md: pad < window extent
        raise FormatError("MALFORMED", f"{label}: pads {p} must be smaller than the window extent d·(k−1)+1 (kernel {k}, dilations {d})")
    if attrs["ceil_mode"] not in (0, 1) or attrs.get("count_include_pad", 0) not in (0, 1):
        raise FormatError("MALFORMED", f"{label}: ceil_mode and count_include_pad are 0 or 1")
    return [-1, x[1]] + _window(label, x, k, attrs, attrs["ceil_mode"])


def _global_pool(label, shapes, attrs):
    x = shapes[0][1]
    if len(x) < 3:
        raise FormatError("SHAPE_MISMATCH", f"{label}: input {x} has rank < 3")
    return [-1, x[1]] + [1] * (len(x) - 2)


def _recurrent(gates, n_out):
    def infer(label, shapes, attrs):
        x, h = shapes[0][1], attrs["hidden_size"]
        if h is None or h < 1:
            raise FormatError("MALFORMED", f"{label}: hidden_size must be given and ≥ 1")
        if len(x) != 3:
            raise FormatError("SHAPE_MISMATCH", f"{label}: X {x} is not [N, T, I]")
        want = {1: [gates * h, x[2]], 2: [gates * h, h], 3: [gates * h], 4: [gates * h]}
        for k, dims in want.items():
            if len(shapes) > k and shapes[k][0] is not None and (shapes[k][0] != "tensor" or shapes[k][1] != dims):
                raise FormatError("SHAPE_MISMATCH", f"{label}: input {k} must be a tensor of shape {dims}, not {shapes[k][1]}")
        index = attrs.get("state_index", 0)
        for k in range(5, len(shapes)):
            if shapes[k][0] is None:
                continue
            s = shapes[k][1]
            ok = shapes[k][0] == "value" and (s == [-1, h] and index == 0 or len(s) == 3 and s[2] == h and 0 <= index < s[1])
            if not ok:
                raise FormatError("SHAPE_MISMATCH", f"{label}: initial state {k} must be a value [N, {h}], or [N, S, {h}] "
                                                    f"with state_index {index} < S, not {s}")
        if attrs.get("direction", "forward") not in ("forward", "reverse"):
            raise FormatError("UNSUPPORTED", f"{label}: direction {attrs.get('direction')!r}; use 'forward' or 'reverse'")
        if attrs.get("activation", "tanh") not in ("tanh", "relu") or attrs.get("linear_before_reset", 0) not in (0, 1):
            raise FormatError("UNSUPPORTED", f"{label}: activation/linear_before_reset value not supported")
        return tuple([[-1, x[1], h]] + [[-1, h]] * (n_out - 1))
    return infer


_INFER = {"Linear": _linear, "Relu": _same, "Sigmoid": _same, "Tanh": _same, "Identity": _same,
          "Softmax": _softmax, "LogSoftmax": _softmax, "Flatten": _flatten, "Reshape": _reshape,
          "Add": _binary, "Sub": _binary, "Mul": _binary, "Div": _binary,
          "LeakyRelu": _same, "Gelu": _gelu, "Silu": _same, "Erf": _same,
          "LayerNormalization": _layer_norm, "Conv": _conv, "MaxPool": _pool, "AveragePool": _pool,
          "GlobalAveragePool": _global_pool, "RNN": _recurrent(1, 2), "GRU": _recurrent(3, 2),
          "LSTM": _recurrent(4, 3)}
_INFER.update(op_families.merged("INFER"))
assert set(_INFER) == set(fmt.OPS)
