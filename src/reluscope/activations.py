"""Elementwise piecewise-linear activations.

Each activation is a continuous piecewise-linear map ``R -> R`` given by its
sorted breakpoints and, per piece, a slope and an intercept: on piece ``k``
(between breakpoints ``k-1`` and ``k``) it is ``slope[k] * z + intercept[k]``.
The *piece index* of a pre-activation ``z`` is the number of breakpoints
strictly below ``z``, so a ReLU unit is "on" (piece 1) exactly when ``z > 0``.
This is what an activation pattern records per unit (DESIGN §1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import InvalidParameterError

__all__ = [
    "Activation",
    "ReLU",
    "LeakyReLU",
    "HardTanh",
    "Abs",
    "Identity",
    "activation_from_spec",
]


@dataclass(frozen=True)
class Activation:
    """Base class: a continuous piecewise-linear scalar function.

    Subclasses define :attr:`breakpoints`, :attr:`slopes` and :attr:`intercepts`.
    """

    name: str = field(init=False, default="activation")

    @property
    def breakpoints(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def slopes(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def intercepts(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def n_pieces(self) -> int:
        """Number of linear pieces (``len(breakpoints) + 1``)."""
        return len(self.breakpoints) + 1

    @property
    def is_linear(self) -> bool:
        """True for an activation with one piece (it never splits a region)."""
        return self.n_pieces == 1

    def params(self) -> tuple[float, ...]:
        """Numeric parameters, in the order the constructor takes them."""
        return ()

    def piece(self, z: np.ndarray) -> np.ndarray:
        """Piece index of each entry of ``z`` (int8, same shape as ``z``)."""
        z = np.asarray(z, dtype=np.float64)
        if self.n_pieces == 1:
            return np.zeros(z.shape, dtype=np.int8)
        return np.searchsorted(self.breakpoints, z, side="left").astype(np.int8)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Apply the activation elementwise."""
        z = np.asarray(z, dtype=np.float64)
        k = self.piece(z)
        return self.slopes[k] * z + self.intercepts[k]

    def spec(self) -> dict[str, Any]:
        """A JSON-serialisable description, inverse of :func:`activation_from_spec`."""
        return {"name": self.name, "params": list(self.params())}

    def __repr__(self) -> str:
        args = ", ".join(repr(p) for p in self.params())
        return f"{type(self).__name__}({args})"


_ZERO = np.zeros(1)


@dataclass(frozen=True, repr=False)
class ReLU(Activation):
    """``max(0, z)``: pieces off (0) and on (1).

    Examples
    --------
    >>> ReLU()(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    >>> ReLU().piece(np.array([-1.0, 0.0, 2.0]))
    array([0, 0, 1], dtype=int8)
    """

    name: str = field(init=False, default="relu")

    @property
    def breakpoints(self) -> np.ndarray:
        return _ZERO

    @property
    def slopes(self) -> np.ndarray:
        return np.array([0.0, 1.0])

    @property
    def intercepts(self) -> np.ndarray:
        return np.zeros(2)


@dataclass(frozen=True, repr=False)
class LeakyReLU(Activation):
    """``z`` for ``z > 0``, ``alpha * z`` otherwise.

    Examples
    --------
    >>> LeakyReLU(0.1)(np.array([-10.0, 3.0]))
    array([-1.,  3.])
    """

    alpha: float = 0.01
    name: str = field(init=False, default="leaky_relu")

    def __post_init__(self) -> None:
        if not np.isfinite(self.alpha):
            raise InvalidParameterError(f"LeakyReLU 'alpha' must be finite; got {self.alpha!r}.")
        object.__setattr__(self, "alpha", float(self.alpha))

    @property
    def breakpoints(self) -> np.ndarray:
        return _ZERO

    @property
    def slopes(self) -> np.ndarray:
        return np.array([self.alpha, 1.0])

    @property
    def intercepts(self) -> np.ndarray:
        return np.zeros(2)

    def params(self) -> tuple[float, ...]:
        return (self.alpha,)


@dataclass(frozen=True, repr=False)
class HardTanh(Activation):
    """``clip(z, lo, hi)`` with three pieces.

    Examples
    --------
    >>> HardTanh(-1.0, 1.0)(np.array([-3.0, 0.5, 3.0]))
    array([-1. ,  0.5,  1. ])
    """

    lo: float = -1.0
    hi: float = 1.0
    name: str = field(init=False, default="hardtanh")

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo < self.hi):
            raise InvalidParameterError(
                f"HardTanh needs finite 'lo' < 'hi'; got lo={self.lo!r}, hi={self.hi!r}."
            )
        object.__setattr__(self, "lo", float(self.lo))
        object.__setattr__(self, "hi", float(self.hi))

    @property
    def breakpoints(self) -> np.ndarray:
        return np.array([self.lo, self.hi])

    @property
    def slopes(self) -> np.ndarray:
        return np.array([0.0, 1.0, 0.0])

    @property
    def intercepts(self) -> np.ndarray:
        return np.array([self.lo, 0.0, self.hi])

    def params(self) -> tuple[float, ...]:
        return (self.lo, self.hi)


@dataclass(frozen=True, repr=False)
class Abs(Activation):
    """``|z|``: pieces negative (0) and positive (1).

    Examples
    --------
    >>> Abs()(np.array([-2.0, 3.0]))
    array([2., 3.])
    """

    name: str = field(init=False, default="abs")

    @property
    def breakpoints(self) -> np.ndarray:
        return _ZERO

    @property
    def slopes(self) -> np.ndarray:
        return np.array([-1.0, 1.0])

    @property
    def intercepts(self) -> np.ndarray:
        return np.zeros(2)


@dataclass(frozen=True, repr=False)
class Identity(Activation):
    """``z`` (one piece; used for output layers and linear bottlenecks).

    Examples
    --------
    >>> Identity()(np.array([-2.0]))
    array([-2.])
    """

    name: str = field(init=False, default="identity")

    @property
    def breakpoints(self) -> np.ndarray:
        return np.zeros(0)

    @property
    def slopes(self) -> np.ndarray:
        return np.ones(1)

    @property
    def intercepts(self) -> np.ndarray:
        return np.zeros(1)


_BY_NAME: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "leakyrelu": LeakyReLU,
    "hardtanh": HardTanh,
    "abs": Abs,
    "identity": Identity,
    "linear": Identity,
}


def activation_from_spec(spec: Activation | str | dict[str, Any]) -> Activation:
    """Turn a name, a ``spec()`` dict or an :class:`Activation` into an activation.

    Parameters
    ----------
    spec : Activation, str or dict
        ``"relu"``, ``"leaky_relu"``, ``"hardtanh"``, ``"abs"``, ``"identity"``,
        or ``{"name": ..., "params": [...]}``.

    Examples
    --------
    >>> activation_from_spec("relu")
    ReLU()
    >>> activation_from_spec({"name": "leaky_relu", "params": [0.2]})
    LeakyReLU(0.2)
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        name, params = spec, []
    elif isinstance(spec, dict) and "name" in spec:
        name, params = spec["name"], list(spec.get("params", []))
    else:
        raise InvalidParameterError(
            f"'activation' must be an Activation, a name or a spec dict; got {spec!r}."
        )
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise InvalidParameterError(
            f"Unknown activation {name!r}; expected one of {sorted(set(_BY_NAME))}. "
            "Only piecewise-linear activations are supported."
        )
    return cls(*[float(p) for p in params])
