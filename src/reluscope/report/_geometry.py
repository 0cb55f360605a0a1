"""Plane slices through three data points, and their intersection with a box domain."""

from __future__ import annotations

import numpy as np

from .._errors import DomainError

__all__ = ["plane_frame", "clip_convex", "plane_box_polygon"]


def plane_frame(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> tuple[np.ndarray, ...]:
    """An orthonormal frame of the plane through three points, centred at their centroid.

    Plane coordinates are then Euclidean: areas and distances in the pictures are
    those of the input space.

    Parameters
    ----------
    p0, p1, p2 : ndarray of shape (n,)

    Returns
    -------
    origin, u, v : ndarray of shape (n,)
        ``u``, ``v`` orthonormal; the plane is ``origin + σ u + τ v``.
    coords : ndarray of shape (3, 2)
        ``(σ, τ)`` of ``p0, p1, p2``.

    Raises
    ------
    DomainError
        If the three points are (nearly) collinear.

    Examples
    --------
    >>> o, u, v, c = plane_frame(np.array([0.0, 0, 0]), np.array([2.0, 0, 0]), np.array([0.0, 2, 0]))
    >>> float(u @ v), float(np.linalg.norm(u)), bool(np.allclose(o + c[:, :1] * u + c[:, 1:] * v,
    ...                                                              [[0, 0, 0], [2, 0, 0], [0, 2, 0]]))
    (0.0, 1.0, True)
    """
    origin = (p0 + p1 + p2) / 3.0
    a, b = p1 - p0, p2 - p0
    na = np.linalg.norm(a)
    if na == 0:
        raise DomainError("two of the three plane points coincide.")
    u = a / na
    w = b - (b @ u) * u
    nw = np.linalg.norm(w)
    if nw <= 1e-9 * max(na, np.linalg.norm(b)):
        raise DomainError("the three plane points are collinear; they do not span a plane.")
    v = w / nw
    pts = np.stack([p0, p1, p2]) - origin
    return origin, u, v, np.stack([pts @ u, pts @ v], axis=1)


def clip_convex(poly: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The convex polygon ``poly`` (k, 2) cut to the half-plane ``a · p <= c`` (Sutherland-Hodgman).

    Examples
    --------
    >>> sq = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    >>> clip_convex(sq, np.array([1.0, 0.0]), 0.5).tolist()
    [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
    """
    if len(poly) == 0:
        return poly
    f = poly @ a - c
    nxt = np.roll(np.arange(len(poly)), -1)
    out = []
    for i, j in zip(range(len(poly)), nxt, strict=True):
        if f[i] <= 0:
            out.append(poly[i])
        if (f[i] < 0 < f[j]) or (f[j] < 0 < f[i]):
            t = f[i] / (f[i] - f[j])
            out.append(poly[i] + t * (poly[j] - poly[i]))
    return np.array(out).reshape(-1, 2)


def plane_box_polygon(
    origin: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    view: tuple[float, float, float, float],
) -> np.ndarray:
    """The part of the view rectangle whose points lie in the box ``[lo, hi]``: a convex polygon (k, 2).

    One half-plane per box face: ``lo_j <= origin_j + σ u_j + τ v_j <= hi_j``. Faces
    parallel to the plane are skipped when satisfied (the polygon is empty otherwise).

    Examples
    --------
    >>> o, u, v = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> poly = plane_box_polygon(o, u, v, np.zeros(2), np.ones(2), (-1, 2, -1, 2))
    >>> sorted(map(tuple, poly.tolist()))
    [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    """
    s0, s1, t0, t1 = view
    poly = np.array([[s0, t0], [s1, t0], [s1, t1], [s0, t1]], dtype=np.float64)
    g = np.stack([u, v], axis=1)  # (n, 2)
    scale = np.abs(g).max(axis=1)
    for j in np.argsort(-scale):  # strongest constraints first: the polygon shrinks fastest
        if scale[j] <= 1e-14:
            if not (lo[j] <= origin[j] <= hi[j]):
                return np.zeros((0, 2))
            continue
        poly = clip_convex(poly, g[j], hi[j] - origin[j])
        poly = clip_convex(poly, -g[j], origin[j] - lo[j])
        if len(poly) < 3:
            return np.zeros((0, 2))
    return _dedupe(poly, 1e-12 * max(s1 - s0, t1 - t0))


def _dedupe(poly: np.ndarray, tol: float) -> np.ndarray:
    """Drop vertices that repeat their predecessor (clipping through a vertex makes them)."""
    d = np.abs(poly - np.roll(poly, 1, axis=0)).max(axis=1)
    keep = d > tol
    if not keep.any():
        return np.zeros((0, 2))
    poly = poly[keep]
    return poly if len(poly) >= 3 else np.zeros((0, 2))
