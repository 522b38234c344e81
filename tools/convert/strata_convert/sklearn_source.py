"""Converts scikit-learn's MLPClassifier / MLPRegressor to the graph IR.

    from strata_convert import sklearn_source
    sklearn_source.save(clf, "digits.strata")          # or convert_sklearn(clf) -> Graph

A classifier's output is `predict_proba` (one column per class in `classes_`, stored as the class
labels); a regressor's is `predict` as [N, n_outputs]. The binary classifier (one logistic
output unit) is written as Linear to [0, z] followed by Softmax, which is exactly [1 − σ(z), σ(z)].
"""
import numpy as np

from .errors import ConversionError
from .mlp_graph import ACTIVATIONS, mlp
from .writer import write_model

__all__ = ["convert_sklearn", "save", "load_pickle"]

_HIDDEN = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


def convert_sklearn(estimator, *, name=None, class_labels=None):
    """Graph of a fitted MLPClassifier or MLPRegressor."""
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise ConversionError(f"expected a fitted scikit-learn MLPClassifier or MLPRegressor, not {kind}")
    if not hasattr(estimator, "coefs_"):
        raise ConversionError(f"the {kind} is not fitted")
    act = _HIDDEN.get(estimator.activation)
    if act is None:
        raise ConversionError(f"{kind} activation {estimator.activation!r} is not supported")
    coefs, biases = estimator.coefs_, estimator.intercepts_
    layers = []
    for k, (w, b) in enumerate(zip(coefs, biases)):
        w, b = np.asarray(w, np.float64).T, np.asarray(b, np.float64)
        last = k == len(coefs) - 1
        if last and kind == "MLPClassifier" and estimator.out_activation_ == "logistic" and w.shape[0] == 1 \
                and len(estimator.classes_) == 2:
            w, b = np.vstack([np.zeros_like(w), w]), np.concatenate([[0.0], b])
            layers += [("linear", w, b, f"layer{k}"), ("act", "Softmax", {"axis": 1})]
            break
        layers.append(("linear", w, b, f"layer{k}"))
        if not last:
            if ACTIVATIONS[act]:
                layers.append(("act", *ACTIVATIONS[act]))
        else:
            out = estimator.out_activation_
            if out == "softmax":
                layers.append(("act", "Softmax", {"axis": 1}))
            elif out == "logistic":  # multilabel: independent sigmoids
                layers.append(("act", "Sigmoid", {}))
            elif out != "identity":
                raise ConversionError(f"{kind} output activation {out!r} is not supported")
    labels = class_labels
    if labels is None and kind == "MLPClassifier" and estimator.out_activation_ != "logistic" or (
            labels is None and kind == "MLPClassifier" and len(estimator.classes_) == 2):
        labels = [str(c) for c in estimator.classes_]
    import sklearn
    return mlp(layers, coefs[0].shape[0], source=f"scikit-learn {sklearn.__version__}", name=name or kind,
               class_labels=labels)


def save(estimator, path, **kw):
    """Convert (keywords as convert_sklearn) and write `path`; return the graph."""
    graph = convert_sklearn(estimator, **kw)
    write_model(path, graph, payload_sha256=True)
    return graph


def load_pickle(path, trust_pickle=False):
    """A pickled or joblib-dumped estimator. Unpickling runs code from the file, so it is refused
    (ConversionError saying why and what to use instead) unless ``trust_pickle`` is true."""
    if not trust_pickle:
        from .trust import refusal
        raise ConversionError(refusal(path, "a pickled/joblib scikit-learn model"))
    try:
        import joblib
        return joblib.load(path)
    except Exception as e:
        raise ConversionError(f"cannot load {path} with joblib: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
