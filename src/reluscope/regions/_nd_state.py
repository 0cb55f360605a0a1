"""The state of the n-D region walk: growing buffers, and checkpoints on disk.

A checkpoint is one ``.npz`` file (no pickled objects) written atomically
(:func:`reluscope._atomic.atomic_path`), so an interrupted write never leaves a
half-written file, and a fingerprint of the network, domain and options, so a
checkpoint is never resumed for a different problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._errors import InvalidParameterError
from ..network import Network

__all__ = ["WalkState", "fingerprint", "write_checkpoint", "read_checkpoint"]

_FORMAT = "reluscope.regions.nd/1"


def fingerprint(net: Network, domain_rows: tuple[np.ndarray, np.ndarray], **options: Any) -> str:
    """SHA-256 of everything the walk's result depends on."""
    hsh = hashlib.sha256()
    for layer in net.layers:
        hsh.update(np.ascontiguousarray(layer.weight).tobytes())
        hsh.update(np.ascontiguousarray(layer.bias).tobytes())
        hsh.update(json.dumps(layer.activation.spec(), sort_keys=True).encode())
    for arr in domain_rows:
        hsh.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    hsh.update(json.dumps(options, sort_keys=True, default=str).encode())
    return hsh.hexdigest()


class _Buffer:
    """An append-only array that doubles its capacity."""

    def __init__(self, shape: tuple[int, ...], dtype: Any):
        self.data = np.zeros((64,) + shape, dtype=dtype)
        self.size = 0

    def extend(self, rows: np.ndarray) -> None:
        k = rows.shape[0]
        if self.size + k > self.data.shape[0]:
            cap = max(2 * self.data.shape[0], self.size + k)
            grown = np.zeros((cap,) + self.data.shape[1:], dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : self.size + k] = rows
        self.size += k

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class WalkState:
    """Discovered patterns (processed in discovery order: breadth-first) and results so far.

    Region ids are discovery ids. ``status`` is 0 (pending), 1 (a region) or 2
    (discarded: empty or thinner than the tolerance). Ids below ``head`` are processed.
    """

    _REGION = ("reg_id", "centres", "radii", "A_out", "c_out")
    _FACET = ("f_reg", "f_A", "f_b", "f_unit", "f_nb")

    def __init__(self, n_units: int, n_in: int, n_out: int):
        self.patterns = _Buffer((n_units,), np.int8)
        self.seeds = _Buffer((n_in,), np.float64)
        self.status = _Buffer((), np.int8)
        self.head = 0
        self.index: dict[bytes, int] = {}
        shapes = {
            "reg_id": ((), np.int64), "centres": ((n_in,), np.float64), "radii": ((), np.float64),
            "A_out": ((n_out, n_in), np.float64), "c_out": ((n_out,), np.float64),
            "f_reg": ((), np.int64), "f_A": ((n_in,), np.float64), "f_b": ((), np.float64),
            "f_unit": ((), np.int64), "f_nb": ((), np.int64),
        }
        self.out = {k: _Buffer(*v) for k, v in shapes.items()}

    @property
    def n_found(self) -> int:
        return self.patterns.size

    @property
    def n_regions(self) -> int:
        return self.out["reg_id"].size

    def add_patterns(self, keys: list[bytes], patterns: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Ids of the patterns (``keys`` unique), registering unseen ones as pending."""
        ids = np.empty(len(keys), dtype=np.int64)
        new = []
        for j, key in enumerate(keys):
            i = self.index.get(key)
            if i is None:
                i = self.index[key] = self.patterns.size + len(new)
                new.append(j)
            ids[j] = i
        if new:
            self.patterns.extend(patterns[new])
            self.seeds.extend(seeds[new])
            self.status.extend(np.zeros(len(new), dtype=np.int8))
        return ids

    def record(self, **arrays: np.ndarray) -> None:
        """Append processed regions' and facets' arrays (names as in ``_REGION``, ``_FACET``)."""
        for k, v in arrays.items():
            self.out[k].extend(v)

    # ---------------------------------------------------------------- disk
    def save(self, path: str | os.PathLike, fp: str) -> None:
        """Write the state atomically to ``path`` (``.npz`` content)."""
        arrays = {k: b.view() for k, b in self.out.items()}
        arrays.update(head=np.array(self.head), patterns=self.patterns.view(), seeds=self.seeds.view(),
                      status=self.status.view())
        write_checkpoint(path, _FORMAT, fp, arrays)

    def load(self, path: str | os.PathLike, fp: str) -> bool:
        """Resume from ``path`` if it exists; False when there is no such file."""
        data = read_checkpoint(path, _FORMAT, fp, "region-walk")
        if data is None:
            return False
        self.head = int(data["head"])
        self.patterns.extend(data["patterns"])
        self.seeds.extend(data["seeds"])
        self.status.extend(data["status"])
        from ._nd_result import pattern_keys

        self.index = {k: i for i, k in enumerate(pattern_keys(self.patterns.view()))}
        for k in self.out:
            self.out[k].extend(data[k])
        return True


def write_checkpoint(path: str | os.PathLike, fmt: str, fp: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` with the format tag and fingerprint to ``path``, atomically (``.npz``)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, format=np.array(fmt), fingerprint=np.array(fp), **arrays)


def read_checkpoint(path: str | os.PathLike, fmt: str, fp: str, what: str) -> dict[str, np.ndarray] | None:
    """The arrays of the checkpoint at ``path`` (None if there is no file), after checking that it
    is a ``fmt`` checkpoint of the same problem (fingerprint ``fp``); ``what`` names it in errors."""
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidParameterError(
            f"'checkpoint' file {os.fspath(path)!r} cannot be read as a {what} "
            f"checkpoint ({exc}); delete it or pass another path."
        ) from exc
    if str(data.get("format", "")) != fmt or str(data.get("fingerprint", "")) != fp:
        raise InvalidParameterError(
            f"'checkpoint' file {os.fspath(path)!r} was written for a different network, "
            "domain or options; delete it or pass another path."
        )
    return data
