"""The Python half of `make soak`: threads sharing one `strata.Model`, and (on purpose) one
`strata.Session`, every OK result checked against a single-threaded reference.

    python tools/soak/python_soak.py SECONDS THREADS MODEL.strata...

For each model, in turn, for SECONDS / len(models):
  - THREADS threads call `model.run` on one shared Model with random batches (1…64): the
    documented thread-safe path, every result must equal the reference bit for bit;
  - two more threads share one Session (the misuse the in-use flag catches): each run must return
    the reference's bits or raise StrataError with status SESSION_BUSY, nothing else.
Prints runs, busy rejections, wrong outputs, unexpected errors and RSS per model and in total;
exits 1 if any output was wrong or any error unexpected.
"""
import random
import resource
import sys
import threading
import time

import numpy as np
import strata
from strata._lib import STRATA_STATUS_SESSION_BUSY

MAX_BATCH = 64


class Counts:
    """Counters shared by the threads of one model's phase (guarded by one lock)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs = self.busy = self.wrong = self.unexpected = 0

    def add(self, **kw):
        with self.lock:
            for key, value in kw.items():
                setattr(self, key, getattr(self, key) + value)


def _inputs(model):
    """A fixed batch of MAX_BATCH pseudo-random samples for the model's one input."""
    shape = [MAX_BATCH if d in (-1, None) else d for d in model.inputs[0].shape]
    shape[0] = MAX_BATCH
    return np.random.default_rng(7).uniform(-1, 1, shape).astype(np.float32)


def _worker(run, busy_allowed, x, reference, deadline, counts, seed):
    """Calls `run` on random batches until `deadline`, counting OK runs, wrong outputs and errors;
    SESSION_BUSY counts as a rejection when `busy_allowed` (a shared Session), else as a failure."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        b = rng.randint(1, MAX_BATCH)
        try:
            y = run(x[:b])
        except Exception as e:  # noqa: BLE001 - any other error is a failure
            if busy_allowed and isinstance(e, strata.StrataError) and e.status == STRATA_STATUS_SESSION_BUSY:
                counts.add(busy=1)
            else:
                counts.add(unexpected=1)
                print(f"python soak: FAILURE {'shared Session' if busy_allowed else 'shared Model'}.run: {e!r}",
                      file=sys.stderr)
            continue
        counts.add(runs=1, wrong=int(not np.array_equal(y, reference[:b])))


def soak_one(path, seconds, n_threads):
    """Runs both loads on one model for `seconds`; returns its Counts."""
    model = strata.Model(path)
    x = _inputs(model)
    reference = model.session().run(x)
    session = model.session()
    counts = Counts()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_worker, args=(model.run, False, x, reference, deadline, counts, i))
               for i in range(n_threads)]
    threads += [threading.Thread(target=_worker, args=(session.run, True, x, reference, deadline, counts, 100 + i))
                for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    session.close()
    model.close()
    return counts


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    seconds, n_threads, paths = float(argv[1]), int(argv[2]), argv[3:]
    totals = Counts()
    for path in paths:
        c = soak_one(path, seconds / len(paths), n_threads)
        totals.add(runs=c.runs, busy=c.busy, wrong=c.wrong, unexpected=c.unexpected)
        print(f"python soak: {path}: runs {c.runs} busy {c.busy} wrong {c.wrong} unexpected errors {c.unexpected}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"python soak: done: {len(paths)} models, {n_threads} threads on a shared Model + 2 on a shared Session: "
          f"runs {totals.runs} busy {totals.busy} wrong outputs with OK {totals.wrong} "
          f"unexpected errors {totals.unexpected}; peak RSS {rss} KiB")
    return 0 if totals.wrong == 0 and totals.unexpected == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
