"""`strata-convert --check` and `strata_convert.check` (issue 15): every unsupported op at once, with
its node, op type, source location and a count per op type, from torch.fx, TorchScript (scripted
and traced), torch.export and ONNX; a failed conversion prints the same list; nothing is written.

The unsupported ops here (cumsum, triu, PixelShuffle) are ones issue 15 does not plan to add, so
the test keeps meaning something as ops are added."""
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")

from conftest import CONVERT_DIR  # noqa: E402
from strata_convert import check  # noqa: E402
from strata_convert.op_check import CheckReport  # noqa: E402

MODEL = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ManyUnsupported(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.shuffle = nn.PixelShuffle(2)
            self.fc = nn.Linear(2 * 16 * 16, 5)

        def forward(self, x):
            a = F.relu(self.conv(x))
            b = torch.cumsum(a, dim=3)
            c = torch.triu(b)
            d = self.shuffle(c)
            e = torch.cumsum(d, dim=2)
            return self.fc(torch.flatten(e, 1))

    class Fine(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4 * 8 * 8, 5)

        def forward(self, x):
            return self.fc(torch.flatten(F.relu(self.conv(x)), 1))

    if __name__ == "__main__":
        torch.save(ManyUnsupported().eval(), "many.pt")
        torch.save(Fine().eval(), "fine.pt")
        x = torch.randn(1, 3, 8, 8)
        torch.export.save(torch.export.export(ManyUnsupported().eval(), (x,)), "many.pt2")
        torch.onnx.export(ManyUnsupported().eval(), (x,), "many.onnx", dynamo=False, opset_version=17)
''')


def line_of(code):
    """'line N of models_under_check.py' for the line of MODEL holding `code`."""
    n = next(i for i, text in enumerate(MODEL.splitlines(), 1) if code in text)
    return f"line {n} of models_under_check.py"


LINES = {"cumsum": line_of("b = torch.cumsum"), "triu": line_of("c = torch.triu"), "cumsum_1": line_of("e = torch.cumsum")}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("check")
    (d / "models_under_check.py").write_text(MODEL)
    subprocess.run([sys.executable, "models_under_check.py"], cwd=d, check=True, timeout=300)
    sys.path.insert(0, str(d))
    import models_under_check
    yield d, models_under_check
    sys.path.remove(str(d))


def _example():
    return torch.randn(1, 3, 8, 8)


def _assert_report(report, source, types):
    assert isinstance(report, CheckReport) and not report.ok and report.source == source
    assert report.counts() == types, report.text()
    assert report.unchecked == 0
    text = report.text()
    assert text.startswith(f"4 unsupported ops of 3 types ({source}):")
    for op, k in types.items():
        assert f"{op}  ×{k}" in text or f"{op} ×{k}" in " ".join(text.split())
    for p in report.problems:
        assert f"node '{p.node}' ({p.op}" in text


def test_torch_fx_lists_every_op_with_its_source_line(work):
    _, mods = work
    report = check(mods.ManyUnsupported().eval(), _example())
    _assert_report(report, "torch.fx", {"torch.cumsum": 2, "torch.triu": 1, "torch.nn.PixelShuffle": 1})
    by_node = {p.node: p for p in report.problems}
    assert [p.node for p in report.problems] == ["cumsum", "triu", "shuffle", "cumsum_1"]  # graph order
    for node, line in LINES.items():
        assert by_node[node].where.startswith(line), by_node[node]
    assert by_node["shuffle"].where == "module shuffle"
    assert "b = torch.cumsum(a, dim=3)" in by_node["cumsum"].where


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_lists_every_op(work, how):
    _, mods = work
    m = mods.ManyUnsupported().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = torch.jit.script(m) if how == "script" else torch.jit.trace(m, _example())
    report = check(ts, _example())
    _assert_report(report, "TorchScript", {"aten::cumsum": 2, "aten::triu": 1, "aten::pixel_shuffle": 1})
    cumsums = [p for p in report.problems if p.op == "aten::cumsum"]
    assert [p.where for p in cumsums] == [LINES["cumsum"], LINES["cumsum_1"]]


def test_torch_export_lists_every_op(work):
    _, mods = work
    program = torch.export.export(mods.ManyUnsupported().eval(), (_example(),))
    report = check(program)
    _assert_report(report, "torch.export", {"aten::cumsum": 2, "aten::triu": 1, "aten::pixel_shuffle": 1})
    by_node = {p.node: p for p in report.problems}
    assert by_node["pixel_shuffle"].where == line_of("d = self.shuffle(c)") + ": d = self.shuffle(c)"


def test_onnx_lists_every_node(work, tmp_path):
    _, mods = work
    path = tmp_path / "many.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(mods.ManyUnsupported().eval(), (_example(),), str(path), dynamo=False, opset_version=17)
    report = check(str(path))
    _assert_report(report, "ONNX", {"CumSum": 2, "Trilu": 1, "DepthToSpace": 1})
    assert [p.node for p in report.problems] == ["/CumSum", "/Trilu", "/shuffle/DepthToSpace", "/CumSum_1"]


def test_a_model_that_converts_is_ok(work):
    _, mods = work
    report = check(mods.Fine().eval(), _example())
    assert report.ok and report.problems == [] and report.text() == "every op converts (torch.fx)"


def test_unknown_shapes_are_counted_not_guessed():
    """A failing node whose output is not one tensor: the nodes using it are counted as unchecked."""
    class Split(torch.nn.Module):
        def forward(self, x):
            a, b = torch.tensor_split(x, 2, dim=1)  # unsupported, two outputs
            return torch.relu(a) + torch.sigmoid(b)
    report = check(Split(), torch.randn(1, 4))
    assert not report.ok and report.problems[0].op == "torch.tensor_split"
    assert report.unchecked >= 2 and "could not be checked" in report.text()


def run_cli(cwd, *args):
    env = dict(os.environ, PYTHONPATH=CONVERT_DIR, STRATA_CONVERT_QUIET="1")  # no progress lines on stderr
    return subprocess.run([sys.executable, "-m", "strata_convert", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_check_lists_everything_and_writes_nothing(work):
    d, _ = work
    r = run_cli(d, "--check", "many.pt", "--trust-pickle", "--import", "models_under_check.py", "--input-shape", "3,8,8",
                "-o", "never.strata")
    assert r.returncode == 1, r.stderr
    out = r.stdout
    assert out.startswith("many.pt: 4 unsupported ops of 3 types (torch.fx):")
    assert "torch.cumsum           ×2" in out and "torch.nn.PixelShuffle  ×1" in out
    assert f"node 'triu' (torch.triu, {LINES['triu']}: c = torch.triu(b)): not supported by Strata" in out
    assert not (d / "never.strata").exists()


@pytest.mark.parametrize("name,source,line", [("many.pt2", "torch.export", "  aten::cumsum         ×2"),
                                               ("many.onnx", "ONNX", "  CumSum        ×2")])
def test_cli_check_of_pt2_and_onnx_files(work, name, source, line):
    d, _ = work
    r = run_cli(d, "--check", name)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith(f"{name}: 4 unsupported ops of 3 types ({source}):") and line in r.stdout.splitlines()
    r = run_cli(d, name, "-o", "x.strata")
    assert r.returncode == 2 and r.stderr.startswith(f"strata-convert: error: 4 unsupported ops of 3 types ({source}):")
    assert not list(d.glob("*.strata"))


def test_cli_check_of_a_model_that_converts(work):
    d, _ = work
    r = run_cli(d, "--check", "fine.pt", "--trust-pickle", "--import", "models_under_check.py", "--input-shape", "3,8,8")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "fine.pt: every op converts (torch.fx)"
    assert not list(d.glob("*.strata"))


def test_failed_conversion_prints_the_full_list(work):
    d, _ = work
    r = run_cli(d, "many.pt", "-o", "many.strata", "--trust-pickle", "--import", "models_under_check.py",
                "--input-shape", "3,8,8")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "strata-convert: error: 4 unsupported ops of 3 types (torch.fx):"
    assert sum(line.strip().startswith("node '") for line in lines) == 4
    assert not (d / "many.strata").exists()


def test_check_refuses_a_pickle_without_trust(work):
    d, _ = work
    r = run_cli(d, "--check", "many.pt", "--import", "models_under_check.py", "--input-shape", "3,8,8")
    assert r.returncode == 2 and "--trust-pickle" in r.stderr


def test_output_is_required_without_check(work):
    d, _ = work
    r = run_cli(d, "fine.pt")
    assert r.returncode == 2 and "-o/--output" in r.stderr
