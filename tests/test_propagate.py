"""Pre-activation bounds: soundness against sampling, nesting interval ⊇ linear ⊇ LP, hand cases."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reluscope import Abs, Box, DomainError, HardTanh, InvalidParameterError, LeakyReLU, Network, Polytope, ReLU
from reluscope.propagate import (
    LayerBounds,
    best_bounds,
    check_bounds,
    interval_bounds,
    linear_bounds,
    linear_relaxation,
    lp_bounds,
)

ACTS = [ReLU(), LeakyReLU(0.2), Abs(), HardTanh(-0.5, 0.7)]
TOL = 1e-9


def _sample_preacts(net, x):
    return net.preactivations(x)


def _assert_contains(bounds, z, tol=TOL):
    for lb, zl in zip(bounds, z, strict=True):
        scale = 1.0 + np.abs(zl)
        assert np.all(zl >= lb.lo - tol * scale), float(np.max(lb.lo - zl))
        assert np.all(zl <= lb.hi + tol * scale), float(np.max(zl - lb.hi))


def _assert_nested(inner, outer, tol=1e-9):
    for a, b in zip(inner, outer, strict=True):
        assert np.all(a.lo >= b.lo - tol * (1 + np.abs(b.lo)))
        assert np.all(a.hi <= b.hi + tol * (1 + np.abs(b.hi)))


@pytest.mark.parametrize("act", ACTS, ids=lambda a: type(a).__name__)
def test_all_methods_sound_and_nested_on_a_box(act):
    net = Network.random([3, 7, 6, 2], seed=11, activation=act)
    box = Box(-1.0, 1.0, dim=3)
    x = box.sample(20000, seed=1)
    corners = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    z = _sample_preacts(net, np.vstack([x, corners]))
    ib, lb, pb = interval_bounds(net, box), linear_bounds(net, box), lp_bounds(net, box)
    for b in (ib, lb, pb):
        _assert_contains(b, z)
    _assert_nested(lb, ib)
    _assert_nested(pb, lb)


def test_polytope_domain_sound_and_tighter_than_its_box():
    # triangle x0 >= 0, x1 >= 0, x0 + x1 <= 1 inside the box [0, 1]^2
    tri = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    net = Network.random([2, 6, 5, 1], seed=4)
    x = Box(0.0, 1.0, dim=2).sample(40000, seed=2)
    x = x[x.sum(axis=1) <= 1]
    verts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    z = _sample_preacts(net, np.vstack([x, verts]))
    lb, pb = linear_bounds(net, tri), lp_bounds(net, tri)
    _assert_contains(lb, z)
    _assert_contains(pb, z)
    _assert_nested(pb, lb)
    # layer 1 over a polytope is exact: the extremes of an affine function are at vertices
    z1 = net.layers[0].weight @ verts.T + net.layers[0].bias[:, None]
    np.testing.assert_allclose(lb[0].hi, z1.max(axis=1), atol=1e-7)
    np.testing.assert_allclose(lb[0].lo, z1.min(axis=1), atol=1e-7)
    # ... and tighter than the bounding box [0, 1]^2 whenever a weight row has mixed signs
    ib = interval_bounds(net, Box(0.0, 1.0, dim=2))
    assert np.all(lb[0].hi <= ib[0].hi + 1e-9) and np.any(lb[0].hi < ib[0].hi - 1e-6)


def test_first_layer_over_a_box_is_exact():
    net = Network.random([4, 9, 1], seed=5)
    lo, hi = np.array([-1.0, 0.0, 2.0, -3.0]), np.array([1.0, 0.5, 2.0, 1.0])
    corners = np.array(list(itertools.product(*zip(lo, hi, strict=True))))
    z = corners @ net.layers[0].weight.T + net.layers[0].bias
    lb = linear_bounds(net, Box(lo, hi))
    np.testing.assert_allclose(lb[0].lo, z.min(axis=0), atol=1e-12)
    np.testing.assert_allclose(lb[0].hi, z.max(axis=0), atol=1e-12)


def test_hand_case_stable_units_make_crown_exact():
    # z = relu(x + 2) + relu(2 - x) = 4 on [-1, 1]: both units stably on, so the linear
    # relaxation is exact; intervals add the ranges [1, 3] + [1, 3] = [2, 6]
    net = Network([(np.array([[1.0], [-1.0]]), np.array([2.0, 2.0]), "relu"),
                   (np.array([[1.0, 1.0]]), np.array([0.0]), "identity")])
    box = Box(-1.0, 1.0, dim=1)
    ib, lb = interval_bounds(net, box), linear_bounds(net, box)
    assert (ib[1].lo[0], ib[1].hi[0]) == (2.0, 6.0)
    assert lb[1].lo[0] == pytest.approx(4.0, abs=1e-12) and lb[1].hi[0] == pytest.approx(4.0, abs=1e-12)


def test_hand_case_lp_tighter_than_crown():
    # z = relu(x) - relu(x) (= 0) on [-1, 2]. Intervals: [0, 2] - [0, 2] -> hi 2.
    # CROWN: upper line 2(x + 1)/3 (chord), lower line x (slope 1 since 2 > 1): 2(x+1)/3 - x <= 1.
    # LP: max over x of 2(x + 1)/3 - max(0, x) = 2/3 at x = 0.
    net = Network([(np.array([[1.0], [1.0]]), np.zeros(2), "relu"),
                   (np.array([[1.0, -1.0]]), np.zeros(1), "relu"),
                   (np.array([[1.0]]), np.zeros(1), "identity")])
    box = Box(-1.0, 2.0, dim=1)
    assert interval_bounds(net, box)[1].hi[0] == pytest.approx(2.0)
    assert linear_bounds(net, box)[1].hi[0] == pytest.approx(1.0)
    assert lp_bounds(net, box)[1].hi[0] == pytest.approx(2.0 / 3.0, abs=1e-7)
    assert lp_bounds(net, box)[1].lo[0] == pytest.approx(-2.0 / 3.0, abs=1e-7)  # the two units are swappable


@pytest.mark.parametrize("act", ACTS + [ReLU()], ids=lambda a: type(a).__name__)
def test_linear_relaxation_is_valid_on_a_grid(act, rng):
    lo = rng.uniform(-3, 1, size=200)
    hi = lo + rng.uniform(0, 4, size=200)
    hi[:5] = lo[:5]  # zero-width intervals
    aL, cL, aU, cU = linear_relaxation(act, lo, hi)
    t = np.linspace(0, 1, 501)[:, None]
    z = lo + t * (hi - lo)
    f = act(z)
    assert np.all(aL * z + cL <= f + 1e-12)
    assert np.all(aU * z + cU >= f - 1e-12)


def test_relu_relaxation_is_crowns_choice(rng):
    # Zhang et al. 2018: upper = chord through (lo, 0), (hi, hi); lower slope 1 iff hi > -lo
    lo = rng.uniform(-2, -0.1, size=100)
    hi = rng.uniform(0.1, 2, size=100)
    aL, cL, aU, cU = linear_relaxation(ReLU(), lo, hi)
    np.testing.assert_allclose(aU, hi / (hi - lo))
    np.testing.assert_allclose(cU, -lo * hi / (hi - lo))
    expected = np.where(hi > -lo, 1.0, 0.0)
    ties = np.isclose(hi, -lo)
    np.testing.assert_array_equal(aL[~ties], expected[~ties])
    np.testing.assert_allclose(cL, 0.0, atol=1e-15)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    zero_bias=st.booleans(),
    dead=st.booleans(),
    integer_weights=st.booleans(),
)
def test_random_degenerate_nets_sound_and_nested(seed, widths, zero_bias, dead, integer_weights):
    rng = np.random.default_rng(seed)
    sizes = [2, *widths, 1]
    layers = []
    for i in range(len(sizes) - 1):
        w = rng.integers(-1, 2, size=(sizes[i + 1], sizes[i])).astype(float) if integer_weights else rng.normal(
            size=(sizes[i + 1], sizes[i]))
        b = np.zeros(sizes[i + 1]) if zero_bias else rng.normal(size=sizes[i + 1])
        if dead and i < len(sizes) - 2:
            w[0] = 0.0
            b[0] = -1.0 if seed % 2 else 0.0
        layers.append((w, b, "relu" if i < len(sizes) - 2 else "identity"))
    net = Network(layers)
    box = Box(-1.0, 1.0, dim=2)
    x = np.vstack([box.sample(3000, seed=seed), np.array(list(itertools.product([-1.0, 1.0], repeat=2)))])
    z = net.preactivations(x)
    ib, lb, pb = interval_bounds(net, box), linear_bounds(net, box), lp_bounds(net, box)
    for b in (ib, lb, pb):
        _assert_contains(b, z, tol=1e-8)
        for layer_b in b:
            assert np.all(layer_b.lo <= layer_b.hi)
    _assert_nested(lb, ib)
    _assert_nested(pb, lb)


def test_point_box_gives_exact_values():
    net = Network.random([3, 5, 4, 2], seed=2)
    p = np.array([0.1, -0.2, 0.3])
    for b, zl in zip(linear_bounds(net, Box(p, p)), net.preactivations(p), strict=True):
        np.testing.assert_allclose(b.lo, zl, atol=1e-12)
        np.testing.assert_allclose(b.hi, zl, atol=1e-12)


def test_best_bounds_dispatch_and_errors():
    net = Network.random([2, 4, 1], seed=0)
    box = Box(-1.0, 1.0, dim=2)
    for m, f in (("interval", interval_bounds), ("linear", linear_bounds), ("lp", lp_bounds)):
        for a, b in zip(best_bounds(net, box, m), f(net, box), strict=True):
            np.testing.assert_array_equal(a.lo, b.lo)
    with pytest.raises(InvalidParameterError, match="'method'"):
        best_bounds(net, box, "crown")
    with pytest.raises(DomainError, match="bounded"):
        linear_bounds(net, None)
    with pytest.raises(DomainError, match="unbounded"):
        lp_bounds(net, Polytope([[1.0, 0.0]], [1.0]))


def test_check_bounds_rejects_wrong_lists():
    net = Network.random([2, 3, 1], seed=0)
    good = interval_bounds(net, Box(0.0, 1.0, dim=2))
    assert len(check_bounds(net, good)) == 2
    with pytest.raises(InvalidParameterError, match="2 LayerBounds"):
        check_bounds(net, good[:1])
    with pytest.raises(InvalidParameterError, match="lo <= hi"):
        check_bounds(net, [LayerBounds(good[0].hi, good[0].lo - 1.0), good[1]])
    with pytest.raises(Exception, match="shape"):
        check_bounds(net, [LayerBounds(np.zeros(2), np.ones(2)), good[1]])
