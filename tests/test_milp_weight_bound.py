"""The weight-aware upper bound: at least the exact count, at most Serra et al.'s Theorem 1."""

import itertools
from math import comb, prod

import numpy as np
import pytest

from reluscope import Box, LeakyReLU, Network, UnsupportedLayerError
from reluscope.bounds import serra2018
from reluscope.milp import count_regions, weight_bound
from zoo import always_on


def theorem1(n0, widths, caps=None):
    """Serra, Tjandraatmadja & Ramalingam 2018, Theorem 1, by listing J (small nets only):
    sum over (j_1..j_L) with 0 <= j_l <= min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, cap_l) of prod C(n_l, j_l)."""
    caps = list(widths) if caps is None else list(caps)
    total = 0
    for js in itertools.product(*[range(w + 1) for w in widths]):
        c = n0
        ok = True
        for j, n, cap in zip(js, widths, caps, strict=True):
            if j > min(c, cap):
                ok = False
                break
            c = min(c, n - j)
        if ok:
            total += prod(comb(n, j) for n, j in zip(widths, js, strict=True))
    return total


@pytest.mark.parametrize(
    ("n0", "widths", "seed", "side"),
    [(2, [6], 0, 1.0), (2, [8, 8], 1, 1.0), (3, [8, 8], 2, 1.0), (4, [6, 5], 3, 1.0), (3, [7, 7], 5, 0.2),
     (2, [5, 5, 4], 6, 1.0)],
)
def test_between_exact_count_and_theorem1(n0, widths, seed, side):
    net = Network.random([n0, *widths, 1], seed=seed)
    box = Box(-side, side, dim=n0)
    wb = weight_bound(net, box)
    exact = count_regions(net, box).count
    assert exact <= wb.bound <= theorem1(n0, widths)
    assert wb.bound <= serra2018(n0, widths)  # the bounds module agrees with the listing
    assert theorem1(n0, widths) == serra2018(n0, widths)


def test_equals_theorem1_when_nothing_is_stable():
    # on a huge box every unit of this net switches (checked below); its weights are full rank
    net = Network.random([2, 4, 4, 1], seed=4)
    wb = weight_bound(net, Box(-1e4, 1e4, dim=2))
    assert wb.n_unstable == (4, 4) and wb.n_active == (0, 0)
    assert wb.bound == theorem1(2, [4, 4])


def test_rank_deficient_layer_uses_the_rank():
    # layer 2 has rank 1 (all rows parallel): rank-refined Theorem 1 (cap_2 = rank W^2 = 1)
    rng = np.random.default_rng(0)
    w1, b1 = rng.normal(size=(4, 4)), rng.normal(size=4)
    w2 = np.outer(rng.normal(size=4), rng.normal(size=4))
    b2 = rng.normal(size=4)
    net = Network([(w1, b1, "relu"), (w2, b2, "relu"), (np.ones((1, 4)), [0.0], "identity")])
    wb = weight_bound(net, Box(-1e4, 1e4, dim=4))
    assert wb.n_unstable == (4, 4) and wb.ranks[1][0] == 1
    assert wb.bound <= theorem1(4, [4, 4], caps=[4, 1]) == 76 < theorem1(4, [4, 4]) == 163


def test_hand_case_always_on():
    # unit 0 always on, unit 1 always off, unit 2 switches: layer pieces C(1,0) + C(1,1) = 2 = exact
    wb = weight_bound(always_on().net, Box(0.0, 1.0, dim=2))
    assert (wb.bound, wb.n_unstable, wb.n_active) == (2, (1,), (1,))
    assert int(wb) == 2


def test_layers_and_errors():
    net = Network.random([2, 6, 6, 1], seed=0)
    box = Box(-1.0, 1.0, dim=2)
    assert weight_bound(net, box, layers=1).bound >= count_regions(net, box, layers=1).count
    assert weight_bound(net, box, layers=0).bound == 1
    with pytest.raises(UnsupportedLayerError, match="LeakyReLU"):
        weight_bound(Network.random([2, 3, 1], seed=0, activation=LeakyReLU(0.1)), box)
