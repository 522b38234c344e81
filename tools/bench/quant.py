"""Quantized weights against f32 and against ONNX Runtime's dynamic int8, in one interleaved run.

For each model (default: mnist, wide, big) it converts the same seeded PyTorch weights to .strata
files in f32, f16, bf16, int8, int4 and int8-dynamic (`strata_convert.precision`; int8-dynamic
also quantizes activations per row at run time, like ORT's dynamic int8), and times them through the C
ABI (tools/bench/strata_bench.c) next to ONNX Runtime f32 and ONNX Runtime `quantize_dynamic` int8
(weights int8, activations quantized per call), and ExecuTorch's XNNPACK f32 and dynamic int8
programs (one static-shape .pte per batch, as in run.py), at each batch size and thread count. Engines take
turns within a cell (run.py's `run_cell`); figures are medians with their p10..p90 spread. Ratios:
`× strata f32` = Strata f32 µs / this µs, `× ort int8` = ORT int8 µs / this µs and `× et int8` =
ExecuTorch int8 µs / this µs (above 1 = faster). Writes tools/bench/results/quant[-quick].md and .json.

    BENCH_QUICK=1 python tools/bench/quant.py [--models wide,big] [--batches 1,256] [--threads 1]
"""
import argparse
import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "tools" / "convert"), str(ROOT / "bindings" / "python")]

import models  # noqa: E402
import run  # noqa: E402

PRECISIONS = ("f32", "f16", "bf16", "int8", "int4", "int8-dynamic")


def export_quantized(spec, module, model_dir: Path) -> dict:
    """The model in every precision (all Linear weights quantized); returns precision → path and size."""
    import torch
    from strata_convert import precision, torch_source
    from strata_convert.writer import write_model
    graph = torch_source.convert_module(module, torch.zeros(1, spec.n_in))
    out = {}
    for prec in PRECISIONS:
        path = model_dir / f"{spec.name}.{prec}.strata"
        q = precision.apply_precision(graph, precision.layer_precisions(graph, prec))
        out[prec] = (path, write_model(path, q))
    return out


def parse_args(argv):
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="mnist,wide,big")
    p.add_argument("--batches", default="1,256" if quick else "1,16,256")
    p.add_argument("--threads", default="1" if quick else "1,2")
    p.add_argument("--reps", type=int, default=5 if quick else 11)
    p.add_argument("--min-reps", type=int, default=3)
    p.add_argument("--target-ms", type=float, default=5.0 if quick else 20.0)
    p.add_argument("--budget-s", type=float, default=6.0 if quick else 30.0)
    p.add_argument("--skip-s", type=float, default=60.0)
    p.add_argument("--settle-ms", type=float, default=5.0)
    p.add_argument("--settle-max-ms", type=float, default=100.0)
    p.add_argument("--py-skip-s", type=float, default=0.5)
    p.add_argument("--model-dir", default=str(run.WORK / "models"))
    p.add_argument("--out", default=str(HERE / "results" / ("quant-quick" if quick else "quant")))
    a = p.parse_args(argv)
    a.settle_s, a.settle_max_s = a.settle_ms / 1e3, a.settle_max_ms / 1e3
    return a


def main(argv=None) -> int:
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    from engines import ExecuTorch, OnnxRuntime, StrataC
    names = [n for n in cfg.models.split(",") if n]
    batches = [int(b) for b in cfg.batches.split(",")]
    threads_list = [int(t) for t in cfg.threads.split(",")]
    model_dir = Path(cfg.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    run.log(f"quant     {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
            f"load average {os.getloadavg()[0]:.2f}")
    exe = run.build_harness()
    have_ort = run.have("onnxruntime") and run.have("onnxscript")
    have_et = run.have("executorch")
    pte = [f"{kind}@{b}" for kind in ("pte", "pte_int8") for b in batches] if have_et else []
    run.export_models(names, model_dir, ["strata"] + (["onnx", "onnx_int8"] if have_ort else []) + pte)
    rows, sizes = [], {}
    for name in names:
        spec = models.SPECS[name]
        module = models.build(spec)
        files = export_quantized(spec, module, model_dir)
        sizes[name] = {p: s for p, (_, s) in files.items()}
        run.log(f"  {name}: file sizes " + ", ".join(f"{p} {s / 1e6:.2f} MB ({s / files['f32'][1]:.3f}x)" for p, (_, s) in files.items()))
        engines = []
        for prec, (path, _) in files.items():
            e = StrataC(exe, path, run.WORK)
            e.name, e.kind = f"strata-{prec}", prec
            engines.append(e)
        if have_ort:
            engines.append(OnnxRuntime(model_dir / f"{name}.onnx"))
            engines.append(OnnxRuntime(model_dir / f"{name}.int8.onnx", name="ort-int8", kind="int8"))
        for kind, label in (("pte", ("executorch", "f32")), ("pte_int8", ("executorch-int8", "int8"))):
            paths = {b: models.pte_path(model_dir, name, kind, b) for b in batches}
            paths = {b: p for b, p in paths.items() if p.exists()}  # a failed export skips its batch
            if have_et and paths:
                engines.append(ExecuTorch(paths, name=label[0], kind=label[1]))
        try:
            for threads in threads_list:
                for e in engines:
                    e.setup(threads)
                for batch in batches:
                    x = np.random.default_rng(1000 + batch).standard_normal((batch, spec.n_in), dtype=np.float32)
                    cells = run.run_cell(engines, batch, x, cfg, {})
                    ref = None
                    for c in cells:
                        if c.skipped:
                            continue
                        out = c.engine.output()
                        ref = out if c.engine.name == "strata-f32" else ref
                        med = run.percentile(c.times, 50)
                        rows.append({"model": name, "engine": c.engine.name, "threads": threads, "batch": batch,
                                     "median_us": med, "p10_us": run.percentile(c.times, 10),
                                     "p90_us": run.percentile(c.times, 90), "samples": len(c.times),
                                     "max_rel_diff_vs_f32": None if ref is None else
                                     float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-30))})
                    run.log(f"  {name} threads {threads} batch {batch}: " + ", ".join(
                        f"{r['engine']} {run.fmt_us(r['median_us'])}" for r in rows
                        if r["model"] == name and r["threads"] == threads and r["batch"] == batch))
        finally:
            for e in engines:
                e.close()
    table = report(rows, sizes)
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps({"config": {k: str(run._portable(v)) for k, v in vars(cfg).items()},
                                                    "sizes": sizes, "results": rows}, indent=1))
    print(table)
    return 0


def report(rows, sizes) -> str:
    """A Markdown table per (model, threads): median µs, spread, and the two ratios."""
    lines = ["# Quantized weights: Strata f32/f16/bf16/int8/int4/int8-dynamic vs ONNX Runtime f32 and int8 "
             "(quantize_dynamic) and ExecuTorch f32 and int8 (XNNPACK, dynamic int8)", "",
             "Median µs per call (p10..p90), interleaved; `× f32` = Strata f32 µs / this, `× ort-int8` = ORT int8 µs / "
             "this, `× et-int8` = ExecuTorch int8 µs / this (above 1 = faster).", ""]
    for model in dict.fromkeys(r["model"] for r in rows):
        s = sizes[model]
        lines.append(f"## {model} — files: " + ", ".join(f"{p} {v / 1e6:.2f} MB ({v / s['f32']:.3f}x)" for p, v in s.items()))
        lines += ["", "| threads | batch | engine | median µs | p10..p90 | × f32 | × ort-int8 | × et-int8 |",
                  "|---:|---:|---|---:|---|---:|---:|---:|"]
        for r in rows:
            if r["model"] != model:
                continue
            same = {x["engine"]: x["median_us"] for x in rows
                    if x["model"] == model and x["threads"] == r["threads"] and x["batch"] == r["batch"]}
            f32, i8, et8 = same.get("strata-f32"), same.get("ort-int8"), same.get("executorch-int8")
            lines.append(f"| {r['threads']} | {r['batch']} | {r['engine']} | {run.fmt_us(r['median_us'])} | "
                         f"{run.fmt_us(r['p10_us'])}..{run.fmt_us(r['p90_us'])} | "
                         f"{f32 / r['median_us']:.2f}x | " + (f"{i8 / r['median_us']:.2f}x |" if i8 else "– |")
                         + (f" {et8 / r['median_us']:.2f}x |" if et8 else " – |"))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
