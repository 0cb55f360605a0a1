"""The MILP encoding: its rows hold at every forward pass, and its optimum is the brute-force one."""

import numpy as np
import pytest

from reluscope import (
    Abs,
    Box,
    DomainError,
    HardTanh,
    Identity,
    InvalidParameterError,
    LeakyReLU,
    Network,
    PartialResultWarning,
    Polytope,
    ReLU,
)
from reluscope.milp import encode
from reluscope.propagate import linear_bounds
from test_milp_oracle import box_halfspaces, brute_force_max, lp_tree

ACTS = [ReLU(), LeakyReLU(0.1), Abs(), HardTanh(-0.5, 0.7), Identity()]


def _completion(enc, x):
    """The point of the MILP that a forward pass at ``x`` defines (independent of any solver)."""
    f = enc.formulation
    v = np.zeros(f.n_vars)
    v[f.x] = x
    for lv, layer, g in zip(f.layers, enc.net.layers, enc.net.preactivations(x), strict=True):
        v[lv.g] = g
        bps = np.asarray(layer.activation.breakpoints)
        for j, beta in enumerate(bps):
            v[lv.h[:, j]] = np.maximum(g - beta, 0.0)
            v[lv.hbar[:, j]] = np.maximum(beta - g, 0.0)
            on = lv.z[:, j] >= 0
            v[lv.z[on, j]] = (g[on] > beta).astype(float)
        v[lv.out] = layer.activation(g)
    return v


@pytest.mark.parametrize("act", ACTS, ids=lambda a: type(a).__name__)
def test_every_forward_pass_is_feasible(act, rng):
    net = Network.random([3, 6, 5, 2], seed=3, activation=act)
    box = Box(-1.0, 1.0, dim=3)
    enc = encode(net, box)
    f = enc.formulation
    for x in box.sample(200, seed=4):
        v = _completion(enc, x)
        act_rows = f.A @ v
        assert np.all(act_rows >= f.row_lo - 1e-9) and np.all(act_rows <= f.row_hi + 1e-9)
        assert np.all(v >= f.lb - 1e-12) and np.all(v <= f.ub + 1e-12)
        np.testing.assert_allclose(v[enc.y], net(x), atol=1e-12)


def test_binaries_only_for_units_the_bounds_leave_unstable():
    net = Network.random([2, 8, 8, 1], seed=0)
    box = Box(0.0, 1.0, dim=2)
    lb = linear_bounds(net, box)
    enc = encode(net, box, bounds=lb)
    for lv, b in zip(enc.layers[:2], lb[:2], strict=True):
        unstable = (b.lo <= 0) & (b.hi > 0)
        np.testing.assert_array_equal(lv.z[:, 0] >= 0, unstable)
    assert enc.n_binaries == sum(int(((b.lo <= 0) & (b.hi > 0)).sum()) for b in lb[:2])
    s = enc.to_scip()
    assert all((zv is None) == (not u) for zv, u in zip(s.layer(0)["z"][:, 0], (lb[0].lo <= 0) & (lb[0].hi > 0),
                                                         strict=True))


@pytest.mark.parametrize(("widths", "seed"), [([2, 6, 5, 2], 1), ([3, 5, 4, 2], 2)])
def test_optimum_equals_brute_force_over_regions(widths, seed):
    net = Network.random(widths, seed=seed)
    box = Box(-1.0, 1.0, dim=widths[0])
    enc = encode(net, box)
    A, b = box_halfspaces(box.lo, box.hi)
    leaves = lp_tree(net, A, b)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        c = rng.normal(size=widths[-1])
        truth = brute_force_max(net, A, b, c, leaves)
        for solver in ("scip", "highs"):
            res = enc.maximize(c, solver=solver)
            assert res.status == "optimal"
            assert res.value <= res.bound + 1e-9
            assert abs(res.bound - truth) <= 1e-6 * (1 + abs(truth))
            assert abs(res.value - truth) <= 1e-6 * (1 + abs(truth))
            assert box.contains(res.x[None, :])[0]


@pytest.mark.parametrize("act", [LeakyReLU(0.1), Abs(), HardTanh(-0.5, 0.7)], ids=lambda a: type(a).__name__)
def test_other_activations_optimum(act):
    net = Network.random([2, 4, 4, 1], seed=6, activation=act)
    box = Box(-1.0, 1.0, dim=2)
    A, b = box_halfspaces(box.lo, box.hi)
    leaves = lp_tree(net, A, b)
    enc = encode(net, box)
    for c in (np.array([1.0]), np.array([-1.0])):
        truth = brute_force_max(net, A, b, c, leaves)
        assert abs(enc.maximize(c).bound - truth) <= 1e-6 * (1 + abs(truth))


def test_polytope_domain_optimum():
    tri = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    net = Network.random([2, 6, 6, 1], seed=8)
    A, b = tri.halfspaces()
    truth = brute_force_max(net, A, b, np.array([1.0]))
    res = encode(net, tri, bounds="lp").maximize([1.0], solver="highs")
    assert abs(res.bound - truth) <= 1e-6 * (1 + abs(truth))
    assert tri.contains(res.x[None, :], tol=1e-7)[0]


def test_users_add_their_own_constraints():
    """Smallest output within an l_inf ball around x0 (adversarial-style), with pyscipopt directly."""
    import pyscipopt

    net = Network.random([2, 6, 1], seed=2)
    x0, delta = np.array([0.2, -0.1]), 0.15
    s = encode(net, Box(-1.0, 1.0, dim=2)).to_scip()
    for xi, ci in zip(s.x, x0, strict=True):
        s.model.addCons(xi <= ci + delta)
        s.model.addCons(xi >= ci - delta)
    s.model.setObjective(s.y[0], "minimize")
    s.model.optimize()
    assert s.model.getStatus() == "optimal"
    A, b = box_halfspaces(x0 - delta, x0 + delta)
    truth = -brute_force_max(net, A, b, np.array([-1.0]))
    assert s.model.getDualbound() == pytest.approx(truth, abs=1e-6)
    h = s.layer(0)
    assert set(h) == {"g", "h", "hbar", "z", "out"} and h["h"].shape == (6, 1)
    assert isinstance(s.model, pyscipopt.Model)


def test_time_limit_gives_partial_with_warning():
    net = Network.random([6, 30, 30, 1], seed=0)
    enc = encode(net, Box(-1.0, 1.0, dim=6), bounds="interval")
    with pytest.warns(PartialResultWarning, match="time limit"):
        res = enc.maximize([1.0], solver="highs", time_limit=0.02)
    assert res.status == "partial"
    assert np.isnan(res.value) or res.value <= res.bound + 1e-9


def test_errors():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(DomainError, match="bounded"):
        encode(net, None)
    with pytest.raises(DomainError, match="unbounded"):
        encode(net, Polytope([[1.0, 1.0]], [1.0]))
    enc = encode(net, Box(-1.0, 1.0, dim=2))
    with pytest.raises(InvalidParameterError, match="'c'"):
        enc.maximize([1.0, 2.0])
    with pytest.raises(InvalidParameterError, match="'solver'"):
        enc.maximize([1.0], solver="cbc")
    with pytest.raises(InvalidParameterError, match="'net'"):
        encode("not a net", Box(-1.0, 1.0, dim=2))
