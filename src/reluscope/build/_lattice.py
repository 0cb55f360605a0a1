"""Max-min (lattice) expressions of affine functions, compiled level by level.

A CPWL function on a convex domain with affine components ``l_1 .. l_L`` is
``f = max_i min_{j in S_i} l_j`` (Tarela & Martínez 1999; Ovchinnikov, Beitr.
Algebra Geom. 43, 2002). The expression is a binary tree of min and max nodes;
each node is computed in the hidden layer after its two children, and a value
that waits for its parent is carried through the layers in between.

Two gadget sets (``docs/constructions.md``):

* **exact** (:func:`lattice`): ``min(a, b) = a - σ(a - b)``, ``max(a, b) = b + σ(a - b)``
  with the kept operand carried as ``σ(a) - σ(-a)``: 3 units per node, 2 per carry.
* **clipped** (polygons): when only ``clip(f, 0, 1)`` is needed, any value ``v``
  may be replaced by ``v'`` with ``clip(v') = clip(v)``. Then
  ``min(a, b) ~ σ(a) - σ(a - b)`` and ``max(a, b) ~ 1 - σ(1 - b) + σ(a - b)``
  (2 units each), a carry is ``σ(v)`` (1 unit), and the last layer computes
  ``clip(v) = σ(v) - σ(v - 1)`` (2 units). Proof for min: if ``a' <= 0`` both
  sides clip to 0; otherwise ``σ(a') - σ(a' - b') = min(a', b')`` and clip
  commutes with min. For max: if ``b' <= 1`` the expression is ``max(a', b')``;
  otherwise it is ``>= 1``, as is ``max(a, b)`` after clipping.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import InvalidParameterError, ShapeError
from .._validation import as_float_array
from ..network import Network
from ._tape import LayerBuilder, Tape, finish

__all__ = ["lattice", "Node", "leaf", "balanced", "earliest_first", "compile_tree", "clip_layer"]


@dataclass(eq=False)
class Node:
    """A node of a min/max expression over affine functions (rows of the first layer).

    ``op`` is ``"leaf"`` (value: row ``row`` of the affine map), ``"min"`` or
    ``"max"`` (of ``left`` and ``right``), or ``"flip"`` (``1 - left``; free).
    """

    op: str
    left: Node | None = None
    right: Node | None = None
    row: int = -1
    level: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        kids = [c.level for c in (self.left, self.right) if c is not None]
        if self.op == "leaf":
            self.level = 0
        elif self.op == "flip":
            self.level = kids[0]
        else:
            self.level = max(kids) + 1


def leaf(row: int) -> Node:
    """A leaf: row ``row`` of the first affine layer."""
    return Node("leaf", row=row)


def balanced(op: str, nodes: Sequence[Node]) -> Node:
    """Tournament tree over ``nodes`` (all ready at once): ``ceil(log2 len)`` levels."""
    cur = list(nodes)
    while len(cur) > 1:
        nxt = [Node(op, cur[i], cur[i + 1]) for i in range(0, len(cur) - 1, 2)]
        if len(cur) % 2:
            nxt.append(cur[-1])
        cur = nxt
    return cur[0]


def earliest_first(op: str, nodes: Sequence[Node]) -> Node:
    """Combine the two earliest-ready values first (Huffman-like): the lowest possible root level."""
    heap = [(n.level, k, n) for k, n in enumerate(nodes)]
    heapq.heapify(heap)
    count = len(heap)
    while len(heap) > 1:
        _, _, a = heapq.heappop(heap)
        _, _, b = heapq.heappop(heap)
        node = Node(op, a, b)
        heapq.heappush(heap, (node.level, count, node))
        count += 1
    return heap[0][2]


# A value available to the current layer: alpha * wire + beta.
_Ref = tuple[int, float, float]


def _lin(*terms: tuple[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for w, c in terms:
        out[w] = out.get(w, 0.0) + c
    return out


def _op_clipped(L: LayerBuilder, op: str, a: _Ref, b: _Ref) -> int:
    (wa, xa, ya), (wb, xb, yb) = a, b
    r = L.relu(_lin((wa, xa), (wb, -xb)), ya - yb)
    if op == "min":
        u = L.relu({wa: xa}, ya)
        return L.emit({u: 1.0, r: -1.0})
    u = L.relu({wb: -xb}, 1.0 - yb)
    return L.emit({u: -1.0, r: 1.0}, 1.0)


def _carry_clipped(L: LayerBuilder, a: _Ref) -> int:
    return L.emit({L.relu({a[0]: a[1]}, a[2]): 1.0})


def _op_exact(L: LayerBuilder, op: str, a: _Ref, b: _Ref) -> int:
    (wa, xa, ya), (wb, xb, yb) = a, b
    r = L.relu(_lin((wa, xa), (wb, -xb)), ya - yb)
    w, x, y = a if op == "min" else b
    p = L.relu({w: x}, y)
    n = L.relu({w: -x}, -y)
    return L.emit({p: 1.0, n: -1.0, r: -1.0 if op == "min" else 1.0})


def _carry_exact(L: LayerBuilder, a: _Ref) -> int:
    p = L.relu({a[0]: a[1]}, a[2])
    n = L.relu({a[0]: -a[1]}, -a[2])
    return L.emit({p: 1.0, n: -1.0})


def compile_tree(tape: Tape, root: Node, clipped: bool) -> _Ref:
    """Compile ``root`` onto ``tape`` (whose wires are the leaf rows); return the root's ref.

    With ``clipped=True`` the returned value is only clip-equivalent to the
    expression (see the module docstring); finish with :func:`clip_layer`.
    """
    op_fn, carry_fn = (_op_clipped, _carry_clipped) if clipped else (_op_exact, _carry_exact)
    nodes: list[Node] = []
    need: dict[int, int] = {}  # the level of the layer that consumes each value

    def visit(n: Node, consumer: int) -> None:
        nodes.append(n)
        need[id(n)] = max(need.get(id(n), 0), consumer)
        if n.op in ("min", "max"):
            visit(n.left, n.level)  # type: ignore[arg-type]
            visit(n.right, n.level)  # type: ignore[arg-type]
        elif n.op == "flip":
            visit(n.left, consumer)  # type: ignore[arg-type]

    visit(root, root.level)
    refs: dict[int, _Ref] = {}
    for n in nodes:
        if n.op == "leaf":
            refs[id(n)] = (n.row, 1.0, 0.0)

    def ref(n: Node) -> _Ref:
        if n.op == "flip":
            w, x, y = ref(n.left)  # type: ignore[arg-type]
            return (w, -x, 1.0 - y)
        return refs[id(n)]

    for level in range(1, root.level + 1):
        L = tape.layer()
        new: dict[int, _Ref] = {}
        for n in nodes:
            if n.op in ("min", "max") and n.level == level:
                new[id(n)] = (op_fn(L, n.op, ref(n.left), ref(n.right)), 1.0, 0.0)  # type: ignore[arg-type]
        for n in nodes:
            if n.op != "flip" and id(n) in refs and n.level < level and need.get(id(n), 0) > level:
                new[id(n)] = (carry_fn(L, refs[id(n)]), 1.0, 0.0)
        L.commit()
        refs = new
    return ref(root)


def clip_layer(tape: Tape, v: _Ref) -> Network:
    """Finish a clipped expression: one layer ``σ(v)``, ``σ(v - 1)``; output ``clip(v, 0, 1)``."""
    L = tape.layer()
    p = L.relu({v[0]: v[1]}, v[2])
    q = L.relu({v[0]: v[1]}, v[2] - 1.0)
    out = L.emit({p: 1.0, q: -1.0})
    L.commit()
    return tape.network(outputs=[out])


def lattice(affine_pieces: Any, groups: Sequence[Sequence[int]]) -> Network:
    """``f(x) = max_i min_{j in groups[i]} (A_j · x + c_j)``: the lattice form of a CPWL function.

    Parameters
    ----------
    affine_pieces : array_like of shape (L, n + 1)
        Row ``j`` is ``(A_j, c_j)``: the affine function ``l_j(x) = A_j · x + c_j`` on ``R^n``.
    groups : sequence of sequences of int
        The index sets ``S_i`` (non-empty, entries in ``[0, L)``).

    Returns
    -------
    Network
        ``R^n -> R``, exact on all of ``R^n``. Hidden layers:
        ``max_i ceil(log2 |S_i|) + ceil(log2 #groups)`` (min trees are balanced; the
        max tree combines the earliest-ready values first). Units: 3 per min or
        max node, 2 per value carried through a layer. Every CPWL function has
        this form (Ovchinnikov 2002); ``ceil(log2(n + 1))`` hidden layers always
        suffice (Arora et al. 2018, Thm 2.1), and ``ceil(log3(n - 1)) + 1``
        (Bakaev et al. 2025); the number of terms can be exponential.

    Examples
    --------
    Ovchinnikov's 1-D example ``f = (g1 ∧ g2) ∨ (g1 ∧ g3)``:

    >>> import numpy as np
    >>> pieces = [[1.0, 0.0], [-1.0, 2.0], [0.0, 0.5]]   # x, 2 - x, 1/2
    >>> net = lattice(pieces, [[0, 1], [0, 2]])
    >>> net(np.array([[-1.0], [0.25], [1.0], [3.0]])).ravel()
    array([-1.  ,  0.25,  1.  ,  0.5 ])
    >>> net.n_units, net.depth - 1
    (9, 2)
    """
    P = as_float_array(affine_pieces, "affine_pieces", ndim=2)
    if P.shape[0] < 1 or P.shape[1] < 2:
        raise ShapeError(
            f"'affine_pieces' must have shape (L, n + 1) with L >= 1 and n >= 1; got {P.shape}."
        )
    if isinstance(groups, (str, bytes)) or len(groups) == 0:
        raise InvalidParameterError(f"'groups' must be a non-empty list of index lists; got {groups!r}.")
    rows: list[int] = []
    trees: list[Node] = []
    for g, grp in enumerate(groups):
        idx = [int(j) for j in grp]
        if not idx or any(not 0 <= j < P.shape[0] for j in idx):
            raise InvalidParameterError(
                f"groups[{g}] must be a non-empty list of indices in [0, {P.shape[0]}); got {list(grp)!r}."
            )
        leaves = [leaf(len(rows) + k) for k in range(len(idx))]
        rows.extend(idx)
        trees.append(balanced("min", leaves))
    root = earliest_first("max", trees)
    n = P.shape[1] - 1
    tape = Tape(n)
    tape.linear(P[rows, :n], P[rows, n])
    w, x, y = compile_tree(tape, root, clipped=False)
    net = tape.network(outputs=[w], readout=[[x]], bias=[y])
    return finish(
        net,
        "lattice",
        n_pieces=int(P.shape[0]),
        groups=[[int(j) for j in g] for g in groups],
        best_known="depth: ceil(log2(n+1)) hidden layers for any CPWL (Arora et al. 2018 Thm 2.1), "
        "ceil(log3(n-1))+1 (Bakaev et al. 2025); size: O(q^2) for q pieces (Chen et al. 2022)",
        reference="Ovchinnikov 2002; Tarela & Martínez 1999; research note §2.3",
    )
