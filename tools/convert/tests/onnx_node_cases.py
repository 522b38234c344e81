"""The ONNX backend node tests (onnx==1.22.0 ships them) for the ops Strata claims, run through
the converter and then the runtime (or the numpy reference), against their stored outputs.

Harness rules (docs/OPS.md repeats them):
1. The first graph input is the model input; its dim 0 is the batch. Every other input becomes a
   stored tensor (`convert_onnx(constants=...)`), except a second operand of Add/Sub/Mul/Div with
   the first's rank and dim 0, which stays a (batched) graph input.
2. Each float output is converted and checked on its own (`outputs=[name]`): the C ABI runs
   one-input, one-output models. Non-float outputs (Dropout's mask) are not compared.
   LayerNormalization's Mean/InvStdDev (training outputs) are not compared.
3. Sequence-first recurrent tests (layout 0): the converter declares X batch-first, so the harness
   feeds X transposed to [N, T, I] and compares Y as [N, T, H] and Y_h/Y_c as [N, H].
4. Only f32 tests count; other dtypes are listed as out of scope.
5. A test the converter can only convert as one sample of a new batch dimension (onnx_lift.py:
   a fixed-shape graph whose ops mix dim 0 with the others) is fed its inputs as a batch of one.
Tolerance: rtol 1e-4, atol 1e-5.
"""
import glob
import os

import numpy as np

CLAIMED = ["Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "Erf",
           "Softmax", "LogSoftmax", "Flatten", "Reshape", "Identity", "Dropout", "BatchNormalization",
           "LayerNormalization", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "RNN", "GRU", "LSTM",
           "Clip", "HardSigmoid", "HardSwish", "Concat",
           # format 1.5, issue 15 part A (unary_math.py, shape_ops.py, reductions.py)
           "Elu", "Selu", "Softplus", "Mish", "Abs", "Neg", "Sqrt", "Pow", "Exp", "Log", "Reciprocal", "PRelu",
           "Transpose", "Slice", "Split", "Squeeze", "Unsqueeze", "ReduceMean", "ReduceSum", "ReduceMax",
           "LpNormalization",
           "ConvTranspose", "Resize", "Upsample", "Pad"]  # format 1.5, issue 15 part B (spatial.py)
RTOL, ATOL = 1e-4, 1e-5
_RECURRENT = ("RNN", "GRU", "LSTM")


def node_dir():
    import onnx
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def cases():
    """[(test name, op, expanded)] for every node test of a claimed op (incl. *_expanded variants)."""
    import onnx
    out = []
    for d in sorted(glob.glob(os.path.join(node_dir(), "test_*"))):
        name = os.path.basename(d)
        base = name.split("_expanded")[0]
        path = os.path.join(node_dir(), base, "model.onnx")
        if not os.path.exists(path):
            continue
        ops = {n.op_type for n in onnx.load(path).graph.node}
        if len(ops) == 1 and (op := ops.pop()) in CLAIMED:
            out.append((name, op, name != base))
    return out


def _load(name):
    import onnx
    from onnx import numpy_helper
    d = os.path.join(node_dir(), name)
    model = onnx.load(os.path.join(d, "model.onnx"))
    ds = os.path.join(d, "test_data_set_0")
    ins = [numpy_helper.to_array(onnx.load_tensor(os.path.join(ds, f"input_{k}.pb"))) for k in range(len(model.graph.input))]
    outs = [numpy_helper.to_array(onnx.load_tensor(os.path.join(ds, f"output_{k}.pb"))) for k in range(len(model.graph.output))]
    return model, ins, outs


def dtype_ok(name):
    try:
        model, ins, outs = _load(name)
    except Exception:  # optional/sequence-typed test data
        return False
    return all(a.dtype == np.float32 for a in ins[:1]) and all(
        a.dtype in (np.float32, np.bool_) for a in outs) and all(a.dtype in (np.float32, np.int64) for a in ins)


def run_case(name, op, backend):
    """'pass' | 'refused: ...' | 'fail: ...' — `backend` is 'runtime' or 'numpy'."""
    from strata_convert.errors import ConversionError
    from strata_convert.onnx_source import convert_onnx
    model, ins, outs = _load(name)
    inputs = list(model.graph.input)
    first = ins[0]
    graph_inputs, constants = [(inputs[0].name, first)], {}
    binary = op in ("Add", "Sub", "Mul", "Div")
    for vi, arr in zip(inputs[1:], ins[1:]):
        if binary and arr.ndim == first.ndim and arr.shape[:1] == first.shape[:1] and arr.ndim > 0:
            graph_inputs.append((vi.name, arr))
        else:
            constants[vi.name] = arr
    node = next(n for n in model.graph.node if n.op_type == op) if op in {n.op_type for n in model.graph.node} else None
    layout0 = op in _RECURRENT and node is not None and not any(a.name == "layout" and a.i == 1 for a in node.attribute)
    wanted = [(o.name, ref) for o, ref in zip(model.graph.output, outs) if ref.dtype == np.float32]
    if op == "LayerNormalization":
        wanted = wanted[:1]
    feeds = {n: (a.transpose(1, 0, 2) if layout0 and k == 0 else a) for k, (n, a) in enumerate(graph_inputs)}
    refs = []
    for out_name, ref in wanted:
        if layout0:
            ref = ref[:, 0].transpose(1, 0, 2) if ref.ndim == 4 else ref[0]
        refs.append((out_name, ref))
    try:
        graph = convert_onnx(model, constants=constants, outputs=[n for n, _ in refs])
    except ConversionError as e:
        return f"refused: {e}"
    if getattr(graph, "lifted", False):  # a fixed-shape graph converted as one sample (onnx_lift.py)
        feeds = {n: a[None] for n, a in feeds.items()}
    try:
        results = _execute(graph, feeds, backend)
        if getattr(graph, "lifted", False):
            results = [r[0] for r in results]
    except Exception as e:  # a runtime refusal or crash is a failure, not a refusal
        return f"fail: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    if len(results) != len(refs):
        return f"fail: {len(results)} outputs, expected {len(refs)}"
    for (out_name, ref), got in zip(refs, results):
        if got.shape != ref.shape:
            return f"fail: output {out_name} has shape {got.shape}, expected {ref.shape}"
        if not np.allclose(got, ref, rtol=RTOL, atol=ATOL, equal_nan=True):
            err = float(np.nanmax(np.abs(got.astype(np.float64) - ref)))
            return f"fail: output {out_name} differs by up to {err:.3g}"
    return "pass"


def _execute(graph, feeds, backend):
    """Every graph output, in graph order, from the numpy reference or from libstrata
    (`run_all`: one buffer per graph input and output, strata_session_run_multi)."""
    from strata_convert import numpy_ref
    ordered = {v.name: feeds[n] for v, n in zip(graph.inputs, feeds)}
    if backend == "numpy":
        return list(numpy_ref.run(graph, ordered, dtype=np.float32))
    import strata
    from strata_convert.writer import serialize
    with strata.Model.from_bytes(serialize(graph)) as m:
        return list(m.run_all(list(ordered.values())).values())
