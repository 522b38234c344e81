"""Session.bind: a session bound to one input and one output array, for loops over the same buffers."""
import numpy as np
import pytest
import torch

import strata
from helpers import convert, needs_library
from models import seeded, sequential

pytestmark = needs_library


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return convert(seeded(sequential), torch.zeros(1, 1, 28, 28), tmp_path_factory.mktemp("bind") / "m.strata")


@pytest.fixture
def model(path):
    with strata.Model(path) as model:
        yield model


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (1, 28, 28)])
def test_bound_run_equals_run_and_follows_input_written_in_place(model, shape):
    rng = np.random.default_rng(5)
    session = model.session()
    x = rng.standard_normal(shape, dtype=np.float32)
    bound = session.bind(x)
    assert bound.input is x and bound.output.shape == ((shape[0], 10) if len(shape) == 4 else (10,))
    for _ in range(3):
        x[...] = rng.standard_normal(shape, dtype=np.float32)  # a new frame, same buffer
        got = bound()
        assert got is bound.output
        assert np.array_equal(got, model.run(x))


def test_bind_uses_the_given_output_array(model):
    session = model.session()
    x = np.zeros((2, 1, 28, 28), np.float32)
    out = np.full((2, 10), np.nan, np.float32)
    assert session.bind(x, out)() is out and not np.isnan(out).any()


def test_read_only_input_is_accepted(model):
    x = np.ones((2, 1, 28, 28), np.float32)
    x.flags.writeable = False
    assert np.array_equal(model.session().bind(x)(), model.run(x))


@pytest.mark.parametrize("bad, fragment", [
    (np.zeros((2, 1, 28, 28), np.float64), "C-contiguous float32"),
    (np.zeros((2, 1, 28, 56), np.float32)[..., ::2], "C-contiguous float32"),
    ([[0.0] * 784], "C-contiguous float32"),
    (np.zeros((2, 784), np.float32), "has shape (2, 784)"),
    (np.zeros((0, 1, 28, 28), np.float32), "has shape (0, 1, 28, 28)"),
])
def test_bind_refuses_what_it_cannot_use_in_place(model, bad, fragment):
    with pytest.raises(strata.StrataError) as e:
        model.session().bind(bad)
    assert fragment in str(e.value)


def test_bind_checks_the_output_array(model):
    x = np.zeros((2, 1, 28, 28), np.float32)
    for out in (np.zeros((3, 10), np.float32), np.zeros((2, 10), np.float64), np.zeros((10, 2), np.float32).T):
        with pytest.raises(strata.StrataError, match="out must be"):
            model.session().bind(x, out)


def test_a_closed_session_is_an_error_not_a_crash(model):
    session = model.session()
    bound = session.bind(np.zeros((1, 28, 28), np.float32))
    session.close()
    with pytest.raises(strata.StrataError, match="closed"):
        bound()
    with pytest.raises(strata.StrataError, match="closed"):
        session.bind(np.zeros((1, 28, 28), np.float32))


def test_closing_the_model_closes_bound_sessions(path):
    model = strata.Model(path)
    bound = model.session().bind(np.zeros((1, 28, 28), np.float32))
    model.close()
    with pytest.raises(strata.StrataError, match="closed"):
        bound()
