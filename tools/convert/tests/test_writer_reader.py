"""Writer -> reader round trips, layout rules, determinism, atomic writes."""
import os
import struct
import zlib

import numpy as np
import pytest

from helpers import mlp_graph, sections
from strata_convert import format as fmt
from strata_convert import numpy_ref
from strata_convert.errors import FormatError
from strata_convert.ir import Graph, Node, Tensor, ValueInfo
from strata_convert.reader import _Cursor, _nodes, parse, read_model, read_sections
from strata_convert.writer import _graph, serialize, write_model


def test_round_trip_is_exact():
    g = mlp_graph()
    back = parse(serialize(g))
    assert back == g
    assert [n.attrs for n in back.nodes] == [n.attrs for n in g.nodes]


def test_round_trip_preserves_numbers():
    g = mlp_graph()
    x = np.random.default_rng(2).standard_normal((3, 2, 3))
    for a, b in zip(numpy_ref.run(g, x), numpy_ref.run(parse(serialize(g)), x)):
        assert np.array_equal(a, b)


def test_layout_follows_format_md():
    data = serialize(mlp_graph())
    magic, major, minor, header_size, file_size, count, flags, table = struct.unpack_from("<8sHHIQIIQ", data)
    assert (magic, major, minor, header_size, file_size, count, flags, table) == (
        fmt.MAGIC, 1, 0, 64, len(data), 4, 0, 64)
    assert data[40:60] == bytes(20)
    assert struct.unpack_from("<I", data, 60)[0] == zlib.crc32(data[:60])
    end = 64 + 32 * 4
    for s in read_sections(data):
        alignment = 64 if s.kind == fmt.SECTION_DATA else 8
        assert s.offset == fmt.align(end, alignment) and s.flags == 0
        assert data[end:s.offset] == bytes(s.offset - end)
        assert s.crc32 == zlib.crc32(data[s.offset:s.offset + s.size])
        end = s.offset + s.size
    assert end == len(data)
    assert [s.kind for s in read_sections(data)] == [1, 2, 3, 4]


def test_tensors_are_64_aligned_in_the_file_and_in_order():
    g = mlp_graph()
    data = serialize(g)
    data_section = next(s for s in read_sections(data) if s.kind == fmt.SECTION_DATA)
    assert data_section.offset % 64 == 0
    offset = 0
    for t in g.tensors:
        start = data_section.offset + offset
        assert start % 64 == 0
        assert data[start:start + t.array.nbytes] == t.array.astype("<f4").tobytes()
        offset = fmt.align(offset + t.array.nbytes, 64)
    assert data_section.size == offset


def test_metadata_is_sorted_and_output_deterministic():
    a = mlp_graph({"producer": "p", "a": "1", "model_name": "m"})
    b = mlp_graph({"model_name": "m", "a": "1", "producer": "p"})
    assert serialize(a) == serialize(b)
    body = sections(serialize(a))[fmt.SECTION_METADATA][1]
    keys, pos = [], 4
    for _ in range(struct.unpack_from("<I", body)[0]):
        for is_key in (True, False):
            n = struct.unpack_from("<I", body, pos)[0]
            if is_key:
                keys.append(body[pos + 4:pos + 4 + n].decode())
            pos += 4 + n
    assert keys == sorted(keys)


def test_no_tensors_gives_an_empty_data_section():
    g = Graph([ValueInfo("x", "f32", [-1, 3])], [ValueInfo("y", "f32", [-1, 3])], [Node("Relu", "", ["x"], ["y"])])
    data = serialize(g)
    s = [s for s in read_sections(data) if s.kind == fmt.SECTION_DATA][0]
    assert s.size == 0 and s.offset == len(data) and s.offset % 64 == 0
    assert parse(data) == g


def test_graph_output_may_be_the_input_and_nodes_may_be_empty():
    g = Graph([ValueInfo("x", "f32", [-1, 3])], [ValueInfo("x", "f32", [-1, 3])], [])
    assert parse(serialize(g)) == g


def test_float_and_string_attributes_encode_and_decode():
    g = Graph([], [], [Node("Custom", "n", ["a", ""], ["b"], {"f": 0.5, "s": "héllo", "i": -3, "v": [1, -1]})])
    cursor = _Cursor(_graph(g)[8:], "GRAPH")  # after the empty input and output lists
    assert _nodes(cursor) == g.nodes
    cursor.expect_end()


def test_writer_refuses_an_invalid_graph(tmp_path):
    g = mlp_graph()
    g.nodes[1].inputs[0] = "nope"
    with pytest.raises(FormatError) as e:
        write_model(tmp_path / "bad.strata", g)
    assert e.value.status == "MALFORMED"
    assert os.listdir(tmp_path) == []


def test_write_model_is_atomic_and_readable(tmp_path):
    path = tmp_path / "m.strata"
    path.write_bytes(b"old contents")
    size = write_model(path, mlp_graph())
    assert size == path.stat().st_size
    assert os.listdir(tmp_path) == ["m.strata"]
    assert read_model(path) == mlp_graph()


def test_weights_are_cast_to_f32():
    g = mlp_graph()
    g.tensors[0] = Tensor("fc1.weight", np.full((5, 6), 1 / 3, dtype=np.float64))
    back = parse(serialize(g))
    assert back.tensors[0].array.dtype == np.float32
    assert back.tensors[0].array[0, 0] == np.float32(1 / 3)


def test_rank0_and_empty_tensors_round_trip():
    g = mlp_graph()
    g.tensors += [Tensor("scalar", np.float32(2.5)), Tensor("empty", np.zeros((0, 3))), Tensor("after", np.ones(3))]
    back = parse(serialize(g))
    assert back == g
