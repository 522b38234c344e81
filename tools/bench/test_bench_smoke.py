"""Smoke test of the benchmark harness (`make bench-smoke`; deliberately not part of `make test`).

Runs tools/bench/run.py on the seed model and LeNet-5 (the CNN family's smallest) at two small
batches with very short samples, and the
C harness on its own, then checks the results' shape: every installed engine produced a figure,
Strata's outputs match PyTorch's, the JSON, Markdown and chart exist. No timing is asserted —
a benchmark is not a test. Peers that are not installed (e.g. in the main .venv without
TensorFlow) are skipped by the harness, not failed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB = ROOT / "build" / "lib" / "libstrata.so"

pytestmark = pytest.mark.skipif(not LIB.exists(), reason="libstrata.so is not built (make lib)")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tools" / "convert"), str(ROOT / "bindings" / "python"),
                                         env.get("PYTHONPATH", "")])
    env.setdefault("STRATA_LIBRARY", str(LIB))
    return env


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, str(HERE / "run.py"), "--models", "mnist,lenet", "--batches", "1,16", "--threads", "1,2",
         "--reps", "3", "--min-reps", "2", "--target-ms", "1", "--budget-s", "1", "--settle-ms", "0",
         "--out", str(out), "--model-dir", str(out / "models")],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done.stdout, json.loads((out / "latest.json").read_text())


def test_every_engine_reports_every_cell(smoke_run):
    _, _, result = smoke_run
    expected = {"strata-c", "strata-py", "torch"}
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnxscript"):
        expected |= {"ort", "ort-int8"}
    if importlib.util.find_spec("executorch"):
        expected |= {"executorch", "executorch-int8"}
    tflite = importlib.util.find_spec("tensorflow") and importlib.util.find_spec("ai_edge_litert")
    rows = result["results"]
    for model in ("mnist", "lenet"):
        # tflite's export is written for the MLPs only
        engines = expected | ({"tflite"} if tflite and model == "mnist" else set())
        assert {r["engine"] for r in rows if r["model"] == model} == engines, model
        for engine in engines:
            cells = {(r["threads"], r["batch"]) for r in rows
                     if r["model"] == model and r["engine"] == engine and not r.get("skipped")}
            assert cells == {(1, 1), (1, 16), (2, 1), (2, 16)}, (model, engine)
    for r in rows:
        assert r["median_us"] > 0 and r["p10_us"] <= r["median_us"] <= r["p90_us"]
        assert r["gflops"] > 0 and r["samples"] >= 2


def test_strata_matches_pytorch(smoke_run):
    _, _, result = smoke_run
    for r in result["results"]:
        if r["kind"] != "int8":
            assert r["rel_diff"] <= 1e-4 and not r["wrong"], r


def test_ratios_compare_with_the_best_peer(smoke_run):
    _, _, result = smoke_run
    for r in result["results"]:
        for kind in ("f32", "int8"):
            if r[f"best_{kind}_peer"]:
                best = next(p for p in result["results"] if p["engine"] == r[f"best_{kind}_peer"]
                            and p["model"] == r["model"] and p["threads"] == r["threads"] and p["batch"] == r["batch"])
                assert best["kind"] == kind
                assert r[f"ratio_{kind}"] == pytest.approx(best["median_us"] / r["median_us"])
                assert best[f"ratio_{kind}"] == pytest.approx(1.0)


def test_outputs_written(smoke_run):
    out, stdout, result = smoke_run
    assert "summary" in stdout and "| mnist | 1 | 1 |" in (out / "latest.md").read_text()
    assert "| lenet | 16 | 2 |" in (out / "latest.md").read_text()
    assert result["models"]["lenet"]["input_shape"] == [1, 28, 28]
    assert result["machine"]["nproc"] >= 1 and result["versions"]["torch"]
    if importlib.util.find_spec("matplotlib"):
        assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_c_harness_standalone(smoke_run):
    out, _, _ = smoke_run
    exe = ROOT / "build" / "bench" / "strata_bench"
    done = subprocess.run([str(exe), str(out / "models" / "mnist.strata"), "--batch", "1", "--batch", "3",
                           "--threads", "2", "--repeats", "3", "--target-ms", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [l.split() for l in done.stdout.splitlines() if l and l[0].isdigit()]
    assert [(l[0], l[1]) for l in lines] == [("1", "2"), ("3", "2")]
    for l in lines:
        assert 0 < float(l[3]) <= float(l[2]) <= float(l[4])
    bad = subprocess.run([str(exe), str(out / "missing.strata")], capture_output=True, text=True)
    assert bad.returncode == 1 and "missing.strata" in bad.stderr


def test_c_harness_server_protocol(smoke_run):
    out, _, _ = smoke_run
    exe = ROOT / "build" / "bench" / "strata_bench"
    script = f"save {out}/nothing\ntime 2 1 3 1\nsave {out}/o.f32\nbogus\nquit\n"
    done = subprocess.run([str(exe), str(out / "models" / "mnist.strata"), "--serve"], input=script,
                          capture_output=True, text=True, timeout=60)
    answers = done.stdout.splitlines()
    assert answers[0].startswith("ready 784 10 ")
    assert answers[1].startswith("error ") and answers[2].startswith("ok ") and answers[3] == "ok"
    assert answers[4].startswith("error ")
    assert (out / "o.f32").stat().st_size == 2 * 10 * 4
