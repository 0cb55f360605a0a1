"""The layer-by-layer recurrence shared by every region engine (DESIGN §2).

Inside a cell where the pattern of layers ``< l`` is fixed, the input of layer ``l``
is an affine function of the cell's parameters ``p`` (``t`` on a segment, ``(s, t)``
on a plane)::

    h(p) = P p + q,         P: (n_cells, k, width),  q: (n_cells, width)

Homogeneous coordinates (used for the whole unbounded plane) multiply every
constant by a positive affine function ``w(p) = w_lin · p + w_0``; positive
scaling keeps every sign, so the same code serves bounded and unbounded domains
(``w ≡ 1`` for ordinary coordinates). Pre-activations, the functions whose zero
sets split cells (``z - β w`` for each breakpoint ``β``), piece indices and the
post-activation maps are all computed here, vectorised over cells and units.
"""

from __future__ import annotations

import numpy as np

from ..activations import Activation, Identity
from ..network import Layer

__all__ = ["Homog", "preactivation", "apply_activation", "pieces_at", "split_breakpoints"]


class Homog:
    """The positive affine function ``w(p) = lin · p + const`` of homogeneous coordinates."""

    __slots__ = ("lin", "const")

    def __init__(self, lin: np.ndarray, const: float = 1.0):
        self.lin = np.asarray(lin, dtype=np.float64)
        self.const = float(const)

    @classmethod
    def ones(cls, k: int) -> Homog:
        """``w ≡ 1``: ordinary (inhomogeneous) coordinates."""
        return cls(np.zeros(k), 1.0)

    def at(self, p: np.ndarray) -> np.ndarray:
        """``w`` at points ``p`` of shape (n, k)."""
        return p @ self.lin + self.const


def preactivation(
    P: np.ndarray, q: np.ndarray, layer: Layer, w: Homog
) -> tuple[np.ndarray, np.ndarray]:
    """Affine maps of ``W h + b w`` per cell: ``(Zp (n, k, m), Zq (n, m))``."""
    n, k, _ = P.shape
    Zp = (P.reshape(n * k, -1) @ layer.weight.T).reshape(n, k, -1)
    if np.any(w.lin):
        Zp = Zp + w.lin[None, :, None] * layer.bias[None, None, :]
    Zq = q @ layer.weight.T + w.const * layer.bias
    return Zp, Zq


def split_breakpoints(act: Activation, split_linear: bool = False) -> np.ndarray:
    """Breakpoints whose level sets split cells (``[0]`` for a linear layer when asked).

    ``split_linear`` is used for an output layer with ``include_output=True``: a
    linear output unit then splits along its zero set (the decision boundary).
    """
    if isinstance(act, Identity) or act.is_linear:
        return np.zeros(1) if split_linear else np.zeros(0)
    return np.asarray(act.breakpoints, dtype=np.float64)


def pieces_at(
    Zp: np.ndarray, Zq: np.ndarray, points: np.ndarray, w: Homog, bps: np.ndarray
) -> np.ndarray:
    """Piece index per cell and unit at one interior point per cell.

    Parameters
    ----------
    Zp, Zq : pre-activation maps, (n, k, m) and (n, m)
    points : (n, k) one interior point per cell
    bps : (n_bp,) sorted breakpoints

    Returns
    -------
    int8 array (n, m): number of breakpoints ``β`` with ``z - β w > 0``.
    """
    z = np.einsum("nk,nkm->nm", points, Zp) + Zq
    wv = w.at(points)
    piece = np.zeros(z.shape, dtype=np.int8)
    for beta in bps:
        piece += (z - beta * wv[:, None] > 0).astype(np.int8)
    return piece


def apply_activation(
    Zp: np.ndarray, Zq: np.ndarray, act: Activation, piece: np.ndarray, w: Homog
) -> tuple[np.ndarray, np.ndarray]:
    """Post-activation maps ``slope_k z + intercept_k w`` for the given pieces."""
    if act.is_linear:
        s, c = act.slopes[0], act.intercepts[0]
        return s * Zp + (c * w.lin[None, :, None] if c else 0.0), s * Zq + c * w.const
    slope = _lookup(act.slopes, piece)
    P = slope[:, None, :] * Zp
    q = slope * Zq
    if np.any(act.intercepts):
        icpt = _lookup(act.intercepts, piece)
        if np.any(w.lin):
            P = P + icpt[:, None, :] * w.lin[None, :, None]
        q = q + icpt * w.const
    return P, q


def _lookup(values: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """``values[piece]`` for small tables, without slow fancy indexing."""
    if len(values) == 2:
        v0, v1 = float(values[0]), float(values[1])
        if v0 == 0.0 and v1 == 1.0:
            return piece.astype(np.float64)
        return v0 + (v1 - v0) * piece
    return np.take(values, piece.astype(np.intp))


def next_preactivation(
    Zp: np.ndarray,
    Zq: np.ndarray,
    anc: np.ndarray,
    piece: np.ndarray,
    ref_piece: np.ndarray,
    act: Activation,
    nxt: Layer,
    w: Homog,
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activation maps of the next layer for every cell, from its ancestor's maps.

    A cell's layer output is its ancestor's map ``Zp, Zq`` through the activation
    pieces ``piece`` of the cell. Cells of one ancestor differ from a reference
    pattern ``ref_piece`` (e.g. the pattern at the ancestor's centre) only in the
    few units whose zero sets cross the ancestor, so the next layer is::

        W (S_ref ∘ Z) + Σ_{j : piece_j ≠ ref_j} ΔS_j Z_j W[:, j]

    one dense product per *ancestor* plus a sparse rank-k correction per cell,
    instead of a dense product per cell.

    Parameters
    ----------
    Zp, Zq : (n_anc, k, m), (n_anc, m) ancestor pre-activation maps of this layer
    anc : (n,) ancestor of each cell
    piece : (n, m) int8 pieces of each cell; ref_piece : (n_anc, m) reference pieces
    act : this layer's activation; nxt : the next layer

    Returns
    -------
    (n, k, m_next), (n, m_next)
    """
    from scipy.sparse import csr_matrix

    n_anc, k, m = Zp.shape
    P_ref, q_ref = apply_activation(Zp, Zq, act, ref_piece, w)
    Rp, Rq = preactivation(P_ref, q_ref, nxt, w)
    Np, Nq = Rp[anc], Rq[anc]
    if act.is_linear:
        return Np, Nq
    c, j = np.nonzero(piece != ref_piece[anc])
    if c.size == 0:
        return Np, Nq
    a = anc[c]
    ds = act.slopes[piece[c, j]] - act.slopes[ref_piece[a, j]]
    dc = act.intercepts[piece[c, j]] - act.intercepts[ref_piece[a, j]]
    vals = np.empty((c.size, k + 1))
    vals[:, :k] = ds[:, None] * Zp[a, :, j] + dc[:, None] * w.lin[None, :]
    vals[:, k] = ds * Zq[a, j] + dc * w.const
    n = len(anc)
    rows = (c[:, None] * (k + 1) + np.arange(k + 1)[None, :]).ravel()
    cols = np.repeat(j, k + 1)
    M = csr_matrix((vals.ravel(), (rows, cols)), shape=(n * (k + 1), m))
    corr = np.asarray(M @ nxt.weight.T).reshape(n, k + 1, -1)
    Np = Np + corr[:, :k, :]
    Nq = Nq + corr[:, k, :]
    return Np, Nq
