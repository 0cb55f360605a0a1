"""Depth separations: Telgarsky's sawtooth and Yarotsky's squaring and multiplication.

* :func:`sawtooth`: ``f_0 = x``, ``f_l = 2 |f_{l-1}| - 2`` (research note §2.5). ``f_L``
  maps ``[-2, 2]`` onto itself, is affinely conjugate to the ``L``-fold tent map,
  and has exactly ``2^L`` linear pieces on ``R`` (kinks at ``-2 + 4k / 2^L``,
  ``k = 1 .. 2^L - 1``); 2 ReLUs per hidden layer.
* :func:`shallow_sawtooth`: the same function with one hidden layer, ``2^L`` ReLUs.
* :func:`square`: Yarotsky's ``f_m(x) = x - sum_s g_s(x) / 4^s``, the piecewise
  linear interpolant of ``x²`` at ``k / 2^m``, error ``2^(-2m-2)`` on ``[0, 1]``.
* :func:`multiply`: ``xy = B² (sq(u) - sq(v))`` with ``u = (x + y) / 2B``,
  ``v = (x - y) / 2B``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._errors import InvalidParameterError
from .._validation import check_positive_int
from ..network import Network
from ._pwl1d import interpolate
from ._tape import LayerBuilder, Tape, finish

__all__ = [
    "sawtooth",
    "sawtooth_breakpoints",
    "shallow_sawtooth",
    "square",
    "multiply",
    "DepthWidthRow",
    "depth_vs_width",
]

_MAX_LEVELS = 30


def _check_levels(L: int, name: str = "L", maximum: int = _MAX_LEVELS) -> int:
    L = check_positive_int(L, name)
    if L > maximum:
        raise InvalidParameterError(f"'{name}' must be <= {maximum}; got {L}.")
    return L


def sawtooth_breakpoints(L: int) -> np.ndarray:
    """The ``2^L - 1`` kinks of :func:`sawtooth` ``(L)``: ``-2 + 4k / 2^L``, ``k = 1 .. 2^L - 1``.

    Examples
    --------
    >>> sawtooth_breakpoints(2)
    array([-1.,  0.,  1.])
    """
    L = _check_levels(L, maximum=24)
    return -2.0 + 4.0 * np.arange(1, 2**L) / 2**L


def sawtooth(L: int) -> Network:
    """Telgarsky's sawtooth ``f_L`` with ``f_0 = x``, ``f_l = 2|f_{l-1}| - 2``.

    Each hidden layer computes ``σ(f)`` and ``σ(-f)``, and ``f_l = 2σ(f) + 2σ(-f) - 2``.

    Parameters
    ----------
    L : int
        Number of hidden layers (``1 <= L <= 30``).

    Returns
    -------
    Network
        ``R -> R``; ``2L`` units in ``L`` hidden layers (width 2). ``f_L`` has
        exactly ``2^L`` linear pieces on ``R`` (``2^L`` zeros in ``[-2, 2]``,
        ``4 / 2^L`` apart; slopes ``±2^L``) and maps ``[-2, 2]`` onto itself. Any
        one-hidden-layer network needs ``>= 2^L - 1`` units (Arora et al. 2018,
        Thm 2.2); a network with ``l`` layers of width ``w`` has ``<= (2w)^l``
        pieces (Telgarsky 2016).

    Notes
    -----
    This is the variant of the source notes (research note §2.5). It is affinely
    conjugate to the tent map ``m(y) = 1 - |2y - 1|`` on ``[0, 1]``:
    ``f_L(4y - 2) = 2 - 4 m^L(y)`` (the tests check this identity), and it keeps
    exactly ``2^L`` pieces on all of ``R``, not only on its interval. References: Telgarsky, "Representation benefits of
    deep feedforward networks", arXiv 1509.08101; "Benefits of depth in neural
    networks", COLT 2016.

    Examples
    --------
    >>> net = sawtooth(2)
    >>> net(np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]])).ravel()
    array([ 2., -2.,  2., -2.,  2.])
    >>> net.n_units, net.depth - 1
    (4, 2)
    """
    L = _check_levels(L)
    layers: list[tuple] = [(np.array([[1.0], [-1.0]]), np.zeros(2), "relu")]
    W = np.array([[2.0, 2.0], [-2.0, -2.0]])
    for _ in range(L - 1):
        layers.append((W, np.array([-2.0, 2.0]), "relu"))
    layers.append((np.array([[2.0, 2.0]]), np.array([-2.0]), "identity"))
    return finish(
        Network(layers),
        "sawtooth",
        L=L,
        pieces=2**L,
        domain=[[-2.0, 2.0]],
        best_known=f"one hidden layer needs >= {2**L - 1} units (Arora et al. 2018 Thm 2.2); "
        f"exactly {2**L} on R (shallow_sawtooth)",
        reference="Telgarsky arXiv 1509.08101, COLT 2016; research note §2.5",
    )


def shallow_sawtooth(L: int) -> Network:
    """The function of :func:`sawtooth` ``(L)`` with one hidden layer of ``2^L`` ReLUs.

    Built with :func:`interpolate` (linear extrapolation) through the ``2^L + 1``
    points ``(-2 + 4k / 2^L, 2 (-1)^k)``; it equals ``sawtooth(L)`` on all of ``R``.

    Returns
    -------
    Network
        ``2^L`` units, 1 hidden layer. Fewest possible: ``2^L - 1`` units would
        need a subset of the slope jumps (all ``±2^(L+1)``) to sum to the last
        slope ``2^L``, which is impossible; so ``2^L`` is optimal for one hidden
        layer on ``R`` (see :func:`interpolate`).

    Examples
    --------
    >>> net = shallow_sawtooth(3)
    >>> net.hidden_widths
    (8,)
    >>> x = np.linspace(-3, 3, 61)[:, None]
    >>> bool(np.allclose(net(x), sawtooth(3)(x), rtol=0, atol=1e-12))
    True
    """
    L = _check_levels(L, maximum=16)
    k = np.arange(2**L + 1)
    xs = -2.0 + 4.0 * k / 2**L
    ys = np.where(k % 2 == 0, 2.0, -2.0)
    net = interpolate(xs, ys, extrapolate="linear")
    return finish(
        net,
        "shallow_sawtooth",
        L=L,
        pieces=2**L,
        domain=[[-2.0, 2.0]],
        best_known=f"{2**L} units is the minimum for one hidden layer on R (lower bound {2**L - 1}, "
        "Arora et al. 2018 Thm 2.2, not attainable here)",
        reference="Arora et al. ICLR 2018 Thm 2.2",
    )


def _yarotsky_layer(L: LayerBuilder, g: int, f: int, s: int) -> tuple[int, int]:
    """Layer ``s >= 2``: ``h = (σ(g), σ(g - 1/2), σ(f))``, ``g' = 2h1 - 4h2``, ``f' = h3 - g'/4^s``."""
    h1 = L.relu({g: 1.0})
    h2 = L.relu({g: 1.0}, -0.5)
    h3 = L.relu({f: 1.0})
    q = 4.0**-s
    return L.emit({h1: 2.0, h2: -4.0}), L.emit({h3: 1.0, h1: -2.0 * q, h2: 4.0 * q})


def _first_signed_layer(L: LayerBuilder, w: int) -> tuple[int, int]:
    """Layer 1 for ``u = wire w`` in ``[-1, 1]``: ``(g_1, f_1)`` of ``|u|`` from 4 units.

    ``|u| = σ(u) + σ(-u)`` and ``σ(|u| - 1/2) = σ(u - 1/2) + σ(-u - 1/2)``, so ``|u|``
    costs no extra layer.
    """
    a = [L.relu({w: 1.0}), L.relu({w: -1.0})]
    b = [L.relu({w: 1.0}, -0.5), L.relu({w: -1.0}, -0.5)]
    g = L.emit({u: 2.0 for u in a} | {u: -4.0 for u in b})
    f = L.emit({u: 0.5 for u in a} | {u: 1.0 for u in b})
    return g, f


def _square_chain(tape: Tape, w: int, signed: bool) -> tuple[int, int]:
    """Layer 1 of Yarotsky's chain for ``u²`` (``u`` = wire ``w``, ``|u| <= 1`` if signed)."""
    L = tape.layer()
    if signed:
        g, f = _first_signed_layer(L, w)
        L.commit()
        return g, f
    a = {L.relu({w: 1.0}): 1.0}
    b = {L.relu({w: 1.0}, -0.5): 1.0}
    g = L.emit({u: 2.0 for u in a} | {u: -4.0 for u in b})  # g_1 = 2|u| - 4σ(|u| - 1/2)
    f = L.emit({u: 0.5 for u in a} | {u: 1.0 for u in b})  # f_1 = |u| - g_1/4
    L.commit()
    return g, f


def _check_m(m: int) -> int:
    return _check_levels(m, "m", maximum=26)


def square(m: int, bound: float | None = None) -> Network:
    """Yarotsky's deep approximation of ``x²``: the interpolant at ``k / 2^m``.

    Tooth ``g(x) = 2σ(x) - 4σ(x - 1/2) + 2σ(x - 1)``, ``g_s = g ∘ ... ∘ g``;
    ``f_m(x) = x - Σ_{s=1}^m g_s(x) / 4^s`` (Yarotsky 2017, Prop. 2). Hidden layer
    ``s`` computes ``(σ(g_{s-1}), σ(g_{s-1} - 1/2), σ(f_{s-1}))`` (valid because
    ``g_s ∈ [0, 1]`` and ``f_s >= x² >= 0``; research note §2.6).

    Parameters
    ----------
    m : int
        Number of hidden layers (``1 <= m <= 26``).
    bound : float, optional
        ``None``: approximate ``x²`` on ``[0, 1]``. ``M``: approximate ``x²`` on
        ``[-M, M]`` as ``M² f_m(|x| / M)``; ``|x|`` costs one more unit in the
        first layer, not one more layer.

    Returns
    -------
    Network
        ``R -> R``, ``m`` hidden layers. Units: ``3m - 1`` on ``[0, 1]`` (the first
        layer needs only ``σ(x)``, ``σ(x - 1/2)``), ``3m + 1`` with ``bound``.
        Max error ``2^(-2m-2)`` on ``[0, 1]`` (``M² 2^(-2m-2)`` on ``[-M, M]``), attained
        at the midpoints between the knots ``k / 2^m``. A one-hidden-layer net
        interpolating at the same knots needs ``2^m`` units.

    Examples
    --------
    >>> net = square(3)
    >>> x = np.linspace(0, 1, 2**3 + 1)
    >>> bool(np.allclose(net(x[:, None]).ravel(), x**2, rtol=0, atol=1e-15))
    True
    >>> float(net(np.array([1 / 16]))[0] - 1 / 256)   # error at a midpoint: 2^-8
    0.00390625
    >>> net.n_units, square(3, bound=2.0).n_units
    (8, 10)
    """
    m = _check_m(m)
    M = None
    if bound is not None:
        M = float(bound)
        if not (np.isfinite(M) and M > 0):
            raise InvalidParameterError(f"'bound' must be None or a finite number > 0; got {bound!r}.")
    tape = Tape(1)
    if M is not None:
        tape.linear([[1.0 / M]])
    g, f = _square_chain(tape, 0, signed=M is not None)
    for s in range(2, m + 1):
        L = tape.layer()
        g, f = _yarotsky_layer(L, g, f, s)
        L.commit()
    scale = 1.0 if M is None else M * M
    net = tape.network(outputs=[f], readout=[[scale]])
    err = scale * 2.0 ** (-2 * m - 2)
    return finish(
        net,
        "square",
        m=m,
        bound=M,
        max_error=err,
        domain=[[0.0, 1.0]] if M is None else [[-M, M]],
        best_known="Yarotsky 2017: 3m units, m layers, error 4^-(m+1); one hidden layer: "
        f"{2**m} units for the same interpolant, error ~1/(8N^2) with N free knots",
        reference="Yarotsky, Neural Networks 94 (2017), arXiv 1610.01145, Prop. 2",
    )


def multiply(m: int, bound: float = 1.0) -> Network:
    """Approximate ``x * y`` for ``|x|, |y| <= bound`` by polarisation of Yarotsky's square.

    ``xy = ((x + y)² - (x - y)²) / 4 = B² (u² - v²)`` with ``u = (x + y) / 2B`` and
    ``v = (x - y) / 2B`` in ``[-1, 1]``; each square is :func:`square` ``(m, bound=1)``.

    Returns
    -------
    Network
        ``R² -> R``; ``6m + 2`` units in ``m`` hidden layers. Both squares err
        upwards by ``e ∈ [0, 2^(-2m-2)]``, so ``|net - xy| <= B² 2^(-2m-2)``; the
        output is exactly 0 when ``x = 0`` or ``y = 0`` (then ``|u| = |v|``).
        Yarotsky (2017, Prop. 3) uses ``(sq(x + y) - sq(x) - sq(y)) / 2``.

    Examples
    --------
    >>> net = multiply(6, bound=2.0)
    >>> xy = np.array([[1.5, -0.5], [0.0, 1.7], [-2.0, -2.0]])
    >>> bool(np.all(np.abs(net(xy).ravel() - xy[:, 0] * xy[:, 1]) <= 4 * 2.0**-14))
    True
    >>> float(net(np.array([0.0, 1.3]))[0]), net.n_units
    (0.0, 38)
    """
    m = _check_m(m)
    B = float(bound)
    if not (np.isfinite(B) and B > 0):
        raise InvalidParameterError(f"'bound' must be a finite number > 0; got {bound!r}.")
    tape = Tape(2)
    tape.linear(np.array([[1.0, 1.0], [1.0, -1.0]]) / (2.0 * B))
    # Both chains share the tape: build layer 1 for u and v, then the remaining layers.
    L = tape.layer()
    gf = [_first_signed_layer(L, w) for w in (0, 1)]
    L.commit()
    for s in range(2, m + 1):
        L = tape.layer()
        gf = [_yarotsky_layer(L, g, f, s) for g, f in gf]
        L.commit()
    (_, fu), (_, fv) = gf
    net = tape.network(outputs=[fu, fv], readout=[[B * B, -B * B]])
    return finish(
        net,
        "multiply",
        m=m,
        bound=B,
        max_error=B * B * 2.0 ** (-2 * m - 2),
        domain=[[-B, B], [-B, B]],
        best_known="Yarotsky 2017 Prop. 3: O(ln 1/eps) depth and size",
        reference="Yarotsky, Neural Networks 94 (2017), arXiv 1610.01145, Prop. 3",
    )


@dataclass(frozen=True)
class DepthWidthRow:
    """One row of :func:`depth_vs_width`: the same function, deep and shallow.

    Attributes
    ----------
    task : str
        ``"sawtooth"`` or ``"square"``.
    level : int
        ``L`` (sawtooth) or ``m`` (square).
    pieces : int
        Linear pieces of the function on its interval.
    deep_units, deep_hidden_layers : int
        Size of :func:`sawtooth` ``(L)`` or :func:`square` ``(m)``.
    shallow_units : int
        Units of the one-hidden-layer network for the same function (``2^level``).
    shallow_lower_bound : int
        Fewest units any one-hidden-layer network can have (``pieces - 1``,
        Arora et al. 2018, Thm 2.2).
    max_error : float
        For ``"square"``: the error ``2^(-2m-2)`` of both networks; 0 for the sawtooth.

    Examples
    --------
    >>> row = depth_vs_width(3)[-1]
    >>> row.pieces, row.deep_units, row.shallow_units, row.shallow_lower_bound
    (8, 6, 8, 7)
    """

    task: str
    level: int
    pieces: int
    deep_units: int
    deep_hidden_layers: int
    shallow_units: int
    shallow_lower_bound: int
    max_error: float


def depth_vs_width(levels: int = 10, task: str = "sawtooth") -> tuple[DepthWidthRow, ...]:
    """Size of the deep and of the one-hidden-layer network for the same function.

    Parameters
    ----------
    levels : int
        Rows for ``level = 1 .. levels`` (``<= 24``).
    task : {"sawtooth", "square"}
        The sawtooth ``f_L`` (exact) or Yarotsky's interpolant of ``x²`` at ``k / 2^m``.

    Returns
    -------
    tuple of DepthWidthRow
        Sizes are computed from the formulas proven in :func:`sawtooth` and
        :func:`square` (the tests build the networks and compare).

    Examples
    --------
    >>> rows = depth_vs_width(4)
    >>> [(r.deep_units, r.shallow_units) for r in rows]
    [(2, 2), (4, 4), (6, 8), (8, 16)]
    >>> depth_vs_width(2, task="square")[-1].deep_units
    5
    """
    levels = _check_levels(levels, "levels", maximum=24)
    if task not in ("sawtooth", "square"):
        raise InvalidParameterError(f"'task' must be 'sawtooth' or 'square'; got {task!r}.")
    rows = []
    for k in range(1, levels + 1):
        if task == "sawtooth":
            rows.append(DepthWidthRow(task, k, 2**k, 2 * k, k, 2**k, 2**k - 1, 0.0))
        else:
            rows.append(DepthWidthRow(task, k, 2**k, 3 * k - 1, k, 2**k, 2**k - 1, math.ldexp(1.0, -2 * k - 2)))
    return tuple(rows)
