"""``reluscope regions``: exact regions along a segment or on a plane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from .._atomic import atomic_path
from .._errors import InvalidParameterError, ShapeError
from ._common import load_model

__all__ = ["commands", "parse_point"]


def _load_data(path: str | None) -> np.ndarray | None:
    if path is None:
        return None
    p = Path(path)
    if p.suffix == ".npy":
        return np.load(p, allow_pickle=False)
    if p.suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            return z[z.files[0]]
    return np.loadtxt(p, delimiter=",", ndmin=2)


def parse_point(text: str, n_in: int, data: np.ndarray | None) -> np.ndarray:
    """A point given as ``x1,x2,...`` or ``data:ROW`` (a row of ``--data``).

    Examples
    --------
    >>> parse_point("1,2.5", 2, None)
    array([1. , 2.5])
    """
    if text.startswith("data:"):
        if data is None:
            raise InvalidParameterError(f"Point {text!r} refers to --data, but no --data FILE was given.")
        try:
            row = int(text[5:])
            return np.asarray(data[row], dtype=np.float64).ravel()
        except (ValueError, IndexError) as exc:
            raise InvalidParameterError(
                f"Point {text!r}: expected data:ROW with 0 <= ROW < {len(data)}."
            ) from exc
    try:
        pt = np.array([float(v) for v in text.split(",")])
    except ValueError as exc:
        raise InvalidParameterError(f"Point {text!r} must be comma-separated numbers or data:ROW.") from exc
    if pt.shape != (n_in,):
        raise ShapeError(f"Point {text!r} has {pt.size} coordinates; the model takes {n_in} inputs.")
    return pt


def _write_json(path: str, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))


@click.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False))
@click.option("--segment", nargs=2, metavar="A B", help="Regions along the segment from A to B.")
@click.option("--plane", nargs=3, metavar="P0 P1 P2",
              help="Regions on the plane through three points (P0 + s (P1-P0) + t (P2-P0)).")
@click.option("--bounds", metavar="S0,S1,T0,T1", help="Rectangle in plane coordinates (default 0,1,0,1 "
              "for --plane; the whole plane with --whole-plane).")
@click.option("--whole-plane", is_flag=True, help="Exact regions of the whole unbounded plane.")
@click.option("--include-output", is_flag=True, help="Let the output units' zero sets cut regions too.")
@click.option("--data", type=click.Path(dir_okay=False, exists=True),
              help="Points for data:ROW references (.npy, .npz or .csv).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG picture.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the counts as JSON.")
def regions(model, segment, plane, bounds, whole_plane, include_output, data, plot_path, json_path) -> None:
    """Exact activation and linear regions of MODEL along a segment or on a plane.

    Points are comma-separated coordinates or data:ROW. For a 2-input model with no
    --segment/--plane, the input plane itself is used. Without MODEL, the bundled
    digits network is analysed.
    """
    from .. import regions as rg

    net = load_model(model)
    pts = _load_data(data)
    if segment and (plane or whole_plane):
        raise InvalidParameterError("Give either --segment or --plane/--whole-plane, not both.")
    if segment:
        a, b = (parse_point(p, net.n_in, pts) for p in segment)
        res = rg.on_segment(net, a, b, include_output=include_output)
        summary = {
            "kind": "segment", "n_activation_regions": res.n_activation_regions,
            "n_linear_regions": res.n_linear_regions, "length": res.length, "density": res.density,
            "breakpoints": res.breakpoints.tolist(),
        }
        if plot_path:
            _plot_segment(net, res, plot_path)
    else:
        if plane:
            p0, p1, p2 = (parse_point(p, net.n_in, pts) for p in plane)
            origin, u, v = p0, p1 - p0, p2 - p0
        elif net.n_in == 2:
            origin, u, v = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])
        else:
            raise InvalidParameterError(
                f"The model takes {net.n_in} inputs: give --segment A B or --plane P0 P1 P2."
            )
        if whole_plane and bounds:
            raise InvalidParameterError("Give either --bounds or --whole-plane, not both.")
        box = None
        if not whole_plane:
            text = bounds or ("0,1,0,1" if plane else "-1,1,-1,1")
            try:
                box = tuple(float(x) for x in text.split(","))
            except ValueError as exc:
                raise InvalidParameterError(f"--bounds must be S0,S1,T0,T1; got {text!r}.") from exc
        res = rg.on_plane(net, origin, u, v, bounds=box, include_output=include_output, progress=True)
        summary = {"kind": "plane", **res.summary()}
        if plot_path:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(7, 7))
            res.plot(ax=ax, points=[[0, 0], [1, 0], [0, 1]] if plane else None)
            ax.set_title(f"{res.n_activation_regions} activation regions")
            with atomic_path(plot_path, suffix=".png") as tmp:
                fig.savefig(tmp, dpi=150, format="png")
            plt.close(fig)
    for key in ("n_activation_regions", "n_linear_regions"):
        click.echo(f"{key}: {summary[key]}")
    if json_path:
        _write_json(json_path, summary)


def _plot_segment(net, res, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.linspace(0, 1, 2000)
    t = np.union1d(t, res.edges)
    y = net(res.points(t))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(t, y)
    for e in res.breakpoints:
        ax.axvline(e, color="0.8", lw=0.5, zorder=0)
    ax.set_xlabel("t (segment parameter)")
    ax.set_title(f"{res.n_activation_regions} pieces ({res.n_linear_regions} linear)")
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


commands = [regions]
