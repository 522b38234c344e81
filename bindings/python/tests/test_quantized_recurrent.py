"""Quantized recurrent weights (issue 18 item 4): `--quantize` also stores the W and R of
RNN/GRU/LSTM layers in the chosen precision (docs/QUANTIZATION.md "Recurrent layers"), so each
step's H·Rᵀ streams half (f16, bf16) or about a quarter (int8) of the f32 bytes.

A 2-layer GRU and a 1-layer LSTM from PyTorch (per-step logits through a Linear), converted with
each weight-only precision, run through the binding:
- against the numpy reference on the stored (dequantized) weights: max |strata − ref| ≤
  1e-5 · max(1, max |ref|), the tolerance of every reference test;
- against PyTorch f32: max |strata − torch| / max |torch| ≤ 1e-2 for f16 (test_quantized.py's f16
  bound) and bf16, 2e-2 for int8, 0.15 for int4 (measured over the 49 steps: f16 2e-4, bf16 2e-3,
  int8 4e-3, int4 7e-2; the test prints them);
- feeding the sequence in chunks of 7 through a stateful session gives bitwise one call;
- the file shrinks by the weights' share: the W, R and Linear weights stored in 2 bytes (f16,
  bf16), 1 byte plus a scale per row (int8) or half a byte (int4) instead of 4.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import assert_close_to_reference, needs_library
from strata_convert import numpy_ref, precision, torch_source
from strata_convert.errors import ConversionError
from strata_convert.reader import read_model

import strata

pytestmark = needs_library

STEPS, CHUNK, FEATURES, HIDDEN = 49, 7, 12, 32
PRECISIONS = ("f16", "bf16", "int8", "int4")
#: max |strata − torch| / max |torch| allowed per precision (module docstring).
TORCH_TOLERANCE = {"f16": 1e-2, "bf16": 1e-2, "int8": 2e-2, "int4": 0.15}
#: Least fraction of the f32 weight bytes a precision saves.
SAVED = {"f16": 0.49, "bf16": 0.49, "int8": 0.70, "int4": 0.82}


class PerStep(nn.Module):
    """forward(x) -> fc(out): a recurrent stack with per-step logits [N, T, 5]."""

    def __init__(self, cell, layers):
        super().__init__()
        self.rnn = cell(FEATURES, HIDDEN, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 5)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)


CELLS = {"gru2": (nn.GRU, 2), "lstm1": (nn.LSTM, 1)}


@pytest.fixture(scope="module", params=sorted(CELLS))
def converted(request, tmp_path_factory):
    """(module, {precision: (path, T=49 model, T=7 model)}) for one recurrent stack."""
    cell, layers = CELLS[request.param]
    torch.manual_seed(0)
    module = PerStep(cell, layers).eval()
    directory = tmp_path_factory.mktemp(request.param)
    files = {}
    for d in ("f32",) + PRECISIONS:
        models = []
        for t in (STEPS, CHUNK):
            path = directory / f"{d}_t{t}.strata"
            torch_source.save(module, torch.zeros(2, t, FEATURES), str(path), quantize=d, self_test=0, payload_sha256=False)
            models.append(strata.Model(str(path)))
        files[d] = (directory / f"{d}_t{STEPS}.strata", *models)
    yield module, files
    for _, whole, chunked in files.values():
        whole.close()
        chunked.close()


def _sequence(batch, seed=1):
    return np.random.default_rng(seed).standard_normal((batch, STEPS, FEATURES), dtype=np.float32)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_recurrent_weights_are_stored_quantized(converted, dtype):
    _, files = converted
    graph = read_model(str(files[dtype][0]))
    stored = {t.name: t.dtype for t in graph.tensors}
    recurrent = [w for n in graph.nodes if n.op in ("GRU", "LSTM") for w in n.inputs[1:3]]
    assert recurrent and all(stored[w] == dtype for w in recurrent), {w: stored[w] for w in recurrent}


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_matches_the_reference_and_pytorch(converted, dtype):
    module, files = converted
    path, whole, _ = files[dtype]
    x = _sequence(3)
    got = whole.run(x)
    assert_close_to_reference(got, numpy_ref.run(read_model(str(path)), x.astype(np.float64))[0], f"{dtype} logits")
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    relative = float(np.abs(got - expected).max() / np.abs(expected).max())
    print(f"\n{dtype}: max error against PyTorch f32 {relative:.3g} of max |output|")
    assert relative <= TORCH_TOLERANCE[dtype], f"{dtype}: relative error {relative:.3g}"


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_chunked_feeding_is_bitwise_one_call(converted, dtype):
    _, files = converted
    _, whole, chunked = files[dtype]
    x = _sequence(3)
    expected = whole.run(x)
    with chunked.session(stateful=True) as session:
        got = np.concatenate([session.run(np.ascontiguousarray(x[:, s:s + CHUNK])) for s in range(0, STEPS, CHUNK)], axis=1)
    assert np.array_equal(got, expected), f"{dtype}: max diff {np.max(np.abs(got - expected))}"


def test_file_sizes(converted):
    _, files = converted
    graph = read_model(str(files["f32"][0]))
    weight_bytes = 4 * sum(t.array.size for t in graph.tensors if t.array.ndim == 2)
    f32 = files["f32"][0].stat().st_size
    for d in PRECISIONS:
        saved = (f32 - files[d][0].stat().st_size) / weight_bytes
        print(f"\n{d}: file {files[d][0].stat().st_size:,} B of f32 {f32:,} B; saves {saved:.3f} of the weight bytes")
        assert saved >= SAVED[d], f"{d}: saves only {saved:.3f} of the {weight_bytes} weight bytes"


def test_int8_dynamic_stores_recurrent_weights_as_int8():
    torch.manual_seed(0)
    graph = torch_source.convert_module(PerStep(nn.LSTM, 1).eval(), torch.zeros(1, CHUNK, FEATURES))
    chosen = precision.layer_precisions(graph, "int8-dynamic")
    lstm = next(n for n in graph.nodes if n.op == "LSTM")
    assert [chosen[w] for w in lstm.inputs[1:3]] == ["int8", "int8"]
    assert "int8-dynamic" in chosen.values()  # the Linear keeps the dynamic arithmetic
    with pytest.raises(ConversionError, match="cannot be int8-dynamic"):
        precision.layer_precisions(graph, "f32", {lstm.inputs[2]: "int8-dynamic"})


@pytest.mark.parametrize("case", ["gru-linear-before-reset-0", "lstm-int8-dynamic"])
def test_weights_the_engine_cannot_read_are_refused(tmp_path, case):
    """A quantized R of a GRU with linear_before_reset 0 (the engine splits its rows) and a dynamic-int8
    recurrent weight (only Linear runs that arithmetic): UNSUPPORTED naming the weight, never a wrong answer."""
    import dataclasses
    from strata_convert.writer import write_model
    cell = nn.GRU if case.startswith("gru") else nn.LSTM
    torch.manual_seed(0)
    graph = torch_source.convert_module(PerStep(cell, 1).eval(), torch.zeros(1, CHUNK, FEATURES))
    node = next(n for n in graph.nodes if n.op == cell.__name__)
    if case.startswith("gru"):
        nodes = [dataclasses.replace(n, attrs={**n.attrs, "linear_before_reset": 0}) if n is node else n for n in graph.nodes]
        graph = dataclasses.replace(graph, nodes=nodes)
        assert node.inputs[2] not in precision.layer_precisions(graph, "f16")  # the converter keeps it f32
        chosen = {node.inputs[2]: "f16"}
    else:
        chosen = {node.inputs[2]: "int8-dynamic"}
    path = tmp_path / "bad.strata"
    write_model(path, precision.apply_precision(graph, chosen))
    with pytest.raises(strata.StrataError) as e:
        with strata.Model(str(path)) as model:
            model.run(np.zeros((1, CHUNK, FEATURES), np.float32))
    assert e.value.status_name == "UNSUPPORTED" and node.inputs[2] in e.value.message, str(e.value)


def test_gru_linear_before_reset_0_runs_with_quantized_w(tmp_path):
    """An ONNX-style GRU (linear_before_reset 0): `--quantize f16` stores its W in f16 and keeps R
    f32; the file runs and matches the reference on the stored weights."""
    import dataclasses
    from strata_convert.writer import write_model
    torch.manual_seed(0)
    graph = torch_source.convert_module(PerStep(nn.GRU, 1).eval(), torch.zeros(1, CHUNK, FEATURES))
    graph = dataclasses.replace(graph, nodes=[dataclasses.replace(n, attrs={**n.attrs, "linear_before_reset": 0})
                                              if n.op == "GRU" else n for n in graph.nodes])
    gru = next(n for n in graph.nodes if n.op == "GRU")
    quantized = precision.apply_precision(graph, precision.layer_precisions(graph, "f16"))
    stored = {t.name: t.dtype for t in quantized.tensors}
    assert (stored[gru.inputs[1]], stored[gru.inputs[2]]) == ("f16", "f32")
    path = tmp_path / "gru_lbr0.strata"
    write_model(path, quantized)
    x = np.random.default_rng(2).standard_normal((3, CHUNK, FEATURES), dtype=np.float32)
    with strata.Model(str(path)) as model:
        got = model.run(x)
    assert_close_to_reference(got, numpy_ref.run(quantized, x.astype(np.float64))[0], "linear_before_reset 0 logits")
