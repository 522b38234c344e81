"""Writes the malformed fixture files of docs/FORMAT.md "A reader rejects": one small file per
rejection case, plus MANIFEST.tsv (file, layer, status, message fragment, SHA-256 of the file).

The cases are the converter's reader tests (tools/convert/tests/test_reader_rejects.py, one
per rule and variant) plus the format 1.1 rules (SELFTEST section, payload_sha256). Cases whose
file would exceed 64 KiB (the 1 MiB metadata value) stay in-code tests only.

    make fixtures    # or: PYTHONPATH=tools/convert:tools/convert/tests python Tests/Fixtures/make_fixtures.py

Files are byte-deterministic; re-running rewrites identical files.
"""
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "tools", "convert"), os.path.join(ROOT, "tools", "convert", "tests")]

import numpy as np  # noqa: E402

import test_reader_rejects as rr  # noqa: E402
from test_quantize import QUANT_CASES  # noqa: E402
from helpers import fix, mlp_graph, sections  # noqa: E402
from strata_convert import format as fmt  # noqa: E402
from strata_convert.errors import FormatError  # noqa: E402
from strata_convert.reader import parse  # noqa: E402
from strata_convert.selftest import SelfTest  # noqa: E402
from strata_convert.writer import assemble, serialize  # noqa: E402

MAX_FIXTURE_BYTES = 64 * 1024
OUT = os.path.join(HERE, "malformed")

# The Swift reader's message for each case contains this fragment (default: see fragment()).
FRAGMENTS = {
    "data byte flipped": "section DATA checksum mismatch",
    "graph byte flipped": "section GRAPH checksum mismatch",
    "section crc field wrong": "section METADATA checksum mismatch",
    "header flags": "header flags are 0x00000001, expected 0",
    "file_size smaller than the file": "file has 8 bytes of trailing garbage after its declared size",
    "graph input of unknown dtype": "graph input 'x' has dtype dtype#9",
    "no outputs": "node 10 'sm' has no outputs",
    "graph input rank 0": "graph input 'x' has rank 0",
    # Rejected when the model is planned (StrataEngine), after the format reader accepted it.
    "attribute out of range": "node 10 'sm' (Softmax): axis 7 is out of range for rank 2",
    "reshape moves the batch": "Reshape to [5, -1] fixes the batch dimension",
    "reshape with two -1": "Reshape to [0, -1, -1] infers more than one dimension",
    "reshape target 0 past the rank": "Reshape dim 2 is 0 but the input has no dimension 2",
    "reshape target -2": "Reshape target [-1, -2] has invalid dimension -2",
    "reshape without shape": "Reshape needs a non-empty 'shape' attribute",
    "softmax over the batch": "Softmax over axis 0 of [N, 4] is not supported",
    "flatten axis 2": "Flatten at axis 2 is not supported",
    "linear weight is a value": "input 1 'h8' must be a stored tensor",
    "unary input is a tensor": "input 0 'shift' is a tensor; this op needs a computed value",
    "add of two tensors": "input 0 'fc1.bias' is a tensor; this op needs a computed value",
    "add of different shapes": "Add of [N, 5] and [N, 6]: shapes do not broadcast",
    "reshape element count": "changes the number of elements per sample (5 → 4)",
    "linear K mismatch": "weight 'fc2.weight' has shape [4, 6]; for input [N, 5] it must be [out_features, 5]",
    "linear bias shape": "bias 'fc1.bias' has shape [4]; it must be [5]",
    "declared output shape wrong": "graph output 'probs' is declared [N, 5] but the graph computes [N, 4]",
    "add tensor not trailing dims": "Add of [N, 5] and tensor 'shift' [4]: shapes do not broadcast",
    "reshape does not divide": "5 elements per sample do not divide",
    "linear weight with M = 0": "weight 'fc2.weight' has shape [0, 5]",
}
# Cases the format reader (StrataFormat) accepts and the planner (StrataEngine) rejects: the
# manifest's layer column says "plan" for them, "format" for all others.
PLAN_CASES = set(list(FRAGMENTS)[8:])


def _graph():
    return mlp_graph()


def _self_test(n=2, **override):
    g = _graph()
    rng = np.random.default_rng(5)
    st = SelfTest([rng.standard_normal((n, 2, 3)).astype(np.float32)],
                  [np.full((n, 4), 0.25, np.float32), np.full((n, 4), -1.5, np.float32)], 1e-4, 1e-4)
    for k, v in override.items():
        setattr(st, k, v)
    return g, st


def _with_selftest_body(edit):
    """A valid 1.1 file whose SELFTEST body is replaced by edit(body)."""
    g, st = _self_test()
    data = serialize(g, self_test=st)
    secs = sections(data)
    flags, body = secs[fmt.SECTION_SELFTEST]
    parts = [(k, f, b) for k, (f, b) in secs.items() if k != fmt.SECTION_SELFTEST]
    return assemble(parts + [(fmt.SECTION_SELFTEST, flags, edit(bytearray(body)))], minor=1)


def _patch(body, offset, code, value):
    struct.pack_into("<" + code, body, offset, value)
    return bytes(body)


def _selftest_sections(flags_list):
    g, st = _self_test()
    data = serialize(g, self_test=st)
    secs = sections(data)
    body = secs[fmt.SECTION_SELFTEST][1]
    parts = [(k, f, b) for k, (f, b) in secs.items() if k != fmt.SECTION_SELFTEST]
    return assemble(parts + [(fmt.SECTION_SELFTEST, f, body) for f in flags_list], minor=1)


def _sha_value(value):
    g = _graph()
    g.metadata["payload_sha256"] = value
    return serialize(g)


V11_CASES = [
    # 13. format 1.1: SELFTEST section and payload_sha256
    ("selftest not optional", lambda: _selftest_sections([0]), "MALFORMED", "is not marked optional"),
    ("selftest twice", lambda: _selftest_sections([1, 1]), "MALFORMED", "section SELFTEST appears more than once"),
    ("selftest zero samples", lambda: _with_selftest_body(lambda b: _patch(b, 0, "I", 0)), "MALFORMED", "has 0 samples"),
    ("selftest samples over cap", lambda: _with_selftest_body(lambda b: _patch(b, 0, "I", 1025)), "MALFORMED", "sample count is 1025, more than the limit of 1024"),
    ("selftest input count", lambda: _with_selftest_body(lambda b: _patch(b, 4, "I", 2)), "MALFORMED", "has 2 inputs and 2 outputs; the graph has 1 and 2"),
    ("selftest output count", lambda: _with_selftest_body(lambda b: _patch(b, 8, "I", 1)), "MALFORMED", "has 1 inputs and 1 outputs; the graph has 1 and 2"),
    ("selftest reserved", lambda: _with_selftest_body(lambda b: _patch(b, 12, "I", 1)), "MALFORMED", "reserved field is not zero"),
    ("selftest negative atol", lambda: _with_selftest_body(lambda b: _patch(b, 16, "f", -1.0)), "MALFORMED", "absolute tolerance is -1.0"),
    ("selftest nan rtol", lambda: _with_selftest_body(lambda b: _patch(b, 20, "I", 0x7FC00000)), "MALFORMED", "relative tolerance is nan"),
    ("selftest infinite input", lambda: _with_selftest_body(lambda b: _patch(b, 24, "I", 0x7F800000)), "MALFORMED", "value 0 of input 'x' is inf"),
    ("selftest nan output", lambda: _with_selftest_body(lambda b: _patch(b, len(b) - 4, "I", 0x7FC00001)), "MALFORMED", "value 7 of output 'logp' is nan"),
    ("selftest values end early", lambda: _with_selftest_body(lambda b: bytes(b[:-8])), "MALFORMED", "ends inside the values of output 'logp'"),
    ("selftest bytes left over", lambda: _with_selftest_body(lambda b: bytes(b) + bytes(8)), "MALFORMED", "section SELFTEST has 8 unexpected bytes"),
    ("selftest header cut", lambda: _with_selftest_body(lambda b: bytes(b[:10])), "MALFORMED", "section SELFTEST ends inside output count"),
    ("selftest crc", lambda: (lambda d: d[:-1] + bytes([d[-1] ^ 1]))(_with_selftest_body(bytes)), "CHECKSUM_MISMATCH", "section SELFTEST checksum mismatch"),
    ("payload_sha256 upper case", lambda: _sha_value("A" * 64), "MALFORMED", "must be 64 lower-case hex digits"),
    ("payload_sha256 short", lambda: _sha_value("ab" * 16), "MALFORMED", "got 32 bytes"),
    ("newer major version", lambda: fix(_patch(bytearray(serialize(_graph())), 8, "H", 2)), "UNSUPPORTED_VERSION", "file format version 2.0 is not supported"),
]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def fragment(message: str) -> str:
    """The part of the converter reader's message the Swift reader also says: up to the first
    punctuation that the two readers word differently (a parenthesis or a colon), at most 60 bytes."""
    cut = re.split(r" \(|: |;", message)[0]
    return cut[:60]


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".strata"):
            os.unlink(os.path.join(OUT, old))
    rows, skipped = [], []
    cases = [(n, m, s, None) for n, m, s in rr.CASES] + V11_CASES + QUANT_CASES  # 14. (1.2) quantized weights
    for i, (name, make, status, frag) in enumerate(cases):
        data = make()
        if len(data) > MAX_FIXTURE_BYTES:
            skipped.append(f"{name}: {len(data)} bytes")
            continue
        try:
            parse(data)
            message = None
        except FormatError as e:
            message = e.message if e.status == status or frag else None
            if e.status != status:
                skipped.append(f"{name}: the converter's reader now says {e.status}: {e.message}")
                continue
        if message is None and frag is None:
            skipped.append(f"{name}: accepted by the converter's reader")
            continue
        file = f"{i + 1:03d}-{slug(name)}.strata"
        with open(os.path.join(OUT, file), "wb") as f:
            f.write(data)
        frag = frag or FRAGMENTS.get(name) or fragment(message)
        layer = "plan" if name in PLAN_CASES else "format"
        rows.append((file, layer, status, frag.replace("\t", " "), hashlib.sha256(data).hexdigest()))
    with open(os.path.join(OUT, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("# file\tlayer (format: rejected by the reader; plan: by the planner at load)\tstatus\t"
                "message fragment (Swift)\tsha256 of the file (hashlib)\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"wrote {len(rows)} fixtures to {OUT}")
    for s in skipped:
        print(f"  not written: {s}")


if __name__ == "__main__":
    main()
