"""Primitive gadgets: exact against NumPy formulas on dense grids that hold every breakpoint."""

import numpy as np
import pytest

from reluscope import Identity, InvalidParameterError, ReLU
from reluscope import build as B


def _grid(breaks, pad=2.0, n=4001):
    b = np.asarray(breaks, dtype=float)
    x = np.linspace(b.min() - pad, b.max() + pad, n)
    return np.unique(np.concatenate([x, b]))[:, None]


# (builder, target on x of shape (n,), breakpoints, units)
CASES_1D = [
    (B.relu(), lambda x: np.maximum(x, 0), [0.0], 1),
    (B.abs(), np.abs, [0.0], 2),
    (B.clip(-1.0, 2.5), lambda x: np.clip(x, -1.0, 2.5), [-1.0, 2.5], 2),
    (B.hat(-1.0, 0.5, 3.0), lambda x: np.interp(x, [-1.0, 0.5, 3.0], [0.0, 1.0, 0.0]), [-1.0, 0.5, 3.0], 3),
    (
        B.bucket(0.0, 1.0, 2.0, 4.0),
        lambda x: np.interp(x, [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 1.0, 0.0]),
        [0.0, 1.0, 2.0, 4.0],
        4,
    ),
    (B.step(0.01), lambda x: np.clip(x / 0.01, 0.0, 1.0), [0.0, 0.01], 2),
    (B.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x), [0.0], 2),
    (B.leaky_relu(-1.0), np.abs, [0.0], 2),
    (B.leaky_relu(1.0), lambda x: x, [0.0], 2),
    (B.leaky_relu(0.0), lambda x: np.maximum(x, 0), [0.0], 1),
]


@pytest.mark.parametrize(("net", "target", "breaks", "units"), CASES_1D, ids=lambda v: getattr(v, "__name__", ""))
def test_one_dimensional_gadgets_are_exact_and_of_the_stated_size(net, target, breaks, units):
    x = _grid(breaks)
    np.testing.assert_allclose(net(x).ravel(), target(x.ravel()), rtol=0, atol=1e-9)
    assert net.n_units == units and net.depth == 2
    assert isinstance(net.layers[0].activation, ReLU) and isinstance(net.layers[-1].activation, Identity)
    assert net.metadata["units"] == units and "best_known" in net.metadata


def test_step_equals_the_indicator_outside_the_ramp():
    x = np.array([-5.0, -1e-9, 0.0, 0.1, 0.1 + 1e-12, 7.0])[:, None]
    np.testing.assert_array_equal(B.step(0.1)(x).ravel(), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])


def _pairs(rng):
    pts = rng.integers(-4, 5, size=(400, 2)).astype(float)  # many ties
    pts = np.vstack([pts, rng.normal(size=(400, 2)) * 10, [[0.0, 0.0], [1.0, 1.0]]])
    return pts


@pytest.mark.parametrize(("op", "ref"), [("max2", np.max), ("min2", np.min)])
def test_pairwise_max_min_on_the_plane(op, ref, rng):
    pts = _pairs(rng)
    net = getattr(B, op)()
    np.testing.assert_allclose(net(pts).ravel(), ref(pts, axis=1), rtol=0, atol=1e-12)
    assert net.n_units == 3


@pytest.mark.parametrize(("op", "ref"), [("max2", np.max), ("min2", np.min)])
def test_pairwise_max_min_on_a_box_use_two_units(op, ref, rng):
    net = getattr(B, op)(bound=5.0)
    pts = np.vstack([rng.uniform(-5, 5, size=(500, 2)), [[-5.0, -5.0], [5.0, -5.0], [-5.0, 5.0]]])
    np.testing.assert_allclose(net(pts).ravel(), ref(pts, axis=1), rtol=0, atol=1e-12)
    assert net.n_units == 2
    # below the box the cheap carry relu(x + 5) - 5 is no longer exact
    assert net(np.array([-7.0, -7.0]))[0] == -5.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: B.clip(1.0, 1.0),
        lambda: B.hat(0.0, 2.0, 1.0),
        lambda: B.bucket(0.0, 1.0, 1.0, 2.0),
        lambda: B.step(0.0),
        lambda: B.step(float("nan")),
        lambda: B.leaky_relu("a"),
        lambda: B.max2(bound=-1.0),
    ],
)
def test_bad_parameters_raise(call):
    with pytest.raises(InvalidParameterError):
        call()


def test_error_message_names_the_arguments():
    with pytest.raises(InvalidParameterError, match="a < b < c; got a=0.0, b=2.0, c=1.0"):
        B.hat(0.0, 2.0, 1.0)
