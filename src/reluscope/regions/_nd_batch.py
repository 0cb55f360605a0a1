"""The n-D walk's LPs in pure NumPy: the kernels of :mod:`._nd_kernels`, batched in lockstep.

Used when numba is not installed (and to re-solve the rare LP the compiled kernel
gives up on). The same primal active-set simplex (phase 0 to a vertex along the
projected objective, then Bland's rule), run on a whole batch of small LPs at
once: every step is a handful of vectorised operations over the batch, so the
Python overhead is per step, not per LP. Results agree with the compiled kernel.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lp_max_batch", "analyse_regions", "analyse_region_highs"]

OPTIMAL, UNBOUNDED, FAILED = 0, 1, 2
PIVOT_EPS = 1e-10
DUAL_EPS = 1e-11
PARALLEL2 = 1e-24
_CHUNK = 512  # regions per batch of pairwise work


def _ratio(A: np.ndarray, mask: np.ndarray, p: np.ndarray, slack: np.ndarray, eps: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched ratio test: first blocking row (smallest index on ties), step, and ``A p``."""
    Ap = np.einsum("bmd,bd->bm", A, p)
    if A.shape[1] == 0:
        return np.zeros(len(p), dtype=np.int64), np.full(len(p), np.inf), Ap
    block = (Ap > eps[:, None]) & mask
    t = np.where(block, np.maximum(slack, 0.0) / np.where(block, Ap, 1.0), np.inf)
    enter = np.argmin(t, axis=1)
    return enter, t[np.arange(len(t)), enter], Ap


def lp_max_batch(A: np.ndarray, b: np.ndarray, c: np.ndarray, y0: np.ndarray, mask: np.ndarray,
                 max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximise ``c_k·y`` s.t. ``A_k y <= b_k`` (rows where ``mask``) for every LP ``k`` of a batch.

    Parameters
    ----------
    A : (K, m, d); b : (K, m); c : (K, d); y0 : (K, d) feasible points; mask : (K, m) bool

    Returns
    -------
    status : (K,) int, ``OPTIMAL`` / ``UNBOUNDED`` / ``FAILED``
    y : (K, d) optimal vertices
    active : (K, d) int, the rows defining them (``-1``: artificial row fixing a line)

    Examples
    --------
    Maximise ``y0 + y1`` over the unit square, and ``y0`` over a half-plane (unbounded):

    >>> A = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]] * 2)
    >>> b = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    >>> mask = np.array([[True] * 4, [False, True, False, True]])
    >>> status, y, _ = lp_max_batch(A, b, np.array([[1.0, 1.0], [1.0, 0.0]]), np.zeros((2, 2)), mask, 100)
    >>> status.tolist(), y[0]
    ([0, 1], array([1., 1.]))
    """
    K, m, d = A.shape
    y = np.array(y0, dtype=np.float64)
    slack = b - np.einsum("bmd,bd->bm", A, y)
    cn = np.linalg.norm(c, axis=1)
    status = np.zeros(K, dtype=np.int64)
    active = np.full((K, d), -1, dtype=np.int64)
    Brows = np.zeros((K, d, d))
    Q = np.zeros((K, d, d))
    ar = np.arange(K)
    eye = np.eye(d)
    free = np.array(mask, dtype=bool)  # rows that may block: valid and not active
    for k in range(d):  # phase 0: one more active row per step
        Qk = Q[:, :k]
        p = c - np.einsum("bkd,bk->bd", Qk, np.einsum("bkd,bd->bk", Qk, c))
        pn = np.linalg.norm(p, axis=1)
        neutral = pn <= 1e-12 * (1.0 + cn)
        if np.any(neutral):
            P = eye - np.einsum("bki,bkj->bij", Qk, Qk)
            col = np.argmax(np.einsum("bij,bij->bj", P, P), axis=1)
            p = np.where(neutral[:, None], P[ar, :, col], p)
        p /= np.linalg.norm(p, axis=1, keepdims=True)
        eps = np.full(K, PIVOT_EPS)
        enter, t, Ap = _ratio(A, free, p, slack, eps)
        retry = neutral & ~np.isfinite(t)
        if np.any(retry):
            p[retry] = -p[retry]
            e2, t2, Ap2 = _ratio(A[retry], free[retry], p[retry], slack[retry], eps[retry])
            enter[retry], t[retry], Ap[retry] = e2, t2, Ap2
        blocked = np.isfinite(t)
        status[~blocked & ~neutral & (status == OPTIMAL)] = UNBOUNDED
        step = np.where(blocked, t, 0.0)
        y += step[:, None] * p
        slack -= step[:, None] * Ap
        if m:
            slack[ar[blocked], enter[blocked]] = 0.0
            free[ar[blocked], enter[blocked]] = False
        row = np.where(blocked[:, None], A[ar, enter], p) if m else p
        Brows[:, k] = row
        active[:, k] = np.where(blocked, enter, -1)
        q = row
        for _ in range(2):
            q = q - np.einsum("bkd,bk->bd", Qk, np.einsum("bkd,bd->bk", Qk, q))
        qn = np.linalg.norm(q, axis=1)
        status[(qn <= 1e-13) & (status == OPTIMAL)] = FAILED
        Q[:, k] = q / np.where(qn > 0, qn, 1.0)[:, None]
    running = np.nonzero(status == OPTIMAL)[0]
    lam_tol = DUAL_EPS * (1.0 + cn)
    for _ in range(max_iter):  # phase 1: Bland's rule, on the LPs still running
        if running.size == 0:
            break
        Bm = Brows[running]
        det_ok = np.abs(np.linalg.det(Bm)) > 1e-300
        good = running[det_ok]
        status[running[~det_ok]] = FAILED
        if good.size == 0:
            break
        running = good
        try:
            inv = np.linalg.inv(Brows[running])
        except np.linalg.LinAlgError:  # pragma: no cover - det check above
            status[running] = FAILED
            break
        lam = np.einsum("bji,bj->bi", inv, c[running])
        act = active[running]
        elig = (act >= 0) & (lam < -lam_tol[running, None])
        has = np.any(elig, axis=1)
        done = running[~has]
        if done.size:  # polish the optimal vertices from their defining rows
            act_d = active[done]
            rhs = np.where(act_d >= 0, b[done[:, None], np.maximum(act_d, 0)],
                           np.einsum("bij,bj->bi", Brows[done], y[done]))
            y[done] = np.einsum("bij,bj->bi", inv[~has], rhs)
        running = running[has]
        if running.size == 0:
            break
        inv, act, elig = inv[has], act[has], elig[has]
        leave = np.argmin(np.where(elig, act, np.iinfo(np.int64).max), axis=1)
        ri = np.arange(len(running))
        p = -inv[ri, :, leave]
        eps = PIVOT_EPS * np.linalg.norm(p, axis=1)
        enter, t, Ap = _ratio(A[running], free[running], p, slack[running], eps)
        unb = ~np.isfinite(t)
        status[running[unb]] = UNBOUNDED
        keep = ~unb
        rk, pk, tk, ek = running[keep], p[keep], t[keep], enter[keep]
        y[rk] += tk[:, None] * pk
        slack[rk] -= tk[:, None] * Ap[keep]
        slack[rk, ek] = 0.0
        free[rk, active[rk, leave[keep]]] = True
        free[rk, ek] = False
        Brows[rk, leave[keep]] = A[rk, ek]
        active[rk, leave[keep]] = ek
        running = rk
    else:
        status[running] = FAILED
    return status, y, active


def _householder(g: np.ndarray) -> np.ndarray:
    """Orthonormal bases (F, n, n - 1) of the complements of unit vectors ``g`` (F, n)."""
    F, n = g.shape
    k = np.argmax(np.abs(g), axis=1)
    v = g.copy()
    v[np.arange(F), k] += np.where(g[np.arange(F), k] >= 0, 1.0, -1.0)
    H = np.eye(n) - 2.0 * v[:, :, None] * v[:, None, :] / np.sum(v * v, axis=1)[:, None, None]
    base = np.arange(n - 1)
    cols = base[None, :] + (base[None, :] >= k[:, None])
    return np.take_along_axis(H, cols[:, None, :], axis=2)


def analyse_regions(G: np.ndarray, h: np.ndarray, valid: np.ndarray, seeds: np.ndarray, r_cap: float,
                    tol_abs: float, max_iter: int) -> tuple[np.ndarray, ...]:
    """Same contract as :func:`._nd_kernels.analyse_regions`, vectorised over regions."""
    R, m, n = G.shape
    centre = np.zeros((R, n))
    radius = np.zeros(R)
    facet = np.zeros((R, m), dtype=np.int8)
    fpoint = np.zeros((R, m, n))
    tied = np.zeros((R, m, m), dtype=bool)
    status = np.zeros(R, dtype=np.int64)
    chunk = max(1, min(_CHUNK, 2_000_000 // max(1, m * m * n)))
    for s in range(0, R, chunk):
        sl = slice(s, min(R, s + chunk))
        out = _analyse_chunk(G[sl], h[sl], valid[sl], seeds[sl], r_cap, tol_abs, max_iter)
        centre[sl], radius[sl], facet[sl], fpoint[sl], tied[sl], status[sl] = out
    return centre, radius, facet, fpoint, tied, status


def _analyse_chunk(G: np.ndarray, h: np.ndarray, valid: np.ndarray, seeds: np.ndarray, r_cap: float,
                   tol_abs: float, max_iter: int) -> tuple[np.ndarray, ...]:
    R, m, n = G.shape
    G = np.where(valid[:, :, None], G, 0.0)
    h = np.where(valid, h, 0.0)
    # ---- Chebyshev centres: max t s.t. G x + t <= h, t <= r_cap
    Ac = np.zeros((R, m + 1, n + 1))
    Ac[:, :m, :n] = G
    Ac[:, :, n] = 1.0
    bc = np.concatenate([h, np.full((R, 1), r_cap)], axis=1)
    mc = np.concatenate([valid, np.ones((R, 1), dtype=bool)], axis=1)
    cc = np.zeros((R, n + 1))
    cc[:, n] = 1.0
    slack0 = np.where(valid, h - np.einsum("rmn,rn->rm", G, seeds), np.inf)
    y0 = np.concatenate([seeds, np.minimum(np.min(slack0, axis=1, initial=np.inf), r_cap)[:, None]], axis=1)
    st, y, act = lp_max_batch(Ac, bc, cc, y0, mc, max_iter)
    status = np.where(st == OPTIMAL, OPTIMAL, FAILED)
    centre, radius = y[:, :n], y[:, n]
    facet = np.zeros((R, m), dtype=np.int8)
    fpoint = np.zeros((R, m, n))
    tied = np.zeros((R, m, m), dtype=bool)
    live = (status == OPTIMAL) & (radius > tol_abs)
    # ---- outer bound: the simplex of the touching rows, else the bounding box
    cand = np.zeros((R, m), dtype=bool)
    simplex = live & np.all((act >= 0) & (act < m), axis=1)
    if np.any(simplex):
        idx = np.nonzero(simplex)[0]
        rows = act[idx]  # (S, n + 1)
        drop = np.arange(n + 1)
        sub = np.stack([np.delete(rows, j, axis=1) for j in drop], axis=1)  # (S, n+1, n)
        S = G[idx[:, None, None], sub]  # (S, n+1, n, n)
        rhs = h[idx[:, None, None], sub]
        ok = np.all(np.abs(np.linalg.det(S)) > 1e-14, axis=1)
        # a bounded simplex iff the KKT multipliers (sum λ_i (G_i, 1) = (0, 1)) are all positive
        Mk = np.concatenate([np.swapaxes(G[idx[:, None], rows], 1, 2), np.ones((len(idx), 1, n + 1))], axis=1)
        okm = np.abs(np.linalg.det(Mk)) > 1e-14
        lam = np.zeros((len(idx), n + 1))
        e = np.zeros((int(okm.sum()), n + 1, 1))
        e[:, n, 0] = 1.0
        lam[okm] = np.linalg.solve(Mk[okm], e)[..., 0]
        ok &= okm & np.all(lam > 1e-9, axis=1)
        V = np.zeros(S.shape[:3])
        if np.any(ok):
            V[ok] = np.linalg.solve(S[ok], rhs[ok][..., None])[..., 0]
        top = np.max(np.einsum("smn,svn->smv", G[idx], V), axis=2, initial=-np.inf)
        cand[idx[ok]] = (top >= h[idx] - tol_abs)[ok]
        simplex[idx[~ok]] = False
    box = live & ~simplex
    if np.any(box):
        idx = np.nonzero(box)[0]
        B = len(idx)
        c = np.concatenate([np.eye(n), -np.eye(n)])  # 2n objectives
        Ab = np.repeat(G[idx], 2 * n, axis=0)
        bb = np.repeat(h[idx], 2 * n, axis=0)
        mb = np.repeat(valid[idx], 2 * n, axis=0)
        cb = np.tile(c, (B, 1))
        yb0 = np.repeat(centre[idx], 2 * n, axis=0)
        stb, yb, _ = lp_max_batch(Ab, bb, cb, yb0, mb, max_iter)
        val = np.einsum("kd,kd->k", cb, yb)
        val = np.where(stb == UNBOUNDED, np.inf, val).reshape(B, 2 * n)
        status[idx[np.any((stb == FAILED).reshape(B, 2 * n), axis=1)]] = FAILED
        hi, lo = val[:, :n], -val[:, n:]
        Gi = G[idx]
        with np.errstate(invalid="ignore"):
            top = np.sum(np.where(Gi > 0, Gi * hi[:, None, :], np.where(Gi < 0, Gi * lo[:, None, :], 0.0)),
                         axis=2)
        cand[idx] = top >= h[idx] - tol_abs
    cand &= valid & (live & (status == OPTIMAL))[:, None]
    # ---- facets: the foot of the perpendicular from the centre, if inside with clearance
    slack = h - np.einsum("rmn,rn->rm", G, centre)
    cosv = np.einsum("rin,rjn->rij", G, G)  # (R, i, j)
    w = G[:, None, :, :] - cosv[..., None] * G[:, :, None, :]
    sin2 = np.einsum("rijn,rijn->rij", w, w)
    pts = centre[:, None, :] + slack[..., None] * G  # foot on row i: (R, i, n)
    s2 = h[:, None, :] - np.einsum("rjn,rin->rij", G, pts)
    par = sin2 <= PARALLEL2
    other = valid[:, None, :] & ~np.eye(m, dtype=bool)[None]
    earlier = np.tril(np.ones((m, m), dtype=bool), -1)[None]
    cut = other & par & ((s2 < -tol_abs) | (earlier & (cosv > 0) & (np.abs(h[:, :, None] - h[:, None, :])
                                                                    <= tol_abs).transpose(0, 2, 1)))
    cut_any = np.any(cut, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        clr = np.where(other & ~par, s2 / np.sqrt(np.where(par, 1.0, sin2)), np.inf)
    clear = np.min(clr, axis=2, initial=np.inf)
    cand &= ~cut_any
    easy = cand & (clear > 1e3 * tol_abs)
    hard = cand & ~easy
    facet[easy] = 1
    fpoint[easy] = pts[easy]
    if np.any(hard):
        rr, ii = np.nonzero(hard)
        fr, xf, stf = _facet_lps(G, h, valid, centre, rr, ii, r_cap, tol_abs, max_iter)
        status[rr[stf != OPTIMAL]] = FAILED
        good = (stf == OPTIMAL) & (fr > tol_abs)
        facet[rr[good], ii[good]] = 1
        fpoint[rr[good], ii[good]] = xf[good]
    facet[status != OPTIMAL] = 0
    rr, ii = np.nonzero(facet)
    sl_f = h[rr] - np.einsum("fjn,fn->fj", G[rr], fpoint[rr, ii])
    tied[rr, ii] = valid[rr] & par[rr, ii] & (np.abs(sl_f) <= tol_abs)
    tied[rr, ii, ii] = True
    return centre, radius, facet, fpoint, tied, status


def _facet_lps(G: np.ndarray, h: np.ndarray, valid: np.ndarray, centre: np.ndarray, rr: np.ndarray,
               ii: np.ndarray, r_cap: float, tol_abs: float, max_iter: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev centres of the hyperplane sections ``(rr, ii)``: radius, point, status."""
    F = len(rr)
    n = G.shape[2]
    g = G[rr, ii]
    dist = h[rr, ii] - np.einsum("fn,fn->f", g, centre[rr])
    xp = centre[rr] + dist[:, None] * g
    N = _householder(g)  # (F, n, n-1)
    Gr = G[rr]  # (F, m, n)
    a = np.einsum("fmn,fnc->fmc", Gr, N)
    nrm2 = np.einsum("fmc,fmc->fm", a, a)
    rhs = h[rr] - np.einsum("fmn,fn->fm", Gr, xp)
    mask = valid[rr].copy()
    mask[np.arange(F), ii] = False
    par = mask & (nrm2 <= PARALLEL2)
    cutoff = np.any(par & (rhs < -tol_abs), axis=1)
    mask &= ~par
    nrm = np.sqrt(np.where(mask, nrm2, 1.0))
    A = np.concatenate([a / nrm[..., None], np.ones(a.shape[:2] + (1,))], axis=2)
    A = np.concatenate([A, np.zeros((F, 1, n))], axis=1)
    A[:, -1, n - 1] = 1.0
    b = np.concatenate([np.where(mask, rhs / nrm, 0.0), np.full((F, 1), r_cap)], axis=1)
    mk = np.concatenate([mask, np.ones((F, 1), dtype=bool)], axis=1)
    c = np.zeros((F, n))
    c[:, n - 1] = 1.0
    y0 = np.zeros((F, n))
    y0[:, n - 1] = np.minimum(np.min(np.where(mask, rhs / nrm, np.inf), axis=1, initial=np.inf), r_cap)
    st, y, _ = lp_max_batch(A, b, c, y0, mk, max_iter)
    x = xp + np.einsum("fnc,fc->fn", N, y[:, : n - 1])
    fr = np.where(cutoff, -1.0, y[:, n - 1])
    return fr, x, np.where(cutoff, OPTIMAL, st)


def analyse_region_highs(G: np.ndarray, h: np.ndarray, valid: np.ndarray, r_cap: float, tol_abs: float
                         ) -> tuple[np.ndarray, ...]:
    """One region's analysis with scipy's HiGHS: the last resort when both simplex codes fail.

    Same outputs as :func:`analyse_regions` for a batch of one (no outer bound: one
    LP per row).
    """
    from scipy.optimize import linprog

    m, n = G.shape
    rows = np.nonzero(valid)[0]
    Gv, hv = G[rows], h[rows]
    facet = np.zeros((1, m), dtype=np.int8)
    fpoint = np.zeros((1, m, n))
    tied = np.zeros((1, m, m), dtype=bool)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    bounds = [(None, None)] * n + [(None, r_cap)]
    res = linprog(c, A_ub=np.hstack([Gv, np.ones((len(rows), 1))]), b_ub=hv, bounds=bounds, method="highs")
    if res.status != 0:
        return np.zeros((1, n)), np.zeros(1), facet, fpoint, tied, np.array([FAILED])
    centre, radius = res.x[:n], res.x[n]
    if radius > tol_abs:
        for a, i in enumerate(rows):
            g = Gv[a]
            if np.any((np.arange(len(rows)) < a) & (np.abs(hv - hv[a]) <= tol_abs)
                      & (np.linalg.norm(Gv - g, axis=1) <= 1e-12)):
                continue  # a repeat of an earlier row
            N = _householder(g[None])[0]
            xp = centre + (hv[a] - g @ centre) * g
            others = np.arange(len(rows)) != a
            Ao, bo = Gv[others] @ N, hv[others] - Gv[others] @ xp
            nrm = np.linalg.norm(Ao, axis=1)
            par = nrm**2 <= PARALLEL2
            if np.any(par & (bo < -tol_abs)):
                continue
            Ao, bo, nrm = Ao[~par], bo[~par], nrm[~par]
            r2 = linprog(np.r_[np.zeros(n - 1), -1.0], A_ub=np.hstack([Ao, nrm[:, None]]), b_ub=bo,
                         bounds=[(None, None)] * (n - 1) + [(None, r_cap)], method="highs")
            if r2.status != 0 or r2.x[-1] <= tol_abs:
                continue
            x = xp + N @ r2.x[:-1]
            facet[0, i] = 1
            fpoint[0, i] = x
            tied[0, i, rows] = np.abs(hv - Gv @ x) <= tol_abs
            tied[0, i, i] = True
    return centre[None], np.array([radius]), facet, fpoint, tied, np.array([OPTIMAL])
