"""The lossless compression rules of Serra, Kumar & Ramalingam (CPAIOR 2020), as pure array code.

Private helper of :mod:`reluscope.compress`. Input: the layers ``(W, b, act)`` of a
network and, per hidden unit, the piece of its activation it is proven to stay on
over the domain (``-1`` if unstable). A unit stable on piece ``k`` is the affine map
``s_k g + c_k`` of its pre-activation ``g`` there (ReLU: 0 when inactive, ``g`` when
active), which is what every rule uses:

1. *constant units* (an all-zero weight row) output ``act(b_i)``: folded into the next
   layer's bias and removed;
2. *stably inactive* units (a constant piece, slope 0) output ``c_k``: likewise;
3. *zero-outgoing* units (an all-zero column in the next layer) are removed;
4. *dependent stably active units*: with ``a_i = s_i W_i`` and ``d_i = s_i b_i + c_i``, if
   ``a_D = α a_B`` for an independent set ``B`` (``rank`` test by pivoted QR, exactness
   re-checked), then ``out_D = α (out_B - d_B) + d_D``, so ``W'[:, B] += W'[:, D] α`` and
   ``b' += W'[:, D] (d_D - α d_B)`` (Serra et al. 2020, §4; Gogeta.jl ``compression.jl``);
5. a layer whose units are *all stably active* is affine, ``out = A h + d``, and folds
   into the next layer: ``W' <- W' A``, ``b' <- W' d + b'`` (when that does not add
   parameters, or always with ``fold="always"``);
6. a hidden layer left with no unit makes the network *constant* from there on: the
   result is one affine layer with zero weights.

Rules 1-5 run layer by layer from the input (so a row emptied by removals upstream
is seen as constant), then rule 3 runs once more from the output backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .activations import Activation, Identity

__all__ = ["Removal", "apply_rules", "REASONS"]

REASONS = ("constant", "stably_inactive", "zero_outgoing", "dependent", "folded_layer", "collapsed")


@dataclass(frozen=True)
class Removal:
    """One removed hidden unit: original layer and unit index, and the rule that removed it."""

    layer: int
    unit: int
    reason: str


@dataclass
class _Layer:
    W: np.ndarray
    b: np.ndarray
    act: Activation
    piece: np.ndarray   # proven piece per unit (-1 unstable); unused for the output layer
    ids: np.ndarray     # original unit indices
    layer: int          # original layer index

    def keep(self, mask: np.ndarray) -> None:
        self.W, self.b, self.piece, self.ids = self.W[mask], self.b[mask], self.piece[mask], self.ids[mask]


def apply_rules(
    layers: list[tuple[np.ndarray, np.ndarray, Activation]],
    pieces: list[np.ndarray],
    *,
    fold: str = "if_smaller",
    rank_tol: float = 1e-10,
) -> tuple[list[tuple[np.ndarray, np.ndarray, Activation]], list[Removal]]:
    """Apply the rules; returns the new layers (input to output) and the removals.

    Parameters
    ----------
    layers : list of (W, b, activation)
        All layers; the last is the output layer (never removed).
    pieces : list of int arrays, one per hidden layer
        Proven piece per unit, ``-1`` for unstable units.
    fold : {"if_smaller", "always", "never"}
        When to fold an all-stably-active layer into the next one.
    rank_tol : float
        A unit counts as dependent only if ``max |a_D - α a_B| <= rank_tol * max(1, max |a_D|)``.

    Examples
    --------
    >>> from reluscope import ReLU, Identity
    >>> W1 = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]]); b1 = np.array([1.0, 2.0, -5.0])
    >>> W2 = np.array([[1.0, 1.0, 1.0]]); b2 = np.zeros(1)
    >>> # units 0 and 1 stably active (unit 1 = 2 * unit 0), unit 2 stably inactive
    >>> new, removed = apply_rules([(W1, b1, ReLU()), (W2, b2, Identity())], [np.array([1, 1, 0])])
    >>> [(r.unit, r.reason) for r in removed]     # pivoted QR keeps the larger row as the basis
    [(2, 'stably_inactive'), (0, 'dependent'), (1, 'folded_layer')]
    >>> new[0][0], new[0][1]       # 3 (x0 + 1) as one affine layer
    (array([[3., 0.]]), array([3.]))
    """
    cur = [
        _Layer(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64), act,
               np.asarray(pieces[i], dtype=np.int64).copy() if i < len(layers) - 1
               else np.zeros(W.shape[0], np.int64), np.arange(W.shape[0]), i)
        for i, (W, b, act) in enumerate(layers)
    ]
    removed: list[Removal] = []
    l = 0
    while l < len(cur) - 1:
        h, nx = cur[l], cur[l + 1]
        s = h.act.slopes[np.clip(h.piece, 0, None)]
        c = h.act.intercepts[np.clip(h.piece, 0, None)]
        # rules 1-2: constant outputs fold into the next bias
        const_row = ~np.any(h.W != 0, axis=1)
        inactive = (h.piece >= 0) & (s == 0) & ~const_row
        value = np.where(const_row, h.act(h.b), c)
        drop = const_row | inactive
        nx.b = nx.b + nx.W[:, drop] @ value[drop]
        removed += [Removal(h.layer, int(u), "constant") for u in h.ids[const_row]]
        removed += [Removal(h.layer, int(u), "stably_inactive") for u in h.ids[inactive]]
        _drop(h, nx, ~drop)
        # rule 3: zero outgoing weights
        dead = ~np.any(nx.W != 0, axis=0)
        removed += [Removal(h.layer, int(u), "zero_outgoing") for u in h.ids[dead]]
        _drop(h, nx, ~dead)
        if h.W.shape[0] == 0:
            return _collapse(cur, l, removed)
        s = h.act.slopes[np.clip(h.piece, 0, None)]
        c = h.act.intercepts[np.clip(h.piece, 0, None)]
        active = (h.piece >= 0) & (s != 0)
        A, d = s[:, None] * h.W, s * h.b + c          # out = A h_prev + d on active units
        # rule 4: dependent stably active units
        if np.count_nonzero(active) >= 2:
            act_idx = np.flatnonzero(active)
            basis, dep, alpha = _dependencies(A[act_idx], rank_tol)
            if dep.size:
                B, D = act_idx[basis], act_idx[dep]
                nx.b = nx.b + nx.W[:, D] @ (d[D] - alpha @ d[B])
                nx.W = nx.W.copy()
                nx.W[:, B] += nx.W[:, D] @ alpha
                removed += [Removal(h.layer, int(u), "dependent") for u in h.ids[D]]
                keep = np.ones(h.W.shape[0], dtype=bool)
                keep[D] = False
                _drop(h, nx, keep)
                A, d, active = A[keep], d[keep], active[keep]
        # rule 5: fold an all-active layer into the next one
        if np.all(active) and fold != "never":
            new_W = nx.W @ A
            if fold == "always" or new_W.size <= h.W.size + h.b.size + nx.W.size:
                removed += [Removal(h.layer, int(u), "folded_layer") for u in h.ids]
                nx.W, nx.b = new_W, nx.W @ d + nx.b
                del cur[l]
                continue
        l += 1
    # rule 3 again, backwards: removals downstream may have zeroed whole columns
    for l in range(len(cur) - 2, -1, -1):
        h, nx = cur[l], cur[l + 1]
        dead = ~np.any(nx.W != 0, axis=0)
        if np.any(dead):
            removed += [Removal(h.layer, int(u), "zero_outgoing") for u in h.ids[dead]]
            _drop(h, nx, ~dead)
            if h.W.shape[0] == 0:
                return _collapse(cur, l, removed)
    return [(h.W, h.b, h.act) for h in cur], removed


def _drop(h: _Layer, nx: _Layer, keep: np.ndarray) -> None:
    """Keep only the units ``keep`` of ``h`` (rows of h, columns of the next layer)."""
    h.keep(keep)
    nx.W = nx.W[:, keep]


def _dependencies(A: np.ndarray, rank_tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the rows of ``A`` into an independent set and rows exactly spanned by it.

    Returns ``(basis, dependent, alpha)`` with ``A[dependent] ≈ alpha @ A[basis]``
    (each accepted row checked to ``rank_tol``).
    """
    n = A.shape[0]
    _, R, perm = scipy.linalg.qr(A.T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if diag.size == 0 or diag[0] == 0:
        return np.zeros(0, int), np.arange(n), np.zeros((n, 0))
    tol = max(A.shape) * np.finfo(np.float64).eps * diag[0]
    r = int(np.sum(diag > tol))
    basis, cand = np.sort(perm[:r]), perm[r:]
    if cand.size == 0:
        return basis, cand, np.zeros((0, r))
    alpha, *_ = np.linalg.lstsq(A[basis].T, A[cand].T, rcond=None)
    alpha = alpha.T
    resid = np.max(np.abs(A[cand] - alpha @ A[basis]), axis=1)
    scale = np.maximum(1.0, np.max(np.abs(A[cand]), axis=1))
    ok = resid <= rank_tol * scale
    if not np.all(ok):
        # rows that are not exactly spanned stay; keep the basis independent by re-solving
        return _dependencies_subset(A, basis, cand, ok, rank_tol)
    return basis, np.sort(cand), alpha[np.argsort(cand)]


def _dependencies_subset(A: np.ndarray, basis: np.ndarray, cand: np.ndarray, ok: np.ndarray,
                         rank_tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = np.sort(np.concatenate([basis, cand[~ok]]))
    dep = np.sort(cand[ok])
    alpha, *_ = np.linalg.lstsq(A[keep].T, A[dep].T, rcond=None)
    alpha = alpha.T
    resid = np.max(np.abs(A[dep] - alpha @ A[keep]), axis=1) if dep.size else np.zeros(0)
    good = resid <= rank_tol * np.maximum(1.0, np.max(np.abs(A[dep]), axis=1) if dep.size else 1.0)
    return keep, dep[good], alpha[good]


def _collapse(cur: list[_Layer], l: int, removed: list[Removal]):
    """Hidden layer ``l`` is empty: the network is the constant obtained by propagating the next bias."""
    for k, h in enumerate(cur[:-1]):
        if k != l:
            removed += [Removal(h.layer, int(u), "collapsed") for u in h.ids]
    v = cur[l + 1].act(cur[l + 1].b)     # the next layer sees no input
    for h in cur[l + 2:]:
        v = h.act(h.W @ v + h.b)
    n_in = cur[0].W.shape[1]      # folding and removals never change the input size
    return [(np.zeros((v.shape[0], n_in)), v, Identity())], removed
