"""The residual fusion: a Conv followed by an Add of a same-shaped value (a ResNet block's
`Conv → Add(skip) → Relu`) runs as one step `Conv+Add+Relu` whose epilogue adds the skip value;
it must match PyTorch, give the same bits as the unfused plan, and not depend on the batch
position or the thread count."""
import ctypes

import numpy as np
import pytest
import torch
from helpers import assert_batch_position_independent, assert_close_to_reference, batches, needs_library, torch_run
from strata_convert import torch_source
from strata_convert.writer import serialize
from torch import nn

import strata

pytestmark = needs_library


class Block(nn.Module):
    """conv1 → relu → conv2, plus the input (`identity`) or a strided 1×1 conv of it
    (`downsample`: the Add's second operand is the Conv right before it); then relu. With
    `keep`, conv2's output (and the downsample's) are also graph outputs, so the Add cannot fuse."""

    def __init__(self, shortcut, keep=False):
        super().__init__()
        torch.manual_seed(3)
        stride, c_out = (2, 12) if shortcut == "downsample" else (1, 6)
        self.conv1 = nn.Conv2d(6, c_out, 3, stride, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.down = nn.Conv2d(6, c_out, 1, stride) if shortcut == "downsample" else None
        self.keep = keep

    def forward(self, x):
        h = self.conv2(torch.relu(self.conv1(x)))
        skip = self.down(x) if self.down is not None else x
        y = torch.relu(h + skip)
        if not self.keep:
            return y
        return (y, h, skip) if self.down is not None else (y, h)


def _model(shortcut, keep=False):
    module = Block(shortcut, keep).eval()
    graph = torch_source.convert_module(module, torch.zeros((1, 6, 11, 13)))
    return module, strata.Model.from_bytes(serialize(graph))


def _step_names(session):
    lib = session._lib_
    names = []
    for i in range(lib.strata_session_n_steps(session._handle)):
        name = ctypes.c_char_p()
        assert lib.strata_session_profile_step(session._handle, i, ctypes.byref(name), None, None) == 0
        names.append(name.value.decode())
    return names


@pytest.mark.parametrize("shortcut", ["identity", "downsample"])
def test_fused_step_matches_pytorch_and_the_unfused_plan_bit_for_bit(shortcut):
    module, fused = _model(shortcut)
    _, unfused = _model(shortcut, keep=True)
    with fused, unfused, fused.session() as s, unfused.session() as u:
        kinds = [n.split(" ")[0] for n in _step_names(s)]
        assert "Conv+Add+Relu" in kinds, kinds
        assert not any(n.startswith("Conv+Add") for n in _step_names(u))
        for x in batches((6, 11, 13), sizes=(1, 2, 7, 33)):
            got = s.run(x)
            assert_close_to_reference(got, torch_run(module, x), f"batch of {len(x)}")
            assert np.array_equal(got, list(unfused.run_all(x).values())[0]), "fused and unfused plans differ"


@pytest.mark.parametrize("shortcut", ["identity", "downsample"])
def test_fused_step_does_not_depend_on_batch_position_or_threads(shortcut):
    _, model = _model(shortcut)
    x = batches((6, 11, 13), sizes=(40,), seed=5)[0]
    with model:
        assert_batch_position_independent(model, x)
        with model.session(n_threads=1) as one, model.session(n_threads=2) as two:
            assert np.array_equal(one.run(x), two.run(x))
