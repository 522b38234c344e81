"""Shared test helpers: small graphs, file surgery, and the one model-vs-reference check."""
import struct
import zlib

import numpy as np

from strata_convert import format as fmt
from strata_convert import numpy_ref
from strata_convert.ir import Graph, Node, Tensor, ValueInfo
from strata_convert.reader import parse, read_sections
from strata_convert.writer import assemble, serialize


def mlp_graph(metadata=None) -> Graph:
    """A small valid graph using every op."""
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
        metadata=metadata if metadata is not None else {"producer": "test", "model_name": "mlp"},
    )


def sections(data: bytes) -> dict:
    """kind -> (flags, body) of a file."""
    return {s.kind: (s.flags, data[s.offset:s.offset + s.size]) for s in read_sections(data)}


def rebuild(file: bytes, **bodies) -> bytes:
    """`file` with some section bodies replaced (metadata=, tensors=, graph=, data=), re-laid out."""
    kinds = {"metadata": fmt.SECTION_METADATA, "tensors": fmt.SECTION_TENSORS,
             "graph": fmt.SECTION_GRAPH, "data": fmt.SECTION_DATA}
    old = sections(file)
    for key, body in bodies.items():
        old[kinds[key]] = (old[kinds[key]][0], body)
    return assemble([(k, flags, body) for k, (flags, body) in old.items()])


def patch(data: bytes, offset: int, fmt_code: str, value, *, fix_crcs=True) -> bytes:
    """`data` with a struct value written at `offset`; CRCs recomputed unless fix_crcs=False."""
    b = bytearray(data)
    struct.pack_into("<" + fmt_code, b, offset, value)
    return fix(bytes(b)) if fix_crcs else bytes(b)


def fix(data: bytes) -> bytes:
    """Recompute every section CRC and the header CRC (trusting the table as it is)."""
    b = bytearray(data)
    count = struct.unpack_from("<I", b, 24)[0]
    for i in range(min(count, (len(b) - 64) // 32)):
        at = 64 + 32 * i
        _, _, offset, size = struct.unpack_from("<IIQQ", b, at)
        struct.pack_into("<I", b, at + 24, zlib.crc32(b[offset:offset + size]))
    struct.pack_into("<I", b, 60, zlib.crc32(b[:60]))
    return bytes(b)


def entry_offset(data: bytes, kind: int) -> int:
    """File offset of the section table entry of `kind`."""
    for i, s in enumerate(read_sections(data)):
        if s.kind == kind:
            return 64 + 32 * i
    raise KeyError(kind)


def tensors_body(entries) -> bytes:
    """A TENSORS body from (name, dtype, layout, dims, offset, byte_size) tuples."""
    out = struct.pack("<I", len(entries))
    for name, dtype, layout, dims, offset, size in entries:
        raw = name.encode()
        out += struct.pack("<I", len(raw)) + raw + struct.pack("<III", dtype, layout, len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<QQ", offset, size)
    return out


def tolerance(y) -> float:
    """The allowed max abs error against PyTorch: 1e-5 × max(1, max|y|)."""
    return 1e-5 * max(1.0, float(np.abs(y).max()))


def check_model(module, input_shape, batch=5, convert=None, **convert_kw) -> Graph:
    """Convert `module` (with `convert`, default torch_source.convert_module), write and re-read
    it, and compare numpy_ref with PyTorch on random inputs. Returns the graph read back."""
    import torch
    from strata_convert.torch_source import convert_module
    module.eval()
    convert = convert or convert_module
    graph = parse(serialize(convert(module, torch.zeros((1, *input_shape)), **convert_kw)))
    dtype = next((p.dtype for p in module.parameters()), torch.float32)
    x = torch.randn((batch, *input_shape), generator=torch.Generator().manual_seed(1)).to(dtype)
    with torch.no_grad():
        ys = module(x)
    ys = ys if isinstance(ys, (tuple, list)) else (ys,)
    refs = numpy_ref.run(graph, x.double().numpy())
    assert len(refs) == len(ys)
    for ref, y in zip(refs, ys):
        y = y.double().numpy()
        assert ref.shape == y.shape
        assert np.abs(ref - y).max() <= tolerance(y)
    return graph
