"""Shared test helpers: the library check and the PyTorch comparison (byte surgery lives in
surgery.py and is re-exported here)."""
import os
import tempfile

import numpy as np
import pytest
import torch
from strata_convert import torch_source

import strata
from strata import _lib
from surgery import (HEADER_SIZE, SECTION_DATA, data_section_offset, flip_byte,  # noqa: F401
                     mutations, sections, with_header_field)

LIBRARY = _lib.find()
needs_library = pytest.mark.skipif(
    LIBRARY is None,
    reason=f"libstrata is not built yet (looked in {', '.join(_lib.candidates())}); "
           "build it with `make lib` at the repository root",
)

BATCH_SIZES = (1, 2, 7, 64, 257)


def batches(sample_shape, sizes=BATCH_SIZES, seed=0):
    """One standard-normal float32 batch per size, of shape (size, *sample_shape)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, *sample_shape), dtype=np.float32) for n in sizes]


def convert(module, example_input, path, class_labels=None):
    """Writes module to path with strata_convert; returns path."""
    module.eval()
    if isinstance(example_input, np.ndarray):
        example_input = torch.from_numpy(example_input)
    torch_source.save(module, example_input, str(path), class_labels=class_labels, self_test=0, payload_sha256=False)
    return path


def torch_run(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()


def assert_close_to_reference(got, expected, what="output"):
    """max |got - expected| <= 1e-5 * max(1, max |expected|), and the same argmax per row."""
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    assert got.dtype == np.float32
    tolerance = 1e-5 * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    error = float(np.max(np.abs(got.astype(np.float64) - expected))) if got.size else 0.0
    assert error <= tolerance, f"{what}: max abs error {error:.3g} > {tolerance:.3g}"
    rows = len(expected) if expected.ndim > 1 else 1
    got_class = got.reshape(rows, -1).argmax(axis=1)
    expected_class = expected.reshape(rows, -1).argmax(axis=1)
    mismatched = np.flatnonzero(got_class != expected_class)
    assert mismatched.size == 0, f"{what}: argmax differs in rows {mismatched[:10].tolist()}"


def assert_matches_torch(module, example_input, inputs, class_labels=None):
    """Converts module, loads it with strata.Model, runs every batch of `inputs` and compares
    with PyTorch (see assert_close_to_reference). Returns the Strata outputs."""
    module.eval()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        path = convert(module, example_input, os.path.join(directory, "model.strata"), class_labels)
        with strata.Model(path) as model:
            for x in inputs:
                got = model.run(x)
                assert_close_to_reference(got, torch_run(module, x), f"batch of {len(x)}")
                results.append(got)
    return results



def assert_batch_position_independent(model, x, positions=(0, 5, 32)):
    """Each sample of `x` at `positions`, run alone, gives bitwise its output in the whole batch."""
    whole = model.run(x)
    for i in positions:
        assert np.array_equal(model.run(x[i:i + 1])[0], whole[i]), f"sample {i} alone differs from in the batch"


def fused_and_unfused_runs(act, x):
    """[(Strata output, PyTorch output)] for `models.LinearThen(act)` with the activation fused into
    the Linear's epilogue, then with it as a separate step (the Linear's output kept as a second
    graph output), on the [N, 20] input `x`."""
    from models import LinearThen
    from strata_convert.writer import serialize

    runs = []
    for keep in (False, True):
        module = LinearThen(act, keep).eval()
        graph = torch_source.convert_module(module, torch.zeros((1, 20)))
        with strata.Model.from_bytes(serialize(graph)) as m:
            out = m.run(x) if not keep else list(m.run_all(x).values())[0]
        ref = torch_run(module, x) if not keep else torch_run(lambda t: module(t)[0], x)
        runs.append((out, ref))
    return runs


def graph_by_route(module, sample_shape, route):
    """Converts `module` (eval mode) for samples of `sample_shape` by one route: "fx" (torch.fx),
    "script" or "trace" (TorchScript), "onnx" (exported with a dynamic batch) or "onnx-fixed-batch"
    (exported at batch 1, as `torch.onnx.export` does by default). Returns the strata graph."""
    import io

    from strata_convert.onnx_source import convert_onnx
    from strata_convert.torchscript_source import convert_torchscript

    example = torch.zeros((1, *sample_shape))
    if route == "fx":
        return torch_source.convert_module(module, example)
    if route == "script":
        return convert_torchscript(torch.jit.script(module), example)
    if route == "trace":
        return convert_torchscript(torch.jit.trace(module, torch.randn((2, *sample_shape))), example)
    if route not in ("onnx", "onnx-fixed-batch"):
        raise ValueError(f"unknown route {route!r}")
    import onnx
    f = io.BytesIO()
    dynamic = route == "onnx"
    torch.onnx.export(module, (torch.randn((2 if dynamic else 1, *sample_shape)),), f, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}} if dynamic else None)
    return convert_onnx(onnx.load_from_string(f.getvalue()))
