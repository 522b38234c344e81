"""Untrusted model files are data, not code.

Loading a whole-module ``torch.save`` file (``torch.load(..., weights_only=False)``) or a
pickled/joblib scikit-learn estimator unpickles it, and unpickling runs whatever code the file
names. The converter therefore refuses such files unless the caller says they are trusted:
``--trust-pickle`` on the command line, ``trust_pickle=True`` in Python. State dicts load with
``weights_only=True`` (PyTorch's restricted unpickler) and need no flag; safetensors and ONNX are
plain data.
"""

#: What to convert from instead when the file comes from someone else.
SAFE_ALTERNATIVES = ("a state dict (torch.save(model.state_dict(), path) or a .safetensors file, converted with "
                     "--arch), TorchScript (torch.jit.save), ONNX (torch.onnx.export; skl2onnx for scikit-learn) "
                     "or torch.export (.pt2)")


def refusal(path, what: str) -> str:
    """The one-line message for a pickle the caller did not mark as trusted; says why and what
    to use instead."""
    return (f"{path}: refusing to unpickle {what}: unpickling runs any code the file contains, so it is "
            f"only done for files you trust: pass --trust-pickle (Python: trust_pickle=True) if you trust this "
            f"file; from anyone else, convert {SAFE_ALTERNATIVES}")
