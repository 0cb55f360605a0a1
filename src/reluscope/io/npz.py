"""reluscope's own format: a NumPy ``.npz`` archive, never pickled.

Layout (format version 1): ``format`` (the string ``"reluscope"``), ``version``
(int), ``n_layers`` (int), per layer ``W{i}``, ``b{i}`` (float64),
``act{i}`` (activation name) and ``actp{i}`` (its float parameters), and
``metadata`` (a JSON string). Loading uses ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._errors import ModelFileError, ReluscopeError
from ..activations import activation_from_spec
from ..network import Network

__all__ = ["save_npz", "load_npz", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def save_npz(net: Network, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` (``.npz``) atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.npz"
    >>> net = Network.random([2, 3, 1], seed=0)
    >>> save_npz(net, p)
    >>> load_npz(p) == net
    True
    """
    arrays: dict[str, Any] = {
        "format": np.array("reluscope"),
        "version": np.array(FORMAT_VERSION),
        "n_layers": np.array(net.depth),
        "metadata": np.array(json.dumps(net.metadata, default=str)),
    }
    for i, layer in enumerate(net.layers):
        arrays[f"W{i}"] = layer.weight
        arrays[f"b{i}"] = layer.bias
        arrays[f"act{i}"] = np.array(layer.activation.name)
        arrays[f"actp{i}"] = np.array(layer.activation.params(), dtype=np.float64)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_npz(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`save_npz` (no pickle is ever loaded)."""
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != "reluscope":
                raise ModelFileError(
                    f"{os.fspath(path)!r} is an .npz file but not a reluscope network "
                    "(no 'format' = 'reluscope' entry)."
                )
            version = int(data["version"])
            if version > FORMAT_VERSION:
                raise ModelFileError(
                    f"{os.fspath(path)!r} has format version {version}; this reluscope reads "
                    f"up to {FORMAT_VERSION}. Upgrade reluscope."
                )
            layers = []
            for i in range(int(data["n_layers"])):
                act = activation_from_spec(
                    {"name": str(data[f"act{i}"]), "params": data[f"actp{i}"].tolist()}
                )
                layers.append((data[f"W{i}"], data[f"b{i}"], act))
            meta = json.loads(str(data["metadata"]))
    except ReluscopeError:
        raise
    except FileNotFoundError as exc:
        raise ModelFileError(f"No such model file: {os.fspath(path)!r}.") from exc
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(
            f"Could not read {os.fspath(path)!r} as a reluscope .npz network: {exc}. "
            "The file may be truncated or corrupt."
        ) from exc
    try:
        return Network(layers, metadata=meta)
    except ReluscopeError as exc:
        raise ModelFileError(f"{os.fspath(path)!r} holds an invalid network: {exc}") from exc
