"""Stability of units: planted truths, an independent LP-tree oracle, dense sampling, the zoo."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import reluscope as rs
from reluscope import Box, DomainError, HardTanh, InvalidParameterError, Network, Polytope
from reluscope.stability import STABLY_ACTIVE, STABLY_INACTIVE, UNSTABLE, stability
from zoo import always_on, dead_unit

# ---------------------------------------------------------------------------- helpers (shared with test_compress)


def _ibp_post(lo, hi, W, b):
    """Interval of relu(W h + b) for h in the box [lo, hi] (written out independently of reluscope)."""
    c, r = (lo + hi) / 2, (hi - lo) / 2
    mid, rad = W @ c + b, np.abs(W) @ r
    return mid - rad, mid + rad


def planted_network(n_in, widths, n_out=2, seed=0, n_dead=2, n_on=2, n_dep=1, margin=0.2, box=(-1.0, 1.0)):
    """A random ReLU network with planted dead, always-on and dependent always-on units.

    Dead unit: bias below minus the interval maximum of ``w . h`` (so ``g <= -margin`` on the box).
    Always-on: bias above minus the interval minimum (``g >= margin``). Dependent: ``w = a w_1 + b w_2``
    with ``a, b > 0`` of two always-on units and bias ``a b_1 + b b_2 + margin`` (on, and in their span).
    Returns the network and, per hidden layer, the planted index sets.
    """
    rng = np.random.default_rng(seed)
    lo, hi = np.full(n_in, box[0]), np.full(n_in, box[1])
    layers, planted = [], []
    prev = n_in
    for w in widths:
        W = rng.normal(0, np.sqrt(2 / prev), size=(w, prev))
        b = rng.normal(0, 0.3, size=w)
        idx = rng.permutation(w)
        dead, on = idx[:n_dead], idx[n_dead:n_dead + n_on]
        dep = idx[n_dead + n_on:n_dead + n_on + (n_dep if n_on >= 2 else 0)]
        c, r = (lo + hi) / 2, (hi - lo) / 2
        top = W @ c + np.abs(W) @ r
        bot = W @ c - np.abs(W) @ r
        b[dead] = -top[dead] - margin
        b[on] = -bot[on] + margin
        for d in dep:
            a1, a2 = rng.uniform(0.5, 1.5, size=2)
            W[d] = a1 * W[on[0]] + a2 * W[on[1]]
            b[d] = a1 * b[on[0]] + a2 * b[on[1]] + margin
        layers.append((W, b, "relu"))
        planted.append({"dead": set(dead.tolist()), "on": set(on.tolist()) | set(dep.tolist()),
                        "dep": set(dep.tolist())})
        plo, phi = _ibp_post(lo, hi, W, b)
        lo, hi = np.maximum(plo, 0), np.maximum(phi, 0)
        prev = w
    layers.append((rng.normal(size=(n_out, prev)), rng.normal(size=n_out), "identity"))
    return Network(layers), planted


def exact_ranges(net, lo, hi):
    """Exact [min, max] of every hidden pre-activation over the box, by an LP tree (scipy linprog).

    Depth-first over the hidden units in order; at a node the pattern of the earlier layers is fixed,
    so the next unit's pre-activation is affine in x on the node's polytope, and its range there is
    two LPs. Children: on if the max is > 0, off if the min is <= 0 (closed cells cover the node).
    """
    n_in = net.n_in
    bounds = list(zip(lo, hi, strict=True))
    hidden = net.layers[:-1]
    sizes = [layer.n_out for layer in hidden]
    out_lo = [np.full(s, np.inf) for s in sizes]
    out_hi = [np.full(s, -np.inf) for s in sizes]

    def lp(c, A, b):
        res = linprog(c, A_ub=A if len(A) else None, b_ub=b if len(b) else None, bounds=bounds, method="highs")
        assert res.status == 0
        return res.fun

    def visit(l, i, A_in, c_in, A_ub, b_ub, next_A, next_c):
        if l == len(hidden):
            return
        W, bias = hidden[l].weight, hidden[l].bias
        a = W[i] @ A_in
        c0 = W[i] @ c_in + bias[i]
        mx = -lp(-a, A_ub, b_ub) + c0
        mn = lp(a, A_ub, b_ub) + c0
        out_lo[l][i] = min(out_lo[l][i], mn)
        out_hi[l][i] = max(out_hi[l][i], mx)
        for on in (True, False):
            if (on and mx <= 1e-12) or (not on and mn > 0):
                continue
            row, rhs = (-a, c0) if on else (a, -c0)          # on: a x + c0 >= 0
            nA, nb = A_ub + [row], b_ub + [rhs]
            if on and mx - max(mn, 0) < 1e-12 and mn >= -1e-12:
                pass
            nxA = next_A + [a if on else np.zeros(n_in)]
            nxc = next_c + [c0 if on else 0.0]
            if i + 1 < sizes[l]:
                visit(l, i + 1, A_in, c_in, nA, nb, nxA, nxc)
            else:
                visit(l + 1, 0, np.array(nxA), np.array(nxc), nA, nb, [], [])

    visit(0, 0, np.eye(n_in), np.zeros(n_in), [], [], [], [])
    return np.concatenate(out_lo), np.concatenate(out_hi)


def assert_sound(res, z, eps=0.0):
    """No unit called stable is seen on the wrong side at any sample ``z`` (n, n_units)."""
    assert not np.any(z[:, res.stably_inactive] > eps)
    assert not np.any(z[:, res.stably_active] < -eps)


# ---------------------------------------------------------------------------- planted units


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_planted_unit_is_found(seed):
    net, planted = planted_network(4, (10, 10, 8), seed=seed, n_dead=3, n_on=3, n_dep=1)
    res = stability(net, Box(-1.0, 1.0, dim=4))
    for l, (st_l, p) in enumerate(zip(res.per_layer("status"), planted, strict=True)):
        assert all(st_l[i] == STABLY_INACTIVE for i in p["dead"]), (l, st_l)
        assert all(st_l[i] == STABLY_ACTIVE for i in p["on"]), (l, st_l)
    z = np.concatenate(net.preactivations(Box(-1.0, 1.0, dim=4).sample(20000, seed=seed))[:-1], axis=1)
    assert_sound(res, z)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_classification_matches_lp_tree(seed):
    """method='milp' is exact: it agrees with an independent LP-tree enumeration (units clear of eps)."""
    net, _ = planted_network(2, (5, 5), seed=seed, n_dead=1, n_on=1, n_dep=0, margin=0.05)
    lo, hi = np.full(2, -1.0), np.full(2, 1.0)
    tlo, thi = exact_ranges(net, lo, hi)
    for method in ("milp", "auto"):
        res = stability(net, Box(lo, hi), method=method)
        truth = np.where(thi < -1e-6, STABLY_INACTIVE, np.where(tlo > 1e-6, STABLY_ACTIVE, UNSTABLE))
        clear = (np.abs(thi) > 1e-4) & (np.abs(tlo) > 1e-4)
        assert np.array_equal(res.status[clear], truth[clear]), method
        # the proven bounds contain the exact range, the observed extremes lie inside it
        assert np.all(res.lower <= tlo + 1e-7) and np.all(res.upper >= thi - 1e-7)
        seen = np.isfinite(res.observed_min)
        assert np.all(res.observed_min[seen] >= tlo[seen] - 1e-9)
        assert np.all(res.observed_max[seen] <= thi[seen] + 1e-9)


def test_cheaper_methods_are_sound_and_nested():
    net, _ = planted_network(3, (8, 8, 8), seed=5, n_dead=2, n_on=2)
    dom = Box(-1.0, 1.0, dim=3)
    z = np.concatenate(net.preactivations(dom.sample(50000, seed=1))[:-1], axis=1)
    results = {m: stability(net, dom, method=m) for m in ("interval", "linear", "lp", "milp", "auto")}
    for res in results.values():
        assert_sound(res, z)
    stable = {m: ~r.unstable for m, r in results.items()}
    assert np.all(stable["interval"] <= stable["linear"])
    assert np.all(stable["linear"] <= stable["lp"])
    assert np.all(stable["lp"] <= stable["milp"])
    assert np.array_equal(stable["milp"], stable["auto"])
    assert results["interval"].n_milps == results["lp"].n_milps == 0
    assert set(np.unique(results["interval"].method)) <= {"interval", "undecided"}


def test_dense_sampling_larger_net():
    net, planted = planted_network(6, (16, 16, 16), seed=7, n_dead=3, n_on=3, n_dep=2)
    dom = Box(-1.0, 1.0, dim=6)
    res = stability(net, dom, data=dom.sample(500, seed=3))
    z = np.concatenate(net.preactivations(dom.sample(100000, seed=2))[:-1], axis=1)
    assert_sound(res, z)
    both = (z.max(axis=0) > 1e-6) & (z.min(axis=0) < -1e-6)
    assert np.all(res.unstable[both])
    assert res.n_units == 48 and sum(sum(c.values()) for c in res.counts()) == 48


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    zero_bias=st.booleans(),
    duplicate=st.booleans(),
    dead_rows=st.integers(0, 2),
)
def test_random_degenerate_nets_are_never_wrongly_stable(seed, zero_bias, duplicate, dead_rows):
    rng = np.random.default_rng(seed)
    net = Network.random([3, 6, 6, 2], seed=seed, bias="zero" if zero_bias else "normal", bias_scale=1.5)
    layers = [(layer.weight.copy(), layer.bias.copy(), layer.activation) for layer in net.layers]
    if duplicate:  # coincident hyperplanes: a unit repeated (scaled) in layer 0
        layers[0][0][1] = 2.0 * layers[0][0][0]
        layers[0][1][1] = 2.0 * layers[0][1][0]
    for k in range(dead_rows):  # units with zero weights: constant pre-activation = bias
        layers[1][0][k] = 0.0
        layers[1][1][k] = rng.choice([-1.0, 0.0, 1.0])
    net = Network(layers)
    dom = Box(-1.0, 1.0, dim=3)
    res = stability(net, dom)
    z = np.concatenate(net.preactivations(dom.sample(20000, seed=seed))[:-1], axis=1)
    assert_sound(res, z)
    # a constant pre-activation 0 touches the breakpoint: conservatively unstable, never stable
    const = [(1, k) for k in range(dead_rows) if layers[1][1][k] == 0.0]
    for l, k in const:
        assert res.per_layer("status")[l][k] == UNSTABLE


# ---------------------------------------------------------------------------- zoo and edge cases


def test_zoo_dead_and_always_on_units():
    z = always_on()
    (lo0, lo1), (hi0, hi1) = z.domain
    res = stability(z.net, Box([lo0, lo1], [hi0, hi1]))
    assert [i for i, s in enumerate(res.status) if s == STABLY_ACTIVE] == z.notes["stably_active"]
    assert [i for i, s in enumerate(res.status) if s == STABLY_INACTIVE] == z.notes["stably_inactive"]
    assert res.status[2] == UNSTABLE and res.method[2] == "data"
    d = dead_unit()
    res = stability(d.net, Box(-5.0, 5.0, dim=2))
    assert [i for i, s in enumerate(res.status) if s == STABLY_INACTIVE] == d.notes["stably_inactive"]
    assert res.status[0] == res.status[1] == UNSTABLE


def test_unbounded_domain_is_refused_with_a_reason():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(DomainError, match="bounded"):
        stability(net, None)
    with pytest.raises(DomainError, match="unbounded"):
        stability(net, Polytope([[1.0, 0.0]], [1.0]))


def test_bad_arguments():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="method"):
        stability(net, Box(0.0, 1.0, dim=2), method="exact")
    with pytest.raises(InvalidParameterError, match="eps"):
        stability(net, Box(0.0, 1.0, dim=2), eps=-1.0)
    with pytest.raises(rs.ShapeError):
        stability(net, Box(0.0, 1.0, dim=3))
    with pytest.raises(rs.ShapeError):
        stability(net, Box(0.0, 1.0, dim=2), data=np.zeros((4, 3)))


def test_polytope_domain_and_box_of_data():
    # relu(x0 + x1 - 1.2) is dead on the triangle x0, x1 >= 0, x0 + x1 <= 1 but not on its box
    net = Network([(np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([-1.2, 0.0]), "relu"),
                   (np.ones((1, 2)), np.zeros(1), "identity")])
    tri = Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0.0, 0.0, 1.0])
    res = stability(net, tri)
    assert res.status.tolist() == [STABLY_INACTIVE, UNSTABLE]
    assert stability(net, Box(0.0, 1.0, dim=2)).status[0] == UNSTABLE
    pts = np.array([[0.1, 0.1], [0.3, 0.2], [0.2, 0.4]])
    res = stability(net, Box.of_data(pts, margin=0.1))
    assert res.status[0] == STABLY_INACTIVE


def test_data_outside_the_domain_is_not_a_witness():
    # unit relu(x - 2) is dead on [0, 1]; a data point at x = 3 is clipped into the box first
    net = Network([(np.array([[1.0]]), np.array([-2.0]), "relu"), (np.ones((1, 1)), np.zeros(1), "identity")])
    res = stability(net, Box(0.0, 1.0, dim=1), data=np.array([[3.0], [0.5]]))
    assert res.status.tolist() == [STABLY_INACTIVE]


def test_touching_the_breakpoint_is_unstable():
    # relu(x) on [-1, 0] has max exactly 0; relu(x + 1e-9) reaches 1e-9 < eps: both undecided, unstable
    net = Network([(np.array([[1.0], [1.0]]), np.array([0.0, 1e-9]), "relu"),
                   (np.ones((1, 2)), np.zeros(1), "identity")])
    res = stability(net, Box(-1.0, 0.0, dim=1))
    assert res.status.tolist() == [UNSTABLE, UNSTABLE]
    assert res.method.tolist() == ["undecided", "undecided"]
    assert stability(net, Box(-1.0, 0.0, dim=1), eps=0.0).status[0] == STABLY_INACTIVE


def test_first_layer_needs_no_milp():
    # max of x0 + x1 - 2 - 1e-7 over [0, 1]^2 is -1e-7, within the margin: unstable by the
    # rule. Interval bounds are exact there, so no solver runs (a MILP would only add its
    # tolerances: SCIP once 'proved' g <= -eps for a unit whose maximum is -1.2e-7).
    net = Network([(np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([-2.0 - 1e-7, 0.0]), "relu"),
                   (np.ones((1, 2)), np.zeros(1), "identity")])
    for method in ("auto", "milp"):
        res = stability(net, Box(0.0, 1.0, dim=2), method=method)
        assert res.status.tolist() == [UNSTABLE, UNSTABLE]
        assert res.n_milps == 0 and res.n_lps == 0
        assert res.upper[0] == pytest.approx(-1e-7, abs=1e-15)
    # over a polytope the first layer's LP is exact: method="milp" settles it by LP
    net = Network([(np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([-1.2, 0.0]), "relu"),
                   (np.ones((1, 2)), np.zeros(1), "identity")])
    tri = Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0.0, 0.0, 1.0])
    res = stability(net, tri, method="milp")
    assert res.status.tolist() == [STABLY_INACTIVE, UNSTABLE]
    assert res.method.tolist() == ["linear", "lp"] and res.n_milps == 0


def test_other_activations_by_pieces():
    # HardTanh(-1, 1): unit 0 saturates high (constant piece), unit 1 stays linear, unit 2 crosses
    net = Network([(np.array([[1.0], [0.1], [3.0]]), np.array([5.0, 0.0, 0.0]), HardTanh(-1.0, 1.0)),
                   (np.ones((1, 3)), np.zeros(1), "identity")])
    res = stability(net, Box(-1.0, 1.0, dim=1))
    assert res.status.tolist() == [STABLY_INACTIVE, STABLY_ACTIVE, UNSTABLE]
    assert res.piece.tolist() == [2, 1, -1]


def test_time_limit_zero_leaves_units_undecided():
    net, _ = planted_network(3, (8, 8), seed=3, n_dead=0, n_on=0, n_dep=0)
    dom = Box(-1.0, 1.0, dim=3)
    full = stability(net, dom, method="milp")
    cut = stability(net, dom, method="milp", time_limit=0.0)
    assert cut.n_milps == 0
    assert np.all(cut.unstable >= full.unstable)      # never more stable units than the full run
    assert np.all((cut.method == "undecided") | (cut.method == full.method) | (cut.method == "data"))


def test_result_is_deterministic_and_callable_through_the_package():
    net, _ = planted_network(3, (6, 6), seed=4)
    dom = Box(-1.0, 1.0, dim=3)
    a = rs.stability(net, dom)
    from reluscope.compress import CompressionReport  # noqa: F401  (rebinds reluscope.stability)

    b = rs.stability(net, dom)
    assert np.array_equal(a.status, b.status) and np.array_equal(a.method, b.method)
    assert "layer 1" in a.summary()
