"""Sawtooth, Yarotsky's square and product: piece counts and errors measured against formulas."""

import numpy as np
import pytest

from reluscope import InvalidParameterError
from reluscope.build import (
    depth_vs_width,
    interpolate,
    multiply,
    sawtooth,
    sawtooth_breakpoints,
    shallow_sawtooth,
    square,
)


def _tent_iterate(y, L):
    """m(y) = 1 - |2y - 1| applied L times (the tent map, written independently)."""
    for _ in range(L):
        y = 1.0 - np.abs(2.0 * y - 1.0)
    return y


@pytest.mark.parametrize("L", range(1, 13))
def test_sawtooth_has_exactly_two_to_the_L_pieces(L):
    net = sawtooth(L)
    assert net.n_units == 2 * L and net.depth == L + 1 and net.hidden_widths == (2,) * L
    # analytic kinks: -2 + 4k / 2^L, k = 1 .. 2^L - 1; ends of the interval and points outside
    kinks = -2.0 + 4.0 * np.arange(1, 2**L) / 2**L
    pts = np.concatenate([[-3.0, -2.0], kinks, [2.0, 3.0]])
    y = net(pts[:, None]).ravel()
    # values alternate 2, -2, 2, ... from x = -2 to x = 2
    np.testing.assert_allclose(y[1:-1], 2.0 * (-1.0) ** np.arange(2**L + 1), rtol=0, atol=1e-9)
    # affine between consecutive points: midpoints lie on the chords
    mids = 0.5 * (pts[:-1] + pts[1:])
    np.testing.assert_allclose(net(mids[:, None]).ravel(), 0.5 * (y[:-1] + y[1:]), rtol=0, atol=1e-9)
    # and a quarter of the way along
    q = 0.75 * pts[:-1] + 0.25 * pts[1:]
    np.testing.assert_allclose(net(q[:, None]).ravel(), 0.75 * y[:-1] + 0.25 * y[1:], rtol=0, atol=1e-9)
    slopes = np.diff(y) / np.diff(pts)
    # the outer pieces continue the first/last ones; consecutive pieces inside differ
    np.testing.assert_allclose(slopes[[0, -1]], slopes[[1, -2]], rtol=1e-12)
    inner = slopes[1:-1]
    np.testing.assert_allclose(np.abs(inner), 2.0**L, rtol=1e-9)
    assert np.all(inner[:-1] != inner[1:])
    assert len(inner) == 2**L  # pieces on R (the outer ones merge with their neighbours)


@pytest.mark.parametrize("L", range(1, 13))
def test_sawtooth_pieces_agree_with_the_region_engine(L):
    from reluscope.regions import on_segment

    r = on_segment(sawtooth(L), [-2.0], [2.0])
    assert r.n_linear_regions == 2**L
    np.testing.assert_allclose(-2.0 + 4.0 * r.linear_edges[1:-1], -2.0 + 4.0 * np.arange(1, 2**L) / 2**L,
                               rtol=0, atol=1e-9)
    assert on_segment(shallow_sawtooth(min(L, 8)), [-3.0], [3.0]).n_linear_regions == 2 ** min(L, 8)


def test_sawtooth_breakpoints_helper_matches_the_formula():
    np.testing.assert_array_equal(sawtooth_breakpoints(3), -2.0 + 0.5 * np.arange(1, 8))


@pytest.mark.parametrize("L", [1, 2, 5, 9])
def test_sawtooth_is_conjugate_to_the_tent_map(L):
    y = np.arange(0, 1025) / 1024.0
    f = sawtooth(L)((4 * y - 2)[:, None]).ravel()
    np.testing.assert_allclose(f, 2.0 - 4.0 * _tent_iterate(y, L), rtol=0, atol=1e-9)


@pytest.mark.parametrize("L", range(1, 11))
def test_shallow_sawtooth_equals_the_deep_one_on_R(L):
    deep, shallow = sawtooth(L), shallow_sawtooth(L)
    assert shallow.hidden_widths == (2**L,)
    x = np.concatenate([np.linspace(-5, 5, 4001), -2.0 + 4.0 * np.arange(2**L + 1) / 2**L])[:, None]
    np.testing.assert_allclose(shallow(x), deep(x), rtol=0, atol=1e-9 * 2**L)


@pytest.mark.parametrize("m", range(1, 9))
def test_square_error_is_the_yarotsky_bound(m):
    net = square(m)
    assert net.depth == m + 1 and net.n_units == 3 * m - 1
    knots = np.arange(2**m + 1) / 2**m
    mids = (knots[:-1] + knots[1:]) / 2
    x = np.unique(np.concatenate([np.linspace(0, 1, 20001), knots, mids]))
    y = net(x[:, None]).ravel()
    # it is the PWL interpolant of x^2 at k / 2^m (Yarotsky Prop. 2)
    np.testing.assert_allclose(y, np.interp(x, knots, knots**2), rtol=0, atol=1e-9)
    err = np.max(np.abs(y - x**2))
    assert err <= 2.0 ** (-2 * m - 2) + 1e-15
    assert err == pytest.approx(2.0 ** (-2 * m - 2), rel=1e-9)  # attained at the midpoints


@pytest.mark.parametrize(("m", "M"), [(1, 1.0), (3, 2.0), (6, 0.5)])
def test_square_on_a_symmetric_interval(m, M):
    net = square(m, bound=M)
    assert net.n_units == 3 * m + 1 and net.depth == m + 1
    knots = M * np.arange(2**m + 1) / 2**m
    x = np.linspace(-M, M, 8001)
    target = np.interp(np.abs(x), knots, knots**2)
    np.testing.assert_allclose(net(x[:, None]).ravel(), target, rtol=0, atol=1e-9 * M * M)
    assert np.max(np.abs(net(x[:, None]).ravel() - x**2)) <= M * M * 2.0 ** (-2 * m - 2) + 1e-12


@pytest.mark.parametrize(("m", "B"), [(1, 1.0), (2, 1.0), (4, 2.5), (6, 1.0)])
def test_multiply_error_and_exact_zero_on_the_axes(m, B, rng):
    net = multiply(m, bound=B)
    assert net.n_units == 6 * m + 2 and net.depth == m + 1
    g = np.linspace(-B, B, 121)
    X, Y = np.meshgrid(g, g)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    out = net(pts).ravel()
    # exactly the polarisation of the interpolant I of t^2 on [0, 1] at k / 2^m
    knots = np.arange(2**m + 1) / 2**m
    u, v = np.abs(pts[:, 0] + pts[:, 1]) / (2 * B), np.abs(pts[:, 0] - pts[:, 1]) / (2 * B)
    ref = B * B * (np.interp(u, knots, knots**2) - np.interp(v, knots, knots**2))
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9 * B * B)
    assert np.max(np.abs(out - pts[:, 0] * pts[:, 1])) <= B * B * 2.0 ** (-2 * m - 2) + 1e-12
    axes = np.column_stack([np.zeros(50), rng.uniform(-B, B, 50)])
    np.testing.assert_allclose(net(axes).ravel(), 0.0, atol=1e-12)
    np.testing.assert_allclose(net(axes[:, ::-1]).ravel(), 0.0, atol=1e-12)


def test_depth_vs_width_rows_match_the_built_networks():
    for row in depth_vs_width(6):
        assert row.deep_units == sawtooth(row.level).n_units
        assert row.shallow_units == shallow_sawtooth(row.level).n_units
        assert row.shallow_lower_bound == 2**row.level - 1
    for row in depth_vs_width(5, task="square"):
        assert row.deep_units == square(row.level).n_units
        knots = np.arange(2**row.level + 1) / 2**row.level
        assert row.shallow_units == interpolate(knots, knots**2).n_units
        assert row.max_error == 2.0 ** (-2 * row.level - 2)


@pytest.mark.parametrize(
    "call",
    [lambda: sawtooth(0), lambda: sawtooth(31), lambda: square(0), lambda: multiply(2, bound=0.0),
     lambda: depth_vs_width(3, task="cube"), lambda: square(2, bound=-1.0)],
)
def test_bad_parameters(call):
    with pytest.raises(InvalidParameterError):
        call()
