"""The 2-D engine: cells are convex polygons in a chart ``(s, t)`` of the plane.

A chart is either the plane's own coordinates (``w ≡ 1``: boxes and polygons) or
one of four triangles ``{s, t >= 0, s + t <= 1}`` of the homogeneous surface
``|σ| + |τ| + w = 1`` (``w = 1 - s - t``), which together cover the *whole*
unbounded plane: the plane point is ``(σ, τ) = (ε_s s, ε_t t) / w``. Positive
scaling keeps every sign, so the partition of the chart is exact (DESIGN §2).

Work proceeds layer by layer and, for memory, depth first over chunks of cells:
a chunk is pushed through the remaining layers before the next one is started,
so the peak memory is bounded by the chunk size times the layer width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..network import Network
from . import _kernels as _k
from . import _polygons as poly
from ._recurrence import (
    Homog,
    apply_activation,
    preactivation,
    split_breakpoints,
)

__all__ = ["Cells", "run_plane"]


@dataclass
class Cells:
    """A batch of cells: flat polygons, their current affine maps and patterns so far."""

    verts: np.ndarray  # (n_vertices, 2) chart coordinates
    offs: np.ndarray  # (n_cells + 1,)
    P: np.ndarray  # (n_cells, 2, width) pre-activation map of the next layer (output map at the end)
    q: np.ndarray  # (n_cells, width)
    tag: np.ndarray  # (n_cells,) initial polygon (chart) of each cell
    pieces: list[np.ndarray]  # per processed layer: (n_cells, width_l) int8

    @property
    def n(self) -> int:
        return len(self.offs) - 1

    def take(self, idx: np.ndarray) -> Cells:
        """The sub-batch of cells ``idx`` (sorted)."""
        counts = np.diff(self.offs)[idx]
        starts = self.offs[:-1][idx]
        offs = np.concatenate([[0], np.cumsum(counts)])
        vidx = np.repeat(starts - offs[:-1], counts) + np.arange(offs[-1])
        return Cells(
            self.verts[vidx], offs, self.P[idx], self.q[idx], self.tag[idx],
            [p[idx] for p in self.pieces],
        )


def _refine_layer(cells: Cells, Zp: np.ndarray, Zq: np.ndarray, bps: np.ndarray, w: Homog,
                  rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``cells`` by every unit of one layer.

    Returns (verts, offs, ancestor index, (pieces at each ancestor's centroid,
    candidate list offsets, candidate units)).

    A cheap test first lists, per cell, the units whose line can meet it (distance
    from the centroid to the line ≤ the cell's radius). Then step ``r`` cuts every
    live cell by the ``r``-th listed unit of its ancestor, all cells at once; cells
    whose list is exhausted retire. So the Python loop runs over list positions
    (at most the layer width, usually a handful), never over cells.
    """
    n0 = cells.n
    m = Zq.shape[1]
    cen = poly.centroids(cells.verts, cells.offs)
    cell_of = poly.cell_index(cells.offs)
    radius = np.maximum.reduceat(np.hypot(*(cells.verts - cen[cell_of]).T), cells.offs[:-1])
    ref_piece, first, cu = _k.candidates(cen, radius, Zp, Zq, bps, w.lin, w.const, rtol)
    n_cand = np.diff(first)
    compiled = _k.refine(cells.verts, cells.offs, Zp, Zq, first, cu, bps, w.lin, w.const, rtol)
    if compiled is not None:
        return (*compiled, (ref_piece, first, cu))
    # working set (live cells) and retired cells
    verts, offs, anc = cells.verts, cells.offs, np.arange(n0)
    done_v, done_c, done_a = [], [], []
    r = 0
    while len(anc):
        live = n_cand[anc] > r
        if not live.all():
            dead_cells = np.flatnonzero(~live)
            dv, do = _take_polys(verts, offs, dead_cells)
            done_v.append(dv)
            done_c.append(np.diff(do))
            done_a.append(anc[dead_cells])
            keep = np.flatnonzero(live)
            verts, offs = _take_polys(verts, offs, keep)
            anc = anc[keep]
            if not len(anc):
                break
        k = cu[first[anc] + r]  # the unit (and breakpoint) cutting each live cell now
        unit, bi = k % m, k // m
        beta = bps[bi]
        counts = np.diff(offs)
        rep_a, rep_u, rep_b = (np.repeat(x, counts) for x in (anc, unit, beta))
        f = (verts[:, 0] * Zp[rep_a, 0, rep_u] + verts[:, 1] * Zp[rep_a, 1, rep_u] + Zq[rep_a, rep_u]
             - rep_b * w.at(verts))
        cut, (pv, po), (nv, no) = poly.split(verts, offs, f, rtol)
        if cut.any():
            stay = np.flatnonzero(~cut)
            sv, so = _take_polys(verts, offs, stay)
            verts = np.concatenate([sv, pv, nv])
            offs = np.concatenate([[0], np.cumsum(np.concatenate([np.diff(so), np.diff(po), np.diff(no)]))])
            a_cut = anc[cut]
            anc = np.concatenate([anc[stay], a_cut, a_cut])
        r += 1
    done_v.append(verts)
    done_c.append(np.diff(offs))
    done_a.append(anc)
    out_offs = np.concatenate([[0], np.cumsum(np.concatenate(done_c))])
    return (np.concatenate(done_v), out_offs.astype(np.int64), np.concatenate(done_a),
            (ref_piece, first, cu))


def _take_polys(verts: np.ndarray, offs: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons ``idx`` of a flat polygon array."""
    counts = np.diff(offs)[idx]
    new_offs = np.concatenate([[0], np.cumsum(counts)])
    vidx = np.repeat(offs[:-1][idx] - new_offs[:-1], counts) + np.arange(new_offs[-1])
    return verts[vidx], new_offs


def _process_layer(cells: Cells, net: Network, li: int, w: Homog, include_output: bool,
                   rtol: float) -> Cells:
    """Split by layer ``li`` (whose pre-activation maps ``cells`` hold); map to layer ``li + 1``."""
    layer = net.layers[li]
    last = li == net.depth - 1
    Zp, Zq = cells.P, cells.q
    bps = split_breakpoints(layer.activation, split_linear=last and include_output)
    if last and not include_output:
        bps = np.zeros(0)
    pieces = list(cells.pieces)
    act = layer.activation
    if bps.size:
        verts, offs, anc, (ref, first, units) = _refine_layer(cells, Zp, Zq, bps, w, rtol)
        pieces = [p[anc] for p in pieces]
        piece = _k.child_pieces(poly.centroids(verts, offs), anc, Zp, Zq, ref, first, units, bps,
                                w.lin, w.const)
    else:
        verts, offs, anc = cells.verts, cells.offs, np.arange(cells.n)
        piece = ref = np.zeros(Zq.shape, dtype=np.int8)
        first, units = np.zeros(cells.n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if not last or include_output:
        pieces.append(piece)
    if last:
        P, q = apply_activation(Zp[anc], Zq[anc], act, piece, w)
    else:
        Rp, Rq = preactivation(*apply_activation(Zp, Zq, act, ref, w), net.layers[li + 1], w)
        if act.is_linear:
            P, q = Rp[anc], Rq[anc]
        else:
            P, q = _k.child_maps(anc, piece, ref, Zp, Zq, act.slopes, act.intercepts, Rp, Rq,
                                 net.layers[li + 1].weight, w.lin, w.const, first, units)
    return Cells(verts, offs, P, q, cells.tag[anc], pieces)


def run_plane(
    net: Network,
    cells: Cells,
    w: Homog,
    *,
    include_output: bool = False,
    rtol: float = 1e-9,
    chunk: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> list[Cells]:
    """Push ``cells`` through every layer; returns the final cells in batches.

    ``cells.P, cells.q`` hold the input map; the returned batches hold output maps.

    ``progress(n)`` is called with the number of final cells of each batch.
    """
    Zp, Zq = preactivation(cells.P, cells.q, net.layers[0], w)
    cells = Cells(cells.verts, cells.offs, Zp, Zq, cells.tag, cells.pieces)
    stack: list[tuple[int, Cells]] = [(0, cells)]
    done: list[Cells] = []
    while stack:
        li, batch = stack.pop()
        if li == net.depth:
            done.append(batch)
            if progress is not None:
                progress(batch.n)
            continue
        out = _process_layer(batch, net, li, w, include_output, rtol)
        if out.n > chunk and li + 1 < net.depth:
            for start in reversed(range(0, out.n, chunk)):
                stack.append((li + 1, out.take(np.arange(start, min(out.n, start + chunk)))))
        else:
            stack.append((li + 1, out))
    return done
