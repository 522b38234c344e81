"""Writes the generated models the soak, leak and sanitizer runs use (numpy only, no torch).

    python tools/soak/make_models.py DIR

Each is a small f32 network with fixed pseudo-random weights; names say the shape. Add a model by
adding a function to MODELS. Models of other precisions (quantized) belong here too, once the
converter writes them; the soak also runs every .strata file under its model directories.
"""
import sys
from pathlib import Path

import numpy as np
from strata_convert.ir import Graph, Node, Tensor, ValueInfo
from strata_convert.writer import write_model


def _linear(rng, name, n_in, n_out):
    w = Tensor(f"{name}.weight", rng.standard_normal((n_out, n_in)).astype(np.float32) / np.sqrt(n_in))
    b = Tensor(f"{name}.bias", rng.standard_normal(n_out).astype(np.float32) * 0.1)
    return w, b


def tiny():
    """x [N, 4] -> Linear 4->3 -> Relu -> y [N, 3]: the cheapest model to load and run."""
    rng = np.random.default_rng(1)
    w, b = _linear(rng, "fc", 4, 3)
    return Graph(inputs=[ValueInfo("x", dims=[-1, 4])], outputs=[ValueInfo("y", dims=[-1, 3])],
                 nodes=[Node("Linear", "fc", ["x", w.name, b.name], ["z"]), Node("Relu", "relu", ["z"], ["y"])],
                 tensors=[w, b], metadata={"producer": "tools/soak"})


def mlp_784():
    """image [N, 1, 28, 28] -> Flatten -> 784->128 Relu -> 128->64 Tanh -> 64->10 Softmax."""
    rng = np.random.default_rng(2)
    layers = [_linear(rng, "fc1", 784, 128), _linear(rng, "fc2", 128, 64), _linear(rng, "fc3", 64, 10)]
    nodes = [Node("Flatten", "flatten", ["image"], ["flat"]),
             Node("Linear", "fc1", ["flat", "fc1.weight", "fc1.bias"], ["h1"]), Node("Relu", "relu", ["h1"], ["a1"]),
             Node("Linear", "fc2", ["a1", "fc2.weight", "fc2.bias"], ["h2"]), Node("Tanh", "tanh", ["h2"], ["a2"]),
             Node("Linear", "fc3", ["a2", "fc3.weight", "fc3.bias"], ["z"]), Node("Softmax", "softmax", ["z"], ["p"])]
    return Graph(inputs=[ValueInfo("image", dims=[-1, 1, 28, 28])], outputs=[ValueInfo("p", dims=[-1, 10])],
                 nodes=nodes, tensors=[t for layer in layers for t in layer], metadata={"producer": "tools/soak"})


def residual_256():
    """x [N, 256] -> h = Relu(Linear(x)); y = LogSoftmax(Linear(h + x)): an Add of two buffers."""
    rng = np.random.default_rng(3)
    (w1, b1), (w2, b2) = _linear(rng, "fc1", 256, 256), _linear(rng, "fc2", 256, 32)
    nodes = [Node("Linear", "fc1", ["x", w1.name, b1.name], ["h"]), Node("Relu", "relu", ["h"], ["a"]),
             Node("Add", "add", ["a", "x"], ["r"]), Node("Linear", "fc2", ["r", w2.name, b2.name], ["z"]),
             Node("LogSoftmax", "logsoftmax", ["z"], ["y"])]
    return Graph(inputs=[ValueInfo("x", dims=[-1, 256])], outputs=[ValueInfo("y", dims=[-1, 32])],
                 nodes=nodes, tensors=[w1, b1, w2, b2], metadata={"producer": "tools/soak"})


MODELS = {"tiny_f32": tiny, "mlp784_f32": mlp_784, "residual256_f32": residual_256}


def write_models(directory) -> list:
    """Writes every model of MODELS to DIRECTORY/<name>.strata; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in MODELS.items():
        path = directory / f"{name}.strata"
        write_model(str(path), make())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_models(sys.argv[1] if len(sys.argv) > 1 else "build/soak-models"):
        print(p)
