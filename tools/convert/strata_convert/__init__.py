"""strata_convert: converts PyTorch models to Strata's `.strata` files (docs/FORMAT.md).

    from strata_convert import save
    save(model, torch.randn(1, 784), "mnist.strata", class_labels=[str(d) for d in range(10)])

Torch is imported only by the torch sources (`torch_source`, `torchscript_source`), so the
writer, reader and numpy reference work without it.
"""
__version__ = "0.2.0"

from .errors import ConversionError, FormatError  # noqa: E402
from .ir import Graph, Node, Tensor, ValueInfo  # noqa: E402
from .reader import parse, read_model  # noqa: E402
from .writer import serialize, write_model  # noqa: E402


def __getattr__(name):
    # Lazy torch-dependent entry points.
    if name in ("convert_module", "save"):
        from . import torch_source
        return getattr(torch_source, name)
    if name == "convert_torchscript":
        from . import torchscript_source
        return torchscript_source.convert_torchscript
    if name == "convert_exported":
        from . import export_source
        return export_source.convert_exported
    if name == "check":
        from . import op_check
        return op_check.check
    raise AttributeError(name)


__all__ = ["ConversionError", "FormatError", "Graph", "Node", "Tensor", "ValueInfo", "parse", "read_model",
           "serialize", "write_model", "convert_module", "convert_torchscript", "save",
           "convert_exported", "check"]
