"""The non-PyTorch inputs of `strata-convert`, picked by file name:

    model.onnx                          ONNX (onnx_source)
    model.pt2                           a torch.export program saved with torch.export.save (export_source)
    model.pkl / model.joblib            a pickled scikit-learn MLPClassifier/MLPRegressor (sklearn_source)
    weights.safetensors, or weights.pt  a state dict of a plain MLP with --arch (statedict_source)
      with --arch "784-128-relu-10"

`convert(args, labels)` returns (graph, reference) where reference(inputs) runs the source
framework (onnxruntime, scikit-learn; the numpy reference for a bare state dict) on a list of
input arrays, or None when the file is a PyTorch model for cli.py's own path.
"""
import os

import numpy as np

from . import numpy_ref
from .errors import ConversionError


def kind(path, arch) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".onnx":
        return "onnx"
    if ext == ".pt2":
        return "export"
    if ext in (".pkl", ".pickle", ".joblib"):
        return "sklearn"
    if ext == ".safetensors" or arch:
        return "state_dict"
    return None


def convert(args, labels):
    k = kind(args.input, getattr(args, "arch", None))
    if k is None:
        return None
    if k == "onnx":
        from .onnx_source import convert_onnx, load_onnx
        outputs = [s.strip() for s in args.outputs.split(",")] if getattr(args, "outputs", None) else None
        model = load_onnx(args.input)
        graph = convert_onnx(model, name=args.name, class_labels=labels, outputs=outputs)
        return graph, _onnxruntime_reference(model, graph)
    if k == "export":
        from .export_source import convert_exported, load_exported, reference
        program = load_exported(args.input)
        return convert_exported(program, name=args.name, class_labels=labels), reference(program)
    if k == "sklearn":
        from .sklearn_source import convert_sklearn, load_pickle
        est = load_pickle(args.input, trust_pickle=getattr(args, "trust_pickle", False))
        graph = convert_sklearn(est, name=args.name, class_labels=labels)
        if type(est).__name__ == "MLPClassifier":
            return graph, lambda xs: [est.predict_proba(xs[0].astype(np.float64)).astype(np.float32)]
        return graph, lambda xs: [np.asarray(est.predict(xs[0].astype(np.float64)), np.float32).reshape(len(xs[0]), -1)]
    from .statedict_source import convert_state_dict, load_state_dict
    if not getattr(args, "arch", None):
        raise ConversionError(f"{args.input}: a state dict needs --arch, e.g. --arch 784-128-relu-10")
    graph = convert_state_dict(load_state_dict(args.input), args.arch, name=args.name, class_labels=labels)
    return graph, lambda xs: [y.astype(np.float32) for y in numpy_ref.run(graph, xs[0])]


def _onnxruntime_reference(model, graph):
    """onnxruntime on the original model, when its inputs/outputs are those of the graph (no
    batch-first rewrites); else the numpy reference of the graph."""
    if "batch-first" in graph.metadata.get("description", ""):
        return lambda xs: [y.astype(np.float32) for y in numpy_ref.run(graph, dict(zip([v.name for v in graph.inputs], xs)))]
    try:
        import onnxruntime as ort
    except ImportError:
        return lambda xs: [y.astype(np.float32) for y in numpy_ref.run(graph, dict(zip([v.name for v in graph.inputs], xs)))]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    wanted = getattr(graph, "source_outputs", [o.name for o in graph.outputs])
    fixed = _declared_batch(sess)

    def run_once(xs):
        outs = sess.run(None, dict(zip(names, xs)))
        by = {o.name: y for o, y in zip(sess.get_outputs(), outs)}
        return [np.asarray(by[n], np.float32) for n in wanted]

    if getattr(graph, "lifted", False):  # one sample = one run of the fixed-shape graph (onnx_lift.py)
        def per_sample(xs):
            runs = [run_once([x[k] for x in xs]) for k in range(len(xs[0]))]
            return [np.stack([r[j] for r in runs]) for j in range(len(wanted))]
        return per_sample
    return in_batches_of(fixed, run_once)


def in_batches_of(fixed, run_once):
    """A reference f(xs) for a model whose first dimension is `fixed` (None: any batch). A fixed
    one (torch.onnx.export without dynamic_axes, torch.export without dynamic_shapes) runs on
    chunks of exactly that many samples, the last one padded by repeating its final sample, and
    keeps the first n rows of each output."""
    def run(xs):
        n = len(xs[0])
        if fixed is None or n == fixed:
            return run_once(xs)
        chunks = []
        for start in range(0, n, fixed):
            part = [x[start:start + fixed] for x in xs]
            short = fixed - len(part[0])
            if short:
                part = [np.concatenate([p, np.repeat(p[-1:], short, axis=0)]) for p in part]
            chunks.append(run_once(part))
        return [np.concatenate([c[k] for c in chunks])[:n] for k in range(len(chunks[0]))]
    return run


def _declared_batch(session):
    """The fixed first dimension shared by every input of an onnxruntime session, or None when
    it is symbolic (dynamic batch) for any input."""
    firsts = {i.shape[0] if i.shape else None for i in session.get_inputs()}
    if len(firsts) == 1:
        (d,) = firsts
        if isinstance(d, int) and d > 0:
            return d
    return None
