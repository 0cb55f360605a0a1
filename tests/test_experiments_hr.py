"""The Hanin & Rolnick reproductions and bias-weight-scale: quick runs and their helpers.

Every quick run is done once per session (module fixtures); the tests check the files
and compare numbers with formulas written here (Zaslavsky's count of lines in
general position, the theorems' bounds, Serra et al.'s maximum) or with another
computation (sampling, the 1-D engine, finite differences, a forward pass).
"""

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluscope import Network
from reluscope._errors import DomainError, InvalidParameterError, ShapeError
from reluscope.experiments import _hr_common as hr
from reluscope.experiments import get as get_experiment
from reluscope.experiments import run as run_experiment
from reluscope.experiments.bias_weight_scale import scale_biases, scale_weights
from reluscope.experiments.hanin_rolnick_memorization import boundary_pieces
from reluscope.regions import on_plane, on_segments

NAMES = ("hanin-rolnick-init", "hanin-rolnick-training", "hanin-rolnick-memorization", "bias-weight-scale")
FILES = {
    "hanin-rolnick-init": ("hr_init.csv", "hr_init_counts.png", "hr_init_regions.png", "summary.md"),
    "hanin-rolnick-training": ("hr_training.csv", "hr_training_counts.png", "hr_training_regions.png", "summary.md"),
    "hanin-rolnick-memorization": ("hr_memorization.csv", "hr_memorization.png", "hr_memorization_regions.png",
                                   "summary.md"),
    "bias-weight-scale": ("bias_weight_scale.csv", "bias_weight_scale.png", "bias_weight_scale_regions.png",
                          "summary.md"),
}


def one_layer_plane(n):
    """Regions of n lines in general position in the plane (Zaslavsky): 1 + n + C(n, 2)."""
    return 1 + n + n * (n - 1) // 2


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(name.replace("-", "_"))
            cache[name] = (run_experiment(name, out, quick=True), out)
        return cache[name]

    return get


def _csv_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------- every experiment
@pytest.mark.parametrize("name", NAMES)
def test_quick_run_writes_files_and_passes_claims(results, name):
    res, out = results(name)
    assert res["claims"] and all(res["claims"].values()), res["claims"]
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES[name])  # no temporary files left
    for f in FILES[name]:
        data = (out / f).read_bytes()
        assert data, f
        if f.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _csv_rows(out / FILES[name][0])
    assert len(rows) == len(res["rows"])
    summary = (out / "summary.md").read_text()
    assert summary.count("PASS") == len(res["claims"]) and "FAIL" not in summary


@pytest.mark.parametrize("name", NAMES)
def test_out_dir_that_is_a_file_is_refused(tmp_path, name):
    f = tmp_path / "taken"
    f.write_text("x")
    with pytest.raises(InvalidParameterError, match="out_dir"):
        get_experiment(name).run(f, quick=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


# ---------------------------------------------------------------------------- hanin-rolnick-init
def test_init_one_layer_whole_plane_is_zaslavsky(results):
    res, _ = results("hanin-rolnick-init")
    one = [r for r in res["rows"] if r["depth"] == 1]
    assert one
    for r in one:  # one hidden layer: N lines in general position on the plane, every seed
        assert r["plane_regions"] == one_layer_plane(r["units"]) and r["plane_regions_std"] == 0


def test_init_bounds_are_the_papers_formulas(results):
    res, _ = results("hanin-rolnick-init")
    for r in res["rows"]:
        c_bias = 1.0 / (r["sigma_b"] * math.sqrt(2 * math.pi))
        t = 2**5 * r["c_grad_plane"] * c_bias  # NeurIPS Thm 5: (T N)^2 / 2! per unit area
        assert r["box_bound"] == pytest.approx((t * r["units"]) ** 2 / 2 * r["box_area"], rel=1e-9)
        # ICML Thm 3, k = 1: C(N, 1) (2 C_grad C_bias)
        assert r["line_bound"] == pytest.approx(r["units"] * 2 * r["c_grad_line"] * c_bias, rel=1e-9)
        assert r["box_regions"] < r["box_bound"] and r["breakpoints_per_length"] < r["line_bound"]


def test_init_counts_scale_with_units_not_depth(results):
    res, _ = results("hanin-rolnick-init")
    rows = [r for r in res["rows"] if r["sigma_b"] == 1e-3]
    for n in {r["units"] for r in rows}:
        dens = [r["breakpoints_per_length"] for r in rows if r["units"] == n]
        assert max(dens) / min(dens) < 1.5
    by_n = {n: np.mean([r["breakpoints_per_length"] for r in rows if r["units"] == n]) for n in (32, 64)}
    assert 1.6 < by_n[64] / by_n[32] < 2.5  # about linear in N


def test_init_box_count_at_least_sampled_patterns():
    # the measurement of the experiment, redone by sampling: a lower bound that is nearly tight
    from reluscope.experiments.hanin_rolnick_init import N_IN, _measure, _samples

    net = Network.random([N_IN, 8, 8, 1], seed=17, init="he", bias_scale=1.0)
    s = _samples(0, 5, 10)
    m = _measure(net, s)
    o, u, v, coords = hr.plane_through(s["triple"])
    s0, s1, t0, t1 = hr.square_around(coords)
    g = np.stack(np.meshgrid(np.linspace(s0, s1, 400), np.linspace(t0, t1, 400)), -1).reshape(-1, 2)
    sampled = len(np.unique(net.pattern(o + g[:, :1] * u + g[:, 1:] * v), axis=0))
    assert 0.85 * m["box_regions"] <= sampled <= m["box_regions"]
    # boundary points per unit length, by sampling each segment densely
    t = np.linspace(0, 1, 20001)
    changes = sum(np.any(np.diff(net.pattern(a + t[:, None] * (b - a)), axis=0) != 0, axis=1).sum()
                  for a, b in zip(s["starts"], s["ends"], strict=True))
    length = np.linalg.norm(s["ends"] - s["starts"], axis=1).sum()
    assert changes / length == pytest.approx(m["breakpoints_per_length"], rel=0.02)


# ---------------------------------------------------------------------------- hanin-rolnick-training
def test_training_rows(results):
    res, _ = results("hanin-rolnick-training")
    rows = res["rows"]
    by_arch = {}
    for r in rows:
        by_arch.setdefault(r["arch"], []).append(r)
    assert set(by_arch) == {"48", "24x24", "16x16x16"}
    for rs in by_arch.values():
        assert rs[0]["epoch"] == 0
        assert all(rs[0][f"ratio_{k}"] == 1.0 for k in ("breakpoints_per_length", "box_regions", "plane_regions"))
        for r in rs:
            assert r["ratio_box_regions"] == pytest.approx(r["box_regions"] / rs[0]["box_regions"])
            assert 1 / 3 <= r["ratio_breakpoints_per_length"] <= 3
        assert rs[-1]["test_accuracy"] > rs[0]["test_accuracy"] + 0.5  # it learned
    # one hidden layer: the whole plane always holds 1 + N + C(N, 2) regions, trained or not
    assert all(r["plane_regions"] == one_layer_plane(48) for r in by_arch["48"])
    # Serra et al.'s maximum on a plane (n0 = 2): prod over layers of (1 + n + C(n, 2)), by hand
    assert by_arch["24x24"][0]["plane_max"] == 301**2
    assert by_arch["16x16x16"][0]["plane_max"] == 137**3


# ---------------------------------------------------------------------------- hanin-rolnick-memorization
def test_memorization_rows(results):
    res, _ = results("hanin-rolnick-memorization")
    rows = res["rows"]
    # every task starts from the same initial network (seed 0): identical counts before training
    assert len({(r["plane_before"], r["box_before"], r["pieces_before"]) for r in rows}) == 1
    for r in rows:
        assert r["pieces_before"] <= r["box_before"] <= r["plane_before"]
        assert r["pieces_after"] <= r["box_after"] <= r["plane_after"]
    rand = {r["n"]: r for r in rows if r["task"] == "random"}
    noisy = {r["p"]: r for r in rows if r["task"] == "noisy-rule"}
    assert noisy[1.0]["box_after"] == rand[160]["box_after"]  # p = 1 is the random task on the same points
    assert rand[10]["train_accuracy"] == 1.0 and noisy[0.0]["train_accuracy"] == 1.0
    assert rand[160]["pieces_after"] > 3 * noisy[0.0]["pieces_after"]


def test_boundary_pieces_against_sampling():
    net = Network.random([2, 12, 12, 2], seed=3, init="he", bias_scale=1.0)
    n_regions, pieces = boundary_pieces(net, (-1, 1, -1, 1))
    assert n_regions == on_plane(net, [0, 0], [1, 0], [0, 1], bounds=(-1, 1, -1, 1)).n_activation_regions
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 400), np.linspace(-1, 1, 400)), -1).reshape(-1, 2)
    cls = np.diff(net(g), axis=1)[:, 0] > 0
    _, region = np.unique(net.pattern(g), axis=0, return_inverse=True)
    region = region.ravel()
    ones = np.bincount(region, weights=cls, minlength=region.max() + 1)
    total = np.bincount(region, minlength=region.max() + 1)
    seen = int(np.sum((ones > 0) & (ones < total)))  # regions where the samples show both classes
    assert 0 < seen <= pieces <= seen + 8


# ---------------------------------------------------------------------------- bias-weight-scale
def test_bias_weight_scale_one_layer_counts_by_hand(results):
    res, _ = results("bias-weight-scale")
    rows = [r for r in res["rows"] if r["arch"] == "32"]
    for r in rows:
        if r["transform"] == "bias" and r["factor"] == 0:
            # 32 lines through the origin: 64 sectors, none bounded
            assert (r["plane_regions"], r["plane_bounded"]) == (64, 0)
        else:  # one layer: every other transform is a rescaling of the same 32 lines
            assert r["plane_regions"] == one_layer_plane(32)
            assert r["plane_bounded"] == one_layer_plane(32) - 64
    for r in res["rows"]:
        if r["box_expected"] is not None:
            assert r["box_regions"] == r["box_expected"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.floats(0.01, 100.0), a=st.floats(0.1, 10.0),
       widths=st.sampled_from([(3,), (4, 3), (2, 2, 2)]), zero_bias=st.booleans())
def test_scalings_against_forward_pass(seed, c, a, widths, zero_bias):
    net = Network.random([2, *widths, 2], seed=seed, bias="zero" if zero_bias else "normal")
    x = np.random.default_rng(seed).normal(size=(40, 2))
    np.testing.assert_allclose(scale_biases(net, c)(x), c * net(x / c), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scale_weights(net, a, mode="first")(x), net(a * x), rtol=1e-9, atol=1e-12)
    prod = a ** net.depth
    np.testing.assert_allclose(scale_weights(net, a, mode="compensated")(x), prod * net(x), rtol=1e-9, atol=1e-9)
    hidden = scale_weights(net, a, mode="compensated").preactivations(x)[:-1]
    for i, (z, z0) in enumerate(zip(hidden, net.preactivations(x)[:-1], strict=True)):
        np.testing.assert_allclose(z, a ** (i + 1) * z0, rtol=1e-9, atol=1e-12)


def test_scale_weights_refuses_bad_arguments():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(InvalidParameterError, match="mode"):
        scale_weights(net, 2.0, mode="last")
    with pytest.raises(InvalidParameterError, match="'a'"):
        scale_weights(net, -1.0)


# ---------------------------------------------------------------------------- helpers
def test_boundary_distance_matches_the_segment_engine(rng):
    net = Network.random([2, 10, 10, 1], seed=5)
    x = rng.normal(size=(6, 2))
    d = hr.boundary_distance(net, x)
    theta = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    dirs = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    for p, dp in zip(x, d, strict=True):
        seg = on_segments(net, np.repeat(p[None], len(dirs), 0), p + 10.0 * dirs)
        first = np.array([seg[i].breakpoints[0] * 10.0 if len(seg[i].breakpoints) else np.inf
                          for i in range(len(dirs))])
        assert first.min() >= dp * (1 - 1e-9)  # never a boundary closer than the distance
        assert first.min() <= dp * (1 + 1e-3)  # and one at that distance (up to the direction grid)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), widths=st.sampled_from([(4,), (3, 3), (5, 2, 3)]), zero_bias=st.booleans())
def test_boundary_distance_ball_is_inside_the_region(seed, widths, zero_bias):
    net = Network.random([3, *widths, 1], seed=seed, bias="zero" if zero_bias else "normal")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 3))
    d = hr.boundary_distance(net, x)
    u = rng.normal(size=(200, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    for p, dp in zip(x, d, strict=True):
        if not np.isfinite(dp) or dp < 1e-9:
            continue
        inside = net.pattern(p + 0.999 * dp * u)
        assert np.all(inside == net.pattern(p))


def test_unit_jacobians_match_finite_differences(rng):
    net = Network.random([4, 6, 5, 1], seed=2)
    x = rng.normal(size=(3, 4))
    dirs = np.linalg.qr(rng.normal(size=(4, 2)))[0]
    jac = hr.unit_jacobians(net, x, dirs)
    eps = 1e-6
    for k in range(2):
        zp = net.preactivations(x + eps * dirs[:, k])[:-1]
        zm = net.preactivations(x - eps * dirs[:, k])[:-1]
        for layer, (a, b) in enumerate(zip(zp, zm, strict=True)):
            np.testing.assert_allclose(jac[layer][:, :, k], (a - b) / (2 * eps), atol=1e-6)
    with pytest.raises(ShapeError):
        hr.unit_jacobians(net, x[:, :3])


def test_empirical_c_grad_one_he_layer_closed_form():
    # z = w.x with w ~ N(0, 2/n I): along one unit direction E[(w.u)^2] = 2/n; along two orthonormal
    # directions E[(g1^2 + g2^2)^2] = 8 (2/n)^2 (Gaussian moments)
    nets = [Network.random([4, 3, 1], seed=s) for s in range(3000)]
    x = np.random.default_rng(0).normal(size=(2, 4))
    e = np.eye(4)
    assert hr.empirical_c_grad(nets, x, e[:, :1], k=1) == pytest.approx(math.sqrt(0.5), rel=0.05)
    assert hr.empirical_c_grad(nets, x, e[:, :2], k=2) == pytest.approx((8 * 0.25) ** 0.25, rel=0.06)
    with pytest.raises(InvalidParameterError):
        hr.empirical_c_grad([], x)


def test_plane_through_and_square():
    p = np.array([[1.0, 2, 3, 4], [0, 1, 0, 1], [5, 5, 1, 0]])
    o, u, v, c = hr.plane_through(p)
    np.testing.assert_allclose([u @ u, v @ v, u @ v], [1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(o + c[:, :1] * u + c[:, 1:] * v, p, atol=1e-12)
    s0, s1, t0, t1 = hr.square_around(c)
    assert np.all((c[:, 0] > s0) & (c[:, 0] < s1) & (c[:, 1] > t0) & (c[:, 1] < t1))
    with pytest.raises(DomainError, match="collinear"):
        hr.plane_through([[0.0, 0], [1, 1], [2, 2]])


def test_train_with_snapshots_starts_at_init_and_is_deterministic():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    init = Network.random([3, 5, 2], seed=4)
    a = hr.train_with_snapshots(init, x, y, [0, 2, 3], lr=1e-2, batch_size=8, seed=1)
    b = hr.train_with_snapshots(init, x, y, [0, 2, 3], lr=1e-2, batch_size=8, seed=1)
    assert [s.epoch for s in a] == [0, 2, 3]
    for la, li in zip(a[0].network.layers, init.layers, strict=True):  # float32 copy of the start
        np.testing.assert_allclose(la.weight, li.weight, rtol=1e-6, atol=1e-7)
    assert all(sa.network == sb.network for sa, sb in zip(a, b, strict=True))
    assert not a[1].network == a[0].network
    with pytest.raises(InvalidParameterError, match="epochs"):
        hr.train_with_snapshots(init, x, y, [2, 1])
    with pytest.raises(InvalidParameterError, match="labels"):
        hr.train_with_snapshots(init, x, y + 5, [0, 1])
