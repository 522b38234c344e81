"""Runs the ONNX node tests of every claimed op (onnx_node_cases.py) and writes the table of
docs/OPS.md between its `ops:begin`/`ops:end` markers, so the counts there are real.

    PYTHONPATH=tools/convert:bindings/python STRATA_LIBRARY=.build/release/libstrata.so \
        .venv/bin/python tools/convert/tests/write_ops_table.py
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_node_cases as cases  # noqa: E402

OPS_MD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "OPS.md")

# op -> (attributes supported, refused and why)
NOTES = {
    "Gemm": ("alpha, beta, transB; C of shape [M], [1, M] or scalar", "transA = 1 and a C that differs per row (both mix the batch); a non-constant B"),
    "MatMul": ("A a value [..., K], B a constant [K, M] (→ Linear); a following Add of a constant [M] becomes its bias", "B computed at run time, B of rank ≠ 2, A 1-D"),
    "Add": ("numpy broadcasting against constants or between values of equal rank", "a constant that reaches the batch dim (full rank with dim 0 ≠ 1)"),
    "Sub": ("as Add, either operand may be the constant", "as Add"),
    "Mul": ("as Add", "as Add"),
    "Div": ("as Add; IEEE division", "as Add"),
    "Relu": ("–", "–"), "Sigmoid": ("–", "–"), "Tanh": ("–", "–"), "Erf": ("–", "–"),
    "LeakyRelu": ("alpha", "–"),
    "Clip": ("min and max as constant inputs (opset ≥ 11) or attributes, either absent; min > max (all max)", "bounds computed at run time"),
    "HardSigmoid": ("alpha, beta", "–"), "HardSwish": ("–", "–"),
    "Concat": ("values of one rank along any non-batch axis", "axis 0 (the batch); constant inputs"),
    "Gelu": ("approximate none/tanh; the Div/Erf/Add/Mul pattern older exporters emit is fused", "–"),
    "Softmax": ("axis (any but the batch)", "axis 0 (the batch)"),
    "LogSoftmax": ("axis (any but the batch)", "axis 0 (the batch)"),
    "Flatten": ("axis 1 (and any axis whose leading dims are the batch alone)", "axis 0 or ≥ 2 with non-unit dims (mixes the batch)"),
    "Reshape": ("constant target or Shape/Gather/Concat arithmetic; 0 and -1; allowzero; a fixed dim 0 equal to the input's declared batch", "targets that move elements across the batch"),
    "Identity": ("–", "–"),
    "Dropout": ("removed (inference)", "training_mode = true; a used mask output"),
    "BatchNormalization": ("epsilon; folded into the preceding Linear/Conv when it is its only consumer, else Mul+Add per channel", "training_mode = 1 (batch statistics)"),
    "LayerNormalization": ("axis (not the batch), epsilon; Scale/B broadcast to X.shape[axis:]", "axis 0; used Mean/InvStdDev outputs"),
    "Conv": ("1-D (through a unit height) and 2-D; strides, pads, dilations, group, auto_pad (resolved at conversion)", "3-D; a weight computed at run time"),
    "MaxPool": ("1-D and 2-D; kernel_shape, strides, pads (< kernel), dilations, ceil_mode, auto_pad", "3-D; the Indices output"),
    "AveragePool": ("1-D and 2-D; as MaxPool plus count_include_pad", "3-D"),
    "GlobalAveragePool": ("rank ≥ 3", "–"),
    "RNN": ("forward; hidden_size; Tanh or Relu; layout 0/1; B (split WB/RB); initial_h; sequence_lens equal to T", "reverse/bidirectional, clip, other activations, shorter sequence_lens"),
    "GRU": ("as RNN; linear_before_reset 0/1; gates z, r, h", "as RNN"),
    "LSTM": ("as RNN; initial_c; gates i, o, f, c", "as RNN; peepholes (P), input_forget"),
    # format 1.5, issue 15 part A
    "Elu": ("alpha", "–"), "Selu": ("the default alpha and gamma", "other alpha/gamma"),
    "Softplus": ("–", "–"), "Mish": ("–", "–"), "Abs": ("–", "–"), "Neg": ("–", "–"), "Sqrt": ("–", "–"),
    "Exp": ("–", "–"), "Log": ("–", "–"), "Reciprocal": ("–", "–"),
    "Pow": ("a constant scalar exponent", "an exponent tensor with several values or computed at run time"),
    "PRelu": ("one slope or one per channel (→ Relu − slope·Relu(−x))", "slopes along other dims"),
    "Transpose": ("any permutation that keeps the batch first (a view, materialized when needed)", "perms that move the batch"),
    "Slice": ("constant starts/ends/axes/steps on non-batch axes, negative and clamped bounds, negative steps", "axis 0 (unless whole); an empty result"),
    "Split": ("split sizes (input or attribute) or num_outputs along a non-batch axis (→ Slices)", "axis 0; empty pieces"),
    "Squeeze": ("unit non-batch dims (a view)", "the batch dim"),
    "Unsqueeze": ("any position after the batch (a view)", "–"),
    "ReduceMean": ("axes (attribute or input), keepdims; spatial axes → GlobalAveragePool", "axis 0 (the batch), which the default (all axes) includes"),
    "ReduceSum": ("as ReduceMean; noop_with_empty_axes", "as ReduceMean"),
    "ReduceMax": ("as ReduceMean", "as ReduceMean"),
    "LpNormalization": ("p = 2 (→ Mul, ReduceSum, Sqrt, Div)", "p = 1; axis 0"),
    # format 1.5, issue 15 part B (spatial.py)
    "ConvTranspose": ("1-D and 2-D; strides, pads, dilations, group, output_padding", "3-D; auto_pad SAME, output_shape; a weight computed at run time"),
    "Resize": ("1-D and 2-D; nearest (asymmetric, floor); linear (half_pixel, pytorch_half_pixel, align_corners); scales or sizes (constant)", "cubic, other coordinate/nearest modes, antialias, axes, roi; align_corners with fractional output sizes"),
    "Upsample": ("upgraded to Resize (opset ≥ 10)", "as Resize"),
    "Pad": ("1-D and 2-D spatial pads ≥ 0; constant (value), reflect, edge", "wrap; pads on N or C; negative pads (crop); the axes input"),
}


def main():
    backend = "runtime"
    try:
        from strata import _lib
        if _lib.find() is None:
            backend = "numpy"
    except Exception:
        backend = "numpy"
    rows = collections.OrderedDict((op, {"plain": [], "expanded": []}) for op in cases.CLAIMED)
    skipped = []
    for name, op, expanded in cases.cases():
        if not cases.dtype_ok(name):
            skipped.append(name)
            continue
        result = cases.run_case(name, op, backend)
        rows[op]["expanded" if expanded else "plain"].append((name, result))
        print(f"{name}: {result[:160]}", file=sys.stderr)
    lines = [f"Generated by `tools/convert/tests/write_ops_table.py` (backend: **{backend}**"
             + (", libstrata through the Python binding" if backend == "runtime" else ", the converter's numpy reference")
             + "; onnx 1.22.0 node tests, rtol 1e-4, atol 1e-5).", "",
             "| op | attributes supported | refused (and why) | node tests passed / total | expanded (function) tests passed / total |",
             "|---|---|---|---:|---:|"]
    for op, r in rows.items():
        attrs, refused = NOTES[op]
        def count(rs):
            return f"{sum(x == 'pass' for _, x in rs)} / {len(rs)}" if rs else "–"
        lines.append(f"| {op} | {attrs} | {refused} | {count(r['plain'])} | {count(r['expanded'])} |")
    lines += ["", "Node tests not passed (plain tests; expanded ones fail on ops Strata does not claim, such as ReduceMean):", ""]
    for op, r in rows.items():
        for name, result in r["plain"]:
            if result != "pass":
                lines.append(f"- `{name}` — {result.replace('|', '/')[:300]}")
    lines += ["", f"Out of scope (not f32, or optional/sequence-typed data): {len(skipped)} tests of these ops."]
    table = "\n".join(lines)
    with open(OPS_MD, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index("<!-- ops:begin -->"), text.index("<!-- ops:end -->")
    text = text[:start] + "<!-- ops:begin -->\n" + table + "\n" + text[end:]
    with open(OPS_MD, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
