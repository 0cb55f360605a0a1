"""Sorting, selection, maximum and minimum as exact ReLU networks.

Comparator networks (generic families and the best known ones for ``n <= 10``)
are compiled one comparator layer per hidden layer. Cost models
(``docs/constructions.md``; research note §3.1):

========================  ==============  ==============  ==========================
model                     comparator      idle wire       one comparator layer
========================  ==============  ==============  ==========================
plain, unbounded inputs   4 ReLUs         2 ReLUs         exactly ``2 n`` units
plain, inputs ``>= -M``   3 ReLUs         1 ReLU          ``n + c_l`` units
residual ``x + U σ(Vx)``  1 ReLU          0               ``c_l`` (reported only)
========================  ==============  ==============  ==========================

A comparator of which only one output is read later (selection networks) costs
3 ReLUs (2 on a box). Wires that are not read later are dropped (backward
liveness).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InvalidParameterError
from .._validation import check_positive_int
from ..network import Network
from ._comparators import ComparatorNetwork
from ._tables import BEST_MEDIANS, BEST_SORTERS, MEDIAN_PARETO, SORTER_PARETO
from ._tape import LayerBuilder, Tape, carry, finish, max2, min2, minmax

__all__ = [
    "ReluCost",
    "sorting_network",
    "comparator_cost",
    "compile_comparators",
    "sort",
    "median",
    "rank_k",
    "maximum",
    "minimum",
]

METHODS = ("best", "batcher", "bitonic", "odd_even_transposition", "bubble")


# ---------------------------------------------------------------------- generators
def _bubble(n: int) -> list[tuple[int, int]]:
    return [(j, j + 1) for i in range(n - 1, 0, -1) for j in range(i)]


def _odd_even_transposition(n: int) -> list[tuple[int, int]]:
    return [(j, j + 1) for r in range(n) for j in range(r % 2, n - 1, 2)]


def _bitonic(n: int) -> list[tuple[int, int]]:
    """Batcher's bitonic sorter in standard form (min always to the lower wire).

    The first half-cleaner of each merge compares ``i`` with its mirror image in
    the block (``i XOR (k - 1)``) instead of reversing the lower half; for ``n``
    not a power of two, comparators that touch the padding wires (``+inf``) are
    dropped, which is exact because padding stays on top in standard form.
    """
    size = 1 << max(0, (n - 1).bit_length())
    comps = []
    k = 2
    while k <= size:
        j = k // 2
        first = True
        while j >= 1:
            for i in range(size):
                partner = i ^ (k - 1) if first else i ^ j
                if partner > i and partner < n:
                    comps.append((i, partner))
            first = False
            j //= 2
        k *= 2
    return comps


def _batcher(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort for any ``n`` (Knuth TAOCP vol. 3, §5.2.2, Algorithm M)."""
    comps = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        comps.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return comps


def sorting_network(n: int, method: str = "best", prefer: str = "size") -> ComparatorNetwork:
    """A sorting network on ``n`` wires.

    Parameters
    ----------
    n : int
        Number of inputs (``>= 1``).
    method : {"best", "batcher", "bitonic", "odd_even_transposition", "bubble"}
        ``"best"``: the best known network for ``n <= 10`` (see ``prefer``);
        ``"batcher"``: odd-even merge sort, ``(k² - k + 4) 2^(k-2) - 1``
        comparators and depth ``k(k+1)/2`` for ``n = 2^k`` (Batcher 1968);
        ``"bitonic"``: ``(n/4) k (k+1)`` comparators, same depth; both work for any
        ``n`` (pruned from the next power of two). ``"odd_even_transposition"``:
        ``n(n-1)/2`` comparators, depth ``n``; ``"bubble"``: ``n(n-1)/2``, depth ``2n - 3``.
    prefer : {"size", "depth"}
        For ``"best"``, where no network is optimal in both (``n = 10``): the
        size-optimal (29 comparators, depth 8) or the depth-optimal (31, depth 7).
        For plain ReLU networks (``2 n`` units per layer) fewer layers means fewer units.

    Returns
    -------
    ComparatorNetwork

    Examples
    --------
    >>> cn = sorting_network(8, "bitonic")
    >>> cn.size, cn.depth
    (24, 6)
    >>> [sorting_network(10, "best", p).size for p in ("size", "depth")]
    [29, 31]
    """
    n = check_positive_int(n, "n")
    if prefer not in ("size", "depth"):
        raise InvalidParameterError(f"'prefer' must be 'size' or 'depth'; got {prefer!r}.")
    if method == "best":
        if n == 1:
            return ComparatorNetwork(1, (), name="best")
        key = (n, prefer) if (n, prefer) in BEST_SORTERS else (n, "size")
        if key not in BEST_SORTERS:
            raise InvalidParameterError(
                f"method='best' has comparator lists for n <= 10; got n = {n}. "
                "Use method='batcher' (or 'bitonic') for larger n."
            )
        comps = [c for layer in BEST_SORTERS[key] for c in layer]
        return ComparatorNetwork(n, comps, name=f"best ({key[1]})")
    gens = {
        "batcher": _batcher,
        "bitonic": _bitonic,
        "odd_even_transposition": _odd_even_transposition,
        "bubble": _bubble,
    }
    if method not in gens:
        raise InvalidParameterError(f"'method' must be one of {list(METHODS)}; got {method!r}.")
    return ComparatorNetwork(n, gens[method](n), name=method)


# ---------------------------------------------------------------------- compiler
@dataclass(frozen=True)
class ReluCost:
    """Size of a comparator network compiled to ReLUs, in the three cost models.

    Attributes
    ----------
    comparators, comparator_depth : int
        Size and depth of the comparator network.
    half_comparators : int
        Comparators of which only one output is read (selection networks).
    plain_units : int
        Hidden ReLUs of the plain network on unbounded inputs.
    box_units : int
        Hidden ReLUs of the plain network on inputs ``>= -M`` (``bound=M``).
    residual_units : int
        ReLUs with free skip connections: one per comparator.
    hidden_layers : int
        Hidden layers of both plain networks (= comparator depth).

    Examples
    --------
    >>> comparator_cost(sorting_network(4)).as_dict()["plain_units"]
    24
    """

    comparators: int
    comparator_depth: int
    half_comparators: int
    plain_units: int
    box_units: int
    residual_units: int
    hidden_layers: int

    def as_dict(self) -> dict[str, int]:
        """The fields as a plain dict (for metadata).

        Examples
        --------
        >>> sorted(comparator_cost(sorting_network(2)).as_dict())[:3]
        ['box_units', 'comparator_depth', 'comparators']
        """
        return dict(self.__dict__)


def _plan_units(cn: ComparatorNetwork, schedule: str, bounded: bool) -> int:
    lays = cn.layers(schedule)
    units = 0
    for lay, live in zip(lays, cn.live_after(schedule), strict=True):
        touched: set[int] = set()
        for i, j in lay:
            both = i in live and j in live
            units += (3 if both else 2) if bounded else (4 if both else 3)
            touched |= {i, j}
        units += len(live - touched) * (1 if bounded else 2)
    return units


def _schedule(cn: ComparatorNetwork, bounded: bool) -> str:
    """The layering (ASAP or ALAP) that needs fewer carried wires."""
    if cn.outputs is None:
        return "asap"
    return min(("asap", "alap"), key=lambda s: (_plan_units(cn, s, bounded), s != "asap"))


def comparator_cost(cn: ComparatorNetwork) -> ReluCost:
    """ReLU units of ``cn`` compiled in each cost model (see the module docstring).

    Examples
    --------
    >>> c = comparator_cost(sorting_network(10, "best", "size"))
    >>> c.plain_units, c.box_units, c.residual_units, c.hidden_layers
    (160, 109, 29, 8)
    """
    return ReluCost(
        comparators=cn.size,
        comparator_depth=cn.depth,
        half_comparators=cn.n_half(),
        plain_units=_plan_units(cn, _schedule(cn, False), False),
        box_units=_plan_units(cn, _schedule(cn, True), True),
        residual_units=cn.size,
        hidden_layers=cn.depth,
    )


def _check_bound(bound: Any) -> float | None:
    if bound is None:
        return None
    try:
        b = float(bound)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"'bound' must be None or a positive number; got {bound!r}.") from exc
    if not (np.isfinite(b) and b > 0):
        raise InvalidParameterError(f"'bound' must be None or a finite number > 0; got {bound!r}.")
    return b


def _compile_into(tape: Tape, cn: ComparatorNetwork) -> list[int]:
    """Run ``cn`` on the tape's first ``cn.n`` wires; return the tape wires of its outputs."""
    bounded = all(lo is not None for lo in tape.lower)
    schedule = _schedule(cn, bounded)
    cur = {w: w for w in range(cn.n)}
    for lay, live in zip(cn.layers(schedule), cn.live_after(schedule), strict=True):
        L: LayerBuilder = tape.layer()
        new: dict[int, int] = {}
        touched: set[int] = set()
        for i, j in lay:
            touched |= {i, j}
            if i in live and j in live:
                new[i], new[j] = minmax(L, cur[i], cur[j])
            elif i in live:
                new[i] = min2(L, cur[i], cur[j])
            elif j in live:
                new[j] = max2(L, cur[i], cur[j])
        for w in sorted(live - touched):
            new[w] = carry(L, cur[w])
        L.commit()
        cur = new
    return [cur[w] for w in cn.output_wires]


def compile_comparators(cn: ComparatorNetwork, bound: float | None = None) -> Network:
    """The ReLU network computing the output wires of ``cn`` (one hidden layer per comparator layer).

    Parameters
    ----------
    cn : ComparatorNetwork
    bound : float, optional
        If given, the network is exact for inputs ``x >= -bound`` (e.g. the box
        ``|x| <= bound``) and uses the cheaper box cost model; otherwise it is
        exact on all of ``R^n``.

    Returns
    -------
    Network
        ``n`` inputs, ``len(cn.output_wires)`` outputs, ``cn.depth`` hidden layers.

    Examples
    --------
    >>> net = compile_comparators(sorting_network(4))
    >>> net(np.array([3.0, -1.0, 2.0, 0.5]))
    array([-1. ,  0.5,  2. ,  3. ])
    >>> net.hidden_widths
    (8, 8, 8)
    """
    if not isinstance(cn, ComparatorNetwork):
        raise InvalidParameterError(f"'cn' must be a ComparatorNetwork; got {type(cn).__name__}.")
    b = _check_bound(bound)
    tape = Tape(cn.n, lower=None if b is None else -b)
    outs = _compile_into(tape, cn)
    cost = comparator_cost(cn)
    net = tape.network(outputs=outs)
    return finish(
        net,
        "comparator network",
        network=cn.name,
        comparators=[list(c) for c in cn.comparators],
        outputs=list(cn.output_wires),
        bound=b,
        cost=cost.as_dict(),
        domain=None if b is None else [[-b, b]] * cn.n,
    )


# ---------------------------------------------------------------------- builders
def _best_sort_text(n: int) -> str:
    pareto = SORTER_PARETO.get(n)
    if pareto is None:
        return "no table entry for n > 20"
    pairs = ", ".join(f"({s} comparators, depth {d})" for s, d in pareto)
    return f"best known sorting networks: {pairs}; plain ReLU units 2n*depth = " + ", ".join(
        str(2 * n * d) for _, d in pareto
    )


def sort(n: int, method: str = "best", prefer: str = "size", bound: float | None = None) -> Network:
    """A ReLU network that sorts ``n`` numbers (ascending), exactly.

    Parameters
    ----------
    n : int
    method, prefer : str
        Which comparator network; see :func:`sorting_network`.
    bound : float, optional
        Inputs satisfy ``x >= -bound`` (e.g. ``|x| <= bound``): idle wires cost 1
        ReLU and comparators 3 instead of 2 and 4.

    Returns
    -------
    Network
        ``R^n -> R^n``. Size (plain): ``2 n D`` units in ``D`` hidden layers for a
        comparator network of depth ``D``; with ``bound``: ``n D + S`` units
        (``S`` comparators). ``metadata["cost"]`` has all three cost models and
        ``metadata["best_known"]`` the best known comparator networks.

    Notes
    -----
    Construction: comparator ``(a, b) -> (min, max)`` with ``s = a + b``, ``d = a - b``,
    ``min = (σ(s) - σ(-s) - σ(d) - σ(-d)) / 2``, ``max = (σ(s) - σ(-s) + σ(d) + σ(-d)) / 2``
    (research note §2.1); on a box ``min = σ(a + M) - M - σ(a - b)``,
    ``max = σ(b + M) - M + σ(a - b)``. For ``n = 10``: 160 plain units with the
    29-comparator depth-8 network, 140 with the 31-comparator depth-7 one
    (``prefer="depth"``); 109 and 101 on a box.

    Examples
    --------
    >>> net = sort(3)
    >>> net(np.array([2.0, 3.0, 1.0]))
    array([1., 2., 3.])
    >>> net.n_units, net.depth - 1, net.metadata["cost"]["comparators"]
    (18, 3, 3)
    >>> sort(10, prefer="depth").n_units, sort(10, prefer="depth", bound=1.0).n_units
    (140, 101)
    """
    cn = sorting_network(n, method, prefer)
    net = compile_comparators(cn, bound)
    return finish(net, "sort", method=method, prefer=prefer, best_known=_best_sort_text(cn.n),
                  reference="Batcher 1968; Knuth TAOCP vol. 3 §5.3.4; research note §3")


def _selection_network(n: int, wires: list[int], method: str, bounded: bool) -> ComparatorNetwork:
    """The pruned comparator network for ``wires``; for ``"best"`` the candidate with fewest ReLUs."""
    if method != "best":
        return sorting_network(n, method).pruned(wires)
    cands = [sorting_network(n, "best", p).pruned(wires) for p in ("size", "depth")]
    if n in BEST_MEDIANS and wires == [n // 2]:
        cands.append(ComparatorNetwork(n, BEST_MEDIANS[n], name="best median").pruned(wires))

    def key(cn: ComparatorNetwork) -> tuple[int, int, int]:
        c = comparator_cost(cn)
        return (c.box_units if bounded else c.plain_units, cn.size, cn.depth)

    return min(cands, key=key)


def rank_k(n: int, k: int, method: str = "best", bound: float | None = None) -> Network:
    """The ``k``-th smallest of ``n`` numbers (``k = 0``: minimum), by a pruned sorting network.

    The sorting network is pruned by backward liveness
    (:meth:`ComparatorNetwork.pruned`): comparators that cannot reach output
    wire ``k`` are dropped, a comparator with one live output becomes a
    one-sided min or max (3 ReLUs, 2 on a box), and dead wires are not carried.

    Parameters
    ----------
    n, k : int
    method : str
        A method of :func:`sorting_network`; ``"best"`` (``n <= 10``) compiles the
        size-optimal and the depth-optimal sorters, pruned, and keeps the one
        with fewer ReLUs (for ``k = 0`` or ``n - 1`` also the tree of
        :func:`minimum` / :func:`maximum`).
    bound : float, optional
        Inputs ``>= -bound``: the box cost model (see :func:`sort`).

    Returns
    -------
    Network
        ``R^n -> R``; ``metadata["cost"]`` gives comparators and units (absent
        when the min/max tree was chosen, ``metadata["method"] == "tree"``).

    Examples
    --------
    >>> net = rank_k(5, 1)
    >>> net(np.array([4.0, 0.0, 3.0, 1.0, 2.0]))
    array([1.])
    >>> net.metadata["cost"]["comparators"] < sorting_network(5).size
    True
    """
    n = check_positive_int(n, "n")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n:
        raise InvalidParameterError(f"'k' must be an integer in [0, n) = [0, {n}); got {k!r}.")
    b = _check_bound(bound)
    cn = _selection_network(n, [int(k)], method, b is not None)
    net = compile_comparators(cn, b)
    if method == "best" and k in (0, n - 1) and n > 1:
        tree = _tree(n, b, "min" if k == 0 else "max")
        if tree.n_units < net.n_units:
            return finish(tree, "rank_k", k=int(k), method="tree")
    return finish(net, "rank_k", k=int(k), method=method,
                  best_known="pruned sorting networks; see docs/constructions.md (selection)",
                  reference="Knuth TAOCP vol. 3 §5.3.4 (selection networks)")


def median(n: int, method: str = "best", bound: float | None = None) -> Network:
    """The median of ``n`` numbers (mean of the two middle ones for even ``n``).

    A comparator network pruned to the middle output wire(s) by backward
    liveness, as in :func:`rank_k`. With ``method="best"`` the candidates are the
    best known sorters (size- and depth-optimal) and, for ``n`` in 3, 5, 7, 9, the
    classical median networks with 3, 7, 13, 19 comparators (the best known
    sizes; ``_tables.BEST_MEDIANS``); the one with the fewest ReLUs is kept. In
    the plain model a pruned sorter can win: units grow with depth times live
    wires, not with comparators.

    Parameters
    ----------
    n : int
    method : str
        See :func:`rank_k`.
    bound : float, optional
        Inputs ``>= -bound``: the box cost model (see :func:`sort`).

    Returns
    -------
    Network
        ``R^n -> R``. ``metadata["cost"]`` has comparators and units;
        ``metadata["best_known"]`` lists the best known median networks
        (Dobbelaere's table).

    Examples
    --------
    >>> net = median(5)
    >>> net(np.array([5.0, 1.0, 4.0, 2.0, 3.0]))
    array([3.])
    >>> median(4)(np.array([4.0, 1.0, 3.0, 2.0]))
    array([2.5])
    >>> net.metadata["cost"]["comparators"], net.metadata["best_known"]
    (7, 'median networks (comparators, depth): (7, 5)')
    """
    n = check_positive_int(n, "n")
    mids = sorted({(n - 1) // 2, n // 2})
    b = _check_bound(bound)
    cn = _selection_network(n, mids, method, b is not None)
    tape = Tape(n, lower=None if b is None else -b)
    outs = _compile_into(tape, cn)
    net = tape.network(outputs=outs, readout=np.full((1, len(outs)), 1.0 / len(outs)))
    pareto = MEDIAN_PARETO.get(n)
    best = (
        "median networks (comparators, depth): " + ", ".join(f"({s}, {d})" for s, d in pareto)
        if pareto
        else "no table entry"
    )
    return finish(
        net, "median", method=method, network=cn.name, bound=b, cost=comparator_cost(cn).as_dict(),
        comparators=[list(c) for c in cn.comparators], best_known=best,
        reference="Knuth TAOCP vol. 3 §5.3.4; Dobbelaere, SorterHunter median table",
        domain=None if b is None else [[-b, b]] * n,
    )


def _tree(n: int, bound: float | None, op: str) -> Network:
    n = check_positive_int(n, "n")
    b = _check_bound(bound)
    tape = Tape(n, lower=None if b is None else -b)
    wires = list(range(n))
    gadget = max2 if op == "max" else min2
    while len(wires) > 1:
        L = tape.layer()
        new = [gadget(L, wires[i], wires[i + 1]) for i in range(0, len(wires) - 1, 2)]
        if len(wires) % 2:
            new.append(carry(L, wires[-1]))
        L.commit()
        wires = new
    net = tape.network(outputs=wires)
    depth_best = (
        f"{math.ceil(math.log(n - 2, 3)) + 1} hidden layers (Bakaev et al. 2025)" if n >= 4 else "same"
    )
    return finish(
        net, "maximum" if op == "max" else "minimum", n=n, bound=b,
        best_known=(
            f"residual: {n - 1} ReLUs; plain pairwise tree 3(n-1) (+2 per carried wire); "
            f"fewest hidden layers known: {depth_best}"
        ),
        reference="Arora et al. 2018 Thm 2.1 (pairwise tree); Bakaev et al. arXiv 2505.14338",
        domain=None if b is None else [[-b, b]] * n,
    )


def maximum(n: int, bound: float | None = None) -> Network:
    """``max(x_1, ..., x_n)`` by a balanced tree of pairwise maxima.

    ``max(a, b) = b + σ(a - b)`` with ``b = σ(b) - σ(-b)`` carried (3 ReLUs; 2 with
    ``bound``); an odd wire out is carried (2 ReLUs; 1 with ``bound``).

    Returns
    -------
    Network
        ``R^n -> R`` with ``ceil(log2 n)`` hidden layers; ``3(n - 1)`` units for
        ``n`` a power of two (e.g. 3, 8, 9, 16, 21, 45 units for n = 2, 3, 4, 5, 8, 16).
        Best known: ``n - 1`` ReLUs with skip connections; fewer hidden layers are
        possible (max of 5 in 2 hidden layers, Bakaev et al. 2025), see ``metadata``.

    Examples
    --------
    >>> net = maximum(5)
    >>> net(np.array([1.0, 7.0, -2.0, 3.0, 0.0]))
    array([7.])
    >>> net.n_units, net.depth - 1, maximum(5, bound=10.0).n_units
    (16, 3, 10)
    """
    return _tree(n, bound, "max")


def minimum(n: int, bound: float | None = None) -> Network:
    """``min(x_1, ..., x_n)`` by a balanced tree of ``min(a, b) = a - σ(a - b)``; sizes as :func:`maximum`.

    Examples
    --------
    >>> minimum(3)(np.array([2.0, -1.0, 5.0]))
    array([-1.])
    >>> minimum(4).n_units
    9
    """
    return _tree(n, bound, "min")
