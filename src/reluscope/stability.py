"""Which units never switch on a bounded input domain (Serra, Kumar, Ramalingam 2020, §3).

A hidden unit is *stably inactive* on a domain if its pre-activation ``g_i`` stays
below its activation's breakpoint everywhere on it (``max g_i < 0`` for ReLU), and
*stably active* if it stays above (``min g_i > 0``); otherwise it is *unstable*.
Stable units can be removed or folded away without changing the function
(:func:`reluscope.compress`).

The decision is progressive (DESIGN §3; Tjeng, Xiao, Tedrake 2019, §4.2): the cheap
tests run first and each later, costlier test sees only the units still open.

1. interval bounds (IBP), recomputed layer by layer from the tightest bounds so far;
2. linear (CROWN-style) bounds, when :func:`reluscope.propagate.linear_bounds` exists;
3. witnesses: a unit seen on two pieces at points of the domain is unstable (random
   samples of the domain, the user's ``data``, the first layer's extreme box corners,
   and a short sign-gradient search) — no solver needed;
4. LP relaxation of the big-M MILP of the network prefix, with a certified bound;
5. MILP (SCIP), posed as feasibility: "can ``g_i >= eps``?" / "can ``g_i <= -eps``?",
   stopped as soon as the answer is known (objective limit at ``-eps``, primal limit at
   ``eps``), the bound read from SCIP's proven dual bound and every witness re-checked
   by a forward pass.

Layers are processed in order; when layer ``l`` is handled, the units of earlier layers
proven stable carry no binary in the MILP. A unit is called stable only if its bound
clears the breakpoint by ``eps``; a range that merely touches it is reported unstable
(conservative: compression stays lossless).
"""

from __future__ import annotations

import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _witness as W
from ._errors import InvalidParameterError
from ._mip import Encoding, LpRelaxation, MilpSolver
from ._validation import check_random_state
from .activations import Identity
from .domains import Box, Polytope, as_domain
from .network import Network
from .propagate import activation_range, interval_bounds

__all__ = [
    "stability",
    "StabilityResult",
    "STABLY_ACTIVE",
    "STABLY_INACTIVE",
    "UNSTABLE",
    "METHODS",
]

STABLY_ACTIVE = "stably_active"
STABLY_INACTIVE = "stably_inactive"
UNSTABLE = "unstable"
METHODS = ("auto", "interval", "linear", "lp", "milp")
_PHASES = {
    "interval": ("interval",),
    "linear": ("interval", "linear"),
    "lp": ("interval", "linear", "lp"),
    "milp": ("interval", "linear", "milp"),
    "auto": ("interval", "linear", "data", "lp", "milp"),
}


@dataclass(frozen=True)
class StabilityResult:
    """Per-unit stability of a network's hidden units on a domain.

    Unit arrays have shape ``(n_units,)`` and list the hidden layers in order, as
    :meth:`Network.pattern` does; :meth:`per_layer` splits them.

    Attributes
    ----------
    status : ndarray of str
        ``"stably_active"``, ``"stably_inactive"`` or ``"unstable"``. For activations
        other than ReLU, "inactive" means stable on a constant piece (slope 0) and
        "active" stable on a piece with non-zero slope.
    piece : ndarray of int8
        The piece a stable unit stays on; ``-1`` for unstable units.
    lower, upper : ndarray of float
        Proven bounds on the pre-activation over the domain (the proof of stability).
    observed_min, observed_max : ndarray of float
        Extremes of the pre-activation attained at verified witness points inside the
        domain (``+inf``/``-inf`` when none); for unstable units, the proof of instability.
    method : ndarray of str
        What settled each unit: ``"interval"``, ``"linear"``, ``"data"`` (witness points),
        ``"lp"``, ``"milp"``, or ``"undecided"`` (not proven either way: the range touches
        the breakpoint within ``eps``, a time limit ran out, or ``method`` stopped short).
    layer_sizes : tuple of int
        Widths of the hidden layers.
    times : dict
        Seconds spent per phase.
    n_milps, n_lps : int
        Number of MILPs and LPs solved.
    eps : float
        The margin a bound must clear.
    method_requested : str
    """

    status: np.ndarray
    piece: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    observed_min: np.ndarray
    observed_max: np.ndarray
    method: np.ndarray
    layer_sizes: tuple[int, ...]
    times: dict[str, float] = field(default_factory=dict)
    n_milps: int = 0
    n_lps: int = 0
    eps: float = 1e-6
    method_requested: str = "auto"

    @property
    def n_units(self) -> int:
        return int(self.status.shape[0])

    @property
    def stably_active(self) -> np.ndarray:
        """Boolean mask of stably active units."""
        return self.status == STABLY_ACTIVE

    @property
    def stably_inactive(self) -> np.ndarray:
        """Boolean mask of stably inactive units."""
        return self.status == STABLY_INACTIVE

    @property
    def unstable(self) -> np.ndarray:
        """Boolean mask of units not proven stable."""
        return self.status == UNSTABLE

    def per_layer(self, values: np.ndarray | str) -> list[np.ndarray]:
        """Split a unit array (or the name of an attribute) into one array per hidden layer.

        Examples
        --------
        >>> net = Network([(np.eye(2), np.array([5.0, -5.0]), "relu"), (np.ones((1, 2)), np.zeros(1), "relu"),
        ...                (np.ones((1, 1)), np.zeros(1), "identity")])
        >>> [s.tolist() for s in stability(net, Box(0.0, 1.0, dim=2)).per_layer("status")]
        [['stably_active', 'stably_inactive'], ['stably_active']]
        """
        arr = getattr(self, values) if isinstance(values, str) else np.asarray(values)
        return np.split(arr, np.cumsum(self.layer_sizes)[:-1])

    def counts(self) -> list[dict[str, int]]:
        """Per hidden layer, the number of units of each status.

        Examples
        --------
        >>> net = Network([(np.eye(2), np.array([5.0, -5.0]), "relu"), (np.ones((1, 2)), np.zeros(1), "identity")])
        >>> stability(net, Box(0.0, 1.0, dim=2)).counts()
        [{'stably_active': 1, 'stably_inactive': 1, 'unstable': 0}]
        """
        return [
            {s: int(np.sum(st == s)) for s in (STABLY_ACTIVE, STABLY_INACTIVE, UNSTABLE)}
            for st in self.per_layer(self.status)
        ]

    @property
    def settled_without_milp(self) -> float:
        """Fraction of units settled (proven either way) by something cheaper than a MILP."""
        if self.n_units == 0:
            return 1.0
        return float(np.mean((self.method != "milp") & (self.method != "undecided")))

    def summary(self) -> str:
        """A short table: per layer, counts of each status.

        Examples
        --------
        >>> net = Network([(np.array([[1.0], [-1.0]]), np.array([2.0, -2.0]), "relu"),
        ...                (np.ones((1, 2)), np.zeros(1), "identity")])
        >>> print(stability(net, Box(-1.0, 1.0, dim=1)).summary().splitlines()[1])
          layer 0: 1 stably active, 1 stably inactive, 0 unstable
        """
        lines = [f"stability ({self.method_requested}): {self.n_units} units, "
                 f"{self.n_milps} MILPs, {self.n_lps} LPs, {sum(self.times.values()):.3f} s"]
        for i, c in enumerate(self.counts()):
            lines.append(f"  layer {i}: {c[STABLY_ACTIVE]} stably active, "
                         f"{c[STABLY_INACTIVE]} stably inactive, {c[UNSTABLE]} unstable")
        return "\n".join(lines)


def stability(
    net: Network,
    domain: Box | Polytope | Any,
    method: str = "auto",
    *,
    data: Any = None,
    eps: float = 1e-6,
    time_limit: float | None = None,
    n_samples: int = 1000,
    seed: Any = 0,
    progress: bool = False,
) -> StabilityResult:
    """Classify every hidden unit as stably active, stably inactive or unstable on ``domain``.

    Parameters
    ----------
    net : Network
        Hidden layers may use any continuous PWL activation. The LP and MILP questions are
        asked of units whose activation has one breakpoint (ReLU, LeakyReLU, Abs); units of
        other activations (HardTanh) are settled by bounds and witnesses only.
    domain : Box, Polytope or (lo, hi)
        A bounded input set, e.g. ``Box(0, 1, dim=784)`` or ``Box.of_data(x, margin)``.
    method : {"auto", "interval", "linear", "lp", "milp"}
        ``"auto"``: interval -> linear -> witnesses -> LP -> MILP (only for open units).
        ``"interval"``/``"linear"``/``"lp"``: stop after that bound (units it does not
        prove stable are reported unstable, method ``"undecided"``).
        ``"milp"``: interval -> linear -> MILP for every other unit (no sampling, no LP):
        an exact classification, slower. The first layer never needs a MILP: its interval
        bounds over a box, and its LP over a polytope, are exact.
    data : array_like of shape (n_points, n_in), optional
        Sample inputs used as instability witnesses; points are clipped into a box
        domain, and dropped when outside a polytope.
    eps : float, default 1e-6
        Margin: stable only if the bound clears the breakpoint by ``eps``; a witness
        needs ``g >= eps`` (on) or ``g <= -eps`` (off).
    time_limit : float, optional
        Time budget in seconds, counted from the first layer: no MILP starts after it and
        each MILP is capped by what remains; units still open are then ``"undecided"``.
    n_samples : int, default 1000
        Random points of the domain used as witnesses (``"auto"`` only).
    seed : None, int or Generator
        Seed for the domain samples; the result is deterministic for a fixed seed.
    progress : bool, default False
        Show a progress bar (units settled, LPs and MILPs so far) on stderr.

    Returns
    -------
    StabilityResult

    Raises
    ------
    DomainError
        If the domain is unbounded (``None`` or an unbounded polytope): the bounds,
        and the big-M constants of the MILP, are finite only on a bounded set.

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network, Box
    >>> net = Network([(np.array([[1.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]), np.array([1.0, -1.0, -0.5]), "relu"),
    ...                (np.ones((1, 3)), np.zeros(1), "identity")])
    >>> res = stability(net, Box(0.0, 1.0, dim=2))
    >>> res.status.tolist()
    ['stably_active', 'stably_inactive', 'unstable']
    >>> res.method.tolist()
    ['interval', 'interval', 'data']
    >>> stability(net, None)
    Traceback (most recent call last):
    ...
    reluscope._errors.DomainError: 'domain' must be bounded (a Box or a bounded Polytope): ...
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    if method not in METHODS:
        raise InvalidParameterError(f"'method' must be one of {list(METHODS)}; got {method!r}.")
    if not (isinstance(eps, (int, float)) and np.isfinite(eps) and eps >= 0):
        raise InvalidParameterError(f"'eps' must be a finite number >= 0; got {eps!r}.")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit >= 0):
        raise InvalidParameterError(f"'time_limit' must be None or a number >= 0; got {time_limit!r}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise InvalidParameterError(f"'n_samples' must be an integer >= 0; got {n_samples!r}.")
    dom = as_domain(domain, net.n_in, bounded=True)
    if isinstance(dom, Polytope) and dom.box is None:
        dom = Polytope(dom.A, dom.b, box=dom.bounding_box())
    data_arr = W.as_data(data, net.n_in)
    phases = _PHASES[method]
    if "linear" in phases and _linear_bounds_fn() is None and method == "linear":
        raise InvalidParameterError(
            "method='linear' needs reluscope.propagate.linear_bounds, which this installation lacks; "
            "use 'interval', 'lp', 'milp' or 'auto'."
        )
    rng = check_random_state(seed)
    run = _Run(net, dom, phases, data_arr, float(eps), time_limit, int(n_samples), rng, method)
    return run.run(progress=progress)


# ---------------------------------------------------------------------- internals
def _linear_bounds_fn() -> Any:
    from . import propagate

    return getattr(propagate, "linear_bounds", None)


def _piece_info(act: Any, lo: np.ndarray, hi: np.ndarray, eps: float) -> np.ndarray:
    """Piece each unit is proven to stay on (bounds clear the breakpoints by eps), else -1."""
    bps = np.asarray(act.breakpoints, dtype=np.float64)
    if bps.size == 0:
        return np.zeros(lo.shape, dtype=np.int8)
    k = np.searchsorted(bps, hi + eps, side="left")          # piece of hi (+ margin)
    ok = k == np.searchsorted(bps, lo - eps, side="right")    # lo - eps is on the same piece
    return np.where(ok, k, -1).astype(np.int8)


def _witnessed_unstable(act: Any, omin: np.ndarray, omax: np.ndarray, eps: float) -> np.ndarray:
    """Units seen strictly on both sides of some breakpoint (by at least eps)."""
    bps = np.asarray(act.breakpoints, dtype=np.float64)
    out = np.zeros(omin.shape, dtype=bool)
    for bp in bps:
        out |= (omin <= bp - eps) & (omax >= bp + eps)
    return out


class _Run:
    """One call of :func:`stability`: state shared by the phases."""

    def __init__(self, net: Network, dom: Box | Polytope, phases: tuple[str, ...], data: np.ndarray | None,
                 eps: float, time_limit: float | None, n_samples: int, seed: Any, method: str):
        self.net, self.dom, self.phases, self.data = net, dom, phases, data
        self.eps, self.time_limit, self.n_samples, self.seed = eps, time_limit, n_samples, seed
        self.method_name = method
        self.times = {p: 0.0 for p in ("interval", "linear", "data", "lp", "milp")}
        self.n_milps = 0
        self.n_lps = 0
        self.obs = W.Observations(net)
        self.n_hidden = net.depth - 1
        self.box = dom if isinstance(dom, Box) else dom.box

    # -------------------------------------------------------------- helpers
    def _clock(self, phase: str, t0: float) -> None:
        self.times[phase] += time.perf_counter() - t0

    def _observe(self, x: np.ndarray) -> None:
        pts = W.contained(self.dom, x)
        if pts.shape[0]:
            self.obs.add(pts)

    def _settle(self, l: int, how: str) -> None:
        """Record units of layer l newly proven stable (by bounds) or unstable (by witnesses)."""
        act = self.net.layers[l].activation
        piece = _piece_info(act, self.lo[l], self.hi[l], self.eps)
        new_stable = (piece >= 0) & (self.piece[l] < 0) & (self.how[l] == "")
        self.piece[l] = np.where(new_stable, piece, self.piece[l])
        self.how[l][new_stable] = how
        seen = _witnessed_unstable(act, self.obs.lo[l], self.obs.hi[l], self.eps)
        new_unstable = seen & (self.how[l] == "")
        self.how[l][new_unstable] = how if how in ("lp", "milp") else "data"

    def _open(self, l: int) -> np.ndarray:
        return np.flatnonzero(self.how[l] == "")

    # -------------------------------------------------------------- phases
    def run(self, progress: bool = False) -> StabilityResult:
        from tqdm.auto import tqdm

        net, L = self.net, self.n_hidden
        t0 = time.perf_counter()
        ib = interval_bounds(net, self.dom)
        self.lo = [b.lo.copy() for b in ib]
        self.hi = [b.hi.copy() for b in ib]
        self._clock("interval", t0)
        self.lin: list[tuple[np.ndarray, np.ndarray]] | None = None
        fn = _linear_bounds_fn() if "linear" in self.phases else None
        if fn is not None:
            t0 = time.perf_counter()
            self.lin = [(np.asarray(b.lo, float), np.asarray(b.hi, float)) for b in fn(net, self.dom)]
            self._clock("linear", t0)
        self.piece = [np.full(w, -1, dtype=np.int8) for w in net.hidden_widths]
        self.how = [np.full(w, "", dtype="<U9") for w in net.hidden_widths]
        if "data" in self.phases:
            t0 = time.perf_counter()
            if self.n_samples:
                self._observe(W.domain_samples(self.dom, self.n_samples, self.seed))
            if self.data is not None:
                self._observe(self.data)
            if isinstance(self.dom, Box) and L:
                self._observe(W.box_corners(net, self.dom))
            self._clock("data", t0)
        self.deadline = None if self.time_limit is None else time.perf_counter() + self.time_limit
        with tqdm(total=net.n_units, desc="stability", unit="unit", disable=not progress, leave=False) as bar:
            for l in range(L):
                self._layer(l)
                bar.update(net.hidden_widths[l])
                bar.set_postfix(layer=l, lps=self.n_lps, milps=self.n_milps)
        return self._result()

    def _layer(self, l: int) -> None:
        net = self.net
        if l > 0:   # IBP from the refined bounds of layer l-1
            t0 = time.perf_counter()
            plo, phi = activation_range(net.layers[l - 1].activation, self.lo[l - 1], self.hi[l - 1])
            w = net.layers[l].weight
            wp, wn = np.clip(w, 0, None), np.clip(w, None, 0)
            self.lo[l] = np.maximum(self.lo[l], wp @ plo + wn @ phi + net.layers[l].bias)
            self.hi[l] = np.maximum(np.minimum(self.hi[l], wp @ phi + wn @ plo + net.layers[l].bias), self.lo[l])
            self._clock("interval", t0)
        self._settle(l, "interval")
        if self.lin is not None:
            self.lo[l] = np.maximum(self.lo[l], self.lin[l][0])
            self.hi[l] = np.maximum(np.minimum(self.hi[l], self.lin[l][1]), self.lo[l])
            self._settle(l, "linear")
        if "data" in self.phases and self._open(l).size and isinstance(self.dom, Box):
            t0 = time.perf_counter()
            self._search(l)
            self._settle(l, "data")
            self._clock("data", t0)
        single = len(net.layers[l].activation.breakpoints) == 1
        # the first layer has no binaries: its LP is the exact problem (a MILP adds only the
        # solver's tolerances, which once 'proved' g <= -eps for a unit whose maximum is
        # -1.2e-7), and over a box the interval bound above is exact already
        want_lp = "lp" in self.phases or (l == 0 and "milp" in self.phases)
        want_milp = "milp" in self.phases and l > 0
        exact_box = l == 0 and isinstance(self.dom, Box)
        if (want_lp or want_milp) and self._open(l).size and single and not exact_box:
            enc = self._encode_prefix(l)
            if want_lp:
                t0 = time.perf_counter()
                self._lp(l, enc)
                self._clock("lp", t0)
            if want_milp and self._open(l).size:
                t0 = time.perf_counter()
                self._milp(l, enc)
                self._clock("milp", t0)
        # units still open are unstable as far as we can tell
        self.how[l][self.how[l] == ""] = "undecided"

    def _search(self, l: int) -> None:
        """Sign-gradient search for the missing witness side of every open unit of layer l."""
        act = self.net.layers[l].activation
        bps = np.asarray(act.breakpoints)
        if bps.size != 1:
            return
        bp = bps[0]
        op = self._open(l)
        need_on = op[self.obs.hi[l][op] < bp + self.eps]
        need_off = op[self.obs.lo[l][op] > bp - self.eps]
        units = np.concatenate([need_on, need_off])
        if units.size == 0 or self.obs.arg_hi[l] is None:
            return
        signs = np.concatenate([np.ones(need_on.size), -np.ones(need_off.size)])
        starts = np.vstack([self.obs.arg_hi[l][need_on], self.obs.arg_lo[l][need_off]])
        self._observe(W.gradient_search(self.net, self.box, l, units, signs, starts))

    def _encode_prefix(self, l: int) -> tuple[Encoding, np.ndarray]:
        enc = Encoding()
        out = enc.add_input(self.dom)
        for k in range(l):
            layer = self.net.layers[k]
            _, out = enc.add_layer(out, layer.weight, layer.bias, layer.activation, self.lo[k], self.hi[k])
        layer = self.net.layers[l]
        pre, _ = enc.add_layer(out, layer.weight, layer.bias, Identity(), self.lo[l], self.hi[l])
        return enc, pre

    def _lp(self, l: int, enc_pre: tuple[Encoding, np.ndarray]) -> None:
        enc, pre = enc_pre
        lp = LpRelaxation(enc)
        act = self.net.layers[l].activation
        bp = float(np.asarray(act.breakpoints)[0]) if len(act.breakpoints) == 1 else None
        if bp is None:
            return
        for i in self._open(l):
            for sign in self._sides(l, i, bp):
                res = lp.maximize(np.array([pre[i]]), np.array([sign]))
                self.n_lps += 1
                self._tighten(l, i, sign, res.bound)
                if res.solution is not None:
                    self._observe(res.solution[enc.x])
                self._settle(l, "lp")
                if self.how[l][i] != "":
                    break

    def _tighten(self, l: int, i: int, sign: float, bound: float) -> None:
        """Record a proven bound on ``sign * g_i``; never let round-off cross lo and hi."""
        if sign > 0:
            self.hi[l][i] = max(min(self.hi[l][i], bound), self.lo[l][i])
        else:
            self.lo[l][i] = min(max(self.lo[l][i], -bound), self.hi[l][i])

    def _sides(self, l: int, i: int, bp: float) -> list[float]:
        """Which questions are still open for unit i, the likelier-to-prove one first.

        +1: "can g reach bp + eps?" (needed unless a witness already shows it);
        -1: "can g reach bp - eps?".
        """
        sides = []
        if self.obs.hi[l][i] < bp + self.eps:
            sides.append(1.0)
        if self.obs.lo[l][i] > bp - self.eps:
            sides.append(-1.0)
        if len(sides) == 2 and (self.hi[l][i] - bp) > (bp - self.lo[l][i]):
            sides.reverse()
        return sides

    def _milp(self, l: int, enc_pre: tuple[Encoding, np.ndarray]) -> None:
        enc, pre = enc_pre
        act = self.net.layers[l].activation
        if len(act.breakpoints) != 1:
            return
        bp = float(np.asarray(act.breakpoints)[0])
        solver = None
        for i in self._open(l):
            for sign in self._sides(l, i, bp):
                remaining = None if self.deadline is None else self.deadline - time.perf_counter()
                if remaining is not None and remaining <= 0:
                    return
                if solver is None:
                    solver = MilpSolver(enc)
                # maximise sign * (g - bp): prune below -eps, stop at the first point reaching +eps
                res = solver.maximize(np.array([pre[i]]), np.array([sign]), -sign * bp,
                                      stop_below=-self.eps, stop_above=self.eps, time_limit=remaining)
                self.n_milps += 1
                bound = res.dual_bound + sign * bp      # proven bound on sign * g
                self._tighten(l, i, sign, bound)
                if res.solution is not None:
                    self._observe(res.solution)
                self._settle(l, "milp")
                if self.how[l][i] != "":
                    break

    def _result(self) -> StabilityResult:
        status = []
        for l in range(self.n_hidden):
            p = self.piece[l]
            slope = self.net.layers[l].activation.slopes[np.clip(p, 0, None)]
            status.append(np.where(p < 0, UNSTABLE, np.where(slope == 0, STABLY_INACTIVE, STABLY_ACTIVE)))
        L = self.n_hidden
        return StabilityResult(
            status=_cat(status, "<U15"),
            piece=_cat(self.piece, np.int8),
            lower=_cat(self.lo[:L], np.float64),
            upper=_cat(self.hi[:L], np.float64),
            observed_min=_cat(self.obs.lo, np.float64),
            observed_max=_cat(self.obs.hi, np.float64),
            method=_cat(self.how, "<U9"),
            layer_sizes=tuple(self.net.hidden_widths),
            times=dict(self.times),
            n_milps=self.n_milps,
            n_lps=self.n_lps,
            eps=self.eps,
            method_requested=self.method_name,
        )


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


class _CallableModule(types.ModuleType):
    """``reluscope.stability`` is both this module and the function: importing the submodule
    (``from reluscope.stability import StabilityResult``, or via :mod:`reluscope.compress`)
    rebinds the package attribute ``reluscope.stability`` to the module, so the module
    forwards calls to :func:`stability`."""

    def __call__(self, *args: Any, **kwargs: Any) -> StabilityResult:
        return stability(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
