"""Every rule of docs/FORMAT.md "A reader rejects": a malformed variant of a valid file, and the
specific status the reader must report for it."""
import struct
import zlib

import numpy as np
import pytest

from helpers import entry_offset, fix, mlp_graph, patch, rebuild, sections, tensors_body
from strata_convert import format as fmt
from strata_convert.errors import FormatError
from strata_convert.ir import Tensor, ValueInfo
from strata_convert.reader import parse, read_sections
from strata_convert.writer import assemble, serialize

BASE = serialize(mlp_graph())
SECS = {s.kind: s for s in read_sections(BASE)}
META, TENS, GRAPH, DATA = (SECS[k] for k in fmt.REQUIRED_SECTIONS)
E = {k: entry_offset(BASE, k) for k in fmt.REQUIRED_SECTIONS}  # table entry offsets


def layout(parts, trailing=b"") -> bytes:
    """A file with sections [(kind, flags, offset, body)] at exactly the given offsets."""
    end = max(off + len(body) for _, _, off, body in parts)
    b = bytearray(end)
    for i, (kind, flags, off, body) in enumerate(parts):
        struct.pack_into("<IIQQII", b, 64 + 32 * i, kind, flags, off, len(body), zlib.crc32(body), 0)
        b[off:off + len(body)] = body
    b[:40] = fmt.MAGIC + struct.pack("<HHIQIIQ", 1, 0, 64, end + len(trailing), len(parts), 0, 64)
    return fix(bytes(b) + trailing)


def parts(**offsets):
    """The sections of BASE as layout() parts, with some offsets moved."""
    names = {"metadata": fmt.SECTION_METADATA, "tensors": fmt.SECTION_TENSORS, "graph": fmt.SECTION_GRAPH, "data": fmt.SECTION_DATA}
    moved = {names[k]: v for k, v in offsets.items()}
    return [(s.kind, 0, moved.get(s.kind, s.offset), BASE[s.offset:s.offset + s.size]) for s in read_sections(BASE)]


def flip(data, offset):
    b = bytearray(data)
    b[offset] ^= 0x40
    return bytes(b)


def graph_file(mutate):
    """serialize() of mlp_graph() after mutate(graph), without the writer's validation."""
    g = mlp_graph()
    mutate(g)
    return serialize(g, validate=False)


def with_tensor_entries(edit):
    """A file whose tensor table entries are edited by edit(list of [name, dtype, layout, dims, offset, size])."""
    g = mlp_graph()
    entries, offset = [], 0
    for t in g.tensors:
        entries.append([t.name, 1, 0, list(t.array.shape), offset, t.array.nbytes])
        offset = fmt.align(offset + t.array.nbytes, 64)
    data_body = sections(BASE)[fmt.SECTION_DATA][1]
    data_body = edit(entries, data_body) or data_body
    return rebuild(BASE, tensors=tensors_body(entries), data=data_body)


def _set(entries, i, field, value):
    entries[i][field] = value


META_BODY = sections(BASE)[fmt.SECTION_METADATA][1]
GRAPH_BODY = sections(BASE)[fmt.SECTION_GRAPH][1]
PAD = next(i for i in range(GRAPH.offset + GRAPH.size, DATA.offset))  # a padding byte before DATA

CASES = [
    # 1. too short
    ("shorter than the header", lambda: BASE[:40], "TRUNCATED"),
    ("shorter than file_size", lambda: BASE[:-10], "TRUNCATED"),
    ("empty file", lambda: b"", "TRUNCATED"),
    # 2. magic
    ("bad magic", lambda: b"STRATB" + BASE[6:], "BAD_MAGIC"),
    ("not a strata file", lambda: b"PK\x03\x04" + bytes(100), "BAD_MAGIC"),
    # 3. version
    ("version 2", lambda: patch(BASE, 8, "H", 2), "UNSUPPORTED_VERSION"),
    ("version 0", lambda: patch(BASE, 8, "H", 0, fix_crcs=False), "UNSUPPORTED_VERSION"),
    # 4. checksums
    ("header crc flipped", lambda: flip(BASE, 60), "CHECKSUM_MISMATCH"),
    ("header byte flipped", lambda: flip(BASE, 17), "CHECKSUM_MISMATCH"),
    ("data byte flipped", lambda: flip(BASE, DATA.offset + 5), "CHECKSUM_MISMATCH"),
    ("graph byte flipped", lambda: flip(BASE, GRAPH.offset + 9), "CHECKSUM_MISMATCH"),
    ("section crc field wrong", lambda: patch(BASE, E[fmt.SECTION_METADATA] + 24, "I", 0, fix_crcs=False), "CHECKSUM_MISMATCH"),
    # 5. header and section layout
    ("header_size 65", lambda: patch(BASE, 12, "I", 65), "MALFORMED"),
    ("header flags", lambda: patch(BASE, 28, "I", 1), "MALFORMED"),
    ("reserved header byte", lambda: patch(BASE, 45, "B", 1), "MALFORMED"),
    ("section_table_offset 96", lambda: patch(BASE, 32, "Q", 96), "MALFORMED"),
    ("file_size smaller than the file", lambda: patch(BASE, 16, "Q", len(BASE) - 8), "MALFORMED"),
    ("trailing bytes", lambda: layout(parts(), trailing=bytes(8)), "MALFORMED"),
    ("section_count 0", lambda: patch(BASE, 24, "I", 0), "MALFORMED"),
    ("section_count 65", lambda: patch(BASE, 24, "I", 65), "MALFORMED"),
    ("section table past the end", lambda: patch(BASE, 24, "I", 60), "TRUNCATED"),
    ("sections out of order", lambda: fix(BASE[:64] + BASE[96:128] + BASE[64:96] + BASE[128:]), "MALFORMED"),
    ("sections overlap", lambda: layout(parts(tensors=META.offset + 8)), "MALFORMED"),
    ("section misaligned", lambda: layout(parts(metadata=META.offset + 4, tensors=TENS.offset + 4, graph=GRAPH.offset + 4)), "MALFORMED"),
    ("DATA not 64-aligned", lambda: layout(parts(data=DATA.offset + 8)), "MALFORMED"),
    ("hole before a section", lambda: layout(parts(metadata=META.offset + 8, tensors=TENS.offset + 8, graph=GRAPH.offset + 8)), "MALFORMED"),
    ("section past the end", lambda: patch(BASE, E[fmt.SECTION_DATA] + 16, "Q", DATA.size + 64), "TRUNCATED"),
    ("non-zero padding", lambda: fix(BASE[:PAD] + b"\x01" + BASE[PAD + 1:]), "MALFORMED"),
    ("missing required section", lambda: patch(patch(BASE, E[fmt.SECTION_METADATA], "I", 100), E[fmt.SECTION_METADATA] + 4, "I", 1), "MALFORMED"),
    ("repeated section", lambda: patch(BASE, E[fmt.SECTION_TENSORS], "I", fmt.SECTION_METADATA), "MALFORMED"),
    ("unknown non-optional section", lambda: assemble([(100, 0, b"new")] + [(k, 0, b) for k, (_, b) in sections(BASE).items()]), "MALFORMED"),
    ("unknown section flag", lambda: patch(BASE, E[fmt.SECTION_GRAPH] + 4, "I", 2), "MALFORMED"),
    ("section entry reserved", lambda: patch(BASE, E[fmt.SECTION_GRAPH] + 28, "I", 1), "MALFORMED"),
    ("empty metadata section", lambda: assemble([(k, 0, b"" if k == 1 else b) for k, (_, b) in sections(BASE).items()]), "MALFORMED"),
    # 6. caps and overflow
    ("metadata count over cap", lambda: rebuild(BASE, metadata=struct.pack("<I", 1025) + META_BODY[4:]), "MALFORMED"),
    ("name over 1024 bytes", lambda: rebuild(BASE, metadata=struct.pack("<II", 1, 1025) + b"k" * 1025 + struct.pack("<I", 0)), "MALFORMED"),
    ("metadata value over 1 MiB", lambda: rebuild(BASE, metadata=struct.pack("<II", 1, 1) + b"k" + struct.pack("<I", (1 << 20) + 1) + bytes((1 << 20) + 1)), "MALFORMED"),
    ("tensor rank 9", lambda: with_tensor_entries(lambda e, d: _set(e, 0, 3, [1] * 8 + [30])), "MALFORMED"),
    ("tensor dim over 2^32", lambda: with_tensor_entries(lambda e, d: _set(e, 3, 3, [(1 << 32) + 1])), "MALFORMED"),
    ("tensor size overflows 64 bits", lambda: with_tensor_entries(lambda e, d: _set(e, 3, 3, [1 << 32] * 3)), "MALFORMED"),
    ("graph input count 65", lambda: graph_file(lambda g: setattr(g, "inputs", [ValueInfo(f"i{k}", "f32", [-1, 1]) for k in range(65)])), "MALFORMED"),
    ("ints attribute over 16", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[-1] + [1] * 16)), "MALFORMED"),
    ("node inputs over 16", lambda: graph_file(lambda g: setattr(g.nodes[2], "inputs", ["h1"] * 17)), "MALFORMED"),
    # 7. strings and section contents
    ("string not UTF-8", lambda: rebuild(BASE, metadata=struct.pack("<II", 1, 2) + b"\xff\xfe" + struct.pack("<I", 0)), "MALFORMED"),
    ("empty name", lambda: rebuild(BASE, metadata=struct.pack("<II", 1, 0) + struct.pack("<I", 0)), "MALFORMED"),
    ("content ends early", lambda: rebuild(BASE, metadata=struct.pack("<I", 3) + META_BODY[4:]), "MALFORMED"),
    ("bytes left over", lambda: rebuild(BASE, graph=GRAPH_BODY + bytes(4)), "MALFORMED"),
    ("duplicate metadata key", lambda: rebuild(BASE, metadata=struct.pack("<I", 2) + (struct.pack("<I", 1) + b"k" + struct.pack("<I", 0)) * 2), "MALFORMED"),
    # 8. dtype, layout
    ("unknown dtype", lambda: with_tensor_entries(lambda e, d: _set(e, 1, 1, 7)), "UNSUPPORTED"),
    ("dtype 0 (invalid)", lambda: with_tensor_entries(lambda e, d: _set(e, 1, 1, 0)), "UNSUPPORTED"),
    ("unknown layout", lambda: with_tensor_entries(lambda e, d: _set(e, 1, 2, 3)), "UNSUPPORTED"),
    ("panel16 layout on a row-major-sized tensor", lambda: with_tensor_entries(lambda e, d: _set(e, 1, 2, 1)), "MALFORMED"),
    ("graph input of unknown dtype", lambda: rebuild(BASE, graph=GRAPH_BODY.replace(b"x\x01\x00\x00\x00", b"x\x09\x00\x00\x00", 1)), "UNSUPPORTED"),
    # 9. tensors
    ("tensor not 64-aligned", lambda: with_tensor_entries(lambda e, d: _set(e, 1, 4, e[1][4] - 32)), "MALFORMED"),
    ("tensors out of order", lambda: with_tensor_entries(lambda e, d: (_set(e, 1, 4, e[2][4]), _set(e, 2, 4, 128))[0]), "MALFORMED"),
    ("tensors overlap", lambda: with_tensor_entries(lambda e, d: _set(e, 2, 4, e[1][4])), "MALFORMED"),
    ("hole between tensors", lambda: with_tensor_entries(lambda e, d: _set(e, 3, 4, e[3][4] + 64)), "MALFORMED"),
    ("byte_size inconsistent", lambda: with_tensor_entries(lambda e, d: _set(e, 0, 5, e[0][5] + 4)), "MALFORMED"),
    ("tensor outside DATA", lambda: with_tensor_entries(lambda e, d: d[:-64]), "MALFORMED"),
    ("DATA longer than its tensors", lambda: with_tensor_entries(lambda e, d: d + bytes(64)), "MALFORMED"),
    ("non-zero padding after a tensor", lambda: with_tensor_entries(lambda e, d: d[:e[0][5]] + b"\x01" + d[e[0][5] + 1:]), "MALFORMED"),
    ("duplicate tensor name", lambda: with_tensor_entries(lambda e, d: _set(e, 2, 0, "fc1.bias")), "MALFORMED"),
    # 10. graph structure and attributes
    ("node input undefined", lambda: graph_file(lambda g: g.nodes[1].inputs.__setitem__(0, "nope")), "MALFORMED"),
    ("node input defined later", lambda: graph_file(lambda g: g.nodes.insert(0, g.nodes.pop(2))), "MALFORMED"),
    ("value defined twice", lambda: graph_file(lambda g: g.nodes[5].outputs.__setitem__(0, "h4")), "MALFORMED"),
    ("value named like a tensor", lambda: graph_file(lambda g: (g.nodes[2].outputs.__setitem__(0, "shift"), g.nodes[3].inputs.__setitem__(0, "shift"))), "MALFORMED"),
    ("graph output undefined", lambda: graph_file(lambda g: setattr(g.outputs[0], "name", "nope")), "MALFORMED"),
    ("graph output is a tensor", lambda: graph_file(lambda g: g.outputs.append(ValueInfo("shift", "f32", [-1, 5]))), "MALFORMED"),
    ("required input empty", lambda: graph_file(lambda g: g.nodes[1].inputs.__setitem__(1, "")), "MALFORMED"),
    ("wrong input count", lambda: graph_file(lambda g: g.nodes[2].inputs.append("h1")), "MALFORMED"),
    ("two outputs", lambda: graph_file(lambda g: g.nodes[2].outputs.append("extra")), "MALFORMED"),
    ("no outputs", lambda: graph_file(lambda g: (g.nodes.pop(), setattr(g.nodes[-1], "outputs", []), g.outputs.pop())), "MALFORMED"),
    ("attribute of wrong type", lambda: graph_file(lambda g: g.nodes[10].attrs.update(axis=[1])), "MALFORMED"),
    ("attribute out of range", lambda: graph_file(lambda g: g.nodes[10].attrs.update(axis=7)), "MALFORMED"),
    ("reshape moves the batch", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[5, -1])), "UNSUPPORTED"),
    ("reshape with two -1", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[0, -1, -1])), "UNSUPPORTED"),
    ("reshape target 0 past the rank", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[-1, 1, 0])), "MALFORMED"),
    ("reshape target -2", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[-1, -2])), "MALFORMED"),
    ("reshape without shape", lambda: graph_file(lambda g: g.nodes[8].attrs.clear()), "MALFORMED"),
    ("duplicate attribute key", lambda: fix(graph_file(lambda g: g.nodes[10].attrs.update({"axiz": 1})).replace(b"axiz", b"axis")), "MALFORMED"),
    ("unknown attribute type", lambda: fix(BASE.replace(b"axis\x01\x00\x00\x00", b"axis\x09\x00\x00\x00", 1)), "MALFORMED"),
    ("graph input batch not -1", lambda: graph_file(lambda g: g.inputs[0].dims.__setitem__(0, 1)), "MALFORMED"),
    ("graph input dim 0", lambda: graph_file(lambda g: g.inputs[0].dims.__setitem__(2, 0)), "MALFORMED"),
    ("graph input rank 0", lambda: graph_file(lambda g: setattr(g.inputs[0], "dims", [])), "MALFORMED"),
    # 11. unknown ops and unimplemented combinations
    ("unknown op", lambda: graph_file(lambda g: setattr(g.nodes[2], "op", "Frobnicate")), "UNSUPPORTED"),
    ("softmax over the batch", lambda: graph_file(lambda g: g.nodes[10].attrs.update(axis=0)), "UNSUPPORTED"),
    ("flatten axis 2", lambda: graph_file(lambda g: g.nodes[0].attrs.update(axis=2)), "UNSUPPORTED"),
    ("unknown attribute", lambda: graph_file(lambda g: g.nodes[2].attrs.update(alpha=1)), "UNSUPPORTED"),
    ("linear weight is a value", lambda: graph_file(lambda g: g.nodes[9].inputs.__setitem__(1, "h8")), "UNSUPPORTED"),
    ("unary input is a tensor", lambda: graph_file(lambda g: g.nodes[5].inputs.__setitem__(0, "shift")), "UNSUPPORTED"),
    ("add of two tensors", lambda: graph_file(lambda g: g.nodes[4].inputs.__setitem__(0, "fc1.bias")), "UNSUPPORTED"),
    ("add of different shapes", lambda: graph_file(lambda g: g.nodes[3].inputs.__setitem__(1, "h0")), "SHAPE_MISMATCH"),  # 1.2: values broadcast, these do not
    ("reshape element count", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[-1, 4])), "UNSUPPORTED"),
    # 12. shapes
    ("linear K mismatch", lambda: graph_file(lambda g: g.tensors.__setitem__(3, Tensor("fc2.weight", np.zeros((4, 6))))), "SHAPE_MISMATCH"),
    ("linear bias shape", lambda: graph_file(lambda g: g.tensors.__setitem__(1, Tensor("fc1.bias", np.zeros(4)))), "SHAPE_MISMATCH"),
    ("declared output shape wrong", lambda: graph_file(lambda g: setattr(g.outputs[0], "dims", [-1, 5])), "SHAPE_MISMATCH"),
    ("add tensor not trailing dims", lambda: graph_file(lambda g: g.tensors.__setitem__(2, Tensor("shift", np.zeros(4)))), "SHAPE_MISMATCH"),
    ("reshape does not divide", lambda: graph_file(lambda g: g.nodes[8].attrs.update(shape=[0, -1, 2])), "SHAPE_MISMATCH"),
    ("linear weight with M = 0", lambda: graph_file(lambda g: g.tensors.__setitem__(3, Tensor("fc2.weight", np.zeros((0, 5))))), "SHAPE_MISMATCH"),
]


@pytest.mark.parametrize("make, status", [pytest.param(m, s, id=name) for name, m, s in CASES])
def test_reader_rejects(make, status):
    data = make()
    with pytest.raises(FormatError) as e:
        parse(data)
    assert e.value.status == status, e.value.message


def test_base_file_is_valid():
    assert parse(BASE) == mlp_graph()


def test_any_minor_version_is_accepted():
    assert parse(patch(BASE, 10, "H", 7)) == mlp_graph()


def test_unknown_optional_section_is_skipped():
    data = assemble([(100, fmt.SECTION_FLAG_OPTIONAL, b"future")] + [(k, 0, b) for k, (_, b) in sections(BASE).items()])
    assert parse(data) == mlp_graph()


def test_the_value_may_be_the_second_input_of_add():
    g = mlp_graph()
    g.nodes[4].inputs.reverse()  # Add(shift tensor, h3 value)
    assert parse(serialize(g)) == g


def test_sections_may_come_in_any_order():
    order = [fmt.SECTION_DATA, fmt.SECTION_GRAPH, fmt.SECTION_METADATA, fmt.SECTION_TENSORS]
    secs = sections(BASE)
    assert parse(assemble([(k, 0, secs[k][1]) for k in order])) == mlp_graph()


def test_unknown_op_message_names_op_and_node():
    with pytest.raises(FormatError) as e:
        parse(graph_file(lambda g: setattr(g.nodes[2], "op", "Frobnicate")))
    assert "'Frobnicate'" in e.value.message and "'relu'" in e.value.message


def test_every_status_code_is_exercised():
    assert {s for _, _, s in CASES} == set(fmt.STATUS_CODES)
