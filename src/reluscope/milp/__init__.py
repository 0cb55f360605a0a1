"""Mixed-integer linear programming on networks: encode, optimise, count and bound regions.

* :func:`encode` -- the exact MILP of a network over a bounded domain (Serra,
  Tjandraatmadja & Ramalingam, ICML 2018), as a solver-neutral model that becomes a
  SCIP (``pyscipopt``) or HiGHS (``highspy``) model; :meth:`Encoding.maximize`.
* :func:`count_regions`, :func:`list_regions` -- exact counts and lists of the
  full-dimensional activation regions in the domain (SCIP's solution counting).
* :func:`approx_count` -- a probabilistic lower bound from random parity
  constraints (Serra & Ramalingam, AAAI 2020, MIPBound).
* :func:`weight_bound` -- an upper bound that uses the weights, the domain and
  the ranks of the weight matrices.

Examples
--------
>>> from reluscope import Box, Network, milp
>>> net = Network.random([2, 6, 1], seed=0)
>>> milp.count_regions(net, Box(-1.0, 1.0, dim=2)).count
8
"""

from __future__ import annotations

from ._approx import ApproxCount, approx_count
from ._backends import HighsModel, ScipModel
from ._count import RegionCount, RegionList, count_regions, list_regions
from ._encode import Encoding, OptimizationResult, encode
from ._formulation import Formulation, LayerVars
from ._weight_bound import WeightBound, weight_bound

__all__ = [
    "encode",
    "Encoding",
    "OptimizationResult",
    "Formulation",
    "LayerVars",
    "ScipModel",
    "HighsModel",
    "count_regions",
    "list_regions",
    "RegionCount",
    "RegionList",
    "approx_count",
    "ApproxCount",
    "weight_bound",
    "WeightBound",
]
