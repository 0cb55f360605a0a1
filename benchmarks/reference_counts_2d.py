"""Region counts of seeded networks from other tools: the literals in tests/test_regions_reference.py.

Peers (benchmark-only; never needed by reluscope or its CI), installed in a separate
virtualenv so they cannot disturb the main environment::

    python -m venv --system-site-packages /tmp/bench-venv
    /tmp/bench-venv/bin/pip install regioncam==0.5.2 relucent==1.0.0   # relucent pulls gurobipy

Run from the repository root::

    /tmp/bench-venv/bin/python -m benchmarks.reference_counts_2d [--only regioncam|relucent] [--slow]

It prints the tool versions and, per network, the count of *activation regions of the
hidden layers* (the output unit does not split; reluscope's ``include_output=False``):

* **regioncam** (Rust, float32): ``Regioncam(size)`` is the square ``[-size, size]²``
  (checked below from ``rc.vertex_inputs``), ``rc.add(torch_sequential)``; a final
  ``nn.Linear`` adds no edges, so ``rc.num_faces`` counts hidden-layer regions.
* **relucent** (LPs with Gurobi): ``Complex(net).bfs()`` explores the whole input
  space ``R²`` (``cube_mode="unrestricted"``); ``len(cx)`` is the number of cells.

Networks are ``torch.manual_seed(seed)`` then ``nn.Sequential(Linear, ReLU, ..., Linear)``
with PyTorch's default initialisation (:func:`torch_mlp`); reluscope gets exact float64
copies of the float32 weights (:func:`to_network`), so every tool sees the same function.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import time
from typing import Any

import numpy as np

from reluscope import Network

# (widths, seed, half-size of the square [-h, h]^2)
REGIONCAM_CASES: list[tuple[list[int], int, float]] = [
    ([2, 8, 8, 1], 1, 1.0),
    ([2, 16, 16, 1], 2, 1.0),
    ([2, 32, 32, 1], 0, 1.0),
    ([2, 32, 32, 1], 3, 2.0),
    ([2, 16, 16, 16, 1], 4, 1.0),
    ([2, 24, 24, 24, 24, 1], 5, 1.5),
    ([2, 64, 64, 64, 1], 0, 1.0),
    ([2, 100, 100, 1], 0, 1.0),
]

# (widths, seed): whole plane R^2
RELUCENT_CASES: list[tuple[list[int], int]] = [
    ([2, 8, 8, 1], 0),
    ([2, 8, 8, 1], 1),
    ([2, 12, 12, 1], 2),
    ([2, 8, 8, 8, 1], 3),
    ([2, 16, 16, 1], 0),
    ([2, 10, 10, 10, 10, 1], 4),
]
# run only with --slow: relucent needs ~80 s on a quiet 2-core machine, ~27 min on a loaded one
RELUCENT_SLOW_CASES: list[tuple[list[int], int]] = [([2, 32, 32, 32, 1], 0)]


def torch_mlp(widths: list[int], seed: int) -> Any:
    """``torch.manual_seed(seed)``, then ``nn.Sequential(Linear, ReLU, ..., Linear)`` (default init)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mods: list[Any] = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def to_network(seq: Any) -> Network:
    """The reluscope network of a ``Linear``/``ReLU`` sequential, weights copied exactly to float64."""
    from torch import nn

    lins = [m for m in seq if isinstance(m, nn.Linear)]
    return Network([
        (m.weight.detach().double().numpy().copy(), m.bias.detach().double().numpy().copy(),
         "relu" if i < len(lins) - 1 else "identity")
        for i, m in enumerate(lins)
    ])


def fingerprint(seq: Any) -> float:
    """Sum of every parameter (float64): shows that a seed still gives the same network."""
    return float(sum(p.detach().double().sum().item() for p in seq.parameters()))


def versions() -> dict[str, str]:
    """Versions of Python and of every tool involved (missing ones as '-')."""
    out = {"python": platform.python_version()}
    for pkg in ("torch", "numpy", "regioncam", "relucent", "gurobipy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "-"
    return out


def regioncam_count(seq: Any, half: float) -> tuple[int, float]:
    """``(rc.num_faces, seconds)`` on ``[-half, half]²``; checks regioncam's box convention."""
    import regioncam

    t0 = time.perf_counter()
    rc = regioncam.Regioncam(half)
    rc.add(seq)
    dt = time.perf_counter() - t0
    vin = np.asarray(rc.vertex_inputs, dtype=np.float64)
    if not (np.allclose(vin.min(axis=0), -half) and np.allclose(vin.max(axis=0), half)):
        raise RuntimeError(f"regioncam's Regioncam({half}) is not the square [-{half}, {half}]^2")
    return int(rc.num_faces), dt


def relucent_count(seq: Any, nworkers: int = 2) -> tuple[int, float]:
    """``(len(cx), seconds)`` for ``Complex(net).bfs()`` over all of R^n (certified by relucent)."""
    from relucent import Complex

    t0 = time.perf_counter()
    cx = Complex(seq)
    res = cx.bfs(nworkers=nworkers, verbose=0)
    dt = time.perf_counter() - t0
    if not res.complete:
        raise RuntimeError(f"relucent's search did not complete on {seq}")
    return len(cx), dt


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["regioncam", "relucent"], default=None)
    ap.add_argument("--slow", action="store_true", help="also the slow relucent cases")
    args = ap.parse_args(argv)
    print("# versions:", ", ".join(f"{k} {v}" for k, v in versions().items()))
    if args.only in (None, "regioncam"):
        print("REGIONCAM_BOX_COUNTS = [  # (widths, seed, half-size h of [-h, h]^2, regions, fingerprint)")
        for widths, seed, half in REGIONCAM_CASES:
            seq = torch_mlp(widths, seed)
            n, dt = regioncam_count(seq, half)
            print(f"    ({widths}, {seed}, {half}, {n}, {fingerprint(seq)!r}),  # {dt:.3f} s", flush=True)
        print("]")
    if args.only in (None, "relucent"):
        print("RELUCENT_PLANE_COUNTS = [  # (widths, seed, regions of all of R^2, fingerprint)")
        for widths, seed in RELUCENT_CASES + (RELUCENT_SLOW_CASES if args.slow else []):
            seq = torch_mlp(widths, seed)
            n, dt = relucent_count(seq)
            print(f"    ({widths}, {seed}, {n}, {fingerprint(seq)!r}),  # {dt:.1f} s", flush=True)
        print("]")


if __name__ == "__main__":
    main()
