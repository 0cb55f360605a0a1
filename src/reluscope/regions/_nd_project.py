"""The region search of a network whose first layer is much narrower than its input.

Every unit's pre-activation depends on the input ``x`` only through the first layer's
``z = W1 x + b1`` (``n1`` numbers for ``n`` inputs: 5-17 for 784 pixels in Serra,
Tjandraatmadja & Ramalingam 2018's MNIST networks). On a box the regions are the cells
of an arrangement in ``R^n1`` that meet the zonotope ``Z = W1 [lo, hi] + b1``, and a
search over ``x`` pays for all ``n`` columns in every LP. So a window of patterns is
decided in three steps, each exact about what it claims:

1. **Candidates** (a superset): the search over ``z``, in the box around ``Z``, with
   a margin ``margin * sigma_min(W1) / 2``. A point ``x`` that keeps ``margin`` from
   every unit's hyperplane (distance in ``x``) maps to a ``z`` that keeps at least
   ``margin * sigma_min(W1)`` from every unit's hyperplane (distance in ``z``), since
   a row ``a`` of ``z`` is the row ``W1^T a`` of ``x`` and ``|W1^T a| >=
   sigma_min |a|``. So every region is a candidate; the LPs have ``n1`` columns.
2. **Confirmed** (a subset): searches over coarse inputs ``t`` in ``[0, 1]^G``, where
   the inputs of each of ``G`` groups move together, ``x_j = mid_j + s_j w_j (t_g -
   1/2)`` (``w`` the box's widths, signs ``s`` aligning the group's columns of
   ``W1``). The groups are clusters of the columns' directions, so the coarse zonotope
   (``G`` generators) nearly fills ``Z``: most regions already have a coarse witness,
   found by LPs with ``G`` columns (restricted to the candidates left). A witness is
   mapped to ``x`` and kept when its slack, in ``x``, exceeds the margin (plus twice
   the LPs' tolerance), so that the search over ``x`` would find the region too.
   ``G`` grows by 4x per level (from ``max(16, 2 n1)``) while at most half of ``n``.
3. **The rest**: one LP over ``x`` per candidate left, on its whole polyhedron
   (:mod:`._leaf_kernels`: a revised dual simplex whose rows factor through ``W1``),
   from a start aimed at the candidate's cell; or none, where the candidate's cell misses
   slabs of ``Z`` learnt from earlier empty LPs. A candidate with a unit (nearly)
   constant on it, or whose LP fails, goes to the search over ``x`` restricted to
   such candidates. What these find are regions, and what they miss is not.

The three together give exactly the regions of the search over ``x`` alone (only the
witness points differ: a confirmed region's is its coarse vertex, another's the
minimiser of its own LP's cost). On the MNIST 784-5-17-10 network the candidates are
1 % more than the regions, and the first coarse level (16 groups) confirms 99 % of
them; on the 784-11-11-10 one (20,000 candidates) 4 % of the candidates are not
regions, the coarse levels confirm 95 %, and of the 1,063 left 779 are proven empty by
the slabs and the rest by LPs over ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._leaf_kernels import DEFER, FAILED, FEASIBLE, CutPool, first_layer_magnitudes, leaf_lps, maps_over_z, z_box
from ._nd_geometry import UnitTable
from ._nd_kernels import njit

__all__ = ["Projection", "projection"]

_MIN_RATIO = 2  # inputs per first-layer unit from which the projection pays
_MIN_INPUTS = 256  # and inputs: below, LPs over x are cheap (64-D digits MLP: 5x slower projected;
#                    random [n, 10, 10, 1] nets, 20,000 regions: 0.7x at 64 inputs, 1.25x at 128, 3x at 256)
_LEVEL_GROWTH = 4  # coarse groups grow by this factor per level
_MAX_LEVEL_FRACTION = 1 / 2  # coarse levels have at most this fraction of the inputs as groups
_CUTS = 64  # slabs of Z kept from empty LPs (a ring)
_MIN_CONDITION = 1e-8  # sigma_min / sigma_max of W1 below this: no projection (the margin would vanish)


@dataclass(frozen=True)
class _Level:
    """A coarse input: ``x_j = x0_j + step_j t_g(j)`` for ``t`` in ``[0, 1]^G`` (:meth:`expand`)."""

    table: UnitTable
    groups: np.ndarray  # (n,) the group of each input (-1: fixed at x0)
    step: np.ndarray  # (n,) x_j = x0_j + step_j * t_g
    x0: np.ndarray  # (n,)
    cost: np.ndarray  # (G,)

    def expand(self, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
        """The inputs of coarse points ``t`` (k, G), clipped to ``[lo, hi]`` (against rounding):
        a new (k, n) array, or written into ``out[rows]``."""
        if out is None or rows is None:
            out, rows = np.empty((len(t), len(self.x0))), np.arange(len(t))
        _expand_into(t, np.maximum(self.groups, 0), self.step, self.x0, lo, hi, rows, out)
        return out


def _cluster(V: np.ndarray, k: int, rng: np.random.Generator, iters: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Groups of the columns ``V`` (n1, m) by direction up to sign: Lloyd's iterations on
    ``|cos|`` from ``k`` random columns (``rng``). Returns each column's group and its sign
    (+1 or -1: the column times its sign points along its group's centre)."""
    U = V / np.linalg.norm(V, axis=0)
    w = np.linalg.norm(V, axis=0)
    C = U[:, rng.choice(U.shape[1], size=k, replace=False)]
    cols = np.arange(U.shape[1])

    def assign(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        S = C.T @ U  # (k, m)
        lab = np.argmax(np.abs(S), axis=0)
        return lab, np.where(S[lab, cols] >= 0, 1.0, -1.0)

    for _ in range(iters):
        lab, sign = assign(C)
        C = np.zeros_like(C)
        np.add.at(C.T, lab, (U * (sign * w)).T)
        nc = np.linalg.norm(C, axis=0)
        C[:, nc > 0] /= nc[nc > 0]
    return assign(C)


def _coarse(table: UnitTable, lo: np.ndarray, hi: np.ndarray, G: int, rng: np.random.Generator) -> _Level:
    """The coarse input with ``G`` groups of inputs whose columns of ``W1`` point alike."""
    W1 = table.weights[0]
    mid, width = (lo + hi) / 2, hi - lo
    V = W1 * width  # the zonotope's generators (times 2)
    live = np.nonzero(np.linalg.norm(V, axis=0) > 0)[0]
    groups = np.full(len(lo), -1)
    lab, sign_live = _cluster(V[:, live], min(G, len(live)), rng)
    _, lab = np.unique(lab, return_inverse=True)  # (empty groups dropped)
    groups[live] = lab
    n_groups = int(lab.max()) + 1
    sign = np.ones(len(lo))
    sign[live] = sign_live
    step = np.where(groups >= 0, sign * width, 0.0)
    x0 = mid - step / 2  # t = 1/2: the box's centre; t in {0, 1}: each input at a bound
    Wc = np.zeros((W1.shape[0], n_groups))
    np.add.at(Wc.T, groups[live], (W1[:, live] * step[live]).T)
    bc = table.biases[0] + W1 @ x0
    ctab = replace(table, weights=(Wc, *table.weights[1:]), biases=(bc, *table.biases[1:]))
    cost = rng.normal(size=n_groups)
    return _Level(ctab, groups, step, x0, cost / np.linalg.norm(cost))


@dataclass
class Projection:
    """What the three steps need (see the module notes); built by :func:`projection`."""

    table: UnitTable
    lo: np.ndarray
    hi: np.ndarray
    ztable: UnitTable
    zlo: np.ndarray
    zhi: np.ndarray
    zcost: np.ndarray
    zmargin: float
    ztol: float  # the search over z takes a unit as constant only where the search over x would
    levels: tuple[_Level, ...]
    gram: np.ndarray  # W1 W1^T: |W1^T a| from a row ``a`` over z
    jz1: np.ndarray  # |W1| row sums: the first layer's cancellation-free magnitudes over x
    tol: float
    margin: float
    ftol: float
    cuts: CutPool  # supporting slabs of Z learnt from empty LPs (speed only; see leaf_lps)

    def candidates(self, kernel, resume: np.ndarray | None, stop: np.ndarray | None,
                   max_new: int) -> tuple[np.ndarray, np.ndarray, bool, int]:
        """The next ``max_new`` candidate patterns after ``resume`` (sorted), a point ``z`` in each
        candidate's cell, whether they are all (up to ``stop``), and the kernel's status."""
        E = np.zeros((0, len(self.zlo)))
        pats, pts, done, status, *_ = kernel.search(
            self.ztable.packed, self.zlo, self.zhi, E, np.zeros(0), np.zeros(0), self.zcost, self.ztol,
            self.zmargin, max(1e-3 * self.zmargin, 1e-14 * float(np.max(self.zhi - self.zlo))), max_new,
            resume=resume, stop=stop, steepest=False)
        return pats, pts, done, status

    def confirm(self, pats: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Which points ``z`` (k, n1) of the first layer's outputs keep more than the margin
        (plus twice the LPs' tolerance) from every unit's hyperplane of their pattern, as
        distances over ``x`` (see :func:`_confirm`)."""
        pk = self.ztable.packed
        pats = np.ascontiguousarray(pats, dtype=np.int8)
        A, c, nrm, ok = maps_over_z(pk.W, pk.w_off, pk.b, pk.b_off, pk.width, pk.bp_off, pk.slope, pk.icpt,
                                    pk.sl_off, pk.n_split, pk.unit_start, pats, self.gram, self.jz1, self.tol)
        return _confirm(pk.width, pk.bp, pk.bp_off, pk.n_split, pk.unit_start, pats, A, c, nrm, ok,
                        np.ascontiguousarray(z, dtype=np.float64), self.margin + 2 * self.ftol)

    def _toward(self, zpts: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """Costs (k, n) whose minimising box corner maps to the far side of ``Z`` towards each
        point ``zpts`` (k, n1), plus a little of the generic ``cost``: the LPs of cells at the
        edge of ``Z`` (the ones left to them) start near their end."""
        zc = (self.zlo + self.zhi) / 2  # (the image of the box's centre)
        c = -(zpts - zc) @ self.table.weights[0]
        c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-300)
        return c + 1e-3 * cost

    def regions(self, kernel, cands: np.ndarray, zpts: np.ndarray,
                cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """The regions among the candidates ``cands`` (sorted), their witnesses, and the status
        of the last search over ``x`` (``kernel.OK`` when all went well)."""
        n, U = len(self.lo), cands.shape[1]
        left = np.ones(len(cands), dtype=bool)
        # blocks of regions found: (patterns, level or None, coarse points t or witnesses x)
        blocks: list[tuple[np.ndarray, _Level | None, np.ndarray]] = []
        for lv in self.levels:
            rest = cands[left]
            if not len(rest):
                break
            G = lv.table.weights[0].shape[1]
            pats, t, _, status, *_ = kernel.search(
                lv.table.packed, np.zeros(G), np.ones(G), np.zeros((0, G)), np.zeros(0), np.zeros(0), lv.cost,
                self.tol, self.margin, self.ftol, len(rest), candidates=rest)
            if status != kernel.OK or not len(pats):
                continue  # (a failed coarse search confirms nothing; the LPs over x decide)
            t = np.clip(t, 0.0, 1.0)  # (in the box, so that x is)
            ok = self.confirm(pats, t @ lv.table.weights[0].T + lv.table.biases[0])
            blocks.append((pats[ok], lv, t[ok]))
            left[np.isin(_keys(cands), _keys(pats[ok]))] = False
        # the rest: one LP over x per candidate (its whole polyhedron); the search over x
        # (restricted to them) for those whose LP failed or with a unit (nearly) constant
        rest, zrest = cands[left], zpts[left]
        W1, b1 = self.table.weights[0], self.table.biases[0]
        pool = self.cuts.copy()  # (threads each work on a copy; the last one's is kept)
        st, x, _ = leaf_lps(self.ztable.packed, rest, W1, b1, self.lo, self.hi, self._toward(zrest, cost), self.tol,
                            self.margin, self.ftol, cuts=pool)
        self.cuts = pool
        hit = st == FEASIBLE
        blocks.append((rest[hit], None, x[hit]))
        defer = (st == DEFER) | (st == FAILED)
        status = kernel.OK
        if defer.any():
            E = np.zeros((0, n))
            pats, x, _, status, *_ = kernel.search(
                self.table.packed, self.lo, self.hi, E, np.zeros(0), np.zeros(0), cost, self.tol, self.margin,
                self.ftol, int(defer.sum()), candidates=rest[defer])
            blocks.append((pats, None, x))
        # in lexicographic order, each witness written once into its row
        P = np.concatenate([np.zeros((0, U), dtype=np.int8), *(b[0] for b in blocks)])
        pos = np.empty(len(P), dtype=np.int64)
        pos[np.argsort(_keys(P), kind="stable")] = np.arange(len(P))
        X = np.empty((len(P), n))
        start = 0
        for pats, lv, v in blocks:
            rows = pos[start:start + len(pats)]
            if lv is None:
                X[rows] = v
            else:
                lv.expand(v, self.lo, self.hi, rows, X)
            start += len(pats)
        out = np.empty_like(P)
        out[pos] = P
        return out, X, status


def _keys(p: np.ndarray) -> np.ndarray:
    """One sortable key per pattern (pieces are small non-negative ints: bytes sort as the patterns)."""
    p = np.ascontiguousarray(p, dtype=np.int8)
    return p.view(np.dtype((np.void, p.shape[1]))).ravel() if p.shape[1] else np.zeros(len(p), dtype="V1")


def projection(table: UnitTable, lo: np.ndarray, hi: np.ndarray, tol: float, margin: float,
               ftol: float) -> Projection | None:
    """The projection for a search over the box ``[lo, hi]``, or None where it does not pay
    or hold: fewer than ``_MIN_INPUTS`` inputs or ``_MIN_RATIO`` inputs per first-layer unit,
    no unit, or an ill-conditioned ``W1``. Tests lower ``_MIN_INPUTS`` to check small nets."""
    W1, b1 = table.weights[0], table.biases[0]
    n1, n = W1.shape
    if table.n_units == 0 or table.n_split == 0 or n < max(_MIN_INPUTS, _MIN_RATIO * n1):
        return None
    sv = np.linalg.svd(W1, compute_uv=False)
    if not sv[-1] > _MIN_CONDITION * sv[0]:
        return None
    zlo, zhi = z_box(W1, b1, lo, hi)
    ztable = replace(table, weights=(np.eye(n1), *table.weights[1:]), biases=(np.zeros(n1), *table.biases[1:]))
    rng = np.random.default_rng(20240607)
    zcost = rng.normal(size=n1)
    levels = []
    G = max(16, 2 * n1)
    while G <= _MAX_LEVEL_FRACTION * n:
        levels.append(_coarse(table, lo, hi, G, rng))
        G *= _LEVEL_GROWTH
    # a unit's gradient over x is at most sigma_max times the one over z, and its magnitude
    # over x at least min_i |W1_i|_1 times the one over z (same recurrence from the first
    # layer's |W1| row sums): constant over z with this tolerance is constant over x with tol
    gram, jz1 = first_layer_magnitudes(W1)
    ztol = tol * min(1.0, float(np.min(jz1)) / float(sv[0]))
    return Projection(table, lo, hi, ztable, zlo, zhi, zcost / np.linalg.norm(zcost),
                      0.5 * margin * float(sv[-1]), ztol, tuple(levels), gram, jz1, tol, margin, ftol,
                      CutPool.empty(n1, _CUTS))


@njit(cache=True, nogil=True, error_model="numpy")
def _confirm(width: np.ndarray, bp: np.ndarray, bp_off: np.ndarray, n_split: int, unit_start: np.ndarray,
             patterns: np.ndarray, A: np.ndarray, c: np.ndarray, nrm: np.ndarray, ok: np.ndarray, z: np.ndarray,
             need: float) -> np.ndarray:
    """Which points ``z`` (R, n1) lie in their pattern's pieces at least ``need`` from each
    breakpoint, as distances over ``x``, given the units' maps over ``z`` and norms over ``x``
    (:func:`._leaf_kernels.maps_over_z`; a pattern not ``ok`` there is not confirmed)."""
    R, n1 = z.shape
    L = len(width) - 1
    out = ok.copy()
    for r in range(R):
        for li in range(min(L, n_split)):
            p0 = bp_off[li]
            nb = bp_off[li + 1] - p0
            if not out[r] or nb == 0:
                continue
            for g in range(unit_start[li], unit_start[li + 1]):
                f = c[r, g]
                for k in range(n1):
                    f += A[r, g, k] * z[r, k]
                kp = np.int64(patterns[r, g])
                if (kp > 0 and f - bp[p0 + kp - 1] < need * nrm[r, g]) or (
                        kp < nb and bp[p0 + kp] - f < need * nrm[r, g]):
                    out[r] = False
                    break
    return out


@njit(cache=True, nogil=True)
def _expand_into(t: np.ndarray, g: np.ndarray, step: np.ndarray, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 rows: np.ndarray, X: np.ndarray) -> None:
    """``X[rows[r]] = clip(x0 + step * t[r, g], lo, hi)`` (:meth:`_Level.expand`)."""
    for r in range(len(rows)):
        out = X[rows[r]]
        for j in range(len(g)):
            out[j] = min(max(x0[j] + step[j] * t[r, g[j]], lo[j]), hi[j])
