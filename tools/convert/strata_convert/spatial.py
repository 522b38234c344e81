"""The spatial ops of format 1.5 (issue 15 part B) from every source: `ConvTranspose` (autoencoders,
decoders), `Resize` (upsampling: nearest and bilinear, align_corners both ways, by scale or size)
and `Pad` (constant, reflect, edge) — their shape rules (validate), numpy references (numpy_ref),
and the torch.fx, TorchScript and ONNX converters. 1-D forms (`ConvTranspose1d`, `F.pad` and
`F.interpolate` on `[N, C, L]`) run through the 2-D op on `[N, C, 1, L]` (spatial1d.lower)."""
import math

import numpy as np

from .errors import FormatError, attribute_ints as _ints


def unsupported(site, why):
    from .builder import unsupported as make  # builder imports validate, which imports this module
    return make(site, why)


# ---- shape rules (validate.py) -------------------------------------------------------------------

def _planes(label, shapes):
    x = shapes[0][1]
    if len(x) != 4:
        raise FormatError("SHAPE_MISMATCH", f"{label}: input shape {x} is not [N, C, H, W]")
    return x


def conv_transpose_extent(size, stride, pad_before, pad_after, dilation, kernel, extra):
    """(size − 1)·stride − pads + dilation·(kernel − 1) + output_padding + 1."""
    return (size - 1) * stride - pad_before - pad_after + dilation * (kernel - 1) + extra + 1


def _infer_conv_transpose(label, shapes, attrs):
    x = _planes(label, shapes)
    kind_w, w = shapes[1]
    if kind_w != "tensor" or len(w) != 4:
        raise FormatError("UNSUPPORTED" if kind_w != "tensor" else "SHAPE_MISMATCH",
                          f"{label}: W must be a tensor [C, M/group, kH, kW]")
    g = attrs["group"]
    if g < 1 or w[0] != x[1] or x[1] % g:
        raise FormatError("SHAPE_MISMATCH", f"{label}: input {x}, weight {w} and group {g} do not match")
    m = w[1] * g
    if len(shapes) > 2 and shapes[2][0] is not None and (shapes[2][0] != "tensor" or shapes[2][1] != [m]):
        raise FormatError("SHAPE_MISMATCH", f"{label}: bias must be a tensor [{m}]")
    s, p = _ints(label, attrs, "strides", 2, 1), _ints(label, attrs, "pads", 4, 0)
    d, e = _ints(label, attrs, "dilations", 2, 1), _ints(label, attrs, "output_padding", 2, 0)
    if any(e[i] >= max(s[i], d[i]) for i in range(2)):
        raise FormatError("MALFORMED", f"{label}: output_padding {e} must be smaller than the stride or dilation")
    out = [conv_transpose_extent(x[2 + i], s[i], p[i], p[i + 2], d[i], w[2 + i], e[i]) for i in range(2)]
    if min(out) < 1:
        raise FormatError("SHAPE_MISMATCH", f"{label}: pads {p} leave an empty output")
    return [-1, m] + out


RESIZE_MODES = {("nearest", "asymmetric"), ("linear", "half_pixel"), ("linear", "align_corners")}


def _infer_resize(label, shapes, attrs):
    x = _planes(label, shapes)
    sizes = _ints(label, attrs, "sizes", 2, 1)
    if (attrs["mode"], attrs["coordinate_transformation_mode"]) not in RESIZE_MODES:
        raise FormatError("UNSUPPORTED", f"{label}: mode {attrs['mode']!r} with coordinate_transformation_mode "
                                         f"{attrs['coordinate_transformation_mode']!r}")
    for k in ("scale_h", "scale_w"):
        if not (math.isfinite(attrs[k]) and attrs[k] >= 0):
            raise FormatError("MALFORMED", f"{label}: {k} {attrs[k]} must be finite and ≥ 0")
    return [-1, x[1]] + sizes


def _infer_pad(label, shapes, attrs):
    x = _planes(label, shapes)
    p = _ints(label, attrs, "pads", 4, 0)
    if attrs["mode"] not in ("constant", "reflect", "edge"):
        raise FormatError("UNSUPPORTED", f"{label}: mode {attrs['mode']!r} (constant, reflect or edge)")
    if attrs["mode"] == "reflect" and (p[0] >= x[2] or p[2] >= x[2] or p[1] >= x[3] or p[3] >= x[3]):
        raise FormatError("SHAPE_MISMATCH", f"{label}: reflect pads {p} must be smaller than the padded dims {x[2:]}")
    return [-1, x[1], x[2] + p[0] + p[2], x[3] + p[1] + p[3]]


INFER = {"ConvTranspose": _infer_conv_transpose, "Resize": _infer_resize, "Pad": _infer_pad}


# ---- numpy references (numpy_ref.py) ---------------------------------------------------------------

def _ref_conv_transpose(args, attrs, dtype):
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 and args[2] is not None else None
    n, c, h, wd = x.shape
    g = attrs["group"]
    cg, mg = c // g, w.shape[1]
    (sh, sw), (dh, dw) = attrs["strides"], attrs["dilations"]
    pt, pl, pb, pr = attrs["pads"]
    kh, kw = w.shape[2:]
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + attrs["output_padding"][0]
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + attrs["output_padding"][1]
    y = np.zeros((n, mg * g, full_h, full_w), dtype)
    for gi in range(g):
        xs, ws = x[:, gi * cg:(gi + 1) * cg], w[gi * cg:(gi + 1) * cg]
        for ky in range(kh):
            for kx in range(kw):
                contrib = np.einsum("nchw,cm->nmhw", xs, ws[:, :, ky, kx])
                y[:, gi * mg:(gi + 1) * mg, ky * dh:ky * dh + (h - 1) * sh + 1:sh, kx * dw:kx * dw + (wd - 1) * sw + 1:sw] += contrib
    y = y[:, :, pt:full_h - pb, pl:full_w - pr]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def resize_taps(size_in, size_out, scale, mode, coordinates):
    """(index0, index1, weight0, weight1) per output position of one axis, computed in f32 as
    PyTorch (and the runtime's planner) do; `scale` > 0 is the given output/input scale."""
    f = np.float32
    inverse = f(1.0 / scale) if scale > 0 else f(size_in) / f(size_out)
    dst = np.arange(size_out)
    if mode == "nearest":
        i0 = np.minimum(np.floor(dst.astype(f) * inverse).astype(np.int64), size_in - 1)
        return i0, i0, np.ones(size_out, f), np.zeros(size_out, f)
    if coordinates == "align_corners":
        real = (f(size_in - 1) / f(size_out - 1) * dst.astype(f)) if size_out > 1 else np.zeros(size_out, f)
    else:
        real = np.maximum(inverse * (dst.astype(f) + f(0.5)) - f(0.5), f(0))
    i0 = np.minimum(real.astype(np.int64), size_in - 1)
    lam = np.clip(real - i0.astype(f), 0, 1).astype(f)
    return i0, np.where(i0 < size_in - 1, i0 + 1, i0), (f(1) - lam), lam


def _ref_resize(args, attrs, dtype):
    x = args[0]
    ho, wo = attrs["sizes"]
    r0, r1, rw0, rw1 = resize_taps(x.shape[2], ho, attrs["scale_h"], attrs["mode"], attrs["coordinate_transformation_mode"])
    c0, c1, cw0, cw1 = resize_taps(x.shape[3], wo, attrs["scale_w"], attrs["mode"], attrs["coordinate_transformation_mode"])
    if attrs["mode"] == "nearest":
        return x[:, :, r0][:, :, :, c0]
    cw0, cw1 = cw0.astype(dtype), cw1.astype(dtype)
    upper = x[:, :, r0][:, :, :, c0] * cw0 + x[:, :, r0][:, :, :, c1] * cw1
    lower = x[:, :, r1][:, :, :, c0] * cw0 + x[:, :, r1][:, :, :, c1] * cw1
    return upper * rw0.astype(dtype)[:, None] + lower * rw1.astype(dtype)[:, None]


def _ref_pad(args, attrs, dtype):
    t, left, b, r = attrs["pads"]
    width = ((0, 0), (0, 0), (t, b), (left, r))
    if attrs["mode"] == "constant":
        return np.pad(args[0], width, mode="constant", constant_values=attrs["value"])
    return np.pad(args[0], width, mode=attrs["mode"])


REFERENCE = {"ConvTranspose": _ref_conv_transpose, "Resize": _ref_resize, "Pad": _ref_pad}


# ---- the builder side, shared by torch.fx and TorchScript ---------------------------------------

def _spatial_rank(b, site, x):
    rank = len(b.sample[b._value(site, x)]) + 1
    if rank not in (3, 4):
        raise unsupported(site, f"its input has rank {rank}; Strata supports [N, C, L] and [N, C, H, W]")
    return rank


def _emit(b, site, x, op, out, shapes, attrs, tensors=()):
    """`op` on [N, C, H, W], or on [N, C, L] through [N, C, 1, L] (attrs already 2-D)."""
    from .spatial1d import lower
    if _spatial_rank(b, site, x) == 3:
        return lower(b, site, x, op, out, shapes, attrs, tensors)
    return b.op(op, site, x, out, shapes, attrs, tensors)


def conv_transpose(b, site, x, out, shapes, weight, bias, stride, padding, output_padding, groups, dilation, name):
    """ConvTranspose of builder value `x` with numpy `weight` [C, M/g, k…] (1-D or 2-D)."""
    from .builder import Const
    one_d = weight.ndim == 3
    if weight.ndim not in (3, 4):
        raise unsupported(site, f"weight of shape {list(weight.shape)}; Strata supports 1-D and 2-D transposed convolutions")
    two = (lambda v: [1, int(v[0]) if isinstance(v, (list, tuple)) else int(v)]) if one_d else \
          (lambda v: [int(v), int(v)] if isinstance(v, int) else [int(a) for a in v])
    if one_d:
        padding = [0, padding[0] if isinstance(padding, (list, tuple)) else int(padding)]
        weight = weight[:, :, None, :]
    p = two(padding) if not one_d else padding
    attrs = {"strides": two(stride), "pads": [p[0], p[1], p[0], p[1]], "dilations": two(dilation), "group": int(groups),
             "output_padding": [0, two(output_padding)[1]] if one_d else two(output_padding)}
    tensors = [(Const(f"{name}.weight", np.asarray(weight, np.float32)), f"{name}.weight"),
               None if bias is None else (Const(f"{name}.bias", np.asarray(bias, np.float32)), f"{name}.bias")]
    return _emit(b, site, x, "ConvTranspose", out, shapes, attrs, tensors)


def resize(b, site, x, out, shapes, mode, align_corners, scale_factor):
    """Resize of builder value `x` to the traced output size. `mode`: PyTorch's interpolate mode;
    `scale_factor`: the given scale (a number or per-dim list; None: from the sizes)."""
    rank = _spatial_rank(b, site, x)
    if mode in ("bilinear", "linear"):
        mode, coordinates = "linear", ("align_corners" if align_corners else "half_pixel")
    elif mode == "nearest":
        coordinates = "asymmetric"
    else:
        raise unsupported(site, f"mode {mode!r}; Strata resizes with 'nearest', 'linear' and 'bilinear'")
    sizes = list(shapes[0][2:])
    scales = [0.0] * (rank - 2)
    if scale_factor is not None and not (mode == "linear" and align_corners):
        sf = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * (rank - 2)
        scales = [float(s) for s in sf]
    if rank == 3:
        sizes, scales = [1] + sizes, [1.0] + scales
    attrs = {"mode": mode, "coordinate_transformation_mode": coordinates, "sizes": [int(s) for s in sizes],
             "scale_h": scales[0], "scale_w": scales[1]}
    return _emit(b, site, x, "Resize", out, shapes, attrs)


_TORCH_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def pad(b, site, x, out, shapes, widths, mode, value):
    """Pad of builder value `x` by PyTorch's `pad` list (last dim first: left, right, top, bottom)."""
    rank = _spatial_rank(b, site, x)
    if mode not in _TORCH_PAD_MODES:
        raise unsupported(site, f"mode {mode!r}; Strata pads with 'constant', 'reflect' and 'replicate'")
    widths = [int(w) for w in widths]
    if len(widths) % 2 or len(widths) > 2 * (rank - 2) or any(w < 0 for w in widths):
        raise unsupported(site, f"pad {widths}: Strata pads the spatial dims (2 or 4 non-negative widths on [N, C, H, W], "
                                "2 on [N, C, L]); cropping with negative pads is not supported")
    widths += [0] * (4 - len(widths))
    left, right, top, bottom = widths
    attrs = {"pads": [top, left, bottom, right], "mode": _TORCH_PAD_MODES[mode], "value": float(value or 0.0)}
    return _emit(b, site, x, "Pad", out, shapes, attrs)


# ---- torch.fx ----------------------------------------------------------------------------------

def _arg(node, index, key, default):
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(key, default)


def _np(t):
    return None if t is None else t.detach().cpu().numpy().astype(np.float32)


def _m_conv_transpose(c, site, node, m, x, out, shapes):
    if m.padding_mode != "zeros":
        raise unsupported(site, f"padding_mode = {m.padding_mode!r}; Strata pads with zeros")
    return conv_transpose(c.b, site, x, out, shapes, _np(m.weight), _np(m.bias), m.stride, m.padding, m.output_padding,
                          m.groups, m.dilation, node.target)


def _m_upsample(c, site, node, m, x, out, shapes):
    if getattr(m, "recompute_scale_factor", None):
        raise unsupported(site, "recompute_scale_factor=True")
    return resize(c.b, site, x, out, shapes, m.mode, m.align_corners, m.scale_factor)


def _f_interpolate(c, site, node, x, out, shapes):
    if _arg(node, 6, "antialias", False):
        raise unsupported(site, "antialias=True")
    if _arg(node, 5, "recompute_scale_factor", None):
        raise unsupported(site, "recompute_scale_factor=True")
    return resize(c.b, site, x, out, shapes, _arg(node, 3, "mode", "nearest"), _arg(node, 4, "align_corners", None),
                  _arg(node, 2, "scale_factor", None))


def _m_pad(mode):
    def convert(c, site, node, m, x, out, shapes):
        return pad(c.b, site, x, out, shapes, m.padding, mode, getattr(m, "value", 0.0))
    return convert


def _f_pad(c, site, node, x, out, shapes):
    return pad(c.b, site, x, out, shapes, _arg(node, 1, "pad", None), _arg(node, 2, "mode", "constant"),
               _arg(node, 3, "value", None))


def register_fx(functions, methods, modules):
    """Adds the family's torch.fx converters to torch_source's tables."""
    import torch.nn as nn
    import torch.nn.functional as F
    functions[F.interpolate] = _f_interpolate
    functions[F.upsample] = _f_interpolate
    functions[F.pad] = _f_pad
    modules[:0] = [
        (nn.ConvTranspose1d, _m_conv_transpose), (nn.ConvTranspose2d, _m_conv_transpose),
        (nn.Upsample, _m_upsample),  # UpsamplingNearest2d / UpsamplingBilinear2d (align_corners) subclass it
        (nn.ZeroPad1d, _m_pad("constant")), (nn.ZeroPad2d, _m_pad("constant")),
        (nn.ConstantPad1d, _m_pad("constant")), (nn.ConstantPad2d, _m_pad("constant")),
        (nn.ReflectionPad1d, _m_pad("reflect")), (nn.ReflectionPad2d, _m_pad("reflect")),
        (nn.ReplicationPad1d, _m_pad("replicate")), (nn.ReplicationPad2d, _m_pad("replicate")),
    ]


# ---- TorchScript -------------------------------------------------------------------------------

def ts_conv_transpose(c, site, a, out, shapes):
    """aten::conv_transpose1d/2d, and aten::_convolution with transposed=True."""
    from .torchscript_source import _const
    w = _const(c, site, a, "weight", "weight")
    if w is None:
        raise unsupported(site, "only transposed convolutions with a stored weight are supported")
    bias = _const(c, site, a, "bias", "bias")
    lit = lambda k, d=None: c.literal(site, a[k], k) if k in a else d  # noqa: E731
    return conv_transpose(c.b, site, c.operand(a["input"]), out, shapes, np.asarray(w.array),
                          None if bias is None else np.asarray(bias.array), lit("stride"), lit("padding"),
                          lit("output_padding", 0), lit("groups", 1), lit("dilation", 1), w.name.removesuffix(".weight") or out)


def _ts_upsample(mode):
    def convert(c, site, a, out, shapes):
        scale = None
        for key in ("scale_factors", "scales"):
            if key in a:
                scale = c.literal(site, a[key], key)
        if scale is None:
            hw = [c.literal(site, a[k], k) for k in ("scales_h", "scales_w", "scales") if k in a]
            scale = [s for s in hw if s is not None] or None
        align = c.literal(site, a["align_corners"], "align_corners") if "align_corners" in a else None
        return resize(c.b, site, c.operand(a["input"] if "input" in a else a["self"]), out, shapes, mode, align, scale)
    return convert


def _ts_pad(mode):
    def convert(c, site, a, out, shapes):
        value = c.literal(site, a["value"], "value") if "value" in a else 0.0
        m = c.literal(site, a["mode"], "mode") if "mode" in a else mode
        return pad(c.b, site, c.operand(a["self"]), out, shapes, c.literal(site, a["pad"] if "pad" in a else a["padding"], "pad"),
                   m, value)
    return convert


ATEN = {"aten::conv_transpose1d": ts_conv_transpose, "aten::conv_transpose2d": ts_conv_transpose,
        "aten::upsample_nearest1d": _ts_upsample("nearest"), "aten::upsample_nearest2d": _ts_upsample("nearest"),
        "aten::upsample_linear1d": _ts_upsample("linear"), "aten::upsample_bilinear2d": _ts_upsample("bilinear"),
        "aten::constant_pad_nd": _ts_pad("constant"), "aten::pad": _ts_pad("constant"),
        "aten::reflection_pad1d": _ts_pad("reflect"), "aten::reflection_pad2d": _ts_pad("reflect"),
        "aten::replication_pad1d": _ts_pad("replicate"), "aten::replication_pad2d": _ts_pad("replicate")}
ATEN_TAKES_LISTS = set()


# ---- ONNX -----------------------------------------------------------------------------------------

def onnx_handlers(unary, attr, const, where):
    """ConvTranspose, Resize (and opset-9 Upsample, after the upgrade), Pad."""
    from .errors import ConversionError

    def value(self, node, v):
        from .onnx_source import _V
        if not isinstance(v, _V):
            raise ConversionError(f"{where(node)}: its input must be computed from the model input")
        return self._mat(v, where(node))

    def emit(self, node, x, op, attrs, inputs=()):
        """`op` on a rank-4 value, or on a rank-3 one through [N, C, 1, L] (attrs already 2-D)."""
        from types import SimpleNamespace

        from .onnx_source import _V
        dims = self.dims[x]
        if len(dims) == 4:
            return _V(self._emit(op, node, [x, *inputs], attrs), range(4))

        def view(name, source, shape):
            output = node.output[0] if name == "1d" else f"{node.output[0]}_{name}"
            return self._emit("Reshape", SimpleNamespace(name=f"{node.name or op}_{name}", output=[output], op_type="Reshape"),
                              [source], {"shape": shape})
        x2 = view("2d", x, [-1, dims[1], 1, dims[2]])
        y2 = self._emit(op, SimpleNamespace(name=node.name, output=[f"{node.output[0]}_2d_out"], op_type=op), [x2, *inputs], attrs)
        d = self.dims[y2]
        return _V(view("1d", y2, [-1, d[1], d[3]]), range(3))

    def rank(self, node, x):
        r = len(self.dims[x])
        if r not in (3, 4):
            raise ConversionError(f"{where(node)}: input of rank {r}; Strata supports [N, C, L] and [N, C, H, W]")
        return r

    def conv_transpose(self, node, args):
        x = value(self, node, args[0])
        r = rank(self, node, x)
        w = np.asarray(const(self, node, args[1], "weight"), np.float32)
        if w.ndim != r:
            raise ConversionError(f"{where(node)}: weight of shape {list(w.shape)} for a rank-{r} input")
        n = r - 2
        strides = list(attr(node, "strides", [1] * n))
        dil = list(attr(node, "dilations", [1] * n))
        extra = list(attr(node, "output_padding", [0] * n))
        pads = list(attr(node, "pads", [0] * (2 * n)))
        auto = attr(node, "auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto not in ("NOTSET", "VALID") or attr(node, "output_shape", None) is not None:
            raise ConversionError(f"{where(node)}: auto_pad {auto!r} / output_shape are not supported; export with explicit pads")
        if auto == "VALID":
            pads = [0] * (2 * n)
        if n == 1:
            strides, dil, extra, pads, w = [1] + strides, [1] + dil, [0] + extra, [0, pads[0], 0, pads[1]], w[:, :, None, :]
        attrs = {"strides": strides, "pads": pads, "dilations": dil, "group": int(attr(node, "group", 1)),
                 "output_padding": extra}
        inputs = [self._tensor(w, f"{node.name or 'deconv'}.weight"), ""]
        if len(args) > 2 and args[2] is not None:
            inputs[1] = self._tensor(const(self, node, args[2], "bias"), f"{node.name or 'deconv'}.bias")
        else:
            inputs = inputs[:1]
        return emit(self, node, x, "ConvTranspose", attrs, inputs)

    def resize_op(self, node, args):
        x = value(self, node, args[0])
        r = rank(self, node, x)
        mode = attr(node, "mode", "nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        coord = attr(node, "coordinate_transformation_mode", "half_pixel")
        coord = coord.decode() if isinstance(coord, bytes) else coord
        nearest_mode = attr(node, "nearest_mode", "round_prefer_floor")
        nearest_mode = nearest_mode.decode() if isinstance(nearest_mode, bytes) else nearest_mode
        if attr(node, "antialias", 0) or attr(node, "axes", None) is not None:
            raise ConversionError(f"{where(node)}: antialias and axes are not supported")
        in_spatial = self.dims[x][2:]
        scales = sizes = None
        if len(args) > 2 and args[2] is not None:
            s = np.asarray(const(self, node, args[2], "scales"), np.float64).reshape(-1)
            scales = [float(v) for v in s] if s.size else None
        if len(args) > 3 and args[3] is not None:
            from .onnx_source import _C
            if not isinstance(args[3], _C):
                raise ConversionError(f"{where(node)}: its sizes must be constant")
            runs = [[int(v) for v in np.asarray(r).reshape(-1)] for r in args[3].runs]
            if any(r[2:] != runs[0][2:] for r in runs):  # [N, C, H', W'] from Shape: only N follows the batch
                raise ConversionError(f"{where(node)}: its output size depends on the batch size")
            sizes = [0, self.dims[x][1]] + runs[0][2:]
        if sizes is not None:
            if sizes[1] != self.dims[x][1]:
                raise ConversionError(f"{where(node)}: sizes {sizes} change the channels")
            out, coord_scales = sizes[2:], [0.0] * (r - 2)
        elif scales is not None:
            if len(scales) != r or scales[0] != 1 or scales[1] != 1:
                raise ConversionError(f"{where(node)}: scales {scales} resize the batch or the channels")
            out = [int(math.floor(d * s)) for d, s in zip(in_spatial, scales[2:])]
            coord_scales = scales[2:]
        else:
            raise ConversionError(f"{where(node)}: neither scales nor sizes is given")
        if mode == "nearest":
            if coord != "asymmetric" or nearest_mode != "floor":
                raise ConversionError(f"{where(node)}: nearest with coordinate_transformation_mode {coord!r} and "
                                      f"nearest_mode {nearest_mode!r}; Strata supports asymmetric + floor (PyTorch's nearest)")
        elif mode == "linear":
            if coord == "pytorch_half_pixel" and min(out) == 1:
                raise ConversionError(f"{where(node)}: pytorch_half_pixel to an output of size 1")
            if coord not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
                raise ConversionError(f"{where(node)}: linear with coordinate_transformation_mode {coord!r}; Strata supports "
                                      "half_pixel, pytorch_half_pixel and align_corners")
            if coord == "align_corners" and scales is not None and any(
                    abs(d * f - round(d * f)) > 1e-6 for d, f in zip(in_spatial, scales[2:])):
                raise ConversionError(f"{where(node)}: align_corners with scales {scales[2:]} that give a fractional output "
                                      f"size for input {in_spatial} (ONNX then maps coordinates by the fraction)")
            coord = "align_corners" if coord == "align_corners" else "half_pixel"
        else:
            raise ConversionError(f"{where(node)}: mode {mode!r}; Strata supports nearest and linear")
        if r == 3:
            out, coord_scales = [1] + out, [1.0] + coord_scales
        attrs = {"mode": mode, "coordinate_transformation_mode": "asymmetric" if mode == "nearest" else coord,
                 "sizes": out, "scale_h": float(coord_scales[0]), "scale_w": float(coord_scales[1])}
        return emit(self, node, x, "Resize", attrs)

    def pad_op(self, node, args):
        x = value(self, node, args[0])
        r = rank(self, node, x)
        mode = attr(node, "mode", "constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode not in ("constant", "reflect", "edge"):
            raise ConversionError(f"{where(node)}: mode {mode!r}; Strata pads with constant, reflect and edge")
        if len(args) > 3 and args[3] is not None:
            raise ConversionError(f"{where(node)}: the axes input is not supported")
        pads = [int(v) for v in np.asarray(const(self, node, args[1], "pads")).reshape(-1)]
        value_ = 0.0
        if len(args) > 2 and args[2] is not None:
            cv = np.asarray(const(self, node, args[2], "constant_value")).reshape(-1)
            value_ = float(cv[0]) if cv.size else 0.0
        begin, end = pads[:r], pads[r:]
        if any(begin[:2]) or any(end[:2]) or min(pads) < 0:
            raise ConversionError(f"{where(node)}: pads {pads}; Strata pads the spatial dims only, by non-negative widths")
        if r == 3:
            begin, end = [0, 0, 0, begin[2]], [0, 0, 0, end[2]]
        attrs = {"pads": [begin[2], begin[3], end[2], end[3]], "mode": mode, "value": value_}
        return emit(self, node, x, "Pad", attrs)

    return {"ConvTranspose": conv_transpose, "Resize": resize_op, "Pad": pad_op}
