"""n-D region enumeration: reluscope vs affinitree vs relucent, side by side, whole space.

Prints one markdown table, as recorded in ``docs/benchmarks.md`` ("n-D region
enumeration"): per seeded network, the number of activation regions of the hidden
layers over all of ``R^n`` found by each tool, and its wall time.

* **reluscope**: ``reluscope.regions._nd.enumerate(net)`` (numba kernels, one
  thread; the JIT cache is loaded before timing; ``--backend numpy`` for the
  pure-NumPy path).
* **affinitree** 0.23 (Rust, Apache-2.0): ``builder.from_layers(extract_pytorch_architecture(n,
  model))``, ``tree.num_terminals()`` (``AffTree`` distillation with infeasible-path pruning).
* **relucent** 1.0 (Python + Gurobi, AGPL-3.0): ``Complex(model).bfs(nworkers=1)``,
  ``len(complex)``; run only where it can finish within ``--relucent-max`` regions.

Every tool gets the same function: ``Network.random(widths, seed=0)`` (He init, biases
N(0, 1)), copied into a float64 ``torch.nn.Sequential`` for the two peers. The rows
marked "torch seed 0" are the research note's nets (``torch.manual_seed(0)``, PyTorch's
default init; ``reference/regions.md`` §1 reports 772 / 5028 regions for them).

The peers are benchmark-only dependencies, never needed by reluscope or its CI::

    python -m venv --system-site-packages /tmp/bench-venv
    /tmp/bench-venv/bin/pip install affinitree==0.23.0 relucent==1.0.0   # relucent pulls gurobipy
    OPENBLAS_NUM_THREADS=1 /tmp/bench-venv/bin/python -m benchmarks.regions_nd --dims 2,3,4 --widths 8,16
    OPENBLAS_NUM_THREADS=1 /tmp/bench-venv/bin/python -m benchmarks.regions_nd --dims 5,6 --widths 8 \
        --no-torch-nets
    OPENBLAS_NUM_THREADS=1 /tmp/bench-venv/bin/python -m benchmarks.regions_nd --dims 5 --widths 16 \
        --no-torch-nets                                       # [5, 16, 16, 1]: about 5 minutes

``--quick`` runs the small networks only. Each peer runs in a child process with a
time limit (``--timeout``, default 600 s); reluscope runs in the main process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import platform
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from reluscope import Network


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence stdout/stderr at the file-descriptor level (affinitree prints from Rust)."""
    null = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(null)
        os.close(saved[0])
        os.close(saved[1])


def torch_model(net: Network) -> Any:
    """A float64 ``nn.Sequential(Linear, ReLU, ..., Linear)`` with ``net``'s weights."""
    import torch

    layers: list[Any] = []
    for i, layer in enumerate(net.layers):
        lin = torch.nn.Linear(layer.n_in, layer.n_out).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(np.array(layer.weight)))
            lin.bias.copy_(torch.tensor(np.array(layer.bias)))
        layers.append(lin)
        if i < net.depth - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_seed0(widths: list[int]) -> Network:
    """``torch.manual_seed(0)``, default-initialised MLP, as an exact float64 Network."""
    import torch

    torch.manual_seed(0)
    mods: list[Any] = []
    for i in range(len(widths) - 1):
        mods.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    layers = []
    for i, m in enumerate(model[::2]):
        act = "relu" if i < len(widths) - 2 else "identity"
        layers.append((m.weight.detach().double().numpy(), m.bias.detach().double().numpy(), act))
    return Network(layers)


def run_reluscope(net: Network, backend: str) -> tuple[int, int, float]:
    from reluscope.regions._nd import enumerate as enumerate_regions

    t = time.perf_counter()
    res = enumerate_regions(net, backend=backend)
    return res.n_activation_regions, res.n_linear_regions, time.perf_counter() - t


def run_affinitree(net: Network) -> tuple[int, float]:
    from affinitree import builder, extract_pytorch_architecture

    model = torch_model(net)
    t = time.perf_counter()
    with _quiet():
        tree = builder.from_layers(extract_pytorch_architecture(net.n_in, model))
    return tree.num_terminals(), time.perf_counter() - t


def run_relucent(net: Network) -> tuple[int, float]:
    import relucent

    model = torch_model(net)
    t = time.perf_counter()
    with _quiet():
        cplx = relucent.Complex(model)
        cplx.bfs(nworkers=1, verbose=0)
    return len(cplx), time.perf_counter() - t


def _child(tool: str, net: Network, conn: Any) -> None:
    conn.send(run_affinitree(net) if tool == "affinitree" else run_relucent(net))
    conn.close()


def run_peer(tool: str, net: Network, timeout: float) -> tuple[int, float] | None:
    """Run a peer in a child process; None when it does not finish within ``timeout`` seconds."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(tool, net, send))
    proc.start()
    send.close()
    try:
        return recv.recv() if recv.poll(timeout) else None
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        recv.close()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small networks only")
    ap.add_argument("--backend", default="auto", choices=["auto", "numba", "numpy"])
    ap.add_argument("--relucent-max", type=int, default=1000,
                    help="run relucent only on nets with at most this many regions")
    ap.add_argument("--no-peers", action="store_true", help="reluscope only")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per peer run")
    ap.add_argument("--dims", default="2,3,4,5,6", help="input dimensions n ('none': torch nets only)")
    ap.add_argument("--widths", default="8,16", help="hidden widths h of [n, h, h, 1]")
    ap.add_argument("--no-torch-nets", action="store_true", help="skip the torch-seeded nets")
    args = ap.parse_args()

    cases: list[tuple[str, Network]] = []
    for n in (int(v) for v in args.dims.split(",") if v.strip() and v != "none"):
        for h in (int(v) for v in args.widths.split(",")):
            if args.quick and (n > 4 or h > 8):
                continue
            cases.append((f"[{n}, {h}, {h}, 1]", Network.random([n, h, h, 1], seed=0)))
    have_torch = _version("torch") != "not installed" and not args.no_torch_nets
    if have_torch:
        for w in ([3, 8, 8, 1], [3, 16, 16, 1]):
            if not (args.quick and w[1] > 8):
                cases.append((f"{w} torch seed 0", torch_seed0(w)))
    peers = [] if args.no_peers else [p for p in ("affinitree", "relucent") if _version(p) != "not installed"]

    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {_version('numba')}, "
          f"reluscope {_version('reluscope')} (backend {args.backend}), affinitree {_version('affinitree')}, "
          f"relucent {_version('relucent')} (gurobipy {_version('gurobipy')}); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    # load the compiled kernels (numba's on-disk cache) before timing
    run_reluscope(Network.random([2, 3, 1], seed=0), args.backend)

    head = "| network (seed 0, all of R^n) | reluscope regions | linear regions | reluscope s |"
    sep = "|---|---|---|---|"
    for p in peers:
        head += f" {p} regions | {p} s | speed-up vs {p} |"
        sep += "---|---|---|"
    print()
    print(head)
    print(sep)
    for name, net in cases:
        n_act, n_lin, t_rs = run_reluscope(net, args.backend)
        row = f"| {name} | {n_act} | {n_lin} | {t_rs:.2f} |"
        for p in peers:
            if p == "relucent" and n_act > args.relucent_max:
                row += " – | – | – |"
                continue
            got = run_peer(p, net, args.timeout)
            if got is None:
                row += f" – | > {args.timeout:.0f} | > {args.timeout / t_rs:.0f}x |"
                continue
            count, t_p = got
            flag = "" if count == n_act else " (differs!)"
            row += f" {count}{flag} | {t_p:.2f} | {t_p / t_rs:.1f}x |"
        print(row, flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
