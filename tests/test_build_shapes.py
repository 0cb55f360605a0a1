"""Polygons, shapes with holes, lattice max-min forms and the logo, checked exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluscope import DomainError, InvalidParameterError, ShapeError
from reluscope.build import LOGO, convex_decomposition, lattice, logo, polygon, shape

L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
ARROW = [(0, 0), (3, 1.5), (0, 3), (1, 1.5)]  # non-convex quadrilateral
TRIANGLE = [(0, 0), (1, 0), (0, 1)]


# ---------------------------------------------------------------------- independent geometry
def _area(P):
    P = np.asarray(P, float)
    x, y = P[:, 0], P[:, 1]
    return 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)


def _inside(P, pts):
    """Even-odd ray casting (strict interior up to boundary ties), vectorised over points."""
    P = np.asarray(P, float)
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    x1, y1 = P[:, 0][None, :], P[:, 1][None, :]
    x2, y2 = np.roll(P[:, 0], -1)[None, :], np.roll(P[:, 1], -1)[None, :]
    crosses = ((y1 > y) != (y2 > y)) & (x < (x2 - x1) * (y - y1) / np.where(y2 == y1, 1, y2 - y1) + x1)
    return np.count_nonzero(crosses, axis=1) % 2 == 1


def _dist_to_boundary(P, pts):
    P = np.asarray(P, float)
    a, b = P[None, :, :], np.roll(P, -1, axis=0)[None, :, :]
    p = pts[:, None, :]
    t = np.clip(np.sum((p - a) * (b - a), axis=2) / np.sum((b - a) ** 2, axis=2), 0, 1)
    return np.min(np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=2), axis=1)


def _lattice_target(pieces, margin, pts):
    """max_k min_i (1 + h_ki / margin), h the inward distance to each edge line of a CCW piece."""
    vals = []
    for pc in pieces:
        pc = np.asarray(pc, float)
        d = np.roll(pc, -1, axis=0) - pc
        n = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.linalg.norm(d, axis=1)[:, None]
        h = np.sum((pts[:, None, :] - pc[None]) * n[None], axis=2)
        vals.append(np.min(1 + h / margin, axis=1))
    return np.max(np.stack(vals, axis=1), axis=1)


def _min_interior_angle(pieces):
    out = np.pi
    for pc in pieces:
        pc = np.asarray(pc, float)
        u = np.roll(pc, 1, axis=0) - pc
        v = np.roll(pc, -1, axis=0) - pc
        cos = np.sum(u * v, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
        out = min(out, float(np.min(np.arccos(np.clip(cos, -1, 1)))))
    return out


def _grid(P, pad, n=161):
    P = np.asarray(P, float)
    lo, hi = P.min(axis=0) - pad, P.max(axis=0) + pad
    g = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)), -1).reshape(-1, 2)
    return np.vstack([g, P])


def _check_decomposition(P, pieces):
    P = np.asarray(P, float)
    assert sum(_area(pc) for pc in pieces) == pytest.approx(abs(_area(P)), rel=1e-12)
    verts = {tuple(v) for v in P}
    for pc in pieces:
        pc = np.asarray(pc, float)
        assert _area(pc) > 0  # counter-clockwise
        e, f = pc - np.roll(pc, 1, axis=0), np.roll(pc, -1, axis=0) - pc
        turn = e[:, 0] * f[:, 1] - e[:, 1] * f[:, 0]
        assert np.all(turn > -1e-12)  # convex
        assert {tuple(v) for v in pc} <= verts


# ---------------------------------------------------------------------- decomposition
@pytest.mark.parametrize("P", [L_SHAPE, ARROW, TRIANGLE, LOGO["polygons"][0], LOGO["polygons"][1]])
def test_convex_decomposition_is_a_partition_into_convex_pieces(P):
    _check_decomposition(P, convex_decomposition(P))


def test_decomposition_of_convex_and_reversed_polygons():
    assert len(convex_decomposition(TRIANGLE)) == 1
    assert len(convex_decomposition(L_SHAPE[::-1])) == 2
    assert len(convex_decomposition(L_SHAPE + [L_SHAPE[0]])) == 2  # closing vertex repeated


@st.composite
def star_shaped(draw):
    k = draw(st.integers(3, 14))
    r = draw(st.lists(st.floats(0.2, 1.0), min_size=k, max_size=k))
    jitter = draw(st.lists(st.floats(-0.3, 0.3), min_size=k, max_size=k))
    ang = (np.arange(k) + np.array(jitter)) * 2 * np.pi / k
    return np.round(np.column_stack([np.array(r) * np.cos(ang), np.array(r) * np.sin(ang)]), 6)


@settings(max_examples=60, deadline=None)
@given(star_shaped())
def test_random_star_shaped_polygons_decompose(P):
    _check_decomposition(P, convex_decomposition(P))


# ---------------------------------------------------------------------- networks
@pytest.mark.parametrize("P", [L_SHAPE, ARROW, TRIANGLE, LOGO["polygons"][1]])
@pytest.mark.parametrize("margin", [0.05, 0.3])
def test_polygon_network_is_exact(P, margin):
    net = polygon(P, margin=margin)
    pieces = convex_decomposition(P)
    pts = _grid(P, pad=2 * margin + 0.2)
    out = net(pts).ravel()
    target = np.clip(_lattice_target(pieces, margin, pts), 0, 1)
    np.testing.assert_allclose(out, target, rtol=0, atol=1e-9)
    # independent geometry: 1 inside, 0 far outside, values in [0, 1]
    inside = _inside(P, pts)
    np.testing.assert_allclose(out[inside], 1.0, atol=1e-12)
    far = _dist_to_boundary(P, pts) > margin / np.sin(_min_interior_angle(pieces) / 2) + 1e-9
    np.testing.assert_allclose(out[far & ~inside], 0.0, atol=1e-12)
    assert out.min() >= 0 and out.max() <= 1 + 1e-12


def test_polygon_ramp_is_linear_in_the_distance_away_from_corners():
    net = polygon([(0, 0), (4, 0), (4, 4), (0, 4)], margin=0.1)
    d = np.linspace(0, 0.1, 11)
    pts = np.column_stack([2 + np.zeros_like(d), -d])  # below the middle of the bottom edge
    np.testing.assert_allclose(net(pts).ravel(), 1 - d / 0.1, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("k", "units", "hidden"), [(3, 7, 3), (4, 8, 3), (5, 12, 4), (6, 13, 4), (8, 16, 4)])
def test_convex_polygon_sizes(k, units, hidden):
    # hand count: min tree with 2 units per pair and 1 per carried value, then 2 for the clip
    ang = 2 * np.pi * np.arange(k) / k
    net = polygon(np.column_stack([np.cos(ang), np.sin(ang)]))
    assert (net.n_units, net.depth - 1) == (units, hidden)


def test_shape_with_holes():
    outer = [(0, 0), (4, 0), (4, 4), (0, 4)]
    hole = [(1, 1), (3, 1), (3, 3), (2, 2.2), (1, 3)]  # non-convex hole
    margin = 0.05
    net = shape([outer], holes=[hole], margin=margin)
    pts = _grid(outer, pad=0.3)
    out = net(pts).ravel()
    in_hole = _inside(hole, pts)
    np.testing.assert_allclose(out[in_hole], 0.0, atol=1e-12)
    clear = _inside(outer, pts) & ~in_hole & (_dist_to_boundary(hole, pts) > 2 * margin)
    np.testing.assert_allclose(out[clear], 1.0, atol=1e-12)
    u = np.clip(_lattice_target(convex_decomposition(outer), margin, pts), None, None)
    v = _lattice_target(convex_decomposition(hole), margin, pts)
    np.testing.assert_allclose(out, np.clip(np.minimum(u, 1 - v), 0, 1), rtol=0, atol=1e-9)


def test_overlapping_polygons_are_a_union():
    a = [(0, 0), (2, 0), (2, 2), (0, 2)]
    b = [(1, 1), (3, 1), (3, 3), (1, 3)]
    net = shape([a, b], margin=0.1)
    pts = _grid([(0, 0), (3, 3)], pad=0.5)
    inside = _inside(a, pts) | _inside(b, pts)
    np.testing.assert_allclose(net(pts).ravel()[inside], 1.0, atol=1e-12)


def test_logo_picture():
    net = logo()
    pts = _grid([(-1, -1), (1, 1)], pad=0.0, n=201)
    out = net(pts).ravel()
    in_poly = np.any([_inside(P, pts) for P in LOGO["polygons"]], axis=0)
    in_hole = _inside(LOGO["holes"][0], pts)
    np.testing.assert_allclose(out[in_poly & ~in_hole & (_dist_to_boundary(LOGO["holes"][0], pts) > 0.04)], 1.0,
                               atol=1e-12)
    np.testing.assert_allclose(out[in_hole], 0.0, atol=1e-12)
    assert out.min() >= 0 and out.max() <= 1
    nonconvex = [P for P in LOGO["polygons"] if len(convex_decomposition(P)) > 1]
    assert len(nonconvex) >= 2
    assert net.metadata["n_pieces"] == sum(len(convex_decomposition(P)) for P in LOGO["polygons"])


@pytest.mark.parametrize(
    ("P", "err", "match"),
    [
        ([(0, 0), (2, 2), (2, 0), (0, 1)], DomainError, "simple"),  # bow tie
        ([(0, 0), (1, 1), (2, 2)], DomainError, "zero area"),
        ([(0, 0), (1, 1)], InvalidParameterError, "at least 3"),
        ([(0, 0), (0, 0), (1, 0), (0, 1)], InvalidParameterError, "repeats"),
        ([(0, 0, 0), (1, 0, 0), (0, 1, 0)], ShapeError, r"\(k, 2\)"),
    ],
)
def test_bad_polygons(P, err, match):
    with pytest.raises(err, match=match):
        polygon(P)


def test_bad_shape_arguments():
    with pytest.raises(InvalidParameterError, match="'margin'"):
        polygon(TRIANGLE, margin=0.0)
    with pytest.raises(InvalidParameterError, match="at least one polygon"):
        shape([])
    with pytest.raises(DomainError, match="'holes\\[0\\]'"):
        shape([TRIANGLE], holes=[[(0, 0), (2, 2), (2, 0), (0, 1)]])


# ---------------------------------------------------------------------- lattice
@st.composite
def lattices(draw):
    n = draw(st.integers(1, 3))
    L = draw(st.integers(1, 6))
    P = np.array(draw(st.lists(st.lists(st.floats(-3, 3), min_size=n + 1, max_size=n + 1),
                               min_size=L, max_size=L)))
    groups = draw(st.lists(st.lists(st.integers(0, L - 1), min_size=1, max_size=5), min_size=1, max_size=5))
    return P, groups


@settings(max_examples=80, deadline=None)
@given(lattices())
def test_lattice_is_exact(data):
    P, groups = data
    net = lattice(P, groups)
    n = P.shape[1] - 1
    x = np.random.default_rng(0).normal(size=(300, n)) * 3
    vals = x @ P[:, :n].T + P[:, n]
    target = np.max([np.min(vals[:, g], axis=1) for g in groups], axis=0)
    np.testing.assert_allclose(net(x).ravel(), target, rtol=0, atol=1e-9)
    depth = max(int(np.ceil(np.log2(len(g)))) for g in groups) + int(np.ceil(np.log2(len(groups))))
    assert net.depth - 1 <= depth


def test_lattice_sizes_for_balanced_groups():
    P = np.random.default_rng(1).normal(size=(8, 3))
    net = lattice(P, [[0, 1, 2, 3], [4, 5, 6, 7]])
    # 2 groups x 3 min nodes + 1 max node = 7 nodes at 3 units each; no carries
    assert net.n_units == 21 and net.depth - 1 == 3


def test_lattice_validation():
    with pytest.raises(InvalidParameterError, match=r"groups\[1\]"):
        lattice([[1.0, 0.0], [0.0, 1.0]], [[0], [2]])
    with pytest.raises(InvalidParameterError, match="non-empty"):
        lattice([[1.0, 0.0]], [])
    with pytest.raises(ShapeError):
        lattice([1.0, 0.0], [[0]])
