"""Comparator networks, the 0-1 principle checker, and their exact ReLU compilation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluscope import InvalidParameterError
from reluscope.build import (
    ComparatorNetwork,
    comparator_cost,
    compile_comparators,
    maximum,
    median,
    minimum,
    rank_k,
    sort,
    sorting_network,
)

METHODS = ["best", "batcher", "bitonic", "odd_even_transposition", "bubble"]

# Published sizes (Knuth TAOCP 5.3.4; Codish et al. 2016; OEIS A003075 / A067782).
BEST_SIZE = {2: 1, 3: 3, 4: 5, 5: 9, 6: 12, 7: 16, 8: 19, 9: 25, 10: 29}
BEST_DEPTH = {2: 1, 3: 3, 4: 3, 5: 5, 6: 5, 7: 6, 8: 6, 9: 7, 10: 7}


def _permutations(n):
    return np.array(list(itertools.permutations(range(n))), dtype=float)


def _ties(rng, n, m=300):
    return rng.integers(-2, 3, size=(m, n)).astype(float)


def _brute_force_sorts(n, comps):
    """Independent check: run the comparators in plain Python on every permutation."""
    for perm in itertools.permutations(range(n)):
        v = list(perm)
        for i, j in comps:
            lo, hi = min(v[i], v[j]), max(v[i], v[j])
            v[i], v[j] = lo, hi
        if v != sorted(v):
            return False
    return True


# ---------------------------------------------------------------------- published counts
@pytest.mark.parametrize(
    ("method", "n", "size", "depth"),
    [
        ("bitonic", 8, 24, 6),
        ("batcher", 8, 19, 6),
        ("bitonic", 4, 6, 3),
        ("bitonic", 16, 80, 10),
        ("batcher", 4, 5, 3),
        ("batcher", 16, 63, 10),
    ],
)
def test_generic_networks_have_the_published_size_and_depth(method, n, size, depth):
    cn = sorting_network(n, method)
    assert (cn.size, cn.depth) == (size, depth)
    assert cn.is_sorting()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_batcher_and_bitonic_formulas_for_powers_of_two(k):
    n = 2**k
    assert sorting_network(n, "bitonic").size == n * k * (k + 1) // 4
    assert sorting_network(n, "batcher").size == (k * k - k + 4) * 2 ** (k - 2) - 1
    assert sorting_network(n, "bitonic").depth == sorting_network(n, "batcher").depth == k * (k + 1) // 2


@pytest.mark.parametrize("n", range(2, 11))
def test_quadratic_networks(n):
    oet, bub = sorting_network(n, "odd_even_transposition"), sorting_network(n, "bubble")
    assert oet.size == bub.size == n * (n - 1) // 2
    assert oet.depth == (n if n > 2 else 1)
    assert bub.depth == 2 * n - 3


@pytest.mark.parametrize("n", range(2, 11))
def test_best_networks_have_the_published_optimal_sizes_and_sort(n):
    size_net = sorting_network(n, "best", "size")
    depth_net = sorting_network(n, "best", "depth")
    assert size_net.size == BEST_SIZE[n]
    assert depth_net.depth == BEST_DEPTH[n]
    assert size_net.is_sorting() and depth_net.is_sorting()
    assert size_net.size >= math.ceil(math.log2(math.factorial(n)))


def test_best_ten_input_pareto_pair():
    assert (sorting_network(10, "best", "size").size, sorting_network(10, "best", "size").depth) == (29, 8)
    assert (sorting_network(10, "best", "depth").size, sorting_network(10, "best", "depth").depth) == (31, 7)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [3, 5, 6, 7, 9])
def test_every_method_sorts_for_non_powers_of_two(method, n):
    assert sorting_network(n, method).is_sorting()


# ---------------------------------------------------------------------- 0-1 principle
@st.composite
def comparator_lists(draw):
    n = draw(st.integers(2, 6))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    comps = draw(st.lists(pair.map(lambda p: (min(p), max(p))), max_size=14))
    return n, comps


@settings(max_examples=150, deadline=None)
@given(comparator_lists())
def test_zero_one_checker_agrees_with_all_permutations(data):
    n, comps = data
    assert ComparatorNetwork(n, comps).is_sorting() == _brute_force_sorts(n, comps)


def test_zero_one_checker_finds_a_missing_comparator():
    comps = list(sorting_network(8).comparators)
    assert not ComparatorNetwork(8, comps[:-1]).is_sorting()


@settings(max_examples=60, deadline=None)
@given(comparator_lists(), st.data())
def test_pruning_keeps_the_selected_outputs(data, draw):
    n, comps = data
    outs = draw.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    full = ComparatorNetwork(n, comps)
    pruned = full.pruned(outs)
    x = np.array(list(itertools.product(range(3), repeat=n)), dtype=float)
    np.testing.assert_array_equal(pruned.apply(x), full.apply(x)[:, outs])
    assert pruned.size <= full.size
    np.testing.assert_allclose(pruned.to_network()(x), full.apply(x)[:, outs], rtol=0, atol=1e-12)


def test_layers_are_disjoint_and_in_order():
    cn = sorting_network(10, "best", "size")
    for schedule in ("asap", "alap"):
        layers = cn.layers(schedule)
        assert len(layers) == cn.depth
        assert sum(len(L) for L in layers) == cn.size
        for L in layers:
            wires = [w for c in L for w in c]
            assert len(wires) == len(set(wires))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((3, [(0, 3)]), "distinct wires"),
        ((3, [(1, 1)]), "distinct wires"),
        ((0, []), "'n'"),
        ((3, [(0,)]), "pair"),
    ],
)
def test_comparator_network_validation(args, match):
    with pytest.raises(InvalidParameterError, match=match):
        ComparatorNetwork(*args)


def test_bad_method_and_large_best():
    with pytest.raises(InvalidParameterError, match="'method'"):
        sorting_network(4, "quick")
    with pytest.raises(InvalidParameterError, match="n <= 10"):
        sorting_network(11, "best")
    with pytest.raises(InvalidParameterError, match="'prefer'"):
        sorting_network(4, prefer="speed")


# ---------------------------------------------------------------------- ReLU compilation
@pytest.mark.parametrize("n", range(2, 8))
@pytest.mark.parametrize("method", METHODS)
def test_sort_network_sorts_every_permutation_and_ties(n, method, rng):
    net = sort(n, method=method)
    P = _permutations(n)
    np.testing.assert_allclose(net(P), np.sort(P, axis=1), rtol=0, atol=1e-9)
    T = _ties(rng, n)
    np.testing.assert_allclose(net(T), np.sort(T, axis=1), rtol=0, atol=1e-9)


@pytest.mark.parametrize("n", [2, 4, 7, 8, 10])
@pytest.mark.parametrize("prefer", ["size", "depth"])
def test_sort_sizes_follow_the_cost_models(n, prefer, rng):
    cn = sorting_network(n, "best", prefer)
    S, D = cn.size, cn.depth
    plain = sort(n, prefer=prefer)
    box = sort(n, prefer=prefer, bound=3.0)
    assert plain.n_units == 2 * n * D and plain.depth == D + 1
    assert all(w == 2 * n for w in plain.hidden_widths)
    assert box.n_units == n * D + S and box.depth == D + 1
    c = comparator_cost(cn)
    assert (c.plain_units, c.box_units, c.residual_units) == (2 * n * D, n * D + S, S)
    x = rng.uniform(-3, 3, size=(500, n))
    x[:50] = np.round(x[:50])  # ties
    np.testing.assert_allclose(plain(x), np.sort(x, axis=1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(box(x), np.sort(x, axis=1), rtol=0, atol=1e-9)


def test_research_note_ten_input_costs():
    # research note §3.3: (29, 8) -> 160 plain / 109 box; (31, 7) -> 140 / 101
    assert (sort(10).n_units, sort(10, bound=1.0).n_units) == (160, 109)
    assert (sort(10, prefer="depth").n_units, sort(10, prefer="depth", bound=1.0).n_units) == (140, 101)


@pytest.mark.parametrize("n", range(1, 10))
def test_maximum_and_minimum(n, rng):
    X = np.vstack([_ties(rng, n), rng.normal(size=(200, n)) * 5])
    if n <= 7:
        X = np.vstack([X, _permutations(n)])
    np.testing.assert_allclose(maximum(n)(X).ravel(), X.max(axis=1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(minimum(n)(X).ravel(), X.min(axis=1), rtol=0, atol=1e-9)
    assert maximum(n).depth - 1 == math.ceil(math.log2(n))
    Xb = np.clip(X, -5, 5)
    np.testing.assert_allclose(maximum(n, bound=5.0)(Xb).ravel(), Xb.max(axis=1), rtol=0, atol=1e-9)


def test_maximum_units_match_the_research_note_table():
    # research note §2.4: plain pairwise tree, 3 ReLUs per pair, 2 per carried wire
    assert [maximum(n).n_units for n in (2, 3, 4, 5, 8, 16)] == [3, 8, 9, 16, 21, 45]
    assert [maximum(n).depth - 1 for n in (2, 3, 4, 5, 8, 16)] == [1, 2, 2, 3, 3, 4]
    assert maximum(8, bound=1.0).n_units == 2 * 7


@pytest.mark.parametrize("n", range(1, 10))
def test_median(n, rng):
    net = median(n)
    X = _ties(rng, n)
    if n <= 7:
        X = np.vstack([X, _permutations(n)])
    np.testing.assert_allclose(net(X).ravel(), np.median(X, axis=1), rtol=0, atol=1e-9)
    Xb = rng.uniform(-1, 1, size=(200, n))
    np.testing.assert_allclose(median(n, bound=1.0)(Xb).ravel(), np.median(Xb, axis=1), rtol=0, atol=1e-9)


def test_median_uses_the_classical_small_networks():
    assert median(5).metadata["cost"]["comparators"] == 7
    assert median(3).metadata["cost"]["comparators"] == 3
    # pruning drops wires: fewer units than sorting
    assert median(7).n_units < sort(7).n_units


@pytest.mark.parametrize("n", range(2, 7))
def test_rank_k_every_k(n, rng):
    X = np.vstack([_permutations(n), _ties(rng, n)])
    ref = np.sort(X, axis=1)
    for k in range(n):
        net = rank_k(n, k)
        np.testing.assert_allclose(net(X).ravel(), ref[:, k], rtol=0, atol=1e-9)
        if "cost" in net.metadata:
            assert net.metadata["cost"]["comparators"] <= sorting_network(n).size
        if k in (0, n - 1):
            assert net.n_units <= maximum(n).n_units


def test_rank_k_validation():
    with pytest.raises(InvalidParameterError, match="'k'"):
        rank_k(4, 4)
    with pytest.raises(InvalidParameterError, match="'bound'"):
        sort(4, bound=0.0)


def test_compile_rejects_non_networks():
    with pytest.raises(InvalidParameterError, match="ComparatorNetwork"):
        compile_comparators([(0, 1)])


def test_non_standard_comparators_are_allowed():
    cn = ComparatorNetwork(2, [(1, 0)])  # min to wire 1: sorts descending
    np.testing.assert_allclose(cn.to_network()(np.array([1.0, 2.0])), [2.0, 1.0])
    assert not cn.is_sorting()
