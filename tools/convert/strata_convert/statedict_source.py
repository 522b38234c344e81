"""Converts a plain state dict of a sequential MLP (a `.pt` file saved with
`torch.save(model.state_dict(), path)` or a `.safetensors` file) plus a one-line architecture.

Architecture string: widths and activations separated by `-`, e.g. `784-128-relu-64-relu-10`:
- the first token is the number of input features; every later number N is a Linear layer to N
  features (its weight and optional bias are the next `*.weight` [N, in] / `*.bias` [N] pair);
- a name applies an activation to the previous layer's output: relu, sigmoid, tanh, gelu,
  gelu_tanh, silu, leakyrelu (or leakyrelu:ALPHA), softmax, logsoftmax; `dropout` is accepted and
  ignored (inference).
Layers take the 2-D `*.weight` tensors in the file's order (a `.pt` state dict keeps the model's
order; a `.safetensors` file does not, so its names are sorted naturally: `layers.2` before
`layers.10`); non-Linear tensors (BatchNorm, ...) are refused. Every shape is checked.
"""
import re

import numpy as np

from .errors import ConversionError
from .mlp_graph import ACTIVATIONS, mlp

__all__ = ["parse_arch", "convert_state_dict", "load_state_dict"]


def parse_arch(text):
    """[("width", n) | ("act", op, attrs)] of an architecture string; raises ConversionError."""
    tokens = [t.strip().lower() for t in text.replace(" ", "").split("-")]
    if not tokens or not tokens[0].isdigit():
        raise ConversionError(f"--arch {text!r}: it must start with the number of input features, e.g. 784-128-relu-10")
    out = []
    for t in tokens:
        if t.isdigit() and int(t) > 0:
            out.append(("width", int(t)))
        elif t == "dropout":
            continue
        elif t.startswith("leakyrelu:"):
            try:
                out.append(("act", "LeakyRelu", {"alpha": float(t.split(":", 1)[1])}))
            except ValueError:
                raise ConversionError(f"--arch: bad alpha in {t!r}") from None
        elif t in ACTIVATIONS and ACTIVATIONS[t]:
            out.append(("act", *ACTIVATIONS[t]))
        elif t == "identity":
            continue
        else:
            raise ConversionError(f"--arch {text!r}: unknown token {t!r}; use widths and "
                                  f"{', '.join(k for k in ACTIVATIONS if k != 'identity')}, leakyrelu:ALPHA, dropout")
    if len([o for o in out if o[0] == "width"]) < 2:
        raise ConversionError(f"--arch {text!r}: give the input width and at least one layer width")
    return out


def _natural(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def load_state_dict(path):
    """name -> float ndarray, in layer order (see the module docstring)."""
    path = str(path)
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file
        tensors = load_file(path)
        return {k: tensors[k] for k in sorted(tensors, key=_natural)}
    import torch
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ConversionError(f"cannot load {path} as a state dict: {str(e).splitlines()[0]}") from e
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(hasattr(v, "shape") for v in sd.values()):
        raise ConversionError(f"{path} does not hold a state dict (name -> tensor)")
    return {k: v.detach().to(torch.float32).numpy() for k, v in sd.items()}


def convert_state_dict(state, arch, *, name=None, class_labels=None):
    """Graph of the MLP `arch` (string) with weights from `state` (name -> array, in layer order)."""
    spec = parse_arch(arch)
    weights = [k for k, v in state.items() if k.endswith("weight") and np.ndim(v) == 2]
    others = [k for k, v in state.items() if not (k in weights or (k.endswith("bias") and np.ndim(v) == 1))]
    if others:
        raise ConversionError(f"the state dict has tensors that are not Linear weights or biases: {', '.join(others[:5])}; "
                              "--arch describes a plain MLP (convert the whole module instead)")
    n_linear = len([s for s in spec if s[0] == "width"]) - 1
    if len(weights) != n_linear:
        raise ConversionError(f"--arch has {n_linear} Linear layers but the state dict has {len(weights)} 2-D weights "
                              f"({', '.join(weights)})")
    layers, it, width = [], iter(weights), spec[0][1]
    for s in spec[1:]:
        if s[0] == "act":
            layers.append(s)
            continue
        key = next(it)
        w = np.asarray(state[key], np.float64)
        prefix = key[:-len("weight")]
        b = state.get(prefix + "bias")
        if w.shape != (s[1], width):
            raise ConversionError(f"'{key}' has shape {list(w.shape)}, but --arch says a layer from {width} to {s[1]} "
                                  f"features needs [{s[1]}, {width}]")
        layers.append(("linear", w, None if b is None else np.asarray(b, np.float64), prefix.rstrip(".") or key))
        width = s[1]
    return mlp(layers, spec[0][1], source="state dict", name=name or "mlp", class_labels=class_labels)
