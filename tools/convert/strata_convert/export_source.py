"""Converts a `torch.export` program (an `ExportedProgram`, or a `.pt2` file written by
`torch.export.save`) to the graph IR: the fourth PyTorch source, after torch.fx, TorchScript and
ONNX export.

    ep = torch.export.export(model.eval(), (torch.randn(1, 784),),
                             dynamic_shapes=({0: torch.export.Dim("batch")},))   # optional
    graph = convert_exported(ep)          # or: strata-convert model.pt2 -o model.strata
    save(ep, "model.strata", self_test=4) # with reference samples from the program itself

How it works: the program's graph holds ATen ops (torch.export's default IR: aten.linear,
aten.conv2d, aten.batch_norm, …), the same op names TorchScript graphs use, so every node maps
through torchscript_source's `_ATEN` table (each op converted there converts here too). As in
the TorchScript path, each node is also run with its ATen overload on two batch sizes
(builder.BATCHES) to learn every value's shape and the values of shape arithmetic
(`aten.sym_size`). Parameters, buffers and lifted constants become stored tensors.

The batch: dim 0 of every user input. A program exported with a dynamic dim 0 runs as is; one
exported with a fixed dim 0 (no dynamic_shapes) has that size baked into shape lists such as
`view(x, [1, 64])`: a shape-list argument of a reshaping op whose first entry is the exported
batch is read as "the batch". Anything that does not map raises ConversionError naming the node
and its source line (the node's recorded stack trace).
"""
import operator
import os
import re

import numpy as np
import torch

from .builder import BATCHES, Builder, Site, metadata, unsupported
from .errors import ConversionError
from .ir import Graph
from .torch_source import _first_line

__all__ = ["convert_exported", "load_exported", "reference", "save"]

# Ops whose list argument is a target shape (dim 0 = the batch in a fixed-batch export).
_SHAPE_LIST_OPS = {"aten::view", "aten::reshape", "aten::_unsafe_view", "aten::expand", "aten::unflatten"}


def load_exported(path):
    """Load a `.pt2` file written by torch.export.save."""
    try:
        return torch.export.load(str(path))
    except Exception as e:
        raise ConversionError(f"cannot load torch.export program {path}: {_first_line(e)} (expected a file "
                              "written by torch.export.save)") from e


def convert_exported(program, *, name=None, class_labels=None, _report=None) -> Graph:
    """Convert a torch.export ExportedProgram (or a path to a .pt2 file) to a Graph.

    class_labels: optional output class names, stored as metadata. Raises ConversionError for
    anything Strata cannot run. (_report: a check.CheckReport to collect every problem into.)
    """
    if isinstance(program, (str, os.PathLike)):
        program = load_exported(program)
    if not isinstance(program, torch.export.ExportedProgram):
        raise ConversionError(f"expected a torch.export.ExportedProgram, got {type(program).__name__}")
    converter = _ExportConverter(program, _report)
    return converter.convert(name or _program_name(program), class_labels)


def save(program, path, *, self_test: int = 0, payload_sha256: bool = False, **kw) -> Graph:
    """Convert `program` (see convert_exported) and write it to `path`; return the graph.

    self_test: embed that many seeded random reference samples with the program's own outputs
    for them (PyTorch, in chunks of a fixed exported batch; 0 = none). payload_sha256: record
    the payload's SHA-256 in the metadata.
    """
    if isinstance(program, (str, os.PathLike)):
        program = load_exported(program)
    graph = convert_exported(program, **kw)
    from . import selftest
    from .writer import write_model
    data = None
    if self_test:
        if not 1 <= self_test <= selftest.MAX_SAMPLES:
            raise ConversionError(f"self_test={self_test}: the number of samples must be 1 … {selftest.MAX_SAMPLES}")
        inputs = selftest.sample_inputs(graph, None, self_test)
        outputs = [y.reshape((self_test, *v.dims[1:])) for y, v in zip(reference(program)(inputs), graph.outputs)]
        atol = selftest.ATOL_SCALE * max(1.0, max(float(np.abs(y).max()) for y in outputs))
        data = selftest.SelfTest(inputs, outputs, float(atol), float(selftest.RTOL))
    write_model(path, graph, self_test=data, payload_sha256=payload_sha256)
    return graph


def reference(program):
    """f(list of input arrays) -> list of output arrays: the program run by PyTorch (in chunks of
    its batch when it was exported with a fixed one)."""
    from .sources import in_batches_of
    module = program.module()

    def run(xs):
        with torch.no_grad():
            ys = module(*[torch.from_numpy(np.ascontiguousarray(x, np.float32)) for x in xs])
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        return [y.detach().to(torch.float32).numpy() for y in ys]
    return in_batches_of(_declared_batch(program), run)


def _declared_batch(program):
    """The fixed dim 0 of the program's user inputs, or None when it is dynamic."""
    users = {s.arg.name for s in program.graph_signature.input_specs if s.kind.name == "USER_INPUT"}
    for node in program.graph.nodes:
        val = node.meta.get("val") if node.op == "placeholder" and node.name in users else None
        if isinstance(val, torch.Tensor) and val.dim() and isinstance(val.shape[0], int):
            return int(val.shape[0])
    return None


def _program_name(program) -> str:
    """The model name stored by default (an ExportedProgram does not keep its module's class name)."""
    return "exported_program"


def _schema_kind(target) -> str:
    schema = getattr(target, "_schema", None)
    return schema.name if schema is not None else getattr(target, "__name__", str(target))


def _source_line(node) -> str:
    """'line 12 of model.py: x = torch.cat(...)' from the node's recorded stack trace, or ''."""
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in [^\n]*\n\s*([^\n]*)', trace)
    torch_dir = os.path.dirname(torch.__file__)
    user = [f for f in frames if not f[0].startswith(torch_dir)]
    if not user:
        return ""
    file, line, code = user[-1]
    return f"line {line} of {os.path.basename(file)}" + (f": {code.strip()}" if code.strip() else "")


class _ExportConverter:
    """Walks the program's fx graph; operand/literal behave as in torchscript_source."""

    def __init__(self, program, report=None):
        from . import torchscript_source
        self.tss = torchscript_source
        self.E = self.tss._E
        self.program, self.report = program, report
        self.b, self.env = Builder(), {}
        self.declared_batch = None

    # operand/literal: the TorchScript converter's (they read only _E values)
    def operand(self, e):
        """A builder operand for an argument (see torchscript_source._TsConverter.operand)."""
        return self.tss._TsConverter.operand(self, e)

    def literal(self, site, e, what):
        """A number needed at conversion time (see torchscript_source._TsConverter.literal)."""
        return self.tss._TsConverter.literal(self, site, e, what)

    def convert(self, model_name, class_labels) -> Graph:
        sig = self.program.graph_signature
        kinds = {s.arg.name: s for s in sig.input_specs if hasattr(s.arg, "name")}
        stored = dict(self.program.state_dict)
        stored.update(getattr(self.program, "constants", {}) or {})
        user = []
        for node in self.program.graph.nodes:
            if node.op == "placeholder":
                spec = kinds.get(node.name)
                if spec is not None and spec.kind.name == "USER_INPUT":
                    user.append(node)
                elif spec is not None and spec.target in stored:
                    t = stored[spec.target]
                    self.env[node.name] = self.E("const", [t, t], name=spec.target)
                else:
                    raise ConversionError(f"input '{node.name}' of the exported program is not a tensor the converter "
                                          "knows (a custom object or a token?)")
        self._inputs(user)
        for node in self.program.graph.nodes:
            if node.op == "call_function":
                self._node(node)
            elif node.op == "output":
                results = node.args[0]
                results = list(results) if isinstance(results, (tuple, list)) else [results]
                names = []
                for r in results:
                    e = self.env.get(r.name) if hasattr(r, "name") else None
                    if e is None or e.kind != "value":
                        raise ConversionError(f"output '{getattr(r, 'name', r)}' of the exported program is not a "
                                              "tensor computed from the input")
                    names.append(e.ir)
                sample = self.b.sample.get(names[0]) if len(names) == 1 else None
                meta = metadata(f"pytorch {torch.__version__} (torch.export)", model_name, class_labels,
                                sample[-1] if sample else None)
                return self.b.finish(names, meta)
            elif node.op != "placeholder":
                raise ConversionError(f"node '{node.name}' of the exported program is a {node.op}; expected ATen calls")
        raise ConversionError("the exported program has no output")

    def _inputs(self, user):
        if not user:
            raise ConversionError("the exported program has no tensor input")
        gen = torch.Generator().manual_seed(0)
        for node in user:
            val = node.meta.get("val")
            if not isinstance(val, torch.Tensor) or val.dim() < 1 or not val.is_floating_point():
                raise ConversionError(f"input '{node.name}' is not a floating-point tensor of shape (N, ...)")
            first, rest = val.shape[0], val.shape[1:]
            if any(not isinstance(d, int) for d in rest):
                raise ConversionError(f"input '{node.name}' has a dynamic dimension after dim 0 ({list(val.shape)}); "
                                      "only the batch (dim 0) may be dynamic")
            if isinstance(first, int):
                if self.declared_batch not in (None, first):
                    raise ConversionError("the exported inputs have different fixed batch sizes")
                self.declared_batch = first
            xs = [torch.randn((b, *rest), generator=gen).to(val.dtype) for b in BATCHES]
            ir = self.b.input(node.name, [tuple(x.shape) for x in xs])
            self.env[node.name] = self.E("value", xs, ir=ir)

    # -- nodes -----------------------------------------------------------------------

    def _arg(self, a):
        """An _E for a node argument: a value, a constant, shape arithmetic, or a list of them."""
        E = self.E
        if hasattr(a, "op") and hasattr(a, "name"):  # an fx.Node
            return self.env[a.name]
        if isinstance(a, (list, tuple)):
            items = [self._arg(x) for x in a]
            kinds = {x.kind for x in items}
            if kinds <= {"const"}:
                v = [x.runs[0] for x in items]
                return E("const", [v, v])
            if kinds <= {"const", "scalar"}:
                return E("scalar", [[x.runs[r] for x in items] for r in range(len(BATCHES))])
            return E("list", [[x.runs[r] for x in items] for r in range(len(BATCHES))], items=items)
        return E("const", [a, a])

    def _args(self, node, kind):
        """{schema argument name: _E} with defaults filled in, and the per-run Python arguments."""
        schema = node.target._schema
        named, positional, keywords = {}, [[] for _ in BATCHES], [{} for _ in BATCHES]
        for i, s in enumerate(schema.arguments):
            if i < len(node.args):
                raw = node.args[i]
            elif s.name in node.kwargs:
                raw = node.kwargs[s.name]
            else:
                named[s.name] = self.E("const", [s.default_value] * 2) if s.has_default_value() else None
                continue
            e = self._arg(raw)
            if kind in _SHAPE_LIST_OPS and self.declared_batch is not None and e.kind == "const" \
                    and isinstance(e.runs[0], list) and e.runs[0] and e.runs[0][0] == self.declared_batch:
                e = self.E("scalar", [[b] + list(e.runs[0][1:]) for b in BATCHES])  # the baked-in batch
            named[s.name] = e
            for r in range(len(BATCHES)):
                if s.kwarg_only:
                    keywords[r][s.name] = e.runs[r]
                else:
                    positional[r].append(e.runs[r])
        return named, positional, keywords

    def _node(self, node):
        kind = _schema_kind(node.target)
        site = Site(kind, node.name, _source_line(node))
        inputs = [self.env.get(a.name) for a in node.all_input_nodes]
        if any(e is None or e.kind == "unknown" for e in inputs):
            if self.report is None:
                raise unsupported(site, "it takes a value that was not converted")
            self.report.unchecked += 1
            self.env[node.name] = self.E("unknown", [None] * len(BATCHES))
            return
        results = None
        try:
            if node.target is operator.getitem or not hasattr(node.target, "_schema"):
                raise unsupported(site)
            named, positional, keywords = self._args(node, kind)
            results = [self._evaluate(node, site, positional[r], keywords[r]) for r in range(len(BATCHES))]
            self.env[node.name] = self._convert(node, site, kind, named, results, inputs)
        except ConversionError as e:
            if self.report is None:
                raise
            from .op_check import Problem, _why
            self.report.problems.append(Problem(kind, node.name, site.detail, _why(str(e), str(site))))
            if results is not None and all(isinstance(t, torch.Tensor) for t in results):
                ir = self.b.input(f"{node.name}_unconverted", [tuple(t.shape) for t in results])
                self.env[node.name] = self.E("value", results, ir=ir)
            else:
                self.env[node.name] = self.E("unknown", [None] * len(BATCHES))

    def _evaluate(self, node, site, args, kwargs):
        try:
            with torch.no_grad():
                return node.target(*args, **kwargs)
        except Exception as e:
            raise unsupported(site, f"running it on batch sizes {BATCHES} failed ({_first_line(e)}); the exported "
                                    "program may depend on its example batch size") from e

    def _convert(self, node, site, kind, named, results, inputs):
        E = self.E
        kinds = {e.kind for e in inputs}
        if all(t is None for t in results) and kind.startswith(("aten::_assert", "aten::sym_constrain")):
            return E("const", [None, None])  # a shape assertion torch.export inserted: nothing to run
        if not all(isinstance(t, torch.Tensor) for t in results):
            if "value" in kinds and kind not in ("aten::sym_size", "aten::size", "aten::dim"):
                raise unsupported(site, "it computes a number from tensor data")
            return E("scalar", results)
        if kinds <= {"const", "scalar"}:  # constant folding (the batch enters only through sym_size)
            if all(torch.equal(results[0], t) for t in results[1:]) if all(t.shape == results[0].shape for t in results) else False:
                return E("const", [results[0], results[0]])
            raise unsupported(site, "a constant that depends on the batch size")
        if "list" in kinds and kind not in ("aten::cat", "aten::stack"):
            raise unsupported(site)
        convert = self.tss._ATEN.get(kind)
        if convert is None:
            raise unsupported(site)
        shapes = [tuple(t.shape) for t in results]
        ir = convert(self, site, named, node.name, shapes)
        return E("value", results, ir=ir)

