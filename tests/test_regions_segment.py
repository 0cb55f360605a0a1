"""1-D engine: hand counts, sampling, batched vs single, maps, bad input."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Network
from reluscope.regions import along_path, on_segment, on_segments
from zoo import hat


def test_hat_pieces_and_maps():
    r = on_segment(hat().net, [-1.0], [3.0])
    np.testing.assert_allclose(r.breakpoints, [0.25, 0.5, 0.75])
    assert r.n_activation_regions == 4 and r.n_linear_regions == 4
    s, c = r.affine_x()
    np.testing.assert_allclose(s.ravel(), [0, 1, -1, 0])
    np.testing.assert_allclose(c.ravel(), [0, 0, 2, 0])
    assert r.density == pytest.approx(1.0)  # 4 pieces over length 4
    # on [0.5, 3]: kinks at 1 and 2 only
    assert on_segment(hat().net, [0.5], [3.0]).n_activation_regions == 3


def test_one_hidden_layer_general_position_gives_n_plus_one():
    rng = np.random.default_rng(0)
    for n in (1, 5, 20, 50):
        kinks = np.sort(rng.uniform(-1, 1, n))
        w = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 2, n)
        net = Network([(w[:, None], -w * kinks, "relu"), (rng.normal(size=(1, n)), np.zeros(1), "identity")])
        r = on_segment(net, [-2.0], [2.0])
        assert r.n_activation_regions == n + 1
        np.testing.assert_allclose(-2 + 4 * r.breakpoints, kinks, atol=1e-12)


@pytest.mark.parametrize("no_numba", ["0", "1"])
def test_unit_fed_only_by_dead_units_is_off(monkeypatch, no_numba):
    # For x < 0 both first-layer units are off, so the second-layer unit's pre-activation is
    # exactly 0 (zero bias): pattern 0, as net.pattern says, not rounding noise of the
    # rank-k map update (the compiled path; the NumPy path recomputes maps). For x > 0 it is
    # negative: off too. Pieces from x0 > 0 to x1 < 0: [1,1,0] then [0,0,0].
    monkeypatch.setenv("RELUSCOPE_NO_NUMBA", no_numba)
    net = Network.random([1, 2, 1, 1], seed=6, bias="zero")  # the example hypothesis found
    assert np.all(net.layers[0].weight > 0) and np.all(net.layers[1].weight < 0)  # the structure described above
    x0, x1 = 0.1257302210933933, -0.1321048632913019
    r = on_segment(net, [x0], [x1])
    np.testing.assert_array_equal(r.patterns, [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(r.breakpoints, [-x0 / (x1 - x0)])
    t = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(net.pattern(r.points(t)), r.patterns[r.locate(t)])


def test_merging_of_equal_maps():
    # relu(x) + relu(-x) - relu(x) - relu(-x) ... : units that cancel give one linear piece
    net = Network([(np.array([[1.0], [1.0]]), np.array([0.0, 0.0]), "relu"),
                   (np.array([[1.0, -1.0]]), np.zeros(1), "identity")])
    r = on_segment(net, [-1.0], [1.0])
    # the two units share the kink: one breakpoint, two activation pieces, one linear piece
    assert r.n_activation_regions == 2
    assert r.n_linear_regions == 1
    np.testing.assert_allclose(r.linear_edges, [0.0, 1.0])


@st.composite
def nets(draw):
    n_in = draw(st.integers(1, 4))
    depth = draw(st.integers(1, 4))
    widths = [n_in] + [draw(st.integers(1, 32)) for _ in range(depth)] + [draw(st.integers(1, 3))]
    act = draw(st.sampled_from(["relu", "leaky_relu", "abs", "hardtanh"]))
    bias = draw(st.sampled_from(["normal", "zero"]))
    return Network.random(widths, seed=draw(st.integers(0, 2**16)), activation=act, bias=bias)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nets(), st.integers(0, 10_000))
def test_dense_sampling_and_maps(net, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, net.n_in))
    r = on_segment(net, a, b)
    t = np.sort(rng.uniform(0, 1, 20_000))
    pts = r.points(t)
    pats = net.pattern(pts)
    idx = r.locate(t)
    # a sampled point's pattern is its piece's pattern, except within 1e-9 of a breakpoint
    near = np.min(np.abs(t[:, None] - r.edges[None, :]), axis=1) < 1e-9
    np.testing.assert_array_equal(pats[~near], r.patterns[idx[~near]])
    changes = 1 + np.count_nonzero(np.any(pats[1:] != pats[:-1], axis=1))
    assert r.n_activation_regions >= changes
    y = r.slope[idx] * t[:, None] + r.intercept[idx]
    np.testing.assert_allclose(y, net(pts), atol=1e-9, rtol=1e-9)
    assert r.n_linear_regions <= r.n_activation_regions
    assert np.all(np.diff(r.edges) > 0)


@settings(max_examples=20, deadline=None)
@given(nets(), st.integers(0, 100))
def test_batched_equals_single(net, seed):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(6, net.n_in))
    batch = along_path(net, pts)
    for i in range(5):
        single = on_segment(net, pts[i], pts[i + 1])
        np.testing.assert_allclose(batch[i].edges, single.edges, atol=1e-14)
        np.testing.assert_array_equal(batch[i].patterns, single.patterns)
        assert batch.n_linear_regions[i] == single.n_linear_regions
    np.testing.assert_allclose(batch.density, batch.n_activation_regions / batch.lengths)


def test_include_output():
    net = Network([(np.array([[1.0]]), np.zeros(1), "relu"), (np.array([[1.0]]), np.array([-0.5]), "identity")])
    assert on_segment(net, [-1.0], [1.0]).n_activation_regions == 2
    r = on_segment(net, [-1.0], [1.0], include_output=True)
    np.testing.assert_allclose(r.breakpoints, [0.5, 0.75])
    assert r.patterns.shape == (3, 2)


@pytest.mark.parametrize(
    "call, err",
    [
        (lambda n: on_segment(n, [0, 0], [1, 1, 1]), rs.ShapeError),
        (lambda n: on_segment(n, [0, np.nan], [1, 1]), rs.NonFiniteError),
        (lambda n: on_segments(n, np.zeros((3, 2)), np.zeros((2, 2))), rs.ShapeError),
        (lambda n: along_path(n, np.zeros((1, 2))), rs.ShapeError),
        (lambda n: on_segment(n, [0, 0], [1, 1], tol=-1), rs.InvalidParameterError),
        (lambda n: on_segment("net", [0, 0], [1, 1]), rs.InvalidParameterError),
    ],
)
def test_bad_input(call, err):
    with pytest.raises(err):
        call(Network.random([2, 3, 1], seed=0))


@pytest.mark.parametrize("act", ["relu", "hardtanh", "abs", "leaky_relu"])
def test_compiled_and_numpy_paths_agree(monkeypatch, act):
    from reluscope.regions import _kernels

    if not _kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed: only the NumPy path exists")
    net = Network.random([5, 24, 24, 24, 3], seed=2, activation=act)
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(30, 5))
    fast = along_path(net, pts)
    monkeypatch.setenv("RELUSCOPE_NO_NUMBA", "1")
    slow = along_path(net, pts)
    np.testing.assert_array_equal(fast.offsets, slow.offsets)
    np.testing.assert_allclose(fast.t_lo, slow.t_lo, atol=1e-13)
    np.testing.assert_array_equal(fast.patterns, slow.patterns)
    np.testing.assert_allclose(fast.slope, slow.slope, atol=1e-10)
    np.testing.assert_allclose(fast.intercept, slow.intercept, atol=1e-10)


def test_piecewise_linear_output_always_splits():
    # output relu(x): a ReLU output layer is part of the function
    net = Network([(np.ones((1, 1)), np.zeros(1), "identity"), (np.ones((1, 1)), np.zeros(1), "relu")])
    r = on_segment(net, [-1.0], [1.0])
    assert r.n_activation_regions == 2
    np.testing.assert_allclose(r.slope.ravel(), [0.0, 2.0])


def test_threads_give_the_same_result():
    net = Network.random([5, 16, 16, 2], seed=4)
    x = np.random.default_rng(0).normal(size=(101, 5))
    one = on_segments(net, x[:-1], x[1:], n_jobs=1)
    three = on_segments(net, x[:-1], x[1:], n_jobs=3)
    assert one.n_activation_regions.sum() > 100
    np.testing.assert_array_equal(three.n_activation_regions, one.n_activation_regions)
    for name in ("t_lo", "t_hi", "patterns", "slope", "intercept"):
        np.testing.assert_array_equal(getattr(three, name), getattr(one, name))
