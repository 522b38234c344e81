"""ONNX graphs of a fixed shape whose ops mix dimension 0 with the others (Flatten at axis 0,
Softmax or LayerNormalization over axis 0, a Gemm bias that differs per row, a Reshape that moves
dim 0): converted as ONE SAMPLE of a new leading batch dimension instead of being refused.

Strata's IR keeps dim 0 of every value the batch and never mixes samples; such a graph has no
batch. When every input of the graph has a fixed shape, `lift(model, constants)` rewrites it so
each computed value gets a leading dimension N: graph inputs [d0, d1, …] become [N, d0, d1, …],
every axis attribute moves by one, Flatten and Reshape get their (inferred) result shape with
-1 in front, Gemm becomes MatMul + Add with alpha, beta and transB folded into its constants,
Shape drops the new dimension. The converted file then takes [N, d0, d1, …] and runs each of the
N tensors exactly as the ONNX graph runs its one input ([1, d0, …] is the model as exported).

Only ops with a rule below are lifted; anything else (convolutions, pooling, BatchNormalization,
recurrent layers: they need their batch in dim 0) raises LiftError, and the caller keeps the
original refusal. onnx_source.convert_onnx tries this only after the ordinary conversion failed.
"""
import numpy as np

__all__ = ["LiftError", "lift", "all_inputs_fixed"]

# Ops that work on any rank without an axis (elementwise; MatMul broadcasts its leading dims): unchanged.
_RANK_FREE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "Erf", "Identity", "Dropout", "Cast", "CastLike",
                "Add", "Sub", "Mul", "Div", "Abs", "Neg", "Sqrt", "Exp", "Log", "Reciprocal", "Pow", "Elu", "Selu",
                "Softplus", "Mish", "PRelu", "Clip", "HardSigmoid", "HardSwish", "Max", "Min", "Where", "Equal",
                "Greater", "Less", "Not", "MatMul"}
# Ops with a single `axis` attribute (default in the dict) counted from the front when ≥ 0.
_AXIS = {"Softmax": -1, "LogSoftmax": -1, "LayerNormalization": -1, "Concat": None, "Gather": 0, "Split": 0}
# Ops whose `axes` come as an attribute or as input 1.
_AXES = {"Squeeze", "Unsqueeze", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2"}


class LiftError(Exception):
    """The graph cannot be lifted (an op without a rule, a shape onnx cannot infer)."""


def all_inputs_fixed(model, constants=()) -> bool:
    """True when every graph input that is not an initializer or a given constant has a fixed shape."""
    inits = {t.name for t in model.graph.initializer} | set(constants)
    ins = [vi for vi in model.graph.input if vi.name not in inits]
    if not ins:
        return False
    for vi in ins:
        dims = vi.type.tensor_type.shape.dim
        if not dims or not all(d.HasField("dim_value") and d.dim_value > 0 for d in dims):
            return False
    return True


def lift(model, constants=None):
    """A copy of `model` with a leading batch dimension N on every computed value (see above).
    constants: {graph input name: array} stored as weights (not lifted), as convert_onnx takes."""
    import onnx
    from onnx import helper, numpy_helper
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as e:
        raise LiftError(f"onnx shape inference failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
            shapes[vi.name] = [d.dim_value for d in t.shape.dim]
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    inits.update({k: np.asarray(v) for k, v in (constants or {}).items()})
    fixed = set(inits)
    computed = set()
    for vi in g.input:
        if vi.name not in fixed:
            _prepend_batch(vi)
            computed.add(vi.name)
    new_nodes, new_inits = [], []
    for node in g.node:
        if not any(i in computed for i in node.input):
            new_nodes.append(node)  # constant arithmetic: unchanged
            continue
        for n in _lift_node(node, shapes, inits, new_inits, helper, numpy_helper):
            new_nodes.append(n)
        computed.update(o for o in node.output if o)
    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(new_inits)
    del g.value_info[:]
    for vi in g.output:
        if vi.name in computed:
            _prepend_batch(vi)
    return out


def _prepend_batch(vi):
    shape = vi.type.tensor_type.shape
    dims = [(d.dim_value, d.dim_param) for d in shape.dim]
    del shape.dim[:]
    shape.dim.add().dim_param = "N"
    for value, param in dims:
        d = shape.dim.add()
        if value:
            d.dim_value = value
        elif param:
            d.dim_param = param


def _attr(node, name):
    return next((a for a in node.attribute if a.name == name), None)


def _set_int(node, name, value):
    from onnx import helper
    a = _attr(node, name)
    if a is not None:
        node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def _shift(axis):
    return axis + 1 if axis >= 0 else axis


def _lift_node(node, shapes, inits, new_inits, helper, nh):
    op = node.op_type
    if node.domain not in ("", "ai.onnx"):
        raise LiftError(f"op {node.domain}.{op} has no lifting rule")
    if op in _RANK_FREE:
        return [node]
    if op in _AXIS:
        a = _attr(node, "axis")
        axis = a.i if a is not None else _AXIS[op]
        if axis is None:
            raise LiftError(f"{op} without an axis")
        _set_int(node, "axis", _shift(axis))
        return [node]
    if op in _AXES:
        a = _attr(node, "axes")
        if a is not None:
            node.attribute.remove(a)
            node.attribute.append(helper.make_attribute("axes", [_shift(x) for x in a.ints]))
        elif len(node.input) > 1 and node.input[1]:
            if node.input[1] not in inits:
                raise LiftError(f"{op} with computed axes")
            axes = np.asarray(inits[node.input[1]]).reshape(-1)
            name = f"{node.input[1]}_lifted"
            new_inits.append(nh.from_array(np.array([_shift(int(x)) for x in axes], np.int64), name))
            node.input[1] = name
        elif op == "Squeeze":
            raise LiftError("Squeeze without axes (it would squeeze a batch of 1)")
        return [node]
    if op == "Transpose":
        p = _attr(node, "perm")
        rank = len(shapes.get(node.input[0], [])) if p is None else len(p.ints)
        perm = list(p.ints) if p is not None else list(reversed(range(rank)))
        if p is not None:
            node.attribute.remove(p)
        node.attribute.append(helper.make_attribute("perm", [0] + [x + 1 for x in perm]))
        return [node]
    if op in ("Flatten", "Reshape"):
        target = shapes.get(node.output[0])
        if target is None:
            raise LiftError(f"{op} '{node.name}': onnx cannot infer its result shape")
        name = f"{node.output[0]}_lifted_shape"
        new_inits.append(nh.from_array(np.array([-1] + target, np.int64), name))
        return [helper.make_node("Reshape", [node.input[0], name], list(node.output), name=node.name)]
    if op == "Shape":
        start = _attr(node, "start")
        end = _attr(node, "end")
        _set_int(node, "start", _shift(start.i) if start is not None else 1)
        if end is not None:
            _set_int(node, "end", _shift(end.i))
        return [node]
    if op == "Gemm":
        return _gemm(node, inits, new_inits, helper, nh)
    raise LiftError(f"{op} has no lifting rule (it needs its batch in dim 0)")


def _gemm(node, inits, new_inits, helper, nh):
    def get(name, default):
        a = _attr(node, name)
        return default if a is None else (a.f if a.type == a.FLOAT else a.i)
    if get("transA", 0):
        raise LiftError("Gemm with transA = 1 needs a transpose of the value")
    if node.input[1] not in inits:
        raise LiftError("Gemm with a computed B")
    b = np.asarray(inits[node.input[1]], np.float64)
    b = (b.T if get("transB", 0) else b) * get("alpha", 1.0)
    base = node.name or node.output[0]
    w = f"{base}_lifted_B"
    new_inits.append(nh.from_array(b.astype(np.float32), w))
    if len(node.input) < 3 or not node.input[2]:
        return [helper.make_node("MatMul", [node.input[0], w], list(node.output), name=node.name)]
    if node.input[2] not in inits:
        raise LiftError("Gemm with a computed C")
    c = np.asarray(inits[node.input[2]], np.float64) * get("beta", 1.0)
    cn = f"{base}_lifted_C"
    new_inits.append(nh.from_array(c.astype(np.float32), cn))
    mid = f"{base}_lifted_product"
    return [helper.make_node("MatMul", [node.input[0], w], [mid], name=f"{base}_matmul"),
            helper.make_node("Add", [mid, cn], list(node.output), name=node.name)]
