"""Importing the optional heavy dependencies (torch, onnx, scikit-learn) on demand."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import MissingDependencyError

__all__ = ["MissingDependencyError", "require"]


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the pip extra.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"torch"``.
    extra : str
        The ``reluscope[extra]`` that installs it.
    purpose : str
        What it is needed for, for the message.

    Examples
    --------
    >>> require("json", "none", "testing").__name__
    'json'
    >>> require("no_such_module_xyz", "torch", "reading .pt files")
    Traceback (most recent call last):
    ...
    reluscope._errors.MissingDependencyError: reading .pt files needs ... pip install reluscope[torch]
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install reluscope[{extra}]"
        ) from exc
