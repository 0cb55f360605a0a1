"""Sections of ``analyze`` that need no solver: architecture, bounds, segments, planes.

Each takes a :class:`~._context.Context` and returns a :class:`~._context.Part`.
Region counts come from the exact engines of :mod:`reluscope.regions`
(Hanin & Rolnick 2019, App. A): along segments between consecutive data points
(:func:`~reluscope.regions.on_segments`, one batched call) and on planes through
three data points (:func:`~reluscope.regions.on_plane`).
"""

from __future__ import annotations

import time

import numpy as np

from .._errors import ReluscopeError
from ._context import Context, Part
from ._figures import plane_figure, segment_figure
from ._geometry import plane_box_polygon, plane_frame

__all__ = ["architecture", "bounds_section", "segments", "planes", "activation_vs_linear"]


def architecture(ctx: Context) -> Part:
    """Layers, sizes, domain, data; accuracy when the data has labels."""
    net, part = ctx.net, Part()
    rows = []
    for i, layer in enumerate(net.layers):
        kind = "output" if i == net.depth - 1 else f"hidden {i + 1}"
        rank = int(np.linalg.matrix_rank(layer.weight))
        rows.append(
            (
                kind,
                f"{layer.n_in} → {layer.n_out}",
                repr(layer.activation),
                int(layer.weight.size + layer.bias.size),
                rank,
            )
        )
    part.table(("layer", "affine map", "activation", "parameters", "rank(W)"), rows)
    x = ctx.points.x
    inside = ctx.domain.contains(x)
    lo, hi = float(ctx.domain.lo.min()), float(ctx.domain.hi.max())
    data = {
        "widths": list(net.widths),
        "depth": net.depth,
        "n_units": net.n_units,
        "n_params": net.n_params,
        "activations": [repr(a) for a in net.activations],
        "domain": {"lo": lo, "hi": hi, "dim": ctx.domain.dim},
        "data_source": ctx.points.source,
        "n_points": int(x.shape[0]),
        "n_points_in_domain": int(inside.sum()),
    }
    arrow = " → ".join(str(w) for w in net.widths)
    part.text(
        f"Network {arrow}: {net.depth} affine layers, {net.n_units} hidden units, "
        f"{net.n_params:,} parameters."
    )
    part.text(
        f"Domain: the box [{lo:g}, {hi:g}]^{ctx.domain.dim}. Data: {ctx.points.source}; "
        f"{int(inside.sum())} of {x.shape[0]} points lie in the domain."
    )
    summary = f"{arrow} ({net.n_units} units, {net.n_params:,} parameters); {x.shape[0]} data points"
    if ctx.points.y is not None and net.n_out > 1:
        acc = float(np.mean(net(x).argmax(axis=1) == ctx.points.y))
        data["accuracy"] = acc
        part.text(f"Accuracy on these points (arg-max of the outputs vs the labels): {100 * acc:.2f} %.")
        summary += f", accuracy {100 * acc:.1f} %"
    if net.metadata.get("test_accuracy") is not None:
        data["metadata_test_accuracy"] = net.metadata["test_accuracy"]
    part.summary = summary
    part.data = data
    return part


def bounds_section(ctx: Context) -> Part:
    """Every bound of :func:`reluscope.bounds.table` for this architecture (and this network's ranks)."""
    from .. import bounds

    net, part = ctx.net, Part()
    try:
        tbl = bounds.table(net=net)
    except ReluscopeError as exc:  # e.g. non-ReLU hidden layers: no rank refinement
        part.text(f"Bounds for the architecture only ({exc}).")
        tbl = bounds.table(net.n_in, net.hidden_widths)
    ctx.results["bounds"] = tbl
    part.table(
        ("bound", "kind", "value", "log10", "source", "note"),
        [
            (
                r.name,
                r.kind,
                r.formatted(),
                None if r.log10 is None else round(r.log10, 3),
                r.citation,
                r.note,
            )
            for r in tbl.rows
        ],
        caption=f"Bounds on the number of linear regions on all of R^{tbl.n0}, widths {list(tbl.widths)}",
    )
    part.text(
        "Upper bounds hold for every network of this architecture on all of the input space; lower "
        "bounds say that some network of the architecture reaches them; the Hanin-Rolnick value bounds "
        "the expected count at random initialisation, not that of a trained network."
    )
    part.data = tbl.to_dict()
    best = tbl.rows[0]
    part.summary = f"{best.name} ≤ {best.formatted()} linear regions; 2^N = {tbl['trivial']:.4g}"
    return part


def segments(ctx: Context, max_points: int = 201) -> Part:
    """Exact regions along the segments between consecutive data points (one batched call)."""
    from ..regions import on_segments

    part = Part()
    x = ctx.points.x[:max_points]
    t0 = time.perf_counter()
    batch = on_segments(ctx.net, x[:-1], x[1:])
    secs = time.perf_counter() - t0
    act = batch.n_activation_regions.astype(np.int64)
    lin = np.asarray(batch.n_linear_regions, dtype=np.int64)
    length = batch.lengths
    ok = length > 0
    dens = act[ok] / length[ok]
    total_density = float(act[ok].sum() / length[ok].sum()) if ok.any() else float("nan")
    rows = [
        ("mean", float(act.mean()), float(lin.mean())),
        ("median", float(np.median(act)), float(np.median(lin))),
        ("min", int(act.min()), int(lin.min())),
        ("max", int(act.max()), int(lin.max())),
        ("total over all segments", int(act.sum()), int(lin.sum())),
    ]
    part.table(
        ("per segment", "activation regions", "linear regions"),
        rows,
        caption=f"{len(act)} segments between consecutive data points",
    )
    data = {
        "n_segments": len(act),
        "seconds_engine": secs,
        "mean_activation_regions": float(act.mean()),
        "mean_linear_regions": float(lin.mean()),
        "density_per_unit_length": total_density,
        "mean_segment_density": float(dens.mean()) if dens.size else None,
        "mean_length": float(length.mean()),
        "activation_regions": act,
        "linear_regions": lin,
        "lengths": length,
    }
    same = None
    y = ctx.points.y
    if y is not None:
        yy = y[: x.shape[0]]
        same = yy[:-1] == yy[1:]
        srows = []
        for name, mask in (("same label", same), ("different labels", ~same)):
            if mask.any():
                d = act[mask].sum() / max(length[mask].sum(), 1e-300)
                srows.append(
                    (name, int(mask.sum()), float(act[mask].mean()), float(length[mask].mean()), float(d))
                )
                data[f"density_{name.replace(' ', '_')}"] = float(d)
        part.table(
            ("end points", "segments", "mean regions", "mean length", "regions per unit length"), srows
        )
    part.text(
        f"Each segment joins two consecutive data points; its pieces are computed exactly by splitting at "
        f"every unit's breakpoint, layer by layer, for all {len(act)} segments at once ({secs:.3f} s). "
        f"Density = activation regions per unit of Euclidean length: {total_density:.4g} overall."
    )
    part.figure(
        "segments",
        "Regions crossed by each segment (histogram) and against its length; the dashed "
        "line is the overall density.",
        segment_figure(act, lin, length, same),
    )
    ctx.results["segments"] = {"activation": int(act.sum()), "linear": int(lin.sum()), "n": len(act)}
    part.data = data
    part.summary = (
        f"{len(act)} segments: {act.mean():.2f} activation / {lin.mean():.2f} linear regions each, "
        f"{total_density:.3g} per unit length"
    )
    return part


def _triples(n: int, labels: np.ndarray | None, k: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """``k`` disjoint triples of point indices, with three different labels when labels are known."""
    order = np.random.default_rng(seed).permutation(n)
    out: list[tuple[int, int, int]] = []
    used: set[int] = set()
    for _ in range(k):
        pick: list[int] = []
        for i in order:
            if i in used or (labels is not None and any(labels[i] == labels[j] for j in pick)):
                continue
            pick.append(int(i))
            if len(pick) == 3:
                break
        if len(pick) < 3:
            break
        used.update(pick)
        out.append((pick[0], pick[1], pick[2]))
    return out


def planes(ctx: Context, n_planes: int = 3, budget: float = 20.0) -> Part:
    """Exact regions on planes through three data points: a view square, its part in the domain, all of it."""
    from ..regions import on_plane

    part, net = Part(), ctx.net
    x, y = ctx.points.x, ctx.points.y
    triples = _triples(x.shape[0], y, n_planes)
    t_start = time.perf_counter()
    rows, records = [], []
    for k, (i, j, m) in enumerate(triples):
        if k > 0 and time.perf_counter() - t_start > budget:
            part.status = "partial"
            part.text(f"Stopped after {k} planes: the section's {budget:.0f} s budget was used.")
            break
        t0 = time.perf_counter()
        origin, u, v, coords = plane_frame(x[i], x[j], x[m])
        h = 1.35 * float(np.abs(coords).max())
        view = (-h, h, -h, h)
        res = on_plane(net, origin, u, v, bounds=view)
        poly = plane_box_polygon(origin, u, v, ctx.domain.lo, ctx.domain.hi, view)
        dom = on_plane(net, origin, u, v, polygon=poly) if len(poly) >= 3 else None
        whole = on_plane(net, origin, u, v) if time.perf_counter() - t_start < budget else None
        labels = None if y is None else [int(y[i]), int(y[j]), int(y[m])]
        rec = {
            "points": [i, j, m],
            "labels": labels,
            "view": list(view),
            "view_activation_regions": res.n_activation_regions,
            "view_linear_regions": res.n_linear_regions,
            "domain_activation_regions": None if dom is None else dom.n_activation_regions,
            "domain_linear_regions": None if dom is None else dom.n_linear_regions,
            "domain_area": None if dom is None else float(np.sum(dom.areas)),
            "whole_plane_regions": None if whole is None else whole.n_activation_regions,
            "whole_plane_bounded": None if whole is None else int(whole.bounded.sum()),
        }
        title = f"Plane {k + 1} through data points {i}, {j}, {m}" + (
            "" if labels is None else f" (labels {labels})"
        )
        png = plane_figure(res, poly, coords, labels, title)
        rec["seconds"] = time.perf_counter() - t0
        part.figure(
            f"plane-{k + 1}",
            f"{title}. Dashed outline: the part of the view inside the domain. "
            "Coordinates are Euclidean in the plane, centred at the three points' centroid.",
            png,
        )
        records.append(rec)
        rows.append(
            (
                k + 1,
                "/".join(map(str, labels)) if labels else f"{i}/{j}/{m}",
                rec["view_activation_regions"],
                rec["view_linear_regions"],
                rec["domain_activation_regions"],
                rec["domain_linear_regions"],
                rec["whole_plane_regions"],
                rec["whole_plane_bounded"],
                round(rec["seconds"], 2),
            )
        )
    part.table(
        (
            "plane",
            "labels",
            "view: activation",
            "view: linear",
            "in domain: activation",
            "in domain: linear",
            "whole plane",
            "whole plane: bounded",
            "seconds",
        ),
        rows,
    )
    part.text(
        "Each plane passes through three data points (different labels when labels are known). 'view' is the "
        "square shown; 'in domain' is the part of it inside the input domain (a convex polygon, counted "
        "exactly); 'whole plane' counts every region of the unbounded plane, exactly, in homogeneous "
        "coordinates."
    )
    ctx.results["planes"] = records
    part.data = {"planes": records}
    if records:
        part.summary = (
            f"{len(records)} planes: "
            + ", ".join(f"{r['view_activation_regions']}" for r in records)
            + " regions in view"
        )
    else:
        part.status, part.summary = "skipped", "fewer than three usable data points"
    return part


def activation_vs_linear(ctx: Context) -> Part:
    """Activation regions against linear regions (neighbours with equal affine maps merged)."""
    part = Part()
    rows = []
    seg = ctx.results.get("segments")
    if seg:
        rows.append(
            (
                f"{seg['n']} segments (total)",
                seg["activation"],
                seg["linear"],
                seg["activation"] - seg["linear"],
            )
        )
    for k, rec in enumerate(ctx.results.get("planes", [])):
        rows.append(
            (
                f"plane {k + 1}, view",
                rec["view_activation_regions"],
                rec["view_linear_regions"],
                rec["view_activation_regions"] - rec["view_linear_regions"],
            )
        )
        if rec["domain_activation_regions"] is not None:
            rows.append(
                (
                    f"plane {k + 1}, in domain",
                    rec["domain_activation_regions"],
                    rec["domain_linear_regions"],
                    rec["domain_activation_regions"] - rec["domain_linear_regions"],
                )
            )
    if not rows:
        part.status, part.summary = "skipped", "no segment or plane results"
        return part
    part.table(("where", "activation regions", "linear regions", "merged"), rows)
    part.text(
        "An activation region has one activation pattern; a linear region is a maximal connected set on "
        "which the network is one affine map. Neighbouring activation regions with equal maps merge, so "
        "#linear ≤ #activation (Hanin & Rolnick 2019, Lemma 3); for generic trained weights they coincide."
    )
    merged = sum(r[3] for r in rows)
    part.data = {
        "rows": [{"where": r[0], "activation": r[1], "linear": r[2]} for r in rows],
        "merged": merged,
    }
    part.summary = (
        "activation = linear everywhere"
        if merged == 0
        else f"{merged} activation regions merged into neighbours with the same affine map"
    )
    return part
