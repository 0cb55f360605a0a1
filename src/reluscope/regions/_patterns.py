"""Packed activation patterns: bit planes, hashing, and lookup of points by pattern.

A pattern is one piece index per unit. It is stored as ``n_bits`` bit planes
(``n_bits = 1`` for ReLU-like activations, 2 when some unit has 3 pieces), each
packed 8 units per byte, so that a million regions of a few hundred units fit in
tens of megabytes and patterns hash as bytes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pack", "unpack", "PatternIndex"]


def pack(patterns: np.ndarray, n_bits: int) -> np.ndarray:
    """Pack int8 patterns (n, n_units) into uint8 (n, n_bits * ceil(n_units / 8))."""
    planes = [np.packbits(((patterns >> b) & 1).astype(np.uint8), axis=1) for b in range(n_bits)]
    return np.concatenate(planes, axis=1) if planes else np.zeros((len(patterns), 0), np.uint8)


def unpack(packed: np.ndarray, n_units: int, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack`: int8 array (n, n_units)."""
    out = np.zeros((packed.shape[0], n_units), dtype=np.int8)
    width = packed.shape[1] // max(n_bits, 1) if n_bits else 0
    for b in range(n_bits):
        bits = np.unpackbits(packed[:, b * width : (b + 1) * width], axis=1, count=n_units)
        out |= (bits.astype(np.int8) << b)
    return out


def _rows_as_void(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()


class PatternIndex:
    """Map packed patterns to region indices (exact lookup by bytes)."""

    def __init__(self, packed: np.ndarray):
        self._keys = _rows_as_void(packed)
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]

    def lookup(self, packed: np.ndarray) -> np.ndarray:
        """Region index of each row of ``packed``; -1 where the pattern is unknown."""
        if len(self._sorted) == 0:
            return np.full(len(packed), -1)
        keys = _rows_as_void(packed)
        pos = np.searchsorted(self._sorted, keys)
        pos = np.minimum(pos, len(self._sorted) - 1)
        hit = self._sorted[pos] == keys
        return np.where(hit, self._order[pos], -1)


def unique_rows(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first_index, inverse)`` of the distinct rows of a packed pattern array."""
    keys = _rows_as_void(packed)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()
