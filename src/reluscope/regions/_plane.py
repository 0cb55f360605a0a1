"""Exact regions on a 2-D plane slice: a rectangle, a convex polygon or the whole plane.

The plane is ``x(σ, τ) = origin + σ u + τ v``. See :mod:`._plane_engine` for the
algorithm; this module checks arguments, runs the engine and wraps the result.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._errors import DomainError, InvalidParameterError, ShapeError
from .._validation import as_float_array, check_n_jobs
from ..network import Network
from . import _polygons as poly
from ._patterns import unique_rows
from ._plane_engine import Cells, FinalCells, pattern_bits, run_plane
from ._plane_result import PlaneRegions
from ._recurrence import Homog

__all__ = ["on_plane"]

# the four charts of the whole plane: (eps_s, eps_t) per triangle {s, t >= 0, s + t <= 1}
_QUADRANTS = ((1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0))
_TRIANGLE = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
_AT_INFINITY = 1e-12  # chart vertices with w = 1 - s - t at most this lie on the line at infinity


def _convex_ccw(vertices: np.ndarray) -> np.ndarray:
    """Check a convex polygon and return it counter-clockwise."""
    if vertices.ndim != 2 or vertices.shape[1] != 2 or vertices.shape[0] < 3:
        raise ShapeError(f"'polygon' must have shape (k >= 3, 2); got {vertices.shape}.")
    offs = np.array([0, len(vertices)])
    area = poly.areas(vertices, offs)[0]
    if abs(area) <= 1e-300:
        raise DomainError("'polygon' has zero area; the plane slice would be empty.")
    if area < 0:
        vertices = vertices[::-1].copy()
    d = np.roll(vertices, -1, axis=0) - vertices
    turn = d[:, 0] * np.roll(d, -1, axis=0)[:, 1] - d[:, 1] * np.roll(d, -1, axis=0)[:, 0]
    if np.any(turn < -1e-12 * np.max(np.abs(turn))):
        raise DomainError(
            "'polygon' must be convex (its vertices in order); split a non-convex domain "
            "into convex pieces and call on_plane for each."
        )
    return vertices


def on_plane(
    net: Network,
    origin: Any,
    u: Any,
    v: Any,
    bounds: Any = None,
    *,
    polygon: Any = None,
    include_output: bool = False,
    tol: float = 1e-9,
    map_tol: float = 1e-9,
    chunk: int = 4096,
    progress: bool = False,
    n_jobs: int | None = None,
) -> PlaneRegions:
    """Exact activation and linear regions of ``net`` on the plane ``origin + σ u + τ v``.

    Parameters
    ----------
    net : Network
    origin, u, v : array_like of shape (n_in,)
        The plane; ``u`` and ``v`` must be linearly independent.
    bounds : (σ0, σ1, τ0, τ1) or None
        A rectangle in plane coordinates, or ``None`` (with no ``polygon``) for the
        **whole unbounded plane**, computed exactly in homogeneous coordinates (no
        guessed box; unbounded regions are included and flagged). A region lying
        entirely within rounding of the line at infinity (every point more than about
        ``1e12`` times the slice's scale from the origin) is beyond float64's resolution
        and not reported.
    polygon : array_like of shape (k, 2), optional
        A convex polygon in plane coordinates instead of a rectangle.
    include_output : bool, default False
        Also split along the zero sets of a linear output layer (the decision boundary
        of a one-logit classifier). A piecewise-linear output activation always splits
        (its pieces are part of the pattern).
    tol : float
        Relative tolerance for a vertex to lie on a cutting line (no sliver regions).
    map_tol : float
        Relative tolerance for two affine maps to be equal (linear regions).
    chunk : int
        Most cells per batch (fewer for layers wider than ~350 units, so that a batch's
        maps stay under 8 MB); bounds the memory, not the result.
    progress : bool
        Show a progress bar (regions found so far).
    n_jobs : int or None, default None
        Threads (``None`` or ``-1``: one per available core). The result, regions and
        their order included, is the same for every value.

    Returns
    -------
    PlaneRegions

    Examples
    --------
    Four lines in general position cut the plane into 1 + 4 + 6 = 11 regions:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> theta = np.array([0.1, 0.9, 1.7, 2.5])
    >>> W = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    >>> net = Network([(W, np.array([0.3, -0.2, 0.5, -0.6]), "relu"),
    ...                (np.ones((1, 4)), np.zeros(1), "identity")])
    >>> r = on_plane(net, [0, 0], [1, 0], [0, 1])
    >>> r.n_activation_regions, int(r.bounded.sum())
    (11, 3)
    >>> on_plane(net, [0, 0], [1, 0], [0, 1], bounds=(-100, 100, -100, 100)).n_activation_regions
    11
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    o = as_float_array(origin, "origin", ndim=1)
    uu = as_float_array(u, "u", ndim=1)
    vv = as_float_array(v, "v", ndim=1)
    for name, arr in (("origin", o), ("u", uu), ("v", vv)):
        if arr.shape != (net.n_in,):
            raise ShapeError(f"'{name}' must have shape ({net.n_in},); got {arr.shape}.")
    if np.linalg.matrix_rank(np.stack([uu, vv]), tol=1e-12 * max(np.abs(uu).max(), np.abs(vv).max(), 1e-300)) < 2:
        raise DomainError("'u' and 'v' must be linearly independent to span a plane.")
    if not (0 < tol < 1e-2):
        raise InvalidParameterError(f"'tol' must be in (0, 0.01); got {tol!r}.")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 16:
        raise InvalidParameterError(f"'chunk' must be an integer >= 16; got {chunk!r}.")
    n_jobs = check_n_jobs(n_jobs)
    t0 = time.perf_counter()
    # a piecewise-linear output activation is part of the function: it always splits
    include_output = include_output or not net.layers[-1].activation.is_linear
    basis = np.stack([uu, vv])  # (2, n_in)
    if polygon is not None and bounds is not None:
        raise InvalidParameterError("Give either 'bounds' or 'polygon', not both.")
    if polygon is not None:
        verts = _convex_ccw(as_float_array(polygon, "polygon", ndim=2))
        domain: tuple[str, Any] = ("polygon", verts)
    elif bounds is not None:
        b = as_float_array(bounds, "bounds", ndim=1)
        if b.shape != (4,):
            raise ShapeError(f"'bounds' must be (s0, s1, t0, t1); got shape {b.shape}.")
        s0, s1, t0_, t1 = b
        if not (s0 < s1 and t0_ < t1):
            raise DomainError(f"'bounds' must satisfy s0 < s1 and t0 < t1; got {tuple(b)}.")
        verts = np.array([[s0, t0_], [s1, t0_], [s1, t1], [s0, t1]])
        domain = ("box", b)
    else:
        domain = ("plane", None)
    if domain[0] == "plane":
        w = Homog(np.array([-1.0, -1.0]), 1.0)
        P0 = np.stack([np.stack([es * uu - o, et * vv - o]) for es, et in _QUADRANTS])
        cells = Cells(
            np.tile(_TRIANGLE, (4, 1)), np.arange(0, 13, 3), P0,
            np.tile(o, (4, 1)), np.arange(4), [],
        )
    else:
        w = Homog.ones(2)
        cells = Cells(verts, np.array([0, len(verts)]), basis[None], o[None], np.zeros(1, int), [])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="regions", unit=" cells")
    try:
        batches = run_plane(
            net, cells, w, include_output=include_output, rtol=tol, chunk=chunk,
            progress=bar.update if bar is not None else None, n_jobs=n_jobs,
        )
    finally:
        if bar is not None:
            bar.close()
    return _assemble(net, o, uu, vv, domain, batches, include_output, tol, map_tol,
                     time.perf_counter() - t0)


def _take_all(batches: list[FinalCells], field: str) -> np.ndarray:
    """Concatenate one field of every batch and release it from the batches (lower peak memory)."""
    out = np.concatenate([getattr(b, field) for b in batches])
    for b in batches:
        setattr(b, field, None)
    return out


def _assemble(net, o, u, v, domain, batches, include_output, tol, map_tol, elapsed) -> PlaneRegions:
    sizes = np.concatenate([np.diff(b.offs) for b in batches])
    offs = np.concatenate([[0], np.cumsum(sizes)])
    n_cells = len(sizes)
    n_bits = pattern_bits(net, include_output)
    n_units = net.n_units + (net.n_out if include_output else 0)
    tag = _take_all(batches, "tag")
    packed = _take_all(batches, "packed")
    verts = _take_all(batches, "verts")
    P = _take_all(batches, "P")  # (n, 2, n_out)
    q = _take_all(batches, "q")  # (n, n_out)
    del batches[:]
    if domain[0] == "plane":
        w_at = 1.0 - verts.sum(axis=1)
        far = np.maximum.reduceat(w_at, offs[:-1]) <= _AT_INFINITY
        if np.any(far):
            # a cell with every vertex within rounding of the line at infinity (w = 1 - s - t is
            # computed to about 1e-16) lies in that line: a sliver of rounding, not a region. In
            # the plane, every point of it is more than ~1e12 times the chart's scale away.
            keep = ~far
            vkeep = np.repeat(keep, sizes)
            sizes, tag, packed, P, q = sizes[keep], tag[keep], packed[keep], P[keep], q[keep]
            verts, w_at = verts[vkeep], w_at[vkeep]
            offs = np.concatenate([[0], np.cumsum(sizes)])
            n_cells = len(sizes)
        eps = np.array(_QUADRANTS)[tag]  # (n, 2)
        gamma = q
        slope = eps[:, :, None] * (P + gamma[:, None, :])
        intercept = gamma
        first, cell_region = unique_rows(packed)
        region_of = cell_region
        packed_r = packed[first]
        slope_r, icpt_r = slope[first], intercept[first]
        at_inf = np.zeros(len(first), dtype=bool)
        touches = np.maximum.reduceat((w_at <= _AT_INFINITY).astype(np.int8), offs[:-1]) > 0
        np.logical_or.at(at_inf, region_of, touches)
        bounded = ~at_inf
        # plane coordinates of cells that stay finite
        finite_cell = ~touches
        with np.errstate(divide="ignore", invalid="ignore"):
            plane_v = verts * eps[poly.cell_index(offs)] / w_at[:, None]
    else:
        region_of = np.arange(n_cells)
        packed_r, slope_r, icpt_r = packed, P, q
        bounded = np.ones(n_cells, dtype=bool)
        finite_cell = np.ones(n_cells, dtype=bool)
        plane_v = verts
    slope_r = np.transpose(slope_r, (0, 2, 1))  # (n_regions, n_out, 2)
    return PlaneRegions(
        net=net, origin=o, u=u, v=v, domain_kind=domain[0], domain=domain[1],
        cell_verts=plane_v, cell_offs=offs, cell_region=region_of, cell_finite=finite_cell,
        chart_verts=verts, cell_tag=tag, packed=packed_r, n_units=n_units, n_bits=n_bits,
        slope=slope_r, intercept=icpt_r, bounded=bounded, include_output=include_output,
        tol=tol, map_tol=map_tol, seconds=elapsed,
    )
