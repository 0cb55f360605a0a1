"""The solver-neutral MILP of a network: variables, bounds and one sparse constraint matrix.

For unit ``i`` of layer ``l`` and each breakpoint ``β`` of its activation, the
split ``g_i - β = h_i - h̄_i`` is Serra, Tjandraatmadja & Ramalingam (ICML 2018),
constraints (1), with *asymmetric* per-unit constants (Tjeng et al. 2019, eq. 6)::

    W_i h^{l-1} + b_i = g_i,    g_i - β = h_i - h̄_i,    h_i, h̄_i >= 0,
    h_i <= H_i z_i,    h̄_i <= H̄_i (1 - z_i),    z_i ∈ {0, 1},
    H_i = max(hi_i - β, 0),    H̄_i = max(β - lo_i, 0),

where ``[lo_i, hi_i]`` bounds ``g_i`` over the domain. A split that the bounds prove
stable gets **no binary**: ``h_i`` (``lo - β >= 0`` fails, ``hi <= β``) or ``h̄_i``
(``lo > β``) is fixed to 0 through its bounds. A ReLU unit has one split (β = 0)
and its output is ``h_i``; any continuous piecewise-linear activation is
``φ(g) = s_0 g + c_0 + Σ_j (s_j - s_{j-1}) relu(g - β_j)``, so LeakyReLU, Abs and
HardTanh units are encoded by the same splits plus one output row. The piece index
of a unit (what :meth:`Network.pattern` reports) is ``Σ_j z_ij``.

With ``eps`` the *two-sided margins* of the counting MILP are added to every
unstable split: Serra et al.'s ``f <= h_i + M (1 - z_i)`` and ``f <= h̄_i + M z_i``
with ``f >= eps`` (research note ``milp_bounds.md`` §0.4). Because counting only asks
whether ``f >= eps`` is feasible, ``f`` is fixed to ``eps``, which turns them into
the ``M``-free rows ``h_i >= eps z_i`` and ``h̄_i >= eps (1 - z_i)``. A unit of a
later layer with bias exactly 0 is identically 0 wherever all its ReLU inputs are
off; there the inactive margin is waived through a continuous flag (``_dead_flags``),
since that region is full-dimensional with the unit on piece 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._errors import DomainError, InvalidParameterError
from ..activations import Activation, ReLU
from ..domains import Box, Polytope
from ..network import Network
from ..propagate import LayerBounds, activation_range

__all__ = ["LayerVars", "Formulation", "build_formulation", "split_states"]


def _pad(v: np.ndarray) -> np.ndarray:
    """Outward safety margin for bounds computed in floating point."""
    return 1e-9 * (1.0 + np.abs(v))


def split_states(act: Activation, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per unit and breakpoint: 1 stably above (``lo > β``), 0 stably at/below (``hi <= β``), -1 unstable.

    Matches :meth:`Activation.piece`, which counts breakpoints *strictly* below ``z``.

    Returns
    -------
    ndarray of int8, shape (n, k) with ``k = len(act.breakpoints)``

    Examples
    --------
    >>> split_states(ReLU(), np.array([-1.0, 0.5, -2.0, 0.0]), np.array([1.0, 2.0, 0.0, 0.0]))
    array([[-1],
           [ 1],
           [ 0],
           [ 0]], dtype=int8)
    """
    bps = np.asarray(act.breakpoints, dtype=np.float64)[None, :]
    lo = np.asarray(lo, dtype=np.float64)[:, None]
    hi = np.asarray(hi, dtype=np.float64)[:, None]
    state = np.full((lo.shape[0], bps.shape[1]), -1, dtype=np.int8)
    state[np.broadcast_to(hi <= bps, state.shape)] = 0
    state[np.broadcast_to(lo > bps, state.shape)] = 1
    return state


@dataclass(frozen=True)
class LayerVars:
    """Column indices of one encoded layer (``-1`` where a variable does not exist).

    Attributes
    ----------
    g : ndarray of shape (n,)
        Pre-activations ``g = W h^{l-1} + b``.
    h, hbar : ndarray of shape (n, k)
        Positive and negative parts of ``g - β_j`` for each of the activation's ``k``
        breakpoints (``k = 1`` for ReLU; ``h`` is Serra et al.'s ``h``, ``hbar`` their ``h̄``).
    z : ndarray of shape (n, k)
        Binaries, ``-1`` where the bounds prove the split stable.
    out : ndarray of shape (n,)
        Post-activations (the next layer's inputs); for ReLU the same columns as ``h[:, 0]``.
    fixed : ndarray of int8, shape (n, k)
        :func:`split_states`: 1 / 0 for stable splits, -1 where ``z`` is a binary.
    """

    g: np.ndarray
    h: np.ndarray
    hbar: np.ndarray
    z: np.ndarray
    out: np.ndarray
    fixed: np.ndarray

    @property
    def n_units(self) -> int:
        return int(self.g.shape[0])

    def pieces(self, z_values: np.ndarray) -> np.ndarray:
        """Piece index per unit from the values of this layer's binaries.

        Parameters
        ----------
        z_values : ndarray of shape (..., n_binaries_of_this_layer)
            In the order of ``self.z[self.z >= 0]`` (row-major).

        Returns
        -------
        ndarray of int8, shape (..., n)
        """
        z_values = np.asarray(z_values)
        full = np.broadcast_to(self.fixed, z_values.shape[:-1] + self.fixed.shape).astype(np.int8).copy()
        full[..., self.z >= 0] = np.rint(z_values).astype(np.int8)
        return full.sum(axis=-1, dtype=np.int8)


@dataclass(frozen=True)
class Formulation:
    """A MILP ``row_lo <= A v <= row_hi``, ``lb <= v <= ub``, some ``v`` integer.

    Attributes
    ----------
    lb, ub : ndarray of shape (n_vars,)
        Finite variable bounds.
    integer : ndarray of bool, shape (n_vars,)
    names : tuple of str
    A : scipy.sparse.csr_array of shape (n_rows, n_vars)
    row_lo, row_hi : ndarray of shape (n_rows,), possibly infinite
    x : ndarray of shape (n_in,)
        Columns of the inputs.
    layers : tuple of LayerVars
        One per encoded layer (hidden layers, then the output layer if encoded).
    y : ndarray of shape (n_out,) or None
        Columns of the network's outputs when the output layer is encoded.
    eps : float or None
        Margin of the two-sided counting rows, if present.
    n_hidden : int
        Number of hidden layers encoded.
    """

    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    names: tuple[str, ...]
    A: sp.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    x: np.ndarray
    layers: tuple[LayerVars, ...]
    y: np.ndarray | None
    eps: float | None
    n_hidden: int

    @property
    def n_vars(self) -> int:
        return int(self.lb.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def binaries(self) -> np.ndarray:
        """Columns of the binaries of the hidden layers, in unit order (layer, unit, breakpoint)."""
        parts = [lv.z[lv.z >= 0] for lv in self.layers[: self.n_hidden]]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def patterns(self, z_values: np.ndarray) -> np.ndarray:
        """Activation patterns (hidden layers concatenated, as :meth:`Network.pattern`) from binaries.

        Parameters
        ----------
        z_values : ndarray of shape (n_patterns, n_binaries)
            Values of :attr:`binaries`, in that order.

        Returns
        -------
        ndarray of int8, shape (n_patterns, n_units of the encoded hidden layers)

        Examples
        --------
        >>> from reluscope.propagate import interval_bounds
        >>> net = Network([(np.eye(2), np.array([0.0, 5.0]), "relu"), (np.ones((1, 2)), [0.0], "identity")])
        >>> box = Box(-1.0, 1.0, dim=2)
        >>> f = build_formulation(net, interval_bounds(net, box), box)
        >>> f.patterns([[0.0], [1.0]])       # unit 1 is stably on: no binary, piece 1
        array([[0, 1],
               [1, 1]], dtype=int8)
        """
        z_values = np.atleast_2d(np.asarray(z_values, dtype=np.float64))
        out, start = [], 0
        for lv in self.layers[: self.n_hidden]:
            k = int(np.count_nonzero(lv.z >= 0))
            out.append(lv.pieces(z_values[:, start : start + k]))
            start += k
        if not out:
            return np.zeros((z_values.shape[0], 0), dtype=np.int8)
        return np.concatenate(out, axis=1)


class _Builder:
    """Accumulates columns and COO triplets; everything is added in vectorised blocks."""

    def __init__(self) -> None:
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.names: list[str] = []
        self.n = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.m = 0

    def add_vars(self, lb: np.ndarray, ub: np.ndarray, name: str, integer: bool = False) -> np.ndarray:
        lb = np.asarray(lb, dtype=np.float64).ravel()
        ub = np.asarray(ub, dtype=np.float64).ravel()
        idx = np.arange(self.n, self.n + lb.shape[0])
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(np.full(lb.shape[0], integer))
        self.names.extend(f"{name}[{i}]" for i in range(lb.shape[0]))
        self.n += lb.shape[0]
        return idx

    def add_rows(self, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Rows ``lo[r] <= Σ_t vals[r, t] v[cols[r, t]] <= hi[r]`` (entries with col < 0 are skipped)."""
        cols = np.atleast_2d(cols)
        vals = np.broadcast_to(np.atleast_2d(vals), cols.shape)
        n_rows = cols.shape[0]
        if n_rows == 0:
            return
        r = np.broadcast_to(np.arange(self.m, self.m + n_rows)[:, None], cols.shape)
        keep = (cols >= 0) & (vals != 0)
        self.rows.append(r[keep])
        self.cols.append(cols[keep])
        self.vals.append(vals[keep])
        self.rlo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n_rows,)).copy())
        self.rhi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_rows,)).copy())
        self.m += n_rows

    def matrix(self) -> sp.csr_array:
        if not self.rows:
            return sp.csr_array((0, self.n))
        return sp.csr_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.m, self.n),
        )


def _domain_box(domain: Box | Polytope) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    if isinstance(domain, Box):
        return domain.lo.astype(np.float64), domain.hi.astype(np.float64), None
    if isinstance(domain, Polytope):
        box = domain.box if domain.box is not None else domain.bounding_box()
        return box.lo - _pad(box.lo), box.hi + _pad(box.hi), (domain.A, domain.b)
    raise DomainError(
        "'domain' must be a Box or a bounded Polytope: the big-M constants and the variable "
        f"bounds of the MILP are finite only on a bounded input set. Got {type(domain).__name__}."
    )


def build_formulation(
    net: Network,
    bounds: list[LayerBounds],
    domain: Box | Polytope,
    *,
    n_hidden: int | None = None,
    include_output: bool = True,
    eps: float | None = None,
) -> Formulation:
    """Encode ``net`` over ``domain`` as a solver-neutral MILP (module docstring).

    Parameters
    ----------
    net : Network
    bounds : list of LayerBounds
        Valid pre-activation bounds, one per layer (e.g. from :func:`reluscope.propagate.best_bounds`).
    domain : Box or Polytope
        A checked, bounded domain. A polytope adds its rows ``A x <= b``.
    n_hidden : int, optional
        Encode only the first ``n_hidden`` hidden layers (default: all).
    include_output : bool, default True
        Also encode the output layer (only when all hidden layers are encoded).
    eps : float, optional
        Add the two-sided margin rows with this ``eps`` to every unstable split of the
        encoded hidden layers.

    Returns
    -------
    Formulation

    Examples
    --------
    >>> from reluscope.propagate import interval_bounds
    >>> net = Network.random([2, 3, 1], seed=0)
    >>> box = Box(-1.0, 1.0, dim=2)
    >>> f = build_formulation(net, interval_bounds(net, box), box)
    >>> f.x.tolist(), f.layers[0].z.shape, f.y.shape
    ([0, 1], (3, 1), (1,))
    """
    n_total = net.depth - 1
    n_hidden = n_total if n_hidden is None else int(n_hidden)
    if not 0 <= n_hidden <= n_total:
        raise InvalidParameterError(f"'n_hidden' must be in [0, {n_total}]; got {n_hidden}.")
    if eps is not None and not (np.isfinite(eps) and eps > 0):
        raise InvalidParameterError(f"'eps' must be a finite number > 0; got {eps!r}.")
    x_lo, x_hi, poly = _domain_box(domain)
    bld = _Builder()
    x = bld.add_vars(x_lo, x_hi, "x")
    if poly is not None:
        A, b = poly
        bld.add_rows(np.broadcast_to(x, A.shape), A, -np.inf, b)
    prev = x
    layers: list[LayerVars] = []
    encode = list(range(n_hidden)) + ([n_total] if include_output and n_hidden == n_total else [])
    for li in encode:
        layer = net.layers[li]
        prev_relu = layers[-1] if layers and isinstance(net.layers[li - 1].activation, ReLU) else None
        lv = _encode_layer(bld, layer.weight, layer.bias, layer.activation, bounds[li], prev, f"l{li}",
                           eps if li < n_hidden else None, prev_relu)
        layers.append(lv)
        prev = lv.out
    y = layers[-1].out if (include_output and n_hidden == n_total) else None
    return Formulation(
        lb=np.concatenate(bld.lb),
        ub=np.concatenate(bld.ub),
        integer=np.concatenate(bld.integer),
        names=tuple(bld.names),
        A=bld.matrix(),
        row_lo=np.concatenate(bld.rlo) if bld.rlo else np.zeros(0),
        row_hi=np.concatenate(bld.rhi) if bld.rhi else np.zeros(0),
        x=x,
        layers=tuple(layers),
        y=y,
        eps=eps,
        n_hidden=n_hidden,
    )


def _encode_layer(
    bld: _Builder,
    W: np.ndarray,
    b: np.ndarray,
    act: Activation,
    lb: LayerBounds,
    prev: np.ndarray,
    name: str,
    eps: float | None,
    prev_relu: LayerVars | None = None,
) -> LayerVars:
    n = W.shape[0]
    lo, hi = np.asarray(lb.lo, dtype=np.float64), np.asarray(lb.hi, dtype=np.float64)
    g = bld.add_vars(lo - _pad(lo), hi + _pad(hi), f"{name}.g")
    # g - W prev = b
    cols = np.hstack([g[:, None], np.broadcast_to(prev, (n, prev.shape[0]))])
    bld.add_rows(cols, np.hstack([np.ones((n, 1)), -W]), b, b)
    bps = np.asarray(act.breakpoints, dtype=np.float64)
    k = bps.shape[0]
    fixed = split_states(act, lo, hi)
    big_h = np.maximum(hi[:, None] - bps[None, :], 0.0)  # H
    big_hbar = np.maximum(bps[None, :] - lo[:, None], 0.0)  # H̄
    big_h, big_hbar = big_h + _pad(big_h), big_hbar + _pad(big_hbar)
    h = bld.add_vars(np.zeros((n, k)), np.where(fixed == 0, 0.0, big_h), f"{name}.h").reshape(n, k)
    hbar = bld.add_vars(np.zeros((n, k)), np.where(fixed == 1, 0.0, big_hbar), f"{name}.hbar").reshape(n, k)
    # g - h + hbar = β
    gk = np.broadcast_to(g[:, None], (n, k))
    bld.add_rows(np.stack([gk, h, hbar], axis=-1).reshape(-1, 3), np.array([1.0, -1.0, 1.0]),
                 np.broadcast_to(bps, (n, k)).ravel(), np.broadcast_to(bps, (n, k)).ravel())
    unstable = fixed == -1
    z = np.full((n, k), -1, dtype=np.int64)
    nz = int(unstable.sum())
    z[unstable] = bld.add_vars(np.zeros(nz), np.ones(nz), f"{name}.z", integer=True)
    hu, hbu, zu = h[unstable], hbar[unstable], z[unstable]
    # h <= H z ;  hbar + H̄ z <= H̄
    bld.add_rows(np.stack([hu, zu], axis=1), np.stack([np.ones(nz), -big_h[unstable]], axis=1), -np.inf, 0.0)
    bld.add_rows(np.stack([hbu, zu], axis=1), np.stack([np.ones(nz), big_hbar[unstable]], axis=1), -np.inf,
                 big_hbar[unstable])
    if k > 1:  # z_{j+1} <= z_j (valid: g > β_{j+1} implies g > β_j); tightens the relaxation
        for j in range(k - 1):
            both = (z[:, j] >= 0) & (z[:, j + 1] >= 0)
            bld.add_rows(np.stack([z[both, j + 1], z[both, j]], axis=1), np.array([1.0, -1.0]), -np.inf, 0.0)
    if eps is not None and nz:
        # two-sided margins with f fixed to eps: h >= eps z ; hbar >= eps (1 - z) [- eps d]
        dead = np.full((n, k), -1, dtype=np.int64)
        if prev_relu is not None and k == 1:
            dead[:, 0] = _dead_flags(bld, W, b, prev_relu, z, name)
        bld.add_rows(np.stack([hu, zu], axis=1), np.array([1.0, -eps]), 0.0, np.inf)
        bld.add_rows(np.stack([hbu, zu, dead[unstable]], axis=1), np.array([1.0, eps, eps]), eps, np.inf)
    out = _encode_output(bld, act, g, h, lo, hi, name)
    return LayerVars(g=g, h=h, hbar=hbar, z=z, out=out, fixed=fixed)


def _dead_flags(bld: _Builder, W: np.ndarray, b: np.ndarray, prev: LayerVars, z: np.ndarray, name: str) -> np.ndarray:
    """Margins for units whose every input may be off while their bias is 0.

    On a region where all of unit ``i``'s inputs (ReLU units with ``W_ij != 0``) are
    off and ``b_i = 0``, ``g_i`` is identically 0: its piece is 0 on the whole region,
    which is full-dimensional although no margin can hold. ``d_i = Π_j (1 - z_j)`` (an
    AND, exact as a continuous variable once the ``z`` are integral) marks it:
    ``d_i <= 1 - z_j``, ``d_i >= 1 - Σ_j z_j``; then ``z_i <= 1 - d_i`` and the
    inactive margin relaxes to ``h̄_i >= eps (1 - z_i - d_i)``. Returns the columns of
    ``d`` (-1 for units that need none).
    """
    dead = np.full(W.shape[0], -1, dtype=np.int64)
    z_prev, fixed_prev = prev.z[:, 0], prev.fixed[:, 0]
    for i in np.flatnonzero((z[:, 0] >= 0) & (b == 0)):
        inputs = np.flatnonzero(W[i] != 0)
        if inputs.size == 0 or np.any(fixed_prev[inputs] == 1):
            continue
        zs = z_prev[inputs][fixed_prev[inputs] == -1]
        if zs.size == 0:
            continue
        d = bld.add_vars(np.zeros(1), np.ones(1), f"{name}.dead[{i}]")[0]
        bld.add_rows(np.stack([np.full(zs.size, d), zs], axis=1), np.array([1.0, 1.0]), -np.inf, 1.0)
        bld.add_rows(np.concatenate([[d], zs])[None, :], np.ones(zs.size + 1), 1.0, np.inf)
        bld.add_rows(np.array([[z[i, 0], d]]), np.array([1.0, 1.0]), -np.inf, 1.0)
        dead[i] = d
    return dead


def _encode_output(bld: _Builder, act: Activation, g: np.ndarray, h: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, name: str) -> np.ndarray:
    slopes = np.asarray(act.slopes, dtype=np.float64)
    icpt = np.asarray(act.intercepts, dtype=np.float64)
    if isinstance(act, ReLU):
        return h[:, 0]
    if slopes.shape[0] == 1 and slopes[0] == 1.0 and icpt[0] == 0.0:
        return g
    # φ(g) = s0 g + c0 + Σ_j (s_j - s_{j-1}) relu(g - β_j)
    n, k = h.shape
    o_lo, o_hi = activation_range(act, lo, hi)
    out = bld.add_vars(o_lo - _pad(o_lo), o_hi + _pad(o_hi), f"{name}.out")
    c0 = float(icpt[0])
    cols = np.hstack([out[:, None], g[:, None], h])
    vals = np.concatenate([[1.0, -slopes[0]], -np.diff(slopes)])
    bld.add_rows(cols, vals, c0, c0)
    return out
