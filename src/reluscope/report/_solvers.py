"""Sections of ``analyze`` that call solvers, each under a time limit.

* stable units (:func:`reluscope.stability`) and lossless compression
  (:func:`reluscope.compress`, proven with :func:`reluscope.equivalent`;
  Serra, Kumar & Ramalingam 2020);
* region counts in the domain: exact MILP counting (:func:`reluscope.milp.count_regions`;
  Serra, Tjandraatmadja & Ramalingam 2018, §4), an approximate lower bound
  (``milp.approx_count``) and a weight-aware upper bound (``milp.weight_bound``),
  beside the width-only bounds and the patterns seen on the data.

A part of reluscope that is not installed makes its rows "not available".
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from typing import Any

import numpy as np

from .._errors import ReluscopeWarning, UnsupportedLayerError
from ._context import Context, Part
from ._figures import counts_figure

__all__ = ["stability_section", "milp_section", "call_with_limit"]


def call_with_limit(fn: Any, *args: Any, time_limit: float, **kwargs: Any) -> Any:
    """Call ``fn``, passing ``time_limit`` only if it accepts one; reluscope warnings are silenced.

    Examples
    --------
    >>> call_with_limit(lambda a, time_limit=None: (a, time_limit), 1, time_limit=2.0)
    (1, 2.0)
    >>> call_with_limit(lambda a: a, 1, time_limit=2.0)
    1
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if "time_limit" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs["time_limit"] = time_limit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReluscopeWarning)
        return fn(*args, **kwargs)


def stability_section(ctx: Context, budget: float = 25.0) -> Part:
    """Stable units on the domain, the compressed network, and the proof that it is equal."""
    part = Part()
    try:
        from ..compress import compress
        from ..stability import stability
    except ImportError as exc:
        part.status, part.summary = "not available", f"not available ({exc})"
        part.text(part.summary)
        return part
    net, dom = ctx.net, ctx.domain
    x = ctx.x_in_domain
    try:
        st = call_with_limit(stability, net, dom, data=x if len(x) else None, time_limit=budget / 2)
    except UnsupportedLayerError as exc:
        part.status, part.summary = "skipped", f"skipped: {exc}"
        part.text(part.summary)
        return part
    rows = []
    for i, c in enumerate(st.counts()):
        rows.append(
            (f"hidden {i + 1}", st.layer_sizes[i], c["stably_active"], c["stably_inactive"], c["unstable"])
        )
    part.table(
        ("layer", "units", "stably active", "stably inactive", "unstable"),
        rows,
        caption="Per hidden layer, on the whole domain",
    )
    n_act, n_inact = int(st.stably_active.sum()), int(st.stably_inactive.sum())
    undecided = int(np.sum(st.method == "undecided"))
    methods = {str(m): int(np.sum(st.method == m)) for m in np.unique(st.method)}
    part.text(
        f"A unit is stably inactive if its pre-activation is negative on the whole domain, stably active "
        f"if positive; both are proven (interval and linear bounds, LP, MILP), instability by witness "
        "points. "
        f"How each unit was settled: {methods}."
    )
    data: dict[str, Any] = {
        "stably_active": n_act,
        "stably_inactive": n_inact,
        "unstable": int(st.unstable.sum()),
        "undecided": undecided,
        "methods": methods,
        "per_layer": st.counts(),
        "n_milps": st.n_milps,
        "n_lps": st.n_lps,
    }
    if undecided:
        part.status = "partial"
        part.text(
            f"{undecided} units were not settled within the time limit and count as unstable (this keeps "
            "compression lossless)."
        )
    small, rep = call_with_limit(
        compress,
        net,
        dom,
        stability=st,
        verify=True,
        data=x if len(x) else None,
        time_limit=max(1.0, budget / 2),
    )
    v = rep.verification
    crow = [
        ("hidden units", rep.units_before, rep.units_after),
        ("affine layers", rep.layers_before, rep.layers_after),
        ("parameters", rep.params_before, rep.params_after),
        ("widths", " → ".join(map(str, rep.widths_before)), " → ".join(map(str, rep.widths_after))),
    ]
    part.table(("", "original", "compressed"), crow, caption="Lossless compression on the domain")
    diff_data = float(np.max(np.abs(net(ctx.points.x) - small(ctx.points.x)))) if len(ctx.points.x) else None
    data.update(
        {
            "units_before": rep.units_before,
            "units_after": rep.units_after,
            "params_before": rep.params_before,
            "params_after": rep.params_after,
            "widths_after": list(rep.widths_after),
            "reasons": rep.reasons(),
            "max_abs_diff_on_data": diff_data,
        }
    )
    if v is not None:
        data.update({"proven_max_abs_diff": v.max_abs_diff, "verification_exact": v.exact, "equal": v.equal})
        proof = (
            f"proven equal on the whole domain: max |f - g| ≤ {v.max_abs_diff:.3g}"
            if v.equal
            else f"NOT proven equal: max |f - g| ≤ {v.max_abs_diff:.3g} (attained {v.attained:.3g})"
        )
        if not v.exact:
            part.status = "partial"
    else:
        proof = "not verified"
    part.text(
        f"compress removed {rep.units_before - rep.units_after} of {rep.units_before} hidden units "
        f"({100 * rep.compression:.1f} %; reasons: {rep.reasons() or 'none'}); {proof}. "
        f"On the data points the outputs differ by at most {diff_data:.3g}."
    )
    part.data = data
    part.summary = (
        f"{n_act} stably active, {n_inact} stably inactive of {st.n_units} units; "
        f"compress {rep.units_before} → {rep.units_after} units, {proof.split(':')[0]}"
    )
    return part


def _count_row(label: str, value: Any, kind: str, seconds: float | None, note: str) -> tuple:
    return (label, value, kind, None if seconds is None else round(seconds, 2), note)


def _log10(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return math.log10(int(v)) if isinstance(v, int) and v > 0 else None
    return math.log10(f) if f > 0 and math.isfinite(f) else None


def milp_section(ctx: Context, budget: float = 40.0) -> Part:
    """Region counts in the domain: MILP exact/partial count, approximate and weight-aware bounds."""
    part = Part()
    net, dom = ctx.net, ctx.domain
    rows: list[tuple] = []
    bars: list[tuple[str, float | None, str]] = []
    data: dict[str, Any] = {}
    x = ctx.x_in_domain
    if len(x):
        n_pat = int(np.unique(net.pattern(x), axis=0).shape[0])
        rows.append(
            _count_row(
                "distinct patterns at the data points",
                n_pat,
                "lower bound",
                None,
                f"{len(x)} points in the domain",
            )
        )
        bars.append(("patterns on data", _log10(n_pat), "lower"))
        data["data_patterns"] = n_pat
    try:
        from .. import milp
    except ImportError as exc:  # pragma: no cover - milp is part of reluscope
        milp = None
        part.text(f"reluscope.milp could not be imported: {exc}")
    statuses = []
    t_count, t_approx, t_weight = 0.65 * budget, 0.3 * budget, 0.05 * budget
    fn = getattr(milp, "count_regions", None)
    if fn is None:
        rows.append(_count_row("MILP count (milp.count_regions)", None, "not available", None, ""))
        statuses.append("not available")
    else:
        t0 = time.perf_counter()
        rc = call_with_limit(fn, net, dom, time_limit=t_count)
        secs = time.perf_counter() - t0
        exact = getattr(rc, "status", "exact") == "exact"
        kind = "exact" if exact else "lower bound"
        rows.append(
            _count_row(
                "MILP count of activation regions in the domain",
                int(rc.count),
                kind,
                secs,
                f"eps = {rc.eps:g}; {rc.n_binaries} binaries, {rc.n_stable} stable units"
                + ("" if exact else f"; stopped at the {t_count:.0f} s time limit"),
            )
        )
        bars.append(("MILP count", _log10(rc.count), "exact" if exact else "lower"))
        data["milp_count"] = {"count": int(rc.count), "status": rc.status, "seconds": secs, "eps": rc.eps}
        statuses.append("ok" if exact else "partial")
    fn = getattr(milp, "approx_count", None)
    if fn is None:
        rows.append(
            _count_row("approximate lower bound (milp.approx_count)", None, "not available", None, "")
        )
        statuses.append("not available")
    else:
        t0 = time.perf_counter()
        ap = call_with_limit(fn, net, dom, seed=0, time_limit=t_approx)
        secs = time.perf_counter() - t0
        rows.append(
            _count_row(
                "MIPBound lower bound (milp.approx_count)",
                int(ap.bound),
                f"lower bound w.p. {ap.confidence:g}",
                secs,
                f"{ap.level} parity constraints, {ap.trials} trials each; {ap.n_witnessed} regions "
                f"witnessed (certain); {ap.status}",
            )
        )
        bars.append(("approx_count", _log10(ap.bound), "estimate"))
        data["approx_count"] = {
            "bound": int(ap.bound),
            "confidence": ap.confidence,
            "n_witnessed": ap.n_witnessed,
            "level": ap.level,
            "status": ap.status,
            "seconds": secs,
        }
    fn = getattr(milp, "weight_bound", None)
    if fn is None:
        rows.append(
            _count_row("weight-aware upper bound (milp.weight_bound)", None, "not available", None, "")
        )
        statuses.append("not available")
    else:
        t0 = time.perf_counter()
        wb = call_with_limit(fn, net, dom, time_limit=t_weight)
        secs = time.perf_counter() - t0
        rows.append(
            _count_row(
                "weight-aware upper bound (milp.weight_bound)",
                int(wb.bound),
                "upper bound",
                secs,
                f"units that may switch per layer: {list(wb.n_unstable)}",
            )
        )
        bars.append(("weight_bound", _log10(wb.bound), "upper"))
        data["weight_bound"] = {"bound": int(wb.bound), "n_unstable": list(wb.n_unstable), "seconds": secs}
    tbl = ctx.results.get("bounds")
    if tbl is not None:
        for r in tbl.rows:
            if r.kind == "upper":
                rows.append(_count_row(r.name, r.formatted(), "upper bound (all of R^n)", None, r.citation))
                bars.append((r.name, r.log10, "upper"))
    part.table(("quantity", "value", "kind", "seconds", "note"), rows)
    part.text(
        "The MILP of Serra, Tjandraatmadja & Ramalingam (2018) encodes each unit's on/off state as a binary; "
        "its feasible binary vectors with a margin eps are the full-dimensional activation regions in the "
        "domain, counted by SCIP. A count stopped at its time limit is a lower bound. Width-only bounds hold "
        "on all of R^n for every network of the architecture."
    )
    if bars:
        part.figure(
            "counts",
            "Region counts in the domain and bounds (log10). Green: exact; blue: lower bound; "
            "red: upper bound; purple: estimate.",
            counts_figure(bars),
        )
    part.data = data
    if "partial" in statuses:
        part.status = "partial"
    elif statuses and all(s == "not available" for s in statuses):
        part.status = "not available"
    mc = data.get("milp_count")
    if mc:
        part.summary = (
            f"{'exactly ' if mc['status'] == 'exact' else '≥ '}{mc['count']:,} activation regions "
            f"in the domain (MILP, {mc['seconds']:.1f} s)"
        )
    else:
        part.summary = "MILP counting not available" + (
            f"; {data['data_patterns']} patterns on the data" if "data_patterns" in data else ""
        )
    return part
