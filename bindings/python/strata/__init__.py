"""Strata: run `.strata` neural-network models (converted from PyTorch) from Python.

    import numpy as np, strata
    with strata.Model("mnist.strata") as model:
        print(model.inputs, model.outputs)        # [TensorInfo(name='input', shape=(None, 784))] ...
        logits = model.run(np.zeros((2, 784), np.float32))   # -> shape (2, 10)

Shapes use None for the batch dimension. See strata.model for the run() rules and threading.
The shared library is found as described in strata._lib.
"""
from .model import Model, Session, StrataError, TensorInfo, version

__all__ = ["Model", "Session", "StrataError", "TensorInfo", "version"]
__version__ = "0.1.0"
