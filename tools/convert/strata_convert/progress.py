"""Progress on stderr while the converter works: each stage's name when it starts, and how long it
took when it ends, so a long conversion (a large ONNX model's --verify, self-test samples) is never
silent. stdout keeps the summary only.

    with progress.stage("verifying against ONNX Runtime"):
        ...

prints `strata-convert [  1.2 s]: verifying against ONNX Runtime …` and then `… done in 12.3 s`
(the time since the converter started in brackets). STRATA_CONVERT_QUIET=1 turns it off.

Long loops inside a stage (the numpy reference's nodes, self-test sample chunks) draw a bar:

    with progress.bar("numpy reference", len(graph.nodes), "nodes") as advance:
        for node in graph.nodes: ...; advance()

It appears only when the loop outlasts BAR_DELAY seconds (large models), on a terminal
(STRATA_CONVERT_PROGRESS=1 draws it anywhere, at once), redrawn at most ten times a second.
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


BAR_DELAY = 0.5
BAR_WIDTH = 30


@contextlib.contextmanager
def bar(name: str, total: int, unit: str = ""):
    """Yields `advance(k=1)`, which counts k more of `total` steps and redraws the bar on stderr
    (see the module docstring for when it is drawn). The bar's last state stays on its own line."""
    forced = os.environ.get("STRATA_CONVERT_PROGRESS", "") not in ("", "0")
    shown = _enabled() and total > 0 and (forced or sys.stderr.isatty())
    started = time.monotonic()
    state = {"done": 0, "drawn_at": None}

    def draw(final: bool = False) -> None:
        done = state["done"]
        filled = BAR_WIDTH * done // total
        line = (f"strata-convert [{time.monotonic() - _START:6.1f} s]: {name} "
                f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}{' ' + unit if unit else ''}")
        print("\r" + line, end="\n" if final else "", file=sys.stderr, flush=True)
        state["drawn_at"] = time.monotonic()

    def advance(k: int = 1) -> None:
        state["done"] = min(total, state["done"] + k)
        if not shown:
            return
        now = time.monotonic()
        if state["drawn_at"] is None:
            if forced or now - started >= BAR_DELAY:
                draw()
        elif now - state["drawn_at"] >= 0.1:
            draw()

    try:
        yield advance
    finally:
        if shown and state["drawn_at"] is not None:
            draw(final=True)
