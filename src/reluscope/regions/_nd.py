"""Exact activation regions in n dimensions: a breadth-first walk over the dual graph.

Start from the regions of a few hundred random points in the domain (many sources
make the breadth-first walk shallow); for each region found, build its polyhedron
from its pattern (:func:`._nd_geometry.halfspaces`), compute its Chebyshev centre,
its facets and one point well inside each facet (small LPs:
:mod:`._nd_kernels`, or :mod:`._nd_batch` without numba), and step across every
facet to the neighbouring region. The neighbour's pattern is read off
lexicographically at that point (:func:`._nd_geometry.patterns_across`),
so a facet where several units switch at once, or where a deeper unit's bent
hyperplane meets it, is crossed exactly. A hash set of patterns makes every
region visited once. The regions of a network partition the domain and their
dual graph is connected, so the walk finds all of them (DESIGN §2; Hanin &
Rolnick 2019; the same walk as relucent's ``bfs`` and parx's facet flips, with
batched LPs and no LP solver call per facet).

Degenerate networks are normal: rows of units constant on a region are dropped,
coincident rows are one facet, and a region (or facet) whose Chebyshev radius is
at most ``tol`` times the domain's scale is too thin to count.

On a bounded domain a second method counts and lists regions without their facets:
a depth-first search over the units with warm-started dual simplex LPs
(:mod:`._nd_search`, :mod:`._tree_kernels`; ``method="search"``, the default from 8
inputs up). Its results compute the maps and the geometry on first access, with this
module's batch analysis (:func:`_geometry_of`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from .._errors import DomainError, InvalidParameterError, PartialResultWarning, SolverError
from .._validation import check_n_jobs, check_positive_int
from ..domains import Box, Polytope, as_domain
from ..network import Network
from ._nd_geometry import UnitTable, halfspaces, patterns_across, patterns_at, unit_table
from ._nd_result import Geometry, NdRegions, pattern_keys, pattern_void
from ._nd_search import SearchFailed, search_regions
from ._nd_state import WalkState, fingerprint
from ._threads import in_threads

__all__ = ["enumerate", "NdRegions"]

_WAVE = 2048  # regions analysed per batch
_N_START = 256  # random start points; their regions are the walk's first wave
_MAX_ITER = 500  # simplex pivots per LP
_BACKENDS = ("auto", "numba", "numpy")
_METHODS = ("auto", "walk", "search")
#: input dimension from which method="auto" searches a bounded domain instead of walking it
_SEARCH_MIN_DIM = 8


def _domain_rows(dom: Box | Polytope | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-normal rows ``(D, n), (D,)`` of the domain (none for all of R^n)."""
    if dom is None:
        return np.zeros((0, n)), np.zeros(0)
    if isinstance(dom, Box):  # unit rows already
        return dom.halfspaces()
    A, b = dom.halfspaces()
    nrm = np.linalg.norm(A, axis=1)
    zero = nrm <= 1e-300
    if np.any(zero & (b < 0)):
        raise DomainError("'domain' is empty: it has a row 0 x <= b with b < 0.")
    return A[~zero] / nrm[~zero, None], b[~zero] / nrm[~zero]


def _scale(net: Network, dom: Box | Polytope | None) -> float:
    """Length scale of the problem: the domain's width, else where the first layer's hyperplanes lie."""
    if isinstance(dom, Box):
        return float(np.max(dom.hi - dom.lo))
    if isinstance(dom, Polytope):
        try:
            box = dom.box if dom.box is not None else dom.bounding_box()
            return float(np.max(box.hi - box.lo))
        except DomainError:
            pass
    # all of R^n: the median distance of the first layer's hyperplanes from the origin
    # (a far outlier must not make the tolerance coarse near the origin)
    W, b = net.layers[0].weight, net.layers[0].bias
    nrm = np.linalg.norm(W, axis=1)
    ok = nrm > 0
    dist = np.abs(b[ok]) / nrm[ok]
    dist = dist[dist > 0]
    return float(np.median(dist)) if dist.size else 1.0


def _outer_box(dom: Box | Polytope | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A box around the domain, when one is at hand (the domain itself, or a polytope's box)."""
    box = dom if isinstance(dom, Box) else getattr(dom, "box", None)
    if box is None:
        return None
    return np.asarray(box.lo, dtype=np.float64), np.asarray(box.hi, dtype=np.float64)


#: work per thread (regions x rows x dimensions) below which the compiled LP kernel runs in
#: the calling thread: starting threads costs about as much as 50 small 3-D regions
_MIN_WORK_PER_THREAD = 4096


class _Analyser:
    """Chebyshev centres, facets and facet centres of batches of regions."""

    def __init__(self, backend: str, n_jobs: int = 1, box: tuple[np.ndarray, np.ndarray] | None = None,
                 n_dom: int = 0):
        self.n_jobs = n_jobs
        self.box = box  # a box around the domain (an outer bound for every region), if known
        self.n_dom = n_dom  # the domain's rows, last in every H-representation
        if backend not in _BACKENDS:
            raise InvalidParameterError(f"'backend' must be one of {_BACKENDS}; got {backend!r}.")
        self.kernels = None
        if backend in ("auto", "numba"):
            from . import _nd_kernels

            if _nd_kernels.HAVE_NUMBA:
                self.kernels = _nd_kernels
            elif backend == "numba":
                raise InvalidParameterError(
                    "backend='numba' needs numba (pip install 'reluscope[fast]'); use backend='numpy'."
                )
        #: forward passes (patterns, H-representations) in compiled loops too
        self.compiled = self.kernels is not None

    def __call__(
        self, G: np.ndarray, h: np.ndarray, valid: np.ndarray, seeds: np.ndarray, r_cap: float, tol_abs: float
    ) -> tuple[np.ndarray, ...]:
        from . import _nd_batch

        if self.kernels is None:
            out = _nd_batch.analyse_regions(G, h, valid, seeds, r_cap, tol_abs, _MAX_ITER)
        else:
            out = self._compiled(G, h, valid, seeds, r_cap, tol_abs)
            failed = np.nonzero(out[-1] != 0)[0]
            if failed.size:  # rare: re-solve with the batched solver (other pivoting)
                redo = _nd_batch.analyse_regions(
                    G[failed], h[failed], valid[failed], seeds[failed], r_cap, tol_abs, 10 * _MAX_ITER
                )
                for full, part in zip(out, redo, strict=True):
                    full[failed] = part
        for r in np.nonzero(out[-1] != 0)[0]:  # last resort: scipy's HiGHS, one LP per row
            one = _nd_batch.analyse_region_highs(G[r], h[r], valid[r], r_cap, tol_abs)
            for full, part in zip(out, one, strict=True):
                full[r] = part[0]
            if one[-1][0] != 0:
                raise SolverError(
                    "The LPs of one region failed in all three solvers (numba, NumPy, HiGHS); "
                    "try another 'tol'."
                )
        return out


    def _compiled(self, G: np.ndarray, h: np.ndarray, valid: np.ndarray, seeds: np.ndarray, r_cap: float,
                  tol_abs: float) -> tuple[np.ndarray, ...]:
        """The compiled kernel, on contiguous blocks of regions in threads (it releases the GIL);
        regions are independent, so the result does not depend on the number of threads."""
        n = G.shape[2]
        lo, hi = self.box if self.box is not None else (np.full(n, -np.inf), np.full(n, np.inf))
        kernel = partial(self.kernels.analyse_regions, r_cap=r_cap, tol_abs=tol_abs,  # type: ignore[union-attr]
                         max_iter=_MAX_ITER, box_lo=lo, box_hi=hi, n_dom=self.n_dom)
        jobs = min(self.n_jobs, len(G), G.size // _MIN_WORK_PER_THREAD)
        if jobs <= 1:
            return kernel(G, h, valid, seeds)
        cuts = np.linspace(0, len(G), jobs + 1).astype(int)
        parts = in_threads([partial(kernel, G[i:j], h[i:j], valid[i:j], seeds[i:j])
                            for i, j in zip(cuts[:-1], cuts[1:], strict=True)], jobs, single_blas=False)
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))


def _start_points(dom: Box | Polytope | None, n: int, scale: float, analyse: _Analyser,
                  rows: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Start points: the domain's centre, then random points in it (uniform in a box, else in a ball)."""
    m = _N_START - 1
    if isinstance(dom, Box):
        if not np.all(dom.hi - dom.lo > 1e-12 * scale):
            raise DomainError("'domain' has an empty interior: there is no full-dimensional region.")
        pts = np.empty((m + 1, n))
        pts[0] = (dom.lo + dom.hi) / 2
        pts[1:] = dom.lo + (dom.hi - dom.lo) * rng.random((m, n))
        return pts
    if dom is None:
        centre, radius = np.zeros(n), scale
    else:  # a polytope: its Chebyshev ball
        Dg, Dh = rows
        c, r, *_, st = analyse(Dg[None], Dh[None], np.ones((1, len(Dh)), bool), np.zeros((1, n)),
                               10 * scale, 0.0)
        if st[0] != 0 or not r[0] > 1e-12 * scale:
            raise DomainError("'domain' has an empty interior: there is no full-dimensional region.")
        centre, radius = c[0], float(r[0])
    d = rng.normal(size=(m, n))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return np.vstack([centre, centre + radius * rng.uniform(0.0, 0.9, size=(m, 1)) * d])


def enumerate(  # noqa: A001 - the public name is regions.enumerate
    net: Network,
    domain: Box | Polytope | Any = None,
    *,
    include_output: bool = False,
    max_regions: int | None = None,
    checkpoint: str | None = None,
    progress: bool = False,
    tol: float = 1e-9,
    map_tol: float = 1e-9,
    checkpoint_every: float = 30.0,
    backend: str = "auto",
    n_jobs: int | None = None,
    method: str = "auto",
) -> NdRegions:
    """Every activation region of ``net`` in ``R^n``, a box or a polytope, exactly.

    A breadth-first walk over the regions' dual graph: from the regions of the
    domain's centre and of 255 random points in it, find each region's facets with
    small LPs and step across each to its neighbour (see the module notes). Works
    for every activation of :mod:`reluscope.activations`; a unit's pattern entry is
    the index of its piece (HardTanh: 0, 1, 2).

    Parameters
    ----------
    net : Network
    domain : None, Box, Polytope or (lo, hi)
        None is all of ``R^n`` (unbounded regions included).
    include_output : bool, default False
        Also split on the output layer (a linear output unit splits at 0, its
        decision boundary), as in :func:`reluscope.regions.on_segment`.
    max_regions : int, optional
        Stop after this many regions: the result has ``is_partial=True`` and a
        :class:`~reluscope.PartialResultWarning` is issued.
    checkpoint : path, optional
        Save the walk's state there (atomically, ``.npz`` without pickles) every
        ``checkpoint_every`` seconds, at the end and on Ctrl-C; if the file exists,
        resume from it.
    progress : bool, default False
        Show a tqdm progress bar.
    tol : float, default 1e-9
        Relative tolerance: regions and facets whose Chebyshev radius is at most
        ``tol`` times the problem's length scale (the domain's width, or over all
        of ``R^n`` the median distance of the first layer's hyperplanes from the
        origin) are too thin to count; units whose gradient cancels to ``tol`` of
        its magnitude are constant. Over all of ``R^n`` the Chebyshev radius is
        capped at 10 times that scale (``radius_cap``), for unbounded regions.
    map_tol : float, default 1e-9
        Relative tolerance for neighbouring affine maps to be equal (linear regions).
    checkpoint_every : float, default 30
        Seconds between checkpoints.
    backend : {"auto", "numba", "numpy"}
        LP kernels: compiled with numba (the ``fast`` extra; "auto" uses it when
        installed) or batched NumPy.
    n_jobs : int or None, default None
        Threads for the compiled LP kernels (``None`` or ``-1``: one per available core);
        the result is the same for every value.
    method : {"auto", "walk", "search"}
        ``"walk"``: the breadth-first walk over the dual graph (any domain; it finds
        every region's facets and neighbours as it goes). ``"search"``: a depth-first
        search over the units with warm-started dual simplex LPs (bounded domains
        only; see Notes); the result's maps, centres and facets are computed on first
        access, so counting and listing patterns cost only the search. ``"auto"``:
        the search on a bounded domain in ``n >= 8`` dimensions when numba is
        installed (the walk's LPs grow with ``n``, the search's barely), else the walk.

    Returns
    -------
    NdRegions
        Patterns, facets (minimal H-representations), Chebyshev centres and radii,
        affine maps, ``n_activation_regions``, ``n_linear_regions``, ``is_partial``,
        :meth:`~NdRegions.dual_graph` and :meth:`~NdRegions.locate`.

    Raises
    ------
    DomainError
        If the domain has an empty interior.

    Notes
    -----
    Without biases (and with ReLU, leaky ReLU, absolute value or linear layers) every
    region is a cone at the origin. Over all of ``R^n`` such a network is walked in
    the box ``[-1, 1]^n``, where each cone and each of its facets is full-dimensional,
    so that no LP goes far out. The result is that of ``R^n``: no facets of the box,
    every radius at the cap, each centre scaled about the origin to it. A cone counts
    when its section of the box is thicker than ``tol`` (about ``tol`` radians).

    The search (Serra, Tjandraatmadja & Ramalingam 2018 count regions the same way with
    a MILP) decides the units one at a time; a pattern prefix is the polyhedron where
    every decided unit is at least ``tol`` times the scale from its breakpoints, and
    the next unit's pieces that reach into it are found by LPs warm-started from the
    parent's basis (:mod:`reluscope.regions._tree_kernels`). A region counts when it
    holds a point of the domain that far from every breakpoint (the walk asks for a
    ball of that radius inside the domain too: the two differ only on slivers that the
    domain's boundary cuts thinner than ``tol``). Its regions come in lexicographic
    order of their patterns, so with ``max_regions`` it returns the first ones in that
    order. Should its LPs fail (ill-conditioned weights), ``method="auto"`` falls back
    to the walk (unless it writes a checkpoint: then it raises ``SolverError``). On a
    box with at least 256 inputs, when the first layer has at most half as many units
    (an MNIST classifier: 784 inputs, 5-17 units), every unit depends on the input only
    through that layer's outputs: the search then takes candidates from a search over
    those outputs, confirms most of them by searches over coarse inputs (groups of
    inputs moving together) and decides the rest by LPs over the inputs
    (:mod:`reluscope.regions._nd_project`). The regions are the same; witnesses of
    confirmed regions are vertices of the coarse searches.

    Other networks over all of ``R^n``: a region counts when a ball of radius ``tol``
    times the scale fits in it anywhere, however far out. A thin unbounded region
    (the wedge between nearly parallel bent hyperplanes) may fit one only at ``|x|``
    of 1e8 or more, where the LPs' points are known only to about ``1e-16 |x|``.
    There, which of its thinnest facets are found can depend on the LP's start point
    (in the random-network checks of the tests and of ``scripts/fuzz_engines.py``
    only such facets differed, never the regions). A bounded domain (a box) has no
    such regions.

    References
    ----------
    Hanin & Rolnick, "Deep ReLU networks have surprisingly few activation patterns",
    NeurIPS 2019 (Lemma 3: linear vs activation regions); Serra, Tjandraatmadja &
    Ramalingam, "Bounding and counting linear regions of deep neural networks", ICML 2018.

    Examples
    --------
    Four lines in general position cut the plane into ``1 + 4 + C(4, 2) = 11`` regions:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> from reluscope.regions import enumerate as enumerate_regions
    >>> theta = np.array([0.1, 0.9, 1.7, 2.5])
    >>> W = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    >>> net = Network([(W, np.array([0.3, -0.2, 0.5, 0.1]), "relu"),
    ...                (np.array([[1.0, 2.0, 3.0, 4.0]]), np.zeros(1), "identity")])
    >>> res = enumerate_regions(net)
    >>> res.n_activation_regions, res.n_linear_regions
    (11, 11)
    >>> i = res.locate(np.array([5.0, 5.0]))
    >>> bool(np.allclose(res.A_out[i] @ [5.0, 5.0] + res.c_out[i], net([5.0, 5.0])))
    True

    On the box ``[-1, 1]^3`` of a random network:

    >>> from reluscope import Box
    >>> net3 = Network.random([3, 8, 8, 1], seed=0)
    >>> res3 = enumerate_regions(net3, Box(-1.0, 1.0, dim=3))
    >>> bool(np.all(net3.pattern(res3.centres) == res3.patterns))
    True

    In 10 dimensions ``"auto"`` searches; the patterns and witness points come first, the
    geometry when asked for:

    >>> net10 = Network.random([10, 6, 6, 1], seed=0)
    >>> res10 = enumerate_regions(net10, Box(-1.0, 1.0, dim=10))
    >>> bool(np.all(net10.pattern(res10.points) == res10.patterns))
    True
    >>> walk = enumerate_regions(net10, Box(-1.0, 1.0, dim=10), method="walk")
    >>> res10.n_activation_regions == walk.n_activation_regions
    True
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    if not (0 < tol < 1e-2):
        raise InvalidParameterError(f"'tol' must be in (0, 0.01); got {tol!r}.")
    if not (0 < map_tol < 1):
        raise InvalidParameterError(f"'map_tol' must be in (0, 1); got {map_tol!r}.")
    if max_regions is not None:
        max_regions = check_positive_int(max_regions, "max_regions")
    if not checkpoint_every > 0:
        raise InvalidParameterError(f"'checkpoint_every' must be > 0 seconds; got {checkpoint_every!r}.")
    if method not in _METHODS:
        raise InvalidParameterError(f"'method' must be one of {_METHODS}; got {method!r}.")
    dom = as_domain(domain, net.n_in)
    if method == "search" and dom is None:
        raise InvalidParameterError("method='search' needs a bounded domain (a Box or a Polytope); got None "
                                    "(all of R^n): use method='walk'.")
    rows = _domain_rows(dom, net.n_in)
    full_table = unit_table(net, include_output)
    if method == "search" or (method == "auto" and dom is not None and net.n_in >= _SEARCH_MIN_DIM):
        analyse = _Analyser(backend, check_n_jobs(n_jobs), _outer_box(dom), len(rows[1]))
        if method == "search" or analyse.compiled:  # (without numba "auto" walks)
            try:
                return _enumerate_search(net, dom, rows, full_table, analyse, include_output=include_output,
                                         max_regions=max_regions, checkpoint=checkpoint, progress=progress,
                                         tol=tol, map_tol=map_tol, checkpoint_every=checkpoint_every)
            except SearchFailed as exc:
                if method == "search" or checkpoint is not None:  # (the checkpoint is the search's)
                    raise SolverError(f"The region search failed ({exc}); try method='walk'.") from exc
    # without biases every region is a cone at the origin: over all of R^n the walk runs in
    # the box [-1, 1]^n, where each cone and each of its facets is full-dimensional, so that
    # no LP has to go far out (see Notes)
    conic = dom is None and _is_conic(full_table)
    fp = "" if checkpoint is None else fingerprint(net, rows, include_output=include_output, tol=tol,
                                                   **({"conic": True} if conic else {}))
    scale = _scale(net, dom)
    basis = _row_space(net) if dom is None else None
    if basis is not None:  # the regions are cylinders over the row space of the first layer
        first = net.layers[0]
        net = net.with_layers([(first.weight @ basis, first.bias, first.activation), *net.layers[1:]])
        rows = (np.zeros((0, basis.shape[1])), np.zeros(0))
    n = net.n_in
    table = full_table if basis is None else unit_table(net, include_output)
    walk_dom = Box(-1.0, 1.0, dim=n) if conic else dom
    if conic:
        rows = _domain_rows(walk_dom, n)
    tol_abs = tol * scale
    r_cap = 10.0 * scale
    analyse = _Analyser(backend, check_n_jobs(n_jobs), _outer_box(walk_dom), len(rows[1]))
    rng = np.random.default_rng(20240607)
    second = rng.normal(size=n)
    second /= np.linalg.norm(second)
    state = WalkState(table.n_units, n, net.n_out)
    if checkpoint is None or not state.load(checkpoint, fp):
        _seed_walk(state, table, walk_dom, rows, scale, analyse, rng)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, unit="region", desc="regions", initial=state.n_regions)
    last_save = time.monotonic()
    try:
        while state.head < state.n_found:
            if max_regions is not None and state.n_regions >= max_regions:
                break
            room = _WAVE if max_regions is None else min(_WAVE, max_regions - state.n_regions)
            before = state.n_regions
            _wave(state, table, rows, room, tol_abs, tol, r_cap, analyse, second)
            if bar is not None:
                bar.update(state.n_regions - before)
                bar.set_postfix(pending=state.n_found - state.head)
            if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every:
                state.save(checkpoint, fp)
                last_save = time.monotonic()
    except KeyboardInterrupt:
        if checkpoint is not None:
            state.save(checkpoint, fp)
        raise
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        state.save(checkpoint, fp)
    partial = state.head < state.n_found
    if state.n_regions == 0 and not partial:
        raise SolverError(f"The walk found no full-dimensional region ({_N_START} start points tried); "
                          "try a smaller 'tol'.")
    if partial:
        warnings.warn(
            f"enumerate stopped at max_regions={max_regions} with {state.n_found - state.head} "
            "regions found but not yet visited; the result is partial (is_partial=True).",
            PartialResultWarning,
            stacklevel=2,
        )
    res = _assemble(state, full_table, net, dom, partial, r_cap, tol, map_tol, include_output)
    if conic:
        res = _cones(res, r_cap)
    if basis is not None:
        res = _lift(res, basis)
    return res


def _seed_walk(state: WalkState, table: UnitTable, dom: Any, rows: tuple[np.ndarray, np.ndarray],
               scale: float, analyse: _Analyser, rng: np.random.Generator) -> None:
    """Register the regions of the start points as the walk's first wave.

    Random points lie inside full-dimensional regions (with probability 1), and a
    breadth-first walk from many sources needs fewer waves than from one: a chain of
    regions (the slabs of a net whose first layer has one unit) is visited at once.
    """
    n = rows[0].shape[1]
    pts = _start_points(dom, n, scale, analyse, rows, rng)
    # a point on a breakpoint (the centre, say, of a net without biases) may give the pattern
    # of a lower-dimensional piece: the first wave finds it too thin and moves on
    pats = patterns_at(table, pts, analyse.compiled)
    keys = pattern_void(pats)
    _, first = np.unique(keys, return_index=True)
    first = np.sort(first)  # in the order of the points: the centre's region first
    state.add_patterns(keys[first].tolist(), pats[first], pts[first])


def _analyse_batch(table: UnitTable, pats: np.ndarray, seeds: np.ndarray, rows: tuple[np.ndarray, np.ndarray],
                   tol_abs: float, tol: float, r_cap: float, analyse: _Analyser,
                   second: np.ndarray) -> tuple[Any, ...]:
    """Chebyshev balls and facets of the regions of ``pats`` (R, n_units), and the pattern
    across each facet of a unit.

    Returns ``(hr, ok, centre, radius, r_idx, i_idx, is_unit, across, x)``: the
    H-representations, which regions are full-dimensional, their balls, the facets
    (region and row indices), which facets belong to units, the patterns across
    those, and a point inside each of those facets.
    """
    hr = halfspaces(table, pats, tol, analyse.compiled, rows)
    centre, radius, facet, fpoint, tied_rows, _ = analyse(hr.G, hr.h, hr.valid, seeds, r_cap, tol_abs)
    ok = hr.feasible & (radius > tol_abs)
    bad = np.nonzero(ok & np.any(patterns_at(table, centre, analyse.compiled) != pats, axis=1))[0]
    for r in bad:  # the LPs went wrong (ill-conditioned rows): once more with HiGHS
        from ._nd_batch import analyse_region_highs

        one = analyse_region_highs(hr.G[r], hr.h[r], hr.valid[r], r_cap, tol_abs)
        for full, part in zip((centre, radius, facet, fpoint, tied_rows), one, strict=False):
            full[r] = part[0]
        ok[r] = one[-1][0] == 0 and one[1][0] > tol_abs and np.array_equal(
            patterns_at(table, one[0])[0], pats[r])
    facet[~ok] = 0
    r_idx, i_idx = np.nonzero(facet)
    is_unit = i_idx < table.n_rows
    ru, iu = r_idx[is_unit], i_idx[is_unit]
    x = fpoint[ru, iu]
    across = np.zeros((0, table.n_units), dtype=np.int8)
    if ru.size:
        across = _cross(table, pats[ru], tied_rows[ru, iu, : table.n_rows], hr.degenerate[ru], x,
                        hr.G[ru, iu], second, tol, tol_abs / tol)
    return hr, ok, centre, radius, r_idx, i_idx, is_unit, across, x


def _wave(state: WalkState, table: UnitTable, rows: tuple[np.ndarray, np.ndarray], room: int,
          tol_abs: float, tol: float, r_cap: float, analyse: _Analyser, second: np.ndarray) -> None:
    """Process the next pending regions (at most ``room``) and register their neighbours."""
    ids = np.arange(state.head, min(state.n_found, state.head + room))
    pats = state.patterns.view()[ids]
    hr, ok, centre, radius, r_idx, i_idx, is_unit, across, x = _analyse_batch(
        table, pats, state.seeds.view()[ids], rows, tol_abs, tol, r_cap, analyse, second)
    state.status.view()[ids] = np.where(ok, 1, 2)
    state.head = int(ids[-1]) + 1
    nb = np.full(r_idx.shape, -1, dtype=np.int64)
    if np.any(is_unit):
        uniq, first, inverse = np.unique(pattern_void(across), return_index=True, return_inverse=True)
        keys = uniq.tolist()
        ids_u = state.add_patterns(keys, across[first], x[first])
        nb[is_unit] = ids_u[inverse.ravel()]
    units = np.full(r_idx.shape, -1, dtype=np.int64)
    units[is_unit] = table.row_unit[i_idx[is_unit]]
    state.record(
        reg_id=ids[ok], centres=centre[ok], radii=radius[ok], A_out=hr.A_out[ok], c_out=hr.c_out[ok],
        f_reg=ids[r_idx], f_A=hr.G[r_idx, i_idx], f_b=hr.h[r_idx, i_idx], f_unit=units, f_nb=nb,
    )


def _geometry_of(patterns: np.ndarray, points: np.ndarray, table: UnitTable, rows: tuple[np.ndarray, np.ndarray],
                 tol_abs: float, tol: float, r_cap: float, analyse: _Analyser, second: np.ndarray) -> Geometry:
    """The Chebyshev balls and facets of known regions (the search's), in batches as the walk's.

    A region whose ball is not thicker than ``tol_abs`` (a sliver the domain's boundary
    cuts off, counted by the search's margins) keeps its LP's ball and lists no facets.
    """
    n = points.shape[1]
    index = dict(zip(pattern_keys(patterns), range(len(patterns)), strict=True))  # (enumerate is shadowed)
    centres, radii = np.array(points, dtype=np.float64), np.zeros(len(patterns))
    f_reg, f_A, f_b, f_unit, f_nb = [], [], [], [], []
    for lo in range(0, len(patterns), _WAVE):
        ids = np.arange(lo, min(lo + _WAVE, len(patterns)))
        hr, ok, centre, radius, r_idx, i_idx, is_unit, across, _ = _analyse_batch(
            table, patterns[ids], points[ids], rows, tol_abs, tol, r_cap, analyse, second)
        centres[ids[ok]] = centre[ok]
        radii[ids] = radius
        nb = np.full(r_idx.shape, -1, dtype=np.int64)
        nb[is_unit] = np.array([index.get(k, -1) for k in pattern_keys(across)], dtype=np.int64)
        units = np.full(r_idx.shape, -1, dtype=np.int64)
        units[is_unit] = table.row_unit[i_idx[is_unit]]
        f_reg.append(ids[r_idx])
        f_A.append(hr.G[r_idx, i_idx])
        f_b.append(hr.h[r_idx, i_idx])
        f_unit.append(units)
        f_nb.append(nb)
    def cat(parts: list[np.ndarray], shape: tuple[int, ...], dt: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(shape, dtype=dt)

    reg = cat(f_reg, (0,), np.int64)
    return Geometry(
        centres=centres, radii=radii, facet_offsets=np.searchsorted(reg, np.arange(len(patterns) + 1)),
        facet_A=cat(f_A, (0, n), np.float64), facet_b=cat(f_b, (0,), np.float64),
        facet_units=cat(f_unit, (0,), np.int64), facet_neighbors=cat(f_nb, (0,), np.int64),
    )


def _cross(table: UnitTable, base: np.ndarray, trows: np.ndarray, degenerate: np.ndarray, x: np.ndarray,
           normal: np.ndarray, second: np.ndarray, tol: float, scale: float) -> np.ndarray:
    """Pattern across each facet: ``base`` (F, n_units) with the tight rows ``trows`` (F, n_rows) crossed.

    When the tight rows all belong to one layer (the usual case: one row, or
    coincident rows of one layer), the earlier layers do not change across the
    facet, so each tight row's unit simply moves to the piece beyond that row's
    breakpoint, and every other unit keeps its piece (its value is away from its
    breakpoints at the facet point). Otherwise (tight rows in several layers, or a
    unit constant on the region at a breakpoint) the pattern is computed
    lexicographically (:func:`patterns_across`).
    """
    rr, jj = np.nonzero(trows)  # rr is sorted, and every facet has a tight row (its own)
    lay = table.row_layer[jj]
    first = np.ones(rr.shape, dtype=bool)
    first[1:] = rr[1:] != rr[:-1]
    starts = np.flatnonzero(first)
    fast = (np.minimum.reduceat(lay, starts) == np.maximum.reduceat(lay, starts)) & ~degenerate
    out = base.copy()
    sel = fast[rr]
    r_f, j_f = rr[sel], jj[sel]
    u, bj = table.row_unit[j_f], table.row_bp[j_f]
    out[r_f, u] = np.where(base[r_f, u] <= bj, bj + 1, bj)
    slow = np.nonzero(~fast)[0]
    if slow.size:
        out[slow] = patterns_across(table, x[slow], normal[slow], second, tol, trows[slow], scale)
    return out


def _is_conic(table: UnitTable) -> bool:
    """Whether every region is a cone at the origin: no biases and no breakpoint or
    intercept off 0 in the splitting layers and those before them (ReLU, leaky ReLU,
    absolute value and linear layers are positively homogeneous; HardTanh is not)."""
    return all(
        not np.any(table.biases[li]) and not np.any(table.acts[li].breakpoints)
        and not np.any(table.acts[li].intercepts)
        for li in range(table.n_split)
    )


def _cones(res: NdRegions, r_cap: float) -> NdRegions:
    """The cones' regions from a walk in the box ``[-1, 1]^n``: without the box's facets, and
    each Chebyshev ball scaled about the origin (a cone contains every multiple of a ball in
    it) to the radius cap of unbounded regions."""
    keep = res.facet_units >= 0
    kept = np.concatenate([[0], np.cumsum(keep)])
    centres = res.centres * (r_cap / res.radii)[:, None]
    geo = Geometry(
        centres=centres,
        radii=np.full_like(res.radii, r_cap),
        facet_offsets=kept[res.facet_offsets],
        facet_A=res.facet_A[keep],
        facet_b=res.facet_b[keep],
        facet_units=res.facet_units[keep],
        facet_neighbors=res.facet_neighbors[keep],
    )
    return replace(res, points=centres, geometry_source=geo)


def _row_space(net: Network) -> np.ndarray | None:
    """Orthonormal basis (n, k) of the first layer's row space when it has rank k < n, else None.

    Every unit then depends on ``x`` only through its projection on that space, so over
    all of ``R^n`` each region is a region of the k-dimensional problem times the
    orthogonal complement (a lineality space that LPs cannot pivot on).
    """
    W = net.layers[0].weight
    _, s, vt = np.linalg.svd(W, full_matrices=False)
    k = int(np.sum(s > 1e-10 * max(float(s[0]) if s.size else 0.0, 1e-300)))
    if k >= W.shape[1]:
        return None
    return vt[: max(k, 1)].T


def _lift(res: NdRegions, basis: np.ndarray) -> NdRegions:
    """Results computed in the row-space coordinates ``y = basis.T x``, in the input space."""
    centres = res.centres @ basis.T
    geo = replace(res.geometry, centres=centres, facet_A=res.facet_A @ basis.T)
    return replace(res, points=centres, maps_source=(res.A_out @ basis.T, res.c_out), geometry_source=geo)


def _assemble(state: WalkState, table: UnitTable, net: Network, dom: Any, partial: bool, r_cap: float,
              tol: float, map_tol: float, include_output: bool) -> NdRegions:
    """Renumber the regions 0..R-1 (in discovery order) and build the result."""
    out = {k: b.view() for k, b in state.out.items()}
    reg = out["reg_id"]
    order = np.argsort(reg, kind="stable")
    new_id = np.full(state.n_found, -1, dtype=np.int64)
    new_id[reg[order]] = np.arange(len(reg))
    f_order = np.argsort(out["f_reg"], kind="stable")
    f_reg = new_id[out["f_reg"][f_order]]
    nb_old = out["f_nb"][f_order]
    nb = np.where(nb_old >= 0, new_id[np.maximum(nb_old, 0)], -1)
    offsets = np.searchsorted(f_reg, np.arange(len(reg) + 1))
    A_out, c_out = out["A_out"][order], out["c_out"][order]
    centres = out["centres"][order]
    if not include_output and not net.layers[-1].activation.is_linear:
        # the output activation does not split: take its pieces at the centre
        A_out, c_out = _output_piece(net, A_out, c_out, centres)
    geo = Geometry(
        centres=centres,
        radii=out["radii"][order],
        facet_offsets=offsets,
        facet_A=out["f_A"][f_order],
        facet_b=out["f_b"][f_order],
        facet_units=out["f_unit"][f_order],
        facet_neighbors=nb,
    )
    return NdRegions(
        patterns=state.patterns.view()[reg[order]].copy(),
        points=centres,
        maps_source=(A_out, c_out),
        geometry_source=geo,
        is_partial=partial,
        radius_cap=r_cap,
        tol=tol,
        map_tol=map_tol,
        domain=dom,
        table=table,
    )


def _output_piece(net: Network, A_out: np.ndarray, c_out: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The maps through an output activation that does not split: its pieces at ``x``."""
    last = net.layers[-1].activation
    z = np.einsum("rok,rk->ro", A_out, x) + c_out
    k = last.piece(z)
    return last.slopes[k][:, :, None] * A_out, last.slopes[k] * c_out + last.intercepts[k]


def _enumerate_search(net: Network, dom: Box | Polytope, rows: tuple[np.ndarray, np.ndarray], table: UnitTable,
                      analyse: _Analyser, *, include_output: bool, max_regions: int | None,
                      checkpoint: str | None, progress: bool, tol: float, map_tol: float,
                      checkpoint_every: float) -> NdRegions:
    """``enumerate`` by the depth-first search (see its Notes); maps and geometry on first access."""
    n = net.n_in
    scale = _scale(net, dom)
    rng = np.random.default_rng(20240607)
    _start_points(dom, n, scale, analyse, rows, rng)  # raises DomainError for an empty interior
    second = rng.normal(size=n)
    second /= np.linalg.norm(second)
    fp = "" if checkpoint is None else fingerprint(net, rows, include_output=include_output, tol=tol,
                                                   method="search")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, unit="region", desc="regions")
    try:
        patterns, points, is_partial = search_regions(
            table, dom, rows, tol, scale, max_regions=max_regions, n_jobs=analyse.n_jobs, checkpoint=checkpoint,
            fp=fp, checkpoint_every=checkpoint_every, bar=bar, compiled_check=analyse.compiled)
    finally:
        if bar is not None:
            bar.close()
    if is_partial:
        warnings.warn(
            f"enumerate stopped at max_regions={max_regions}: the result holds the first regions in the "
            "lexicographic order of their patterns and is partial (is_partial=True).",
            PartialResultWarning,
            stacklevel=3,
        )
    last_splits = include_output or net.layers[-1].activation.is_linear

    def maps() -> tuple[np.ndarray, np.ndarray]:
        if analyse.compiled:
            from ._nd_geometry_kernels import output_maps

            A_out, c_out = output_maps(table.packed, patterns)
        else:
            parts = [halfspaces(table, patterns[i:i + _WAVE], tol) for i in range(0, len(patterns), _WAVE)]
            A_out = np.concatenate([p.A_out for p in parts]) if parts else np.zeros((0, net.n_out, n))
            c_out = np.concatenate([p.c_out for p in parts]) if parts else np.zeros((0, net.n_out))
        return (A_out, c_out) if last_splits else _output_piece(net, A_out, c_out, points)

    r_cap = 10.0 * scale
    return NdRegions(
        patterns=patterns,
        points=points,
        maps_source=maps,
        geometry_source=partial(_geometry_of, patterns, points, table, rows, tol * scale, tol, r_cap, analyse,
                                   second),
        is_partial=is_partial,
        radius_cap=r_cap,
        tol=tol,
        map_tol=map_tol,
        domain=dom,
        table=table,
    )
