"""Upper bounds on the maximal number of linear regions of a ReLU architecture.

Every function returns an exact Python ``int``: the bounds exceed ``2**N`` for
moderate ``N`` and floats would round them. Notation follows Serra, Tjandraatmadja
& Ramalingam (2018): ``n0`` is the input dimension, ``widths = (n_1, ..., n_L)`` the
widths of the hidden ReLU layers, ``N = sum(widths)``.

An *upper bound* here holds for every choice of weights and biases of the
architecture, on all of ``R^{n0}``, and counts activation regions (Serra's
Definition 2; linear regions are never more numerous).

References
----------
.. [Z75] T. Zaslavsky, "Facing up to arrangements", Mem. AMS 154, 1975.
.. [M14] G. Montúfar, R. Pascanu, K. Cho, Y. Bengio, "On the number of linear regions of
   deep neural networks", NeurIPS 2014.
.. [M17] G. Montúfar, "Notes on the number of linear regions of deep neural networks",
   SampTA 2017.
.. [R17] M. Raghu, B. Poole, J. Kleinberg, S. Ganguli, J. Sohl-Dickstein, "On the expressive
   power of deep neural networks", ICML 2017.
.. [S18] T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting linear regions
   of deep neural networks", ICML 2018 (arXiv 1711.02114; theorem numbers below are
   those of the ICLR-2018 draft).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from math import comb

from ._validate import check_int, check_ranks, check_widths

__all__ = ["trivial", "zaslavsky", "montufar2017", "raghu2017", "serra2018"]


@lru_cache(maxsize=64)
def _binomial_row(n: int, k: int) -> tuple[int, ...]:
    """``(C(n, 0), ..., C(n, k))`` by the multiplicative recurrence (``k <= n``)."""
    row = [1]
    for j in range(k):
        row.append(row[-1] * (n - j) // (j + 1))
    return tuple(row)


@lru_cache(maxsize=64)
def _binomial_prefix(n: int, k: int) -> tuple[int, ...]:
    """Prefix sums of :func:`_binomial_row`."""
    return tuple(accumulate(_binomial_row(n, k)))


def _partial_binomial_sum(n: int, d: int) -> int:
    """``sum_{j=0}^{d} C(n, j)`` for ``d >= 0`` (equal to ``2**n`` once ``d >= n``)."""
    if d >= n:
        return 1 << n
    return _binomial_prefix(n, d)[d]


def trivial(widths: Sequence[int]) -> int:
    """The activation-pattern bound ``2**N``, ``N = sum(widths)`` [M14]_.

    Each region has its own on/off pattern of the ``N`` hidden units.

    Parameters
    ----------
    widths : sequence of int
        Widths ``(n_1, ..., n_L)`` of the hidden layers, each ``>= 1`` (may be empty).

    Returns
    -------
    int

    Examples
    --------
    >>> trivial([11, 11])
    4194304
    >>> trivial([])   # an affine map: one region
    1
    """
    return 1 << sum(check_widths(widths))


def zaslavsky(n_hyperplanes: int, dim: int, *, bounded: bool = False) -> int:
    """Regions of ``m`` hyperplanes in general position in ``R^d``: ``sum_{s=0}^{d} C(m, s)`` [Z75]_.

    This is the maximum over all arrangements of ``m`` hyperplanes, attained exactly
    in general position; it is therefore the exact maximal number of regions of a
    one-hidden-layer ReLU network with ``m`` units and input dimension ``d``. Serra's
    Lemma 2 replaces ``d`` by ``rank(W)`` for hyperplanes ``Wx + b = 0``.

    Parameters
    ----------
    n_hyperplanes : int
        ``m >= 0``.
    dim : int
        ``d >= 0``.
    bounded : bool, default False
        Return instead the number of *bounded* regions in general position,
        ``C(m - 1, d)``.

    Returns
    -------
    int

    Examples
    --------
    4 lines in the plane: 11 regions, 3 of them bounded.

    >>> zaslavsky(4, 2), zaslavsky(4, 2, bounded=True)
    (11, 3)
    >>> zaslavsky(3, 2), zaslavsky(20, 2), zaslavsky(0, 5)
    (7, 211, 1)
    """
    m = check_int(n_hyperplanes, "n_hyperplanes", 0)
    d = check_int(dim, "dim", 0)
    if bounded:
        if m == 0:
            return 1 if d == 0 else 0
        return comb(m - 1, d)
    return _partial_binomial_sum(m, d)


def montufar2017(n0: int, widths: Sequence[int]) -> int:
    """Montúfar's bound ``prod_l sum_{j=0}^{d_l} C(n_l, j)``, ``d_l = min{n0, n_1, ..., n_l}`` [M17]_.

    Quoted in [S18]_ §3; it follows from :func:`serra2018` (Theorem 1) by relaxing
    ``n_l - j_l`` to ``n_l`` and factoring, so it is never smaller.

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths ``(n_1, ..., n_L)``, each ``>= 1``.

    Returns
    -------
    int

    Examples
    --------
    >>> montufar2017(2, [3, 3])     # Serra's Theorem 1 gives 40 here
    49
    >>> montufar2017(784, [8, 14])
    3305216
    """
    n0 = check_int(n0, "n0")
    d = n0
    total = 1
    for n in check_widths(widths):
        d = min(d, n)
        total *= _partial_binomial_sum(n, d)
    return total


def raghu2017(n0: int, widths: Sequence[int]) -> int:
    """Layer-wise Zaslavsky product ``prod_l sum_{j=0}^{min(n0, n_l)} C(n_l, j)`` (reading of [R17]_).

    Raghu et al. (ICML 2017, theorem "tight upper bound for the number of activation
    patterns") state only the asymptotic ``O(k^{m n})`` for depth ``n``, width ``k``
    and input dimension ``m``. Their proof bounds, region by region, the cuts of each
    layer by a hyperplane arrangement in an at most ``n0``-dimensional space; this
    function is the product that argument gives. **It is our reading of the proof,
    not a formula printed in the paper.** It equals :func:`montufar2017` without the
    running minimum over earlier widths, so it is never smaller.

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths, each ``>= 1``.

    Returns
    -------
    int

    Examples
    --------
    >>> raghu2017(2, [6, 6, 6])
    10648
    >>> raghu2017(2, [1, 8]), montufar2017(2, [1, 8])   # the bottleneck is ignored
    (74, 18)
    """
    n0 = check_int(n0, "n0")
    total = 1
    for n in check_widths(widths):
        total *= _partial_binomial_sum(n, min(n0, n))
    return total


def serra2018(n0: int, widths: Sequence[int], ranks: Sequence[int] | None = None) -> int:
    """Serra et al.'s upper bound (Theorem 1 of [S18]_), optionally refined by the ranks of ``W^l``.

    .. math::

        \\sum_{(j_1,\\dots,j_L)\\in J}\\prod_{l=1}^{L}\\binom{n_l}{j_l},\\quad
        J = \\{0 \\le j_l \\le \\min\\{n_0, n_1 - j_1, \\dots, n_{l-1} - j_{l-1}, c_l\\}\\ \\forall l\\}

    with ``c_l = n_l`` (Theorem 1) or ``c_l = rank(W^l)`` (the rank-refined version:
    remark after Lemma 4 of the ICLR-2018 draft, "Theorem 7" in some versions; the
    ``n_l - j_l`` terms are unchanged). Tight for one hidden layer (Zaslavsky) and, for
    ``n0 = 1`` and ``n_l >= 3``, equal to the exact maximum ``prod (n_l + 1)`` (Thm 5).

    Computed by dynamic programming over the layers: the state is the running cap
    ``c = min{n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}}`` (at most ``n0 + 1`` values) and
    each layer costs ``O(n0)`` big-integer operations (prefix sums of binomials and
    suffix sums of the state); ``J`` is never listed.

    Parameters
    ----------
    n0 : int
        Input dimension, ``>= 1``.
    widths : sequence of int
        Hidden widths ``(n_1, ..., n_L)``, each ``>= 1``.
    ranks : sequence of int, optional
        ``rank(W^l)`` for ``l = 1..L`` (``W^l`` has shape ``(n_l, n_{l-1})``), each in
        ``[0, min(n_l, n_{l-1})]``. ``None`` gives Theorem 1.

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        For a non-positive ``n0`` or width, or ranks out of range.

    Examples
    --------
    >>> serra2018(784, [8, 14]), serra2018(2, [6, 6, 6]), serra2018(2, [3, 3])
    (600370, 10648, 40)
    >>> serra2018(4, [4, 4]), serra2018(4, [4, 4], ranks=[4, 1])
    (163, 76)
    >>> serra2018(1, [3, 3, 3]) == 4 ** 3
    True
    """
    n0 = check_int(n0, "n0")
    widths = check_widths(widths)
    caps = widths if ranks is None else check_ranks(ranks, n0, widths)
    # w[c] = sum over the prefixes (j_1..j_l) whose running cap
    # min{n0, n_1 - j_1, ..., n_l - j_l} equals c of prod C(n_i, j_i)
    w = [0] * n0 + [1]
    for n, cap in zip(widths, caps, strict=True):
        w = _serra_layer(w, n, cap)
    return sum(w)


def _serra_layer(w: list[int], n: int, cap: int) -> list[int]:
    """One step of the DP: add a layer of ``n`` units whose index ``j`` is capped by ``cap``.

    From cap ``c`` the index ``j`` runs over ``0..min(c, cap)`` with weight ``C(n, j)``
    and leads to cap ``min(c, n - j)``. Indices ``j <= n - c`` keep ``c`` (a prefix sum
    of binomials); an index ``j > n - c`` leads to ``s = n - j < c``, so ``new[s]``
    collects ``C(n, n - s)`` times the suffix sum of ``w`` over ``c >= max(s + 1, n - s)``.
    That makes a layer cost ``O(n0 + min(n, n0))`` big-integer operations, not ``O(n0^2)``.
    """
    n0 = len(w) - 1
    kmax = min(n0, cap)
    binom = _binomial_row(n, kmax)
    prefix = _binomial_prefix(n, kmax)  # prefix[k] = sum_{j<=k} C(n, j)
    suffix = [0] * (n0 + 2)  # suffix[k] = sum_{c>=k} w[c]
    for c in range(n0, -1, -1):
        suffix[c] = suffix[c + 1] + w[c]
    new = [0] * (n0 + 1)
    for c in range(n0 + 1):
        if w[c] and n - c >= 0:
            new[c] += w[c] * prefix[min(c, cap, n - c)]
    for s in range(max(0, n - cap), min(n, n0 - 1) + 1):
        lo = max(s + 1, n - s)
        if lo <= n0:
            new[s] += binom[n - s] * suffix[lo]
    return new
