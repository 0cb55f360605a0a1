"""One-dimensional piecewise-linear functions as one-hidden-layer ReLU networks.

Arora, Basu, Mianjy, Mukherjee (ICLR 2018, arXiv 1611.01491), Thm 2.2: a
continuous PWL function ``R -> R`` with ``p`` pieces is a one-hidden-layer
network with at most ``p`` units, and needs at least ``p - 1``. With knots
``t_1 < ... < t_{p-1}`` and slopes ``s_0 .. s_{p-1}``:

``f(x) = f(t_1) - s_0 σ(t_1 - x) + s_1 σ(x - t_1) + Σ_{i>=2} (s_i - s_{i-1}) σ(x - t_i)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, NonFiniteError, ShapeError
from .._validation import as_float_array, check_positive_int
from ..network import Network
from ._tape import finish

__all__ = ["interpolate", "approximate", "PWLApproximation"]


def _check_knots(xs: Any, ys: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(xs, "xs", ndim=1)
    y = as_float_array(ys, "ys", ndim=1)
    if x.shape != y.shape:
        raise ShapeError(f"'xs' and 'ys' must have the same length; got {x.size} and {y.size}.")
    if x.size < 2:
        raise InvalidParameterError(f"'xs' needs at least 2 points (1 segment); got {x.size}.")
    dx = np.diff(x)
    if np.any(dx <= 0):
        i = int(np.argmax(dx <= 0))
        raise InvalidParameterError(
            f"'xs' must be strictly increasing; got xs[{i}] = {x[i]} >= xs[{i + 1}] = {x[i + 1]}."
        )
    return x, y


def interpolate(xs: Any, ys: Any, extrapolate: str = "linear") -> Network:
    """The continuous piecewise-linear function through ``(xs[i], ys[i])`` as a ReLU network.

    Parameters
    ----------
    xs : array_like of shape (N + 1,)
        Strictly increasing knots; ``N >= 1`` segments.
    ys : array_like of shape (N + 1,)
        Values at the knots.
    extrapolate : {"linear", "constant"}
        Outside ``[xs[0], xs[-1]]``: continue the first and last segments
        (``N`` pieces on ``R``), or hold the end values (``N + 2`` pieces).

    Returns
    -------
    Network
        ``R -> R`` with one hidden layer.

        * ``"linear"``: exactly ``N`` units for ``N >= 2`` segments (Arora et al.
          2018, Thm 2.2: ``σ(x_1 - x)`` and ``σ(x - x_i)`` for the ``N - 1`` interior
          knots). The lower bound is ``N - 1``; it is attainable only when some of
          the slope changes sum to the last slope (e.g. a horizontal end), so ``N``
          is optimal for general data. ``N = 1`` gives an affine network (0 units).
        * ``"constant"``: ``N + 1`` units ``σ(x - x_i)``, ``i = 0..N``; this is the
          lower bound ``p - 1`` for ``p = N + 2`` pieces, so it is optimal.

        Units with a zero coefficient (three collinear points) are kept, so the
        count never depends on the data. At ``xs[j]`` the output equals ``ys[j]``
        up to rounding: a few ulps of ``Σ_k |c_k| |xs[j] - t_k|`` (output weights
        ``c_k``, knots ``t_k``), e.g. below ``1e-12`` for unit-scale data.

    Examples
    --------
    >>> net = interpolate([0.0, 1.0, 2.0, 4.0], [0.0, 2.0, 1.0, 1.0])
    >>> net.hidden_widths
    (3,)
    >>> net(np.array([[0.0], [1.0], [2.0], [3.0], [5.0]])).ravel()
    array([0., 2., 1., 1., 1.])
    >>> interpolate([0.0, 1.0], [0.0, 1.0], extrapolate="constant")(np.array([[-1.0], [2.0]])).ravel()
    array([0., 1.])
    """
    x, y = _check_knots(xs, ys)
    if extrapolate not in ("linear", "constant"):
        raise InvalidParameterError(f"'extrapolate' must be 'linear' or 'constant'; got {extrapolate!r}.")
    n_seg = x.size - 1
    s = np.diff(y) / np.diff(x)
    if extrapolate == "constant":
        W1 = np.ones((n_seg + 1, 1))
        b1 = -x
        c = np.diff(np.concatenate([[0.0], s, [0.0]]))
        net = Network([(W1, b1, "relu"), (c[None, :], np.array([y[0]]), "identity")])
        pieces = n_seg + 2
    elif n_seg == 1:
        net = Network.affine([[s[0]]], [y[0] - s[0] * x[0]])
        pieces = 1
    else:
        t = x[1:-1]
        W1 = np.concatenate([[-1.0], np.ones(n_seg - 1)])[:, None]
        b1 = np.concatenate([[t[0]], -t])
        c = np.concatenate([[-s[0], s[1]], np.diff(s[1:])])
        net = Network([(W1, b1, "relu"), (c[None, :], np.array([y[1]]), "identity")])
        pieces = n_seg
    return finish(
        net,
        "interpolate",
        segments=n_seg,
        pieces=pieces,
        extrapolate=extrapolate,
        domain=[[float(x[0]), float(x[-1])]],
        best_known=f"one hidden layer needs >= {max(pieces - 1, 0)} units (Arora et al. 2018 Thm 2.2)",
        reference="Arora, Basu, Mianjy, Mukherjee, ICLR 2018, Thm 2.2",
    )


@dataclass(frozen=True)
class PWLApproximation:
    """Result of :func:`approximate`.

    Attributes
    ----------
    network : Network
        One hidden layer, ``len(knots) - 1`` units (linear extrapolation).
    knots : ndarray of shape (N + 1,)
        Breakpoints chosen (``knots[0] = lo``, ``knots[-1] = hi``).
    values : ndarray of shape (N + 1,)
        ``f(knots)``: the network interpolates ``f`` there.
    max_error : float
        ``max |network(x) - f(x)|`` measured on ``grid`` (which holds every knot).
    uniform_error : float
        The same measurement for the interpolant at ``N + 1`` equally spaced knots.
    grid : ndarray of shape (n_grid,)
        The dense grid of the measurement.

    Examples
    --------
    >>> res = approximate(np.abs, -1.0, 1.0, pieces=2, n_grid=101)
    >>> res.knots, res.max_error
    (array([-1.,  0.,  1.]), 0.0)
    """

    network: Network
    knots: np.ndarray
    values: np.ndarray
    max_error: float
    uniform_error: float
    grid: np.ndarray

    @property
    def n_pieces(self) -> int:
        """Number of segments ``N``."""
        return int(self.knots.size - 1)


def _evaluate(f: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    try:
        y = np.asarray(f(x), dtype=np.float64)
        ok = y.shape == x.shape
    except (TypeError, ValueError):
        ok = False
    if not ok:
        try:
            y = np.array([float(f(v)) for v in x])
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "'f' must map an array of shape (n,) to an array of shape (n,), or a float to a float."
            ) from exc
    if not np.all(np.isfinite(y)):
        bad = x[~np.isfinite(y)][:3]
        raise NonFiniteError(f"'f' returned NaN or inf on [lo, hi], e.g. at x = {bad.tolist()}.")
    return y


def _segment_error(xg: np.ndarray, yg: np.ndarray, a: int, b: int) -> float:
    """Max interpolation error of the chord from grid point ``a`` to ``b`` on the points between."""
    if b - a < 2:
        return 0.0
    t = (xg[a : b + 1] - xg[a]) / (xg[b] - xg[a])
    chord = yg[a] + t * (yg[b] - yg[a])
    return float(np.max(np.abs(chord - yg[a : b + 1])))


def _greedy(xg: np.ndarray, yg: np.ndarray, eps: float) -> list[int]:
    """Knots (grid indices): each segment extended as far as its error stays ``<= eps``."""
    last = xg.size - 1
    knots = [0]
    a = 0
    while a < last:
        if _segment_error(xg, yg, a, last) <= eps:
            b = last
        else:
            lo, hi = a + 1, last  # err(a, lo) = 0 <= eps < err(a, hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _segment_error(xg, yg, a, mid) <= eps:
                    lo = mid
                else:
                    hi = mid
            b = lo
        knots.append(b)
        a = b
    return knots


def _split_worst(xg: np.ndarray, yg: np.ndarray, knots: list[int], n_pieces: int) -> list[int]:
    """Add knots at the worst point of the worst splittable segment until there are ``n_pieces``."""
    knots = list(knots)
    while len(knots) - 1 < n_pieces:
        errs = [
            _segment_error(xg, yg, a, b) if b - a >= 2 else -1.0
            for a, b in zip(knots[:-1], knots[1:], strict=True)
        ]
        k = int(np.argmax(errs))
        if errs[k] < 0:
            break
        a, b = knots[k], knots[k + 1]
        t = (xg[a : b + 1] - xg[a]) / (xg[b] - xg[a])
        dev = np.abs(yg[a] + t * (yg[b] - yg[a]) - yg[a : b + 1])
        dev[[0, -1]] = -1.0
        knots.insert(k + 1, a + int(np.argmax(dev)))
    return knots


def approximate(
    f: Callable[[np.ndarray], Any],
    lo: float,
    hi: float,
    *,
    max_error: float | None = None,
    pieces: int | None = None,
    n_grid: int = 10001,
) -> PWLApproximation:
    """Fit a one-hidden-layer ReLU network to a function on ``[lo, hi]`` with adaptive knots.

    The network interpolates ``f`` at knots chosen on a dense grid of ``n_grid``
    points: greedily, each segment is made as long as its interpolation error
    (on the grid points it covers) stays ``<= eps``. With ``max_error`` that
    ``eps`` is used directly; with ``pieces`` the smallest ``eps`` giving at most
    ``pieces`` segments is found by bisection, and the worst segments are split
    if fewer are needed. Free knots matter for functions with uneven curvature
    (``√x``: error ``~N^(-1/2)`` with uniform knots vs ``~N^(-2)`` with free knots,
    DeVore, Acta Numerica 1998); for ``x²`` uniform knots are already optimal.

    Parameters
    ----------
    f : callable
        Vectorised ``f(x)`` for ``x`` of shape (n,) (a scalar function is also accepted).
    lo, hi : float
        The interval, ``lo < hi``.
    max_error : float, optional
        Target maximal error on the grid (``> 0``). Exactly one of ``max_error``
        and ``pieces`` must be given.
    pieces : int, optional
        Number of segments ``N >= 1``.
    n_grid : int
        Size of the grid on which knots are placed and errors are measured (``>= 3``).

    Returns
    -------
    PWLApproximation
        ``network`` (``N`` hidden units, ``N >= 2``; see :func:`interpolate`),
        ``knots``, ``values``, and ``max_error`` and ``uniform_error`` measured by
        evaluating the networks on the grid (not estimated).

    Examples
    --------
    >>> res = approximate(np.sqrt, 0.0, 1.0, pieces=8)
    >>> res.n_pieces, res.network.n_units
    (8, 8)
    >>> bool(res.max_error < res.uniform_error / 3)
    True
    >>> res = approximate(np.sin, 0.0, np.pi, max_error=1e-3)
    >>> bool(res.max_error <= 1e-3), res.n_pieces
    (True, 27)
    """
    lo_f, hi_f = float(lo), float(hi)
    if not (np.isfinite(lo_f) and np.isfinite(hi_f) and lo_f < hi_f):
        raise InvalidParameterError(f"'lo' and 'hi' must be finite with lo < hi; got lo={lo!r}, hi={hi!r}.")
    n_grid = check_positive_int(n_grid, "n_grid", minimum=3)
    if (max_error is None) == (pieces is None):
        raise InvalidParameterError(
            f"give exactly one of 'max_error' and 'pieces'; got max_error={max_error!r}, pieces={pieces!r}."
        )
    xg = np.linspace(lo_f, hi_f, n_grid)
    yg = _evaluate(f, xg)
    if max_error is not None:
        eps = float(max_error)
        if not (np.isfinite(eps) and eps > 0):
            raise InvalidParameterError(f"'max_error' must be a finite number > 0; got {max_error!r}.")
        knots = _greedy(xg, yg, eps)
    else:
        n_pieces = check_positive_int(pieces, "pieces")
        if n_pieces > n_grid - 1:
            raise InvalidParameterError(
                f"'pieces' must be <= n_grid - 1 = {n_grid - 1}; got {n_pieces}. Increase 'n_grid'."
            )
        e_lo, e_hi = 0.0, _segment_error(xg, yg, 0, n_grid - 1)
        knots = _greedy(xg, yg, e_hi)
        for _ in range(60):
            if e_hi - e_lo <= 1e-12 * max(e_hi, 1e-300):
                break
            mid = 0.5 * (e_lo + e_hi)
            cand = _greedy(xg, yg, mid)
            if len(cand) - 1 <= n_pieces:
                e_hi, knots = mid, cand
            else:
                e_lo = mid
        knots = _split_worst(xg, yg, knots, n_pieces)
    kx, ky = xg[knots], yg[knots]
    net = interpolate(kx, ky, extrapolate="linear")
    err = float(np.max(np.abs(net(xg[:, None]).ravel() - yg)))
    ux = np.linspace(lo_f, hi_f, kx.size)
    uy = _evaluate(f, ux)
    uerr = float(np.max(np.abs(interpolate(ux, uy)(xg[:, None]).ravel() - yg)))
    net = finish(
        net, "approximate", segments=int(kx.size - 1), max_error=err, uniform_error=uerr,
        domain=[[lo_f, hi_f]],
    )
    return PWLApproximation(net, kx, ky, err, uerr, xg)
