"""The non-PyTorch inputs of `strata-convert`, picked by file name:

    model.onnx                          ONNX (onnx_source)
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

    def run(xs):
        outs = sess.run(None, dict(zip(names, xs)))
        by = {o.name: y for o, y in zip(sess.get_outputs(), outs)}
        return [np.asarray(by[n], np.float32) for n in wanted]
    return run
