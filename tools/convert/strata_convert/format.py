"""Constants of the `.strata` file format, version 1.0 (docs/FORMAT.md).

This module is the single source of truth on the Python side; `tests/test_format_table.py`
pins it against the tables in docs/FORMAT.md.
"""
from dataclasses import dataclass

MAGIC = b"STRATA\x00\x00"
VERSION_MAJOR = 1
VERSION_MINOR = 5  # the newest minor written; a writer stamps the lowest minor whose features a file uses
HEADER_SIZE = 64
SECTION_ENTRY_SIZE = 32
SECTION_TABLE_OFFSET = HEADER_SIZE
SECTION_ALIGNMENT = 8
TENSOR_ALIGNMENT = 64  # tensors, and the DATA section itself
SECTION_FLAG_OPTIONAL = 1

# Section kinds (append-only; a retired id stays reserved).
SECTION_METADATA = 1
SECTION_TENSORS = 2
SECTION_GRAPH = 3
SECTION_DATA = 4
SECTION_SELFTEST = 5  # since 1.1, always optional: reference inputs and outputs (selftest.py)
SECTION_NAMES = {SECTION_METADATA: "METADATA", SECTION_TENSORS: "TENSORS",
                 SECTION_GRAPH: "GRAPH", SECTION_DATA: "DATA", SECTION_SELFTEST: "SELFTEST"}
REQUIRED_SECTIONS = (SECTION_METADATA, SECTION_TENSORS, SECTION_GRAPH, SECTION_DATA)
# The order this writer lays sections out in (any order is valid, DATA is 64-aligned).
WRITE_ORDER = REQUIRED_SECTIONS


@dataclass(frozen=True)
class DType:
    """One row of the dtype table."""

    id: int
    name: str
    block: int  # elements per block
    bytes_per_block: int
    since: str

    def bytes_for(self, n: int) -> int:
        """Bytes for `n` elements; raises ValueError when `n` is not a whole number of blocks."""
        if n < 0 or n % self.block:
            raise ValueError(f"{n} elements is not a whole number of {self.name} blocks of {self.block}")
        return n // self.block * self.bytes_per_block


# The dtype table (ids append-only; id 0 is invalid).
DTYPES = {d.id: d for d in [
    DType(1, "f32", 1, 4, "1.0"),
    DType(2, "f16", 1, 2, "1.2"),    # weight-only (panel16 Linear weights); see quantize.py
    DType(3, "bf16", 1, 2, "1.2"),
    DType(4, "int8", 1, 1, "1.2"),   # + one f32 scale per (padded) row after the values
    DType(5, "int4", 32, 16, "1.2"),  # + one f16 scale per row and block of 32 after the values
]}
DTYPE_BY_NAME = {d.name: d for d in DTYPES.values()}
F32 = DTYPE_BY_NAME["f32"]
# Types valid only as panel16 Linear weights (format 1.2, docs/FORMAT.md "Quantized weights").
WEIGHT_ONLY_DTYPES = ("f16", "bf16", "int8", "int4")
INT4_BLOCK = 32


@dataclass(frozen=True)
class WeightEncoding:
    """One row of the weight-encoding table (docs/FORMAT.md "Weight encodings"): how a panel-layout
    weight [n, k] of one dtype × layout is stored. Mirrors Swift's StrataCore/WeightEncoding.swift
    (`strata encodings --json`; tests/test_tables_pinned.py pins the two)."""

    name: str  # as --quantize names it
    dtype: str
    layout: int
    k_alignment: int  # K as stored is padded to a multiple of this
    scales: str  # "none", "f32-per-row" or "f16-per-row-block"
    scale_block: int  # stored k per f16 scale ("f16-per-row-block"), else 0
    weight_only: bool
    since: int  # the format minor version that introduced it

    @property
    def panel_bytes_per_k(self) -> int:
        """Bytes of one panel's values (16 rows) per stored k, from the dtype table."""
        d = DTYPE_BY_NAME[self.dtype]
        return 16 * d.bytes_per_block // d.block

    def scale_bytes_per_panel(self, stored_k: int) -> int:
        """Bytes of one panel's scales for `stored_k` (already aligned) inputs."""
        if self.scales == "none":
            return 0
        if self.scales == "f32-per-row":
            return 16 * 4
        return stored_k // self.scale_block * 16 * 2


def panel16_bytes(dtype: str, n: int, k: int, layout: int = 1) -> tuple:
    """(value_bytes, scales_offset, scale_bytes, byte_size) of a panel-layout tensor [n, k] of `dtype`
    in `layout` (panel16, or panel16k4 for int8), from the weight-encoding table (Swift:
    StrataCore/QuantizedPanel16.swift)."""
    e = encoding_of(dtype, layout)
    panels = (n + 15) // 16
    stored_k = align(k, e.k_alignment)
    values = panels * stored_k * e.panel_bytes_per_k
    if e.scales == "none":
        return values, values, 0, values
    start = align(values, TENSOR_ALIGNMENT)
    scales = panels * e.scale_bytes_per_panel(stored_k)
    return values, start, scales, start + scales


# Tensor layouts (ids append-only; docs/FORMAT.md "Tensor layouts"; Swift: StrataCore/TensorLayout).
LAYOUT_ROW_MAJOR = 0
LAYOUT_PANEL16 = 1  # rank-2 [n, k] f32 weight: packed[p][kk][j] = W[16p + j][kk], zero-padded rows
# Since 1.3: rank-2 [n, k] int8 weight of the dynamic-int8 path, k in quads (pack_panel16k4).
LAYOUT_PANEL16K4 = 2
LAYOUTS = {LAYOUT_ROW_MAJOR: "row-major", LAYOUT_PANEL16: "panel16", LAYOUT_PANEL16K4: "panel16k4"}
# The weight-encoding table, f32 first (Swift: WeightEncoding.all).
WEIGHT_ENCODINGS = (
    WeightEncoding("f32", "f32", LAYOUT_PANEL16, 1, "none", 0, False, 0),
    WeightEncoding("f16", "f16", LAYOUT_PANEL16, 1, "none", 0, True, 2),
    WeightEncoding("bf16", "bf16", LAYOUT_PANEL16, 1, "none", 0, True, 2),
    WeightEncoding("int8", "int8", LAYOUT_PANEL16, 1, "f32-per-row", 0, True, 2),
    WeightEncoding("int4", "int4", LAYOUT_PANEL16, INT4_BLOCK, "f16-per-row-block", INT4_BLOCK, True, 2),
    WeightEncoding("int8-dynamic", "int8", LAYOUT_PANEL16K4, 4, "f32-per-row", 0, True, 3),
)


def encoding_of(dtype: str, layout: int) -> WeightEncoding:
    """The encoding of a `dtype` weight stored in `layout`; KeyError when there is none."""
    for e in WEIGHT_ENCODINGS:
        if e.dtype == dtype and e.layout == layout:
            return e
    raise KeyError(f"no weight encoding stores {dtype} in layout {LAYOUTS.get(layout, layout)}")


# Largest k of a panel16k4 weight: floor((2^31 - 1) / 127^2), so int32 dot products cannot overflow.
MAX_DYNAMIC_K = 133_144


def stored_elements(layout: int, dims) -> int | None:
    """Elements stored for a tensor of `dims` in `layout`; None when the layout does not apply."""
    if layout == LAYOUT_ROW_MAJOR:
        n = 1
        for d in dims:
            n *= d
        return n
    if layout == LAYOUT_PANEL16 and len(dims) == 2:
        return (dims[0] + 15) // 16 * dims[1] * 16
    if layout == LAYOUT_PANEL16K4 and len(dims) == 2:
        return (dims[0] + 15) // 16 * align(dims[1], 4) * 16
    return None


def pack_panel16(w, fill=0):
    """Row-major [n, k] → panel16 storage order (1-D, w's dtype, padded rows = `fill`)."""
    import numpy as np
    n, k = w.shape
    panels = (n + 15) // 16
    padded = np.full((panels * 16, k), fill, dtype=w.dtype)
    padded[:n] = w
    return np.ascontiguousarray(padded.reshape(panels, 16, k).transpose(0, 2, 1)).reshape(-1)


def unpack_panel16(stored, n: int, k: int):
    """panel16 storage (1-D) → row-major [n, k]."""
    panels = (n + 15) // 16
    return stored.reshape(panels, k, 16).transpose(0, 2, 1).reshape(panels * 16, k)[:n].copy()

def pack_panel16k4(w):
    """Row-major [n, k] → panel16k4 storage order (1-D, w's dtype, zero padding): with
    Kq = align(k, 4) / 4, element ((p·Kq + q)·2 + h)·32 + j·4 + t = W[16p + 8h + j][4q + t]."""
    import numpy as np
    n, k = w.shape
    panels, kq = (n + 15) // 16, align(k, 4) // 4
    padded = np.zeros((panels * 16, kq * 4), dtype=w.dtype)
    padded[:n, :k] = w
    # [p][h][j][q][t] → [p][q][h][j][t]
    return np.ascontiguousarray(padded.reshape(panels, 2, 8, kq, 4).transpose(0, 3, 1, 2, 4)).reshape(-1)


def unpack_panel16k4(stored, n: int, k: int):
    """panel16k4 storage (1-D) → row-major [n, k]."""
    panels, kq = (n + 15) // 16, align(k, 4) // 4
    w = stored.reshape(panels, kq, 2, 8, 4).transpose(0, 2, 3, 1, 4).reshape(panels * 16, kq * 4)
    return w[:n, :k].copy()


# Attribute types.
ATTR_INT = 1
ATTR_FLOAT = 2
ATTR_INTS = 3
ATTR_STRING = 4
ATTR_TYPE_NAMES = {ATTR_INT: "int", ATTR_FLOAT: "float", ATTR_INTS: "ints", ATTR_STRING: "string"}

# Caps.
MAX_NAME_BYTES = 1024            # tensor, value, node, op, attribute and metadata key names
MAX_METADATA_VALUE_BYTES = 1 << 20
MAX_STRING_ATTR_BYTES = 1024     # FORMAT.md does not say; treated as a name (as the Swift reader does)
MAX_METADATA_ENTRIES = 1024
MAX_SECTIONS = 64
MAX_TENSORS = 65536
MAX_RANK = 8
MAX_DIM = 1 << 32
MAX_GRAPH_IO = 64
MAX_NODES = 65536
MAX_NODE_INPUTS = 16
MAX_NODE_OUTPUTS = 16
MAX_ATTRS = 32
MAX_ATTR_INTS = 16
U64_MAX = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(frozen=True)
class OpSchema:
    """Structure of one op: input counts, which inputs may be "", its attributes and their types."""

    name: str
    min_inputs: int
    max_inputs: int
    optional_inputs: frozenset = frozenset()
    attrs: tuple = ()  # ((key, attr type, default), ...)
    n_outputs: int = 1
    since: int = 0  # the minor version that introduced the op

    def attr_types(self) -> dict:
        """Attribute key -> attribute type id."""
        return {k: t for k, t, _ in self.attrs}


# Recurrent attributes of format 1.5: H0/C0 as [N, S, H] starting from row state_index, and the
# time direction ("forward" or "reverse"; a bidirectional layer is one of each).
RECURRENT_1_5 = (("state_index", ATTR_INT, 0), ("direction", ATTR_STRING, "forward"))

OPS = {s.name: s for s in [
    OpSchema("Linear", 2, 3, frozenset({2})),
    OpSchema("Relu", 1, 1),
    OpSchema("Sigmoid", 1, 1),
    OpSchema("Tanh", 1, 1),
    OpSchema("Softmax", 1, 1, attrs=(("axis", ATTR_INT, -1),)),
    OpSchema("LogSoftmax", 1, 1, attrs=(("axis", ATTR_INT, -1),)),
    OpSchema("Identity", 1, 1),
    OpSchema("Flatten", 1, 1, attrs=(("axis", ATTR_INT, 1),)),
    OpSchema("Reshape", 1, 1, attrs=(("shape", ATTR_INTS, None),)),
    OpSchema("Add", 2, 2),
    # Ops (1.2)
    OpSchema("Sub", 2, 2, since=2),
    OpSchema("Mul", 2, 2, since=2),
    OpSchema("Div", 2, 2, since=2),
    OpSchema("LeakyRelu", 1, 1, attrs=(("alpha", ATTR_FLOAT, 0.01),), since=2),
    OpSchema("Gelu", 1, 1, attrs=(("approximate", ATTR_STRING, "none"),), since=2),
    OpSchema("Silu", 1, 1, since=2),
    OpSchema("Erf", 1, 1, since=2),
    OpSchema("LayerNormalization", 2, 3, frozenset({2}),
             (("axis", ATTR_INT, -1), ("epsilon", ATTR_FLOAT, 1e-5)), since=2),
    OpSchema("Conv", 2, 3, frozenset({2}),
             (("strides", ATTR_INTS, [1, 1]), ("pads", ATTR_INTS, [0, 0, 0, 0]),
              ("dilations", ATTR_INTS, [1, 1]), ("group", ATTR_INT, 1)), since=2),
    OpSchema("MaxPool", 1, 1, attrs=(("kernel_shape", ATTR_INTS, None), ("strides", ATTR_INTS, [1, 1]),
                                     ("pads", ATTR_INTS, [0, 0, 0, 0]), ("dilations", ATTR_INTS, [1, 1]),
                                     ("ceil_mode", ATTR_INT, 0)), since=2),
    OpSchema("AveragePool", 1, 1, attrs=(("kernel_shape", ATTR_INTS, None), ("strides", ATTR_INTS, [1, 1]),
                                         ("pads", ATTR_INTS, [0, 0, 0, 0]), ("dilations", ATTR_INTS, [1, 1]),
                                         ("ceil_mode", ATTR_INT, 0), ("count_include_pad", ATTR_INT, 0)), since=2),
    OpSchema("GlobalAveragePool", 1, 1, since=2),
    # state_index and direction: format 1.5 (a file that sets them is 1.5: validate.minor_version)
    OpSchema("RNN", 3, 6, frozenset({3, 4, 5}),
             (("hidden_size", ATTR_INT, None), ("activation", ATTR_STRING, "tanh")) + RECURRENT_1_5, n_outputs=2, since=2),
    OpSchema("GRU", 3, 6, frozenset({3, 4, 5}),
             (("hidden_size", ATTR_INT, None), ("linear_before_reset", ATTR_INT, 0)) + RECURRENT_1_5, n_outputs=2, since=2),
    OpSchema("LSTM", 3, 7, frozenset({3, 4, 5, 6}), (("hidden_size", ATTR_INT, None),) + RECURRENT_1_5, n_outputs=3, since=2),
    # Ops (1.4)
    OpSchema("Clip", 1, 1, attrs=(("min", ATTR_FLOAT, float("-inf")), ("max", ATTR_FLOAT, float("inf"))), since=4),
    OpSchema("HardSigmoid", 1, 1, attrs=(("alpha", ATTR_FLOAT, 0.2), ("beta", ATTR_FLOAT, 0.5)), since=4),
    OpSchema("HardSwish", 1, 1, since=4),
    OpSchema("Concat", 1, 16, attrs=(("axis", ATTR_INT, None),), since=4),
    # Ops (1.5), issue 15 part A: elementwise, shape and reduction ops
    OpSchema("Elu", 1, 1, attrs=(("alpha", ATTR_FLOAT, 1.0),), since=5),
    OpSchema("Selu", 1, 1, since=5),
    OpSchema("Softplus", 1, 1, attrs=(("beta", ATTR_FLOAT, 1.0), ("threshold", ATTR_FLOAT, float("inf"))), since=5),
    OpSchema("Mish", 1, 1, since=5),
    OpSchema("Abs", 1, 1, since=5),
    OpSchema("Neg", 1, 1, since=5),
    OpSchema("Sqrt", 1, 1, since=5),
    OpSchema("Pow", 1, 1, attrs=(("exponent", ATTR_FLOAT, None),), since=5),
    OpSchema("Exp", 1, 1, since=5),
    OpSchema("Log", 1, 1, since=5),
    OpSchema("Reciprocal", 1, 1, since=5),
    OpSchema("Transpose", 1, 1, attrs=(("perm", ATTR_INTS, None),), since=5),
    OpSchema("Slice", 1, 1, attrs=(("starts", ATTR_INTS, None), ("ends", ATTR_INTS, None), ("axes", ATTR_INTS, None),
                                   ("steps", ATTR_INTS, None)), since=5),
    OpSchema("ReduceMean", 1, 1, attrs=(("axes", ATTR_INTS, None), ("keepdims", ATTR_INT, 1)), since=5),
    OpSchema("ReduceSum", 1, 1, attrs=(("axes", ATTR_INTS, None), ("keepdims", ATTR_INT, 1)), since=5),
    OpSchema("ReduceMax", 1, 1, attrs=(("axes", ATTR_INTS, None), ("keepdims", ATTR_INT, 1)), since=5),
    # Ops (1.5), issue 15 part B: spatial ops (spatial.py)
    OpSchema("ConvTranspose", 2, 3, frozenset({2}),
             (("strides", ATTR_INTS, [1, 1]), ("pads", ATTR_INTS, [0, 0, 0, 0]), ("dilations", ATTR_INTS, [1, 1]),
              ("group", ATTR_INT, 1), ("output_padding", ATTR_INTS, [0, 0])), since=5),
    OpSchema("Resize", 1, 1, attrs=(("mode", ATTR_STRING, "nearest"), ("coordinate_transformation_mode", ATTR_STRING, "half_pixel"),
                                    ("sizes", ATTR_INTS, None), ("scale_h", ATTR_FLOAT, 0.0), ("scale_w", ATTR_FLOAT, 0.0)), since=5),
    OpSchema("Pad", 1, 1, attrs=(("pads", ATTR_INTS, None), ("mode", ATTR_STRING, "constant"), ("value", ATTR_FLOAT, 0.0)), since=5),
]}
BINARY_OPS = ("Add", "Sub", "Mul", "Div")  # elementwise with broadcasting (1.2); either input may be a tensor
OP_NAMES = tuple(OPS)

# Well-known metadata keys.
META_PRODUCER = "producer"
META_SOURCE_FRAMEWORK = "source_framework"
META_MODEL_NAME = "model_name"
META_CLASS_LABELS = "class_labels"
META_DESCRIPTION = "description"
META_PAYLOAD_SHA256 = "payload_sha256"  # since 1.1, see integrity.py
META_QUANTIZATION = "quantization"  # since 1.2: the converter's accuracy report (quantize.py)

# Reader statuses (names and codes of include/strata.h).
STATUS_CODES = {
    "TRUNCATED": -4, "BAD_MAGIC": -5, "UNSUPPORTED_VERSION": -6, "CHECKSUM_MISMATCH": -7,
    "MALFORMED": -8, "UNSUPPORTED": -9, "SHAPE_MISMATCH": -10,
}


def align(x: int, a: int) -> int:
    """Round `x` up to a multiple of `a`."""
    return (x + a - 1) // a * a
