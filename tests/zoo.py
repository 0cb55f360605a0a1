"""A zoo of tiny networks with hand-derived answers, shared by the whole test suite.

Each entry is a :class:`ZooNet`: the network plus facts derived by hand (not by
reluscope): numbers of activation/linear regions on a stated domain, which units
are dead or always on, and so on. Engines are parametrised over the zoo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from reluscope import Network


@dataclass
class ZooNet:
    name: str
    net: Network
    #: input domain the counts refer to: None = all of R^n, else (lo, hi) per coordinate
    domain: tuple | None
    n_activation_regions: int | None = None
    n_linear_regions: int | None = None
    notes: dict = field(default_factory=dict)


def _net(layers):
    return Network(layers)


def hat() -> ZooNet:
    """relu(x) - 2 relu(x-1) + relu(x-2): a triangle on [0, 2].

    On [-1, 3] it has 4 pieces: 0 | x | 2-x | 0 (kinks at 0, 1, 2). The two zero
    pieces are not adjacent, so activation and linear regions are both 4.
    On the whole line the same holds. On [0.5, 3]: 3 pieces.
    """
    net = _net(
        [
            (np.ones((3, 1)), np.array([0.0, -1.0, -2.0]), "relu"),
            (np.array([[1.0, -2.0, 1.0]]), np.zeros(1), "identity"),
        ]
    )
    return ZooNet("hat", net, None, 4, 4, {"kinks": [0.0, 1.0, 2.0]})


def lines_general_position(k: int = 4, seed: int = 0) -> ZooNet:
    """k lines in general position in the plane: 1 + k + C(k, 2) regions (Zaslavsky).

    Lines x·(cos θ_i, sin θ_i) = r_i with distinct angles and offsets chosen so that
    no three meet (checked in the constructor by solving every triple). Every unit
    has a distinct output weight, so no two neighbouring regions share an affine map:
    linear regions = activation regions.
    """
    rng = np.random.default_rng(seed)
    while True:
        theta = np.sort(rng.uniform(0, np.pi, k))
        if k > 1 and np.min(np.diff(theta)) < 0.05:
            continue
        w = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        b = rng.uniform(-1, 1, k)
        ok = True
        for i in range(k):
            for j in range(i + 1, k):
                p = np.linalg.solve(w[[i, j]], -b[[i, j]])
                d = np.abs(w @ p + b)
                d[[i, j]] = np.inf
                if np.min(d) < 1e-3:
                    ok = False
        if ok:
            break
    out = (np.arange(k) + 1.0)[None, :] * np.where(np.arange(k) % 2 == 0, 1, -1.5)
    net = _net([(w, b, "relu"), (out, np.zeros(1), "identity")])
    r = 1 + k + comb(k, 2)
    return ZooNet(f"lines{k}", net, None, r, r)


def lines_through_origin(k: int = 3) -> ZooNet:
    """k distinct lines through the origin (zero biases): 2k cones."""
    theta = np.pi * (np.arange(k) + 0.3) / k
    w = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    net = _net([(w, np.zeros(k), "relu"), (np.arange(1.0, k + 1)[None, :], np.zeros(1), "identity")])
    return ZooNet(f"origin{k}", net, None, 2 * k, 2 * k)


def dead_unit() -> ZooNet:
    """Two lines crossing (4 regions) plus a unit with zero weights and bias -1 (never on).

    Unit 2 is stably inactive on every domain; unit 0 and 1 are unstable on R^2.
    """
    w = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    b = np.array([0.0, 0.0, -1.0])
    net = _net([(w, b, "relu"), (np.array([[1.0, 2.0, 5.0]]), np.zeros(1), "identity")])
    return ZooNet("dead_unit", net, None, 4, 4, {"stably_inactive": [2], "stably_active": []})


def coincident() -> ZooNet:
    """Three units on the same line x0 = 0.5: (x0-0.5), 2(x0-0.5), -(x0-0.5).

    Activation patterns: only two (the line splits the plane once); output
    relu(u) + relu(2u) - relu(-u) = 3u for u > 0 and u for u < 0: 2 linear regions.
    """
    w = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]])
    b = np.array([-0.5, -1.0, 0.5])
    net = _net([(w, b, "relu"), (np.array([[1.0, 1.0, -1.0]]), np.zeros(1), "identity")])
    return ZooNet("coincident", net, None, 2, 2)


def merged_linear() -> ZooNet:
    """Two lines, but the output ignores one unit: 4 activation regions, 2 linear regions.

    relu(x0) + 0 * relu(x1): the line x1 = 0 changes the pattern, not the map.
    """
    net = _net([(np.eye(2), np.zeros(2), "relu"), (np.array([[1.0, 0.0]]), np.zeros(1), "identity")])
    return ZooNet("merged_linear", net, None, 4, 2)


def always_on() -> ZooNet:
    """On the box [0, 1]^2, unit 0 = relu(x0 + x1 + 1) is always on, unit 1 = relu(-x0 - 1)
    always off, unit 2 = relu(x0 - 0.5) switches: 2 regions in the box."""
    w = np.array([[1.0, 1.0], [-1.0, 0.0], [1.0, 0.0]])
    b = np.array([1.0, -1.0, -0.5])
    net = _net([(w, b, "relu"), (np.array([[1.0, 1.0, 1.0]]), np.zeros(1), "identity")])
    return ZooNet(
        "always_on", net, ((0.0, 0.0), (1.0, 1.0)), 2, 2,
        {"stably_active": [0], "stably_inactive": [1]},
    )


def zoo() -> list[ZooNet]:
    """Every zoo network."""
    return [
        hat(),
        lines_general_position(4),
        lines_general_position(7, seed=3),
        lines_through_origin(3),
        dead_unit(),
        coincident(),
        merged_linear(),
        always_on(),
    ]


PLANE_ZOO = [z for z in zoo() if z.net.n_in == 2]
