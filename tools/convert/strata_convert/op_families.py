"""The op families written as one module each (activations.py, concat.py, reductions.py): every source's converters,
the shape rule and the numpy reference of their ops side by side. Each module has `INFER` (op ->
shape rule for validate), `REFERENCE` (op -> (inputs, attributes, dtype) -> output for numpy_ref),
`register_fx(functions, methods, modules)` (torch.fx), `ATEN` (TorchScript; `ATEN_TAKES_LISTS`: those
of its aten ops that take a list of tensors) and `onnx_handlers(unary, attr, const, where)` (ONNX). A new family is a new module and one entry here
(docs/ADDING_AN_OP.md)."""
from . import activations, concat, reductions, shape_ops, unary_math
from . import spatial, spatial1d  # noqa: E402  (issue 15 part B)

FAMILIES = (activations, concat, reductions, shape_ops, unary_math, spatial1d, spatial)


def merged(table: str):
    """The union of one table (`INFER`, `REFERENCE`, `ATEN`: dicts; `ATEN_TAKES_LISTS`: a set) over
    the families."""
    tables = [getattr(family, table) for family in FAMILIES]
    if isinstance(tables[0], dict):
        return {k: v for t in tables for k, v in t.items()}
    return set().union(*tables)
