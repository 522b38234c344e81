"""Strata's speed benchmark against its CPU peers, in one run (`make bench`; see tools/bench/README.md).

Exports four PyTorch models with seeded weights to every format (tools/bench/models.py), then times
Strata (C ABI, from tools/bench/strata_bench.c; and the Python binding), ONNX Runtime (f32 and
dynamic int8), TensorFlow Lite with XNNPACK and PyTorch eager on the same inputs, interleaved:
within a cell (model, threads, batch), every repetition round runs one sample of each engine in a
rotating order, so slow drifts of a shared, noisy machine hit all engines alike. A sample is
enough back-to-back calls to last --target-ms (at least one); an engine's figure is the median
per-call time over its samples and the spread is p10..p90. Every engine's output is compared with
PyTorch's on the same input (max abs diff), so a fast but wrong engine shows.

Writes JSON, a Markdown summary and a PNG chart (latency and throughput against batch) to
tools/bench/results/ (BENCH_QUICK=1 or --quick: fewer batches and repetitions, written to
tools/bench/results/quick/, which git ignores).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tools" / "convert"))
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import models  # noqa: E402

LIB_DIR = ROOT / "build" / "lib"  # `make lib`
WORK = ROOT / "build" / "bench"
ENGINE_ORDER = ["strata-c", "strata-py", "ort", "tflite", "executorch", "torch", "ort-int8", "executorch-int8",
                "strata-c-frame", "strata-py-frame", "strata-py-bare"]
# strata-py-bare (the binding in a process of its own) is opt-in: --engines ...,strata-py-bare
DEFAULT_ENGINES = [e for e in ENGINE_ORDER if e != "strata-py-bare"]
STRATA_THREADS_NOTE = ("Strata: the thread count is passed as n_threads in strata_session_params; the C API does "
                       "not report how many threads a session actually uses, so the cpu/wall column measures the "
                       "busy cores instead (for every engine)")


def log(*a):
    print(*a, flush=True)


# ---- setup ---------------------------------------------------------------------------------------

def build_harness() -> Path:
    lib = LIB_DIR / "libstrata.so"
    if not lib.exists():
        sys.exit(f"bench: {lib.relative_to(ROOT)} is missing; run `make lib` first")
    exe = WORK / "strata_bench"
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
                    str(HERE / "strata_bench.c"), "-o", str(exe), f"-L{LIB_DIR}", "-lstrata",
                    f"-Wl,-rpath,{LIB_DIR}"], check=True)
    return exe


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def version_of(dist: str):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def export_stamp() -> str:
    text = (HERE / "models.py").read_bytes() + json.dumps(
        [version_of(d) for d in ("torch", "onnx", "onnxscript", "onnxruntime", "tensorflow-cpu", "keras", "executorch")]).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def export_models(names, model_dir: Path, formats) -> dict:
    """Runs the exports in a child process so TensorFlow never loads into the timing process.
    The .strata files are always redone (the converter may have changed); the others are reused
    while models.py and the exporters' versions are unchanged. `formats` maps a model name to its
    format tokens (a list for every model also works); ExecuTorch's are per batch ("pte@16").
    Returns {(name, token): reason} for the exports that failed (printed; those engines are skipped)."""
    stamp_path = model_dir / "stamp.json"
    stamp = export_stamp()
    old = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    failed = {}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    for name in names:
        wanted = formats[name] if isinstance(formats, dict) else formats
        fmts = [f for f in wanted
                if f in ("strata", models.FRAME_FORMAT) or old.get(name, {}).get(f) != stamp or not _model_path(model_dir, name, f).exists()]
        log(f"export    {models.SPECS[name].title}: {', '.join(fmts)}"
            + (f" (reusing {', '.join(sorted(set(wanted) - set(fmts)))})" if set(wanted) - set(fmts) else ""))
        failures = model_dir / f"{name}.failed.json"
        failures.unlink(missing_ok=True)
        subprocess.run([sys.executable, str(Path(__file__)), "--export-one", name, "--formats", ",".join(fmts),
                        "--model-dir", str(model_dir)], check=True, env=env)
        bad = json.loads(failures.read_text()) if failures.exists() else {}
        failed.update({(name, f): why for f, why in bad.items()})
        old.setdefault(name, {}).update({f: stamp for f in fmts if f not in bad})
        stamp_path.write_text(json.dumps(old, indent=1))
    return failed


def _json_value(value):
    """json.dumps's fallback: a path as `_portable` writes it, anything else (numpy scalars) as a float."""
    return str(_portable(value)) if isinstance(value, Path) else float(value)


def _portable(value):
    """A config value for the committed results: paths inside the repository relative to it, so
    no machine's directory layout is written into tracked files."""
    if isinstance(value, (str, Path)) and os.path.isabs(value):
        path = Path(value).resolve()
        return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    return value


def _model_path(model_dir: Path, name: str, fmt: str) -> Path:
    """The file of a format token: "onnx", or an ExecuTorch one with its batch, "pte_int8@16"."""
    if "@" in fmt:
        fmt, batch = fmt.split("@")
        return models.pte_path(model_dir, name, fmt, int(batch))
    return models.format_path(model_dir, name, fmt)


def export_one(name: str, formats, model_dir: Path) -> None:
    import logging
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("torch").setLevel(logging.ERROR)
    spec = models.SPECS[name]
    module = models.build(spec)
    import contextlib
    import io
    failed = {}
    for fmt in formats:
        t = time.perf_counter()
        sink = io.StringIO()
        path = _model_path(model_dir, name, fmt)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                if "@" in fmt:
                    kind, batch = fmt.split("@")
                    models.export_pte(module, spec, path, int(batch), int8=kind == "pte_int8")
                else:
                    models.export_all(module, spec, model_dir, formats=(fmt,), log=lambda *a: None)
        except Exception as e:  # a format that cannot take this model: its engine is skipped
            why = f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
            failed[fmt] = why
            path.unlink(missing_ok=True)
            log(f"          {fmt:14s} FAILED, skipped: {why}")
            if fmt == "strata":  # the model is not run at all: no other export is needed
                log(f"          (the other formats are not exported: the model is skipped)")
                break
            continue
        log(f"          {fmt:14s} {path.name:24s} {path.stat().st_size / 1e6:8.1f} MB in {time.perf_counter() - t:5.1f} s")
    if failed:
        (model_dir / f"{name}.failed.json").write_text(json.dumps(failed, indent=1))


def tflite_uses_xnnpack(path: Path) -> bool | None:
    """True when LiteRT reports creating its XNNPACK delegate for this model (default resolver)."""
    code = ("from ai_edge_litert.interpreter import Interpreter\n"
            f"i = Interpreter(model_path={str(path)!r}, num_threads=1); i.allocate_tensors(); i.invoke()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return "XNNPACK" in (done.stderr + done.stdout)


def read_bandwidth_gbps() -> float:
    """One core's single-stream read bandwidth from DRAM: the best of 5 passes of numpy's (SIMD) max
    over 256 MiB, the yardstick for batch-1 runs of a model whose weights do not fit in the caches
    (a lower bound of what a core can read: several streams at once get more)."""
    a = np.ones(1 << 26, np.float32)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a.max()
        best = min(best, time.perf_counter() - t)
    return a.nbytes / best / 1e9


def machine_info() -> dict:
    info = {"platform": platform.platform(), "nproc": os.cpu_count()}
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info.update({"cpu": fields.get("Model name"), "cpus": fields.get("CPU(s)"),
                     "cores_per_socket": fields.get("Core(s) per socket"), "sockets": fields.get("Socket(s)"),
                     "threads_per_core": fields.get("Thread(s) per core"),
                     "simd": [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni")
                              if f in fields.get("Flags", "").split()],
                     "l2": fields.get("L2 cache"), "l3": fields.get("L3 cache")})
    except OSError:
        pass
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return info


def machine_label(m: dict) -> str:
    return f"{m.get('cpu') or platform.processor()}, {m.get('cpus', m['nproc'])} CPUs ({', '.join(m.get('simd', []))})"


def git_state() -> dict:
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()
    dirty = bool(git("status", "--porcelain", "--", "Sources", "include", "Package.swift"))
    lib = LIB_DIR / "libstrata.so"
    return {"commit": git("rev-parse", "--short", "HEAD"), "library_sources_dirty": dirty,
            "library": str(lib.relative_to(ROOT)),
            "library_mtime": datetime.datetime.fromtimestamp(lib.stat().st_mtime, datetime.timezone.utc).isoformat(
                timespec="seconds") if lib.exists() else None}


# ---- timing ---------------------------------------------------------------------------------------

def percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def make_engines(spec, module, paths, exe, wanted, notes):
    """The wanted engines that can run this model: `paths` holds the format files that exist
    (failed exports are absent; ExecuTorch's are per batch, "pte@16")."""
    from engines import (ExecuTorch, OnnxRuntime, StrataC, StrataCFrame, StrataPy, StrataPyBare, StrataPyFrame, TFLite,
                         Torch)

    def pte(fmt):
        return {int(f.split("@")[1]): p for f, p in paths.items() if f.startswith(fmt + "@")}
    makers = {
        "strata-c": (None, "strata", lambda: StrataC(exe, paths["strata"], WORK)),
        "strata-py": (None, "strata", lambda: StrataPy(paths["strata"])),
        "ort": ("onnxruntime", "onnx", lambda: OnnxRuntime(paths["onnx"])),
        "tflite": ("ai_edge_litert", "tflite", lambda: TFLite(paths["tflite"])),
        "executorch": ("executorch", "pte@", lambda: ExecuTorch(pte("pte"))),
        "torch": ("torch", None, lambda: Torch(module)),
        "ort-int8": ("onnxruntime", "onnx_int8", lambda: OnnxRuntime(paths["onnx_int8"], name="ort-int8", kind="int8")),
        "executorch-int8": ("executorch", "pte_int8@",
                            lambda: ExecuTorch(pte("pte_int8"), name="executorch-int8", kind="int8")),
        "strata-c-frame": (None, models.FRAME_FORMAT, lambda: StrataCFrame(exe, paths[models.FRAME_FORMAT], WORK)),
        "strata-py-frame": (None, models.FRAME_FORMAT, lambda: StrataPyFrame(paths[models.FRAME_FORMAT])),
        "strata-py-bare": (None, "strata", lambda: StrataPyBare(paths["strata"], WORK)),
    }
    engines = []
    for name in ENGINE_ORDER:
        if name not in wanted:
            continue
        dep, fmt, make = makers[name]
        if dep and not have(dep):
            notes.append(f"{name}: skipped, {dep} is not installed")
            continue
        if fmt and not any(f == fmt or (fmt.endswith("@") and f.startswith(fmt)) for f in paths):
            continue  # its export failed for this model (a note says why) or is not made for it
        engines.append(make())
    return engines


class Cell:
    """One (engine, model, threads, batch) measurement."""

    def __init__(self, engine):
        self.engine = engine
        self.times, self.cpus = [], []
        self.calls = 1
        self.skipped = None
        self.too_slow = False


def calibrate(cell, target_us, skip_s):
    """First (warm-up) calls after prepare; sets calls per sample. Returns the per-call estimate."""
    e = cell.engine
    us, _ = e.sample(1)                 # first call: plans, allocates, faults pages in
    if us > skip_s * 1e6:
        cell.skipped = f"one call took {us / 1e6:.0f} s (> {skip_s:.0f} s)"
        cell.too_slow = True
        return us
    if us < target_us:
        # At least 10 calls: a single call after a pause can pay a thread pool's wake-up, which
        # would set far too few calls per sample (and then every sample pays it again).
        us, _ = e.sample(max(10, min(1000, int(target_us / 10 / max(us, 0.1)))))
    cell.calls = max(1, min(1_000_000, int(round(target_us / max(us, 0.05)))))
    return us


def _busy_ns(pids) -> int:
    """CPU time so far of this process (all threads) and of the child processes `pids` (all threads)."""
    total = time.process_time_ns()
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def settle(cfg, pids):
    """Waits until the engines' thread pools are idle: after a pause of --settle-ms, until a 5 ms window
    sees under 10 % of a core busy in this process and the Strata C server (at most --settle-max-ms).
    Pools that spin after a call (ORT, OpenMP in PyTorch, XNNPACK, Strata's workers) would otherwise
    steal a core from the next engine's sample."""
    time.sleep(cfg.settle_s)
    deadline = time.perf_counter() + cfg.settle_max_s
    while True:
        c0, t0 = _busy_ns(pids), time.perf_counter()
        time.sleep(0.005)
        c1, t1 = _busy_ns(pids), time.perf_counter()
        if (c1 - c0) < 0.1 * (t1 - t0) * 1e9 or t1 > deadline:
            return


def run_cell(engines, batch, x, cfg, predicted):
    """Interleaved rounds over the engines; returns their cells."""
    cells = [Cell(e) for e in engines]
    strata_c_us = None
    for cell in cells:
        e = cell.engine
        guess = predicted.get(e.name)
        if guess is not None and guess > cfg.skip_s * 1e6:
            cell.skipped = (f"predicted {guess / 1e6:.0f} s per call from the smaller batch (> {cfg.skip_s:.0f} s)"
                            if guess != float("inf") else f"too slow at the smaller batch (> {cfg.skip_s:.0f} s)")
            cell.too_slow = True
            continue
        unavailable = e.unavailable(batch)
        if unavailable:
            cell.skipped = unavailable
            continue
        if e.name in ("strata-py", "strata-py-bare") and strata_c_us is not None and strata_c_us > cfg.py_skip_s * 1e6:
            cell.skipped = (f"not run when a call takes over {cfg.py_skip_s:g} s: the same library call as "
                            f"strata-c, the Python overhead (µs) is invisible there")
            continue
        e.prepare(batch, x)
        cell.estimate = calibrate(cell, cfg.target_ms * 1e3, cfg.skip_s)
        if e.name == "strata-c":
            strata_c_us = cell.estimate
    live = [c for c in cells if not c.skipped]
    pids = [c.engine.proc.pid for c in live if hasattr(c.engine, "proc")]  # the C and bare-Python servers
    per_round = sum(max(cfg.target_ms * 1e3, c.calls * c.estimate) for c in live) / 1e6 + 0.015 * len(live)
    reps = max(cfg.min_reps, min(cfg.reps, int(cfg.budget_s / max(per_round, 1e-9))))
    for r in range(reps):
        k = r % max(1, len(live))
        for c in live[k:] + live[:k]:
            us, cpu = c.engine.sample(c.calls, warmup=1 if c.estimate * c.calls < 2e5 else 0)
            c.times.append(us)
            c.cpus.append(cpu)
            settle(cfg, pids)           # let pools that spin after a call go idle
    return cells


def check_outputs(cells, module, x):
    """Max abs difference of every engine's last output from PyTorch's on the same input."""
    import torch
    ref = next((c.engine.output() for c in cells if c.engine.name == "torch" and not c.skipped), None)
    if ref is None:
        with torch.inference_mode():
            ref = module(torch.from_numpy(x)).numpy()
    ref = np.asarray(ref, np.float32).reshape(len(x), -1)
    scale = float(np.abs(ref).max()) or 1.0
    for c in cells:
        if c.skipped:
            continue
        out = np.asarray(c.engine.output(), np.float32).reshape(len(x), -1)
        c.max_abs = float(np.abs(out - ref).max()) if out.shape == ref.shape else float("inf")
        c.rel = c.max_abs / scale
        c.wrong = is_wrong(c.engine.kind, c.rel)


def is_wrong(kind, rel) -> bool:
    """f32 engines should agree with PyTorch to rounding; int8 is approximate by design (flag only nonsense)."""
    return not rel <= (1.0 if kind == "int8" else 1e-4)


# ---- reporting ------------------------------------------------------------------------------------

def fmt_us(us):
    if us is None:
        return "-"
    return f"{us:.2f}" if us < 100 else f"{us:.1f}" if us < 10000 else f"{us:.0f}"


def ratio_text(r):
    return "-" if r is None else f"{r:.2f}x"


def add_ratios(rows):
    """ratio_f32: best f32 peer's median / this median (>1: faster than every f32 peer);
    ratio_int8: the same against the int8 peers."""
    cells = {}
    for row in rows:
        cells.setdefault((row["model"], row["threads"], row["batch"]), []).append(row)
    for group in cells.values():
        ok = [r for r in group if r.get("median_us")]
        best = {}
        for kind in ("f32", "int8"):
            peers = [r for r in ok if r["kind"] == kind]
            if peers:
                b = min(peers, key=lambda r: r["median_us"])
                best[kind] = b
        for r in group:
            for kind in ("f32", "int8"):
                b = best.get(kind) if r["kind"] != "frame" else None  # a frame is not a peer's call
                r[f"ratio_{kind}"] = b["median_us"] / r["median_us"] if b and r.get("median_us") else None
                r[f"best_{kind}_peer"] = b["engine"] if b else None
        add_frame_figures(group)


def add_frame_figures(group):
    """For the stateful frame rows of a recurrent cell: the whole-sequence call of the same route
    (strata-c for strata-c-frame, strata-py for strata-py-frame) divided by the steps T, and the
    frame's cost above it (issue 18's target: at most 2 µs)."""
    by = {r["engine"]: r for r in group}
    for r in group:
        whole = by.get(r["engine"].removesuffix("-frame")) if r["kind"] == "frame" else None
        if whole and r.get("median_us") and whole.get("median_us") and r.get("steps"):
            r["whole_over_t_us"] = whole["median_us"] / r["steps"]
            r["frame_minus_whole_over_t_us"] = r["median_us"] - r["whole_over_t_us"]


def print_model_table(rows, spec):
    log(f"\n{spec.title}: {spec.flops_per_sample / 1e6:.3g} MFLOP per sample, {spec.weight_bytes / 1e6:.3g} MB of f32 weights")
    head = (f"{'engine':15s} {'thr':>3s} {'batch':>5s} {'median µs':>10s} {'p10..p90 µs':>21s} {'GFLOP/s':>8s} "
            f"{'cpu/wall':>8s} {'×f32 peer':>9s} {'×int8':>7s} {'max|Δ| vs torch (rel)':>22s}")
    log(head)
    log("-" * len(head))
    last = None
    for r in rows:
        key = (r["threads"], r["batch"])
        if last is not None and key != last:
            log("")
        last = key
        if r.get("skipped"):
            log(f"{r['engine']:15s} {r['threads']:3d} {r['batch']:5d}  skipped: {r['skipped']}")
            continue
        spread = f"{fmt_us(r['p10_us'])}..{fmt_us(r['p90_us'])}"
        flag = "  WRONG" if r.get("wrong") else ""
        log(f"{r['engine']:15s} {r['threads']:3d} {r['batch']:5d} {fmt_us(r['median_us']):>10s} {spread:>21s} "
            f"{r['gflops']:8.1f} {r['cpu_per_wall']:8.2f} {ratio_text(r['ratio_f32']):>9s} "
            f"{ratio_text(r['ratio_int8']):>7s} {r['max_abs_diff']:12.2e} ({r['rel_diff']:.0e}){flag}")


def summary_markdown(rows, order) -> str:
    """Strata vs its peers, one line per (model, batch, threads)."""
    lines = ["| model | batch | threads | Strata C µs | Strata Py µs | best f32 peer, µs | C speedup | Py speedup "
             "| best int8 peer, µs | C vs int8 | Strata C GFLOP/s |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    by = {}
    for r in rows:
        by.setdefault((r["model"], r["batch"], r["threads"]), {})[r["engine"]] = r

    def us(r):
        return "-" if r is None else "skipped" if r.get("skipped") else fmt_us(r["median_us"])

    def ratio(r, kind):
        return "-" if r is None or r.get("skipped") else ratio_text(r.get(f"ratio_{kind}"))

    for key in sorted(by, key=lambda k: (order.index(k[0]), k[1], k[2])):
        group = by[key]
        c, py = group.get("strata-c"), group.get("strata-py")
        best_i8 = next(iter(group.values())).get("best_int8_peer")
        i8 = group.get(best_i8) if best_i8 else None
        best = next(iter(group.values())).get("best_f32_peer")
        peer = f"{best} {us(group[best])}" if best else "-"
        gflops = f"{c['gflops']:.1f}" if c and not c.get("skipped") else "-"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {us(c)} | {us(py)} | {peer} | {ratio(c, 'f32')} | "
                     f"{ratio(py, 'f32')} | {f'{best_i8} {us(i8)}' if i8 else '-'} | {ratio(c, 'int8')} | {gflops} |")
    return "\n".join(lines)


def frame_markdown(rows, order) -> str | None:
    """The stateful frame cells: one frame through a stateful session against a T-th of the
    whole-sequence call of the same route, and the difference (issue 18: at most 2 µs)."""
    frames = [r for r in rows if r["kind"] == "frame" and "whole_over_t_us" in r]
    if not frames:
        return None
    lines = ["| model | batch | threads | route | frame µs (p10..p90) | whole sequence / T µs | frame − whole/T µs |",
             "|---|---:|---:|---|---:|---:|---:|"]
    for r in sorted(frames, key=lambda r: (order.index(r["model"]), r["batch"], r["threads"], r["engine"])):
        route = "C" if r["engine"].startswith("strata-c") else "Python"
        lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {route} | {fmt_us(r['median_us'])} "
                     f"({fmt_us(r['p10_us'])}..{fmt_us(r['p90_us'])}) | {fmt_us(r['whole_over_t_us'])} | "
                     f"{r['frame_minus_whole_over_t_us']:+.2f} |")
    return "\n".join(lines)


FRAME_INTRO = ("Stateful frames (recurrent models; issue 18): one frame through a stateful session of the model "
               "converted for T = 1, against the whole-sequence call of the same route divided by its T steps:")


def compact_markdown(rows, order) -> str:
    """One line per (model, batch): Strata (C ABI) and the best f32 peer, at 1 and 2 threads."""
    by = {}
    for r in rows:
        by.setdefault((r["model"], r["batch"]), {}).setdefault(r["threads"], {})[r["engine"]] = r
    threads = sorted({r["threads"] for r in rows})
    head = "| model | batch | " + " | ".join(
        f"{t} thread{'s' if t > 1 else ''}: Strata µs | best f32 peer µs | speedup" for t in threads) + " |"
    lines = [head, "|---|---:|" + "---:|---|---:|" * len(threads)]
    for key in sorted(by, key=lambda k: (order.index(k[0]), k[1])):
        cells = []
        for t in threads:
            group = by[key].get(t, {})
            c = group.get("strata-c")
            best = next(iter(group.values()), {}).get("best_f32_peer")
            b = group.get(best) if best else None
            if not c or c.get("skipped"):
                cells.append("skipped | - | -")
                continue
            peer = f"{fmt_us(b['median_us'])} ({best})" if b else "-"
            cells.append(f"{fmt_us(c['median_us'])} | {peer} | {ratio_text(c.get('ratio_f32'))}")
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw_chart(rows, specs, meta, path: Path):
    if not specs:
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [s.name for s in specs]
    fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names) + 1, 8.2), squeeze=False)
    colors = {"strata-c": "#d62728", "strata-py": "#ff9896", "ort": "#1f77b4", "tflite": "#2ca02c",
              "executorch": "#ff7f0e", "torch": "#9467bd", "ort-int8": "#7f7f7f", "executorch-int8": "#bcbd22",
              "strata-c-frame": "#8c564b", "strata-py-frame": "#c49c94", "strata-py-bare": "#e377c2"}
    for j, spec in enumerate(specs):
        ax_lat, ax_thr = axes[0][j], axes[1][j]
        for engine in [e for e in ENGINE_ORDER if not e.endswith("-frame")]:  # frames: their own table
            for threads, style in ((1, "-"), (2, "--")):
                pts = sorted((r["batch"], r) for r in rows if r["model"] == spec.name and r["engine"] == engine
                             and r["threads"] == threads and r.get("median_us"))
                if not pts:
                    continue
                b = [p[0] for p in pts]
                med = [p[1]["median_us"] for p in pts]
                lo = [p[1]["p10_us"] for p in pts]
                hi = [p[1]["p90_us"] for p in pts]
                label = f"{engine}{' (quantized)' if engine.endswith('-int8') else ''}, {threads} thread{'s' if threads > 1 else ''}"
                ax_lat.plot(b, med, style, marker="o", ms=3, color=colors[engine], label=label,
                            lw=2.2 if engine.startswith("strata") else 1.3)
                ax_lat.fill_between(b, lo, hi, color=colors[engine], alpha=0.12)
                if engine.startswith("strata") and any(p[1].get("ratio_f32") for p in pts):
                    # the ratio to the best f32 peer: a log-log latency chart hides the 1-2x that matter
                    ax_thr.plot(b, [p[1].get("ratio_f32") or float("nan") for p in pts], style, marker="o", ms=4,
                                color=colors[engine], label=label, lw=2.2)
        ax_lat.set_xscale("log", base=2)
        ax_lat.set_yscale("log")
        ax_lat.set_title(spec.title, fontsize=10)
        ax_lat.set_ylabel("µs per call (median; band p10..p90)" if j == 0 else "")
        ax_thr.set_xscale("log", base=2)
        ax_thr.axhline(1.0, color="black", lw=0.8)
        ax_thr.set_ylim(bottom=0)
        ax_thr.set_xlabel("batch")
        ax_thr.set_ylabel("Strata's speedup over the best f32 peer (>1 faster)" if j == 0 else "")
        for ax in (ax_lat, ax_thr):
            ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for j in range(1, len(names)):
        for h, l in zip(*axes[0][j].get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=6 if len(names) >= 4 else 3, fontsize=8, frameon=False)
    fig.suptitle(f"Strata vs CPU peers — {meta['date'][:10]}, {machine_label(meta['machine'])};\nshared machine, "
                 f"load average {meta['loadavg_start'][0]:.1f} at the start (medians of interleaved samples)",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.07 if len(names) >= 4 else 0.15, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def streaming_note(meta, rows) -> str | None:
    """Batch 1 of the model whose weights are far beyond the caches (big, 201 MB): the rate at which
    Strata (C ABI, 1 thread) streams them, against one core's DRAM read bandwidth."""
    bw = meta["machine"].get("read_gbps")
    r = next((r for r in rows if r["model"] == "big" and r["engine"] == "strata-c" and r["batch"] == 1
              and r["threads"] == 1 and "median_us" in r), None)
    if not bw or not r:
        return None
    return (f"big, batch 1, 1 thread: Strata streams its {meta['models']['big']['weight_bytes'] / 1e6:.0f} MB of "
            f"weights at {r['weights_gbps']:.1f} GB/s, {r['weights_gbps'] / bw:.2f}× what one core reads in a single "
            f"stream ({bw} GB/s, numpy's max over 256 MiB; the GEMV reads 4 panel streams at once)")


def write_reports(meta, rows, specs, cfg) -> None:
    """Prints the summary and writes latest.json, latest.md and latest.png to cfg.out."""
    names = [s.name for s in specs]
    for r in rows:
        if "rel_diff" in r:
            r["wrong"] = is_wrong(r["kind"], r["rel_diff"])
    wrong = [r for r in rows if r.get("wrong")]
    if wrong:
        log("WRONG     outputs far from PyTorch's: " + ", ".join(
            f"{r['engine']} {r['model']} b{r['batch']} t{r['threads']} (max|Δ| {r['max_abs_diff']:.3g})" for r in wrong))
    else:
        log("outputs   every engine agrees with PyTorch (f32 within 1e-4 of the largest output; int8 approximate)")
    one = [r["cpu_per_wall"] for r in rows if r["threads"] == 1 and r.get("cpu_per_wall")]
    if one:
        meta["contention"] = {"median_cpu_per_wall_1_thread": round(percentile(one, 50), 3),
                              "share_of_1_thread_cells_below_0.9": round(sum(v < 0.9 for v in one) / len(one), 3)}
        log(f"noise     1-thread samples kept a median {percentile(one, 50):.2f} of a core busy; "
            f"{100 * sum(v < 0.9 for v in one) / len(one):.0f}% of 1-thread cells got under 0.9 of a core "
            f"(other load on the machine)")
    streaming = streaming_note(meta, rows)
    if streaming:
        meta["notes"].append(streaming)
        log(f"memory    {streaming}")
    summary = summary_markdown(rows, names)
    log("\nsummary   Strata against the best peer in each cell (speedup = peer µs / Strata µs; >1 is faster)\n")
    log(summary)
    frames = frame_markdown(rows, names)
    if frames:
        log(f"\n{FRAME_INTRO}\n\n{frames}")
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / "latest.json").write_text(json.dumps({**meta, "results": rows}, indent=1, default=_json_value) + "\n")
    c = meta["config"]
    md = [f"# Strata speed, {meta['date'][:10]}", "",
          f"Machine: {machine_label(meta['machine'])}; load average {meta['loadavg_start'][0]:.2f} at the start, "
          f"{meta['loadavg_end'][0]:.2f} at the end"
          + (f"; 1-thread samples kept a median {meta['contention']['median_cpu_per_wall_1_thread']:.2f} of a core "
             f"busy (1.00 = never descheduled; per cell: cpu/wall in latest.json)" if meta.get("contention") else "")
          + f". Strata {meta['strata']['version']} at {meta['strata']['commit']}"
          f"{' (library built from uncommitted sources)' if meta['strata']['library_sources_dirty'] else ''}. "
          f"Batches {c['batches']}, threads {c['threads']}, up to {c['reps']} interleaved rounds per cell "
          f"({meta['seconds']} s in all).", "",
          "Strata through the C ABI against the best f32 peer (ONNX Runtime, TFLite/XNNPACK, ExecuTorch/XNNPACK, PyTorch; "
          "called from Python) in each cell; speedup = peer µs / Strata µs:", "",
          compact_markdown(rows, names), "",
          "Every engine, with Strata through Python and the int8 peer:", "",
          summary, "", *([FRAME_INTRO, "", frames, ""] if frames else []), *[f"- {n}" for n in meta["notes"]], ""]
    (cfg.out / "latest.md").write_text("\n".join(md))
    if not cfg.no_chart and have("matplotlib"):
        draw_chart(rows, [s for s in specs if any(r["model"] == s.name for r in rows)], meta, cfg.out / "latest.png")
    c = meta["config"]
    full = (not c["quick"] and c["batches"] == "1,16,256,4096" and c["threads"] == "1,2"
            and set(names) == set(models.SPECS) and set(c["engines"].split(",")) >= set(DEFAULT_ENGINES)
            and cfg.out.resolve() == (HERE / "results").resolve())
    if (full or cfg.update_readme) and update_readme(meta, rows, names):
        log("readme    docs/PERFORMANCE.md now shows this run (commit it and tools/bench/results)")
    shown = cfg.out.relative_to(ROOT) if cfg.out.is_relative_to(ROOT) else cfg.out
    log(f"\nresults   {shown}/latest.json, latest.md{'' if cfg.no_chart else ', latest.png'}  ({meta['seconds']} s)")


README_BEGIN = "<!-- bench:begin (written by tools/bench/run.py after a full run) -->"
README_END = "<!-- bench:end -->"


def readme_block(meta, rows, names) -> str:
    m = meta["machine"]
    return "\n".join([
        README_BEGIN,
        f"Latest full run: **{meta['date'][:10]}** on **{machine_label(m)}**, {m.get('memory_gb', '?')} GB "
        f"(a shared machine: load average {meta['loadavg_start'][0]:.1f} at the start; figures are medians of "
        f"interleaved samples), Strata {meta['strata']['version']} at `{meta['strata']['commit']}`"
        f"{' plus uncommitted library sources' if meta['strata']['library_sources_dirty'] else ''}.",
        "",
        "![Latency against batch size per model and engine, and Strata's speedup over the best f32 peer](../tools/bench/results/latest.png)",
        "",
        "Strata called through the C ABI against the fastest f32 peer in the same cell (ONNX Runtime, "
        "TensorFlow Lite with XNNPACK (MLPs), ExecuTorch with XNNPACK, PyTorch; each called from Python), median µs "
        "per call; speedup = peer µs / Strata µs (above 1 is faster):",
        "",
        compact_markdown(rows, names),
        "",
        *([streaming_note(meta, rows) + ".", ""] if streaming_note(meta, rows) else []),
        *([FRAME_INTRO, "", frame_markdown(rows, names), ""] if frame_markdown(rows, names) else []),
        "Every engine, spreads, GFLOP/s, CPU use, Strata through Python and the int8 peer: "
        "[tools/bench/results/latest.md](../tools/bench/results/latest.md) and `latest.json` beside it.",
        README_END])


def update_readme(meta, rows, names) -> bool:
    """Replaces the block between the bench markers in docs/PERFORMANCE.md (the README links
    there); False when there is none."""
    path = ROOT / "docs" / "PERFORMANCE.md"
    text = path.read_text()
    i, j = text.find(README_BEGIN), text.find(README_END)
    if i < 0 or j < i:
        return False
    path.write_text(text[:i] + readme_block(meta, rows, names) + text[j + len(README_END):])
    return True


# ---- main -----------------------------------------------------------------------------------------

def parse_args(argv):
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", default=quick,
                   help="fewer batches and repetitions (also BENCH_QUICK=1)")
    p.add_argument("--models", default=",".join(models.SPECS))
    p.add_argument("--batches")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    p.add_argument("--reps", type=int, help="repetition rounds per cell (at most)")
    p.add_argument("--min-reps", type=int, default=3)
    p.add_argument("--target-ms", type=float, help="duration of one sample")
    p.add_argument("--budget-s", type=float, help="time per cell above which rounds are cut (down to --min-reps)")
    p.add_argument("--skip-s", type=float, default=60.0, help="skip an engine whose single call takes longer")
    p.add_argument("--settle-ms", type=float, default=5.0, help="pause after each sample (then wait for idle)")
    p.add_argument("--settle-max-ms", type=float, default=100.0, help="longest wait for idle thread pools")
    p.add_argument("--py-skip-s", type=float, default=0.5,
                   help="skip strata-py in cells where strata-c's call takes longer (the same call)")
    p.add_argument("--out", help="results directory")
    p.add_argument("--model-dir", default=str(WORK / "models"))
    p.add_argument("--no-chart", action="store_true")
    p.add_argument("--report-only", metavar="JSON", help="redo the tables and chart from a results file")
    p.add_argument("--update-readme", action="store_true",
                   help="write docs/PERFORMANCE.md's table even for a partial run (a full run always does)")
    p.add_argument("--export-one", help=argparse.SUPPRESS)
    p.add_argument("--formats", default=",".join(models.FORMATS), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.batches = a.batches or ("1,256" if a.quick else "1,16,256,4096")
    a.reps = a.reps or (5 if a.quick else 15)
    a.target_ms = a.target_ms or (5.0 if a.quick else 20.0)
    a.budget_s = a.budget_s or (5.0 if a.quick else 30.0)
    a.settle_s = a.settle_ms / 1e3
    a.settle_max_s = a.settle_max_ms / 1e3
    a.out = Path(a.out) if a.out else HERE / "results" / ("quick" if a.quick else "")
    return a


def main(argv=None) -> int:
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    model_dir = Path(cfg.model_dir)
    if cfg.export_one:
        export_one(cfg.export_one, cfg.formats.split(","), model_dir)
        return 0
    if cfg.report_only:
        data = json.loads(Path(cfg.report_only).read_text())
        rows = data.pop("results")
        specs = [models.SPECS[n] for n in data["models"]]
        for spec in specs:
            spec.linears = [tuple(l) for l in data["models"][spec.name]["linears"]]
        write_reports(data, rows, specs, cfg)
        return 0
    started = time.time()
    names = [n for n in cfg.models.split(",") if n]
    specs = [models.SPECS[n] for n in names]
    batches = [int(b) for b in cfg.batches.split(",")]
    thread_counts = [int(t) for t in cfg.threads.split(",")]
    wanted = [e for e in cfg.engines.split(",") if e]
    notes = []

    import torch
    torch.set_num_interop_threads(1)
    import strata

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(), "strata": {"version": strata.version(), **git_state()},
            "versions": {"python": platform.python_version(),
                         **{d: version_of(d) for d in ("numpy", "torch", "onnxruntime", "onnx", "onnxscript",
                                                       "tensorflow-cpu", "keras", "ai-edge-litert", "executorch",
                                                       "matplotlib")}},
            "config": {k: _portable(v) for k, v in vars(cfg).items() if k not in ("out", "export_one", "formats")}
            | {"out": _portable(cfg.out)}, "loadavg_start": os.getloadavg()}
    log(f"bench     {meta['date']}  {machine_label(meta['machine'])}; load average {os.getloadavg()[0]:.2f}")
    log(f"          strata {meta['strata']['version']} ({meta['strata']['library']} built "
        f"{meta['strata']['library_mtime']}, repo {meta['strata']['commit']}"
        f"{', uncommitted library sources' if meta['strata']['library_sources_dirty'] else ''})")
    log("          " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v))
    log("          shared machine: every figure is the median of interleaved samples (engines take turns in "
        "rotating order), spread p10..p90; cpu/wall is the process's CPU time over wall time during a sample "
        "(≈ busy cores; below the thread count means the engine was descheduled or idle)")
    log("          " + STRATA_THREADS_NOTE)

    meta["machine"]["read_gbps"] = round(read_bandwidth_gbps(), 1)
    log(f"          one core reads DRAM at {meta['machine']['read_gbps']} GB/s (numpy max over 256 MiB, best of 5)")
    exe = build_harness()
    formats = ["strata", "onnx", "onnx_int8"] + (["tflite"] if have("tensorflow") else [])
    if "tflite" not in formats and "tflite" in wanted:
        notes.append("tflite: skipped, tensorflow is not installed to convert the models")
        wanted.remove("tflite")
    if not have("onnxscript") or not have("onnxruntime"):
        for f in ("onnx", "onnx_int8"):
            formats.remove(f)
        wanted = [e for e in wanted if not e.startswith("ort")]
        notes.append("ort, ort-int8: skipped, onnxruntime or onnxscript is not installed")
    if not have("executorch") and any(e.startswith("executorch") for e in wanted):
        wanted = [e for e in wanted if not e.startswith("executorch")]
        notes.append("executorch, executorch-int8: skipped, executorch is not installed")
    per_model, model_batches = {}, {}
    for spec in specs:
        model_batches[spec.name] = [b for b in batches if b <= spec.max_batch]
        fmts = [f for f in formats if f != "tflite" or spec.family == "mlp"]
        if spec.family == "rnn" and {"strata-c-frame", "strata-py-frame"} & set(wanted):
            fmts.append(models.FRAME_FORMAT)
        if "tflite" in formats and spec.family != "mlp" and "tflite" in wanted:
            notes.append(f"tflite: not run on {spec.name} (its export builds a Keras model for the MLPs only)")
        if len(model_batches[spec.name]) < len(batches):
            notes.append(f"{spec.name}: batches above {spec.max_batch} not run (minutes per call)")
        for engine, fmt in (("executorch", "pte"), ("executorch-int8", "pte_int8")):
            if engine in wanted:
                fmts += [f"{fmt}@{b}" for b in model_batches[spec.name]]
        per_model[spec.name] = fmts
    failed = export_models(names, model_dir, per_model)
    for (name, fmt), why in failed.items():
        notes.append(f"{name}: not run, strata_convert refuses it: {why}" if fmt == "strata" else
                     f"{name}: the {fmt} export failed, so its engine is skipped there: {why}")
    if "tflite" in wanted and have("ai_edge_litert") and any(s.family == "mlp" for s in specs):
        xnn = tflite_uses_xnnpack(_model_path(model_dir, next(s.name for s in specs if s.family == "mlp"), "tflite"))
        meta["tflite_xnnpack_delegate"] = xnn
        log(f"          tflite: XNNPACK delegate {'on (reported by LiteRT)' if xnn else 'NOT reported'}")
        if not xnn:
            notes.append("tflite: LiteRT did not report its XNNPACK delegate")
    meta["models"] = {}
    rows = []
    import engines as engines_mod  # noqa: F401  (imported here so a missing peer fails late)
    for spec in specs:
        if (spec.name, "strata") in failed:
            log(f"skip      {spec.title}: strata_convert cannot convert it ({failed[spec.name, 'strata']})")
            continue
        module = models.build(spec)
        paths = {f: _model_path(model_dir, spec.name, f) for f in per_model[spec.name]
                 if (spec.name, f) not in failed}
        meta["models"][spec.name] = {"title": spec.title, "linears": spec.linears, "family": spec.family,
                                     "input_shape": list(spec.input_shape),
                                     "flops_per_sample": spec.flops_per_sample, "weight_bytes": spec.weight_bytes,
                                     "files": {f: p.stat().st_size for f, p in paths.items()}}
        t_model = time.perf_counter()
        engines = make_engines(spec, module, paths, exe, wanted, notes)
        batches = model_batches[spec.name]
        model_rows = []
        try:
            for threads in thread_counts:
                for e in engines:
                    e.setup(threads)
                predicted = {}
                for batch in batches:
                    rng = np.random.default_rng(1000 + batch)
                    x = rng.standard_normal((batch,) + spec.input_shape, dtype=np.float32)
                    t_cell = time.perf_counter()
                    cells = run_cell(engines, batch, x, cfg, predicted)
                    check_outputs(cells, module, x)
                    log(f"  {spec.name} threads {threads} batch {batch}: " + ", ".join(
                        f"{c.engine.name} {'skipped' if c.skipped else fmt_us(percentile(c.times, 50)) + ' µs'}"
                        for c in cells) + f"  ({max((len(c.times) for c in cells), default=0)} rounds, "
                        f"{time.perf_counter() - t_cell:.0f} s)")
                    load = os.getloadavg()[0]
                    for c in cells:
                        row = {"model": spec.name, "engine": c.engine.name, "kind": c.engine.kind,
                               "via": c.engine.via, "threads": threads, "batch": batch, "loadavg": load}
                        if c.engine.kind == "frame":  # one frame of T: the work of a T-th of a sample
                            row["steps"] = spec.input_shape[0]
                        if c.skipped:
                            row["skipped"] = c.skipped
                            if c.too_slow:      # then larger batches are too
                                predicted[c.engine.name] = float("inf")
                        else:
                            med = percentile(c.times, 50)
                            row.update(median_us=med, p10_us=percentile(c.times, 10), p90_us=percentile(c.times, 90),
                                       samples=len(c.times), calls_per_sample=c.calls,
                                       gflops=spec.flops_per_sample * batch / (med * 1e3) / row.get("steps", 1),
                                       weights_gbps=spec.weight_bytes / (med * 1e3),
                                       cpu_per_wall=percentile(c.cpus, 50), max_abs_diff=c.max_abs,
                                       rel_diff=c.rel, wrong=c.wrong)
                            # the next batch size's per-call time, if it scaled linearly
                            nxt = batches[batches.index(batch) + 1] if batch != batches[-1] else batch
                            predicted[c.engine.name] = med * nxt / batch
                        model_rows.append(row)
        finally:
            for e in engines:
                e.close()
        add_ratios(model_rows)
        print_model_table(model_rows, spec)
        log(f"          ({time.perf_counter() - t_model:.0f} s; load average now {os.getloadavg()[0]:.2f})")
        rows.extend(model_rows)

    meta["loadavg_end"] = os.getloadavg()
    meta["notes"] = notes + [STRATA_THREADS_NOTE,
                             "ratios: best peer's median / this engine's median (>1 = faster than the best peer); "
                             "f32 peers (ort, tflite, executorch, torch) and int8 peers (ort-int8, executorch-int8) "
                             "are separate",
                             "peers are called from Python (their per-call cost included); strata-py is the "
                             "like-for-like comparison at small batches, strata-c the C ABI floor",
                             "ort: intra_op_num_threads=threads, inter_op 1, sequential, IOBinding with a "
                             "preallocated output; tflite: ai-edge-litert Interpreter(num_threads=threads), default "
                             "XNNPACK delegate; executorch: XNNPACK delegate, one static-shape .pte per batch, "
                             "Method.execute, _unsafe_reset_threadpool(threads) (int8: PT2E XNNPACKQuantizer, "
                             "symmetric per-channel dynamic); torch: eager, set_num_threads(threads), inference_mode"]
    meta["seconds"] = round(time.time() - started)
    for n in notes:
        log(f"note      {n}")

    write_reports(meta, rows, specs, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
