"""Compiled forward passes of the n-D walk: patterns at points and polyhedra of patterns.

The same arithmetic as :func:`._nd_geometry.patterns_at` and
:func:`._nd_geometry.halfspaces`, one region (or point) at a time in a compiled
loop instead of a few dozen NumPy calls per layer on a batch. The walk spends
most of a small job (a few dozen regions in 3-D) on those calls' fixed costs,
so for small jobs this is the difference between milliseconds and a fraction of
one; for large ones the two cost the same. The NumPy functions stay the
reference (``backend='numpy'``) and the tests compare the two.

The network is passed as flat arrays (:class:`Packed`): the weights of layer
``l`` are ``W[w_off[l]:w_off[l+1]]`` reshaped to ``(width[l+1], width[l])``, and
so on for the breakpoints that split (``bp``) and the slopes and intercepts per
piece (``slope``, ``icpt``; a linear layer has one piece, so its index is clamped).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._nd_kernels import njit

if TYPE_CHECKING:
    from ._nd_geometry import UnitTable

__all__ = ["Packed", "pack", "patterns_at", "halfspaces", "output_maps"]


class Packed(NamedTuple):
    """A :class:`._nd_geometry.UnitTable` as flat arrays (see the module notes)."""

    W: np.ndarray
    w_off: np.ndarray
    b: np.ndarray
    b_off: np.ndarray
    width: np.ndarray
    bp: np.ndarray
    bp_off: np.ndarray
    slope: np.ndarray
    icpt: np.ndarray
    sl_off: np.ndarray
    n_split: int
    unit_start: np.ndarray
    row_start: np.ndarray


def pack(table: UnitTable) -> Packed:
    """The flat arrays of ``table``."""
    acts = table.acts
    parts = {
        "W": [W.ravel() for W in table.weights],
        "b": list(table.biases),
        "bp": list(table.bps),
        "slope": [act.slopes for act in acts],
        "icpt": [act.intercepts for act in acts],
    }
    flat = {k: np.concatenate(v).astype(np.float64) for k, v in parts.items()}
    off = {k: np.array([0, *itertools.accumulate(len(p) for p in parts[k])], dtype=np.int64)
           for k in ("W", "b", "bp", "slope")}
    width = np.array([table.weights[0].shape[1], *(W.shape[0] for W in table.weights)], dtype=np.int64)
    return Packed(flat["W"], off["W"], flat["b"], off["b"], width, flat["bp"], off["bp"], flat["slope"],
                  flat["icpt"], off["slope"], int(table.n_split), table.unit_start.astype(np.int64),
                  table.row_start.astype(np.int64))


@njit(cache=True, nogil=True, error_model="numpy")
def _patterns_at(W: np.ndarray, w_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, width: np.ndarray,
                 bp: np.ndarray, bp_off: np.ndarray, slope: np.ndarray, icpt: np.ndarray, sl_off: np.ndarray,
                 n_split: int, unit_start: np.ndarray, x: np.ndarray) -> np.ndarray:
    F, n = x.shape
    out = np.zeros((F, unit_start[-1]), dtype=np.int8)
    wmax = np.max(width)
    cur = np.empty(wmax)
    nxt = np.empty(wmax)
    for f in range(F):
        for i in range(n):
            cur[i] = x[f, i]
        for li in range(n_split):
            win, wout = width[li], width[li + 1]
            w0, b0, p0, s0 = w_off[li], b_off[li], bp_off[li], sl_off[li]
            nb, ns = bp_off[li + 1] - p0, sl_off[li + 1] - s0
            for u in range(wout):
                z = b[b0 + u]
                for i in range(win):
                    z += W[w0 + u * win + i] * cur[i]
                k = 0
                for j in range(nb):
                    if z - bp[p0 + j] > 0.0:
                        k += 1
                out[f, unit_start[li] + u] = k
                kk = min(k, ns - 1)
                nxt[u] = slope[s0 + kk] * z + icpt[s0 + kk]
            for u in range(wout):
                cur[u] = nxt[u]
    return out


def patterns_at(pk: Packed, x: np.ndarray) -> np.ndarray:
    """Pattern (int8, (F, n_units)) at each point of ``x`` (F, n), as :func:`._nd_geometry.patterns_at`.

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions._nd_geometry import unit_table
    >>> net = Network.random([3, 4, 2, 1], seed=0)
    >>> x = np.random.default_rng(0).normal(size=(5, 3))
    >>> bool(np.array_equal(patterns_at(pack(unit_table(net, False)), x), net.pattern(x)))
    True
    """
    return _patterns_at(*pk[:-1], np.ascontiguousarray(x, dtype=np.float64))


@njit(cache=True, nogil=True, error_model="numpy")
def _affine(W: np.ndarray, w0: int, b: np.ndarray, b0: int, win: int, wout: int, first: bool, P: np.ndarray,
            q: np.ndarray, js: np.ndarray, zs: np.ndarray, Z: np.ndarray, z0: np.ndarray, jz: np.ndarray,
            zz: np.ndarray) -> None:
    """A layer's pre-activations as maps of the input ``x``: ``Z x + z0`` (rows ``:wout``) from its
    inputs' maps ``P x + q`` (``x`` itself for the first layer), with the cancellation-free
    magnitudes of their gradients (``jz``, from ``js``: row sums of ``|.|``) and constants (``zz``,
    from ``zs``). Shared by every compiled forward pass (here and :mod:`._tree_kernels`)."""
    n = Z.shape[1]
    for u in range(wout):
        z0[u] = b[b0 + u]
        zz[u] = abs(b[b0 + u])
        jz[u] = 0.0
        if first:  # the weights themselves: no product with the identity
            for k in range(n):
                w = W[w0 + u * n + k]
                Z[u, k] = w
                jz[u] += abs(w)
            continue
        for k in range(n):
            Z[u, k] = 0.0
        for i in range(win):
            w = W[w0 + u * win + i]
            if w != 0.0:
                for k in range(n):
                    Z[u, k] += w * P[i, k]
                z0[u] += w * q[i]
                jz[u] += abs(w) * js[i]
                zz[u] += abs(w) * zs[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _activate(pieces: np.ndarray, slope: np.ndarray, icpt: np.ndarray, s0: int, ns: int, wout: int,
              Z: np.ndarray, z0: np.ndarray, jz: np.ndarray, zz: np.ndarray, P: np.ndarray, q: np.ndarray,
              js: np.ndarray, zs: np.ndarray) -> None:
    """The layer's outputs as maps of ``x``, ``P x + q`` (and magnitudes ``js``, ``zs``), on the
    pieces ``pieces[:wout]`` of its units (a linear layer has one piece: the index is clamped)."""
    n = Z.shape[1]
    for u in range(wout):
        kk = min(np.int64(pieces[u]), ns - 1)
        sl, ic = slope[s0 + kk], icpt[s0 + kk]
        for k in range(n):
            P[u, k] = sl * Z[u, k]
        q[u] = sl * z0[u] + ic
        js[u] = abs(sl) * jz[u]
        zs[u] = abs(sl) * zz[u] + abs(ic)


@njit(cache=True, nogil=True, error_model="numpy")
def _halfspaces(W: np.ndarray, w_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, width: np.ndarray,
                bp: np.ndarray, bp_off: np.ndarray, slope: np.ndarray, icpt: np.ndarray, sl_off: np.ndarray,
                n_split: int, unit_start: np.ndarray, row_start: np.ndarray, patterns: np.ndarray, tol: float,
                Dg: np.ndarray, Dh: np.ndarray) -> tuple[np.ndarray, ...]:
    R = patterns.shape[0]
    n = width[0]
    L = len(width) - 1
    M = row_start[-1]
    n_out = width[L]
    wmax = np.max(width)
    G = np.zeros((R, M + len(Dh), n))
    h = np.zeros((R, M + len(Dh)))
    valid = np.ones((R, M + len(Dh)), dtype=np.bool_)
    feasible = np.ones(R, dtype=np.bool_)
    degenerate = np.zeros(R, dtype=np.bool_)
    A_out = np.zeros((R, n_out, n))
    c_out = np.zeros((R, n_out))
    # x -> P x + q: the current layer's input (after the first layer); js, zs: cancellation-free
    # magnitudes of its gradient (row sums) and of its constant term
    P = np.empty((wmax, n))
    q = np.empty(wmax)
    js = np.empty(wmax)
    zs = np.empty(wmax)
    Z = np.empty((wmax, n))
    z0 = np.empty(wmax)
    jz = np.empty(wmax)
    zz = np.empty(wmax)
    for r in range(R):
        for d in range(len(Dh)):  # the domain's rows, after the units'
            for k in range(n):
                G[r, M + d, k] = Dg[d, k]
            h[r, M + d] = Dh[d]
        for li in range(L):
            win, wout = width[li], width[li + 1]
            p0, s0 = bp_off[li], sl_off[li]
            nb, ns = bp_off[li + 1] - p0, sl_off[li + 1] - s0
            _affine(W, w_off[li], b, b_off[li], win, wout, li == 0, P, q, js, zs, Z, z0, jz, zz)
            if li >= n_split:
                for u in range(wout):
                    for k in range(n):
                        A_out[r, u, k] = Z[u, k]
                    c_out[r, u] = z0[u]
                break
            for u in range(wout):
                k_piece = np.int64(patterns[r, unit_start[li] + u])
                if nb > 0:
                    nrm = 0.0
                    for k in range(n):
                        nrm += Z[u, k] * Z[u, k]
                    nrm = np.sqrt(nrm)
                    const = nrm <= tol * jz[u]
                    safe = 1.0 if const else nrm
                    for j in range(nb):
                        beta = bp[p0 + j]
                        s = -1.0 if k_piece > j else 1.0
                        row = row_start[li] + u * nb + j
                        for k in range(n):
                            G[r, row, k] = (s / safe) * Z[u, k]
                        rhs = s * (beta - z0[u])
                        h[r, row] = rhs / safe
                        valid[r, row] = not const
                        eps = tol * (zz[u] + abs(beta))
                        if const and rhs < -eps:
                            feasible[r] = False
                        if const and abs(rhs) <= eps:
                            degenerate[r] = True
            _activate(patterns[r, unit_start[li]:], slope, icpt, s0, ns, wout, Z, z0, jz, zz, P, q, js, zs)
        if n_split == L:  # every layer splits: the output map is the last post-activation
            for u in range(n_out):
                for k in range(n):
                    A_out[r, u, k] = P[u, k]
                c_out[r, u] = q[u]
    return G, h, valid, feasible, degenerate, A_out, c_out


def halfspaces(pk: Packed, patterns: np.ndarray, tol: float, Dg: np.ndarray | None = None,
               Dh: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """``(G, h, valid, feasible, degenerate, A_out, c_out)`` as :func:`._nd_geometry.halfspaces`,
    with the rows ``Dg x <= Dh`` ((D, n), (D,)) of a domain after the units' rows when given.

    Examples
    --------
    The quadrant ``x0 > 0, x1 <= 0`` of two ReLUs on the axes, in the box ``x <= 1``:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions._nd_geometry import unit_table
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> G, h, *_ = halfspaces(pack(unit_table(net, False)), np.array([[1, 0]], dtype=np.int8), 1e-9,
    ...                       np.eye(2), np.ones(2))
    >>> G[0], h[0]
    (array([[-1., -0.],
           [ 0.,  1.],
           [ 1.,  0.],
           [ 0.,  1.]]), array([0., 0., 1., 1.]))
    """
    if Dh is None:
        Dg, Dh = np.zeros((0, int(pk.width[0]))), np.zeros(0)
    return _halfspaces(*pk, np.ascontiguousarray(patterns, dtype=np.int8), float(tol),
                       np.ascontiguousarray(Dg, dtype=np.float64), np.ascontiguousarray(Dh, dtype=np.float64))


@njit(cache=True, nogil=True, error_model="numpy")
def _output_maps(W: np.ndarray, w_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, width: np.ndarray,
                 bp: np.ndarray, bp_off: np.ndarray, slope: np.ndarray, icpt: np.ndarray, sl_off: np.ndarray,
                 n_split: int, unit_start: np.ndarray, row_start: np.ndarray,
                 patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    R = patterns.shape[0]
    n = width[0]
    L = len(width) - 1
    n_out = width[L]
    wmax = np.max(width)
    A_out = np.zeros((R, n_out, n))
    c_out = np.zeros((R, n_out))
    P = np.empty((wmax, n))
    q = np.empty(wmax)
    js = np.empty(wmax)
    zs = np.empty(wmax)
    Z = np.empty((wmax, n))
    z0 = np.empty(wmax)
    jz = np.empty(wmax)
    zz = np.empty(wmax)
    for r in range(R):
        for li in range(L):
            wout = width[li + 1]
            _affine(W, w_off[li], b, b_off[li], width[li], wout, li == 0, P, q, js, zs, Z, z0, jz, zz)
            if li >= n_split:
                for u in range(wout):
                    for k in range(n):
                        A_out[r, u, k] = Z[u, k]
                    c_out[r, u] = z0[u]
                break
            _activate(patterns[r, unit_start[li]:], slope, icpt, sl_off[li], sl_off[li + 1] - sl_off[li], wout,
                      Z, z0, jz, zz, P, q, js, zs)
        if n_split == L:  # every layer splits: the output map is the last post-activation
            for u in range(n_out):
                for k in range(n):
                    A_out[r, u, k] = P[u, k]
                c_out[r, u] = q[u]
    return A_out, c_out


def output_maps(pk: Packed, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A_out, c_out)`` of each pattern, shapes (R, n_out, n) and (R, n_out), as
    :func:`._nd_geometry.halfspaces` gives them (without the rows).

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions._nd_geometry import unit_table
    >>> net = Network.random([3, 4, 2], seed=0)
    >>> x = np.array([[0.1, -0.2, 0.3]])
    >>> A, c = output_maps(pack(unit_table(net, False)), net.pattern(x))
    >>> bool(np.allclose(A[0] @ x[0] + c[0], net(x[0])))
    True
    """
    return _output_maps(*pk, np.ascontiguousarray(patterns, dtype=np.int8))
