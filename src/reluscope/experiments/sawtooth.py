"""Reproduction "sawtooth": depth buys exponentially many pieces (Telgarsky 2016).

Telgarsky's sawtooth ``f_L`` (:func:`reluscope.build.sawtooth`: ``L`` hidden layers of
width 2, ``N = 2L`` ReLUs) has exactly ``2^L`` linear pieces, whereas a network with
one hidden layer of ``N`` ReLUs has at most ``N + 1`` (each unit adds at most one
breakpoint on the line). Every count here is exact: the pieces of each network are
computed with :func:`reluscope.regions.on_segment`, never by sampling.

Compared, for ``L = 1 .. L_max``:

* the sawtooth, counted on its interval ``[-2, 2]`` and on ``[-4, 4]`` (it has no
  breakpoint outside ``[-2, 2]``, so this is all of ``R``);
* random one-hidden-layer networks with the same ``N = 2L`` units (He initialisation,
  normal biases), counted on an interval that holds all their breakpoints (all of
  ``R``) and on ``[-2, 2]``;
* the best one-hidden-layer network with ``N`` units: ``N + 1`` pieces, built with
  :func:`reluscope.build.interpolate` (``N`` knots, constant ends);
* the one-hidden-layer network that *equals* ``f_L``
  (:func:`reluscope.build.shallow_sawtooth`): it needs ``2^L`` units.

Claims checked (an error is raised, after the outputs are written, if one fails):
``f_L`` has exactly ``2^L`` activation and linear pieces; no shallow net exceeds
``N + 1``; the best one reaches ``N + 1``; for ``L >= 3`` the deep net has more pieces
than any shallow net of the same size.

References
----------
M. Telgarsky, "Benefits of depth in neural networks", COLT 2016 (arXiv 1602.04485);
"Representation benefits of deep feedforward networks", arXiv 1509.08101.
R. Arora, A. Basu, P. Mianjy, A. Mukherjee, "Understanding deep neural networks with
rectified linear units", ICLR 2018, Thm 2.2.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InvalidParameterError
from ._output import raise_failed, write_files

__all__ = ["run", "TITLE", "PAPER", "count_pieces"]

TITLE = "Pieces vs depth: Telgarsky's sawtooth (2^L) vs one hidden layer with the same units (N+1)"
PAPER = (
    "M. Telgarsky, Benefits of depth in neural networks, COLT 2016 (arXiv 1602.04485); "
    "R. Arora et al., Understanding deep neural networks with rectified linear units, ICLR 2018"
)

COLUMNS = (
    "L",
    "units",
    "deep_pieces",
    "deep_activation_regions",
    "deep_pieces_R",
    "two_pow_L",
    "shallow_bound",
    "shallow_best",
    "shallow_random_max_R",
    "shallow_random_mean_R",
    "shallow_random_mean_interval",
    "shallow_units_to_equal",
    "seconds",
)


def count_pieces(net: Any, lo: float, hi: float) -> tuple[int, int]:
    """Exact (activation, linear) pieces of a 1-input network on ``[lo, hi]``.

    Examples
    --------
    >>> from reluscope import build
    >>> count_pieces(build.sawtooth(3), -2.0, 2.0)
    (8, 8)
    """
    from ..regions import on_segment

    r = on_segment(net, [lo], [hi])
    return r.n_activation_regions, r.n_linear_regions


def _random_shallow(n_units: int, n_nets: int, seed: int) -> tuple[int, float, float]:
    """Max and mean linear pieces on R, mean on [-2, 2], over random 1-N-1 networks."""
    from ..network import Network

    on_r, on_box = [], []
    for s in range(n_nets):
        net = Network.random([1, n_units, 1], seed=seed + s)
        w, b = net.layers[0].weight[:, 0], net.layers[0].bias
        kinks = -b[w != 0] / w[w != 0]
        reach = float(np.abs(kinks).max(initial=0.0)) + 1.0
        on_r.append(count_pieces(net, -reach, reach)[1])
        on_box.append(count_pieces(net, -2.0, 2.0)[1])
    return int(max(on_r)), float(np.mean(on_r)), float(np.mean(on_box))


def _best_shallow(n_units: int) -> tuple[Any, int]:
    """One hidden layer of ``n_units`` ReLUs with ``n_units + 1`` pieces."""
    from .. import build

    xs = np.linspace(-2.0, 2.0, n_units)
    ys = np.where(np.arange(n_units) % 2 == 0, 1.0, -1.0)
    net = build.interpolate(xs, ys, extrapolate="constant")
    return net, count_pieces(net, -3.0, 3.0)[1]


def _rows(levels: range, n_random: int) -> list[dict[str, Any]]:
    from .. import build

    rows = []
    for L in levels:
        t0 = time.perf_counter()
        deep = build.sawtooth(L)
        act, lin = count_pieces(deep, -2.0, 2.0)
        lin_r = count_pieces(deep, -4.0, 4.0)[1]
        n = deep.n_units
        best_net, best = _best_shallow(n)
        if best_net.n_units != n:
            raise RuntimeError(f"interpolate() built {best_net.n_units} units, expected {n}")
        rmax, rmean, rbox = _random_shallow(n, n_random, seed=1000 * L)
        shallow_equal = build.shallow_sawtooth(L).n_units if L <= 16 else 2**L
        rows.append(
            {
                "L": L,
                "units": n,
                "deep_pieces": lin,
                "deep_activation_regions": act,
                "deep_pieces_R": lin_r,
                "two_pow_L": 2**L,
                "shallow_bound": n + 1,
                "shallow_best": best,
                "shallow_random_max_R": rmax,
                "shallow_random_mean_R": round(rmean, 3),
                "shallow_random_mean_interval": round(rbox, 3),
                "shallow_units_to_equal": shallow_equal,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
    return rows


def _claims(rows: list[dict[str, Any]]) -> dict[str, bool]:
    return {
        "sawtooth has exactly 2^L linear pieces on [-2, 2]": all(
            r["deep_pieces"] == 2 ** r["L"] for r in rows
        ),
        "sawtooth has exactly 2^L activation regions on [-2, 2]": all(
            r["deep_activation_regions"] == 2 ** r["L"] for r in rows
        ),
        "sawtooth has exactly 2^L pieces on all of R": all(r["deep_pieces_R"] == 2 ** r["L"] for r in rows),
        "no random one-hidden-layer net exceeds N + 1 pieces": all(
            r["shallow_random_max_R"] <= r["units"] + 1 for r in rows
        ),
        "the best one-hidden-layer net reaches exactly N + 1 pieces": all(
            r["shallow_best"] == r["units"] + 1 for r in rows
        ),
        "for L >= 3 the deep net beats every shallow net of the same size": all(
            r["deep_pieces"] > r["units"] + 1 for r in rows if r["L"] >= 3
        ),
    }


def _png(rows: list[dict[str, Any]], dpi: int) -> bytes:
    from matplotlib.figure import Figure

    from .. import build

    L = np.array([r["L"] for r in rows])
    fig = Figure(figsize=(13, 4.2))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.semilogy(L, [r["deep_pieces"] for r in rows], "o-", label="sawtooth f_L (2L units, L layers)")
    ax1.semilogy(L, [r["shallow_best"] for r in rows], "s--", label="best 1 hidden layer, 2L units (N + 1)")
    ax1.semilogy(
        L,
        [r["shallow_random_mean_interval"] for r in rows],
        "^:",
        label="random 1 hidden layer, 2L units: mean on [-2, 2]",
    )
    ax1.set_xlabel("L (hidden layers of the sawtooth)")
    ax1.set_ylabel("linear pieces (exact)")
    ax1.set_title("pieces with the same number of units", fontsize=10)
    ax1.legend(fontsize=7)
    xs = np.linspace(-2, 2, 2001)
    for lev in range(1, 5):
        ax2.plot(xs, build.sawtooth(lev)(xs[:, None])[:, 0] + 5 * (4 - lev), lw=1)
        ax2.text(-2.1, 5 * (4 - lev), f"L = {lev}", ha="right", va="center", fontsize=8)
    ax2.set_xlim(-2.7, 2.05)
    ax2.set_title("f_L on [-2, 2] (shifted): 2^L pieces", fontsize=10)
    ax2.set_yticks([])
    ax3.semilogy(L, [r["units"] for r in rows], "o-", label="deep: 2L units")
    ax3.semilogy(L, [r["shallow_units_to_equal"] for r in rows], "s--", label="one hidden layer: 2^L units")
    ax3.set_xlabel("L")
    ax3.set_ylabel("ReLUs needed to compute f_L exactly")
    ax3.set_title("size needed for f_L", fontsize=10)
    ax3.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _csv(rows: list[dict[str, Any]]) -> str:
    return "\n".join([",".join(COLUMNS)] + [",".join(str(r[c]) for c in COLUMNS) for r in rows]) + "\n"


def _summary(rows: list[dict[str, Any]], claims: dict[str, bool], n_random: int, seconds: float) -> str:
    lines = [
        "# sawtooth: pieces vs depth (Telgarsky 2016)",
        "",
        "Exact piece counts (`reluscope.regions.on_segment`) of Telgarsky's sawtooth f_L, L hidden layers of "
        "width 2 (N = 2L ReLUs), against one-hidden-layer networks with the same N units: the best possible "
        f"(N + 1 pieces) and {n_random} random ones per L (He initialisation). The last column is the size "
        "of the one-hidden-layer network that equals f_L (`build.shallow_sawtooth`, built for "
        "L <= 16; beyond, the 2^L of its optimality proof).",
        "",
        "| L | N = 2L | sawtooth pieces | 2^L | best shallow (N + 1) | random shallow: max on R | "
        "random shallow: mean on [-2, 2] | shallow units to equal f_L |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['L']} | {r['units']} | {r['deep_pieces']:,} | {r['two_pow_L']:,} | {r['shallow_best']} | "
            f"{r['shallow_random_max_R']} | {r['shallow_random_mean_interval']:.2f} | "
            f"{r['shallow_units_to_equal']:,} |"
        )
    lines += ["", "## Claims", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    lines += [
        "",
        f"Paper: {PAPER}.",
        f"Computed in {seconds:.1f} s; data in `sawtooth.csv`, figure `sawtooth.png`.",
        "",
    ]
    return "\n".join(lines)


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Count pieces for ``L = 1 .. 20`` (quick: ``1 .. 10``); write the CSV, figure and ``summary.md``.

    Files are written atomically once everything is computed. If a claim fails, the
    files are still written (``summary.md`` marks it FAIL) and then a ``ClaimNotReproducedError``
    naming the failed claims is raised.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        Fewer levels and random networks (a few seconds).

    Returns
    -------
    dict
        ``rows`` (one dict per L, the CSV's columns), ``claims`` (name -> bool), ``files``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run(d, quick=True)
    >>> [r["deep_pieces"] for r in res["rows"]][:5], all(res["claims"].values())
    ([2, 4, 8, 16, 32], True)
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out_dir' must be a folder; {str(out)!r} is a file.")
    t0 = time.perf_counter()
    levels = range(1, 11) if quick else range(1, 21)
    n_random = 20 if quick else 200
    rows = _rows(levels, n_random)
    claims = _claims(rows)
    seconds = time.perf_counter() - t0
    contents = {
        "sawtooth.csv": _csv(rows).encode(),
        "sawtooth.png": _png(rows, dpi=80 if quick else 130),
        "summary.md": _summary(rows, claims, n_random, seconds).encode(),
    }
    files = write_files(out, contents)
    raise_failed("sawtooth", claims, out)
    return {
        "experiment": "sawtooth",
        "rows": rows,
        "claims": claims,
        "files": files,
        "seconds": seconds,
        "n_random": n_random,
    }
