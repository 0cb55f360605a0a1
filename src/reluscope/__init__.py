"""reluscope: ReLU networks as the piecewise-linear functions they are.

Build networks exactly (:mod:`reluscope.build`), see their linear and activation
regions (:mod:`reluscope.regions`), bound and count them (:mod:`reluscope.bounds`,
:mod:`reluscope.milp`), and shrink them without changing the function they compute
(:func:`reluscope.stability`, :func:`reluscope.compress`, :func:`reluscope.equivalent`).

Everything is lowered to one canonical form, :class:`Network`.

Examples
--------
>>> import numpy as np, reluscope as rs
>>> net = rs.Network.random([2, 8, 8, 1], seed=0)
>>> net.widths
(2, 8, 8, 1)
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import (
    ClaimNotReproducedError,
    DomainError,
    InvalidParameterError,
    LargeLayerWarning,
    MissingDependencyError,
    ModelFileError,
    NonFiniteError,
    PartialResultWarning,
    ReluscopeError,
    ReluscopeWarning,
    ShapeError,
    SolverError,
    StrippedLayerWarning,
    UnsupportedLayerError,
)
from .activations import Abs, Activation, HardTanh, Identity, LeakyReLU, ReLU
from .algebra import add, compose, pad_depth, parallel, scale, stack
from .domains import Box, Polytope
from .network import Layer, Network

__version__ = "0.1.0"

# Submodules and functions that pull in more code are imported on first use, so that
# ``import reluscope`` stays light and works without the optional extras.
_LAZY_MODULES = {"regions", "bounds", "milp", "build", "io", "experiments", "plotting", "train", "report"}
_LAZY_ATTRS = {
    "stability": ("reluscope.stability", "stability"),
    "compress": ("reluscope.compress", "compress"),
    "equivalent": ("reluscope.compress", "equivalent"),
    "load": ("reluscope.io", "load"),
    "save": ("reluscope.io", "save"),
}

__all__ = [
    "Network",
    "Layer",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "HardTanh",
    "Abs",
    "Identity",
    "Box",
    "Polytope",
    "compose",
    "parallel",
    "stack",
    "add",
    "scale",
    "pad_depth",
    "load",
    "save",
    "stability",
    "compress",
    "equivalent",
    "regions",
    "bounds",
    "milp",
    "build",
    "io",
    "ReluscopeError",
    "InvalidParameterError",
    "ShapeError",
    "NonFiniteError",
    "UnsupportedLayerError",
    "ModelFileError",
    "DomainError",
    "SolverError",
    "MissingDependencyError",
    "ClaimNotReproducedError",
    "ReluscopeWarning",
    "LargeLayerWarning",
    "StrippedLayerWarning",
    "PartialResultWarning",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"reluscope.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        mod, attr = _LAZY_ATTRS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reluscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
