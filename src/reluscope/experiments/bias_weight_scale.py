"""Reproduction "bias-weight-scale": what scaling the biases or the weights does to the regions, exactly.

For a ReLU network ``f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L`` positive
homogeneity gives exact identities (Hanin & Rolnick 2019 use the first to explain
why the number of regions depends on ``C_bias``, the density of the biases, and why
zero biases "collapse" the regions; Appendix D: the regions at infinity are those
of the zero-bias network):

1. **all biases × c** (``c > 0``): ``f_c(x) = c f(x / c)``, so every pre-activation of
   ``f_c`` at ``x`` is ``c`` times that of ``f`` at ``x / c``: the partition of ``f_c``
   is the partition of ``f`` scaled by ``c``. The number of regions of the whole
   input space is unchanged, and the count of ``f_c`` on a box ``B`` equals the count
   of ``f`` on ``B / c``: what changes is only *where* the regions are;
2. **zero biases** (``c = 0``): every pre-activation is positively homogeneous, so
   every region is a cone from the origin: all unbounded, and (generically) as many
   as the unbounded regions of ``f``;
3. **first-layer weights × a**: ``f(a x)`` — the partition scaled by ``1 / a``; same
   global count, local density changed;
4. **all weights × a and the biases of layer l × a^l**: every pre-activation of layer
   ``l`` is multiplied by ``a^l > 0``, so the partition is *identical*;
5. **all weights × a, biases unchanged** (a larger weight variance at
   initialisation): the same as (4) followed by dividing the biases of layer ``l`` by
   ``a^l`` — not a uniform scaling when there are two or more hidden layers, so the
   global count may change; it is measured here (for one hidden layer it is (1)).

Every count is exact: the whole input plane (``n_in = 2``) with
:func:`reluscope.regions.on_plane` (``bounds=None``), the box ``[-1, 1]^2`` and local
densities on segments through a point with :func:`reluscope.regions.on_segments`.

Claims checked (a ``ClaimNotReproducedError``, an ``AssertionError``, is raised after the
files are written if one fails): the identities 1-4 hold exactly (equal integers) for every network, scale
and factor; zero-bias regions are cones (none bounded, patterns invariant under
``x -> t x``) and fewer than with biases; the local density changes under (1), (3)
and (5) for at least ``LOCAL_CHANGE_SHARE`` of the networks at every factor.

References
----------
B. Hanin, D. Rolnick, "Complexity of linear regions in deep networks", ICML 2019;
"Deep ReLU networks have surprisingly few activation patterns", NeurIPS 2019 (Appendix D).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ..network import Network
from . import _hr_common as hr

__all__ = ["run", "TITLE", "PAPER", "scale_biases", "scale_weights"]

TITLE = "Scaling biases or weights: the same regions, moved (exact identities; Hanin & Rolnick 2019)"
PAPER = (
    "B. Hanin, D. Rolnick, Complexity of linear regions in deep networks, ICML 2019 (arXiv 1901.09021); "
    "Deep ReLU networks have surprisingly few activation patterns, NeurIPS 2019 (arXiv 1906.00904)"
)

BOX = (-1.0, 1.0, -1.0, 1.0)
POINT = np.array([0.5, 0.3])  # local densities are measured on segments through this point
LOCAL_CHANGE_SHARE = 0.9
COLUMNS = ("arch", "seed", "transform", "factor", "plane_regions", "plane_bounded", "box_regions",
           "box_expected", "local_density")
_O, _U, _V = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])


def scale_biases(net: Network, c: float) -> Network:
    """The network with every bias (output layer included) multiplied by ``c``.

    Examples
    --------
    >>> net = Network.random([2, 4, 1], seed=0)
    >>> x = np.array([[0.3, -0.7]])
    >>> bool(np.allclose(scale_biases(net, 2.0)(x), 2.0 * net(x / 2.0)))     # f_c(x) = c f(x / c)
    True
    """
    return net.with_layers([(layer.weight, layer.bias * c, layer.activation) for layer in net.layers],
                           bias_scale=float(c))


def scale_weights(net: Network, a: float, *, mode: str = "all") -> Network:
    """The network with weights multiplied by ``a > 0``.

    Parameters
    ----------
    net : Network
    a : float
    mode : {"all", "first", "compensated"}
        ``"all"``: every layer's weights × ``a``, biases unchanged; ``"first"``: only
        the first layer's weights; ``"compensated"``: every layer's weights × ``a`` and
        the biases of layer ``l`` (1-based) × ``a^l``, which leaves every activation
        pattern unchanged.

    Examples
    --------
    >>> net = Network.random([2, 5, 5, 1], seed=0)
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> bool(np.array_equal(scale_weights(net, 3.0, mode="compensated").pattern(x), net.pattern(x)))
    True
    >>> bool(np.array_equal(scale_weights(net, 3.0, mode="first").pattern(x / 3.0), net.pattern(x)))
    True
    """
    from .._errors import InvalidParameterError

    if mode not in ("all", "first", "compensated"):
        raise InvalidParameterError(f"'mode' must be 'all', 'first' or 'compensated'; got {mode!r}.")
    if not (isinstance(a, (int, float, np.floating)) and a > 0):
        raise InvalidParameterError(f"'a' must be a number > 0; got {a!r}.")
    layers, cum = [], 1.0
    for i, layer in enumerate(net.layers):
        f = a if (mode != "first" or i == 0) else 1.0
        cum *= a
        b = layer.bias * cum if mode == "compensated" else layer.bias
        layers.append((layer.weight * f, b, layer.activation))
    return net.with_layers(layers, weight_scale=float(a), weight_scale_mode=mode)


def _config(quick: bool) -> dict[str, Any]:
    if quick:
        return {"archs": ((32,), (16, 16), (8, 8, 8, 8)), "seeds": 2, "biases": (0.0, 0.1, 0.5, 1.0, 2.0, 10.0),
                "weights": (0.5, 1.0, 2.0), "directions": 32, "dpi": 70}
    return {"archs": ((32,), (16, 16), (8, 8, 8, 8), (64,), (32, 32), (16, 16, 16, 16)), "seeds": 8,
            "biases": (0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 10.0, 100.0),
            "weights": (0.25, 0.5, 1.0, 2.0, 4.0), "directions": 64, "dpi": 120}


def _local_segments(n_dir: int) -> tuple[np.ndarray, np.ndarray]:
    """Segments of length 0.5 centred at POINT in ``n_dir`` directions."""
    th = np.pi * np.arange(n_dir) / n_dir
    d = 0.25 * np.stack([np.cos(th), np.sin(th)], axis=1)
    return POINT - d, POINT + d


def _count(net: Network, segs: tuple[np.ndarray, np.ndarray], box: tuple[float, ...] = BOX) -> dict[str, Any]:
    from ..regions import on_plane, on_segments

    whole = on_plane(net, _O, _U, _V)
    s = on_segments(net, *segs)
    return {"plane_regions": whole.n_activation_regions, "plane_bounded": int(whole.bounded.sum()),
            "box_regions": on_plane(net, _O, _U, _V, bounds=box).n_activation_regions,
            "local_density": float((s.n_activation_regions - 1).sum() / s.lengths.sum()),
            "_whole": whole}


def _is_conic(net: Network, seed: int) -> bool:
    """Patterns are invariant under x -> t x (t > 0) at random points: every region is a cone."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(500, 2))
    p = net.pattern(x)
    return all(np.array_equal(p, net.pattern(t * x)) for t in (1e-3, 0.37, 5.0, 1e4))


def _rows(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    segs = _local_segments(cfg["directions"])
    rows: list[dict[str, Any]] = []
    checks: dict[str, Any] = {"bias_plane": [], "bias_box": [], "zero_conic": [], "zero_fewer": [],
                              "zero_vs_unbounded": [], "first_plane": [], "first_box": [], "comp_same": [],
                              "local_changes": {}, "all_plane_change": []}

    def changed(kind: str, factor: float, m: dict[str, Any], base: dict[str, Any]) -> None:
        checks["local_changes"].setdefault((kind, factor), []).append(m["local_density"] != base["local_density"])

    for widths in cfg["archs"]:
        arch = "x".join(map(str, widths))
        for seed in range(cfg["seeds"]):
            net = Network.random([2, *widths, 1], seed=seed, init="he", bias_scale=1.0)
            base = _count(net, segs)

            def add(transform: str, factor: float, m: dict[str, Any], expected: int | None = None,
                    arch: str = arch, seed: int = seed) -> None:
                rows.append({"arch": arch, "seed": seed, "transform": transform, "factor": factor,
                             **{k: v for k, v in m.items() if not k.startswith("_")}, "box_expected": expected})

            for c in cfg["biases"]:
                f = scale_biases(net, c)
                if c == 0:
                    m = _count(f, segs)
                    add("bias", 0.0, m)
                    checks["zero_conic"].append(m["plane_bounded"] == 0 and _is_conic(f, seed))
                    checks["zero_fewer"].append(m["plane_regions"] < base["plane_regions"])
                    checks["zero_vs_unbounded"].append(
                        (m["plane_regions"], base["plane_regions"] - base["plane_bounded"]))
                    continue
                m = base if c == 1.0 else _count(f, segs)
                # the count of f_c on BOX is the count of f on BOX / c (exact)
                expected = m["box_regions"] if c == 1.0 else _count(net, segs, tuple(b / c for b in BOX))["box_regions"]
                add("bias", c, m, expected)
                checks["bias_plane"].append((m["plane_regions"], m["plane_bounded"]) ==
                                            (base["plane_regions"], base["plane_bounded"]))
                checks["bias_box"].append(m["box_regions"] == expected)
                if c != 1.0:
                    changed("bias", c, m, base)
            for a in cfg["weights"]:
                for mode in ("all", "first", "compensated"):
                    m = base if a == 1.0 else _count(scale_weights(net, a, mode=mode), segs)
                    expected = None
                    if mode == "first":
                        expected = m["box_regions"] if a == 1.0 else _count(
                            net, segs, tuple(b * a for b in BOX))["box_regions"]
                    add(f"weights:{mode}", a, m, expected)
                    if a == 1.0:
                        continue
                    if mode == "first":
                        checks["first_plane"].append(m["plane_regions"] == base["plane_regions"])
                        checks["first_box"].append(m["box_regions"] == expected)
                        changed("first", a, m, base)
                    elif mode == "compensated":
                        checks["comp_same"].append(all(m[k] == base[k] for k in
                                                       ("plane_regions", "plane_bounded", "box_regions"))
                                                   and np.isclose(m["local_density"], base["local_density"]))
                    else:
                        changed("all", a, m, base)
                        checks["all_plane_change"].append(
                            (arch, len(widths), a, m["plane_regions"] / base["plane_regions"]))
    return rows, checks


def _claims(checks: dict[str, Any]) -> dict[str, bool]:
    return {
        "biases × c (c > 0): whole-plane count (and bounded count) identical to c = 1, every network and c":
            all(checks["bias_plane"]),
        "biases × c: count on [-1,1]² equals the original's count on [-1/c, 1/c]² (exact)": all(checks["bias_box"]),
        "zero biases: every region is a cone (none bounded; patterns invariant under x -> t x)":
            all(checks["zero_conic"]),
        "zero biases: fewer regions than with biases, every network": all(checks["zero_fewer"]),
        "first-layer weights × a: whole-plane count identical; box count = original's on a·box (exact)":
            all(checks["first_plane"]) and all(checks["first_box"]),
        "all weights × a with layer-l biases × a^l: identical counts everywhere (plane, box, local)":
            all(checks["comp_same"]),
        f"local density (segments through (0.5, 0.3)) changes under bias scaling, first-layer and all-layer "
        f"weight scaling (in ≥ {LOCAL_CHANGE_SHARE:.0%} of the networks, every factor; equal integer counts by "
        "chance are possible)": all(np.mean(v) >= LOCAL_CHANGE_SHARE for v in checks["local_changes"].values()),
    }


def _png_pictures(cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from ..regions import on_plane

    net = Network.random([2, 16, 16, 1], seed=0, init="he", bias_scale=1.0)
    view = (-3.0, 3.0, -3.0, 3.0)
    panels = [
        (scale_biases(net, 0.0), "biases × 0 (cones)"),
        (scale_biases(net, 0.3), "biases × 0.3"),
        (net, "original (He, σ_b = 1)"),
        (scale_biases(net, 3.0), "biases × 3"),
        (scale_weights(net, 2.0, mode="first"), "first-layer weights × 2"),
        (scale_weights(net, 2.0, mode="all"), "all weights × 2, biases kept"),
        (scale_weights(net, 2.0, mode="compensated"), "weights × 2, layer-l biases × 2^l"),
        (scale_weights(net, 0.5, mode="all"), "all weights × 0.5, biases kept"),
    ]
    fig = Figure(figsize=(14, 7.6))
    axs = fig.subplots(2, 4)
    for ax, (f, label) in zip(axs.flat, panels, strict=True):
        whole = on_plane(f, _O, _U, _V)
        res = on_plane(f, _O, _U, _V, bounds=view)
        res.plot(ax=ax, color="region", linewidths=0.25)
        ax.add_patch(Rectangle((BOX[0], BOX[2]), BOX[1] - BOX[0], BOX[3] - BOX[2], fill=False, ec="k", lw=1.2,
                               ls="--"))
        ax.plot(*POINT, "k*", ms=8)
        ax.set_title(f"{label}\nwhole plane {whole.n_activation_regions}, in [-1,1]² "
                     f"{on_plane(f, _O, _U, _V, bounds=BOX).n_activation_regions}", fontsize=9)
    fig.suptitle("One 2-16-16-1 network, transformed: regions on [-3, 3]² (dashed: [-1, 1]²; star: the point of "
                 "the local densities)", fontsize=10)
    fig.subplots_adjust(left=0.04, right=0.99, top=0.88, bottom=0.07, hspace=0.4, wspace=0.25)
    return hr.figure_png(fig, cfg["dpi"])


def _png_curves(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 4.6))
    axs = fig.subplots(1, 3)
    archs = list(dict.fromkeys(r["arch"] for r in rows))
    colors = dict(zip(archs, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"),
                      strict=False))

    def mean(arch: str, transform: str, key: str, factor: float) -> float:
        return float(np.mean([r[key] for r in rows if r["arch"] == arch and r["transform"] == transform
                              and r["factor"] == factor]))

    cs = [c for c in cfg["biases"] if c > 0]
    for a in archs:
        ax = axs[0]
        ax.semilogx(cs, [mean(a, "bias", "plane_regions", c) for c in cs], "o-", color=colors[a],
                    label=f"{a}: whole plane")
        ax.semilogx(cs, [mean(a, "bias", "box_regions", c) for c in cs], "s--", color=colors[a],
                    label=f"{a}: in [-1,1]²")
        ax.axhline(mean(a, "bias", "plane_regions", 0.0), color=colors[a], ls=":", lw=1)
        axs[1].semilogx(cs, [mean(a, "bias", "local_density", c) for c in cs], "o-", color=colors[a], label=a)
        for mode, st in (("all", "o-"), ("first", "s--"), ("compensated", "^:")):
            ws = cfg["weights"]
            axs[2].semilogx(ws, [mean(a, f"weights:{mode}", "plane_regions", w) for w in ws], st, color=colors[a],
                            label=f"{a}: {mode}")
    axs[0].set_xlabel("bias scale c")
    axs[0].set_ylabel("activation regions (mean over seeds)")
    axs[0].set_title("biases × c: whole plane constant, box count moves\n(dotted: c = 0, zero biases)", fontsize=10)
    axs[0].legend(fontsize=6, ncol=2)
    axs[1].set_xlabel("bias scale c")
    axs[1].set_ylabel("boundary points per unit length")
    axs[1].set_title("local density on segments through (0.5, 0.3)", fontsize=10)
    axs[1].legend(fontsize=7)
    axs[2].set_xlabel("weight scale a")
    axs[2].set_ylabel("whole-plane regions (mean over seeds)")
    axs[2].set_title("weights × a: first layer (--) and compensated (:) exact;\nall layers, biases kept (-): "
                     "changes for depth ≥ 2", fontsize=10)
    axs[2].legend(fontsize=6, ncol=2)
    for ax, ticks in zip(axs, (cs, cs, cfg["weights"]), strict=True):
        ax.grid(alpha=0.3, which="both")
        ax.set_ylim(bottom=0)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize=8)
        ax.minorticks_off()
    fig.subplots_adjust(left=0.05, right=0.99, top=0.84, bottom=0.12, wspace=0.22)
    return hr.figure_png(fig, cfg["dpi"])


def _summary(rows: list[dict[str, Any]], checks: dict[str, Any], claims: dict[str, bool], cfg: dict[str, Any],
             seconds: float) -> str:
    archs = list(dict.fromkeys(r["arch"] for r in rows))

    def mean(arch: str, transform: str, key: str, factor: float) -> float:
        return float(np.mean([r[key] for r in rows if r["arch"] == arch and r["transform"] == transform
                              and r["factor"] == factor]))

    lines = [
        "# bias-weight-scale: scaling biases and weights (exact)",
        "",
        f"Networks 2 -> hidden widths -> 1, He weights, biases N(0, 1), {cfg['seeds']} seeds per architecture. "
        "Exact counts on the whole input plane, on the box [-1, 1]², and boundary points per unit length on "
        f"{cfg['directions']} segments of length 0.5 through (0.5, 0.3). Means over seeds:",
        "",
        "| arch | transform | factor | whole plane | bounded | [-1,1]² | local density |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for a in archs:
        for transform, factors in (("bias", cfg["biases"]), ("weights:first", cfg["weights"]),
                                   ("weights:compensated", cfg["weights"]), ("weights:all", cfg["weights"])):
            for f in factors:
                vals = [mean(a, transform, k, f) for k in ("plane_regions", "plane_bounded", "box_regions")]
                lines.append(f"| {a} | {transform} | {f:g} | {vals[0]:.1f} | {vals[1]:.1f} | {vals[2]:.1f} | "
                             f"{mean(a, transform, 'local_density', f):.3f} |")
    zv = checks["zero_vs_unbounded"]
    equal = sum(z == u for z, u in zv)
    ch = checks["all_plane_change"]
    deep = [c for c in ch if c[1] >= 2]
    lines += [
        "", "## What holds", "",
        f"- Zero-bias cones vs unbounded regions of the biased network (Appendix D: the regions at infinity): "
        f"equal in {equal} of {len(zv)} networks"
        + ("" if equal == len(zv) else
           " (" + "; ".join(f"{z} cones vs {u} unbounded" for z, u in zv if z != u) + "). They differ when a unit "
           "of the zero-bias network is identically zero on a whole cone (every unit feeding it is off there): the "
           "biases then decide its state far out, which the zero-bias network cannot see") + ".",
        "- All weights × a with biases kept (a larger weight variance at initialisation): for one hidden layer the "
        "whole-plane count is unchanged (it is identity 1 with c = 1/a); with 2 or more hidden layers it changes: "
        "ratio to a = 1 between "
        + (f"{min(c[3] for c in deep):.2f} and {max(c[3] for c in deep):.2f}" if deep else "n/a")
        + " over the networks and factors here. Only the compensated scaling (layer-l biases × a^l) keeps every "
        "region.",
        "", "## Claims", "",
    ]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    lines += ["", "The papers state these scalings in their proofs and appendices rather than as measured numbers; "
              "there is no table to compare with.", "", f"Paper: {PAPER}.",
              f"Computed in {seconds:.1f} s; data in `bias_weight_scale.csv`, figures `bias_weight_scale.png`, "
              "`bias_weight_scale_regions.png`.", ""]
    return "\n".join(lines)


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Check the scaling identities exactly; write ``bias_weight_scale.csv``, two PNG figures and ``summary.md``.

    Files are written atomically once everything is computed; if a claim fails the
    files are still written (``summary.md`` marks it FAIL) and then a
    ``ClaimNotReproducedError`` naming the failed claims is raised.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        3 architectures × 2 seeds (seconds); the full run has 6 architectures, 8 seeds
        and more scale factors.

    Returns
    -------
    dict
        ``rows`` (the CSV's rows), ``claims``, ``zero_vs_unbounded`` (pairs of counts),
        ``files``, ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:      # doctest: +SKIP
    ...     res = run(d, quick=True)                   # about 5 s; the tests run it
    >>> all(res["claims"].values())  # doctest: +SKIP
    True
    """
    out = hr.check_out_dir(out_dir)
    cfg = _config(quick)
    t0 = time.perf_counter()
    rows, checks = _rows(cfg)
    claims = _claims(checks)
    curves = _png_curves(rows, cfg)
    pictures = _png_pictures(cfg)
    seconds = time.perf_counter() - t0
    files = hr.write_files(out, {
        "bias_weight_scale.csv": hr.csv_text(rows, COLUMNS).encode(),
        "bias_weight_scale.png": curves,
        "bias_weight_scale_regions.png": pictures,
        "summary.md": _summary(rows, checks, claims, cfg, seconds).encode(),
    })
    hr.raise_failed("bias-weight-scale", claims, out)
    return {"experiment": "bias-weight-scale", "rows": rows, "claims": claims,
            "zero_vs_unbounded": [list(p) for p in checks["zero_vs_unbounded"]],
            "all_weights_plane_ratio": [list(c) for c in checks["all_plane_change"]],
            "files": files, "seconds": seconds, "quick": quick}
