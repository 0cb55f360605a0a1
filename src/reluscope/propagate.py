"""Bounds on every pre-activation over a bounded input domain.

These bounds are the big-M constants of the MILP (DESIGN §3) and the first,
cheapest test of unit stability. Three methods, cheapest first, each at least as
tight as the one before:

* :func:`interval_bounds` -- interval arithmetic (IBP, Gowal et al. 2018);
* :func:`linear_bounds` -- backward linear relaxation (CROWN, Zhang et al. 2018),
  intersected with one interval step from the previous layer's bounds;
* :func:`lp_bounds` -- per-layer LP optimisation-based bound tightening over the
  LP relaxation of the big-M encoding of the layers before (Tjeng et al. 2019, §4.2),
  for the units that are still unstable.

:func:`best_bounds` picks one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import InvalidParameterError, ShapeError
from .domains import Box, Polytope, as_domain
from .network import Network

__all__ = [
    "LayerBounds",
    "interval_bounds",
    "linear_bounds",
    "lp_bounds",
    "best_bounds",
    "activation_range",
    "linear_relaxation",
    "check_bounds",
]


@dataclass(frozen=True)
class LayerBounds:
    """Lower and upper bounds on the pre-activations of one layer.

    Attributes
    ----------
    lo, hi : ndarray of shape (n_l,)
    """

    lo: np.ndarray
    hi: np.ndarray


def activation_range(act: Any, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact range of a continuous PWL activation over intervals ``[lo, hi]`` (elementwise).

    The extrema of a PWL function over an interval lie at the interval's ends or
    at breakpoints inside it.

    Examples
    --------
    >>> from reluscope import Abs
    >>> activation_range(Abs(), np.array([-2.0]), np.array([1.0]))
    (array([0.]), array([2.]))
    """
    cands = [act(lo), act(hi)]
    for bp in np.asarray(act.breakpoints):
        inside = (lo < bp) & (bp < hi)
        v = act(np.full_like(lo, bp))
        cands.append(np.where(inside, v, cands[0]))
    stacked = np.stack(cands)
    return stacked.min(axis=0), stacked.max(axis=0)


def interval_bounds(net: Network, domain: Box | Polytope | Any) -> list[LayerBounds]:
    """Interval-arithmetic bounds on every layer's pre-activations (Gowal et al. 2018, IBP).

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        A bounded input domain (a polytope is first enclosed in its bounding box).

    Returns
    -------
    list of LayerBounds, one per layer (output layer included), each with arrays
    of shape (n_l,). Every reachable pre-activation ``z`` satisfies ``lo <= z <= hi``;
    for the first layer over a box the bounds are exact.

    Examples
    --------
    >>> net = Network([(np.array([[1.0, -1.0]]), np.array([0.5]), "relu"),
    ...                (np.array([[2.0]]), np.array([0.0]), "identity")])
    >>> b = interval_bounds(net, Box(0.0, 1.0, dim=2))
    >>> b[0].lo, b[0].hi
    (array([-0.5]), array([1.5]))
    >>> b[1].lo, b[1].hi
    (array([0.]), array([3.]))
    """
    dom = as_domain(domain, net.n_in, bounded=True)
    box = dom.bounding_box() if isinstance(dom, Polytope) and dom.box is None else (
        dom.box if isinstance(dom, Polytope) else dom
    )
    lo, hi = box.lo.astype(np.float64), box.hi.astype(np.float64)
    out = []
    for layer in net.layers:
        w_pos = np.clip(layer.weight, 0, None)
        w_neg = np.clip(layer.weight, None, 0)
        z_lo = w_pos @ lo + w_neg @ hi + layer.bias
        z_hi = w_pos @ hi + w_neg @ lo + layer.bias
        out.append(LayerBounds(z_lo, z_hi))
        lo, hi = activation_range(layer.activation, z_lo, z_hi)
    return out


def linear_relaxation(
    act: Any, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear bounds ``aL z + cL <= act(z) <= aU z + cU`` valid for ``z`` in ``[lo, hi]`` (elementwise).

    For any slope ``s`` the tightest valid intercepts are the extremes of
    ``act(p) - s p`` over the interval, attained at its ends or at a breakpoint
    inside it. The slope is picked among the chord slope and the slopes of the
    activation's pieces so as to minimise the area between the line and ``act``
    (CROWN's adaptive choice: for ReLU the upper line is the chord and the lower
    slope is 1 if ``hi > -lo`` else 0; Zhang et al. 2018, §3.2). Stable units get
    the exact line.

    Parameters
    ----------
    act : Activation
    lo, hi : ndarray of shape (n,)

    Returns
    -------
    aL, cL, aU, cU : ndarrays of shape (n,)

    Examples
    --------
    >>> from reluscope import ReLU
    >>> aL, cL, aU, cU = linear_relaxation(ReLU(), np.array([-1.0, 1.0]), np.array([3.0, 2.0]))
    >>> aU, cU          # chord through (-1, 0) and (3, 3); exact on the stable unit
    (array([0.75, 1.  ]), array([0.75, 0.  ]))
    >>> aL, cL
    (array([1., 1.]), array([0., 0.]))
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    pts = np.stack([lo, hi] + [np.clip(bp, lo, hi) for bp in np.asarray(act.breakpoints)])  # (m, n)
    vals = act(pts)
    width = hi - lo
    safe = np.where(width > 0, width, 1.0)
    chord = np.where(width > 0, (vals[1] - vals[0]) / safe, 0.0)
    slopes = np.vstack([chord[None, :], np.repeat(np.asarray(act.slopes)[:, None], lo.shape[0], axis=1)])
    gaps = vals[None, :, :] - slopes[:, None, :] * pts[None, :, :]  # (n_slopes, m, n)
    c_up, c_low = gaps.max(axis=1), gaps.min(axis=1)
    mid = (lo + hi) / 2
    iu = np.argmin(slopes * mid + c_up, axis=0)
    il = np.argmax(slopes * mid + c_low, axis=0)
    cols = np.arange(lo.shape[0])
    return slopes[il, cols], c_low[il, cols], slopes[iu, cols], c_up[iu, cols]


def _domain_parts(dom: Box | Polytope) -> tuple[np.ndarray, np.ndarray, Polytope | None]:
    """Bounding box (lo, hi) of a checked bounded domain, and the polytope if it is one."""
    if isinstance(dom, Box):
        return dom.lo.astype(np.float64), dom.hi.astype(np.float64), None
    box = dom.box if dom.box is not None else dom.bounding_box()
    return box.lo.astype(np.float64), box.hi.astype(np.float64), dom


def _support(C: np.ndarray, d: np.ndarray, x_lo: np.ndarray, x_hi: np.ndarray, poly: Polytope | None):
    """``(min, max)`` of ``C x + d`` over the domain, row by row (certified LPs for a polytope)."""
    Cp, Cn = np.clip(C, 0, None), np.clip(C, None, 0)
    hi = Cp @ x_hi + Cn @ x_lo + d
    lo = Cp @ x_lo + Cn @ x_hi + d
    if poly is None or C.shape[0] == 0:
        return lo, hi
    import scipy.sparse as sp

    from .milp._highs import LPMaximizer

    A, b = poly.halfspaces()
    pad = 1e-9 * (1.0 + np.abs(x_lo) + np.abs(x_hi))  # the LP-computed box must not cut the polytope
    lp = LPMaximizer(sp.csr_array(A), np.full(b.shape, -np.inf), b, x_lo - pad, x_hi + pad)
    lp_hi = np.array([lp.maximize(row) for row in C]) + d
    lp_lo = -np.array([lp.maximize(-row) for row in C]) + d
    return np.maximum(lo, lp_lo), np.minimum(hi, lp_hi)


def linear_bounds(net: Network, domain: Box | Polytope | Any) -> list[LayerBounds]:
    """Backward linear-relaxation bounds (CROWN) on every layer's pre-activations.

    Layer by layer, each pre-activation ``z_l = W_l φ(z_{l-1}) + b_l`` is bounded by
    substituting the linear relaxations of :func:`linear_relaxation` for every earlier
    activation, going backwards to the input (Zhang et al. 2018, "Efficient neural
    network robustness certification with general activation functions", Thm 3.2),
    and maximising the resulting linear function of ``x`` over the domain: in closed
    form over a box, by a certified LP over a polytope. The result is intersected
    with one interval-arithmetic step from the previous layer's (already tightened)
    bounds, so every layer is at least as tight as :func:`interval_bounds`.

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        A bounded input domain.

    Returns
    -------
    list of LayerBounds, one per layer (output layer included), arrays of shape (n_l,).

    Examples
    --------
    >>> # z = relu(x + 2) + relu(2 - x) = 4 on [-1, 1]; intervals give [2, 6]
    >>> net = Network([(np.array([[1.0], [-1.0]]), np.array([2.0, 2.0]), "relu"),
    ...                (np.array([[1.0, 1.0]]), np.array([0.0]), "identity")])
    >>> lb = linear_bounds(net, Box(-1.0, 1.0, dim=1))
    >>> lb[1].lo, lb[1].hi
    (array([4.]), array([4.]))
    >>> ib = interval_bounds(net, Box(-1.0, 1.0, dim=1))
    >>> ib[1].lo, ib[1].hi
    (array([2.]), array([6.]))
    """
    dom = as_domain(domain, net.n_in, bounded=True)
    return _linear_pass(net, dom, None)


def _linear_pass(net: Network, dom: Box | Polytope, prior: list[LayerBounds] | None) -> list[LayerBounds]:
    """CROWN + one interval step per layer, intersected with ``prior`` where given."""
    x_lo, x_hi, poly = _domain_parts(dom)
    layers = net.layers
    out: list[LayerBounds] = []
    relax: list[tuple[np.ndarray, ...]] = []
    for li, layer in enumerate(layers):
        # backward pass: lam_u · (input of layer k) + c_u is an upper bound on z_li
        lam_u = layer.weight.copy()
        lam_l = layer.weight.copy()
        c_u = layer.bias.copy()
        c_l = layer.bias.copy()
        for k in range(li - 1, -1, -1):
            aL, bL, aU, bU = relax[k]
            pos, neg = np.clip(lam_u, 0, None), np.clip(lam_u, None, 0)
            c_u = c_u + pos @ bU + neg @ bL
            lam_u = pos * aU + neg * aL
            pos, neg = np.clip(lam_l, 0, None), np.clip(lam_l, None, 0)
            c_l = c_l + pos @ bL + neg @ bU
            lam_l = pos * aL + neg * aU
            w, b = layers[k].weight, layers[k].bias
            c_u, lam_u = c_u + lam_u @ b, lam_u @ w
            c_l, lam_l = c_l + lam_l @ b, lam_l @ w
        _, hi = _support(lam_u, c_u, x_lo, x_hi, poly)
        lo, _ = _support(lam_l, c_l, x_lo, x_hi, poly)
        # one interval step from the previous (tightened) bounds
        if li == 0:
            p_lo, p_hi = x_lo, x_hi
        else:
            p_lo, p_hi = activation_range(layers[li - 1].activation, out[-1].lo, out[-1].hi)
        w_pos, w_neg = np.clip(layer.weight, 0, None), np.clip(layer.weight, None, 0)
        lo = np.maximum(lo, w_pos @ p_lo + w_neg @ p_hi + layer.bias)
        hi = np.minimum(hi, w_pos @ p_hi + w_neg @ p_lo + layer.bias)
        if prior is not None:
            lo, hi = np.maximum(lo, prior[li].lo), np.minimum(hi, prior[li].hi)
        hi = np.maximum(hi, lo)  # guard against crossing by rounding on exact (zero-width) units
        out.append(LayerBounds(lo, hi))
        relax.append(linear_relaxation(layer.activation, lo, hi))
    return out


def lp_bounds(
    net: Network,
    domain: Box | Polytope | Any,
    *,
    start: str | list[LayerBounds] = "linear",
) -> list[LayerBounds]:
    """LP optimisation-based bound tightening of the units that are still unstable.

    For each layer ``l`` in turn, the LP relaxation of the big-M encoding of the
    layers before it (Serra et al. 2018, constraints (1); binaries relaxed to
    ``[0, 1]``; big-M constants from the bounds already tightened) is built once, and
    ``min`` / ``max`` of every *unstable* pre-activation of layer ``l`` (a breakpoint
    of its activation strictly inside its current interval) is solved with HiGHS,
    warm-started between objectives (Tjeng et al. 2019, §4.2, "progressive bound
    tightening"). Each new bound is the certified dual bound of the LP
    (:func:`reluscope.milp._highs.certified_max`), intersected with the starting
    bounds, so the result is never looser than ``start``. After each layer the
    later layers are re-bounded by the linear pass with the tightened bounds.

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        A bounded input domain.
    start : {"interval", "linear"} or list of LayerBounds, default "linear"
        Bounds to start from.

    Returns
    -------
    list of LayerBounds, one per layer, arrays of shape (n_l,).

    Examples
    --------
    >>> # z = relu(x) - relu(x) on [-1, 2] is 0; intervals give 2, linear bounds 1, and the
    >>> # LP relaxation 2/3 (at x = 0: the upper hull 2(x + 1)/3 minus the lower hull max(0, x))
    >>> net = Network([(np.array([[1.0], [1.0]]), np.zeros(2), "relu"),
    ...                (np.array([[1.0, -1.0]]), np.zeros(1), "relu"),
    ...                (np.array([[1.0]]), np.zeros(1), "identity")])
    >>> box = Box(-1.0, 2.0, dim=1)
    >>> [round(float(f(net, box)[1].hi[0]), 6) for f in (interval_bounds, linear_bounds, lp_bounds)]
    [2.0, 1.0, 0.666667]
    """
    from .milp._formulation import build_formulation
    from .milp._highs import LPMaximizer

    dom = as_domain(domain, net.n_in, bounded=True)
    bounds = _start_bounds(net, dom, start)
    for li in range(1, net.depth - 1):
        layer = net.layers[li]
        lo, hi = bounds[li].lo.copy(), bounds[li].hi.copy()
        unstable = np.flatnonzero(layer.activation.piece(lo) != layer.activation.piece(hi))
        if unstable.size == 0:
            continue
        form = build_formulation(net, bounds, dom, n_hidden=li, include_output=False)
        lp = LPMaximizer(form.A, form.row_lo, form.row_hi, form.lb, form.ub)
        prev = form.layers[-1].out
        for i in unstable:
            c = np.zeros(form.n_vars)
            c[prev] = layer.weight[i]
            hi[i] = min(hi[i], lp.maximize(c) + layer.bias[i])
            lo[i] = max(lo[i], -lp.maximize(-c) + layer.bias[i])
        hi = np.maximum(hi, lo)
        bounds[li] = LayerBounds(lo, hi)
        # later layers: redo the linear pass with the tightened bounds (never looser)
        bounds = _linear_pass(net, dom, bounds)
    return bounds


def _start_bounds(net: Network, dom: Box | Polytope, start: Any) -> list[LayerBounds]:
    if isinstance(start, str):
        if start not in ("interval", "linear"):
            raise InvalidParameterError(
                f"'start' must be 'interval', 'linear' or a list of LayerBounds; got {start!r}."
            )
        return interval_bounds(net, dom) if start == "interval" else linear_bounds(net, dom)
    return check_bounds(net, start, "start")


def check_bounds(net: Network, bounds: Any, name: str = "bounds") -> list[LayerBounds]:
    """Check a user-given list of :class:`LayerBounds` against ``net`` (one per layer, shapes, order).

    Examples
    --------
    >>> net = Network.random([2, 3, 1], seed=0)
    >>> len(check_bounds(net, interval_bounds(net, Box(0.0, 1.0, dim=2))))
    2
    """
    try:
        items = list(bounds)
    except TypeError as exc:
        raise InvalidParameterError(f"'{name}' must be a list of LayerBounds; got {type(bounds).__name__}.") from exc
    if len(items) != net.depth or not all(isinstance(b, LayerBounds) for b in items):
        raise InvalidParameterError(
            f"'{name}' must be a list of {net.depth} LayerBounds (one per layer); got {len(items)} items."
        )
    for i, (b, layer) in enumerate(zip(items, net.layers, strict=True)):
        lo, hi = np.asarray(b.lo, dtype=np.float64), np.asarray(b.hi, dtype=np.float64)
        if lo.shape != (layer.n_out,) or hi.shape != (layer.n_out,):
            raise ShapeError(
                f"'{name}'[{i}] must have lo and hi of shape ({layer.n_out},); got {lo.shape}, {hi.shape}."
            )
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
            raise InvalidParameterError(f"'{name}'[{i}] must have finite lo <= hi.")
    return [LayerBounds(np.asarray(b.lo, dtype=np.float64), np.asarray(b.hi, dtype=np.float64)) for b in items]


_METHODS = ("interval", "linear", "lp")


def best_bounds(net: Network, domain: Box | Polytope | Any, method: str = "linear") -> list[LayerBounds]:
    """Pre-activation bounds by the named method.

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        A bounded input domain.
    method : {"interval", "linear", "lp"}, default "linear"
        :func:`interval_bounds`, :func:`linear_bounds` or :func:`lp_bounds` (which
        starts from the linear ones): cheapest and loosest first.

    Returns
    -------
    list of LayerBounds, one per layer.

    Examples
    --------
    >>> net = Network.random([2, 8, 8, 1], seed=0)
    >>> box = Box(-1.0, 1.0, dim=2)
    >>> widths = [float(np.sum(b[1].hi - b[1].lo)) for b in
    ...           (best_bounds(net, box, m) for m in ("interval", "linear", "lp"))]
    >>> widths[0] >= widths[1] >= widths[2]
    True
    """
    if method not in _METHODS:
        raise InvalidParameterError(f"'method' must be one of {list(_METHODS)}; got {method!r}.")
    if method == "interval":
        return interval_bounds(net, domain)
    if method == "linear":
        return linear_bounds(net, domain)
    return lp_bounds(net, domain)
