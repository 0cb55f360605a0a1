"""Lossless compression and exact equivalence: every rule by hand, planted nets, brute-force checks."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Box, Identity, InvalidParameterError, Network, Polytope, ReLU, ShapeError
from reluscope.compress import CompressionReport, compress, equivalent
from reluscope.stability import stability
from test_stability import planted_network


def sampled_max_diff(f, g, dom, n=50000, seed=0):
    """Independent check: max |f - g| on random points of a box."""
    x = dom.sample(n, seed=seed)
    return float(np.max(np.abs(f(x) - g(x))))


def relu_net(*layers):
    n = len(layers)
    return Network([(np.array(W, float), np.array(b, float), "relu" if i < n - 1 else "identity")
                    for i, (W, b) in enumerate(layers)])


# ---------------------------------------------------------------------------- the rules, one by one


def test_stably_inactive_and_constant_units_fold_into_the_bias():
    # unit 0 dead on [0,1]^2; unit 1 has zero weights and bias 2 (constant 2); unit 2 switches
    net = relu_net(([[1.0, 1.0], [0.0, 0.0], [1.0, -1.0]], [-3.0, 2.0, 0.0]), ([[1.0, 3.0, 1.0]], [0.5]))
    dom = Box(0.0, 1.0, dim=2)
    small, rep = compress(net, dom)
    assert {(r.unit, r.reason) for r in rep.removed} == {(0, "stably_inactive"), (1, "constant")}
    # hand-derived: relu(x0 - x1) + 3 * 2 + 0.5
    np.testing.assert_array_equal(small.layers[0].weight, [[1.0, -1.0]])
    np.testing.assert_array_equal(small.layers[1].bias, [6.5])
    assert rep.verification.equal and sampled_max_diff(net, small, dom) <= 1e-12


def test_zero_outgoing_units_are_removed():
    net = relu_net(([[1.0], [-1.0]], [0.0, 0.0]), ([[2.0, 0.0]], [0.0]))
    small, rep = compress(net, Box(-1.0, 1.0, dim=1))
    assert [(r.unit, r.reason) for r in rep.removed] == [(1, "zero_outgoing")]
    assert small.hidden_widths == (1,)


def test_dependent_active_units_merge_with_hand_derived_weights():
    # on [0,1]: u0 = x + 1, u1 = 2x + 3 = 2 u0 + 1 (both always on), u2 = relu(x - 0.5) switches
    net = relu_net(([[1.0], [2.0], [1.0]], [1.0, 3.0, -0.5]), ([[1.0, 10.0, 1.0]], [0.0]))
    small, rep = compress(net, Box(0.0, 1.0, dim=1), fold="never")
    assert [r.reason for r in rep.removed] == ["dependent"]
    kept = 1 - rep.removed[0].unit  # the other active unit stays
    W2, b2 = small.layers[1].weight, small.layers[1].bias
    # 1*u0 + 10*u1 = 21 u0 + 10 = 10.5 u1 - 0.5 : check against the kept unit
    if kept == 0:
        np.testing.assert_allclose(W2[0, 0], 21.0) and np.testing.assert_allclose(b2, [10.0])
    else:
        np.testing.assert_allclose(W2[0, 0], 10.5) and np.testing.assert_allclose(b2, [-0.5])
    assert sampled_max_diff(net, small, Box(0.0, 1.0, dim=1)) <= 1e-12


def test_all_active_layer_folds_into_the_next():
    W1, b1 = np.array([[1.0, 2.0], [-1.0, 1.0]]), np.array([5.0, 5.0])   # both > 0 on [0,1]^2
    W2, b2 = np.array([[1.0, 1.0], [2.0, -1.0], [0.5, 0.5]]), np.array([0.0, -1.0, 0.0])
    W3, b3 = np.array([[1.0, -1.0, 1.0]]), np.array([0.0])
    net = relu_net((W1, b1), (W2, b2), (W3, b3))
    small, rep = compress(net, Box(0.0, 1.0, dim=2), fold="always")
    assert rep.layers_before == 3 and rep.layers_after < 3
    assert any(r.reason == "folded_layer" and r.layer == 0 for r in rep.removed)
    # hand-derived first layer after folding layer 0 into layer 1: W2 W1, W2 b1 + b2 (for kept units)
    assert sampled_max_diff(net, small, Box(0.0, 1.0, dim=2)) <= 1e-12
    assert rep.verification.equal


def test_whole_layer_inactive_collapses_to_a_constant():
    # layer 1 is dead on [0,1]: the network is constant = relu(0*...) path -> output bias 7 + 2 * relu(3)
    net = relu_net(([[1.0], [1.0]], [0.0, 1.0]), ([[1.0, 1.0]], [-10.0]), ([[2.0]], [7.0]))
    small, rep = compress(net, Box(0.0, 1.0, dim=1))
    assert small.depth == 1 and small.n_units == 0
    np.testing.assert_array_equal(small.layers[0].weight, [[0.0]])
    np.testing.assert_array_equal(small.layers[0].bias, [7.0])
    assert {r.reason for r in rep.removed} == {"stably_inactive", "collapsed"}
    assert rep.verification.equal


def test_report_invariants_and_summary():
    net, _ = planted_network(4, (10, 10), seed=3, n_dead=3, n_on=3, n_dep=1)
    small, rep = compress(net, Box(-1.0, 1.0, dim=4))
    assert isinstance(rep, CompressionReport)
    assert len(rep.removed) == rep.units_before - rep.units_after == sum(rep.removed_per_layer)
    assert rep.params_after == small.n_params and rep.params_before == net.n_params
    assert rep.widths_after == small.widths
    assert rep.compression == pytest.approx(len(rep.removed) / 20)
    assert set(rep.times) == {"stability", "rules", "verify"}
    assert "verified" in rep.summary()


# ---------------------------------------------------------------------------- planted networks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_units_are_removed_and_the_result_is_equal(seed):
    net, planted = planted_network(5, (12, 12, 10), seed=seed, n_dead=3, n_on=3, n_dep=2)
    dom = Box(-1.0, 1.0, dim=5)
    small, rep = compress(net, dom, fold="never")
    by_layer = [{r.unit: r.reason for r in rep.removed if r.layer == l} for l in range(3)]
    for l, p in enumerate(planted):
        assert all(by_layer[l].get(u) == "stably_inactive" for u in p["dead"])
        # with n_dep dependent units planted in the span of two on-units, that many go
        merged = [u for u in p["on"] if by_layer[l].get(u) == "dependent"]
        assert len(merged) >= len(p["dep"])
    v = rep.verification
    assert v.exact and v.max_abs_diff <= 1e-9
    assert sampled_max_diff(net, small, dom) <= 1e-9


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), bias_scale=st.sampled_from([0.5, 1.5, 3.0]), dup=st.booleans(),
       fold=st.sampled_from(["if_smaller", "always", "never"]))
def test_random_nets_compress_losslessly(seed, bias_scale, dup, fold):
    net = Network.random([3, 7, 7, 2], seed=seed, bias_scale=bias_scale)
    if dup:  # a duplicated (scaled) unit: coincident hyperplanes
        layers = [(la.weight.copy(), la.bias.copy(), la.activation) for la in net.layers]
        layers[0][0][3], layers[0][1][3] = 0.5 * layers[0][0][2], 0.5 * layers[0][1][2]
        net = Network(layers)
    dom = Box(-1.0, 1.0, dim=3)
    small, rep = compress(net, dom, fold=fold)
    assert rep.verification.max_abs_diff <= 1e-9
    assert sampled_max_diff(net, small, dom, n=20000, seed=seed) <= 1e-9


def test_precomputed_stability_and_polytope_domain():
    net, _ = planted_network(2, (8, 8), seed=6)
    tri = Polytope([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]], [0.0, 0.0, 1.0])
    st_ = stability(net, tri)
    small, rep = compress(net, tri, stability=st_)
    assert rep.stability is st_ and rep.verification.equal
    x = Box(0.0, 1.0, dim=2).sample(20000, seed=1)
    x = x[x.sum(axis=1) <= 1.0]
    assert np.max(np.abs(net(x) - small(x))) <= 1e-9
    other, _ = planted_network(2, (8, 7), seed=6)
    with pytest.raises(ShapeError, match="hidden layers"):
        compress(other, tri, stability=st_)
    with pytest.raises(InvalidParameterError, match="fold"):
        compress(net, tri, fold="sometimes")


def test_package_level_names_are_the_functions():
    net, _ = planted_network(3, (6, 6), seed=1)
    from reluscope import stability as _  # noqa: F401
    from reluscope.stability import StabilityResult  # noqa: F401  (imports the submodule)

    small, rep = rs.compress(net, Box(-1.0, 1.0, dim=3))
    res = rs.stability(net, Box(-1.0, 1.0, dim=3))
    assert rs.equivalent(net, small, Box(-1.0, 1.0, dim=3)).equal
    assert res.n_units == 12


# ---------------------------------------------------------------------------- equivalent


def test_equivalent_finds_the_exact_maximum_on_a_line():
    f = Network.random([1, 8, 8, 1], seed=11)
    g = Network.random([1, 6, 1], seed=12)
    dom = Box(-2.0, 2.0, dim=1)
    res = equivalent(f, g, dom)
    xs = np.linspace(-2.0, 2.0, 400001)[:, None]
    diff = np.abs(f(xs) - g(xs)).max()
    # |f - g| is PWL with slope below L; the grid misses at most L * step / 2
    lip = np.prod([np.abs(la.weight).sum(axis=1).max() for la in f.layers]) + \
        np.prod([np.abs(la.weight).sum(axis=1).max() for la in g.layers])
    assert res.exact
    assert diff - 1e-9 <= res.max_abs_diff <= diff + lip * 1e-5 / 2 + 1e-9
    assert abs(res.attained - res.max_abs_diff) <= 1e-7 * res.attained   # SCIP's precision
    x = res.maximiser
    assert -2.0 <= x[0] <= 2.0
    assert abs(float(np.abs(f(x) - g(x))[res.output]) - res.attained) <= 1e-12


def test_equivalent_detects_a_small_perturbation():
    net, _ = planted_network(4, (10, 10), seed=2)
    layers = [(la.weight.copy(), la.bias.copy(), la.activation) for la in net.layers]
    layers[-1][1][1] += 1e-4
    res = equivalent(net, Network(layers), Box(-1.0, 1.0, dim=4))
    assert res.output == 1 and res.max_abs_diff == pytest.approx(1e-4, abs=1e-9)
    assert not res.equal


def test_equivalent_of_relu_identity_and_an_affine_map():
    # relu(x) - relu(-x) = x exactly; 2 relu(x) differs from x by |x| (max 1 on [-1, 1])
    f = Network([(np.array([[1.0], [-1.0]]), np.zeros(2), ReLU()),
                 (np.array([[1.0, -1.0]]), np.zeros(1), Identity())])
    assert equivalent(f, Network.affine([[1.0]]), Box(-1.0, 1.0, dim=1)).equal
    h = Network([(np.array([[1.0]]), np.zeros(1), ReLU()), (np.array([[2.0]]), np.zeros(1), Identity())])
    res = equivalent(h, Network.affine([[1.0]]), Box(-1.0, 1.0, dim=1))
    assert res.max_abs_diff == pytest.approx(1.0, rel=1e-7) and abs(res.maximiser[0]) == pytest.approx(1.0)


def test_equivalent_argument_checks():
    f = Network.random([2, 3, 1], seed=0)
    with pytest.raises(ShapeError):
        equivalent(f, Network.random([3, 3, 1], seed=0), Box(0.0, 1.0, dim=2))
    with pytest.raises(rs.DomainError):
        equivalent(f, f, None)


@pytest.mark.parametrize("act", [rs.LeakyReLU(0.1), rs.Abs(), rs.HardTanh(-0.5, 0.7)], ids=repr)
def test_other_activations_compress_and_compare(act):
    net = Network.random([2, 6, 6, 1], seed=5, activation=act, bias_scale=2.0)
    dom = Box(-1.0, 1.0, dim=2)
    small, rep = compress(net, dom)
    assert rep.verification.equal and sampled_max_diff(net, small, dom) <= 1e-9
    other = Network.random([2, 4, 1], seed=9, activation=act)
    res = equivalent(net, other, dom)
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 401), np.linspace(-1, 1, 401)), -1).reshape(-1, 2)
    sampled = float(np.abs(net(grid) - other(grid)).max())
    assert res.exact and sampled - 1e-9 <= res.max_abs_diff <= sampled + 0.1   # grid step 0.005


def test_a_false_stability_claim_is_caught_by_the_verification():
    import dataclasses

    net = relu_net(([[1.0], [1.0]], [0.0, 5.0]), ([[1.0, 1.0]], [0.0]))    # unit 0 switches on [-1, 1]
    dom = Box(-1.0, 1.0, dim=1)
    true = stability(net, dom)
    lie = dataclasses.replace(true, piece=np.array([0, 1], dtype=np.int8),
                              status=np.array(["stably_inactive", "stably_active"]))
    with pytest.raises(rs.SolverError, match="differs"):
        compress(net, dom, stability=lie)
    small, rep = compress(net, dom, stability=lie, verify=False)      # without the proof it goes through
    assert rep.verification is None and small.n_units < net.n_units
