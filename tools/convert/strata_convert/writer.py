"""Writes a `Graph` as a `.strata` file (docs/FORMAT.md), byte-deterministically.

The graph is validated first (`validate.check_graph`), so an invalid graph raises
`FormatError` instead of producing a file a reader would reject.
"""
import os
import struct
import tempfile
import zlib

from . import format as fmt
from . import integrity
from .ir import Graph, Node, Tensor, ValueInfo  # noqa: F401  (re-exported: the writer's IR)
from .quantize import encode_panel16
from .validate import attr_type, check_graph, minor_version

__all__ = ["serialize", "write_model", "write_bytes", "Graph", "Node", "Tensor", "ValueInfo"]


class _Buf:
    """Little-endian byte appender."""

    def __init__(self):
        self.b = bytearray()

    def u32(self, v):
        self.b += struct.pack("<I", v)

    def u64(self, v):
        self.b += struct.pack("<Q", v)

    def i64(self, v):
        self.b += struct.pack("<q", v)

    def str(self, s):
        data = s.encode("utf-8")
        self.u32(len(data))
        self.b += data

    def pad(self, alignment):
        self.b += bytes(fmt.align(len(self.b), alignment) - len(self.b))


def _metadata(metadata):
    out = _Buf()
    out.u32(len(metadata))
    for key in sorted(metadata):
        out.str(key)
        out.str(metadata[key])
    return bytes(out.b)


def _tensors_and_data(graph):
    table, data = _Buf(), _Buf()
    table.u32(len(graph.tensors))
    for t in graph.tensors:
        data.pad(fmt.TENSOR_ALIGNMENT)
        if t.quantized is not None:
            raw = encode_panel16(t.quantized)
        else:
            stored = fmt.pack_panel16(t.array) if t.layout == fmt.LAYOUT_PANEL16 else t.array
            raw = stored.astype("<f4", copy=False).tobytes(order="C")
        table.str(t.name)
        table.u32(fmt.DTYPE_BY_NAME[t.dtype].id)
        table.u32(t.layout)
        table.u32(t.array.ndim)
        for d in t.array.shape:
            table.u64(d)
        table.u64(len(data.b))
        table.u64(len(raw))
        data.b += raw
    data.pad(fmt.TENSOR_ALIGNMENT)
    return bytes(table.b), bytes(data.b)


def _graph(graph):
    out = _Buf()
    for infos in (graph.inputs, graph.outputs):
        out.u32(len(infos))
        for v in infos:
            out.str(v.name)
            out.u32(fmt.DTYPE_BY_NAME[v.dtype].id)
            out.u32(len(v.dims))
            for d in v.dims:
                out.i64(d)
    out.u32(len(graph.nodes))
    for node in graph.nodes:
        out.str(node.op)
        out.str(node.name)
        for names in (node.inputs, node.outputs):
            out.u32(len(names))
            for s in names:
                out.str(s)
        out.u32(len(node.attrs))
        for key, value in node.attrs.items():
            out.str(key)
            t = attr_type(value)
            out.u32(t)
            if t == fmt.ATTR_INT:
                out.i64(value)
            elif t == fmt.ATTR_FLOAT:
                out.b += struct.pack("<f", value)
            elif t == fmt.ATTR_INTS:
                out.u32(len(value))
                for x in value:
                    out.i64(x)
            else:
                out.str(value)
    return bytes(out.b)


def assemble(sections, minor=0) -> bytes:
    """Lay out header, section table and `sections` [(kind, flags, body)] as docs/FORMAT.md says,
    with version 1.`minor` in the header."""
    offset = fmt.HEADER_SIZE + fmt.SECTION_ENTRY_SIZE * len(sections)
    entries, parts = [], []
    for kind, flags, body in sections:
        start = fmt.align(offset, fmt.TENSOR_ALIGNMENT if kind == fmt.SECTION_DATA else fmt.SECTION_ALIGNMENT)
        parts.append(bytes(start - offset) + body)
        entries.append(struct.pack("<IIQQII", kind, flags, start, len(body), zlib.crc32(body), 0))
        offset = start + len(body)
    header = fmt.MAGIC + struct.pack("<HHIQIIQ", fmt.VERSION_MAJOR, minor, fmt.HEADER_SIZE,
                                     offset, len(sections), 0, fmt.SECTION_TABLE_OFFSET) + bytes(20)
    header += struct.pack("<I", zlib.crc32(header))
    return header + b"".join(entries) + b"".join(parts)


def serialize(graph: Graph, *, validate: bool = True, self_test=None, payload_sha256: bool = False) -> bytes:
    """The bytes of `graph` as a `.strata` file. Same graph, same bytes (metadata sorted by key).

    self_test: a `selftest.SelfTest` to store as an optional SELFTEST section (last).
    payload_sha256: record the payload digest under the `payload_sha256` metadata key.
    Either makes the file version 1.1; a graph using an op of "Ops (1.2)" or a quantized weight is
    1.2, one with an int8-dynamic weight (layout panel16k4) 1.3; otherwise 1.0.
    Raises FormatError when the graph breaks a rule of docs/FORMAT.md. `validate=False` skips
    the graph rules (only for building invalid test fixtures).
    """
    if validate:
        check_graph(graph)
    table, data = _tensors_and_data(graph)
    bodies = {fmt.SECTION_TENSORS: table, fmt.SECTION_GRAPH: _graph(graph), fmt.SECTION_DATA: data}
    extra = [] if self_test is None else [(fmt.SECTION_SELFTEST, fmt.SECTION_FLAG_OPTIONAL, self_test.serialize(graph))]
    metadata = dict(graph.metadata)
    if payload_sha256:
        payload = [(kind, 0, bodies[kind]) for kind in fmt.WRITE_ORDER if kind != fmt.SECTION_METADATA] + extra
        metadata[fmt.META_PAYLOAD_SHA256] = integrity.payload_sha256(payload)
    bodies[fmt.SECTION_METADATA] = _metadata(metadata)
    sections = [(kind, 0, bodies[kind]) for kind in fmt.WRITE_ORDER] + extra
    minor = minor_version(graph) if validate else 0  # the highest `since` of its ops
    if any(t.dtype != "f32" for t in graph.tensors):
        minor = max(minor, 2)  # quantized weights are format 1.2
    if any(t.layout == fmt.LAYOUT_PANEL16K4 for t in graph.tensors):
        minor = max(minor, 3)  # dynamic int8 (layout panel16k4) is format 1.3
    return assemble(sections, minor=max(minor, 1 if self_test is not None or payload_sha256 else 0))


def write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` atomically: a temporary file in the same directory, then rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_model(path, graph: Graph, **kw) -> int:
    """Validate, serialize (keywords as serialize()) and atomically write `graph` to `path`;
    return the file size in bytes."""
    data = serialize(graph, **kw)
    write_bytes(path, data)
    return len(data)
