"""`strata-convert --check` and `strata_convert.check(model)`: every op a model uses that Strata
cannot convert, at once, instead of the first one.

    from strata_convert import check
    report = check(model, torch.randn(1, 3, 64, 64))   # nn.Module, TorchScript, ONNX, ExportedProgram
    print(report.text()); report.ok                     # False when anything is unsupported

How it works: the source's converter runs with its per-node dispatch wrapped (subclasses of the
converters of torch_source, torchscript_source, onnx_source and export_source). A node whose
conversion raises ConversionError is recorded as a Problem (op type, node, source location, why)
and replaced by a stand-in value of the shape the source framework gives it (torch.fx ShapeProp,
the TorchScript node run with torch.ops, ONNX shape inference), so the nodes after it are checked
too. Nodes that depend on a stand-in whose shape is unknown cannot be checked; they are counted
as `unchecked`. An error that stops the whole conversion (tracing fails, an input is not a
float tensor) is reported as a Problem of op type "model".
"""
import collections
from dataclasses import dataclass, field

from .errors import ConversionError, FormatError

__all__ = ["Problem", "CheckReport", "check", "check_module", "check_torchscript", "check_onnx", "check_exported"]


@dataclass
class Problem:
    """One node Strata cannot convert."""

    op: str          # op type as the source names it: 'torch.nn.ConvTranspose2d', 'aten::cat', 'Resize'
    node: str        # node name in the source graph (torch.fx node, TorchScript value, ONNX node)
    where: str       # source location when known ('line 12 of model.py: …', 'module up'), else ''
    why: str         # the converter's reason

    def line(self) -> str:
        """'node 'cat' (torch.cat, line 12 of model.py: …): reason'."""
        where = f", {self.where}" if self.where else ""
        return f"node '{self.node}' ({self.op}{where}): {self.why}"


@dataclass
class CheckReport:
    """What `check` found: the problems in graph order, and how many nodes could not be checked."""

    source: str                                  # 'torch.fx', 'TorchScript', 'ONNX', 'torch.export'
    problems: list = field(default_factory=list)
    unchecked: int = 0

    @property
    def ok(self) -> bool:
        """True when the model converts."""
        return not self.problems

    def counts(self) -> dict:
        """{op type: number of nodes}, most frequent first."""
        return dict(collections.Counter(p.op for p in self.problems).most_common())

    def text(self) -> str:
        """The report as printed by `strata-convert --check`."""
        if self.ok:
            return f"every op converts ({self.source})"
        counts = self.counts()
        n = len(self.problems)
        lines = [f"{n} unsupported op{'s' if n != 1 else ''} of {len(counts)} type{'s' if len(counts) != 1 else ''} "
                 f"({self.source}):"]
        width = max(len(op) for op in counts)
        lines += [f"  {op:<{width}}  ×{k}" for op, k in counts.items()]
        lines += ["  " + p.line() for p in self.problems]
        if self.unchecked:
            lines.append(f"  ({self.unchecked} node{'s' if self.unchecked != 1 else ''} after them could not be "
                         "checked: they take a value whose shape is unknown)")
        return "\n".join(lines)


def _why(message: str, site_text: str) -> str:
    """The reason of a converter message, without the 'unsupported op <site>' prefix already listed."""
    prefix = f"unsupported op {site_text}"
    if message.startswith(prefix):
        rest = message[len(prefix):].lstrip(": ")
        return rest or "not supported by Strata"
    return message


def check(model, example_input=None, *, input_shape=None) -> CheckReport:
    """Check any supported source: an nn.Module (torch.fx; needs example_input), a TorchScript
    module, a torch.export ExportedProgram, an ONNX ModelProto or a path to a .onnx/.pt2 file."""
    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        path = str(model)
        if path.lower().endswith(".onnx"):
            from .onnx_source import load_onnx
            return check_onnx(load_onnx(path))
        if path.lower().endswith(".pt2"):
            from .export_source import load_exported
            return check_exported(load_exported(path))
        raise ConversionError(f"{path}: check() takes .onnx or .pt2 paths; load other models first")
    if hasattr(model, "graph") and hasattr(model, "opset_import"):
        return check_onnx(model)
    import torch
    if isinstance(model, torch.export.ExportedProgram):
        return check_exported(model)
    if isinstance(model, torch.jit.ScriptModule):
        return check_torchscript(model, example_input, input_shape=input_shape)
    if isinstance(model, torch.nn.Module):
        if example_input is None:
            shape = input_shape
            if shape is None:
                from .torch_source import first_linear_in_features
                shape = first_linear_in_features(model)
            if shape is None:
                raise ConversionError("check: pass an example input (no Linear layer gives the input shape)")
            example_input = torch.zeros((1, *shape))
        return check_module(model, example_input)
    raise ConversionError(f"check: cannot check a {type(model).__name__}")


def _run(report, convert):
    """Run a collecting conversion; an error that stops it is a 'model' problem unless it only
    follows from problems already found (a stand-in reaching the end of the graph)."""
    try:
        convert()
    except (ConversionError, FormatError) as e:
        if not report.problems:
            report.problems.append(Problem("model", "-", "", str(e)))
    except Exception:
        if not report.problems:
            raise
    return report


# -- torch.fx -------------------------------------------------------------------------------

def check_module(module, example_input) -> CheckReport:
    """Every torch.fx node of `module` that Strata cannot convert (see the module docstring)."""
    from . import torch_source as ts
    report = CheckReport("torch.fx")
    if not isinstance(module, ts.nn.Module):
        raise ConversionError(f"expected a torch.nn.Module, got {type(module).__name__}")

    def convert():
        runs = ts.example_batches(example_input, ts.param_dtype(module))
        was_training = module.training
        module.eval()
        try:
            gm = ts._trace(module)
            shapes = [ts._propagate(gm, inputs) for inputs in runs]
            _checking_fx(ts)(gm, shapes, report).convert(type(module).__name__, None)
        finally:
            module.train(was_training)
    return _run(report, convert)


class _Unknown:
    """A stand-in for a failed node whose output is not a single tensor of known shape."""


UNKNOWN = _Unknown()


def _checking_fx(ts):
    class CheckingFx(ts._FxConverter):
        def __init__(self, gm, runs, report):
            super().__init__(gm, runs)
            self.report = report

        def _guarded(self, node, convert, op):
            if any(self.env.get(a.name) is UNKNOWN for a in node.all_input_nodes):
                self.report.unchecked += 1
                return UNKNOWN
            try:
                return convert(node)
            except ConversionError as e:
                site = self.site(node, op)
                self.report.problems.append(Problem(op, node.name, site.detail, _why(str(e), str(site))))
                shapes = self.shapes(node)
                if shapes[0] is None:
                    return UNKNOWN
                return self.b.input(f"{node.name}_unconverted", shapes)

        def _call_module(self, node):
            op = ts._module_name(type(self.gm.get_submodule(node.target)))
            return self._guarded(node, super()._call_module, op)

        def _call_function(self, node):
            return self._guarded(node, super()._call_function, ts._function_name(node.target))

        def _call_method(self, node):
            return self._guarded(node, super()._call_method, f"Tensor.{node.target}")

    return CheckingFx


# -- TorchScript ----------------------------------------------------------------------------

def check_torchscript(script_module, example_input=None, *, input_shape=None) -> CheckReport:
    """Every TorchScript node of `script_module` that Strata cannot convert."""
    import torch

    from . import torchscript_source as tss
    from .torch_source import example_batches, first_linear_in_features, param_dtype
    report = CheckReport("TorchScript")

    def convert():
        nonlocal example_input
        if example_input is None:
            shape = input_shape or first_linear_in_features(script_module)
            if shape is None:
                raise ConversionError("cannot infer the input shape (no Linear layer found); pass an example input "
                                      "or --input-shape")
            example_input = torch.zeros((1, *shape))
        runs = example_batches(example_input, param_dtype(script_module))
        graph = tss._freeze(script_module)
        _checking_ts(tss)(graph, runs, report).convert("model", None)
    return _run(report, convert)


def _checking_ts(tss):
    from .builder import BATCHES, Site

    def concrete(e, r):
        return [concrete(i, r) for i in e.items] if e.kind == "list" else e.runs[r]

    class CheckingTs(tss._TsConverter):
        def __init__(self, graph, runs, report):
            super().__init__(graph, runs)
            self.report = report

        def _node(self, node):
            outs = list(node.outputs())
            ins = [self.env.get(i.unique()) for i in node.inputs()]
            if any(e is None or e.kind == "unknown" for e in ins):
                self.report.unchecked += 1
                for o in outs:
                    self.env[o.unique()] = tss._E("unknown", [None] * len(BATCHES))
                return
            try:
                return super()._node(node)
            except ConversionError as e:
                if node.kind() == "prim::RaiseException":
                    raise
                site = Site(node.kind(), outs[0].debugName() if outs else node.kind(), tss._source_line(node))
                self.report.problems.append(Problem(node.kind(), site.node, site.detail, _why(str(e), str(site))))
                self._stand_in(node, outs, ins)

        def _stand_in(self, node, outs, ins):
            try:
                results = [tss._evaluate(node, [concrete(e, r) for e in ins]) for r in range(len(BATCHES))]
            except Exception:
                results = None
            if results is not None and len(outs) == 1 and all(isinstance(t, tss.torch.Tensor) for t in results):
                ir = self.b.input(f"{outs[0].debugName()}_unconverted", [tuple(t.shape) for t in results])
                self.env[outs[0].unique()] = tss._E("value", results, ir=ir)
                return
            for o in outs:
                self.env[o.unique()] = tss._E("unknown", [None] * len(BATCHES))

    return CheckingTs


# -- ONNX -----------------------------------------------------------------------------------

def check_onnx(model) -> CheckReport:
    """Every ONNX node of `model` (a ModelProto) that Strata cannot convert."""
    from . import onnx_source as osrc
    from .onnx_upgrade import to_supported_opset
    report = CheckReport("ONNX")

    upgraded = []

    def convert():
        upgraded.append(to_supported_opset(model, osrc.MIN_OPSET))
        _checking_onnx(osrc)(upgraded[0][0], report).convert(None, None, False)
    _run(report, convert)
    if not report.ok and upgraded:
        # A fixed-shape graph that mixes dim 0 converts as one sample (onnx_lift.py): nothing to report.
        if osrc._convert_lifted(upgraded[0][0], None, None, None, None, False, upgraded[0][1]) is not None:
            return CheckReport("ONNX, converted as one sample of a new batch dimension")
    return report


def _inferred_dims(model) -> dict:
    """{value name: [dims]} from onnx shape inference, dim 0 as -1, symbolic dims as None."""
    import onnx
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        return {}
    dims = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        shape = vi.type.tensor_type.shape
        if vi.type.tensor_type.HasField("shape"):
            ds = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in shape.dim]
            if ds:
                dims[vi.name] = [-1] + ds[1:]
    return dims


def _checking_onnx(osrc):
    from .ir import ValueInfo

    class CheckingOnnx(osrc._OnnxConverter):
        def __init__(self, model, report):
            super().__init__(model, {}, None)
            self.report = report
            self.unknown = set()
            self.inferred = _inferred_dims(model)

        def _convert_node(self, node):
            if any(i in self.unknown for i in node.input):
                self.report.unchecked += 1
                self.unknown.update(o for o in node.output if o)
                return
            try:
                return super()._convert_node(node)
            except ConversionError as e:
                where = osrc._where(node)
                why = str(e)[len(where):].lstrip(": ") if str(e).startswith(where) else str(e)
                self.report.problems.append(Problem(node.op_type, node.name or f"producing '{node.output[0]}'", "", why))
                for o in node.output:
                    if o:
                        self._stand_in(o)

        def _stand_in(self, name):
            dims = self.inferred.get(name)
            if not dims or any(d is None for d in dims[1:]):
                self.unknown.add(name)
                return
            ir = self._fresh(f"{name}_unconverted")
            self.inputs.append(ValueInfo(ir, "f32", dims))
            self.dims[ir] = dims
            self.env[name] = osrc._V(ir, range(len(dims)))

    return CheckingOnnx


# -- torch.export ---------------------------------------------------------------------------

def check_exported(program) -> CheckReport:
    """Every node of a torch.export ExportedProgram that Strata cannot convert."""
    from . import export_source
    report = CheckReport("torch.export")
    return _run(report, lambda: export_source.convert_exported(program, _report=report))


# -- the command line -------------------------------------------------------------------------

class CheckFailed(ConversionError):
    """A conversion that failed with several problems; its message is the multi-line report."""


def run_cli_check(args, shape) -> int:
    """`strata-convert --check MODEL`: print the report, write nothing; 0 when every op converts,
    1 when some do not (the report lists them)."""
    report = _cli_report(args, shape)
    if report is None:
        print(f"{args.input}: converts")
        return 0
    print(f"{args.input}: " + report.text())
    return 0 if report.ok else 1


def explain_failure(args, shape, error):
    """Called when a conversion fails with `error`: the same error when the check finds at most
    that one problem, else CheckFailed listing every problem."""
    try:
        report = _cli_report(args, shape)
    except Exception:
        return error
    if report is None or len(report.problems) <= 1:
        return error
    return CheckFailed(report.text())


def _cli_report(args, shape):
    """The CheckReport for the CLI's input, or None for sources without a per-op check (a
    scikit-learn pickle, a state dict: they convert or fail as a whole, which raises)."""
    from . import sources
    kind = sources.kind(args.input, getattr(args, "arch", None))
    if kind == "onnx":
        from .onnx_source import load_onnx
        return check_onnx(load_onnx(args.input))
    if kind == "export":
        from .export_source import load_exported
        return check_exported(load_exported(args.input))
    if kind is not None:
        sources.convert(args, None)
        return None
    import warnings

    import torch

    from . import cli
    from .torch_source import first_linear_in_features
    warnings.filterwarnings("ignore", category=FutureWarning)
    for path in args.imports:
        cli._import_file(path)
    model = cli.load_model(args.input, trust_pickle=getattr(args, "trust_pickle", False))
    shape = shape or first_linear_in_features(model)
    if shape is None:
        raise cli.CliError("cannot infer the input shape (no Linear layer found); pass --input-shape, e.g. 1,28,28")
    example = torch.zeros((1, *shape))
    if isinstance(model, torch.jit.ScriptModule):
        return check_torchscript(model, example)
    return check_module(model, example)
