"""PyTorch's default ONNX exporter (torch.onnx.export(..., dynamo=True)) needs onnxscript, which the
converter's `onnx` extra and tools/requirements.txt pin (0.7.2): its output converts and matches."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")
import torch.nn as nn  # noqa: E402

from strata_convert import numpy_ref  # noqa: E402
from strata_convert.onnx_source import convert_onnx, load_onnx  # noqa: E402


def test_dynamo_export_converts(tmp_path):
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    path = tmp_path / "dynamo.onnx"
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.onnx.export(module, (torch.zeros(2, 6),), str(path), dynamo=True, external_data=False,
                      dynamic_shapes=({0: batch},))
    graph = convert_onnx(load_onnx(str(path)))
    assert graph.inputs[0].dims == [-1, 6] and graph.outputs[0].dims == [-1, 3]
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    (got,) = numpy_ref.run(graph, {graph.inputs[0].name: x.astype(np.float64)})
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
