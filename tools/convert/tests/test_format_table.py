"""Pins strata_convert/format.py to the tables of docs/FORMAT.md."""
import os
import re
import zlib

from strata_convert import format as fmt

FORMAT_MD = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "FORMAT.md")


def _table(heading: str) -> list:
    """Rows (lists of cells) of the first Markdown table after the heading line starting with `heading`."""
    with open(FORMAT_MD, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]  # drop header and rule


def test_dtype_table_matches_format_md():
    rows = _table("### DType table")
    doc = {int(r[0]): r for r in rows}
    assert doc[0][1] == "*invalid*"
    known = {k: (r[1], int(r[2]), int(r[3]), r[4]) for k, r in doc.items() if k != 0}
    ours = {d.id: (d.name, d.block, d.bytes_per_block, d.since) for d in fmt.DTYPES.values()}
    assert ours == known
    assert 0 not in fmt.DTYPES


def test_layout_table_matches_format_md():
    rows = _table("### Tensor layouts")
    assert {int(r[0]): r[1].split(" ")[0] for r in rows} == fmt.LAYOUTS


def test_section_kinds_match_format_md():
    rows = _table("Section kinds")
    assert {int(r[0]): r[1] for r in rows} == fmt.SECTION_NAMES
    assert set(fmt.REQUIRED_SECTIONS) == {int(r[0]) for r in rows if r[2].startswith("yes")}


def test_op_names_match_format_md():
    names = {r[0].strip("`") for r in _table("### Ops (1.0)")}
    assert names == {op for op, s in fmt.OPS.items() if s.since == 0}
    new = {n.strip().strip("`") for r in _table("### Ops (1.2)") for n in r[0].split(",")}
    assert new == {op for op, s in fmt.OPS.items() if s.since == 2}
    clamp = {r[0].strip("`") for r in _table("### Ops (1.4)")}
    assert clamp == {op for op, s in fmt.OPS.items() if s.since == 4}
    zoo = {r[0].strip("`") for r in _table("### Ops (1.5)")}
    assert zoo == {op for op, s in fmt.OPS.items() if s.since == 5}
    assert {s.since for s in fmt.OPS.values()} == {0, 2, 4, 5}


def test_header_constants_match_format_md():
    rows = {r[2]: r for r in _table("### Header")}
    magic = bytes(int(b, 16) for b in re.findall(r"[0-9A-Fa-f]{2}", rows["magic"][3].split("(")[0]))
    assert magic == fmt.MAGIC
    assert rows["version_major"][3] == str(fmt.VERSION_MAJOR)
    assert rows["header_size"][3] == str(fmt.HEADER_SIZE)
    assert rows["section_table_offset"][3] == str(fmt.SECTION_TABLE_OFFSET)
    assert rows["section_count"][3] == f"1 … {fmt.MAX_SECTIONS}"


def test_caps_and_crc_convention():
    with open(FORMAT_MD, encoding="utf-8") as f:
        text = f.read()
    assert f"at most **{fmt.MAX_NAME_BYTES}** bytes" in text
    assert fmt.MAX_METADATA_VALUE_BYTES == 1 << 20 and "at most **1 MiB**" in text
    for cap in ("count                      ≤ 1024", "count                      ≤ 65536",
                "rank                    0 … 8", "n_inputs                   1 … 64", "n_nodes                    0 … 65536"):
        assert cap in text
    assert (fmt.MAX_METADATA_ENTRIES, fmt.MAX_TENSORS, fmt.MAX_RANK, fmt.MAX_GRAPH_IO, fmt.MAX_NODES) == (
        1024, 65536, 8, 64, 65536)
    assert (fmt.MAX_NODE_INPUTS, fmt.MAX_NODE_OUTPUTS, fmt.MAX_ATTRS, fmt.MAX_ATTR_INTS) == (16, 16, 32, 16)
    assert "n_in  (≤ 16)" in text and "n_out (1 … 16)" in text and "n_attrs (≤ 32)" in text
    assert "u32 count (≤ 16)" in text
    assert zlib.crc32(b"123456789") == 0xCBF43926 and "0xCBF43926" in text
