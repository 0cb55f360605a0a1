"""Reproduction "hanin-rolnick-init": at initialisation the number of regions depends on the units, not the depth.

Hanin & Rolnick (ICML 2019, NeurIPS 2019) prove that for a ReLU network with random
weights and biases the expected number of activation regions per unit volume is at
most ``(T N)^{n_in} / n_in!`` with ``T = 2^5 C_grad C_bias`` (NeurIPS, Thm 5), and the
expected number of boundary points per unit length on a line at most
``2 C_grad C_bias N`` (ICML, Thm 3 with ``k = 1``): both depend on the total number
of units ``N`` and not on how they are arranged in layers. Their experiments show
the counts are of the order of these bounds' dependence on ``N`` (``N`` per unit
length, ``N^2 / 2`` per 2-D cross-section).

Measured here, exactly (no sampling), for networks ``16 -> widths -> 1`` with He
weights ``N(0, 2 / fan_in)`` and biases ``N(0, σ_b²)``, for ``N`` units split into
1, 2, 3, 4 or 8 equal layers, over several seeds:

* regions on the plane through three random points ``x ~ N(0, I_16)``, in a square
  around them (:func:`reluscope.regions.on_plane` with ``bounds``) and on the whole
  plane (``bounds=None``: exact, unbounded regions included);
* boundary points per unit length on segments between random points
  (:func:`reluscope.regions.on_segments`);
* the exact distance from random points to the boundary of their region
  (ICML Thm 3: its mean is at least ``C / (C_grad C_bias N)``).

``σ_b = 10^-3`` is the papers' setting as we read it (He normal weights, biases of
variance ``10^-6`` so that regions do not collapse to cones; not checked against the
PDF here); ``σ_b = 1`` is reluscope's default.

Claims checked (a ``ClaimNotReproducedError``, an ``AssertionError``, is raised after the
files are written if one fails); "depths" means the architectures with at least 8 units per layer:

* for ``σ_b = 10^-3`` the mean count per unit length and per unit area, at fixed
  ``N``, varies by less than a factor ``DEPTH_FACTOR = 2`` across depths;
* for every ``σ_b`` the whole-plane count at fixed ``N`` varies by less than that
  factor across depths;
* the count per unit length grows like ``N`` and per unit area like ``N^2``
  (``count / N^k`` within a factor ``SCALING_FACTOR = 1.5`` across ``N``) and the
  whole plane holds about ``N^2 / 2`` regions; ``N ×`` mean distance to the
  boundary varies by less than ``DEPTH_FACTOR`` across ``N``;
* every mean count is below the theorem's bound (with an empirical ``C_grad``).

References
----------
B. Hanin, D. Rolnick, "Complexity of linear regions in deep networks", ICML 2019 (arXiv 1901.09021);
"Deep ReLU networks have surprisingly few activation patterns", NeurIPS 2019 (arXiv 1906.00904).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from . import _hr_common as hr

__all__ = ["run", "TITLE", "PAPER", "N_IN", "DEPTH_FACTOR", "SCALING_FACTOR"]

TITLE = "Regions at initialisation depend on the number of units, not the depth (Hanin & Rolnick 2019)"
PAPER = (
    "B. Hanin, D. Rolnick, Complexity of linear regions in deep networks, ICML 2019 (arXiv 1901.09021); "
    "Deep ReLU networks have surprisingly few activation patterns, NeurIPS 2019 (arXiv 1906.00904)"
)

N_IN = 16
DEPTH_FACTOR = 2.0
SCALING_FACTOR = 1.5
MIN_WIDTH = 8  # narrower layers are reported but not held to the depth claim
#: the NeurIPS paper's "predicted" count for a depth-3 width-32 network in a 2-D cross-section: 96^2 / 2!
PAPER_PREDICTED = {96: 4608}

COLUMNS = ("sigma_b", "units", "depth", "width", "seeds", "box_regions", "box_regions_std", "box_area",
           "box_density", "box_bound", "plane_regions", "plane_regions_std", "plane_bounded", "one_layer_plane",
           "breakpoints_per_length", "breakpoints_per_length_std", "line_bound", "mean_distance",
           "units_x_distance", "c_grad_line", "c_grad_plane", "seconds")


def _config(quick: bool) -> dict[str, Any]:
    if quick:
        return {"units": (32, 64), "depths": (1, 2, 4), "seeds": 3, "sigmas": (1e-3, 1.0), "segments": 30,
                "dist_points": 100, "dpi": 70, "picture_units": 32}
    return {"units": (32, 64, 96, 128), "depths": (1, 2, 3, 4, 8), "seeds": 10, "sigmas": (1e-3, 1.0),
            "segments": 100, "dist_points": 300, "dpi": 120, "picture_units": 64}


def _samples(seed: int, n_segments: int, n_dist: int) -> dict[str, np.ndarray]:
    """The random points of one seed (shared by every architecture: common random numbers)."""
    rng = np.random.default_rng([seed, 7])
    return {
        "triple": rng.normal(size=(3, N_IN)),
        "starts": rng.normal(size=(n_segments, N_IN)),
        "ends": rng.normal(size=(n_segments, N_IN)),
        "dist": rng.normal(size=(n_dist, N_IN)),
    }


def _measure(net: Any, s: dict[str, np.ndarray]) -> dict[str, float]:
    from ..regions import on_plane, on_segments

    o, u, v, coords = hr.plane_through(s["triple"])
    box = hr.square_around(coords)
    rb = on_plane(net, o, u, v, bounds=box)
    rp = on_plane(net, o, u, v)
    seg = on_segments(net, s["starts"], s["ends"])
    return {
        "box_regions": rb.n_activation_regions,
        "box_area": (box[1] - box[0]) * (box[3] - box[2]),
        "plane_regions": rp.n_activation_regions,
        "plane_bounded": int(rp.bounded.sum()),
        "breakpoints_per_length": float((seg.n_activation_regions - 1).sum() / seg.lengths.sum()),
        "mean_distance": float(np.mean(hr.boundary_distance(net, s["dist"]))),
    }


def _rows(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[tuple, list[dict[str, float]]]]:
    from .. import bounds
    from ..network import Network

    samples = [_samples(seed, cfg["segments"], cfg["dist_points"]) for seed in range(cfg["seeds"])]
    e = np.eye(N_IN)
    rows, raw = [], {}
    for sigma in cfg["sigmas"]:
        for n in cfg["units"]:
            for depth in cfg["depths"]:
                if n % depth:
                    continue
                t0 = time.perf_counter()
                width = n // depth
                nets = [Network.random([N_IN] + [width] * depth + [1], seed=1000 * seed + 17, init="he",
                                       bias_scale=sigma) for seed in range(cfg["seeds"])]
                per = [_measure(net, s) for net, s in zip(nets, samples, strict=True)]
                raw[(sigma, n, depth)] = per
                pts = np.concatenate([s["dist"] for s in samples])
                cg1 = hr.empirical_c_grad(nets, pts, e[:, :1], k=1)
                cg2 = hr.empirical_c_grad(nets, pts, e[:, :2], k=2)
                cb = bounds.c_bias_normal(sigma)

                def col(key: str, per: list[dict[str, float]] = per) -> np.ndarray:
                    return np.array([p[key] for p in per], dtype=np.float64)

                area = float(np.mean(col("box_area")))
                box_density = float(np.mean(col("box_regions") / col("box_area")))
                rows.append({
                    "sigma_b": sigma, "units": n, "depth": depth, "width": width, "seeds": cfg["seeds"],
                    "box_regions": float(np.mean(col("box_regions"))),
                    "box_regions_std": float(np.std(col("box_regions"))),
                    "box_area": area, "box_density": box_density,
                    "box_bound": bounds.hanin_rolnick2019(n, 2, volume=area, c_bias=cb, c_grad=cg2),
                    "plane_regions": float(np.mean(col("plane_regions"))),
                    "plane_regions_std": float(np.std(col("plane_regions"))),
                    "plane_bounded": float(np.mean(col("plane_bounded"))),
                    "one_layer_plane": 1 + n + math.comb(n, 2),
                    "breakpoints_per_length": float(np.mean(col("breakpoints_per_length"))),
                    "breakpoints_per_length_std": float(np.std(col("breakpoints_per_length"))),
                    "line_bound": bounds.hanin_rolnick2019_boundary(n, 1, k=1, c_bias=cb, c_grad=cg1),
                    "mean_distance": float(np.mean(col("mean_distance"))),
                    "units_x_distance": float(n * np.mean(col("mean_distance"))),
                    "c_grad_line": cg1, "c_grad_plane": cg2,
                    "seconds": round(time.perf_counter() - t0, 3),
                })
    return rows, raw


def _spread(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(v.max() / v.min()) if len(v) and v.min() > 0 else math.inf


def _analysis(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> tuple[dict[str, bool], dict[str, Any]]:
    """Claims (name -> bool) and the ratios they are based on."""
    ok_rows = [r for r in rows if r["width"] >= MIN_WIDTH]
    small = min(cfg["sigmas"])
    ratios: dict[str, Any] = {"depth": {}, "scaling": {}}
    for sigma in cfg["sigmas"]:
        for n in cfg["units"]:
            sel = [r for r in ok_rows if r["sigma_b"] == sigma and r["units"] == n]
            if len(sel) < 2:
                continue
            ratios["depth"][f"sigma_b={sigma:g}, N={n}"] = {
                key: _spread([r[key] for r in sel])
                for key in ("breakpoints_per_length", "box_density", "plane_regions", "units_x_distance")
            }
    for sigma in cfg["sigmas"]:
        for depth in cfg["depths"]:
            sel = [r for r in ok_rows if r["sigma_b"] == sigma and r["depth"] == depth]
            if len(sel) < 2:
                continue
            ratios["scaling"][f"sigma_b={sigma:g}, depth={depth}"] = {
                "breakpoints_per_length / N": _spread([r["breakpoints_per_length"] / r["units"] for r in sel]),
                "box_density / N^2": _spread([r["box_density"] / r["units"] ** 2 for r in sel]),
                "plane_regions / (N^2 / 2)": _spread([r["plane_regions"] / (r["units"] ** 2 / 2) for r in sel]),
                "N x distance": _spread([r["units_x_distance"] for r in sel]),
            }
    dep = ratios["depth"]
    sca = ratios["scaling"]
    small_keys = [k for k in dep if k.startswith(f"sigma_b={small:g},")]
    small_sca = [k for k in sca if k.startswith(f"sigma_b={small:g},")]
    claims = {
        f"σ_b = {small:g}: boundary points per unit length vary < {DEPTH_FACTOR:g}x across depths at fixed N":
            all(dep[k]["breakpoints_per_length"] < DEPTH_FACTOR for k in small_keys),
        f"σ_b = {small:g}: regions per unit area (square around 3 points) vary < {DEPTH_FACTOR:g}x across depths":
            all(dep[k]["box_density"] < DEPTH_FACTOR for k in small_keys),
        f"every σ_b: whole-plane regions vary < {DEPTH_FACTOR:g}x across depths at fixed N":
            all(d["plane_regions"] < DEPTH_FACTOR for d in dep.values()),
        f"σ_b = {small:g}: per unit length ∝ N, per unit area ∝ N², whole plane ∝ N²/2 "
        f"(within {SCALING_FACTOR:g}x across N)":
            all(max(sca[k]["breakpoints_per_length / N"], sca[k]["box_density / N^2"],
                    sca[k]["plane_regions / (N^2 / 2)"]) < SCALING_FACTOR for k in small_sca),
        f"σ_b = {small:g}: N x mean distance to the region boundary varies < {DEPTH_FACTOR:g}x across N":
            all(sca[k]["N x distance"] < DEPTH_FACTOR for k in small_sca),
        "whole plane: between 0.5x and 2x the N²/2 + N + 1 regions of one layer of N units":
            all(0.5 <= r["plane_regions"] / r["one_layer_plane"] <= 2.0 for r in ok_rows),
        "every mean count is below the theorem's bound (empirical C_grad)":
            all(r["box_regions"] <= r["box_bound"] and r["breakpoints_per_length"] <= r["line_bound"] for r in rows),
    }
    return claims, ratios


def _png_counts(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 10))
    axs = fig.subplots(2, 2)
    palette = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")
    colors = dict(zip(cfg["units"], palette, strict=False))
    styles = dict(zip(sorted(cfg["sigmas"]), ("o-", "s--", "^:"), strict=False))
    for sigma in cfg["sigmas"]:
        for n in cfg["units"]:
            sel = sorted((r for r in rows if r["sigma_b"] == sigma and r["units"] == n), key=lambda r: r["depth"])
            d = [r["depth"] for r in sel]
            lab = f"N = {n}, σ_b = {sigma:g}"
            axs[0, 0].errorbar(d, [r["breakpoints_per_length"] for r in sel],
                               yerr=[r["breakpoints_per_length_std"] for r in sel], fmt=styles[sigma],
                               color=colors[n], label=lab, capsize=2)
            axs[0, 1].plot(d, [r["box_density"] for r in sel], styles[sigma], color=colors[n])
            axs[1, 0].errorbar(d, [r["plane_regions"] for r in sel], yerr=[r["plane_regions_std"] for r in sel],
                               fmt=styles[sigma], color=colors[n], capsize=2)
    for n in cfg["units"]:
        axs[1, 0].axhline(1 + n + math.comb(n, 2), color=colors[n], lw=0.8, ls=":")
    axs[0, 0].set_title("boundary points per unit length on random segments", fontsize=10)
    axs[0, 0].set_ylabel("boundary points / length (mean ± sd over seeds)")
    axs[0, 1].set_title("regions per unit area, square around 3 random points", fontsize=10)
    axs[0, 1].set_ylabel("regions / area (mean over seeds)")
    axs[1, 0].set_title("regions on the whole plane (dotted: N²/2 + N + 1, one layer of N units)", fontsize=10)
    axs[1, 0].set_ylabel("regions, whole plane (mean ± sd)")
    for ax in (axs[0, 0], axs[0, 1], axs[1, 0]):
        ax.set_xlabel("depth (hidden layers; width = N / depth)")
        ax.set_xticks(sorted(cfg["depths"]))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    ax = axs[1, 1]
    markers = dict(zip(sorted(cfg["depths"]), "o^sDv", strict=False))
    notes = []
    for sigma in cfg["sigmas"]:
        for depth in cfg["depths"]:
            sel = sorted((r for r in rows if r["sigma_b"] == sigma and r["depth"] == depth), key=lambda r: r["units"])
            if len(sel) < 2:
                continue
            ax.plot([r["units"] for r in sel], [r["breakpoints_per_length"] / r["units"] for r in sel],
                    styles[sigma][1:], marker=markers[depth], color="0.2" if sigma == min(cfg["sigmas"]) else "0.6",
                    label=f"depth {depth}, σ_b = {sigma:g}")
        b = [r["line_bound"] / r["units"] for r in rows if r["sigma_b"] == sigma]
        notes.append(f"σ_b = {sigma:g}: bound / N = 2 C_grad C_bias ≈ {np.median(b):.3g}")
    ax.set_xlabel("N (total hidden units)")
    ax.set_ylabel("boundary points per unit length / N")
    top = max(r["breakpoints_per_length"] / r["units"] for r in rows)
    ax.set_ylim(0, 1.5 * top)
    ax.set_title("linear growth in N (flat lines); ICML Thm 3 bound in the box", fontsize=10)
    ax.text(0.02, 0.03, "\n".join(notes), transform=ax.transAxes, fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    ax.grid(alpha=0.3)
    fig.legend(*axs[0, 0].get_legend_handles_labels(), loc="lower center", ncol=len(cfg["units"]) * 2, fontsize=8)
    fig.suptitle(f"He initialisation, input dimension {N_IN}: exact counts vs depth at a fixed number of units N")
    fig.subplots_adjust(left=0.07, right=0.98, top=0.93, bottom=0.11, hspace=0.3, wspace=0.2)
    return hr.figure_png(fig, cfg["dpi"])


def _png_pictures(cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    from ..network import Network
    from ..regions import on_plane

    n = cfg["picture_units"]
    depths = [d for d in cfg["depths"] if n % d == 0 and n // d >= 4][:4]
    sigmas = sorted(cfg["sigmas"])
    fig = Figure(figsize=(3.3 * len(depths), 3.4 * len(sigmas)))
    axs = np.atleast_2d(fig.subplots(len(sigmas), len(depths)))
    s = _samples(0, 1, 1)
    o, u, v, coords = hr.plane_through(s["triple"])
    box = hr.square_around(coords)
    for i, sigma in enumerate(sigmas):
        for j, depth in enumerate(depths):
            net = Network.random([N_IN] + [n // depth] * depth + [1], seed=17, init="he", bias_scale=sigma)
            res = on_plane(net, o, u, v, bounds=box)
            ax = axs[i, j]
            res.plot(ax=ax, color="region", points=coords)
            ax.set_title(f"{depth} x {n // depth}, σ_b = {sigma:g}: {res.n_activation_regions} regions", fontsize=9)
    fig.suptitle(f"Regions of N = {n} units at He initialisation on the plane through 3 random points "
                 "(black dots)", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.08, hspace=0.3, wspace=0.25)
    return hr.figure_png(fig, cfg["dpi"])


def _summary(rows: list[dict[str, Any]], claims: dict[str, bool], ratios: dict[str, Any], cfg: dict[str, Any],
             seconds: float) -> str:
    lines = [
        "# hanin-rolnick-init: regions at initialisation vs depth at a fixed number of units",
        "",
        f"Networks {N_IN} -> N units in `depth` equal layers -> 1, He weights, biases N(0, σ_b²), "
        f"{cfg['seeds']} seeds per architecture. Exact counts: activation regions in a square around the plane "
        "through 3 random points x ~ N(0, I) (half-width 1.25x the largest distance from their centroid), on the "
        f"whole plane, and boundary points per unit length on {cfg['segments']} random segments per seed; the "
        f"exact distance from {cfg['dist_points']} random points to their region's boundary. Bounds: NeurIPS Thm 5 "
        "(regions in the square, (T N)²/2! per unit area, T = 2^5 C_grad C_bias) and ICML Thm 3 with k = 1 "
        "(boundary points per unit length ≤ 2 C_grad C_bias N), with C_bias = 1/(σ_b √(2π)) and C_grad estimated "
        "from the networks (`c_grad_*`).",
        "",
        "| σ_b | N | depth × width | square: regions | bound | whole plane: regions | N²/2+N+1 | "
        "boundary pts / length | bound | N × mean distance |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sigma_b']:g} | {r['units']} | {r['depth']} × {r['width']} | {r['box_regions']:.1f} ± "
            f"{r['box_regions_std']:.1f} | {r['box_bound']:.3g} | {r['plane_regions']:.1f} ± "
            f"{r['plane_regions_std']:.1f} | {r['one_layer_plane']} | {r['breakpoints_per_length']:.3f} | "
            f"{r['line_bound']:.3g} | {r['units_x_distance']:.3f} |"
        )
    lines += ["", f"## Spread across depths (max / min of the means; layers of width ≥ {MIN_WIDTH})", "",
              "| setting | per length | per area (square) | whole plane | N × distance |", "|---|---:|---:|---:|---:|"]
    for k, d in ratios["depth"].items():
        lines.append(f"| {k} | {d['breakpoints_per_length']:.2f} | {d['box_density']:.2f} | "
                     f"{d['plane_regions']:.2f} | {d['units_x_distance']:.2f} |")
    lines += ["", "## Spread across N of the normalised counts (max / min)", "",
              "| setting | per length / N | per area / N² | whole plane / (N²/2) | N × distance |",
              "|---|---:|---:|---:|---:|"]
    for k, d in ratios["scaling"].items():
        lines.append(f"| {k} | {d['breakpoints_per_length / N']:.2f} | {d['box_density / N^2']:.2f} | "
                     f"{d['plane_regions / (N^2 / 2)']:.2f} | {d['N x distance']:.2f} |")
    paper = [f"N = {n}: paper's prediction {p} (N²/2!), ours on the whole plane " + ", ".join(
        f"{r['plane_regions']:.0f} (σ_b = {r['sigma_b']:g}, {r['depth']} × {r['width']})"
        for r in rows if r["units"] == n) for n, p in PAPER_PREDICTED.items() if any(r["units"] == n for r in rows)]
    lines += ["", "## Paper", "",
              "The papers report these effects in figures, not tables. The NeurIPS paper quotes the prediction "
              "N²/2! = 96²/2 = 4608 regions for a depth-3, width-32 network in a 2-D cross-section."]
    lines += [f"- {p}" for p in paper]
    lines += ["", "## Claims", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    narrow = [r for r in rows if r["width"] < MIN_WIDTH]
    if narrow:
        lines += ["", f"Layers narrower than {MIN_WIDTH} are shown but not held to the depth claims: "
                  + "; ".join(f"{r['depth']} × {r['width']} (σ_b = {r['sigma_b']:g}): {r['box_regions']:.0f} in the "
                              f"square, {r['plane_regions']:.0f} on the plane" for r in narrow)
                  + ". Very narrow deep networks have many units that are off (or on) everywhere near the data, and "
                  "the theorems' C_grad grows like exp(c Σ 1/n_l)."]
    lines += ["", f"Paper: {PAPER}.",
              f"Computed in {seconds:.1f} s; data in `hr_init.csv`, figures `hr_init_counts.png`, "
              "`hr_init_regions.png`.", ""]
    return "\n".join(lines)


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Measure regions vs depth at fixed units; write ``hr_init.csv``, two PNG figures and ``summary.md``.

    Files are written atomically once everything is computed; if a claim fails the
    files are still written (``summary.md`` marks it FAIL) and then a
    ``ClaimNotReproducedError`` naming the failed claims is raised.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        ``N`` in (32, 64), depths (1, 2, 4), 3 seeds (a few seconds); the full run has
        ``N`` up to 128, depths up to 8 and 10 seeds (a few minutes).

    Returns
    -------
    dict
        ``rows`` (one per σ_b, N and depth: the CSV's columns), ``ratios``, ``claims``,
        ``files``, ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:      # doctest: +SKIP
    ...     res = run(d, quick=True)                   # about 10 s; the tests run it
    >>> all(res["claims"].values()), sorted({r["units"] for r in res["rows"]})  # doctest: +SKIP
    (True, [32, 64])
    """
    out = hr.check_out_dir(out_dir)
    cfg = _config(quick)
    t0 = time.perf_counter()
    rows, _ = _rows(cfg)
    claims, ratios = _analysis(rows, cfg)
    counts_png = _png_counts(rows, cfg)
    pictures_png = _png_pictures(cfg)
    seconds = time.perf_counter() - t0
    files = hr.write_files(out, {
        "hr_init.csv": hr.csv_text(rows, COLUMNS).encode(),
        "hr_init_counts.png": counts_png,
        "hr_init_regions.png": pictures_png,
        "summary.md": _summary(rows, claims, ratios, cfg, seconds).encode(),
    })
    hr.raise_failed("hanin-rolnick-init", claims, out)
    return {"experiment": "hanin-rolnick-init", "rows": rows, "ratios": ratios, "claims": claims, "files": files,
            "seconds": seconds, "quick": quick}
