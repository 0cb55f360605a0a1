"""Region counts of seeded n-D networks from other tools: the literals in tests/test_regions_nd.py.

Peers (benchmark-only; never needed by reluscope or its CI)::

    python -m venv --system-site-packages /tmp/bench-venv
    /tmp/bench-venv/bin/pip install affinitree==0.23.0 relucent==1.0.0   # relucent pulls gurobipy

Run from the repository root::

    /tmp/bench-venv/bin/python -m benchmarks.reference_counts_nd [--only relucent|affinitree]

It prints the tool versions and two dict literals (``RELUCENT_COUNTS`` and
``AFFINITREE_COUNTS``): per network ``Network.random(widths, seed=0)`` (He init,
biases N(0, 1)), the number of activation regions of the hidden layers over all
of ``R^n`` found by

* **relucent** 1.0 (LPs with Gurobi): ``Complex(model).bfs(nworkers=1)``, ``len(complex)``;
* **affinitree** 0.23 (Rust): ``builder.from_layers(...).num_terminals()``.

Both get a float64 ``torch.nn.Sequential`` with reluscope's weights
(:func:`benchmarks.regions_nd.torch_model`).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import time

from benchmarks.regions_nd import run_affinitree, run_relucent
from reluscope import Network

RELUCENT_CASES = [(2, 8, 8, 1), (3, 8, 8, 1), (2, 16, 16, 1), (3, 6, 6, 6, 1)]
AFFINITREE_CASES = RELUCENT_CASES + [(3, 16, 16, 1), (4, 8, 8, 1), (5, 8, 8, 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["relucent", "affinitree"])
    args = ap.parse_args()
    vers = {p: importlib.metadata.version(p) for p in ("relucent", "gurobipy", "affinitree")}
    print(f"python {platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    for tool, cases, run in (("relucent", RELUCENT_CASES, run_relucent),
                             ("affinitree", AFFINITREE_CASES, run_affinitree)):
        if args.only not in (None, tool):
            continue
        counts = {}
        for widths in cases:
            t = time.perf_counter()
            counts[widths], _ = run(Network.random(list(widths), seed=0))
            print(f"# {tool} {widths}: {counts[widths]} regions in {time.perf_counter() - t:.1f} s", flush=True)
        print(f"{tool.upper()}_COUNTS = {counts!r}")


if __name__ == "__main__":
    main()
