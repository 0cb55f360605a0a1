"""Sparse mixed-integer encoding of ReLU networks, with certified LP (HiGHS) and MILP (SCIP) solves.

Private helper of :mod:`reluscope.stability` and :mod:`reluscope.compress`.

The encoding is the big-M form with asymmetric per-unit bounds (Tjeng, Xiao,
Tedrake 2019, eq. 6): for a pre-activation ``g`` with valid bounds ``l < 0 < u``,
``y >= 0, y >= g, y <= g - l (1 - z), y <= u z, z in {0, 1}``. A unit whose
bounds fix its piece gets no binary (its output is affine in ``g``). Several
networks may share one input block, which is what :func:`reluscope.equivalent`
needs (Serra, Kumar, Ramalingam 2020, §4).

The model is kept as sparse rows ``row_lo <= A v <= row_hi`` over boxed columns,
so the same object feeds HiGHS (LP relaxation, warm-started between objectives)
and SCIP (exact MILP, stopped as soon as the question is answered).

LP bounds are *certified*: whatever the solver's tolerances, the bound returned is
the value of the Lagrangian dual at the solver's row duals, which is a valid upper
bound for any dual vector (weak duality over a box; MIPVerify's
``certified_lp_bound`` does the same).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._errors import SolverError
from .activations import Activation, Identity, ReLU
from .domains import Box, Polytope

__all__ = ["Encoding", "Outputs", "LpRelaxation", "MilpSolver", "MilpOutcome"]


@dataclass(frozen=True)
class Outputs:
    """The outputs of a layer as ``coef * v[col] + const`` per unit (``col == -1``: constant)."""

    col: np.ndarray
    coef: np.ndarray
    const: np.ndarray

    @property
    def size(self) -> int:
        return int(self.col.shape[0])


class Encoding:
    """A growing sparse MILP: boxed columns, two-sided rows, some binary columns.

    Examples
    --------
    >>> from reluscope import Network, Box
    >>> from reluscope.propagate import interval_bounds
    >>> net = Network([(np.array([[1.0], [-1.0]]), np.zeros(2), "relu"),
    ...                (np.array([[1.0, 1.0]]), np.zeros(1), "identity")])
    >>> enc = Encoding()
    >>> x = enc.add_input(Box(-1.0, 2.0, dim=1))
    >>> pre, out = enc.add_network(net, x, interval_bounds(net, Box(-1.0, 2.0, dim=1)))
    >>> lp = LpRelaxation(enc)
    >>> bool(lp.maximize(out.col, out.coef).bound >= 2.0)   # |x| on [-1, 2] peaks at 2
    True
    >>> res = MilpSolver(enc).maximize(out.col, out.coef)
    >>> round(res.dual_bound, 6), res.status
    (2.0, 'optimal')
    """

    def __init__(self) -> None:
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self.n_vars = 0
        self.n_rows = 0
        self.x: np.ndarray = np.zeros(0, dtype=np.int64)
        self.domain: Box | Polytope | None = None
        # affine forms: every pre-activation column is an affine function of the *basis*
        # columns (inputs and outputs of unstable units); kept to cancel terms exactly
        self._basis: list[int] = []
        self._blocks: list[tuple[np.ndarray, np.ndarray]] = []   # (P (n, K), p (n,))
        # per column: basis position, form block and row (-1 where not applicable)
        self._meta = np.full((0, 3), -1, dtype=np.int64)
        # big-M splits: per output column y = relu(g - beta), its (g, z, beta)
        self.splits: dict[int, tuple[int, int, float]] = {}

    # ------------------------------------------------------------------ building
    def add_vars(self, lb: np.ndarray, ub: np.ndarray, integer: bool = False) -> np.ndarray:
        """Add boxed columns; returns their indices."""
        lb = np.asarray(lb, dtype=np.float64).ravel()
        ub = np.asarray(ub, dtype=np.float64).ravel()
        n = lb.shape[0]
        idx = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self._lb.append(lb)
        self._ub.append(ub)
        self._int.append(np.full(n, integer))
        self.n_vars += n
        self._meta = np.vstack([self._meta, np.full((n, 3), -1, dtype=np.int64)])
        return idx

    def add_rows(self, r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: Any, hi: Any, m: int) -> None:
        """Add ``m`` rows ``lo <= sum_k v_k x[c_k] <= hi`` given as local row ids ``r`` (0..m-1)."""
        lo = np.atleast_1d(np.asarray(lo, dtype=np.float64))
        hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
        lo, hi = np.broadcast_to(lo, (m,)), np.broadcast_to(hi, (m,))
        self._r.append(np.asarray(r, dtype=np.int64) + self.n_rows)
        self._c.append(np.asarray(c, dtype=np.int64))
        self._v.append(np.asarray(v, dtype=np.float64))
        self._rlo.append(lo.copy())
        self._rhi.append(hi.copy())
        self.n_rows += m

    def add_input(self, domain: Box | Polytope) -> Outputs:
        """Input columns bounded by the domain's box (plus the polytope's rows)."""
        if isinstance(domain, Polytope):
            box = domain.box if domain.box is not None else domain.bounding_box()
        else:
            box = domain
        x = self.add_vars(box.lo, box.hi)
        if isinstance(domain, Polytope):
            A, b = domain.A, domain.b
            r, c = np.nonzero(A)
            self.add_rows(r, x[c], A[r, c], -np.inf, b, A.shape[0])
        self.x = x
        self.domain = domain
        self._add_basis(x)
        n = x.shape[0]
        return Outputs(x, np.ones(n), np.zeros(n))

    def _add_basis(self, cols: np.ndarray) -> None:
        self._meta[cols, 0] = np.arange(len(self._basis), len(self._basis) + cols.size)
        self._basis.extend(int(c) for c in cols)

    def _lookup(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per column: basis position (or -1), form block (or -1) and row in the block."""
        m = self._meta[cols]
        return m[:, 0], m[:, 1], m[:, 2]

    def _form_matrix(self, out: Outputs) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(M, c)`` with ``out = M v_basis + c``, shape (n, n_basis)."""
        n, K = out.size, len(self._basis)
        M = np.zeros((n, K))
        c = out.const.astype(np.float64).copy()
        live = np.flatnonzero(out.col >= 0)
        bpos, blk, row = self._lookup(out.col[live])
        isb = bpos >= 0
        M[live[isb], bpos[isb]] += out.coef[live[isb]]
        for b in np.unique(blk[~isb & (blk >= 0)]):
            sel = blk == b
            P, p = self._blocks[int(b)]
            units = live[sel]
            M[units, : P.shape[1]] += out.coef[units][:, None] * P[row[sel]]
            c[units] += out.coef[units] * p[row[sel]]
        return M, c

    def linear_form(self, cols: np.ndarray, vals: np.ndarray, const: float = 0.0
                    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Rewrite ``const + sum vals * v[cols]`` over the basis columns (terms cancel exactly)."""
        cols, vals = merge_terms(cols, vals)
        M, c = self._form_matrix(Outputs(cols, vals, np.zeros(cols.size)))
        vec = M.sum(axis=0)
        nz = np.flatnonzero(vec)
        return np.asarray(self._basis, dtype=np.int64)[nz], vec[nz], float(const + c.sum())

    def box_bound(self, cols: np.ndarray, vals: np.ndarray, const: float = 0.0) -> float:
        """An upper bound on a linear form from the columns' bounds alone (always valid)."""
        lb, ub = np.concatenate(self._lb), np.concatenate(self._ub)
        vals = np.asarray(vals, dtype=np.float64)
        return float(const + np.sum(np.maximum(vals * lb[cols], vals * ub[cols])))

    def add_layer(
        self, inp: Outputs, weight: np.ndarray, bias: np.ndarray, act: Activation,
        lo: np.ndarray, hi: np.ndarray,
    ) -> tuple[np.ndarray, Outputs]:
        """Encode ``g = W h + b`` (``lo <= g <= hi`` valid bounds) and ``act(g)``.

        Returns the pre-activation columns and the layer's outputs. Units whose
        bounds fix one piece are affine; the others get one big-M split per breakpoint
        inside their bounds (:meth:`_pwl_output`; a single one for ReLU). The bounds
        are widened by ``1e-11 (1 + |v|)`` so that round-off can never make the model infeasible.
        """
        n_out = weight.shape[0]
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.maximum(np.asarray(hi, dtype=np.float64), lo)
        lo, hi = lo - 1e-11 * (1 + np.abs(lo)), hi + 1e-11 * (1 + np.abs(hi))
        pre = self.add_vars(lo, hi)
        M, c = self._form_matrix(inp)
        self._blocks.append((weight @ M, weight @ c + bias))
        self._meta[pre, 1] = len(self._blocks) - 1
        self._meta[pre, 2] = np.arange(n_out)
        live = inp.col >= 0
        wl = weight[:, live] * inp.coef[live]
        r, k = np.nonzero(wl)
        rhs = bias + weight @ inp.const
        self.add_rows(
            np.concatenate([r, np.arange(n_out)]),
            np.concatenate([inp.col[live][k], pre]),
            np.concatenate([-wl[r, k], np.ones(n_out)]),
            rhs, rhs, n_out,
        )
        return pre, self._activation(pre, act, lo, hi)

    def _activation(self, pre: np.ndarray, act: Activation, lo: np.ndarray, hi: np.ndarray) -> Outputs:
        n = pre.shape[0]
        if isinstance(act, Identity):
            return Outputs(pre.copy(), np.ones(n), np.zeros(n))
        bps = np.asarray(act.breakpoints)
        # stable: no breakpoint strictly inside (lo, hi); by continuity the piece of hi then
        # holds on the closed interval [lo, hi]
        k = np.searchsorted(bps, hi, side="left")
        stable = k <= np.searchsorted(bps, lo, side="right")
        k = np.where(stable, k, 0)
        slope = act.slopes[k]
        icpt = act.intercepts[k]
        col = np.where(stable & (slope != 0), pre, -1)
        coef = np.where(stable, slope, 0.0)
        const = np.where(stable, icpt, 0.0)
        unstable = np.flatnonzero(~stable)
        if unstable.size:
            if isinstance(act, ReLU):
                y = self._relu_split(pre[unstable], lo[unstable], hi[unstable], 0.0)
                col[unstable], coef[unstable], const[unstable] = y, 1.0, 0.0
            else:
                col[unstable] = self._pwl_output(pre[unstable], act, lo[unstable], hi[unstable])
                coef[unstable], const[unstable] = 1.0, 0.0
        return Outputs(col.astype(np.int64), coef, const)

    def _relu_split(self, g: np.ndarray, l: np.ndarray, u: np.ndarray, beta: float) -> np.ndarray:
        """Columns ``y = relu(g - beta)`` for pre-activation columns ``g`` with ``l < beta < u`` (big-M)."""
        m = g.size
        lo, up = l - beta, u - beta
        y = self.add_vars(np.zeros(m), up)
        z = self.add_vars(np.zeros(m), np.ones(m), integer=True)
        i = np.arange(m)
        ones = np.ones(m)
        # y - g >= -beta ;  y - g - lo z <= -lo - beta ;  y - up z <= 0
        self.add_rows(np.concatenate([i, i]), np.concatenate([y, g]), np.concatenate([ones, -ones]),
                      -beta, np.inf, m)
        self.add_rows(np.concatenate([i, i, i]), np.concatenate([y, g, z]), np.concatenate([ones, -ones, -lo]),
                      -np.inf, -lo - beta, m)
        self.add_rows(np.concatenate([i, i]), np.concatenate([y, z]), np.concatenate([ones, -up]),
                      -np.inf, 0.0, m)
        self._add_basis(y)
        self.splits.update({int(a): (int(b), int(c), float(beta)) for a, b, c in zip(y, g, z, strict=True)})
        return y

    def fix_split(self, y: int, side: int) -> None:
        """Fix the split of output column ``y`` once proven: ``side`` 0 (``g <= beta``) or 1 (``g >= beta``)."""
        _, z, _ = self.splits[y]
        lb, ub = np.concatenate(self._lb), np.concatenate(self._ub)
        if side == 0:
            ub[[y, z]] = 0.0
        else:
            lb[z] = 1.0
        self._lb, self._ub = [lb], [ub]

    def _pwl_output(self, g: np.ndarray, act: Activation, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Output columns of unstable units of any continuous PWL activation.

        ``act(g) = s_0 g + c_0 + sum_j (s_j - s_{j-1}) relu(g - beta_j)``: one big-M split per
        breakpoint strictly inside the unit's bounds, exact terms for the others.
        """
        from .propagate import activation_range

        bps = np.asarray(act.breakpoints, dtype=np.float64)
        slopes = np.asarray(act.slopes, dtype=np.float64)
        ds = np.diff(slopes)
        m = g.size
        coef_g = np.full(m, slopes[0])
        const = np.full(m, float(act.intercepts[0]))
        terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # (unit rows, y columns, weights)
        for j, beta in enumerate(bps):
            on = lo >= beta                      # relu(g - beta) = g - beta
            coef_g[on] += ds[j]
            const[on] -= ds[j] * beta
            split = np.flatnonzero((lo < beta) & (hi > beta))
            if split.size:
                y = self._relu_split(g[split], lo[split], hi[split], float(beta))
                terms.append((split, y, np.full(split.size, ds[j])))
        o_lo, o_hi = activation_range(act, lo, hi)
        pad = 1e-11 * (1 + np.abs(o_lo) + np.abs(o_hi))
        out = self.add_vars(o_lo - pad, o_hi + pad)
        # out - coef_g g - sum w y = const
        rows = [np.arange(m), np.arange(m)] + [t[0] for t in terms]
        cols = [out, g] + [t[1] for t in terms]
        vals = [np.ones(m), -coef_g] + [-t[2] for t in terms]
        self.add_rows(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), const, const, m)
        # affine form of out over the basis (y columns were just added to it)
        M, c = self._form_matrix(Outputs(g, coef_g, const))
        for unit_rows, y, w in terms:
            M[unit_rows, self._meta[y, 0]] += w
        self._blocks.append((M, c))
        self._meta[out, 1] = len(self._blocks) - 1
        self._meta[out, 2] = np.arange(m)
        return out

    def add_network(self, net: Any, inp: Outputs, bounds: list[Any]) -> tuple[list[np.ndarray], Outputs]:
        """Encode every layer of ``net`` on top of ``inp`` with per-layer bounds (``.lo``, ``.hi``)."""
        pres = []
        out = inp
        for layer, bd in zip(net.layers, bounds, strict=True):
            pre, out = self.add_layer(out, layer.weight, layer.bias, layer.activation, bd.lo, bd.hi)
            pres.append(pre)
        return pres, out

    # ------------------------------------------------------------------ access
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]:
        """``(lb, ub, integer, A, row_lo, row_hi)`` of the model built so far."""
        cat = np.concatenate
        lb = cat(self._lb) if self._lb else np.zeros(0)
        ub = cat(self._ub) if self._ub else np.zeros(0)
        integer = cat(self._int) if self._int else np.zeros(0, bool)
        if self._r:
            A = sp.csr_matrix((cat(self._v), (cat(self._r), cat(self._c))), shape=(self.n_rows, self.n_vars))
            A.sum_duplicates()
            rlo, rhi = cat(self._rlo), cat(self._rhi)
        else:
            A = sp.csr_matrix((0, self.n_vars))
            rlo = rhi = np.zeros(0)
        return lb, ub, integer, A, rlo, rhi

    @property
    def n_binaries(self) -> int:
        return int(sum(int(a.sum()) for a in self._int))


def merge_terms(cols: Any, vals: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sum the coefficients of repeated columns of a linear objective."""
    cols = np.asarray(cols, dtype=np.int64).ravel()
    vals = np.asarray(vals, dtype=np.float64).ravel()
    uc, inv = np.unique(cols, return_inverse=True)
    return uc, np.bincount(inv, weights=vals, minlength=uc.size)


def expression(out: Outputs, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``sum_i weights_i * out_i`` as ``(cols, vals, const)`` with duplicate columns merged."""
    live = out.col >= 0
    cols = out.col[live]
    vals = (weights * out.coef)[live]
    const = float(weights @ out.const)
    uc, uv = merge_terms(cols, vals)
    return uc, uv, const


# ---------------------------------------------------------------------- LP (HiGHS)
@dataclass(frozen=True)
class LpOutcome:
    """A certified LP upper bound, the LP optimum, and the optimal column values (or None)."""

    bound: float
    value: float
    solution: np.ndarray | None


class LpRelaxation:
    """The LP relaxation of an :class:`Encoding` in HiGHS, re-solved for many objectives."""

    TIME_CAP = 5.0

    def __init__(self, enc: Encoding):
        import highspy

        from .milp._highs import new_highs  # silent, one thread, no banner

        self._lb, self._ub, _, A, self._rlo, self._rhi = enc.arrays()
        self._At = A.T.tocsr()
        h = new_highs()
        # interior point (with crossover), from scratch each time: on these degenerate LPs HiGHS's
        # dual simplex was seen to cycle, hot starts to stall and the primal simplex to need
        # thousands of iterations; a time cap with simplex retries guards against the rest
        h.setOptionValue("solver", "ipm")
        n = self._lb.shape[0]
        h.addVars(n, self._lb, self._ub)
        if A.shape[0]:
            h.addRows(
                A.shape[0], self._rlo, self._rhi, A.nnz,
                A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data,
            )
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._h = h
        self._hs = highspy
        self._cost_idx = np.zeros(0, dtype=np.int32)
        self.n_solves = 0

    def maximize(self, cols: np.ndarray, vals: np.ndarray, const: float = 0.0) -> LpOutcome:
        """Maximise ``const + sum vals * v[cols]``; the bound is valid even if HiGHS is inexact."""
        h = self._h
        if self._cost_idx.size:
            h.changeColsCost(self._cost_idx.size, self._cost_idx, np.zeros(self._cost_idx.size))
        cols, vals = merge_terms(cols, vals)
        cols = cols.astype(np.int32)
        h.changeColsCost(cols.size, cols, vals)
        self._cost_idx = cols
        status = self._run()
        if status not in (self._hs.HighsModelStatus.kOptimal, self._hs.HighsModelStatus.kInfeasible):
            # retry with the dual, then the primal simplex
            h.setOptionValue("solver", "simplex")
            for strategy in (1, 4):
                h.setOptionValue("simplex_strategy", strategy)
                status = self._run()
                if status in (self._hs.HighsModelStatus.kOptimal, self._hs.HighsModelStatus.kInfeasible):
                    break
            h.setOptionValue("solver", "ipm")
        if status == self._hs.HighsModelStatus.kInfeasible:
            return LpOutcome(-np.inf, -np.inf, None)
        if status != self._hs.HighsModelStatus.kOptimal:
            return LpOutcome(np.inf, np.nan, None)
        sol = h.getSolution()
        c = np.zeros(self._lb.shape[0])
        c[cols] = vals
        bound = self._certified(c, np.asarray(sol.row_dual, dtype=np.float64)) + const
        value = float(h.getInfo().objective_function_value) + const
        return LpOutcome(float(max(bound, value)), value, np.asarray(sol.col_value, dtype=np.float64))

    def _run(self) -> Any:
        h = self._h
        h.clearSolver()   # hot starts were seen to stall HiGHS (0 iterations, no progress)
        h.setOptionValue("time_limit", h.getRunTime() + self.TIME_CAP)   # HiGHS's clock is cumulative
        h.run()
        self.n_solves += 1
        return h.getModelStatus()

    def _certified(self, c: np.ndarray, y: np.ndarray) -> float:
        """Weak-duality bound ``max_v (c - A^T y) v + max_s y s`` over the column/row boxes."""
        best = np.inf
        for yy in (y, -y):
            yy = yy.copy()
            yy[(yy > 0) & np.isinf(self._rhi)] = 0.0
            yy[(yy < 0) & np.isinf(self._rlo)] = 0.0
            r = c - self._At @ yy
            col_part = np.where(r > 0, r * self._ub, r * self._lb)
            col_part[r == 0] = 0.0
            row_part = np.where(yy > 0, yy * np.where(np.isinf(self._rhi), 0, self._rhi),
                                yy * np.where(np.isinf(self._rlo), 0, self._rlo))
            total = float(col_part.sum() + row_part.sum())
            slack = 1e-12 * (1.0 + float(np.abs(col_part).sum() + np.abs(row_part).sum()))  # summation error
            best = min(best, total + slack)
        return best


# ---------------------------------------------------------------------- MILP (SCIP)
@dataclass(frozen=True)
class MilpOutcome:
    """Result of one SCIP solve: status, proven dual bound, best primal value and its columns."""

    status: str
    dual_bound: float
    primal: float
    solution: np.ndarray | None
    seconds: float
    nodes: int


class MilpSolver:
    """An :class:`Encoding` as a SCIP model, re-solved for many objectives.

    Parameters
    ----------
    enc : Encoding
    sol_cols : array of int, optional
        Columns whose values are read back from solutions (default: the inputs).
    """

    def __init__(self, enc: Encoding, sol_cols: np.ndarray | None = None):
        import pyscipopt as scip

        lb, ub, integer, A, rlo, rhi = enc.arrays()
        m = scip.Model()
        m.hideOutput()
        m.setParam("parallel/maxnthreads", 1)
        vars_ = [
            m.addVar(vtype="B" if integer[j] else "C", lb=float(lb[j]), ub=float(ub[j]))
            for j in range(lb.shape[0])
        ]
        Term, Expr, ExprCons = scip.scip.Term, scip.Expr, scip.scip.ExprCons
        indptr, indices, data = A.indptr, A.indices, A.data
        for i in range(A.shape[0]):
            s, e = indptr[i], indptr[i + 1]
            expr = Expr({Term(vars_[j]): float(v) for j, v in zip(indices[s:e], data[s:e], strict=True)})
            lo = None if np.isinf(rlo[i]) else float(rlo[i])
            hi = None if np.isinf(rhi[i]) else float(rhi[i])
            m.addCons(ExprCons(expr, lhs=lo, rhs=hi))
        self._m = m
        self._vars = vars_
        self._scip = scip
        self._sol_cols = enc.x if sol_cols is None else np.asarray(sol_cols)
        self._solved = False
        self.n_solves = 0

    def maximize(
        self, cols: np.ndarray, vals: np.ndarray, const: float = 0.0, *,
        stop_below: float | None = None, stop_above: float | None = None,
        time_limit: float | None = None, abs_gap: float = 0.0,
    ) -> MilpOutcome:
        """Maximise ``const + sum vals * v[cols]``, stopping as soon as the answer is known.

        ``stop_below``: prune everything below it (objective limit); if nothing is left the
        status is ``"infeasible"`` and the maximum is proven ``< stop_below``.
        ``stop_above``: stop at the first solution reaching it (status ``"primallimit"``).
        The returned ``dual_bound`` is SCIP's proven bound (never the primal value).
        """
        m = self._m
        if self._solved:
            m.freeTransform()
        cols, vals = merge_terms(cols, vals)
        expr = self._scip.Expr({self._scip.scip.Term(self._vars[j]): float(v)
                                for j, v in zip(cols, vals, strict=True)})
        m.setObjective(expr, "maximize")
        m.setParam("limits/primal", 1e99 if stop_above is None else float(stop_above - const))
        m.setObjlimit(-1e20 if stop_below is None else float(stop_below - const))
        m.setParam("limits/time", 1e20 if time_limit is None else max(float(time_limit), 0.01))
        m.setParam("limits/absgap", float(abs_gap))
        t0 = time.perf_counter()
        m.optimize()
        self._solved = True
        self.n_solves += 1
        status = m.getStatus()
        sol = None
        primal = -np.inf
        if m.getNSols() > 0:
            best = m.getBestSol()
            sol = np.array([best[self._vars[j]] for j in self._sol_cols])
            primal = float(m.getSolObjVal(best)) + const
        if status == "infeasible":
            dual = float(stop_below) if stop_below is not None else -np.inf
            if stop_below is None:
                raise SolverError("SCIP reports the network's MILP encoding infeasible: is the domain empty?")
        else:
            dual = float(m.getDualbound()) + const
        if status not in {"optimal", "infeasible", "primallimit", "duallimit", "timelimit", "gaplimit",
                          "userinterrupt"}:
            raise SolverError(f"SCIP returned status {status!r}, which reluscope cannot interpret.")
        return MilpOutcome(status, dual, primal, sol, time.perf_counter() - t0, int(m.getNNodes()))
