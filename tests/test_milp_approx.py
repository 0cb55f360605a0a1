"""MIPBound: a probabilistic lower bound that is rarely (here: never) above the exact count."""

import math

import numpy as np
import pytest

from reluscope import Box, InvalidParameterError, Network
from reluscope.milp import approx_count, count_regions, list_regions
from reluscope.milp._approx import _Trials, xor_slack
from reluscope.milp._count import _RegionCheck, counting_formulation

TINY = [([2, 4, 3, 1], 1), ([2, 5, 1], 0), ([2, 6, 1], 4), ([3, 4, 1], 2)]


def test_bound_below_exact_in_at_least_the_stated_fraction_of_runs():
    """100 seeded runs (25 per net) at confidence 0.95: at least 95 bounds must be <= the exact count."""
    ok, runs = 0, 0
    for widths, seed in TINY:
        net = Network.random(widths, seed=seed)
        box = Box(-1.0, 1.0, dim=widths[0])
        exact = count_regions(net, box).count
        for s in range(25):
            r = approx_count(net, box, confidence=0.95, seed=1000 * seed + s)
            runs += 1
            ok += r.bound <= exact
            assert r.n_witnessed <= exact  # certain: distinct verified regions
            assert r.status == "complete"
    assert runs == 100 and ok >= 95


def test_reported_numbers_are_consistent():
    net = Network.random([2, 8, 8, 1], seed=1)
    box = Box(-1.0, 1.0, dim=2)
    r = approx_count(net, box, trials=4, confidence=0.9, seed=3)
    assert r.alpha == pytest.approx(xor_slack(0.9, 4))
    assert r.trials == 4 and len(r.feasible) >= 1 and all(0 <= f <= 4 for f in r.feasible)
    if r.level > 0:
        assert r.feasible[r.level - 1] == 4
        assert r.log2_bound == pytest.approx(r.level - r.alpha)
        assert r.bound == max(r.n_witnessed, math.ceil(2.0 ** r.log2_bound - 1e-9))
    assert r.bound <= count_regions(net, box).count


def test_slack_formula():
    # 2^(-α t) / (1 - 2^(-t)) = 1 - confidence (union bound over levels, written from the definition)
    for conf, t in [(0.95, 6), (0.99, 10), (0.5, 1)]:
        a = xor_slack(conf, t)
        assert 2.0 ** (-a * t) / (1 - 2.0 ** (-t)) == pytest.approx(1 - conf)


def test_parity_rows_keep_exactly_the_patterns_with_that_parity():
    """Each trial is feasible iff some region's binaries have the asked parities (checked
    against the full list of regions), and the pattern it returns is one of them."""
    net = Network.random([2, 6, 1], seed=4)
    box = Box(-1.0, 1.0, dim=2)
    form, _, dom, _, eps = counting_formulation(net, box, None, 1e-6, "linear")
    unstable = form.layers[0].z[:, 0] >= 0
    regions = list_regions(net, box).patterns[:, unstable]  # binaries of every region
    trial = _Trials(form, _RegionCheck(net, dom, form, eps), eps)
    rng = np.random.default_rng(0)
    for _ in range(25):
        r = int(rng.integers(1, 4))
        sets = rng.random((r, regions.shape[1])) < 0.5
        rhs = rng.integers(0, 2, size=r)
        hits = np.all((regions.astype(int) @ sets.T.astype(int)) % 2 == rhs, axis=1)
        bits = trial(sets, rhs, None)
        assert (bits is not None) == bool(hits.any())
        if bits is not None:
            assert any(np.array_equal(bits, p) for p in regions[hits])


def test_stable_only_and_errors():
    w = np.array([[1.0, 0.0], [0.0, 1.0]])
    net = Network([(w, np.zeros(2), "relu"), (np.ones((1, 2)), [0.0], "identity")])
    r = approx_count(net, Box(1.0, 2.0, dim=2))
    assert (r.bound, r.n_witnessed, r.level) == (1, 1, 0)
    with pytest.raises(InvalidParameterError, match="'confidence'"):
        approx_count(net, Box(-1.0, 1.0, dim=2), confidence=1.0)
    with pytest.raises(InvalidParameterError, match="'trials'"):
        approx_count(net, Box(-1.0, 1.0, dim=2), trials=0)
