"""Polygons and shapes in the plane as exact ReLU networks (research note §1a).

A polygon is split into convex pieces (ear clipping, then Hertel–Mehlhorn
merging of triangles across inessential diagonals). A convex piece ``P_k`` with
edges ``i`` has the inward signed distances ``h_{k,i}(x)`` to its edge lines; with
``t_{k,i} = 1 + h_{k,i} / margin``, the shape is

``F(x) = clip(min(u(x), 1 - v(x)), 0, 1)``, ``u = max_k min_i t_{k,i}`` over the
pieces of the polygons and ``v`` the same over the pieces of the holes.

So ``F = 1`` on the polygons minus the holes grown by ``margin`` and ``F = 0`` on
the holes and wherever every piece has an edge line more than ``margin`` away
on its outer side (outside the pieces "mitred" outwards by ``margin``). It is
compiled with the clipped lattice gadgets of :mod:`reluscope.build._lattice`
(2 units per min/max, 1 per carried value, 2 for the final clip).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import DomainError, InvalidParameterError, ShapeError
from .._validation import as_float_array
from ..network import Network
from ._lattice import Node, balanced, clip_layer, compile_tree, earliest_first, leaf
from ._tape import Tape, finish

__all__ = ["convex_decomposition", "polygon", "shape", "logo", "LOGO"]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _signed_area(P: np.ndarray) -> float:
    Q = np.roll(P, -1, axis=0)
    return 0.5 * float(np.sum(P[:, 0] * Q[:, 1] - Q[:, 0] * P[:, 1]))


def _tol(P: np.ndarray) -> float:
    return 1e-12 * max(float(np.ptp(P, axis=0).max()), 1e-300) ** 2


def _drop_collinear(P: np.ndarray, tol: float) -> np.ndarray:
    while len(P) > 3:
        turn = _cross(P - np.roll(P, 1, axis=0), np.roll(P, -1, axis=0) - P)
        flat = np.abs(turn) <= tol
        if not flat.any():
            break
        P = np.delete(P, int(np.argmax(flat)), axis=0)
    return P


def _check_simple(P: np.ndarray, name: str) -> None:
    k = len(P)
    A, B = P, np.roll(P, -1, axis=0)
    i, j = np.triu_indices(k, 2)
    keep = ~((i == 0) & (j == k - 1))
    i, j = i[keep], j[keep]
    if i.size == 0:
        return
    a, b, c, d = A[i], B[i], A[j], B[j]
    o1, o2 = _cross(b - a, c - a), _cross(b - a, d - a)
    o3, o4 = _cross(d - c, a - c), _cross(d - c, b - c)
    box = (
        (np.minimum(a, b) <= np.maximum(c, d) + 0).all(axis=1)
        & (np.minimum(c, d) <= np.maximum(a, b)).all(axis=1)
    )
    hit = (o1 * o2 <= 0) & (o3 * o4 <= 0) & box
    if hit.any():
        e = int(np.argmax(hit))
        raise DomainError(
            f"'{name}' is not a simple polygon: edge {int(i[e])} crosses or touches edge {int(j[e])}."
        )


def _as_polygon(vertices: Any, name: str) -> np.ndarray:
    """Validate ``vertices`` (k, 2); return them counter-clockwise without repeats or flat vertices."""
    P = as_float_array(vertices, name, ndim=2)
    if P.shape[1] != 2:
        raise ShapeError(f"'{name}' must have shape (k, 2); got {P.shape}.")
    if len(P) > 3 and np.array_equal(P[0], P[-1]):
        P = P[:-1]
    if len(P) < 3:
        raise InvalidParameterError(f"'{name}' needs at least 3 vertices; got {len(P)}.")
    step = np.linalg.norm(np.roll(P, -1, axis=0) - P, axis=1)
    if np.any(step == 0):
        i = int(np.argmax(step == 0))
        raise InvalidParameterError(f"'{name}' repeats vertex {i} ({P[i].tolist()}) consecutively.")
    area = _signed_area(P)
    tol = _tol(P)
    if abs(area) <= tol:
        raise DomainError(f"'{name}' has zero area; its vertices must enclose a region.")
    if area < 0:
        P = P[::-1].copy()
    _check_simple(P, name)
    return _drop_collinear(P, tol)


def _ear_clip(P: np.ndarray, tol: float) -> list[tuple[int, int, int]]:
    V = list(range(len(P)))
    tris: list[tuple[int, int, int]] = []
    while len(V) > 3:
        m = len(V)
        for k in range(m):
            i0, i1, i2 = V[k - 1], V[k], V[(k + 1) % m]
            a, b, c = P[i0], P[i1], P[i2]
            if _cross(b - a, c - b) <= tol:
                continue
            others = P[[V[j] for j in range(m) if j not in ((k - 1) % m, k, (k + 1) % m)]]
            inside = (
                (_cross(b - a, others - a) >= -tol)
                & (_cross(c - b, others - b) >= -tol)
                & (_cross(a - c, others - c) >= -tol)
            )
            if not inside.any():
                tris.append((i0, i1, i2))
                del V[k]
                break
        else:  # pragma: no cover - a simple polygon always has an ear
            raise DomainError("ear clipping found no ear; the polygon is numerically degenerate.")
    tris.append((V[0], V[1], V[2]))
    return tris


def _is_convex(P: np.ndarray, tol: float) -> bool:
    turn = _cross(P - np.roll(P, 1, axis=0), np.roll(P, -1, axis=0) - P)
    return bool(np.all(turn >= -tol))


def _merge(a: list[int], b: list[int], u: int, v: int) -> list[int]:
    """Merge piece ``a`` (with edge u -> v) and ``b`` (with edge v -> u) across the diagonal."""
    p = a.index(u)
    a2 = a[p + 1 :] + a[: p + 1]  # v ... u
    q = b.index(v)
    b2 = b[q + 1 :] + b[: q + 1]  # u ... v
    return a2[:-1] + b2[:-1]


def _hertel_mehlhorn(P: np.ndarray, tris: list[tuple[int, int, int]], tol: float) -> list[list[int]]:
    pieces = [list(t) for t in tris]
    merged = True
    while merged:
        merged = False
        owner = {}
        for k, pc in enumerate(pieces):
            for s in range(len(pc)):
                owner[(pc[s], pc[(s + 1) % len(pc)])] = k
        for (u, v), ka in owner.items():
            kb = owner.get((v, u))
            if kb is None or kb == ka:
                continue
            cand = _merge(pieces[ka], pieces[kb], u, v)
            if _is_convex(P[cand], tol):
                pieces = [pc for k, pc in enumerate(pieces) if k not in (ka, kb)] + [cand]
                merged = True
                break
    return pieces


def convex_decomposition(vertices: Any) -> list[np.ndarray]:
    """Split a simple polygon into convex polygons (ear clipping + Hertel–Mehlhorn).

    Parameters
    ----------
    vertices : array_like of shape (k, 2)
        A simple polygon, either orientation; the first vertex may be repeated at the end.

    Returns
    -------
    list of ndarray of shape (k_i, 2)
        Convex pieces, counter-clockwise, with disjoint interiors and union the
        polygon. Hertel–Mehlhorn gives at most 4 times the minimum number of
        convex pieces (Hertel & Mehlhorn 1983); a convex input is returned as is.

    Examples
    --------
    >>> L = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
    >>> [len(p) for p in convex_decomposition(L)]
    [4, 4]
    """
    P = _as_polygon(vertices, "vertices")
    tol = _tol(P)
    if _is_convex(P, tol):
        return [P]
    pieces = _hertel_mehlhorn(P, _ear_clip(P, tol), tol)
    return [_drop_collinear(P[pc], tol) for pc in pieces]


def _rows(piece: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """``t_i(x) = 1 + h_i(x) / margin`` for the edges of a CCW convex piece: (A (m, 2), c (m,))."""
    d = np.roll(piece, -1, axis=0) - piece
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.linalg.norm(d, axis=1)[:, None]
    return nrm / margin, 1.0 - np.sum(nrm * piece, axis=1) / margin


def _check_margin(margin: Any) -> float:
    try:
        m = float(margin)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"'margin' must be a positive number; got {margin!r}.") from exc
    if not (np.isfinite(m) and m > 0):
        raise InvalidParameterError(f"'margin' must be a finite number > 0; got {margin!r}.")
    return m


def _union_tree(pieces: list[np.ndarray], margin: float, A: list, c: list) -> Node:
    trees = []
    for pc in pieces:
        a, b = _rows(pc, margin)
        leaves = [leaf(len(c) + k) for k in range(len(b))]
        A.extend(a)
        c.extend(b)
        trees.append(balanced("min", leaves))
    return earliest_first("max", trees)


def shape(polygons: Sequence[Any], holes: Sequence[Any] = (), margin: float = 0.05) -> Network:
    """A union of polygons with holes, as a ReLU network ``R² -> [0, 1]``.

    Parameters
    ----------
    polygons : sequence of array_like of shape (k_i, 2)
        Simple polygons (convex or not, either orientation; they may overlap).
    holes : sequence of array_like of shape (k_j, 2)
        Simple polygons cut out of the union.
    margin : float
        Width of the linear ramp from 1 to 0 (outwards from the polygons,
        outwards from the holes).

    Returns
    -------
    Network
        ``F(x) = clip(min(u(x), 1 - v(x)), 0, 1)`` exactly (module docstring). Size,
        with ``m_k`` edges per convex piece: ``2(m_k - 1)`` units per piece for its
        min tree, 2 per max or hole node, 1 per value carried, 2 for the clip;
        ``max_k ceil(log2 m_k) + ceil(log2 #pieces) + 1`` hidden layers (+1 with
        holes). ``metadata`` lists the pieces. No optimal size is known; the
        research note's plain estimate is ``3(m - 1) + 2`` per convex m-gon.

    Examples
    --------
    >>> square = [(0, 0), (1, 0), (1, 1), (0, 1)]
    >>> frame = shape([square], holes=[[(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]], margin=0.05)
    >>> frame(np.array([[0.2, 0.2], [0.5, 0.5], [2.0, 2.0], [1.025, 0.5]])).ravel()
    array([1. , 0. , 0. , 0.5])
    """
    m = _check_margin(margin)
    if isinstance(polygons, np.ndarray) and polygons.ndim == 2:
        raise ShapeError("'polygons' must be a list of polygons; wrap a single polygon in a list.")
    if len(polygons) == 0:
        raise InvalidParameterError("'polygons' must contain at least one polygon; got none.")
    pos = [pc for k, p in enumerate(polygons) for pc in _decompose(p, f"polygons[{k}]")]
    neg = [pc for k, p in enumerate(holes) for pc in _decompose(p, f"holes[{k}]")]
    A: list = []
    c: list = []
    root = _union_tree(pos, m, A, c)
    if neg:
        root = Node("min", root, Node("flip", _union_tree(neg, m, A, c)))
    tape = Tape(2)
    tape.linear(np.array(A), np.array(c))
    net = clip_layer(tape, compile_tree(tape, root, clipped=True))
    allv = np.concatenate(pos)
    pad = 0.05 * float(np.ptp(allv, axis=0).max()) + 2 * m
    lo, hi = allv.min(axis=0) - pad, allv.max(axis=0) + pad
    return finish(
        net,
        "shape",
        domain=[[float(lo[0]), float(hi[0])], [float(lo[1]), float(hi[1])]],
        margin=m,
        n_pieces=len(pos),
        n_hole_pieces=len(neg),
        n_edges=len(c),
        pieces=[pc.tolist() for pc in pos],
        hole_pieces=[pc.tolist() for pc in neg],
        best_known="no published optimum; research note estimate 3(m-1)+2 units per convex m-gon (plain)",
        reference="research note §1a; Hertel & Mehlhorn 1983 (convex decomposition)",
    )


def _decompose(p: Any, name: str) -> list[np.ndarray]:
    try:
        return convex_decomposition(p)
    except (InvalidParameterError, ShapeError, DomainError) as exc:
        raise type(exc)(str(exc).replace("'vertices'", f"'{name}'")) from exc


def polygon(vertices: Any, margin: float = 0.05) -> Network:
    """A polygon's indicator with an outward ramp: 1 inside, 0 beyond ``margin`` outside.

    Convex polygons are the minimum of their edge half-planes; non-convex ones
    are split into convex pieces (:func:`convex_decomposition`) whose indicators
    are combined by a maximum. See :func:`shape` for the exact formula and size.

    Examples
    --------
    >>> tri = polygon([(0, 0), (1, 0), (0, 1)], margin=0.1)
    >>> tri(np.array([[0.2, 0.2], [0.55, 0.55], [-0.05, 0.3], [1.0, 1.0]])).ravel()
    array([1. , 0.29289322, 0.5 , 0. ])
    >>> tri.n_units, tri.depth - 1
    (7, 3)
    """
    net = shape([vertices], margin=margin)
    return finish(net, "polygon")


def _star(cx: float, cy: float, r_out: float, r_in: float, k: int = 5) -> list[tuple[float, float]]:
    ang = np.pi / 2 + np.arange(2 * k) * np.pi / k
    rad = np.where(np.arange(2 * k) % 2 == 0, r_out, r_in)
    return [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for r, a in zip(rad, ang, strict=True)]


def _octagon(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    ang = np.pi / 8 + np.arange(8) * np.pi / 4
    return [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a in ang]


#: The logo's geometry on [-1, 1]²: a thick ReLU hinge (non-convex), a five-pointed
#: star (non-convex), a triangle, and an octagonal lens with an octagonal hole.
LOGO: dict[str, list[list[tuple[float, float]]]] = {
    "polygons": [
        [(-0.9, -0.75), (-0.1, -0.75), (0.75, 0.35), (0.6, 0.45), (-0.18, -0.57), (-0.9, -0.57)],
        _star(-0.45, 0.45, 0.38, 0.16),
        [(0.15, 0.55), (0.85, 0.55), (0.85, 0.92)],
        _octagon(0.55, -0.45, 0.32),
    ],
    "holes": [_octagon(0.55, -0.45, 0.17)],
}


def logo(margin: float = 0.02) -> Network:
    """A logo-like picture on ``[-1, 1]²``: several polygons, two of them non-convex, and a hole.

    The shapes are in :data:`LOGO` (a thick ReLU hinge, a star, a triangle, a
    lens with a hole); the network is :func:`shape` of them. Draw it with
    :func:`reluscope.plotting.plot_image_2d` or ``reluscope plot``.

    Examples
    --------
    >>> net = logo()
    >>> net(np.array([[-0.45, 0.45], [0.55, -0.45], [0.0, 0.0]])).ravel()   # star, hole, background
    array([1., 0., 0.])
    """
    net = shape(LOGO["polygons"], holes=LOGO["holes"], margin=margin)
    return finish(net, "logo", domain=[[-1.0, 1.0], [-1.0, 1.0]])
