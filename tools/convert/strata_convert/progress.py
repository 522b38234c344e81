"""Progress on stderr while the converter works: each stage's name when it starts, and how long it
took when it ends, so a long conversion (a large ONNX model's --verify, self-test samples) is never
silent. stdout keeps the summary only.

    with progress.stage("verifying against ONNX Runtime"):
        ...

prints `strata-convert [  1.2 s]: verifying against ONNX Runtime …` and then `… done in 12.3 s`
(the time since the converter started in brackets). STRATA_CONVERT_QUIET=1 turns it off.
"""
import contextlib
import os
import sys
import time

_START = time.monotonic()


def _enabled() -> bool:
    return os.environ.get("STRATA_CONVERT_QUIET", "") in ("", "0")


def note(text: str) -> None:
    """One progress line on stderr, with the time since the converter started."""
    if _enabled():
        print(f"strata-convert [{time.monotonic() - _START:6.1f} s]: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stage(name: str):
    """Announces a stage on stderr, then how long it took. A failing stage adds no line: its
    error is the next thing the converter prints."""
    note(f"{name} …")
    started = time.monotonic()
    yield
    note(f"{name}: done in {time.monotonic() - started:.1f} s")


def nothing():
    """A stage that prints nothing (for `with stage(...) if ... else nothing():`)."""
    return contextlib.nullcontext()
