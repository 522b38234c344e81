"""onnx_lift.py: a fixed-shape ONNX graph whose ops mix dim 0 with the others converts as one
sample of a new batch dimension; anything it cannot lift keeps the ordinary refusal."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from strata_convert import ConversionError, numpy_ref  # noqa: E402
from strata_convert.onnx_source import convert_onnx  # noqa: E402

RNG = np.random.default_rng(0)


def _model(nodes, x_shape, y_shape, inits=()):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
                              [numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _ort(model, x):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_flatten_axis0_gemm_with_per_row_bias_and_softmax_over_dim0():
    w = RNG.standard_normal((5, 12)).astype(np.float32)
    c = RNG.standard_normal((1, 5)).astype(np.float32)
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=0),                      # [1, 12]
             helper.make_node("Gemm", ["f", "w", "c"], ["g"], transB=1, alpha=0.5, beta=2.0),
             helper.make_node("Reshape", ["g", "shape"], ["t"]),                     # [5, 1]
             helper.make_node("Softmax", ["t"], ["y"], axis=0)]
    model = _model(nodes, [3, 4], [5, 1], [("w", w), ("c", c), ("shape", np.array([5, 1], np.int64))])
    graph = convert_onnx(model)
    assert graph.lifted and graph.inputs[0].dims == [-1, 3, 4] and graph.outputs[0].dims == [-1, 5, 1]
    assert "converted as one sample" in graph.metadata["description"]
    xs = RNG.standard_normal((4, 3, 4)).astype(np.float32)
    got = numpy_ref.run(graph, xs)[0]
    for k in range(4):
        assert np.abs(got[k] - _ort(model, xs[k])).max() <= 1e-5


def test_reshape_over_dim0_and_layernorm_over_every_dim():
    scale = RNG.standard_normal((2, 6)).astype(np.float32)
    nodes = [helper.make_node("LayerNormalization", ["x", "s"], ["n"], axis=0),
             helper.make_node("Reshape", ["n", "shape"], ["y"])]
    model = _model(nodes, [2, 6], [3, 4], [("s", scale), ("shape", np.array([3, -1], np.int64))])
    graph = convert_onnx(model)
    xs = RNG.standard_normal((2, 2, 6)).astype(np.float32)
    got = numpy_ref.run(graph, xs)[0]
    for k in range(2):
        assert np.abs(got[k] - _ort(model, xs[k])).max() <= 1e-5


def test_dynamic_first_dimension_is_not_lifted():
    model = _model([helper.make_node("Softmax", ["x"], ["y"], axis=0)], ["n", 4], ["n", 4])
    with pytest.raises(ConversionError, match="Softmax over axis 0, the batch"):
        convert_onnx(model)


def test_ops_without_a_lifting_rule_keep_the_refusal():
    w = RNG.standard_normal((2, 1, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Softmax", ["c"], ["y"], axis=0)]
    model = _model(nodes, [1, 1, 4, 4], [1, 2, 4, 4], [("w", w)])
    with pytest.raises(ConversionError, match="Softmax over axis 0, the batch"):
        convert_onnx(model)
    gemm = _model([helper.make_node("Gemm", ["x", "w"], ["y"], transA=1)], [4, 3], [3, 2],
                  [("w", RNG.standard_normal((4, 2)).astype(np.float32))])
    with pytest.raises(ConversionError, match="transA = 1"):
        convert_onnx(gemm)


def test_check_agrees_with_the_conversion():
    from strata_convert import check
    model = _model([helper.make_node("Softmax", ["x"], ["y"], axis=0)], [3, 4], [3, 4])
    report = check(model)
    assert report.ok and "converted as one sample" in report.text()
    dynamic = _model([helper.make_node("Softmax", ["x"], ["y"], axis=0)], ["n", 4], ["n", 4])
    assert check(dynamic).counts() == {"Softmax": 1}
