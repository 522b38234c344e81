"""The cross-architecture test (issue 16): the x86-64 and the aarch64 library give the same bits.

    python tools/arm/cross_arch.py WORKDIR X86_DUMPER "AARCH64_RUNNER..." [--models-only]
                                   [--also "AARCH64_RUNNER..." NAME_PART]

Writes a spread of models to WORKDIR/models (every op family the PyTorch converter maps: Linear,
Conv2d, depthwise Conv2d, BatchNorm, LayerNorm, pooling, LSTM/GRU/RNN, residual Add, every
activation, Softmax/LogSoftmax along the last and along a middle axis, the format 1.5 ops (elementwise,
shape, reductions, spatial, a bidirectional GRU); the MLP in every weight
precision: f32, f16, bf16, int8, int4, int8-dynamic), two input sets per model (normal values, and
the same laced with subnormal and tiny values whose products underflow), then runs
bindings/c/tests/dump_outputs.c built for each architecture — X86_DUMPER natively, the aarch64 one
through AARCH64_RUNNER (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu build/aarch64/test/dump_outputs")
— at 1, 2 and 4 threads and batches of 1, 7 and 64, and compares the output bytes. Exits 1 naming
the first model, input set, thread count, batch size and element that differ.

--also runs a second aarch64 runner (e.g. qemu with `-cpu cortex-a72`, a core without the dot
product, so the dynamic-int8 GEMM takes the portable twin instead of sdot) on the models whose file
name contains NAME_PART, against the same x86-64 outputs.
"""
import shlex
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

SAMPLES = 64
THREADS = (1, 2, 4)
BATCHES = (1, 7, 64)
PRECISIONS = ("f32", "f16", "bf16", "int8", "int4", "int8-dynamic")


def _torch_models():
    """(name, module, per-sample input shape) for every op family of the PyTorch converter."""
    import torch
    from torch import nn

    torch.manual_seed(16)

    class Recurrent(nn.Module):
        """LSTM -> GRU -> RNN over a short sequence, batch first."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.gru = nn.GRU(16, 16, batch_first=True)
            self.rnn = nn.RNN(16, 8, batch_first=True)

        def forward(self, x):
            h, _ = self.lstm(x)
            h, _ = self.gru(h)
            h, _ = self.rnn(h)
            return h

    class Zoo15(nn.Module):
        """The format 1.5 ops (issue 15): elementwise math, chunk, channel shuffle, Slice, reductions, normalize."""

        def __init__(self):
            super().__init__()
            self.conv, self.prelu, self.head = nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(8), nn.Linear(8 + 7 + 7, 6)

        def forward(self, x):
            x = self.prelu(nn.functional.elu(self.conv(x), 0.5))
            a, b = x.chunk(2, dim=1)
            x = torch.cat((nn.functional.selu(a) + nn.functional.softplus(b, 2.0), nn.functional.mish(b)), 1)
            n, c, h, w = x.shape
            x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)[:, :, 1:, ::2]
            m = x.abs()
            x = torch.sqrt(m) + torch.exp(-m) + torch.log(m + 1) - x.neg() * 0.5 + torch.reciprocal(m + 1) + m ** 1.5 - x ** 3
            f = torch.cat((x.mean((2, 3)), x.sum(1).amax(-1), x.amax((1, 3))), 1)
            return self.head(nn.functional.normalize(f, dim=1))

    class Spatial15(nn.Module):
        """The format 1.5 spatial ops (issue 15) and a bidirectional GRU (issue 18): Conv1d and 1-D
        pools, ConvTranspose2d, Resize (nearest, bilinear both ways), Pad (reflect, constant)."""

        def __init__(self):
            super().__init__()
            self.conv1d, self.up = nn.Conv1d(3, 6, 3, padding=1), nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
            self.gru, self.head = nn.GRU(4, 5, batch_first=True, bidirectional=True), nn.Linear(10, 3)

        def forward(self, x):                                   # x [N, 3, 8, 8]
            n = x.shape[0]
            s = nn.functional.max_pool1d(self.conv1d(x.reshape(n, 3, 64)).relu(), 2)             # [N, 6, 32]
            s = nn.functional.adaptive_avg_pool1d(s, 16).reshape(n, 6, 4, 4)
            y = self.up(nn.functional.pad(s, (1, 1, 1, 1), mode="reflect"))                          # [N, 4, 12, 12]
            y = nn.functional.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False)
            y = nn.functional.interpolate(y, size=(8, 8), mode="bilinear", align_corners=True)
            y = nn.functional.interpolate(nn.functional.pad(y, (0, 1, 0, 1), value=0.25), scale_factor=2, mode="nearest")
            out, _ = self.gru(y.mean(3).transpose(1, 2))                                            # [N, 18, 10]
            return self.head(out[:, -1])

    mlp = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 64), nn.Sigmoid(), nn.Linear(64, 64), nn.SiLU(),
                        nn.LayerNorm(64), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 32), nn.LeakyReLU(0.1),
                        nn.Linear(32, 10), nn.LogSoftmax(dim=1))
    mlp2 = nn.Sequential(nn.Linear(32, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 32),
                         nn.GELU(approximate="tanh"), nn.Linear(32, 12), nn.Softmax(dim=1))
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.SiLU(), nn.AvgPool2d(2), nn.Softmax(dim=1),
                        nn.Flatten(), nn.Linear(72, 10), nn.Sigmoid())
    cnn2 = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.GELU(), nn.Conv2d(16, 8, 1), nn.LogSoftmax(dim=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    for m in (mlp2, cnn):
        for bn in m.modules():  # non-trivial running statistics
            if isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)):
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
    return [("mlp", mlp, (32,)), ("mlp_bn", mlp2, (32,)), ("cnn", cnn, (3, 12, 12)), ("cnn_strided", cnn2, (3, 11, 11)),
            ("recurrent", Recurrent(), (5, 8)), ("zoo15", Zoo15(), (3, 8, 8)),
            ("spatial15", Spatial15(), (3, 8, 8))]


def write_models(directory: Path) -> list:
    """Writes the model spread; returns (path, per-sample input shape) pairs."""
    import torch
    from strata_convert import precision
    from strata_convert.torch_source import convert_module
    from strata_convert.writer import write_model

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "soak"))
    import make_models

    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, module, shape in _torch_models():
        graph = convert_module(module, torch.zeros((2,) + shape))
        variants = PRECISIONS if name.startswith("mlp") else ("f32",)
        for p in variants:
            chosen = {w: p for _, w in precision.linear_layers(graph)}
            path = directory / f"{name}_{p}.strata"
            write_model(str(path), precision.apply_precision(graph, chosen))
            out.append((path, shape))
    for name, make in make_models.MODELS.items():
        graph = make()
        path = directory / f"{name}.strata"
        write_model(str(path), graph)
        dims = graph.inputs[0].dims[1:]
        out.append((path, tuple(dims)))
    return out


def write_inputs(path: Path, shape: tuple) -> list:
    """Two input files for the model at `path`: normal values, and the same laced with subnormals
    (every 3rd value) and tiny normals (every 5th: products with weights underflow). Returns the paths."""
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    x = rng.standard_normal((SAMPLES,) + shape).astype(np.float32)
    laced = x.copy().reshape(-1)
    laced[::3] = (rng.uniform(1e-45, 1e-38, laced[::3].size) * rng.choice([-1, 1], laced[::3].size)).astype(np.float32)
    laced[1::5] = (rng.uniform(1e-37, 1e-32, laced[1::5].size) * rng.choice([-1, 1], laced[1::5].size)).astype(np.float32)
    assert np.any((laced != 0) & (np.abs(laced) < np.finfo(np.float32).tiny)), "no subnormal input"
    files = []
    for kind, data in (("normal", x), ("subnormal", laced)):
        f = path.with_suffix(f".{kind}.f32")
        np.ascontiguousarray(data, dtype="<f4").tofile(f)
        files.append(f)
    return files


def run(command: list, model: Path, inputs: Path, output: Path) -> float:
    """Runs one dumper; returns its seconds. Raises SystemExit with its message on failure."""
    start = time.monotonic()
    result = subprocess.run(command + [str(model), str(inputs), str(output), str(SAMPLES),
                                       ",".join(map(str, THREADS)), ",".join(map(str, BATCHES))],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"cross_arch: {' '.join(command)} {model.name} failed: {result.stderr.strip()}")
    return time.monotonic() - start


def compare(model: Path, inputs: Path, x86: Path, arm: Path) -> str | None:
    """None when the two output files are byte-identical, else where they first differ."""
    a, b = np.fromfile(x86, dtype="<u4"), np.fromfile(arm, dtype="<u4")
    if a.size != b.size:
        return f"{model.name} {inputs.name}: {a.size} vs {b.size} output values"
    if a.size == 0:
        return f"{model.name} {inputs.name}: no outputs"
    diff = np.flatnonzero(a != b)
    if diff.size == 0:
        return None
    per_run = a.size // (len(THREADS) * len(BATCHES))
    run_index, element = divmod(int(diff[0]), per_run)
    t, bt = THREADS[run_index // len(BATCHES)], BATCHES[run_index % len(BATCHES)]
    fa, fb = a[diff[0]:diff[0] + 1].view("<f4")[0], b[diff[0]:diff[0] + 1].view("<f4")[0]
    return (f"{model.name} {inputs.name}: {diff.size} of {a.size} values differ; first at threads {t}, batch {bt}, "
            f"element {element}: x86-64 {fa!r} (0x{a[diff[0]]:08x}) vs aarch64 {fb!r} (0x{b[diff[0]]:08x})")


def main(argv: list) -> int:
    work, x86, arm = Path(argv[1]), shlex.split(argv[2]), shlex.split(argv[3])
    also, also_part = None, None
    if "--also" in argv:
        i = argv.index("--also")
        also, also_part = shlex.split(argv[i + 1]), argv[i + 2]
    also_runs = 0
    models = write_models(work / "models")
    if "--models-only" in argv:
        return 0
    failures, values, seconds = [], 0, {"x86-64": 0.0, "aarch64": 0.0}
    for path, shape in models:
        for inputs in write_inputs(path, shape):
            out_x86, out_arm = inputs.with_suffix(".x86_64.out"), inputs.with_suffix(".aarch64.out")
            seconds["x86-64"] += run(x86, path, inputs, out_x86)
            seconds["aarch64"] += run(arm, path, inputs, out_arm)
            problem = compare(path, inputs, out_x86, out_arm)
            values += out_x86.stat().st_size // 4
            if problem:
                failures.append(problem)
            if also and also_part in path.name:
                out_also = inputs.with_suffix(".aarch64-also.out")
                seconds["aarch64"] += run(also, path, inputs, out_also)
                problem = compare(path, inputs, out_x86, out_also)
                also_runs += 1
                if problem:
                    failures.append(f"{' '.join(also[:3])}: {problem}")
    print(f"cross_arch: {len(models)} models x 2 input sets x threads {THREADS} x batches {BATCHES}: "
          f"{values} output values compared; x86-64 {seconds['x86-64']:.1f} s, aarch64 (qemu) {seconds['aarch64']:.1f} s")
    if also:
        print(f"cross_arch: also {' '.join(also[:3])} on {also_runs} input sets of the *{also_part}* models")
        if also_runs == 0:
            failures.append(f"no model name contains {also_part!r}")
    for problem in failures:
        print(f"cross_arch: DIFFERENT: {problem}")
    if not failures:
        print("cross_arch: every output is bitwise equal on x86-64 and aarch64")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
