"""The edge model zoo (issue 15): torchvision classification models with random init and randomised
BatchNorm statistics, plus three edge classics written here (a 1-D sensor CNN, a convolutional
autoencoder, a depthwise-separable keyword spotter), each converted from the nn.Module (torch.fx),
TorchScript and ONNX (fixed and dynamic batch), run through libstrata and compared with PyTorch.

`evaluate(model, route)` is the one measurement; test_zoo.py asserts on it and
tools/zoo/write_table.py turns the same results into the table of docs/OPS.md."""
import io
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn

# Max abs error allowed, relative to the output scale max(1, max |PyTorch output|).
TOLERANCE = 1e-4
IMAGE = (3, 64, 64)


class SensorCNN(nn.Module):
    """A 1-D CNN over 3-axis accelerometer windows (128 steps), as in activity recognition."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv1d(3, 16, 5, padding=2), nn.Conv1d(16, 32, 3, padding=1)
        self.bn = nn.BatchNorm1d(32)
        self.pool, self.gap = nn.MaxPool1d(2), nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(32, 6)

    def forward(self, x):
        x = self.pool(torch.relu(self.c1(x)))
        x = self.gap(torch.relu(self.bn(self.c2(x))))
        return self.head(x.flatten(1))


class AutoEncoder(nn.Module):
    """A convolutional autoencoder for anomaly detection on 1×32×32 images: strided convs down,
    a transposed conv and a nearest upsample back up; the output is the reconstruction."""

    def __init__(self):
        super().__init__()
        self.e1, self.e2 = nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.d1 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.d2 = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.e2(torch.relu(self.e1(x))))
        x = self.up(torch.relu(self.d1(x)))
        return torch.sigmoid(self.d2(x)).flatten(1)


class KeywordSpotter(nn.Module):
    """A depthwise-separable CNN over 1×49×10 MFCC frames (DS-CNN, "Hello Edge"), 12 keywords."""

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(1, 32, (10, 4), stride=(2, 2), padding=(5, 1)), nn.BatchNorm2d(32), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.BatchNorm2d(32), nn.ReLU(),
                       nn.Conv2d(32, 32, 1), nn.BatchNorm2d(32), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(32, 12)

    def forward(self, x):
        return self.head(self.pool(self.features(x)).flatten(1))


def torchvision_models():
    """torchvision.models. PyPI's torchvision 0.28.0 is the CUDA build: beside the CPU torch its C
    ops (nms, roi_align) cannot load and `import torchvision` fails registering their fake kernels
    (torchvision._meta_registrations). The classification models are plain Python and need none
    of them, so that registration module is skipped then."""
    try:
        import torchvision
    except RuntimeError:
        for k in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[k]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        import torchvision
    return torchvision.models


def _torchvision(name):
    def build():
        return getattr(torchvision_models(), name)(weights=None)
    return build


# name -> (builder, per-sample input shape)
MODELS = {
    "resnet18": (_torchvision("resnet18"), IMAGE),
    "mobilenet_v2": (_torchvision("mobilenet_v2"), IMAGE),
    "mobilenet_v3_small": (_torchvision("mobilenet_v3_small"), IMAGE),
    "mobilenet_v3_large": (_torchvision("mobilenet_v3_large"), IMAGE),
    "squeezenet1_1": (_torchvision("squeezenet1_1"), IMAGE),
    "shufflenet_v2_x0_5": (_torchvision("shufflenet_v2_x0_5"), IMAGE),
    "efficientnet_b0": (_torchvision("efficientnet_b0"), IMAGE),
    "mnasnet0_5": (_torchvision("mnasnet0_5"), IMAGE),
    "regnet_y_400mf": (_torchvision("regnet_y_400mf"), IMAGE),
    "densenet121": (_torchvision("densenet121"), IMAGE),
    "sensor_cnn": (SensorCNN, (3, 128)),
    "autoencoder": (AutoEncoder, (1, 32, 32)),
    "keyword_spotter": (KeywordSpotter, (1, 49, 10)),
}

# The routes every model is converted by: the nn.Module (torch.fx), TorchScript (torch.jit.trace),
# ONNX exported with a fixed batch (torch.onnx.export's default) and with a dynamic batch.
ROUTES = ("module", "torchscript", "onnx_fixed", "onnx_dynamic")
FIXED_BATCH = 2


def build(name, seed=0):
    """The model in eval mode: random init from `seed`, BatchNorm running statistics and affine
    parameters randomised (so folding them is exercised), and its per-sample input shape."""
    builder, shape = MODELS[name]
    torch.manual_seed(seed)
    module = builder().eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(n, generator=g) * 0.2)
    return module, shape


def inputs(shape, batch, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, *shape), dtype=np.float32)


def torch_run(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def onnx_bytes(module, shape, dynamic):
    """torch.onnx.export (TorchScript exporter, opset 17): dynamic batch, or fixed at FIXED_BATCH."""
    f = io.BytesIO()
    kw = {"dynamic_axes": {"x": {0: "n"}, "y": {0: "n"}}} if dynamic else {}
    torch.onnx.export(module, (torch.zeros((FIXED_BATCH, *shape)),), f, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"], **kw)
    return f.getvalue()


def convert(module, shape, route, onnx_data=None):
    """The converted Graph of `module` by `route` (raises ConversionError when refused)."""
    example = torch.zeros((1, *shape))
    if route == "module":
        from strata_convert.torch_source import convert_module
        return convert_module(module, example)
    if route == "torchscript":
        from strata_convert.torchscript_source import convert_torchscript
        return convert_torchscript(torch.jit.trace(module, torch.zeros((FIXED_BATCH, *shape))), example)
    import onnx
    from strata_convert.onnx_source import convert_onnx
    data = onnx_data if onnx_data is not None else onnx_bytes(module, shape, route == "onnx_dynamic")
    return convert_onnx(onnx.load_from_string(data))


def error_and_argmax(got, expected):
    """(max abs error / output scale, whether every row's argmax agrees)."""
    scale = max(1.0, float(np.max(np.abs(expected))))
    error = float(np.max(np.abs(got.astype(np.float64) - expected))) / scale
    rows = len(expected)
    same = bool(np.array_equal(got.reshape(rows, -1).argmax(1), expected.reshape(rows, -1).argmax(1)))
    return error, same


def evaluate(name, route, batches=None):
    """Converts model `name` by `route` and runs it. Returns a dict: `converted` (bool), `error`
    (the refusal's message, or None), `max_error` (relative, worst over the batches) and
    `argmax_same`. Batches: FIXED_BATCH for a fixed-batch ONNX export, else 1 and 3."""
    import strata
    from strata_convert.errors import ConversionError
    from strata_convert.writer import serialize
    module, shape = build(name)
    try:
        graph = convert(module, shape, route)
    except ConversionError as e:
        return {"converted": False, "error": str(e), "max_error": None, "argmax_same": None}
    sizes = batches or ((FIXED_BATCH,) if route == "onnx_fixed" else (1, 3))
    worst, same = 0.0, True
    with strata.Model.from_bytes(serialize(graph)) as m:
        for i, n in enumerate(sizes):
            x = inputs(shape, n, seed=i)
            e, s = error_and_argmax(m.run(x), torch_run(module, x))
            worst, same = max(worst, e), same and s
    return {"converted": True, "error": None, "max_error": worst, "argmax_same": same, "graph": graph,
            "module": module, "shape": shape}


def precision_agreement(graph, shape, precision, samples=32):
    """Top-1 agreement of the graph stored at `precision` (its Linear weights; docs/FORMAT.md
    "Quantized weights") with the f32 graph, both through libstrata, on random inputs."""
    import strata
    from strata_convert import precision as prec
    from strata_convert.writer import serialize
    q = prec.apply_precision(graph, prec.layer_precisions(graph, precision))
    x = inputs(shape, samples, seed=7)
    with strata.Model.from_bytes(serialize(graph)) as a, strata.Model.from_bytes(serialize(q)) as b:
        ya, yb = a.run(x), b.run(x)
    return float(np.mean(ya.reshape(samples, -1).argmax(1) == yb.reshape(samples, -1).argmax(1)))


def batch1_time_ratio(graph, module, shape, repeats=30):
    """Median batch-1 time of libstrata (1 thread) over ONNX Runtime (1 intra-op thread) on the same
    model in the same process: < 1 means Strata is faster."""
    import onnxruntime as ort
    import strata
    from strata_convert.writer import serialize
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    sess = ort.InferenceSession(onnx_bytes(module, shape, True), options, providers=["CPUExecutionProvider"])
    x = inputs(shape, 1)
    with strata.Model.from_bytes(serialize(graph)) as m, m.session(n_threads=1) as s:
        def strata_call():
            s.run(x)

        def ort_call():
            sess.run(None, {"x": x})
        times = {"strata": [], "ort": []}
        for _ in range(3):
            strata_call(), ort_call()
        for _ in range(repeats):  # interleaved, so load changes hit both alike
            for key, call in (("strata", strata_call), ("ort", ort_call)):
                t = time.perf_counter()
                call()
                times[key].append(time.perf_counter() - t)
    return float(np.median(times["strata"]) / np.median(times["ort"]))
