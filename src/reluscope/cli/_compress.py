"""``reluscope stable`` and ``reluscope compress``: stable units and lossless compression.

Both are thin layers over :func:`reluscope.stability` and :func:`reluscope.compress`.
The domain is ``--box LO HI`` (the cube ``[LO, HI]^n``), or the bounding box of
``--data`` (widened by ``--margin``); with both, the box is the domain and the data
are witnesses. Any model format is read (``.npz``, ``.onnx``, ``.pt``) and written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from .._errors import DomainError, InvalidParameterError
from ._common import load_model, model_argument

__all__ = ["commands"]

_METHODS = ("auto", "interval", "linear", "lp", "milp")


def _domain_options(f: Any) -> Any:
    f = click.option("--margin", type=float, default=0.0, show_default=True,
                     help="Widen the box of --data by this much on every side.")(f)
    f = click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="Sample inputs (.npy, .npz or .csv): witnesses, and the domain when --box is not given.")(f)
    f = click.option("--box", nargs=2, type=float, default=None, metavar="LO HI",
                     help="The domain [LO, HI]^n (e.g. --box 0 1 for images).")(f)
    return f


def _domain_and_data(net: Any, box: tuple[float, float] | None, data_path: str | None, margin: float
                     ) -> tuple[Any, np.ndarray | None, str]:
    """The domain, the witness points and a description of the domain."""
    from ..domains import Box
    from ..report import load_points

    x = load_points(data_path, net.n_in).x if data_path is not None else None
    if box is not None:
        lo, hi = box
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise InvalidParameterError(f"--box bounds must be finite numbers; got {lo} {hi}.")
        if not lo < hi:
            raise DomainError(f"--box needs LO < HI; got LO = {lo:g}, HI = {hi:g}.")
        return Box(lo, hi, dim=net.n_in), x, f"[{lo:g}, {hi:g}]^{net.n_in}"
    if x is not None:
        if not (np.isfinite(margin) and margin >= 0):
            raise InvalidParameterError(f"--margin must be a finite number >= 0; got {margin}.")
        return Box.of_data(x, margin), x, f"the box of {x.shape[0]} data points (margin {margin:g})"
    raise DomainError(
        "a bounded input domain is needed (stability is proven by bounds, which are infinite on "
        "an unbounded set): give --box LO HI, or --data FILE to use the box of the data."
    )


def _stability_rows(res: Any) -> list[tuple[str, ...]]:
    rows = []
    for i, (st, how) in enumerate(zip(res.per_layer("status"), res.per_layer("method"), strict=True)):
        settled = ", ".join(f"{m} {int(np.sum(how == m))}" for m in
                            ("interval", "linear", "data", "lp", "milp", "undecided") if np.any(how == m))
        rows.append((str(i), str(st.size), str(int(np.sum(st == "stably_active"))),
                     str(int(np.sum(st == "stably_inactive"))), str(int(np.sum(st == "unstable"))), settled))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


@click.command()
@model_argument()
@_domain_options
@click.option("--method", type=click.Choice(_METHODS), default="auto", show_default=True,
              help="auto: interval -> linear -> witnesses -> LP -> MILP; the others stop early.")
@click.option("--eps", type=float, default=1e-6, show_default=True,
              help="A bound must clear the breakpoint by this margin.")
@click.option("--time-limit", type=float, default=None, help="Seconds; units still open are 'undecided'.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (per-unit status, bounds, method).")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def stable(model: str, box: tuple[float, float] | None, data_path: str | None, margin: float, method: str,
           eps: float, time_limit: float | None, as_json: bool, no_progress: bool) -> None:
    """Which hidden units of MODEL are stably active, stably inactive or unstable on a domain.

    Stability is proven by interval and linear bounds, LPs and MILPs (their dual bounds);
    instability by witness points where the unit is seen on and off.

    Example: reluscope stable model.onnx --box 0 1
    """
    from ..stability import stability

    net = load_model(model)
    dom, x, desc = _domain_and_data(net, box, data_path, margin)
    res = stability(net, dom, method, data=x, eps=eps, time_limit=time_limit,
                    progress=not no_progress and not as_json)
    if as_json:
        click.echo(json.dumps({
            "model": model, "domain": desc, "method": method, "layer_sizes": list(res.layer_sizes),
            "status": res.status.tolist(), "settled_by": res.method.tolist(),
            "lower": res.lower.tolist(), "upper": res.upper.tolist(),
            "n_lps": res.n_lps, "n_milps": res.n_milps, "times": res.times,
            "settled_without_milp": res.settled_without_milp,
        }, indent=2))
        return
    click.echo(f"{Path(model).name} on {desc} (method {method}): {res.n_units} hidden units")
    click.echo(_table(("layer", "units", "stably active", "stably inactive", "unstable", "settled by"),
                      _stability_rows(res)))
    click.echo(f"{res.n_lps} LPs, {res.n_milps} MILPs, {100 * res.settled_without_milp:.0f} % settled "
               f"without a MILP, {sum(res.times.values()):.2f} s")


@click.command("compress")
@model_argument()
@_domain_options
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the compressed network (.npz, .onnx or .pt).")
@click.option("--no-verify", is_flag=True, help="Skip the MILP proof that the result is equal.")
@click.option("--fold", type=click.Choice(["if_smaller", "always", "never"]), default="if_smaller",
              show_default=True, help="Fold layers whose units are all stably active.")
@click.option("--time-limit", type=float, default=None, help="Seconds for stability and the proof.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def compress_cmd(model: str, box: tuple[float, float] | None, data_path: str | None, margin: float, out: str,
                 no_verify: bool, fold: str, time_limit: float | None, as_json: bool, no_progress: bool) -> None:
    """Write a smaller network equal to MODEL on the domain, and prove it equal.

    Removes stably inactive units, merges stably active units that are affine
    combinations of others, folds all-active layers, collapses dead layers; then
    computes max |f - g| over the domain exactly (MILP). The output file is written
    only once the proof succeeded (atomically).

    Example: reluscope compress model.onnx --box 0 1 -o small.onnx
    """
    from ..compress import compress
    from ..io import save

    net = load_model(model)
    dom, x, desc = _domain_and_data(net, box, data_path, margin)
    show = not no_progress and not as_json
    if show:
        click.echo(f"stability of {net.n_units} units on {desc} ...", err=True)
    small, rep = compress(net, dom, verify=not no_verify, data=x, fold=fold, time_limit=time_limit,
                          progress=show)
    save(small, out)
    if as_json:
        v = rep.verification
        click.echo(json.dumps({
            "model": model, "output": out, "domain": desc,
            "widths_before": list(rep.widths_before), "widths_after": list(rep.widths_after),
            "units_before": rep.units_before, "units_after": rep.units_after,
            "params_before": rep.params_before, "params_after": rep.params_after,
            "removed_per_layer": list(rep.removed_per_layer), "reasons": rep.reasons(),
            "removed": [{"layer": r.layer, "unit": r.unit, "reason": r.reason} for r in rep.removed],
            "times": rep.times,
            "verification": None if v is None else {
                "max_abs_diff": v.max_abs_diff, "exact": bool(v.exact), "equal": bool(v.equal),
                "n_lps": v.n_lps, "n_milps": v.n_milps},
        }, indent=2))
        return
    rows = [
        ("widths", " ".join(map(str, rep.widths_before)), " ".join(map(str, rep.widths_after))),
        ("hidden units", str(rep.units_before), str(rep.units_after)),
        ("layers", str(rep.layers_before), str(rep.layers_after)),
        ("parameters", str(rep.params_before), str(rep.params_after)),
    ]
    click.echo(f"{Path(model).name} on {desc} -> {out}")
    click.echo(_table(("", "before", "after"), rows))
    click.echo("removed: " + (", ".join(f"{k} {n}" for k, n in rep.reasons().items()) or "nothing")
               + "  (per layer: " + ", ".join(map(str, rep.removed_per_layer)) + ")")
    v = rep.verification
    proof = ("not verified (--no-verify)" if v is None else
             f"proven equal: max |f - g| <= {v.max_abs_diff:.3g} on the domain "
             f"({v.n_lps} LPs, {v.n_milps} MILPs)")
    click.echo(proof)
    click.echo("time: " + ", ".join(f"{k} {t:.2f} s" for k, t in rep.times.items()))
    sys.stdout.flush()


commands = [stable, compress_cmd]
