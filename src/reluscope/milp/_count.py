"""Exact counting and listing of the activation regions in a bounded domain (SCIP).

Serra, Tjandraatmadja & Ramalingam (ICML 2018, §4) count the linear regions of a
network as the feasible binary vectors ``z`` of its MILP with a positive margin
``f``. We use two-sided margins so that only *full-dimensional* regions count
(research note ``milp_bounds.md`` §0.4): for every unstable split,
``h_i >= eps z_i`` and ``h̄_i >= eps (1 - z_i)``, i.e. the pre-activation is at
least ``eps`` away from the breakpoint somewhere in the region, which then
contains a neighbourhood with the same pattern.

Units the bounds prove stable have no binary and **no margin**: their piece is
the same on the whole domain, so they cannot make a region lower-dimensional,
and a margin would wrongly drop regions where such a unit sits at its breakpoint
(e.g. a unit with zero weights and zero bias, whose pre-activation is 0 everywhere).

Counting uses SCIP's built-in counter (``SCIPcount``), which counts the feasible
assignments of the *integer* variables -- exactly the ``z`` -- and reports each
once however many continuous completions it has; listing uses a constraint
handler that records every integral ``z`` and cuts it off with a no-good
(research note §7).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, PartialResultWarning, SolverError
from ..domains import Box, Polytope
from ..network import Network
from ..propagate import LayerBounds
from ._backends import to_scip
from ._encode import check_time_limit, resolve
from ._formulation import Formulation, build_formulation

__all__ = ["RegionCount", "RegionList", "count_regions", "list_regions"]


@dataclass(frozen=True)
class RegionCount:
    """Result of :func:`count_regions`.

    Attributes
    ----------
    count : int
        Number of full-dimensional activation regions of the first ``layers`` hidden
        layers in the domain (a lower bound when ``status == "partial"``).
    eps : float
        The margin: regions on which no point keeps every unstable pre-activation at
        least ``eps`` from its breakpoint are not counted.
    time : float
        Seconds, bounds and model building included.
    status : {"exact", "partial"}
        "partial" when the time limit stopped the count.
    layers : int
        Number of hidden layers whose patterns were counted.
    n_binaries : int
        Binaries in the MILP (unstable units).
    n_stable : int
        Units the bounds proved stable (no binary).
    """

    count: int
    eps: float
    time: float
    status: str
    layers: int
    n_binaries: int
    n_stable: int


@dataclass(frozen=True)
class RegionList:
    """Result of :func:`list_regions`: :class:`RegionCount`'s fields plus the patterns.

    Attributes
    ----------
    patterns : ndarray of int8, shape (count, n_units)
        One row per region, units in the order of :meth:`Network.pattern` (hidden
        layers concatenated, the first ``layers`` of them), stable units included.
        Rows are sorted lexicographically.
    """

    patterns: np.ndarray
    eps: float
    time: float
    status: str
    layers: int
    n_binaries: int
    n_stable: int

    @property
    def count(self) -> int:
        return int(self.patterns.shape[0])


def _check_layers(net: Network, layers: Any) -> int:
    n = net.depth - 1
    if layers is None:
        return n
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or not 0 <= layers <= n:
        raise InvalidParameterError(f"'layers' must be None or an integer in [0, {n}]; got {layers!r}.")
    return int(layers)


def _check_eps(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (np.isfinite(eps) and eps > 0):
        raise InvalidParameterError(f"'eps' must be a finite number > 0; got {eps!r}.")
    return float(eps)


def counting_formulation(
    net: Network, domain: Any, layers: Any, eps: Any, bounds: Any
) -> tuple[Formulation, list[LayerBounds], Box | Polytope, int, float]:
    """The margin MILP of the first ``layers`` hidden layers (shared by count, list and approx)."""
    net, dom, lb = resolve(net, domain, bounds)
    k = _check_layers(net, layers)
    eps = _check_eps(eps)
    form = build_formulation(net, lb, dom, n_hidden=k, include_output=False, eps=eps)
    return form, lb, dom, k, eps


def scip_tolerance(eps: float) -> float:
    """SCIP feasibility tolerance for margin ``eps``: ten times smaller, within [1e-9, 1e-6]."""
    return float(min(1e-6, max(1e-9, eps / 10)))


def _n_stable(form: Formulation) -> int:
    return int(sum(np.count_nonzero(np.all(lv.fixed >= 0, axis=1)) for lv in form.layers[: form.n_hidden]))


def count_regions(
    net: Network,
    domain: Box | Polytope | Any,
    layers: int | None = None,
    eps: float = 1e-6,
    time_limit: float | None = None,
    *,
    bounds: str | list[LayerBounds] = "linear",
) -> RegionCount:
    """Exact number of full-dimensional activation regions in a bounded domain (SCIP counting).

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        Must be bounded.
    layers : int, optional
        Count the patterns of the first ``layers`` hidden layers only (default: all).
    eps : float, default 1e-6
        Two-sided margin (module docstring); reported with the result.
    time_limit : float, optional
        Seconds; on expiry the count so far is returned with status "partial" and a
        :class:`~reluscope.PartialResultWarning`.
    bounds : {"interval", "linear", "lp"} or list of LayerBounds, default "linear"
        Pre-activation bounds for the big-M constants and the stability of units.

    Returns
    -------
    RegionCount

    Notes
    -----
    In layer 2 and beyond a unit's pre-activation can be *identically* zero on a
    region (its bias is exactly 0 and all its ReLU inputs are off, as in zero-bias
    networks): no margin can hold there, yet the region is full-dimensional with the
    unit on piece 0. Such units get a flag ``d = Π (1 - z_inputs)`` that waives their
    inactive margin (see :mod:`reluscope.milp._formulation`). Regions where a
    pre-activation vanishes only through an exact cancellation of weights, or is a
    nonzero constant smaller than ``eps``, are not counted.

    References
    ----------
    Serra, Tjandraatmadja, Ramalingam, "Bounding and counting linear regions of deep
    neural networks", ICML 2018, §4 and constraints (1).

    Examples
    --------
    >>> from reluscope import Box, Network
    >>> # three lines in general position in a box that holds all their crossings: 1 + 3 + 3
    >>> w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> net = Network([(w, np.array([0.0, 0.0, -0.5]), "relu"), (np.ones((1, 3)), [0.0], "identity")])
    >>> r = count_regions(net, Box(-2.0, 2.0, dim=2))
    >>> r.count, r.status, r.eps
    (7, 'exact', 1e-06)
    >>> count_regions(net, Box(1.0, 2.0, dim=2)).count      # every unit is stably on there
    1
    """
    t0 = time.perf_counter()
    time_limit = check_time_limit(time_limit)
    form, _, _, k, eps = counting_formulation(net, domain, layers, eps, bounds)
    n_bin = int(form.binaries.shape[0])
    by_lps = int(form.integer.sum()) == n_bin  # no integers but the binaries: LPs can count
    if by_lps and n_bin <= _ENUMERATE_BINARIES:
        # few binaries (and no other integers): one LP per assignment; SCIPcount can crash here
        n = _count_by_lps(form)
        return RegionCount(n, eps, time.perf_counter() - t0, "exact", k, n_bin, _n_stable(form))
    s = to_scip(form)
    m = s.model
    m.setParamsCountsols()
    m.setParam("numerics/feastol", scip_tolerance(eps))
    m.setParam("conflict/enable", False)  # conflict constraints slowed counting ~1.5x, measured
    if time_limit is not None:
        m.setParam("limits/time", max(time_limit - (time.perf_counter() - t0), 1e-3))
    m.presolve()
    if m.getNBinVars() + m.getNIntVars() == 0:
        # presolve removed every binary; SCIPcount would then crash (segfault, SCIP 10)
        if by_lps and n_bin <= 12:
            n = _count_by_lps(form)
            return RegionCount(n, eps, time.perf_counter() - t0, "exact", k, n_bin, _n_stable(form))
        raise SolverError(
            f"SCIP's presolve removed all {n_bin} binary variables, and SCIP cannot count such a "
            "model; use regions.enumerate(net, domain) for this network."
        )
    m.count()
    status = m.getStatus()
    n = int(m.getNCountedSols())
    if status not in ("infeasible", "optimal", "timelimit"):
        raise SolverError(f"SCIP stopped counting with status {status!r}; the count {n} is not reliable.")
    partial = status == "timelimit"
    if partial:
        warnings.warn(
            f"count_regions stopped at the time limit ({time_limit} s); {n} regions counted so far "
            "(a lower bound).",
            PartialResultWarning,
            stacklevel=2,
        )
    return RegionCount(
        count=n,
        eps=eps,
        time=time.perf_counter() - t0,
        status="partial" if partial else "exact",
        layers=k,
        n_binaries=int(form.binaries.shape[0]),
        n_stable=_n_stable(form),
    )


def _no_good_handler(z_vars: list[Any], x_vars: list[Any], verify: _RegionCheck, sink: list[np.ndarray]) -> Any:
    """A SCIP constraint handler that records every integral ``z`` that is a region and forbids it."""
    import pyscipopt
    from pyscipopt import SCIP_RESULT

    class _Enumerate(pyscipopt.Conshdlr):
        def _record(self) -> dict[str, Any]:
            m = self.model
            vals = np.array([m.getSolVal(None, v) for v in z_vars])
            if np.any(np.abs(vals - np.rint(vals)) > 1e-6):  # not integral: leave it to branching
                return {"result": SCIP_RESULT.FEASIBLE}
            bits = np.rint(vals).astype(np.int8)
            x = np.array([m.getSolVal(None, v) for v in x_vars])
            # the LP solution satisfies the margins only up to the LP tolerance: confirm each
            # pattern by a forward pass at the LP point, else by its own margin LP
            if verify(bits, x):
                sink.append(bits)
            terms = [(1 - v) if b else v for v, b in zip(z_vars, bits, strict=True)]
            m.addCons(pyscipopt.quicksum(terms) >= 1, removable=False, name=f"nogood{len(sink)}")
            return {"result": SCIP_RESULT.CONSADDED}

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            if solinfeasible:
                return {"result": SCIP_RESULT.FEASIBLE}
            return self._record()

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            if solinfeasible:
                return {"result": SCIP_RESULT.FEASIBLE}
            return self._record()

        def conscheck(self, constraints, solution, checkintegrality, checklprows, printreason, completely):
            return {"result": SCIP_RESULT.INFEASIBLE}  # no solution is ever accepted: keep searching

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            pass

    return _Enumerate()


class _RegionCheck:
    """Is the pattern of binaries ``bits`` a region with margin ``eps``? (forward pass, then an LP)

    On pattern ``P`` every pre-activation is affine in ``x``: ``g_l = P_l x + q_l``
    (layer by layer with the pattern's slopes). The region with margin ``f`` is
    ``{x in domain : ±(g_i - β) >= f for unstable splits, the sign of stable ones}``;
    the pattern counts when ``max f >= eps`` up to the solver tolerance.
    """

    def __init__(self, net: Network, dom: Box | Polytope, form: Formulation, eps: float):
        self.net, self.form, self.eps = net, form, eps
        self.tol = scip_tolerance(eps)
        if isinstance(dom, Box):
            self.lo, self.hi, self.poly = dom.lo, dom.hi, None
        else:
            box = dom.box if dom.box is not None else dom.bounding_box()
            self.lo, self.hi, self.poly = box.lo, box.hi, dom.halfspaces()

    def _margins(self, pieces: list[np.ndarray], P: list[np.ndarray], q: list[np.ndarray]):
        """Rows ``(G, h, u)``: ``G x + h`` is each split's signed distance to its breakpoint; ``u`` unstable."""
        G, h, u = [], [], []
        for lv, act_layer, Pl, ql, pl in zip(self.form.layers, self.net.layers, P, q, pieces, strict=False):
            bps = np.asarray(act_layer.activation.breakpoints, dtype=np.float64)
            for j, beta in enumerate(bps):
                sign = np.where(pl > j, 1.0, -1.0)
                G.append(sign[:, None] * Pl)
                h.append(sign * (ql - beta))
                u.append(lv.fixed[:, j] == -1)
        if not G:
            return np.zeros((0, self.net.n_in)), np.zeros(0), np.zeros(0, dtype=bool)
        G_all, h_all, u_all = np.vstack(G), np.concatenate(h), np.concatenate(u)
        # a pre-activation that is constant on the region cannot cut it: it needs its sign, no margin
        flat = np.linalg.norm(G_all, axis=1) <= 1e-12 * (1.0 + np.abs(h_all))
        return G_all, h_all, u_all & ~flat

    def __call__(self, bits: np.ndarray, x: np.ndarray) -> bool:
        pat = self.form.patterns(bits[None, :])[0]
        k = self.form.n_hidden
        pieces, P, q = [], [], []
        A, c, start = np.eye(self.net.n_in), np.zeros(self.net.n_in), 0
        for layer in self.net.layers[:k]:
            n = layer.n_out
            pl = pat[start : start + n].astype(np.int64)
            start += n
            Pl, ql = layer.weight @ A, layer.weight @ c + layer.bias
            pieces.append(pl)
            P.append(Pl)
            q.append(ql)
            slope, icpt = layer.activation.slopes[pl], layer.activation.intercepts[pl]
            A, c = slope[:, None] * Pl, slope * ql + icpt
        G, h, u = self._margins(pieces, P, q)
        x = np.clip(x, self.lo, self.hi)
        d = G @ x + h
        in_poly = self.poly is None or bool(np.all(self.poly[0] @ x <= self.poly[1] + 1e-9))
        if in_poly and np.all(d[u] >= self.eps - self.tol) and np.all(d[~u] >= 0):
            return True
        return self._lp_margin(G, h, u) >= self.eps - self.tol

    def _lp_margin(self, G: np.ndarray, h: np.ndarray, u: np.ndarray) -> float:
        from scipy.optimize import linprog

        n = self.net.n_in
        # max f  s.t.  -(G x + h) + f [unstable] <= 0,  x in domain,  f <= 1
        A_ub = np.hstack([-G, u[:, None].astype(np.float64)])
        b_ub = h.copy()
        if self.poly is not None:
            A_ub = np.vstack([A_ub, np.hstack([self.poly[0], np.zeros((self.poly[0].shape[0], 1))])])
            b_ub = np.concatenate([b_ub, self.poly[1]])
        cost = np.zeros(n + 1)
        cost[-1] = -1.0
        res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[*zip(self.lo, self.hi, strict=True), (None, 1.0)],
                      method="highs")
        return -float(res.fun) if res.status == 0 else -np.inf


#: up to this many binaries, count_regions solves one LP per binary assignment instead of
#: calling SCIP: as fast on such models, and SCIP 10's counting segfaults when presolve
#: removes every binary (seen with one binary: a [3, 1, 4, 1] network)
_ENUMERATE_BINARIES = 6


def _count_by_lps(form: Formulation) -> int:
    """Feasible binary assignments, by one HiGHS LP each (for a handful of binaries)."""
    import itertools

    b = form.binaries
    n = 0
    for bits in itertools.product((0.0, 1.0), repeat=len(b)):
        lb, ub = form.lb.copy(), form.ub.copy()
        lb[b] = ub[b] = bits
        n += _lp_feasible(dataclasses.replace(form, lb=lb, ub=ub, integer=np.zeros_like(form.integer)))
    return n


def _lp_feasible(form: Formulation) -> bool:
    """Feasibility of a formulation without integers (an LP), by HiGHS."""
    import highspy

    from ._backends import to_highs

    h = to_highs(form).highs
    h.run()
    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kOptimal:
        return True
    if st == highspy.HighsModelStatus.kInfeasible:
        return False
    raise SolverError(f"HiGHS could not decide feasibility: status {h.modelStatusToString(st)!r}.")


def list_regions(
    net: Network,
    domain: Box | Polytope | Any,
    layers: int | None = None,
    eps: float = 1e-6,
    time_limit: float | None = None,
    *,
    bounds: str | list[LayerBounds] = "linear",
) -> RegionList:
    """The activation patterns of all full-dimensional regions in a bounded domain.

    Same model and margins as :func:`count_regions`; a SCIP constraint handler records
    each integral ``z`` the search reaches and adds the no-good cut
    ``Σ_{z_i=1} (1 - z_i) + Σ_{z_i=0} z_i >= 1`` (research note ``milp_bounds.md`` §7).
    Restarts and dual reductions are off so that no pattern is lost. About 3-6x slower
    than counting.

    Parameters
    ----------
    net, domain, layers, eps, time_limit, bounds
        As in :func:`count_regions`.

    Returns
    -------
    RegionList
        ``patterns`` of shape (count, n_units) int8 in :meth:`Network.pattern` order.

    Examples
    --------
    >>> from reluscope import Box, Network
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), [0.0], "identity")])
    >>> list_regions(net, Box(-1.0, 1.0, dim=2)).patterns
    array([[0, 0],
           [0, 1],
           [1, 0],
           [1, 1]], dtype=int8)
    """
    t0 = time.perf_counter()
    time_limit = check_time_limit(time_limit)
    form, _, dom, k, eps = counting_formulation(net, domain, layers, eps, bounds)
    if form.binaries.shape[0] == 0:
        pats = form.patterns(np.zeros((1 if _lp_feasible(form) else 0, 0)))
        return RegionList(pats, eps, time.perf_counter() - t0, "exact", k, 0, _n_stable(form))
    s = to_scip(form)
    m = s.model
    z_vars = [s.vars[j] for j in form.binaries]
    found: list[np.ndarray] = []
    verify = _RegionCheck(net, dom, form, eps)
    m.setParam("numerics/feastol", scip_tolerance(eps))
    m.setParam("presolving/maxrestarts", 0)
    m.setParam("misc/allowstrongdualreds", False)
    m.setParam("misc/allowweakdualreds", False)
    m.setParam("misc/usesymmetry", 0)
    m.setParam("conflict/enable", False)
    m.includeConshdlr(
        _no_good_handler(z_vars, [s.vars[j] for j in form.x], verify, found),
        "reluscope_enumerate",
        "records activation patterns and cuts them off",
        enfopriority=-9_999_999,
        chckpriority=-9_999_999,
        needscons=False,
    )
    if time_limit is not None:
        m.setParam("limits/time", max(time_limit - (time.perf_counter() - t0), 1e-3))
    m.optimize()
    status = m.getStatus()
    if status not in ("infeasible", "optimal", "timelimit"):
        raise SolverError(f"SCIP stopped enumerating with status {status!r}.")
    partial = status == "timelimit"
    if partial:
        warnings.warn(
            f"list_regions stopped at the time limit ({time_limit} s) with {len(found)} regions listed.",
            PartialResultWarning,
            stacklevel=2,
        )
    z = np.array(found, dtype=np.int8).reshape(len(found), len(z_vars))
    pats = form.patterns(z)
    pats = np.unique(pats, axis=0) if pats.shape[0] else pats
    return RegionList(
        patterns=pats,
        eps=eps,
        time=time.perf_counter() - t0,
        status="partial" if partial else "exact",
        layers=k,
        n_binaries=len(z_vars),
        n_stable=_n_stable(form),
    )
