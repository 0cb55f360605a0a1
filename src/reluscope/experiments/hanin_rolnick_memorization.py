"""Reproduction "hanin-rolnick-memorization": memorising more points takes more regions, but still few.

Hanin & Rolnick (NeurIPS 2019, §4) train networks on memorisation tasks, "that should
maximize the number of activation patterns": random points with random labels, and
MNIST with a fraction of the labels randomised. Memorising more (or noisier) points
takes more regions, yet the count stays of the order of ``N^2 / 2`` (their depth-3,
width-32 network: ``96^2 / 2! = 4608``), far below what the architecture allows.

Reproduced here with exact counts, in 2-D so that the whole input space is seen:

* ``n`` points uniform in ``[-1, 1]^2`` with random binary labels, for increasing
  ``n``; and ``n_noise`` points labelled by the quadrant rule ``x_1 x_2 > 0`` with a
  fraction ``p`` of the labels replaced by coin flips;
* the network ``2 -> 32 -> 32 -> 32 -> 2`` (``N = 96``), He normal weights, biases
  ``N(0, 10^-6)``, Adam for a fixed number of steps (mini-batches of 32);
* before and after training: activation regions in the data box ``[-1, 1]^2`` and on
  the whole plane (:func:`reluscope.regions.on_plane`), and the number of regions the
  decision boundary (zero set of the logit difference) passes through in the box —
  each such region holds one straight piece of the boundary (``include_output=True``
  adds exactly one region per piece).

Claims checked (a ``ClaimNotReproducedError``, an ``AssertionError``, is raised after the
files are written if one fails), on means over seeds:

* over the sizes the network memorises (mean train accuracy at least ``MEMORISED``),
  the decision boundary after training has more pieces, and the data box more
  regions, for more points (Spearman rank correlation with ``n`` at least
  ``MIN_RANK_CORR``, and more at the largest such ``n`` than at the smallest); where
  the network cannot memorise in its step budget the counts fall back (reported);
* fully random labels (``p = 1``) give more regions and more boundary pieces than the
  clean rule (``p = 0``);
* every trained whole-plane count stays below ``ORDER_FACTOR`` times the
  ``1 + N + N(N-1)/2`` regions of one layer of ``N`` units, and below
  ``MAX_FRACTION`` of the architecture's maximum (Serra et al. 2018, Thm 1).

References
----------
B. Hanin, D. Rolnick, "Deep ReLU networks have surprisingly few activation patterns", NeurIPS 2019
(arXiv 1906.00904), §4.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from . import _hr_common as hr

__all__ = ["run", "TITLE", "PAPER", "ARCH", "MIN_RANK_CORR", "ORDER_FACTOR", "MAX_FRACTION", "boundary_pieces"]

TITLE = "Memorising more (or noisier) points takes more regions, but still few (Hanin & Rolnick 2019)"
PAPER = ("B. Hanin, D. Rolnick, Deep ReLU networks have surprisingly few activation patterns, NeurIPS 2019 "
         "(arXiv 1906.00904)")

ARCH = (32, 32, 32)
SIGMA_B = 1e-3
LR = 5e-3
BATCH = 32
MIN_RANK_CORR = 0.6
MEMORISED = 0.8  # trend claims use the sizes the network memorises (train accuracy at least this)
ORDER_FACTOR = 3.0
MAX_FRACTION = 1e-3
BOX = (-1.0, 1.0, -1.0, 1.0)
_O, _U, _V = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])

COLUMNS = ("task", "n", "p", "seed", "steps", "train_accuracy_before", "train_accuracy", "box_before", "box_after",
           "plane_before", "plane_after", "pieces_before", "pieces_after", "one_layer_plane", "plane_max")


def _config(quick: bool) -> dict[str, Any]:
    if quick:
        return {"sizes": (10, 40, 160), "seeds": (0,), "steps": 1000, "noise_n": 160, "noise_p": (0.0, 1.0),
                "dpi": 70, "pictures": 2}
    return {"sizes": (10, 30, 100, 300, 1000), "seeds": (0, 1, 2), "steps": 6000, "noise_n": 300,
            "noise_p": (0.0, 0.25, 0.5, 0.75, 1.0), "dpi": 120, "pictures": 4}


def boundary_pieces(net: Any, bounds: Any = BOX) -> tuple[int, int]:
    """Activation regions of a 2-input, 2-logit classifier in ``bounds``, and how many its decision boundary crosses.

    The decision boundary is the zero set of ``logit_1 - logit_0``; inside one
    activation region that difference is affine, so the boundary crosses a region in
    at most one segment and splitting the regions along it adds exactly one region per
    crossed region.

    Parameters
    ----------
    net : Network
        Input dimension 2, two outputs (logits), ReLU hidden layers.
    bounds : (s0, s1, t0, t1)

    Returns
    -------
    (n_regions, n_pieces) : tuple of int

    Examples
    --------
    Units ``relu(x)``, ``relu(-x)``, ``relu(y)`` cut the plane into 4 quadrants; the
    logit difference ``x + relu(y) - 0.5`` is zero on ``x = 0.5 - y`` (y > 0: quadrants
    I and II) and on ``x = 0.5`` (y < 0: quadrant IV), 3 of the 4:

    >>> from reluscope import Network
    >>> net = Network([(np.array([[1.0, 0], [-1, 0], [0, 1]]), np.zeros(3), "relu"),
    ...                (np.array([[0.0, 0, 0], [1, -1, 1]]), np.array([0.0, -0.5]), "identity")])
    >>> boundary_pieces(net, (-1, 1, -1, 1))
    (4, 3)
    """
    from ..network import Network
    from ..regions import on_plane

    last = net.layers[-1]
    diff = Network(list(net.layers[:-1]) + [((last.weight[1] - last.weight[0])[None],
                                            (last.bias[1] - last.bias[0])[None], "identity")])
    plain = on_plane(diff, _O, _U, _V, bounds=bounds).n_activation_regions
    split = on_plane(diff, _O, _U, _V, bounds=bounds, include_output=True).n_activation_regions
    return plain, split - plain


def _task(task: str, n: int, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n, 2019])
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    coin = rng.integers(0, 2, size=n)
    if task == "random":
        return x, coin
    rule = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    flip = rng.uniform(size=n) < p
    return x, np.where(flip, coin, rule)


def _train_one(task: str, n: int, p: float, seed: int, steps: int) -> tuple[dict[str, Any], list[Any], np.ndarray,
                                                                           np.ndarray]:
    from .. import bounds
    from ..network import Network
    from ..regions import on_plane

    x, y = _task(task, n, p, seed)
    init = Network.random([2, *ARCH, 2], seed=seed, init="he", bias_scale=SIGMA_B)
    per_epoch = -(-n // BATCH)
    epochs = max(1, round(steps / per_epoch))
    snaps = hr.train_with_snapshots(init, x, y, [0, epochs], lr=LR, batch_size=BATCH, seed=seed)
    m = {}
    for tag, s in (("before", snaps[0]), ("after", snaps[-1])):
        box, pieces = boundary_pieces(s.network)
        m[f"box_{tag}"] = box
        m[f"pieces_{tag}"] = pieces
        m[f"plane_{tag}"] = on_plane(s.network, _O, _U, _V).n_activation_regions
    n_units = sum(ARCH)
    row = {"task": task, "n": n, "p": p, "seed": seed, "steps": epochs * per_epoch,
           "train_accuracy_before": snaps[0].train_accuracy, "train_accuracy": snaps[-1].train_accuracy, **m,
           "one_layer_plane": 1 + n_units + math.comb(n_units, 2), "plane_max": bounds.serra2018(2, list(ARCH))}
    return row, snaps, x, y


def _rows(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[tuple, Any]]:
    rows, kept = [], {}
    for seed in cfg["seeds"]:
        for n in cfg["sizes"]:
            row, snaps, x, y = _train_one("random", n, 1.0, seed, cfg["steps"])
            rows.append(row)
            kept[("random", n, seed)] = (snaps[-1], x, y)
        for p in cfg["noise_p"]:
            if p == 1.0 and cfg["noise_n"] in cfg["sizes"]:
                # every label a coin flip: the same points and labels as the random task (see _task)
                row = next(r for r in rows if r["task"] == "random" and r["n"] == cfg["noise_n"] and r["seed"] == seed)
                rows.append({**row, "task": "noisy-rule", "p": 1.0})
                kept[("noisy-rule", p, seed)] = kept[("random", cfg["noise_n"], seed)]
                continue
            row, snaps, x, y = _train_one("noisy-rule", cfg["noise_n"], p, seed, cfg["steps"])
            rows.append(row)
            kept[("noisy-rule", p, seed)] = (snaps[-1], x, y)
    return rows, kept


def _spearman(a: list[float], b: list[float]) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _means(rows: list[dict[str, Any]], task: str, key: str, by: str) -> tuple[list[float], list[float], list[float]]:
    levels = sorted({r[by] for r in rows if r["task"] == task})
    vals = [[r[key] for r in rows if r["task"] == task and r[by] == v] for v in levels]
    return levels, [float(np.mean(v)) for v in vals], [float(np.std(v)) for v in vals]


def _analysis(rows: list[dict[str, Any]]) -> tuple[dict[str, bool], dict[str, float]]:
    ns, pieces, _ = _means(rows, "random", "pieces_after", "n")
    _, box, _ = _means(rows, "random", "box_after", "n")
    _, acc, _ = _means(rows, "random", "train_accuracy", "n")
    mem = [i for i, a in enumerate(acc) if a >= MEMORISED]
    mn, mpieces, mbox = [ns[i] for i in mem], [pieces[i] for i in mem], [box[i] for i in mem]
    ps, pbox, _ = _means(rows, "noisy-rule", "box_after", "p")
    _, ppieces, _ = _means(rows, "noisy-rule", "pieces_after", "p")
    stats = {"memorised_sizes": mn, "rank_corr_pieces_n": _spearman(mn, mpieces),
             "rank_corr_box_n": _spearman(mn, mbox),
             "rank_corr_pieces_all_n": _spearman(ns, pieces), "rank_corr_box_all_n": _spearman(ns, box),
             "rank_corr_box_p": _spearman(ps, pbox), "rank_corr_pieces_p": _spearman(ps, ppieces),
             "max_plane_over_one_layer": max(r["plane_after"] / r["one_layer_plane"] for r in rows),
             "max_plane_over_max": max(r["plane_after"] / r["plane_max"] for r in rows)}
    enough = len(mn) >= 2
    claims = {
        f"random labels, sizes memorised (train acc ≥ {MEMORISED:g}): decision-boundary pieces grow with n "
        f"(rank corr ≥ {MIN_RANK_CORR:g}, last > first)":
            enough and stats["rank_corr_pieces_n"] >= MIN_RANK_CORR and mpieces[-1] > mpieces[0],
        f"random labels, sizes memorised: regions in the data box after training grow with n "
        f"(rank corr ≥ {MIN_RANK_CORR:g}, last > first)":
            enough and stats["rank_corr_box_n"] >= MIN_RANK_CORR and mbox[-1] > mbox[0],
        "randomised labels (p = 1) give more regions and more boundary pieces than the clean rule (p = 0)":
            pbox[-1] > pbox[0] and ppieces[-1] > ppieces[0],
        f"trained whole-plane counts stay < {ORDER_FACTOR:g} × (N²/2 + N + 1) and < {MAX_FRACTION:g} × the maximum":
            stats["max_plane_over_one_layer"] < ORDER_FACTOR and stats["max_plane_over_max"] < MAX_FRACTION,
    }
    return claims, stats


def _png_curves(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9))
    axs = fig.subplots(2, 2)
    n_units = sum(ARCH)
    one = 1 + n_units + math.comb(n_units, 2)
    for task, by, ax_r, ax_p, xl in (("random", "n", axs[0, 0], axs[0, 1], "n (random points, random labels)"),
                                      ("noisy-rule", "p", axs[1, 0], axs[1, 1],
                                       f"p (fraction of randomised labels, n = {cfg['noise_n']})")):
        for key, st, lab in (("box_before", "o--", "in [-1,1]², before"), ("box_after", "o-", "in [-1,1]², after"),
                             ("plane_before", "s--", "whole plane, before"),
                             ("plane_after", "s-", "whole plane, after")):
            lv, m, sd = _means(rows, task, key, by)
            ax_r.errorbar(lv, m, yerr=sd, fmt=st, capsize=2, label=lab)
        ax_r.axhline(one, color="k", ls=":", lw=1, label=f"N²/2 + N + 1 = {one}")
        ax_r.set_ylabel("activation regions (mean ± sd over seeds)")
        ax_r.set_ylim(bottom=0)
        for key, st, lab in (("pieces_before", "o--", "boundary pieces, before"),
                             ("pieces_after", "o-", "boundary pieces, after")):
            lv, m, sd = _means(rows, task, key, by)
            ax_p.errorbar(lv, m, yerr=sd, fmt=st, capsize=2, label=lab)
        ax2 = ax_p.twinx()
        lv, m, _ = _means(rows, task, "train_accuracy", by)
        ax2.plot(lv, m, "^:", color="tab:green", label="train accuracy (right)")
        ax2.set_ylim(0, 1.05)
        ax2.set_ylabel("train accuracy")
        ax_p.set_ylabel("regions crossed by the decision boundary in [-1,1]²")
        ax_p.set_ylim(bottom=0)
        h1, l1 = ax_p.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax_p.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
        for ax in (ax_r, ax_p):
            ax.set_xlabel(xl)
            ax.grid(alpha=0.3)
            if task == "random":
                ax.set_xscale("log")
        ax_r.legend(fontsize=8, loc="lower right")
    axs[0, 0].set_title("regions vs number of memorised points", fontsize=10)
    axs[0, 1].set_title("decision-boundary pieces vs number of points", fontsize=10)
    axs[1, 0].set_title("regions vs label noise (quadrant rule x1·x2 > 0)", fontsize=10)
    axs[1, 1].set_title("decision-boundary pieces vs label noise", fontsize=10)
    fig.suptitle(f"Network 2-{'-'.join(map(str, ARCH))}-2 (N = {n_units}), He init, σ_b = {SIGMA_B:g}, Adam lr {LR:g}, "
                 f"{cfg['steps']} steps: exact counts before and after training")
    fig.subplots_adjust(left=0.07, right=0.93, top=0.92, bottom=0.07, hspace=0.3, wspace=0.35)
    return hr.figure_png(fig, cfg["dpi"])


def _png_pictures(kept: dict[tuple, Any], cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    from ..regions import on_plane

    seed = cfg["seeds"][0]
    sizes = cfg["sizes"]
    picks = [("random", sizes[0], seed), ("random", sizes[len(sizes) // 2], seed), ("random", sizes[-1], seed),
             ("noisy-rule", cfg["noise_p"][0], seed)]
    if cfg["pictures"] < len(picks):
        picks = [picks[0], picks[2]]
    fig = Figure(figsize=(4 * len(picks), 8.2))
    axs = fig.subplots(2, len(picks))
    for j, key in enumerate(picks):
        snap, x, y = kept[key]
        res = on_plane(snap.network, _O, _U, _V, bounds=BOX)
        res.plot(ax=axs[0, j], color="region", linewidths=0.2)
        res.plot(ax=axs[1, j], color="class", boundary=False, decision_boundary=True, linewidths=0.3)
        for ax in axs[:, j]:
            ax.scatter(x[:, 0], x[:, 1], c=np.where(y == 1, "k", "w"), edgecolors="k", s=10, zorder=4)
        what = (f"n = {key[1]} random labels" if key[0] == "random"
                else f"quadrant rule, n = {cfg['noise_n']}, p = {key[1]:g}")
        axs[0, j].set_title(f"{what}\n{res.n_activation_regions} regions, train acc {snap.train_accuracy:.2f}",
                            fontsize=9)
        axs[1, j].set_title("predicted class and decision boundary", fontsize=9)
    fig.suptitle("After training: regions (top) and predicted class (bottom: class 0 blue, class 1 orange); "
                 "points: label 1 black, label 0 white", fontsize=10)
    fig.subplots_adjust(left=0.05, right=0.98, top=0.9, bottom=0.06, hspace=0.3, wspace=0.25)
    return hr.figure_png(fig, cfg["dpi"])


def _summary(rows: list[dict[str, Any]], claims: dict[str, bool], stats: dict[str, float], cfg: dict[str, Any],
             seconds: float) -> str:
    n_units = sum(ARCH)
    lines = [
        "# hanin-rolnick-memorization: regions needed to memorise",
        "",
        f"Network 2-{'-'.join(map(str, ARCH))}-2 (N = {n_units}), He normal weights, biases N(0, {SIGMA_B:g}²), Adam "
        f"(lr {LR:g}, batch {BATCH}) for about {cfg['steps']} steps, seeds {list(cfg['seeds'])}. Tasks: n points "
        "uniform in [-1,1]² with random labels; the quadrant rule x1·x2 > 0 on n = "
        f"{cfg['noise_n']} points with a fraction p of labels replaced by coin flips. Exact counts before and after "
        "training: regions in [-1,1]², on the whole plane, and regions crossed by the decision boundary in [-1,1]². "
        "Means over seeds:",
        "",
        "| task | n | p | train acc | [-1,1]² before → after | whole plane before → after | boundary pieces "
        "before → after |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for task, by in (("random", "n"), ("noisy-rule", "p")):
        for v in sorted({r[by] for r in rows if r["task"] == task}):
            sel = [r for r in rows if r["task"] == task and r[by] == v]

            def mu(k: str, sel: list[dict[str, Any]] = sel) -> float:
                return float(np.mean([r[k] for r in sel]))

            lines.append(f"| {task} | {sel[0]['n']} | {sel[0]['p']:g} | {mu('train_accuracy'):.3f} | "
                         f"{mu('box_before'):.0f} → {mu('box_after'):.0f} | {mu('plane_before'):.0f} → "
                         f"{mu('plane_after'):.0f} | {mu('pieces_before'):.0f} → {mu('pieces_after'):.0f} |")
    unmem = [n for n in sorted({r["n"] for r in rows if r["task"] == "random"}) if n not in stats["memorised_sizes"]]
    lines += [
        "",
        f"Sizes memorised (mean train accuracy ≥ {MEMORISED:g}): {stats['memorised_sizes']}; rank correlation with n "
        f"over them: boundary pieces {stats['rank_corr_pieces_n']:.2f}, regions in the box "
        f"{stats['rank_corr_box_n']:.2f} "
        f"(over all sizes: {stats['rank_corr_pieces_all_n']:.2f} and {stats['rank_corr_box_all_n']:.2f})."
        + (f" Not memorised: n = {unmem}; there the network fits the labels only partly and the counts fall back "
           "(fewer regions, fewer boundary pieces): the trend is a property of memorising, not of the data size."
           if unmem else "")
        + f" With p: regions {stats['rank_corr_box_p']:.2f}, boundary pieces "
        f"{stats['rank_corr_pieces_p']:.2f}. Largest trained whole-plane count: "
        f"{stats['max_plane_over_one_layer']:.2f} × (N²/2 + N + 1), {stats['max_plane_over_max']:.2e} × the maximum "
        f"{rows[0]['plane_max']:.3g} (Serra et al. 2018).",
        "", "## Paper", "",
        "The NeurIPS paper shows this in figures (no table): memorisation and label corruption raise the number of "
        f"regions only modestly; its predicted order for this architecture is N²/2! = {n_units ** 2 // 2} "
        f"(ours, trained, whole plane: up to {max(r['plane_after'] for r in rows)}). The papers train with Adam at "
        f"learning rate 1e-3; we use {LR:g} to memorise within the step budget.",
        "", "## Claims", "",
    ]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    lines += ["", f"Paper: {PAPER}.",
              f"Computed in {seconds:.1f} s; data in `hr_memorization.csv`, figures `hr_memorization.png`, "
              "`hr_memorization_regions.png`.", ""]
    return "\n".join(lines)


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Train on memorisation tasks and count regions; write ``hr_memorization.csv``, two PNG figures and ``summary.md``.

    Files are written atomically once everything is computed; if a claim fails the
    files are still written (``summary.md`` marks it FAIL) and then a
    ``ClaimNotReproducedError`` naming the failed claims is raised. Needs ``torch``.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        ``n`` in (10, 40, 160), one seed, 1,000 steps, noise levels 0 and 1; the full run
        has ``n`` from 10 to 1,000, three seeds, 6,000 steps and five noise levels.

    Returns
    -------
    dict
        ``rows`` (the CSV's rows), ``stats`` (rank correlations, ratios), ``claims``,
        ``files``, ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:      # doctest: +SKIP
    ...     res = run(d, quick=True)                   # about 20 s (trains 4 networks)
    >>> all(res["claims"].values())                    # doctest: +SKIP
    True
    """
    out = hr.check_out_dir(out_dir)
    cfg = _config(quick)
    t0 = time.perf_counter()
    rows, kept = _rows(cfg)
    claims, stats = _analysis(rows)
    curves = _png_curves(rows, cfg)
    pictures = _png_pictures(kept, cfg)
    seconds = time.perf_counter() - t0
    files = hr.write_files(out, {
        "hr_memorization.csv": hr.csv_text(rows, COLUMNS).encode(),
        "hr_memorization.png": curves,
        "hr_memorization_regions.png": pictures,
        "summary.md": _summary(rows, claims, stats, cfg, seconds).encode(),
    })
    hr.raise_failed("hanin-rolnick-memorization", claims, out)
    return {"experiment": "hanin-rolnick-memorization", "rows": rows, "stats": stats, "claims": claims,
            "files": files, "seconds": seconds, "quick": quick}
