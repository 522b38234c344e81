"""One Model shared by threads, each with its own Session: results equal single-threaded runs
bit for bit."""
import threading

import numpy as np
import pytest

import strata
from helpers import needs_library

pytestmark = needs_library

N_THREADS = 4
ROUNDS = 25


def test_sessions_per_thread_are_bitwise_equal(seed_mnist):
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((n, 784), dtype=np.float32) for n in (1, 7, 64, 257, 3)]
    expected = [seed_mnist.run(x) for x in inputs]
    barrier = threading.Barrier(N_THREADS)
    failures = []

    def worker(index):
        try:
            with seed_mnist.session() as session:
                barrier.wait()
                for r in range(ROUNDS):
                    order = np.roll(np.arange(len(inputs)), index + r)  # threads mix batch sizes
                    for i in order:
                        got = session.run(inputs[i])
                        if not np.array_equal(got, expected[i]):
                            failures.append((index, r, int(i)))
                            return
        except Exception as e:  # reported below, not lost in the thread
            failures.append((index, repr(e)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures


def test_models_loaded_concurrently(seed_mnist):
    """Loading and freeing models on several threads at once (loading is independent per model)."""
    data = open(seed_mnist.path, "rb").read()
    x = np.ones((2, 784), np.float32)
    expected = seed_mnist.run(x)
    failures = []

    def worker():
        try:
            for _ in range(20):
                with strata.Model.from_bytes(data) as m:
                    if not np.array_equal(m.run(x), expected):
                        failures.append("mismatch")
        except Exception as e:
            failures.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures


def test_errors_are_per_thread(seed_mnist, tmp_path):
    """strata_last_error() is thread-local: concurrent failures keep their own messages."""
    failures = []

    def worker(index):
        try:
            for _ in range(50):
                name = tmp_path / f"missing-{index}.strata"
                try:
                    strata.Model(name)
                except strata.StrataError as e:
                    if f"missing-{index}.strata" not in e.message:
                        failures.append(e.message)
        except Exception as e:
            failures.append(repr(e))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
