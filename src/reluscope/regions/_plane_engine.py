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
from functools import partial

import numpy as np

from ..network import Network
from . import _kernels as _k
from . import _polygons as poly
from ._patterns import pack
from ._recurrence import (
    Homog,
    apply_activation,
    preactivation,
    split_breakpoints,
)
from ._threads import in_threads

__all__ = ["Cells", "FinalCells", "run_plane", "pattern_bits"]


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

    def slice(self, start: int, stop: int) -> Cells:
        """Cells ``start:stop`` as views (no copy); ``P, q`` are left for the caller."""
        v0, v1 = self.offs[start], self.offs[stop]
        return Cells(self.verts[v0:v1], self.offs[start:stop + 1] - v0, None, None,  # type: ignore[arg-type]
                     self.tag[start:stop], [p[start:stop] for p in self.pieces])

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


@dataclass
class FinalCells:
    """Cells that went through every layer: output maps and packed patterns (no per-unit int8)."""

    verts: np.ndarray  # (n_vertices, 2) chart coordinates
    offs: np.ndarray  # (n_cells + 1,)
    P: np.ndarray  # (n_cells, 2, n_out) output map
    q: np.ndarray  # (n_cells, n_out)
    tag: np.ndarray  # (n_cells,)
    packed: np.ndarray  # (n_cells, n_bytes) uint8, see :func:`._patterns.pack`

    @property
    def n(self) -> int:
        return len(self.offs) - 1


def pattern_bits(net: Network, include_output: bool) -> int:
    """Bits per unit that hold every piece index the engine can assign."""
    most = 1
    for li, layer in enumerate(net.layers):
        last = li == net.depth - 1
        if last and not include_output:
            continue
        most = max(most, len(split_breakpoints(layer.activation, split_linear=last)) + 1)
    return max(1, int(np.ceil(np.log2(most))))


def _finish(cells: Cells, n_bits: int) -> FinalCells:
    """Pack the patterns of a finished batch: 1-2 bits per unit instead of an int8."""
    pat = np.concatenate(cells.pieces, axis=1) if cells.pieces else np.zeros((cells.n, 0), np.int8)
    return FinalCells(cells.verts, cells.offs, cells.P, cells.q, cells.tag, pack(pat, n_bits))


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


MapsOf = Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def _process_layer(cells: Cells, net: Network, li: int, w: Homog, include_output: bool,
                   rtol: float) -> tuple[Cells, MapsOf]:
    """Split by layer ``li`` (whose pre-activation maps ``cells`` hold).

    Returns the children, without their maps, and ``maps(start, stop)``: the maps of
    children ``start:stop`` into layer ``li + 1`` (the output maps after the last layer).
    Maps are the bulk of a cell's memory (``3 × width`` floats), so the caller computes
    them per chunk, just before the chunk is processed.
    """
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
    children = Cells(verts, offs, None, None, cells.tag[anc], pieces)  # type: ignore[arg-type]
    if last:
        def maps(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
            return apply_activation(Zp[anc[a:b]], Zq[anc[a:b]], act, piece[a:b], w)
        return children, maps
    Rp, Rq = preactivation(*apply_activation(Zp, Zq, act, ref, w), net.layers[li + 1], w)
    if act.is_linear:
        def maps(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
            return Rp[anc[a:b]], Rq[anc[a:b]]
        return children, maps
    Wn = net.layers[li + 1].weight

    def maps(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        return _k.child_maps(anc[a:b], piece[a:b], ref, Zp, Zq, act.slopes, act.intercepts, Rp, Rq,
                             Wn, w.lin, w.const, first, units)
    return children, maps


#: bytes of next-layer maps (``3 × width`` floats per cell) one batch may hold
_MAP_BUDGET = 8 << 20


def _chunk_for(net: Network, li: int, chunk: int) -> int:
    """Cells per batch entering layer ``li``: ``chunk``, fewer for wide layers (memory)."""
    width = net.layers[li].weight.shape[0]
    return int(min(chunk, max(256, _MAP_BUDGET // (24 * width))))


_Item = tuple[int, Cells, MapsOf, int, int]
#: from ``_MIN_THREADED`` first-layer cells on, they are cut into at least ``_N_PARTS``
#: parts (of at least ``_MIN_PART`` cells), which threads process independently. Below it
#: threads cost more than they save (~2 ms a call). The cut does not depend on the number
#: of threads, so neither does the result (regions and their order).
_N_PARTS = 8
_MIN_PART = 64
_MIN_THREADED = 512


def _depth_first(stack: list[_Item], net: Network, w: Homog, include_output: bool, rtol: float,
                 chunk: int, n_bits: int, progress: Callable[[int], None] | None) -> list[FinalCells]:
    """Process work items ``(layer, parent's children, their maps, start, stop)`` depth first."""
    done: list[FinalCells] = []
    while stack:
        li, kids, maps, a, b = stack.pop()
        batch = kids.slice(a, b) if (a, b) != (0, kids.n) else kids
        batch.P, batch.q = maps(a, b)
        if li == net.depth:
            done.append(_finish(batch, n_bits))
            if progress is not None:
                progress(batch.n)
            continue
        out, out_maps = _process_layer(batch, net, li, w, include_output, rtol)
        step = _chunk_for(net, li + 1, chunk) if li + 1 < net.depth else max(out.n, 1)
        for start in reversed(range(0, max(out.n, 1), step)):
            stack.append((li + 1, out, out_maps, start, min(out.n, start + step)))
    return done


def run_plane(
    net: Network,
    cells: Cells,
    w: Homog,
    *,
    include_output: bool = False,
    rtol: float = 1e-9,
    chunk: int = 4096,
    progress: Callable[[int], None] | None = None,
    n_jobs: int = 1,
) -> list[FinalCells]:
    """Push ``cells`` through every layer; returns the final cells in batches.

    ``cells.P, cells.q`` hold the input map; the returned batches hold output maps
    and patterns packed with :func:`pattern_bits` bits per unit (packed as soon as a
    batch is finished, so a million regions of 1,500 units cost ~200 MB, not 1.5 GB).

    The cells of the first layer are cut into parts, each pushed through the other
    layers depth first; ``n_jobs`` threads share the parts (the compiled kernels and
    BLAS release the GIL). ``progress(n)`` is called with the number of final cells of
    each batch.
    """
    n_bits = pattern_bits(net, include_output)
    Zp, Zq = preactivation(cells.P, cells.q, net.layers[0], w)
    first = Cells(cells.verts, cells.offs, Zp, Zq, cells.tag, cells.pieces)
    out, out_maps = _process_layer(first, net, 0, w, include_output, rtol)
    # small jobs stay in one part (fewer, larger batches); the choice depends on the
    # network and the domain only, never on n_jobs
    size = max(_MIN_PART, -(-out.n // _N_PARTS)) if out.n >= _MIN_THREADED else max(out.n, 1)
    if net.depth > 1:
        size = min(size, _chunk_for(net, 1, chunk))
    parts: list[_Item] = [(1, out, out_maps, a, min(out.n, a + size)) for a in range(0, out.n, size)]
    args = (net, w, include_output, rtol, chunk, n_bits, progress)
    if n_jobs <= 1 or len(parts) == 1 or out.n < _MIN_THREADED:
        return _depth_first(parts[::-1], *args)
    tasks = [partial(_depth_first, [part], *args) for part in parts]
    return [batch for done in in_threads(tasks, n_jobs) for batch in done]
