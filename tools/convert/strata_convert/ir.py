"""The in-memory graph the converter builds, the writer stores and the reader returns."""
from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Tensor:
    """A stored weight: a unique name and its values (converted to C-contiguous f32).

    A quantized weight (format 1.2) keeps its encoded form in `quantized` (a
    `quantize.Quantized`, written as is) and its dequantized values in `array`, which is what the
    runtime computes with; `Tensor.quantized_as` makes one.
    """

    name: str
    array: np.ndarray
    layout: int = 0  # format.LAYOUT_*: how the writer stores `array` (always logical here)
    quantized: object = None  # quantize.Quantized, or None for f32

    def __post_init__(self):
        self.array = np.ascontiguousarray(np.asarray(self.array, dtype=np.float32))

    @property
    def dtype(self) -> str:
        """The stored dtype's name: "f32", or the quantized weight's dtype."""
        return "f32" if self.quantized is None else self.quantized.dtype

    @property
    def precision(self) -> str:
        """The converter's precision name: the dtype, or "int8-dynamic" (int8 in layout panel16k4)."""
        return "f32" if self.quantized is None else self.quantized.precision

    def quantized_as(self, dtype: str) -> "Tensor":
        """This rank-2 weight stored as `dtype` (f32, f16, bf16, int8, int4 in layout panel16, or
        int8-dynamic: int8 in layout panel16k4)."""
        from .quantize import dequantize, quantize
        if dtype == "f32":
            return Tensor(self.name, self.array, self.layout)
        q = quantize(self.array, dtype, self.name)
        return Tensor(self.name, dequantize(q), q.layout, q)

    def __eq__(self, other):
        return (isinstance(other, Tensor) and self.name == other.name and self.layout == other.layout
                and self.quantized == other.quantized
                and self.array.shape == other.array.shape
                and self.array.tobytes() == other.array.tobytes())

    def __repr__(self):
        return f"Tensor({self.name!r}, shape={list(self.array.shape)})"


@dataclass
class ValueInfo:
    """A graph input or output: dims[0] is the batch and is -1."""

    name: str
    dtype: str = "f32"
    dims: list = field(default_factory=list)


@dataclass
class Node:
    """One op application. `attrs` maps key -> int, float, list of ints or str (kept in order)."""

    op: str
    name: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)


@dataclass
class Graph:
    """A whole model: inputs, outputs, nodes in topological order, tensors and metadata."""

    inputs: list
    outputs: list
    nodes: list
    tensors: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)

    def tensor_map(self) -> dict:
        """Tensor name -> Tensor."""
        return {t.name: t for t in self.tensors}

    def parameter_count(self) -> int:
        """Number of stored elements."""
        return sum(int(t.array.size) for t in self.tensors)
