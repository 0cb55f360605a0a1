"""Turning a :class:`Formulation` into a SCIP (``pyscipopt``) or HiGHS (``highspy``) model.

Both solvers are set to one thread and silent output. SCIP is the back-end for
counting and enumeration (it counts solutions natively and accepts Python
constraint handlers); HiGHS is fast for single optimisations and LPs but has no
lazy constraints (research note ``milp_bounds.md`` §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._formulation import Formulation, LayerVars
from ._highs import new_highs

__all__ = ["ScipModel", "HighsModel", "to_scip", "to_highs"]


def _object_array(items: list[Any], idx: np.ndarray) -> np.ndarray:
    out = np.empty(idx.shape, dtype=object)
    flat = idx.ravel()
    out.ravel()[:] = [items[i] if i >= 0 else None for i in flat]
    return out


@dataclass(frozen=True)
class ScipModel:
    """A ``pyscipopt.Model`` of a network plus handles to its variables.

    Attributes
    ----------
    model : pyscipopt.Model
        Add constraints and objectives to it as usual, then call ``model.optimize()``.
    vars : list of pyscipopt.Variable
        One per column of :attr:`formulation`.
    formulation : Formulation

    Examples
    --------
    >>> from reluscope import Box, Network, milp
    >>> s = milp.encode(Network.random([2, 4, 1], seed=0), Box(-1.0, 1.0, dim=2)).to_scip()
    >>> s.model.setObjective(s.y[0], "maximize")
    >>> s.model.optimize()
    >>> s.model.getStatus()
    'optimal'
    """

    model: Any
    vars: list[Any]
    formulation: Formulation

    @property
    def x(self) -> np.ndarray:
        """Input variables, object array of shape (n_in,)."""
        return _object_array(self.vars, self.formulation.x)

    @property
    def y(self) -> np.ndarray:
        """Output variables, object array of shape (n_out,) (empty if the output layer is not encoded)."""
        y = self.formulation.y
        return _object_array(self.vars, y if y is not None else np.zeros(0, dtype=np.int64))

    def layer(self, l: int) -> dict[str, np.ndarray]:
        """Variables of encoded layer ``l``: ``{"g", "h", "hbar", "z", "out"}`` as object arrays.

        ``h``, ``hbar`` and ``z`` have shape (n, k) (``k`` breakpoints; 1 for ReLU);
        entries of ``z`` are ``None`` for stable splits.
        """
        lv: LayerVars = self.formulation.layers[l]
        return {key: _object_array(self.vars, getattr(lv, key)) for key in ("g", "h", "hbar", "z", "out")}


def to_scip(form: Formulation, name: str = "reluscope", *, cuts: bool = False) -> ScipModel:
    """Build a fresh ``pyscipopt.Model`` (silent, one thread) from a formulation.

    Cutting planes are off unless ``cuts=True``: on these big-M models SCIP's
    aggregation (c-MIR) separator dominated the run time -- maximising one logit of
    the bundled 64-16-16-10 digits MLP over ``[0, 1]^64`` took 24.7 s with SCIP's
    default cuts and 0.32 s without (same optimum; ``benchmarks/milp.py``).

    Examples
    --------
    >>> from reluscope import Box, Network, milp
    >>> enc = milp.encode(Network.random([2, 3, 1], seed=0), Box(-1.0, 1.0, dim=2))
    >>> to_scip(enc.formulation).model.getNVars() == enc.formulation.n_vars
    True
    """
    import pyscipopt

    m = pyscipopt.Model(name)
    m.hideOutput()
    m.setParam("parallel/maxnthreads", 1)
    m.setParam("lp/threads", 1)
    if not cuts:
        import pyscipopt as _ps

        m.setSeparating(_ps.SCIP_PARAMSETTING.OFF)
    vs = []
    for j in range(form.n_vars):
        lo, hi = float(form.lb[j]), float(form.ub[j])
        if form.integer[j]:
            vtype = "B" if lo >= 0 and hi <= 1 else "I"
        else:
            vtype = "C"
        vs.append(m.addVar(name=form.names[j], vtype=vtype, lb=lo, ub=hi))
    A = form.A
    for r in range(form.n_rows):
        a, b = A.indptr[r], A.indptr[r + 1]
        expr = pyscipopt.quicksum(float(v) * vs[c] for c, v in zip(A.indices[a:b], A.data[a:b], strict=True))
        lo, hi = float(form.row_lo[r]), float(form.row_hi[r])
        if lo == hi:
            m.addCons(expr == lo)
        elif np.isfinite(lo) and np.isfinite(hi):
            m.addCons(lo <= (expr <= hi))
        elif np.isfinite(hi):
            m.addCons(expr <= hi)
        else:
            m.addCons(expr >= lo)
    return ScipModel(model=m, vars=vs, formulation=form)


@dataclass(frozen=True)
class HighsModel:
    """A ``highspy.Highs`` holding the same MILP; columns are those of :attr:`formulation`.

    Attributes
    ----------
    highs : highspy.Highs
    formulation : Formulation

    Examples
    --------
    >>> from reluscope import Box, Network, milp
    >>> hm = milp.encode(Network.random([2, 4, 1], seed=0), Box(-1.0, 1.0, dim=2)).to_highs()
    >>> hm.highs.getNumCol() == hm.formulation.n_vars
    True
    """

    highs: Any
    formulation: Formulation


def to_highs(form: Formulation, time_limit: float | None = None) -> HighsModel:
    """Build a ``highspy.Highs`` (silent, one thread) from a formulation (objective 0, minimise).

    Examples
    --------
    >>> from reluscope import Box, Network, milp
    >>> enc = milp.encode(Network.random([2, 3, 1], seed=0), Box(-1.0, 1.0, dim=2))
    >>> to_highs(enc.formulation).highs.getNumRow() == enc.formulation.n_rows
    True
    """
    import highspy

    h = new_highs(time_limit)
    lp = highspy.HighsLp()
    lp.num_col_ = form.n_vars
    lp.num_row_ = form.n_rows
    lp.col_cost_ = np.zeros(form.n_vars)
    lp.col_lower_ = form.lb
    lp.col_upper_ = form.ub
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(form.row_lo), form.row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(form.row_hi), form.row_hi, inf)
    csc = form.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in form.integer]
    h.passModel(lp)
    return HighsModel(highs=h, formulation=form)
