"""One LP per candidate region over the inputs, with rows that factor through the first layer.

Used by :mod:`._nd_project` for the candidates that neither the search over the first
layer's outputs ``z = W1 x + b1`` excluded nor a coarse search confirmed. Each unit's
pre-activation on a pattern is ``a . z + c`` (the forward pass over ``z``), so its row
over ``x`` is ``a W1``: a constraint matrix ``A = F W1`` with ``F`` of shape ``(m, n1)``,
``m`` rows and ``n1`` first-layer units against ``n`` inputs (MNIST: 22 rows, 11 units,
784 inputs).

The LP is ``min c . x`` over ``x`` in the box with every row in its slab (the margin
from its breakpoints, as in :mod:`._tree_kernels`), solved by a *revised* bounded dual
simplex (Koberstein 2005, ch. 3: bound-flipping ratio test, dual steepest edge on the
rows of ``B^-1``) that keeps ``B^-1`` (``m x m``) and never forms ``A``: a pivot row is
``(rho F) W1`` (``n1 n`` operations), where a dense tableau pays ``m n`` and again for
its steepest-edge norms. Every ``_REFACTOR`` pivots ``B^-1``, the basic values and the
reduced costs are recomputed from the basis.

An LP that proves its candidate empty also proves a slab of the zonotope ``Z = W1 [lo,
hi] + b1``: at the violated row ``rho`` of ``B^-1``, ``(F^T rho) . (z - b1) = rho . s``,
and ``Z``'s range in that direction misses what the rows' slabs allow. The slab (``Z``'s
exact range along ``F^T rho``, by the box's corners) goes into a :class:`CutPool`, and a
later candidate whose cell misses the pool's slabs over ``z`` (an LP with ``n1`` columns,
its rows and slabs loosened by ``1e-6`` of the box around ``Z``) is empty without its
LP over ``x``. Cells outside ``Z``
come in runs (neighbouring patterns at the same side of ``Z``): on the MNIST 784-11-11-10
network 64 slabs spare 92 % of the empty LPs. The verdicts do not depend on the pool.

Compiled with numba (the ``fast`` extra); plain Python without it (slow, for tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._nd_geometry_kernels import _activate, _affine
from ._nd_kernels import _FAST, njit
from ._tree_kernels import _minimise, _next_breakpoint

__all__ = ["leaf_lps", "maps_over_z", "first_layer_magnitudes", "z_box", "CutPool", "FEASIBLE", "EMPTY", "FAILED",
           "DEFER"]

EMPTY = 0  # no point of the box keeps the margin from every unit's breakpoints
FEASIBLE = 1  # the region exists; its witness is the LP's minimiser
FAILED = 2  # the LP hit its pivot limit, or its witness missed a row by half the margin
DEFER = 3  # a unit (nearly) constant on the pattern: left to the search over x

PIVOT_TOL = 1e-9
_REFACTOR = 64  # pivots between recomputations of B^-1 from the basis


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _row_times(u: np.ndarray, W1: np.ndarray, out: np.ndarray) -> None:
    """``out = u W1`` (``u`` of shape (n1,), ``W1`` (n1, n))."""
    n = W1.shape[1]
    for j in range(n):
        out[j] = 0.0
    for k in range(len(u)):
        uk = u[k]
        if uk != 0.0:
            Wk = W1[k]
            for j in range(n):
                out[j] += uk * Wk[j]


@njit(cache=True, nogil=True, error_model="numpy")
def _column(v: int, n: int, F: np.ndarray, W1: np.ndarray, out: np.ndarray) -> None:
    """Column ``v`` of ``[A, -I]`` (``A = F W1``): an input's, or a row's slack."""
    m, n1 = F.shape
    if v < n:
        for i in range(m):
            s = 0.0
            for k in range(n1):
                s += F[i, k] * W1[k, v]
            out[i] = s
    else:
        for i in range(m):
            out[i] = 0.0
        out[v - n] = -1.0


@njit(cache=True, nogil=True, error_model="numpy")
def _refactor(n: int, F: np.ndarray, W1: np.ndarray, head: np.ndarray, y: np.ndarray, basic: np.ndarray,
              cost: np.ndarray, Binv: np.ndarray, xb: np.ndarray, d: np.ndarray, beta: np.ndarray) -> bool:
    """``B^-1``, the basic values, the reduced costs and the steepest-edge weights afresh from the
    basis ``head``; False if the basis matrix is singular."""
    m, n1 = F.shape
    B = np.empty((m, m))
    col = np.empty(m)
    for i in range(m):
        _column(head[i], n, F, W1, col)
        for k in range(m):
            B[k, i] = col[k]
    if abs(np.linalg.det(B)) < 1e-300:
        return False
    Binv[:, :] = np.linalg.inv(B)
    # x_B = -B^-1 (N y_N): the nonbasic inputs through F W1, the nonbasic slacks directly
    w = np.zeros(n1)
    for j in range(n):
        if not basic[j] and y[j] != 0.0:
            for k in range(n1):
                w[k] += W1[k, j] * y[j]
    r = np.zeros(m)
    for i in range(m):
        s = 0.0
        for k in range(n1):
            s += F[i, k] * w[k]
        r[i] = s
        if not basic[n + i]:
            r[i] -= y[n + i]
    for i in range(m):
        s = 0.0
        for k in range(m):
            s += Binv[i, k] * r[k]
        xb[i] = -s
    # reduced costs d = c - pi [A, -I], pi = c_B B^-1
    pi = np.zeros(m)
    for i in range(m):
        cb = cost[head[i]] if head[i] < n else 0.0
        if cb != 0.0:
            for k in range(m):
                pi[k] += cb * Binv[i, k]
    u = np.zeros(n1)
    for i in range(m):
        for k in range(n1):
            u[k] += pi[i] * F[i, k]
    _row_times(u, W1, d[:n])
    for j in range(n):
        d[j] = cost[j] - d[j]
    for i in range(m):
        d[n + i] = pi[i]
    for i in range(m):
        d[head[i]] = 0.0
        s = 0.0
        for k in range(m):
            s += Binv[i, k] * Binv[i, k]
        beta[i] = s
    return True


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _solve(F: np.ndarray, W1: np.ndarray, lo: np.ndarray, hi: np.ndarray, cost: np.ndarray, ftol: float,
           max_pivots: int, x_out: np.ndarray, u_out: np.ndarray) -> tuple[int, int]:
    """``min cost . x`` over ``x`` in the box and ``A x = s`` with ``s`` in ``[lo[n:], hi[n:]]``
    (``lo``, ``hi`` of length ``n + m``). Returns 0 (optimal; ``x_out`` the minimiser), -1 (pivot
    limit) or -2 (infeasible; ``u_out`` then holds ``F^T rho``, ``rho`` the violated row of ``B^-1``:
    ``(u W1) . x = rho . s`` for every ``x`` and its rows ``s``, and no ``x`` in the box gives
    ``u W1 x`` a value that the rows' slabs allow ``rho . s``), and the number of pivots."""
    m, n1 = F.shape
    n = W1.shape[1]
    V = n + m
    head = np.empty(m, dtype=np.int64)  # basic variable of each row of B^-1
    basic = np.zeros(V, dtype=np.bool_)
    y = np.zeros(V)  # nonbasic values (at a bound)
    c = np.zeros(V)
    c[:n] = cost
    for i in range(m):
        head[i] = n + i
        basic[n + i] = True
    for j in range(n):  # dual feasible: each input at the bound its cost points to
        y[j] = lo[j] if cost[j] >= 0.0 else hi[j]
    Binv = np.empty((m, m))
    xb = np.empty(m)
    d = np.empty(V)
    beta = np.empty(m)
    if not _refactor(n, F, W1, head, y, basic, c, Binv, xb, d, beta):
        return -1, 0
    alpha = np.empty(V)  # the pivot row over all variables (basic ones unused)
    acol = np.empty(m)
    aq = np.empty(m)
    rho = np.empty(m)
    u = np.empty(n1)
    w = np.empty(n1)
    delta = np.empty(m)
    tau = np.empty(m)
    cand = np.empty(V, dtype=np.int64)
    ratio = np.empty(V)
    cap = np.empty(V)
    it = 0
    since = 0
    while True:
        # leaving: the largest violation relative to its steepest-edge weight
        leave, score, below, worst = -1, 0.0, False, 0.0
        for i in range(m):
            v = head[i]
            lo_v, hi_v = lo[v] - xb[i], xb[i] - hi[v]
            viol = lo_v if lo_v > ftol else hi_v if hi_v > ftol else 0.0
            if viol > 0.0 and viol * viol / beta[i] > score:
                leave, score, below, worst = i, viol * viol / beta[i], lo_v > ftol, viol
        if leave < 0:
            for j in range(n):
                x_out[j] = y[j]
            for i in range(m):
                if head[i] < n:
                    x_out[head[i]] = xb[i]
            return 0, it
        if it >= max_pivots:
            return -1, it
        # the pivot row: alpha_j = rho . column j, rho = row `leave` of B^-1
        for k in range(m):
            rho[k] = Binv[leave, k]
        for k in range(n1):
            s = 0.0
            for i in range(m):
                s += rho[i] * F[i, k]
            u[k] = s
        _row_times(u, W1, alpha[:n])
        for i in range(m):
            alpha[n + i] = -rho[i]
        # bound-flipping ratio test (as in _tree_kernels._minimise, with T = -alpha): the leaving
        # variable must move up when below its bound; nonbasic j moves it so from its lower bound
        # if T_j > 0, from its upper bound if T_j < 0 (mirrored when above)
        sgn = 1.0 if below else -1.0
        k = 0
        total = 0.0
        tiny = 0.0  # what the entries too small to pivot on could still repair
        for j in range(V):
            if basic[j]:
                continue
            t = -sgn * alpha[j]
            lb, ub = lo[j], hi[j]
            if ub - lb <= 0.0:
                continue
            at_lower = y[j] <= lb
            if (at_lower and t > PIVOT_TOL) or (not at_lower and t < -PIVOT_TOL):
                cand[k] = j
                ratio[k] = abs(d[j]) / abs(t)
                cap[k] = abs(t) * (ub - lb)
                total += cap[k]
                k += 1
            elif (at_lower and t > 0.0) or (not at_lower and t < 0.0):
                tiny += abs(t) * (ub - lb)
        if total < worst - ftol:
            if total + tiny >= worst - ftol:
                return -1, it  # (not provably empty: the search over x decides, by its own rule)
            for kk in range(n1):
                u_out[kk] = u[kk]
            return -2, it
        slope = worst
        enter = -1
        left = k
        for kk in range(n1):
            w[kk] = 0.0
        for i in range(m):
            delta[i] = 0.0
        flipped = False
        # walk the breakpoints in increasing order (among equal ratios the largest |alpha| enters)
        while left > 0:
            best = _next_breakpoint(cand, ratio, k, alpha)
            j = cand[best]
            if left > 1 and slope - cap[best] > 0.0:  # pass the breakpoint: flip j
                new = hi[j] if y[j] <= lo[j] else lo[j]
                step = new - y[j]
                y[j] = new
                if j < n:
                    for kk in range(n1):
                        w[kk] += W1[kk, j] * step
                else:
                    delta[j - n] -= step
                flipped = True
                slope -= cap[best]
                cand[best] = -1
                left -= 1
                continue
            enter = j
            break
        if flipped:  # x_B -= B^-1 (sum of the flipped columns times their steps)
            for i in range(m):
                s = delta[i]
                for kk in range(n1):
                    s += F[i, kk] * w[kk]
                acol[i] = s
            for i in range(m):
                s = 0.0
                for kk in range(m):
                    s += Binv[i, kk] * acol[kk]
                xb[i] -= s
        # the entering column alpha_q = B^-1 a_q
        _column(enter, n, F, W1, acol)
        for i in range(m):
            s = 0.0
            for kk in range(m):
                s += Binv[i, kk] * acol[kk]
            aq[i] = s
        piv = aq[leave]  # = alpha[enter]
        if abs(piv) <= PIVOT_TOL:
            return -1, it
        v_out = head[leave]
        bound = lo[v_out] if below else hi[v_out]
        # primal step: x_B(leave) reaches its bound; the entering variable moves by theta
        theta = (xb[leave] - bound) / piv
        for i in range(m):
            xb[i] -= theta * aq[i]
        entered = y[enter] + theta
        # reduced costs: d_j -= (d_q / alpha_q) alpha_j over the nonbasic j; the leaving one's
        fd = d[enter] / piv
        for j in range(V):
            if not basic[j]:
                d[j] -= fd * alpha[j]
        d[v_out] = -fd
        d[enter] = 0.0
        # steepest-edge weights (Forrest & Goldfarb 1992): tau = B^-1 rho
        for i in range(m):
            s = 0.0
            for kk in range(m):
                s += Binv[i, kk] * rho[kk]
            tau[i] = s
        br = beta[leave]
        for i in range(m):
            if i == leave:
                continue
            f = aq[i] / piv
            if f != 0.0:
                beta[i] = max(beta[i] - 2.0 * f * tau[i] + f * f * br, 1e-12)
        beta[leave] = max(br / (piv * piv), 1e-12)
        # B^-1: the eta update of row `leave`
        for kk in range(m):
            Binv[leave, kk] /= piv
        for i in range(m):
            if i != leave and aq[i] != 0.0:
                f = aq[i]
                for kk in range(m):
                    Binv[i, kk] -= f * Binv[leave, kk]
        basic[v_out] = False
        basic[enter] = True
        y[v_out] = bound
        head[leave] = enter
        xb[leave] = entered
        it += 1
        since += 1
        if since >= _REFACTOR:
            since = 0
            if not _refactor(n, F, W1, head, y, basic, c, Binv, xb, d, beta):
                return -1, it


@njit(cache=True, nogil=True, error_model="numpy")
def _add_cut(u: np.ndarray, W1: np.ndarray, b1: np.ndarray, lo: np.ndarray, hi: np.ndarray, cuts: np.ndarray,
             cut_lo: np.ndarray, cut_hi: np.ndarray, pool: np.ndarray, arow: np.ndarray, zspan: float) -> None:
    """Put the slab of ``Z`` (``W1 [lo, hi] + b1``) in direction ``u`` into the pool (a ring:
    ``pool = [count, next slot]``), widened by a relative 1e-9 against rounding and by 1e-6 of
    ``zspan`` (the summed widths of the box around ``Z``), as the rows are."""
    n1 = len(u)
    nrm = np.sqrt(np.sum(u * u))
    if not nrm > 0.0:
        return
    _row_times(u / nrm, W1, arow)
    c = 0.0
    for k in range(n1):
        c += u[k] / nrm * b1[k]
    low, high, mag = c, c, abs(c)
    for j in range(len(arow)):
        a, b = arow[j] * lo[j], arow[j] * hi[j]
        low += min(a, b)
        high += max(a, b)
        mag += max(abs(a), abs(b))
    if len(cuts) == 0:
        return
    slot = pool[1]
    for k in range(n1):
        cuts[slot, k] = u[k] / nrm
    cut_lo[slot] = low - 1e-9 * mag - 1e-6 * zspan
    cut_hi[slot] = high + 1e-9 * mag + 1e-6 * zspan
    pool[0] = min(pool[0] + 1, len(cuts))
    pool[1] = (slot + 1) % len(cuts)


@njit(cache=True, nogil=True, error_model="numpy")
def _z_empty(F: np.ndarray, top: np.ndarray, zlo: np.ndarray, zhi: np.ndarray, cuts: np.ndarray,
             cut_lo: np.ndarray, cut_hi: np.ndarray, k: int, zcost: np.ndarray, ftol: float) -> bool:
    """Whether no ``z`` in ``[zlo, zhi]`` has ``F z <= top`` and ``cut_lo <= cuts z <= cut_hi``
    (the first ``k`` cuts): the dense dual simplex of :mod:`._tree_kernels`, ``n1`` columns.
    A failed LP says False (not proven empty)."""
    m, n1 = F.shape
    M = m + k
    T = np.zeros((M, n1))
    t0 = np.zeros(M)
    bv = np.empty(M, dtype=np.int64)
    nbv = np.arange(n1)
    where = np.empty(n1 + M, dtype=np.int64)
    y = zlo.copy()
    d = zcost.copy()
    val = np.zeros(M)
    vlo = np.empty(n1 + M)
    vhi = np.empty(n1 + M)
    vlo[:n1] = zlo
    vhi[:n1] = zhi
    for j in range(n1):
        where[j] = j
    zmid = (zlo + zhi) / 2
    zrad = (zhi - zlo) / 2
    for i in range(M):
        row = F[i] if i < m else cuts[i - m]
        nrm = 0.0
        for j in range(n1):
            nrm += row[j] * row[j]
        nrm = np.sqrt(nrm)
        if nrm == 0.0:
            return False
        low = 0.0
        for j in range(n1):
            T[i, j] = row[j] / nrm
            low += T[i, j] * zmid[j] - abs(T[i, j]) * zrad[j]
        bv[i] = n1 + i
        where[n1 + i] = -i - 1
        if i < m:
            vlo[n1 + i] = low - 1.0
            vhi[n1 + i] = top[i] / nrm
        else:
            vlo[n1 + i] = cut_lo[i - m] / nrm
            vhi[n1 + i] = cut_hi[i - m] / nrm
    ret, _ = _minimise(n1, M, T, t0, bv, nbv, y, where, d, val, vlo, vhi, ftol, 200 + 20 * M, False)
    return ret == -2


@njit(cache=True, nogil=True, error_model="numpy")
def maps_over_z(W: np.ndarray, w_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, width: np.ndarray,
                bp_off: np.ndarray, slope: np.ndarray, icpt: np.ndarray, sl_off: np.ndarray, n_split: int,
                unit_start: np.ndarray, patterns: np.ndarray, gram: np.ndarray, jz1: np.ndarray,
                tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's pre-activation on each pattern as a map of the first layer's outputs ``z``,
    with the norm of its gradient over the inputs ``x`` (``z = W1 x + b1``).

    The network is the one over ``z`` (packed, first layer the identity). A unit's map
    ``a . z + c`` is ``(W1^T a) . x + ...`` over ``x``: its gradient's norm over ``x`` is
    ``sqrt(a gram a)`` (``gram = W1 W1^T``), and its cancellation-free magnitude over ``x``
    the recurrence over ``z`` started from ``|W1|``'s row sums (``jz1``). The search over
    ``x`` takes a unit as constant on a path when that norm is at most ``tol`` times that
    magnitude; a pattern with such a unit, or one within a factor 2 of the threshold, is
    not ``ok`` (the search over ``x`` decides it).

    Returns
    -------
    A : (R, n_units, n1), c : (R, n_units)
        ``A[r, u] . z + c[r, u]``, unit ``u``'s pre-activation on pattern ``r``.
    nrm : (R, n_units)
        Its gradient's norm over ``x`` (0 for units without breakpoints).
    ok : (R,) bool
        Every unit with breakpoints clearly not constant over ``x``.
    """
    R = patterns.shape[0]
    n1 = gram.shape[0]
    L = len(width) - 1
    U = unit_start[n_split]
    wmax = np.max(width)
    A = np.zeros((R, U, n1))
    c = np.zeros((R, U))
    nrm = np.zeros((R, U))
    ok = np.ones(R, dtype=np.bool_)
    P = np.empty((wmax, n1))
    q = np.empty(wmax)
    js = np.empty(wmax)
    zs = np.empty(wmax)
    Z = np.empty((wmax, n1))
    z0 = np.empty(wmax)
    jz = np.empty(wmax)
    zz = np.empty(wmax)
    for r in range(R):
        for li in range(min(L, n_split)):
            win, wout = width[li], width[li + 1]
            s0, ns = sl_off[li], sl_off[li + 1] - sl_off[li]
            nb = bp_off[li + 1] - bp_off[li]
            _affine(W, w_off[li], b, b_off[li], win, wout, li == 0, P, q, js, zs, Z, z0, jz, zz)
            if li == 0:
                for u in range(wout):
                    jz[u] = jz1[u]
            for u in range(wout):
                g = unit_start[li] + u
                for k in range(n1):
                    A[r, g, k] = Z[u, k]
                c[r, g] = z0[u]
                if nb == 0:
                    continue
                nrm2 = 0.0
                for i in range(n1):
                    gi = 0.0
                    for k in range(n1):
                        gi += gram[i, k] * Z[u, k]
                    nrm2 += Z[u, i] * gi
                nrm[r, g] = np.sqrt(max(nrm2, 0.0))
                if not nrm[r, g] > 2.0 * tol * jz[u]:
                    ok[r] = False
            if not ok[r]:
                break
            _activate(patterns[r, unit_start[li]:], slope, icpt, s0, ns, wout, Z, z0, jz, zz, P, q, js, zs)
    return A, c, nrm, ok


@njit(cache=True, nogil=True, error_model="numpy")
def _leaf_lps(width: np.ndarray, bp: np.ndarray, bp_off: np.ndarray, n_split: int, unit_start: np.ndarray,
              patterns: np.ndarray, A: np.ndarray, c: np.ndarray, nrm: np.ndarray, ok: np.ndarray, W1: np.ndarray,
              b1: np.ndarray, lo: np.ndarray, hi: np.ndarray, costs: np.ndarray, margin: float, ftol: float,
              max_pivots: int, zlo: np.ndarray, zhi: np.ndarray, zcost: np.ndarray, cuts: np.ndarray,
              cut_lo: np.ndarray, cut_hi: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    R = patterns.shape[0]
    n1, n = W1.shape
    L = len(width) - 1
    n_rows = 0
    for li in range(min(L, n_split)):
        n_rows += (bp_off[li + 1] - bp_off[li]) * width[li + 1]
    status = np.zeros(R, dtype=np.int64)
    pivots = np.zeros(R, dtype=np.int64)
    points = np.zeros((R, n))
    Fall = np.empty((n_rows, n1))
    vlo = np.empty(n + n_rows)
    vhi = np.empty(n + n_rows)
    vlo[:n] = lo
    vhi[:n] = hi
    arow = np.empty(n)
    top = np.empty(n_rows)
    cert = np.empty(n1)
    zmid = (zlo + zhi) / 2
    zrad = (zhi - zlo) / 2
    zspan = np.sum(zhi - zlo)
    zx = np.empty(n1)
    for r in range(R):
        if not ok[r]:
            status[r] = DEFER
            continue
        # the rows over z (unit norm over x: |F W1| = 1) and their slabs
        m = 0
        for li in range(min(L, n_split)):
            p0 = bp_off[li]
            nb = bp_off[li + 1] - p0
            for g in range(unit_start[li], unit_start[li + 1]):
                if nb == 0:
                    continue
                kp = np.int64(patterns[r, g])
                # a . (W1 x + b1) + c on the pattern's piece: above bp[kp - 1], below bp[kp]
                c_x = c[r, g]
                for k in range(n1):
                    c_x += A[r, g, k] * b1[k]
                for t in range(nb):
                    s = -1.0 if kp > t else 1.0  # s (a x + c - beta) / nrm <= -margin
                    for k in range(n1):
                        Fall[m, k] = s * A[r, g, k] / nrm[r, g]
                    vhi[n + m] = s * (bp[p0 + t] - c_x) / nrm[r, g] - margin
                    m += 1
        F = Fall[:m]
        # below: the row's minimum over the box around Z (no higher than over the box), less one
        for i in range(m):
            s = 0.0
            for k in range(n1):
                s += F[i, k] * (zmid[k] - b1[k]) - abs(F[i, k]) * zrad[k]
            vlo[n + i] = s - 1.0
            # over z: F (z - b1) <= vhi, loosened by 1e-6 of the box around Z (beyond rounding and
            # what pivots too small to take could repair: the z-LP only proves emptiness)
            fz = np.sqrt(np.sum(F[i] * F[i]))
            top[i] = vhi[n + i] + 10.0 * ftol + 1e-6 * zspan * fz
            for k in range(n1):
                top[i] += F[i, k] * b1[k]
        if pool[0] > 0 and _z_empty(F, top[:m], zlo, zhi, cuts, cut_lo, cut_hi, pool[0], zcost, ftol):
            status[r] = EMPTY  # (the cuts: supporting halfspaces of Z)
            continue
        ret, pivots[r] = _solve(F, W1, vlo[:n + m], vhi[:n + m], costs[r], ftol, max_pivots, points[r], cert)
        if ret == -2:
            status[r] = EMPTY
            _add_cut(cert, W1, b1, lo, hi, cuts, cut_lo, cut_hi, pool, arow, zspan)
            continue
        if ret < 0:
            status[r] = FAILED
            continue
        status[r] = FEASIBLE
        for k in range(n1):  # the witness against the rows themselves (half the margin)
            s = 0.0
            for j in range(n):
                s += W1[k, j] * points[r, j]
            zx[k] = s
        for i in range(m):
            s = 0.0
            for k in range(n1):
                s += F[i, k] * zx[k]
            if s > vhi[n + i] + 0.5 * margin:
                status[r] = FAILED
                break
    return status, points, pivots


@dataclass
class CutPool:
    """Slabs ``lo <= cuts z <= hi`` that hold the zonotope ``Z = W1 [lo, hi] + b1``, learnt from
    the LPs that proved a candidate empty (a ring of ``capacity``; ``state = [count, next]``).
    A candidate whose cell misses them over ``z`` (an LP with ``n1`` columns) is empty, and
    its LP over ``x`` is spared."""

    cuts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    state: np.ndarray

    @classmethod
    def empty(cls, n1: int, capacity: int) -> CutPool:
        return cls(np.zeros((capacity, n1)), np.zeros(capacity), np.zeros(capacity), np.zeros(2, dtype=np.int64))

    def copy(self) -> CutPool:
        return CutPool(self.cuts.copy(), self.lo.copy(), self.hi.copy(), self.state.copy())


def leaf_lps(zpacked, patterns: np.ndarray, W1: np.ndarray, b1: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             costs: np.ndarray, tol: float, margin: float, ftol: float, max_pivots: int = 10_000,
             cuts: CutPool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each pattern's region meets the box ``[lo, hi]``: one LP over ``x`` each.

    Parameters
    ----------
    zpacked : Packed
        The network over the first layer's outputs ``z`` (first layer the identity;
        :func:`._nd_geometry_kernels.pack`).
    patterns : int8 ndarray of shape (R, n_units)
    W1, b1 : ndarrays of shape (n1, n), (n1,)
        The first layer: ``z = W1 x + b1``.
    lo, hi : ndarrays of shape (n,)
    costs : ndarray of shape (R, n)
        The LPs minimise ``costs[r] . x`` (generic; the witness is the minimiser).
    tol : float
        A unit whose gradient over ``x`` is within twice ``tol`` times its
        cancellation-free magnitude over ``x`` is (nearly) constant: ``DEFER``.
    margin, ftol : float
        Every row keeps ``margin`` from its breakpoints; primal feasibility tolerance.
    max_pivots : int
    cuts : CutPool, optional
        Used and updated in place (none: no cuts). The verdicts do not depend on it.

    Returns
    -------
    status : int64 ndarray of shape (R,)
        ``FEASIBLE``, ``EMPTY``, ``FAILED`` or ``DEFER``.
    points : ndarray of shape (R, n)
        The minimisers, where ``FEASIBLE``.
    pivots : int64 ndarray of shape (R,)

    Examples
    --------
    One unit ``x1 + x2 - 1`` of 4 inputs, on the unit box: both pieces exist, and only
    the lower one within ``[0, 0.4]^4``.

    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions._nd_geometry import unit_table
    >>> z_net = Network([(np.eye(1), np.zeros(1), "relu"), (np.ones((1, 1)), np.zeros(1), "identity")])
    >>> W1, b1 = np.array([[1.0, 1.0, 0.0, 0.0]]), np.array([-1.0])
    >>> pats = np.array([[0], [1]], dtype=np.int8)
    >>> pk = unit_table(z_net, False).packed
    >>> st, x, _ = leaf_lps(pk, pats, W1, b1, np.zeros(4), np.ones(4), np.ones((2, 4)), 1e-9, 1e-9, 1e-12)
    >>> st.tolist()
    [1, 1]
    >>> leaf_lps(pk, pats, W1, b1, np.zeros(4), np.full(4, 0.4), np.ones((2, 4)), 1e-9, 1e-9, 1e-12)[0].tolist()
    [1, 0]
    """
    W1 = np.ascontiguousarray(W1, dtype=np.float64)
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    n1 = W1.shape[0]
    pool = CutPool.empty(n1, 0) if cuts is None else cuts
    zlo, zhi = z_box(W1, b1, lo, hi)
    zcost = np.linspace(1.0, 2.0, n1) / np.sqrt(n1)  # (any generic direction: only emptiness matters)
    pk = zpacked
    patterns = np.ascontiguousarray(patterns, dtype=np.int8)
    A, c, nrm, ok = maps_over_z(pk.W, pk.w_off, pk.b, pk.b_off, pk.width, pk.bp_off, pk.slope, pk.icpt, pk.sl_off,
                                pk.n_split, pk.unit_start, patterns, *first_layer_magnitudes(W1), float(tol))
    return _leaf_lps(pk.width, pk.bp, pk.bp_off, pk.n_split, pk.unit_start, patterns, A, c, nrm, ok, W1,
                     np.ascontiguousarray(b1, dtype=np.float64), lo, hi,
                     np.ascontiguousarray(costs, dtype=np.float64), float(margin), float(ftol), int(max_pivots),
                     zlo, zhi, zcost, pool.cuts, pool.lo, pool.hi, pool.state)


def z_box(W1: np.ndarray, b1: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box around ``Z = W1 [lo, hi] + b1``: each first-layer output's range over the input box."""
    zmid, zrad = W1 @ ((lo + hi) / 2) + b1, np.abs(W1) @ ((hi - lo) / 2)
    return zmid - zrad, zmid + zrad


def first_layer_magnitudes(W1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``W1 W1^T`` (a row ``a`` over ``z`` has norm ``sqrt(a W1 W1^T a)`` over ``x``) and ``|W1|``'s
    row sums (the first layer's cancellation-free magnitudes over ``x``), for :func:`maps_over_z`."""
    return W1 @ W1.T, np.abs(W1).sum(axis=1)
