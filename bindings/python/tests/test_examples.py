"""examples/ run as a user runs them: the Python programs end to end (train, convert, run,
compare with the source framework), then the C and Swift programs on the CNN's file must print
exactly the Python program's predictions. The Swift example is also the test of a path
dependency on this checkout (`.package(path:)`, release build)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
LIBRARY_DIR = ROOT / "build" / "lib"


def run_example(script, out_dir):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), str(out_dir)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, STRATA_CONVERT_QUIET="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def number(text, label):
    return float(re.search(rf"^{re.escape(label)}: ([-+\d.e]+)", text, flags=re.M)[1])


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    """cnn_digits.py's output directory and its stdout."""
    out_dir = tmp_path_factory.mktemp("examples")
    return out_dir, run_example("cnn_digits.py", out_dir)


def predictions(text):
    (line,) = [x for x in text.splitlines() if x.startswith("predictions: ")]
    return line


def test_cnn_example_trains_converts_and_matches_pytorch(cnn):
    out_dir, text = cnn
    assert number(text, "accuracy") >= 0.85, text
    assert number(text, "max |strata - pytorch|") <= 1e-4, text
    assert len(predictions(text).split()) == 1 + 297  # the 297 test digits
    assert (out_dir / "cnn_digits.strata").is_file() and (out_dir / "digits_test.f32").stat().st_size == 297 * 64 * 4


def test_sklearn_example_matches_predict_proba(tmp_path):
    text = run_example("sklearn_mlp.py", tmp_path)
    assert number(text, "accuracy") >= 0.9, text
    assert number(text, "max |strata - predict_proba|") <= 1e-5, text
    assert "same class as scikit-learn: True" in text


def check_classifier(exe, out_dir, text):
    """Runs a compiled classifier example on the CNN's file: it must print exactly the Python
    program's predictions. Then runs it on a missing file and returns that run, for the caller to
    check the error message."""
    done = subprocess.run([str(exe), str(out_dir / "cnn_digits.strata"), str(out_dir / "digits_test.f32")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == predictions(text)
    return subprocess.run([str(exe), str(out_dir / "missing.strata"), str(out_dir / "digits_test.f32")],
                          capture_output=True, text=True, timeout=60)


def test_c_example_prints_the_python_predictions(cnn, tmp_path):
    out_dir, text = cnn
    exe = tmp_path / "classify_digits"
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
                    str(EXAMPLES / "c" / "classify_digits.c"), f"-L{LIBRARY_DIR}", "-lstrata",
                    f"-Wl,-rpath,{LIBRARY_DIR}", "-o", str(exe)], check=True, timeout=120)
    missing = check_classifier(exe, out_dir, text)
    assert missing.returncode == 1 and "missing.strata" in missing.stderr and "(I/O error)" in missing.stderr


@pytest.mark.skipif(shutil.which("swift") is None, reason="swift is needed")
def test_swift_example_builds_as_a_path_dependency_and_prints_the_python_predictions(cnn, tmp_path):
    out_dir, text = cnn
    build = subprocess.run(["swift", "build", "-c", "release", "--package-path", str(EXAMPLES / "swift"),
                            "--scratch-path", str(tmp_path / "build")], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    exe = tmp_path / "build" / "release" / "classify-digits"
    missing = check_classifier(exe, out_dir, text)
    assert missing.returncode == 1 and missing.stderr.startswith("classify-digits: IO_ERROR: "), missing.stderr


def test_streaming_example_feeds_frames_through_a_stateful_session(tmp_path):
    text = run_example("streaming_gru.py", tmp_path)
    assert number(text, "max |strata - pytorch|") <= 1e-5, text
    assert "frame by frame equals one call bitwise: True" in text, text
    assert len(re.search(r"^keyword per frame: (.*)$", text, flags=re.M)[1].split()) == 49, text
