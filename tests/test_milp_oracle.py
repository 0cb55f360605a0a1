"""An independent exact region oracle for the MILP tests (small networks only), and its own checks.

``lp_tree`` walks the units depth-first, layer by layer (Hanin & Rolnick 2019,
App. A: add neurons one by one and split every region a neuron's zero set cuts).
A branch is kept when its Chebyshev-radius LP (``scipy.optimize.linprog``) is
> 1e-7, so only full-dimensional regions survive. The same method as
``hanna-tseran/maxout_complexity``'s exact counter (research note milp_bounds.md §6).
A unit whose pre-activation is constant on the current cell (zero gradient) takes
the piece of that constant and cuts nothing. No reluscope code is used beyond the
network's weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

R_MIN = 1e-7


@dataclass
class Leaf:
    pattern: tuple[int, ...]
    A: np.ndarray  # region (closed): A x <= b
    b: np.ndarray
    out_A: np.ndarray  # network on the region: x -> out_A x + out_c
    out_c: np.ndarray


def _cheb(A: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray | None]:
    n = A.shape[1]
    norms = np.linalg.norm(A, axis=1)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.hstack([A, norms[:, None]]), b_ub=b, bounds=[(None, None)] * n + [(None, 1.0)],
                  method="highs")
    if res.status != 0:
        return -np.inf, None
    return -res.fun, res.x[:n]


def _acts(act):
    bps = np.asarray(act.breakpoints, dtype=float)
    return bps, np.asarray(act.slopes, dtype=float), np.asarray(act.intercepts, dtype=float)


def lp_tree(net, A_dom, b_dom, n_hidden=None) -> list[Leaf]:
    """All full-dimensional activation regions of the first ``n_hidden`` hidden layers in ``{A x <= b}``."""
    n0 = net.n_in
    L = net.depth - 1 if n_hidden is None else n_hidden
    layers = net.layers
    leaves: list[Leaf] = []
    r0, x0 = _cheb(A_dom, b_dom)
    if r0 <= R_MIN:
        return leaves

    def rec(li, i, A, b, xc, rc, M, m, P, q, pat):
        # M, m: input of layer li is M x + m; P, q: its pre-activations; pat: pieces so far
        if li == L:
            if L == net.depth - 1:  # identity output layer on top
                oA, oc = layers[L].weight @ M, layers[L].weight @ m + layers[L].bias
            else:
                oA, oc = M, m
            leaves.append(Leaf(tuple(pat), A, b, oA, oc))
            return
        layer = layers[li]
        if i == 0:
            P, q = layer.weight @ M, layer.weight @ m + layer.bias
        bps, slopes, icpts = _acts(layer.activation)
        a, c0 = P[i], q[i]
        na = np.linalg.norm(a)

        def child(piece, A2, b2, xc2, rc2):
            pat.append(piece)
            if i == layer.n_out - 1:
                pieces = np.array(pat[-layer.n_out:])
                s, t = slopes[pieces], icpts[pieces]
                rec(li + 1, 0, A2, b2, xc2, rc2, s[:, None] * P, s * q + t, None, None, pat)
            else:
                rec(li, i + 1, A2, b2, xc2, rc2, M, m, P, q, pat)
            pat.pop()

        if na < 1e-12:  # constant on the cell: no cut
            child(int(np.searchsorted(bps, c0, side="left")), A, b, xc, rc)
            return
        v = a @ xc + c0
        p_center = int(np.searchsorted(bps, v, side="left"))
        for piece in range(len(bps) + 1):
            rows, rhs = [], []
            if piece > 0:
                rows.append(-a)
                rhs.append(c0 - bps[piece - 1])
            if piece < len(bps):
                rows.append(a)
                rhs.append(bps[piece] - c0)
            A2 = np.vstack([A] + rows)
            b2 = np.concatenate([b, rhs])
            if piece == p_center:  # the parent's ball, shrunk to this side, certifies the child
                d = min([rc] + [abs(v - bp) / na for bp in bps])
                if d > 10 * R_MIN:
                    child(piece, A2, b2, xc, d)
                    continue
            r2, x2 = _cheb(A2, b2)
            if r2 > R_MIN:
                child(piece, A2, b2, x2, r2)

    rec(0, 0, A_dom, b_dom, x0, r0, np.eye(n0), np.zeros(n0), None, None, [])
    return leaves


def box_halfspaces(lo, hi):
    n = len(lo)
    return np.vstack([np.eye(n), -np.eye(n)]), np.concatenate([hi, -np.asarray(lo)])


def lp_tree_patterns(net, lo, hi, n_hidden=None) -> set[tuple[int, ...]]:
    A, b = box_halfspaces(np.asarray(lo, float), np.asarray(hi, float))
    return {leaf.pattern for leaf in lp_tree(net, A, b, n_hidden)}


def brute_force_max(net, A_dom, b_dom, c, leaves=None) -> float:
    """max of c · net(x) over {A x <= b}: one LP per region of the oracle (``leaves`` to reuse)."""
    best = -np.inf
    for leaf in lp_tree(net, A_dom, b_dom) if leaves is None else leaves:
        obj = c @ leaf.out_A
        res = linprog(-obj, A_ub=leaf.A, b_ub=leaf.b, bounds=[(None, None)] * net.n_in, method="highs")
        if res.status == 0:
            best = max(best, -res.fun + c @ leaf.out_c)
    return best


# ---------------------------------------------------------------- checks of the oracle itself


def test_oracle_hand_counts():
    from reluscope import Network
    from zoo import always_on, hat

    # hat on [-1, 3]: kinks at 0, 1, 2 -> 4 pieces (zoo docstring)
    assert len(lp_tree_patterns(hat().net, [-1.0], [3.0])) == 4
    # always_on on [0, 1]^2: 2 regions, units 0 and 1 fixed
    assert lp_tree_patterns(always_on().net, [0.0, 0.0], [1.0, 1.0]) == {(1, 0, 0), (1, 0, 1)}
    # two crossing lines: 4 quadrants; a point-like box gives 1
    net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), [0.0], "identity")])
    assert len(lp_tree_patterns(net, [-1.0, -1.0], [1.0, 1.0])) == 4
    assert len(lp_tree_patterns(net, [0.5, 0.5], [1.0, 1.0])) == 1


def test_oracle_brute_force_max_is_the_sampled_max():
    from reluscope import Network

    net = Network.random([2, 5, 1], seed=3)
    A, b = box_halfspaces(np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    x = np.random.default_rng(0).uniform(-1, 1, size=(20000, 2))
    m = brute_force_max(net, A, b, np.array([1.0]))
    assert m >= net(x).max() - 1e-12
    assert m - net(x).max() < 0.05
