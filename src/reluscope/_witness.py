"""Witness points for unit instability: verified forward passes on points inside the domain.

Private helper of :mod:`reluscope.stability`. A unit seen on two pieces of its
activation at two points of the domain is unstable, whatever any bound says: this
is the data filter of Serra, Yu, Kumar, Ramalingam (2021, ``--preprocess_all_samples``),
extended with the domain's own random samples, the extreme corners of the first
layer over a box (where interval bounds are exact), LP/MILP solutions, and a short
projected sign-gradient search that pushes a unit's pre-activation across its
breakpoint. Every witness is a point whose forward pass is recorded, never a
solver's claimed value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .domains import Box, Polytope
from .network import Network

__all__ = ["Observations", "domain_samples", "box_corners", "unit_gradients", "gradient_search"]


class Observations:
    """Running per-unit minimum and maximum of the pre-activations seen at witness points.

    Parameters
    ----------
    net : Network
    n_hidden : int
        Number of hidden layers tracked (all layers but the last).

    Examples
    --------
    >>> net = Network([(np.array([[1.0]]), np.zeros(1), "relu"),
    ...                (np.ones((1, 1)), np.zeros(1), "identity")])
    >>> obs = Observations(net)
    >>> obs.add(np.array([[-2.0], [3.0]]))
    >>> obs.lo[0], obs.hi[0]
    (array([-2.]), array([3.]))
    """

    def __init__(self, net: Network):
        self.net = net
        widths = net.hidden_widths
        self.lo = [np.full(w, np.inf) for w in widths]
        self.hi = [np.full(w, -np.inf) for w in widths]
        self.arg_lo: list[np.ndarray | None] = [None] * len(widths)
        self.arg_hi: list[np.ndarray | None] = [None] * len(widths)
        self.n_points = 0

    def add(self, x: np.ndarray, chunk: int = 4096) -> None:
        """Record the pre-activations of points ``x`` (n_points, n_in), which must lie in the domain."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        for s in range(0, x.shape[0], chunk):
            xs = x[s:s + chunk]
            pre = self.net.preactivations(xs)
            for l in range(len(self.lo)):
                z = pre[l]
                i_lo, i_hi = np.argmin(z, axis=0), np.argmax(z, axis=0)
                cols = np.arange(z.shape[1])
                z_lo, z_hi = z[i_lo, cols], z[i_hi, cols]
                better_lo, better_hi = z_lo < self.lo[l], z_hi > self.hi[l]
                if self.arg_lo[l] is None:
                    self.arg_lo[l] = np.zeros((z.shape[1], x.shape[1]))
                    self.arg_hi[l] = np.zeros((z.shape[1], x.shape[1]))
                self.arg_lo[l][better_lo] = xs[i_lo[better_lo]]
                self.arg_hi[l][better_hi] = xs[i_hi[better_hi]]
                self.lo[l] = np.where(better_lo, z_lo, self.lo[l])
                self.hi[l] = np.where(better_hi, z_hi, self.hi[l])
        self.n_points += x.shape[0]


def domain_samples(domain: Box | Polytope, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` uniform points of the domain (rejection from the bounding box for a polytope).

    Examples
    --------
    >>> domain_samples(Box(0.0, 1.0, dim=2), 3, np.random.default_rng(0)).shape
    (3, 2)
    """
    if isinstance(domain, Box):
        return domain.sample(n, seed=rng)
    box = domain.box if domain.box is not None else domain.bounding_box()
    cand = box.sample(4 * n, seed=rng)
    return cand[domain.contains(cand, tol=0.0)][:n]


def box_corners(net: Network, box: Box) -> np.ndarray:
    """For each first-layer unit, the two box corners that maximise and minimise it, shape (2 n_1, n_in).

    Over a box, interval bounds of the first layer are attained exactly at these corners.

    Examples
    --------
    >>> net = Network([(np.array([[1.0, -1.0]]), np.zeros(1), "relu"),
    ...                (np.ones((1, 1)), np.zeros(1), "identity")])
    >>> box_corners(net, Box(0.0, 1.0, dim=2))
    array([[1., 0.],
           [0., 1.]])
    """
    w = net.layers[0].weight
    up = np.where(w > 0, box.hi, box.lo)
    down = np.where(w > 0, box.lo, box.hi)
    return np.vstack([up, down])


def unit_gradients(net: Network, x: np.ndarray, layer: int, units: np.ndarray) -> np.ndarray:
    """Gradient with respect to ``x[k]`` of pre-activation ``units[k]`` of ``layer``, shape (n, n_in).

    Examples
    --------
    >>> net = Network.random([3, 4, 2, 1], seed=0)
    >>> x = np.random.default_rng(1).normal(size=(2, 3))
    >>> g = unit_gradients(net, x, 1, np.array([0, 1]))
    >>> A, _ = Network(net.layers[:2]).local_affine(x)   # layer-1 pre-activations are the outputs
    >>> bool(np.allclose(g, A[np.arange(2), [0, 1]]))
    True
    """
    pre = net.preactivations(x)
    v = net.layers[layer].weight[units]
    for k in range(layer - 1, -1, -1):
        act = net.layers[k].activation
        v = v * act.slopes[act.piece(pre[k])]
        v = v @ net.layers[k].weight
    return v


def gradient_search(
    net: Network, box: Box, layer: int, units: np.ndarray, signs: np.ndarray,
    starts: np.ndarray, steps: int = 30,
) -> np.ndarray:
    """Projected sign-gradient ascent of ``signs[k] * g_units[k](x)`` from ``starts[k]`` over the box.

    Returns every iterate (the caller records them as witnesses), shape (steps * n, n_in).

    Examples
    --------
    >>> net = Network([(np.array([[1.0, 1.0]]), np.array([-1.5]), "relu"),
    ...                (np.ones((1, 1)), np.zeros(1), "identity")])
    >>> pts = gradient_search(net, Box(0.0, 1.0, dim=2), 0, np.array([0]), np.array([1.0]),
    ...                       np.zeros((1, 2)), steps=5)
    >>> float((pts @ [1.0, 1.0] - 1.5).max()) > 0      # the unit is pushed on
    True
    """
    x = np.array(starts, dtype=np.float64)
    width = box.hi - box.lo
    out = []
    for t in range(steps):
        alpha = 0.5 * (0.02 / 0.5) ** (t / max(steps - 1, 1))   # geometric 0.5 -> 0.02 of the width
        g = unit_gradients(net, x, layer, units) * signs[:, None]
        x = np.clip(x + alpha * width * np.sign(g), box.lo, box.hi)
        out.append(x.copy())
    return np.vstack(out)


def contained(domain: Box | Polytope, x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` inside the domain (clipped to a box first, so solver round-off is harmless)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    box = domain if isinstance(domain, Box) else domain.box
    if box is not None and x.shape[0]:
        out = (x < box.lo) | (x > box.hi)
        rows = np.flatnonzero(out.any(axis=1))
        if rows.size:
            x = x.copy()
            x[rows] = np.clip(x[rows], box.lo, box.hi)
    if isinstance(domain, Box):
        return x
    return x[domain.contains(x, tol=0.0)]


def as_data(data: Any, n_in: int) -> np.ndarray | None:
    """Validate optional data points (n_points, n_in)."""
    if data is None:
        return None
    from ._validation import as_points

    arr, _ = as_points(data, n_in, name="data")
    return arr
