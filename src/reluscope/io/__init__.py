"""Reading and writing networks: reluscope's ``.npz``, ONNX, PyTorch, scikit-learn.

:func:`load` and :func:`save` dispatch on the file extension. PyTorch files are
read with ``torch.load(weights_only=True)``; user data is never unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._errors import ModelFileError
from ..network import Network
from .npz import load_npz, save_npz
from .onnx import from_onnx, to_onnx
from .sklearn import from_sklearn
from .torch import from_torch, load_state_dict, save_state_dict, to_torch

__all__ = [
    "load",
    "save",
    "load_npz",
    "save_npz",
    "from_torch",
    "to_torch",
    "save_state_dict",
    "load_state_dict",
    "from_onnx",
    "to_onnx",
    "from_sklearn",
    "SUFFIXES",
]

SUFFIXES = (".npz", ".onnx", ".pt", ".pth")


def _suffix(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelFileError(
            f"Unknown model file type {suffix or '(none)'!r} for {os.fspath(path)!r}; "
            f"expected one of {', '.join(SUFFIXES)}."
        )
    return suffix


def load(path: str | os.PathLike, **kwargs: Any) -> Network:
    """Load a network from ``.npz``, ``.onnx`` or a ``.pt``/``.pth`` state dict.

    Parameters
    ----------
    path : path-like
    **kwargs
        Passed to the format's reader (e.g. ``architecture=`` for state dicts).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.npz"
    >>> Network.random([2, 3, 1], seed=0).save(p)
    >>> load(p).widths
    (2, 3, 1)
    """
    suffix = _suffix(path)
    if not Path(path).is_file():
        raise ModelFileError(f"No such model file: {os.fspath(path)!r}.")
    if suffix == ".npz":
        return load_npz(path)
    if suffix == ".onnx":
        return from_onnx(path, **kwargs)
    return load_state_dict(path, **kwargs)


def save(net: Network, path: str | os.PathLike) -> None:
    """Save a network as ``.npz``, ``.onnx`` or ``.pt`` (a torch state dict), atomically."""
    suffix = _suffix(path)
    if suffix == ".npz":
        save_npz(net, path)
    elif suffix == ".onnx":
        to_onnx(net, path)
    else:
        save_state_dict(net, path)
