"""Lower bounds on the *maximal* number of linear regions of a ReLU architecture.

A lower bound ``B`` here means: some choice of weights and biases of the
architecture has at least ``B`` linear regions (the papers build it). It says
nothing about a particular, e.g. trained, network.

Each construction needs wide enough layers. By default a violated condition raises
:class:`~reluscope.InvalidParameterError` naming the rule. With
``reduce_input=True`` the construction is applied to the largest input dimension
``d < n0`` for which the condition holds: a network that ignores ``n0 - d`` input
coordinates has exactly as many regions on ``R^{n0}`` as on ``R^d`` (each region is a
cylinder), so the value is still a valid lower bound. That step is ours, not the
papers'.

References
----------
.. [M14] G. Montúfar, R. Pascanu, K. Cho, Y. Bengio, "On the number of linear regions of
   deep neural networks", NeurIPS 2014, Theorem 4.
.. [S18] T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting linear regions
   of deep neural networks", ICML 2018 (arXiv 1711.02114), Theorems 6 and 7 (numbers
   of the ICLR-2018 draft).
.. [A18] R. Arora, A. Basu, P. Mianjy, A. Mukherjee, "Understanding deep neural networks
   with rectified linear units", ICLR 2018, Theorem 2.11(i).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

from .._errors import InvalidParameterError
from ._upper import _partial_binomial_sum
from ._validate import check_int, check_widths

__all__ = ["montufar2014", "serra2018_lower", "arora2018_lower"]


def _folding_bound(n0: int, widths: tuple[int, ...], extra: int) -> int:
    """``prod_{l<L} (floor(n_l / n0) + extra)^{n0} * sum_{j<=n0} C(n_L, j)``."""
    if not widths:
        return 1
    total = 1
    for n in widths[:-1]:
        total *= (n // n0 + extra) ** n0
    return total * _partial_binomial_sum(widths[-1], n0)


def _effective_dim(n0: int, widths: tuple[int, ...], factor: int, name: str, reduce_input: bool) -> int:
    """The input dimension the construction is applied to (``n0`` or the largest valid ``d``)."""
    if not widths:
        return n0
    d = min(n0, min(widths) // factor)
    if d == n0:
        return n0
    rule = "n_l >= n0" if factor == 1 else f"n_l >= {factor} * n0"
    if not reduce_input:
        raise InvalidParameterError(
            f"{name} requires {rule} for every hidden layer; got n0 = {n0} and widths "
            f"{list(widths)}. Pass reduce_input=True to apply it to the largest valid input "
            "dimension instead (still a valid lower bound)."
        )
    if d < 1:
        raise InvalidParameterError(
            f"{name} requires {rule} for every hidden layer, which no input dimension d >= 1 "
            f"satisfies for widths {list(widths)} (every width must be >= {factor})."
        )
    return d


def montufar2014(n0: int, widths: Sequence[int], *, reduce_input: bool = False) -> int:
    """Montúfar et al.'s lower bound ``(prod_{l<L} floor(n_l/n0)^{n0}) * sum_{j=0}^{n0} C(n_L, j)`` [M14]_.

    Theorem 4 of the NeurIPS version (asymptotically ``Omega((n/n0)^{(L-1) n0} n^{n0})``;
    Serra et al.'s draft calls it Theorem 5); the per-layer form is the one quoted in
    [S18]_ §3. Requires ``n_l >= n0`` for every hidden layer.

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths, each ``>= 1``.
    reduce_input : bool, default False
        When some ``n_l < n0``: False raises; True applies the theorem with input
        dimension ``d = min(n0, n_1, ..., n_L)`` (see the module notes).

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        If some ``n_l < n0`` and ``reduce_input`` is False.

    Examples
    --------
    >>> montufar2014(2, [6, 6, 6])
    1782
    >>> montufar2014(784, [11, 11], reduce_input=True)   # applied with d = 11
    2048
    """
    n0 = check_int(n0, "n0")
    widths = check_widths(widths)
    d = _effective_dim(n0, widths, 1, "montufar2014 (Montúfar et al. 2014, Thm 4)", reduce_input)
    return _folding_bound(d, widths, 0)


def serra2018_lower(n0: int, widths: Sequence[int], *, reduce_input: bool = False) -> int:
    """Serra et al.'s lower bound ``(prod_{l<L} (floor(n_l/n0) + 1)^{n0}) * sum_{j=0}^{n0} C(n_L, j)``.

    Theorem 6 of [S18]_: one more region per folding than [M14]_, at the price of the
    condition ``n_l >= 3 n0`` for every hidden layer. For ``n0 = 1`` it equals the
    upper bound ``prod (n_l + 1)`` (the exact maximum, Theorem 5).

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths, each ``>= 1``.
    reduce_input : bool, default False
        When some ``n_l < 3 n0``: False raises; True uses the largest
        ``d <= min_l floor(n_l / 3)`` (raises if that is 0).

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        If the condition fails (and cannot be met by reducing the input).

    Examples
    --------
    >>> serra2018_lower(2, [6, 6, 6])
    5632
    >>> serra2018_lower(1, [3, 4, 5]) == 4 * 5 * 6
    True
    """
    n0 = check_int(n0, "n0")
    widths = check_widths(widths)
    d = _effective_dim(n0, widths, 3, "serra2018_lower (Serra et al. 2018, Thm 6)", reduce_input)
    return _folding_bound(d, widths, 1)


def arora2018_lower(n0: int, widths: Sequence[int], *, improved: bool = True) -> int:
    """Arora-type lower bound ``2 * sum_{j=0}^{n0-1} C(m-1, j) * (w + 1)^{L-1}`` ([S18]_ Thm 7, [A18]_).

    The construction has a first hidden layer of ``2m`` units and ``L - 1`` further
    layers of ``w >= 2`` units. Arora et al.'s Theorem 2.11(i) has ``w`` where Serra
    et al.'s Theorem 7 has ``w + 1`` (``improved=True``). A wider network can switch
    extra units off, so for arbitrary widths we use ``m = floor(n_1 / 2)`` and
    ``w = min(n_2, ..., n_L)``; requires ``n_1 >= 2`` and, if ``L >= 2``, ``n_l >= 2``
    for ``l >= 2``.

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths, at least one layer.
    improved : bool, default True
        ``w + 1`` (Serra et al.) rather than ``w`` (Arora et al.).

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        If ``widths`` is empty, ``n_1 < 2`` or a later width is ``< 2``.

    Examples
    --------
    >>> arora2018_lower(2, [6, 6, 6])      # m = 3, w = 6: 2 * (1 + 2) * 7**2
    294
    >>> arora2018_lower(2, [6, 6, 6], improved=False)
    216
    """
    n0 = check_int(n0, "n0")
    widths = check_widths(widths)
    if not widths or widths[0] < 2 or any(n < 2 for n in widths[1:]):
        raise InvalidParameterError(
            "arora2018_lower requires at least one hidden layer, n_1 >= 2 and n_l >= 2 for "
            f"l >= 2; got widths {list(widths)}."
        )
    m = widths[0] // 2
    w = min(widths[1:], default=2)
    first = 2 * sum(comb(m - 1, j) for j in range(n0))
    return first * (w + (1 if improved else 0)) ** (len(widths) - 1)
