"""A throwaway SwiftPM package that uses Strata as a dependency, as a Swift developer would:
`.package(url: <a git clone of this checkout>, exact: "<version>")` (a version-pinned dependency,
which SwiftPM refuses when a target has unsafeFlags), the `StrataSwift` product,
`swift build -c release`, then the program runs a model written by the converter and its outputs
are compared with numpy's. The path dependency (`.package(path: <this checkout>)`) is tested by
building examples/swift (test_examples.py).

The version-pinned build clones the committed HEAD (CI tests a clean clone); STRATA_SWIFT_PACKAGE_PATH_ONLY=1
skips it while iterating on uncommitted changes.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import strata
from strata_convert import mlp_graph, writer

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(shutil.which("swift") is None or shutil.which("git") is None,
                                reason="swift and git are needed")

MAIN = r"""
import StrataSwift

// Loads the model named on the command line, runs 3 samples, prints one line per sample.
let path = CommandLine.arguments[1]
do {
    let model = try Model(path: path)
    let session = try model.makeSession(threads: 2)
    let perSample = model.inputs[0].sampleCount
    let input = (0..<(3 * perSample)).map { Float($0 % 7) / 7 - 0.5 }
    let output = try session.run(input)
    let width = model.outputs[0].sampleCount
    for s in 0..<3 { print(output[(s * width)..<((s + 1) * width)].map { "\($0)" }.joined(separator: " ")) }
    _ = try Model(path: path + ".missing")
} catch {
    let typed: StrataError = error  // typed throws reach the caller
    print("error: \(typed.status.name) \(typed.message)")
}
"""


def write_model(path: Path):
    rng = np.random.default_rng(5)
    w1, b1 = rng.standard_normal((12, 6), dtype=np.float32), rng.standard_normal(12, dtype=np.float32)
    w2, b2 = rng.standard_normal((4, 12), dtype=np.float32), rng.standard_normal(4, dtype=np.float32)
    graph = mlp_graph.mlp([("linear", w1, b1, "fc1"), ("act", "Relu", {}), ("linear", w2, b2, "fc2")], 6,
                          source="numpy", name="tiny")
    writer.write_model(str(path), graph)
    x = (np.arange(18) % 7).astype(np.float32).reshape(3, 6) / 7 - 0.5
    return np.maximum(x @ w1.T + b1, 0) @ w2.T + b2


def package(root: Path, dependency: str, identity: str = "strata") -> Path:
    (root / "Sources" / "consumer").mkdir(parents=True)
    (root / "Sources" / "consumer" / "main.swift").write_text(MAIN)
    (root / "Package.swift").write_text(f"""// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [{dependency}],
    targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "StrataSwift", package: "{identity}")])]
)
""")
    return root


def build_and_run(root: Path, model: Path, expected: np.ndarray):
    build = subprocess.run(["swift", "build", "-c", "release"], cwd=root, capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    done = subprocess.run([str(root / ".build" / "release" / "consumer"), str(model)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    got = np.array([line.split() for line in lines[:3]], np.float32)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert lines[3].startswith("error: IO_ERROR ") and ".missing" in lines[3], lines[3]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("swiftpkg") / "tiny.strata"
    return path, write_model(path)


def test_version_pinned_git_dependency_builds_in_release_and_runs(model, tmp_path):
    if os.environ.get("STRATA_SWIFT_PACKAGE_PATH_ONLY") == "1":
        pytest.skip("STRATA_SWIFT_PACKAGE_PATH_ONLY=1")
    version = strata.__version__
    clone = tmp_path / "strata"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True, timeout=300)
    subprocess.run(["git", "-C", str(clone), "tag", "-f", version], check=True, capture_output=True)
    root = package(tmp_path / "consumer", f'.package(url: "file://{clone}", exact: "{version}")')
    build_and_run(root, *model)
