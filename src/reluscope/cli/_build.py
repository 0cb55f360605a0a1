"""``reluscope build KIND [options] -o FILE`` and ``reluscope plot MODEL -o FILE.png``.

``build`` has one sub-command per builder of :mod:`reluscope.build`; each writes
the network with :func:`reluscope.io.save` (``.npz`` or ``.onnx``, atomically)
and prints its size next to the best known size. ``plot`` draws a network with
1 input (graph, kinks marked) or 2 inputs (image).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from .._errors import InvalidParameterError
from ..network import Network
from ._common import load_model, model_argument

__all__ = ["commands"]


# ---------------------------------------------------------------------- parsing helpers
def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError as exc:
        raise InvalidParameterError(f"'{name}' must be comma-separated numbers; got {text!r}.") from exc


def _points(text: str, name: str) -> list[list[float]]:
    """``"x,y;x,y;..."`` -> list of points."""
    pts = [_floats(p, name) for p in text.split(";") if p.strip()]
    if any(len(p) != 2 for p in pts):
        raise InvalidParameterError(f"'{name}' must be 'x,y;x,y;...' (two numbers per vertex); got {text!r}.")
    return pts


def _rows(text: str, name: str) -> list[list[float]]:
    return [_floats(r, name) for r in text.split(";") if r.strip()]


_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "cos": np.cos,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "square": np.square,
    "tanh": np.tanh,
    "runge": lambda x: 1.0 / (1.0 + 25.0 * x * x),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


def _save(net: Network, output: str) -> None:
    from ..io import save

    save(net, output)
    meta = net.metadata
    line = (
        f"wrote {output}: {meta.get('construction', 'network')}, {net.n_units} units in "
        f"{net.depth - 1} hidden layers (widths {net.widths})"
    )
    click.echo(line)
    if "best_known" in meta:
        click.echo(f"  best known: {meta['best_known']}")
    if "max_error" in meta:
        click.echo(f"  max error: {meta['max_error']:.6g}")


def _out_option(f: Callable) -> Callable:
    return click.option(
        "-o", "--output", required=True, type=click.Path(dir_okay=False),
        help="Output file (.npz or .onnx).",
    )(f)


def _bound_option(f: Callable) -> Callable:
    return click.option(
        "--bound", type=float, default=None,
        help="Inputs satisfy |x| <= BOUND (cheaper box cost model).",
    )(f)


@click.group()
def build() -> None:
    """Build a hand-constructed ReLU network and save it (see docs/constructions.md)."""


# ---------------------------------------------------------------------- 1-D
@build.command("interpolate")
@click.option("--xs", required=True, help="Knots, comma-separated, increasing.")
@click.option("--ys", required=True, help="Values at the knots, comma-separated.")
@click.option("--extrapolate", type=click.Choice(["linear", "constant"]), default="linear", show_default=True)
@_out_option
def _interpolate(xs: str, ys: str, extrapolate: str, output: str) -> None:
    """Continuous PWL function through points (one ReLU per segment)."""
    from ..build import interpolate

    _save(interpolate(_floats(xs, "xs"), _floats(ys, "ys"), extrapolate=extrapolate), output)


@build.command("approximate")
@click.option("--function", "fname", type=click.Choice(sorted(_FUNCTIONS)), required=True)
@click.option("--lo", type=float, required=True)
@click.option("--hi", type=float, required=True)
@click.option("--max-error", type=float, default=None, help="Target max error on the grid.")
@click.option("--pieces", type=int, default=None, help="Number of segments.")
@click.option("--n-grid", type=int, default=10001, show_default=True)
@_out_option
def _approximate(fname: str, lo: float, hi: float, max_error: float | None, pieces: int | None,
                 n_grid: int, output: str) -> None:
    """One-hidden-layer fit of a named function with adaptive knots."""
    from ..build import approximate

    res = approximate(_FUNCTIONS[fname], lo, hi, max_error=max_error, pieces=pieces, n_grid=n_grid)
    _save(res.network, output)
    click.echo(f"  uniform knots, same pieces: max error {res.uniform_error:.6g}")


# ---------------------------------------------------------------------- primitives
def _simple(name: str, doc: str, params: tuple[str, ...] = (), bound: bool = False) -> None:
    def run(output: str, **kw: Any) -> None:
        from .. import build as B

        fn = getattr(B, name.replace("-", "_"))
        _save(fn(**kw), output)

    run.__doc__ = doc
    cmd = run
    for p in reversed(params):
        cmd = click.option(f"--{p}", type=float, required=True)(cmd)
    if bound:
        cmd = _bound_option(cmd)
    cmd = _out_option(cmd)
    build.command(name)(cmd)


_simple("relu", "σ(x): 1 unit.")
_simple("abs", "|x|: 2 units.")
_simple("max2", "max(a, b): 3 units (2 with --bound).", bound=True)
_simple("min2", "min(a, b): 3 units (2 with --bound).", bound=True)
_simple("clip", "clip(x, a, b): 2 units.", ("a", "b"))
_simple("hat", "Triangle 0 at a, 1 at b, 0 at c: 3 units.", ("a", "b", "c"))
_simple("bucket", "Trapezoid rising on [a, b], falling on [c, d]: 4 units.", ("a", "b", "c", "d"))
_simple("step", "Steep step 1[x >= 0], linear on [0, eps): 2 units.", ("eps",))
_simple("leaky-relu", "LeakyReLU(alpha): 2 units.", ("alpha",))


# ---------------------------------------------------------------------- sorting
_METHODS = click.Choice(["best", "batcher", "bitonic", "odd_even_transposition", "bubble"])


@build.command("sort")
@click.option("--n", type=int, required=True, help="Number of inputs.")
@click.option("--method", type=_METHODS, default="best", show_default=True)
@click.option("--prefer", type=click.Choice(["size", "depth"]), default="size", show_default=True,
              help="For method=best: size- or depth-optimal comparator network.")
@_bound_option
@_out_option
def _sort(n: int, method: str, prefer: str, bound: float | None, output: str) -> None:
    """Sort n numbers with a compiled comparator network."""
    from ..build import sort

    net = sort(n, method=method, prefer=prefer, bound=bound)
    _save(net, output)
    c = net.metadata["cost"]
    click.echo(
        f"  comparators {c['comparators']}, depth {c['comparator_depth']}; units: plain {c['plain_units']}, "
        f"box {c['box_units']}, residual {c['residual_units']}"
    )


@build.command("median")
@click.option("--n", type=int, required=True)
@click.option("--method", type=_METHODS, default="best", show_default=True)
@_bound_option
@_out_option
def _median(n: int, method: str, bound: float | None, output: str) -> None:
    """Median of n numbers (pruned comparator network)."""
    from ..build import median

    _save(median(n, method=method, bound=bound), output)


@build.command("rank")
@click.option("--n", type=int, required=True)
@click.option("--k", type=int, required=True, help="0-based rank (0 = minimum).")
@click.option("--method", type=_METHODS, default="best", show_default=True)
@_bound_option
@_out_option
def _rank(n: int, k: int, method: str, bound: float | None, output: str) -> None:
    """k-th smallest of n numbers (pruned comparator network)."""
    from ..build import rank_k

    _save(rank_k(n, k, method=method, bound=bound), output)


for _name, _doc in (("maximum", "max of n numbers (balanced tree)."), ("minimum", "min of n numbers (balanced tree).")):

    def _tree_cmd(n: int, bound: float | None, output: str, _fn: str = _name) -> None:
        from .. import build as B

        _save(getattr(B, _fn)(n, bound=bound), output)

    _tree_cmd.__doc__ = _doc[0].upper() + _doc[1:]
    build.command(_name)(_out_option(_bound_option(click.option("--n", type=int, required=True)(_tree_cmd))))


# ---------------------------------------------------------------------- depth
@build.command("sawtooth")
@click.option("--levels", "L", type=int, required=True, help="Hidden layers L (2^L pieces).")
@_out_option
def _sawtooth(L: int, output: str) -> None:
    """Telgarsky's sawtooth f_L = 2|f_{L-1}| - 2 on [-2, 2]: 2L units."""
    from ..build import sawtooth

    _save(sawtooth(L), output)


@build.command("shallow-sawtooth")
@click.option("--levels", "L", type=int, required=True)
@_out_option
def _shallow_sawtooth(L: int, output: str) -> None:
    """The sawtooth with one hidden layer: 2^L units."""
    from ..build import shallow_sawtooth

    _save(shallow_sawtooth(L), output)


@build.command("square")
@click.option("--m", type=int, required=True, help="Hidden layers (error 2^(-2m-2)).")
@_bound_option
@_out_option
def _square(m: int, bound: float | None, output: str) -> None:
    """Yarotsky's x² on [0, 1] (or [-bound, bound])."""
    from ..build import square

    _save(square(m, bound=bound), output)


@build.command("multiply")
@click.option("--m", type=int, required=True)
@click.option("--bound", type=float, default=1.0, show_default=True, help="|x|, |y| <= BOUND.")
@_out_option
def _multiply(m: int, bound: float, output: str) -> None:
    """Yarotsky's product xy by polarisation."""
    from ..build import multiply

    _save(multiply(m, bound=bound), output)


# ---------------------------------------------------------------------- plane
@build.command("polygon")
@click.option("--vertices", required=True, help="'x,y;x,y;...'")
@click.option("--margin", type=float, default=0.05, show_default=True)
@_out_option
def _polygon(vertices: str, margin: float, output: str) -> None:
    """Indicator of a (possibly non-convex) polygon with an outward ramp."""
    from ..build import polygon

    _save(polygon(_points(vertices, "vertices"), margin=margin), output)


@build.command("shape")
@click.option("--polygon", "polys", multiple=True, required=True, help="'x,y;x,y;...' (repeatable).")
@click.option("--hole", "holes", multiple=True, help="'x,y;x,y;...' (repeatable).")
@click.option("--margin", type=float, default=0.05, show_default=True)
@_out_option
def _shape(polys: tuple[str, ...], holes: tuple[str, ...], margin: float, output: str) -> None:
    """Union of polygons minus holes."""
    from ..build import shape

    net = shape([_points(p, "polygon") for p in polys], holes=[_points(h, "hole") for h in holes], margin=margin)
    _save(net, output)


@build.command("lattice")
@click.option("--pieces", required=True, help="Affine pieces 'a1,...,an,c;...' (one row per piece).")
@click.option("--groups", required=True, help="Index groups '0,1;2,3' (max over groups of min).")
@_out_option
def _lattice(pieces: str, groups: str, output: str) -> None:
    """Lattice form: max over groups of min over affine pieces."""
    from ..build import lattice

    grp = [[int(v) for v in g] for g in _rows(groups, "groups")]
    _save(lattice(_rows(pieces, "pieces"), grp), output)


@build.command("logo")
@click.option("--margin", type=float, default=0.02, show_default=True)
@_out_option
def _logo(margin: float, output: str) -> None:
    """The logo example (several polygons, two non-convex, one hole) on [-1, 1]²."""
    from ..build import logo

    _save(logo(margin=margin), output)


# ---------------------------------------------------------------------- plot
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


@click.command()
@model_argument()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Image (.png, .pdf, .svg).")
@click.option("--lo", type=float, default=None, help="1-D: left end (default: the model's domain, or -1).")
@click.option("--hi", type=float, default=None, help="1-D: right end (default: the model's domain, or 1).")
@click.option("--bounds", default=None, help="2-D: 'xmin,xmax,ymin,ymax' (default: the model's domain).")
@click.option("--resolution", type=int, default=400, show_default=True, help="2-D: pixels per side.")
@click.option("--index", "output_index", type=int, default=0, show_default=True, help="Which output.")
def plot(model: str, output: str, lo: float | None, hi: float | None, bounds: str | None,
         resolution: int, output_index: int) -> None:
    """Draw MODEL: graph with kinks marked (1 input) or image (2 inputs)."""
    from .._atomic import atomic_path
    from ..io._optional import require
    from ..plotting import plot_function_1d, plot_image_2d

    suffix = Path(output).suffix.lower()
    if suffix not in _PLOT_SUFFIXES:
        raise InvalidParameterError(f"'-o' must end in one of {', '.join(_PLOT_SUFFIXES)}; got {output!r}.")
    net = load_model(model)
    domain = net.metadata.get("domain") or [[-1.0, 1.0]] * net.n_in
    Figure = require("matplotlib.figure", "plot", "reluscope plot").Figure
    fig = Figure(figsize=(6, 4) if net.n_in == 1 else (5, 5))
    ax = fig.subplots()
    if net.n_in == 1:
        a = domain[0][0] if lo is None else lo
        b = domain[0][1] if hi is None else hi
        plot_function_1d(net, a, b, ax=ax, output=output_index, color="k", linewidth=1.2)
        ax.set_xlabel("x")
        ax.set_ylabel("net(x)")
    elif net.n_in == 2:
        box = _floats(bounds, "bounds") if bounds else [domain[0][0], domain[0][1], domain[1][0], domain[1][1]]
        im = plot_image_2d(net, box, ax=ax, resolution=resolution, output=output_index, cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set_aspect("equal")
    else:
        raise InvalidParameterError(f"'plot' draws networks with 1 or 2 inputs; {model!r} has {net.n_in}.")
    ax.set_title(str(net.metadata.get("construction", Path(model).name)))
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=120, bbox_inches="tight")
    click.echo(f"wrote {output}")


commands = [build, plot]
