"""Exact region counts and lists by MILP against an LP-tree oracle, sampling and hand counts."""

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reluscope import (
    Abs,
    Box,
    DomainError,
    HardTanh,
    InvalidParameterError,
    LeakyReLU,
    Network,
    PartialResultWarning,
    Polytope,
)
from reluscope.milp import count_regions, list_regions
from reluscope.regions import enumerate as enumerate_regions
from test_milp_oracle import box_halfspaces, lp_tree, lp_tree_patterns
from zoo import always_on, coincident, dead_unit, hat, lines_general_position, lines_through_origin, merged_linear

CASES = [  # (n0, hidden widths, seed): one or two hidden layers of <= 8 units
    (2, [6], 0),
    (2, [8, 8], 1),
    (3, [8, 8], 2),
    (3, [5], 3),
    (4, [6, 5], 3),
    (4, [4, 4], 7),
]


def _net(n0, widths, seed, **kw):
    return Network.random([n0, *widths, 1], seed=seed, **kw)


@pytest.mark.parametrize(("n0", "widths", "seed"), CASES)
def test_count_and_list_equal_the_lp_tree(n0, widths, seed):
    net = _net(n0, widths, seed)
    box = Box(-1.0, 1.0, dim=n0)
    truth = lp_tree_patterns(net, box.lo, box.hi)
    r = count_regions(net, box)
    assert (r.count, r.status, r.eps) == (len(truth), "exact", 1e-6)
    listed = list_regions(net, box)
    assert listed.patterns.dtype == np.int8 and listed.patterns.shape == (len(truth), net.n_units)
    assert set(map(tuple, listed.patterns.tolist())) == truth
    # dense sampling sees only full-dimensional regions: each sampled pattern is listed
    x = box.sample(20000, seed=seed)
    sampled = set(map(tuple, net.pattern(x).tolist()))
    assert sampled <= truth
    assert r.count >= len(sampled)


def test_first_layers_only():
    net = _net(3, [6, 5], 4)
    box = Box(-1.0, 1.0, dim=3)
    truth1 = lp_tree_patterns(net, box.lo, box.hi, n_hidden=1)
    assert count_regions(net, box, layers=1).count == len(truth1)
    pats = list_regions(net, box, layers=1).patterns
    assert pats.shape[1] == 6 and set(map(tuple, pats.tolist())) == truth1
    assert count_regions(net, box, layers=0).count == 1


@pytest.mark.parametrize("act", [LeakyReLU(0.1), Abs(), HardTanh(-0.5, 0.7)], ids=lambda a: type(a).__name__)
def test_other_activations_equal_the_lp_tree(act):
    net = _net(2, [5, 4], 1, activation=act)
    box = Box(-1.0, 1.0, dim=2)
    truth = lp_tree_patterns(net, box.lo, box.hi)
    assert count_regions(net, box).count == len(truth)
    assert set(map(tuple, list_regions(net, box).patterns.tolist())) == truth


def test_polytope_domain():
    tri = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])  # the triangle with vertices 0, e1, e2
    net = _net(2, [7, 6], 5)
    A, b = tri.halfspaces()
    truth = {leaf.pattern for leaf in lp_tree(net, A, b)}
    assert count_regions(net, tri).count == len(truth)
    assert set(map(tuple, list_regions(net, tri).patterns.tolist())) == truth
    assert count_regions(net, tri).count < count_regions(net, Box(-1.0, 1.0, dim=2)).count


# ---------------------------------------------------------------- zoo: hand-derived counts


def _crossing_box(net, margin=1.0):
    """A box holding every crossing point of the first layer's lines (so it meets every region)."""
    w, b = net.layers[0].weight, net.layers[0].bias
    pts = [np.linalg.solve(w[[i, j]], -b[[i, j]]) for i, j in itertools.combinations(range(w.shape[0]), 2)
           if abs(np.linalg.det(w[[i, j]])) > 1e-12]
    r = np.abs(np.array(pts)).max() + margin if pts else margin
    return Box(-r, r, dim=2)


@pytest.mark.parametrize("k", [4, 7])
def test_zoo_lines_in_general_position(k):
    z = lines_general_position(k, seed=0 if k == 4 else 3)
    box = _crossing_box(z.net)
    # Zaslavsky: 1 + k + C(k, 2) regions, all of which meet a box around every crossing
    assert count_regions(z.net, box).count == 1 + k + comb(k, 2) == z.n_activation_regions


@pytest.mark.parametrize(
    ("make", "box", "expected"),
    [
        (hat, Box(-1.0, 3.0, dim=1), 4),  # kinks at 0, 1, 2
        (hat, Box(0.5, 3.0, dim=1), 3),  # the kink at 0 is outside
        (lines_through_origin, Box(-1.0, 1.0, dim=2), 6),  # 3 lines through 0: 6 cones
        (dead_unit, Box(-1.0, 1.0, dim=2), 4),  # 2 crossing lines; the dead unit never switches
        (coincident, Box(-1.0, 2.0, dim=2), 2),  # three units on one line x0 = 0.5
        (merged_linear, Box(-1.0, 1.0, dim=2), 4),  # 4 activation regions (2 linear)
        (always_on, Box(0.0, 1.0, dim=2), 2),  # unit 0 on, unit 1 off, unit 2 switches
    ],
    ids=["hat", "hat-cut", "origin3", "dead_unit", "coincident", "merged_linear", "always_on"],
)
def test_zoo_hand_counts(make, box, expected):
    z = make()
    r = count_regions(z.net, box)
    assert r.count == expected
    assert list_regions(z.net, box).count == expected


def test_stable_units_are_reported_with_their_fixed_piece():
    z = always_on()
    r = list_regions(z.net, Box(0.0, 1.0, dim=2))
    np.testing.assert_array_equal(r.patterns, np.array([[1, 0, 0], [1, 0, 1]], dtype=np.int8))
    assert (r.n_binaries, r.n_stable) == (1, 2)


def test_everything_stable_or_no_hidden_layer_is_one_region():
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = Network([(w, np.array([0.0, 0.0, -0.5]), "relu"), (np.ones((1, 3)), [0.0], "identity")])
    box = Box(1.0, 2.0, dim=2)  # all three units stably on
    assert count_regions(net, box).count == 1
    np.testing.assert_array_equal(list_regions(net, box).patterns, [[1, 1, 1]])
    # a zero-weight, zero-bias unit is 0 everywhere: piece 0, no margin can hold, still 1 region
    flat = Network([(np.zeros((1, 2)), np.zeros(1), "relu"), (np.ones((1, 1)), [0.0], "identity")])
    assert count_regions(flat, Box(-1.0, 1.0, dim=2)).count == 1
    np.testing.assert_array_equal(list_regions(flat, Box(-1.0, 1.0, dim=2)).patterns, [[0]])
    affine = Network.affine(np.ones((1, 2)), [0.0])
    assert count_regions(affine, Box(0.0, 1.0, dim=2)).count == 1
    assert list_regions(affine, Box(0.0, 1.0, dim=2)).patterns.shape == (1, 0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    width=st.integers(1, 6),
    integer_weights=st.booleans(),
    zero_bias=st.booleans(),
    dead=st.booleans(),
)
def test_degenerate_one_layer_nets(seed, width, integer_weights, zero_bias, dead):
    """Coincident/parallel hyperplanes (integer weights), lines through a common point (zero
    biases), dead units: the count still equals the LP-tree."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-2, 3, size=(width, 2)).astype(float) if integer_weights else rng.normal(size=(width, 2))
    b = np.zeros(width) if zero_bias else rng.integers(-1, 2, size=width) / 2.0
    if dead:
        w[0], b[0] = 0.0, -1.0
    net = Network([(w, b, "relu"), (rng.normal(size=(1, width)), [0.0], "identity")])
    box = Box(-1.0, 1.0, dim=2)
    truth = lp_tree_patterns(net, box.lo, box.hi)
    assert count_regions(net, box).count == len(truth)
    assert set(map(tuple, list_regions(net, box).patterns.tolist())) == truth


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), widths=st.sampled_from([(4, 4), (3, 5), (4, 3, 3)]))
def test_zero_bias_deep_nets(seed, widths):
    """With zero biases, a later unit is identically 0 where all its inputs are off: that region
    (full-dimensional, unit on piece 0) must still be counted (17 of 40 such nets were miscounted
    before the 'dead' flag)."""
    net = Network.random([2, *widths, 1], seed=seed, bias="zero")
    box = Box(-1.0, 1.0, dim=2)
    truth = lp_tree_patterns(net, box.lo, box.hi)
    assert count_regions(net, box).count == len(truth)
    assert set(map(tuple, list_regions(net, box).patterns.tolist())) == truth


def test_bounds_choice_does_not_change_the_count():
    net = _net(2, [8, 8], 1)
    box = Box(-1.0, 1.0, dim=2)
    counts = {m: count_regions(net, box, bounds=m).count for m in ("interval", "linear", "lp")}
    assert len(set(counts.values())) == 1


def test_time_limit_gives_a_partial_lower_bound():
    net = Network.random([5, 12, 12, 1], seed=0)
    with pytest.warns(PartialResultWarning, match="time limit"):
        r = count_regions(net, Box(-1.0, 1.0, dim=5), time_limit=0.05)
    assert r.status == "partial"
    with pytest.warns(PartialResultWarning):
        lst = list_regions(net, Box(-1.0, 1.0, dim=5), time_limit=0.05)
    assert lst.status == "partial" and lst.count <= 2 ** 24


def test_errors_name_the_argument():
    net = _net(2, [3], 0)
    with pytest.raises(DomainError, match="bounded"):
        count_regions(net, None)
    with pytest.raises(DomainError, match="unbounded"):
        count_regions(net, Polytope([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]))
    with pytest.raises(InvalidParameterError, match="'eps'"):
        count_regions(net, Box(-1.0, 1.0, dim=2), eps=0.0)
    with pytest.raises(InvalidParameterError, match="'layers'"):
        count_regions(net, Box(-1.0, 1.0, dim=2), layers=2)
    with pytest.raises(InvalidParameterError, match="'time_limit'"):
        list_regions(net, Box(-1.0, 1.0, dim=2), time_limit=-1)


def test_box_halfspaces_helper_matches_box():
    A, b = box_halfspaces(np.array([0.0, -1.0]), np.array([1.0, 2.0]))
    A2, b2 = Box([0.0, -1.0], [1.0, 2.0]).halfspaces()
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(b, b2)


def test_few_binaries_are_counted_by_lps_and_scip_alike(monkeypatch):
    import reluscope.milp._count as cnt

    # [3, 1, 4, 1]: bounds leave one binary, and SCIP 10's presolve then removed it and
    # its counting crashed the interpreter (segfault); now one LP per assignment
    net = Network.random([3, 1, 4, 1], seed=187479254, bias_scale=0.5)
    box = Box(-1.0, 1.0, dim=3)
    r = count_regions(net, box)
    assert (r.count, r.n_binaries, r.status) == (2, 1, "exact")
    x = np.random.default_rng(0).uniform(-1, 1, size=(4000, 3))
    assert len(np.unique(net.pattern(x), axis=0)) == 2
    # a model with a few binaries SCIP can count: both ways agree
    net = Network.random([2, 3, 2, 1], seed=4, bias_scale=0.5)
    box = Box(-1.0, 1.0, dim=2)
    by_lps = count_regions(net, box)
    assert 1 <= by_lps.n_binaries <= cnt._ENUMERATE_BINARIES
    monkeypatch.setattr(cnt, "_ENUMERATE_BINARIES", 0)
    assert count_regions(net, box).count == by_lps.count == enumerate_regions(net, box).n_activation_regions
