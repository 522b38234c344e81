"""Smoke test of the benchmark harness (`make bench-smoke`; deliberately not part of `make test`).

Runs tools/bench/run.py on the seed model and LeNet-5 (the CNN family's smallest) at two small
batches with very short samples; then the GRU keyword spotter (the recurrent family, with its
stateful frame cells and the opt-in strata-py-bare engine) without ExecuTorch, whose per-batch
export of a 49-step GRU takes minutes; and the C harness on its own, then checks the results' shape: every installed engine produced a figure,
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


def _run(out, *args):
    done = subprocess.run(
        [sys.executable, str(HERE / "run.py"), "--batches", "1,16", "--threads", "1,2",
         "--reps", "3", "--min-reps", "2", "--target-ms", "1", "--budget-s", "1", "--settle-ms", "0",
         "--out", str(out), "--model-dir", str(out / "models"), *args],
        capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done.stdout, json.loads((out / "latest.json").read_text())


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("bench"), "--models", "mnist,lenet")


RNN_ENGINES = {"strata-c", "strata-py", "strata-py-bare", "torch", "strata-c-frame", "strata-py-frame"}


@pytest.fixture(scope="module")
def rnn_run(tmp_path_factory):
    engines = RNN_ENGINES | ({"ort", "ort-int8"} if importlib.util.find_spec("onnxruntime") else set())
    return _run(tmp_path_factory.mktemp("bench-rnn"), "--models", "gru_kws", "--engines", ",".join(sorted(engines)),
                "--no-chart")


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


def test_recurrent_family_and_its_frame_cell(rnn_run):
    """gru_kws: every engine in every cell, all matching PyTorch, and the stateful frame rows with
    a T-th of the whole call of the same route beside them."""
    out, stdout, result = rnn_run
    rows = result["results"]
    engines = RNN_ENGINES | ({"ort", "ort-int8"} if importlib.util.find_spec("onnxruntime") else set())
    assert {r["engine"] for r in rows} == engines
    for engine in engines:
        assert {(r["threads"], r["batch"]) for r in rows if r["engine"] == engine and not r.get("skipped")} == {
            (1, 1), (1, 16), (2, 1), (2, 16)}, engine
    for r in rows:
        assert r["median_us"] > 0 and r["p10_us"] <= r["median_us"] <= r["p90_us"]
        assert r["kind"] == "int8" or (r["rel_diff"] <= 1e-4 and not r["wrong"]), r
    assert result["models"]["gru_kws"]["input_shape"] == [49, 40]
    # 2 layers x 3 gates x 49 steps x 128 x (in + 128), plus the head
    assert result["models"]["gru_kws"]["flops_per_sample"] == 2 * 49 * 3 * 128 * (40 + 128 + 128 + 128) + 2 * 128 * 12
    for r in rows:
        if r["kind"] == "frame":
            assert r["steps"] == 49 and r["ratio_f32"] is None and not r["wrong"]
            whole = next(w for w in rows if w["engine"] == r["engine"].removesuffix("-frame")
                         and (w["threads"], w["batch"]) == (r["threads"], r["batch"]))
            assert r["whole_over_t_us"] == pytest.approx(whole["median_us"] / 49)
            assert r["frame_minus_whole_over_t_us"] == pytest.approx(r["median_us"] - r["whole_over_t_us"])
    assert sum(r["kind"] == "frame" for r in rows) == 8  # C and Python, 2 batches, 2 thread counts
    assert "| gru_kws | 16 | 2 | C |" in (out / "latest.md").read_text() and "Stateful frames" in stdout


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
