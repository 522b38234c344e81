"""Pins the op table and the weight-encoding table across languages: Swift (`strata ops --json`,
`strata encodings --json`: StrataCore/OpTable.swift, WeightEncoding.swift), Python (format.py
`OPS`, `WEIGHT_ENCODINGS`) and docs/FORMAT.md (test_format_table.py pins Python to the doc)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from strata_convert import format as fmt
from test_format_table import _table

ROOT = Path(__file__).resolve().parents[3]
STRATA_CLI = Path(os.environ.get("STRATA_CLI", ROOT / "build" / "bin" / "strata"))
needs_cli = pytest.mark.skipif(not STRATA_CLI.exists(), reason="build/bin/strata is not built (run `make cli`)")


def _cli_json(table):
    out = subprocess.run([str(STRATA_CLI), table, "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@needs_cli
def test_op_table_swift_equals_python():
    swift = _cli_json("ops")
    assert set(swift) == set(fmt.OPS), "ops in one table only: " + repr(set(swift) ^ set(fmt.OPS))
    for name, s in fmt.OPS.items():
        ours = {"min_inputs": s.min_inputs, "max_inputs": s.max_inputs,
                "optional_inputs": sorted(s.optional_inputs),
                "attributes": {k: fmt.ATTR_TYPE_NAMES[t] for k, t, _ in s.attrs},
                "outputs": s.n_outputs, "since": s.since}
        assert swift[name] == ours, name


@needs_cli
def test_weight_encodings_swift_equal_python():
    swift = _cli_json("encodings")
    ours = [{"name": e.name, "dtype": e.dtype, "layout": fmt.LAYOUTS[e.layout], "k_alignment": e.k_alignment,
             "panel_bytes_per_k": e.panel_bytes_per_k, "scales": e.scales, "scale_block": e.scale_block,
             "weight_only": e.weight_only, "since": e.since} for e in fmt.WEIGHT_ENCODINGS]
    assert swift == ours


def test_weight_encodings_match_format_md():
    rows = _table("### Weight encodings")
    doc = [(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5], r[6] == "yes", r[7]) for r in rows]
    ours = [(e.name, e.dtype, fmt.LAYOUTS[e.layout], e.k_alignment, e.panel_bytes_per_k,
             e.scales + (f" {e.scale_block}" if e.scale_block else ""), e.weight_only, f"1.{e.since}")
            for e in fmt.WEIGHT_ENCODINGS]
    assert doc == ours


def test_every_quantize_choice_has_an_encoding():
    from strata_convert import quantize
    assert set(quantize.PRECISIONS) == {e.name for e in fmt.WEIGHT_ENCODINGS}
