"""Strata: run `.strata` neural-network models (converted from PyTorch) from Python.

    import numpy as np, strata
    with strata.Model("mnist.strata") as model:
        print(model.inputs, model.outputs)        # [TensorInfo(name='input', shape=(None, 784))] ...
        logits = model.run(np.zeros((2, 784), np.float32))   # -> shape (2, 10)

Shapes use None for the batch dimension. See strata.model for the run() rules and threading,
and strata.batching (run_batched, iter_run, iter_batches) for arrays larger than one batch.
The shared library is found as described in strata._lib.
"""
from .model import (BoundRun, Model, Session, StrataError, StrataFileNotFoundError, StrataIsADirectoryError,
                    TensorInfo, version)
from .batching import iter_batches, iter_run, run_batched

__all__ = ["BoundRun", "Model", "Session", "StrataError", "StrataFileNotFoundError", "StrataIsADirectoryError",
           "TensorInfo", "version", "iter_batches", "iter_run", "run_batched"]
__version__ = "0.2.0"
