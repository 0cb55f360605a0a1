"""Exact regions along line segments (1-D), batched over many segments.

Cells are intervals of the segment parameter ``t ∈ [0, 1]`` (``x = a + t (b - a)``).
Per cell, the input of the current layer is ``P t + q``; a unit whose
pre-activation crosses one of its activation's breakpoints inside a cell splits it
at ``t* = (β - q_z) / p_z`` (Hanin & Rolnick 2019, App. A: "add neurons one by one
and replace every region a neuron's zero set cuts by the two halves"). Everything is
vectorised over all cells and units of a layer, and over all segments at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, ShapeError
from .._validation import as_float_array, check_n_jobs
from ..network import Network
from . import _kernels as _k
from ._recurrence import Homog, apply_activation, pieces_at, preactivation, split_breakpoints
from ._threads import in_threads

__all__ = ["SegmentRegions", "SegmentBatch", "on_segment", "on_segments", "along_path"]

_T_TOL = 1e-12  # breakpoints closer than this (in t) are one breakpoint: no sliver pieces


@dataclass(frozen=True)
class SegmentRegions:
    """The pieces of a network along one segment ``x(t) = a + t (b - a)``, ``t ∈ [0, 1]``.

    Attributes
    ----------
    a, b : ndarray of shape (n_in,)
        End points.
    edges : ndarray of shape (n_pieces + 1,)
        ``0 = t_0 < t_1 < ... < t_n = 1``; piece ``i`` is ``[t_i, t_{i+1}]``.
    patterns : ndarray of int8, shape (n_pieces, n_units)
        Activation pattern of each piece (same unit order as :meth:`Network.pattern`).
    slope, intercept : ndarray of shape (n_pieces, n_out)
        The output on piece ``i`` is ``slope[i] * t + intercept[i]``.
    """

    a: np.ndarray
    b: np.ndarray
    edges: np.ndarray
    patterns: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    map_tol: float = 1e-9

    @property
    def breakpoints(self) -> np.ndarray:
        """Sorted breakpoints ``t ∈ (0, 1)`` between activation regions."""
        return self.edges[1:-1]

    @property
    def n_activation_regions(self) -> int:
        """Number of pieces with a constant activation pattern."""
        return len(self.edges) - 1

    @property
    def same_map_as_next(self) -> np.ndarray:
        """Bool (n_pieces - 1,): piece ``i`` has the same affine map as piece ``i + 1``."""
        return _equal_maps(self.slope, self.intercept, self.map_tol)

    @property
    def linear_edges(self) -> np.ndarray:
        """Edges of the linear pieces (activation pieces with equal maps merged)."""
        keep = np.concatenate([[True], ~self.same_map_as_next, [True]])
        return self.edges[keep]

    @property
    def n_linear_regions(self) -> int:
        """Number of linear pieces: consecutive pieces with equal affine maps merged."""
        return int(self.n_activation_regions - np.count_nonzero(self.same_map_as_next))

    @property
    def length(self) -> float:
        """Euclidean length ``||b - a||``."""
        return float(np.linalg.norm(self.b - self.a))

    @property
    def density(self) -> float:
        """Activation regions per unit length."""
        return self.n_activation_regions / self.length if self.length > 0 else float("inf")

    def points(self, t: Any) -> np.ndarray:
        """Input points ``a + t (b - a)`` for parameters ``t`` (shape (n,)) → (n, n_in)."""
        t = np.asarray(t, dtype=np.float64)
        return self.a + t[:, None] * (self.b - self.a)

    def locate(self, t: Any) -> np.ndarray:
        """Index of the piece containing each ``t`` (−1 outside ``[0, 1]``)."""
        t = np.asarray(t, dtype=np.float64)
        idx = np.searchsorted(self.edges, t, side="right") - 1
        idx = np.minimum(idx, self.n_activation_regions - 1)
        return np.where((t < 0) | (t > 1), -1, idx)

    def affine_x(self) -> tuple[np.ndarray, np.ndarray]:
        """For 1-D inputs: per piece ``(slope, intercept)`` of the output in ``x``.

        Returns arrays of shape (n_pieces, n_out): ``y = slope * x + intercept``.
        """
        if self.a.shape[0] != 1:
            raise ShapeError("affine_x() needs a network with a 1-D input.")
        d = float(self.b[0] - self.a[0])
        if d == 0:
            raise InvalidParameterError("affine_x() needs a segment of positive length.")
        s = self.slope / d
        return s, self.intercept - s * self.a[0]


@dataclass(frozen=True)
class SegmentBatch:
    """Exact pieces along many segments at once (see :func:`on_segments`).

    Attributes
    ----------
    starts, ends : ndarray of shape (n_segments, n_in)
    offsets : ndarray of shape (n_segments + 1,)
        Pieces of segment ``i`` are ``offsets[i]:offsets[i + 1]`` in the flat arrays.
    t_lo, t_hi : ndarray of shape (n_pieces_total,)
    patterns : int8 ndarray of shape (n_pieces_total, n_units)
    slope, intercept : ndarray of shape (n_pieces_total, n_out)
    """

    starts: np.ndarray
    ends: np.ndarray
    offsets: np.ndarray
    t_lo: np.ndarray
    t_hi: np.ndarray
    patterns: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    map_tol: float = 1e-9

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> SegmentRegions:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"segment index {i} out of range for {n} segments")
        i %= n
        s = slice(self.offsets[i], self.offsets[i + 1])
        edges = np.concatenate([self.t_lo[s], self.t_hi[s][-1:]])
        return SegmentRegions(
            self.starts[i], self.ends[i], edges, self.patterns[s], self.slope[s],
            self.intercept[s], self.map_tol,
        )

    @property
    def n_activation_regions(self) -> np.ndarray:
        """Pieces per segment, shape (n_segments,)."""
        return np.diff(self.offsets)

    @property
    def n_linear_regions(self) -> np.ndarray:
        """Linear pieces per segment (consecutive equal maps merged), shape (n_segments,)."""
        same = _equal_maps(self.slope, self.intercept, self.map_tol)
        # pairs that straddle two segments never merge
        same[self.offsets[1:-1] - 1] = False
        merged = np.add.reduceat(np.concatenate([same, [False]]).astype(np.int64), self.offsets[:-1])
        return self.n_activation_regions - merged

    @property
    def lengths(self) -> np.ndarray:
        """Euclidean length of each segment."""
        return np.linalg.norm(self.ends - self.starts, axis=1)

    @property
    def density(self) -> np.ndarray:
        """Activation regions per unit length, per segment."""
        with np.errstate(divide="ignore"):
            return self.n_activation_regions / self.lengths


def _equal_maps(slope: np.ndarray, intercept: np.ndarray, tol: float) -> np.ndarray:
    if len(slope) < 2:
        return np.zeros(0, dtype=bool)
    scale = 1.0 + max(float(np.max(np.abs(slope), initial=0)), float(np.max(np.abs(intercept), initial=0)))
    ds = np.max(np.abs(np.diff(slope, axis=0)), axis=1)
    di = np.max(np.abs(np.diff(intercept, axis=0)), axis=1)
    return (ds <= tol * scale) & (di <= tol * scale)


def _check_net(net: Any) -> Network:
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    return net


def _segment_cells(
    net: Network, starts: np.ndarray, ends: np.ndarray, include_output: bool, tol: float
) -> tuple[np.ndarray, ...]:
    """Core 1-D engine over all segments: returns seg, t_lo, t_hi, patterns, slope, intercept.

    Cells are kept sorted by (segment, t). Per layer: find where each unit crosses a
    breakpoint inside each cell (exactly, from the cell's affine map), split, then map
    the children to the next layer through their ancestor's map plus a rank-k
    correction for the k units that crossed it (see :mod:`._kernels`).
    """
    n_seg = starts.shape[0]
    seg = np.arange(n_seg)
    t_lo = np.zeros(n_seg)
    t_hi = np.ones(n_seg)
    w = Homog.ones(1)
    Zp, Zq = preactivation((ends - starts)[:, None, :], starts.copy(), net.layers[0], w)
    pieces: list[np.ndarray] = []
    n_layers = net.depth
    for li, layer in enumerate(net.layers):
        last = li == n_layers - 1
        act = layer.activation
        bps = split_breakpoints(act, split_linear=last and include_output)
        if last and not include_output:
            bps = np.zeros(0)
        n_anc = len(seg)
        anc = np.arange(n_anc)
        if bps.size and not act.is_linear and _k.use_numba():
            # compiled path: crossings, children, reference maps in one pass per layer
            ref, Pp, Pq, first, units, seg, t_lo, t_hi, anc = _k.segment_layer(
                seg, t_lo, t_hi, Zp, Zq, bps, act.slopes, act.intercepts, tol, _T_TOL)
            pieces = [p[anc] for p in pieces]
            mid = ((t_lo + t_hi) / 2)[:, None]
            piece = _k.child_pieces(mid, anc, Zp, Zq, ref, first, units, bps, w.lin, w.const)
            pieces.append(piece)
            if last:
                P, q = apply_activation(Zp[anc], Zq[anc], act, piece, w)
            else:
                Rp, Rq = preactivation(Pp, Pq, net.layers[li + 1], w)
                Zp, Zq = _k.chain_maps(anc, piece, ref, Zp, Zq, act.slopes, act.intercepts, Rp, Rq,
                                       net.layers[li + 1].weight, w.lin, w.const, first, units)
            continue
        if bps.size:
            zp = Zp[:, 0, :]
            cc, new_t = [], []
            for beta in bps:
                f_lo = zp * t_lo[:, None] + Zq - beta
                f_hi = zp * t_hi[:, None] + Zq - beta
                eps = tol * np.maximum(np.abs(f_lo), np.abs(f_hi))
                cross = ((f_lo > eps) & (f_hi < -eps)) | ((f_lo < -eps) & (f_hi > eps))
                c, u = np.nonzero(cross)
                tc = (beta - Zq[c, u]) / zp[c, u]
                ok = (tc > t_lo[c] + _T_TOL) & (tc < t_hi[c] - _T_TOL)
                cc.append(c[ok])
                new_t.append(tc[ok])
            cells = np.concatenate(cc)
            if cells.size:
                # all edges: existing cell starts and the new crossings
                all_seg = np.concatenate([seg, seg[cells]])
                all_t = np.concatenate([t_lo, np.concatenate(new_t)])
                is_old = np.zeros(all_t.shape, dtype=bool)
                is_old[:n_anc] = True
                order = np.lexsort((~is_old, all_t, all_seg))
                all_seg, all_t, is_old = all_seg[order], all_t[order], is_old[order]
                # crossings closer than _T_TOL to each other are one breakpoint (they are
                # never that close to an old edge: see `ok` above)
                dup = np.concatenate([[False], (np.diff(all_t) <= _T_TOL) & (np.diff(all_seg) == 0)])
                dup &= ~is_old
                all_seg, all_t, is_old = all_seg[~dup], all_t[~dup], is_old[~dup]
                nxt_same = np.concatenate([all_seg[1:] == all_seg[:-1], [False]])
                new_hi = np.where(nxt_same, np.roll(all_t, -1), 1.0)
                # each new cell lies in the last old cell that starts at or before it
                anc = np.cumsum(is_old) - 1
                seg, t_lo, t_hi = all_seg, all_t, new_hi
                pieces = [p[anc] for p in pieces]
        # dense NumPy path: every cell through its own map
        Zp, Zq = Zp[anc], Zq[anc]
        mid = ((t_lo + t_hi) / 2)[:, None]
        piece = pieces_at(Zp, Zq, mid, w, bps) if bps.size else np.zeros(Zq.shape, np.int8)
        if not last or include_output:
            pieces.append(piece)
        P, q = apply_activation(Zp, Zq, act, piece, w)
        if not last:
            Zp, Zq = preactivation(P, q, net.layers[li + 1], w)
    patterns = np.concatenate(pieces, axis=1) if pieces else np.zeros((len(seg), 0), np.int8)
    return seg, t_lo, t_hi, patterns, P[:, 0, :], q


#: segments per thread below which threads do not pay
_MIN_SEGMENTS_PER_JOB = 32


def _segment_cells_parallel(net: Network, starts: np.ndarray, ends: np.ndarray, include_output: bool,
                            tol: float, n_jobs: int) -> tuple[np.ndarray, ...]:
    """:func:`_segment_cells` on ``n_jobs`` contiguous blocks of segments, in threads.

    Segments are independent and the output is ordered by (segment, t), so the blocks'
    outputs, concatenated in order, are exactly the single-thread result.
    """
    n = starts.shape[0]
    jobs = min(n_jobs, n // _MIN_SEGMENTS_PER_JOB)
    if jobs <= 1:
        return _segment_cells(net, starts, ends, include_output, tol)
    cuts = np.linspace(0, n, jobs + 1).astype(int)
    parts = in_threads([partial(_segment_cells, net, starts[i:j], ends[i:j], include_output, tol)
                        for i, j in zip(cuts[:-1], cuts[1:], strict=True)], jobs)
    seg = np.concatenate([p[0] + i for p, i in zip(parts, cuts[:-1], strict=True)])
    return (seg, *(np.concatenate([p[k] for p in parts]) for k in range(1, 6)))


def on_segments(
    net: Network,
    starts: Any,
    ends: Any,
    *,
    include_output: bool = False,
    tol: float = 1e-9,
    map_tol: float = 1e-9,
    n_jobs: int | None = None,
) -> SegmentBatch:
    """Exact pieces of ``net`` along many segments ``starts[i] → ends[i]`` at once.

    Parameters
    ----------
    net : Network
    starts, ends : array_like of shape (n_segments, n_in)
    include_output : bool, default False
        Also split along the zero sets of a linear output layer (the decision boundary
        of a one-logit classifier). A piecewise-linear output activation always splits
        (its pieces are part of the pattern).
    tol : float
        Relative tolerance: a unit whose pre-activation stays within ``tol`` times
        its magnitude of a breakpoint on a cell does not split it.
    map_tol : float
        Relative tolerance for two affine maps to count as equal (linear regions).
    n_jobs : int or None, default None
        Threads sharing the segments (``None`` or ``-1``: one per available core); the
        result is the same for every value.

    Returns
    -------
    SegmentBatch

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network.random([2, 16, 16, 1], seed=0)
    >>> rng = np.random.default_rng(0)
    >>> batch = on_segments(net, rng.normal(size=(5, 2)), rng.normal(size=(5, 2)))
    >>> batch.n_activation_regions.shape
    (5,)
    """
    net = _check_net(net)
    a = as_float_array(starts, "starts", ndim=2)
    b = as_float_array(ends, "ends", ndim=2)
    if a.shape != b.shape or a.shape[1] != net.n_in:
        raise ShapeError(
            f"'starts' and 'ends' must both have shape (n_segments, {net.n_in}); "
            f"got {a.shape} and {b.shape}."
        )
    if not (0 < tol < 1e-2):
        raise InvalidParameterError(f"'tol' must be in (0, 0.01); got {tol!r}.")
    # a piecewise-linear output activation is part of the function: it always splits
    include_output = include_output or not net.layers[-1].activation.is_linear
    n_jobs = check_n_jobs(n_jobs)
    seg, t_lo, t_hi, patterns, slope, icpt = _segment_cells_parallel(net, a, b, include_output, tol, n_jobs)
    offsets = np.searchsorted(seg, np.arange(a.shape[0] + 1))
    return SegmentBatch(a, b, offsets, t_lo, t_hi, patterns, slope, icpt, map_tol)


def on_segment(
    net: Network,
    a: Any,
    b: Any,
    *,
    include_output: bool = False,
    tol: float = 1e-9,
    map_tol: float = 1e-9,
) -> SegmentRegions:
    """Exact activation and linear pieces of ``net`` along the segment from ``a`` to ``b``.

    Parameters
    ----------
    net : Network
    a, b : array_like of shape (n_in,)
    include_output, tol, map_tol
        See :func:`on_segments`.

    Returns
    -------
    SegmentRegions
        Breakpoints ``t ∈ (0, 1)``, per-piece patterns and affine maps,
        ``n_activation_regions``, ``n_linear_regions`` and ``density``.

    Examples
    --------
    The hat ``relu(x) - 2 relu(x - 1) + relu(x - 2)`` has kinks at 0, 1, 2:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> hat = Network([(np.ones((3, 1)), np.array([0.0, -1.0, -2.0]), "relu"),
    ...                (np.array([[1.0, -2.0, 1.0]]), np.zeros(1), "identity")])
    >>> r = on_segment(hat, [-1.0], [3.0])
    >>> r.breakpoints * 4 - 1
    array([0., 1., 2.])
    >>> r.n_activation_regions, r.n_linear_regions
    (4, 4)
    >>> slope, intercept = r.affine_x()
    >>> slope.ravel()
    array([ 0.,  1., -1.,  0.])
    """
    net = _check_net(net)
    a_arr = as_float_array(a, "a", ndim=1)
    b_arr = as_float_array(b, "b", ndim=1)
    if a_arr.shape != (net.n_in,) or b_arr.shape != (net.n_in,):
        raise ShapeError(
            f"'a' and 'b' must have shape ({net.n_in},); got {a_arr.shape} and {b_arr.shape}."
        )
    return on_segments(
        net, a_arr[None], b_arr[None], include_output=include_output, tol=tol, map_tol=map_tol
    )[0]


def along_path(net: Network, points: Any, **kwargs: Any) -> SegmentBatch:
    """Pieces along the polygonal path through ``points`` (n_points, n_in).

    This is how regions are measured along data trajectories (Hanin & Rolnick 2019):
    one segment between each pair of consecutive points.

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network.random([3, 8, 1], seed=0)
    >>> len(along_path(net, np.random.default_rng(0).normal(size=(4, 3))))
    3
    """
    pts = as_float_array(points, "points", ndim=2)
    if pts.shape[0] < 2:
        raise ShapeError(f"'points' needs at least 2 rows; got {pts.shape[0]}.")
    return on_segments(net, pts[:-1], pts[1:], **kwargs)
