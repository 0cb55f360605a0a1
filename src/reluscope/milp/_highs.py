"""HiGHS (``highspy``) helpers: a quiet single-thread solver and certified LP bounds.

A bound is *certified* from the dual values, not read off the primal objective
(MIPVerify's ``certified_lp_bound``; research note ``milp_bounds.md`` §1): for any
row multipliers ``y``, weak duality gives, for every ``x`` with
``row_lo <= A x <= row_hi`` and ``col_lo <= x <= col_hi``,

``c·x = (c - Aᵀy)·x + y·(A x) <= Σ_j max_{x_j} (c - Aᵀy)_j x_j + Σ_i max_{r_i} y_i r_i``.

The right-hand side is finite whenever every term is, and equals the LP optimum
when ``y`` is an optimal dual; rounding in the solver can only make it looser.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._errors import SolverError

__all__ = ["new_highs", "certified_max", "LPMaximizer"]

_BANNER_SILENCED = False


def new_highs(time_limit: float | None = None) -> Any:
    """A ``highspy.Highs`` with output off and one thread.

    HiGHS prints a banner on stdout when the first instance of a process is created;
    it is sent to ``/dev/null`` (at the file-descriptor level) that one time.

    Examples
    --------
    >>> type(new_highs(time_limit=10.0)).__name__
    'Highs'
    """
    import highspy

    global _BANNER_SILENCED
    if not _BANNER_SILENCED:
        _BANNER_SILENCED = True
        with _stdout_to_devnull():
            h = highspy.Highs()
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


@contextlib.contextmanager
def _stdout_to_devnull():
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout: nothing to silence
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def certified_max(
    A: sp.csr_array,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    col_lo: np.ndarray,
    col_hi: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
) -> float:
    """Weak-duality upper bound on ``max c·x`` from row multipliers ``y`` (module docstring).

    Both ``y`` and ``-y`` are tried (solvers differ in sign conventions); multipliers
    that would multiply an infinite row side are set to 0, which keeps the bound valid.

    Parameters
    ----------
    A : sparse array of shape (m, n)
    row_lo, row_hi : ndarray of shape (m,)
    col_lo, col_hi : ndarray of shape (n,), finite
    c : ndarray of shape (n,)
    y : ndarray of shape (m,)

    Returns
    -------
    float
        A valid upper bound (``inf`` only if no finite bound follows from ``y``).

    Examples
    --------
    >>> A = sp.csr_array(np.array([[1.0, 1.0]]))
    >>> # max x0 + x1 s.t. x0 + x1 <= 1, 0 <= x <= 5; the optimal dual is y = 1
    >>> certified_max(A, np.array([-np.inf]), np.array([1.0]), np.zeros(2), np.full(2, 5.0),
    ...               np.ones(2), np.array([1.0]))
    1.0
    """
    best = np.inf
    for yy in (np.asarray(y, dtype=np.float64), -np.asarray(y, dtype=np.float64)):
        yy = np.where((yy > 0) & ~np.isfinite(row_hi), 0.0, yy)
        yy = np.where((yy < 0) & ~np.isfinite(row_lo), 0.0, yy)
        d = c - A.T @ yy
        col_part = np.maximum(d * col_lo, d * col_hi).sum()
        row_part = np.where(yy > 0, yy * np.where(np.isfinite(row_hi), row_hi, 0.0), 0.0).sum() + np.where(
            yy < 0, yy * np.where(np.isfinite(row_lo), row_lo, 0.0), 0.0
        ).sum()
        val = float(col_part + row_part)
        if np.isfinite(val):
            best = min(best, val)
    return best


class LPMaximizer:
    """One LP ``{row_lo <= A x <= row_hi, col_lo <= x <= col_hi}`` maximised for many objectives.

    HiGHS keeps the basis between objectives (warm start). Each answer is the
    certified dual bound of :func:`certified_max`, never the primal value.

    Parameters
    ----------
    A : sparse array of shape (m, n)
    row_lo, row_hi : ndarray of shape (m,)
    col_lo, col_hi : ndarray of shape (n,), finite

    Examples
    --------
    >>> lp = LPMaximizer(sp.csr_array(np.array([[1.0, 1.0]])), np.array([-np.inf]), np.array([1.0]),
    ...                  np.zeros(2), np.ones(2))
    >>> lp.maximize(np.array([1.0, 2.0]))
    2.0
    """

    def __init__(self, A: Any, row_lo: Any, row_hi: Any, col_lo: Any, col_hi: Any):
        import highspy

        self.A = sp.csr_array(A, dtype=np.float64)
        self.row_lo = np.asarray(row_lo, dtype=np.float64)
        self.row_hi = np.asarray(row_hi, dtype=np.float64)
        self.col_lo = np.asarray(col_lo, dtype=np.float64)
        self.col_hi = np.asarray(col_hi, dtype=np.float64)
        m, n = self.A.shape
        self._h = new_highs()
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = self.col_lo
        lp.col_upper_ = self.col_hi
        lp.row_lower_ = np.where(np.isfinite(self.row_lo), self.row_lo, -highspy.kHighsInf)
        lp.row_upper_ = np.where(np.isfinite(self.row_hi), self.row_hi, highspy.kHighsInf)
        csc = self.A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data
        lp.sense_ = highspy.ObjSense.kMaximize
        self._h.passModel(lp)
        self._n = n

    def maximize(self, c: np.ndarray) -> float:
        """Certified upper bound on ``max c·x``; raises :class:`SolverError` if the LP is infeasible."""
        import highspy

        c = np.asarray(c, dtype=np.float64)
        self._h.changeColsCost(self._n, np.arange(self._n, dtype=np.int32), c)
        self._h.run()
        status = self._h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise SolverError("The LP relaxation is infeasible: the input domain is empty.")
        y = np.asarray(self._h.getSolution().row_dual, dtype=np.float64)
        if y.shape[0] != self.A.shape[0]:
            y = np.zeros(self.A.shape[0])
        return certified_max(self.A, self.row_lo, self.row_hi, self.col_lo, self.col_hi, c, y)
