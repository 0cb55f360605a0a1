"""The region search through the first layer's outputs (``regions/_nd_project.py``), used on
boxes when the first layer is much narrower than the input: checked against the search over
the inputs alone (itself checked against the walk), SCIP's count, the network at the
witnesses, and the parts' own claims (candidates hold every region; the coarse inputs
stay in the box and compute the same first layer; confirmed witnesses keep the margin)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope.regions._nd_project as nd_project
import reluscope.regions._nd_search as nd_search
from reluscope import Box, Network
from reluscope.regions import _tree_kernels as tk
from reluscope.regions._nd import enumerate as enumerate_regions
from reluscope.regions._nd_geometry import unit_table
from reluscope.regions._nd_project import _cluster, projection
from test_regions_search import _check_witnesses, interrupt_fourth_chunk


@pytest.fixture(autouse=True)
def _small_nets_projected(monkeypatch):
    """The projection from any number of inputs (the search uses it from 256 on, where it
    pays; these nets are small so that the search over the inputs can check it)."""
    monkeypatch.setattr(nd_project, "_MIN_INPUTS", 1)


def _both(net, box, monkeypatch, **kw):
    """The search with and without the projection."""
    monkeypatch.setattr(nd_search, "_PROJECT", True)
    on = enumerate_regions(net, box, method="search", **kw)
    monkeypatch.setattr(nd_search, "_PROJECT", False)
    off = enumerate_regions(net, box, method="search", **kw)
    monkeypatch.setattr(nd_search, "_PROJECT", True)
    return on, off


def _setup(net, box, tol=1e-9):
    """The projection the search builds for ``net`` on ``box`` (same margins)."""
    table = unit_table(net, False)
    lo, hi = np.asarray(box.lo, float), np.asarray(box.hi, float)
    margin = tol * float(np.max(hi - lo))
    ftol = max(1e-3 * margin, 1e-14 * float(np.max(hi - lo)))
    return table, projection(table, lo, hi, tol, margin, ftol), margin, ftol


@st.composite
def narrow_first_layer(draw):
    """Networks whose first layer is much narrower than the input, degenerate ones included."""
    n_in = draw(st.sampled_from([6, 9, 14, 33, 48]))
    n1 = draw(st.integers(1, 3))
    depth = draw(st.integers(1, 2))
    widths = [n_in, n1] + [draw(st.integers(1, 4)) for _ in range(depth)] + [1]
    act = draw(st.sampled_from(["relu", "leaky_relu", "abs", "hardtanh"]))
    net = Network.random(widths, seed=draw(st.integers(0, 2**16)), activation=act,
                         bias_scale=draw(st.sampled_from([0.0, 0.3, 1.0])))
    layers = [(layer.weight.copy(), layer.bias.copy(), layer.activation) for layer in net.layers]
    kind = draw(st.sampled_from(["generic", "dead_inputs", "dead_unit", "duplicate", "zero_bias"]))
    W, b, _ = layers[1]
    if kind == "dead_inputs":  # inputs no unit sees (an MNIST border pixel)
        layers[0][0][:, : n_in // 3] = 0.0
    elif kind == "dead_unit":
        W[0], b[0] = 0.0, -1.0
    elif kind == "duplicate" and W.shape[0] >= 2:
        W[1], b[1] = W[0], b[0]
    elif kind == "zero_bias":
        b[:] = 0.0
    return Network(layers)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(net=narrow_first_layer(), shift=st.floats(-0.5, 0.5))
def test_projected_search_equals_the_search_over_the_inputs(net, shift, monkeypatch):
    box = Box(-1.0 + shift, 1.0 + 2 * shift, dim=net.n_in)
    assert _setup(net, box)[1] is not None  # (the projection is used)
    on, off = _both(net, box, monkeypatch)
    np.testing.assert_array_equal(on.patterns, off.patterns)
    np.testing.assert_array_equal(net.pattern(on.points), on.patterns)
    assert np.all(box.contains(on.points, 0.0))
    _check_witnesses(net, on, box)  # (each keeps the margin from every unit's hyperplane)
    assert on.n_linear_regions == off.n_linear_regions


@pytest.mark.parametrize("seed", range(2))
def test_projected_count_equals_serra_milp_in_forty_dimensions(seed):
    from reluscope.milp import count_regions

    net = Network.random([40, 3, 5, 1], seed=seed, bias_scale=0.5)
    box = Box(0.0, 1.0, dim=40)
    assert _setup(net, box)[1].levels  # a coarse level too (16 groups of inputs)
    res = enumerate_regions(net, box)
    assert res.n_activation_regions == count_regions(net, box).count > 10


def test_candidates_hold_every_region(monkeypatch):
    net = Network.random([48, 3, 6, 1], seed=4, bias_scale=0.5)
    box = Box(0.0, 1.0, dim=48)
    table, proj, *_ = _setup(net, box)
    cands, zpts, done, status = proj.candidates(tk, None, None, 10**5)
    assert done and status == tk.OK
    monkeypatch.setattr(nd_search, "_PROJECT", False)
    regions = enumerate_regions(net, box, method="search")
    keys = {p.tobytes() for p in cands}
    assert {p.tobytes() for p in regions.patterns.astype(np.int8)} <= keys
    assert len(cands) >= len(regions) > 20
    # each candidate's point lies in its cell (over z, the first layer's outputs)
    z_net = Network([(np.eye(3), np.zeros(3), net.layers[0].activation), *net.layers[1:]])
    np.testing.assert_array_equal(z_net.pattern(zpts), cands)


def test_coarse_inputs_stay_in_the_box_and_compute_the_same_first_layer(rng):
    net = Network.random([200, 4, 3, 1], seed=1)
    box = Box(-2.0, 3.0, dim=200)
    table, proj, *_ = _setup(net, box)
    assert [lv.table.weights[0].shape[1] for lv in proj.levels] == [16, 64]
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    for lv in proj.levels:
        G = lv.table.weights[0].shape[1]
        t = np.vstack([rng.random((50, G)), np.zeros((1, G)), np.ones((1, G))])
        x = lv.expand(t, np.full(200, -np.inf), np.full(200, np.inf))  # (unclipped: the map itself)
        assert np.all(box.contains(x, 1e-12))
        np.testing.assert_allclose(t @ lv.table.weights[0].T + lv.table.biases[0], x @ W1.T + b1, atol=1e-10)
        # t = 1/2 is the box's centre; every input in some group (none of W1's columns is zero)
        np.testing.assert_allclose(lv.expand(np.full((1, G), 0.5), box.lo, box.hi)[0], np.full(200, 0.5))
        assert np.all(lv.groups >= 0) and len(np.unique(lv.groups)) == G


def test_clusters_group_parallel_columns_and_align_their_signs(rng):
    dirs = np.linalg.qr(rng.normal(size=(5, 3)))[0]  # three orthonormal directions
    which = rng.integers(0, 3, size=60)
    signs = rng.choice([-1.0, 1.0], size=60)
    V = dirs[:, which] * signs * rng.uniform(0.5, 2.0, size=60)
    lab, sign = _cluster(V, 3, np.random.default_rng(0))
    for g in range(3):  # each group is one direction, its columns pointing one way
        on = lab == g
        assert len(set(which[on])) == 1
        assert len(set(signs[on] * sign[on])) == 1


def test_confirm_needs_the_margin_in_the_inputs():
    # one unit x0 + x1 >= 0.5 of 40 inputs (a distance of 0.5 / sqrt(2) is a margin of 0.35)
    W1 = np.zeros((1, 40))
    W1[0, :2] = 1.0
    net = Network([(W1, np.array([-0.5]), "relu"), (np.ones((1, 1)), np.zeros(1), "identity")])
    box = Box(0.0, 1.0, dim=40)
    table, proj, margin, ftol = _setup(net, box)
    pats = np.array([[1], [1], [0], [0]], dtype=np.int8)
    x = np.full((4, 40), 0.5)
    x[0, :2] = 0.25 + margin  # 0.5 + 2 margin: sqrt(2) margin from the hyperplane (enough)
    x[1, :2] = 0.25 + 0.5 * margin  # 0.5 + margin: margin / sqrt(2) from it (too close)
    x[2, :2] = 0.1
    x[3, :2] = 0.3  # on the other piece
    z = x @ W1.T - 0.5
    np.testing.assert_array_equal(proj.confirm(pats, z), [True, False, True, False])


def _max_slack(G, h, valid, lo, hi, margin):
    """The largest ``s`` with ``G x + s <= h - margin`` (valid rows) over the box (scipy's HiGHS)."""
    from scipy.optimize import linprog

    A = G[valid]
    n = A.shape[1]
    res = linprog(np.r_[np.zeros(n), -1.0], A_ub=np.c_[A, np.ones(len(A))], b_ub=h[valid] - margin,
                  bounds=[*zip(lo, hi, strict=True), (None, 1.0)], method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("seed", range(4))
def test_leaf_lps_decide_as_highs_does(seed):
    from reluscope.regions import _leaf_kernels as lk
    from reluscope.regions._nd_geometry import halfspaces

    rng = np.random.default_rng(seed)
    net = Network.random([30, 4, 5, 3, 1], seed=seed, bias_scale=0.7,
                         activation=["relu", "leaky_relu", "abs", "hardtanh"][seed])
    box = Box(-1.0, 0.5, dim=30)
    table, proj, margin, ftol = _setup(net, box)
    pats = np.unique(np.vstack([net.pattern(box.sample(400, rng)),  # regions, and random patterns
                                rng.integers(0, 2 if seed != 3 else 3, size=(200, table.n_units))]),
                     axis=0).astype(np.int8)
    costs = rng.normal(size=(len(pats), 30))
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    st, x, piv = lk.leaf_lps(proj.ztable.packed, pats, W1, b1, box.lo, box.hi, costs, 1e-9, margin, ftol)
    hr = halfspaces(table, pats, 1e-9)
    checked = 0
    for r in range(len(pats)):
        if st[r] == lk.DEFER:
            assert not hr.valid[r].all()  # (a unit constant over the inputs there)
            continue
        assert st[r] in (lk.FEASIBLE, lk.EMPTY)
        s = _max_slack(hr.G[r], hr.h[r], hr.valid[r], box.lo, box.hi, margin)
        if abs(s) > 1e-7:
            assert (st[r] == lk.FEASIBLE) == (s > 0)
            checked += 1
        if st[r] == lk.FEASIBLE:
            assert np.all(box.contains(x[r:r + 1], 1e-12))
            np.testing.assert_array_equal(net.pattern(x[r:r + 1])[0], pats[r])
    assert checked > 100 and (st == lk.FEASIBLE).sum() > 20 and (st == lk.EMPTY).sum() > 20


def test_cuts_spare_lps_and_change_no_verdict():
    from reluscope.regions import _leaf_kernels as lk

    net = Network.random([60, 4, 8, 1], seed=11, bias_scale=0.3)
    box = Box(0.0, 1.0, dim=60)
    table, proj, margin, ftol = _setup(net, box)
    cands, zpts, done, _ = proj.candidates(tk, None, None, 10**5)
    assert done
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    costs = proj._toward(zpts, np.linspace(-1.0, 1.0, 60))
    plain = lk.leaf_lps(proj.ztable.packed, cands, W1, b1, box.lo, box.hi, costs, 1e-9, margin, ftol)
    pool = lk.CutPool.empty(4, 16)
    cut = lk.leaf_lps(proj.ztable.packed, cands, W1, b1, box.lo, box.hi, costs, 1e-9, margin, ftol, cuts=pool)
    np.testing.assert_array_equal(cut[0], plain[0])
    feasible = plain[0] == lk.FEASIBLE
    np.testing.assert_array_equal(cut[1][feasible], plain[1][feasible])
    spared = (cut[0] == lk.EMPTY) & (cut[2] == 0)
    assert spared.sum() > 0 and (plain[0] == lk.EMPTY).sum() > spared.sum()
    # each cut is a slab that holds Z = W1 [0, 1]^60 + b1 and (within its widening) touches it
    k = int(pool.state[0])
    assert k == min(16, (plain[0] == lk.EMPTY).sum() - spared.sum())
    for d, lo, hi in zip(pool.cuts[:k], pool.lo[:k], pool.hi[:k], strict=True):
        g = W1.T @ d
        top, bottom = (g > 0).astype(float), (g < 0).astype(float)  # the box's corners extreme along d
        assert lo <= d @ (W1 @ bottom + b1) <= lo + 1e-4 and hi - 1e-4 <= d @ (W1 @ top + b1) <= hi


def test_no_projection_where_it_cannot_pay_or_hold(monkeypatch):
    assert _setup(Network.random([200, 5, 1], seed=0), Box(0.0, 1.0, dim=200))[1] is not None
    monkeypatch.setattr(nd_project, "_MIN_INPUTS", 256)
    assert _setup(Network.random([200, 5, 1], seed=0), Box(0.0, 1.0, dim=200))[1] is None  # < 256 inputs
    assert _setup(Network.random([300, 5, 1], seed=0), Box(0.0, 1.0, dim=300))[1] is not None
    monkeypatch.setattr(nd_project, "_MIN_INPUTS", 1)
    box = Box(0.0, 1.0, dim=10)
    assert _setup(Network.random([10, 6, 1], seed=0), box)[1] is None  # 10 < 2 * 6 inputs
    net = Network.random([10, 3, 1], seed=0)
    W = net.layers[0].weight.copy()
    W[2] = W[0] + W[1]  # rank 2: the margin over z would vanish
    rank2 = net.with_layers([(W, net.layers[0].bias, "relu"), net.layers[1]])
    assert _setup(rank2, box)[1] is None


def test_projected_search_threads_and_resumes_alike(tmp_path, monkeypatch):
    net = Network.random([40, 4, 6, 1], seed=2, bias_scale=0.5)
    box = Box(0.0, 1.0, dim=40)
    one = enumerate_regions(net, box, method="search", n_jobs=1)
    assert len(one) > 100
    monkeypatch.setattr(nd_search, "_FIRST_CHUNK", 16)
    monkeypatch.setattr(nd_search, "_MAX_CHUNK", 32)
    two = enumerate_regions(net, box, method="search", n_jobs=2)
    np.testing.assert_array_equal(two.patterns, one.patterns)
    np.testing.assert_array_equal(two.points, one.points)
    # interrupted after three windows, then resumed from the checkpoint
    path = tmp_path / "search.npz"
    real_run = interrupt_fourth_chunk(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        enumerate_regions(net, box, method="search", n_jobs=1, checkpoint=str(path))
    with np.load(path) as z:
        assert 0 < z["patterns_0"].shape[0] < len(one) and z["cursor_0"].min() >= 0
    monkeypatch.setattr(nd_search._Search, "run", real_run)
    res = enumerate_regions(net, box, method="search", n_jobs=1, checkpoint=str(path))
    np.testing.assert_array_equal(res.patterns, one.patterns)
    np.testing.assert_array_equal(res.points, one.points)


def test_a_capped_search_shares_its_windows_between_threads(monkeypatch):
    import warnings

    from reluscope import PartialResultWarning

    net = Network.random([40, 4, 6, 1], seed=2, bias_scale=0.5)
    box = Box(0.0, 1.0, dim=40)
    monkeypatch.setattr(nd_search, "_MIN_WINDOW_SPLIT", 8)
    real, shared = nd_search._Search._regions, []

    def spy(self, proj, cands, zpts):
        shared.append(min(self.window_jobs, len(cands) // nd_search._MIN_WINDOW_SPLIT))
        return real(self, proj, cands, zpts)

    monkeypatch.setattr(nd_search._Search, "_regions", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialResultWarning)
        one = enumerate_regions(net, box, method="search", n_jobs=1, max_regions=100)
        two = enumerate_regions(net, box, method="search", n_jobs=2, max_regions=100)
    assert max(shared) == 2 and len(one) == 100 and one.is_partial
    np.testing.assert_array_equal(two.patterns, one.patterns)
    np.testing.assert_array_equal(two.points, one.points)


def test_bundled_digits_network_first_regions_agree(monkeypatch):
    # the bundled 64-16-16-10 classifier (millions of regions): the first 3,000 in order
    import warnings

    from reluscope import PartialResultWarning
    from reluscope.data import bundled_network

    net = bundled_network()
    box = Box(0.0, 1.0, dim=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialResultWarning)
        on, off = _both(net, box, monkeypatch, max_regions=3000)
    assert on.is_partial and off.is_partial
    np.testing.assert_array_equal(on.patterns, off.patterns)
    np.testing.assert_array_equal(net.pattern(on.points), on.patterns)
