"""The four benchmark networks, built in PyTorch with seeded random weights, and their exports.

Every engine runs the same weights: the PyTorch module is the source, and each format is made
from it (.strata with strata_convert, ONNX with torch.onnx.export, TFLite from a Keras model that
is given the same weight arrays, ONNX int8 with onnxruntime's quantize_dynamic).

Models (input is a flat f32 vector per sample; all layers are nn.Linear):
  mnist     the seed network 784-128-64-10 with ReLU (as in the README, with its x.view)
  wide      784-1024-1024-10 with ReLU
  residual  Linear 784->512, ReLU; then 8 blocks x = x + W2·relu(W1·x + b1) + b2 (512 wide);
            then Linear 512->10
  big       4096-4096-4096-4096 with ReLU between layers (memory-bound at batch 1: 201 MB f32)
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

SEED = 20260801


class SeedMNIST(nn.Module):
    """The seed network, exactly as in the README."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class MLP(nn.Module):
    """Linear layers with ReLU between them (none after the last)."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = torch.relu(x)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(x)))


class ResidualMLP(nn.Module):
    def __init__(self, n_in=784, width=512, blocks=8, n_out=10):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList(ResidualBlock(width) for _ in range(blocks))
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        for block in self.blocks:
            x = block(x)
        return self.out(x)


@dataclass
class Spec:
    name: str
    title: str
    make: object          # () -> nn.Module
    n_in: int
    linears: list = field(default_factory=list)   # (in, out) of every Linear, filled by build()

    @property
    def flops_per_sample(self) -> int:
        """2 · Σ in·out over the Linear layers (multiply-adds of the matrix products)."""
        return 2 * sum(a * b for a, b in self.linears)

    @property
    def weight_bytes(self) -> int:
        return 4 * sum(a * b + b for a, b in self.linears)


SPECS = {
    "mnist": Spec("mnist", "seed MNIST 784-128-64-10", SeedMNIST, 784),
    "wide": Spec("wide", "wide 784-1024-1024-10", lambda: MLP([784, 1024, 1024, 10]), 784),
    "residual": Spec("residual", "residual 784-512-(8 blocks x+W2·relu(W1·x))-10", ResidualMLP, 784),
    "big": Spec("big", "big 4096-4096-4096-4096", lambda: MLP([4096, 4096, 4096, 4096]), 4096),
}


def build(spec: Spec) -> nn.Module:
    """The PyTorch module with seeded weights (uniform, scaled like nn.Linear's default init)."""
    torch.manual_seed(SEED + sum(map(ord, spec.name)))
    module = spec.make().eval()
    spec.linears = [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]
    return module


# ---- exports -----------------------------------------------------------------------------------

def export_strata(module, spec, path: Path):
    from strata_convert import torch_source
    torch_source.save(module, torch.zeros(1, spec.n_in), path)


def export_onnx(module, spec, path: Path):
    """ONNX with a dynamic batch dimension, opset 17 or later, weights inside the file."""
    x = torch.zeros(2, spec.n_in)
    kwargs = dict(input_names=["input"], output_names=["output"], opset_version=18)
    try:
        torch.onnx.export(module, (x,), str(path), dynamo=True, external_data=False,
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, **kwargs)
    except Exception as e:  # fall back to the TorchScript exporter
        print(f"          (dynamo ONNX export failed: {type(e).__name__}: {str(e)[:200]}; using the TorchScript exporter)")
        torch.onnx.export(module, (x,), str(path), dynamo=False,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kwargs)


def export_onnx_int8(onnx_path: Path, path: Path):
    """onnxruntime's dynamic quantization: int8 weights, activations quantized per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(onnx_path), str(path), weight_type=QuantType.QInt8)


def _keras_model(module, spec):
    """A Keras functional model with the module's weights (Dense kernel = W^T)."""
    import keras

    def dense(lin, activation=None):
        layer = keras.layers.Dense(lin.out_features, activation=activation)
        layer.build((None, lin.in_features))
        layer.set_weights([lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()])
        return layer

    x_in = keras.Input(shape=(spec.n_in,), batch_size=None, name="input")
    if isinstance(module, SeedMNIST):
        x = dense(module.fc1, "relu")(x_in)
        x = dense(module.fc2, "relu")(x)
        x = dense(module.fc3)(x)
    elif isinstance(module, MLP):
        x = x_in
        for i, lin in enumerate(module.layers):
            x = dense(lin, "relu" if i + 1 < len(module.layers) else None)(x)
    elif isinstance(module, ResidualMLP):
        x = dense(module.inp, "relu")(x_in)
        for block in module.blocks:
            h = dense(block.fc1, "relu")(x)
            x = keras.layers.Add()([x, dense(block.fc2)(h)])
        x = dense(module.out)(x)
    else:
        raise TypeError(type(module).__name__)
    return keras.Model(x_in, x)


def export_tflite(module, spec, path: Path):
    """TFLite f32 from the Keras model (TFLiteConverter.from_keras_model: frozen weights, dynamic
    batch, FULLY_CONNECTED ops with fused ReLU that XNNPACK runs)."""
    import tensorflow as tf
    converter = tf.lite.TFLiteConverter.from_keras_model(_keras_model(module, spec))
    path.write_bytes(converter.convert())


FORMATS = ("strata", "onnx", "onnx_int8", "tflite")


def export_all(module, spec, out_dir: Path, formats=FORMATS, log=print) -> dict:
    """Writes the model in every format to out_dir; returns {format: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {f: out_dir / f"{spec.name}.{'int8.onnx' if f == 'onnx_int8' else f}" for f in FORMATS}
    steps = [("strata", lambda: export_strata(module, spec, paths["strata"])),
             ("onnx", lambda: export_onnx(module, spec, paths["onnx"])),
             ("onnx_int8", lambda: export_onnx_int8(paths["onnx"], paths["onnx_int8"])),
             ("tflite", lambda: export_tflite(module, spec, paths["tflite"]))]
    for fmt, step in steps:
        if fmt not in formats:
            continue
        t = time.perf_counter()
        step()
        log(f"          {fmt:9s} {paths[fmt].name:22s} {os.path.getsize(paths[fmt]) / 1e6:8.1f} MB "
            f"in {time.perf_counter() - t:5.1f} s")
    return paths
