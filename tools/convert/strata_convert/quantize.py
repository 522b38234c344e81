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
- int8-dynamic (format 1.3): the int8 weights above in layout panel16k4; a Linear with such a
  weight quantizes its input rows at run time and sums in int32 (docs/FORMAT.md "Dynamic int8").
  `dynamic_linear` is the reference of that arithmetic, bit for bit what the runtime computes.
"""
from dataclasses import dataclass

import numpy as np

from . import format as fmt
from .errors import ConversionError

PRECISIONS = ("f32", "f16", "bf16", "int8", "int4", "int8-dynamic")


@dataclass(eq=False)
class Quantized:
    """A weight [n, k] in one of the weight-only dtypes.

    values: f16 → float16 [n, k]; bf16 → uint16 bit patterns [n, k]; int8 → int8 [n, k] in
    [-127, 127]; int4 → int8 [n, k] in [-7, 7].
    scales: int8 → float32 [n]; int4 → float16 [n, ceil(k / 32)]; otherwise None.
    layout: format.LAYOUT_PANEL16, or LAYOUT_PANEL16K4 for int8 of the dynamic-int8 path.
    """

    dtype: str
    values: np.ndarray
    scales: np.ndarray = None
    layout: int = fmt.LAYOUT_PANEL16

    @property
    def precision(self) -> str:
        """The converter's name for it: the dtype, or "int8-dynamic" for int8 in panel16k4."""
        return "int8-dynamic" if self.layout == fmt.LAYOUT_PANEL16K4 else self.dtype

    @property
    def shape(self):
        return self.values.shape

    def __eq__(self, other):
        return (isinstance(other, Quantized) and self.dtype == other.dtype and self.layout == other.layout
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
    if dtype in ("int8", "int8-dynamic"):
        if dtype == "int8-dynamic" and w.shape[1] > fmt.MAX_DYNAMIC_K:
            raise ConversionError(f"cannot store '{name}' as int8-dynamic: it has {w.shape[1]} inputs, more than "
                                  f"{fmt.MAX_DYNAMIC_K} (its int32 dot products could overflow)")
        amax = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(w.shape[0], np.float32)
        scale = (amax.astype(np.float32) / np.float32(127)).astype(np.float32)
        layout = fmt.LAYOUT_PANEL16K4 if dtype == "int8-dynamic" else fmt.LAYOUT_PANEL16
        return Quantized("int8", _round_clip(w, scale[:, None], 127), scale, layout)
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
    value_bytes, scales_offset, _, total = fmt.panel16_bytes(q.dtype, n, k, q.layout)
    panels = (n + 15) // 16
    if q.layout == fmt.LAYOUT_PANEL16K4:
        raw = fmt.pack_panel16k4(q.values).tobytes()
    elif q.dtype in ("f16", "bf16"):
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


def decode_panel16(dtype: str, raw, n: int, k: int, layout: int = fmt.LAYOUT_PANEL16) -> Quantized:
    """Inverse of `encode_panel16` for the bytes of one tensor."""
    value_bytes, scales_offset, scale_bytes, _ = fmt.panel16_bytes(dtype, n, k, layout)
    panels = (n + 15) // 16
    buf = np.frombuffer(raw, np.uint8)
    if layout == fmt.LAYOUT_PANEL16K4:
        values = fmt.unpack_panel16k4(buf[:value_bytes].view(np.int8), n, k)
        scales = buf[scales_offset:scales_offset + scale_bytes].view("<f4")[:n].astype(np.float32)
        return Quantized("int8", values, scales, layout)
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


def check_encoded(dtype: str, raw, n: int, k: int, layout: int = fmt.LAYOUT_PANEL16):
    """The content rules a reader enforces (docs/FORMAT.md rules 14, 15); returns a message or None."""
    value_bytes, scales_offset, scale_bytes, _ = fmt.panel16_bytes(dtype, n, k, layout)
    buf = np.frombuffer(raw, np.uint8)
    if layout == fmt.LAYOUT_PANEL16K4:
        padded = np.ones(((n + 15) // 16 * 16, fmt.align(k, 4)), bool)
        padded[:n, :k] = False
        bad = np.flatnonzero(fmt.pack_panel16k4(padded) & (buf[:value_bytes] != 0))
        if bad.size:
            return (f"has a non-zero padding value at byte {bad[0]}; padding (rows ≥ {n}, columns ≥ {k}) is 0")
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


# ---- the dynamic-int8 arithmetic (docs/FORMAT.md "Dynamic int8") ----

_TINY = np.float32(2.0 ** -126)  # the smallest normal f32
_MIN_MAX_BITS = 0x0D800000       # 2^-100: rows whose max|x| is smaller quantize to zeros
_INF_BITS = 0x7F800000


def _flush(x):
    """x86's FTZ/DAZ, which the runtime runs under: a value below 2^-126 in magnitude is a zero
    of its sign, both as an operand and as a result."""
    x = np.asarray(x, np.float32)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(x) < _TINY, np.copysign(np.float32(0), x), x).astype(np.float32)


def dynamic_quantize_rows(x):
    """Step 2 of "Dynamic int8" for the rows of x [m, k] (f32): (q int8 [m, k], s f32 [m]).
    max|x| is taken on the bit patterns (exact; NaN and ±Inf sort above every finite value):
    a row holding a NaN or an infinity gets s = NaN, a row whose max|x| < 2^-100 gets s = 0, both
    with q = 0; otherwise s = max|x| / 127, r = 127 / max|x| (f32 divisions) and
    q = clip(rint(x · r), -127, 127) (one f32 multiply, rounding half to even)."""
    x = np.ascontiguousarray(x, np.float32)
    m, k = x.shape
    bits = (x.view(np.uint32) & np.uint32(0x7FFFFFFF)).max(axis=1) if k else np.zeros(m, np.uint32)
    amax = bits.view(np.float32)
    ok = (bits >= _MIN_MAX_BITS) & (bits < _INF_BITS)
    with np.errstate(all="ignore"):
        s = np.where(ok, amax / np.float32(127), np.where(bits >= _INF_BITS, np.float32(np.nan), np.float32(0)))
        r = np.where(ok, np.float32(127) / amax, np.float32(0)).astype(np.float32)
        v = np.rint(_flush(x * r[:, None]))
        q = np.where(ok[:, None], np.clip(v, -127, 127), 0).astype(np.int8)
    return q, s.astype(np.float32)


def dynamic_linear(x, q: Quantized, bias=None):
    """A Linear with an int8-dynamic weight, before its activation, exactly as the runtime computes
    it (x86): per row of x [..., k] (as f32) the quantization above, the exact integer sums
    acc = q_x · q_wᵀ, then y = f32(acc) · (s · scale[j]) and, with a bias, + bias[j] — each an f32
    operation rounding to nearest even, with x86's flushing of subnormals. Returns f32 [..., n]."""
    x = np.asarray(x, np.float32)
    lead, k = x.shape[:-1], x.shape[-1]
    qx, s = dynamic_quantize_rows(x.reshape(-1, k))
    # |q| ≤ 127 and k ≤ MAX_DYNAMIC_K: every partial sum is an integer below 2^31, so float64
    # arithmetic (BLAS, any order) is exact; f32(acc) then rounds once, as int32 → f32 does.
    acc = (qx.astype(np.float64) @ q.values.astype(np.float64).T).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        y = _flush(acc * _flush(_flush(s)[:, None] * _flush(q.scales)[None, :]))
        if bias is not None:
            y = _flush(y + _flush(np.asarray(bias, np.float32)))
    return y.reshape(*lead, q.values.shape[0])
