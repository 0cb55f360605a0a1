"""Hot loops of the plane engine, compiled with numba when it is installed.

Three kernels, each with a pure-NumPy twin (used when numba is missing, when
``RELUSCOPE_NO_NUMBA=1`` is set, and by the tests to check the compiled path):

* :func:`candidates` — per cell and unit, can the unit's line meet the cell?
  (distance from the centroid to the line ≤ the cell's radius); also the piece of
  every unit at the centroid (the reference pattern of the cell's children);
* :func:`child_pieces` — pieces of every child cell: the reference pattern except
  for the candidate units, re-evaluated at the child's centroid;
* :func:`child_maps` — the next layer's maps of every child: its ancestor's map
  (one dense product per ancestor) plus a rank-k correction for the k candidate
  units whose piece differs from the reference.

They turn the per-cell cost from ``O(width²)`` (a dense product per cell) into
``O(k · width)``.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "HAVE_NUMBA",
    "use_numba",
    "candidates",
    "child_pieces",
    "child_maps",
    "chain_maps",
    "refine",
    "segment_layer",
]

try:  # pragma: no cover - depends on the environment
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False


#: A next-layer map updated by rank-k corrections is set to exactly 0 where its entries are
#: below this fraction of the sum of the magnitudes added into it: it cancelled in exact
#: arithmetic (a unit fed only by units that just switched off) and what is left is
#: rounding noise, which would otherwise decide the unit's piece (``z > 0``) at random.
_CANCEL_RTOL = 1e-12


def use_numba() -> bool:
    """Whether the compiled kernels are used (numba installed, not disabled)."""
    return HAVE_NUMBA and os.environ.get("RELUSCOPE_NO_NUMBA", "") not in ("1", "true", "yes")


# ---------------------------------------------------------------------------- NumPy versions

def _constant_np(Zp, Zq, wlin, wconst, rtol):
    """(n, m) bool: units constant in the plane's own coordinates, up to rounding.

    In homogeneous coordinates a unit of constant value ``c`` is ``c w``, so its map is
    ``c`` times ``w``'s: ``Zp w_const - Zq w_lin = 0``, and its level sets are the line at
    infinity. The rank-k map corrections leave a residue of rounding in that difference,
    which would turn the line at infinity into a phantom line far out (at ``|x|`` of about
    1e9) and cut a sliver region off; within ``rtol`` of ``|c w_lin|`` the unit is constant.
    (With ordinary coordinates, ``w_lin = 0``, only an exactly constant unit is.)
    """
    ds = Zp[:, 0, :] * wconst - Zq * wlin[0]
    dt = Zp[:, 1, :] * wconst - Zq * wlin[1]
    return np.hypot(ds, dt) <= rtol * np.abs(Zq) * np.hypot(wlin[0], wlin[1])


def _candidates_np(cen, radius, Zp, Zq, bps, wlin, wconst, rtol):
    n, _, m = Zp.shape
    z = np.einsum("nk,nkm->nm", cen, Zp) + Zq
    w_c = cen @ wlin + wconst
    ref = np.zeros((n, m), dtype=np.int8)
    cc, cu = [], []
    const = _constant_np(Zp, Zq, wlin, wconst, rtol)
    for bi in range(len(bps)):
        beta = bps[bi]
        f = z - beta * w_c[:, None]
        ref += (f > 0).astype(np.int8)
        g = np.hypot(Zp[:, 0, :] - beta * wlin[0], Zp[:, 1, :] - beta * wlin[1])
        c, u = np.nonzero((np.abs(f) < radius[:, None] * g * (1 + rtol) + 1e-300) & ~const)
        cc.append(c)
        cu.append(u + bi * m)
    cc = np.concatenate(cc)
    cu = np.concatenate(cu)
    order = np.lexsort((cu, cc))
    counts = np.bincount(cc, minlength=n)
    first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ref, first, cu[order].astype(np.int64)


def _child_pieces_np(cen, anc, Zp, Zq, ref, first, units, bps, wlin, wconst):
    m = Zq.shape[1]
    piece = ref[anc]
    counts = first[anc + 1] - first[anc]
    rows = np.repeat(np.arange(len(anc)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.repeat(first[anc] - starts, counts) + np.arange(counts.sum())
    uniq = np.unique(rows * m + units[pos] % m)  # one entry per (cell, unit)
    r_u, j_u = uniq // m, uniq % m
    a_u = anc[r_u]
    z_u = np.einsum("nk,nk->n", cen[r_u], Zp[a_u, :, j_u]) + Zq[a_u, j_u]
    w_u = cen[r_u] @ wlin + wconst
    p = np.zeros(len(uniq), dtype=np.int8)
    for beta in bps:
        p += (z_u - beta * w_u > 0).astype(np.int8)
    piece[r_u, j_u] = p
    return piece


def _child_maps_np(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, Wn, wlin, wconst):
    from scipy.sparse import csr_matrix

    n_anc, k, m = Zp.shape
    Np, Nq = Rp[anc], Rq[anc]
    c, j = np.nonzero(piece != ref[anc])
    if c.size == 0:
        return Np, Nq
    a = anc[c]
    ds = slopes[piece[c, j]] - slopes[ref[a, j]]
    dc = icpts[piece[c, j]] - icpts[ref[a, j]]
    vals = np.empty((c.size, k + 1))
    vals[:, :k] = ds[:, None] * Zp[a, :, j] + dc[:, None] * wlin[None, :]
    vals[:, k] = ds * Zq[a, j] + dc * wconst
    n = len(anc)
    rows = (c[:, None] * (k + 1) + np.arange(k + 1)[None, :]).ravel()
    M = csr_matrix((vals.ravel(), (rows, np.repeat(j, k + 1))), shape=(n * (k + 1), m))
    corr = np.asarray(M @ Wn.T).reshape(n, k + 1, -1)
    Np, Nq = Np + corr[:, :k, :], Nq + corr[:, k, :]
    # outputs that cancelled to rounding noise become exactly 0 (see snap_cancelled)
    M.data = np.abs(M.data)
    absc = np.asarray(M @ np.abs(Wn.T)).reshape(n, k + 1, -1).sum(axis=1)
    scale = np.abs(Rp[anc]).sum(axis=1) + np.abs(Rq[anc]) + absc
    snap = np.abs(Np).sum(axis=1) + np.abs(Nq) <= _CANCEL_RTOL * scale
    snap[np.setdiff1d(np.arange(n), c)] = False
    Np[np.broadcast_to(snap[:, None, :], Np.shape)] = 0.0
    Nq[snap] = 0.0
    return Np, Nq


# ---------------------------------------------------------------------------- numba versions

if HAVE_NUMBA:  # pragma: no branch

    @numba.njit(cache=True, nogil=True)
    def _constant_nb(zs, zt, zq, wlin, wconst, rtol):  # pragma: no cover - compiled
        """One unit of :func:`_constant_np`."""
        ds = zs * wconst - zq * wlin[0]
        dt = zt * wconst - zq * wlin[1]
        return np.sqrt(ds * ds + dt * dt) <= rtol * abs(zq) * np.sqrt(wlin[0] * wlin[0] + wlin[1] * wlin[1])

    @numba.njit(cache=True, nogil=True)
    def _candidates_nb(cen, radius, Zp, Zq, bps, wlin, wconst, rtol):  # pragma: no cover - compiled
        n, _, m = Zp.shape
        nb = bps.shape[0]
        ref = np.zeros((n, m), dtype=np.int8)
        counts = np.zeros(n + 1, dtype=np.int64)
        for c in range(n):
            s, t = cen[c, 0], cen[c, 1]
            wc = s * wlin[0] + t * wlin[1] + wconst
            cnt = 0
            for j in range(m):
                z = s * Zp[c, 0, j] + t * Zp[c, 1, j] + Zq[c, j]
                const = _constant_nb(Zp[c, 0, j], Zp[c, 1, j], Zq[c, j], wlin, wconst, rtol)
                p = 0
                for bi in range(nb):
                    beta = bps[bi]
                    f = z - beta * wc
                    if f > 0:
                        p += 1
                    gs = Zp[c, 0, j] - beta * wlin[0]
                    gt = Zp[c, 1, j] - beta * wlin[1]
                    if not const and abs(f) < radius[c] * np.sqrt(gs * gs + gt * gt) * (1 + rtol) + 1e-300:
                        cnt += 1
                ref[c, j] = p
            counts[c + 1] = cnt
        first = np.cumsum(counts)
        units = np.empty(first[n], dtype=np.int64)
        for c in range(n):
            s, t = cen[c, 0], cen[c, 1]
            wc = s * wlin[0] + t * wlin[1] + wconst
            pos = first[c]
            for j in range(m):
                z = s * Zp[c, 0, j] + t * Zp[c, 1, j] + Zq[c, j]
                if _constant_nb(Zp[c, 0, j], Zp[c, 1, j], Zq[c, j], wlin, wconst, rtol):
                    continue
                for bi in range(nb):
                    beta = bps[bi]
                    f = z - beta * wc
                    gs = Zp[c, 0, j] - beta * wlin[0]
                    gt = Zp[c, 1, j] - beta * wlin[1]
                    if abs(f) < radius[c] * np.sqrt(gs * gs + gt * gt) * (1 + rtol) + 1e-300:
                        units[pos] = j + bi * m
                        pos += 1
        # sort each cell's list by the key (unit + breakpoint * m) to match the NumPy order
        for c in range(n):
            units[first[c]:first[c + 1]] = np.sort(units[first[c]:first[c + 1]])
        return ref, first, units

    @numba.njit(cache=True, nogil=True)
    def _child_pieces_nb(cen, anc, Zp, Zq, ref, first, units, bps, wlin, wconst):  # pragma: no cover
        n = anc.shape[0]
        k = Zp.shape[1]
        m = Zq.shape[1]
        nb = bps.shape[0]
        piece = np.empty((n, m), dtype=np.int8)
        for c in range(n):
            a = anc[c]
            for j in range(m):
                piece[c, j] = ref[a, j]
            wc = wconst
            for d in range(k):
                wc += cen[c, d] * wlin[d]
            for q in range(first[a], first[a + 1]):
                j = units[q] % m
                z = Zq[a, j]
                for d in range(k):
                    z += cen[c, d] * Zp[a, d, j]
                p = 0
                for bi in range(nb):
                    if z - bps[bi] * wc > 0:
                        p += 1
                piece[c, j] = p
        return piece

    @numba.njit(cache=True, nogil=True, inline="always")
    def _scale_of(Rp, Rq, a, S):  # pragma: no cover - compiled
        """``S = |Rq[a]| + Σ_d |Rp[a, d]|``: the magnitude an output map starts from."""
        for o in range(Rq.shape[1]):
            S[o] = abs(Rq[a, o])
        for d in range(Rp.shape[1]):
            for o in range(Rq.shape[1]):
                S[o] += abs(Rp[a, d, o])

    @numba.njit(cache=True, nogil=True, inline="always")
    def _add_change(Np, Nq, S, c, a, j, pc, pr, Zp, Zq, slopes, icpts, WnT, wlin, wconst, v
                    ):  # pragma: no cover - compiled
        """Add to child ``c``'s next-layer map the rank-1 term of unit ``j`` moving from piece
        ``pr`` to ``pc`` (ancestor ``a``'s pre-activation map), and its magnitude to ``S``."""
        k = Zp.shape[1]
        mn = Nq.shape[1]
        ds = slopes[pc] - slopes[pr]
        dc = icpts[pc] - icpts[pr]
        va = 0.0
        for d in range(k):
            v[d] = ds * Zp[a, d, j] + dc * wlin[d]
            va += abs(v[d])
        vq = ds * Zq[a, j] + dc * wconst
        va += abs(vq)
        for d in range(k):
            vd = v[d]
            for o in range(mn):
                Np[c, d, o] += vd * WnT[j, o]
        for o in range(mn):
            wo = WnT[j, o]
            Nq[c, o] += vq * wo
            S[o] += va * abs(wo)

    @numba.njit(cache=True, nogil=True)
    def _child_maps_nb(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, WnT, wlin, wconst,
                       first, units):  # pragma: no cover - compiled
        # WnT is the next layer's weight transposed, (m, mn) C-contiguous: the updates
        # below run along contiguous rows (vectorised)
        n = anc.shape[0]
        k = Zp.shape[1]
        m = Zq.shape[1]
        mn = Rq.shape[1]
        Np = np.empty((n, k, mn))
        Nq = np.empty((n, mn))
        S = np.empty(mn)  # sum of |terms| added into each output: the scale of its rounding error
        seen = np.zeros(m, dtype=np.int64)
        changed = np.empty(m, dtype=np.int64)
        v = np.empty(k)
        for c in range(n):
            a = anc[c]
            for d in range(k):
                for o in range(mn):
                    Np[c, d, o] = Rp[a, d, o]
            for o in range(mn):
                Nq[c, o] = Rq[a, o]
            n_changed = 0
            for q in range(first[a], first[a + 1]):
                j = units[q] % m
                if seen[j] == c + 1:
                    continue  # a unit listed for several breakpoints is corrected once
                seen[j] = c + 1
                if piece[c, j] != ref[a, j]:
                    changed[n_changed] = j
                    n_changed += 1
            if n_changed == 0:
                continue
            _scale_of(Rp, Rq, a, S)
            for t in range(n_changed):
                j = changed[t]
                _add_change(Np, Nq, S, c, a, j, piece[c, j], ref[a, j], Zp, Zq, slopes, icpts, WnT,
                            wlin, wconst, v)
            _snap_cancelled(Np, Nq, S, c)
        return Np, Nq

    @numba.njit(cache=True, nogil=True, inline="always")
    def _snap_cancelled(Np, Nq, S, c):  # pragma: no cover - compiled
        """Set to exactly 0 an output map that cancelled to rounding noise (see ``snap_cancelled``)."""
        k = Np.shape[1]
        for o in range(Nq.shape[1]):
            r = abs(Nq[c, o])
            for d in range(k):
                r += abs(Np[c, d, o])
            if r <= _CANCEL_RTOL * S[o]:
                Nq[c, o] = 0.0
                for d in range(k):
                    Np[c, d, o] = 0.0


if HAVE_NUMBA:  # pragma: no branch

    @numba.njit(cache=True, nogil=True)
    def _split_poly_nb(src, ns, f, rtol, pos, npos, neg, nneg):  # pragma: no cover - compiled
        """Split polygon ``src[:ns]`` by the zero line of ``f``; returns (n_pos, n_neg) or (-1, -1)."""
        scale = 0.0
        for i in range(ns):
            if abs(f[i]) > scale:
                scale = abs(f[i])
        eps = rtol * scale
        has_p = False
        has_n = False
        for i in range(ns):
            if f[i] > eps:
                has_p = True
            elif f[i] < -eps:
                has_n = True
        if not (has_p and has_n):
            return -1, -1
        a = 0
        b = 0
        for i in range(ns):
            nx = i + 1 if i + 1 < ns else 0
            fi = f[i] if abs(f[i]) > eps else 0.0
            fn = f[nx] if abs(f[nx]) > eps else 0.0
            if fi >= 0:
                pos[npos + a, 0] = src[i, 0]
                pos[npos + a, 1] = src[i, 1]
                a += 1
            if fi <= 0:
                neg[nneg + b, 0] = src[i, 0]
                neg[nneg + b, 1] = src[i, 1]
                b += 1
            if fi * fn < 0:
                lam = fi / (fi - fn)
                x = src[i, 0] + lam * (src[nx, 0] - src[i, 0])
                y = src[i, 1] + lam * (src[nx, 1] - src[i, 1])
                pos[npos + a, 0] = x
                pos[npos + a, 1] = y
                a += 1
                neg[nneg + b, 0] = x
                neg[nneg + b, 1] = y
                b += 1
        return a, b

    @numba.njit(cache=True, nogil=True)
    def _refine_nb(verts, offs, Zp, Zq, first, units, bps, wlin, wconst, rtol):  # pragma: no cover
        n0 = offs.shape[0] - 1
        m = Zq.shape[1]
        cap_v = verts.shape[0] * 4 + 64
        cap_c = n0 * 4 + 16
        out_v = np.empty((cap_v, 2))
        out_sizes = np.empty(cap_c, dtype=np.int64)
        out_anc = np.empty(cap_c, dtype=np.int64)
        nv_out = 0
        nc_out = 0
        for a in range(n0):
            k = first[a + 1] - first[a]
            nverts = offs[a + 1] - offs[a]
            bufcap = 4 * (nverts + k + 4)
            cur = np.empty((bufcap, 2))
            nxt = np.empty((bufcap, 2))
            cur_sz = np.empty(k + 2, dtype=np.int64)
            nxt_sz = np.empty(k + 2, dtype=np.int64)
            fbuf = np.empty(nverts + k + 2)
            for i in range(nverts):
                cur[i, 0] = verts[offs[a] + i, 0]
                cur[i, 1] = verts[offs[a] + i, 1]
            cur_sz[0] = nverts
            npoly = 1
            for q in range(first[a], first[a + 1]):
                key = units[q]
                j = key % m
                beta = bps[key // m]
                gs = Zp[a, 0, j] - beta * wlin[0]
                gt = Zp[a, 1, j] - beta * wlin[1]
                g0 = Zq[a, j] - beta * wconst
                start = 0
                nstart = 0
                nn = 0
                for pi in range(npoly):
                    sz = cur_sz[pi]
                    if nstart + 2 * sz + 4 > nxt.shape[0]:  # grow the buffers
                        bufcap = 2 * (nstart + 2 * sz + 4)
                        grown = np.empty((bufcap, 2))
                        grown[:nstart] = nxt[:nstart]
                        nxt = grown
                        grown2 = np.empty((bufcap, 2))
                        grown2[: cur.shape[0]] = cur
                        cur = grown2
                    if nn + 2 > nxt_sz.shape[0]:
                        g1 = np.empty(2 * (nn + 2), dtype=np.int64)
                        g1[:nn] = nxt_sz[:nn]
                        nxt_sz = g1
                        g2 = np.empty(2 * (nn + 2), dtype=np.int64)
                        g2[: cur_sz.shape[0]] = cur_sz
                        cur_sz = g2
                    for i in range(sz):
                        fbuf[i] = cur[start + i, 0] * gs + cur[start + i, 1] * gt + g0
                    na, nb_ = _split_poly_nb(cur[start:start + sz], sz, fbuf, rtol, nxt, nstart, nxt,
                                             nstart + sz + 2)
                    if na < 0:
                        for i in range(sz):
                            nxt[nstart + i, 0] = cur[start + i, 0]
                            nxt[nstart + i, 1] = cur[start + i, 1]
                        nxt_sz[nn] = sz
                        nn += 1
                        nstart += sz
                    else:
                        # the negative half was written after a gap: close it up
                        for i in range(nb_):
                            nxt[nstart + na + i, 0] = nxt[nstart + sz + 2 + i, 0]
                            nxt[nstart + na + i, 1] = nxt[nstart + sz + 2 + i, 1]
                        nxt_sz[nn] = na
                        nxt_sz[nn + 1] = nb_
                        nn += 2
                        nstart += na + nb_
                    start += sz
                cur, nxt = nxt, cur
                cur_sz, nxt_sz = nxt_sz, cur_sz
                npoly = nn
            # append the pieces of this ancestor
            total = 0
            for pi in range(npoly):
                total += cur_sz[pi]
            if nv_out + total > cap_v:
                cap_v = max(2 * cap_v, nv_out + total)
                grown = np.empty((cap_v, 2))
                grown[:nv_out] = out_v[:nv_out]
                out_v = grown
            if nc_out + npoly > cap_c:
                cap_c = max(2 * cap_c, nc_out + npoly)
                gs_ = np.empty(cap_c, dtype=np.int64)
                ga_ = np.empty(cap_c, dtype=np.int64)
                gs_[:nc_out] = out_sizes[:nc_out]
                ga_[:nc_out] = out_anc[:nc_out]
                out_sizes = gs_
                out_anc = ga_
            for i in range(total):
                out_v[nv_out + i, 0] = cur[i, 0]
                out_v[nv_out + i, 1] = cur[i, 1]
            nv_out += total
            for pi in range(npoly):
                out_sizes[nc_out] = cur_sz[pi]
                out_anc[nc_out] = a
                nc_out += 1
        out_offs = np.zeros(nc_out + 1, dtype=np.int64)
        for c in range(nc_out):
            out_offs[c + 1] = out_offs[c] + out_sizes[c]
        return out_v[:nv_out].copy(), out_offs, out_anc[:nc_out].copy()


def refine(verts, offs, Zp, Zq, first, units, bps, wlin, wconst, rtol):
    """Compiled splitting of every cell by its candidate lines, or ``None`` without numba."""
    if not use_numba() or Zp.shape[1] != 2:
        return None
    return _refine_nb(verts, offs.astype(np.int64), np.ascontiguousarray(Zp), np.ascontiguousarray(Zq),
                      first, units, bps, wlin, float(wconst), float(rtol))


if HAVE_NUMBA:  # pragma: no branch

    @numba.njit(cache=True, nogil=True)
    def _chain_maps_nb(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, WnT, wlin, wconst,
                       first, units):  # pragma: no cover - compiled
        """Like ``_child_maps_nb`` for cells ordered along a line: each child of an ancestor
        starts from the previous child's map and adds only the units that changed."""
        n = anc.shape[0]
        k = Zp.shape[1]
        m = Zq.shape[1]
        mn = Rq.shape[1]
        Np = np.empty((n, k, mn))
        Nq = np.empty((n, mn))
        S = np.empty(mn)  # as in _child_maps_nb, carried along a chain
        s_ready = False   # S holds the current chain's scale (set at its first change)
        seen = np.zeros(m, dtype=np.int64)
        changed = np.empty(m, dtype=np.int64)
        v = np.empty(k)
        for c in range(n):
            a = anc[c]
            chained = c > 0 and anc[c - 1] == a
            if chained:
                for d in range(k):
                    for o in range(mn):
                        Np[c, d, o] = Np[c - 1, d, o]
                for o in range(mn):
                    Nq[c, o] = Nq[c - 1, o]
            else:
                s_ready = False
                for d in range(k):
                    for o in range(mn):
                        Np[c, d, o] = Rp[a, d, o]
                for o in range(mn):
                    Nq[c, o] = Rq[a, o]
            n_changed = 0
            for q in range(first[a], first[a + 1]):
                j = units[q] % m
                if seen[j] == c + 1:
                    continue
                seen[j] = c + 1
                pr = piece[c - 1, j] if chained else ref[a, j]
                if piece[c, j] != pr:
                    changed[n_changed] = j
                    n_changed += 1
            if n_changed == 0:
                continue
            if not s_ready:
                _scale_of(Rp, Rq, a, S)
                s_ready = True
            for t in range(n_changed):
                j = changed[t]
                pr = piece[c - 1, j] if chained else ref[a, j]
                _add_change(Np, Nq, S, c, a, j, piece[c, j], pr, Zp, Zq, slopes, icpts, WnT,
                            wlin, wconst, v)
            _snap_cancelled(Np, Nq, S, c)
        return Np, Nq


def chain_maps(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, Wn, wlin, wconst, first, units):
    """Next-layer maps of cells ordered along a line (compiled only; see :func:`child_maps`)."""
    return _chain_maps_nb(anc, piece, ref, np.ascontiguousarray(Zp), np.ascontiguousarray(Zq), slopes, icpts,
                          Rp, Rq, np.ascontiguousarray(Wn.T), wlin, float(wconst), first, units)


if HAVE_NUMBA:  # pragma: no branch

    @numba.njit(cache=True, nogil=True)
    def _segment_layer_nb(seg, t_lo, t_hi, Zp, Zq, bps, slopes, icpts, tol, ttol):  # pragma: no cover
        """One layer of the 1-D engine for all cells at once.

        Returns the reference pieces (at each cell's midpoint), the post-activation maps
        with those pieces, the candidate lists (units crossing each cell) and the child
        cells (segment, t_lo, t_hi, ancestor), in (segment, t) order.
        """
        n, _, m = Zp.shape
        nb = bps.shape[0]
        ref = np.zeros((n, m), dtype=np.int8)
        Pp = np.empty((n, 1, m))
        Pq = np.empty((n, m))
        counts = np.zeros(n + 1, dtype=np.int64)
        cap = 4 * n + 16
        cu = np.empty(cap, dtype=np.int64)
        ct = np.empty(cap)
        cc = np.empty(cap, dtype=np.int64)
        flag = np.zeros(m, dtype=np.uint8)
        nc = 0
        for c in range(n):
            tl, th = t_lo[c], t_hi[c]
            tm = 0.5 * (tl + th)
            # pass 1, branch-free (vectorised): piece at the midpoint, reference maps, and
            # a flag per unit whose level set may cross the cell
            for j in range(m):
                zp = Zp[c, 0, j]
                zq = Zq[c, j]
                p = np.int8(0)
                f = np.uint8(0)
                for bi in range(nb):
                    beta = bps[bi]
                    p += np.int8(zp * tm + zq - beta > 0)
                    flo = zp * tl + zq - beta
                    fhi = zp * th + zq - beta
                    eps = tol * max(abs(flo), abs(fhi))
                    f |= ((flo > eps) & (fhi < -eps)) | ((flo < -eps) & (fhi > eps))
                flag[j] = f
                ref[c, j] = p
                Pp[c, 0, j] = slopes[p] * zp
                Pq[c, j] = slopes[p] * zq + icpts[p]
            # pass 2, over the flagged units only: the crossing points inside the cell
            for j in range(m):
                if flag[j] == 0:
                    continue
                zp = Zp[c, 0, j]
                zq = Zq[c, j]
                for bi in range(nb):
                    beta = bps[bi]
                    flo = zp * tl + zq - beta
                    fhi = zp * th + zq - beta
                    eps = tol * max(abs(flo), abs(fhi))
                    if (flo > eps and fhi < -eps) or (flo < -eps and fhi > eps):
                        tc = (beta - zq) / zp
                        if tc > tl + ttol and tc < th - ttol:
                            if nc == cap:
                                cap *= 2
                                g1 = np.empty(cap, dtype=np.int64)
                                g1[:nc] = cu[:nc]
                                cu = g1
                                g2 = np.empty(cap)
                                g2[:nc] = ct[:nc]
                                ct = g2
                                g3 = np.empty(cap, dtype=np.int64)
                                g3[:nc] = cc[:nc]
                                cc = g3
                            cu[nc] = j + bi * m
                            ct[nc] = tc
                            cc[nc] = c
                            nc += 1
                            counts[c + 1] += 1
        first = np.cumsum(counts)
        # children: per cell, its crossings sorted by t, near-duplicates merged
        n_child = n + nc
        s_out = np.empty(n_child, dtype=np.int64)
        lo_out = np.empty(n_child)
        hi_out = np.empty(n_child)
        a_out = np.empty(n_child, dtype=np.int64)
        units = np.empty(nc, dtype=np.int64)
        k = 0
        for c in range(n):
            f0, f1 = first[c], first[c + 1]
            # insertion sort of this cell's crossings by t (lists are short); no allocation
            for i in range(f0, f1):
                units[i] = cu[i]
            for i in range(f0 + 1, f1):
                tv = ct[i]
                j = i - 1
                while j >= f0 and ct[j] > tv:
                    ct[j + 1] = ct[j]
                    j -= 1
                ct[j + 1] = tv
            cur = t_lo[c]
            for i in range(f0, f1):
                if ct[i] - cur <= ttol:
                    continue
                s_out[k] = seg[c]
                lo_out[k] = cur
                hi_out[k] = ct[i]
                a_out[k] = c
                k += 1
                cur = ct[i]
            s_out[k] = seg[c]
            lo_out[k] = cur
            hi_out[k] = t_hi[c]
            a_out[k] = c
            k += 1
        return ref, Pp, Pq, first, units, s_out[:k].copy(), lo_out[:k].copy(), hi_out[:k].copy(), a_out[:k].copy()


def segment_layer(seg, t_lo, t_hi, Zp, Zq, bps, slopes, icpts, tol, ttol):
    """Compiled 1-D layer step (see ``_segment_layer_nb``)."""
    return _segment_layer_nb(seg, t_lo, t_hi, np.ascontiguousarray(Zp), np.ascontiguousarray(Zq), bps,
                             np.asarray(slopes, dtype=np.float64), np.asarray(icpts, dtype=np.float64),
                             float(tol), float(ttol))


# ---------------------------------------------------------------------------- dispatch

def candidates(cen, radius, Zp, Zq, bps, wlin, wconst, rtol):
    """Reference pieces (n, m) at the centroids and candidate lists ``(first, units)``.

    ``units[first[c]:first[c+1]]`` lists ``j + b * m`` for every unit ``j`` and
    breakpoint index ``b`` whose level set may meet cell ``c``, sorted.
    """
    if use_numba():
        return _candidates_nb(cen, radius, np.ascontiguousarray(Zp), np.ascontiguousarray(Zq),
                              bps, wlin, float(wconst), float(rtol))
    return _candidates_np(cen, radius, Zp, Zq, bps, wlin, wconst, rtol)


def child_pieces(cen, anc, Zp, Zq, ref, first, units, bps, wlin, wconst):
    """Pieces (n, m) of every child cell from an interior point ``cen`` (n, k)."""
    if use_numba():
        return _child_pieces_nb(np.ascontiguousarray(cen), anc, np.ascontiguousarray(Zp),
                                np.ascontiguousarray(Zq), ref, first, units, bps, wlin, float(wconst))
    return _child_pieces_np(cen, anc, Zp, Zq, ref, first, units, bps, wlin, wconst)


def child_maps(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, Wn, wlin, wconst, first, units):
    """Next-layer maps of every child: ancestor map ``(Rp, Rq)`` plus rank-k corrections."""
    if use_numba():
        return _child_maps_nb(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, np.ascontiguousarray(Wn.T),
                              wlin, float(wconst), first, units)
    return _child_maps_np(anc, piece, ref, Zp, Zq, slopes, icpts, Rp, Rq, Wn, wlin, wconst)
