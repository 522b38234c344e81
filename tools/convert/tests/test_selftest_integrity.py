"""Format 1.1 on the converter side: the SELFTEST section and the payload SHA-256 (writer,
selftest.py, integrity.py, save() and the CLI), byte determinism and version selection."""
import hashlib
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import mlp_graph, sections
from strata_convert import format as fmt
from strata_convert import integrity, selftest, torch_source
from strata_convert.errors import ConversionError, FormatError
from strata_convert.reader import parse, read_sections
from strata_convert.writer import serialize


def _reference(n=3):
    g = mlp_graph()
    rng = np.random.default_rng(1)
    return g, selftest.SelfTest([rng.standard_normal((n, 2, 3)).astype(np.float32)],
                                [np.zeros((n, 4), np.float32), np.ones((n, 4), np.float32)], 1e-4, 1e-4)


def test_plain_files_are_1_0_and_files_with_1_1_features_are_1_1():
    g, st = _reference()
    assert struct.unpack_from("<H", serialize(g), 10)[0] == 0
    assert struct.unpack_from("<H", serialize(g, self_test=st), 10)[0] == 1
    assert struct.unpack_from("<H", serialize(g, payload_sha256=True), 10)[0] == 1


def test_selftest_section_is_optional_last_and_round_trips():
    g, st = _reference()
    data = serialize(g, self_test=st)
    table = read_sections(data)
    assert [s.kind for s in table] == [1, 2, 3, 4, fmt.SECTION_SELFTEST]
    assert table[-1].flags == fmt.SECTION_FLAG_OPTIONAL
    assert parse(data) == g  # the converter's (1.0-style) reader skips it
    back = selftest.parse(sections(data)[fmt.SECTION_SELFTEST][1], g)
    assert back.n_samples == 3 and np.array_equal(back.inputs[0], st.inputs[0]) and back.atol == pytest.approx(1e-4)


def test_payload_sha256_covers_every_section_but_metadata():
    g, st = _reference()
    data = serialize(g, self_test=st, payload_sha256=True)
    recorded = parse(data).metadata[fmt.META_PAYLOAD_SHA256]
    h = hashlib.sha256()
    for s in read_sections(data):
        if s.kind != fmt.SECTION_METADATA:
            h.update(data[s.offset:s.offset + s.size])
    assert recorded == h.hexdigest() == integrity.verify_payload(data, recorded)
    tampered = bytearray(data)
    tampered[read_sections(data)[3].offset] ^= 1
    with pytest.raises(FormatError) as e:
        integrity.verify_payload(bytes(tampered), recorded)
    assert e.value.status == "CHECKSUM_MISMATCH"


@pytest.mark.parametrize("edit, message", [
    (lambda st: setattr(st, "atol", float("nan")), "tolerances must be finite"),
    (lambda st: st.outputs[0].__setitem__((0, 0), np.inf), "not finite"),
    (lambda st: setattr(st, "outputs", st.outputs[:1]), "1 outputs for a graph with 1 and 2"),
    (lambda st: setattr(st, "inputs", [st.inputs[0][:, :1]]), "'x' has 9 values"),
])
def test_writer_refuses_bad_reference_data(edit, message):
    g, st = _reference()
    edit(st)
    with pytest.raises(ConversionError) as e:
        serialize(g, self_test=st)
    assert message in str(e.value)


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))


def test_save_with_self_test_is_byte_deterministic(tmp_path):
    a, b = tmp_path / "a.strata", tmp_path / "b.strata"
    torch_source.save(_mlp(), torch.zeros(1, 2, 3), str(a), self_test=4, payload_sha256=True)
    torch_source.save(_mlp(), torch.zeros(1, 2, 3), str(b), self_test=4, payload_sha256=True)
    assert a.read_bytes() == b.read_bytes()
    data = a.read_bytes()
    st = selftest.parse(sections(data)[fmt.SECTION_SELFTEST][1], parse(data))
    assert st.n_samples == 4 and not st.inputs[0][0].any(), "the example input is the first sample"
    with torch.no_grad():
        expected = _mlp()(torch.from_numpy(st.inputs[0])).numpy()
    assert np.array_equal(st.outputs[0], expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.strata", "b.strata"], "no temporary files left"


def test_cli_embeds_self_test_and_digest_by_default(tmp_path):
    model = tmp_path / "m.pt"
    torch.save(_mlp(), model)
    out = tmp_path / "m.strata"
    done = subprocess.run([sys.executable, "-m", "strata_convert", str(model), "--trust-pickle", "-o", str(out), "--input-shape", "2,3"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "self-test:  4 reference samples" in done.stdout
    data = out.read_bytes()
    assert fmt.SECTION_SELFTEST in sections(data) and fmt.META_PAYLOAD_SHA256 in parse(data).metadata
    plain = tmp_path / "p.strata"
    done = subprocess.run([sys.executable, "-m", "strata_convert", str(model), "--trust-pickle", "-o", str(plain), "--input-shape", "2,3",
                           "--self-test", "0", "--no-sha256"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert struct.unpack_from("<H", plain.read_bytes(), 10)[0] == 0
    bad = subprocess.run([sys.executable, "-m", "strata_convert", str(model), "--trust-pickle", "-o", str(plain), "--self-test", "2000"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--self-test 2000" in bad.stderr
