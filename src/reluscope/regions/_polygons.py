"""Flat storage of convex polygons and their vectorised splitting along lines.

Polygons are stored as one vertex array ``verts`` of shape (n_vertices, 2) and
``offs`` of shape (n_polygons + 1,): polygon ``i`` is ``verts[offs[i]:offs[i+1]]``,
counter-clockwise. :func:`split` cuts many polygons along their own lines at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cell_index", "split", "centroids", "areas", "next_index"]


def cell_index(offs: np.ndarray) -> np.ndarray:
    """Polygon index of every vertex, shape (n_vertices,)."""
    return np.repeat(np.arange(len(offs) - 1), np.diff(offs))


def next_index(offs: np.ndarray) -> np.ndarray:
    """Index of the next vertex of the same polygon (cyclic), shape (n_vertices,)."""
    n = offs[-1]
    nxt = np.arange(1, n + 1)
    nxt[offs[1:] - 1] = offs[:-1]
    return nxt


def centroids(verts: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """Vertex means (strictly inside a non-degenerate convex polygon), shape (n, 2)."""
    counts = np.diff(offs)[:, None]
    return np.add.reduceat(verts, offs[:-1], axis=0) / counts


def areas(verts: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """Shoelace areas, shape (n,)."""
    nxt = next_index(offs)
    cross = verts[:, 0] * verts[nxt, 1] - verts[nxt, 0] * verts[:, 1]
    return 0.5 * np.add.reduceat(cross, offs[:-1])


def split(
    verts: np.ndarray, offs: np.ndarray, f: np.ndarray, rtol: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split convex polygons along the zero line of an affine function.

    Parameters
    ----------
    verts, offs : flat polygons (see module docstring)
    f : ndarray of shape (n_vertices,)
        The function's value at every vertex (affine per polygon).
    rtol : float
        A vertex with ``|f| <= rtol * max|f|`` over its polygon lies on the line
        (snapped): it belongs to both halves, and a polygon is cut only where ``f``
        takes both signs beyond the tolerance. So no empty or sliver polygon is made.

    Returns
    -------
    cut : bool ndarray (n_polygons,)
        Which polygons were cut.
    pos, neg : (verts, offs) of the halves ``f >= 0`` and ``f <= 0`` of the cut
        polygons, in the order of ``np.flatnonzero(cut)``.
    """
    cells = cell_index(offs)
    scale = np.maximum.reduceat(np.abs(f), offs[:-1])
    eps = rtol * scale[cells]
    sgn = (f > eps).astype(np.int8) - (f < -eps).astype(np.int8)
    has_pos = np.maximum.reduceat(sgn, offs[:-1]) > 0
    has_neg = np.minimum.reduceat(sgn, offs[:-1]) < 0
    cut = has_pos & has_neg
    if not cut.any():
        empty = (np.zeros((0, 2)), np.zeros(1, dtype=np.int64))
        return cut, empty, empty
    # restrict to the vertices of cut polygons
    vmask = cut[cells]
    counts = np.diff(offs)[cut]
    sub_offs = np.concatenate([[0], np.cumsum(counts)])
    v = verts[vmask]
    fs = np.where(sgn[vmask] == 0, 0.0, f[vmask])
    sg = sgn[vmask]
    nxt = next_index(sub_offs)
    crossing = (sg * sg[nxt]) < 0
    # intersection point of edge (i, nxt[i]) with the line, where it is crossed
    denom = np.where(crossing, fs - fs[nxt], 1.0)
    lam = np.where(crossing, fs / denom, 0.0)
    x = v + lam[:, None] * (v[nxt] - v)
    sub_cells = cell_index(sub_offs)
    halves = []
    for keep in (sg >= 0, sg <= 0):
        emit = np.stack([keep, crossing], axis=1).reshape(-1)  # vertex i, then crossing i
        pts = np.stack([v, x], axis=1).reshape(-1, 2)[emit]
        per_cell = np.bincount(sub_cells, weights=keep.astype(np.int64) + crossing, minlength=len(counts))
        h_offs = np.concatenate([[0], np.cumsum(per_cell.astype(np.int64))])
        halves.append((pts, h_offs))
    return cut, halves[0], halves[1]
