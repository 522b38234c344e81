"""Models with several graph inputs or outputs through `strata_session_run_multi` and the
binding's `run_all` (format 1.2 graphs are DAGs of named values): a two-input model with two
outputs from PyTorch, and an ONNX LSTM returning Y, Y_h and Y_c — compared with PyTorch / ONNX
Runtime-free numpy references — plus the C call's argument checks, one test per case."""
import ctypes

import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import needs_library
from strata_convert.torch_source import convert_module
from strata_convert.writer import serialize

import strata
from strata import _lib

pytestmark = needs_library


class TwoInTwoOut(nn.Module):
    """y = relu(fa(a)) * fb(b) + c, z = softmax(fa(a) - b-projection): two inputs, two outputs."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fa = nn.Linear(12, 8)
        self.fb = nn.Linear(5, 8)

    def forward(self, a, b):
        ha, hb = self.fa(a), self.fb(b)
        return torch.relu(ha) * hb, torch.softmax(ha - hb, dim=-1)


@pytest.fixture(scope="module")
def two():
    m = TwoInTwoOut().eval()
    graph = convert_module(m, (torch.zeros(1, 12), torch.zeros(1, 5)))
    model = strata.Model.from_bytes(serialize(graph))
    yield m, model
    model.close()


def _torch(m, a, b):
    with torch.no_grad():
        y, z = m(torch.from_numpy(a), torch.from_numpy(b))
    return y.numpy(), z.numpy()


def test_two_inputs_two_outputs_match_pytorch(two):
    m, model = two
    rng = np.random.default_rng(1)
    a = rng.standard_normal((7, 12), dtype=np.float32)
    b = rng.standard_normal((7, 5), dtype=np.float32)
    names = [t.name for t in model.outputs]
    assert len(model.inputs) == 2 and len(names) == 2
    out = model.run_all([a, b])
    assert list(out) == names
    y, z = _torch(m, a, b)
    np.testing.assert_allclose(out[names[0]], y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[names[1]], z, rtol=1e-5, atol=1e-6)
    # by name, through run(), and through a separate session: the same bits
    by_name = model.run_all({model.inputs[0].name: a, model.inputs[1].name: b})
    via_run = model.run((a, b))
    with model.session() as s:
        via_session = s.run_all([a, b])
    for other in (by_name, via_run, via_session):
        for k in names:
            assert np.array_equal(other[k], out[k])


def test_one_sample_without_batch_dimension(two):
    m, model = two
    rng = np.random.default_rng(2)
    a = rng.standard_normal(12, dtype=np.float32)
    b = rng.standard_normal(5, dtype=np.float32)
    out = model.run_all([a, b])
    y, _ = _torch(m, a[None], b[None])
    first = out[model.outputs[0].name]
    assert first.shape == (8,)
    np.testing.assert_allclose(first, y[0], rtol=1e-5, atol=1e-5)


def test_each_sample_is_independent_of_the_batch(two):
    _, model = two
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 12), dtype=np.float32)
    b = rng.standard_normal((9, 5), dtype=np.float32)
    full = model.run_all([a, b])
    for i in (0, 4, 8):
        one = model.run_all([a[i:i + 1], b[i:i + 1]])
        for k in full:
            assert np.array_equal(one[k][0], full[k][i])


@pytest.mark.parametrize("inputs, status, fragment", [
    (lambda a, b: [a], "INVALID_ARGUMENT", "got 1 input array(s)"),
    (lambda a, b: {"nope": a}, "INVALID_ARGUMENT", "unknown ['nope']"),
    (lambda a, b: [a, b[:3]], "SHAPE_MISMATCH", "same N for every input"),
    (lambda a, b: [a, b[:, :4]], "SHAPE_MISMATCH", "input"),
    (lambda a, b: [a, np.array([["x"] * 5] * 4)], "INVALID_ARGUMENT", "not a real number type"),
])
def test_binding_checks(two, inputs, status, fragment):
    _, model = two
    a = np.zeros((4, 12), np.float32)
    b = np.zeros((4, 5), np.float32)
    with pytest.raises(strata.StrataError) as e:
        model.run_all(inputs(a, b))
    assert e.value.status_name == status and fragment in e.value.message


def test_out_argument_is_refused_for_multi_output_models(two):
    _, model = two
    with pytest.raises(strata.StrataError, match="out= is for models with one input"):
        model.run((np.zeros((1, 12), np.float32), np.zeros((1, 5), np.float32)), out=np.zeros((1, 8), np.float32))


# ---- the C call's own checks (what a C caller sees) --------------------------------------

class _Call:
    def __init__(self, model, batch=2):
        self.lib = _lib.load()
        self.session = _lib.session_p()
        assert self.lib.strata_session_create(model._handle, None, ctypes.byref(self.session)) == 0
        self.batch = batch
        self.a = np.zeros((batch, 12), np.float32)
        self.b = np.zeros((batch, 5), np.float32)
        self.y = np.zeros((batch, 8), np.float32)
        self.z = np.zeros((batch, 8), np.float32)
        fp = lambda x: x.ctypes.data_as(_lib.float_p)
        self.ins = (_lib.float_p * 2)(fp(self.a), fp(self.b))
        self.in_counts = (ctypes.c_size_t * 2)(self.a.size, self.b.size)
        self.outs = (_lib.float_p * 2)(fp(self.y), fp(self.z))
        self.out_counts = (ctypes.c_size_t * 2)(self.y.size, self.z.size)

    def __call__(self, **kw):
        args = dict(session=self.session, batch=self.batch, ins=self.ins, in_counts=self.in_counts, n_in=2,
                    outs=self.outs, out_counts=self.out_counts, n_out=2)
        args.update(kw)
        status = self.lib.strata_session_run_multi(*args.values())
        return _lib.STATUS_NAMES.get(status, status), self.lib.strata_last_error().decode()

    def close(self):
        self.lib.strata_session_free(self.session)


@pytest.mark.parametrize("change, status, fragment", [
    (dict(session=None), "NULL_POINTER", "'session'"),
    (dict(ins=None), "NULL_POINTER", "'inputs'"),
    (dict(in_counts=None), "NULL_POINTER", "'input_counts'"),
    (dict(outs=None), "NULL_POINTER", "'outputs'"),
    (dict(out_counts=None), "NULL_POINTER", "'output_counts'"),
    (dict(n_in=1), "INVALID_ARGUMENT", "n_inputs is 1"),
    (dict(n_out=3), "INVALID_ARGUMENT", "n_outputs 3"),
    (dict(batch=0), "INVALID_ARGUMENT", "batch is 0"),
    (dict(batch=-5), "INVALID_ARGUMENT", "batch is -5"),
    (dict(batch=2**40), "INVALID_ARGUMENT", "too large"),
    (dict(ins="null-second"), "NULL_POINTER", "inputs[1]"),
    (dict(outs="null-first"), "NULL_POINTER", "outputs[0]"),
    (dict(in_counts="short"), "SHAPE_MISMATCH", "input_counts[1] is 9"),
    (dict(out_counts="short"), "BUFFER_TOO_SMALL", "output_counts[1] is 15"),
])
def test_c_call_checks(two, change, status, fragment):
    _, model = two
    call = _Call(model)
    try:
        for key, value in list(change.items()):
            if value == "null-second":
                change[key] = (_lib.float_p * 2)(call.ins[0], _lib.float_p())
            elif value == "null-first":
                change[key] = (_lib.float_p * 2)(_lib.float_p(), call.outs[1])
            elif value == "short" and key == "in_counts":
                change[key] = (ctypes.c_size_t * 2)(call.a.size, 9)
            elif value == "short":
                change[key] = (ctypes.c_size_t * 2)(call.y.size, 15)
        call.y[:] = 7
        got, message = call(**change)
        assert got == status and fragment in message, (got, message)
        assert (call.y == 7).all()  # nothing written on failure
        assert call()[0] == "OK"  # and the session stays usable
    finally:
        call.close()


def test_single_run_refuses_a_multi_io_model_and_points_to_run_multi(two):
    _, model = two
    call = _Call(model)
    try:
        status = call.lib.strata_session_run(call.session, 2, call.a.ctypes.data_as(_lib.float_p), call.a.size,
                                             call.y.ctypes.data_as(_lib.float_p), call.y.size)
        assert _lib.STATUS_NAMES[status] == "UNSUPPORTED"
        message = call.lib.strata_last_error().decode()
        assert "exactly one of each" in message and "strata_session_run_multi" in message
    finally:
        call.close()


# ---- a recurrent node with three outputs, from ONNX --------------------------------------

def test_onnx_lstm_returns_y_yh_yc():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    from strata_convert.onnx_source import convert_onnx
    rng = np.random.default_rng(4)
    T, I, H = 5, 3, 4
    W = rng.standard_normal((1, 4 * H, I)).astype(np.float32) * 0.5
    R = rng.standard_normal((1, 4 * H, H)).astype(np.float32) * 0.5
    B = rng.standard_normal((1, 8 * H)).astype(np.float32) * 0.1
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"], hidden_size=H, layout=1)
    graph = helper.make_graph(
        [node], "lstm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", T, I])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", T, 1, H]),
         helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, ["N", 1, H]),
         helper.make_tensor_value_info("Y_c", TensorProto.FLOAT, ["N", 1, H])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R"), numpy_helper.from_array(B, "B")])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model = strata.Model.from_bytes(serialize(convert_onnx(proto)))
    x = rng.standard_normal((6, T, I)).astype(np.float32)
    out = model.run_all(x)
    assert len(out) == 3
    # numpy LSTM, ONNX gate order i, o, f, c
    sig = lambda v: 1 / (1 + np.exp(-v))
    h = np.zeros((6, H), np.float64); c = np.zeros((6, H), np.float64)
    ys = []
    for t in range(T):
        g = x[:, t].astype(np.float64) @ W[0].T + h @ R[0].T + B[0, :4 * H] + B[0, 4 * H:]
        i, o, f, cc = (g[:, k * H:(k + 1) * H] for k in range(4))
        c = sig(f) * c + sig(i) * np.tanh(cc)
        h = sig(o) * np.tanh(c)
        ys.append(h)
    values = list(out.values())
    np.testing.assert_allclose(values[0].reshape(6, T, H), np.stack(ys, 1), atol=1e-5)
    np.testing.assert_allclose(values[1].reshape(6, H), h, atol=1e-5)
    np.testing.assert_allclose(values[2].reshape(6, H), c, atol=1e-5)
    model.close()
