"""Input domains: boxes and polytopes (shared by regions, MILP, stability, compression)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import DomainError, ShapeError
from ._validation import as_float_array, check_random_state

__all__ = ["Box", "Polytope", "as_domain"]


@dataclass(frozen=True, eq=False)
class Box:
    """The axis-aligned box ``{x : lo <= x <= hi}``.

    Parameters
    ----------
    lo, hi : array_like of shape (n,) or scalars (with ``dim``)
    dim : int, optional
        Dimension when ``lo`` and ``hi`` are scalars.

    Examples
    --------
    >>> b = Box(0.0, 1.0, dim=3)
    >>> b.dim, b.volume
    (3, 1.0)
    >>> Box([0, -1], [1, 1]).contains(np.array([[0.5, 0.0], [2.0, 0.0]]))
    array([ True, False])
    """

    lo: np.ndarray
    hi: np.ndarray

    def __init__(self, lo: Any, hi: Any, dim: int | None = None):
        lo_a = as_float_array(lo, "lo")
        hi_a = as_float_array(hi, "hi")
        if dim is not None:
            lo_a = np.broadcast_to(lo_a, (dim,)).copy()
            hi_a = np.broadcast_to(hi_a, (dim,)).copy()
        lo_a, hi_a = np.atleast_1d(lo_a), np.atleast_1d(hi_a)
        if lo_a.ndim != 1 or lo_a.shape != hi_a.shape:
            raise ShapeError(
                f"Box 'lo' and 'hi' must be 1-D of equal length; got {lo_a.shape} and {hi_a.shape}."
            )
        if np.any(lo_a > hi_a):
            i = int(np.argmax(lo_a > hi_a))
            raise DomainError(
                f"Box is empty: lo[{i}] = {lo_a[i]} > hi[{i}] = {hi_a[i]}; need lo <= hi."
            )
        lo_a.setflags(write=False)
        hi_a.setflags(write=False)
        object.__setattr__(self, "lo", lo_a)
        object.__setattr__(self, "hi", hi_a)

    @property
    def dim(self) -> int:
        return int(self.lo.shape[0])

    @property
    def volume(self) -> float:
        return float(np.prod(self.hi - self.lo))

    @property
    def center(self) -> np.ndarray:
        return (self.lo + self.hi) / 2

    def contains(self, x: Any, tol: float = 0.0) -> np.ndarray:
        """Whether each point of ``x`` (shape (n_points, dim)) lies in the box."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return np.all((x >= self.lo - tol) & (x <= self.hi + tol), axis=1)

    def sample(self, n: int, seed: Any = None) -> np.ndarray:
        """``n`` uniform random points, shape (n, dim)."""
        rng = check_random_state(seed)
        return rng.uniform(self.lo, self.hi, size=(n, self.dim))

    def halfspaces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, b)`` with the box written as ``A x <= b``."""
        eye = np.eye(self.dim)
        return np.vstack([eye, -eye]), np.concatenate([self.hi, -self.lo])

    def widened(self, margin: float) -> Box:
        """The box grown by ``margin`` times its width on every side."""
        w = (self.hi - self.lo) * margin
        return Box(self.lo - w, self.hi + w)

    @classmethod
    def of_data(cls, x: Any, margin: float = 0.0) -> Box:
        """The bounding box of data points ``x`` (n_points, dim), optionally widened.

        Examples
        --------
        >>> Box.of_data([[0.0, 1.0], [2.0, 3.0]]).hi
        array([2., 3.])
        """
        x = as_float_array(x, "x", ndim=2)
        if x.shape[0] == 0:
            raise DomainError("Cannot take the box of zero data points.")
        return cls(x.min(axis=0), x.max(axis=0)).widened(margin)

    def __repr__(self) -> str:
        if np.all(self.lo == self.lo[0]) and np.all(self.hi == self.hi[0]):
            return f"Box({self.lo[0]:g}, {self.hi[0]:g}, dim={self.dim})"
        return f"Box(lo={self.lo.tolist()}, hi={self.hi.tolist()})"


@dataclass(frozen=True, eq=False)
class Polytope:
    """The polyhedron ``{x : A x <= b}``, optionally intersected with a bounding box.

    Parameters
    ----------
    A : array_like of shape (m, n)
    b : array_like of shape (m,)
    box : Box, optional
        Explicit bounds; needed by methods that require a bounded domain
        (MILP, stability). When omitted, :meth:`bounding_box` computes one by LP.

    Examples
    --------
    >>> tri = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    >>> tri.bounding_box().hi
    array([1., 1.])
    """

    A: np.ndarray
    b: np.ndarray
    box: Box | None = None

    def __init__(self, A: Any, b: Any, box: Box | None = None):
        A_a = as_float_array(A, "A", ndim=2)
        b_a = as_float_array(b, "b", ndim=1)
        if A_a.shape[0] != b_a.shape[0]:
            raise ShapeError(f"Polytope 'A' has {A_a.shape[0]} rows but 'b' has {b_a.shape[0]}.")
        if box is not None and box.dim != A_a.shape[1]:
            raise ShapeError(f"Polytope 'box' has dim {box.dim}; 'A' has {A_a.shape[1]} columns.")
        object.__setattr__(self, "A", A_a)
        object.__setattr__(self, "b", b_a)
        object.__setattr__(self, "box", box)

    @property
    def dim(self) -> int:
        return int(self.A.shape[1])

    def halfspaces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, b)`` including the optional box."""
        if self.box is None:
            return self.A, self.b
        Ab, bb = self.box.halfspaces()
        return np.vstack([self.A, Ab]), np.concatenate([self.b, bb])

    def contains(self, x: Any, tol: float = 1e-12) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        A, b = self.halfspaces()
        return np.all(x @ A.T <= b + tol, axis=1)

    def bounding_box(self) -> Box:
        """The tightest box around the polytope (2n LPs); errors if empty or unbounded."""
        from scipy.optimize import linprog

        A, b = self.halfspaces()
        n = self.dim
        lo, hi = np.empty(n), np.empty(n)
        for i in range(n):
            for sign, out in ((1.0, lo), (-1.0, hi)):
                c = np.zeros(n)
                c[i] = sign
                res = linprog(c, A_ub=A, b_ub=b, bounds=[(None, None)] * n, method="highs")
                if res.status == 2:
                    raise DomainError("The polytope {x : A x <= b} is empty.")
                if res.status == 3:
                    raise DomainError(
                        f"The polytope is unbounded along coordinate {i}; bounds, MILP and "
                        "stability need a bounded domain (add a 'box')."
                    )
                out[i] = sign * res.fun
        return Box(lo, hi)


def as_domain(domain: Any, dim: int, *, bounded: bool = False) -> Box | Polytope | None:
    """Check a domain argument: ``None`` (all of R^n), a :class:`Box`, a :class:`Polytope`,
    or a ``(lo, hi)`` pair.

    Parameters
    ----------
    domain : None, Box, Polytope or (lo, hi)
    dim : int
        The network's input dimension.
    bounded : bool
        Refuse ``None`` and unbounded polytopes (bounds and MILP need finite big-M).
    """
    if domain is None:
        if bounded:
            raise DomainError(
                "'domain' must be bounded (a Box or a bounded Polytope): big-M constants and "
                "interval bounds are finite only on a bounded input set. Got None (all of R^n)."
            )
        return None
    if isinstance(domain, tuple) and len(domain) == 2:
        domain = Box(domain[0], domain[1], dim=dim if np.ndim(domain[0]) == 0 else None)
    if not isinstance(domain, (Box, Polytope)):
        raise DomainError(f"'domain' must be None, a Box or a Polytope; got {type(domain).__name__}.")
    if domain.dim != dim:
        raise ShapeError(f"'domain' has dimension {domain.dim} but the network takes {dim} inputs.")
    if bounded and isinstance(domain, Polytope) and domain.box is None:
        domain.bounding_box()  # raises DomainError when unbounded or empty
    return domain
