"""Comparator networks: the data structure, the 0-1 principle checker, liveness pruning.

A comparator ``(i, j)`` puts ``min`` on wire ``i`` and ``max`` on wire ``j``; a
network is in standard form when ``i < j`` for every comparator (Knuth TAOCP
vol. 3 §5.3.4). Non-standard comparators are allowed (some classical median
networks use them). The ReLU compiler that
turns a :class:`ComparatorNetwork` into a :class:`~reluscope.Network` lives in
:mod:`reluscope.build._sorting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, ShapeError
from .._validation import as_float_array

__all__ = ["ComparatorNetwork"]

_MAX_01_WIRES = 24
_CHUNK_BITS = 16


@dataclass(frozen=True)
class ComparatorNetwork:
    """A comparator network on ``n`` wires, in standard form.

    Parameters
    ----------
    n : int
        Number of wires (inputs).
    comparators : sequence of (int, int)
        Comparators in the order they are applied; ``(i, j)`` with ``i != j`` in
        ``[0, n)`` sends ``min`` to wire ``i`` and ``max`` to wire ``j``.
    outputs : sequence of int, optional
        The wires that are read out, in order; ``None`` (default) reads all wires
        (a sorting network). A selection network (median, rank) reads a few.
    name : str, optional
        Where the network comes from (e.g. ``"batcher"``).

    Attributes
    ----------
    size : int
        Number of comparators.
    depth : int
        Number of parallel comparator layers (ASAP layering).

    Examples
    --------
    >>> cn = ComparatorNetwork(3, [(0, 2), (0, 1), (1, 2)])
    >>> cn.size, cn.depth, cn.is_sorting()
    (3, 3, True)
    >>> cn.apply(np.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.])
    >>> ComparatorNetwork(3, [(0, 1), (1, 2)]).is_sorting()
    False
    """

    n: int
    comparators: tuple[tuple[int, int], ...]
    outputs: tuple[int, ...] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise InvalidParameterError(f"'n' must be an integer >= 1; got {self.n!r}.")
        comps = []
        for k, c in enumerate(self.comparators):
            try:
                i, j = (int(v) for v in c)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"comparator {k} must be a pair of wire indices; got {c!r}."
                ) from exc
            if not (0 <= i < self.n and 0 <= j < self.n and i != j):
                raise InvalidParameterError(
                    f"comparator {k} must be two distinct wires in [0, n) = [0, {self.n}); got {(i, j)}."
                )
            comps.append((i, j))
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "comparators", tuple(comps))
        if self.outputs is not None:
            outs = tuple(int(w) for w in self.outputs)
            bad = [w for w in outs if not 0 <= w < self.n]
            if bad or not outs:
                raise InvalidParameterError(
                    f"'outputs' must be a non-empty list of wires in [0, {self.n}); got {self.outputs!r}."
                )
            object.__setattr__(self, "outputs", outs)

    # ------------------------------------------------------------------ structure
    @property
    def size(self) -> int:
        """Number of comparators."""
        return len(self.comparators)

    @property
    def depth(self) -> int:
        """Number of comparator layers (longest chain of dependent comparators)."""
        return len(self.layers())

    @property
    def output_wires(self) -> tuple[int, ...]:
        """The wires read out (all wires for a sorting network)."""
        return tuple(range(self.n)) if self.outputs is None else self.outputs

    def layers(self, schedule: str = "asap") -> tuple[tuple[tuple[int, int], ...], ...]:
        """Group the comparators into parallel layers (disjoint wires in each layer).

        Parameters
        ----------
        schedule : {"asap", "alap"}
            ``"asap"`` puts each comparator in the earliest layer after the last
            comparator that touches one of its wires; ``"alap"`` in the latest
            layer before the next one. Both give :attr:`depth` layers.

        Returns
        -------
        tuple of layers, each a tuple of comparators in their original order

        Examples
        --------
        >>> ComparatorNetwork(4, [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)]).layers()
        (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((1, 2),))
        """
        if schedule not in ("asap", "alap"):
            raise InvalidParameterError(f"'schedule' must be 'asap' or 'alap'; got {schedule!r}.")
        comps = self.comparators
        order = range(len(comps)) if schedule == "asap" else range(len(comps) - 1, -1, -1)
        ready = np.zeros(self.n, dtype=np.intp)
        level = np.zeros(len(comps), dtype=np.intp)
        for k in order:
            i, j = comps[k]
            lv = max(ready[i], ready[j])
            level[k] = lv
            ready[i] = ready[j] = lv + 1
        depth = int(level.max()) + 1 if len(comps) else 0
        if schedule == "alap":
            level = depth - 1 - level
        return tuple(tuple(comps[k] for k in range(len(comps)) if level[k] == d) for d in range(depth))

    # ------------------------------------------------------------------ semantics
    def apply(self, x: Any) -> np.ndarray:
        """Run the network on real inputs (NumPy min/max; the reference semantics).

        Parameters
        ----------
        x : array_like of shape (n,) or (n_points, n)

        Returns
        -------
        ndarray of shape (len(output_wires),) or (n_points, len(output_wires))

        Examples
        --------
        >>> ComparatorNetwork(3, [(0, 1), (1, 2)]).apply(np.array([[3.0, 2.0, 1.0]]))
        array([[2., 1., 3.]])
        """
        v = as_float_array(x, "x")
        single = v.ndim == 1
        v = np.atleast_2d(v).copy()
        if v.ndim != 2 or v.shape[1] != self.n:
            raise ShapeError(f"'x' must have shape ({self.n},) or (n_points, {self.n}); got {np.shape(x)}.")
        for i, j in self.comparators:
            a, b = v[:, i].copy(), v[:, j]
            v[:, i] = np.minimum(a, b)
            v[:, j] = np.maximum(a, b)
        out = v[:, list(self.output_wires)]
        return out[0] if single else out

    def is_sorting(self) -> bool:
        """Whether every output wire ``k`` always holds the ``k``-th smallest input.

        For a sorting network (``outputs=None``) this is "sorts every input"; for
        a selection network it checks the selected order statistics. Decided by
        the 0-1 principle (Knuth TAOCP vol. 3 §5.3.4, Thm Z): a comparator
        network commutes with every monotone map, so it is correct on all real
        inputs iff it is correct on all ``2**n`` binary inputs, which are all
        checked (in chunks of ``2**16``). Limited to ``n <= 24``.

        Examples
        --------
        >>> ComparatorNetwork(4, [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)]).is_sorting()
        True
        """
        if self.n > _MAX_01_WIRES:
            raise InvalidParameterError(
                f"is_sorting() enumerates all 2**n binary inputs; n must be <= {_MAX_01_WIRES}, got {self.n}."
            )
        outs = np.array(self.output_wires)
        total = 1 << self.n
        step = 1 << min(self.n, _CHUNK_BITS)
        shifts = np.arange(self.n, dtype=np.int64)[:, None]
        for start in range(0, total, step):
            codes = np.arange(start, start + step, dtype=np.int64)
            bits = ((codes[None, :] >> shifts) & 1).astype(bool)  # (n, step)
            ones = bits.sum(axis=0)
            for i, j in self.comparators:
                a = bits[i].copy()
                bits[i] &= bits[j]
                bits[j] |= a
            # k-th smallest of a 0-1 vector with `ones` ones is 1 iff k >= n - ones.
            expected = outs[:, None] >= (self.n - ones)[None, :]
            if not np.array_equal(bits[outs], expected):
                return False
        return True

    # ------------------------------------------------------------------ selection
    def pruned(self, outputs: Sequence[int]) -> ComparatorNetwork:
        """The selection network that reads only ``outputs``: dead comparators dropped.

        Backward liveness: walking from the last comparator to the first, a
        comparator is kept iff one of its two output wires is live (read later);
        then both its input wires are live. Dropped comparators cannot change a
        live wire, so the outputs are unchanged.

        Examples
        --------
        >>> sorter = ComparatorNetwork(3, [(0, 2), (0, 1), (1, 2)])
        >>> sorter.pruned([0]).comparators   # the minimum needs two comparators
        ((0, 2), (0, 1))
        """
        outs = tuple(int(w) for w in outputs)
        live = set(outs)
        keep = []
        for i, j in reversed(self.comparators):
            if i in live or j in live:
                keep.append((i, j))
                live |= {i, j}
        name = f"{self.name}, pruned" if self.name else "pruned"
        return ComparatorNetwork(self.n, tuple(reversed(keep)), outputs=outs, name=name)

    def live_after(self, schedule: str = "asap") -> list[set[int]]:
        """Per layer of :meth:`layers`, the wires whose value is read after it.

        Examples
        --------
        >>> ComparatorNetwork(3, [(0, 2), (0, 1), (1, 2)], outputs=[1]).live_after()
        [{0, 1, 2}, {1, 2}, {1}]
        """
        lays = self.layers(schedule)
        live = set(self.output_wires)
        out: list[set[int]] = [set()] * len(lays)
        for d in range(len(lays) - 1, -1, -1):
            out[d] = set(live)
            for i, j in lays[d]:
                if i in live or j in live:
                    live |= {i, j}
        return out

    def n_half(self) -> int:
        """Number of comparators of which only one output (min or max) is read later.

        Examples
        --------
        >>> ComparatorNetwork(3, [(0, 2), (0, 1), (1, 2)]).pruned([1]).n_half()
        2
        """
        count = 0
        lays = self.layers()
        for lay, live in zip(lays, self.live_after(), strict=True):
            count += sum((i in live) != (j in live) for i, j in lay)
        return count

    # ------------------------------------------------------------------ compilation
    def cost(self) -> Any:
        """ReLU units in each cost model; see :func:`reluscope.build.comparator_cost`.

        Examples
        --------
        >>> ComparatorNetwork(2, [(0, 1)]).cost().plain_units
        4
        """
        from ._sorting import comparator_cost

        return comparator_cost(self)

    def to_network(self, bound: float | None = None) -> Any:
        """The exact ReLU network; see :func:`reluscope.build.compile_comparators`.

        Examples
        --------
        >>> net = ComparatorNetwork(2, [(0, 1)]).to_network()
        >>> net(np.array([5.0, -3.0])), net.n_units
        (array([-3.,  5.]), 4)
        """
        from ._sorting import compile_comparators

        return compile_comparators(self, bound)

    def __repr__(self) -> str:
        extra = f", outputs={self.outputs}" if self.outputs is not None else ""
        return f"ComparatorNetwork(n={self.n}, size={self.size}, depth={self.depth}{extra}, name={self.name!r})"
