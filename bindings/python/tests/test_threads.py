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


def _shared_calls(n_threads, runs, call, inputs, expected):
    """Runs ``call(i)`` ``runs`` times on each of ``n_threads`` threads (started together, batch
    sizes mixed); returns (right, wrong, busy, other errors)."""
    barrier = threading.Barrier(n_threads)
    counts = [[0, 0, 0, []] for _ in range(n_threads)]

    def worker(index):
        c = counts[index]
        barrier.wait()
        for r in range(runs):
            i = (index + r) % len(inputs)
            try:
                got = call(i)
            except strata.StrataError as e:
                if e.status_name == "SESSION_BUSY":
                    c[2] += 1
                else:
                    c[3].append(repr(e))
                continue
            except Exception as e:  # reported below, not lost in the thread
                c[3].append(repr(e))
                continue
            if np.array_equal(got, expected[i]):
                c[0] += 1
            else:
                c[1] += 1

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (sum(c[0] for c in counts), sum(c[1] for c in counts), sum(c[2] for c in counts),
            [e for c in counts for e in c[3]])


def test_model_run_shared_by_8_threads_is_exact(seed_mnist):
    """The issue-19 case: one Model, 8 threads calling run / __call__ / run_all at once; every call
    returns exactly the single-threaded result (before: ~16 % wrong outputs, no error)."""
    rng = np.random.default_rng(19)
    inputs = [rng.standard_normal((n, 784), dtype=np.float32) for n in (1, 3, 17, 64, 100)]
    with strata.Model(seed_mnist.path) as model:
        expected = [model.run(x) for x in inputs]
        name = model.outputs[0].name
        calls = (lambda i: model.run(inputs[i]), lambda i: model(inputs[i]),
                 lambda i: model.run_all([inputs[i]])[name])
        right, wrong, busy, errors = _shared_calls(
            8, 150, lambda i: calls[i % 3](i), inputs, expected)
        assert (wrong, busy, errors) == (0, 0, []) and right == 8 * 150
        assert 1 <= model.pooled_sessions <= 8  # made on demand, one per concurrent caller at most
    assert model.pooled_sessions == 0  # freed with the model


def test_session_shared_by_2_threads_never_returns_a_wrong_result(seed_mnist):
    """A Session used by two threads at once (against its rule): a call either returns the right
    result or raises SESSION_BUSY; never a wrong output."""
    rng = np.random.default_rng(20)
    inputs = [rng.standard_normal((n, 784), dtype=np.float32) for n in (1, 5, 64, 200)]
    expected = [seed_mnist.run(x) for x in inputs]
    with seed_mnist.session() as session:
        right, wrong, busy, errors = _shared_calls(2, 1000, lambda i: session.run(inputs[i]), inputs, expected)
    assert wrong == 0 and errors == [], (wrong, errors[:3])
    assert right + busy == 2000 and right > 0


def test_model_closed_while_other_threads_run(seed_mnist):
    """close() racing run(): runs in flight finish (right result) or raise 'closed'; every pooled
    session is freed, and nothing crashes."""
    x = np.ones((32, 784), np.float32)
    expected = seed_mnist.run(x)
    for _ in range(5):
        model = strata.Model(seed_mnist.path)
        started = threading.Barrier(5)
        results = []

        def worker():
            started.wait()
            for _ in range(50):
                try:
                    results.append(np.array_equal(model.run(x), expected))
                except strata.StrataError as e:
                    results.append("closed" in e.message)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        started.wait()
        model.close()
        for t in threads:
            t.join()
        assert all(results) and model.pooled_sessions == 0
