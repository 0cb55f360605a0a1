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
which cannot cycle; the inverse of the basis follows each pivot by a rank-one
(Sherman-Morrison) update and is recomputed every ``REFACTOR`` pivots.

The functions are compiled with ``numba.njit`` (the ``fast`` extra). Without numba
they stay plain Python, and :func:`reluscope.regions._nd.enumerate` uses the batched,
vectorised solver of :mod:`._nd_batch` instead (the same simplex method, in lockstep
over many LPs; it skips this module's shortcuts, such as the domain's box as outer
bound and facet LPs stopped early, and finds the same facets).
Rows are expected to be scaled to norm about 1, so the absolute thresholds below
are relative ones.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is the optional "fast" extra
    HAVE_NUMBA = False

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        """Without numba the kernels stay plain (slow) Python; enumerate uses _nd_batch."""
        return lambda f: f

#: floating-point freedoms for the compiled loops: sums may be reordered (so dot products
#: vectorise) and multiply-adds fused; no assumption of finite values (the LPs use inf)
_FAST = {"reassoc", "contract"}

__all__ = ["lp_max", "analyse_regions", "OPTIMAL", "UNBOUNDED", "FAILED", "HAVE_NUMBA"]

OPTIMAL = 0
UNBOUNDED = 1
FAILED = 2

PIVOT_EPS = 1e-10  # a row blocks a direction p only if A_i p > PIVOT_EPS * |p|
DUAL_EPS = 1e-11  # a multiplier below -DUAL_EPS * (1 + |c|) makes its row leave
FEAS_TOL = 1e-9  # a returned point may violate a row by this much (relative), else FAILED
REFACTOR = 32  # simplex pivots between fresh inverses of the basis (rank-one updates in between)
FACET_DEPTH = 1e-4  # a facet point this far (times the radius cap) inside its facet is good enough
NEAR_PARALLEL2 = 1e-6  # below this 1 - cos^2 loses too many digits: the squared sine in full
PARALLEL2 = 1e-24  # unit rows whose difference orthogonal to each other is below 1e-12 are parallel


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _inverse(B: np.ndarray, d: int, M: np.ndarray, inv: np.ndarray) -> bool:
    """Gauss-Jordan inverse of ``B[:d, :d]`` into ``inv[:d, :d]`` (``M`` is scratch)."""
    for i in range(d):
        for j in range(d):
            M[i, j] = B[i, j]
            inv[i, j] = 1.0 if i == j else 0.0
    for col in range(d):
        piv = col
        best = abs(M[col, col])
        for r in range(col + 1, d):
            if abs(M[r, col]) > best:
                best = abs(M[r, col])
                piv = r
        if best < 1e-14:
            return False
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
    return True


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _ratio(A: np.ndarray, m: int, d: int, p: np.ndarray, slack: np.ndarray, Ap: np.ndarray,
           eps: float, is_act: np.ndarray) -> tuple[int, float]:
    """Ratio test along ``p``: the first inactive row to block (smallest index on ties), the step."""
    enter = -1
    t_best = np.inf
    for i in range(m):
        s = 0.0
        for j in range(d):
            s += A[i, j] * p[j]
        Ap[i] = s
        if s > eps and is_act[i] == 0.0:
            t = max(slack[i], 0.0) / s
            if t < t_best:
                t_best = t
                enter = i
    return enter, t_best


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _reached(c: np.ndarray, y: np.ndarray, d: int, target: float) -> bool:
    """Whether ``c·y >= target``."""
    if target == np.inf:
        return False
    s = 0.0
    for j in range(d):
        s += c[j] * y[j]
    return s >= target


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _feasible(A: np.ndarray, b: np.ndarray, y: np.ndarray, m: int, d: int) -> bool:
    """Whether ``A y <= b`` up to rounding: the check on every solution ``lp_max`` returns."""
    for i in range(m):
        s = b[i]
        for j in range(d):
            s -= A[i, j] * y[j]
        if s < -FEAS_TOL * (1.0 + abs(b[i])):
            return False
    return True


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _polish(b: np.ndarray, B: np.ndarray, active: np.ndarray, inv: np.ndarray, y: np.ndarray, d: int,
            q: np.ndarray, p: np.ndarray) -> None:
    """The vertex ``y`` exactly from its defining rows, ``inv = B^-1`` (the steps accumulate rounding).

    An artificial row (``active < 0``, fixing a line) keeps its current value at ``y``.
    """
    for i in range(d):
        q[i] = b[active[i]] if active[i] >= 0 else 0.0
        if active[i] < 0:
            for j in range(d):
                q[i] += B[i, j] * y[j]
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += inv[i, j] * q[j]
        p[i] = s
    for i in range(d):
        y[i] = p[i]


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def lp_max(
    A: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
    m: int,
    d: int,
    active: np.ndarray,
    W: np.ndarray,
    V: np.ndarray,
    max_iter: int,
    target: float = np.inf,
) -> int:
    """Maximise ``c·y`` subject to ``A y <= b`` from the feasible point ``y``, in place.

    Parameters
    ----------
    A, b, c : the LP, using ``A[:m, :d]``, ``b[:m]``, ``c[:d]`` (rows of norm about 1)
    y : float array, ``y[:d]`` a feasible point on entry, the optimal vertex on exit
    m, d : numbers of rows and variables
    active : int array (>= d) receiving the rows defining the vertex (``-1``: an
        artificial row fixing a line of the feasible set)
    W : float work array of shape (4, >= d, >= d); V : float work array (6, >= max(m, d))
    max_iter : cap on simplex pivots; hitting it returns ``FAILED``
    target : stop early, with ``OPTIMAL``, at the first point where ``c·y >= target``
        (the simplex path only climbs); ``y`` is then feasible, a vertex only if the
        target was reached in phase 1

    Returns
    -------
    int : ``OPTIMAL``, ``UNBOUNDED`` or ``FAILED`` (also when the point reached violates a
        row beyond rounding: a check on every returned point, so that a drifting basis
        inverse can cost a re-solve but never a wrong answer)

    Examples
    --------
    Maximise ``y0 + y1`` over the unit square, from its corner ``(0, 0)``:

    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> b = np.array([1.0, 1.0, 0.0, 0.0])
    >>> y = np.zeros(2)
    >>> lp_max(A, b, np.ones(2), y, 4, 2, np.zeros(2, np.int64), np.zeros((4, 2, 2)),
    ...        np.zeros((6, 6)), 100), y
    (0, array([1., 1.]))
    """
    B, Q, inv, M = W[0], W[1], W[2], W[3]
    p, q, lam, Ap, slack, is_act = V[0], V[1], V[2], V[3], V[4], V[5]
    cnorm = 0.0
    for j in range(d):
        cnorm += c[j] * c[j]
    cnorm = math.sqrt(cnorm)
    for i in range(m):
        s = b[i]
        for j in range(d):
            s -= A[i, j] * y[j]
        slack[i] = s
        is_act[i] = 0.0
    # ---------------------------------------------------------------- phase 0
    k = 0
    while k < d:
        for j in range(d):
            p[j] = c[j]
        for i in range(k):
            s = 0.0
            for j in range(d):
                s += Q[i, j] * p[j]
            for j in range(d):
                p[j] -= s * Q[i, j]
        pn = 0.0
        for j in range(d):
            pn += p[j] * p[j]
        pn = math.sqrt(pn)
        neutral = pn <= 1e-12 * (1.0 + cnorm)
        if neutral:
            # c lies in the span of the active rows: any null direction keeps c·y
            best = -1.0
            for e in range(d):
                for j in range(d):
                    q[j] = 1.0 if j == e else 0.0
                for i in range(k):
                    s = Q[i, e]
                    for j in range(d):
                        q[j] -= s * Q[i, j]
                qn = 0.0
                for j in range(d):
                    qn += q[j] * q[j]
                if qn > best:
                    best = qn
                    for j in range(d):
                        p[j] = q[j]
            pn = math.sqrt(best)
        for j in range(d):
            p[j] /= pn
        enter, t_best = _ratio(A, m, d, p, slack, Ap, PIVOT_EPS, is_act)
        if enter < 0 and neutral:
            for j in range(d):
                p[j] = -p[j]
            enter, t_best = _ratio(A, m, d, p, slack, Ap, PIVOT_EPS, is_act)
        if enter < 0:
            if not neutral:
                return UNBOUNDED
            # a line inside the feasible set: fix it with an artificial equality row
            for j in range(d):
                B[k, j] = p[j]
        else:
            for j in range(d):
                y[j] += t_best * p[j]
            if _reached(c, y, d, target):
                return OPTIMAL if _feasible(A, b, y, m, d) else FAILED
            for i in range(m):
                slack[i] -= t_best * Ap[i]
            slack[enter] = 0.0
            is_act[enter] = 1.0
            for j in range(d):
                B[k, j] = A[enter, j]
        active[k] = enter
        # Gram-Schmidt (twice, for stability) to extend Q
        for j in range(d):
            q[j] = B[k, j]
        for _ in range(2):
            for i in range(k):
                s = 0.0
                for j in range(d):
                    s += Q[i, j] * q[j]
                for j in range(d):
                    q[j] -= s * Q[i, j]
        qn = 0.0
        for j in range(d):
            qn += q[j] * q[j]
        qn = math.sqrt(qn)
        if qn <= 1e-13:
            return FAILED
        for j in range(d):
            Q[k, j] = q[j] / qn
        k += 1
    # ---------------------------------------------------------------- phase 1
    lam_tol = DUAL_EPS * (1.0 + cnorm)
    n_upd = REFACTOR  # rank-one updates of ``inv`` since it was last computed from ``B``
    for _ in range(max_iter):
        if n_upd >= REFACTOR:
            if not _inverse(B, d, M, inv):
                return FAILED
            n_upd = 0
        leave = -1
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += inv[j, i] * c[j]
            lam[i] = s
            if active[i] >= 0 and s < -lam_tol:
                if leave < 0 or active[i] < active[leave]:
                    leave = i
        if leave < 0:
            if n_upd > 0:  # confirm optimality with a fresh inverse (the updates drift)
                n_upd = REFACTOR
                continue
            _polish(b, B, active, inv, y, d, q, p)
            return OPTIMAL if _feasible(A, b, y, m, d) else FAILED
        pn = 0.0
        for j in range(d):
            p[j] = -inv[j, leave]
            pn += p[j] * p[j]
        enter, t_best = _ratio(A, m, d, p, slack, Ap, PIVOT_EPS * math.sqrt(pn), is_act)
        if enter < 0:
            return UNBOUNDED
        for j in range(d):
            y[j] += t_best * p[j]
        for i in range(m):
            slack[i] -= t_best * Ap[i]
        slack[enter] = 0.0
        is_act[active[leave]] = 0.0
        is_act[enter] = 1.0
        for j in range(d):
            B[leave, j] = A[enter, j]
        active[leave] = enter
        if _reached(c, y, d, target):  # the new vertex, exactly from its rows (updates drift)
            if not _inverse(B, d, M, inv):
                return FAILED
            _polish(b, B, active, inv, y, d, q, p)
            return OPTIMAL if _feasible(A, b, y, m, d) else FAILED
        # row ``leave`` of B became a = A[enter]: Sherman-Morrison on inv = B^-1, whose
        # column ``leave`` is u = -p; inv' = inv - u w^T / (a.u) with w = inv^T a - e_leave
        au = -Ap[enter]
        if abs(au) < 1e-6 * math.sqrt(pn):
            n_upd = REFACTOR  # ill-conditioned pivot: refactorise from B
            continue
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += A[enter, j] * inv[j, i]
            q[i] = s
        q[leave] -= 1.0
        for j in range(d):
            f = p[j] / au  # = -u_j / (a.u)
            if f != 0.0:
                for i in range(d):
                    inv[j, i] += f * q[i]
        n_upd += 1
    return FAILED


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _gram(Gk: np.ndarray, k: int, n: int, cand: np.ndarray, axis: np.ndarray, gram: np.ndarray) -> None:
    """``gram[a, a2] = Gk[a] . Gk[a2]`` for the candidate rows ``a`` (and symmetric entries).

    Rows along a coordinate axis (a box's) take O(1) per entry instead of O(n).
    """
    for a in range(k):
        axis[a] = -1
        nz = 0
        for j in range(n):
            if Gk[a, j] != 0.0:
                nz += 1
                axis[a] = j
        if nz != 1:
            axis[a] = -1
    for a in range(k):
        for a2 in range(a, k):
            if not (cand[a] or cand[a2]):
                continue
            if axis[a2] >= 0:
                s = Gk[a, axis[a2]] * Gk[a2, axis[a2]]
            elif axis[a] >= 0:
                s = Gk[a, axis[a]] * Gk[a2, axis[a]]
            else:
                s = 0.0
                for j in range(n):
                    s += Gk[a, j] * Gk[a2, j]
            gram[a, a2] = s
            gram[a2, a] = s


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _box_filter(Gk: np.ndarray, hk: np.ndarray, k: int, n: int, lo: np.ndarray, hi: np.ndarray, tol: float,
                cand: np.ndarray) -> None:
    """Mark in ``cand[:k]`` the rows whose maximum over the box ``[lo, hi]`` reaches their offset."""
    for a in range(k):
        top = 0.0
        for j in range(n):
            g = Gk[a, j]
            if g > 0.0:
                top += g * hi[j]
            elif g < 0.0:
                top += g * lo[j]
        cand[a] = top >= hk[a] - tol


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _sin2(Gk: np.ndarray, a: int, a2: int, cosv: float, n: int) -> float:
    """``|Gk[a2] - cos Gk[a]|^2``: the squared sine of two unit rows, accurate when they are nearly parallel."""
    s = 0.0
    for j in range(n):
        w = Gk[a2, j] - cosv * Gk[a, j]
        s += w * w
    return s


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _feet(Gk: np.ndarray, hk: np.ndarray, k: int, n: int, slack: np.ndarray, gram: np.ndarray, tol_abs: float,
          cand: np.ndarray, clear: np.ndarray) -> int:
    """Foot-of-perpendicular tests of the candidate rows; returns how many need a facet LP.

    ``clear[a]`` is the clearance, inside row ``a``'s hyperplane, of the foot of the
    perpendicular from the centre (whose slacks are ``slack``): at the foot, row
    ``a2``'s slack is ``slack[a2] - slack[a] cos(a, a2)`` (unit rows), and its
    distance within the hyperplane that over the sine. It is ``-inf`` when a parallel
    row cuts the hyperplane off, or when a coincident row before ``a`` takes the facet
    (no LP needed: not a facet). Rows whose clearance is at most ``1e3 * tol_abs``
    need an LP. Needs ``gram[a, :k]`` for every candidate ``a``.
    """
    n_hard = 0
    for a in range(k):
        if not cand[a]:
            continue
        c = np.inf
        for a2 in range(k):
            if a2 == a:
                continue
            cosv = gram[a, a2]
            s2 = slack[a2] - slack[a] * cosv
            sin2 = 1.0 - cosv * cosv
            if sin2 < NEAR_PARALLEL2:  # too close to parallel for 1 - cos^2: in full
                sin2 = _sin2(Gk, a, a2, cosv, n)
                if sin2 <= PARALLEL2:
                    if s2 < -tol_abs or (a2 < a and cosv > 0 and abs(hk[a2] - hk[a]) <= tol_abs):
                        c = -np.inf  # cut off by a parallel row, or a repeat of an earlier row
                        break
                    continue
            c = min(c, s2 / math.sqrt(sin2))
        clear[a] = c
        if c != -np.inf and c <= 1e3 * tol_abs:
            n_hard += 1
    return n_hard


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _outer_simplex(Gk: np.ndarray, act: np.ndarray, lam: np.ndarray, yc: np.ndarray, n: int, V: np.ndarray,
                   W: np.ndarray) -> bool:
    """Vertices ``V[:n+1, :n]`` of the simplex of the Chebyshev ball's ``n + 1`` touching rows.

    At the Chebyshev optimum (centre ``c``, radius ``ρ``: ``yc``) the touching rows
    ``i`` have ``G_i c + ρ = h_i`` and multipliers with ``sum_i λ_i (G_i, 1) = (0, 1)``
    (KKT); when every ``λ_i`` is positive the touching normals positively span
    ``R^n``, so they bound a simplex that contains the region: an outer bound for
    free. Vertex ``j`` (every touching row but ``j`` tight) is ``c + w_j`` with
    ``G_i w_j = ρ - (ρ / λ_j) [i = j]`` for every touching row ``i`` (the KKT sum
    fixes row ``j``'s value), so one inverse of ``n`` of the rows gives all ``n + 1``
    vertices, in O(n^3) rather than ``n + 1`` inverses.
    """
    B, M, inv = W[0], W[1], W[2]
    z1 = W[3, 0]
    m0 = 0  # the row left out of B: the largest multiplier
    for a in range(n + 1):
        if lam[a] > lam[m0]:
            m0 = a
    q = 0
    for a in range(n + 1):
        if a != m0:
            for j in range(n):
                B[q, j] = Gk[act[a], j]
            q += 1
    if not _inverse(B, n, M, inv):
        return False
    rho = yc[n]
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += inv[i, j]
        z1[i] = s
    q = 0
    for a in range(n + 1):
        f = 0.0
        if a != m0:
            f = rho / lam[a]
        for i in range(n):
            V[a, i] = yc[i] + rho * z1[i] - (f * inv[i, q] if a != m0 else 0.0)
        if a != m0:
            q += 1
    return True


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _facet_lp(Gk: np.ndarray, hk: np.ndarray, k: int, n: int, a: int, xc: np.ndarray, r_cap: float,
              tol_abs: float, target: float, Af: np.ndarray, bf: np.ndarray, N: np.ndarray, xp: np.ndarray,
              yf: np.ndarray, cf: np.ndarray, active: np.ndarray, W: np.ndarray, V: np.ndarray,
              max_iter: int, x: np.ndarray) -> tuple[int, float]:
    """A point ``x`` deep inside row ``a``'s section of the region: (status, its clearance).

    The section's Chebyshev centre, or the first point of the simplex path to it
    whose clearance reaches ``target``.
    """
    dist = hk[a]
    for j in range(n):
        dist -= Gk[a, j] * xc[j]
    for j in range(n):
        xp[j] = xc[j] + dist * Gk[a, j]
    # coordinates in the hyperplane: the Householder reflection H = I - 2 v v^T / (v.v) maps
    # e_kk to -sign(g_kk) g, so its other columns span the hyperplane; row a2 there is
    # (G[a2] H) without entry kk, computed in O(n) from G[a2] H = G[a2] - 2 (G[a2].v / v.v) v
    kk = 0
    for j in range(n):
        if abs(Gk[a, j]) > abs(Gk[a, kk]):
            kk = j
    sgn = 1.0 if Gk[a, kk] >= 0 else -1.0
    vv = 0.0
    for j in range(n):
        N[j, 0] = Gk[a, j] + (sgn if j == kk else 0.0)  # v, in N's first column
        vv += N[j, 0] * N[j, 0]
    q = 0
    t0 = r_cap
    for a2 in range(k):
        if a2 == a:
            continue
        rhs = hk[a2]
        gv = 0.0
        for j in range(n):
            rhs -= Gk[a2, j] * xp[j]
            gv += Gk[a2, j] * N[j, 0]
        f = 2.0 * gv / vv
        nrm = 0.0
        c2 = 0
        for j in range(n):
            if j != kk:
                s = Gk[a2, j] - f * N[j, 0]
                Af[q, c2] = s
                nrm += s * s
                c2 += 1
        if nrm <= PARALLEL2:
            if rhs < -tol_abs:  # a parallel row cuts the hyperplane off: not a facet
                return OPTIMAL, -1.0
            continue
        nrm = math.sqrt(nrm)
        for c2 in range(n - 1):
            Af[q, c2] /= nrm
        Af[q, n - 1] = 1.0
        bf[q] = rhs / nrm
        t0 = min(t0, rhs / nrm)
        q += 1
    for c2 in range(n - 1):
        Af[q, c2] = 0.0
    Af[q, n - 1] = 1.0
    bf[q] = r_cap
    for j in range(n):
        yf[j] = 0.0
        cf[j] = 0.0
    cf[n - 1] = 1.0
    yf[n - 1] = t0
    # any point more than ``target`` inside the section will do as the facet's point
    st = lp_max(Af, bf, cf, yf, q + 1, n, active, W, V, max_iter, target)
    # back to x = xp + H z, z = yf[:n-1] with 0 inserted at kk
    c2 = 0
    vz = 0.0
    for j in range(n):
        if j != kk:
            vz += N[j, 0] * yf[c2]
            c2 += 1
    f = 2.0 * vz / vv
    c2 = 0
    for j in range(n):
        zj = 0.0
        if j != kk:
            zj = yf[c2]
            c2 += 1
        x[j] = xp[j] + zj - f * N[j, 0]
    return st, yf[n - 1]


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _chebyshev(Gk: np.ndarray, hk: np.ndarray, k: int, n: int, x0: np.ndarray, r_cap: float,
               Ac: np.ndarray, bc: np.ndarray, cc: np.ndarray, yc: np.ndarray, act: np.ndarray,
               W: np.ndarray, V: np.ndarray, max_iter: int) -> int:
    """Chebyshev centre of ``{Gk[:k] x <= hk[:k]}``: max t s.t. G x + t <= h, t <= r_cap.

    The centre and radius are left in ``yc[:n]``, ``yc[n]``, the touching rows in
    ``act`` and their multipliers in ``V[2]``.
    """
    t0 = r_cap
    for a in range(k):
        s = hk[a]
        for j in range(n):
            Ac[a, j] = Gk[a, j]
            s -= Gk[a, j] * x0[j]
        Ac[a, n] = 1.0
        bc[a] = hk[a]
        t0 = min(t0, s)
    for j in range(n):
        Ac[k, j] = 0.0
        yc[j] = x0[j]
        cc[j] = 0.0
    cc[n] = 1.0
    Ac[k, n] = 1.0
    bc[k] = r_cap
    yc[n] = t0
    return lp_max(Ac, bc, cc, yc, k + 1, n + 1, act, W, V, max_iter)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _simplex_filter(Gk: np.ndarray, hk: np.ndarray, k: int, n: int, act: np.ndarray, yc: np.ndarray,
                    V: np.ndarray, W: np.ndarray, Vs: np.ndarray, tol: float, cand: np.ndarray) -> bool:
    """Mark in ``cand[:k]`` the rows that touch the simplex of the Chebyshev ball's touching rows.

    Needs the Chebyshev LP's solution in ``yc`` and its multipliers in ``V[2]``;
    False (nothing marked) when they do not bound a simplex.
    """
    for a in range(n + 1):
        if act[a] < 0 or act[a] >= k or V[2, a] <= 1e-9:
            return False
    if not _outer_simplex(Gk, act, V[2], yc, n, Vs, W):
        return False
    for a in range(k):
        top = -np.inf
        for v in range(n + 1):
            s = 0.0
            for j in range(n):
                s += Gk[a, j] * Vs[v, j]
            top = max(top, s)
        cand[a] = top >= hk[a] - tol
    return True


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def analyse_regions(
    G: np.ndarray,
    h: np.ndarray,
    valid: np.ndarray,
    seeds: np.ndarray,
    r_cap: float,
    tol_abs: float,
    max_iter: int,
    box_lo: np.ndarray,
    box_hi: np.ndarray,
    n_dom: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev centre, facets and a point inside each facet, for many polyhedra.

    Region ``r`` is ``{x : G[r, i] x <= h[r, i] for valid[r, i]}`` with unit rows;
    its last ``n_dom`` valid rows are the domain's, which lies in the box
    ``[box_lo, box_hi]`` (infinite when unknown). Rows that cannot touch the region
    are dropped by an outer bound: the simplex of the Chebyshev ball's touching
    rows, else the region's bounding box (2n LPs), unless the foot tests below
    leave at most 2n rows to decide by LP, or the domain's box leaves at most 2n
    unit rows to test (then no bound, or the domain's box: the 2n LPs would cost
    more than the facet LPs they save). A remaining row is a facet when the foot
    of the perpendicular from the centre lies inside the region with clearance,
    else when the Chebyshev radius of its section (one LP in the hyperplane)
    exceeds ``tol_abs``. Coincident rows are one facet.

    Returns
    -------
    centre : (R, n) Chebyshev centre (radius capped at ``r_cap``)
    radius : (R,)
    facet : (R, m) int8, 1 where row ``i`` is a facet (the first of coincident rows)
    fpoint : (R, m, n) a point inside each facet, more than ``tol_abs`` from its boundary
    tied : (R, m, m) bool, ``tied[r, i, j]``: row ``j`` is row ``i`` or coincident with it
    status : (R,) int64, ``FAILED`` when an LP failed (the caller re-solves the region)
    """
    R, m, n = G.shape
    centre = np.zeros((R, n))
    radius = np.zeros(R)
    facet = np.zeros((R, m), dtype=np.int8)
    fpoint = np.zeros((R, m, n))
    tied = np.zeros((R, m, m), dtype=np.bool_)
    status = np.zeros(R, dtype=np.int64)
    # work arrays, allocated once
    idx = np.empty(m, dtype=np.int64)
    Gk = np.zeros((m, n))
    hk = np.zeros(m)
    Ac = np.zeros((m + 2, n + 1))
    bc = np.zeros(m + 2)
    Gq = np.zeros((m + 1, n))
    hq = np.zeros(m + 1)
    dd = np.zeros(n)
    z0 = np.zeros(n)
    cc = np.zeros(n + 1)
    cc[n] = 1.0
    yc = np.zeros(n + 1)
    Af = np.zeros((m + 1, n))
    bf = np.zeros(m + 1)
    cf = np.zeros(n)
    yf = np.zeros(n)
    cb = np.zeros(n)
    yb = np.zeros(n)
    N = np.zeros((n, max(n - 1, 1)))
    xp = np.zeros(n)
    xc = np.zeros(n)
    x = np.zeros(n)
    Vs = np.zeros((n + 1, n))
    lo = np.empty(n)
    hi = np.empty(n)
    cand = np.zeros(m, dtype=np.bool_)
    slack = np.empty(m)
    clear = np.empty(m)
    act = np.zeros(n + 1, dtype=np.int64)
    axis = np.empty(m, dtype=np.int64)
    gram = np.zeros((m, m))
    W = np.zeros((4, n + 1, n + 1))
    V = np.zeros((6, m + n + 3))
    for r in range(R):
        k = 0
        for i in range(m):
            if valid[r, i]:
                idx[k] = i
                for j in range(n):
                    Gk[k, j] = G[r, i, j]
                hk[k] = h[r, i]
                k += 1
        # ---- Chebyshev centre
        st = _chebyshev(Gk, hk, k, n, seeds[r], r_cap, Ac, bc, cc, yc, act, W, V, max_iter)
        if st != OPTIMAL:
            status[r] = FAILED
            continue
        for j in range(n):
            xc[j] = yc[j]
            centre[r, j] = yc[j]
        radius[r] = yc[n]
        if yc[n] <= tol_abs:
            continue
        for a in range(k):
            s = hk[a]
            for j in range(n):
                s -= Gk[a, j] * xc[j]
            slack[a] = s
        # ---- outer bound: the simplex of the Chebyshev ball's touching rows ...
        bounded = _simplex_filter(Gk, hk, k, n, act, yc, V, W, Vs, tol_abs, cand)
        feet_done = False
        if not bounded:
            # ... else none, if the foot tests (cheap) leave few rows to decide by LP ...
            for a in range(k):
                cand[a] = True
            _gram(Gk, k, n, cand, axis, gram)
            bounded = _feet(Gk, hk, k, n, slack, gram, tol_abs, cand, clear) <= 2 * n
            feet_done = True
        if not bounded:
            # ... else the domain's box, if it leaves few unit rows to test ...
            _box_filter(Gk, hk, k, n, box_lo, box_hi, tol_abs, cand)
            n_cand = 0
            for a in range(k - n_dom):
                n_cand += cand[a]
            bounded = n_cand <= 2 * n
        if not bounded and k > 0:
            # ... else of the projective image z = y / (1 + d.y), y = x - centre, which is
            # bounded when the region is pointed (d.r > 0 on its recession cone):
            # G y <= s  <=>  (G + s d) z <= s, and d.z <= 1 is the image of infinity
            tot = 0.0
            for a in range(k):
                tot += slack[a]
            for j in range(n):
                dd[j] = 0.0
                for a in range(k):
                    dd[j] -= Gk[a, j]
                dd[j] *= 0.5 / tot
            hmax = 0.0
            for a in range(k + 1):
                nq = 0.0
                for j in range(n):
                    gq = Gk[a, j] + slack[a] * dd[j] if a < k else dd[j]
                    Gq[a, j] = gq
                    nq += gq * gq
                nq = math.sqrt(nq)
                if nq > 0:
                    hq[a] = (slack[a] if a < k else 1.0) / nq
                    hmax = max(hmax, hq[a])
                    for j in range(n):
                        Gq[a, j] /= nq
                else:  # 0 z <= s: never binding
                    hq[a] = np.inf
                    for j in range(n):
                        Gq[a, j] = 0.0
            for j in range(n):
                z0[j] = 0.0
            st = _chebyshev(Gq, hq, k + 1, n, z0, 10.0 * hmax, Ac, bc, cc, yc, act, W, V, max_iter)
            if st == OPTIMAL:  # (row k of Gq, d.z <= 1, may be one of the touching rows)
                bounded = _simplex_filter(Gq, hq, k + 1, n, act, yc, V, W, Vs, 1e-9 * hmax, cand)
        if not bounded:
            # ... else the bounding box (2n LPs)
            for j in range(n):
                for sgn in (1.0, -1.0):
                    for l in range(n):
                        cb[l] = 0.0
                        yb[l] = xc[l]
                    cb[j] = sgn
                    st = lp_max(Gk, hk, cb, yb, k, n, act, W, V, max_iter)
                    if st == FAILED:
                        status[r] = FAILED
                    if sgn > 0:
                        hi[j] = np.inf if st == UNBOUNDED else yb[j]
                    else:
                        lo[j] = -np.inf if st == UNBOUNDED else yb[j]
            if status[r] == FAILED:
                continue
            _box_filter(Gk, hk, k, n, lo, hi, tol_abs, cand)
        # ---- facets: the foot of the perpendicular from the centre, if inside with
        # clearance, else the section's Chebyshev LP
        if not feet_done:
            _gram(Gk, k, n, cand, axis, gram)
            _feet(Gk, hk, k, n, slack, gram, tol_abs, cand, clear)
        for a in range(k):
            if not cand[a] or clear[a] == -np.inf:
                continue
            if clear[a] > 1e3 * tol_abs:
                fr = clear[a]
                for j in range(n):
                    x[j] = xc[j] + slack[a] * Gk[a, j]
            else:
                st, fr = _facet_lp(Gk, hk, k, n, a, xc, r_cap, tol_abs, FACET_DEPTH * r_cap, Af, bf, N, xp,
                                   yf, cf, act, W, V, max_iter, x)
                if st != OPTIMAL:
                    status[r] = FAILED
                    break
            if fr <= tol_abs:
                continue
            i = idx[a]
            facet[r, i] = 1
            for j in range(n):
                fpoint[r, i, j] = x[j]
            # rows tight at the facet point: the facet's own and its coincident rows (every
            # other row is more than tol_abs away inside the facet's hyperplane)
            tied[r, i, i] = True
            for a2 in range(k):
                cosv = gram[a, a2]
                if a2 == a or 1.0 - cosv * cosv >= NEAR_PARALLEL2 or _sin2(Gk, a, a2, cosv, n) > PARALLEL2:
                    continue
                s2 = hk[a2]
                for j in range(n):
                    s2 -= Gk[a2, j] * x[j]
                if abs(s2) <= tol_abs:
                    tied[r, i, idx[a2]] = True
    return centre, radius, facet, fpoint, tied, status
