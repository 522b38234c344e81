"""Quantized weights in the converter: the numpy reference quantizers (rounding, clamping,
scales), the panel16 byte encoding of docs/FORMAT.md "Quantized weights" and the panel16k4 one of
"Dynamic int8" with its run-time arithmetic, the writer/reader round trip, the reader's content
rules, per-layer precision choice and the accuracy report."""
import numpy as np
import pytest

from helpers import fix, mlp_graph, rebuild, tensors_body
from strata_convert import format as fmt
from strata_convert import numpy_ref, precision
from strata_convert import quantize as Q
from strata_convert.errors import ConversionError, FormatError
from strata_convert.ir import Tensor
from strata_convert.reader import parse, read_sections
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


def _quantized_graph(dtype="int8", edit=None, layout=None):
    g = mlp_graph()
    tensors = []
    for t in g.tensors:
        if t.name == "fc1.weight":
            t = t.quantized_as(dtype)
            if edit:
                edit(t.quantized)
            if layout is not None:
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
    # 15. (1.3) dynamic int8
    ("int8-dynamic value -128", lambda: serialize(_quantized_graph("int8-dynamic", _minus_128)), "MALFORMED",
     "has the value -128 at byte 0"),
    ("int8-dynamic padding row", lambda: _with_k4_byte(5 * 4, 1), "MALFORMED", "has a non-zero padding value at byte 20"),
    ("int8-dynamic padding column", lambda: _with_k4_byte(64 + 3 * 4 + 2, 1), "MALFORMED",
     "has a non-zero padding value at byte 78"),
    ("int8-dynamic negative scale", lambda: serialize(_quantized_graph("int8-dynamic", _neg_scale)), "MALFORMED",
     "has scale -1.0 for row 0"),
    ("panel16k4 f16 weight", lambda: _k4_entry(dtype=2), "MALFORMED",
     "has layout panel16k4 (dynamic int8), which holds only int8 weights, not f16"),
    ("panel16k4 rank 1", lambda: _k4_entry(dims=[30]), "MALFORMED", "has layout panel16k4, which needs a rank-2 int8 tensor"),
    ("panel16k4 k above the limit", lambda: _k4_entry(dims=[1, fmt.MAX_DYNAMIC_K + 1]), "MALFORMED",
     "has k = 133145, more than the limit of 133144"),
    ("panel16k4 byte size of panel16", lambda: _k4_entry(), "MALFORMED",
     "byte size is 160, but shape [5, 6] of int8 in layout panel16k4 needs 192"),
]


def _with_k4_byte(at, value):
    """A file whose fc1.weight (int8-dynamic, [5, 6]: padding rows 5–15, columns 6–7) has byte `at` of
    its values region set to `value`."""
    data = bytearray(serialize(_quantized_graph("int8-dynamic")))
    start = next(s for s in read_sections(bytes(data)) if s.kind == fmt.SECTION_DATA).offset  # fc1.weight is first
    data[start + at] = value
    return fix(bytes(data))


def _k4_entry(dtype=4, dims=(5, 6)):
    """A file whose first tensor (fc1.weight, int8 panel16 [5, 6]: 160 bytes of values and scales) is
    declared in layout panel16k4 with another dtype or shape."""
    def edit(entries, data_body):
        entries[0][1:4] = [dtype, fmt.LAYOUT_PANEL16K4, list(dims)]
        entries[0][5] = 160
    g = _quantized_graph("int8")
    base = serialize(g)
    entries, offset = [], 0
    for t in g.tensors:
        size = len(Q.encode_panel16(t.quantized)) if t.quantized is not None else t.array.nbytes
        entries.append([t.name, fmt.DTYPE_BY_NAME[t.dtype].id, t.layout, list(t.array.shape), offset, size])
        offset = fmt.align(offset + size, 64)
    edit(entries, None)
    return rebuild(base, tensors=tensors_body(entries))


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


# ---- int8-dynamic (docs/FORMAT.md "Dynamic int8") ----

def test_int8_dynamic_is_int8_in_layout_panel16k4():
    w = np.random.default_rng(2).standard_normal((20, 37)).astype(np.float32)
    a, b = Q.quantize(w, "int8"), Q.quantize(w, "int8-dynamic")
    assert b.dtype == "int8" and b.layout == fmt.LAYOUT_PANEL16K4 and b.precision == "int8-dynamic"
    assert a.precision == "int8" and a != b
    assert np.array_equal(a.values, b.values) and np.array_equal(a.scales, b.scales)
    t = Tensor("w", w).quantized_as("int8-dynamic")
    assert t.layout == fmt.LAYOUT_PANEL16K4 and t.dtype == "int8" and t.precision == "int8-dynamic"
    with pytest.raises(ConversionError, match="more than 133144"):
        Q.quantize(np.zeros((1, fmt.MAX_DYNAMIC_K + 1), np.float32), "int8-dynamic")


@pytest.mark.parametrize("n,k", SHAPES + [(1, 3), (16, 4), (17, 5), (33, 1030)])
def test_panel16k4_encoding_is_the_documented_byte_order(n, k):
    w = np.random.default_rng(n * 31 + k).standard_normal((n, k)).astype(np.float32)
    q = Q.quantize(w, "int8-dynamic")
    raw = Q.encode_panel16(q)
    p, kq = (n + 15) // 16, (k + 3) // 4
    assert len(raw) == fmt.align(p * kq * 64, 64) + p * 64 == fmt.panel16_bytes("int8", n, k, fmt.LAYOUT_PANEL16K4)[3]
    assert fmt.stored_elements(fmt.LAYOUT_PANEL16K4, [n, k]) == p * kq * 64
    values = np.frombuffer(raw, np.int8)
    for row, col in [(0, 0), (n - 1, k - 1), (n // 2, k // 3), (min(n - 1, 9), min(k - 1, 6))]:
        pp, j, qq, t = row // 16, row % 16, col // 4, col % 4
        assert values[((pp * kq + qq) * 2 + j // 8) * 32 + (j % 8) * 4 + t] == q.values[row, col]
    stored = values[:p * kq * 64].reshape(p, kq, 2, 8, 4)
    expect_zero = np.ones((p * 16, kq * 4), bool)
    expect_zero[:n, :k] = False
    assert (fmt.unpack_panel16k4(stored.reshape(-1), p * 16, kq * 4)[expect_zero] == 0).all()
    assert Q.decode_panel16("int8", raw, n, k, fmt.LAYOUT_PANEL16K4) == q
    assert Q.check_encoded("int8", raw, n, k, fmt.LAYOUT_PANEL16K4) is None


def test_writer_reader_round_trip_stamps_1_3():
    g = _quantized_graph("int8-dynamic")
    data = serialize(g)
    assert data[10] == 3, "a file with an int8-dynamic weight is format 1.3"
    back = parse(data)
    assert back.tensor_map()["fc1.weight"] == g.tensor_map()["fc1.weight"]
    assert back.tensor_map()["fc1.weight"].precision == "int8-dynamic"
    assert serialize(back) == data


def test_dynamic_rows_quantize_as_documented():
    x = np.array([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5],
                  [2.0 ** -100, -(2.0 ** -101), 0, 0, 0, 0, 0, 0],
                  [np.float32(2.0 ** -100) * np.float32(0.99999994), 1e-35, 0, 0, 0, 0, 0, 0],
                  [1, np.nan, 0, 0, 0, 0, 0, 0],
                  [-np.inf, 1, 0, 0, 0, 0, 0, 0],
                  [0, -0.0, 0, 0, 0, 0, 0, 0]], np.float32)
    q, s = Q.dynamic_quantize_rows(x)
    assert q[0].tolist() == [127, 0, 2, 2, 0, -2, -2, 126] and s[0] == np.float32(1)
    assert q[1, :2].tolist() == [127, -64] and s[1] == np.float32(2.0 ** -100) / np.float32(127)
    assert (q[2:] == 0).all() and s[2] == 0 and np.isnan(s[3]) and np.isnan(s[4]) and s[5] == 0


def _dynamic_linear_by_loops(x, q, bias):
    """The spec's steps one value at a time (np.float32 scalars; FTZ as x86 does)."""
    tiny = np.float32(2.0 ** -126)

    def ftz(v):
        return np.float32(0.0) * np.sign(v) if abs(v) < tiny else np.float32(v)
    n, k = q.values.shape
    out = np.zeros((x.shape[0], n), np.float32)
    for i, row in enumerate(x.astype(np.float32)):
        amax = max([abs(v) for v in row], default=np.float32(0))
        if not all(np.isfinite(row)):
            s, qr = np.float32(np.nan), [0] * k
        elif amax < np.float32(2.0 ** -100):
            s, qr = np.float32(0), [0] * k
        else:
            s, r = amax / np.float32(127), np.float32(127) / amax
            qr = [int(min(max(np.rint(ftz(v * r)), -127), 127)) for v in row]
        for j in range(n):
            acc = sum(qr[kk] * int(q.values[j, kk]) for kk in range(k))
            with np.errstate(invalid="ignore"):
                y = ftz(np.float32(acc) * ftz(s * q.scales[j]))
                if bias is not None:
                    y = ftz(y + bias[j])
            out[i, j] = y
    return out


def test_dynamic_linear_follows_the_spec_step_by_step():
    rng = np.random.default_rng(4)
    w = rng.standard_normal((19, 13)).astype(np.float32)
    q = Q.quantize(w, "int8-dynamic")
    x = rng.standard_normal((9, 13)).astype(np.float32) * 3
    x[1] = np.abs(x[1])
    x[2] = 0
    x[3, 4] = np.inf
    x[4] *= np.float32(1e-33)  # below 2^-100: zeros
    x[5] *= np.float32(1e-25)  # tiny scale: products flush to zero
    bias = rng.standard_normal(19).astype(np.float32)
    for b in (bias, None):
        got, expected = Q.dynamic_linear(x, q, b), _dynamic_linear_by_loops(x, q, b)
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))
    assert Q.dynamic_linear(x.reshape(3, 3, 13), q, bias).shape == (3, 3, 19)


def test_numpy_ref_and_report_use_the_dynamic_arithmetic():
    g = mlp_graph()
    chosen = precision.layer_precisions(g, "int8-dynamic", {"fc2": "f32"})
    q = precision.apply_precision(g, chosen)
    x = np.random.default_rng(5).standard_normal((16, 2, 3)).astype(np.float32)
    env = numpy_ref.run_values(q, x.astype(np.float64))
    fc1 = q.tensor_map()["fc1.weight"]
    expected = Q.dynamic_linear(x.reshape(16, 6), fc1.quantized, q.tensor_map()["fc1.bias"].array)
    assert np.array_equal(env["h1"], expected.astype(np.float64))
    report = precision.accuracy_report(g, q, chosen, x, "16 inputs")
    assert report.layers[0][:2] == ("fc1", "int8-dynamic") and 0 < report.layers[0][2] < 0.5
    assert "fc1 (int8-dynamic): max abs error" in report.text()


def test_self_test_allowance_is_zero_only_when_the_reference_is_exact():
    g = mlp_graph()
    x = np.random.default_rng(6).standard_normal((8, 2, 3))
    exact = precision.apply_precision(g, precision.layer_precisions(g, "int8-dynamic", {"fc2": "f32"}))
    assert precision.dynamic_int8_allowance(exact, x) == 0.0, "fc1 reads the graph input: exact"
    inexact = precision.apply_precision(g, precision.layer_precisions(g, "int8-dynamic"))
    allowance = precision.dynamic_int8_allowance(inexact, x)
    assert 0 < allowance < 1, "fc2 reads tanh(sigmoid(...)): a few roundings may differ"
