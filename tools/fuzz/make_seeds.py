"""Writes converter-made seed files for the fuzz corpus: the converter tests' every-op graph,
PyTorch MLPs converted with `torch_source` (with and without self-test data and payload hash),
and a file with an unknown optional section.

    PYTHONPATH=tools/convert python tools/fuzz/make_seeds.py OUT_DIR
"""
import os
import sys

import numpy as np

from strata_convert import format as fmt
from strata_convert.ir import Graph, Node, Tensor, ValueInfo
from strata_convert.writer import assemble, serialize, write_bytes


def every_op_graph() -> Graph:
    """The converter tests' small graph that uses every op (tests/helpers.py mlp_graph)."""
    rng = np.random.default_rng(0)
    return Graph(
        inputs=[ValueInfo("x", "f32", [-1, 2, 3])],
        outputs=[ValueInfo("probs", "f32", [-1, 4]), ValueInfo("logp", "f32", [-1, 4])],
        nodes=[
            Node("Flatten", "flat", ["x"], ["h0"], {"axis": 1}),
            Node("Linear", "fc1", ["h0", "fc1.weight", "fc1.bias"], ["h1"]),
            Node("Relu", "relu", ["h1"], ["h2"]),
            Node("Add", "res", ["h2", "h1"], ["h3"]),
            Node("Add", "shift", ["h3", "shift"], ["h4"]),
            Node("Sigmoid", "sig", ["h4"], ["h5"]),
            Node("Tanh", "tanh", ["h5"], ["h6"]),
            Node("Identity", "id", ["h6"], ["h7"]),
            Node("Reshape", "rs", ["h7"], ["h8"], {"shape": [-1, 5]}),
            Node("Linear", "fc2", ["h8", "fc2.weight", ""], ["h9"]),
            Node("Softmax", "sm", ["h9"], ["probs"], {"axis": -1}),
            Node("LogSoftmax", "lsm", ["h9"], ["logp"], {"axis": 1}),
        ],
        tensors=[Tensor("fc1.weight", rng.standard_normal((5, 6))), Tensor("fc1.bias", rng.standard_normal(5)),
                 Tensor("shift", rng.standard_normal(5)), Tensor("fc2.weight", rng.standard_normal((4, 5)))],
        metadata={"producer": "make_seeds", "model_name": "every-op"},
    )


def main(out):
    os.makedirs(out, exist_ok=True)
    data = serialize(every_op_graph())
    write_bytes(os.path.join(out, "py-every-op.strata"), data)
    from strata_convert.reader import read_sections
    secs = [(s.kind, s.flags, data[s.offset:s.offset + s.size]) for s in read_sections(data)]
    write_bytes(os.path.join(out, "py-optional-section.strata"),
                assemble(secs + [(77, fmt.SECTION_FLAG_OPTIONAL, b"from the future")]))
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        return
    from strata_convert import torch_source
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=-1))
    for n in (0, 2):
        torch_source.save(mlp, torch.zeros(1, 3, 4), os.path.join(out, f"torch-mlp-selftest{n}.strata"),
                          class_labels=["a", "b", "c"], self_test=n, payload_sha256=n > 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpus")
