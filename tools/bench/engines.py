"""The engines the benchmark times, behind one small interface.

An engine is set up once per (model, thread count), prepared once per batch size (sessions,
resizes and output buffers are made there, outside the timing), then sampled: `sample(calls,
warmup)` runs `warmup` untimed calls and `calls` timed back-to-back calls and returns the mean
time per call in µs and the process's CPU time over wall time during them (≈ busy cores).

kind: "strata" (the engine under test), "f32" (an f32 peer), "int8" (a quantized peer) or "frame"
(Strata on one frame of a recurrent model through a stateful session: compared with the
whole-sequence call divided by the number of steps, not with the peers).
"""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np


def time_calls(f, calls: int, warmup: int = 0):
    """Runs `f()` `warmup` times untimed, then `calls` times back to back: (mean µs per call, the
    process's CPU time over wall time during them)."""
    for _ in range(warmup):
        f()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        f()
    t1, c1 = time.perf_counter(), time.process_time()
    return (t1 - t0) / calls * 1e6, (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


class Engine:
    name = "?"
    kind = "f32"
    via = "Python"

    def setup(self, threads: int) -> None:
        self.threads = threads

    def prepare(self, batch: int, x: np.ndarray) -> None:
        raise NotImplementedError

    def call(self) -> None:
        raise NotImplementedError

    def output(self) -> np.ndarray:
        """The outputs of the most recent call."""
        raise NotImplementedError

    def sample(self, calls: int, warmup: int = 0):
        return time_calls(self.call, calls, warmup)

    def threads_note(self) -> str:
        return ""

    def unavailable(self, batch: int):
        """Why this engine cannot run at `batch` (then the cell is skipped), or None."""
        return None

    def close(self) -> None:
        pass


class StrataC(Engine):
    """Strata through the C ABI: tools/bench/strata_bench.c in --serve mode, one process per model."""

    name, kind, via = "strata-c", "strata", "C"

    def __init__(self, exe: Path, model_path: Path, work_dir: Path, stateful: bool = False, command=None):
        self.work_dir = work_dir
        command = command or [str(exe), str(model_path), "--serve"]
        self.proc = subprocess.Popen(command + (["--stateful"] if stateful else []), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"strata_bench did not start: {ready}")
        self.n_out = int(ready[2])
        self.version = ready[3]

    def _ask(self, line: str) -> list:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        if not answer or answer[0] != "ok":
            raise RuntimeError(f"strata_bench: {line!r} -> {' '.join(answer) or 'no answer (crashed?)'}")
        return answer[1:]

    def prepare(self, batch, x):
        self.batch = batch
        self._input(x)

    def _input(self, x):
        path = self.work_dir / f"{self.name}_input.f32"
        np.ascontiguousarray(x, "<f4").tofile(path)
        self._ask(f"input {len(x)} {path}")

    def sample(self, calls, warmup=0):
        us, cpu = self._ask(f"time {self.batch} {self.threads} {calls} {warmup}")
        return float(us), float(cpu)

    def call(self):
        self.sample(1)

    def output(self):
        path = self.work_dir / f"{self.name}_output.f32"
        self._ask(f"save {path}")
        return np.fromfile(path, "<f4").reshape(self.batch, -1)

    def threads_note(self):
        return "n_threads passed in strata_session_params; the API does not report the count used"

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()


def first_frame(x: np.ndarray) -> np.ndarray:
    """Step 0 of every row of a [N, T, features] batch, as a [N, 1, features] input."""
    return np.ascontiguousarray(x[:, :1], np.float32)


class StrataCFrame(StrataC):
    """One frame of a recurrent model through a stateful session, from C: the model converted for
    T = 1, run by strata_bench --serve --stateful. Each timed call continues the stream (the
    state is never reset while timing: the cost of a frame does not depend on the position). Its
    output() restarts the stream and feeds the cell's T frames one call at a time, so the last
    frame's output is compared with PyTorch's on the whole sequence."""

    name, kind = "strata-c-frame", "frame"

    def __init__(self, exe: Path, model_path: Path, work_dir: Path):
        super().__init__(exe, model_path, work_dir, stateful=True)

    def prepare(self, batch, x):
        self.batch, self.x = batch, x
        self._input(first_frame(x))

    def output(self):
        self._ask(f"reset {self.threads}")
        for t in range(self.x.shape[1]):
            self._input(self.x[:, t:t + 1])
            self._ask(f"time {self.batch} {self.threads} 1 0")
        out = super().output()
        self._ask(f"reset {self.threads}")
        self._input(first_frame(self.x))
        return out


class StrataPyBare(StrataC):
    """The Python binding in a process that imports only numpy and strata (strata_py_serve.py,
    the C server's protocol, `bound()` timed in a Python loop): beside strata-py (the binding in
    the benchmark's process, next to torch's, ONNX Runtime's and ExecuTorch's thread pools) and
    strata-c it separates the binding's own per-call cost from any per-process cost. Opt-in
    (--engines ...,strata-py-bare)."""

    name, via = "strata-py-bare", "Python, own process"

    def __init__(self, model_path: Path, work_dir: Path, align: int = 0):
        import sys
        server = Path(__file__).resolve().parent / "strata_py_serve.py"
        copy = model_path.with_name(model_path.stem + ".bare-copy" + model_path.suffix)  # see StrataPy
        if not copy.exists() or copy.stat().st_mtime < model_path.stat().st_mtime:
            shutil.copyfile(model_path, copy)
        super().__init__(None, copy, work_dir,
                         command=[sys.executable, str(server), str(copy)] + (["--align", str(align)] if align else []))


class StrataPy(Engine):
    """Strata through the Python binding: Session.bind(x, out=preallocated), then bound() per call
    (its cheapest Python path, as IOBinding is ORT's)."""

    name, kind = "strata-py", "strata"

    def __init__(self, model_path: Path):
        import strata
        # Its own copy of the file: Strata maps model files, so strata-c (another process) and
        # strata-py would otherwise read the same physical pages, and whichever ran second found
        # the weights in the shared L3 that the other engines' copies had evicted (wide batch 1:
        # strata-py 105 µs against strata-c 141 µs, the same library call).
        copy = model_path.with_name(model_path.stem + ".py-copy" + model_path.suffix)
        if not copy.exists() or copy.stat().st_mtime < model_path.stat().st_mtime:
            shutil.copyfile(model_path, copy)
        self.model = strata.Model(copy)
        self.sessions = {}

    def setup(self, threads):
        self.threads = threads
        if threads not in self.sessions:
            self.sessions[threads] = self.model.session(n_threads=threads)
        self.session = self.sessions[threads]

    def prepare(self, batch, x):
        self.x = np.ascontiguousarray(x, np.float32)
        self.out = np.empty((batch,) + self.model.outputs[0].sample_shape, np.float32)
        self.call = self.session.bind(self.x, self.out)

    def output(self):
        return self.out

    def threads_note(self):
        return StrataC.threads_note(self)

    def close(self):
        for s in self.sessions.values():
            s.close()
        self.model.close()


class StrataPyFrame(StrataPy):
    """As StrataCFrame, through the Python binding: Model.session(stateful=True), bind() once per
    batch size, then bound() per frame."""

    name, kind = "strata-py-frame", "frame"

    def setup(self, threads):
        self.threads = threads
        if threads not in self.sessions:
            self.sessions[threads] = self.model.session(n_threads=threads, stateful=True)
        self.session = self.sessions[threads]

    def prepare(self, batch, x):
        self.x_all = x
        super().prepare(batch, first_frame(x))

    def output(self):
        self.session.reset_state()
        for t in range(self.x_all.shape[1]):
            self.x[...] = self.x_all[:, t:t + 1]
            self.call()
        out = self.out.copy()
        self.session.reset_state()
        self.x[...] = first_frame(self.x_all)
        return out


class OnnxRuntime(Engine):
    """ONNX Runtime (CPU provider): intra_op_num_threads = threads, inter_op 1, sequential,
    all graph optimizations; calls through IOBinding with a preallocated output (its cheapest
    Python path)."""

    def __init__(self, model_path: Path, name="ort", kind="f32"):
        import onnxruntime as ort
        self.ort, self.path, self.name, self.kind = ort, model_path, name, kind
        self.sessions = {}

    def setup(self, threads):
        self.threads = threads
        if threads not in self.sessions:
            ort = self.ort
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.sessions[threads] = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        self.session = self.sessions[threads]
        self.in_name = self.session.get_inputs()[0].name
        self.out_name = self.session.get_outputs()[0].name

    def prepare(self, batch, x):
        self.x = np.ascontiguousarray(x, np.float32)
        n_out = self.session.get_outputs()[0].shape[-1]
        self.out = np.empty((batch, n_out), np.float32)
        binding = self.session.io_binding()
        binding.bind_cpu_input(self.in_name, self.x)
        binding.bind_output(self.out_name, "cpu", element_type=np.float32, shape=self.out.shape,
                            buffer_ptr=self.out.ctypes.data)
        run, self.binding = self.session.run_with_iobinding, binding
        self.call = lambda: run(binding)

    def output(self):
        return self.out


class TFLite(Engine):
    """TensorFlow Lite (ai-edge-litert) with its default XNNPACK delegate, num_threads = threads;
    resize_tensor_input + allocate_tensors once per batch size; set_tensor/invoke/get_tensor per call."""

    name = "tflite"

    def __init__(self, model_path: Path):
        from ai_edge_litert.interpreter import Interpreter
        self.Interpreter, self.path = Interpreter, model_path
        self.interpreters = {}

    def setup(self, threads):
        self.threads = threads
        if threads not in self.interpreters:
            self.interpreters[threads] = self.Interpreter(model_path=str(self.path), num_threads=threads)
        self.interp = self.interpreters[threads]

    def prepare(self, batch, x):
        interp = self.interp
        self.x = np.ascontiguousarray(x, np.float32)
        i_in = interp.get_input_details()[0]["index"]
        interp.resize_tensor_input(i_in, list(self.x.shape), strict=False)
        interp.allocate_tensors()
        i_out = interp.get_output_details()[0]["index"]
        set_tensor, invoke, get_tensor, xx = interp.set_tensor, interp.invoke, interp.get_tensor, self.x
        self.last = None

        def call():
            set_tensor(i_in, xx)
            invoke()
            self.last = get_tensor(i_out)
        self.call = call

    def output(self):
        return self.last


class ExecuTorch(Engine):
    """ExecuTorch (1.5.1) with its XNNPACK delegate: one static-shape .pte per batch size
    (models.export_pte; f32, or int8 from PT2E's XNNPACKQuantizer, dynamic per-channel), loaded
    with Runtime.get().load_program(path).load_method("forward") once per batch size and thread
    count, then method.execute([x]) per call (its cheapest Python call).

    Threads: ExecuTorch has one pool per process, resized by portable_lib._unsafe_reset_threadpool.
    A method loaded before a resize keeps using the old pool (executing it, or freeing it, after
    the resize crashed the process: a pthread mutex assertion), so every ExecuTorch engine drops
    its methods before the pool is resized and loads them again after."""

    live = weakref.WeakSet()  # every ExecuTorch engine not closed
    pool_threads = None       # the pool size as last set

    def __init__(self, pte_paths: dict, name="executorch", kind="f32"):
        from executorch.runtime import Runtime
        self.runtime, self.paths, self.name, self.kind = Runtime.get(), pte_paths, name, kind
        self.methods, self.last, self.call = {}, None, None
        ExecuTorch.live.add(self)

    @classmethod
    def _pool(cls, threads):
        if cls.pool_threads == threads:
            return
        from executorch.extension.pybindings import portable_lib
        for engine in list(cls.live):
            engine._drop()
        gc.collect()
        portable_lib._unsafe_reset_threadpool(threads)
        ExecuTorch.pool_threads = threads

    def _drop(self):
        self.methods.clear()
        self.last = self.call = None

    def setup(self, threads):
        self.threads = threads
        self._pool(threads)

    def unavailable(self, batch):
        return None if batch in self.paths else "no .pte for this batch (its export failed: see the notes)"

    def prepare(self, batch, x):
        import torch
        self._pool(self.threads)
        if batch not in self.methods:
            self.methods[batch] = self.runtime.load_program(str(self.paths[batch])).load_method("forward")
        execute, inputs = self.methods[batch].execute, [torch.from_numpy(np.ascontiguousarray(x, np.float32))]
        self.last = None

        def call():
            self.last = execute(inputs)
        self.call = call

    def output(self):
        return self.last[0].numpy()

    def threads_note(self):
        return "portable_lib._unsafe_reset_threadpool(threads): one pool per process"

    def close(self):
        self._drop()
        ExecuTorch.live.discard(self)


class Torch(Engine):
    """PyTorch eager under torch.inference_mode, torch.set_num_threads(threads)."""

    name = "torch"

    def __init__(self, module):
        import torch
        self.torch, self.module = torch, module

    def setup(self, threads):
        self.threads = threads
        self.torch.set_num_threads(threads)

    def prepare(self, batch, x):
        torch, module = self.torch, self.module
        torch.set_num_threads(self.threads)
        xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
        self.last = None

        def call():
            with torch.inference_mode():
                self.last = module(xt)
        self.call = call

    def output(self):
        return self.last.numpy()
