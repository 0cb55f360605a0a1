"""The torch-free lowering core (reluscope.io._lower), checked against plain NumPy formulas."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Abs, HardTanh, Identity, LeakyReLU, ReLU
from reluscope.io import _lower
from reluscope.io._lower import Lowering, matrix_from_basis, relu_expansion, windows_from_membership


@pytest.mark.parametrize(
    "act", [ReLU(), LeakyReLU(0.1), LeakyReLU(-0.3), HardTanh(-0.5, 2.0), HardTanh(0.0, 6.0), Abs(), Identity()],
    ids=repr,
)
def test_relu_expansion_reproduces_the_activation(act):
    units, const = relu_expansion(act)
    z = np.concatenate([np.linspace(-8, 8, 1001), act.breakpoints])
    rebuilt = const + sum(cf * np.maximum(sg * z + sh, 0.0) for sg, sh, cf in units)
    # the reference: the activation's own definition, written out per type
    if isinstance(act, ReLU):
        ref = np.maximum(z, 0)
    elif isinstance(act, LeakyReLU):
        ref = np.where(z > 0, z, act.alpha * z)
    elif isinstance(act, HardTanh):
        ref = np.clip(z, act.lo, act.hi)
    elif isinstance(act, Abs):
        ref = np.abs(z)
    else:
        ref = z
    np.testing.assert_allclose(rebuilt, ref, rtol=0, atol=1e-12)


@st.composite
def pooling_problem(draw):
    n = draw(st.integers(1, 12))
    n_out = draw(st.integers(1, 6))
    windows = []
    for _ in range(n_out):
        k = draw(st.integers(1, min(n, 7)))
        windows.append(draw(st.permutations(range(n)))[:k])
    nonneg = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return n, windows, nonneg, seed


@settings(max_examples=40, deadline=None)
@given(pooling_problem())
def test_maxpool_tournament_is_exact(problem):
    n, windows, nonneg, seed = problem
    rng = np.random.default_rng(seed)
    kmax = max(len(w) for w in windows)
    padded = np.full((len(windows), kmax), -1)
    for i, w in enumerate(windows):
        padded[i, : len(w)] = w
    W0, b0 = rng.normal(size=(n, 3)), rng.normal(size=n)
    lw = Lowering((3,), "x", uses=1)
    lw.linear("z", "x", W0, b0, (n,), uses=1)
    src = "z"
    if nonneg:  # pool the output of a ReLU layer: carried entries need one unit each
        lw.activation("h", "z", ReLU(), uses=1)
        src = "h"
    lw.maxpool("m", src, padded, (len(windows),), uses=1)
    net = lw.network("m")
    x = rng.normal(size=(40, 3))
    v = x @ W0.T + b0
    if nonneg:
        v = np.maximum(v, 0.0)
    pooled = np.stack([v[:, w].max(axis=1) for w in windows], axis=1)
    np.testing.assert_allclose(net(x), pooled, rtol=0, atol=1e-12)
    rounds = math.ceil(math.log2(kmax)) if kmax > 1 else 0
    # one ReLU layer per halving of the largest window (+ the ReLU before, + the final map;
    # with windows of one entry only, the final map may be folded away)
    if rounds:
        assert net.depth == rounds + int(nonneg) + 1
    else:
        assert net.depth <= int(nonneg) + 1


def test_maxpool_nonneg_input_uses_one_carry_unit_per_entry():
    # h = relu(z) (4 entries), pool pairs (0,1) and (2,3): one ReLU unit per pair plus one
    # carry unit per 'b' (the input is provably >= 0): 2 + 2 = 4 units.
    lw = Lowering((4,), "x", uses=1)
    lw.activation("h", "x", ReLU(), uses=1)
    lw.maxpool("m", "h", np.array([[0, 1], [2, 3]]), (2,), uses=1)
    net = lw.network("m")
    assert net.hidden_widths == (4, 4)
    lw = Lowering((4,), "x", uses=1)  # signed input: two carry units per 'b'
    lw.maxpool("m", "x", np.array([[0, 1], [2, 3]]), (2,), uses=1)
    net = lw.network("m")
    assert net.hidden_widths == (6,)
    x = np.random.default_rng(0).normal(size=(20, 4))
    np.testing.assert_allclose(net(x), np.stack([x[:, :2].max(1), x[:, 2:].max(1)], 1), atol=1e-14)


@pytest.mark.parametrize("branch_act", [ReLU(), LeakyReLU(0.2), HardTanh(-1.0, 0.5), Abs()], ids=repr)
def test_residual_carry(branch_act):
    """y = x + W2 act(W1 x): x (signed input) is carried through the activation layer."""
    rng = np.random.default_rng(3)
    W1, W2 = rng.normal(size=(5, 3)), rng.normal(size=(3, 5))
    lw = Lowering((3,), "x", uses=2)
    lw.linear("a", "x", W1, np.zeros(5), (5,), uses=1)
    lw.activation("b", "a", branch_act, uses=1)
    lw.linear("c", "b", W2, None, (3,), uses=1)
    lw.add("y", ["x", "c"], [1.0, 1.0], uses=1)
    net = lw.network("y")
    x = rng.normal(size=(30, 3))
    np.testing.assert_allclose(net(x), x + branch_act(x @ W1.T) @ W2.T, rtol=0, atol=1e-12)
    # hand-derived widths: ReLU/LeakyReLU carry x with 2 units each (6); HardTanh has 2 ReLU
    # units per neuron (10) and Abs 2 (10) once the layer must carry x.
    expected = {"ReLU": 5 + 6, "LeakyReLU": 5 + 6, "HardTanh": 10 + 6, "Abs": 10 + 6}
    assert net.hidden_widths == (expected[type(branch_act).__name__],)


def test_every_activation_emits_a_layer():
    lw = Lowering((2,), "x", uses=1)
    lw.activation("h", "x", ReLU(), uses=1)
    lw.elementwise("s", "h", 2.0, 0.5, uses=1)  # positive scale, positive shift: still >= 0
    lw.activation("r", "s", ReLU(), uses=1)  # the identity here, but kept as in the source
    net = lw.network("r")
    assert net.depth == 2 and net.activations == (ReLU(), ReLU())


def test_final_identity_folded_only_when_exact():
    lw = Lowering((2,), "x", uses=1)
    lw.activation("h", "x", HardTanh(-1.0, 1.0), uses=1)
    net = lw.network("h")
    assert net.depth == 1 and net.activations == (HardTanh(-1.0, 1.0),)
    lw = Lowering((2,), "x", uses=1)
    lw.activation("h", "x", ReLU(), uses=1)
    lw.elementwise("s", "h", 1.0, 1.0, uses=1)
    net = lw.network("s")
    assert net.depth == 2 and net.activations[-1] == Identity()


def test_add_broadcasts_like_numpy():
    lw = Lowering((2, 3), "x", uses=2)
    lw.linear("m", "x", np.kron(np.eye(2), np.ones((1, 3))), None, (2, 1), uses=1)  # row sums, (2, 1)
    lw.add("y", ["x", "m"], [1.0, -1.0], uses=1)
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    expected = x - x.sum(axis=2, keepdims=True)
    np.testing.assert_allclose(lw.network("y")(x.reshape(4, -1)), expected.reshape(4, -1), atol=1e-14)
    lw = Lowering((2, 3), "x", uses=2)
    lw.reshape("r", "x", (3, 2), uses=1)
    with pytest.raises(rs.ShapeError, match="do not broadcast"):
        lw.add("y", ["x", "r"], [1.0, 1.0], uses=1)


def test_concat_and_reshape():
    lw = Lowering((2, 3), "x", uses=2)
    lw.concat("c", ["x", "x"], 1, uses=1)
    net = lw.network("c")
    x = np.arange(6.0).reshape(1, 2, 3)
    np.testing.assert_array_equal(net(x.reshape(1, -1)), np.concatenate([x, x], axis=2).reshape(1, -1))
    lw = Lowering((6,), "x", uses=1)
    with pytest.raises(rs.ShapeError, match="sizes differ"):
        lw.reshape("r", "x", (4,), uses=1)


def test_matrix_from_basis_matches_explicit_matrix():
    M = np.random.default_rng(0).normal(size=(4, 6))
    got, shape = matrix_from_basis(lambda x: x.reshape(len(x), 6) @ M.T, (2, 3), chunk=4)
    np.testing.assert_array_equal(got.toarray(), M)
    assert shape == (4,)


def test_windows_from_membership_empty_rows_have_no_entries():
    w = windows_from_membership(sp.csr_array(np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]])))
    np.testing.assert_array_equal(w, [[1, 2], [0, -1], [-1, -1]])


def test_large_layer_warning(monkeypatch):
    monkeypatch.setattr(_lower, "LARGE_LAYER_ENTRIES", 10)
    lw = Lowering((4,), "x", uses=1)
    lw.linear("z", "x", np.ones((3, 4)), None, (3,), uses=1)
    with pytest.warns(rs.LargeLayerWarning, match="3 x 4"):
        lw.activation("h", "z", ReLU(), uses=1)
