"""Reference quantizers and dequantizers (numpy) for the weight dtypes of format 1.2, and their
panel16 byte encoding (docs/FORMAT.md "Quantized weights").

The Swift runtime decodes the same bytes to the same f32 values bit for bit
(`dequantize_panel16_reference` in StrataKernels; `strata tensor FILE NAME` prints them), which
the converter tests check. Rounding is round-half-to-even everywhere; every division and
multiplication is a single f32 operation, so both sides compute identical bits.

- f16:  `w` rounded to IEEE binary16.
- bf16: the high 16 bits of `w` after rounding the low 16 bits half-to-even.
- int8: per output row `r`, `scale[r] = f32(max|w[r]|) / 127` (f32 division); `q = clip(rint(w /
  scale), -127, 127)` (0 when the scale is 0); dequantized `f32(q) · scale`.
- int4: per row and block of 32 along K (the last block may be short), `scale = f16(max|w| / 7)`;
  `q = clip(rint(w / f32(scale)), -7, 7)` (0 when the scale is 0); dequantized `f32(q) · f32(scale)`.
"""
from dataclasses import dataclass

import numpy as np

from . import format as fmt
from .errors import ConversionError

PRECISIONS = ("f32", "f16", "bf16", "int8", "int4")


@dataclass(eq=False)
class Quantized:
    """A weight [n, k] in one of the weight-only dtypes.

    values: f16 → float16 [n, k]; bf16 → uint16 bit patterns [n, k]; int8 → int8 [n, k] in
    [-127, 127]; int4 → int8 [n, k] in [-7, 7].
    scales: int8 → float32 [n]; int4 → float16 [n, ceil(k / 32)]; otherwise None.
    """

    dtype: str
    values: np.ndarray
    scales: np.ndarray = None

    @property
    def shape(self):
        return self.values.shape

    def __eq__(self, other):
        return (isinstance(other, Quantized) and self.dtype == other.dtype
                and self.values.dtype == other.values.dtype and self.values.shape == other.values.shape
                and self.values.tobytes() == other.values.tobytes()
                and (self.scales is None) == (other.scales is None)
                and (self.scales is None or self.scales.tobytes() == other.scales.tobytes()))


def quantize(w, dtype: str, name: str = "weight") -> Quantized:
    """Quantize a finite f32 matrix [n, k]; raises ConversionError when it cannot be represented."""
    w = np.ascontiguousarray(np.asarray(w, dtype=np.float32))
    if w.ndim != 2:
        raise ConversionError(f"cannot quantize '{name}': it has shape {list(w.shape)}, not [out, in]")
    if not np.isfinite(w).all():
        raise ConversionError(f"cannot quantize '{name}': it holds non-finite values")
    if dtype == "f16":
        with np.errstate(over="ignore"):
            h = w.astype(np.float16)
        if not np.isfinite(h).all():
            raise ConversionError(f"cannot store '{name}' as f16: a value exceeds 65504 in magnitude")
        return Quantized("f16", h)
    if dtype == "bf16":
        bits = w.view(np.uint32).astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        if ((rounded & 0x7F80) == 0x7F80).any():
            raise ConversionError(f"cannot store '{name}' as bf16: a value rounds to infinity")
        return Quantized("bf16", rounded.astype(np.uint16))
    if dtype == "int8":
        amax = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(w.shape[0], np.float32)
        scale = (amax.astype(np.float32) / np.float32(127)).astype(np.float32)
        return Quantized("int8", _round_clip(w, scale[:, None], 127), scale)
    if dtype == "int4":
        n, k = w.shape
        kp = fmt.align(k, fmt.INT4_BLOCK)
        padded = np.zeros((n, kp), np.float32)
        padded[:, :k] = w
        blocks = padded.reshape(n, kp // fmt.INT4_BLOCK, fmt.INT4_BLOCK)
        amax = np.abs(blocks).max(axis=2) if kp else np.zeros((n, 0), np.float32)
        with np.errstate(over="ignore"):
            scale = (amax.astype(np.float32) / np.float32(7)).astype(np.float16)
        if not np.isfinite(scale).all():
            raise ConversionError(f"cannot store '{name}' as int4: a block's scale exceeds the f16 range")
        q = _round_clip(blocks, scale.astype(np.float32)[:, :, None], 7).reshape(n, kp)[:, :k]
        return Quantized("int4", np.ascontiguousarray(q), scale)
    raise ConversionError(f"unknown precision {dtype!r}; expected one of {', '.join(PRECISIONS)}")


def _round_clip(w, scale, limit):
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.rint(w / scale)  # f32 / f32 → f32; rint rounds half to even
    q = np.where(scale > 0, q, 0)
    return np.clip(q, -limit, limit).astype(np.int8)


def dequantize(q: Quantized) -> np.ndarray:
    """The f32 matrix [n, k] the runtime computes with (exactly, bit for bit)."""
    if q.dtype == "f16":
        return q.values.astype(np.float32)
    if q.dtype == "bf16":
        return (q.values.astype(np.uint32) << 16).view(np.float32)
    if q.dtype == "int8":
        return (q.values.astype(np.float32) * q.scales[:, None]).astype(np.float32)
    if q.dtype == "int4":
        n, k = q.values.shape
        s = np.repeat(q.scales.astype(np.float32), fmt.INT4_BLOCK, axis=1)[:, :k]
        return (q.values.astype(np.float32) * s).astype(np.float32)
    raise ValueError(q.dtype)


def encode_panel16(q: Quantized) -> bytes:
    """The tensor's bytes in the file (values region, zero padding, scales region)."""
    n, k = q.values.shape
    value_bytes, scales_offset, _, total = fmt.panel16_bytes(q.dtype, n, k)
    panels = (n + 15) // 16
    if q.dtype in ("f16", "bf16"):
        raw = fmt.pack_panel16(q.values.view(np.uint16)).astype("<u2").tobytes()
    elif q.dtype == "int8":
        raw = fmt.pack_panel16(q.values).tobytes()
    else:  # int4: byte (p·Kp + kk)·8 + j = (q[16p+j] + 8) | (q[16p+j+8] + 8) << 4
        kp = fmt.align(k, fmt.INT4_BLOCK)
        nib = np.full((panels * 16, kp), 8, np.uint8)
        nib[:n, :k] = (q.values.astype(np.int16) + 8).astype(np.uint8)
        nib = nib.reshape(panels, 16, kp).transpose(0, 2, 1)  # [p][kk][j]
        raw = np.ascontiguousarray(nib[:, :, :8] | (nib[:, :, 8:] << 4)).tobytes()
    assert len(raw) == value_bytes
    if q.dtype == "int8":
        scales = np.zeros(panels * 16, "<f4")
        scales[:n] = q.scales
        raw += bytes(scales_offset - value_bytes) + scales.tobytes()
    elif q.dtype == "int4":
        blocks = q.scales.shape[1]
        s = np.zeros((panels * 16, blocks), np.float16)
        s[:n] = q.scales
        raw += bytes(scales_offset - value_bytes) + np.ascontiguousarray(
            s.reshape(panels, 16, blocks).transpose(0, 2, 1)).astype("<f2").tobytes()
    assert len(raw) == total
    return raw


def decode_panel16(dtype: str, raw, n: int, k: int) -> Quantized:
    """Inverse of `encode_panel16` for the bytes of one tensor."""
    value_bytes, scales_offset, scale_bytes, _ = fmt.panel16_bytes(dtype, n, k)
    panels = (n + 15) // 16
    buf = np.frombuffer(raw, np.uint8)
    if dtype in ("f16", "bf16"):
        bits = fmt.unpack_panel16(buf[:value_bytes].view("<u2"), n, k)
        return Quantized(dtype, bits.view(np.float16) if dtype == "f16" else bits.astype(np.uint16))
    if dtype == "int8":
        values = fmt.unpack_panel16(buf[:value_bytes].view(np.int8), n, k)
        scales = buf[scales_offset:scales_offset + scale_bytes].view("<f4")[:n].astype(np.float32)
        return Quantized("int8", values, scales)
    kp = fmt.align(k, fmt.INT4_BLOCK)
    b = buf[:value_bytes].reshape(panels, kp, 8)
    nib = np.concatenate([b & 15, b >> 4], axis=2).transpose(0, 2, 1).reshape(panels * 16, kp)  # [row][kk]
    values = np.ascontiguousarray((nib[:n, :k].astype(np.int16) - 8).astype(np.int8))
    blocks = kp // fmt.INT4_BLOCK
    s = buf[scales_offset:scales_offset + scale_bytes].view("<f2").reshape(panels, blocks, 16)
    scales = np.ascontiguousarray(s.transpose(0, 2, 1).reshape(panels * 16, blocks)[:n]).astype(np.float16)
    return Quantized("int4", values, scales)


def check_encoded(dtype: str, raw, n: int, k: int):
    """The content rules a reader enforces (docs/FORMAT.md rule 14); returns a message or None."""
    value_bytes, scales_offset, scale_bytes, _ = fmt.panel16_bytes(dtype, n, k)
    buf = np.frombuffer(raw, np.uint8)
    if dtype == "int8":
        bad = np.flatnonzero(buf[:value_bytes] == 0x80)
        if bad.size:
            return f"has the value -128 at byte {bad[0]}; int8 weights are in [-127, 127]"
        s = buf[scales_offset:scales_offset + scale_bytes].view("<f4")
        bad = np.flatnonzero(~(np.isfinite(s) & (s >= 0)))
        if bad.size:
            return f"has scale {s[bad[0]]} for row {bad[0]}; scales are finite and ≥ 0"
    if dtype == "int4":
        v = buf[:value_bytes]
        bad = np.flatnonzero(((v & 15) == 0) | ((v >> 4) == 0))
        if bad.size:
            return f"has the value -8 (nibble 0) at byte {bad[0]}; int4 weights are in [-7, 7], stored as value + 8"
        s = buf[scales_offset:scales_offset + scale_bytes].view("<f2")
        bad = np.flatnonzero(~(np.isfinite(s) & (s >= 0)))
        if bad.size:
            return f"has a negative or non-finite f16 scale at index {bad[0]}; scales are finite f16 values ≥ 0"
    return None
