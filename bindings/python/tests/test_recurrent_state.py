"""Explicit recurrent state (issue 18): models whose state tensors are inputs and outputs —
``forward(x, h) -> (per-step logits, h_new)`` with ``nn.GRU(batch_first=True)``, ``(x, (h, c))``
with LSTM, RNN, several layers, bidirectional — convert from torch.fx with the batch of the state
in dim 1 recorded in the file (format 1.5: ``h`` is ``[layers, -1, hidden]``), and match PyTorch.

Tolerance: max |strata − torch| ≤ 1e-5 · max(1, max |torch|) per output. Exact properties: a
sample's outputs do not depend on its batch or position (bitwise), and feeding a sequence in
chunks, passing h_new back as h, gives bitwise one call over the whole sequence.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import needs_library
from strata_convert import torch_source
from strata_convert.reader import read_model

import strata

pytestmark = needs_library

FEATURES, HIDDEN, STEPS = 10, 16, 21


class WithState(nn.Module):
    """forward(x, h) -> (fc(out), h_n): PyTorch's own state layout [L·D, N, H]."""

    lstm = False

    def __init__(self, cell, layers, bidirectional=False):
        super().__init__()
        self.rnn = cell(FEATURES, HIDDEN, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(HIDDEN * (2 if bidirectional else 1), 4)

    def forward(self, x, h):
        out, h_n = self.rnn(x, h)
        return self.fc(out), h_n


class WithLSTMState(WithState):
    """forward(x, h, c) -> (fc(out), h_n, c_n)."""

    lstm = True

    def forward(self, x, h, c):
        out, (h_n, c_n) = self.rnn(x, (h, c))
        return self.fc(out), h_n, c_n


def _module(cell, layers, bidirectional=False):
    return (WithLSTMState if cell is nn.LSTM else WithState)(cell, layers, bidirectional).eval()


CASES = {"gru2": (nn.GRU, 2, False), "lstm2": (nn.LSTM, 2, False), "rnn1": (nn.RNN, 1, False),
         "gru2-bidirectional": (nn.GRU, 2, True), "lstm1-bidirectional": (nn.LSTM, 1, True)}


def _inputs(module, batch, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    rows = module.rnn.num_layers * (2 if module.rnn.bidirectional else 1)
    x = rng.standard_normal((batch, steps, FEATURES), dtype=np.float32)
    states = [rng.standard_normal((rows, batch, HIDDEN), dtype=np.float32) for _ in range(2 if module.lstm else 1)]
    return [x, *states]


def _torch(module, arrays):
    with torch.no_grad():
        return [y.numpy() for y in module(*[torch.from_numpy(a) for a in arrays])]


def _convert(module, path, steps=STEPS):
    torch_source.save(module, tuple(torch.from_numpy(a) for a in _inputs(module, 2, steps)), str(path))
    return strata.Model(str(path))


def _run(model, arrays):
    return list(model.run(dict(zip([i.name for i in model.inputs], arrays))).values())


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, tmp_path_factory):
    cell, layers, bidirectional = CASES[request.param]
    torch.manual_seed(0)
    module = _module(cell, layers, bidirectional)
    path = tmp_path_factory.mktemp("state") / f"{request.param}.strata"
    with _convert(module, path) as model:
        yield request.param, module, model, path


def test_file_records_the_state_batch_dim(case):
    name, module, model, path = case
    rows = module.rnn.num_layers * (2 if module.rnn.bidirectional else 1)
    shapes = {i.name: i.shape for i in model.inputs}
    assert shapes["x"] == (None, STEPS, FEATURES)
    assert shapes["h"] == (rows, None, HIDDEN)
    assert [o.shape for o in model.outputs][1:] == [(rows, None, HIDDEN)] * (2 if module.lstm else 1)
    assert path.read_bytes()[8:12] == b"\x01\x00\x05\x00"  # format 1.5
    assert read_model(path).inputs[1].dims == [rows, -1, HIDDEN]


@pytest.mark.parametrize("batch", [1, 3])
def test_matches_pytorch(case, batch):
    name, module, model, _ = case
    arrays = _inputs(module, batch, seed=batch)
    for got, want, what in zip(_run(model, arrays), _torch(module, arrays), ["out", "h_n", "c_n"]):
        assert got.shape == want.shape, what
        tolerance = 1e-5 * max(1.0, float(np.abs(want).max()))
        assert float(np.abs(got - want).max()) <= tolerance, f"{name} {what}"


def test_embedded_self_test_passes(case):
    _, _, model, _ = case
    result = model.self_test()
    assert result["passed"] and result["n_samples"] == 4, result


def test_a_sample_does_not_depend_on_its_batch(case):
    _, module, model, _ = case
    arrays = _inputs(module, 5, seed=7)
    together = _run(model, arrays)
    for n in (0, 3):
        alone = _run(model, [arrays[0][n:n + 1]] + [s[:, n:n + 1] for s in arrays[1:]])
        assert np.array_equal(alone[0], together[0][n:n + 1])
        for a, t in zip(alone[1:], together[1:]):
            assert np.array_equal(a, t[:, n:n + 1])


def test_chunks_with_the_state_passed_back_are_bitwise_one_call(tmp_path):
    torch.manual_seed(1)
    for cell in (nn.GRU, nn.LSTM):
        module = _module(cell, 2)
        with _convert(module, tmp_path / "whole.strata") as whole, _convert(module, tmp_path / "chunk.strata", 7) as chunk:
            arrays = _inputs(module, 3)
            expected = _run(whole, arrays)
            states, parts = arrays[1:], []
            for s in range(0, STEPS, 7):
                y, *states = _run(chunk, [np.ascontiguousarray(arrays[0][:, s:s + 7])] + states)
                parts.append(y)
            assert np.array_equal(np.concatenate(parts, axis=1), expected[0])
            for got, want in zip(states, expected[1:]):
                assert np.array_equal(got, want)


def test_wrong_state_shapes_are_refused(case):
    _, module, model, _ = case
    x, h, *rest = _inputs(module, 2)
    with pytest.raises(strata.StrataError) as e:
        _run(model, [x, h[:, :1]] + rest)  # h of batch 1 with x of batch 2
    assert e.value.status_name == "SHAPE_MISMATCH" and "'h'" in str(e.value)


def test_a_bidirectional_model_cannot_stream(case):
    name, _, model, _ = case
    if "bidirectional" not in name:
        with model.session(stateful=True) as session:
            assert session.stateful
        return
    with pytest.raises(strata.StrataError) as e:
        model.session(stateful=True)
    assert e.value.status_name == "UNSUPPORTED" and "backwards in time" in str(e.value)


# ---- ONNX: initial_h / initial_c inputs and Y_h / Y_c outputs ------------------------------------
def _onnx(module, arrays):
    import io

    import onnx
    from strata_convert.onnx_source import convert_onnx
    from strata_convert.writer import serialize

    names = ["x", "h", "c"][:len(arrays)]
    outs = ["y", "h_new", "c_new"][:len(arrays)]
    axes = {n: {0 if n == "x" else 1: "N"} for n in names} | {o: {0 if o == "y" else 1: "N"} for o in outs}
    f = io.BytesIO()
    torch.onnx.export(module, tuple(torch.from_numpy(a) for a in arrays), f, input_names=names, output_names=outs,
                      dynamic_axes=axes, dynamo=False)
    return strata.Model.from_bytes(serialize(convert_onnx(onnx.load_from_string(f.getvalue()))))


@pytest.mark.parametrize("cell", [nn.GRU, nn.LSTM, nn.RNN], ids=["gru", "lstm", "rnn"])
def test_onnx_state_inputs_and_outputs(cell):
    """A 2-layer export: h [2, N, H] is sliced per layer into initial_h, the Y_h are concatenated
    into h_new; both keep ONNX's layout with the batch in dim 1 (format 1.5)."""
    torch.manual_seed(2)
    module = _module(cell, 2)
    with _onnx(module, _inputs(module, 2)) as model:
        assert [i.shape for i in model.inputs][1:] == [(2, None, HIDDEN)] * (2 if module.lstm else 1)
        assert [o.shape for o in model.outputs][1:] == [(2, None, HIDDEN)] * (2 if module.lstm else 1)
        for batch in (1, 3):
            arrays = _inputs(module, batch, seed=batch)
            for got, want in zip(_run(model, arrays), _torch(module, arrays)):
                assert got.shape == want.shape
                assert float(np.abs(got - want).max()) <= 1e-5 * max(1.0, float(np.abs(want).max()))


def test_onnx_one_layer_state_is_declared_batch_first():
    """A 1-layer export feeds h [1, N, H] straight to the GRU: as before 1.5, the file declares it
    (and Y_h) batch-first [N, H]."""
    torch.manual_seed(3)
    module = _module(nn.GRU, 1)
    arrays = _inputs(module, 3)
    with _onnx(module, arrays) as model:
        assert [i.shape for i in model.inputs] == [(None, STEPS, FEATURES), (None, HIDDEN)]
        got = _run(model, [arrays[0], arrays[1][0]])
        want = _torch(module, arrays)
        assert float(np.abs(got[0] - want[0]).max()) <= 1e-5 * max(1.0, float(np.abs(want[0]).max()))
        assert float(np.abs(got[1] - want[1][0]).max()) <= 1e-5


# ---- TorchScript files ---------------------------------------------------------------------------
def _torchscript_model(module, arrays, path):
    from strata_convert.torchscript_source import convert_torchscript
    from strata_convert.writer import serialize

    example = tuple(torch.from_numpy(a) for a in arrays)
    torch.jit.save(torch.jit.trace(module, example), str(path))  # a TorchScript file, loaded back
    return strata.Model.from_bytes(serialize(convert_torchscript(torch.jit.load(str(path)), example)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_torchscript_file_with_state(name, tmp_path):
    cell, layers, bidirectional = CASES[name]
    torch.manual_seed(4)
    module = _module(cell, layers, bidirectional)
    with _torchscript_model(module, _inputs(module, 2), tmp_path / "m.pt") as model:
        rows = layers * (2 if bidirectional else 1)
        assert [i.shape for i in model.inputs][1:] == [(rows, None, HIDDEN)] * (2 if module.lstm else 1)
        for batch in (1, 3):
            arrays = _inputs(module, batch, seed=batch)
            for got, want in zip(_run(model, arrays), _torch(module, arrays)):
                assert got.shape == want.shape
                assert float(np.abs(got - want).max()) <= 1e-5 * max(1.0, float(np.abs(want).max()))


class LastStep(nn.Module):
    """A classifier on the last step, no state argument (TorchScript traces zeros for it)."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(FEATURES, HIDDEN, num_layers=2, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 4)

    def forward(self, x):
        out, state = self.rnn(x)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        return self.fc(out[:, -1]), h_n


@pytest.mark.parametrize("cell", [nn.GRU, nn.LSTM], ids=["gru", "lstm"])
def test_torchscript_file_without_state(cell, tmp_path):
    torch.manual_seed(5)
    module = LastStep(cell).eval()
    x = np.random.default_rng(0).standard_normal((3, STEPS, FEATURES), dtype=np.float32)
    with _torchscript_model(module, [x], tmp_path / "m.pt") as model:
        got = _run(model, [x])
        with torch.no_grad():
            want = module(torch.from_numpy(x))
        want = [w.numpy() for w in want]
        assert [o.shape for o in model.outputs] == [(None, 4), (2, None, HIDDEN)]
        for g, w in zip(got, want):
            assert float(np.abs(g - w).max()) <= 1e-5 * max(1.0, float(np.abs(w).max()))


# ---- the format rule: the batch outside dim 0 is 1.5 only, and exactly one dim is -1 ------------
def test_batch_dim_rules_of_the_reader(tmp_path):
    from strata_convert.ir import ValueInfo
    from strata_convert.reader import parse
    from strata_convert.writer import serialize
    from surgery import with_header_field

    torch.manual_seed(6)
    module = _module(nn.GRU, 2)
    graph = torch_source.convert_module(module, tuple(torch.from_numpy(a) for a in _inputs(module, 2)))
    data = serialize(graph)
    assert data[10] == 5
    old = with_header_field(data, 10, b"\x04\x00")  # the same file stamped 1.4
    with pytest.raises(strata.StrataError) as e:
        strata.Model.from_bytes(old)
    assert e.value.status_name == "MALFORMED" and "graph input 'h' dim 0 is 2; it must be -1" in str(e.value)
    with pytest.raises(Exception, match="dim 0 is 2; it must be -1"):
        parse(old)
    graph.inputs[1] = ValueInfo("h", "f32", [-1, -1, HIDDEN])  # two batch dims
    with pytest.raises(strata.StrataError) as e:
        strata.Model.from_bytes(with_header_field(serialize(graph, validate=False), 10, b"\x05\x00"))
    assert e.value.status_name == "MALFORMED" and "more than one dim -1" in str(e.value)
