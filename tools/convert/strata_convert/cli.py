"""`strata-convert`: convert a saved PyTorch model to a `.strata` file.

    strata-convert model.pt -o model.strata [--input-shape 1,28,28] [--labels a,b,c | --labels-file F]
                   [--import model_def.py] [--trust-pickle] [--name NAME] [--verify] [--self-test N] [--no-sha256]
    strata-convert --check model.pt     list every unsupported op; exit 1 when there is one

Errors are one line on stderr and exit code 2 (a conversion failing on several ops lists them all).
"""
import argparse
import collections
import importlib.util
import os
import sys
import warnings
import zipfile

import numpy as np

from . import __version__, numpy_ref, precision, progress, verify_run
from .quantize import PRECISIONS
from .errors import ConversionError, FormatError
from .writer import serialize, write_bytes


class CliError(Exception):
    """A user error reported as one line."""


def _parser():
    p = argparse.ArgumentParser(prog="strata-convert", description="Convert a PyTorch model (a whole module saved "
                                "with torch.save, or a TorchScript file) to a .strata file.")
    p.add_argument("input", help="torch.save'd nn.Module or TorchScript (torch.jit.save) file; also model.onnx, "
                   "a torch.export program (.pt2, torch.export.save), "
                   "a pickled scikit-learn MLP (.pkl/.joblib), or a state dict (.pt/.safetensors) with --arch")
    p.add_argument("-o", "--output", help="the .strata file to write (required unless --check)")
    p.add_argument("--check", action="store_true",
                   help="list every op Strata cannot convert (node, op type, source line, count per op type) and "
                        "write nothing; exit 0 when the model converts, 1 when it does not")
    p.add_argument("--input-shape", help="per-sample input shape, e.g. 1,28,28 (default: in_features of the first Linear)")
    labels = p.add_mutually_exclusive_group()
    labels.add_argument("--labels", help="comma-separated class labels, stored as metadata")
    labels.add_argument("--labels-file", help="file with one class label per line")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow unpickling the input (a whole-module torch.save file, a .pkl/.joblib scikit-learn "
                        "model): unpickling runs code from the file, so only for files you trust (docs/CONVERTING.md, "
                        "\"Which inputs are safe to convert from strangers\")")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="PYFILE",
                   help="run this Python file first so the model's classes can be unpickled (repeatable)")
    p.add_argument("--name", help="model name stored as metadata (default: the class name)")
    p.add_argument("--self-test", type=int, default=4, metavar="N",
                   help="embed N reference inputs and PyTorch's outputs for them (0 = none; default 4); "
                        "check them on the target with `strata verify --self-test`")
    p.add_argument("--no-sha256", dest="sha256", action="store_false",
                   help="do not record the payload SHA-256 in the metadata")
    q = p.add_argument_group("precision (docs/FORMAT.md \"Quantized weights\", \"Dynamic int8\")")
    q.add_argument("--quantize", default="f32", choices=PRECISIONS, metavar="PREC",
                   help="store Linear weights as f32 (default), f16, bf16, int8 (per-row scales), int4 (blocks of "
                        "32) or int8-dynamic (int8 weights; activations quantized per row at run time, int32 sums); "
                        "RNN/GRU/LSTM W and R too (int8 under int8-dynamic)")
    q.add_argument("--quantize-layer", action="append", default=[], metavar="LAYER=PREC",
                   help="another precision for one layer (node name such as fc1, or its weight's name); repeatable")
    q.add_argument("--keep-f32", default="", metavar="LAYERS", help="comma-separated layers kept in f32")
    q.add_argument("--keep-ends-f32", action="store_true", help="keep the first and the last Linear layer in f32")
    q.add_argument("--calibration", metavar="FILE.npy",
                   help="inputs [N, *input shape] for the accuracy report (default: 256 random normal inputs)")
    q.add_argument("--max-error", type=float, metavar="X",
                   help="fail (write nothing) when the output's max abs error against f32 exceeds X")
    p.add_argument("--verify", action="store_true",
                   help="compare a numpy reference of the f32 conversion with the source framework on random "
                        "inputs (before any --quantize, whose accuracy report is printed)")
    p.add_argument("--arch", help="architecture of a state dict's MLP, e.g. 784-128-relu-64-relu-10 (see docs/CONVERTING.md)")
    p.add_argument("--outputs", help="ONNX: comma-separated graph outputs to keep (default: every float output)")
    p.add_argument("--version", action="version", version=f"strata-convert {__version__}")
    return p


def main(argv=None) -> int:
    """Entry point of the `strata-convert` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if not args.check and not args.output:
        _parser().error("the following arguments are required: -o/--output (or pass --check)")
    try:
        return _run(args) or 0
    except (CliError, ConversionError, FormatError, OSError) as e:
        from .op_check import CheckFailed
        message = str(e) if isinstance(e, CheckFailed) else " ".join(str(e).split("\n"))
        print(f"strata-convert: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args):
    # Check the arguments before the slow torch import.
    if not os.path.isfile(args.input):
        raise CliError(f"no such file: {args.input}")
    shape = _parse_shape(args.input_shape) if args.input_shape else None
    if not 0 <= args.self_test <= 1024:
        raise CliError(f"--self-test {args.self_test}: expected 0 … 1024 samples")
    labels = _labels(args)
    from . import op_check, sources
    if args.check:
        return op_check.run_cli_check(args, shape)
    source = sources.kind(args.input, getattr(args, "arch", None))
    try:
        with progress.stage(f"converting {args.input} ({source})") if source else progress.nothing():
            converted = sources.convert(args, labels)
    except ConversionError as e:
        raise op_check.explain_failure(args, shape, e) from e
    if converted is not None:
        return _write_converted(args, *converted)
    try:
        import torch
    except ImportError:
        raise CliError("PyTorch is not installed (pip install 'strata-convert[torch]')") from None
    from .torch_source import convert_module, first_linear_in_features
    from .torchscript_source import convert_torchscript

    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.* are deprecated
    for path in args.imports:
        _import_file(path)
    with progress.stage(f"loading {args.input} with PyTorch"):
        model = load_model(args.input, trust_pickle=args.trust_pickle)
    shape = shape or first_linear_in_features(model)
    if shape is None:
        raise CliError("cannot infer the input shape (no Linear layer found); pass --input-shape, e.g. 1,28,28")
    example = torch.zeros((1, *shape))
    kw = dict(name=args.name, class_labels=labels)
    try:
        with progress.stage("converting"):
            if isinstance(model, torch.jit.ScriptModule):
                graph = convert_torchscript(model, example, **kw)
            else:
                graph = convert_module(model, example, **kw)
    except ConversionError as e:
        raise op_check.explain_failure(args, shape, e) from e
    if args.verify:
        # The f32 conversion, before any quantization (whose accuracy report is printed and
        # stored), as for the other sources: a quantized graph differs from PyTorch by design.
        with progress.stage("verifying the f32 conversion against PyTorch"):
            _verify(model, serialize(graph), shape)
    report = None
    quantizing = _quantizing(args)
    if quantizing:
        with progress.stage(f"quantizing to {args.quantize}"):
            graph, report = quantize_graph(graph, args)
    from . import selftest
    reference = None
    if args.self_test:
        with progress.stage(f"self-test: {args.self_test} reference samples"):
            reference = selftest.from_module(model, graph, example, args.self_test)
            if quantizing:
                reference = _quantized_reference(graph, reference)
    data = serialize(graph, self_test=reference, payload_sha256=args.sha256)
    write_bytes(args.output, data)
    print(f"wrote {args.output}")
    print(summary(graph, len(data)))
    if report is not None:
        print("  " + report.text().replace("\n", "\n  "))
    if reference is not None:
        print(f"  self-test:  {reference.n_samples} reference samples (atol {reference.atol:.3g}, rtol {reference.rtol:.3g})")


def _write_converted(args, graph, reference):
    """Write a graph from sources.py (ONNX, scikit-learn, state dict): self-test samples and
    --verify use `reference`, the source framework; --verify checks the f32 conversion before
    any quantization, whose own accuracy report is printed and stored."""
    from . import selftest
    if args.verify:
        xs = selftest.sample_inputs(graph, None, 4, seed=1)
        with progress.stage("verifying: the source framework on 4 random inputs"):
            refs = reference(xs)
        with progress.stage("verifying: the conversion on the same inputs"):
            got, runner = verify_run.run(serialize(graph), xs)
        err = max(float(np.abs(np.asarray(g, np.float64) - r).max()) for g, r in zip(got, refs))
        tol = 1e-4 * max(1.0, max(float(np.abs(r).max()) for r in refs))
        print(f"verify: max abs error {err:.3g} on 4 random inputs (tolerance {tol:.3g}; "
              f"run by {verify_run.describe(runner)})")
        if not err <= tol:
            raise CliError(f"verification failed: max abs error {err:.3g} exceeds {tol:.3g}; nothing was written")
    report = None
    quantizing = _quantizing(args)
    if quantizing:
        with progress.stage(f"quantizing to {args.quantize}"):
            graph, report = quantize_graph(graph, args)
    data_ref = None
    if args.self_test:
        inputs = selftest.sample_inputs(graph, None, args.self_test)
        with progress.stage(f"self-test: {args.self_test} reference samples"):
            parts = []  # chunks of selftest.CHUNK samples, so a large model's reference shows progress
            with progress.bar("self-test: reference", args.self_test, "samples") as advance:
                step = selftest.chunk_size(graph, args.self_test)
                for start in range(0, args.self_test, step):
                    count = min(step, args.self_test - start)
                    chunk = [x[start:start + step] for x in inputs] if step < args.self_test else inputs
                    parts.append([y.reshape((count, *v.dims[1:])) for y, v in zip(reference(chunk), graph.outputs)])
                    advance(count)
            outputs = [np.concatenate([part[k] for part in parts]) for k in range(len(graph.outputs))]
        atol = selftest.ATOL_SCALE * max(1.0, max(float(np.abs(y).max()) for y in outputs))
        data_ref = selftest.SelfTest(inputs, outputs, float(atol), float(selftest.RTOL))
        if quantizing:
            data_ref = _quantized_reference(graph, data_ref)
    data = serialize(graph, self_test=data_ref, payload_sha256=args.sha256)
    write_bytes(args.output, data)
    print(f"wrote {args.output}")
    print(summary(graph, len(data)))
    if report is not None:
        print("  " + report.text().replace("\n", "\n  "))
    for note in graph.metadata.get("description", "").split("; "):
        if note:
            print(f"  note:       {note}")


def _quantizing(args) -> bool:
    """True when any precision option asks for something other than all-f32."""
    return bool(args.quantize != "f32" or args.quantize_layer or args.keep_f32 or args.keep_ends_f32)


def quantize_graph(graph, args):
    """Apply --quantize and the per-layer options; return (graph, accuracy report). Raises
    CliError when the output's max abs error exceeds --max-error."""
    overrides = {}
    for item in args.quantize_layer:
        name, sep, prec = item.partition("=")
        if not sep or not name or not prec:
            raise CliError(f"--quantize-layer {item!r}: expected LAYER=PRECISION, e.g. fc1=int8")
        overrides[name.strip()] = prec.strip()
    keep = [s.strip() for s in args.keep_f32.split(",") if s.strip()]
    chosen = precision.layer_precisions(graph, args.quantize, overrides, keep, args.keep_ends_f32)
    quantized = precision.apply_precision(graph, chosen)
    inputs, description = precision.calibration_inputs(graph, args.calibration)
    report = precision.accuracy_report(graph, quantized, chosen, inputs, description)
    if args.max_error is not None and not report.max_abs_error <= args.max_error:
        raise CliError(f"quantization error too large: the output's max abs error against f32 is "
                       f"{report.max_abs_error:.4g} on {description}, above --max-error {args.max_error:g}; nothing was written")
    precision.store_report(quantized, report)
    return quantized, report


def _quantized_reference(graph, reference):
    """The self-test of a quantized file: the same inputs, with the outputs of the numpy reference
    on the stored (dequantized) weights — what the runtime must reproduce — instead of PyTorch's.
    int8-dynamic layers whose input the reference cannot reproduce bit for bit widen atol by the
    effect of a few activations rounding the other way (`precision.dynamic_int8_allowance`)."""
    from . import selftest
    inputs = {info.name: x.astype(np.float64) for info, x in zip(graph.inputs, reference.inputs)}
    with progress.bar("self-test: numpy reference", len(graph.nodes), "nodes") as advance:
        outputs = [y.astype(np.float32) for y in numpy_ref.run(graph, inputs, on_node=advance)]
    atol = selftest.ATOL_SCALE * max(1.0, max(float(np.abs(y).max()) for y in outputs))
    atol += precision.dynamic_int8_allowance(graph, inputs)
    return selftest.SelfTest(reference.inputs, outputs, atol, selftest.RTOL)


def load_model(path, trust_pickle=False):
    """Load a whole nn.Module saved with torch.save, or a TorchScript module.

    A whole module is unpickled, which runs code from the file: it is refused (CliError saying
    why and what to use instead) unless ``trust_pickle`` is true. A state dict is recognised
    without unpickling code (``weights_only=True``) and reported as such."""
    import torch
    if _is_torchscript(path):
        try:
            return torch.jit.load(path, map_location="cpu")
        except Exception as e:
            raise CliError(f"cannot load TorchScript file {path}: {_first_line(e)}") from e
    if not trust_pickle:
        import pickle
        from .trust import refusal
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:  # what weights_only refuses: objects beyond tensors and containers
            raise CliError(refusal(path, "a whole-module torch.save file")) from e
        except Exception as e:
            raise CliError(f"cannot load {path}: {_first_line(e)}") from e
        if isinstance(obj, dict):
            raise CliError(f"{path} holds a dict (a state dict?), not a model; convert it with --arch (see docs/CONVERTING.md), "
                           "or save TorchScript with torch.jit.save(torch.jit.script(model), path)")
        raise CliError(f"{path} holds a {type(obj).__name__}, not a torch.nn.Module")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except (AttributeError, ModuleNotFoundError, ImportError) as e:
        raise CliError(f"cannot load {path}: {_first_line(e)}; pass --import FILE.py defining the model's class") from e
    except Exception as e:
        raise CliError(f"cannot load {path}: {_first_line(e)}") from e
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, dict):
        raise CliError(f"{path} holds a dict (a state dict?), not a model; save the whole module with "
                       "torch.save(model, path) or TorchScript with torch.jit.save(torch.jit.script(model), path)")
    raise CliError(f"{path} holds a {type(obj).__name__}, not a torch.nn.Module")


def _is_torchscript(path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any("/code/" in n or n.endswith("/constants.pkl") for n in z.namelist())


def _import_file(path):
    """Execute a Python file as a module named after it, and expose its names in __main__ too
    (classes of models saved from a script are pickled as __main__.ClassName)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise CliError(f"--import: no such file: {path}")
    name = os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise CliError(f"--import {path} failed: {type(e).__name__}: {_first_line(e)}") from e
    main = sys.modules["__main__"]
    for key, value in vars(module).items():
        if not key.startswith("__") and not hasattr(main, key):
            setattr(main, key, value)


def _parse_shape(text):
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        shape = ()
    if not shape or any(d < 1 for d in shape):
        raise CliError(f"--input-shape {text!r}: expected positive integers separated by commas, e.g. 1,28,28")
    return shape


def _labels(args):
    if args.labels is not None:
        return [s.strip() for s in args.labels.split(",")]
    if args.labels_file is not None:
        with open(args.labels_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        return lines
    return None


def _verify(model, data, shape, batch=4):
    """Compare the serialized conversion `data`, run by libstrata (or the numpy reference, see
    verify_run), with PyTorch on random inputs; raise CliError when they differ."""
    import torch
    was_training = model.training
    model.eval()
    try:
        x = torch.randn((batch, *shape), generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            ys = model(x)
    finally:
        model.train(was_training)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    refs, runner = verify_run.run(data, [x.numpy()])
    err = max(float(np.abs(np.asarray(r, np.float64) - y.double().numpy()).max()) for r, y in zip(refs, ys))
    tol = verify_run.TOLERANCE[runner] * max(1.0, max(float(y.abs().max()) for y in ys))
    print(f"verify: max abs error {err:.3g} on {batch} random inputs (tolerance {tol:.3g}; "
          f"run by {verify_run.describe(runner)})")
    if not err <= tol:
        raise CliError(f"verification failed: max abs error {err:.3g} exceeds {tol:.3g}; nothing was written")


def summary(graph, file_size=None) -> str:
    """A few lines describing a graph: inputs, outputs, layers, parameters, file size."""
    ops = collections.Counter(n.op for n in graph.nodes)
    layers = ", ".join(f"{op}×{k}" if k > 1 else op for op, k in ops.items())
    lines = [f"  model:      {graph.metadata.get('model_name', '?')} ({graph.metadata.get('source_framework', '?')})"]
    lines += [f"  input:      {v.name} {v.dims} {v.dtype}" for v in graph.inputs]
    lines += [f"  output:     {v.name} {v.dims} {v.dtype}" for v in graph.outputs]
    lines.append(f"  layers:     {len(graph.nodes)} nodes: {layers or '-'}")
    lines.append(f"  parameters: {graph.parameter_count():,} in {len(graph.tensors)} tensors")
    if "class_labels" in graph.metadata:
        lines.append(f"  labels:     {len(graph.metadata['class_labels'].split(chr(10)))}")
    if file_size is not None:
        lines.append(f"  file size:  {file_size:,} bytes")
    return "\n".join(lines)


def _first_line(e) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
