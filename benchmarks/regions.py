"""Benchmark of the 1-D and 2-D region engines against regioncam, relucent and a dense grid.

Prints one Markdown table (tool, network, domain, regions, seconds, ratio, note); the
results and the command are recorded in ``docs/benchmarks.md`` ("1-D and 2-D regions").
Peers are optional and benchmark-only: a missing one is reported and skipped. Install
them in a separate virtualenv (see :mod:`benchmarks.reference_counts_2d`) and run from the
repository root::

    /tmp/bench-venv/bin/python -m benchmarks.regions [--repeat 3] [--only regioncam,grid,...]

Sections (``--only``, comma separated):

* ``regioncam`` — the square ``[-1, 1]²`` on the seed-0 PyTorch networks from
  ``[2, 32, 32, 1]`` to ``[2, 256×4, 1]``; both tools count hidden-layer regions.
* ``relucent`` — the whole plane ``R²`` on ``[2, 32, 32, 32, 1]`` (relucent: one run).
* ``grid`` — a 1000 × 1000 grid of the same square, distinct activation patterns with
  ``np.unique`` (what a user would otherwise write); every grid pattern is looked up
  among reluscope's regions (``PlaneRegions.locate``), and the regions the grid misses
  are counted.
* ``scale`` — a plane through three random points of ``[0, 1]^784`` for
  ``Network.random([784, ...], seed=0)``: regions per second.
* ``million`` — at least a million regions in a child process; its peak RSS
  (``resource.getrusage(RUSAGE_CHILDREN)``) includes the interpreter and NumPy.
* ``segments`` — 1,000 consecutive segments between random points of ``[0, 1]^784``
  through ``[784, 256, 256, 256, 10]`` with ``on_segments``.

reluscope runs with ``n_jobs=1`` against the peers (regioncam and the grid run on one
thread; BLAS may still use several). ``scale`` and ``segments`` print one row per value of
``--jobs`` (default ``1,0``; 0 means ``n_jobs=None``, a thread per core); ``million``
uses ``n_jobs=None``.

Timings are best of ``--repeat`` runs after one untimed warm-up call (the warm-up also
compiles reluscope's numba kernels when numba is installed), both wall-clock and CPU
time of this process (``time.process_time``: all its threads; less disturbed than wall
time when the machine is shared). The two ratios are the peer's seconds divided by
reluscope's on the same task (above 1: reluscope faster).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reluscope import Network
from reluscope.regions import on_plane, on_segments

from .reference_counts_2d import to_network, torch_mlp, versions

SECTIONS = ("regioncam", "relucent", "grid", "scale", "million", "segments")
SEED0_NETS = [
    [2, 32, 32, 1], [2, 64, 64, 64, 1], [2, 100, 100, 1], [2] + [128] * 4 + [1], [2] + [256] * 4 + [1],
]
GRID_NETS = [[2, 64, 64, 64, 1], [2, 100, 100, 1], [2] + [128] * 4 + [1]]
RELUCENT_NET = [2, 32, 32, 32, 1]
SCALE_CASES = [
    ([784, 64, 64, 64, 10], 16.0), ([784] + [64] * 8 + [10], 32.0), ([784, 256, 256, 256, 10], 4.0),
]
MILLION_CASE = ([784] + [384] * 5 + [10], 16.0)
SEGMENT_NET = [784, 256, 256, 256, 10]
SQUARE = (-1.0, 1.0, -1.0, 1.0)
O2, E1, E2 = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])

# tool, network, domain, regions, wall seconds, CPU seconds, peer's (wall, cpu) / reluscope's, note
Row = tuple[str, str, str, Any, float, float, tuple[float, float] | None, str]
NAN = float("nan")


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    """``(result, best wall seconds, best CPU seconds of this process)`` over ``repeat`` calls."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return out, wall, cpu


def _ratio(peer: tuple[float, float], ours: tuple[float, float]) -> tuple[float, float]:
    return peer[0] / ours[0], peer[1] / ours[1]


def arch(widths: list[int]) -> str:
    """``2-128x4-1`` style name (four or more equal hidden widths are abbreviated)."""
    hidden = widths[1:-1]
    same = len(hidden) >= 4 and len(set(hidden)) == 1
    mid = f"{hidden[0]}x{len(hidden)}" if same else "-".join(map(str, hidden))
    return f"{widths[0]}-{mid}-{widths[-1]}"


def plane_through(n_in: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``origin, u, v`` of the plane through three uniform random points of ``[0, 1]^n_in``."""
    p = np.random.default_rng(seed).random((3, n_in))
    return p[0], p[1] - p[0], p[2] - p[0]


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _skip(tool: str, why: str) -> Row:
    return (tool, "-", "-", "-", NAN, NAN, None, f"skipped: {why}")


def bench_regioncam(repeat: int) -> list[Row]:
    if not _have("regioncam"):
        return [_skip("regioncam", "not installed")]
    import regioncam

    rows: list[Row] = []
    for widths in SEED0_NETS:
        seq, net = torch_mlp(widths, 0), to_network(torch_mlp(widths, 0))

        def run_rc(seq: Any = seq) -> int:
            rc = regioncam.Regioncam(1.0)  # the square [-1, 1]^2
            rc.add(seq)
            return int(rc.num_faces)

        n_rc, *t_rc = best_of(run_rc, repeat)
        res, *t_rs = best_of(lambda net=net: on_plane(net, O2, E1, E2, bounds=SQUARE, n_jobs=1), repeat)
        n_rs = res.n_activation_regions
        name = arch(widths)
        rows.append(("reluscope", name, "[-1,1]^2", n_rs, *t_rs, None, ""))
        note = "same count" if n_rc == n_rs else f"reluscope finds {n_rs - n_rc:+d}"
        rows.append(("regioncam", name, "[-1,1]^2", n_rc, *t_rc, _ratio(t_rc, t_rs), note))
    return rows


def bench_relucent(repeat: int) -> list[Row]:
    if not (_have("relucent") and _have("gurobipy")):
        return [_skip("relucent", "relucent/gurobipy not installed")]
    from relucent import Complex

    seq, net = torch_mlp(RELUCENT_NET, 0), to_network(torch_mlp(RELUCENT_NET, 0))
    res, *t_rs = best_of(lambda: on_plane(net, O2, E1, E2, n_jobs=1), repeat)
    t0 = time.perf_counter()
    cx = Complex(seq)
    out = cx.bfs(nworkers=2, verbose=0)
    t_rl = time.perf_counter() - t0
    n_rl = len(cx)
    name = arch(RELUCENT_NET)
    note = ("same count" if n_rl == res.n_activation_regions else "counts differ") + (
        "" if out.complete else "; relucent incomplete")
    return [
        ("reluscope", name, "R^2", res.n_activation_regions, *t_rs, None,
         f"{int(res.bounded.sum())} bounded"),
        ("relucent", name, "R^2", n_rl, t_rl, NAN, (t_rl / t_rs[0], NAN),
         note + "; one run, 2 worker processes (CPU time not measured)"),
    ]


def grid_count(net: Network, n: int) -> tuple[int, np.ndarray]:
    """Distinct activation patterns on an ``n × n`` grid of the square (plain NumPy)."""
    s = np.linspace(SQUARE[0], SQUARE[1], n)
    t = np.linspace(SQUARE[2], SQUARE[3], n)
    pts = np.stack(np.meshgrid(s, t), axis=-1).reshape(-1, 2)
    h, bits = pts, []
    for layer in net.layers[:-1]:
        z = h @ layer.weight.T + layer.bias
        bits.append(np.packbits(z > 0, axis=1))
        h = np.maximum(z, 0.0)
    return len(np.unique(np.concatenate(bits, axis=1), axis=0)), pts


def bench_grid(repeat: int, n: int = 1000) -> list[Row]:
    rows: list[Row] = []
    for widths in GRID_NETS:
        net = to_network(torch_mlp(widths, 0))
        res, *t_rs = best_of(lambda net=net: on_plane(net, O2, E1, E2, bounds=SQUARE, n_jobs=1), repeat)
        (n_grid, pts), *t_grid = best_of(lambda net=net: grid_count(net, n), repeat)
        found = res.locate(pts)
        n_outside = int((found < 0).sum())
        missed = res.n_activation_regions - len(np.unique(found[found >= 0]))
        name = arch(widths)
        rows.append(("reluscope", name, "[-1,1]^2", res.n_activation_regions, *t_rs, None, ""))
        rows.append((f"grid {n}x{n}", name, "[-1,1]^2", n_grid, *t_grid, _ratio(t_grid, t_rs),
                     f"grid points in no reluscope region: {n_outside}; regions the grid misses: {missed}"))
    return rows


def _jobs_label(n_jobs: int | None) -> str:
    return "reluscope" if n_jobs == 1 else f"reluscope, {os.cpu_count()} threads"


def bench_scale(repeat: int, jobs: list[int | None]) -> list[Row]:
    rows: list[Row] = []
    for widths, half in SCALE_CASES:
        net = Network.random(widths, seed=0)
        o, u, v = plane_through(widths[0])
        for nj in jobs:
            res, t, c = best_of(lambda net=net, o=o, u=u, v=v, half=half, nj=nj: on_plane(
                net, o, u, v, bounds=(-half, half, -half, half), n_jobs=nj), repeat)
            n = res.n_activation_regions
            rows.append((_jobs_label(nj), arch(widths), f"plane [-{half:g},{half:g}]^2", n, t, c, None,
                         f"{n / t:,.0f} regions/s ({n / c:,.0f} per CPU second)"))
    return rows


def _million_child() -> None:
    """Run in a child process: print ``regions seconds`` for the million-region case."""
    widths, half = MILLION_CASE
    net = Network.random(widths, seed=0)
    o, u, v = plane_through(widths[0])
    t0, c0 = time.perf_counter(), time.process_time()
    res = on_plane(net, o, u, v, bounds=(-half, half, -half, half))
    print(res.n_activation_regions, time.perf_counter() - t0, time.process_time() - c0)


def bench_million() -> list[Row]:
    widths, half = MILLION_CASE
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-m", "benchmarks.regions", "--child-million"],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    n, t, c = out.stdout.split()
    note = f"peak RSS {peak_kb / 1024:,.0f} MiB (child process, one run)"
    if peak_kb <= before:
        note += " (an earlier child may have set the peak)"
    return [("reluscope", arch(widths), f"plane [-{half:g},{half:g}]^2", int(n), float(t), float(c), None,
             f"{int(n) / float(t):,.0f} regions/s; {note}")]


def bench_segments(repeat: int, jobs: list[int | None], n_seg: int = 1000) -> list[Row]:
    net = Network.random(SEGMENT_NET, seed=0)
    x = np.random.default_rng(1).random((n_seg + 1, SEGMENT_NET[0]))
    rows: list[Row] = []
    for nj in jobs:
        res, t, c = best_of(lambda nj=nj: on_segments(net, x[:-1], x[1:], n_jobs=nj), repeat)
        total = int(res.n_activation_regions.sum())
        rows.append((_jobs_label(nj) + " 1-D", arch(SEGMENT_NET), f"{n_seg} segments", total, t, c, None,
                     f"{total / t:,.0f} pieces/s; mean {total / n_seg:.1f} pieces per segment"))
    return rows


def _secs(t: float) -> str:
    return "-" if not np.isfinite(t) else (f"{t:.3f}" if t < 10 else f"{t:.1f}")


def _times(r: float) -> str:
    return "-" if not np.isfinite(r) else (f"{r:.2f}" if r < 10 else f"{r:,.0f}")


def print_table(rows: list[Row]) -> None:
    """The Markdown table; ratios are the peer's seconds over reluscope's (above 1: reluscope faster)."""
    print("| tool | network | domain | regions | wall s | CPU s | ratio wall | ratio CPU | note |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for tool, name, dom, n, t, c, ratio, note in rows:
        n_s = f"{n:,}" if isinstance(n, (int, np.integer)) else str(n)
        r_s = ("", "") if ratio is None else (_times(ratio[0]), _times(ratio[1]))
        print(f"| {tool} | {name} | {dom} | {n_s} | {_secs(t)} | {_secs(c)} | {r_s[0]} | {r_s[1]} | {note} |",
              flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (best is kept)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument("--jobs", default="1,0", help="n_jobs values for scale and segments (0: one thread per core)")
    ap.add_argument("--child-million", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_million:
        _million_child()
        return
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    jobs = [int(j) or None for j in args.jobs.split(",")]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        ap.error(f"--only: unknown sections {bad}; choose from {SECTIONS}")
    try:
        from reluscope.regions._kernels import use_numba

        numba_on = use_numba()
    except ImportError:
        numba_on = False
    print("# versions:", ", ".join(f"{k} {v}" for k, v in versions().items()),
          f"| numba kernels: {'on' if numba_on else 'off'}")
    print(f"# load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"best of {args.repeat}")
    # untimed warm-up: imports and (with numba) compiles the kernels
    warm = Network.random([2, 8, 8, 1], seed=0)
    on_plane(warm, O2, E1, E2, bounds=SQUARE)
    on_plane(warm, O2, E1, E2)
    on_segments(warm, np.zeros((2, 2)), np.ones((2, 2)))
    rows: list[Row] = []
    benches: dict[str, Callable[[], list[Row]]] = {
        "regioncam": lambda: bench_regioncam(args.repeat),
        "relucent": lambda: bench_relucent(args.repeat),
        "grid": lambda: bench_grid(args.repeat),
        "scale": lambda: bench_scale(args.repeat, jobs),
        "million": bench_million,
        "segments": lambda: bench_segments(args.repeat, jobs),
    }
    for name in only:
        new = benches[name]()
        for r in new:
            print("#", " | ".join(str(x) for x in r), flush=True)
        rows += new
    print(f"# load average at end: {os.getloadavg()[0]:.1f}")
    print_table(rows)


if __name__ == "__main__":
    main()
