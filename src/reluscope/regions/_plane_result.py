"""The result of :func:`reluscope.regions.on_plane`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .._errors import InvalidParameterError
from ..network import Network
from . import _polygons as poly
from ._patterns import PatternIndex, pack, unpack

__all__ = ["PlaneRegions"]


@dataclass(frozen=True, eq=False)
class PlaneRegions:
    """Exact regions of a network on a plane slice ``origin + σ u + τ v``.

    Regions are *activation regions* (a constant activation pattern; convex).
    Each is made of one or more convex *cells* (several only on the whole plane,
    where a region may span the four charts); ``cell_region`` maps cells to regions.

    Attributes
    ----------
    net : Network
    origin, u, v : ndarray of shape (n_in,)
    domain_kind : {"box", "polygon", "plane"}
    cell_verts, cell_offs : flat polygons (plane coordinates) of the cells
        (rows of unbounded cells are not finite and are skipped by plots/areas)
    cell_region : ndarray of shape (n_cells,)
    packed : uint8 ndarray (n_regions, n_bytes)
        Packed activation patterns (see :attr:`patterns` for the int8 form).
    slope : ndarray of shape (n_regions, n_out, 2)
    intercept : ndarray of shape (n_regions, n_out)
        On region ``r`` the output is ``slope[r] @ (σ, τ) + intercept[r]``.
    bounded : bool ndarray (n_regions,)
    seconds : float
        Wall time of the computation.
    """

    net: Network
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    domain_kind: str
    domain: Any
    cell_verts: np.ndarray
    cell_offs: np.ndarray
    cell_region: np.ndarray
    cell_finite: np.ndarray
    chart_verts: np.ndarray
    cell_tag: np.ndarray
    packed: np.ndarray
    n_units: int
    n_bits: int
    slope: np.ndarray
    intercept: np.ndarray
    bounded: np.ndarray
    include_output: bool
    tol: float
    map_tol: float
    seconds: float

    def __repr__(self) -> str:
        return (
            f"PlaneRegions({self.n_activation_regions} activation regions, domain={self.domain_kind}, "
            f"{self.seconds:.3g} s)"
        )

    # ------------------------------------------------------------------ counts
    @property
    def n_activation_regions(self) -> int:
        """Number of distinct activation patterns with a full-dimensional region."""
        return int(self.packed.shape[0])

    @property
    def n_cells(self) -> int:
        return int(len(self.cell_offs) - 1)

    @cached_property
    def patterns(self) -> np.ndarray:
        """int8 patterns (n_regions, n_units), unit order as :meth:`Network.pattern`."""
        return unpack(self.packed, self.n_units, self.n_bits)

    @cached_property
    def areas(self) -> np.ndarray:
        """Area of each region in plane coordinates (``inf`` for unbounded ones)."""
        out = np.zeros(self.n_activation_regions)
        finite = self.cell_finite
        if finite.any():
            idx = np.flatnonzero(finite)
            counts = np.diff(self.cell_offs)[idx]
            starts = self.cell_offs[:-1][idx]
            offs = np.concatenate([[0], np.cumsum(counts)])
            vidx = np.repeat(starts - offs[:-1], counts) + np.arange(offs[-1])
            np.add.at(out, self.cell_region[idx], poly.areas(self.cell_verts[vidx], offs))
        out[~self.bounded] = np.inf
        return out

    # ------------------------------------------------------------------ points
    def to_input(self, points: Any) -> np.ndarray:
        """Plane coordinates (n, 2) → input points (n, n_in)."""
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        return self.origin + p[:, :1] * self.u + p[:, 1:2] * self.v

    def _inside(self, p: np.ndarray) -> np.ndarray:
        if self.domain_kind == "box":
            s0, s1, t0, t1 = self.domain
            return (p[:, 0] >= s0) & (p[:, 0] <= s1) & (p[:, 1] >= t0) & (p[:, 1] <= t1)
        if self.domain_kind == "polygon":
            d = self.domain
            e = np.roll(d, -1, axis=0) - d
            rel = p[:, None, :] - d[None]
            cross = e[None, :, 0] * rel[..., 1] - e[None, :, 1] * rel[..., 0]
            return np.all(cross >= -1e-12 * np.abs(e).max(), axis=1)
        return np.ones(len(p), dtype=bool)

    @cached_property
    def _index(self) -> PatternIndex:
        return PatternIndex(self.packed)

    def locate(self, points: Any) -> np.ndarray:
        """Region index of each plane point (n, 2); −1 outside the domain.

        A point's region is found from its activation pattern (regions are convex,
        so a pattern names one region): exact, one forward pass.
        """
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if p.shape[1] != 2:
            raise InvalidParameterError(f"'points' must have shape (n, 2); got {p.shape}.")
        pat = self.net.pattern(self.to_input(p), include_output=self.include_output)
        idx = self._index.lookup(pack(pat, self.n_bits))
        return np.where(self._inside(p), idx, -1)

    def evaluate(self, points: Any) -> np.ndarray:
        """The output at plane points (n, 2) from the regions' affine maps (n, n_out)."""
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        r = self.locate(p)
        out = np.einsum("nok,nk->no", self.slope[r], p) + self.intercept[r]
        out[r < 0] = np.nan
        return out

    # ------------------------------------------------------------------ adjacency
    def _edge_probes(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the edges of ``cells``: (region of the cell, plane point just across)."""
        counts = np.diff(self.cell_offs)[cells]
        starts = self.cell_offs[:-1][cells]
        offs = np.concatenate([[0], np.cumsum(counts)])
        vidx = np.repeat(starts - offs[:-1], counts) + np.arange(offs[-1])
        cv = self.chart_verts[vidx]
        nxt = poly.next_index(offs)
        a, b = cv, cv[nxt]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        owner = np.repeat(cells, counts)
        tag = self.cell_tag[owner]
        ok = length > 0
        if self.domain_kind == "plane":
            ok &= ~((1 - a.sum(1) <= 1e-12) & (1 - b.sum(1) <= 1e-12))  # edge at infinity
        mid = (a + b) / 2
        normal = np.stack([d[:, 1], -d[:, 0]], axis=1) / np.where(ok, length, 1.0)[:, None]
        diam = np.maximum.reduceat(np.abs(cv).max(axis=1), offs[:-1])[np.repeat(np.arange(len(cells)), counts)]
        step = np.maximum(length, 1e-3 * (diam + 1.0))
        # two probes per edge: 1e-7 of the edge clears the engine's snapping of vertices to lines
        # (rtol); 1e-9 still lands inside a neighbour thinner than the first step (a sliver)
        mid, normal, step = np.concatenate([mid, mid]), np.concatenate([normal, normal]), np.concatenate(
            [1e-7 * step, 1e-9 * step])
        owner, tag, ok = np.concatenate([owner, owner]), np.concatenate([tag, tag]), np.concatenate([ok, ok])
        probe = mid + normal * step[:, None]
        if self.domain_kind == "plane":
            eps = np.array([(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)])[tag]
            w = 1.0 - probe.sum(axis=1)
            ok &= w > 0
            probe = probe * eps / np.where(ok, w, 1.0)[:, None]
        else:
            ok &= self._inside(probe)
        return self.cell_region[owner[ok]], probe[ok]

    def _pairs(self, cells: np.ndarray) -> np.ndarray:
        own, probe = self._edge_probes(cells)
        other = self.locate(probe) if len(probe) else np.zeros(0, int)
        keep = (other >= 0) & (other != own)
        pairs = np.sort(np.stack([own[keep], other[keep]], axis=1), axis=1)
        return np.unique(pairs, axis=0) if len(pairs) else np.zeros((0, 2), int)

    @cached_property
    def adjacency(self) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, of regions sharing an edge, shape (n_pairs, 2)."""
        return self._pairs(np.arange(self.n_cells))

    def _same_map(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        scale = 1.0 + max(float(np.abs(self.slope).max(initial=0)), float(np.abs(self.intercept).max(initial=0)))
        ds = np.abs(self.slope[i] - self.slope[j]).reshape(len(i), -1).max(axis=1, initial=0)
        di = np.abs(self.intercept[i] - self.intercept[j]).max(axis=1, initial=0)
        return (ds <= self.map_tol * scale) & (di <= self.map_tol * scale)

    @cached_property
    def linear_region_of(self) -> np.ndarray:
        """Linear-region label of every activation region, shape (n_regions,).

        Neighbouring activation regions whose affine maps are equal (``map_tol``)
        belong to one linear region (Hanin & Rolnick 2019, Lemma 3). Only regions
        whose map is shared by another region are probed for neighbours.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n_activation_regions
        maps = np.concatenate([self.slope.reshape(n, -1), self.intercept], axis=1)
        rv = np.random.default_rng(0).normal(size=maps.shape[1])
        key = maps @ rv
        order = np.argsort(key)
        scale = (1.0 + np.abs(maps).max(initial=0)) * np.abs(rv).sum() * self.map_tol
        close = np.diff(key[order]) <= scale
        cand = np.zeros(n, dtype=bool)
        cand[order[1:][close]] = True
        cand[order[:-1][close]] = True
        if not cand.any():
            return np.arange(n)
        cells = np.flatnonzero(cand[self.cell_region])
        pairs = self._pairs(cells)
        pairs = pairs[self._same_map(pairs[:, 0], pairs[:, 1])] if len(pairs) else pairs
        g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        return connected_components(g, directed=False)[1]

    @property
    def n_linear_regions(self) -> int:
        """Number of linear regions (neighbours with equal affine maps merged)."""
        return int(self.linear_region_of.max(initial=-1) + 1)

    # ------------------------------------------------------------------ exports
    def dual_graph(self) -> Any:
        """The dual graph (networkx): a node per region, an edge per shared edge.

        Node attributes: ``pattern`` (int8 array), ``bounded``, ``area``.
        """
        import networkx as nx

        g = nx.Graph()
        pats, areas = self.patterns, self.areas
        for r in range(self.n_activation_regions):
            g.add_node(r, pattern=pats[r], bounded=bool(self.bounded[r]), area=float(areas[r]))
        g.add_edges_from(map(tuple, self.adjacency.tolist()))
        return g

    def polygons(self) -> list[np.ndarray]:
        """Vertex arrays (k, 2) of every finite cell, in plane coordinates."""
        return [
            self.cell_verts[self.cell_offs[i] : self.cell_offs[i + 1]]
            for i in np.flatnonzero(self.cell_finite)
        ]

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the finite cells (plane coordinates).

        Properties: ``region`` index, ``pattern`` (hex of the packed bits), ``bounded``.
        """
        feats = []
        for i in np.flatnonzero(self.cell_finite):
            ring = self.cell_verts[self.cell_offs[i] : self.cell_offs[i + 1]]
            ring = np.vstack([ring, ring[:1]]).tolist()
            r = int(self.cell_region[i])
            feats.append({
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"region": r, "pattern": self.packed[r].tobytes().hex(),
                               "bounded": bool(self.bounded[r])},
            })
        return {"type": "FeatureCollection", "features": feats}

    def summary(self) -> dict[str, Any]:
        """Counts and settings as a JSON-ready dict."""
        return {
            "domain": self.domain_kind,
            "bounds": None if self.domain is None else np.asarray(self.domain).tolist(),
            "n_activation_regions": self.n_activation_regions,
            "n_linear_regions": self.n_linear_regions,
            "n_bounded": int(self.bounded.sum()),
            "include_output": self.include_output,
            "tol": self.tol,
            "seconds": self.seconds,
        }

    def plot(self, ax: Any = None, *, color: str = "region", view: Any = None, boundary: bool = True,
             decision_boundary: bool = False, points: Any = None, **kwargs: Any) -> Any:
        """Draw the regions (matplotlib); see :func:`reluscope.regions.plot_plane`."""
        from ._plot import plot_plane

        return plot_plane(self, ax=ax, color=color, view=view, boundary=boundary,
                          decision_boundary=decision_boundary, points=points, **kwargs)
