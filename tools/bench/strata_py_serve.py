"""The Python binding in a process of its own, speaking strata_bench.c's --serve protocol.

    python strata_py_serve.py MODEL [--stateful] [--align BYTES]

Imports only numpy and the strata binding (no torch, ONNX Runtime or ExecuTorch, whose thread
pools live in the benchmark's own process), and answers the same commands as
`strata_bench MODEL --serve` (input, time, output, save, reset, quit), timing `Session.bind`'s
`bound()` in a Python loop. run.py's `strata-py-bare` engine drives it like the C server, so
one cell shows the C harness, the binding in the benchmark process and the binding in a bare
process side by side: the binding's own per-call cost, and whether a per-process cost (other
libraries' threads, input alignment) exists. ``--align`` places the input and output buffers at
that byte alignment (default: numpy's, 16 bytes on glibc, as the C harness's malloc).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "bindings" / "python"))

import strata  # noqa: E402
from engines import time_calls  # noqa: E402  (stdlib and numpy only: no peer's library loads here)


def aligned_empty(n: int, align: int) -> np.ndarray:
    """n float32 values whose first byte sits at a multiple of `align` (0: numpy's own)."""
    if not align:
        return np.empty(n, np.float32)
    raw = np.empty(n * 4 + align, np.uint8)
    skip = -raw.ctypes.data % align
    return raw[skip:skip + n * 4].view(np.float32)


class Server:
    def __init__(self, path: str, stateful: bool, align: int):
        self.model = strata.Model(path)
        self.stateful, self.align = stateful, align
        self.in_sample = self.model.inputs[0].sample_shape
        self.out_sample = self.model.outputs[0].sample_shape
        self.sessions, self.bound = {}, {}
        self.x = None
        self.last = None

    def session(self, threads: int):
        if threads not in self.sessions:
            self.sessions[threads] = self.model.session(n_threads=threads, stateful=self.stateful)
        return self.sessions[threads]

    def load(self, batch: int, path: str):
        values = np.fromfile(path, "<f4")
        if values.size == 0:
            raise ValueError("the input file is empty")
        x = aligned_empty(batch * int(np.prod(self.in_sample)), self.align)
        x[:] = np.resize(values, x.size)
        self.x = x.reshape((batch,) + self.in_sample)
        self.bound.clear()

    def bound_run(self, batch: int, threads: int):
        key = (batch, threads)
        if key not in self.bound:
            if self.x is None or len(self.x) != batch:
                raise ValueError("no input of this batch (send `input` first)")
            out = aligned_empty(batch * int(np.prod(self.out_sample)), self.align)
            self.bound[key] = self.session(threads).bind(self.x, out.reshape((batch,) + self.out_sample))
        return self.bound[key]

    def time(self, batch: int, threads: int, calls: int, warmup: int) -> str:
        f = self.bound_run(batch, threads)
        us, busy = time_calls(f, calls, warmup)
        self.last = f.output
        return f"{us:.4f} {busy:.3f}"

    def answer(self, words: list) -> str:
        cmd, args = words[0], words[1:]
        if cmd == "input" and len(args) == 2:
            self.load(int(args[0]), args[1])
        elif cmd == "time" and len(args) == 4:
            return "ok " + self.time(*map(int, args))
        elif cmd == "output" and len(args) == 3:
            self.time(int(args[0]), int(args[1]), 1, 0)
            self.last.tofile(args[2])
        elif cmd == "save" and len(args) == 1:
            if self.last is None:
                raise ValueError("no successful run to save")
            self.last.astype("<f4").tofile(args[0])
        elif cmd == "reset" and len(args) == 1:
            self.session(int(args[0])).reset_state()
        else:
            raise ValueError("unknown or malformed command")
        return "ok"


def main(argv) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    align = int(argv[argv.index("--align") + 1]) if "--align" in argv else 0
    server = Server(argv[0], "--stateful" in argv, align)
    n_in, n_out = int(np.prod(server.in_sample)), int(np.prod(server.out_sample))
    print(f"ready {n_in} {n_out} {strata.version()}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            reply = server.answer(words)
        except Exception as e:  # noqa: BLE001 - every failure is an answer, as in the C server
            reply = f"error {type(e).__name__}: {e}"
        print(reply, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
