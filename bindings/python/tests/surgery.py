"""Byte surgery on .strata images (docs/FORMAT.md), for the bad-input tests. No torch here:
the fuzz test imports it in a fresh subprocess."""
import random
import struct
import zlib

HEADER_SIZE = 64
SECTION_DATA = 4


def with_header_field(data: bytes, offset: int, value: bytes, fix_crc=True) -> bytes:
    """data with bytes [offset, offset+len(value)) replaced; the header CRC recomputed."""
    out = bytearray(data)
    out[offset:offset + len(value)] = value
    if fix_crc:
        out[60:64] = struct.pack("<I", zlib.crc32(bytes(out[:60])))
    return bytes(out)


def sections(data: bytes):
    """[(kind, flags, offset, size, crc)] from the section table."""
    count = struct.unpack_from("<I", data, 24)[0]
    table = struct.unpack_from("<Q", data, 32)[0]
    return [struct.unpack_from("<IIQQI", data, table + 32 * i) for i in range(count)]


def data_section_offset(data: bytes) -> int:
    for kind, _flags, offset, size, _crc in sections(data):
        if kind == SECTION_DATA and size > 0:
            return offset
    raise AssertionError("no non-empty DATA section")


def flip_byte(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x5A
    return bytes(out)


def mutations(data: bytes, seed: int, count: int):
    """`count` copies of a valid image with 1–4 bytes changed in the header, section table,
    METADATA, TENSORS or GRAPH; in 9 of 10 the CRCs are recomputed (at the original table's
    places) so the mutation reaches the parser instead of stopping at the checksum."""
    rng = random.Random(seed)
    table = sections(data)
    table_offset = struct.unpack_from("<Q", data, 32)[0]
    limit = max(offset + size for kind, _f, offset, size, _c in table if kind != SECTION_DATA)
    for _ in range(count):
        image = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4))):
            pos = rng.randrange(limit)
            image[pos] = rng.choice((0, 0xFF, rng.randrange(256), image[pos] ^ (1 << rng.randrange(8))))
        if rng.random() < 0.9:
            for i, (_kind, _flags, offset, size, _crc) in enumerate(table):
                struct.pack_into("<I", image, table_offset + 32 * i + 24,
                                 zlib.crc32(bytes(image[offset:offset + size])))
            image[60:64] = struct.pack("<I", zlib.crc32(bytes(image[:60])))
        yield bytes(image)
