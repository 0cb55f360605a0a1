"""The exception and warning hierarchy of reluscope.

Every error reluscope raises on purpose is a :class:`ReluscopeError`. Subclasses
also inherit from the matching built-in (``ValueError``, ``TypeError``, ...) so
that callers may catch either, as scikit-learn does with ``NotFittedError``.
"""

from __future__ import annotations

__all__ = [
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
]


class ReluscopeError(Exception):
    """Root of every error raised by reluscope."""


class InvalidParameterError(ReluscopeError, ValueError):
    """A parameter has a value outside its documented range or set."""


class ShapeError(ReluscopeError, ValueError):
    """Arrays whose shapes do not fit together (weights, biases, inputs)."""


class NonFiniteError(ReluscopeError, ValueError):
    """NaN or infinite values where finite numbers are required."""


class UnsupportedLayerError(ReluscopeError, TypeError):
    """A layer or operation that is not piecewise linear, or not supported.

    Examples
    --------
    >>> from reluscope import UnsupportedLayerError
    >>> issubclass(UnsupportedLayerError, TypeError)
    True
    """


class ModelFileError(ReluscopeError, ValueError):
    """A model file that is missing, of an unknown type, truncated or corrupt."""


class DomainError(ReluscopeError, ValueError):
    """An input domain that is empty, unbounded where bounds are needed, or malformed."""


class SolverError(ReluscopeError, RuntimeError):
    """An LP/MILP solver failed or returned a status that cannot be trusted."""


class MissingDependencyError(ReluscopeError, ImportError):
    """An optional dependency (torch, onnx, matplotlib, ...) that a function needs is missing.

    Examples
    --------
    >>> issubclass(MissingDependencyError, ImportError)
    True
    """


class ClaimNotReproducedError(ReluscopeError, AssertionError):
    """A reproduction's published claim did not hold (raised after its files are written).

    Examples
    --------
    >>> issubclass(ClaimNotReproducedError, AssertionError)
    True
    """


class ReluscopeWarning(UserWarning):
    """Root of every warning issued by reluscope."""


class LargeLayerWarning(ReluscopeWarning):
    """A lowered layer (e.g. a convolution turned dense) is very large."""


class StrippedLayerWarning(ReluscopeWarning):
    """A final softmax/log-softmax was dropped on import."""


class PartialResultWarning(ReluscopeWarning):
    """A computation stopped at a cap or time limit; its result is partial."""
