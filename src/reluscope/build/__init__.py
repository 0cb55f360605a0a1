"""Hand-built ReLU networks: exact constructions at the best known size.

Every builder returns a :class:`~reluscope.Network` in canonical form (ReLU
hidden layers, a linear last layer) and records its size in
``net.metadata``: ``units`` (hidden ReLUs), ``hidden_layers``, ``max_width``,
``best_known`` (the best size known for the task, with its source) and
``reference``. ``docs/constructions.md`` tabulates the sizes and explains the
cost models.

========================  ================================================================
1-D PWL                   :func:`interpolate`, :func:`approximate`
primitives                :func:`relu`, :func:`abs`, :func:`max2`, :func:`min2`,
                          :func:`clip`, :func:`hat`, :func:`bucket`, :func:`step`,
                          :func:`leaky_relu`
sorting and selection     :func:`sort`, :func:`median`, :func:`rank_k`, :func:`maximum`,
                          :func:`minimum`, :func:`sorting_network`,
                          :class:`ComparatorNetwork`, :func:`compile_comparators`
depth                     :func:`sawtooth`, :func:`shallow_sawtooth`, :func:`square`,
                          :func:`multiply`, :func:`depth_vs_width`
plane                     :func:`polygon`, :func:`shape`, :func:`lattice`, :func:`logo`,
                          :func:`convex_decomposition`
========================  ================================================================

Examples
--------
>>> import numpy as np
>>> from reluscope import build
>>> net = build.sort(4)
>>> net(np.array([3.0, 1.0, 2.0, 0.0]))
array([0., 1., 2., 3.])
>>> net.metadata["units"], net.metadata["hidden_layers"]
(24, 3)
"""

from __future__ import annotations

from ._comparators import ComparatorNetwork
from ._depth import DepthWidthRow, depth_vs_width, multiply, sawtooth, sawtooth_breakpoints, shallow_sawtooth, square
from ._lattice import lattice
from ._primitives import abs, bucket, clip, hat, leaky_relu, max2, min2, relu, step
from ._pwl1d import PWLApproximation, approximate, interpolate
from ._shapes import LOGO, convex_decomposition, logo, polygon, shape
from ._sorting import (
    ReluCost,
    comparator_cost,
    compile_comparators,
    maximum,
    median,
    minimum,
    rank_k,
    sort,
    sorting_network,
)

__all__ = [
    # 1-D
    "interpolate",
    "approximate",
    "PWLApproximation",
    # primitives
    "relu",
    "abs",
    "max2",
    "min2",
    "clip",
    "hat",
    "bucket",
    "step",
    "leaky_relu",
    # sorting and selection
    "ComparatorNetwork",
    "ReluCost",
    "sorting_network",
    "comparator_cost",
    "compile_comparators",
    "sort",
    "median",
    "rank_k",
    "maximum",
    "minimum",
    # depth
    "sawtooth",
    "sawtooth_breakpoints",
    "shallow_sawtooth",
    "square",
    "multiply",
    "DepthWidthRow",
    "depth_vs_width",
    # plane
    "polygon",
    "shape",
    "lattice",
    "logo",
    "LOGO",
    "convex_decomposition",
]
