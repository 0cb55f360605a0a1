"""A small layer-by-layer compiler from ReLU gadgets to the canonical form.

The builders of :mod:`reluscope.build` describe a network as a sequence of
hidden layers acting on *wires*. A wire is a value that is an affine function of
the previous hidden layer's outputs (of the inputs before the first layer): the
tape stores it as a row of ``E`` and an entry of ``e`` (``wires = E h + e``).
Linear maps between wires are free (they are multiplied into the next weight
matrix); a hidden layer is a set of ReLU units, each an affine function of the
current wires, followed by new wires that are affine in those units.

The gadgets at the end of the module are the cost model of
``docs/constructions.md``:

* carry a wire through a layer: ``x = relu(x) - relu(-x)`` (2 units), or
  ``x = relu(x - lo) + lo`` (1 unit) when a lower bound ``x >= lo`` is known;
* comparator (min, max): 4 units with ``s = a + b``, ``d = a - b``, or 3 units
  (``relu(a - lo)``, ``relu(b - lo)``, ``relu(a - b)``) with known lower bounds;
* one-sided min or max (half comparator): carry one input plus ``relu(a - b)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import Identity, ReLU
from ..network import Network

__all__ = ["Tape", "LayerBuilder", "carry", "minmax", "min2", "max2", "finish"]


class Tape:
    """Wires as affine functions of the last hidden layer; hidden layers so far.

    Parameters
    ----------
    n_in : int
        Number of network inputs; they are the first wires.
    lower : float, optional
        A lower bound that every input satisfies (``None``: unbounded).

    Examples
    --------
    >>> t = Tape(2)
    >>> L = t.layer()
    >>> lo, hi = minmax(L, 0, 1)
    >>> L.commit()
    >>> net = t.network(outputs=[lo, hi])
    >>> net(np.array([3.0, -1.0]))
    array([-1.,  3.])
    """

    def __init__(self, n_in: int, lower: float | None = None) -> None:
        self.n_in = int(n_in)
        self._layers: list[tuple[np.ndarray, np.ndarray]] = []
        self._E = np.eye(self.n_in)
        self._e = np.zeros(self.n_in)
        self.lower: list[float | None] = [lower] * self.n_in

    @property
    def n_wires(self) -> int:
        """Number of wires currently alive."""
        return self._E.shape[0]

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths of the hidden layers committed so far."""
        return tuple(w.shape[0] for w, _ in self._layers)

    def linear(self, M: Any, m: Any = None, lower: list[float | None] | None = None) -> None:
        """Replace the wires by ``M @ wires + m`` (free: no unit is spent).

        Parameters
        ----------
        M : array_like of shape (n_new, n_wires)
        m : array_like of shape (n_new,), optional
        lower : list, optional
            Known lower bounds of the new wires (default: unknown).
        """
        M = np.atleast_2d(np.asarray(M, dtype=np.float64))
        m = np.zeros(M.shape[0]) if m is None else np.asarray(m, dtype=np.float64)
        self._E = M @ self._E
        self._e = M @ self._e + m
        self.lower = list(lower) if lower is not None else [None] * M.shape[0]

    def layer(self) -> LayerBuilder:
        """Start a new hidden layer; call :meth:`LayerBuilder.commit` when done."""
        return LayerBuilder(self)

    def _push(self, A: np.ndarray, a: np.ndarray, C: np.ndarray, c: np.ndarray, lower: list) -> None:
        self._layers.append((A @ self._E, A @ self._e + a))
        self._E, self._e, self.lower = C, c, lower

    def network(
        self,
        outputs: Any = None,
        readout: Any = None,
        bias: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> Network:
        """The network whose output is ``readout @ wires[outputs] + bias``.

        Parameters
        ----------
        outputs : sequence of int, optional
            Wires to read (default: all, in order).
        readout : array_like of shape (n_out, len(outputs)), optional
            Default: the identity.
        bias : array_like of shape (n_out,), optional
        metadata : dict, optional
        """
        idx = np.arange(self.n_wires) if outputs is None else np.asarray(outputs, dtype=np.intp)
        E, e = self._E[idx], self._e[idx]
        R = np.eye(len(idx)) if readout is None else np.atleast_2d(np.asarray(readout, dtype=np.float64))
        c = np.zeros(R.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
        layers: list[tuple] = [(W, b, ReLU()) for W, b in self._layers]
        layers.append((R @ E, R @ e + c, Identity()))
        return Network(layers, metadata=metadata)


class LayerBuilder:
    """Units and output wires of one hidden layer under construction.

    Unit and wire indices are local to the layer: :meth:`relu` returns the index
    of a new unit, :meth:`emit` the index of a new wire (the wires of the tape
    after :meth:`commit`, in emission order).
    """

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self._units: list[tuple[dict[int, float], float]] = []
        self._wires: list[tuple[dict[int, float], float, float | None]] = []

    def relu(self, coef: dict[int, float], bias: float = 0.0) -> int:
        """Add the unit ``relu(sum_w coef[w] * wire_w + bias)``; return its index."""
        self._units.append((dict(coef), float(bias)))
        return len(self._units) - 1

    def emit(self, terms: dict[int, float], bias: float = 0.0, lower: float | None = None) -> int:
        """Add the output wire ``sum_u terms[u] * unit_u + bias``; return its index."""
        self._wires.append((dict(terms), float(bias), lower))
        return len(self._wires) - 1

    def commit(self) -> None:
        """Append the layer to the tape; its emitted wires become the tape's wires."""
        n_w = self.tape.n_wires
        A = np.zeros((len(self._units), n_w))
        a = np.zeros(len(self._units))
        for k, (coef, bias) in enumerate(self._units):
            for w, c in coef.items():
                A[k, w] += c
            a[k] = bias
        C = np.zeros((len(self._wires), len(self._units)))
        c_vec = np.zeros(len(self._wires))
        for k, (terms, bias, _) in enumerate(self._wires):
            for u, v in terms.items():
                C[k, u] += v
            c_vec[k] = bias
        self.tape._push(A, a, C, c_vec, [lo for _, _, lo in self._wires])


def carry(L: LayerBuilder, w: int) -> int:
    """Carry wire ``w`` unchanged through the layer: 1 unit if bounded below, else 2."""
    lo = L.tape.lower[w]
    if lo is not None:
        u = L.relu({w: 1.0}, -lo)
        return L.emit({u: 1.0}, lo, lower=lo)
    p = L.relu({w: 1.0})
    n = L.relu({w: -1.0})
    return L.emit({p: 1.0, n: -1.0})


def _carry_units(L: LayerBuilder, w: int) -> tuple[dict[int, float], float]:
    lo = L.tape.lower[w]
    if lo is not None:
        return {L.relu({w: 1.0}, -lo): 1.0}, lo
    return {L.relu({w: 1.0}): 1.0, L.relu({w: -1.0}): -1.0}, 0.0


def minmax(L: LayerBuilder, a: int, b: int) -> tuple[int, int]:
    """A comparator: wires ``(min(a, b), max(a, b))``; 3 units if both are bounded below, else 4."""
    lo_a, lo_b = L.tape.lower[a], L.tape.lower[b]
    if lo_a is not None and lo_b is not None:
        ua = L.relu({a: 1.0}, -lo_a)
        ub = L.relu({b: 1.0}, -lo_b)
        r = L.relu({a: 1.0, b: -1.0})
        lo = min(lo_a, lo_b)
        return (
            L.emit({ua: 1.0, r: -1.0}, lo_a, lower=lo),
            L.emit({ub: 1.0, r: 1.0}, lo_b, lower=max(lo_a, lo_b)),
        )
    ps = L.relu({a: 1.0, b: 1.0})
    ns = L.relu({a: -1.0, b: -1.0})
    pd = L.relu({a: 1.0, b: -1.0})
    nd = L.relu({a: -1.0, b: 1.0})
    return (
        L.emit({ps: 0.5, ns: -0.5, pd: -0.5, nd: -0.5}),
        L.emit({ps: 0.5, ns: -0.5, pd: 0.5, nd: 0.5}),
    )


def min2(L: LayerBuilder, a: int, b: int) -> int:
    """``min(a, b) = a - relu(a - b)``: 2 units if ``a`` is bounded below, else 3."""
    terms, bias = _carry_units(L, a)
    r = L.relu({a: 1.0, b: -1.0})
    terms[r] = -1.0
    lo_a, lo_b = L.tape.lower[a], L.tape.lower[b]
    lo = min(lo_a, lo_b) if lo_a is not None and lo_b is not None else None
    return L.emit(terms, bias, lower=lo)


def max2(L: LayerBuilder, a: int, b: int) -> int:
    """``max(a, b) = b + relu(a - b)``: 2 units if ``b`` is bounded below, else 3."""
    terms, bias = _carry_units(L, b)
    r = L.relu({a: 1.0, b: -1.0})
    terms[r] = 1.0
    lo_a, lo_b = L.tape.lower[a], L.tape.lower[b]
    lows = [v for v in (lo_a, lo_b) if v is not None]
    return L.emit(terms, bias, lower=max(lows) if lows else None)


def finish(net: Network, construction: str, **info: Any) -> Network:
    """Attach the size report of a construction to ``net.metadata``.

    The metadata always holds ``construction``, ``units`` (hidden ReLUs),
    ``hidden_layers`` and ``max_width``; builders add ``best_known``,
    ``reference``, ``domain`` and construction-specific fields. Values must be
    JSON-serialisable (they are saved with the network).
    """
    meta: dict[str, Any] = {
        "source": "reluscope.build",
        "construction": construction,
        "units": net.n_units,
        "hidden_layers": net.depth - 1,
        "max_width": max(net.hidden_widths, default=0),
    }
    meta.update(info)
    return net.with_layers(net.layers, **meta)
