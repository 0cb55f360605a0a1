"""An upper bound on the number of regions that uses the weights, the biases and the domain.

Serra, Tjandraatmadja & Ramalingam (ICML 2018, Theorem 1) bound the regions of a
ReLU network by widths alone:
``Σ_{(j_1..j_L) ∈ J} Π_l C(n_l, j_l)``, ``J = {0 <= j_l <= min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)}``.
Serra & Ramalingam (AAAI 2020, arXiv 1810.03370, §4) tighten such bounds with what
the trained parameters say about which units can be active or inactive. Here the
pre-activation bounds over the domain split each layer ``l`` into ``U_l`` units
that may switch, ``A_l`` units that are always on and the rest, always off; and
the ranks ``ρ_U = rank W^l_U``, ``ρ_A = rank W^l_A``, ``ρ_AU = rank W^l_{A∪U}`` of
the weight submatrices enter as in the rank-refined Theorem 1 (remark after
Lemma 4 of the ICLR-2018 draft). The bound is the dynamic programme

``B_l(c) = Σ_{j=0}^{min(c, ρ_U)} C(|U_l|, j) · B_{l+1}(min(c, |U_l| - j + ρ_A, ρ_AU))``,
``B_{L+1} = 1``, ``bound = B_1(n_0)``.

Why it holds (a reading of the proof of Theorem 1, re-derived here): inside a region
of layers ``< l`` whose image has dimension ``d <= c``, only the ``|U_l|`` units cut,
and their hyperplanes' normals span at most ``r = min(d, ρ_U)`` dimensions, so they
make at most ``Σ_{j<=r} C(|U_l|, j)`` pieces (Zaslavsky; Serra et al. Lemma 2).
Of those, at most ``Σ_{j <= min(r, s)} C(|U_l|, j)`` have ``s`` or fewer switching
units off (there are only that many 0/1 vectors). A piece with ``k`` switching
units on has an image of dimension at most ``min(d, k + ρ_A, ρ_AU)`` (Lemma 4),
non-decreasing in ``k``, and the bound for the later layers is non-decreasing in
the dimension, so summing over the pieces is at most pairing ``C(|U_l|, j)`` pieces
with ``k = |U_l| - j``. Since ``|U_l| + |A_l| <= n_l`` and ``ρ_U <= n_l``, every
term is at most Theorem 1's, so the bound never exceeds it; with no stable unit
and full-rank weights the two coincide.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from .._errors import UnsupportedLayerError
from ..activations import Identity, ReLU
from ..domains import Box, Polytope
from ..network import Network
from ..propagate import LayerBounds
from ._count import _check_layers
from ._encode import resolve

__all__ = ["WeightBound", "weight_bound"]


@dataclass(frozen=True)
class WeightBound:
    """Result of :func:`weight_bound`.

    Attributes
    ----------
    bound : int
        Upper bound on the number of activation regions of the first ``layers``
        hidden layers in the domain (exact integer).
    n_unstable, n_active : tuple of int
        Per hidden layer: units that may switch (``|U_l|``) and units always on (``|A_l|``).
    ranks : tuple of (int, int, int)
        Per hidden layer: ``(rank W_U, rank W_A, rank W_{A∪U})``.
    """

    bound: int
    n_unstable: tuple[int, ...]
    n_active: tuple[int, ...]
    ranks: tuple[tuple[int, int, int], ...]

    def __int__(self) -> int:
        return self.bound


def _rank(w: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(w)) if w.size else 0


def weight_bound(
    net: Network,
    domain: Box | Polytope | Any,
    layers: int | None = None,
    *,
    bounds: str | list[LayerBounds] = "linear",
) -> WeightBound:
    """Upper bound on the regions in ``domain`` from the weights, biases and ranks (module docstring).

    Parameters
    ----------
    net : Network
        ReLU (or Identity) hidden layers.
    domain : Box, Polytope or (lo, hi)
        Must be bounded and full-dimensional.
    layers : int, optional
        Bound the patterns of the first ``layers`` hidden layers (default: all).
    bounds : {"interval", "linear", "lp"} or list of LayerBounds, default "linear"
        Pre-activation bounds that decide which units are stable; tighter bounds
        give a smaller bound.

    Returns
    -------
    WeightBound

    Raises
    ------
    UnsupportedLayerError
        For hidden activations other than ReLU and Identity (the dimension argument
        needs units that output 0 when off).

    References
    ----------
    Serra, Tjandraatmadja, Ramalingam, ICML 2018, Theorem 1 and Lemmas 2-4;
    Serra & Ramalingam, AAAI 2020, §4 (activation-based bound).

    Examples
    --------
    >>> from reluscope import Box, Network
    >>> net = Network.random([2, 6, 6, 1], seed=0)
    >>> wb = weight_bound(net, Box(-1.0, 1.0, dim=2))
    >>> wb.bound, wb.n_unstable
    (121, (4, 4))
    >>> from reluscope.bounds import serra2018
    >>> serra2018(2, [6, 6])                      # widths only
    484
    """
    net, dom, lb = resolve(net, domain, bounds)
    k = _check_layers(net, layers)
    states: dict[int, int] = {net.n_in: 1}
    n_u, n_a, ranks = [], [], []
    for li in range(k):
        layer = net.layers[li]
        act = layer.activation
        if isinstance(act, ReLU):
            lo, hi = lb[li].lo, lb[li].hi
            active = lo > 0
            unstable = (lo <= 0) & (hi > 0)
        elif isinstance(act, Identity):
            active = np.ones(layer.n_out, dtype=bool)
            unstable = np.zeros(layer.n_out, dtype=bool)
        else:
            raise UnsupportedLayerError(
                f"weight_bound supports ReLU and Identity hidden layers; layer {li} has {act!r}."
            )
        w = layer.weight
        r_u, r_a, r_au = _rank(w[unstable]), _rank(w[active]), _rank(w[unstable | active])
        u = int(unstable.sum())
        new: dict[int, int] = {}
        for c, cnt in states.items():
            for j in range(min(c, r_u) + 1):
                c2 = min(c, u - j + r_a, r_au)
                new[c2] = new.get(c2, 0) + cnt * comb(u, j)
        states = new
        n_u.append(u)
        n_a.append(int(active.sum()))
        ranks.append((r_u, r_a, r_au))
    return WeightBound(sum(states.values()), tuple(n_u), tuple(n_a), tuple(ranks))
