"""Writes converter-made seed files for the fuzz corpus: the converter tests' every-op graph,
PyTorch MLPs converted with `torch_source` (with and without self-test data and payload hash),
and a file with an unknown optional section.

    PYTHONPATH=tools/convert python tools/fuzz/make_seeds.py OUT_DIR
"""
import os
import sys

from strata_convert import format as fmt
from strata_convert.ir import Graph
from strata_convert.writer import assemble, serialize, write_bytes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "convert", "tests"))
from helpers import mlp_graph  # noqa: E402  (the converter tests' graph; numpy + strata_convert only)


def every_op_graph() -> Graph:
    """The converter tests' small graph that uses every op (tools/convert/tests/helpers.py)."""
    return mlp_graph({"producer": "make_seeds", "model_name": "every-op"})


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
