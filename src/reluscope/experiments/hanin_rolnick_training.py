"""Reproduction "hanin-rolnick-training": the number of regions stays of the order of its initial value during training.

Hanin & Rolnick (ICML 2019, §6; NeurIPS 2019, §4 and Fig. 3) train fully connected
ReLU networks on MNIST and count regions along lines between data points and in
2-D cross-sections through three data points: the counts stay of the same order as
at initialisation (they dip, then recover) and far below the maximum the
architecture allows. Reproduced here with exact counts:

* networks with ``N`` hidden units in 1, 2 or 3 layers, He normal weights and biases
  ``N(0, 10^-6)`` (the papers' initialisation as we read it), trained with Adam
  (learning rate ``10^-3``) on MNIST (full run; the shared copy, or scikit-learn's
  8x8 digits when it is missing) or on the 8x8 digits (quick run);
* at epochs 0, 1, 2, 5, 10, 20, ...: boundary points per unit length on segments
  between random pairs of test points (:func:`reluscope.regions.on_segments`);
  regions in the plane through random triples of test points, in a square around
  them and on the whole plane (:func:`reluscope.regions.on_plane`); the mean exact
  distance from test points to their region's boundary.

Claims checked (a ``ClaimNotReproducedError``, an ``AssertionError``, is raised after the
files are written if one fails):

* every count, at every epoch, is within a factor ``TRAIN_FACTOR = 3`` of its value
  at epoch 0;
* for networks with 2 or more hidden layers, the whole-plane count stays below
  ``MAX_FRACTION = 5 %`` of the maximum number of regions the architecture allows on
  a plane (Serra et al. 2018, Thm 1 with input dimension 2; for one layer that
  maximum, ``1 + N + N(N-1)/2``, is what every generic network has);
* the networks learn (final test accuracy at least ``MIN_ACCURACY``), so the claim is
  about trained networks.

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

__all__ = ["run", "TITLE", "PAPER", "TRAIN_FACTOR", "MAX_FRACTION", "MIN_ACCURACY"]

TITLE = "Regions stay of the order of their initial number during training (Hanin & Rolnick 2019)"
PAPER = (
    "B. Hanin, D. Rolnick, Complexity of linear regions in deep networks, ICML 2019 (arXiv 1901.09021); "
    "Deep ReLU networks have surprisingly few activation patterns, NeurIPS 2019 (arXiv 1906.00904)"
)

TRAIN_FACTOR = 3.0
MAX_FRACTION = 0.05
MIN_ACCURACY = 0.85
SIGMA_B = 1e-3
MEASURES = ("breakpoints_per_length", "box_regions", "plane_regions")

COLUMNS = ("arch", "units", "depth", "epoch", "train_accuracy", "test_accuracy", "loss", "breakpoints_per_length",
           "regions_per_segment", "box_regions", "box_density", "plane_regions", "one_layer_plane", "plane_max",
           "units_x_distance", "ratio_breakpoints_per_length", "ratio_box_regions", "ratio_plane_regions",
           "train_seconds")


def _config(quick: bool) -> dict[str, Any]:
    if quick:
        return {"data": "digits", "archs": ((48,), (24, 24), (16, 16, 16)), "epochs": (0, 1, 2, 5, 10, 20),
                "batch": 64, "pairs": 30, "planes": 2, "dist_points": 100, "dpi": 70, "n_train": None}
    return {"data": "mnist", "archs": ((96,), (48, 48), (32, 32, 32)), "epochs": (0, 1, 2, 5, 10, 20, 30),
            "batch": 128, "pairs": 100, "planes": 5, "dist_points": 500, "dpi": 120, "n_train": None}


def _load(cfg: dict[str, Any]) -> tuple[Any, str]:
    from ..datasets import default_data_path, load_digits, load_mnist

    if cfg["data"] == "mnist":
        path = default_data_path("mnist")
        if path is not None:
            return load_mnist(path), "MNIST (shared copy)"
        return load_digits(), "8x8 digits (MNIST not found)"
    return load_digits(), "8x8 digits (scikit-learn)"


def _probes(data: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    """Random pairs and triples of test points of distinct classes, and distance points."""
    rng = np.random.default_rng(2019)
    x, y = data.x_test, data.y_test
    pairs = []
    while len(pairs) < cfg["pairs"]:
        i, j = rng.choice(len(x), size=2, replace=False)
        if y[i] != y[j]:
            pairs.append((i, j))
    triples = []
    while len(triples) < cfg["planes"]:
        t = rng.choice(len(x), size=3, replace=False)
        if len(set(y[t].tolist())) == 3:
            triples.append(t)
    p = np.array(pairs)
    return {"starts": x[p[:, 0]], "ends": x[p[:, 1]], "triples": [x[t] for t in triples],
            "triple_labels": [y[t] for t in triples],
            "dist": x[rng.choice(len(x), size=min(cfg["dist_points"], len(x)), replace=False)]}


def _measure(net: Any, probes: dict[str, Any]) -> dict[str, float]:
    from ..regions import on_plane, on_segments

    seg = on_segments(net, probes["starts"], probes["ends"])
    box, plane, area = [], [], []
    for tri in probes["triples"]:
        o, u, v, coords = hr.plane_through(tri)
        sq = hr.square_around(coords)
        box.append(on_plane(net, o, u, v, bounds=sq).n_activation_regions)
        plane.append(on_plane(net, o, u, v).n_activation_regions)
        area.append((sq[1] - sq[0]) * (sq[3] - sq[2]))
    return {
        "breakpoints_per_length": float((seg.n_activation_regions - 1).sum() / seg.lengths.sum()),
        "regions_per_segment": float(np.mean(seg.n_activation_regions)),
        "box_regions": float(np.mean(box)),
        "box_density": float(np.mean(np.array(box) / np.array(area))),
        "plane_regions": float(np.mean(plane)),
        "units_x_distance": float(net.n_units * np.mean(hr.boundary_distance(net, probes["dist"]))),
    }


def _train_all(data: Any, cfg: dict[str, Any], probes: dict[str, Any]) -> tuple[list[dict[str, Any]], dict]:
    from .. import bounds
    from ..network import Network
    from ..train import accuracy

    rows, kept = [], {}
    n_classes = data.n_classes
    for widths in cfg["archs"]:
        init = Network.random([data.n_features, *widths, n_classes], seed=0, init="he", bias_scale=SIGMA_B)
        snaps = hr.train_with_snapshots(init, data.x_train, data.y_train, cfg["epochs"], lr=1e-3,
                                        batch_size=cfg["batch"], seed=0)
        arch = "x".join(str(w) for w in widths)
        kept[arch] = snaps
        n = sum(widths)
        first: dict[str, float] = {}
        for s in snaps:
            m = _measure(s.network, probes)
            first = first or m
            rows.append({
                "arch": arch, "units": n, "depth": len(widths), "epoch": s.epoch,
                "train_accuracy": s.train_accuracy, "test_accuracy": accuracy(s.network, data.x_test, data.y_test),
                "loss": s.loss, **m, "one_layer_plane": 1 + n + math.comb(n, 2),
                "plane_max": bounds.serra2018(2, list(widths)),
                **{f"ratio_{k}": m[k] / first[k] for k in MEASURES},
                "train_seconds": round(s.seconds, 3),
            })
    return rows, kept


def _claims(rows: list[dict[str, Any]]) -> dict[str, bool]:
    last = {}
    for r in rows:
        last[r["arch"]] = r
    return {
        f"every count stays within {TRAIN_FACTOR:g}x of its value at initialisation (epoch 0)":
            all(1 / TRAIN_FACTOR <= r[f"ratio_{k}"] <= TRAIN_FACTOR for r in rows for k in MEASURES),
        f"2+ hidden layers: whole-plane regions < {MAX_FRACTION:.0%} of the architecture's maximum (Serra 2018)":
            all(r["plane_regions"] < MAX_FRACTION * r["plane_max"] for r in rows if r["depth"] >= 2),
        f"the networks learn: final test accuracy ≥ {MIN_ACCURACY:g}":
            all(r["test_accuracy"] >= MIN_ACCURACY for r in last.values()),
    }


def _png_curves(rows: list[dict[str, Any]], cfg: dict[str, Any], data_name: str) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 8.5))
    axs = fig.subplots(2, 3)
    panels = [
        ("breakpoints_per_length", "boundary points per unit length", "segments between test points"),
        ("box_regions", "regions (mean over planes)", "square around 3 test points"),
        ("plane_regions", "regions (mean over planes)", "whole plane through 3 test points"),
        ("units_x_distance", "N × mean distance to region boundary", "distance from test points to the boundary"),
        ("test_accuracy", "test accuracy", "accuracy"),
    ]
    archs = list(dict.fromkeys(r["arch"] for r in rows))
    for ax, (key, ylabel, title) in zip(axs.flat, panels, strict=False):
        for a in archs:
            sel = [r for r in rows if r["arch"] == a]
            ax.plot([r["epoch"] for r in sel], [r[key] for r in sel], "o-", label=f"{a} (N = {sel[0]['units']})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for a in archs:
        sel = [r for r in rows if r["arch"] == a]
        axs[0, 2].axhline(sel[0]["one_layer_plane"], color="0.5", ls=":", lw=1)
    axs[0, 2].text(0.02, 0.03, "dotted: N²/2 + N + 1 (one layer of N units)", transform=axs[0, 2].transAxes,
                   fontsize=8)
    ax = axs[1, 2]
    for a in archs:
        sel = [r for r in rows if r["arch"] == a]
        for k, st in zip(MEASURES, ("o-", "s--", "^:"), strict=True):
            ax.plot([r["epoch"] for r in sel], [r[f"ratio_{k}"] for r in sel], st, alpha=0.8,
                    label=f"{a}: {k.replace('_', ' ')}")
    ax.axhspan(1 / TRAIN_FACTOR, TRAIN_FACTOR, color="tab:green", alpha=0.08)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("count / count at epoch 0")
    ax.set_title(f"relative to initialisation (band: {TRAIN_FACTOR:g}x either way)", fontsize=10)
    ax.legend(fontsize=6, ncol=1)
    ax.grid(alpha=0.3, which="both")
    axs[0, 0].legend(fontsize=8)
    fig.suptitle(f"Exact region counts during training on {data_name} (Adam, lr 1e-3; He init, σ_b = {SIGMA_B:g})")
    fig.subplots_adjust(left=0.05, right=0.98, top=0.92, bottom=0.07, hspace=0.3, wspace=0.22)
    return hr.figure_png(fig, cfg["dpi"])


def _png_pictures(kept: dict[str, list[Any]], probes: dict[str, Any], cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    from ..regions import on_plane

    arch = list(kept)[-1]
    snaps = kept[arch]
    chosen = [snaps[0], snaps[len(snaps) // 2], snaps[-1]]
    o, u, v, coords = hr.plane_through(probes["triples"][0])
    box = hr.square_around(coords)
    labels = probes["triple_labels"][0]
    fig = Figure(figsize=(12, 8.4))
    axs = fig.subplots(2, 3)
    for j, s in enumerate(chosen):
        res = on_plane(s.network, o, u, v, bounds=box)
        res.plot(ax=axs[0, j], color="region", points=coords)
        axs[0, j].set_title(f"epoch {s.epoch}: {res.n_activation_regions} regions", fontsize=10)
        res.plot(ax=axs[1, j], color="class", points=coords, boundary=False)
        axs[1, j].set_title(f"epoch {s.epoch}: predicted class (train acc {s.train_accuracy:.2f})", fontsize=10)
        for (px, py), lab in zip(coords, labels, strict=True):
            axs[1, j].annotate(str(lab), (px, py), xytext=(4, 4), textcoords="offset points", fontsize=10,
                               color="k", weight="bold")
    fig.suptitle(f"Network {arch} on the plane through three test images (digits {', '.join(map(str, labels))}): "
                 "regions (top) and predicted class (bottom)", fontsize=10)
    fig.subplots_adjust(left=0.05, right=0.98, top=0.92, bottom=0.06, hspace=0.25, wspace=0.25)
    return hr.figure_png(fig, cfg["dpi"])


def _summary(rows: list[dict[str, Any]], claims: dict[str, bool], cfg: dict[str, Any], data_name: str,
             seconds: float) -> str:
    lines = [
        "# hanin-rolnick-training: region counts during training",
        "",
        f"Data: {data_name}. Networks {cfg['archs']} (hidden widths), He normal weights, biases N(0, {SIGMA_B:g}²), "
        f"Adam lr 1e-3, batch {cfg['batch']}. Exact counts at each epoch: boundary points per unit length on "
        f"{cfg['pairs']} segments between test points of different classes; regions in a square around, and on the "
        f"whole plane through, {cfg['planes']} triples of test points of three classes (mean); N × mean exact "
        f"distance from {cfg['dist_points']} test points to their region's boundary. 'max' is the most regions "
        "the architecture can have on a plane (Serra et al. 2018, Thm 1, input dimension 2).",
        "",
        "| arch | epoch | test acc | boundary pts / length | square: regions | whole plane | max on a plane | "
        "N × distance | ratio to epoch 0 (length / square / plane) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['arch']} | {r['epoch']} | {r['test_accuracy']:.3f} | {r['breakpoints_per_length']:.3f} | "
            f"{r['box_regions']:.1f} | {r['plane_regions']:.1f} | {r['plane_max']:.3g} | {r['units_x_distance']:.3f} | "
            f"{r['ratio_breakpoints_per_length']:.2f} / {r['ratio_box_regions']:.2f} / {r['ratio_plane_regions']:.2f} |"
        )
    ratios = [r[f"ratio_{k}"] for r in rows for k in MEASURES]
    lines += ["", f"Ratio to epoch 0 over all architectures, measures and epochs: min {min(ratios):.2f}, "
              f"max {max(ratios):.2f}. Largest whole-plane count as a fraction of the maximum (2+ layers): "
              + (f"{max(r['plane_regions'] / r['plane_max'] for r in rows if r['depth'] >= 2):.2%}."
                 if any(r["depth"] >= 2 for r in rows) else "n/a."),
              "", "## Paper", "",
              "The papers show these curves in figures (no table): the number of regions along 1-D lines "
              "(ICML) and in 2-D cross-sections (NeurIPS) through MNIST points stays of the order of its value at "
              "initialisation, far below the maximum; the NeurIPS paper quotes N²/2! = 4608 for depth 3 × width 32 "
              "(N = 96)."]
    n96 = [r for r in rows if r["units"] == 96]
    if n96:
        ends = (0, n96[-1]["epoch"])
        lines.append("Ours for N = 96 on the whole plane: " + ", ".join(
            f"{r['arch']} epoch {r['epoch']}: {r['plane_regions']:.0f}" for r in n96 if r["epoch"] in ends) + ".")
    lines += ["", "## Claims", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    lines += ["", "A one-hidden-layer network cuts every plane into exactly 1 + N + N(N-1)/2 regions (N lines in "
              "general position), whatever its weights, so its whole-plane count cannot change in training.",
              "", f"Paper: {PAPER}.",
              f"Computed in {seconds:.1f} s; data in `hr_training.csv`, figures `hr_training_counts.png`, "
              "`hr_training_regions.png`.", ""]
    return "\n".join(lines)


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Train, count regions at chosen epochs; write ``hr_training.csv``, two PNG figures and ``summary.md``.

    Files are written atomically once everything is computed; if a claim fails the
    files are still written (``summary.md`` marks it FAIL) and then a
    ``ClaimNotReproducedError`` naming the failed claims is raised. Needs ``torch``.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        8x8 digits, 48 units in 1-3 layers, 20 epochs (well under a minute); the full
        run uses MNIST and 96 units, 30 epochs (several minutes).

    Returns
    -------
    dict
        ``rows`` (one per architecture and epoch: the CSV's columns), ``claims``,
        ``files``, ``data``, ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:      # doctest: +SKIP
    ...     res = run(d, quick=True)                   # about 20 s (trains 3 networks); the tests run it
    >>> all(res["claims"].values()), sorted({r["arch"] for r in res["rows"]})  # doctest: +SKIP
    (True, ['16x16x16', '24x24', '48'])
    """
    out = hr.check_out_dir(out_dir)
    cfg = _config(quick)
    t0 = time.perf_counter()
    data, data_name = _load(cfg)
    probes = _probes(data, cfg)
    rows, kept = _train_all(data, cfg, probes)
    claims = _claims(rows)
    curves = _png_curves(rows, cfg, data_name)
    pictures = _png_pictures(kept, probes, cfg)
    seconds = time.perf_counter() - t0
    files = hr.write_files(out, {
        "hr_training.csv": hr.csv_text(rows, COLUMNS).encode(),
        "hr_training_counts.png": curves,
        "hr_training_regions.png": pictures,
        "summary.md": _summary(rows, claims, cfg, data_name, seconds).encode(),
    })
    hr.raise_failed("hanin-rolnick-training", claims, out)
    return {"experiment": "hanin-rolnick-training", "rows": rows, "claims": claims, "files": files,
            "data": data_name, "seconds": seconds, "quick": quick}
