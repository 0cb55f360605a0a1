"""Activation regions on a bounded domain by depth-first search over the units.

The search decides the units one at a time, in the network's order (the pattern is
the path from the root). A node is the polyhedron ``P`` of a pattern prefix: the
domain, and for every unit decided so far the slab of its piece, shrunk by a margin
of ``margin`` on each side (distance to the unit's hyperplane). The next unit's
pre-activation ``z`` is affine on ``P`` (its layer's inputs are fixed by the prefix),
and each of its pieces is a child when ``P`` meets that piece's slab. ``P`` is
convex and full-dimensional, so a slab that it meets (with the margin) gives a
full-dimensional child (Serra, Tjandraatmadja & Ramalingam 2018 count the same way:
every unit at least ``eps`` away from its breakpoint). The leaves are the activation
regions, each with a witness point at least ``margin`` from every unit's hyperplane.

Each node carries a vertex of ``P`` that minimises a fixed generic cost ``c . x``,
and the simplex state behind it. A child whose slab holds that vertex costs nothing
(its state is the parent's plus one basic row); any other child is one LP: the
parent's basis, the new row basic and violated, re-solved by a *bounded dual
simplex* on a dense tableau (Koberstein, "The dual simplex method, techniques for a
fast and stable implementation", 2005, ch. 3 and §3.1.3 for the bound-flipping ratio
test; Chvátal, *Linear Programming*, ch. 8). Every variable is boxed (the inputs by
the domain's box, each row ``z = a x + c`` by its slab or by its range over the box),
so every basis is dual feasible and a child starts where its parent stopped, usually
a few pivots from its optimum or from the proof that its slab misses ``P``: no phase
one, no factorisation. A node's tableau has one row per decided unit (``m <=
n_units``) and one column per input, and a pivot costs ``O(m n)``.

Most LPs prove that a slab misses the node's polyhedron: a unit stable there. So on
entering a layer past the first (all earlier units decided: the layer's units are
affine on the whole subtree), each of its other units' pieces is tested once against
that node's polyhedron, and a piece it misses is skipped by every node below (on the
64-input digits MLPs this halves the LPs). A tableau that
has seen ``REFRESH`` pivots along its path is rebuilt from the rows (one ``k x k``
solve, ``k <= m``), and every leaf's witness is checked against the rows themselves.

Given sorted ``candidates`` (patterns that hold every leaf sought), a child whose
prefix no candidate shares is skipped without an LP: the candidates of a node are a
run of rows, found by a forward scan (for :mod:`._nd_project`).

Children are taken in increasing piece order, so leaves come in lexicographic
order of their patterns and a search can stop after ``max_new`` leaves and resume
after the last one (the caller saves checkpoints and shows progress in between).

Compiled with numba (the ``fast`` extra); without numba the same code runs as
plain Python (slow, for tests only).
"""

from __future__ import annotations

import numpy as np

from ._nd_geometry_kernels import _activate, _affine
from ._nd_kernels import _FAST, njit

__all__ = ["search", "OK", "FAILED_LP", "FAILED_CHECK"]

OK = 0
FAILED_LP = 1  # an LP hit its pivot limit
FAILED_CHECK = 2  # a leaf's witness point misses its rows by half the margin (the tableau drifted)

PIVOT_TOL = 1e-9  # |T_ij| below this (rows have unit norm) is no pivot
STEEPEST_FROM = 256  # inputs from which the LPs price by steepest edge (fewer pivots, dearer ones)
REFRESH = 500  # pivots along a path after which a node's tableau is rebuilt from the rows


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _axpy(a: float, x: np.ndarray, y: np.ndarray, n: int) -> None:
    """``y[:n] += a * x[:n]`` (a loop the compiler vectorises)."""
    for j in range(n):
        y[j] += a * x[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _axpy_norm(a: float, x: np.ndarray, y: np.ndarray, n: int) -> float:
    """``y[:n] += a * x[:n]``, and the squared norm of the new ``y[:n]``."""
    s = 0.0
    for j in range(n):
        v = y[j] + a * x[j]
        y[j] = v
        s += v * v
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def _express(a: np.ndarray, n: int, T: np.ndarray, t0: np.ndarray, where: np.ndarray,
             out: np.ndarray) -> float:
    """Coefficients (``out``, over the nonbasic variables) and constant of ``a . x``."""
    for j in range(n):
        out[j] = 0.0
    const = 0.0
    for k in range(n):
        ak = a[k]
        if ak == 0.0:
            continue
        w = where[k]
        if w >= 0:
            out[w] += ak
        else:
            i = -w - 1
            _axpy(ak, T[i], out, n)
            const += ak * t0[i]
    return const


@njit(cache=True, nogil=True, error_model="numpy")
def _next_breakpoint(cand: np.ndarray, ratio: np.ndarray, k: int, row: np.ndarray) -> int:
    """The bound-flipping ratio test's next breakpoint: the remaining candidate (``cand[c] >= 0``,
    ``c < k``) of least ``ratio``, among equal ratios the one of largest ``|row[cand[c]]|`` (the
    most stable pivot). A scan: few flip per pivot."""
    best = -1
    for c in range(k):
        if cand[c] < 0:
            continue
        if best < 0 or ratio[c] < ratio[best] or (
                ratio[c] == ratio[best] and abs(row[cand[c]]) > abs(row[cand[best]])):
            best = c
    return best


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _minimise(n: int, m: int, T: np.ndarray, t0: np.ndarray, bv: np.ndarray, nbv: np.ndarray,
              y: np.ndarray, where: np.ndarray, d: np.ndarray, val: np.ndarray, vlo: np.ndarray,
              vhi: np.ndarray, ftol: float, max_pivots: int, steepest: bool) -> tuple[int, int]:
    """Minimise ``d . y`` (reduced costs over the nonbasic variables) from the current basis.

    The leaving variable is the most violated one (``steepest=False``), or the most
    violated relative to its tableau row's norm (``steepest=True``: dual steepest edge in
    the space of the nonbasic variables, Forrest & Goldfarb 1992), which halves the
    pivots with hundreds of inputs and costs a pass over each updated row.

    The basic variables are ``t0 + T y``; variable ``v`` lies in ``[vlo[v], vhi[v]]``.
    Returns ``(status, pivots)``: status 0 (optimal; ``val[:m]`` then holds the basic
    variables' values), -1 (pivot limit) or -2 (infeasible).
    """
    cand = np.empty(n, dtype=np.int64)
    ratio = np.empty(n)
    cap = np.empty(n)
    for j in range(n):  # dual feasibility: each nonbasic variable at the bound its cost points to
        if d[j] > 0.0:
            y[j] = vlo[nbv[j]]
        elif d[j] < 0.0:
            y[j] = vhi[nbv[j]]
    wt = np.empty(m if steepest else 0)  # steepest-edge weights: 1 + |tableau row|^2
    for i in range(m):  # the basic values afresh (then updated along the pivots)
        val[i] = t0[i] + _dot(T[i], y)
        if steepest:
            wt[i] = 1.0 + _dot(T[i], T[i])
    it = 0
    while True:
        # leaving: the largest violation (relative to its weight), among those beyond the tolerance
        worst, leave, below, score = ftol, -1, False, 0.0
        if steepest:
            for i in range(m):
                v = bv[i]
                lo_v, hi_v = vlo[v] - val[i], val[i] - vhi[v]
                viol = lo_v if lo_v > ftol else hi_v if hi_v > ftol else 0.0
                if viol > 0.0 and viol * viol / wt[i] > score:
                    worst, leave, below, score = viol, i, lo_v > ftol, viol * viol / wt[i]
        else:
            for i in range(m):
                v = bv[i]
                if vlo[v] - val[i] > worst:
                    worst, leave, below = vlo[v] - val[i], i, True
                elif val[i] - vhi[v] > worst:
                    worst, leave, below = val[i] - vhi[v], i, False
        if leave < 0:
            return 0, it
        if it >= max_pivots:
            return -1, it
        # bound-flipping ratio test (Koberstein 2005, §3.1.3): the basic variable must move up
        # when below its bound; nonbasic j moves it so from its lower bound if T > 0, from its
        # upper bound if T < 0 (mirrored when above). Along the dual step the slope of the
        # dual objective starts at the violation and drops by |T_j| (u_j - l_j) at each
        # candidate's breakpoint |d_j / T_j|: breakpoints passed with the slope still positive
        # flip their variable to the other bound, the last one enters the basis. If flipping
        # every candidate cannot repair the row, no point satisfies it: infeasible.
        sgn = 1.0 if below else -1.0
        k = 0
        total = 0.0
        for j in range(n):
            t = sgn * T[leave, j]
            lb, ub = vlo[nbv[j]], vhi[nbv[j]]
            if ub - lb <= 0.0:
                continue
            at_lower = y[j] <= lb
            if (at_lower and t > PIVOT_TOL) or (not at_lower and t < -PIVOT_TOL):
                cand[k] = j
                ratio[k] = abs(d[j]) / abs(t)
                cap[k] = abs(t) * (ub - lb)
                total += cap[k]
                k += 1
        if total < worst - ftol:
            return -2, it
        # walk the breakpoints in increasing order (the next one found by a scan: few flip);
        # among equal ratios the largest |T| enters (the most stable pivot)
        slope = worst
        enter = -1
        left = k
        while left > 0:
            best = _next_breakpoint(cand, ratio, k, T[leave])
            j = cand[best]
            if left > 1 and slope - cap[best] > 0.0:  # pass the breakpoint: flip j
                lb, ub = vlo[nbv[j]], vhi[nbv[j]]
                new = ub if y[j] <= lb else lb
                step = new - y[j]
                y[j] = new
                for i in range(m):
                    val[i] += T[i, j] * step
                slope -= cap[best]
                cand[best] = -1
                left -= 1
                continue
            enter = j
            break
        # pivot: the leaving variable becomes nonbasic at the violated bound, y_enter basic
        bound = vlo[bv[leave]] if below else vhi[bv[leave]]
        piv = T[leave, enter]
        step = (bound - val[leave]) / piv
        for i in range(m):
            val[i] += T[i, enter] * step
        entered = y[enter] + step
        Tl = T[leave]
        if steepest:
            for i in range(m):
                f = T[i, enter] / piv
                if i != leave and f != 0.0:
                    Ti = T[i]
                    nrm2 = _axpy_norm(-f, Tl, Ti, n)  # (one pass: the update and the new norm)
                    wt[i] = 1.0 + nrm2 - Ti[enter] * Ti[enter] + f * f
                    Ti[enter] = f
                    t0[i] -= f * t0[leave]
        else:
            for i in range(m):
                if i == leave:
                    continue
                f = T[i, enter] / piv
                if f != 0.0:
                    _axpy(-f, Tl, T[i], n)
                    T[i, enter] = f
                    t0[i] -= f * t0[leave]
        fd = d[enter] / piv
        _axpy(-fd, Tl, d, n)
        d[enter] = fd
        inv = -1.0 / piv
        for j in range(n):
            Tl[j] *= inv
        T[leave, enter] = 1.0 / piv
        t0[leave] = -t0[leave] / piv
        if steepest:
            wt[leave] = 1.0 + _dot(Tl, Tl)
        val[leave] = entered
        v_in, v_out = nbv[enter], bv[leave]
        bv[leave], nbv[enter] = v_in, v_out
        where[v_in] = -leave - 1
        where[v_out] = enter
        y[enter] = bound
        it += 1


@njit(cache=True, nogil=True, error_model="numpy")
def _refactor(n: int, m: int, T: np.ndarray, t0: np.ndarray, bv: np.ndarray, nbv: np.ndarray,
              where: np.ndarray, ra: np.ndarray, rc: np.ndarray) -> bool:
    """Rebuild the tableau of the current basis from the rows themselves (no drift).

    The nonbasic rows ``R`` fix the basic inputs ``x_B`` (as many as ``R``) through
    ``ra[R, B] x_B = z_R - rc_R - ra[R, N] x_N``: one small solve, then every basic
    variable in terms of the nonbasic ones. Returns False (tableau unchanged) if that
    system is singular.
    """
    k = 0
    for j in range(n):
        if nbv[j] >= n:
            k += 1
    rows = np.empty(k, dtype=np.int64)  # slots of the nonbasic rows, and their positions
    rpos = np.empty(k, dtype=np.int64)
    xb = np.empty(k, dtype=np.int64)  # the basic inputs
    c = 0
    for j in range(n):
        if nbv[j] >= n:
            rows[c], rpos[c] = nbv[j] - n, j
            c += 1
    c = 0
    for i in range(m):
        if bv[i] < n:
            xb[c] = bv[i]
            c += 1
    if c != k:
        return False
    X = np.zeros((k, n))  # x_B in terms of the nonbasic variables, and its constant
    x0 = np.zeros(k)
    if k:
        A = np.empty((k, k))
        for a in range(k):
            for b in range(k):
                A[a, b] = ra[rows[a], xb[b]]
        if abs(np.linalg.det(A)) < 1e-300:
            return False
        Minv = np.linalg.inv(A)
        for a in range(k):  # x_B = Minv (z_R - rc_R - ra[R, N] x_N)
            for b in range(k):
                w = Minv[a, b]
                X[a, rpos[b]] += w
                x0[a] -= w * rc[rows[b]]
                for kk in range(n):
                    if where[kk] >= 0:
                        X[a, where[kk]] -= w * ra[rows[b], kk]
    for i in range(m):
        v = bv[i]
        for j in range(n):
            T[i, j] = 0.0
        if v < n:
            for a in range(k):
                if xb[a] == v:
                    for j in range(n):
                        T[i, j] = X[a, j]
                    t0[i] = x0[a]
            continue
        sl = v - n
        t0[i] = rc[sl]
        for kk in range(n):
            w = ra[sl, kk]
            if w == 0.0:
                continue
            if where[kk] >= 0:
                T[i, where[kk]] += w
            else:
                for a in range(k):
                    if xb[a] == kk:
                        _axpy(w, X[a], T[i], n)
                        t0[i] += w * x0[a]
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _point(n: int, bv: np.ndarray, where: np.ndarray, y: np.ndarray, val: np.ndarray,
           out: np.ndarray) -> None:
    """The inputs ``x`` at the current basis (after :func:`_minimise`)."""
    for k in range(n):
        w = where[k]
        out[k] = y[w] if w >= 0 else val[-w - 1]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_FAST)
def _dot(a: np.ndarray, x: np.ndarray) -> float:
    s = 0.0
    for k in range(len(a)):
        s += a[k] * x[k]
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def _open(a: int, b: int, s: int, rlo: float, rhi: float, n: int, T: np.ndarray, t0: np.ndarray, bv: np.ndarray,
          nbv: np.ndarray, y: np.ndarray, d: np.ndarray, where: np.ndarray, val: np.ndarray, mrows: np.ndarray,
          since: np.ndarray, ra: np.ndarray, rc: np.ndarray, vlo: np.ndarray, vhi: np.ndarray, coef: np.ndarray,
          ftol: float, max_pivots: int, steepest: bool) -> tuple[int, int, int]:
    """State ``b``: state ``a`` with row slot ``s`` basic in ``[rlo, rhi]``, re-solved if its vertex
    is outside. Returns ``(status, lps, pivots)``: status 1 (the slab meets the polyhedron), 0
    (it does not) or -1 (the LP failed)."""
    m = mrows[a]
    T[b, :m] = T[a, :m]
    t0[b, :m] = t0[a, :m]
    bv[b, :m] = bv[a, :m]
    val[b, :m] = val[a, :m]
    nbv[b] = nbv[a]
    y[b] = y[a]
    d[b] = d[a]
    where[b] = where[a]
    since[b] = since[a]
    t0[b, m] = _express(ra[s], n, T[b], t0[b], where[b], coef) + rc[s]
    T[b, m] = coef
    zv = t0[b, m] + _dot(coef, y[b])
    bv[b, m] = n + s
    where[b, n + s] = -m - 1
    val[b, m] = zv
    vlo[n + s] = rlo
    vhi[n + s] = rhi
    m += 1
    mrows[b] = m
    if rlo - ftol <= zv <= rhi + ftol:  # the vertex is inside: no LP
        return 1, 0, 0
    if since[b] >= REFRESH and _refactor(n, m, T[b], t0[b], bv[b], nbv[b], where[b], ra, rc):
        since[b] = 0
    ret, piv = _minimise(n, m, T[b], t0[b], bv[b], nbv[b], y[b], where[b], d[b], val[b], vlo, vhi, ftol,
                         max_pivots, steepest)
    since[b] += piv
    if ret == -2:
        return 0, 1, piv
    return (1 if ret == 0 else -1), 1, piv


@njit(cache=True, nogil=True, error_model="numpy")
def _slab(s: int, kp: int, nb: int, p0: int, bp: np.ndarray, rsc: np.ndarray, ra: np.ndarray, rc: np.ndarray,
          mid: np.ndarray, rad: np.ndarray, margin: float) -> tuple[float, float]:
    """Bounds of row slot ``s`` (a unit's pre-activation over its norm) on piece ``kp`` of ``nb + 1``,
    with the margin; the outer pieces end at the row's range over the box."""
    half = 0.0
    for k in range(len(mid)):
        half += abs(ra[s, k]) * rad[k]
    cz = rc[s] + _dot(ra[s], mid)
    rlo = cz - half - 1.0 if kp == 0 else bp[p0 + kp - 1] / rsc[s] + margin
    rhi = cz + half + 1.0 if kp == nb else bp[p0 + kp] / rsc[s] - margin
    return rlo, rhi


@njit(cache=True, nogil=True, error_model="numpy")
def _search(W: np.ndarray, w_off: np.ndarray, b: np.ndarray, b_off: np.ndarray, width: np.ndarray,
            bp: np.ndarray, bp_off: np.ndarray, slope: np.ndarray, icpt: np.ndarray, sl_off: np.ndarray,
            n_split: int, unit_start: np.ndarray, lo: np.ndarray, hi: np.ndarray, Dg: np.ndarray,
            Dlo: np.ndarray, Dhi: np.ndarray, cost: np.ndarray, tol: float, margin: float, ftol: float,
            max_new: int, resume: np.ndarray, has_resume: bool, stop: np.ndarray, has_stop: bool,
            max_pivots: int, steepest: bool, cand: np.ndarray, has_cand: bool) -> tuple:
    n = width[0]
    U = unit_start[n_split]
    D = len(Dlo)
    M = D + U  # row slots: the domain's rows, then one per unit
    V = n + M  # variables: the inputs, then the rows
    # rows z = ra x + rc (unit norm); variable v (input, then row) in [vlo[v], vhi[v]]
    ra = np.zeros((M, n))
    rc = np.zeros(M)
    vlo = np.zeros(V)
    vhi = np.zeros(V)
    vlo[:n] = lo
    vhi[:n] = hi
    mid = (lo + hi) / 2
    rad = (hi - lo) / 2
    for i in range(D):
        for k in range(n):
            ra[i, k] = Dg[i, k]
        vlo[n + i] = Dlo[i]
        vhi[n + i] = Dhi[i]
    # one simplex state per depth: tableau, basis, nonbasic values, reduced costs
    S = U + 2  # one state per depth, and a scratch state (U + 1) for the layer probes
    T = np.zeros((S, M, n))
    t0 = np.zeros((S, M))
    bv = np.zeros((S, M), dtype=np.int64)
    nbv = np.zeros((S, n), dtype=np.int64)
    y = np.zeros((S, n))
    d = np.zeros((S, n))
    where = np.zeros((S, V), dtype=np.int64)
    mrows = np.zeros(S, dtype=np.int64)
    since = np.zeros(S, dtype=np.int64)  # pivots since the tableau was last rebuilt
    val = np.zeros((S, M))
    rsc = np.ones(M)  # each unit row's norm before normalising
    dead = np.zeros((U, np.max(bp_off[1:] - bp_off[:-1]) + 1), dtype=np.bool_)  # pieces proven empty
    for k in range(n):  # root: every input nonbasic, the domain's rows basic
        nbv[0, k] = k
        where[0, k] = k
        y[0, k] = lo[k]
        d[0, k] = cost[k]
    for i in range(D):
        bv[0, i] = n + i
        where[0, n + i] = -i - 1
        for k in range(n):
            T[0, i, k] = Dg[i, k]
    mrows[0] = D
    out_pat = np.zeros((max_new, U), dtype=np.int8)
    out_pt = np.zeros((max_new, n))
    n_out = 0
    n_lp = 0
    n_piv = 0
    ret, _ = _minimise(n, D, T[0], t0[0], bv[0], nbv[0], y[0], where[0], d[0], val[0], vlo, vhi, ftol,
                       max_pivots, steepest)
    if ret == -2:  # an empty domain: no region
        return out_pat, out_pt, n_out, True, OK, 1, 0
    if ret < 0:
        return out_pat, out_pt, n_out, False, FAILED_LP, 1, 0
    # the children of each depth still to try: pieces child_first .. child_last
    next_piece = np.zeros(U + 1, dtype=np.int64)
    last_piece = np.zeros(U + 1, dtype=np.int64)
    has_row = np.zeros(U + 1, dtype=np.bool_)
    pattern = np.zeros(U, dtype=np.int8)
    on_resume = np.zeros(U + 1, dtype=np.bool_)  # the path so far equals the resume pattern's prefix
    # each layer's pre-activation maps on the current path, and their cancellation-free magnitudes
    wmax = np.max(width)
    L = len(width) - 1
    Z = np.zeros((L, wmax, n))
    z0 = np.zeros((L, wmax))
    jz = np.zeros((L, wmax))
    zz = np.zeros((L, wmax))
    P = np.zeros((wmax, n))
    q = np.zeros(wmax)
    js = np.zeros(wmax)
    zs = np.zeros(wmax)
    coef = np.zeros(n)
    on_resume[0] = has_resume
    # with candidates: the rows cand[clo[u]:chi[u]] share the path's prefix (sorted, so a
    # child's rows are the next run of its piece in column u, from cptr[u] on)
    clo = np.zeros(U + 1, dtype=np.int64)
    chi = np.zeros(U + 1, dtype=np.int64)
    cptr = np.zeros(U + 1, dtype=np.int64)
    chi[0] = len(cand)
    u = 0
    fresh = True  # the node at depth u has not been expanded yet
    while u >= 0:
        if fresh:
            fresh = False
            if u == U:  # a leaf: one region, its witness the current vertex
                if has_stop:  # past the last pattern asked for: done
                    for k in range(U):
                        if pattern[k] != stop[k]:
                            if pattern[k] > stop[k]:
                                return out_pat, out_pt, n_out, True, OK, n_lp, n_piv
                            break
                if not on_resume[u]:  # (the resume pattern itself was recorded before)
                    if n_out == max_new:
                        return out_pat, out_pt, n_out, False, OK, n_lp, n_piv
                    _point(n, bv[u], where[u], y[u], val[u], out_pt[n_out])
                    # the witness, from the rows themselves: half the margin at least (else the
                    # tableau drifted, and the caller falls back)
                    for t in range(U):
                        if has_row[t]:
                            zt = _dot(ra[D + t], out_pt[n_out]) + rc[D + t]
                            if zt < vlo[n + D + t] - 0.5 * margin or zt > vhi[n + D + t] + 0.5 * margin:
                                return out_pat, out_pt, n_out, False, FAILED_CHECK, n_lp, n_piv
                    for k in range(U):
                        out_pat[n_out, k] = pattern[k]
                    n_out += 1
                u -= 1
                continue
            li = 0
            while unit_start[li + 1] <= u:
                li += 1
            j = u - unit_start[li]
            win = width[li]
            if j == 0:  # entering a layer: its maps on this path (from the previous layer's pieces)
                if li > 0:
                    _activate(pattern[unit_start[li - 1]:], slope, icpt, sl_off[li - 1], sl_off[li] - sl_off[li - 1],
                              win, Z[li - 1], z0[li - 1], jz[li - 1], zz[li - 1], P, q, js, zs)
                _affine(W, w_off[li], b, b_off[li], win, width[li + 1], li == 0, P, q, js, zs, Z[li], z0[li],
                        jz[li], zz[li])
            p0 = bp_off[li]
            nb = bp_off[li + 1] - p0
            nrm = 0.0
            for k in range(n):
                nrm += Z[li, j, k] * Z[li, j, k]
            nrm = np.sqrt(nrm)
            zc = z0[li, j]
            if nb == 0 or nrm <= tol * jz[li, j]:
                # no breakpoint, or constant on this path: one child (the piece of its value), no row
                kpiece = 0
                for t in range(nb):
                    if zc - bp[p0 + t] > 0.0:
                        kpiece += 1
                next_piece[u] = kpiece
                last_piece[u] = kpiece
                has_row[u] = False
            else:
                s = D + u
                for k in range(n):
                    ra[s, k] = Z[li, j, k] / nrm
                rc[s] = zc / nrm
                rsc[s] = nrm
                next_piece[u] = 0
                last_piece[u] = nb
                has_row[u] = True
            if j == 0 and li > 0 and nb > 0 and not has_cand:
                # entering a layer past the first: which pieces of its other units the whole
                # polyhedron misses (then so does every node below; their LPs are spared)
                for v in range(1, width[li + 1]):
                    uv = u + v
                    dead[uv, :] = False
                    nv = np.sqrt(_dot(Z[li, v], Z[li, v]))
                    if nv <= tol * jz[li, v]:
                        continue
                    sv = D + uv
                    for k in range(n):
                        ra[sv, k] = Z[li, v, k] / nv
                    rc[sv] = z0[li, v] / nv
                    rsc[sv] = nv
                    for kp in range(nb + 1):
                        rlo, rhi = _slab(sv, kp, nb, p0, bp, rsc, ra, rc, mid, rad, margin)
                        if rlo > rhi:
                            dead[uv, kp] = True
                            continue
                        st, lps, piv = _open(u, U + 1, sv, rlo, rhi, n, T, t0, bv, nbv, y, d, where, val, mrows,
                                             since, ra, rc, vlo, vhi, coef, ftol, max_pivots, steepest)
                        n_lp += lps
                        n_piv += piv
                        if st < 0:
                            return out_pat, out_pt, n_out, False, FAILED_LP, n_lp, n_piv
                        dead[uv, kp] = st == 0
            cptr[u] = clo[u]
            if on_resume[u] and resume[u] > next_piece[u]:  # skip the pieces before the resume pattern's
                next_piece[u] = resume[u]
        # the next child of depth u that exists
        found = False
        while next_piece[u] <= last_piece[u]:
            kp = next_piece[u]
            next_piece[u] += 1
            if has_cand:  # the candidates with this child's prefix
                c0 = cptr[u]
                while c0 < chi[u] and cand[c0, u] < kp:
                    c0 += 1
                c1 = c0
                while c1 < chi[u] and cand[c1, u] == kp:
                    c1 += 1
                cptr[u] = c1
                if c0 == c1:  # none: no such child (the candidates hold every leaf sought)
                    continue
                clo[u + 1] = c0
                chi[u + 1] = c1
            # the child's simplex state: the parent's, with the unit's row basic in its piece's slab
            if has_row[u]:
                if dead[u, kp]:
                    continue
                sl = D + u
                li = 0
                while unit_start[li + 1] <= u:
                    li += 1
                p0 = bp_off[li]
                rlo, rhi = _slab(sl, kp, bp_off[li + 1] - p0, p0, bp, rsc, ra, rc, mid, rad, margin)
                if rlo > rhi:
                    continue
                st, lps, piv = _open(u, u + 1, sl, rlo, rhi, n, T, t0, bv, nbv, y, d, where, val, mrows, since,
                                     ra, rc, vlo, vhi, coef, ftol, max_pivots, steepest)
                n_lp += lps
                n_piv += piv
                if st < 0:
                    return out_pat, out_pt, n_out, False, FAILED_LP, n_lp, n_piv
                if st == 0:  # no such child
                    continue
            else:  # a constant unit: the same polyhedron
                m = mrows[u]
                T[u + 1, :m] = T[u, :m]
                t0[u + 1, :m] = t0[u, :m]
                bv[u + 1, :m] = bv[u, :m]
                val[u + 1, :m] = val[u, :m]
                nbv[u + 1] = nbv[u]
                y[u + 1] = y[u]
                d[u + 1] = d[u]
                where[u + 1] = where[u]
                since[u + 1] = since[u]
                mrows[u + 1] = m
            pattern[u] = kp
            on_resume[u + 1] = on_resume[u] and kp == resume[u]
            found = True
            break
        if not found:
            u -= 1
            continue
        u += 1
        fresh = True
    return out_pat, out_pt, n_out, True, OK, n_lp, n_piv


def search(pk, lo: np.ndarray, hi: np.ndarray, Dg: np.ndarray, Dlo: np.ndarray, Dhi: np.ndarray,
           cost: np.ndarray, tol: float, margin: float, ftol: float, max_new: int,
           resume: np.ndarray | None = None, stop: np.ndarray | None = None,
           max_pivots: int = 10_000, steepest: bool | None = None, candidates: np.ndarray | None = None) -> tuple:
    """Depth-first search for the regions of a network (packed: :func:`._nd_geometry_kernels.pack`).

    Parameters
    ----------
    pk : Packed
    lo, hi : ndarrays of shape (n,)
        A box around the domain (the inputs' bounds).
    Dg, Dlo, Dhi : ndarrays of shape (D, n), (D,), (D,)
        The domain's other rows, ``Dlo <= Dg x <= Dhi`` with unit-norm rows (``Dlo``
        finite: the rows' minimum over the box, say).
    cost : ndarray of shape (n,)
        A generic direction: every node's LP minimises ``cost . x`` (only its
        feasibility matters; a generic cost keeps the dual simplex from cycling), and
        the witnesses are the minimising vertices.
    tol : float
        A unit whose gradient on a path cancels to ``tol`` of its magnitude is constant.
    margin : float
        Distance every witness keeps from every unit's hyperplane.
    ftol : float
        Primal feasibility tolerance of the LPs (well below ``margin``).
    max_new : int
        Stop after this many leaves (the search then is not done).
    resume : int8 ndarray of shape (n_units,), optional
        Continue after this pattern (the last leaf of an earlier call).
    stop : int8 ndarray of shape (n_units,), optional
        Stop after this pattern (lexicographically; the leaves come in that order).
    max_pivots : int
        Pivots per LP before it counts as failed.
    steepest : bool, optional
        Dual steepest-edge pricing; default from ``STEEPEST_FROM`` inputs on (it halves
        the pivots at 784 inputs, and costs more than it saves at 64).
    candidates : int8 ndarray of shape (k, n_units), optional
        Sorted patterns (lexicographically) that hold every leaf sought: a child whose
        prefix no candidate has is skipped without an LP (and the layer probe is off).
        :mod:`._nd_project` passes a superset of the regions, or the ones left to decide.

    Returns
    -------
    patterns : int8 ndarray (k, n_units)
    points : ndarray (k, n), one witness per pattern
    done : bool
    status : int
        ``OK``; ``FAILED_LP`` (an LP hit its pivot limit) or ``FAILED_CHECK`` (a witness
        misses its rows): the caller falls back to another method.
    n_lp, n_pivots : int

    Examples
    --------
    Two crossing lines in the square ``[-1, 1]^2``: four regions.

    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions._nd_geometry import unit_table
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> pats, pts, done, status, *_ = search(
    ...     unit_table(net, False).packed, -np.ones(2), np.ones(2), np.zeros((0, 2)), np.zeros(0),
    ...     np.zeros(0), np.array([0.6, 0.8]), 1e-9, 1e-9, 1e-12, 100)
    >>> pats.tolist(), done, status
    ([[0, 0], [0, 1], [1, 0], [1, 1]], True, 0)
    """
    U = int(pk.unit_start[pk.n_split])
    has = resume is not None
    res = np.zeros(U, dtype=np.int8) if resume is None else np.ascontiguousarray(resume, dtype=np.int8)
    has_stop = stop is not None
    stp = np.zeros(U, dtype=np.int8) if stop is None else np.ascontiguousarray(stop, dtype=np.int8)
    f64 = np.float64
    pats, pts, k, done, status, n_lp, n_piv = _search(
        pk.W, pk.w_off, pk.b, pk.b_off, pk.width, pk.bp, pk.bp_off, pk.slope, pk.icpt, pk.sl_off,
        pk.n_split, pk.unit_start, np.ascontiguousarray(lo, dtype=f64), np.ascontiguousarray(hi, dtype=f64),
        np.ascontiguousarray(Dg, dtype=f64).reshape(len(Dlo), len(lo)), np.ascontiguousarray(Dlo, dtype=f64),
        np.ascontiguousarray(Dhi, dtype=f64), np.ascontiguousarray(cost, dtype=f64), float(tol), float(margin),
        float(ftol), int(max_new), res, has, stp, has_stop, int(max_pivots),
        bool(len(lo) >= STEEPEST_FROM if steepest is None else steepest),
        np.zeros((0, U), dtype=np.int8) if candidates is None else np.ascontiguousarray(candidates, dtype=np.int8),
        candidates is not None)
    return pats[:k], pts[:k], bool(done), int(status), int(n_lp), int(n_piv)

