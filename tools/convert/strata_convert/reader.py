"""A strict pure-Python reader of `.strata` files: every rule of docs/FORMAT.md's
"A reader rejects" list raises `FormatError(status, message)` with the status the Strata
library reports. Used by the tests to check the writer, and by `python -m strata_convert.inspect`.
"""
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from . import format as fmt
from . import quantize
from .errors import FormatError
from .ir import Graph, Node, Tensor, ValueInfo
from .validate import check_graph

__all__ = ["parse", "read_model", "read_sections", "Section", "FormatError"]


@dataclass
class Section:
    """One section table entry."""

    kind: int
    flags: int
    offset: int
    size: int
    crc32: int

    @property
    def name(self) -> str:
        """"GRAPH", or "kind N" for a kind this reader does not know."""
        return fmt.SECTION_NAMES.get(self.kind, f"kind {self.kind}")


def _bad(message):
    return FormatError("MALFORMED", message)


class _Cursor:
    """Bounds-checked little-endian reads over one section's bytes."""

    def __init__(self, data: bytes, context: str):
        self.data, self.pos, self.context = memoryview(data), 0, context

    def take(self, n: int, what: str) -> memoryview:
        if n > len(self.data) - self.pos:
            raise _bad(f"section {self.context} ends inside {what} (needs {n} bytes at offset {self.pos}, {len(self.data) - self.pos} left)")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def unpack(self, code: str, what: str):
        return struct.unpack("<" + code, self.take(struct.calcsize(code), what))[0]

    def count(self, what: str, cap: int) -> int:
        n = self.unpack("I", what)
        if n > cap:
            raise _bad(f"section {self.context}: {what} is {n}, more than the limit of {cap}")
        return n

    def str(self, what: str, cap: int = fmt.MAX_NAME_BYTES, allow_empty: bool = False) -> str:
        n = self.count(f"length of {what}", cap)
        if n == 0 and not allow_empty:
            raise _bad(f"section {self.context}: {what} is empty")
        try:
            return bytes(self.take(n, what)).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"section {self.context}: {what} is not valid UTF-8") from None

    def expect_end(self):
        if self.pos != len(self.data):
            raise _bad(f"section {self.context} has {len(self.data) - self.pos} unexpected bytes after its content")


def read_sections(data: bytes) -> list:
    """Validate the header and the section layout of `data`; return the section table."""
    n = len(data)
    if n < fmt.HEADER_SIZE:
        raise FormatError("TRUNCATED", f"file is {n} bytes, shorter than the {fmt.HEADER_SIZE}-byte header")
    if data[:8] != fmt.MAGIC:
        raise FormatError("BAD_MAGIC", 'bad magic: this is not a .strata file (expected "STRATA\\0\\0" in the first 8 bytes)')
    major, minor, header_size, file_size, count, flags, table_offset = struct.unpack_from("<HHIQIIQ", data, 8)
    if major != fmt.VERSION_MAJOR:
        raise FormatError("UNSUPPORTED_VERSION", f"file format version {major}.{minor} is not supported; this reader reads version {fmt.VERSION_MAJOR}.x")
    stored, actual = struct.unpack_from("<I", data, 60)[0], zlib.crc32(data[:60])
    if stored != actual:
        raise FormatError("CHECKSUM_MISMATCH", f"header checksum mismatch (stored {stored:08x}, computed {actual:08x}): the file is corrupted")
    if header_size != fmt.HEADER_SIZE:
        raise _bad(f"header_size is {header_size}, expected {fmt.HEADER_SIZE}")
    if flags:
        raise _bad(f"header flags are {flags:#x}, expected 0")
    if any(data[40:60]):
        raise _bad("reserved header bytes 40…59 are not zero")
    if table_offset != fmt.SECTION_TABLE_OFFSET:
        raise _bad(f"section_table_offset is {table_offset}, expected {fmt.SECTION_TABLE_OFFSET}")
    if file_size > n:
        raise FormatError("TRUNCATED", f"file is truncated: it is {n} bytes but its header declares {file_size}")
    if file_size != n:
        raise _bad(f"file has {n - file_size} bytes after its declared size {file_size}")
    if not 1 <= count <= fmt.MAX_SECTIONS:
        raise _bad(f"section_count is {count}, expected 1…{fmt.MAX_SECTIONS}")
    end = fmt.HEADER_SIZE + count * fmt.SECTION_ENTRY_SIZE
    if end > n:
        raise FormatError("TRUNCATED", f"file ends inside the section table ({count} entries need {end} bytes, file has {n})")
    sections, seen = [], set()
    for i in range(count):
        kind, sflags, offset, size, crc, reserved = struct.unpack_from("<IIQQII", data, fmt.HEADER_SIZE + i * fmt.SECTION_ENTRY_SIZE)
        s = Section(kind, sflags, offset, size, crc)
        label = f"section {i} ({s.name})"
        if sflags & ~fmt.SECTION_FLAG_OPTIONAL:
            raise _bad(f"{label} has unknown flags {sflags:#x}")
        if reserved:
            raise _bad(f"{label} has non-zero reserved bytes")
        if kind not in fmt.SECTION_NAMES and not sflags & fmt.SECTION_FLAG_OPTIONAL:
            raise _bad(f"{label} has unknown kind {kind} and is not optional: the file needs a newer reader")
        alignment = fmt.TENSOR_ALIGNMENT if kind == fmt.SECTION_DATA else fmt.SECTION_ALIGNMENT
        expected = fmt.align(end, alignment)
        if offset > n or size > n - offset:
            raise FormatError("TRUNCATED", f"{label} at offset {offset} with size {size} ends past the end of the file ({n} bytes)")
        if offset != expected:
            raise _bad(f"{label} starts at offset {offset}, expected {expected} (sections follow each other in table order, {alignment}-byte aligned, without holes or overlaps)")
        if size == 0 and kind != fmt.SECTION_DATA:
            raise _bad(f"{label} is empty")
        if any(data[end:offset]):
            raise _bad(f"padding before {label} is not zero")
        body_crc = zlib.crc32(data[offset:offset + size])
        if body_crc != crc:
            raise FormatError("CHECKSUM_MISMATCH", f"{label} checksum mismatch (stored {crc:08x}, computed {body_crc:08x}): the file is corrupted")
        if kind in fmt.SECTION_NAMES:
            if kind in seen:
                raise _bad(f"section {s.name} appears more than once")
            seen.add(kind)
        sections.append(s)
        end = offset + size
    if end != n:
        raise _bad(f"file has {n - end} bytes after its last section")
    for kind in fmt.REQUIRED_SECTIONS:
        if kind not in seen:
            raise _bad(f"required section {fmt.SECTION_NAMES[kind]} is missing")
    return sections


def _metadata(body: bytes) -> dict:
    r = _Cursor(body, "METADATA")
    out = {}
    for i in range(r.count("metadata entry count", fmt.MAX_METADATA_ENTRIES)):
        key = r.str(f"metadata key {i}")
        value = r.str(f"metadata value '{key}'", fmt.MAX_METADATA_VALUE_BYTES, allow_empty=True)
        if key in out:
            raise _bad(f"metadata key '{key}' appears more than once")
        out[key] = value
    r.expect_end()
    return out


def _quantized_tensor(name, dtype, raw, dims, layout):
    """A quantized panel16 (or panel16k4) tensor after the content rules (docs/FORMAT.md rules 14, 15)."""
    problem = quantize.check_encoded(dtype, raw, *dims, layout)
    if problem:
        raise _bad(f"tensor '{name}' ({dtype}) {problem}")
    q = quantize.decode_panel16(dtype, raw, *dims, layout)
    return Tensor(name, quantize.dequantize(q), layout, q)


def _tensors(body: bytes, data: memoryview) -> list:
    r = _Cursor(body, "TENSORS")
    tensors, names, expected = [], set(), 0
    for i in range(r.count("tensor count", fmt.MAX_TENSORS)):
        name = r.str(f"name of tensor {i}")
        dtype_id = r.unpack("I", f"dtype of tensor '{name}'")
        layout = r.unpack("I", f"layout of tensor '{name}'")
        rank = r.count(f"rank of tensor '{name}'", fmt.MAX_RANK)
        dims = [r.unpack("Q", f"dim {d} of tensor '{name}'") for d in range(rank)]
        offset = r.unpack("Q", f"offset of tensor '{name}'")
        size = r.unpack("Q", f"byte size of tensor '{name}'")
        if name in names:
            raise _bad(f"tensor name '{name}' appears more than once")
        names.add(name)
        for d, v in enumerate(dims):
            if v > fmt.MAX_DIM:
                raise _bad(f"tensor '{name}' dim {d} is {v}, more than the limit of 2^32")
        dtype = fmt.DTYPES.get(dtype_id)
        if dtype is None:
            known = ", ".join(f"{k} ({d.name})" for k, d in sorted(fmt.DTYPES.items()))
            raise FormatError("UNSUPPORTED", f"tensor '{name}' has unknown dtype id {dtype_id}; this reader knows {known}")
        if layout not in fmt.LAYOUTS:
            raise FormatError("UNSUPPORTED", f"tensor '{name}' has unknown layout {layout}; this reader knows 0 (row-major), 1 (panel16) and 2 (panel16k4)")
        if layout != fmt.LAYOUT_ROW_MAJOR and len(dims) != 2:
            if layout == fmt.LAYOUT_PANEL16:
                raise _bad(f"tensor '{name}' has layout panel16, which needs a rank-2 f32, f16, bf16, int8 or int4 tensor, not {dtype.name} {dims}")
            raise _bad(f"tensor '{name}' has layout {fmt.LAYOUTS[layout]}, which needs a rank-2 int8 tensor, not {dtype.name} {dims}")
        if layout == fmt.LAYOUT_PANEL16K4 and dtype.name != "int8":
            raise _bad(f"tensor '{name}' has layout panel16k4 (dynamic int8), which holds only int8 weights, not {dtype.name}")
        if dtype.name in fmt.WEIGHT_ONLY_DTYPES and layout not in (fmt.LAYOUT_PANEL16, fmt.LAYOUT_PANEL16K4):
            also = " or panel16k4" if dtype.name == "int8" else ""
            raise _bad(f"tensor '{name}' has dtype {dtype.name}, which is valid only in layout panel16{also} (a Linear weight), not {fmt.LAYOUTS[layout]}")
        if layout == fmt.LAYOUT_PANEL16K4 and dims[1] > fmt.MAX_DYNAMIC_K:
            raise _bad(f"tensor '{name}' {dims} in layout panel16k4 has k = {dims[1]}, more than the limit of {fmt.MAX_DYNAMIC_K} (its int32 dot products could overflow)")
        elements = fmt.stored_elements(layout, dims)
        if layout == fmt.LAYOUT_PANEL16 and dtype.name == "int4":
            elements = fmt.panel16_bytes("int4", *dims)[0] * 2  # K padded to whole blocks of 32
        if elements > fmt.U64_MAX or elements % dtype.block or dtype.bytes_for(elements) > fmt.U64_MAX:
            raise _bad(f"tensor '{name}' shape {dims} overflows or is not a whole number of {dtype.name} blocks")
        need = fmt.panel16_bytes(dtype.name, *dims, layout)[3] if layout != fmt.LAYOUT_ROW_MAJOR else dtype.bytes_for(elements)
        if size != need:
            raise _bad(f"tensor '{name}' byte size is {size}, but shape {dims} of {dtype.name} in layout {fmt.LAYOUTS[layout]} needs {need}")
        if offset % fmt.TENSOR_ALIGNMENT:
            raise _bad(f"tensor '{name}' offset {offset} is not {fmt.TENSOR_ALIGNMENT}-byte aligned")
        if offset != expected:
            raise _bad(f"tensor '{name}' is at offset {offset}, expected {expected} (tensors follow each other in order, without overlaps or holes)")
        if offset + size > len(data):
            raise _bad(f"tensor '{name}' (offset {offset}, {size} bytes) ends past the DATA section ({len(data)} bytes)")
        next_offset = fmt.align(offset + size, fmt.TENSOR_ALIGNMENT)
        if any(data[offset + size:min(next_offset, len(data))]):
            raise _bad(f"padding after tensor '{name}' is not zero")
        if dtype.name in fmt.WEIGHT_ONLY_DTYPES:
            tensors.append(_quantized_tensor(name, dtype.name, bytes(data[offset:offset + size]), dims, layout))
            expected = next_offset
            continue
        stored = np.frombuffer(data, dtype="<f4", count=elements, offset=offset)
        if layout == fmt.LAYOUT_PANEL16:
            array = fmt.unpack_panel16(stored, dims[0], dims[1])
        else:
            array = stored.reshape(dims)
        tensors.append(Tensor(name, array.astype(np.float32), layout))
        expected = next_offset
    r.expect_end()
    if expected != len(data):
        raise _bad(f"DATA section is {len(data)} bytes but its tensors take {expected}")
    return tensors


def _value_infos(r: _Cursor, what: str) -> list:
    infos = []
    for i in range(r.count(f"graph {what} count", fmt.MAX_GRAPH_IO)):
        name = r.str(f"name of graph {what} {i}")
        dtype_id = r.unpack("I", f"dtype of graph {what} '{name}'")
        rank = r.count(f"rank of graph {what} '{name}'", fmt.MAX_RANK)
        dims = [r.unpack("q", f"dim {d} of graph {what} '{name}'") for d in range(rank)]
        if dtype_id not in fmt.DTYPES:
            raise FormatError("UNSUPPORTED", f"graph {what} '{name}' has unknown dtype id {dtype_id}")
        infos.append(ValueInfo(name, fmt.DTYPES[dtype_id].name, dims))
    return infos


def _attr(r: _Cursor, key: str, label: str):
    t = r.unpack("I", f"type of attribute '{key}' of {label}")
    what = f"attribute '{key}' of {label}"
    if t == fmt.ATTR_INT:
        return r.unpack("q", what)
    if t == fmt.ATTR_FLOAT:
        return r.unpack("f", what)
    if t == fmt.ATTR_INTS:
        return [r.unpack("q", what) for _ in range(r.count(f"length of {what}", fmt.MAX_ATTR_INTS))]
    if t == fmt.ATTR_STRING:
        return r.str(what, fmt.MAX_STRING_ATTR_BYTES, allow_empty=True)
    raise _bad(f"{what} has unknown type {t}")


def _nodes(r: _Cursor) -> list:
    nodes = []
    for i in range(r.count("node count", fmt.MAX_NODES)):
        op = r.str(f"op of node {i}")
        name = r.str(f"name of node {i}", allow_empty=True)
        label = f"node {i} '{name}'" if name else f"node {i}"
        inputs = [r.str(f"input {k} of {label}", allow_empty=True)
                  for k in range(r.count(f"input count of {label}", fmt.MAX_NODE_INPUTS))]
        outputs = [r.str(f"output {k} of {label}")
                   for k in range(r.count(f"output count of {label}", fmt.MAX_NODE_OUTPUTS))]
        attrs = {}
        for _ in range(r.count(f"attribute count of {label}", fmt.MAX_ATTRS)):
            key = r.str(f"attribute name of {label}")
            value = _attr(r, key, label)
            if key in attrs:
                raise _bad(f"attribute '{key}' of {label} appears more than once")
            attrs[key] = value
        nodes.append(Node(op, name, inputs, outputs, attrs))
    return nodes


def parse(data: bytes) -> Graph:
    """Validate `data` completely and return its graph. Raises FormatError(status, message)."""
    data = bytes(data)
    sections = {s.kind: s for s in read_sections(data) if s.kind in fmt.SECTION_NAMES}

    def body(kind):
        s = sections[kind]
        return memoryview(data)[s.offset:s.offset + s.size]

    metadata = _metadata(body(fmt.SECTION_METADATA))
    tensors = _tensors(body(fmt.SECTION_TENSORS), body(fmt.SECTION_DATA))
    r = _Cursor(body(fmt.SECTION_GRAPH), "GRAPH")
    inputs = _value_infos(r, "input")
    outputs = _value_infos(r, "output")
    nodes = _nodes(r)
    r.expect_end()
    graph = Graph(inputs, outputs, nodes, tensors, metadata)
    minor = struct.unpack_from("<H", data, 10)[0]
    for v in inputs + outputs:
        if minor < 5 and v.dims and v.dims[0] != -1:  # 1.5: the batch may be another dim
            what = "input" if v in inputs else "output"
            raise FormatError("MALFORMED", f"graph {what} '{v.name}' dim 0 is {v.dims[0]}; it must be -1 (the dynamic batch)")
    check_graph(graph)
    return graph


def read_model(path) -> Graph:
    """Read and validate the `.strata` file at `path`."""
    with open(path, "rb") as f:
        return parse(f.read())
