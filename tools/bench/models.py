"""The benchmark networks, built in PyTorch with seeded random weights, and their exports.

Every engine runs the same weights: the PyTorch module is the source, and each format is made
from it (.strata with strata_convert, ONNX with torch.onnx.export, TFLite from a Keras model that
is given the same weight arrays (MLPs only), ONNX int8 with onnxruntime's quantize_dynamic,
ExecuTorch .pte files (XNNPACK delegate, f32 and PT2E dynamic int8; one static-shape file per
batch size)).

MLPs (input is a flat f32 vector per sample; all layers are nn.Linear):
  mnist     the seed network 784-128-64-10 with ReLU (as in the README, with its x.view)
  wide      784-1024-1024-10 with ReLU
  residual  Linear 784->512, ReLU; then 8 blocks x = x + W2·relu(W1·x + b1) + b2 (512 wide);
            then Linear 512->10
  big       4096-4096-4096-4096 with ReLU between layers (memory-bound at batch 1: 201 MB f32)
CNNs (NCHW input; BatchNorm in eval mode with seeded statistics, folded by the converters):
  lenet        LeNet-5 on 1x28x28 (conv 5x5 6, pool, conv 5x5 16, pool, 400-120-84-10)
  resnet20     the CIFAR ResNet-20 of He et al. on 3x32x32 (3 stages x 3 basic blocks, 16/32/64
               channels, 1x1-conv shortcuts where the shape changes)
  resnet18     torchvision's resnet18 architecture on 3x224x224
  mobilenet_v2 torchvision's mobilenet_v2 architecture on 3x224x224
  efficientnet_b0 torchvision's efficientnet_b0 architecture on 3x224x224 (SiLU, squeeze-excitation)
Recurrent (input [N, T, features], batch_first; a Linear head on the last step's output):
  gru_kws   2-layer GRU keyword spotter: 49 steps x 40 features, hidden 128, 12 classes
  lstm      1-layer LSTM: 64 steps x 32 features, hidden 256, 10 classes
  Each is also converted for T = 1 (`.frame.strata`) for the stateful frame-by-frame cell.
(written here: torchvision's PyPI wheels are CUDA builds that do not import beside the CPU-only torch.)
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


class LeNet5(nn.Module):
    """LeNet-5 with ReLU and max pooling, on 1x28x28."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN, ReLU; identity shortcut, or a 1x1 conv + BN one when the shape changes."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet of basic blocks: CIFAR ResNet-20 (stem 3x3, widths 16/32/64, 3 blocks each) or
    torchvision's resnet18 (stem 7x7/2 + max pool, widths 64..512, 2 blocks each)."""

    def __init__(self, widths, blocks, imagenet_stem, n_out):
        super().__init__()
        c = widths[0]
        if imagenet_stem:
            self.stem = nn.Sequential(nn.Conv2d(3, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        layers = []
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c, w, 2 if i > 0 and j == 0 else 1))
                c = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, n_out)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def _conv_bn_relu6(c_in, c_out, k, stride, groups=1):
    return [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU6()]


class InvertedResidual(nn.Module):
    def __init__(self, c_in, c_out, stride, expand):
        super().__init__()
        hidden = c_in * expand
        layers = _conv_bn_relu6(c_in, hidden, 1, 1) if expand != 1 else []
        layers += _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden)
        layers += [nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's mobilenet_v2 (width 1.0), dropout omitted (inference)."""

    def __init__(self, n_out=1000):
        super().__init__()
        config = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                  (6, 320, 1, 1)]
        layers = _conv_bn_relu6(3, 32, 3, 2)
        c = 32
        for t, w, n, s in config:
            for i in range(n):
                layers.append(InvertedResidual(c, w, s if i == 0 else 1, t))
                c = w
        layers += _conv_bn_relu6(c, 1280, 1, 1)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, n_out)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(nn.functional.silu(self.fc1(s))))


def _conv_bn_silu(c_in, c_out, k, stride, groups=1):
    return [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out),
            nn.SiLU()]


class MBConv(nn.Module):
    def __init__(self, c_in, c_out, k, stride, expand):
        super().__init__()
        hidden = c_in * expand
        layers = _conv_bn_silu(c_in, hidden, 1, 1) if expand != 1 else []
        layers += _conv_bn_silu(hidden, hidden, k, stride, groups=hidden)
        layers += [SqueezeExcitation(hidden, max(1, c_in // 4)), nn.Conv2d(hidden, c_out, 1, bias=False),
                   nn.BatchNorm2d(c_out)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):  # stochastic depth is the identity at inference
        return x + self.block(x) if self.residual else self.block(x)


class EfficientNetB0(nn.Module):
    """torchvision's efficientnet_b0, dropout omitted (inference)."""

    def __init__(self, n_out=1000):
        super().__init__()
        config = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
                  (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
        layers = _conv_bn_silu(3, 32, 3, 2)
        c = 32
        for t, k, s, w, n in config:
            for i in range(n):
                layers.append(MBConv(c, w, k, s if i == 0 else 1, t))
                c = w
        layers += _conv_bn_silu(c, 1280, 1, 1)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, n_out)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class RecurrentHead(nn.Module):
    """nn.GRU / nn.LSTM (batch_first) with a Linear head on the last step: forward(x) -> fc(out[:, -1])."""

    def __init__(self, cell, features, hidden, layers, n_out):
        super().__init__()
        self.rnn = cell(features, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, n_out)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@dataclass
class Spec:
    name: str
    title: str
    make: object          # () -> nn.Module
    n_in: int             # values per sample (the product of input_shape)
    input_shape: tuple = ()   # one sample's shape; () means (n_in,)
    max_batch: int = 1 << 30  # larger batches are not run (a 224x224 CNN at batch 4096 is minutes per call)
    family: str = "mlp"
    linears: list = field(default_factory=list)   # (in, out) of every Linear, filled by build()
    flops: int = 0        # per sample, filled by build()
    params: int = 0       # stored parameters (weights, biases, folded BatchNorm), filled by build()

    def __post_init__(self):
        self.input_shape = tuple(self.input_shape) or (self.n_in,)

    @property
    def flops_per_sample(self) -> int:
        """2 · multiply-adds per sample of the Linear and Conv layers (Σ in·out for an MLP)."""
        return self.flops or 2 * sum(a * b for a, b in self.linears)

    @property
    def weight_bytes(self) -> int:
        return 4 * (self.params or sum(a * b + b for a, b in self.linears))


SPECS = {
    "mnist": Spec("mnist", "seed MNIST 784-128-64-10", SeedMNIST, 784),
    "wide": Spec("wide", "wide 784-1024-1024-10", lambda: MLP([784, 1024, 1024, 10]), 784),
    "residual": Spec("residual", "residual 784-512-(8 blocks x+W2·relu(W1·x))-10", ResidualMLP, 784),
    "big": Spec("big", "big 4096-4096-4096-4096", lambda: MLP([4096, 4096, 4096, 4096]), 4096),
    "lenet": Spec("lenet", "LeNet-5 1x28x28", LeNet5, 784, (1, 28, 28), family="cnn"),
    "resnet20": Spec("resnet20", "CIFAR ResNet-20 3x32x32", lambda: ResNet((16, 32, 64), (3, 3, 3), False, 10),
                     3 * 32 * 32, (3, 32, 32), max_batch=256, family="cnn"),
    "resnet18": Spec("resnet18", "resnet18 3x224x224", lambda: ResNet((64, 128, 256, 512), (2, 2, 2, 2), True, 1000),
                     3 * 224 * 224, (3, 224, 224), max_batch=16, family="cnn"),
    "mobilenet_v2": Spec("mobilenet_v2", "mobilenet_v2 3x224x224", MobileNetV2, 3 * 224 * 224, (3, 224, 224),
                         max_batch=16, family="cnn"),
    "efficientnet_b0": Spec("efficientnet_b0", "efficientnet_b0 3x224x224", EfficientNetB0, 3 * 224 * 224,
                            (3, 224, 224), max_batch=16, family="cnn"),
    "gru_kws": Spec("gru_kws", "GRU keyword spotter 2x128, 49x40", lambda: RecurrentHead(nn.GRU, 40, 128, 2, 12),
                    49 * 40, (49, 40), max_batch=16, family="rnn"),
    "lstm": Spec("lstm", "LSTM 1x256, 64x32", lambda: RecurrentHead(nn.LSTM, 32, 256, 1, 10),
                 64 * 32, (64, 32), max_batch=16, family="rnn"),
}
MLPS = [n for n, s in SPECS.items() if s.family == "mlp"]


def build(spec: Spec) -> nn.Module:
    """The PyTorch module with seeded weights (uniform, scaled like nn.Linear's default init)."""
    torch.manual_seed(SEED + sum(map(ord, spec.name)))
    module = spec.make().eval()
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):  # non-trivial statistics, so folding them is exercised
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
            m.weight.data.uniform_(0.8, 1.2)
            m.bias.data.uniform_(-0.1, 0.1)
    spec.linears = [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]
    if spec.family != "mlp":
        spec.flops, spec.params = _count(module, spec)
    return module


def _count(module, spec):
    """(FLOPs per sample: 2 · multiply-adds of every Conv2d and Linear, parameters stored after
    BatchNorm folding), from one batch-1 forward pass."""
    flops = [0]

    def hook(m, inputs, out):
        if isinstance(m, nn.Conv2d):
            flops[0] += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            flops[0] += 2 * m.in_features * m.out_features
        elif isinstance(m, nn.RNNBase):  # every gate: input and recurrent matrix-vector products, every step
            gates = {"GRU": 3, "LSTM": 4}.get(m.mode, 1)
            steps = inputs[0].shape[1 if m.batch_first else 0]
            for layer in range(m.num_layers):
                n_in = m.input_size if layer == 0 else m.hidden_size
                flops[0] += 2 * steps * gates * m.hidden_size * (n_in + m.hidden_size)
    kinds = (nn.Conv2d, nn.Linear, nn.RNNBase)
    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, kinds)]
    with torch.no_grad():
        module(torch.zeros((1,) + spec.input_shape))
    for h in handles:
        h.remove()
    params = sum(p.numel() for m in module.modules() if isinstance(m, kinds) for p in m.parameters())
    params += sum(m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d) and m.bias is None)
    return flops[0], params


# ---- exports -----------------------------------------------------------------------------------

def export_strata(module, spec, path: Path):
    from strata_convert import torch_source
    torch_source.save(module, torch.zeros((1,) + spec.input_shape), path)


def export_strata_frame(module, spec, path: Path):
    """The recurrent model converted for T = 1: one frame per call through a stateful session."""
    from strata_convert import torch_source
    torch_source.save(module, torch.zeros((1, 1) + spec.input_shape[1:]), path)


def export_onnx(module, spec, path: Path):
    """ONNX with a dynamic batch dimension, opset 17 or later, weights inside the file."""
    x = torch.zeros((2,) + spec.input_shape)
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
    if spec.family != "mlp":
        raise NotImplementedError("the TFLite export is written for the MLPs only (a Keras model given the same weights)")

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


def export_pte(module, spec, path: Path, batch: int, int8: bool):
    """ExecuTorch program with a static input shape (batch, *input_shape), every op the XNNPACK
    delegate takes lowered to it (torch.export → to_edge_transform_and_lower(XnnpackPartitioner)
    → to_executorch). int8: first PT2E quantization with XNNPACKQuantizer's symmetric per-channel
    dynamic config (int8 weights, activations quantized per call, as ORT's quantize_dynamic),
    calibrated on one seeded random batch."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    x = torch.randn((batch,) + spec.input_shape, generator=torch.Generator().manual_seed(SEED))
    if int8:
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer, get_symmetric_quantization_config)
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True,
                                                                                   is_dynamic=True))
        prepared = prepare_pt2e(torch.export.export(module, (x,)).module(), quantizer)
        prepared(x)
        module = convert_pt2e(prepared)
    program = to_edge_transform_and_lower(torch.export.export(module, (x,)),
                                          partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(program.buffer)


FORMATS = ("strata", "onnx", "onnx_int8", "tflite")
# Recurrent models only: the same module converted for T = 1 (the stateful frame cell).
FRAME_FORMAT = "strata_frame"
# ExecuTorch: one file per batch size (static shapes), path from pte_path().
PTE_FORMATS = ("pte", "pte_int8")


def pte_path(out_dir: Path, name: str, fmt: str, batch: int) -> Path:
    return out_dir / f"{name}.b{batch}.{'int8.pte' if fmt == 'pte_int8' else 'pte'}"


def format_path(out_dir: Path, name: str, fmt: str) -> Path:
    """The file of one of FORMATS or FRAME_FORMAT."""
    suffix = {"onnx_int8": "int8.onnx", FRAME_FORMAT: "frame.strata"}.get(fmt, fmt)
    return out_dir / f"{name}.{suffix}"


def export_all(module, spec, out_dir: Path, formats=FORMATS, log=print) -> dict:
    """Writes the model in every format to out_dir; returns {format: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {f: format_path(out_dir, spec.name, f) for f in FORMATS + (FRAME_FORMAT,)}
    steps = [("strata", lambda: export_strata(module, spec, paths["strata"])),
             (FRAME_FORMAT, lambda: export_strata_frame(module, spec, paths[FRAME_FORMAT])),
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
