"""Best known comparator networks and the published size/depth bounds they are compared with.

Comparator lists (standard form, layer by layer) for ``n <= 10``; each is checked
by the 0-1 principle in the tests. Sources:

* ``n <= 8``: networks of the optimal sizes ``S(n)`` = 1, 3, 5, 9, 12, 16, 19 proven
  by Floyd and Knuth (Knuth, TAOCP vol. 3, §5.3.4); for these ``n`` one network
  is optimal in size and in depth at once.
* ``n = 9`` (25 comparators, depth 7) and ``n = 10`` (29 comparators, depth 8):
  size-optimal (Codish, Cruz-Filipe, Frank, Schneider-Kamp, "Sorting nine inputs
  requires twenty-five comparisons", JCSS 2016).
* ``n = 10`` depth 7 (31 comparators): depth-optimal; no 10-input network is
  optimal in both size and depth (the Pareto pairs are (29, 8) and (31, 7)).

Median networks for ``n = 3, 5, 7, 9`` (median on wire ``n // 2``; ``(i, j)`` puts
the minimum on wire ``i``, so ``(4, 2)`` is a reversed comparator): the classical
networks with 3, 7, 13 and 19 comparators (Paeth, Graphics Gems 1990, for
``n = 9``; collected in N. Devillard, "Fast median search: an ANSI C
implementation", 1998). They match the best known sizes in the median table.

The Pareto table for ``n <= 20`` and the median table are as listed by
B. Dobbelaere, SorterHunter, ``sorting_networks.html`` and ``median_networks.html``
(checked 2026-02; only the numbers are reproduced here, not the networks).
"""

from __future__ import annotations

__all__ = ["BEST_SORTERS", "BEST_MEDIANS", "SORTER_PARETO", "MEDIAN_PARETO", "OPTIMAL_DEPTH"]

_L = list[list[tuple[int, int]]]

#: (n, "size" | "depth") -> comparator layers
BEST_SORTERS: dict[tuple[int, str], _L] = {
    (2, "size"): [[(0, 1)]],
    (3, "size"): [[(0, 2)], [(0, 1)], [(1, 2)]],
    (4, "size"): [[(0, 2), (1, 3)], [(0, 1), (2, 3)], [(1, 2)]],
    (5, "size"): [[(0, 3), (1, 4)], [(0, 2), (1, 3)], [(0, 1), (2, 4)], [(1, 2), (3, 4)], [(2, 3)]],
    (6, "size"): [
        [(0, 5), (1, 3), (2, 4)],
        [(1, 2), (3, 4)],
        [(0, 3), (2, 5)],
        [(0, 1), (2, 3), (4, 5)],
        [(1, 2), (3, 4)],
    ],
    (7, "size"): [
        [(0, 6), (2, 3), (4, 5)],
        [(0, 2), (1, 4), (3, 6)],
        [(0, 1), (2, 5), (3, 4)],
        [(1, 2), (4, 6)],
        [(2, 3), (4, 5)],
        [(1, 2), (3, 4), (5, 6)],
    ],
    (8, "size"): [
        [(0, 2), (1, 3), (4, 6), (5, 7)],
        [(0, 4), (1, 5), (2, 6), (3, 7)],
        [(0, 1), (2, 3), (4, 5), (6, 7)],
        [(2, 4), (3, 5)],
        [(1, 4), (3, 6)],
        [(1, 2), (3, 4), (5, 6)],
    ],
    (9, "size"): [
        [(0, 3), (1, 7), (2, 5), (4, 8)],
        [(0, 7), (2, 4), (3, 8), (5, 6)],
        [(0, 2), (1, 3), (4, 5), (7, 8)],
        [(1, 4), (3, 6), (5, 7)],
        [(0, 1), (2, 4), (3, 5), (6, 8)],
        [(2, 3), (4, 5), (6, 7)],
        [(1, 2), (3, 4), (5, 6)],
    ],
    (10, "size"): [
        [(0, 8), (1, 9), (2, 7), (3, 5), (4, 6)],
        [(0, 2), (1, 4), (5, 8), (7, 9)],
        [(0, 3), (2, 4), (5, 7), (6, 9)],
        [(0, 1), (3, 6), (8, 9)],
        [(1, 5), (2, 3), (4, 8), (6, 7)],
        [(1, 2), (3, 5), (4, 6), (7, 8)],
        [(2, 3), (4, 5), (6, 7)],
        [(3, 4), (5, 6)],
    ],
    (10, "depth"): [
        [(0, 1), (2, 5), (3, 6), (4, 7), (8, 9)],
        [(0, 6), (1, 8), (2, 4), (3, 9), (5, 7)],
        [(0, 2), (1, 3), (4, 5), (6, 8), (7, 9)],
        [(0, 1), (2, 7), (3, 5), (4, 6), (8, 9)],
        [(1, 2), (3, 4), (5, 6), (7, 8)],
        [(1, 3), (2, 4), (5, 7), (6, 8)],
        [(2, 3), (4, 5), (6, 7)],
    ],
}

#: n -> comparators of a median network (median on wire n // 2)
BEST_MEDIANS: dict[int, list[tuple[int, int]]] = {
    3: [(0, 1), (1, 2), (0, 1)],
    5: [(0, 1), (3, 4), (0, 3), (1, 4), (1, 2), (2, 3), (1, 2)],
    7: [(0, 5), (0, 3), (1, 6), (2, 4), (0, 1), (3, 5), (2, 6),
        (2, 3), (3, 6), (4, 5), (1, 4), (1, 3), (3, 4)],
    9: [(1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
        (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2)],
}  # fmt: skip

#: n -> Pareto-optimal (size, depth) pairs of the best known sorting networks
SORTER_PARETO: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((0, 0),),
    2: ((1, 1),),
    3: ((3, 3),),
    4: ((5, 3),),
    5: ((9, 5),),
    6: ((12, 5),),
    7: ((16, 6),),
    8: ((19, 6),),
    9: ((25, 7),),
    10: ((29, 8), (31, 7)),
    11: ((35, 8),),
    12: ((39, 9), (40, 8)),
    13: ((45, 10), (46, 9)),
    14: ((51, 10), (52, 9)),
    15: ((56, 10), (57, 9)),
    16: ((60, 10), (61, 9)),
    17: ((71, 12), (72, 11), (74, 10)),
    18: ((77, 12), (78, 11)),
    19: ((85, 12), (87, 11)),
    20: ((91, 12), (93, 11)),
}

#: n -> optimal depth of a sorting network (OEIS A067782), where proven
OPTIMAL_DEPTH: dict[int, int] = {
    1: 0, 2: 1, 3: 3, 4: 3, 5: 5, 6: 5, 7: 6, 8: 6, 9: 7, 10: 7,
    11: 8, 12: 8, 13: 9, 14: 9, 15: 9, 16: 9, 17: 10,
}  # fmt: skip

#: n -> Pareto (size, depth) pairs of the best known median networks
MEDIAN_PARETO: dict[int, tuple[tuple[int, int], ...]] = {
    3: ((3, 3),),
    4: ((4, 2),),
    5: ((7, 5),),
    6: ((10, 4),),
    7: ((13, 6),),
    8: ((16, 5),),
    9: ((19, 7),),
    10: ((22, 8), (23, 7), (24, 6)),
    11: ((25, 11), (26, 8)),
    12: ((29, 7),),
    13: ((32, 10), (33, 9)),
    14: ((38, 10), (39, 9), (40, 8)),
    15: ((41, 11), (43, 10), (46, 9)),
    16: ((46, 10), (47, 9), (49, 8)),
}
