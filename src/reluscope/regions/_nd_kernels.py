"""Small dense linear programs for the n-D region walk, written once for two back ends.

Every LP the walk solves is tiny (``d = n + 1 <= ~10`` variables, a few dozen rows)
and comes with a feasible starting point, so a *primal active-set simplex* in the
inequality form is the natural solver (Fukuda, "Lecture notes: polyhedral
computation", §4; Nocedal & Wright, *Numerical Optimization*, §16.5)::

    maximise c·y   subject to   A y <= b          (A: (m, d), y free)

Phase 0 walks from the given feasible point to a vertex, moving along the
projection of ``c`` onto the null space of the rows made active so far (a
direction along which no row blocks either way lies in the lineality space: it
is fixed by an artificial equality row, which never leaves). Phase 1 is the
simplex method on vertices with Bland's rule (smallest index leaves and enters),
which cannot cycle.

The functions are compiled with ``numba.njit`` (the ``fast`` extra). This module
is imported only when numba is installed; without it the batched, vectorised
solver of :mod:`._nd_batch` (the same algorithm in lockstep over many LPs) is used.
Rows are expected to be scaled to norm about 1, so the absolute thresholds below
are relative ones.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["lp_max", "householder_basis", "OPTIMAL", "UNBOUNDED", "FAILED"]

OPTIMAL = 0
UNBOUNDED = 1
FAILED = 2

PIVOT_EPS = 1e-10  # a row blocks a direction p only if A_i p > PIVOT_EPS * |p|
DUAL_EPS = 1e-11  # a multiplier below -DUAL_EPS * (1 + |c|) makes its row leave


@njit(cache=True)
def _inverse(B: np.ndarray) -> tuple[np.ndarray, bool]:
    """Gauss-Jordan inverse with partial pivoting of a small square matrix."""
    d = B.shape[0]
    M = B.copy()
    inv = np.eye(d)
    for col in range(d):
        piv = col
        best = abs(M[col, col])
        for r in range(col + 1, d):
            if abs(M[r, col]) > best:
                best = abs(M[r, col])
                piv = r
        if best < 1e-14:
            return inv, False
        if piv != col:
            for k in range(d):
                M[col, k], M[piv, k] = M[piv, k], M[col, k]
                inv[col, k], inv[piv, k] = inv[piv, k], inv[col, k]
        f = 1.0 / M[col, col]
        for k in range(d):
            M[col, k] *= f
            inv[col, k] *= f
        for r in range(d):
            if r != col:
                g = M[r, col]
                if g != 0.0:
                    for k in range(d):
                        M[r, k] -= g * M[col, k]
                        inv[r, k] -= g * inv[col, k]
    return inv, True


@njit(cache=True)
def lp_max(
    A: np.ndarray, b: np.ndarray, c: np.ndarray, y: np.ndarray, max_iter: int
) -> tuple[int, np.ndarray]:
    """Maximise ``c·y`` subject to ``A y <= b`` from the feasible point ``y``.

    Parameters
    ----------
    A : ndarray of shape (m, d), rows of norm about 1
    b : ndarray of shape (m,)
    c : ndarray of shape (d,)
    y : ndarray of shape (d,)
        A feasible point (``A y <= b`` up to rounding); not modified.
    max_iter : int
        Cap on simplex pivots; hitting it returns ``FAILED``.

    Returns
    -------
    status : int
        ``OPTIMAL``, ``UNBOUNDED`` or ``FAILED``.
    y : ndarray of shape (d,)
        The optimal vertex (``OPTIMAL``), the last point otherwise.
    """
    m, d = A.shape
    y = y.copy()
    cnorm = 0.0
    for j in range(d):
        cnorm += c[j] * c[j]
    cnorm = math.sqrt(cnorm)
    active = np.full(d, -1, dtype=np.int64)  # row index; -1 marks an artificial row
    B = np.zeros((d, d))
    Q = np.zeros((d, d))  # orthonormal basis of the active rows (phase 0)
    Ap = np.zeros(m)
    slack = b - A @ y
    # ---------------------------------------------------------------- phase 0
    k = 0
    while k < d:
        p = c.copy()
        for i in range(k):
            s = 0.0
            for j in range(d):
                s += Q[i, j] * p[j]
            for j in range(d):
                p[j] -= s * Q[i, j]
        pn = math.sqrt(np.sum(p * p))
        neutral = pn <= 1e-12 * (1.0 + cnorm)
        if neutral:
            # c lies in the span of the active rows: any null direction keeps c·y
            best = -1.0
            for e in range(d):
                q = np.zeros(d)
                q[e] = 1.0
                for i in range(k):
                    s = Q[i, e]
                    for j in range(d):
                        q[j] -= s * Q[i, j]
                qn = math.sqrt(np.sum(q * q))
                if qn > best:
                    best = qn
                    p = q
            pn = best
        for j in range(d):
            p[j] /= pn
        enter = -1
        t_best = 0.0
        for sign_try in range(2 if neutral else 1):
            if sign_try == 1:
                for j in range(d):
                    p[j] = -p[j]
            Ap = A @ p
            enter = -1
            t_best = np.inf
            for i in range(m):
                if Ap[i] > PIVOT_EPS:
                    t = max(slack[i], 0.0) / Ap[i]
                    if t < t_best:
                        t_best = t
                        enter = i
            if enter >= 0:
                break
        if enter < 0:
            if not neutral:
                return UNBOUNDED, y
            # a line inside the feasible set: fix it with an artificial equality row
            row = p.copy()
        else:
            for j in range(d):
                y[j] += t_best * p[j]
            slack = b - A @ y
            row = A[enter].copy()
        B[k] = row
        active[k] = enter
        # Gram-Schmidt (twice, for stability) to extend Q
        q = row.copy()
        for _ in range(2):
            for i in range(k):
                s = 0.0
                for j in range(d):
                    s += Q[i, j] * q[j]
                for j in range(d):
                    q[j] -= s * Q[i, j]
        qn = math.sqrt(np.sum(q * q))
        if qn <= 1e-13:
            return FAILED, y
        for j in range(d):
            Q[k, j] = q[j] / qn
        k += 1
    # ---------------------------------------------------------------- phase 1
    for _ in range(max_iter):
        inv, ok = _inverse(B)
        if not ok:
            return FAILED, y
        lam = inv.T @ c
        lam_tol = DUAL_EPS * (1.0 + cnorm)
        leave = -1
        for pos in range(d):
            if active[pos] >= 0 and lam[pos] < -lam_tol:
                if leave < 0 or active[pos] < active[leave]:
                    leave = pos
        if leave < 0:
            return OPTIMAL, y
        p = -inv[:, leave]
        pn = math.sqrt(np.sum(p * p))
        Ap = A @ p
        enter = -1
        t_best = np.inf
        for i in range(m):
            if Ap[i] > PIVOT_EPS * pn:
                t = max(slack[i], 0.0) / Ap[i]
                if t < t_best:
                    t_best = t
                    enter = i
        if enter < 0:
            return UNBOUNDED, y
        for j in range(d):
            y[j] += t_best * p[j]
        slack = b - A @ y
        B[leave] = A[enter]
        active[leave] = enter
    return FAILED, y


@njit(cache=True)
def householder_basis(g: np.ndarray) -> np.ndarray:
    """Orthonormal basis ``N`` of shape (n, n - 1) of the complement of a unit vector ``g``.

    The columns other than ``k`` of the Householder reflection that maps ``e_k`` to
    ``-sign(g_k) g`` (``k`` = largest ``|g_k|``, for stability).
    """
    n = g.shape[0]
    k = 0
    for j in range(n):
        if abs(g[j]) > abs(g[k]):
            k = j
    v = g.copy()
    sgn = 1.0 if g[k] >= 0 else -1.0
    v[k] += sgn
    vv = np.sum(v * v)
    N = np.zeros((n, n - 1))
    col = 0
    for j in range(n):
        if j == k:
            continue
        for i in range(n):
            N[i, col] = (1.0 if i == j else 0.0) - 2.0 * v[i] * v[j] / vv
        col += 1
    return N
