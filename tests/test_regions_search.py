"""The depth-first region search (``regions.enumerate(..., method="search")``), checked
against the walk (an independent algorithm: a breadth-first walk over facets), the
hand counts of the zoo, an LP-tree count written with scipy (test_regions_nd), SCIP's
MILP count, dense sampling, and the network at the witness points."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope.regions._nd_search as nd_search
from reluscope import Box, InvalidParameterError, Network, PartialResultWarning, Polytope, SolverError
from reluscope.regions._nd import enumerate as enumerate_regions
from reluscope.regions._nd_geometry import halfspaces, unit_table
from test_regions_nd import _box_around, _check_regions, _line_vertices, _topology, lp_tree_count, networks
from zoo import zoo


def _keys(res):
    return {p.tobytes() for p in res.patterns.astype(np.int8)}


def _check_witnesses(net, res, dom, include_output=False):
    """Each witness point has its region's pattern, lies in the domain, and keeps the
    margin tol * width from every unit's breakpoints (the search's rule)."""
    pts = res.points
    assert pts.shape == (len(res), net.n_in)
    assert np.all(dom.contains(pts, 1e-9))
    table = unit_table(net, include_output)
    hr = halfspaces(table, res.patterns, res.tol)
    margin = res.tol * float(np.max(dom.hi - dom.lo)) if isinstance(dom, Box) else 0.0
    rows = hr.G[:, : table.n_rows]
    slack = hr.h[:, : table.n_rows] - np.einsum("rik,rk->ri", rows, pts)
    assert np.all(slack[hr.valid[:, : table.n_rows]] >= 0.99 * margin)  # LP feasibility tolerance: 1e-3


@pytest.mark.parametrize("z", [z for z in zoo() if z.domain is not None], ids=lambda z: z.name)
def test_zoo_hand_counts_on_their_box(z, rng):
    dom = Box(*z.domain)
    res = enumerate_regions(z.net, dom, method="search")
    assert res.n_activation_regions == z.n_activation_regions
    assert res.n_linear_regions == z.n_linear_regions
    _check_regions(z.net, res, rng, dom, n_samples=2000)
    _check_witnesses(z.net, res, dom)


@pytest.mark.parametrize("z", [z for z in zoo() if z.net.n_in == 2 and z.domain is None], ids=lambda z: z.name)
def test_zoo_counts_on_a_box_holding_every_vertex(z):
    # a box containing every crossing of the lines has the whole plane's count
    box = _box_around(_line_vertices(z.net), margin=1.0)
    res = enumerate_regions(z.net, box, method="search")
    assert res.n_activation_regions == z.n_activation_regions
    assert res.n_linear_regions == z.n_linear_regions


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=networks(), include_output=st.booleans(), seed=st.integers(0, 1000))
def test_random_networks_search_equals_walk(net, include_output, seed):
    # degenerate networks included: zero biases, dead units, duplicated and scaled units
    rng = np.random.default_rng(seed)
    dom = Box(-2.0, 2.0, dim=net.n_in)
    walk = enumerate_regions(net, dom, method="walk", include_output=include_output)
    search = enumerate_regions(net, dom, method="search", include_output=include_output)
    assert _keys(search) == _keys(walk)
    assert search.n_linear_regions == walk.n_linear_regions
    # the geometry computed on first access is the walk's: same facets, same neighbours
    assert _topology(search) == _topology(walk)
    _check_witnesses(net, search, dom, include_output)
    if not include_output:
        _check_regions(net, search, rng, dom, n_samples=2000)


def test_lp_tree_oracle_on_a_triangle():
    net = Network.random([2, 6, 5, 1], seed=4, bias_scale=0.5)
    A = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    b = np.array([1.0, 1.0, 1.0])
    res = enumerate_regions(net, Polytope(A, b), method="search")
    assert res.n_activation_regions == lp_tree_count(net, A, b) > 5
    walk = enumerate_regions(net, Polytope(A, b), method="walk")
    assert _keys(res) == _keys(walk)
    assert np.all(Polytope(A, b).contains(res.points, 1e-9))


@pytest.mark.parametrize("seed", range(3))
def test_counts_equal_serra_milp_in_twelve_dimensions(seed):
    from reluscope.milp import count_regions

    net = Network.random([12, 6, 5, 1], seed=seed, bias_scale=0.5)
    box = Box(-1.0, 1.0, dim=12)
    res = enumerate_regions(net, box)  # auto: the search in 12-D
    assert res.maps_source is not None and callable(res.geometry_source)
    milp = count_regions(net, box)
    assert res.n_activation_regions == milp.count > 20
    walk = enumerate_regions(net, box, method="walk")
    assert _keys(res) == _keys(walk)


def test_dense_sampling_is_a_lower_bound_in_ten_dimensions(rng):
    net = Network.random([10, 8, 6, 1], seed=2, bias_scale=0.5)
    box = Box(-1.0, 1.0, dim=10)
    res = enumerate_regions(net, box, method="search")
    sampled = {p.tobytes() for p in net.pattern(box.sample(200_000, rng))}
    assert sampled <= _keys(res)
    assert len(res) >= len(sampled) > 50


def test_max_regions_gives_the_first_patterns_in_order():
    net = Network.random([5, 7, 6, 1], seed=1)
    box = Box(-1.0, 1.0, dim=5)
    full = enumerate_regions(net, box, method="search")
    keys = sorted(p.tobytes() for p in full.patterns.astype(np.int8))
    assert [p.tobytes() for p in full.patterns.astype(np.int8)] == keys  # lexicographic order
    with pytest.warns(PartialResultWarning, match="max_regions=17"):
        part = enumerate_regions(net, box, method="search", max_regions=17)
    assert part.is_partial and len(part) == 17
    np.testing.assert_array_equal(part.patterns, full.patterns[:17])
    assert not full.is_partial


def test_both_pricing_rules_find_the_same_regions():
    # steepest-edge pricing (the default from 256 inputs) and the largest violation
    from reluscope.regions import _tree_kernels as tk

    net = Network.random([7, 8, 6, 1], seed=8, bias_scale=0.5)
    pk = unit_table(net, False).packed
    args = (pk, -np.ones(7), np.ones(7), np.zeros((0, 7)), np.zeros(0), np.zeros(0),
            np.linspace(0.3, 1.0, 7) / np.linalg.norm(np.linspace(0.3, 1.0, 7)), 1e-9, 2e-9, 2e-12, 10**5)
    plain = tk.search(*args, steepest=False)
    steep = tk.search(*args, steepest=True)
    assert plain[2] and steep[2] and plain[3] == steep[3] == tk.OK
    np.testing.assert_array_equal(plain[0], steep[0])
    assert len(plain[0]) > 100
    np.testing.assert_array_equal(net.pattern(steep[1]), steep[0])


def test_threads_give_the_same_result(monkeypatch):
    net = Network.random([6, 8, 8, 1], seed=3)
    box = Box(-1.0, 1.0, dim=6)
    one = enumerate_regions(net, box, method="search", n_jobs=1)
    monkeypatch.setattr(nd_search, "_FIRST_CHUNK", 16)  # cut the search for the threads early
    real_split, parts = nd_search._split, []
    monkeypatch.setattr(nd_search, "_split", lambda *a: parts.append(real_split(*a)) or parts[-1])
    two = enumerate_regions(net, box, method="search", n_jobs=2)
    assert len(parts) == 1 and len(parts[0]) == 2 * nd_search._SPLITS_PER_THREAD
    assert len(one) > 200
    np.testing.assert_array_equal(two.patterns, one.patterns)
    np.testing.assert_array_equal(two.points, one.points)


def interrupt_fourth_chunk(monkeypatch):
    """Make the search's fourth chunk raise KeyboardInterrupt (Ctrl-C); returns the real ``run``."""
    real_run, calls = nd_search._Search.run, []

    def flaky(self, iv, k):
        calls.append(k)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_run(self, iv, k)

    monkeypatch.setattr(nd_search._Search, "run", flaky)
    return real_run


def test_interrupted_search_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(nd_search, "_FIRST_CHUNK", 8)
    monkeypatch.setattr(nd_search, "_MAX_CHUNK", 16)
    net = Network.random([5, 8, 6, 1], seed=6)
    box = Box(-1.0, 1.0, dim=5)
    ref = enumerate_regions(net, box, method="search", n_jobs=1)
    path = tmp_path / "search.npz"
    interrupt_fourth_chunk(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        enumerate_regions(net, box, method="search", n_jobs=1, checkpoint=str(path))
    assert path.exists()
    with np.load(path) as z:
        saved = int(z["patterns_0"].shape[0])
    assert saved == 8 + 16 + 16 < len(ref)
    res = enumerate_regions(net, box, method="search", n_jobs=1, checkpoint=str(path))
    np.testing.assert_array_equal(res.patterns, ref.patterns)
    np.testing.assert_array_equal(res.points, ref.points)
    # a checkpoint of another problem (or of the walk) is refused, not resumed
    with pytest.raises(InvalidParameterError, match="different network"):
        enumerate_regions(net, box, method="walk", checkpoint=str(path))


def test_a_failed_search_falls_back_to_the_walk(monkeypatch, tmp_path):
    net = Network.random([8, 5, 4, 1], seed=0)
    box = Box(-1.0, 1.0, dim=8)
    ref = enumerate_regions(net, box, method="walk")

    def fail(self, iv, k):
        raise nd_search.SearchFailed("an LP of the search failed")

    monkeypatch.setattr(nd_search._Search, "run", fail)
    res = enumerate_regions(net, box)  # auto would search in 8-D
    assert _keys(res) == _keys(ref)
    with pytest.raises(SolverError, match="method='walk'"):
        enumerate_regions(net, box, method="search")
    with pytest.raises(SolverError, match="method='walk'"):  # a search's checkpoint is not the walk's
        enumerate_regions(net, box, checkpoint=str(tmp_path / "c.npz"))


def test_lazy_parts_are_computed_on_first_access():
    net = Network.random([9, 6, 6, 2], seed=5)
    box = Box(-1.0, 1.0, dim=9)
    res = enumerate_regions(net, box)
    assert callable(res.maps_source) and callable(res.geometry_source)
    assert "geometry" not in res.__dict__ and "_maps" not in res.__dict__
    assert len(res) > 50  # counting computes neither
    y = np.einsum("rok,rk->ro", res.A_out, res.points) + res.c_out
    np.testing.assert_allclose(y, net(res.points), rtol=1e-9, atol=1e-9)
    assert "geometry" not in res.__dict__
    np.testing.assert_array_equal(net.pattern(res.centres), res.patterns)
    assert np.all(res.radii > 1e-9)


def test_bad_method_arguments():
    net = Network.random([3, 4, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="'method' must be one of"):
        enumerate_regions(net, Box(-1.0, 1.0, dim=3), method="bfs")
    with pytest.raises(InvalidParameterError, match="needs a bounded domain"):
        enumerate_regions(net, None, method="search")


def test_empty_polytope_is_refused():
    from reluscope import DomainError

    net = Network.random([2, 4, 1], seed=0)
    flat = Polytope(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 0.0]), box=Box(-1.0, 1.0, dim=2))
    with pytest.raises(DomainError):
        enumerate_regions(net, flat, method="search")


def test_warnings_are_errors_and_none_is_raised():
    net = Network.random([8, 4, 4, 1], seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = enumerate_regions(net, Box(0.0, 1.0, dim=8))
    assert len(res) > 10 and not res.is_partial


@pytest.mark.parametrize("steepest", [False, True])
@pytest.mark.parametrize("infeasible", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_dual_simplex_matches_highs_and_its_tableau_rebuilds(seed, infeasible, steepest):
    # the search's LP kernel on a random LP in a box (ranged rows), against scipy's HiGHS;
    # then the tableau after the pivots equals one rebuilt from the rows (no drift)
    from scipy.optimize import linprog

    from reluscope.regions import _tree_kernels as tk

    rng = np.random.default_rng(seed)
    n, m = 6, 4
    A = rng.normal(size=(m, n))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    lo_r = rng.uniform(-1.0, 0.0, size=m)
    hi_r = lo_r + rng.uniform(0.05, 0.5, size=m)  # narrow slabs: the box's corner is outside them
    if infeasible:  # one more row: -A[0] x in a range that contradicts A[0] x in [lo_r[0], hi_r[0]]
        A = np.vstack([A, -A[0]])
        lo_r, hi_r = np.append(lo_r, -lo_r[0] + 0.01), np.append(hi_r, -lo_r[0] + 0.5)
        m += 1
    cost = rng.normal(size=n)
    T, t0 = A.copy(), np.zeros(m)
    bv, nbv = np.arange(n, n + m), np.arange(n)
    where = np.concatenate([np.arange(n), -np.arange(1, m + 1)])
    y, d, val = -np.ones(n), cost.copy(), np.zeros(m)
    vlo, vhi = np.concatenate([-np.ones(n), lo_r]), np.concatenate([np.ones(n), hi_r])
    status, pivots = tk._minimise(n, m, T, t0, bv, nbv, y, where, d, val, vlo, vhi, 1e-12, 1000, steepest)
    ref = linprog(cost, A_ub=np.vstack([A, -A]), b_ub=np.concatenate([hi_r, -lo_r]), bounds=[(-1, 1)] * n,
                  method="highs")
    if infeasible:
        assert ref.status == 2 and status == -2
        return
    assert ref.status == 0 and status == 0 and pivots >= 1
    x = np.zeros(n)
    tk._point(n, bv, where, y, val, x)
    assert np.all(np.abs(x) <= 1 + 1e-9) and np.all(A @ x >= lo_r - 1e-9) and np.all(A @ x <= hi_r + 1e-9)
    np.testing.assert_allclose(cost @ x, ref.fun, atol=1e-9)
    T2, t2 = T.copy(), t0.copy()
    assert tk._refactor(n, m, T2, t2, bv, nbv, where, A, np.zeros(m))
    np.testing.assert_allclose(T2, T, atol=1e-10)
    np.testing.assert_allclose(t2, t0, atol=1e-10)
