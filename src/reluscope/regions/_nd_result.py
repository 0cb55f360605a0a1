"""The result of an n-D region enumeration: regions, facets, dual graph, lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .._validation import as_points
from ..domains import Box, Polytope
from ._nd_geometry import UnitTable, patterns_at

__all__ = ["Region", "NdRegions", "Geometry", "pattern_keys", "pattern_void"]


def pattern_void(patterns: np.ndarray) -> np.ndarray:
    """Each int8 pattern row as one opaque scalar (sortable, for ``np.unique``), shape (R,)."""
    p = np.ascontiguousarray(patterns, dtype=np.int8)
    if p.shape[1] == 0:
        return np.zeros(p.shape[0], dtype="V1")
    return p.view(np.dtype((np.void, p.shape[1]))).ravel()


def pattern_keys(patterns: np.ndarray) -> list[bytes]:
    """One hashable key per int8 pattern row."""
    return pattern_void(patterns).tolist()


@dataclass(frozen=True)
class Region:
    """One activation region ``{x : A x <= b}`` (facets only) and the network on it.

    Attributes
    ----------
    pattern : int8 ndarray of shape (n_units,)
    A : ndarray of shape (n_facets, n_in), unit outward normals
    b : ndarray of shape (n_facets,)
    centre : ndarray of shape (n_in,), Chebyshev centre
    radius : float, Chebyshev radius (capped for unbounded regions)
    A_out : ndarray of shape (n_out, n_in) and c_out : (n_out,)
        ``net(x) = A_out x + c_out`` on the region.
    neighbors : int ndarray of shape (n_facets,), region across each facet (``-1``: domain
        boundary, or not enumerated in a partial result)
    units : int ndarray of shape (n_facets,), the unit whose breakpoint is the facet
        (``-1`` for a facet of the domain)

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions import enumerate as enumerate_regions
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> r = enumerate_regions(net).region(0)   # one of the four quadrants
    >>> r.A.shape, r.units.tolist()
    ((2, 2), [0, 1])
    """

    pattern: np.ndarray
    A: np.ndarray
    b: np.ndarray
    centre: np.ndarray
    radius: float
    A_out: np.ndarray
    c_out: np.ndarray
    neighbors: np.ndarray
    units: np.ndarray


@dataclass(frozen=True)
class Geometry:
    """The regions' Chebyshev balls and facets (see :class:`NdRegions`)."""

    centres: np.ndarray
    radii: np.ndarray
    facet_offsets: np.ndarray
    facet_A: np.ndarray
    facet_b: np.ndarray
    facet_units: np.ndarray
    facet_neighbors: np.ndarray


@dataclass(frozen=True, eq=False)
class NdRegions:
    """All activation regions of a network in ``R^n``, a box or a polytope.

    Region ``i`` is ``{x : facet_A[s] x <= facet_b[s]}`` with ``s =
    slice(facet_offsets[i], facet_offsets[i + 1])``: a minimal H-representation
    (every row a facet; coincident rows kept once). Neighbouring regions share a
    facet; :meth:`dual_graph` is the graph of that relation.

    The affine maps and the geometry (centres, radii, facets) of a result of the
    depth-first search (``method="search"`` of :func:`reluscope.regions.enumerate`)
    are computed on first access, so that counting and listing patterns do not pay
    for them; the walk computes them as it goes.

    Attributes
    ----------
    patterns : int8 ndarray of shape (n_regions, n_units)
        Same unit order as :meth:`Network.pattern` (hidden layers, then the output
        layer when ``include_output``).
    points : ndarray of shape (n_regions, n_in)
        A point inside each region, at least ``tol`` times the problem's scale from
        every unit's breakpoints (the Chebyshev centre for the walk, a vertex of the
        region shrunk by that margin for the search).
    centres : ndarray of shape (n_regions, n_in)
        Chebyshev centres (interior points farthest from the boundary).
    radii : ndarray of shape (n_regions,)
        Chebyshev radii, capped at ``radius_cap`` (unbounded regions).
    A_out, c_out : ndarrays of shape (n_regions, n_out, n_in) and (n_regions, n_out)
        The network on region ``i`` is ``x -> A_out[i] @ x + c_out[i]``.
    facet_offsets : int ndarray of shape (n_regions + 1,)
    facet_A, facet_b : ndarrays of shape (n_facets, n_in) and (n_facets,)
    facet_units : int ndarray of shape (n_facets,), ``-1`` for a domain facet
    facet_neighbors : int ndarray of shape (n_facets,), ``-1`` for none
    is_partial : bool
        True when the enumeration stopped at ``max_regions`` (some regions are missing).
    radius_cap, tol, map_tol : float

    Examples
    --------
    Two crossing lines through the origin: four quadrants, each bordering two others.

    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions import enumerate as enumerate_regions
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.array([[1.0, 0.0]]), np.zeros(1), "identity")])
    >>> res = enumerate_regions(net)
    >>> len(res), res.n_linear_regions          # x1 = 0 does not change the map relu(x0)
    (4, 2)
    >>> sorted(res.patterns.tolist())
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> res.dual_graph().number_of_edges()
    4
    """

    patterns: np.ndarray
    points: np.ndarray
    #: the maps (A_out, c_out) and the geometry, or functions that compute them on first access
    maps_source: tuple[np.ndarray, np.ndarray] | Callable[[], tuple[np.ndarray, np.ndarray]] = field(repr=False)
    geometry_source: Geometry | Callable[[], Geometry] = field(repr=False)
    is_partial: bool = False
    radius_cap: float = np.inf
    tol: float = 1e-9
    map_tol: float = 1e-9
    domain: Box | Polytope | None = None
    table: UnitTable | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- lazy parts
    @cached_property
    def _maps(self) -> tuple[np.ndarray, np.ndarray]:
        src = self.maps_source
        return src() if callable(src) else src

    @cached_property
    def geometry(self) -> Geometry:
        """Centres, radii and facets (computed now if the result was built without them)."""
        src = self.geometry_source
        return src() if callable(src) else src

    @property
    def A_out(self) -> np.ndarray:
        return self._maps[0]

    @property
    def c_out(self) -> np.ndarray:
        return self._maps[1]

    @property
    def centres(self) -> np.ndarray:
        return self.geometry.centres

    @property
    def radii(self) -> np.ndarray:
        return self.geometry.radii

    @property
    def facet_offsets(self) -> np.ndarray:
        return self.geometry.facet_offsets

    @property
    def facet_A(self) -> np.ndarray:
        return self.geometry.facet_A

    @property
    def facet_b(self) -> np.ndarray:
        return self.geometry.facet_b

    @property
    def facet_units(self) -> np.ndarray:
        return self.geometry.facet_units

    @property
    def facet_neighbors(self) -> np.ndarray:
        return self.geometry.facet_neighbors

    # ---------------------------------------------------------------- counts
    def __len__(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_activation_regions(self) -> int:
        """Number of activation regions (distinct full-dimensional patterns)."""
        return len(self)

    @property
    def n_in(self) -> int:
        return int(self.points.shape[1])

    @cached_property
    def edges(self) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, of regions sharing a facet; shape (n_edges, 2)."""
        reg = np.repeat(np.arange(len(self)), np.diff(self.facet_offsets))
        nb = self.facet_neighbors
        known = (nb >= 0) & (nb != reg)
        pairs = np.sort(np.stack([reg[known], nb[known]], axis=1), axis=1)
        if len(pairs) == 0:
            return np.zeros((0, 2), dtype=np.int64)
        return np.unique(pairs, axis=0).astype(np.int64)

    @cached_property
    def linear_labels(self) -> np.ndarray:
        """Linear region of each activation region, shape (n_regions,).

        Neighbours whose affine maps coincide (gradients and constant terms within
        ``map_tol`` relative to the largest map coefficient, as in
        :func:`reluscope.regions.on_plane`) are merged, transitively (union-find over
        the dual graph; Hanin & Rolnick 2019, Lemma 3). In exact arithmetic equal
        gradients would suffice (the two maps agree on the shared facet); within a
        tolerance they do not: gradients 1e-9 apart on a facet 1e4 from the origin
        leave constant terms 1e-5 apart.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(self)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        e = self.edges
        scale = 1.0 + max(float(np.max(np.abs(self.A_out), initial=0.0)),
                          float(np.max(np.abs(self.c_out), initial=0.0)))
        diff = np.maximum(np.max(np.abs(self.A_out[e[:, 0]] - self.A_out[e[:, 1]]), axis=(1, 2), initial=0.0),
                          np.max(np.abs(self.c_out[e[:, 0]] - self.c_out[e[:, 1]]), axis=1, initial=0.0))
        same = e[diff <= self.map_tol * scale]
        g = coo_matrix((np.ones(len(same)), (same[:, 0], same[:, 1])), shape=(n, n))
        _, labels = connected_components(g, directed=False)
        return labels.astype(np.int64)

    @property
    def n_linear_regions(self) -> int:
        """Number of linear regions (neighbours with equal affine maps merged)."""
        return int(np.max(self.linear_labels, initial=-1) + 1)

    # ---------------------------------------------------------------- regions
    def halfspaces(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(A, b)`` of region ``i``: its facets, ``A x <= b`` with unit rows.

        Examples
        --------
        >>> import numpy as np
        >>> from reluscope import Box, Network
        >>> from reluscope.regions import enumerate as enumerate_regions
        >>> net = Network([(np.array([[1.0, 0.0]]), np.zeros(1), "relu"),
        ...                (np.ones((1, 1)), np.zeros(1), "identity")])
        >>> res = enumerate_regions(net, Box(-1.0, 1.0, dim=2))
        >>> A, b = res.halfspaces(res.locate(np.array([0.5, 0.0])))
        >>> len(b)                          # the line x0 = 0 and three sides of the box
        4
        """
        s = slice(self.facet_offsets[i], self.facet_offsets[i + 1])
        return self.facet_A[s], self.facet_b[s]

    def region(self, i: int) -> Region:
        """Everything about region ``i`` as a :class:`Region`.

        Examples
        --------
        >>> import numpy as np
        >>> from reluscope import Network
        >>> from reluscope.regions import enumerate as enumerate_regions
        >>> net = Network.random([3, 4, 1], seed=0)
        >>> res = enumerate_regions(net)
        >>> r = res.region(0)
        >>> bool(np.allclose(r.A_out @ r.centre + r.c_out, net(r.centre)))
        True
        """
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"region index {i} out of range for {n} regions")
        i %= n
        s = slice(self.facet_offsets[i], self.facet_offsets[i + 1])
        return Region(
            self.patterns[i], self.facet_A[s], self.facet_b[s], self.centres[i], float(self.radii[i]),
            self.A_out[i], self.c_out[i], self.facet_neighbors[s], self.facet_units[s],
        )

    def dual_graph(self) -> Any:
        """The dual graph (``networkx.Graph``): one node per region, an edge per shared facet.

        Edge attribute ``same_map`` tells whether the two affine maps are equal.

        Examples
        --------
        >>> import networkx as nx
        >>> from reluscope import Network
        >>> from reluscope.regions import enumerate as enumerate_regions
        >>> g = enumerate_regions(Network.random([3, 6, 1], seed=1)).dual_graph()
        >>> nx.is_connected(g)
        True
        """
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(len(self)))
        labels = self.linear_labels
        for a, b in self.edges.tolist():
            g.add_edge(a, b, same_map=bool(labels[a] == labels[b]))
        return g

    @cached_property
    def _index(self) -> dict[bytes, int]:
        return {k: i for i, k in enumerate(pattern_keys(self.patterns))}

    def locate(self, points: Any) -> np.ndarray:
        """Index of the region containing each point (``-1``: outside the domain or not found).

        A point is matched by its activation pattern; a point on a boundary takes the
        pattern :meth:`Network.pattern` gives it, which may belong to no region
        (``-1``) when several boundaries meet there.

        Parameters
        ----------
        points : array_like of shape (n_points, n_in) or (n_in,)

        Returns
        -------
        int ndarray of shape (n_points,) (or a scalar array for one point)

        Examples
        --------
        >>> import numpy as np
        >>> from reluscope import Box, Network
        >>> from reluscope.regions import enumerate as enumerate_regions
        >>> net = Network.random([2, 5, 1], seed=0)
        >>> res = enumerate_regions(net, Box(-1.0, 1.0, dim=2))
        >>> i = res.locate(np.array([[0.1, 0.2], [3.0, 3.0]]))
        >>> int(i[1])                        # outside the box
        -1
        >>> bool(np.array_equal(res.patterns[i[0]], net.pattern([0.1, 0.2])))
        True
        """
        x, single = as_points(points, self.n_in, "points")
        pats = patterns_at(self.table, x)
        index = self._index
        out = np.array([index.get(k, -1) for k in pattern_keys(pats)], dtype=np.int64)
        if self.domain is not None:
            out[~self.domain.contains(x, 1e-12)] = -1
        return out[0] if single else out
