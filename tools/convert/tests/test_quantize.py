"""Quantized weights in the converter: the numpy reference quantizers (rounding, clamping,
scales), the panel16 byte encoding of docs/FORMAT.md "Quantized weights", the writer/reader round
trip, the reader's content rules, per-layer precision choice and the accuracy report."""
import numpy as np
import pytest

from helpers import mlp_graph
from strata_convert import format as fmt
from strata_convert import precision
from strata_convert import quantize as Q
from strata_convert.errors import ConversionError, FormatError
from strata_convert.ir import Tensor
from strata_convert.reader import parse
from strata_convert.writer import serialize

SHAPES = [(1, 1), (10, 64), (16, 32), (17, 33), (33, 100), (130, 784)]


def test_int8_rounds_half_to_even_with_a_per_row_scale():
    w = np.array([[127, 2.5, -3.5, 0.5, -127], [0, 0, 0, 0, 0]], np.float32)
    q = Q.quantize(w, "int8")
    assert q.scales.tolist() == [1.0, 0.0]
    assert q.values.tolist() == [[127, 2, -4, 0, -127], [0, 0, 0, 0, 0]]
    assert Q.dequantize(q).tolist() == [[127, 2, -4, 0, -127], [0, 0, 0, 0, 0]]


def test_int4_blocks_of_32_with_f16_scales():
    w = np.zeros((2, 40), np.float32)
    w[0, :32] = np.linspace(-7, 7, 32)
    w[0, 32:] = 0.5  # the short last block: scale f16(0.5 / 7)
    q = Q.quantize(w, "int4")
    assert q.scales.dtype == np.float16 and q.scales.shape == (2, 2)
    assert q.scales[0, 0] == 1.0 and q.scales[0, 1] == np.float16(np.float32(0.5) / np.float32(7))
    assert q.values[0, 0] == -7 and q.values[0, 31] == 7 and (q.values[0, 32:] == 7).all()
    assert (q.values[1] == 0).all() and (q.scales[1] == 0).all()
    assert int(q.values.min()) >= -7 and int(q.values.max()) <= 7


def test_bf16_rounds_half_to_even():
    bits = np.array([0x3F808000, 0x3F818000, 0x3F808001, 0xBF800000], np.uint32)
    q = Q.quantize(bits.view(np.float32).reshape(1, 4), "bf16")
    assert q.values.tolist() == [[0x3F80, 0x3F82, 0x3F81, 0xBF80]]


def test_f16_is_numpy_rounding_and_refuses_overflow():
    w = np.array([[1 / 3, 70000.0]], np.float32)
    with pytest.raises(ConversionError, match="65504"):
        Q.quantize(w, "f16")
    assert Q.quantize(w[:, :1], "f16").values[0, 0] == np.float16(1 / 3)


@pytest.mark.parametrize("dtype", fmt.WEIGHT_ONLY_DTYPES)
@pytest.mark.parametrize("n,k", SHAPES)
def test_encoding_round_trips_and_has_the_documented_size(dtype, n, k):
    w = np.random.default_rng(n * 1000 + k).standard_normal((n, k)).astype(np.float32)
    q = Q.quantize(w, dtype)
    raw = Q.encode_panel16(q)
    p, kp = (n + 15) // 16, (k + 31) // 32 * 32
    expected = {"f16": p * k * 32, "bf16": p * k * 32, "int8": fmt.align(p * k * 16, 64) + p * 64,
                "int4": fmt.align(p * kp * 8, 64) + p * (kp // 32) * 32}[dtype]
    assert len(raw) == expected == fmt.panel16_bytes(dtype, n, k)[3]
    assert Q.decode_panel16(dtype, raw, n, k) == q
    assert Q.check_encoded(dtype, raw, n, k) is None
    deq = Q.dequantize(q)
    assert deq.dtype == np.float32 and deq.shape == (n, k)
    bound = {"f16": 1e-3, "bf16": 8e-3, "int8": 1 / 127 / 2 + 1e-6, "int4": 1 / 7 / 2 * 1.01 + 1e-3}[dtype]
    assert np.abs(deq - w).max() <= bound * np.abs(w).max()


def _quantized_graph(dtype="int8", edit=None, layout=fmt.LAYOUT_PANEL16):
    g = mlp_graph()
    tensors = []
    for t in g.tensors:
        if t.name == "fc1.weight":
            t = t.quantized_as(dtype)
            if edit:
                edit(t.quantized)
            t.layout = layout
        tensors.append(t)
    g.tensors = tensors
    return g


@pytest.mark.parametrize("dtype", fmt.WEIGHT_ONLY_DTYPES)
def test_writer_reader_round_trip_stamps_1_2(dtype):
    g = _quantized_graph(dtype)
    data = serialize(g)
    assert data[10] == 2, "a file with quantized weights is format 1.2"
    back = parse(data)
    assert back.tensor_map()["fc1.weight"] == g.tensor_map()["fc1.weight"]
    assert back.tensor_map()["fc1.weight"].dtype == dtype
    assert serialize(back) == data


def _neg_scale(q):
    q.scales[0] = -1


def _nan_scale(q):
    q.scales[1] = np.nan


def _minus_128(q):
    q.values[0, 0] = -128


def _minus_8(q):
    q.values[0, 0] = -8


def _neg_f16_scale(q):
    q.scales[0, 0] = -1


# (name, make file, status, message fragment of both readers); Tests/Fixtures/make_fixtures.py
# writes these as fixture files for the Swift reader too (rule 14).
QUANT_CASES = [
    ("int8 value -128", lambda: serialize(_quantized_graph("int8", _minus_128)), "MALFORMED", "has the value -128 at byte 0"),
    ("int4 value -8", lambda: serialize(_quantized_graph("int4", _minus_8)), "MALFORMED", "has the value -8 (nibble 0) at byte 0"),
    ("int8 negative scale", lambda: serialize(_quantized_graph("int8", _neg_scale)), "MALFORMED", "has scale -1.0 for row 0"),
    ("int8 nan scale", lambda: serialize(_quantized_graph("int8", _nan_scale)), "MALFORMED", "has scale nan for row 1"),
    ("int4 negative scale", lambda: serialize(_quantized_graph("int4", _neg_f16_scale)), "MALFORMED", "has a negative or non-finite f16 scale at index 0"),
    ("f16 weight row-major", lambda: serialize(_quantized_graph("f16", layout=fmt.LAYOUT_ROW_MAJOR), validate=False), "MALFORMED",
     "has dtype f16, which is valid only in layout panel16"),
]


@pytest.mark.parametrize("name,make,status,fragment", QUANT_CASES, ids=[c[0] for c in QUANT_CASES])
def test_reader_rejects_malformed_quantized_tensors(name, make, status, fragment):
    with pytest.raises(FormatError) as e:
        parse(make())
    assert e.value.status == status and fragment in e.value.message


def test_layer_precisions_overrides_and_ends():
    g = mlp_graph()
    assert precision.linear_layers(g) == [("fc1", "fc1.weight"), ("fc2", "fc2.weight")]
    assert precision.layer_precisions(g, "int4") == {"fc1.weight": "int4", "fc2.weight": "int4"}
    assert precision.layer_precisions(g, "int8", keep_ends_f32=True) == {"fc1.weight": "f32", "fc2.weight": "f32"}
    assert precision.layer_precisions(g, "int8", {"fc2": "f16"}, keep_f32=["fc1.weight"]) == {"fc1.weight": "f32", "fc2.weight": "f16"}
    with pytest.raises(ConversionError, match="no Linear layer named 'fc9'; the layers are: fc1, fc2"):
        precision.layer_precisions(g, "int8", {"fc9": "int8"})
    with pytest.raises(ConversionError, match="unknown precision 'int3'"):
        precision.layer_precisions(g, "int8", {"fc1": "int3"})


def test_accuracy_report_is_stored_and_measures_the_error():
    g = mlp_graph()
    chosen = precision.layer_precisions(g, "int4")
    q = precision.apply_precision(g, chosen)
    assert g.tensor_map()["fc1.weight"].dtype == "f32", "the f32 graph is left alone"
    x, description = precision.calibration_inputs(g, n=64)
    report = precision.accuracy_report(g, q, chosen, x, description)
    assert description == "64 random inputs" and report.samples == 64
    assert [layer[:2] for layer in report.layers] == [("fc1", "int4"), ("fc2", "int4")]
    assert 0 < report.max_abs_error < 1 and 0 <= report.top1_agreement <= 1
    precision.store_report(q, report)
    back = parse(serialize(q))
    text = back.metadata[fmt.META_QUANTIZATION]
    assert text.startswith("accuracy against f32 on 64 random inputs:") and "fc1 (int4): max abs error" in text
    assert "top-1 agreement" in text
    same = precision.accuracy_report(g, precision.apply_precision(g, precision.layer_precisions(g, "f32")),
                                     {}, x, description)
    assert same.max_abs_error == 0 and same.top1_agreement == 1


def test_calibration_file_shape_is_checked(tmp_path):
    g = mlp_graph()
    good, bad = tmp_path / "good.npy", tmp_path / "bad.npy"
    np.save(good, np.ones((5, 6), np.float32))  # reshaped to [5, 2, 3]
    np.save(bad, np.ones((5, 7), np.float32))
    x, description = precision.calibration_inputs(g, str(good))
    assert x.shape == (5, 2, 3) and description == "5 calibration inputs"
    with pytest.raises(ConversionError, match=r"holds \[5, 7\]; expected \[N, 2, 3\]"):
        precision.calibration_inputs(g, str(bad))


def test_quantized_tensor_equality_includes_the_encoding():
    w = np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)
    a, b = Tensor("w", w).quantized_as("int8"), Tensor("w", w).quantized_as("int8")
    assert a == b and a != Tensor("w", w).quantized_as("int4") and a != Tensor("w", a.array, 1)
