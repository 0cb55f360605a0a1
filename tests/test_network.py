import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Abs, HardTanh, Identity, LeakyReLU, Network, ReLU

ACTS = [ReLU(), LeakyReLU(0.1), HardTanh(-0.5, 0.7), Abs(), Identity()]


def _reference_forward(net, x):
    """Independent forward pass with explicit per-activation formulas."""
    h = x
    for layer in net.layers:
        z = h @ layer.weight.T + layer.bias
        a = layer.activation
        if isinstance(a, ReLU):
            h = np.maximum(z, 0)
        elif isinstance(a, LeakyReLU):
            h = np.where(z > 0, z, a.alpha * z)
        elif isinstance(a, HardTanh):
            h = np.clip(z, a.lo, a.hi)
        elif isinstance(a, Abs):
            h = np.abs(z)
        else:
            h = z
    return h


@pytest.mark.parametrize("act", ACTS, ids=lambda a: type(a).__name__)
def test_forward_matches_reference(act, rng):
    net = Network.random([3, 6, 5, 2], seed=1, activation=act)
    x = rng.normal(size=(50, 3))
    np.testing.assert_allclose(net(x), _reference_forward(net, x), rtol=0, atol=1e-13)
    np.testing.assert_allclose(net(x[0]), _reference_forward(net, x[:1])[0], atol=1e-13)


@pytest.mark.parametrize("act", ACTS, ids=lambda a: type(a).__name__)
def test_local_affine_is_exact_on_the_region(act, rng):
    net = Network.random([3, 6, 5, 2], seed=2, activation=act)
    x = rng.normal(size=(20, 3))
    A, c = net.local_affine(x)
    np.testing.assert_allclose(np.einsum("noi,ni->no", A, x) + c, net(x), atol=1e-12)
    # a nearby point with the same pattern is mapped by the same affine map
    p = net.pattern(x)
    y = x + 1e-7 * rng.normal(size=x.shape)
    same = np.all(net.pattern(y) == p, axis=1)
    assert same.any()
    np.testing.assert_allclose(
        np.einsum("noi,ni->no", A[same], y[same]) + c[same], net(y[same]), atol=1e-12
    )


def test_local_affine_finite_differences(rng):
    net = Network.random([4, 8, 8, 3], seed=3)
    x = rng.normal(size=4)
    A, _ = net.local_affine(x)
    eps = 1e-7
    J = np.stack([(net(x + eps * e) - net(x - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(A, J, atol=1e-6)


def test_pattern_and_preactivations():
    net = Network([(np.array([[1.0], [-1.0]]), np.array([0.0, 1.0]), "relu"),
                   (np.ones((1, 2)), np.zeros(1), "identity")])
    x = np.array([[-2.0], [0.0], [0.5], [3.0]])
    # unit 0 on iff x > 0; unit 1 on iff 1 - x > 0
    expected = np.array([[0, 1], [0, 1], [1, 1], [1, 0]])
    np.testing.assert_array_equal(net.pattern(x), expected)
    z = net.preactivations(x)
    np.testing.assert_allclose(z[0], np.hstack([x, 1 - x]))
    # the linear output: the side of its zero set, relu(x) + relu(1 - x) > 0 everywhere
    np.testing.assert_array_equal(net.pattern(x, include_output=True), np.hstack([expected, [[1], [1], [1], [1]]]))
    shifted = Network([*net.layers[:-1], (np.ones((1, 2)), np.array([-2.0]), "identity")])
    # output relu(x) + relu(1 - x) - 2: positive only for |x - 0.5| > 1.5, i.e. x = 3 and x = -2
    np.testing.assert_array_equal(shifted.pattern(x, include_output=True)[:, 2], [1, 0, 0, 1])


def test_structure():
    net = Network.random([5, 7, 3, 2], seed=0)
    assert net.widths == (5, 7, 3, 2)
    assert net.hidden_widths == (7, 3)
    assert net.depth == 3
    assert net.n_units == 10
    assert net.n_params == 5 * 7 + 7 + 7 * 3 + 3 + 3 * 2 + 2
    assert "5 -> 7 -> 3 -> 2" in net.summary()


def test_immutable():
    net = Network.random([2, 3, 1], seed=0)
    with pytest.raises(ValueError):
        net.layers[0].weight[0, 0] = 1.0


def test_random_is_reproducible_and_scaled():
    a = Network.random([100, 200, 1], seed=7)
    b = Network.random([100, 200, 1], seed=7)
    assert a == b
    assert a != Network.random([100, 200, 1], seed=8)
    w = a.layers[0].weight
    assert abs(w.std() - np.sqrt(2 / 100)) < 0.01
    z = Network.random([3, 4, 1], seed=0, bias="zero")
    assert np.all(z.layers[0].bias == 0)
    s = Network.random([100, 200, 1], seed=7, weight_scale=3.0, bias_scale=0.5)
    np.testing.assert_allclose(s.layers[0].weight, 3.0 * w)
    np.testing.assert_allclose(s.layers[0].bias, 0.5 * a.layers[0].bias)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"init": "bogus"}, "init"),
        ({"bias": "bogus"}, "bias"),
        ({"activation": "sigmoid"}, "sigmoid"),
    ],
)
def test_random_bad_parameters(kwargs, match):
    with pytest.raises(rs.InvalidParameterError, match=match):
        Network.random([2, 3, 1], seed=0, **kwargs)


def test_bad_layers():
    with pytest.raises(rs.ShapeError, match="layer 1 expects 4 inputs"):
        Network([(np.ones((3, 2)), np.zeros(3), "relu"), (np.ones((1, 4)), np.zeros(1), "identity")])
    with pytest.raises(rs.ShapeError, match="bias"):
        Network([(np.ones((3, 2)), np.zeros(2), "relu")])
    with pytest.raises(rs.NonFiniteError, match="NaN"):
        Network([(np.array([[np.nan]]), np.zeros(1), "relu")])
    with pytest.raises(rs.NonFiniteError):
        Network([(np.ones((1, 1)), np.array([np.inf]), "relu")])
    with pytest.raises(rs.InvalidParameterError):
        Network([])
    with pytest.raises(rs.InvalidParameterError, match="sigmoid"):
        Network([(np.ones((1, 1)), np.zeros(1), "sigmoid")])


def test_wrong_input_dimension():
    net = Network.random([3, 4, 1], seed=0)
    with pytest.raises(rs.ShapeError, match=r"\(n_points, 3\)"):
        net(np.ones((2, 4)))
    with pytest.raises(rs.NonFiniteError):
        net(np.array([np.nan, 0, 0]))


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, reluscope; "
        "heavy = [m for m in ('torch', 'matplotlib', 'onnx', 'dask', 'sklearn') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- algebra

def _random_net(draw, n_in, n_out, act):
    depth = draw(st.integers(1, 4))
    widths = [n_in] + [draw(st.integers(1, 5)) for _ in range(depth - 1)] + [n_out]
    seed = draw(st.integers(0, 10_000))
    return Network.random(widths, seed=seed, activation=act)


@st.composite
def net_pairs(draw):
    n_in = draw(st.integers(1, 4))
    n_out = draw(st.integers(1, 3))
    act = draw(st.sampled_from([ReLU(), LeakyReLU(0.2)]))
    return _random_net(draw, n_in, n_out, act), _random_net(draw, n_in, n_out, act)


@settings(max_examples=60, deadline=None)
@given(net_pairs(), st.integers(0, 1000))
def test_algebra_is_exact(pair, seed):
    f, g = pair
    x = np.random.default_rng(seed).normal(size=(25, f.n_in)) * 3
    np.testing.assert_allclose(rs.parallel(f, g)(x), np.hstack([f(x), g(x)]), atol=1e-10)
    np.testing.assert_allclose((f + g)(x), f(x) + g(x), atol=1e-10)
    np.testing.assert_allclose((f - g)(x), f(x) - g(x), atol=1e-10)
    np.testing.assert_allclose((-2.5 * f)(x), -2.5 * f(x), atol=1e-10)
    h = Network.random([f.n_out, 3, f.n_in], seed=seed)
    np.testing.assert_allclose(rs.compose(h, f)(x), h(f(x)), atol=1e-10)
    np.testing.assert_allclose((h @ f)(x), h(f(x)), atol=1e-10)
    y = np.random.default_rng(seed + 1).normal(size=(25, g.n_in))
    np.testing.assert_allclose(
        rs.stack(f, g)(np.hstack([x, y])), np.hstack([f(x), g(y)]), atol=1e-10
    )
    p = rs.pad_depth(f, f.depth + 2)
    assert p.depth == f.depth + 2
    np.testing.assert_allclose(p(x), f(x), atol=1e-10)


def test_compose_with_nonlinear_output_keeps_the_layer():
    g = Network([(np.eye(2), np.zeros(2), "relu")])  # ends in ReLU
    f = Network.random([2, 3, 1], seed=0)
    x = np.random.default_rng(0).normal(size=(10, 2))
    fg = rs.compose(f, g)
    assert fg.depth == 3
    np.testing.assert_allclose(fg(x), f(np.maximum(x, 0)), atol=1e-12)


def test_algebra_errors():
    f = Network.random([2, 3, 1], seed=0)
    g = Network.random([3, 3, 1], seed=0)
    with pytest.raises(rs.ShapeError):
        rs.parallel(f, g)
    with pytest.raises(rs.ShapeError):
        rs.compose(f, g)
    with pytest.raises(rs.UnsupportedLayerError, match="activation|LeakyReLU|ReLU"):
        rs.parallel(f, Network.random([2, 3, 1], seed=0, activation="leaky_relu"))
    with pytest.raises(rs.UnsupportedLayerError):
        rs.add(Network.random([2, 3, 3, 1], seed=0, activation="abs"), f)
    with pytest.raises(rs.InvalidParameterError):
        f * float("nan")
    with pytest.raises(rs.InvalidParameterError):
        rs.compose(f, "not a net")
