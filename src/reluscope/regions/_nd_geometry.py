"""Polyhedra of activation patterns and the patterns just across a facet (n-D walk).

On a fixed pattern every layer's pre-activation is affine in the input (DESIGN §2),
so the region of the pattern is the polyhedron (Hanin & Rolnick 2019, §2;
Serra et al. 2018, eq. 1)::

    { x : β_{k-1} <= z_u(x) <= β_k   for every unit u on piece k }

with ``β`` the breakpoints of the unit's activation. Each breakpoint of a unit
gives one row (oriented by the piece), so a ReLU unit gives one row and a HardTanh
unit two (one of them redundant off the middle piece). Everything is vectorised
over a batch of patterns, and the rows are scaled to unit norm, so slacks are
Euclidean distances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..activations import Activation
from ..network import Network
from ._recurrence import split_breakpoints

if TYPE_CHECKING:
    from ._nd_geometry_kernels import Packed

__all__ = ["UnitTable", "HRep", "unit_table", "halfspaces", "patterns_at", "patterns_across"]


@dataclass(frozen=True)
class UnitTable:
    """Which layers split regions and how the rows of a region's H-representation are laid out.

    Attributes
    ----------
    weights, biases, acts : per layer (all layers, output included)
    bps : per layer, the breakpoints whose level sets split (empty: no rows)
    n_split : number of layers whose units enter the pattern (hidden, + output)
    unit_start : (n_split + 1,) first pattern column of each splitting layer
    row_start : (n_split + 1,) first row of each splitting layer
    row_unit : (n_rows,) the unit of each row
    row_bp : (n_rows,) which breakpoint of its unit each row is
    row_layer : (n_rows,) the layer of each row
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    acts: tuple[Activation, ...]
    bps: tuple[np.ndarray, ...]
    n_split: int
    unit_start: np.ndarray
    row_start: np.ndarray
    row_unit: np.ndarray
    row_bp: np.ndarray
    row_layer: np.ndarray

    @property
    def n_units(self) -> int:
        return int(self.unit_start[-1])

    @property
    def n_rows(self) -> int:
        return int(self.row_start[-1])

    @cached_property
    def packed(self) -> Packed:
        """The table as flat arrays, for the compiled kernels (:mod:`._nd_geometry_kernels`)."""
        from ._nd_geometry_kernels import pack

        return pack(self)


def unit_table(net: Network, include_output: bool) -> UnitTable:
    """Describe the splitting units of ``net`` (the output layer too when asked).

    With ``include_output`` a linear output unit splits at 0 (its decision boundary),
    as in :func:`reluscope.regions.on_segment`.
    """
    layers = net.layers
    n_split = len(layers) if include_output else len(layers) - 1
    bps, unit_start, row_start, row_unit, row_bp, row_layer = [], [0], [0], [], [], []
    for li, layer in enumerate(layers):
        last = li == len(layers) - 1
        bp = split_breakpoints(layer.activation, split_linear=last and include_output)
        if last and not include_output:
            bp = np.zeros(0)
        bps.append(bp)
        if li < n_split:
            unit_start.append(unit_start[-1] + layer.n_out)
            row_start.append(row_start[-1] + layer.n_out * len(bp))
            row_unit.append(np.repeat(np.arange(unit_start[-2], unit_start[-1]), len(bp)))
            row_bp.append(np.tile(np.arange(len(bp)), layer.n_out))
            row_layer.append(np.full(layer.n_out * len(bp), li))
    return UnitTable(
        tuple(layer.weight for layer in layers),
        tuple(layer.bias for layer in layers),
        tuple(layer.activation for layer in layers),
        tuple(bps),
        n_split,
        np.array(unit_start),
        np.array(row_start),
        *(np.concatenate(a) if a else np.zeros(0, dtype=np.int64) for a in (row_unit, row_bp, row_layer)),
    )


class HRep(NamedTuple):
    """H-representations and affine output maps of a batch of ``R`` patterns.

    Attributes
    ----------
    G : (R, n_rows + D, n) unit outward normals, ``G x <= h`` on the region (the units'
        rows, then the ``D`` rows of the domain, if given)
    h : (R, n_rows + D)
    valid : (R, n_rows + D) bool, False for the rows of units constant on the region
    feasible : (R,) bool, False when such a constant unit is on the wrong piece
    degenerate : (R,) bool, True when such a constant unit sits at a breakpoint
    A_out : (R, n_out, n) and c_out : (R, n_out)
        The output (pre-activation of the last layer when it does not split) on the region.
    """

    G: np.ndarray
    h: np.ndarray
    valid: np.ndarray
    feasible: np.ndarray
    degenerate: np.ndarray
    A_out: np.ndarray
    c_out: np.ndarray


def _post(act: Activation, bp: np.ndarray, piece: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of each unit on its piece (``piece`` counts split breakpoints)."""
    if act.is_linear:
        return np.full(piece.shape, act.slopes[0]), np.full(piece.shape, act.intercepts[0])
    return act.slopes[piece], act.intercepts[piece]


def halfspaces(table: UnitTable, patterns: np.ndarray, tol: float, compiled: bool = False,
               domain_rows: tuple[np.ndarray, np.ndarray] | None = None) -> HRep:
    """H-representations and output maps of a batch of patterns.

    Parameters
    ----------
    table : UnitTable
    patterns : int8 ndarray of shape (R, n_units)
    tol : float
        Relative tolerance: a unit whose gradient is below ``tol`` times its
        cancellation-free magnitude (``|W_l| ... |W_1|``) is constant on the region.
    compiled : bool, default False
        Use the compiled loop of :mod:`._nd_geometry_kernels` (needs numba; the same
        arithmetic, without NumPy's fixed cost per call).
    domain_rows : ((D, n), (D,)), optional
        Rows ``D x <= d`` of a domain, appended to every H-representation (always valid).

    Returns
    -------
    HRep

    Examples
    --------
    The quadrant ``x0 > 0, x1 <= 0`` of two ReLUs on the axes:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> hr = halfspaces(unit_table(net, False), np.array([[1, 0]], dtype=np.int8), 1e-9)
    >>> hr.G[0], hr.h[0]
    (array([[-1., -0.],
           [ 0.,  1.]]), array([0., 0.]))
    >>> hr.A_out[0], hr.c_out[0]
    (array([[1., 0.]]), array([0.]))
    """
    if compiled:
        from . import _nd_geometry_kernels

        Dg, Dh = (None, None) if domain_rows is None else domain_rows
        return HRep(*_nd_geometry_kernels.halfspaces(table.packed, patterns, tol, Dg, Dh))
    hr = _halfspaces(table, patterns, tol)
    if domain_rows is None or not len(domain_rows[1]):
        return hr
    Dg, Dh = domain_rows
    R = patterns.shape[0]
    return hr._replace(
        G=np.concatenate([hr.G, np.broadcast_to(Dg, (R,) + Dg.shape)], axis=1),
        h=np.concatenate([hr.h, np.broadcast_to(Dh, (R, len(Dh)))], axis=1),
        valid=np.concatenate([hr.valid, np.ones((R, len(Dh)), dtype=bool)], axis=1),
    )


def _halfspaces(table: UnitTable, patterns: np.ndarray, tol: float) -> HRep:
    """The NumPy arithmetic of :func:`halfspaces` (unit rows only)."""
    R = patterns.shape[0]
    n = table.weights[0].shape[1]
    M = table.n_rows
    G = np.empty((R, M, n))
    h = np.empty((R, M))
    valid = np.ones((R, M), dtype=bool)
    feasible = np.ones(R, dtype=bool)
    degenerate = np.zeros(R, dtype=bool)
    P = None  # input -> layer input: x -> P x + q (P is None for the identity)
    q = np.zeros((R, n))
    js = np.ones((R, n))  # cancellation-free magnitude of the gradient of each input
    zs = np.zeros((R, n))  # ... and of the constant term
    for li, (W, b, act) in enumerate(zip(table.weights, table.biases, table.acts, strict=True)):
        Z = np.broadcast_to(W, (R,) + W.shape) if P is None else np.einsum("ow,rwn->ron", W, P)
        z0 = q @ W.T + b
        absW = np.abs(W)
        js, zs = js @ absW.T, zs @ absW.T + np.abs(b)
        if li >= table.n_split:
            return HRep(G, h, valid, feasible, degenerate, np.array(Z), z0)
        bp = table.bps[li]
        u0, u1 = table.unit_start[li], table.unit_start[li + 1]
        piece = patterns[:, u0:u1].astype(np.intp)
        nb = len(bp)
        if nb:
            nrm = np.linalg.norm(Z, axis=2)
            const = nrm <= tol * js
            safe = np.where(const, 1.0, nrm)
            r0 = table.row_start[li]
            for j, beta in enumerate(bp):
                s = np.where(piece > j, -1.0, 1.0)
                rows = slice(r0 + j, r0 + nb * (u1 - u0), nb)
                G[:, rows, :] = (s / safe)[:, :, None] * Z
                rhs = s * (beta - z0)
                h[:, rows] = rhs / safe
                valid[:, rows] = ~const
                eps = tol * (zs + abs(beta))
                feasible &= ~np.any(const & (rhs < -eps), axis=1)
                degenerate |= np.any(const & (np.abs(rhs) <= eps), axis=1)
        slope, icpt = _post(act, bp, piece)
        P = slope[:, :, None] * Z
        q = slope * z0 + icpt
        js = np.abs(slope) * js
        zs = np.abs(slope) * zs + np.abs(icpt)
    # every layer splits (include_output): the output map is the last post-activation
    return HRep(G, h, valid, feasible, degenerate, P, q)


def _forward(
    table: UnitTable,
    x: np.ndarray,
    tol: float,
    direction: np.ndarray | None = None,
    second: np.ndarray | None = None,
    tied: np.ndarray | None = None,
    scale: float = 0.0,
) -> np.ndarray:
    """Pieces at ``x`` (F, n); units at a breakpoint are decided along ``direction``, then ``second``.

    A unit is *at* a breakpoint when ``tied`` says so (F, n_rows), or when its value
    is there up to rounding: ``tol`` times its cancellation-free magnitude, plus the
    change that moving ``x`` by ``tol * scale`` per coordinate can make (``x`` is known
    only that well: a facet point is computed to ``tol`` of the problem's length
    ``scale``, which matters near the origin of a network without biases, where every
    value is as small as ``x``). Its side is the sign of its derivative along
    ``direction`` (through the pieces already chosen for earlier layers), else along
    ``second``, else of its value.
    """
    F, n = x.shape
    out = np.zeros((F, table.n_units), dtype=np.int8)
    hval = x
    zs = np.abs(x)
    gs = np.ones((1, n))  # cancellation-free |gradient| (row sums) of each value
    lex = direction is not None
    if lex:
        dh = np.ascontiguousarray(np.broadcast_to(direction, x.shape))
        eh = np.ascontiguousarray(np.broadcast_to(second, x.shape))
        dhs, ehs = np.abs(dh), np.abs(eh)
    for li in range(table.n_split):
        W, b, act, bp = table.weights[li], table.biases[li], table.acts[li], table.bps[li]
        absW = np.abs(W)
        z = hval @ W.T + b
        zs = zs @ absW.T + np.abs(b)
        gs = gs @ absW.T
        if lex:
            dz, ez = dh @ W.T, eh @ W.T
            dzs, ezs = dhs @ absW.T, ehs @ absW.T
        piece = np.zeros(z.shape, dtype=np.intp)
        u0, u1 = table.unit_start[li], table.unit_start[li + 1]
        r0, nb = table.row_start[li], len(bp)
        for j, beta in enumerate(bp):
            v = z - beta
            above = v > 0
            if lex:
                tie = np.abs(v) <= tol * (zs + abs(beta) + scale * gs)
                if tied is not None:
                    tie |= tied[:, r0 + j : table.row_start[li + 1] : nb]
                if np.any(tie):
                    side = np.where(
                        np.abs(dz) > tol * dzs, dz > 0, np.where(np.abs(ez) > tol * ezs, ez > 0, above)
                    )
                    above = np.where(tie, side, above)
            piece += above
        out[:, u0:u1] = piece
        slope, icpt = _post(act, bp, piece)
        hval = slope * z + icpt
        zs = np.abs(slope) * zs + np.abs(icpt)
        gs = np.abs(slope) * gs
        if lex:
            dh, eh = slope * dz, slope * ez
            dhs, ehs = np.abs(slope) * dzs, np.abs(slope) * ezs
    return out


def patterns_at(table: UnitTable, x: np.ndarray, compiled: bool = False) -> np.ndarray:
    """Pattern (pieces of the splitting units) at each point of ``x`` (F, n).

    With ``compiled`` the compiled loop of :mod:`._nd_geometry_kernels` does it (needs numba).

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network.random([2, 3, 1], seed=0)
    >>> bool(np.array_equal(patterns_at(unit_table(net, False), np.ones((1, 2))), net.pattern(np.ones((1, 2)))))
    True
    """
    if compiled:
        from . import _nd_geometry_kernels

        return _nd_geometry_kernels.patterns_at(table.packed, x)
    return _forward(table, x, 0.0)


def patterns_across(
    table: UnitTable,
    x: np.ndarray,
    direction: np.ndarray,
    second: np.ndarray,
    tol: float,
    tied: np.ndarray | None = None,
    scale: float = 0.0,
) -> np.ndarray:
    """Pattern of the region entered from ``x`` along ``direction`` (lexicographically).

    The pattern at ``x + δ d + δ² e`` for ``δ → 0+`` (``d = direction``,
    ``e = second``): a unit at a breakpoint at ``x`` takes the side its directional
    derivative along ``d`` points to, then along ``e``, the derivatives using the
    pieces already chosen for earlier layers. This is exact where several units
    meet at ``x`` (coincident hyperplanes, a deeper unit's bent hyperplane through
    ``x``), which a finite step cannot guarantee.

    Parameters
    ----------
    x, direction, second : ndarray of shape (F, n)
    tol : float
        Relative tolerance for a value or derivative to be zero.
    tied : bool ndarray of shape (F, n_rows), optional
        Rows (unit and breakpoint) known to be tight at ``x`` (e.g. the rows of the
        facet being crossed).
    scale : float, default 0
        Length scale of the problem: ``x`` is taken to be known to ``tol * scale`` per
        coordinate, so a unit within that reach of its breakpoint counts as at it.

    Examples
    --------
    At the origin both ReLUs of ``relu(x0), relu(x0 + x1)`` are at their breakpoint; the
    direction decides:

    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network([(np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2), "relu"),
    ...                (np.ones((1, 2)), np.zeros(1), "identity")])
    >>> t = unit_table(net, False)
    >>> patterns_across(t, np.zeros((2, 2)), np.array([[1.0, -2.0], [-1.0, 0.0]]),
    ...                 np.array([0.6, 0.8]), 1e-9)
    array([[1, 0],
           [0, 0]], dtype=int8)
    """
    return _forward(table, x, tol, direction, second, tied, scale)
