"""Exact maximum of ``|f - g|`` over a bounded domain (Serra, Kumar, Ramalingam 2020, §4).

Implementation of :func:`reluscope.equivalent` (re-exported by :mod:`reluscope.compress`).

Both networks are encoded in one MILP sharing the input block, and the maximum of
``±(f_k - g_k)`` is found for every output coordinate ``k`` with SCIP, certified by
its dual bound. Sampling runs first: it gives a lower bound and a maximiser at once,
and lets the MILP prune everything that cannot beat it (objective limit).

Two independent copies of nearly the same network make a weak LP relaxation, so
units of ``g`` are first *identified* with units of ``f`` where that is proven:
in layer order, a unit ``j`` of ``g`` whose pre-activation agrees on sample points
with that of a unit ``i`` of ``f`` (same activation) is tied to it if
``max |pre_g,j - pre_f,i|`` over the domain — an LP, else a MILP, on the model built
so far, where earlier tied units are already shared — is at most ``tol``. A tied unit
reuses ``f``'s variables, so when ``g`` was obtained from ``f`` by exact rewriting
(e.g. :func:`reluscope.compress`) the final objectives are identically zero and no
branching is needed. The tiny residuals ``δ`` of the ties are propagated through
``|W|`` and added to the final bound, so the reported maximum stays a valid upper
bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _witness as Wt
from ._errors import InvalidParameterError, ShapeError
from ._mip import Encoding, LpRelaxation, MilpSolver, Outputs, expression
from ._validation import check_random_state
from .domains import Box, Polytope, as_domain
from .network import Network

__all__ = ["equivalent", "EquivalenceResult"]


@dataclass(frozen=True)
class EquivalenceResult:
    """Outcome of :func:`equivalent`.

    Attributes
    ----------
    max_abs_diff : float
        Proven upper bound on ``max_x |f(x) - g(x)|`` over the domain (dual-bound
        certified); equal to the maximum when ``exact``.
    attained : float
        ``|f - g|`` at :attr:`maximiser`, recomputed by a forward pass (a lower bound).
    maximiser : ndarray of shape (n_in,)
        A point of the domain where :attr:`attained` is reached.
    output : int
        The output coordinate where it is reached.
    exact : bool
        Whether ``max_abs_diff - attained <= tol + 1e-7 * attained`` (the bound is attained up to
        the solver's precision); false when a time limit stopped the MILP first.
    method : str
        ``"lp"`` when LPs settled everything, ``"milp"`` when a MILP was needed.
    n_lps, n_milps : int
    n_tied : int
        Units of ``g`` identified with units of ``f`` (see module notes).
    times : dict
        Seconds per phase (``"sampling"``, ``"encoding"``, ``"ties"``, ``"outputs"``).
    tol : float
    """

    max_abs_diff: float
    attained: float
    maximiser: np.ndarray
    output: int
    exact: bool
    method: str
    n_lps: int = 0
    n_milps: int = 0
    n_tied: int = 0
    times: dict[str, float] = field(default_factory=dict)
    tol: float = 1e-9

    @property
    def equal(self) -> bool:
        """True when the networks are proven equal on the domain up to ``tol``."""
        return self.max_abs_diff <= self.tol

    def __repr__(self) -> str:
        return (f"EquivalenceResult(max_abs_diff={self.max_abs_diff:.3g}, attained={self.attained:.3g}, "
                f"output={self.output}, exact={self.exact}, method={self.method!r}, n_tied={self.n_tied}, "
                f"n_lps={self.n_lps}, n_milps={self.n_milps})")


def equivalent(
    f: Network,
    g: Network,
    domain: Box | Polytope | Any,
    *,
    data: Any = None,
    n_samples: int = 2000,
    seed: Any = 0,
    tol: float = 1e-9,
    time_limit: float | None = None,
) -> EquivalenceResult:
    """Exact ``max |f(x) - g(x)|`` over a bounded domain, with a maximiser.

    Parameters
    ----------
    f, g : Network
        Same input and output sizes; hidden layers ReLU (or stable units of any PWL activation).
    domain : Box, Polytope or (lo, hi)
        A bounded input set.
    data : array_like of shape (n_points, n_in), optional
        Extra points for the sampling check.
    n_samples : int, default 2000
        Random points of the domain for the sampling check.
    seed : None, int or Generator
    tol : float, default 1e-9
        Absolute tolerance: ties and ``exact`` are decided to it; ``result.equal`` is
        ``max_abs_diff <= tol``.
    time_limit : float, optional
        Seconds for the solver phase; the result is then possibly not ``exact``.

    Returns
    -------
    EquivalenceResult

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network, Box
    >>> f = Network([(np.array([[1.0], [-1.0]]), np.zeros(2), "relu"),
    ...              (np.array([[1.0, -1.0]]), np.zeros(1), "identity")])      # relu(x) - relu(-x) = x
    >>> g = Network.affine([[1.0]], [0.0])
    >>> equivalent(f, g, Box(-1.0, 1.0, dim=1)).equal
    True
    >>> h = Network.affine([[0.5]], [0.0])
    >>> r = equivalent(f, h, Box(-1.0, 1.0, dim=1))
    >>> round(r.max_abs_diff, 9), r.exact, abs(float(r.maximiser[0]))
    (0.5, True, 1.0)
    """
    for name, net in (("f", f), ("g", g)):
        if not isinstance(net, Network):
            raise InvalidParameterError(f"'{name}' must be a reluscope Network; got {type(net).__name__}.")
    if (f.n_in, f.n_out) != (g.n_in, g.n_out):
        raise ShapeError(
            f"'f' and 'g' must have the same input and output sizes; got {f.n_in}->{f.n_out} "
            f"and {g.n_in}->{g.n_out}."
        )
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0):
        raise InvalidParameterError(f"'tol' must be a finite number >= 0; got {tol!r}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InvalidParameterError(f"'n_samples' must be an integer >= 1; got {n_samples!r}.")
    dom = as_domain(domain, f.n_in, bounded=True)
    if isinstance(dom, Polytope) and dom.box is None:
        dom = Polytope(dom.A, dom.b, box=dom.bounding_box())
    return _Equivalence(f, g, dom, Wt.as_data(data, f.n_in), int(n_samples), seed, float(tol),
                        time_limit).run()


def _bounds(net: Network, dom: Box | Polytope) -> list[Any]:
    from . import propagate

    fn = getattr(propagate, "linear_bounds", None) or propagate.interval_bounds
    return fn(net, dom)


class _Equivalence:
    def __init__(self, f: Network, g: Network, dom: Box | Polytope, data: np.ndarray | None, n_samples: int,
                 seed: Any, tol: float, time_limit: float | None):
        self.f, self.g, self.dom, self.tol = f, g, dom, tol
        self.times = {"sampling": 0.0, "encoding": 0.0, "ties": 0.0, "outputs": 0.0}
        self.n_lps = self.n_milps = 0
        self.deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
        self.timed_out = False
        rng = check_random_state(seed)
        t0 = time.perf_counter()
        pts = Wt.domain_samples(dom, n_samples, rng)
        if data is not None:
            if data.shape[0] > n_samples:   # a random subset of the data is enough for a lower bound
                data = data[np.sort(rng.choice(data.shape[0], size=n_samples, replace=False))]
            pts = np.vstack([pts, Wt.contained(dom, data)])
        if pts.shape[0] == 0:
            box = dom.box if isinstance(dom, Polytope) else dom
            pts = Wt.contained(dom, box.center[None, :])
        self.samples = pts
        self.best = (-np.inf, np.zeros(f.n_in), 0)
        self._consider(pts)
        self.times["sampling"] += time.perf_counter() - t0

    # ---------------------------------------------------------------- helpers
    def _consider(self, pts: np.ndarray) -> None:
        """Forward-pass candidate points (inside the domain) and keep the largest |f - g|."""
        pts = Wt.contained(self.dom, pts)
        if pts.shape[0] == 0:
            return
        d = np.abs(self.f(pts) - self.g(pts))
        i, k = np.unravel_index(int(np.argmax(d)), d.shape)
        if d[i, k] > self.best[0]:
            self.best = (float(d[i, k]), pts[i].copy(), int(k))

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.perf_counter()

    def _solvers(self) -> tuple[LpRelaxation, MilpSolver | None]:
        if self._lp is None:
            self._lp = LpRelaxation(self.enc)
            self._milp = None
        return self._lp, self._milp

    def _milp_solver(self) -> MilpSolver:
        if self._milp is None:
            self._milp = MilpSolver(self.enc)
        return self._milp

    def _max(self, cols: np.ndarray, vals: np.ndarray, const: float, prune_below: float) -> float:
        """Proven upper bound on an output difference: LP first, MILP if the LP leaves it above
        ``prune_below`` (which also prunes the MILP: the maximum attained so far)."""
        cols, vals, const = self.enc.linear_form(cols, vals, const)
        box = self.enc.box_bound(cols, vals, const)
        if box <= prune_below or cols.size == 0:
            return box
        lp, _ = self._solvers()
        res = lp.maximize(cols, vals, const)
        self.n_lps += 1
        if res.solution is not None:
            self._consider(res.solution[self.enc.x][None, :])
        if res.bound <= prune_below:
            return min(res.bound, box)
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            self.timed_out = True
            return res.bound
        out = self._milp_solver().maximize(cols, vals, const, stop_below=prune_below, time_limit=remaining,
                                           abs_gap=self.tol / 100)
        self.n_milps += 1
        if out.solution is not None:
            self._consider(out.solution[None, :])
        if out.status == "timelimit":
            self.timed_out = True
        return min(res.bound, out.dual_bound, box)

    def _tie_bound(self, cols: np.ndarray, vals: np.ndarray, const: float) -> float:
        """Proven bound on ``max (pre_g,j - pre_f,i)`` for a candidate tie, by box bound and LP.

        When the LP leaves a gap, the big-M splits that the objective involves are proven
        stable one by one (the MILP question of :func:`reluscope.stability`, with margin
        ``SPLIT_EPS``, stopped as soon as answered) and fixed in the model; then the LP again.
        A SCIP dual bound on the tie objective itself would only be good to ~1e-8.
        """
        settle = self.tol / 100
        bound = np.inf
        for attempt in range(2):
            bcols, bvals, bconst = self.enc.linear_form(cols, vals, const)
            box = self.enc.box_bound(bcols, bvals, bconst)
            if box <= settle or bcols.size == 0:
                return min(box, bound)
            lp, _ = self._solvers()
            res = lp.maximize(bcols, bvals, bconst)
            self.n_lps += 1
            bound = min(bound, res.bound, box)
            if bound <= settle or attempt == 1:
                return bound
            scale = max(1.0, float(np.max(np.abs(bvals))))
            ys = [int(c) for c, v in zip(bcols, bvals, strict=True)
                  if int(c) in self.enc.splits and abs(v) > 1e-12 * scale]
            if not ys or not all(self._prove_split(y) for y in ys):
                return bound
        return bound

    SPLIT_EPS = 1e-6

    def _prove_split(self, y: int) -> bool:
        """Prove ``g <= beta - eps`` or ``g >= beta + eps`` for the split of column ``y`` and fix it."""
        if y in self._split_done:
            return self._split_done[y]
        g, _, beta = self.enc.splits[y]
        ok = False
        for side, sign in ((0, 1.0), (1, -1.0)):
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                self.timed_out = True
                break
            out = self._milp_solver().maximize(np.array([g]), np.array([sign]), -sign * beta,
                                               stop_below=-self.SPLIT_EPS, stop_above=self.SPLIT_EPS,
                                               time_limit=remaining)
            self.n_milps += 1
            if out.solution is not None:
                self._consider(out.solution[None, :])
            if out.status == "infeasible" or out.dual_bound <= -self.SPLIT_EPS:
                self.enc.fix_split(y, side)
                self._lp = None
                ok = True
                break
            if out.status == "timelimit":
                self.timed_out = True
                break
        self._split_done[y] = ok
        return ok

    # ---------------------------------------------------------------- phases
    def run(self) -> EquivalenceResult:
        f = self.f
        t0 = time.perf_counter()
        self.enc = Encoding()
        self._lp: LpRelaxation | None = None
        self._milp: MilpSolver | None = None
        self._split_done: dict[int, bool] = {}
        xin = self.enc.add_input(self.dom)
        f_pre, f_out = [], []
        out = xin
        for layer, bd in zip(f.layers, _bounds(f, self.dom), strict=True):
            pre, out = self.enc.add_layer(out, layer.weight, layer.bias, layer.activation, bd.lo, bd.hi)
            f_pre.append(pre)
            f_out.append(out)
        self.times["encoding"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        g_out, err, n_tied = self._tie(xin, f_pre, f_out)
        self.times["ties"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        upper = -np.inf
        for k in range(f.n_out):
            same = (f_out[-1].col[k] == g_out.col[k] and f_out[-1].coef[k] == g_out.coef[k]
                    and f_out[-1].const[k] == g_out.const[k])
            for sign in (1.0, -1.0):
                if same:
                    bound = 0.0
                else:
                    cols = np.array([f_out[-1].col[k], g_out.col[k]])
                    vals = sign * np.array([f_out[-1].coef[k], -g_out.coef[k]])
                    const = sign * (f_out[-1].const[k] - g_out.const[k])
                    keep = cols >= 0
                    cols, vals = cols[keep], vals[keep]
                    bound = self._max(cols, vals, const, max(self.best[0], self.tol))
                upper = max(upper, bound + err[k])
        self.times["outputs"] += time.perf_counter() - t0
        attained, x_best, k_best = self.best
        upper = max(upper, attained)
        # the MILP's dual bound is as precise as SCIP's tolerances: allow 1e-7 relative
        exact = (not self.timed_out) and upper - attained <= self.tol + 1e-7 * abs(attained)
        return EquivalenceResult(
            max_abs_diff=float(upper), attained=float(attained), maximiser=x_best, output=int(k_best),
            exact=bool(exact), method="milp" if self.n_milps else "lp", n_lps=self.n_lps,
            n_milps=self.n_milps, n_tied=n_tied, times=dict(self.times), tol=self.tol,
        )

    def _tie(self, xin: Outputs, f_pre: list[np.ndarray], f_out: list[Outputs]) -> tuple[Outputs, np.ndarray, int]:
        """Encode g layer by layer, sharing f's variables for units proven identical.

        Returns g's output layer, the propagated tie error per output, and the number of ties.
        """
        f, g, tol = self.f, self.g, self.tol
        pts = self.samples[: min(512, self.samples.shape[0])]
        pf = f.preactivations(pts)
        pf_all = np.concatenate(pf, axis=1)
        f_layer_of = np.concatenate([np.full(z.shape[1], li) for li, z in enumerate(pf)])
        f_unit_of = np.concatenate([np.arange(z.shape[1]) for z in pf])
        pg = g.preactivations(pts)
        g_bounds = _bounds(g, self.dom)
        inp, err_in = xin, np.zeros(g.n_in)
        n_tied = 0
        for m, layer in enumerate(g.layers):
            W, b, act = layer.weight, layer.bias, layer.activation
            n = W.shape[0]
            col, coef, const = np.full(n, -1, np.int64), np.zeros(n), np.zeros(n)
            delta = np.zeros(n)
            tied = np.zeros(n, dtype=bool)
            same_act = np.array([f.layers[li].activation == act for li in f_layer_of])
            scale = 1.0 + np.max(np.abs(pf_all), axis=0)
            for j in range(n):
                gap = np.max(np.abs(pf_all - pg[m][:, j][:, None]), axis=0) / scale
                gap[~same_act] = np.inf
                i = int(np.argmin(gap)) if gap.size else -1
                if i < 0 or gap[i] > 1e-7:
                    continue
                li, ui = int(f_layer_of[i]), int(f_unit_of[i])
                cols, vals, c0 = expression(inp, W[j])
                cols = np.concatenate([cols, [f_pre[li][ui]]])
                vals = np.concatenate([vals, [-1.0]])
                c0 += b[j]
                d_hi = self._tie_bound(cols, vals, c0)
                if d_hi > tol:
                    continue
                d_lo = self._tie_bound(cols, -vals, -c0)
                if d_lo > tol:
                    continue
                tied[j] = True
                delta[j] = max(d_hi, d_lo, 0.0)
                src = f_out[li]
                col[j], coef[j], const[j] = src.col[ui], src.coef[ui], src.const[ui]
            n_tied += int(tied.sum())
            # error of the model's pre-activation vs the true one, then through a 1-Lipschitz-per-slope act
            err_pre = np.abs(W) @ err_in + delta
            lip = np.max(np.abs(act.slopes))
            err_out = lip * err_pre
            un = np.flatnonzero(~tied)
            if un.size:
                lo, hi = g_bounds[m].lo[un], g_bounds[m].hi[un]
                pad = err_pre[un] + 1e-9 * (1.0 + np.abs(lo) + np.abs(hi))
                _, o = self.enc.add_layer(inp, W[un], b[un], act, lo - pad, hi + pad)
                col[un], coef[un], const[un] = o.col, o.coef, o.const
                self._lp = None   # the model grew: rebuild the solvers on demand
            inp, err_in = Outputs(col, coef, const), err_out
        return inp, err_in, n_tied
