"""Exact lowering of a feed-forward graph into the canonical form (DESIGN §1).

The importers (:mod:`reluscope.io.torch`, :mod:`reluscope.io.onnx`) walk a model's
graph in topological order and call a :class:`Lowering` once per operation. The
lowering keeps

* the canonical layers emitted so far (the *trunk*, whose last activation output
  is the current hidden vector ``h`` of width ``width``), and
* every *live* graph value (one still needed by a later operation) as an affine
  map of ``h``: rows ``A`` (a sparse ``(m, width)`` matrix) and offsets ``c``.

Affine operations (Linear, Conv, BatchNorm, pooling by averaging, Flatten, sums
of values) only update these maps, so consecutive affine maps are merged. An
activation emits one canonical layer whose rows are the value's pre-activation;
every other live value is carried through the same layer by identity units,
``v = relu(v) - relu(-v)`` (one unit ``relu(v) = v`` when ``v >= 0`` is provable,
e.g. the output of a ReLU), which is how skip connections ``h + F(h)`` are lowered.
When a layer must carry values but its activation cannot (HardTanh, Abs), the
activation is rewritten exactly with ReLU units,
``phi(z) = s_0 z + i_0 + sum_k (s_k - s_{k-1}) relu(z - t_k)``.
Max pooling becomes a tournament of ``max(a, b) = b + relu(a - b)`` (one ReLU
layer per halving of the window).

Nothing here imports torch or onnx: the importers hand over plain arrays and
callables that evaluate a linear operation on a batch of float64 inputs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._errors import InvalidParameterError, LargeLayerWarning, ShapeError
from ..activations import Abs, Activation, HardTanh, Identity, LeakyReLU, ReLU
from ..network import Network

__all__ = [
    "LARGE_LAYER_ENTRIES",
    "Lowering",
    "Value",
    "relu_expansion",
    "matrix_from_basis",
    "channelwise_matrix",
    "windows_from_membership",
]

#: A lowered layer with more weight entries than this triggers a LargeLayerWarning.
LARGE_LAYER_ENTRIES = 10**7


@dataclass
class Value:
    """A graph value as an affine map of the trunk output: ``v = A h + c``.

    Attributes
    ----------
    A : scipy.sparse.csr_array of shape (size, width)
    c : ndarray of shape (size,)
    shape : tuple of int
        Shape of one sample (no batch axis), e.g. ``(C, H, W)``; rows are in C order.
    """

    A: sp.csr_array
    c: np.ndarray
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(self.A.shape[0])


def _csr(m: Any) -> sp.csr_array:
    if sp.issparse(m):
        return sp.csr_array(m)
    return sp.csr_array(np.asarray(m, dtype=np.float64))


def _selection(rows: int, offset: int, width: int, scale: float = 1.0) -> sp.csr_array:
    """``scale`` times rows ``offset .. offset+rows`` of the identity of size ``width``."""
    idx = np.arange(rows)
    return sp.csr_array((np.full(rows, scale), (idx, offset + idx)), shape=(rows, width))


def relu_expansion(act: Activation) -> tuple[list[tuple[float, float, float]], float]:
    """Write a PWL activation with ReLUs: ``phi(z) = const + sum_j coef_j relu(s_j z + t_j)``.

    Uses ``phi(z) = s_0 z + i_0 + sum_k (s_k - s_{k-1}) relu(z - b_k)`` (breakpoints ``b_k``,
    slopes ``s_k``, intercept ``i_0`` of the leftmost piece) and ``z = relu(z) - relu(-z)``.

    Returns
    -------
    units : list of (sign, shift, coef)
    const : float

    Examples
    --------
    >>> relu_expansion(HardTanh(-1.0, 1.0))
    ([(1.0, 1.0, 1.0), (1.0, -1.0, -1.0)], -1.0)
    >>> relu_expansion(Abs())
    ([(1.0, 0.0, 1.0), (-1.0, 0.0, 1.0)], 0.0)
    """
    s, t, icpt = act.slopes, act.breakpoints, act.intercepts
    units: dict[tuple[float, float], float] = {}
    if s[0] != 0.0:
        units[(1.0, 0.0)] = float(s[0])
        units[(-1.0, 0.0)] = float(-s[0])
    for k, bk in enumerate(t):
        jump = float(s[k + 1] - s[k])
        if jump != 0.0:
            key = (1.0, float(-bk) + 0.0)
            units[key] = units.get(key, 0.0) + jump
    out = [(sg, sh, cf) for (sg, sh), cf in units.items() if cf != 0.0]
    return out, float(icpt[0])


def _carry_gain(act: Activation) -> float | None:
    """``phi(v) - phi(-v) = gain * v``, or None when ``act`` cannot carry a signed value."""
    if isinstance(act, ReLU):
        return 1.0
    if isinstance(act, LeakyReLU) and act.alpha != -1.0:
        return 1.0 + act.alpha
    return None


def _output_nonneg(act: Activation) -> bool:
    """Whether ``act(z) >= 0`` for every ``z``."""
    if isinstance(act, (ReLU, Abs)):
        return True
    if isinstance(act, HardTanh):
        return act.lo >= 0.0
    if isinstance(act, LeakyReLU):
        return act.alpha == 0.0
    return False


class Lowering:
    """Builds a canonical :class:`~reluscope.Network` one graph operation at a time.

    Every value is defined with the number of later operations that read it
    (``uses``); reading it with :meth:`take` counts one use down, and a value
    with no uses left is no longer carried through new layers.

    Parameters
    ----------
    in_shape : tuple of int
        Shape of one input sample; the network's input is its C-order flattening.
    input_name : str
        Name of the input value.
    uses : int
        Number of reads of the input.

    Examples
    --------
    Lower ``y = x + relu(W x)`` (a residual block) and check it:

    >>> lw = Lowering((2,), "x", uses=2)
    >>> W = np.array([[1.0, -1.0], [0.5, 2.0]])
    >>> lw.linear("f", "x", W, np.zeros(2), (2,), uses=1)
    >>> lw.activation("g", "f", ReLU(), uses=1)
    >>> lw.add("y", ["x", "g"], [1.0, 1.0], uses=1)
    >>> net = lw.network("y")
    >>> x = np.array([[0.3, -1.2], [-2.0, 0.5]])
    >>> bool(np.allclose(net(x), x + np.maximum(x @ W.T, 0.0), rtol=0, atol=1e-15))
    True
    """

    def __init__(self, in_shape: Sequence[int], input_name: str, uses: int = 1):
        shape = tuple(int(d) for d in in_shape)
        n = math.prod(shape)
        self.n_in = n
        self._layers: list[tuple[np.ndarray, np.ndarray, Activation]] = []
        self._width = n
        self._nonneg = np.zeros(n, dtype=bool)
        self._live: dict[str, list[Any]] = {}
        self.define(input_name, Value(_selection(n, 0, n), np.zeros(n), shape), uses)

    # ------------------------------------------------------------------ values
    def define(self, name: str, value: Value, uses: int) -> None:
        """Register ``value`` under ``name``, to be read ``uses`` times."""
        if uses > 0:
            self._live[name] = [value, int(uses)]

    def peek(self, name: str) -> Value:
        """The value ``name`` without counting a use."""
        return self._live[name][0]

    def take(self, name: str) -> Value:
        """Read ``name`` once (it is dropped after its last use)."""
        if name not in self._live:
            raise InvalidParameterError(f"value {name!r} is not defined or has no uses left.")
        entry = self._live[name]
        entry[1] -= 1
        if entry[1] <= 0:
            del self._live[name]
        return entry[0]

    def __contains__(self, name: str) -> bool:
        return name in self._live

    # ------------------------------------------------------------------ affine ops
    def linear(self, name: str, src: str, M: Any, d: Any, shape: Sequence[int], uses: int) -> None:
        """``v = M u + d`` with ``M`` of shape (size_out, size_in), dense or sparse."""
        u = self.take(src)
        M = _csr(M)
        if M.shape[1] != u.size:
            raise ShapeError(
                f"operation {name!r} expects {M.shape[1]} inputs but its input {src!r} has "
                f"{u.size} (shape {u.shape})."
            )
        d = np.zeros(M.shape[0]) if d is None else np.asarray(d, dtype=np.float64).reshape(-1)
        self.define(name, Value(_csr(M @ u.A), M @ u.c + d, tuple(shape)), uses)

    def elementwise(self, name: str, src: str, scale: Any, shift: Any, uses: int) -> None:
        """``v = scale * u + shift`` entrywise (arrays broadcast to ``u.size``)."""
        u = self.take(src)
        s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (u.size,))
        t = np.broadcast_to(np.asarray(shift, dtype=np.float64), (u.size,))
        A = _csr(sp.diags(s, format="csr") @ u.A)
        self.define(name, Value(A, s * u.c + t, u.shape), uses)

    def add(self, name: str, srcs: Sequence[str], signs: Sequence[float], uses: int) -> None:
        """``v = sum_i signs_i * u_i``; per-sample shapes broadcast as in NumPy."""
        vals = [self.take(s) for s in srcs]
        try:
            shape = np.broadcast_shapes(*[v.shape for v in vals])
        except ValueError as exc:
            raise ShapeError(
                f"operation {name!r} adds values of shapes {[v.shape for v in vals]} (from {list(srcs)}), "
                "which do not broadcast together."
            ) from exc
        rows = [np.broadcast_to(np.arange(v.size).reshape(v.shape), shape).ravel() for v in vals]
        terms = [g * v.A[r] for g, v, r in zip(signs, vals, rows, strict=True)]
        A = sum(terms[1:], start=terms[0])
        c = sum(g * v.c[r] for g, v, r in zip(signs, vals, rows, strict=True))
        self.define(name, Value(_csr(A), np.asarray(c, dtype=np.float64), tuple(shape)), uses)

    def reshape(self, name: str, src: str, shape: Sequence[int], uses: int) -> None:
        """Reinterpret ``u`` with another per-sample shape (C order, same size)."""
        u = self.take(src)
        shape = tuple(int(d) for d in shape)
        if math.prod(shape) != u.size:
            raise ShapeError(
                f"operation {name!r} reshapes {u.shape} ({u.size} entries) to {shape}; sizes differ."
            )
        self.define(name, Value(u.A, u.c, shape), uses)

    def concat(self, name: str, srcs: Sequence[str], axis: int, uses: int) -> None:
        """Concatenate values along per-sample ``axis``."""
        vals = [self.take(s) for s in srcs]
        offsets = np.cumsum([0] + [v.size for v in vals])
        try:
            order = np.concatenate(
                [np.arange(v.size).reshape(v.shape) + o for v, o in zip(vals, offsets, strict=False)],
                axis=axis,
            )
        except ValueError as exc:
            raise ShapeError(
                f"operation {name!r} cannot concatenate shapes {[v.shape for v in vals]} on axis "
                f"{axis}: {exc}"
            ) from exc
        A = sp.vstack([v.A for v in vals], format="csr")[order.ravel()]
        c = np.concatenate([v.c for v in vals])[order.ravel()]
        self.define(name, Value(_csr(A), c, order.shape), uses)

    # ------------------------------------------------------------------ nonlinear ops
    def activation(self, name: str, src: str, act: Activation, uses: int) -> None:
        """``v = act(u)`` entrywise; emits a layer unless ``act`` is the identity.

        Every other activation emits a layer, even where it is provably the identity
        (ReLU of a non-negative value), so that the layers follow the source model.
        """
        u = self.take(src)
        if isinstance(act, Identity):
            self.define(name, u, uses)
            return
        P, q = self._emit(act, u.A, u.c)
        self.define(name, Value(P, q, u.shape), uses)

    def maxpool(self, name: str, src: str, windows: np.ndarray, shape: Sequence[int], uses: int) -> None:
        """``v_o = max_{i in windows[o]} u_i`` by a tournament of ``b + relu(a - b)``.

        Parameters
        ----------
        windows : int ndarray of shape (size_out, k)
            Indices into ``u``'s entries; ``-1`` marks an unused slot.
        """
        base = self.take(src)
        cand = np.asarray(windows, dtype=np.int64)
        if cand.ndim != 2 or cand.shape[0] == 0 or np.any(cand[:, 0] < 0):
            raise ShapeError(f"operation {name!r}: every pooling window needs at least one entry.")
        key = f"\x00carry:{name}"
        while cand.shape[1] > 1:
            if cand.shape[1] % 2:
                cand = np.hstack([cand, np.full((cand.shape[0], 1), -1)])
            a, b = cand[:, 0::2], cand[:, 1::2]
            both = (a >= 0) & (b >= 0)
            one = (a >= 0) ^ (b >= 0)
            pairs, pair_of = np.unique(np.stack([a[both], b[both]], axis=1), axis=0, return_inverse=True)
            pairs = pairs.reshape(-1, 2)
            singles = np.where(a >= 0, a, b)[one]
            keep = np.unique(np.concatenate([pairs[:, 1], singles]))
            carried = Value(base.A[keep], base.c[keep], (len(keep),))
            self.define(key, carried, 1)
            P, q = self._emit(ReLU(), base.A[pairs[:, 0]] - base.A[pairs[:, 1]],
                              base.c[pairs[:, 0]] - base.c[pairs[:, 1]])
            carried = self.take(key)
            at_b = np.searchsorted(keep, pairs[:, 1])
            A = sp.vstack([P + carried.A[at_b], carried.A], format="csr")
            c = np.concatenate([q + carried.c[at_b], carried.c])
            base = Value(A, c, (A.shape[0],))
            new = np.full(a.shape, -1, dtype=np.int64)
            new[both] = pair_of.ravel()
            new[one] = len(pairs) + np.searchsorted(keep, singles)
            cand = new
        out = cand[:, 0]
        self.define(name, Value(_csr(base.A[out]), base.c[out], tuple(shape)), uses)

    # ------------------------------------------------------------------ result
    def network(self, out: str, metadata: dict[str, Any] | None = None) -> Network:
        """The canonical network computing value ``out`` (a final identity layer is
        folded away when ``out`` is exactly the last layer's output)."""
        v = self.take(out)
        layers = list(self._layers)
        A = v.A
        exact_last = (
            layers
            and A.shape == (self._width, self._width)
            and A.nnz == self._width
            and not np.any(v.c)
            and np.array_equal(A.indices, np.arange(self._width))
            and np.array_equal(A.indptr, np.arange(self._width + 1))
            and np.all(A.data == 1.0)
        )
        if not exact_last:
            layers.append((self._dense(A, len(layers)), v.c, Identity()))
        return Network(layers, metadata=metadata)

    # ------------------------------------------------------------------ internals
    def _is_nonneg(self, v: Value) -> bool:
        if np.any(v.c < 0):
            return False
        data, cols = v.A.data, v.A.indices
        nz = data != 0
        return bool(np.all(data[nz] > 0) and np.all(self._nonneg[cols[nz]]))

    def _dense(self, A: sp.csr_array, index: int) -> np.ndarray:
        if A.shape[0] * A.shape[1] > LARGE_LAYER_ENTRIES:
            warnings.warn(
                f"lowered layer {index} is a dense {A.shape[0]} x {A.shape[1]} matrix "
                f"({A.shape[0] * A.shape[1]:.3g} entries, {A.shape[0] * A.shape[1] * 8 / 2**30:.2f} GiB); "
                "convolutions and pooling become dense affine maps in the canonical form.",
                LargeLayerWarning,
                stacklevel=4,
            )
        return A.toarray()

    def _emit(self, act: Activation, A: Any, c: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
        """Emit a layer ``act(A h + c)`` carrying every live value; return the map of
        ``act(A h + c)`` in terms of the new trunk output."""
        A = _csr(A)
        c = np.asarray(c, dtype=np.float64)
        carries = [e for e in self._live.values() if e[0].A.nnz > 0]
        gain = _carry_gain(act)
        if carries and gain is None:
            units, const = relu_expansion(act)
            P, q = self._emit(ReLU(), sp.vstack([sg * A for sg, _, _ in units], format="csr"),
                              np.concatenate([sg * c + sh for sg, sh, _ in units]))
            m = A.shape[0]
            comb = sum(cf * P[j * m:(j + 1) * m] for j, (_, _, cf) in enumerate(units))
            qc = sum(cf * q[j * m:(j + 1) * m] for j, (_, _, cf) in enumerate(units))
            return _csr(comb), qc + const
        m = A.shape[0]
        blocks, biases = [A], [c]
        flags = [np.full(m, _output_nonneg(act))]
        plans = []
        width = m
        for entry in carries:
            v = entry[0]
            if self._is_nonneg(v):
                blocks.append(v.A)
                biases.append(v.c)
                flags.append(np.ones(v.size, dtype=bool))
                plans.append((entry, width, None))
                width += v.size
            else:
                blocks += [v.A, -v.A]
                biases += [v.c, -v.c]
                flags.append(np.full(2 * v.size, isinstance(act, ReLU)))
                plans.append((entry, width, gain))
                width += 2 * v.size
        W = self._dense(sp.vstack(blocks, format="csr"), len(self._layers))
        self._layers.append((W, np.concatenate(biases), act))
        for e in self._live.values():
            if e[0].A.nnz == 0:
                e[0] = Value(sp.csr_array((e[0].size, width)), e[0].c, e[0].shape)
        for entry, off, g in plans:
            v = entry[0]
            if g is None:
                newA = _selection(v.size, off, width)
            else:
                newA = _selection(v.size, off, width, 1.0 / g) - _selection(v.size, off + v.size, width, 1.0 / g)
            entry[0] = Value(_csr(newA), np.zeros(v.size), v.shape)
        self._width = width
        self._nonneg = np.concatenate(flags)
        return _selection(m, 0, width), np.zeros(m)


# ---------------------------------------------------------------------- dense maps of linear ops
def matrix_from_basis(
    fn: Callable[[np.ndarray], np.ndarray], in_shape: Sequence[int], chunk: int = 1024
) -> tuple[sp.csr_array, tuple[int, ...]]:
    """The matrix of a *linear* map by pushing the identity basis through it.

    Parameters
    ----------
    fn : callable
        Maps a float64 batch of shape ``(k, *in_shape)`` to ``(k, *out_shape)``; must be
        linear (no bias). Each output entry of a basis vector is then a single product,
        so the matrix is exact.
    in_shape : tuple of int
    chunk : int
        Basis vectors per call.

    Returns
    -------
    M : scipy.sparse.csr_array of shape (prod(out_shape), prod(in_shape))
    out_shape : tuple of int

    Examples
    --------
    >>> M, shape = matrix_from_basis(lambda x: x[:, ::-1] * 2.0, (3,))
    >>> M.toarray(), shape
    (array([[0., 0., 2.],
           [0., 2., 0.],
           [2., 0., 0.]]), (3,))
    """
    in_shape = tuple(int(d) for d in in_shape)
    n = math.prod(in_shape)
    parts = []
    out_shape: tuple[int, ...] = ()
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        basis = np.zeros((k, n))
        basis[np.arange(k), start + np.arange(k)] = 1.0
        out = np.asarray(fn(basis.reshape((k, *in_shape))), dtype=np.float64)
        out_shape = tuple(out.shape[1:])
        parts.append(sp.csr_array(out.reshape(k, -1)))
    return sp.vstack(parts, format="csr").T.tocsr(), out_shape


def channelwise_matrix(
    fn: Callable[[np.ndarray], np.ndarray], in_shape: Sequence[int]
) -> tuple[sp.csr_array, tuple[int, ...]]:
    """Matrix of a linear map that acts on each channel alike (pooling): ``I_C ⊗ P``.

    ``fn`` is evaluated on one channel, shape ``(k, 1, *spatial)``.

    Examples
    --------
    >>> M, shape = channelwise_matrix(lambda x: x.sum(axis=-1, keepdims=True), (2, 3))
    >>> M.toarray(), shape
    (array([[1., 1., 1., 0., 0., 0.],
           [0., 0., 0., 1., 1., 1.]]), (2, 1))
    """
    C, spatial = int(in_shape[0]), tuple(in_shape[1:])
    P, out1 = matrix_from_basis(fn, (1, *spatial))
    return sp.csr_array(sp.kron(sp.identity(C, format="csr"), P, format="csr")), (C, *out1[1:])


def windows_from_membership(member: sp.csr_array) -> np.ndarray:
    """Pooling windows, padded with -1, from a 0/1 matrix (output x input).

    Examples
    --------
    >>> windows_from_membership(sp.csr_array(np.array([[1, 1, 0], [0, 0, 1]])))
    array([[ 0,  1],
           [ 2, -1]])
    """
    M = sp.csr_array(member)
    M.eliminate_zeros()
    M.sort_indices()
    counts = np.diff(M.indptr)
    k = int(counts.max()) if len(counts) else 0
    out = np.full((M.shape[0], max(k, 1)), -1, dtype=np.int64)
    rows = np.repeat(np.arange(M.shape[0]), counts)
    pos = np.arange(M.nnz) - np.repeat(M.indptr[:-1], counts)
    out[rows, pos] = M.indices
    return out
