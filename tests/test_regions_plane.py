"""2-D engine: hand counts, sampling, affine maps, 1-D/2-D consistency, bad input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Network
from reluscope.regions import on_plane, on_segment
from zoo import PLANE_ZOO

ORIGIN, E1, E2 = [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]


def _box_of(z):
    (lo0, lo1), (hi0, hi1) = z.domain
    return (lo0, hi0, lo1, hi1)


@pytest.mark.parametrize("z", PLANE_ZOO, ids=lambda z: z.name)
def test_zoo_counts(z):
    res = on_plane(z.net, ORIGIN, E1, E2, bounds=None if z.domain is None else _box_of(z))
    assert res.n_activation_regions == z.n_activation_regions
    assert res.n_linear_regions == z.n_linear_regions


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
def test_lines_in_general_position_whole_plane(k):
    from zoo import lines_general_position

    z = lines_general_position(k, seed=k)
    res = on_plane(z.net, ORIGIN, E1, E2)
    assert res.n_activation_regions == 1 + k + k * (k - 1) // 2
    # Zaslavsky: C(k-1, 2) of them are bounded
    assert int(res.bounded.sum()) == (k - 1) * (k - 2) // 2


def test_parallel_lines_and_strips():
    # x0 = -1, 0, 1 and x1 = 0: 4 * 2 = 8 regions, none bounded
    W = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    b = np.array([1.0, 0.0, -1.0, 0.0])
    net = Network([(W, b, "relu"), (np.ones((1, 4)), np.zeros(1), "identity")])
    res = on_plane(net, ORIGIN, E1, E2)
    assert res.n_activation_regions == 8
    assert not res.bounded.any()
    assert on_plane(net, ORIGIN, E1, E2, bounds=(-0.5, 0.5, -2, 2)).n_activation_regions == 4


def test_zero_biases_make_cones():
    net = Network.random([2, 6, 6, 1], seed=3, bias="zero")
    res = on_plane(net, ORIGIN, E1, E2)
    assert not res.bounded.any()  # every region of a zero-bias net is a cone


def test_bias_scaling_leaves_whole_plane_count_unchanged():
    net = Network.random([2, 10, 10, 1], seed=4)
    scaled = Network([(lay.weight, 7.5 * lay.bias, lay.activation) for lay in net.layers])
    # scaling every bias by c gives x -> c f(x / c): the partition of the plane is scaled by c
    a = on_plane(net, ORIGIN, E1, E2)
    b = on_plane(scaled, ORIGIN, E1, E2)
    assert a.n_activation_regions == b.n_activation_regions


def _activations():
    return st.sampled_from(["relu", "leaky_relu", "abs", "hardtanh"])


@pytest.mark.parametrize("widths, seed, scale, include_output", [
    ([2, 6, 1, 3, 2], 743572376, 1.0, True),
    ([2, 1, 5, 3, 2], 187722660, 3.0, False),
])
def test_no_region_made_of_rounding_at_infinity(widths, seed, scale, include_output):
    # found by fuzzing against regions.enumerate: a cell whose every vertex lay within rounding
    # (w ~ 1e-16) of the line at infinity counted as one more unbounded region. In the plane
    # that pattern is empty: no point up to |x| = 1e9 satisfies it, and along its recession
    # direction one of its rows is parallel and violated
    net = Network.random(widths, seed=seed, activation="leaky_relu", bias="normal", bias_scale=scale)
    res = on_plane(net, [0, 0], [1, 0], [0, 1], include_output=include_output)
    walk = rs.regions.enumerate(net, include_output=include_output)
    assert (res.n_activation_regions, res.n_linear_regions) == (walk.n_activation_regions, walk.n_linear_regions)
    w = 1.0 - res.chart_verts.sum(axis=1)
    assert np.all(np.maximum.reduceat(w, res.cell_offs[:-1]) > 1e-12)


@pytest.mark.parametrize("numba_off", [False, True])
def test_constant_unit_near_a_breakpoint_has_no_phantom_line_far_out(numba_off, monkeypatch):
    # found by fuzzing against regions.enumerate: on one unbounded region every first-layer
    # unit saturates, so second-layer unit 6 is constant at -1.00000079, just below its
    # breakpoint. The rank-k map correction left a rounding residue in its gradient, which
    # turned its level set (the line at infinity) into a line at |x| ~ 1e9 cutting off a
    # sliver with unit 6 on the wrong piece: 95 regions instead of 94 (with numba; the NumPy
    # path's rounding happened to miss it, and is checked too)
    if numba_off:
        monkeypatch.setenv("RELUSCOPE_NO_NUMBA", "1")
    net = Network.random([2, 6, 2, 1], seed=668882191, activation="hardtanh", bias="normal", bias_scale=1.0)
    res = on_plane(net, [0, 0], [1, 0], [0, 1])
    walk = rs.regions.enumerate(net)
    assert (res.n_activation_regions, res.n_linear_regions) == (walk.n_activation_regions, walk.n_linear_regions)


def test_sliver_neighbours_with_one_map_are_one_linear_region():
    # found by fuzzing against regions.enumerate: two slivers (Chebyshev radii 2e-7 and 5e-8)
    # with the same affine map share an edge on the output unit's zero set; the adjacency
    # probe stepped 1e-7 of the edge across it, over the thin neighbour, so they were not
    # merged (19 linear regions instead of 18)
    net = Network.random([2, 2, 2, 5, 2], seed=755112999, activation="leaky_relu", bias="zero", bias_scale=3.0)
    for half in (1.0, 2.0):
        res = on_plane(net, [0, 0], [1, 0], [0, 1], bounds=(-half, half, -half, half), include_output=True)
        walk = rs.regions.enumerate(net, rs.Box(-half, half, dim=2), include_output=True)
        assert (res.n_activation_regions, res.n_linear_regions) == (walk.n_activation_regions,
                                                                     walk.n_linear_regions)
        assert res.n_linear_regions < res.n_activation_regions


@st.composite
def random_nets(draw, n_in=2, max_width=12, max_depth=3):
    depth = draw(st.integers(1, max_depth))
    widths = [n_in] + [draw(st.integers(1, max_width)) for _ in range(depth)] + [draw(st.integers(1, 2))]
    act = draw(_activations())
    bias = draw(st.sampled_from(["normal", "zero"]))
    seed = draw(st.integers(0, 2**16))
    net = Network.random(widths, seed=seed, activation=act, bias=bias, bias_scale=0.5)
    if draw(st.booleans()):  # plant degeneracies: a dead unit and a duplicated hyperplane
        layers = list(net.layers)
        w0, b0 = layers[0].weight.copy(), layers[0].bias.copy()
        if len(b0) >= 2:
            w0[0], b0[0] = 0.0, -1.0
            w0[-1], b0[-1] = 2.0 * w0[1 % len(b0)], 2.0 * b0[1 % len(b0)]
        layers[0] = (w0, b0, layers[0].activation)
        net = Network(layers)
    return net


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_nets(), st.integers(0, 1000))
def test_sampling_and_maps_agree_with_exact_regions(net, seed):
    bounds = (-1.5, 1.0, -0.5, 2.0)
    res = on_plane(net, ORIGIN, E1, E2, bounds=bounds)
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.uniform(-1.5, 1.0, 3000), rng.uniform(-0.5, 2.0, 3000)])
    # every sampled pattern is one of the exact regions
    reg = res.locate(pts)
    assert np.all(reg >= 0)
    sampled = np.unique(net.pattern(pts), axis=0)
    assert res.n_activation_regions >= len(sampled)
    # the region's affine map gives the network's output
    np.testing.assert_allclose(res.evaluate(pts), net(pts), atol=1e-9, rtol=1e-9)
    # cells tile the box
    assert res.areas.sum() == pytest.approx(2.5 * 2.5, rel=1e-9)
    assert np.all(res.areas > 0)
    # each cell's centroid has the cell's pattern
    cen = np.array([p.mean(axis=0) for p in res.polygons()])
    np.testing.assert_array_equal(net.pattern(cen), res.patterns[res.cell_region])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_nets(max_width=8))
def test_whole_plane_contains_every_sampled_pattern(net):
    res = on_plane(net, ORIGIN, E1, E2)
    rng = np.random.default_rng(0)
    # sample at several scales, far out too: patterns at infinity are included
    pts = np.concatenate([rng.normal(size=(2000, 2)) * s for s in (0.5, 3, 30, 1e4)])
    assert np.all(res.locate(pts) >= 0)
    np.testing.assert_allclose(res.evaluate(pts), net(pts), rtol=1e-8, atol=1e-8 * 1e4)
    box = on_plane(net, ORIGIN, E1, E2, bounds=(-3, 3, -3, 3))
    assert res.n_activation_regions >= box.n_activation_regions


def _segment_through_cells(res, a, b):
    """Independent 1-D restriction: clip the segment a->b against every convex cell (Cyrus-Beck)."""
    d = b - a
    pieces = []
    for r, poly in zip(res.cell_region, res.polygons(), strict=True):
        t0, t1 = 0.0, 1.0
        e = np.roll(poly, -1, axis=0) - poly
        for p, ed in zip(poly, e, strict=True):
            n = np.array([ed[1], -ed[0]])  # outward normal (ccw polygon)
            num, den = n @ (p - a), n @ d
            if abs(den) < 1e-15:
                if num < 0:
                    t0, t1 = 1.0, 0.0
                continue
            t = num / den
            if den > 0:
                t1 = min(t1, t)
            else:
                t0 = max(t0, t)
        if t1 - t0 > 1e-9:
            pieces.append((t0, t1, r))
    pieces.sort()
    return pieces


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_nets(max_width=10), st.integers(0, 1000))
def test_segment_in_plane_equals_plane_restricted(net, seed):
    res = on_plane(net, ORIGIN, E1, E2, bounds=(-1, 1, -1, 1))
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-0.9, 0.9, 2), rng.uniform(-0.9, 0.9, 2)
    seg = on_segment(net, a, b)
    pieces = _segment_through_cells(res, a, b)
    assert len(pieces) == seg.n_activation_regions
    np.testing.assert_allclose([p[0] for p in pieces[1:]], seg.breakpoints, atol=1e-7)
    np.testing.assert_array_equal(res.patterns[[p[2] for p in pieces]], seg.patterns)


@pytest.mark.parametrize("seed", range(4))
def test_counts_stable_under_tolerance(seed):
    net = Network.random([2, 16, 16, 16, 1], seed=seed)
    counts = {on_plane(net, ORIGIN, E1, E2, bounds=(-1, 1, -1, 1), tol=t).n_activation_regions
              for t in (1e-10, 1e-9, 1e-8)}
    assert len(counts) == 1


def test_polygon_domain_and_plane_through_points():
    net = Network.random([5, 12, 12, 1], seed=2)
    rng = np.random.default_rng(1)
    p0, p1, p2 = rng.normal(size=(3, 5))
    tri = [[0, 0], [1, 0], [0, 1]]
    res = on_plane(net, p0, p1 - p0, p2 - p0, polygon=tri)
    assert res.areas.sum() == pytest.approx(0.5, rel=1e-9)
    sq = on_plane(net, p0, p1 - p0, p2 - p0, bounds=(0, 1, 0, 1))
    assert res.n_activation_regions <= sq.n_activation_regions
    pts = rng.dirichlet([1, 1, 1], size=500)[:, 1:]
    np.testing.assert_allclose(res.evaluate(pts), net(res.to_input(pts)), atol=1e-9)


def test_include_output_splits_on_decision_boundary():
    # one unit relu(x0) and output x1 - 0.5 + relu(x0): the output zero set cuts both regions
    net = Network([(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), "relu"),
                   (np.array([[1.0, 0.0]]), np.array([-0.5]), "identity")])
    plain = on_plane(net, ORIGIN, E1, E2, bounds=(-1, 1, -1, 1))
    with_out = on_plane(net, ORIGIN, E1, E2, bounds=(-1, 1, -1, 1), include_output=True)
    assert plain.n_activation_regions == 4
    # output relu(x0) - 0.5 = 0 at x0 = 0.5: splits the two regions with x0 > 0
    assert with_out.n_activation_regions == 6


def test_include_output_keeps_linear_regions_of_seed_12():
    # found by hand: the decision boundary split one linear region (constant output) and
    # locate() gave the pieces' neighbours the wrong output bit, so they were not merged
    net = Network.random([2, 4, 4, 1], seed=12)
    plain = on_plane(net, ORIGIN, E1, E2, bounds=(-2, 2, -2, 2))
    with_out = on_plane(net, ORIGIN, E1, E2, bounds=(-2, 2, -2, 2), include_output=True)
    assert with_out.n_activation_regions > plain.n_activation_regions
    assert with_out.n_linear_regions == plain.n_linear_regions


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_nets(max_width=8), st.booleans())
def test_decision_boundary_cuts_activation_regions_not_linear_regions(net, whole):
    # a linear output's zero set splits activation regions into pieces with one affine map,
    # so merging equal-map neighbours gives the same linear regions with or without the cut
    bounds = None if whole else (-1.5, 1.0, -0.5, 2.0)
    plain = on_plane(net, ORIGIN, E1, E2, bounds=bounds)
    with_out = on_plane(net, ORIGIN, E1, E2, bounds=bounds, include_output=True)
    assert with_out.n_activation_regions >= plain.n_activation_regions
    assert with_out.n_linear_regions == plain.n_linear_regions
    # every piece of a box is found again by locate() at its centroid
    boxed = with_out if not whole else on_plane(net, ORIGIN, E1, E2, bounds=(-1, 1, -1, 1), include_output=True)
    centroids = np.array([p.mean(axis=0) for p in boxed.polygons()])
    np.testing.assert_array_equal(boxed.locate(centroids), boxed.cell_region[boxed.cell_finite])


def test_dual_graph_and_geojson():
    from zoo import lines_general_position

    z = lines_general_position(4)
    res = on_plane(z.net, ORIGIN, E1, E2, bounds=(-5, 5, -5, 5))
    g = res.dual_graph()
    assert g.number_of_nodes() == 11
    # neighbours differ in exactly one unit (one line crossed)
    for i, j in g.edges:
        assert np.count_nonzero(res.patterns[i] != res.patterns[j]) == 1
    # planar arrangement of 4 lines in general position: E = k^2 = 16 edges in the dual graph
    assert g.number_of_edges() == 16
    gj = res.to_geojson()
    assert len(gj["features"]) == 11
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]


def test_plot_returns_what_it_drew(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    net = Network.random([2, 8, 8, 3], seed=0)
    res = on_plane(net, ORIGIN, E1, E2)
    fig, ax = plt.subplots()
    for mode in ("region", "value", "gradient", "class"):
        pc = res.plot(ax=ax, color=mode, view=(-2, 2, -2, 2), decision_boundary=True,
                      points=[[0, 0], [1, 1]], alpha=0.9)
        assert pc.axes is ax
        assert pc.get_alpha() == 0.9
    fig.savefig(tmp_path / "p.png")
    plt.close(fig)
    assert (tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(rs.InvalidParameterError):
        res.plot(color="rainbow")


@pytest.mark.parametrize(
    "kwargs, err",
    [
        ({"origin": [0, 0, 0]}, rs.ShapeError),
        ({"u": [1, 0], "v": [2, 0]}, rs.DomainError),
        ({"bounds": (1, 0, 0, 1)}, rs.DomainError),
        ({"bounds": (0, 1, 0)}, rs.ShapeError),
        ({"polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}, rs.DomainError),
        ({"origin": [np.nan, 0]}, rs.NonFiniteError),
        ({"tol": 0.0}, rs.InvalidParameterError),
    ],
)
def test_bad_input(kwargs, err):
    net = Network.random([2, 4, 1], seed=0)
    args = {"origin": [0, 0], "u": [1, 0], "v": [0, 1]}
    args.update(kwargs)
    with pytest.raises(err):
        on_plane(net, args.pop("origin"), args.pop("u"), args.pop("v"), **args)


@pytest.mark.parametrize("act", ["relu", "hardtanh", "leaky_relu"])
@pytest.mark.parametrize("whole", [False, True])
def test_compiled_and_numpy_kernels_agree(monkeypatch, act, whole):
    from reluscope.regions import _kernels

    if not _kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed: only the NumPy path exists")
    net = Network.random([2, 12, 12, 12, 2], seed=5, activation=act)
    bounds = None if whole else (-2, 2, -2, 2)
    fast = on_plane(net, ORIGIN, E1, E2, bounds=bounds)
    monkeypatch.setenv("RELUSCOPE_NO_NUMBA", "1")
    assert not _kernels.use_numba()
    slow = on_plane(net, ORIGIN, E1, E2, bounds=bounds)
    assert fast.n_activation_regions == slow.n_activation_regions
    key = lambda r: sorted(map(bytes, r.packed))  # noqa: E731
    assert key(fast) == key(slow)
    order_f = np.lexsort(fast.packed.T)
    order_s = np.lexsort(slow.packed.T)
    np.testing.assert_allclose(fast.slope[order_f], slow.slope[order_s], atol=1e-10)
    np.testing.assert_allclose(fast.areas[order_f], slow.areas[order_s], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("bounds", [(-3.0, 3.0, -3.0, 3.0), None])
def test_threads_give_the_same_result(bounds, monkeypatch):
    import reluscope.regions._plane_engine as engine

    monkeypatch.setattr(engine, "_MIN_THREADED", 0)  # thread even this small job
    net = Network.random([2, 24, 16, 8, 1], seed=3)
    one = on_plane(net, ORIGIN, E1, E2, bounds=bounds, n_jobs=1)
    two = on_plane(net, ORIGIN, E1, E2, bounds=bounds, n_jobs=2, chunk=64)
    ref = on_plane(net, ORIGIN, E1, E2, bounds=bounds, n_jobs=1, chunk=64)
    assert one.n_activation_regions > 200  # the first layer's cells were cut into several parts
    for r in (two, ref):
        np.testing.assert_array_equal(r.packed, one.packed)
        np.testing.assert_array_equal(r.cell_offs, one.cell_offs)
        np.testing.assert_array_equal(r.chart_verts, one.chart_verts)
        np.testing.assert_array_equal(r.slope, one.slope)


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_bad_n_jobs(n_jobs):
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(rs.InvalidParameterError, match="n_jobs"):
        on_plane(net, ORIGIN, E1, E2, n_jobs=n_jobs)
    with pytest.raises(rs.InvalidParameterError, match="n_jobs"):
        rs.regions.on_segments(net, np.zeros((2, 2)), np.ones((2, 2)), n_jobs=n_jobs)
    with pytest.raises(rs.InvalidParameterError, match="n_jobs"):
        rs.regions.enumerate(net, n_jobs=n_jobs)
