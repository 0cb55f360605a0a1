"""MILP region counting: times of ``reluscope.milp.count_regions`` and friends.

Prints three tables (markdown), as recorded in ``docs/benchmarks.md`` ("MILP counting"):

1. random He-initialised nets (biases N(0, 0.5^2)), hidden widths 8-8, box [-1, 1]^n0,
   n0 = 2..6: exact count, listing, MIPBound, weight-aware bound, Serra et al.'s Theorem 1;
2. two hidden layers sharing 22 units (n1 + n2 = 22, Serra et al. 2018 Fig. 5b's split,
   here on a random net with n0 = 3);

tables 1 and 2 also time ``reluscope.regions.enumerate`` (the dual-graph walk) on the same
box, with its count beside the MILP's (short runs: the best of 3 or 10, by one rule for both);
3. the digits setting of research note ``milp_bounds.md`` §6: 64-input MLPs over [0, 1]^64
   (the bundled 64-16-16-10 MLP, and a 64-10-10-10 MLP trained here with l1 if torch is
   installed): SCIP's count beside the walk's rate (``regions.enumerate``, first 2,000
   regions; ``--walk-all`` for full counts), plus one optimisation (max logit 0) with SCIP's
   cuts on/off and HiGHS.

Every solver runs on one thread. Usage::

    python benchmarks/milp.py            # about 3 minutes on 2 cores
    python benchmarks/milp.py --quick    # smaller, for a smoke test
    python benchmarks/milp.py --tables dimension,split22   # a subset
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np

from reluscope import Box, Network, PartialResultWarning
from reluscope.bounds import serra2018
from reluscope.milp import approx_count, count_regions, encode, list_regions, weight_bound
from reluscope.propagate import best_bounds
from reluscope.regions import enumerate as enumerate_regions


def _fmt(t: float) -> str:
    return f"{t:.2f}"


def _repeats(seconds: float) -> int:
    """How many runs to take the best of, the same rule for both tools: one for runs of a
    second or more, three under a second, ten under 0.1 s (where a run's time is noise)."""
    return 1 if seconds >= 1.0 else 3 if seconds >= 0.1 else 10


def _best(fn, *args, **kwargs):
    """``(result, seconds)``: the best of several runs of ``fn`` by :func:`_repeats`' rule."""
    t0 = time.perf_counter()
    res = fn(*args, **kwargs)
    t = time.perf_counter() - t0
    for _ in range(_repeats(t) - 1):
        t0 = time.perf_counter()
        res = fn(*args, **kwargs)
        t = min(t, time.perf_counter() - t0)
    return res, t


def _walk(net: Network, box: Box, milp_count: int, milp_s: float) -> str:
    """``| regions | walk s | search s | speed-up |`` cells for ``regions.enumerate`` on the same box,
    by its two methods (the speed-up is the faster one's)."""
    walk, tw = _best(enumerate_regions, net, box, method="walk")
    search, ts = _best(enumerate_regions, net, box, method="search", n_jobs=1)
    ok = walk.n_activation_regions == search.n_activation_regions == milp_count
    same = "" if ok else f" (differs! search {search.n_activation_regions})"
    return f"{walk.n_activation_regions}{same} | {tw:.4f} | {ts:.4f} | {milp_s / min(tw, ts):,.0f}x"


def _count(net: Network, box: Box, time_limit: float):
    """``milp.count_regions``, the best of several runs when they are short (as for the walk)."""
    r = count_regions(net, box, time_limit=time_limit)
    runs = [r, *(count_regions(net, box, time_limit=time_limit) for _ in range(_repeats(r.time) - 1))]
    return min(runs, key=lambda x: x.time)


def table_dimension(n0s: list[int], widths: list[int], time_limit: float) -> None:
    print(f"\n### Exact counting vs input dimension (hidden {widths}, box [-1, 1]^n0, eps = 1e-6)\n")
    print("| n0 | binaries | stable | regions | count s | list s | MIPBound (95%) | MIPBound s | weight bound "
          "| Thm 1 | enumerate regions | walk s | search s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n0 in n0s:
        net = Network.random([n0, *widths, 1], seed=n0, bias_scale=0.5)
        box = Box(-1.0, 1.0, dim=n0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialResultWarning)
            r = _count(net, box, time_limit)
            lst = list_regions(net, box, time_limit=time_limit) if r.count <= 3000 else None
            ap = approx_count(net, box, seed=0, time_limit=time_limit)
        wb = weight_bound(net, box)
        count = f"{r.count}" + ("" if r.status == "exact" else " (partial)")
        lst_t = "—" if lst is None else _fmt(lst.time) + ("" if lst.count == r.count else f" ({lst.count}!)")
        print(f"| {n0} | {r.n_binaries} | {r.n_stable} | {count} | {_fmt(r.time)} | {lst_t} | {ap.bound} "
              f"| {_fmt(ap.time)} | {wb.bound} | {serra2018(n0, widths)} | {_walk(net, box, r.count, r.time)} |",
              flush=True)


def table_split22(n0: int, splits: list[tuple[int, int]], time_limit: float) -> None:
    print(f"\n### Two hidden layers sharing 22 units (n0 = {n0}, box [-1, 1]^n0)\n")
    print("| n1 | n2 | binaries | regions | count s | weight bound | Thm 1 | enumerate regions | walk s "
          "| search s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n1, n2 in splits:
        net = Network.random([n0, n1, n2, 1], seed=22, bias_scale=0.5)
        box = Box(-1.0, 1.0, dim=n0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialResultWarning)
            r = _count(net, box, time_limit)
        count = f"{r.count}" + ("" if r.status == "exact" else " (partial)")
        print(f"| {n1} | {n2} | {r.n_binaries} | {count} | {_fmt(r.time)} | {weight_bound(net, box).bound} "
              f"| {serra2018(n0, [n1, n2])} | {_walk(net, box, r.count, r.time)} |", flush=True)


def _digits_nets() -> list[tuple[str, Network]]:
    from reluscope.data import bundled_network

    nets = [("bundled 64-16-16-10", bundled_network())]
    try:
        import torch  # noqa: F401

        from reluscope.datasets import load_digits
        from reluscope.train import mlp

        res = mlp(load_digits(), (10, 10), l1=1e-3, epochs=20, lr=0.1, seed=0)
        nets.insert(0, (f"64-10-10-10, l1 1e-3 (test acc {res.test_accuracy:.2f})", res.network))
    except ImportError:
        print("(torch not installed: skipping the trained 10-10 net)")
    return nets


def _search_row(net: Network, box: Box, r, cap: int) -> str:
    """SCIP's count beside the search's (one thread, then two), as table cells; where SCIP
    stopped at its time limit, the search stops at ``cap`` regions and the rates compare."""
    exact = r.status == "exact"
    cap = None if exact else cap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialResultWarning)
        one, t1 = _best(enumerate_regions, net, box, method="search", n_jobs=1, max_regions=cap)
        two, t2 = _best(enumerate_regions, net, box, method="search", n_jobs=2, max_regions=cap)
    R = one.n_activation_regions
    agree = np.array_equal(one.patterns, two.patterns)
    same = (" (partial)" if one.is_partial else "") + ("" if agree and (not exact or R == r.count) else " (differs!)")
    rate_scip, rate = r.count / r.time, R / t1
    # exact: the ratio of times; SCIP stopped at its limit: the ratio of rates (regions per second)
    speed = r.time / t1 if exact else rate / rate_scip
    return (f"{r.count}{'' if exact else ' (partial)'} | {_fmt(r.time)} | {rate_scip:,.0f} | {R}{same} | {t1:.2f} "
            f"| {rate:,.0f} | {speed:,.0f}x{'' if exact else ' (rates)'} | {t2:.2f}")


def _mnist_nets(splits: list[tuple[int, int]], epochs: int) -> list[tuple[str, Network]]:
    """784-n1-n2-10 MNIST classifiers (``../shared/data``), trained here with l1 as Serra et al."""
    from reluscope.datasets import load_mnist
    from reluscope.train import mlp

    data = load_mnist()
    nets = []
    for n1, n2 in splits:
        res = mlp(data, (n1, n2), l1=1e-4, epochs=epochs, lr=0.01, seed=0, threads=2)
        nets.append((f"784-{n1}-{n2}-10 (test acc {res.test_accuracy:.3f})", res.network))
    return nets


def _compile_projection() -> None:
    """Compile the kernels of the search through the first layer (784-D nets use it): a
    256-input net, and the LPs over x with and without cuts (a small net need not reach them)."""
    from reluscope.regions._leaf_kernels import CutPool, leaf_lps
    from reluscope.regions._nd_geometry import unit_table

    enumerate_regions(Network.random([256, 3, 4, 1], seed=0), Box(0.0, 1.0, dim=256), method="search")
    z_net = Network([(np.eye(1), np.zeros(1), "relu"), (np.ones((1, 1)), np.zeros(1), "identity")])
    pool = CutPool.empty(1, 4)
    for _ in range(2):  # (an empty LP leaves a cut; the second call checks against it)
        leaf_lps(unit_table(z_net, False).packed, np.array([[0], [1]], dtype=np.int8), np.array([[1.0, 1.0]]),
                 np.array([-1.0]), np.zeros(2), np.full(2, 0.4), np.ones((2, 2)), 1e-9, 1e-9, 1e-12, cuts=pool)


def table_mnist(splits: list[tuple[int, int]], epochs: int, time_limit: float) -> None:
    box = Box(0.0, 1.0, dim=784)
    print(f"\n### Serra et al.'s setting: MNIST 784-n1-n2-10 with n1 + n2 = 22, over [0, 1]^784 "
          f"(SCIP time limit {time_limit:g} s)\n")
    print("Trained here for this table (`reluscope.train.mlp`, SGD with l1 1e-4, "
          f"{epochs} epochs); SCIP counts with linear bounds.\n")
    print("| net | binaries | SCIP regions | SCIP s | SCIP regions/s | search regions | search s, 1 thread "
          "| search regions/s | speed-up | search s, 2 threads |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, net in _mnist_nets(splits, epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialResultWarning)
            r = count_regions(net, box, time_limit=time_limit, bounds=best_bounds(net, box, "linear"))
        print(f"| {name} | {r.n_binaries} | {_search_row(net, box, r, 20_000)} |", flush=True)


def table_digits(time_limit: float, walk_cap: int) -> None:
    box = Box(0.0, 1.0, dim=64)
    print(f"\n### Digits MLPs over [0, 1]^64 (count time limit {time_limit:g} s)\n")
    print("| net | bounds | binaries | bounds s | regions | count s | weight bound | Thm 1 |")
    print("|---|---|---|---|---|---|---|---|")
    nets = _digits_nets()
    counted = []
    for name, net in nets:
        for method in ("interval", "linear", "lp"):
            t0 = time.perf_counter()
            lb = best_bounds(net, box, method)
            tb = time.perf_counter() - t0
            if method != "linear":
                nb = encode(net, box, bounds=lb).n_binaries
                print(f"| {name} | {method} | {nb} | {_fmt(tb)} | | | | |", flush=True)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PartialResultWarning)
                r = count_regions(net, box, time_limit=time_limit, bounds=lb)
            counted.append((name, net, r))
            count = f"{r.count}" + ("" if r.status == "exact" else " (partial: time limit)")
            widths = list(net.hidden_widths)
            print(f"| {name} | {method} | {r.n_binaries} | {_fmt(tb)} | {count} | {_fmt(r.time)} "
                  f"| {weight_bound(net, box, bounds=lb).bound} | {serra2018(64, widths)} |", flush=True)
    print("\n### `regions.enumerate` in 64 dimensions, on the same box\n")
    print(f"The search (`method=\"search\"`, what `\"auto\"` picks here) counts every region; the walk "
          f"stops after {walk_cap:,} regions (`max_regions`) unless it is given `--walk-all`, and its rate is "
          "what compares.\n")
    print("| net | SCIP regions | SCIP s | SCIP regions/s | search regions | search s, 1 thread "
          "| search regions/s | speed-up | search s, 2 threads | walk regions | walk s | walk regions/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, net, r in counted:
        row = _search_row(net, box, r, 200_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialResultWarning)
            t0 = time.perf_counter()
            res = enumerate_regions(net, box, method="walk", max_regions=walk_cap or None)
            t = time.perf_counter() - t0
        found = f"{res.n_activation_regions}" + (" (partial)" if res.is_partial else "")
        print(f"| {name} | {row} | {found} | {_fmt(t)} | {res.n_activation_regions / t:,.0f} |", flush=True)
    print("\n### Maximise logit 0 over [0, 1]^64 (linear bounds; dual bound = certified maximum)\n")
    print("| net | solver | status | time s | value | dual bound |")
    print("|---|---|---|---|---|---|")
    import pyscipopt

    for name, net in nets:
        enc = encode(net, box)
        c = np.zeros(net.n_out)
        c[0] = 1.0
        for label, kind in (("SCIP, cuts off (default)", "off"), ("SCIP, SCIP's default cuts", "on"),
                            ("HiGHS", "highs")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PartialResultWarning)
                t0 = time.perf_counter()
                if kind == "highs":
                    res = enc.maximize(c, solver="highs", time_limit=time_limit)
                    status, val, bound = res.status, res.value, res.bound
                else:
                    s = enc.to_scip(cuts=kind == "on")
                    s.model.setObjective(pyscipopt.quicksum(float(ci) * yi for ci, yi in zip(c, s.y, strict=True)),
                                         "maximize")
                    s.model.setParam("limits/time", time_limit)
                    s.model.optimize()
                    status, bound = s.model.getStatus(), s.model.getDualbound()
                    val = s.model.getObjVal() if s.model.getNSols() else float("nan")
                dt = time.perf_counter() - t0
            print(f"| {name} | {label} | {status} | {_fmt(dt)} | {val:.6f} | {bound:.6f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller settings (smoke test)")
    ap.add_argument("--tables", default="dimension,split22,digits,mnist", help="comma-separated subset")
    ap.add_argument("--walk-all", action="store_true",
                    help="let regions.enumerate count the digits nets in full (several minutes each)")
    args = ap.parse_args()
    tables = set(args.tables.split(","))
    t0 = time.perf_counter()
    # compile (or load) the n-D kernels outside the timings
    for method in ("walk", "search"):
        enumerate_regions(Network.random([2, 3, 1], seed=0), Box(-1.0, 1.0, dim=2), method=method)
    _compile_projection()
    print(f"## MILP counting benchmark ({platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, one solver thread)")
    quick = args.quick
    if "dimension" in tables:
        table_dimension([2, 3] if quick else [2, 3, 4, 5, 6], [6, 6] if quick else [8, 8], 10.0 if quick else 60.0)
    if "split22" in tables:
        table_split22(2 if quick else 3, [(11, 11)] if quick else [(1, 21), (5, 17), (11, 11), (17, 5), (21, 1)],
                      10.0 if quick else 40.0)
    if "digits" in tables:
        table_digits(5.0 if quick else 40.0, 0 if args.walk_all else (200 if quick else 2000))
    if "mnist" in tables:
        table_mnist([(11, 11)] if quick else [(5, 17), (11, 11), (17, 5)], 1 if quick else 5,
                    5.0 if quick else 40.0)
    print(f"\nTotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
