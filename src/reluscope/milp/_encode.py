"""``encode``: the exact MILP of a network over a bounded domain, ready for SCIP or HiGHS."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, PartialResultWarning, SolverError
from ..domains import Box, Polytope, as_domain
from ..network import Network
from ..propagate import LayerBounds, best_bounds, check_bounds
from ._backends import HighsModel, ScipModel, to_highs, to_scip
from ._formulation import Formulation, LayerVars, build_formulation

__all__ = ["Encoding", "OptimizationResult", "encode"]


def resolve(net: Any, domain: Any, bounds: Any) -> tuple[Network, Box | Polytope, list[LayerBounds]]:
    """Check ``net``/``domain`` and compute or check ``bounds`` (a method name or a list)."""
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    dom = as_domain(domain, net.n_in, bounded=True)
    if isinstance(bounds, str):
        return net, dom, best_bounds(net, dom, bounds)
    return net, dom, check_bounds(net, bounds)


def check_time_limit(time_limit: Any) -> float | None:
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0:
        raise InvalidParameterError(f"'time_limit' must be None or a number of seconds > 0; got {time_limit!r}.")
    return float(time_limit)


@dataclass(frozen=True)
class OptimizationResult:
    """Outcome of :meth:`Encoding.maximize`.

    Attributes
    ----------
    value : float
        ``c · net(x) + offset`` at the best input found, recomputed by a forward pass
        (an achieved value: a lower bound on the maximum). ``nan`` if none was found.
    bound : float
        The solver's **dual bound**: a certified upper bound on the maximum.
    x : ndarray of shape (n_in,) or None
        The best input found.
    status : {"optimal", "partial", "infeasible"}
        "partial" when a time limit stopped the solver before closing the gap.
    time : float
        Seconds.
    solver : str
    """

    value: float
    bound: float
    x: np.ndarray | None
    status: str
    time: float
    solver: str


@dataclass(frozen=True)
class Encoding:
    """The MILP of a network over a bounded domain (Serra et al. 2018, constraints (1)).

    Build it with :func:`encode`; turn it into a solver model with :meth:`to_scip` or
    :meth:`to_highs` (each call builds a fresh, independent model), or optimise a
    linear function of the outputs directly with :meth:`maximize`.

    Attributes
    ----------
    net : Network
    domain : Box or Polytope
    bounds : tuple of LayerBounds
        The pre-activation bounds that set the big-M constants.
    formulation : Formulation
        The solver-neutral model: bounds, integrality, sparse rows, column indices.

    Examples
    --------
    >>> from reluscope import Box, Network
    >>> enc = encode(Network.random([2, 4, 1], seed=0), Box(-1.0, 1.0, dim=2))
    >>> enc.layers[0].z.ravel().tolist()   # column of each unit's binary; -1: proved stable
    [-1, -1, 14, 15]
    >>> hm = enc.to_highs()                           # the same MILP in HiGHS
    >>> hm.highs.getNumCol() == enc.formulation.n_vars
    True
    """

    net: Network
    domain: Box | Polytope
    bounds: tuple[LayerBounds, ...]
    formulation: Formulation

    @property
    def x(self) -> np.ndarray:
        """Columns of the inputs, shape (n_in,)."""
        return self.formulation.x

    @property
    def y(self) -> np.ndarray:
        """Columns of the outputs, shape (n_out,)."""
        y = self.formulation.y
        return y if y is not None else np.zeros(0, dtype=np.int64)

    @property
    def layers(self) -> tuple[LayerVars, ...]:
        """Columns of every layer's ``g``, ``h``, ``hbar``, ``z``, ``out`` (hidden layers, then output)."""
        return self.formulation.layers

    @property
    def n_binaries(self) -> int:
        """Number of binaries (unstable splits of the hidden layers)."""
        return int(self.formulation.binaries.shape[0])

    def to_scip(self, cuts: bool = False) -> ScipModel:
        """A fresh ``pyscipopt`` model with handles to its variables (see :class:`ScipModel`).

        SCIP's cutting planes are off unless ``cuts=True`` (faster on these models; see
        :func:`reluscope.milp._backends.to_scip`).
        """
        return to_scip(self.formulation, cuts=cuts)

    def to_highs(self, time_limit: float | None = None) -> HighsModel:
        """A fresh ``highspy`` model (see :class:`HighsModel`)."""
        return to_highs(self.formulation, check_time_limit(time_limit))

    def maximize(
        self,
        c: Any,
        offset: float = 0.0,
        *,
        solver: str = "scip",
        time_limit: float | None = None,
        gap: float = 1e-9,
    ) -> OptimizationResult:
        """Maximise ``c · net(x) + offset`` over the domain.

        Parameters
        ----------
        c : array_like of shape (n_out,)
            Objective weights on the outputs (use ``-c`` to minimise).
        offset : float
        solver : {"scip", "highs"}
        time_limit : float, optional
            Seconds; on expiry the result is "partial" and a
            :class:`~reluscope.PartialResultWarning` is issued.
        gap : float, default 1e-9
            Relative and absolute optimality gap asked of the solver.

        Returns
        -------
        OptimizationResult
            ``value <= true maximum <= bound`` (up to the solver's feasibility tolerance).

        Examples
        --------
        >>> from reluscope import Box, Network
        >>> # max of relu(x) - relu(x - 1) on [-2, 2] is 1
        >>> net = Network([(np.array([[1.0], [1.0]]), np.array([0.0, -1.0]), "relu"),
        ...                (np.array([[1.0, -1.0]]), np.zeros(1), "identity")])
        >>> res = encode(net, Box(-2.0, 2.0, dim=1)).maximize([1.0])
        >>> res.status, round(res.value, 6), round(res.bound, 6)
        ('optimal', 1.0, 1.0)
        """
        c = np.asarray(c, dtype=np.float64).ravel()
        if c.shape != (self.net.n_out,) or not np.all(np.isfinite(c)):
            raise InvalidParameterError(f"'c' must be {self.net.n_out} finite numbers; got shape {c.shape}.")
        if solver not in ("scip", "highs"):
            raise InvalidParameterError(f"'solver' must be 'scip' or 'highs'; got {solver!r}.")
        time_limit = check_time_limit(time_limit)
        t0 = time.perf_counter()
        if solver == "scip":
            x, bound, status = _maximize_scip(self, c, time_limit, gap)
        else:
            x, bound, status = _maximize_highs(self, c, time_limit, gap)
        value = float("nan")
        if x is not None:
            lo, hi = _box_of(self.domain)
            x = np.clip(x, lo, hi)
            value = float(c @ self.net(x)) + float(offset)
        if status == "partial":
            warnings.warn(
                f"maximize stopped at the time limit ({time_limit} s) before proving optimality; "
                f"the result is partial: best value {value}, dual bound {bound + offset}.",
                PartialResultWarning,
                stacklevel=2,
            )
        return OptimizationResult(value, float(bound) + float(offset), x, status, time.perf_counter() - t0, solver)


def _box_of(dom: Box | Polytope) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(dom, Box):
        return dom.lo, dom.hi
    box = dom.box if dom.box is not None else dom.bounding_box()
    return box.lo, box.hi


def _maximize_scip(enc: Encoding, c: np.ndarray, time_limit: float | None, gap: float):
    import pyscipopt

    s = enc.to_scip()
    m = s.model
    y = s.y
    m.setObjective(pyscipopt.quicksum(float(ci) * yi for ci, yi in zip(c, y, strict=True)), "maximize")
    m.setParam("limits/gap", gap)
    m.setParam("limits/absgap", gap)
    if time_limit is not None:
        m.setParam("limits/time", time_limit)
    m.optimize()
    st = m.getStatus()
    if st == "infeasible":
        return None, -np.inf, "infeasible"
    if st not in ("optimal", "timelimit", "gaplimit"):
        raise SolverError(f"SCIP stopped with status {st!r} while maximising.")
    x = None
    if m.getNSols() > 0:
        sol = m.getBestSol()
        x = np.array([m.getSolVal(sol, v) for v in s.x])
    return x, float(m.getDualbound()), "optimal" if st in ("optimal", "gaplimit") else "partial"


def _maximize_highs(enc: Encoding, c: np.ndarray, time_limit: float | None, gap: float):
    import highspy

    hm = enc.to_highs(time_limit)
    h = hm.highs
    cost = np.zeros(enc.formulation.n_vars)
    cost[enc.y] = c
    h.changeColsCost(cost.shape[0], np.arange(cost.shape[0], dtype=np.int32), cost)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("mip_abs_gap", gap)
    h.run()
    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kInfeasible:
        return None, -np.inf, "infeasible"
    if st not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(st)!r} while maximising.")
    info = h.getInfo()
    x = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = np.asarray(h.getSolution().col_value)[enc.x]
    return x, float(info.mip_dual_bound), "optimal" if st == highspy.HighsModelStatus.kOptimal else "partial"


def encode(net: Network, domain: Box | Polytope | Any, bounds: str | list[LayerBounds] = "linear") -> Encoding:
    """The exact MILP of ``net`` over a bounded ``domain``.

    Each unit ``i`` of a hidden layer is written as Serra, Tjandraatmadja &
    Ramalingam (ICML 2018) write it -- ``W_i h^{l-1} + b_i = g_i = h_i - h̄_i``,
    ``h_i, h̄_i >= 0``, ``h_i <= H_i z_i``, ``h̄_i <= H̄_i (1 - z_i)``, ``z_i ∈ {0, 1}`` --
    with asymmetric constants ``H_i = max(hi_i, 0)``, ``H̄_i = max(-lo_i, 0)`` from
    pre-activation bounds, and no binary for a unit the bounds prove stable
    (Tjeng et al. 2019, eq. 6 and §4.2). LeakyReLU, Abs and HardTanh units use one
    such split per breakpoint (see :mod:`reluscope.milp._formulation`). A polytope
    domain adds its rows ``A x <= b``.

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        Must be bounded: the big-M constants are finite only on a bounded set.
    bounds : {"interval", "linear", "lp"} or list of LayerBounds, default "linear"
        How to compute the pre-activation bounds (:func:`reluscope.propagate.best_bounds`),
        or bounds to use as they are. Tighter bounds mean fewer binaries and a faster solve.

    Returns
    -------
    Encoding

    Raises
    ------
    DomainError
        If ``domain`` is None (all of R^n), an unbounded polytope, or empty.

    Examples
    --------
    >>> from reluscope import Box, Network
    >>> net = Network.random([2, 8, 8, 1], seed=0)
    >>> enc = encode(net, Box(-1.0, 1.0, dim=2))
    >>> enc.x.shape, enc.y.shape, len(enc.layers)
    ((2,), (1,), 3)
    >>> enc.n_binaries <= net.n_units
    True
    >>> s = enc.to_scip()                   # a pyscipopt model; add objectives/constraints
    >>> s.model.setObjective(s.y[0], "minimize")
    >>> s.model.optimize()
    >>> s.model.getStatus()
    'optimal'
    """
    net, dom, lb = resolve(net, domain, bounds)
    form = build_formulation(net, lb, dom)
    return Encoding(net=net, domain=dom, bounds=tuple(lb), formulation=form)
