"""End-to-end demo (`make demo`): train the seed MNIST-style network on the handwritten digits that
ship with scikit-learn, convert it to .strata, run it from Python and from C, and report accuracy,
the max difference from PyTorch, and per-batch latency. Nothing is downloaded."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import strata
from strata_convert import torch_source

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "demo"


class SimpleNN(nn.Module):
    """The seed network, exactly as users write it."""

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


def digits_28x28():
    """scikit-learn's 1797 8×8 digits, scaled to [0, 1] and upsampled to MNIST's 1×28×28."""
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    return images.numpy(), digits.target.astype(np.int64)


def train(x_train, y_train, epochs=15):
    torch.manual_seed(0)
    model = SimpleNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def median_us(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def build_c(name: str) -> Path:
    """Builds bindings/c/NAME.c against libstrata with warnings as errors."""
    lib_dir = ROOT / "build" / "lib"
    exe = OUT / name
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
                    str(ROOT / "bindings" / "c" / f"{name}.c"), "-o", str(exe), f"-L{lib_dir}", "-lstrata",
                    f"-Wl,-rpath,{lib_dir}"], check=True)
    return exe


def run_c_sample(model_path: Path, x: np.ndarray):
    """Runs bindings/c/classify on `x`; returns its outputs and its first prediction lines."""
    raw = OUT / "inputs.f32"
    np.ascontiguousarray(x, dtype="<f4").tofile(raw)
    done = subprocess.run([str(build_c("classify")), str(model_path), str(raw), "--print-outputs"], check=True,
                          capture_output=True, text=True)
    lines = done.stdout.splitlines()
    values = [[float(v) for v in line.split(":", 1)[1].split()] for line in lines if line.startswith("outputs ")]
    predictions = [line for line in lines if line.startswith("sample ")]
    return np.array(values, dtype=np.float32), predictions


def main() -> int:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    images, labels = digits_28x28()
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
    print(f"data      scikit-learn digits upsampled to 1x28x28: {len(x_train)} train, {len(x_test)} test")

    t = time.perf_counter()
    model = train(x_train, y_train)
    print(f"train     SimpleNN 784-128-64-10 in PyTorch {torch.__version__}: {time.perf_counter() - t:.1f} s")

    path = OUT / "mnist.strata"
    torch_source.save(model, torch.from_numpy(x_test[:1]), path, class_labels=[str(d) for d in range(10)])
    print(f"convert   {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    subprocess.run([str(ROOT / "build" / "bin" / "strata"), "info", str(path)], check=True)

    with torch.no_grad():
        reference = model(torch.from_numpy(x_test)).numpy()
    with strata.Model(path) as m:
        out = m.run(x_test)
        scale = max(1.0, float(np.abs(reference).max()))
        diff = float(np.abs(out - reference).max())
        acc_strata = float((out.argmax(1) == y_test).mean())
        acc_torch = float((reference.argmax(1) == y_test).mean())
        agree = float((out.argmax(1) == reference.argmax(1)).mean())
        print(f"python    accuracy Strata {acc_strata:.4f}, PyTorch {acc_torch:.4f}; top-1 agreement {agree:.4f}; "
              f"max |Strata - PyTorch| = {diff:.3g} (output scale {scale:.3g})")

        c_out, predictions = run_c_sample(path, x_test)
        print("c         bindings/c/classify on the test set: " + "; ".join(predictions[:4]) + "; ...")
        c_diff = float(np.abs(c_out - reference).max()) if c_out.shape == reference.shape else float("nan")
        c_acc = float((c_out.argmax(1) == y_test).mean()) if c_out.shape == reference.shape else float("nan")
        print(f"c         bindings/c/classify: {len(c_out)} samples, accuracy {c_acc:.4f}, max |C - PyTorch| = {c_diff:.3g}")

        print("latency   C (bindings/c/latency), median per strata_session_run call, 1 thread:")
        c_latency = subprocess.run([str(build_c("latency")), str(path), "1", "16", "256"], check=True,
                                   capture_output=True, text=True).stdout
        print("\n".join("          " + line for line in c_latency.strip().splitlines()))
        print("latency   Python, median per call, 1 thread (includes the Python call overhead):")
        print("          batch   Strata µs   PyTorch µs   Strata µs/sample   speedup")
        for batch in (1, 16, 256):
            xb = np.ascontiguousarray(x_test[:batch]) if batch <= len(x_test) else np.resize(x_test, (batch, 1, 28, 28))
            tb = torch.from_numpy(xb)
            repeat = 2000 if batch == 1 else 300 if batch == 16 else 50
            s = median_us(lambda: m.run(xb), repeat)
            with torch.no_grad():
                p = median_us(lambda: model(tb), repeat)
            print(f"          {batch:5d}   {s:9.1f}   {p:10.1f}   {s / batch:16.2f}   {p / s:6.1f}x")

    ok = diff <= 1e-5 * scale and agree == 1.0 and c_diff <= 1e-5 * scale
    print("result    " + ("OK: Strata matches PyTorch" if ok else "MISMATCH: see the figures above"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
