"""Bounds on every pre-activation over a bounded input domain.

These bounds are the big-M constants of the MILP (DESIGN §3) and the first,
cheapest test of unit stability. Interval arithmetic (IBP) is implemented here;
tighter linear (CROWN-style) and LP bounds build on the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .domains import Box, Polytope, as_domain
from .network import Network

__all__ = ["LayerBounds", "interval_bounds", "activation_range"]


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
