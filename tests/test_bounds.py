"""Tests of reluscope.bounds: every expected value is computed here, independently of the code
under test (brute-force enumeration of the index set J, the papers' closed forms written out
again, literal test vectors from reference/milp_bounds.md §5, or sampled activation patterns).
"""

import csv
import functools
import itertools
import json
import math
from math import comb, prod

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reluscope import InvalidParameterError, Network, ShapeError, UnsupportedLayerError, bounds
from reluscope.cli import cli
from zoo import zoo

# ----------------------------------------------------------------------------- independent formulas


def brute_serra(n0, widths, caps=None):
    """Serra et al. 2018 Thm 1 by listing every (j_1..j_L) in the box and testing membership in J."""
    caps = list(widths) if caps is None else list(caps)
    total = 0
    for js in itertools.product(*[range(n + 1) for n in widths]):
        ok = True
        for l, j in enumerate(js):
            limit = min([n0] + [widths[i] - js[i] for i in range(l)] + [caps[l]])
            if j > limit:
                ok = False
                break
        if ok:
            total += prod(comb(n, j) for n, j in zip(widths, js, strict=True))
    return total


@functools.cache
def r(m, d):
    """Zaslavsky by its recursion r(m, d) = r(m-1, d) + r(m-1, d-1)."""
    if d == 0 or m == 0:
        return 1
    return r(m - 1, d) + r(m - 1, d - 1)


def formula_montufar2017(n0, widths):
    return prod(sum(comb(n, j) for j in range(min([n0] + list(widths[: l + 1])) + 1))
                for l, n in enumerate(widths))


def formula_raghu(n0, widths):
    return prod(sum(comb(n, j) for j in range(min(n0, n) + 1)) for n in widths)


def formula_folding(n0, widths, extra):
    """Montúfar 2014 Thm 4 (extra = 0) and Serra 2018 Thm 6 (extra = 1)."""
    head = prod((n // n0 + extra) ** n0 for n in widths[:-1])
    return head * sum(comb(widths[-1], j) for j in range(n0 + 1))


# ----------------------------------------------------------------------------- worked examples


def test_zaslavsky_worked_examples():
    assert bounds.zaslavsky(4, 2) == 11 == 1 + 4 + 6
    assert bounds.zaslavsky(4, 2, bounded=True) == 3
    assert bounds.zaslavsky(3, 2) == 7
    assert bounds.zaslavsky(2, 2) == 4
    assert bounds.zaslavsky(20, 2) == 211
    assert bounds.zaslavsky(5, 0) == 1 and bounds.zaslavsky(0, 3) == 1
    assert bounds.zaslavsky(0, 3, bounded=True) == 0 and bounds.zaslavsky(2, 3, bounded=True) == 0


@given(st.integers(0, 25), st.integers(0, 8))
def test_zaslavsky_matches_recursion(m, d):
    assert bounds.zaslavsky(m, d) == r(m, d)


TABLE_784 = [  # n1, n2, Thm 1, Montúfar 2017 (milp_bounds.md §5, n0 = 784)
    (1, 21, 23, 44),
    (2, 20, 254, 844),
    (5, 17, 35_443, 300_864),
    (8, 14, 600_370, 3_305_216),
    (11, 11, 2_449_868, 4_194_304),
    (16, 6, 4_158_861, 4_194_304),
    (21, 1, 4_194_303, 4_194_304),
]


@pytest.mark.parametrize("n1,n2,thm1,m17", TABLE_784)
def test_vectors_784_two_layers(n1, n2, thm1, m17):
    assert bounds.serra2018(784, [n1, n2]) == thm1 == brute_serra(784, [n1, n2])
    assert bounds.montufar2017(784, [n1, n2]) == m17 == formula_montufar2017(784, [n1, n2])
    assert bounds.trivial([n1, n2]) == 4_194_304 == 2**22


def test_vectors_784_bottleneck_checks():
    assert bounds.serra2018(784, [21, 1]) == 2**21 + (2**21 - 1)
    assert bounds.serra2018(784, [1, 21]) == (1 + 21) + 1
    assert bounds.serra2018(784, [22]) == 4_194_304


@pytest.mark.parametrize(
    "n0,widths,ranks,expected",
    [
        (1, [3, 3, 3], None, 64),
        (2, [6, 6, 6], None, 10_648),
        (2, [3, 3], None, 40),
        (2, [10, 10], None, 3_136),
        (2, [30, 30], None, 217_156),
        (4, [4, 4], None, 163),
        (4, [4, 4], [4, 1], 76),
        (10, [8, 8, 8], None, 5_900_722),
        (10, [8, 8, 8], [8, 3, 8], 3_517_567),
        (64, [10, 10], None, 616_666),
        (64, [12, 12], None, 9_740_686),
        (64, [16, 16], None, 2_448_023_843),
    ],
)
def test_vectors_serra(n0, widths, ranks, expected):
    assert bounds.serra2018(n0, widths, ranks=ranks) == expected
    assert brute_serra(n0, widths, ranks) == expected


def test_vectors_other_bounds():
    assert bounds.montufar2014(2, [6, 6, 6]) == 1_782
    assert bounds.serra2018_lower(2, [6, 6, 6]) == 5_632
    assert bounds.montufar2017(2, [6, 6, 6]) == bounds.raghu2017(2, [6, 6, 6]) == 10_648
    assert bounds.trivial([6, 6, 6]) == 262_144
    assert bounds.montufar2017(1, [3, 3, 3]) == 64
    assert bounds.montufar2017(2, [3, 3]) == 49
    assert bounds.montufar2017(2, [10, 10]) == 3_136
    assert bounds.montufar2017(2, [30, 30]) == 217_156
    assert bounds.montufar2017(10, [8, 8, 8]) == 16_777_216 == 2**24


# ----------------------------------------------------------------------------- exactness and order


def architectures(max_n0=6, max_layers=4, max_width=8):
    return st.tuples(
        st.integers(1, max_n0), st.lists(st.integers(1, max_width), min_size=1, max_size=max_layers)
    )


@st.composite
def architectures_with_ranks(draw):
    n0, widths = draw(architectures())
    ranks, prev = [], n0
    for n in widths:
        ranks.append(draw(st.integers(0, min(n, prev))))
        prev = n
    return n0, widths, ranks


@settings(max_examples=150, deadline=None)
@given(architectures_with_ranks())
def test_serra_equals_brute_force(arch):
    n0, widths, ranks = arch
    assert bounds.serra2018(n0, widths) == brute_serra(n0, widths)
    assert bounds.serra2018(n0, widths, ranks) == brute_serra(n0, widths, ranks)


@given(st.integers(1, 40), st.integers(1, 40))
def test_serra_one_layer_is_zaslavsky(n0, n1):
    assert bounds.serra2018(n0, [n1]) == sum(comb(n1, s) for s in range(min(n0, n1) + 1))


@given(st.lists(st.integers(3, 30), min_size=1, max_size=5))
def test_dimension_one_is_exact(widths):
    exact = prod(n + 1 for n in widths)  # Serra et al. Thm 5
    assert bounds.serra2018(1, widths) == exact
    assert bounds.serra2018_lower(1, widths) == exact
    assert bounds.montufar2017(1, widths) == exact


@settings(max_examples=200, deadline=None)
@given(architectures_with_ranks())
def test_order_relations(arch):
    n0, widths, ranks = arch
    s = bounds.serra2018(n0, widths)
    m17 = bounds.montufar2017(n0, widths)
    assert m17 == formula_montufar2017(n0, widths)
    assert bounds.raghu2017(n0, widths) == formula_raghu(n0, widths)
    assert s <= m17 <= bounds.raghu2017(n0, widths) <= bounds.trivial(widths) == 2 ** sum(widths)
    assert bounds.serra2018(n0, widths, ranks) <= s
    assert bounds.montufar2014(n0, widths, reduce_input=True) <= s
    if min(widths) >= n0:
        assert bounds.montufar2014(n0, widths) == formula_folding(n0, widths, 0)
    if min(widths) >= 3 * n0:
        assert bounds.montufar2014(n0, widths) <= bounds.serra2018_lower(n0, widths) <= s
        assert bounds.serra2018_lower(n0, widths) == formula_folding(n0, widths, 1)
    if widths[0] >= 2 and min(widths) >= 2:
        assert bounds.arora2018_lower(n0, widths, improved=False) <= bounds.arora2018_lower(n0, widths) <= s
    # lowering one rank never raises the bound
    for i, rk in enumerate(ranks):
        if rk > 0:
            lower = list(ranks)
            lower[i] -= 1
            assert bounds.serra2018(n0, widths, lower) <= bounds.serra2018(n0, widths, ranks)


@settings(max_examples=60, deadline=None)
@given(architectures(max_n0=30, max_layers=5, max_width=40))
def test_order_relations_larger(arch):
    n0, widths = arch
    s = bounds.serra2018(n0, widths)
    assert bounds.montufar2014(n0, widths, reduce_input=True) <= s <= bounds.montufar2017(n0, widths)
    assert bounds.montufar2017(n0, widths) == formula_montufar2017(n0, widths)


def test_big_architecture_is_exact_integer():
    v = bounds.serra2018(784, [1000] * 5)
    assert isinstance(v, int) and v < 2**5000 and v > 2**3000
    assert bounds.montufar2017(784, [1000] * 5) == sum(comb(1000, j) for j in range(785)) ** 5
    assert v < bounds.montufar2017(784, [1000] * 5)


def test_no_hidden_layer_is_one_region():
    assert bounds.trivial([]) == bounds.serra2018(3, []) == bounds.montufar2017(3, []) == 1
    assert bounds.raghu2017(3, []) == bounds.montufar2014(3, []) == bounds.serra2018_lower(3, []) == 1


# ----------------------------------------------------------------------------- conditions and errors


def test_lower_bound_conditions():
    with pytest.raises(InvalidParameterError, match=r"n_l >= n0.*n0 = 3.*\[2, 5\]"):
        bounds.montufar2014(3, [2, 5])
    assert bounds.montufar2014(3, [2, 5], reduce_input=True) == formula_folding(2, [2, 5], 0)
    with pytest.raises(InvalidParameterError, match=r"n_l >= 3 \* n0"):
        bounds.serra2018_lower(2, [6, 5])
    assert bounds.serra2018_lower(2, [6, 5], reduce_input=True) == formula_folding(1, [6, 5], 1)
    with pytest.raises(InvalidParameterError, match="every width must be >= 3"):
        bounds.serra2018_lower(2, [6, 2], reduce_input=True)
    with pytest.raises(InvalidParameterError, match="n_1 >= 2"):
        bounds.arora2018_lower(2, [1, 5])
    # 2 * sum_{j<n0} C(m-1, j) * (w+1)^(L-1) with m = 3, w = 4
    assert bounds.arora2018_lower(2, [7, 4, 6]) == 2 * (comb(2, 0) + comb(2, 1)) * 5**2


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: bounds.serra2018(2, [3, -1]), r"'widths\[1\]' must be an integer >= 1; got -1"),
        (lambda: bounds.serra2018(0, [3]), r"'n0' must be an integer >= 1; got 0"),
        (lambda: bounds.serra2018(2, [3.0]), r"'widths\[0\]'.*3\.0"),
        (lambda: bounds.serra2018(True, [3]), r"'n0'"),
        (lambda: bounds.serra2018(2, "33"), r"'widths' must be a sequence"),
        (lambda: bounds.serra2018(2, 3), r"'widths' must be a sequence"),
        (lambda: bounds.serra2018(2, [3, 3], ranks=[2]), r"one entry per hidden layer \(2\); got 1"),
        (lambda: bounds.serra2018(2, [3, 3], ranks=[3, 1]), r"'ranks\[0\]' must be <= .* = 2"),
        (lambda: bounds.serra2018(2, [3, 3], ranks=[2, -1]), r"'ranks\[1\]'"),
        (lambda: bounds.trivial([0]), r"'widths\[0\]'"),
        (lambda: bounds.zaslavsky(-1, 2), r"'n_hyperplanes'"),
        (lambda: bounds.hanin_rolnick2019(10, 2, volume=0.0), r"'volume'"),
        (lambda: bounds.hanin_rolnick2019(10, 2, c_bias=float("nan")), r"'c_bias'"),
        (lambda: bounds.hanin_rolnick2019_boundary(10, 2, k=3), r"'k' must be between 1 and n_in = 2"),
        (lambda: bounds.c_bias_normal(-1.0), r"'sigma_b'"),
    ],
)
def test_invalid_input(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_numpy_integers_are_accepted():
    assert bounds.serra2018(np.int64(2), np.array([3, 3])) == 40


# ----------------------------------------------------------------------------- Hanin & Rolnick


def test_hanin_rolnick_worked_numbers():
    cb1 = 1 / math.sqrt(2 * math.pi)
    assert bounds.c_bias_normal(1.0) == pytest.approx(cb1)
    assert bounds.c_bias_uniform(0.5) == pytest.approx(1.0)
    # milp_bounds.md §5: k=1 density 79.79, k=2 3,151.3, region density 814,873 (N = 100, n_in = 2)
    assert bounds.hanin_rolnick2019_boundary(100, 2) == pytest.approx(79.79, abs=0.01)
    assert bounds.hanin_rolnick2019_boundary(100, 2, k=2) == pytest.approx(3151.3, abs=0.1)
    assert bounds.hanin_rolnick2019(100, 2) == pytest.approx(814_873, abs=1)
    # the measured net n0 = 2, [10, 10], sigma_b = 0.5, box [-1, 1]^2: 521,519
    assert bounds.hanin_rolnick2019(20, 2, volume=4.0, c_bias=bounds.c_bias_normal(0.5)) == pytest.approx(
        521_519, abs=1
    )


@given(st.integers(1, 300), st.integers(1, 6), st.floats(0.1, 10), st.floats(0.1, 3), st.floats(0.5, 2))
def test_hanin_rolnick_formula(n, n_in, vol, sigma, c_grad):
    assume(n >= n_in)
    cb = 1 / (sigma * math.sqrt(2 * math.pi))
    t = 32 * c_grad * cb
    expected = (t * n) ** n_in / math.factorial(n_in) * vol
    got = bounds.hanin_rolnick2019(n, n_in, vol, c_bias=bounds.c_bias_normal(sigma), c_grad=c_grad)
    assert got == pytest.approx(expected, rel=1e-9)
    k = min(n_in, 3)
    expected_b = comb(n, k) * (2 * c_grad * cb) ** k * vol
    assert bounds.hanin_rolnick2019_boundary(n, n_in, k, vol, c_bias=cb, c_grad=c_grad) == pytest.approx(
        expected_b, rel=1e-9
    )


def test_hanin_rolnick_small_and_huge():
    assert bounds.hanin_rolnick2019(5, 10) == 32.0  # N < n_in: the 2^N regime
    assert math.isinf(bounds.hanin_rolnick2019(2000, 784))
    row = [r for r in bounds.table(784, [1000, 1000]).rows if r.name == "hanin_rolnick2019"][0]
    lg = 784 * math.log10(32 * bounds.c_bias_normal(1.0) * 2000) - math.lgamma(785) / math.log(10)
    assert row.log10 == pytest.approx(lg, rel=1e-12)
    assert row.to_dict()["value"] is None


# ----------------------------------------------------------------------------- table


def test_table_values_and_serialisation():
    t = bounds.table(2, [6, 6, 6])
    assert t["serra2018"] == 10_648 and t["montufar2014"] == 1_782 and t["serra2018_lower"] == 5_632
    assert t["trivial"] == 2**18 and t["shallow_zaslavsky"] == sum(comb(18, j) for j in range(3))
    kinds = {r.name: r.kind for r in t.rows}
    assert kinds["serra2018"] == "upper" and kinds["montufar2014"] == "lower"
    assert kinds["hanin_rolnick2019"] == "expected"
    d = json.loads(json.dumps(t.to_dict()))
    assert d["widths"] == [6, 6, 6] and d["n_units"] == 18
    assert {r["name"]: r["value"] for r in d["rows"]}["serra2018"] == 10_648
    md = t.to_markdown()
    assert "| serra2018 | upper | 10,648 |" in md and "| montufar2014 | lower | 1,782 |" in md
    with pytest.raises(KeyError):
        t["nope"]


def test_table_inapplicable_and_huge():
    t = bounds.table(784, [2, 2])  # serra2018_lower: no d with 2 >= 3 d
    assert t["serra2018_lower"] is None
    assert "n/a" in t.to_markdown()
    big = bounds.table(784, [4000] * 4)
    row = [r for r in big.rows if r.name == "trivial"][0]
    assert row.log10 == pytest.approx(16000 * math.log10(2))
    assert row.to_dict()["value"] is None  # too many digits for exact JSON
    assert "e+4816" in row.formatted()
    json.dumps(big.to_dict())


def net_with_rank_one_second_layer(seed=0):
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(4, 4))
    w2 = np.outer(rng.normal(size=4), rng.normal(size=4))  # rank 1
    return Network([(w1, rng.normal(size=4), "relu"), (w2, rng.normal(size=4), "relu"),
                    (rng.normal(size=(1, 4)), np.zeros(1), "identity")])


def test_table_with_network_uses_ranks():
    net = net_with_rank_one_second_layer()
    t = bounds.table(net=net)
    assert t.ranks == (4, 1)
    assert t["serra2018_rank"] == 76 == brute_serra(4, [4, 4], [4, 1])
    assert t["serra2018"] == 163
    assert bounds.table(4, [4, 4], net)["serra2018_rank"] == 76
    with pytest.raises(ShapeError, match="must match"):
        bounds.table(3, [4, 4], net)
    with pytest.raises(InvalidParameterError, match="needs 'n0' and 'widths'"):
        bounds.table()
    leaky = Network.random([2, 3, 1], seed=0, activation="leaky_relu")
    with pytest.raises(UnsupportedLayerError, match="ReLU"):
        bounds.table(net=leaky)


# ----------------------------------------------------------------------------- against reality


def sampled_patterns(net, radius, n_points, seed):
    x = np.random.default_rng(seed).uniform(-radius, radius, size=(n_points, net.n_in))
    return len(np.unique(net.pattern(x), axis=0))


@st.composite
def degenerate_networks(draw):
    """Small random ReLU nets, with dead units, zero biases or duplicated (coincident) units."""
    n0 = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    net = Network.random([n0, *widths, 1], seed=draw(st.integers(0, 2**16)),
                         bias=draw(st.sampled_from(["normal", "zero"])))
    layers = []
    for i, layer in enumerate(net.layers):
        w, b = layer.weight.copy(), layer.bias.copy()
        if i < len(widths):
            mode = draw(st.sampled_from(["plain", "dead", "duplicate"]))
            if mode == "dead":
                w[0] = 0.0
                b[0] = -1.0
            elif mode == "duplicate" and w.shape[0] > 1:
                w[-1] = 2.0 * w[0]
                b[-1] = 2.0 * b[0]
        layers.append((w, b, layer.activation))
    return Network(layers)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(degenerate_networks(), st.integers(0, 1000))
def test_sampled_patterns_never_exceed_upper_bounds(net, seed):
    found = sampled_patterns(net, radius=50.0, n_points=20_000, seed=seed)
    t = bounds.table(net=net)
    for row in t.rows:
        if row.kind == "upper":
            assert found <= row.value, (row.name, found, row.value)


def test_sampled_patterns_low_rank_net_near_rank_bound():
    net = net_with_rank_one_second_layer(seed=3)
    found = sampled_patterns(net, radius=100.0, n_points=100_000, seed=0)
    # the rank-refined bound (76) must hold; the unrefined one (163) is far looser. Sampling
    # finds 56 patterns here: the refined bound is within a factor 1.4 of reality.
    assert found <= brute_serra(4, [4, 4], [4, 1]) == 76
    assert found > 40


def test_one_dimensional_nets_on_a_fine_grid():
    for seed in range(3):
        net = Network.random([1, 4, 4, 4, 1], seed=seed)
        x = np.linspace(-100, 100, 100_001)[:, None]
        patterns = net.pattern(x)
        pieces = 1 + int(np.count_nonzero(np.any(patterns[1:] != patterns[:-1], axis=1)))
        assert pieces <= bounds.serra2018(1, [4, 4, 4]) == 125


@pytest.mark.parametrize("z", [z for z in zoo() if z.domain is None], ids=lambda z: z.name)
def test_zoo_counts_within_upper_bounds(z):
    t = bounds.table(net=z.net)
    for row in t.rows:
        if row.kind == "upper":
            assert z.n_activation_regions <= row.value, row.name


# ----------------------------------------------------------------------------- CLI


def test_cli_table_and_json():
    res = CliRunner().invoke(cli, ["bounds", "2", "6", "6", "6"])
    assert res.exit_code == 0, res.output
    assert "| serra2018 | upper | 10,648 |" in res.output
    res = CliRunner().invoke(cli, ["bounds", "784", "8", "14", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    values = {r["name"]: r["value"] for r in data["rows"]}
    assert values["serra2018"] == 600_370 and values["montufar2017"] == 3_305_216


def test_cli_with_model(tmp_path):
    p = tmp_path / "net.npz"
    net_with_rank_one_second_layer().save(p)
    res = CliRunner().invoke(cli, ["bounds", "--model", str(p), "--json"])
    assert res.exit_code == 0, res.output
    values = {r["name"]: r["value"] for r in json.loads(res.output)["rows"]}
    assert values["serra2018_rank"] == 76


@pytest.mark.parametrize("args", [["2", "-3"], ["0", "3"], ["2", "x"], [], ["2", "3", "--sigma-b", "-1"]])
def test_cli_bad_input_is_one_line(args):
    res = CliRunner().invoke(cli, ["bounds", *args])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


# ----------------------------------------------------------------------------- reproduction


def test_serra_bounds_experiment(tmp_path):
    from reluscope.experiments import serra_bounds

    res = serra_bounds.run(tmp_path / "out", quick=True)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["bounds.csv", "bounds.png", "summary.md"]
    assert (out / "bounds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "bounds.csv").read_text().splitlines()))
    assert len(rows) == len(serra_bounds.INPUT_DIMS) * 6
    for row in rows:
        n0, depth = int(row["n0"]), int(row["depth"])
        widths = [60 // depth] * depth
        assert int(row["montufar2017"]) == formula_montufar2017(n0, widths)
        if depth == 1:  # exact: Zaslavsky
            assert int(row["serra2018"]) == sum(comb(60, j) for j in range(min(n0, 60) + 1))
        if n0 == 1:
            assert int(row["serra2018"]) == (60 // depth + 1) ** depth
        if depth <= 2:
            assert int(row["serra2018"]) == brute_serra(n0, widths)
        assert (row["serra2018_lower"] == "") == (60 // depth < 3 * n0)
    # two layers of 30 equal one of 60 for n0 = 30 (Vandermonde), so both tie
    assert res["best_depths_tied"][30] == [1, 2]
    assert res["claim_best_depth_nonincreasing"] is True
    assert "reproduced" in (out / "summary.md").read_text()


def test_serra_bounds_experiment_bad_out_dir_writes_nothing(tmp_path):
    from reluscope.experiments import serra_bounds

    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InvalidParameterError, match="'out_dir' must be a folder"):
        serra_bounds.run(f)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
