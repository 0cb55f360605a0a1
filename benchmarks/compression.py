"""Stability and lossless compression: time per phase on l1-trained MLPs.

Prints two markdown tables, as recorded in ``docs/benchmarks.md`` ("Stability and
lossless compression"):

1. ``reluscope.stability`` per method on l1-trained digits MLPs (input box [0, 1]^64):
   stable units found, units settled without a MILP, MILPs solved, time;
2. ``reluscope.compress`` (stability "auto" + rewriting + exact verification) on
   MNIST MLPs 784-w-w-10 (box [0, 1]^784), w = 25 and 100;
3. ``reluscope.compress`` on small boxes around one MNIST test image (``--ball-nets``),
   where the LP and MILP phases are needed.

Networks are trained with ``reluscope.train.mlp`` (torch) and cached in ``--cache``.
Every solver runs on one thread. Usage::

    python benchmarks/compression.py                 # about 10 minutes on 2 busy cores (training)
    python benchmarks/compression.py --quick         # digits only
    python benchmarks/compression.py --mnist-nets A.npz B.npz --ball-nets B.npz C.npz
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from reluscope import Box, Network
from reluscope.compress import compress
from reluscope.datasets import default_data_path, load_dataset
from reluscope.stability import stability


def _net(cache: Path, name: str, data, widths, l1: float, epochs: int) -> Network:
    path = cache / f"{name}.npz"
    if path.is_file():
        return Network.load(path)
    from reluscope.train import mlp

    res = mlp(data, widths, l1=l1, epochs=epochs, seed=0)
    cache.mkdir(parents=True, exist_ok=True)
    net = res.network.with_layers(res.network.layers, test_accuracy=res.test_accuracy)
    net.save(path)
    return net


def table_stability(cache: Path) -> None:
    d = load_dataset("digits")
    box = Box(0.0, 1.0, dim=64)
    print("\n### stability() per method, l1-trained digits MLPs, box [0, 1]^64\n")
    print("| net | l1 | test acc | method | stably active | stably inactive | settled w/o MILP | LPs | MILPs "
          "| time s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for widths, l1 in (((50, 50), 1e-3), ((100, 100), 5e-4), ((50, 50, 50), 1e-3)):
        name = "digits_" + "-".join(map(str, widths)) + f"_l1-{l1:g}"
        net = _net(cache, name, d, widths, l1, 400)
        acc = net.metadata.get("test_accuracy", float("nan"))
        for method in ("interval", "linear", "lp", "milp", "auto"):
            t = time.perf_counter()
            r = stability(net, box, method, data=d.x_train if method == "auto" else None)
            dt = time.perf_counter() - t
            print(f"| {'-'.join(map(str, widths))} | {l1:g} | {acc:.3f} | {method} | {int(r.stably_active.sum())} "
                  f"| {int(r.stably_inactive.sum())} | {100 * r.settled_without_milp:.0f} % | {r.n_lps} "
                  f"| {r.n_milps} | {dt:.2f} |", flush=True)


def table_compress(cache: Path, widths_list: list[int], n_witness: tuple[int, ...],
                   nets: list[str] | None = None) -> None:
    if default_data_path("mnist") is None:
        print("\n(no MNIST copy found: skipping the MNIST table)")
        return
    d = load_dataset("mnist", dtype=np.float32)
    box = Box(0.0, 1.0, dim=784)
    print("\n### compress() on MNIST 784-w-w-10, l1-trained, box [0, 1]^784\n")
    print("| net | l1 | witnesses | units before -> after | settled w/o MILP | LPs | MILPs | stability s | rules s "
          "| verify s | total s | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    if nets:
        todo = [(Network.load(p), Network.load(p).metadata.get("l1", float("nan"))) for p in nets]
    else:
        todo = []
        for w in widths_list:
            l1 = {25: 1e-3, 50: 1e-3, 100: 5e-4}[w]
            todo.append((_net(cache, f"mnist_{w}-{w}_l1-{l1:g}", d, (w, w), l1, 10), l1))
    for (net, l1), n in ((t, n) for t in todo for n in n_witness):
        w = net.hidden_widths[0]
        pick = np.random.default_rng(0).choice(d.x_train.shape[0], min(n, d.x_train.shape[0]), replace=False)
        x = d.x_train[np.sort(pick)].astype(np.float64)
        t = time.perf_counter()
        small, rep = compress(net, box, data=x)
        dt = time.perf_counter() - t
        tm = rep.times
        print(f"| 784-{w}-{w}-10 | {l1:g} | {x.shape[0]} | {rep.units_before} -> {rep.units_after} | "
              f"{100 * rep.stability.settled_without_milp:.0f} % | {rep.stability.n_lps} | {rep.stability.n_milps} "
              f"| {tm['stability']:.2f} | {tm['rules']:.3f} | {tm['verify']:.2f} | {dt:.2f} "
              f"| {rep.verification.max_abs_diff:.1e} |", flush=True)


def table_ball(nets: list[str], radii: tuple[float, ...]) -> None:
    """compress() on a small box around one test image, where LPs and MILPs are needed."""
    if default_data_path("mnist") is None or not nets:
        return
    d = load_dataset("mnist", dtype=np.float32)
    x0 = d.x_test[0].astype(np.float64)
    print("\n### compress() on the box [x0 - r, x0 + r] ∩ [0, 1]^784 around MNIST test image 0\n")
    print("| net | r | units before -> after | settled w/o MILP | LPs | MILPs | stability s | verify LPs "
          "| verify MILPs | verify s | total s | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in nets:
        net = Network.load(path)
        for r in radii:
            box = Box(np.clip(x0 - r, 0, 1), np.clip(x0 + r, 0, 1))
            t = time.perf_counter()
            small, rep = compress(net, box)
            dt = time.perf_counter() - t
            v, st = rep.verification, rep.stability
            name = "-".join(map(str, net.widths)) + f" (l1 {net.metadata.get('l1', float('nan')):g})"
            print(f"| {name} | {r:g} | {rep.units_before} -> {rep.units_after} | "
                  f"{100 * st.settled_without_milp:.0f} % | {st.n_lps} | {st.n_milps} | {rep.times['stability']:.2f} "
                  f"| {v.n_lps} | {v.n_milps} | {rep.times['verify']:.2f} | {dt:.2f} | {v.max_abs_diff:.1e} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only")
    ap.add_argument("--cache", default="/tmp/reluscope-bench-compression", help="where trained nets are kept")
    ap.add_argument("--mnist-nets", nargs="*", help="use these trained 784-w-w-10 .npz files instead of training")
    ap.add_argument("--ball-nets", nargs="*", help="784-w-w-10 .npz files for the small-box table")
    args = ap.parse_args()
    cache = Path(args.cache)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    table_stability(cache)
    if not args.quick:
        table_compress(cache, [25, 100], n_witness=(5000, 60000), nets=args.mnist_nets)
        table_ball(args.ball_nets or [], (0.02, 0.05))


if __name__ == "__main__":
    main()
