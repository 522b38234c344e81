"""Streaming recurrent models through a stateful session (issue 18, docs/EMBEDDING.md "Streaming").

A model's time length is fixed in its file, so one module is converted three times — with T = 1
(frame by frame), T = 7 (a prime chunk) and T = 49 (the whole sequence). Feeding the 49 steps
through a stateful session of the T = 1 or T = 7 file, chunk after chunk, must give BITWISE the
per-step outputs of one call of the T = 49 file (which itself matches PyTorch within 1e-5). Each
batch row is its own stream; threads and memory-limit chunking must not change a bit; a failed
run leaves the held state as it was; the errors are clear.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from helpers import assert_close_to_reference, needs_library
from strata_convert import torch_source

import strata

pytestmark = needs_library

STEPS, FEATURES = 49, 12
CHUNKS = (1, 7, STEPS)


class PerStep(nn.Module):
    """A recurrent stack with per-step logits: forward(x) -> fc(out) of shape [N, T, 5]."""

    def __init__(self, cell, layers):
        super().__init__()
        self.rnn = cell(FEATURES, 16, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)


CELLS = {"gru2": (nn.GRU, 2), "lstm1": (nn.LSTM, 1), "rnn2": (nn.RNN, 2)}


@pytest.fixture(scope="module", params=sorted(CELLS))
def stream(request, tmp_path_factory):
    """(module, {chunk length: loaded model}) for one recurrent stack."""
    cell, layers = CELLS[request.param]
    torch.manual_seed(0)
    module = PerStep(cell, layers).eval()
    models = {}
    for t in CHUNKS:
        path = tmp_path_factory.mktemp("stream") / f"{request.param}_t{t}.strata"
        torch_source.save(module, torch.zeros(2, t, FEATURES), str(path), self_test=0, payload_sha256=False)
        models[t] = strata.Model(str(path))
    yield module, models
    for m in models.values():
        m.close()


def _sequence(batch, seed=1):
    return np.random.default_rng(seed).standard_normal((batch, STEPS, FEATURES), dtype=np.float32)


def _fed_in_chunks(session, x, chunk):
    return np.concatenate([session.run(np.ascontiguousarray(x[:, s:s + chunk]))
                           for s in range(0, x.shape[1], chunk)], axis=1)


def test_whole_sequence_matches_pytorch(stream):
    module, models = stream
    x = _sequence(3)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    assert_close_to_reference(models[STEPS].run(x), expected)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_chunked_feeding_is_bitwise_one_call(stream, chunk):
    _, models = stream
    x = _sequence(3)
    whole = models[STEPS].run(x)
    with models[chunk].session(stateful=True) as session:
        assert session.stateful
        got = _fed_in_chunks(session, x, chunk)
        assert np.array_equal(got, whole), f"chunk {chunk}: max diff {np.max(np.abs(got - whole))}"
        # reset_state starts a new stream: the same sequence again gives the same bits
        session.reset_state()
        assert np.array_equal(_fed_in_chunks(session, x, chunk), whole)


def test_each_batch_row_is_its_own_stream(stream):
    _, models = stream
    x = _sequence(4)
    with models[7].session(stateful=True) as together:
        rows = _fed_in_chunks(together, x, 7)
    for n in range(4):
        with models[7].session(stateful=True) as alone:
            assert np.array_equal(_fed_in_chunks(alone, x[n:n + 1], 7), rows[n:n + 1])


@pytest.mark.parametrize("kw", [{"n_threads": 2}, {"memory_limit": "one sample"}], ids=["threads", "chunked"])
def test_threads_and_memory_chunks_keep_the_bits(stream, kw):
    _, models = stream
    x = _sequence(5)
    whole = models[STEPS].run(x)
    model = models[7]
    if "memory_limit" in kw:  # room for 2 rows: the batch of 5 runs in passes of 2, 2, 1
        kw = {"memory_limit": model.workspace_size(2)}
    with model.session(stateful=True, **kw) as session:
        assert np.array_equal(_fed_in_chunks(session, x, 7), whole)


def test_without_state_each_call_starts_fresh(stream):
    _, models = stream
    x = _sequence(2)
    first = models[7].run(np.ascontiguousarray(x[:, :7]))
    with models[7].session() as session:
        assert not session.stateful
        for _ in range(3):
            assert np.array_equal(session.run(np.ascontiguousarray(x[:, :7])), first)
        session.set_stateful(True)
        assert np.array_equal(session.run(np.ascontiguousarray(x[:, :7])), first)
        assert not np.array_equal(session.run(np.ascontiguousarray(x[:, :7])), first)
        session.set_stateful(False)  # forgets the state
        assert np.array_equal(session.run(np.ascontiguousarray(x[:, :7])), first)


def test_a_batch_change_is_refused_and_leaves_the_state(stream):
    _, models = stream
    x = _sequence(2)
    whole = models[STEPS].run(x)
    with models[7].session(stateful=True) as session:
        parts = [session.run(np.ascontiguousarray(x[:, :7]))]
        with pytest.raises(strata.StrataError) as e:
            session.run(np.ascontiguousarray(x[:1, 7:14]))
        assert e.value.status_name == "INVALID_ARGUMENT"
        assert "holds the state of 2 streams" in str(e.value) and "reset" in str(e.value)
        parts += [session.run(np.ascontiguousarray(x[:, s:s + 7])) for s in range(7, STEPS, 7)]
        assert np.array_equal(np.concatenate(parts, axis=1), whole)
        session.reset_state()  # a new batch size after a reset is fine
        assert session.run(np.ascontiguousarray(x[:1, :7])).shape == (1, 7, 5)


def test_a_cancelled_run_leaves_the_state(stream):
    _, models = stream
    x = _sequence(2)
    whole = models[STEPS].run(x)
    stop = {"now": False}
    with models[7].session(stateful=True, abort=lambda: stop["now"]) as session:
        parts = [session.run(np.ascontiguousarray(x[:, :7]))]
        stop["now"] = True
        with pytest.raises(strata.StrataError) as e:
            session.run(np.ascontiguousarray(x[:, 7:14]))
        assert e.value.status_name == "CANCELLED"
        stop["now"] = False
        parts += [session.run(np.ascontiguousarray(x[:, s:s + 7])) for s in range(7, STEPS, 7)]
        assert np.array_equal(np.concatenate(parts, axis=1), whole)


def test_stateful_needs_a_recurrent_layer(tmp_path):
    path = tmp_path / "mlp.strata"
    torch_source.save(nn.Sequential(nn.Linear(4, 3)).eval(), torch.zeros(2, 4), str(path),
                      self_test=0, payload_sha256=False)
    with strata.Model(str(path)) as model:
        with pytest.raises(strata.StrataError) as e:
            model.session(stateful=True)
        assert e.value.status_name == "UNSUPPORTED" and "no recurrent layer" in str(e.value)
        with model.session() as session:
            with pytest.raises(strata.StrataError) as e:
                session.reset_state()
            assert e.value.status_name == "INVALID_ARGUMENT" and "not stateful" in str(e.value)


def test_stateful_with_a_callers_workspace_is_refused(stream):
    """The held state lives outside a caller's workspace, so the combination is refused clearly
    (docs/EMBEDDING.md "Streaming"); the same workspace without state runs."""
    _, models = stream
    model = models[7]
    workspace = bytearray(model.workspace_size(2))
    with pytest.raises(strata.StrataError) as e:
        model.session(workspace=workspace, stateful=True)
    assert e.value.status_name == "UNSUPPORTED" and "caller's workspace" in str(e.value)
    x = _sequence(2)
    with model.session(workspace=workspace) as session:
        assert np.array_equal(session.run(np.ascontiguousarray(x[:, :7])), model.run(np.ascontiguousarray(x[:, :7])))


# ---- the C sample bindings/c/stream.c ------------------------------------------------------------
def test_c_stream_sample_matches_one_call(tmp_path):
    """stream.c reads frames one at a time through a stateful session: its per-frame outputs are
    bitwise those of one call over the whole sequence, and it prints a latency per frame."""
    import os
    import re
    import subprocess
    from pathlib import Path

    from helpers import LIBRARY

    repo = Path(__file__).resolve().parents[3]
    libdir = Path(LIBRARY).parent
    exe = tmp_path / "stream"
    cc = os.environ.get("CC", "cc")
    build = subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic",
                            f"-I{repo / 'include'}", str(repo / "bindings" / "c" / "stream.c"), f"-L{libdir}",
                            "-lstrata", f"-Wl,-rpath,{libdir}", "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    torch.manual_seed(0)
    module = PerStep(nn.GRU, 2).eval()
    one, whole = tmp_path / "t1.strata", tmp_path / "whole.strata"
    torch_source.save(module, torch.zeros(2, 1, FEATURES), str(one), self_test=0, payload_sha256=False)
    torch_source.save(module, torch.zeros(2, STEPS, FEATURES), str(whole), self_test=0, payload_sha256=False)
    x = _sequence(1)
    frames = tmp_path / "frames.f32"
    x.astype("<f4").tofile(frames)
    result = subprocess.run([str(exe), str(one), str(frames)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = []
    for k, line in enumerate(result.stdout.splitlines()):
        m = re.fullmatch(r"frame (\d+): class (\d+) latency_us (\S+) outputs((?: \S+)+)", line)
        assert m and int(m[1]) == k, line
        assert float(m[3]) > 0
        rows.append(np.array(m[4].split(), dtype=np.float64).astype(np.float32))
        assert int(m[2]) == int(rows[-1].argmax())
    assert len(rows) == STEPS
    with strata.Model(str(whole)) as model:
        assert np.array_equal(np.stack(rows)[None], model.run(x))  # %.9g round-trips f32
    partial = tmp_path / "partial.f32"
    x.astype("<f4").tofile(partial)
    with open(partial, "ab") as f:
        f.write(b"\0\0\0\0")
    bad = subprocess.run([str(exe), str(one), str(partial)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and f"frame {STEPS} is partial (1 of {FEATURES} values)" in bad.stderr
    usage = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage:" in usage.stderr


# ---- C++: strata::Session::set_stateful / reset_state -------------------------------------------
CXX_STREAM = r"""
#include "strata.hpp"
#include <cstdio>
#include <vector>
// argv: model (T = 7), frames file (49 steps × FEATURES floats, one stream)
int main(int argc, char **argv) {
    if (argc != 3) return 2;
    strata::Model model(argv[1]);
    strata::Session session(model);
    if (session.stateful()) return 3;
    session.set_stateful(true);
    if (!session.stateful()) return 4;
    std::FILE *f = std::fopen(argv[2], "rb");
    if (!f) return 5;
    const std::size_t chunk = session.input_sample_size();
    std::vector<float> x(chunk);
    for (int pass = 0; pass < 2; pass++) {  // the stream twice: reset_state starts it again
        std::fseek(f, 0, SEEK_SET);
        while (std::fread(x.data(), sizeof(float), chunk, f) == chunk) {
            std::vector<float> y = session.run(1, x);
            for (float v : y) std::printf("%.9g ", (double)v);
        }
        std::printf("\n");
        session.reset_state();
    }
    std::fclose(f);
    try {
        strata::Model plain(argv[1]);
        strata::Session s(plain);
        s.reset_state();  // not stateful: throws
        return 6;
    } catch (const strata::Error &e) {
        if (e.status() != STRATA_STATUS_INVALID_ARGUMENT) return 7;
    }
    return 0;
}
"""


def test_cpp_stateful_session(stream, tmp_path):
    import os
    import subprocess
    from pathlib import Path

    from helpers import LIBRARY

    _, models = stream
    repo = Path(__file__).resolve().parents[3]
    libdir = Path(LIBRARY).parent
    source, exe = tmp_path / "stream.cpp", tmp_path / "stream_cpp"
    source.write_text(CXX_STREAM)
    build = subprocess.run([os.environ.get("CXX", "c++"), "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic",
                            f"-I{repo / 'include'}", str(source), f"-L{libdir}", "-lstrata", f"-Wl,-rpath,{libdir}",
                            "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    x = _sequence(1)
    frames = tmp_path / "frames.f32"
    x.astype("<f4").tofile(frames)
    result = subprocess.run([str(exe), models[7].path, str(frames)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (result.returncode, result.stderr)
    whole = models[STEPS].run(x).reshape(-1)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert np.array_equal(np.array(line.split(), dtype=np.float64).astype(np.float32), whole)
