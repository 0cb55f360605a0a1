"""Exact n-D region enumeration (reluscope.regions.enumerate), checked against
independent computations: hand counts (zoo), an LP-tree count written here with
scipy, dense sampling, the network itself at points inside each region, the 2-D
plane engine, and relucent's counts (benchmarks/reference_counts_nd.py)."""

import itertools
import warnings
from math import comb

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import reluscope.regions._nd as nd
from reluscope import (
    Box,
    DomainError,
    HardTanh,
    InvalidParameterError,
    Network,
    PartialResultWarning,
    Polytope,
)
from reluscope.regions._nd import enumerate as enumerate_regions
from zoo import zoo

try:
    import numba  # noqa: F401

    BACKENDS = ["numba", "numpy"]
except ImportError:  # pragma: no cover - numba is in the test extras
    BACKENDS = ["numpy"]


# ---------------------------------------------------------------------- oracles
def _piece_bounds(act, k):
    """(lo, hi) of piece k of an activation: lo < z <= hi."""
    bps = np.asarray(act.breakpoints)
    lo = bps[k - 1] if k > 0 else -np.inf
    hi = bps[k] if k < len(bps) else np.inf
    return lo, hi


def _cheb_radius(A, b, n):
    """Chebyshev radius of {A x <= b} (capped at 10) with scipy's HiGHS."""
    if len(b) == 0:
        return 10.0
    norms = np.linalg.norm(A, axis=1)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.hstack([A, norms[:, None]]), b_ub=b,
                  bounds=[(None, None)] * n + [(None, 10.0)], method="highs")
    return -res.fun if res.status == 0 else -np.inf


def lp_tree_count(net, A_dom, b_dom, tol=1e-9):
    """Activation regions in {A_dom x <= b_dom}: depth-first over the units one by one,
    keeping each piece whose polyhedron has Chebyshev radius > tol (Serra et al. 2018)."""
    n = net.n_in
    hidden = net.layers[:-1]

    def rec(A, b, li, ui, P, q, zP, zq, slopes, icpts):
        if li == len(hidden):
            return 1
        layer = hidden[li]
        if ui == 0:
            zP, zq = layer.weight @ P, layer.weight @ q + layer.bias
            slopes, icpts = [], []
        if ui == layer.n_out:
            s, c = np.array(slopes), np.array(icpts)
            return rec(A, b, li + 1, 0, s[:, None] * zP, s * zq + c, None, None, None, None)
        act = layer.activation
        total = 0
        for k in range(act.n_pieces):
            lo, hi = _piece_bounds(act, k)
            rows, rhs = [], []
            if np.isfinite(hi):
                rows.append(zP[ui])
                rhs.append(hi - zq[ui])
            if np.isfinite(lo):
                rows.append(-zP[ui])
                rhs.append(zq[ui] - lo)
            A2 = np.vstack([A] + [np.atleast_2d(r) for r in rows])
            b2 = np.concatenate([b, rhs])
            nz = np.linalg.norm(A2, axis=1) > 1e-12
            if np.any(~nz & (b2 < -1e-12)):
                continue  # a constant unit on the wrong piece
            if _cheb_radius(A2[nz], b2[nz], n) > tol:
                total += rec(A2, b2, li, ui + 1, P, q, zP, zq, slopes + [act.slopes[k]],
                             icpts + [act.intercepts[k]])
        return total

    return rec(np.asarray(A_dom, float), np.asarray(b_dom, float), 0, 0, np.eye(n), np.zeros(n),
               None, None, None, None)


def _sample_patterns(net, x):
    return {p.tobytes() for p in net.pattern(x)}


def _inside_points(A, b, centre, radius, rng, k=40):
    """Rejection-sample points strictly inside {A x <= b} around its centre."""
    scale = 3.0 * radius
    pts = centre + rng.uniform(-scale, scale, size=(k, len(centre)))
    ok = np.all(pts @ A.T < b - 1e-9 * (1 + np.abs(b)), axis=1)
    return pts[ok]


def _check_regions(net, res, rng, domain=None, n_samples=4000):
    """Invariants every result must satisfy, against the network and sampling."""
    R = res.n_activation_regions
    assert R == len(res) >= 1
    assert res.patterns.shape == (R, net.n_units)
    # every region's Chebyshev centre has the region's pattern, and the map is the network's
    np.testing.assert_array_equal(net.pattern(res.centres), res.patterns)
    assert len({p.tobytes() for p in res.patterns}) == R
    y = np.einsum("rok,rk->ro", res.A_out, res.centres) + res.c_out
    np.testing.assert_allclose(y, net(res.centres), rtol=1e-9, atol=1e-9)
    assert np.all(res.radii > 0)
    # points inside each region's H-representation (facets only) have its pattern and map
    for i in rng.choice(R, size=min(R, 25), replace=False):
        A, b = res.halfspaces(i)
        np.testing.assert_allclose(np.linalg.norm(A, axis=1), 1.0)
        assert np.all(A @ res.centres[i] <= b - res.radii[i] * (1 - 1e-7))
        pts = _inside_points(A, b, res.centres[i], res.radii[i], rng)
        if len(pts):
            assert np.all(net.pattern(pts) == res.patterns[i])
            np.testing.assert_allclose(pts @ res.A_out[i].T + res.c_out[i], net(pts), rtol=1e-9, atol=1e-9)
    # dense sampling: every sampled pattern is a region, located where the pattern says
    if domain is None:
        x = rng.normal(scale=3.0, size=(n_samples, net.n_in))
    elif isinstance(domain, Box):
        x = domain.sample(n_samples, rng)
    else:
        box = domain.bounding_box()
        x = box.sample(4 * n_samples, rng)
        x = x[domain.contains(x)]
    loc = res.locate(x)
    assert np.all(loc >= 0)
    np.testing.assert_array_equal(res.patterns[loc], net.pattern(x))
    assert R >= len(_sample_patterns(net, x))
    # dual graph: symmetric facet adjacency, connected
    nb = res.facet_neighbors
    reg = np.repeat(np.arange(R), np.diff(res.facet_offsets))
    pairs = {(int(a), int(c)) for a, c in zip(reg, nb, strict=True) if c >= 0}
    assert all((c, a) in pairs for a, c in pairs)
    if not res.is_partial:
        import networkx as nx

        g = res.dual_graph()
        assert g.number_of_nodes() == R and nx.is_connected(g)
    assert res.n_linear_regions <= R


# ---------------------------------------------------------------------- zoo (hand counts)
def _box_around(points, margin=1.0, dim=2):
    pts = np.atleast_2d(points)
    return Box(pts.min(axis=0) - margin, pts.max(axis=0) + margin) if len(pts) else Box(-1, 1, dim=dim)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("z", zoo(), ids=lambda z: z.name)
def test_zoo_hand_counts(z, backend, rng):
    dom = None if z.domain is None else Box(*z.domain)
    res = enumerate_regions(z.net, dom, backend=backend)
    assert res.n_activation_regions == z.n_activation_regions
    assert res.n_linear_regions == z.n_linear_regions
    _check_regions(z.net, res, rng, dom, n_samples=2000)


def _line_vertices(net):
    """Pairwise intersections of the first layer's lines (computed here, by hand)."""
    W, b = net.layers[0].weight, net.layers[0].bias
    out = []
    for i, j in itertools.combinations(range(len(b)), 2):
        M = W[[i, j]]
        if abs(np.linalg.det(M)) > 1e-9:
            out.append(np.linalg.solve(M, -b[[i, j]]))
    return np.array(out).reshape(-1, 2)


@pytest.mark.parametrize("z", [z for z in zoo() if z.net.n_in == 2 and z.domain is None], ids=lambda z: z.name)
def test_zoo_counts_on_a_box_holding_every_vertex(z):
    # a box containing every crossing of the lines has the whole plane's count
    box = _box_around(_line_vertices(z.net), margin=1.0)
    res = enumerate_regions(z.net, box)
    assert res.n_activation_regions == z.n_activation_regions
    assert res.n_linear_regions == z.n_linear_regions


def test_hat_on_intervals():
    from zoo import hat

    net = hat().net
    assert enumerate_regions(net, Box(-1.0, 3.0, dim=1)).n_activation_regions == 4
    assert enumerate_regions(net, Box(0.5, 3.0, dim=1)).n_activation_regions == 3


@pytest.mark.parametrize("k", [3, 5, 8])
def test_lines_in_general_position_formula(k):
    from zoo import lines_general_position

    z = lines_general_position(k, seed=k)
    assert enumerate_regions(z.net).n_activation_regions == 1 + k + comb(k, 2)


def test_hyperplanes_in_general_position_in_3d():
    # k generic planes in R^3: sum_{i<=3} C(k, i) regions (Zaslavsky / Buck 1943)
    rng = np.random.default_rng(7)
    for k in (4, 7):
        net = Network([(rng.normal(size=(k, 3)), rng.normal(size=k), "relu"),
                       (rng.normal(size=(1, k)), np.zeros(1), "identity")])
        assert enumerate_regions(net).n_activation_regions == sum(comb(k, i) for i in range(4))
        # through the origin (zero biases): 2 * sum_{i<3} C(k-1, i) cones
        net0 = Network([(net.layers[0].weight, np.zeros(k), "relu"), net.layers[1]])
        assert enumerate_regions(net0).n_activation_regions == 2 * sum(comb(k - 1, i) for i in range(3))


def test_cross_layer_coincident_hyperplanes():
    # relu(relu(x0)): the second unit switches exactly where the first does
    net = Network([(np.array([[1.0, 0.0]]), [0.0], "relu"), (np.array([[1.0]]), [0.0], "relu"),
                   (np.ones((1, 1)), [0.0], "identity")])
    res = enumerate_regions(net)
    assert res.n_activation_regions == 2
    assert sorted(res.patterns.tolist()) == [[0, 0], [1, 1]]
    # identity hidden layer, then two copies of one unit: 2 regions
    net2 = Network([(np.eye(2), np.zeros(2), "identity"), (np.ones((2, 2)), np.zeros(2), "relu"),
                    (np.ones((1, 2)), [0.0], "identity")])
    assert enumerate_regions(net2).n_activation_regions == 2


def test_no_units_and_all_constant_units():
    assert enumerate_regions(Network.affine(np.ones((1, 3)), [1.0])).n_activation_regions == 1
    dead = Network([(np.zeros((3, 2)), -np.ones(3), "relu"), (np.ones((1, 3)), [0.0], "identity")])
    zero = Network([(np.zeros((3, 2)), np.zeros(3), "relu"), (np.ones((1, 3)), [0.0], "identity")])
    for net in (dead, zero):
        res = enumerate_regions(net)
        assert res.n_activation_regions == 1 and res.n_linear_regions == 1


def test_fewer_hyperplanes_than_dimensions():
    # 4 generic hyperplanes in R^6 (the regions contain lines): 2^4 regions
    net = Network.random([6, 4, 1], seed=0)
    assert enumerate_regions(net).n_activation_regions == 16


# ---------------------------------------------------------------------- LP-tree oracle
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "widths,act,seed",
    [([2, 4, 3, 1], "relu", 0), ([3, 4, 3, 1], "relu", 1), ([2, 3, 3, 1], HardTanh(-0.5, 0.7), 2),
     ([3, 3, 3, 1], "abs", 3), ([4, 4, 2, 1], "leaky_relu", 4), ([2, 3, 2, 2, 1], "relu", 5)],
)
def test_box_count_equals_lp_tree(widths, act, seed, backend, rng):
    net = Network.random(widths, seed=seed, activation=act)
    box = Box(-1.5, 1.5, dim=widths[0])
    res = enumerate_regions(net, box, backend=backend)
    A, b = box.halfspaces()
    assert res.n_activation_regions == lp_tree_count(net, A, b)
    _check_regions(net, res, rng, box, n_samples=3000)


def test_polytope_count_equals_lp_tree(rng):
    net = Network.random([2, 5, 4, 1], seed=8)
    tri = Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [1.0, 1.0, 1.0])
    res = enumerate_regions(net, tri)
    assert res.n_activation_regions == lp_tree_count(net, tri.A, tri.b)
    _check_regions(net, res, rng, tri, n_samples=2000)


# ---------------------------------------------------------------------- random networks
@st.composite
def networks(draw):
    n_in = draw(st.integers(2, 6))
    depth = draw(st.integers(1, 3))
    max_w = 5 if n_in <= 3 else 3
    widths = [n_in] + [draw(st.integers(1, max_w)) for _ in range(depth)] + [1]
    act = draw(st.sampled_from(["relu", "leaky_relu", "abs", "hardtanh"]))
    net = Network.random(widths, seed=draw(st.integers(0, 2**16)), activation=act)
    kind = draw(st.sampled_from(["generic", "zero_bias", "dead_unit", "duplicate", "scaled_copy"]))
    layers = [(layer.weight.copy(), layer.bias.copy(), layer.activation) for layer in net.layers]
    li = draw(st.integers(0, depth - 1))
    W, b, a = layers[li]
    if kind == "zero_bias":
        b[:] = 0.0
    elif kind == "dead_unit":
        W[0] = 0.0
        b[0] = -1.0
    elif kind in ("duplicate", "scaled_copy") and W.shape[0] >= 2:
        W[1] = W[0] * (2.0 if kind == "scaled_copy" else 1.0)
        b[1] = b[0] * (2.0 if kind == "scaled_copy" else 1.0)
    return Network(layers)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), whole=st.booleans(), seed=st.integers(0, 1000))
def test_random_networks(net, whole, seed):
    rng = np.random.default_rng(seed)
    dom = None if whole else Box(-2.0, 2.0, dim=net.n_in)
    res = enumerate_regions(net, dom)
    assert not res.is_partial
    _check_regions(net, res, rng, dom, n_samples=3000)
    # counts do not move when the tolerance changes tenfold either way
    for tol in (1e-8, 1e-10):
        other = enumerate_regions(net, dom, tol=tol)
        assert other.n_activation_regions == res.n_activation_regions
        assert other.n_linear_regions == res.n_linear_regions


@pytest.mark.parametrize("seed", range(4))
def test_seeded_networks_backends_agree(seed, rng):
    net = Network.random([4, 6, 6, 1], seed=seed, activation=["relu", "hardtanh", "abs", "leaky_relu"][seed])
    a = enumerate_regions(net, backend=BACKENDS[0])
    b = enumerate_regions(net, backend=BACKENDS[-1])
    assert {p.tobytes() for p in a.patterns} == {p.tobytes() for p in b.patterns}
    assert a.n_linear_regions == b.n_linear_regions
    _check_regions(net, a, rng, None, n_samples=4000)


@pytest.mark.parametrize("widths", [[2, 1, 1, 1, 1], [2, 1, 2, 3, 2], [3, 1, 2, 2]])
def test_zero_biases_and_one_first_unit_find_both_half_spaces(widths):
    # found by fuzzing against on_plane: one first-layer unit, no biases anywhere. The
    # facet point lies within rounding of the origin, where every pre-activation is as
    # small as the point itself, so a relative tie test missed that the second unit sits
    # on its breakpoint there; the walk stepped into an empty region and stopped at 1.
    net = Network.random(widths, seed=10, bias="zero")
    res = enumerate_regions(net)
    x = np.random.default_rng(0).normal(size=(2000, widths[0]))
    sampled = {p.tobytes() for p in net.pattern(x)}
    assert len(sampled) == 2  # unit 1 on or off; the rest follow it
    assert res.n_activation_regions == 2
    assert {p.tobytes() for p in res.patterns.astype(np.int8)} == sampled


@pytest.mark.parametrize("whole", [False, True])
def test_threads_give_the_same_result(whole, monkeypatch):
    monkeypatch.setattr(nd, "_MIN_WORK_PER_THREAD", 2)  # thread even small waves
    net = Network.random([4, 8, 8, 1], seed=3)
    dom = None if whole else Box(-1.0, 1.0, dim=4)
    one = enumerate_regions(net, dom, n_jobs=1)
    two = enumerate_regions(net, dom, n_jobs=2)
    assert one.n_activation_regions > 100
    np.testing.assert_array_equal(two.patterns, one.patterns)
    np.testing.assert_array_equal(two.centres, one.centres)
    np.testing.assert_array_equal(two.radii, one.radii)


def _topology(res):
    """A result's regions and facets, in a form independent of the order of discovery."""
    keys = [p.tobytes() for p in res.patterns.astype(np.int8)]
    facets = set()
    for r in range(res.n_activation_regions):
        for f in range(res.facet_offsets[r], res.facet_offsets[r + 1]):
            nb = res.facet_neighbors[f]
            facets.add((keys[r], int(res.facet_units[f]), None if nb < 0 else keys[nb],
                        tuple(np.round(res.facet_A[f], 9)), round(float(res.facet_b[f]), 9)))
    return set(keys), facets


def test_result_does_not_depend_on_the_start_points(monkeypatch):
    # the walk starts from the regions of many random points; from one point it must
    # find the same regions, with the same facets and neighbours
    net = Network.random([3, 1, 12, 1], seed=22, bias_scale=0.5)  # a chain of slabs
    box = Box(-1.0, 1.0, dim=3)
    many = enumerate_regions(net, box)
    monkeypatch.setattr(nd, "_N_START", 1)
    one = enumerate_regions(net, box)
    assert many.n_activation_regions == one.n_activation_regions >= 5
    assert _topology(many) == _topology(one)


def test_the_domains_box_as_outer_bound_changes_nothing(monkeypatch):
    # in high dimensions the kernel takes the domain's box as every region's outer bound
    # (instead of 2n LPs for the region's own bounding box): the facets must not change
    net = Network.random([9, 5, 4, 1], seed=5, bias_scale=0.5)
    box = Box(-1.0, 1.0, dim=9)
    fast = enumerate_regions(net, box)
    monkeypatch.setattr(nd, "_outer_box", lambda dom: None)
    slow = enumerate_regions(net, box)
    assert fast.n_activation_regions == slow.n_activation_regions > 20
    assert _topology(fast) == _topology(slow)


def test_include_output_splits_on_the_decision_boundary(rng):
    net = Network.random([3, 5, 4, 1], seed=11)
    res = enumerate_regions(net, include_output=True)
    base = enumerate_regions(net)
    assert res.patterns.shape[1] == net.n_units + 1
    assert res.n_activation_regions > base.n_activation_regions
    x = rng.normal(scale=3.0, size=(5000, 3))
    pats = np.hstack([net.pattern(x), (net(x) > 0).astype(np.int8)])
    assert res.n_activation_regions >= len({p.tobytes() for p in pats})
    assert np.all(res.locate(x) >= 0)
    # the output has one sign on each region
    assert np.all(np.sign(net(res.centres)[:, 0]) == np.where(res.patterns[:, -1] == 1, 1, -1))


def test_whole_plane_matches_the_plane_engine():
    import reluscope.regions as regions

    on_plane = getattr(regions, "on_plane", None)
    if on_plane is None:  # pragma: no cover - the 2-D engine ships with the package
        pytest.skip("reluscope.regions.on_plane is not available")
    for seed, act in enumerate(["relu", "hardtanh", "abs", "leaky_relu"]):
        net = Network.random([2, 8, 8, 1], seed=seed, activation=act)
        plane = on_plane(net, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0])
        res = enumerate_regions(net)
        assert res.n_activation_regions == plane.n_activation_regions
        assert res.n_linear_regions == plane.n_linear_regions
        boxed = on_plane(net, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], bounds=(-1, 1, -1, 1))
        assert enumerate_regions(net, Box(-1, 1, dim=2)).n_activation_regions == boxed.n_activation_regions


# Activation regions of Network.random(widths, seed=0) over all of R^n found by two other
# tools, printed by benchmarks/reference_counts_nd.py: relucent 1.0 (Complex(model).bfs(),
# LPs with gurobipy 13, restricted licence) and affinitree 0.23 (Rust, AffTree distillation).
RELUCENT_COUNTS = {(2, 8, 8, 1): 111, (3, 8, 8, 1): 794, (2, 16, 16, 1): 450, (3, 6, 6, 6, 1): 619}
AFFINITREE_COUNTS = {(2, 8, 8, 1): 111, (3, 8, 8, 1): 794, (2, 16, 16, 1): 450, (3, 6, 6, 6, 1): 619,
                     (3, 16, 16, 1): 4297, (4, 8, 8, 1): 2375, (5, 8, 8, 1): 5529}


@pytest.mark.parametrize("widths", sorted(set(RELUCENT_COUNTS) | set(AFFINITREE_COUNTS)))
def test_counts_match_relucent_and_affinitree(widths):
    net = Network.random(list(widths), seed=0)
    n = enumerate_regions(net).n_activation_regions
    for counts in (RELUCENT_COUNTS, AFFINITREE_COUNTS):
        assert counts.get(widths, n) == n


# ---------------------------------------------------------------------- caps, checkpoints, errors
def _pattern_set(res):
    return {p.tobytes() for p in res.patterns}


def test_max_regions_gives_a_partial_result():
    net = Network.random([3, 8, 8, 1], seed=0)
    with pytest.warns(PartialResultWarning, match="max_regions=40"):
        res = enumerate_regions(net, max_regions=40)
    assert res.is_partial and res.n_activation_regions == 40
    full = enumerate_regions(net)
    assert _pattern_set(res) <= _pattern_set(full)
    assert res.locate(res.centres).tolist() == list(range(40))


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path, monkeypatch):
    net = Network.random([3, 6, 6, 1], seed=4)
    full = enumerate_regions(net)
    ck = tmp_path / "walk.npz"
    with pytest.warns(PartialResultWarning):
        part = enumerate_regions(net, max_regions=15, checkpoint=ck)
    assert part.is_partial and ck.exists()
    with np.load(ck, allow_pickle=False) as z:  # plain arrays, no pickles
        assert int(z["head"]) > 0
    resumed = enumerate_regions(net, checkpoint=ck)
    assert not resumed.is_partial
    assert _pattern_set(resumed) == _pattern_set(full)
    assert resumed.n_linear_regions == full.n_linear_regions
    assert len(resumed.edges) == len(full.edges)
    # Ctrl-C in the middle of the walk: the state is saved, and resuming finishes it
    ck2 = tmp_path / "walk2.npz"
    monkeypatch.setattr(nd, "_WAVE", 5)
    real_wave, calls = nd._wave, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_wave(*args, **kwargs)

    monkeypatch.setattr(nd, "_wave", interrupted)
    with pytest.raises(KeyboardInterrupt):
        enumerate_regions(net, checkpoint=ck2)
    assert ck2.exists()
    monkeypatch.setattr(nd, "_wave", real_wave)
    again = enumerate_regions(net, checkpoint=ck2)
    assert _pattern_set(again) == _pattern_set(full)
    # a checkpoint of another problem is refused, and the file is left alone
    with pytest.raises(InvalidParameterError, match="checkpoint"):
        enumerate_regions(Network.random([3, 6, 6, 1], seed=5), checkpoint=ck2)
    assert enumerate_regions(net, checkpoint=ck2).n_activation_regions == full.n_activation_regions


def test_progress_bar_runs(capsys):
    res = enumerate_regions(Network.random([2, 4, 1], seed=0), progress=True)
    assert res.n_activation_regions >= 1


def test_region_objects_and_graph():
    net = Network.random([3, 5, 1], seed=2)
    res = enumerate_regions(net, Box(-1, 1, dim=3))
    r = res.region(0)
    assert r.A.shape[1] == 3 and r.neighbors.shape == r.units.shape == r.b.shape
    assert np.all((r.units == -1) == (r.neighbors == -1))  # only the box's faces have no neighbour
    g = res.dual_graph()
    assert g.number_of_edges() == len(res.edges)
    with pytest.raises(IndexError):
        res.region(len(res))
    assert res.locate(np.full(3, 5.0)) == -1  # outside the box


def test_bad_inputs():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="net"):
        enumerate_regions("not a net")
    with pytest.raises(InvalidParameterError, match="tol"):
        enumerate_regions(net, tol=0.5)
    with pytest.raises(InvalidParameterError, match="max_regions"):
        enumerate_regions(net, max_regions=0)
    with pytest.raises(InvalidParameterError, match="backend"):
        enumerate_regions(net, backend="gpu")
    with pytest.raises(DomainError, match="empty interior"):
        enumerate_regions(net, Box([0.0, 0.0], [1.0, 0.0]))
    with pytest.raises(DomainError):
        enumerate_regions(net, Polytope([[1.0, 0.0], [-1.0, 0.0]], [0.0, -1.0]))


def test_warnings_are_not_raised_on_complete_runs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enumerate_regions(Network.random([2, 6, 1], seed=1))


# ---------------------------------------------------------------------- the LP solvers themselves
def _random_lps(rng, count):
    for trial in range(count):
        d, m = int(rng.integers(1, 8)), int(rng.integers(1, 40))
        A = rng.normal(size=(m, d))
        if trial % 3 == 0:
            A[:, 0] = 0.0  # a line in the feasible set
        if trial % 5 == 0 and m > 2:
            A[1] = A[0]  # a repeated row
        A /= np.maximum(np.linalg.norm(A, axis=1), 1e-300)[:, None]
        y0 = rng.normal(size=d)
        b = A @ y0 + rng.uniform(0, 2, size=m) * (rng.random(m) < 0.8)  # some rows tight at y0
        c = rng.normal(size=d)
        yield A, b, c, y0


@pytest.mark.parametrize("backend", BACKENDS)
def test_lp_solvers_match_highs(backend):
    rng = np.random.default_rng(3)
    lps = list(_random_lps(rng, 300))
    if backend == "numba":
        from reluscope.regions._nd_kernels import lp_max

        def solve(A, b, c, y0):
            m, d = A.shape
            y = y0.copy()
            st = lp_max(A, b, c, y, m, d, np.zeros(d, np.int64), np.zeros((4, d, d)),
                        np.zeros((6, m + d + 2)), 1000)
            return st, y
    else:
        from reluscope.regions._nd_batch import lp_max_batch

        def solve(A, b, c, y0):
            st, y, _ = lp_max_batch(A[None], b[None], c[None], y0[None], np.ones((1, len(b)), bool), 1000)
            return st[0], y[0]

    for A, b, c, y0 in lps:
        st, y = solve(A, b, c, y0)
        ref = linprog(-c, A_ub=A, b_ub=b, bounds=[(None, None)] * A.shape[1], method="highs")
        if ref.status == 3:
            assert st == 1
        else:
            assert st == 0
            assert np.all(A @ y <= b + 1e-9)
            assert c @ y == pytest.approx(-ref.fun, rel=1e-8, abs=1e-8)


def test_lp_max_on_larger_lps_with_many_pivots():
    # 60-100 variables and six times as many rows: about 100-300 simplex pivots each (counted
    # once with a print in the loop), so the inverse of the basis goes through many rank-one
    # updates and refactorisations (every REFACTOR = 32 pivots)
    from reluscope.regions._nd_kernels import lp_max

    rng = np.random.default_rng(8)
    for _ in range(6):
        d = int(rng.integers(60, 100))
        m = 6 * d
        A = np.vstack([np.eye(d), -np.eye(d), rng.normal(size=(m - 2 * d, d))])
        A /= np.linalg.norm(A, axis=1)[:, None]
        b = np.concatenate([np.ones(2 * d), rng.uniform(0.2, 1.0, size=m - 2 * d)])
        c = rng.normal(size=d)
        y = np.zeros(d)
        st = lp_max(A, b, c, y, m, d, np.zeros(d, np.int64), np.zeros((4, d, d)), np.zeros((6, m + d + 2)), 5000)
        ref = linprog(-c, A_ub=A, b_ub=b, bounds=[(None, None)] * d, method="highs")
        assert st == 0
        assert np.all(A @ y <= b + 1e-9)
        assert c @ y == pytest.approx(-ref.fun, rel=1e-9)


def test_lp_max_stops_at_the_target():
    from reluscope.regions._nd_kernels import lp_max

    A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    b = np.array([1.0, 1.0, 0.0, 0.0])
    work = (np.zeros(2, np.int64), np.zeros((4, 2, 2)), np.zeros((6, 6)), 100)
    c = np.array([1.0, 0.1])  # the path from (0, 0): to (1, 0.1) (value 1.01), then to (1, 1) (1.1)
    y = np.zeros(2)
    assert lp_max(A, b, c, y, 4, 2, *work, 0.5) == 0
    assert 0.5 <= c @ y < 1.1 and np.all(A @ y <= b + 1e-12)  # feasible, above the target, short of 1.1
    y = np.zeros(2)
    assert lp_max(A, b, c, y, 4, 2, *work) == 0
    np.testing.assert_allclose(y, [1.0, 1.0])


def test_every_facet_point_lies_in_its_facet():
    # the kernel's facet points must satisfy every row but the facet's own (and rows
    # coincident with it) with clearance. Rank-one updates of the simplex basis inverse once
    # drifted on this net without biases (started from the origin, where every hyperplane
    # meets) and returned points 1e-3 outside the region: spurious facets
    from reluscope.regions import _nd_kernels
    from reluscope.regions._nd_geometry import halfspaces, unit_table

    net = Network.random([7, 5, 3, 2, 1], seed=749918215, activation="leaky_relu", bias="zero", bias_scale=3.0)
    box = Box(-1.0, 1.0, dim=7)
    res = enumerate_regions(net, box)
    rows = nd._domain_rows(box, 7)
    hr = halfspaces(unit_table(net, False), res.patterns.astype(np.int8), 1e-9, domain_rows=rows)
    tol_abs = 2e-9
    for seeds in (res.centres, np.zeros_like(res.centres)):
        _, radius, facet, fpoint, tied, status = _nd_kernels.analyse_regions(
            hr.G, hr.h, hr.valid, seeds, 20.0, tol_abs, 500, -np.ones(7), np.ones(7), 14)
        assert np.all(radius > tol_abs)
        r, i = np.nonzero(facet)
        assert len(r) > 5000
        slack = hr.h[r] - np.einsum("fkn,fn->fk", hr.G[r], fpoint[r, i])
        others = hr.valid[r] & ~tied[r, i]
        assert np.all(np.where(others, slack, np.inf) > tol_abs)
        assert np.all(np.abs(slack[np.arange(len(r)), i]) <= 1e-12)


@pytest.mark.skipif("numba" not in BACKENDS, reason="the compiled kernels need numba")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), include_output=st.booleans(), seed=st.integers(0, 1000))
def test_compiled_forward_passes_match_numpy(net, include_output, seed):
    # patterns and H-representations from the compiled loops (_nd_geometry_kernels) against
    # the NumPy reference, on degenerate nets too (dead units, coincident rows, zero biases)
    from reluscope.regions._nd_geometry import halfspaces, patterns_at, unit_table

    rng = np.random.default_rng(seed)
    table = unit_table(net, include_output)
    x = rng.normal(size=(40, net.n_in)) * 3.0
    x[0] = 0.0  # on every hyperplane of a net without biases
    pats = patterns_at(table, x)
    np.testing.assert_array_equal(patterns_at(table, x, compiled=True), pats)
    rows = nd._domain_rows(Box(-1.0, 2.0, dim=net.n_in), net.n_in)
    want = halfspaces(table, pats, 1e-9, domain_rows=rows)
    got = halfspaces(table, pats, 1e-9, compiled=True, domain_rows=rows)
    for name, a, b in zip(want._fields, want, got, strict=True):
        assert a.shape == b.shape, name
        if a.dtype == bool:
            np.testing.assert_array_equal(b, a, err_msg=name)
        else:
            # (rows of nearly constant units divide rounding by a tiny norm: 1e-11 seen)
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=name)
    assert want.G.shape[1] == table.n_rows + 2 * net.n_in


def test_cones_of_a_net_without_biases_have_exactly_their_facets():
    # without biases every region is a cone at the origin; over all of R^n the walk runs in
    # [-1, 1]^n, where the cones and their facets are the same. The walk over all of R^n had
    # two extra facets here (lower-dimensional faces, from LP points far out on thin cones).
    # Oracle: each row's section radius in the unit box, by scipy's HiGHS
    net = Network.random([7, 2, 5, 4, 1], seed=1362531472, activation="leaky_relu", bias="zero",
                         bias_scale=0.7628241674182362)
    res = enumerate_regions(net)
    assert res.n_activation_regions == 20
    np.testing.assert_array_equal(res.radii, res.radius_cap)  # cones are unbounded
    np.testing.assert_array_equal(net.pattern(res.centres), res.patterns)
    basis = nd._row_space(net)  # rank 2: the regions are cylinders over the first layer's row space
    first = net.layers[0]
    reduced = net.with_layers([(first.weight @ basis, first.bias, first.activation), *net.layers[1:]])
    from reluscope.regions._nd_geometry import halfspaces, unit_table

    table = unit_table(reduced, False)
    hr = halfspaces(table, res.patterns.astype(np.int8), 1e-9)
    k = basis.shape[1]
    E = np.vstack([np.eye(k), -np.eye(k)])
    for r in range(res.n_activation_regions):
        G, h, v = hr.G[r], hr.h[r], hr.valid[r]
        want = set()
        for q in np.nonzero(v)[0]:
            o = v.copy()
            o[q] = False
            sines = np.sqrt(np.maximum(1.0 - (np.vstack([G[o], E]) @ G[q]) ** 2, 0.0))
            lp = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.hstack([np.vstack([G[o], E]), sines[:, None]]),
                         b_ub=np.r_[h[o], np.ones(2 * k)], A_eq=np.r_[G[q], 0.0][None], b_eq=[h[q]],
                         bounds=[(None, None)] * k + [(None, 1.0)], method="highs")
            if lp.status == 0 and -lp.fun > 1e-6:
                want.add(int(table.row_unit[q]))
        got = res.facet_units[res.facet_offsets[r]:res.facet_offsets[r + 1]]
        assert sorted(got.tolist()) == sorted(want), r
        assert np.all(got >= 0)  # no facet of the box the walk ran in


def test_neighbours_merge_only_when_their_constant_terms_agree_too():
    # found by fuzzing against regions.on_plane: two unbounded neighbours whose gradients are
    # within map_tol (the switching unit's gradient is damped by three leaky slopes) but whose
    # shared facet lies far from the origin, so their constant terms differ by 3.5e-5; the
    # walk merged them on gradients alone (41 linear regions, on_plane 42)
    from reluscope.regions import on_plane

    net = Network.random([2, 2, 5, 2, 1], seed=972137901, activation="leaky_relu", bias="normal", bias_scale=1.0)
    res = enumerate_regions(net)
    plane = on_plane(net, [0, 0], [1, 0], [0, 1])
    assert (res.n_activation_regions, res.n_linear_regions) == (plane.n_activation_regions,
                                                                 plane.n_linear_regions)
    lab = res.linear_labels
    e = res.edges[lab[res.edges[:, 0]] == lab[res.edges[:, 1]]]
    scale = 1.0 + max(np.abs(res.A_out).max(), np.abs(res.c_out).max())
    assert np.all(np.abs(res.c_out[e[:, 0]] - res.c_out[e[:, 1]]) <= res.map_tol * scale)
