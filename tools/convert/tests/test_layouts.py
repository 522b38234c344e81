"""Tensor layouts: panel16 packing is exact and invertible, written for Linear weights only,
and read back to the same logical values (docs/FORMAT.md, "Tensor layouts")."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from strata_convert import format as fmt
from strata_convert import reader, torch_source, writer
from strata_convert.errors import FormatError
from strata_convert.ir import Graph, Node, Tensor, ValueInfo


@pytest.mark.parametrize("n,k", [(1, 1), (3, 4), (16, 5), (17, 3), (128, 784), (10, 64)])
def test_pack_then_unpack_is_identity_and_layout_matches_spec(n, k):
    w = np.random.default_rng(n * 1000 + k).standard_normal((n, k)).astype(np.float32)
    packed = fmt.pack_panel16(w)
    assert packed.shape == (fmt.stored_elements(fmt.LAYOUT_PANEL16, [n, k]),)
    assert np.array_equal(fmt.unpack_panel16(packed, n, k), w)
    for row, kk in [(0, 0), (n - 1, k - 1), (n // 2, k // 2)]:
        assert packed[(row // 16) * k * 16 + kk * 16 + row % 16] == w[row, kk]
    padding_rows = (n + 15) // 16 * 16 - n
    assert np.count_nonzero(packed.reshape(-1, k, 16)[-1, :, 16 - padding_rows:]) == 0


def test_stored_elements_refuses_shapes_a_layout_cannot_hold():
    assert fmt.stored_elements(fmt.LAYOUT_ROW_MAJOR, [3, 5]) == 15
    assert fmt.stored_elements(fmt.LAYOUT_PANEL16, [17, 5]) == 160
    assert fmt.stored_elements(fmt.LAYOUT_PANEL16, [5]) is None
    assert fmt.stored_elements(7, [5]) is None


def test_converter_packs_linear_weights_only_and_round_trips(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(20, 17), nn.ReLU(), nn.Linear(17, 3)).eval()
    path = tmp_path / "m.strata"
    torch_source.save(model, torch.zeros(1, 20), path)
    graph = reader.read_model(path)
    layouts = {t.name: t.layout for t in graph.tensors}
    assert [layouts[name] for name in sorted(layouts)] == [0, 1, 0, 1]  # biases row-major, weights packed
    weights = {t.name: t.array for t in graph.tensors}
    assert np.array_equal(weights[sorted(weights)[1]], model[1].weight.detach().numpy())


def test_a_tensor_shared_with_another_op_stays_row_major():
    w = np.ones((4, 4), np.float32)
    g = Graph([ValueInfo("x", "f32", [-1, 4])], [ValueInfo("z", "f32", [-1, 4])],
              [Node("Linear", "fc", ["x", "W", ""], ["y"]), Node("Add", "add", ["y", "W2"], ["z"])],
              [Tensor("W", w), Tensor("W2", w)])
    from strata_convert.builder import pack_linear_weights
    pack_linear_weights(g)
    assert [t.layout for t in g.tensors] == [fmt.LAYOUT_PANEL16, fmt.LAYOUT_ROW_MAJOR]


def test_writer_refuses_panel16_on_a_vector():
    g = Graph([ValueInfo("x", "f32", [-1, 4])], [ValueInfo("y", "f32", [-1, 4])],
              [Node("Add", "add", ["x", "b"], ["y"])], [Tensor("b", np.ones(4, np.float32), fmt.LAYOUT_PANEL16)])
    with pytest.raises(FormatError) as e:
        writer.serialize(g)
    assert e.value.status == "MALFORMED" and "needs a rank-2 tensor" in e.value.message
