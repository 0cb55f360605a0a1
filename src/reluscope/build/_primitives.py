"""Primitive gadgets as one-hidden-layer ReLU networks (research note §2.1).

Every gadget is exact on all of ``R`` (or ``R²``) unless a ``bound`` is given.
Sizes are in hidden ReLUs; each gadget's docstring states why it cannot be smaller
where that is known.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InvalidParameterError
from ..network import Network
from ._tape import finish

__all__ = ["relu", "abs", "max2", "min2", "clip", "hat", "bucket", "step", "leaky_relu"]

_REF = "research note §2.1 (constructions.md)"


def _num(v: Any, name: str) -> float:
    try:
        out = float(v)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"'{name}' must be a real number; got {v!r}.") from exc
    if not np.isfinite(out):
        raise InvalidParameterError(f"'{name}' must be finite; got {v!r}.")
    return out


def _increasing(names: str, *vals: Any) -> list[float]:
    keys = names.split()
    out = [_num(v, n) for v, n in zip(vals, keys, strict=True)]
    if any(b <= a for a, b in zip(out[:-1], out[1:], strict=False)):
        got = ", ".join(f"{k}={v}" for k, v in zip(keys, out, strict=True))
        raise InvalidParameterError(f"the breakpoints must satisfy {' < '.join(keys)}; got {got}.")
    return out


def _one_layer(w1: Any, b1: Any, w2: Any, b2: Any, name: str, /, **info: Any) -> Network:
    """``x -> w2 σ(w1 x + b1) + b2`` with the construction's size report."""
    net = Network([
        (np.atleast_2d(np.asarray(w1, dtype=np.float64)), np.asarray(b1, dtype=np.float64), "relu"),
        (np.atleast_2d(np.asarray(w2, dtype=np.float64)), np.atleast_1d(np.asarray(b2, float)), "identity"),
    ])
    info.setdefault("reference", _REF)
    return finish(net, name, **info)


def relu() -> Network:
    """``σ(x) = max(0, x)``: 1 unit (optimal).

    Examples
    --------
    >>> relu()(np.array([[-1.0], [2.0]])).ravel()
    array([0., 2.])
    """
    return _one_layer([[1.0]], [0.0], [[1.0]], [0.0], "relu", best_known="1 unit")


def abs() -> Network:  # noqa: A001 - the gadget is named after the function it computes
    """``|x| = σ(x) + σ(-x)``: 2 units (optimal: one unit gives a function constant on a half-line).

    Examples
    --------
    >>> abs()(np.array([[-3.0], [2.0]])).ravel()
    array([3., 2.])
    """
    return _one_layer([[1.0], [-1.0]], [0.0, 0.0], [[1.0, 1.0]], [0.0], "abs", best_known="2 units")


def _pair(op: str, bound: float | None) -> Network:
    sign = 1.0 if op == "max" else -1.0
    # max(a, b) = b + σ(a - b);  min(a, b) = a - σ(a - b)
    keep = [0.0, 1.0] if op == "max" else [1.0, 0.0]
    if bound is None:
        W = [[1.0, -1.0], keep, [-k for k in keep]]
        return _one_layer(W, [0.0, 0.0, 0.0], [[sign, 1.0, -1.0]], [0.0], f"{op}2",
                          best_known="3 units on R^2 (optimal for one hidden layer)")
    M = _num(bound, "bound")
    if M <= 0:
        raise InvalidParameterError(f"'bound' must be > 0; got {bound!r}.")
    W = [[1.0, -1.0], keep]
    return _one_layer(W, [0.0, M], [[sign, 1.0]], [-M], f"{op}2", bound=M,
                      domain=[[-M, M], [-M, M]], best_known="2 units on a box")


def max2(bound: float | None = None) -> Network:
    """``max(a, b) = b + σ(a - b)`` with ``b = σ(b) - σ(-b)``: 3 units; 2 with ``bound``.

    Parameters
    ----------
    bound : float, optional
        If given, the network is exact for ``b >= -bound`` and carries ``b`` as
        ``σ(b + bound) - bound`` (1 unit).

    Notes
    -----
    3 units are the fewest for one hidden layer on ``R²``: the kink line
    ``a = b`` needs a unit; with two units, a unit on another line would leave a
    kink there that nothing cancels, so both would lie on ``a = b`` and the
    network would depend on ``a - b`` only, which ``max(a, b)`` does not.

    Examples
    --------
    >>> max2()(np.array([[1.0, 2.0], [3.0, -1.0]])).ravel()
    array([2., 3.])
    >>> max2().n_units, max2(bound=1.0).n_units
    (3, 2)
    """
    return _pair("max", bound)


def min2(bound: float | None = None) -> Network:
    """``min(a, b) = a - σ(a - b)``: 3 units; 2 with ``bound`` (see :func:`max2`).

    Examples
    --------
    >>> min2()(np.array([[1.0, 2.0], [3.0, -1.0]])).ravel()
    array([ 1., -1.])
    """
    return _pair("min", bound)


def clip(a: float, b: float) -> Network:
    """``clip(x, a, b) = σ(x - a) + a - σ(x - b)`` for ``a < b``: 2 units (optimal: 2 kinks).

    Examples
    --------
    >>> clip(-1.0, 2.0)(np.array([[-5.0], [0.5], [7.0]])).ravel()
    array([-1. ,  0.5,  2. ])
    """
    a, b = _increasing("a b", a, b)
    return _one_layer([[1.0], [1.0]], [-a, -b], [[1.0, -1.0]], [a], "clip", a=a, b=b,
                      best_known="2 units")


def hat(a: float, b: float, c: float) -> Network:
    """The triangle that rises from 0 at ``a`` to 1 at ``b`` and falls to 0 at ``c``: 3 units (optimal).

    ``σ(x - a)/(b - a) - (1/(b - a) + 1/(c - b)) σ(x - b) + σ(x - c)/(c - b)``.

    Examples
    --------
    >>> hat(0.0, 1.0, 3.0)(np.array([[-1.0], [0.5], [1.0], [2.0], [4.0]])).ravel()
    array([0. , 0.5, 1. , 0.5, 0. ])
    """
    a, b, c = _increasing("a b c", a, b, c)
    p, q = 1.0 / (b - a), 1.0 / (c - b)
    return _one_layer([[1.0]] * 3, [-a, -b, -c], [[p, -(p + q), q]], [0.0], "hat", a=a, b=b, c=c,
                      best_known="3 units (3 kinks)")


def bucket(a: float, b: float, c: float, d: float) -> Network:
    """The trapezoid: 0 before ``a``, rises to 1 on ``[a, b]``, 1 on ``[b, c]``, falls to 0 on ``[c, d]``.

    4 units ``σ(x - a)``, ``σ(x - b)``, ``σ(x - c)``, ``σ(x - d)`` (optimal: 4 kinks).

    Examples
    --------
    >>> bucket(0.0, 1.0, 2.0, 4.0)(np.array([[0.5], [1.5], [3.0], [5.0]])).ravel()
    array([0.5, 1. , 0.5, 0. ])
    """
    a, b, c, d = _increasing("a b c d", a, b, c, d)
    p, q = 1.0 / (b - a), 1.0 / (d - c)
    return _one_layer([[1.0]] * 4, [-a, -b, -c, -d], [[p, -p, -q, q]], [0.0], "bucket",
                      a=a, b=b, c=c, d=d, best_known="4 units (4 kinks)")


def step(eps: float) -> Network:
    """The steep step ``H_eps(x) = σ(x/eps) - σ(x/eps - 1)``: 0 for ``x <= 0``, 1 for ``x >= eps``.

    Equals the indicator ``1[x >= 0]`` outside ``[0, eps)``; 2 units (a continuous
    function needs two kinks to go from one constant to another).

    Examples
    --------
    >>> step(0.1)(np.array([[-1.0], [0.05], [0.1], [3.0]])).ravel()
    array([0. , 0.5, 1. , 1. ])
    """
    e = _num(eps, "eps")
    if e <= 0:
        raise InvalidParameterError(f"'eps' must be > 0; got {eps!r}.")
    return _one_layer([[1.0 / e]] * 2, [0.0, -1.0], [[1.0, -1.0]], [0.0], "step", eps=e,
                      best_known="2 units")


def leaky_relu(alpha: float) -> Network:
    """``LeakyReLU_alpha(x) = σ(x) - alpha σ(-x)``: 2 units (1 when ``alpha = 0``: it is then σ).

    2 is optimal for ``alpha != 0``: one unit gives a function that is constant
    on a half-line.

    Examples
    --------
    >>> leaky_relu(0.1)(np.array([[-2.0], [3.0]])).ravel()
    array([-0.2,  3. ])
    """
    al = _num(alpha, "alpha")
    if al == 0.0:
        return finish(relu(), "leaky_relu", alpha=al, best_known="1 unit")
    return _one_layer([[1.0], [-1.0]], [0.0, 0.0], [[1.0, -al]], [0.0], "leaky_relu", alpha=al,
                      best_known="2 units")
