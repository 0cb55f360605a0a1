"""``reluscope analyze`` (a report folder for one network) and ``reluscope repro`` (reproductions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .._atomic import atomic_path
from .._errors import ClaimNotReproducedError, InvalidParameterError
from ._common import load_model, model_argument

__all__ = ["commands"]


@click.command()
@model_argument(required=False)
@click.option(
    "--domain",
    metavar="box:LO,HI",
    default=None,
    help="Input domain [LO, HI]^n (default: the model's recorded domain, else box:0,1).",
)
@click.option(
    "--data",
    "data_path",
    metavar="FILE",
    default=None,
    help="Data points (.npy, .npz with x [and y], or .csv), one per row "
    "(default: scikit-learn's digits for 64 inputs, else random points of the domain).",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    metavar="DIR",
    default="reluscope-report",
    show_default=True,
    help="Report folder; replaced as a whole, only when the analysis succeeds.",
)
@click.option("--quick", is_flag=True, help="Smaller time budgets (about 30 s).")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
@click.pass_context
def analyze(
    ctx: click.Context,
    model: str | None,
    domain: str | None,
    data_path: str | None,
    out_dir: str,
    quick: bool,
    no_progress: bool,
) -> None:
    """Analyse MODEL and write a report folder: index.html (figures embedded), PNGs, results.json.

    Without MODEL, the bundled 64-16-16-10 digits network is analysed with
    scikit-learn's digits as data on the domain [0, 1]^64. The report holds the
    architecture, every bound on its number of regions, exact regions along segments
    between data points and on planes through three of them, activation vs linear
    regions, stable units and the lossless compression they allow (proven), and MILP
    region counts in the domain, with the time of each part. It finishes in under
    two minutes (each part has a time budget).
    """
    from .. import report

    net = load_model(model)
    meta_domain = net.metadata.get("domain")
    default = (
        tuple(meta_domain) if isinstance(meta_domain, (list, tuple)) and len(meta_domain) == 2 else (0.0, 1.0)
    )
    dom = report.parse_domain(domain, net.n_in, default=default)
    points = report.load_points(data_path, net.n_in) if data_path is not None else None
    out = report.check_output_dir(out_dir)
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    meta = {"model_file": model or "(bundled digits network)"}
    rep = report.analyze(net, dom, points, quick=quick, progress=not no_progress, strict=debug, meta=meta)
    report.write_report(rep, out)
    click.echo(report.text_summary(rep, out))


def _jsonable(obj: Any) -> Any:
    from ..report._model import jsonable

    return jsonable(obj)


@click.command()
@click.argument("name", required=False)
@click.option("--quick", is_flag=True, help="The CI-sized run (under a minute).")
@click.option(
    "-o", "--output", "out_dir", metavar="DIR", default=None, help="Output folder (default ./repro/NAME/)."
)
@click.option("--list", "list_", is_flag=True, help="List the experiments and exit.")
def repro(name: str | None, quick: bool, out_dir: str | None, list_: bool) -> None:
    """Reproduce the published experiment NAME: figures, CSV files, summary.md and results.json.

    Each experiment checks the paper's qualitative claims and fails if one does not hold.
    `reluscope repro --list` shows the names.
    """
    from .. import experiments

    if list_:
        for key in experiments.EXPERIMENTS:
            try:
                title = experiments.get(key).TITLE
            except ImportError as exc:
                title = f"(not available: {exc})"
            click.echo(f"{key:<28} {title}")
        return
    if name is None:
        raise InvalidParameterError("give an experiment NAME (see `reluscope repro --list`).")
    try:
        module = experiments.get(name)  # unknown names fail here, before anything is created
    except ImportError as exc:
        raise InvalidParameterError(f"experiment {name!r} is registered but not available: {exc}") from exc
    out = Path(out_dir) if out_dir is not None else Path("repro") / name
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"Output '{out}' exists and is not a folder; choose another -o DIR.")
    click.echo(f"{name}: {module.TITLE}" + (" (quick)" if quick else ""), err=True)
    try:
        result = experiments.run(name, out, quick=quick)
    except ClaimNotReproducedError as exc:  # the outputs are written: say which claim failed
        raise click.ClickException(str(exc)) from exc
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(_jsonable(result), indent=2, ensure_ascii=False) + "\n")
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    click.echo(f"wrote {out}/: {', '.join(files)}")
    summary = out / "summary.md"
    if summary.exists():
        lines = summary.read_text().splitlines()
        click.echo("\n".join(lines[:20]) + ("\n..." if len(lines) > 20 else ""))


commands = [analyze, repro]
