"""1-D builders: interpolate (Arora et al. Thm 2.2 sizes) and approximate (measured errors)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluscope import InvalidParameterError, NonFiniteError, ShapeError
from reluscope.build import approximate, interpolate


def _dense(xs, pad=1.0, n=2001):
    """A dense grid over [xs[0] - pad, xs[-1] + pad] that contains every knot."""
    return np.unique(np.concatenate([np.linspace(xs[0] - pad, xs[-1] + pad, n), xs]))


def _linear_extrapolation(x, xs, ys):
    """The PWL interpolant with its first and last segments extended (written from scratch)."""
    out = np.interp(x, xs, ys)
    s0 = (ys[1] - ys[0]) / (xs[1] - xs[0])
    s1 = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    out = np.where(x < xs[0], ys[0] + s0 * (x - xs[0]), out)
    return np.where(x > xs[-1], ys[-1] + s1 * (x - xs[-1]), out)


@st.composite
def knots(draw, min_seg=1, max_seg=10):
    """Unit-scale data: at the knots the rounding error stays far below 1e-12.

    (The ReLU sum at ``x_j`` adds terms ``c_k (x_j - x_k)`` as large as slope changes
    times the span; ``test_interpolate_wide_data_is_exact_to_rounding`` covers large ones.)
    """
    n = draw(st.integers(min_seg, max_seg))
    gaps = draw(st.lists(st.floats(0.2, 1.5), min_size=n, max_size=n))
    x0 = draw(st.floats(-2, 2))
    xs = x0 + np.concatenate([[0.0], np.cumsum(gaps)])
    ys = np.array(draw(st.lists(st.floats(-2, 2), min_size=n + 1, max_size=n + 1)))
    return xs, ys


@settings(max_examples=60, deadline=None)
@given(knots(min_seg=2))
def test_interpolate_linear_uses_exactly_n_units_and_matches(data):
    xs, ys = data
    net = interpolate(xs, ys, extrapolate="linear")
    n_seg = len(xs) - 1
    assert net.hidden_widths == (n_seg,)
    np.testing.assert_allclose(net(xs[:, None]).ravel(), ys, rtol=0, atol=1e-12)
    x = _dense(xs)
    np.testing.assert_allclose(net(x[:, None]).ravel(), _linear_extrapolation(x, xs, ys), rtol=0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(knots(min_seg=1))
def test_interpolate_constant_uses_n_plus_one_units_and_matches(data):
    xs, ys = data
    net = interpolate(xs, ys, extrapolate="constant")
    assert net.hidden_widths == (len(xs),)  # N + 1 = p - 1 for p = N + 2 pieces
    np.testing.assert_allclose(net(xs[:, None]).ravel(), ys, rtol=0, atol=1e-12)
    x = _dense(xs)
    np.testing.assert_allclose(net(x[:, None]).ravel(), np.interp(x, xs, ys), rtol=0, atol=1e-9)


@pytest.mark.parametrize("extrapolate", ["linear", "constant"])
def test_interpolate_wide_data_is_exact_to_rounding(extrapolate, rng):
    xs = np.cumsum(rng.uniform(0.01, 5.0, size=40)) - 50.0
    ys = rng.uniform(-100, 100, size=40)
    net = interpolate(xs, ys, extrapolate=extrapolate)
    # rounding bound: a few ulps of each term c_k (x_j - x_k), at most max|c| * span, summed over the units
    c = np.abs(net.layers[1].weight)
    tol = 4e-16 * net.n_units * (c.max() * (xs[-1] - xs[0]) + np.abs(ys).max())
    np.testing.assert_allclose(net(xs[:, None]).ravel(), ys, rtol=0, atol=tol)


def test_interpolate_pieces_agree_with_the_region_engine(rng):
    from reluscope.regions import on_segment

    for n_seg in (1, 2, 5, 17):
        xs = np.cumsum(rng.uniform(0.5, 1.0, n_seg + 1))
        ys = rng.normal(size=n_seg + 1)
        lin = on_segment(interpolate(xs, ys), [xs[0] - 1], [xs[-1] + 1])
        assert lin.n_linear_regions == n_seg
        const = on_segment(interpolate(xs, ys, extrapolate="constant"), [xs[0] - 1], [xs[-1] + 1])
        assert const.n_linear_regions == n_seg + 2


def test_interpolate_slopes_between_knots_are_the_segment_slopes():
    xs = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    ys = np.array([1.0, -1.0, 2.0, 2.0, 0.0])
    net = interpolate(xs, ys)
    # midpoints: the network is affine on each segment with the chord's slope
    a, b = xs[:-1] + 1e-3, xs[1:] - 1e-3
    slopes = (net(b[:, None]) - net(a[:, None])).ravel() / (b - a)
    np.testing.assert_allclose(slopes, np.diff(ys) / np.diff(xs), rtol=1e-9)
    assert net.metadata["pieces"] == 4 and net.metadata["units"] == 4


def test_interpolate_single_segment_is_affine():
    net = interpolate([1.0, 3.0], [0.0, 4.0])
    assert net.n_units == 0 and net.depth == 1
    np.testing.assert_allclose(net(np.array([[0.0], [5.0]])).ravel(), [-2.0, 8.0])


def test_interpolate_collinear_points_keep_their_units():
    net = interpolate([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0])
    assert net.n_units == 3
    np.testing.assert_allclose(net(np.array([[-1.0], [4.0]])).ravel(), [-1.0, 4.0], atol=1e-12)


@pytest.mark.parametrize(
    ("xs", "ys", "kw", "err"),
    [
        ([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], {}, InvalidParameterError),
        ([0.0, 2.0, 1.0], [0.0, 1.0, 2.0], {}, InvalidParameterError),
        ([0.0, 1.0], [0.0], {}, ShapeError),
        ([0.0], [0.0], {}, InvalidParameterError),
        ([0.0, np.nan], [0.0, 1.0], {}, NonFiniteError),
        ([0.0, 1.0], [0.0, 1.0], {"extrapolate": "cubic"}, InvalidParameterError),
    ],
)
def test_interpolate_rejects_bad_input(xs, ys, kw, err):
    with pytest.raises(err):
        interpolate(xs, ys, **kw)


def test_interpolate_error_names_the_argument():
    with pytest.raises(InvalidParameterError, match="'xs' must be strictly increasing"):
        interpolate([0.0, 2.0, 1.0], [0.0, 1.0, 2.0])


# ---------------------------------------------------------------------- approximate
def test_approximate_pieces_mode_measures_its_error():
    res = approximate(np.sqrt, 0.0, 1.0, pieces=10, n_grid=4001)
    assert res.n_pieces == 10 and res.network.hidden_widths == (10,)
    assert res.knots[0] == 0.0 and res.knots[-1] == 1.0
    np.testing.assert_allclose(res.values, np.sqrt(res.knots), rtol=0, atol=0)
    # the reported error is the measured one on the grid (which contains every knot)
    assert set(res.knots).issubset(set(res.grid))
    measured = np.max(np.abs(res.network(res.grid[:, None]).ravel() - np.sqrt(res.grid)))
    assert res.max_error == pytest.approx(measured, rel=0, abs=1e-15)
    # uniform knots: the chord of sqrt on [0, h] errs by sqrt(h)/4 at x = h/4 (calculus), h = 1/N
    assert res.uniform_error == pytest.approx(1 / (4 * math.sqrt(10)), rel=1e-3)
    assert res.max_error < res.uniform_error / 4


def test_approximate_square_matches_the_uniform_optimum():
    # for x^2 the interpolant on N uniform segments errs by 1/(4N)^2 * 4 = 1/(4 N^2) at the midpoints
    n = 8
    res = approximate(np.square, 0.0, 1.0, pieces=n, n_grid=16 * n + 1)
    assert res.uniform_error == pytest.approx(1 / (4 * n * n), rel=1e-9)
    assert res.max_error <= res.uniform_error * (1 + 1e-9)


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
def test_approximate_max_error_mode_meets_the_target(eps):
    res = approximate(np.sin, 0.0, 2 * np.pi, max_error=eps)
    assert res.max_error <= eps
    # check on an independent, 3x finer grid: between grid points the error can grow only a little
    x = np.linspace(0, 2 * np.pi, 30001)
    err = np.max(np.abs(res.network(x[:, None]).ravel() - np.sin(x)))
    assert err <= eps * 1.01
    # fewer pieces than the uniform count needed for the same error: N >= 2 pi / sqrt(8 eps)
    assert res.n_pieces <= math.ceil(2 * np.pi / math.sqrt(8 * eps)) + 1


def test_approximate_accepts_scalar_callables_and_kinks():
    res = approximate(lambda t: abs(math.sin(3 * t)), -1.0, 1.0, pieces=12, n_grid=2001)
    assert res.n_pieces == 12
    x = np.linspace(-1, 1, 2001)
    err = np.max(np.abs(res.network(x[:, None]).ravel() - np.abs(np.sin(3 * x))))
    assert err == pytest.approx(res.max_error, abs=1e-12)


@pytest.mark.parametrize(
    ("kw", "err"),
    [
        ({}, InvalidParameterError),
        ({"pieces": 3, "max_error": 0.1}, InvalidParameterError),
        ({"pieces": 0}, InvalidParameterError),
        ({"max_error": -1.0}, InvalidParameterError),
        ({"pieces": 10, "n_grid": 5}, InvalidParameterError),
    ],
)
def test_approximate_rejects_bad_options(kw, err):
    with pytest.raises(err):
        approximate(np.sin, 0.0, 1.0, **kw)


def test_approximate_rejects_bad_interval_and_non_finite_f():
    with pytest.raises(InvalidParameterError, match="lo < hi"):
        approximate(np.sin, 1.0, 1.0, pieces=2)
    with pytest.raises(NonFiniteError):
        approximate(lambda x: np.where(x > 0.5, np.inf, x), 0.0, 1.0, pieces=2)
