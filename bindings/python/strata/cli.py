"""``strata-py`` — the command-line tool, through the Python bindings (installed by pip under
this name so that it never shadows the native ``strata`` tool).

Mirrors the native ``strata`` tool (Sources/StrataCLI) on what the C ABI exposes:

    strata-py info FILE                    file size, metadata, labels, inputs and outputs
    strata-py run FILE [--input PATH] [--raw] [--output PATH.npy] [--top1] [--batch-size N]
                                           reads samples (a .npy array, or raw little-endian f32
                                           with --raw; standard input or PATH) and prints one line
                                           of outputs per sample, or with --top1
                                           "<i>: <class> <label>", or writes them as .npy
    strata-py --version

Exit status: 0 on success, 2 on a usage error or a failed Strata call (with the library's
message and status on standard error), like the native tool. The layer list and execution plan
of the native ``strata info`` are not part of the C ABI, so this one does not print them.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from typing import List, Optional, Sequence

import numpy as np

from . import __version__
from .batching import DEFAULT_BATCH_SIZE, iter_batches, run_batched
from .model import Model, StrataError, version


def _shape(shape: Sequence) -> str:
    return "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"


def _info(path: str, out) -> None:
    with Model(path) as model:
        out.write(f"file:        {path} ({os.path.getsize(path)} bytes)\n")
        for key in ("producer", "producer_version", "source", "name", "description"):
            value = model.metadata(key)
            if value is not None:
                out.write(f"{key + ':':<13}{value}\n")
        labels = model.class_labels
        if labels is not None:
            out.write(f"labels:      {', '.join(labels)}\n")
        for tensor in model.inputs:
            out.write(f"input:       {tensor.name} {_shape(tensor.shape)} f32\n")
        for tensor in model.outputs:
            out.write(f"output:      {tensor.name} {_shape(tensor.shape)} f32\n")


def _read_input(path: Optional[str]) -> bytes:
    if path is None:
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


_NPY_MAGIC = b"\x93NUMPY"


def _samples(data: bytes, raw: bool, source: str, model: Model) -> np.ndarray:
    """The samples as (N, *sample_shape) float32: a .npy array, or raw f32 with ``raw`` (a whole
    number of samples); exits with the native tool's sentence otherwise."""
    info = model.inputs[0]
    sample = tuple(info.sample_shape)
    per_sample = int(np.prod(sample, dtype=np.int64))
    if raw:
        if data.startswith(_NPY_MAGIC):
            raise SystemExit(f"strata: {source} is a .npy file, not raw f32; drop --raw to read it as .npy")
        if not data or len(data) % (4 * per_sample):
            raise SystemExit(
                f"strata: input has {len(data)} bytes; expected a positive multiple of "
                f"{4 * per_sample} ({per_sample} little-endian f32 per sample of "
                f"'{info.name}' {_shape(info.shape)})")
        return np.frombuffer(data, dtype="<f4").reshape((-1,) + sample)
    if not data.startswith(_NPY_MAGIC):
        raise SystemExit(f"strata: {source} is not a .npy file ({len(data)} bytes without the \\x93NUMPY magic); "
                         "save the samples with numpy.save, or pass --raw for raw little-endian f32")
    try:
        x = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        raise SystemExit(f"strata: {source}: {e}")
    if x.dtype not in (np.float32, np.float64):
        raise SystemExit(f"strata: {source}: .npy dtype '{x.dtype.str}' is not supported; save float32 or float64")
    if x.shape == sample:
        x = x[None]
    if x.shape[1:] != sample or x.shape[0] < 1:
        raise SystemExit(f"strata: {source} holds an array of shape {_shape(x.shape)}; the model expects "
                         f"'{info.name}' {_shape(info.shape)} (N samples) or one sample {_shape(sample)}")
    return np.ascontiguousarray(x, dtype=np.float32)


def _run(path: str, input_path: Optional[str], top1: bool, batch_size: int, out, raw: bool = False,
         output_path: Optional[str] = None) -> None:
    with Model(path) as model:
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise SystemExit(f"strata: 'run' handles models with one input and one output; this one "
                             f"has {len(model.inputs)} and {len(model.outputs)}")
        sample = model.inputs[0].sample_shape
        per_sample = int(np.prod(sample, dtype=np.int64))
        try:
            data = _read_input(input_path)
        except OSError as e:
            raise SystemExit(f"strata: cannot open '{input_path}': {e.strerror}")
        x = _samples(data, raw, input_path or "standard input", model)
        labels = model.class_labels
        row = 0
        session = model.session(initial_batch=min(batch_size, x.shape[0]))
        if output_path is not None:
            np.save(output_path, run_batched(session, x, batch_size))
            if not top1:
                return
        for chunk in iter_batches(x, batch_size):
            y = session.run(chunk).reshape(len(chunk), -1)
            for values in y:
                if top1:
                    best = int(np.argmax(values))
                    label = f" {labels[best]}" if labels is not None and best < len(labels) else ""
                    out.write(f"{row}: {best}{label}\n")
                else:
                    out.write(" ".join(str(v) for v in values) + "\n")
                row += 1


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``strata-py`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(prog="strata-py", description="Inspect and run .strata models "
                                     "(the Python bindings' mirror of the native `strata` tool).")
    parser.add_argument("--version", action="store_true", help="print the versions and exit")
    commands = parser.add_subparsers(dest="command")
    info = commands.add_parser("info", help="inputs, outputs, metadata, file size")
    info.add_argument("file")
    run = commands.add_parser("run", help="read samples (.npy), print outputs")
    run.add_argument("file")
    run.add_argument("--input", metavar="PATH", help="read samples from PATH instead of standard input")
    run.add_argument("--raw", action="store_true", help="the input is raw little-endian f32, not .npy")
    run.add_argument("--output", metavar="PATH.npy", help="write the outputs as .npy instead of printing them")
    run.add_argument("--top1", action="store_true", help="print the predicted class (and label) only")
    run.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                     help=f"samples per call (default {DEFAULT_BATCH_SIZE})")
    args = parser.parse_args(argv)
    try:
        if args.version:
            print(f"strata {__version__} (Python bindings; libstrata {version()})")
        elif args.command == "info":
            _info(args.file, sys.stdout)
        elif args.command == "run":
            if args.batch_size < 1:
                parser.error("--batch-size must be at least 1")
            _run(args.file, args.input, args.top1, args.batch_size, sys.stdout, args.raw, args.output)
        else:
            parser.print_usage(sys.stderr)
            return 2
    except StrataError as e:
        print(f"strata: {args.file if getattr(args, 'file', None) else ''}: {e.message} "
              f"[{e.status_name}]", file=sys.stderr)
        return 2
    except OSError as e:  # the library itself could not be found or loaded
        print(f"strata: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 2
        raise
    except BrokenPipeError:  # e.g. `strata run ... | head`
        return 0
    return 0


if __name__ == "__main__":  # python -m strata.cli
    sys.exit(main())
