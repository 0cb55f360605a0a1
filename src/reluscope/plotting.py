"""Plots of networks with 1-D or 2-D input (matplotlib, imported only when a plot is made).

Each function takes ``ax=None`` (then the current axes of ``matplotlib.pyplot``),
passes ``**kwargs`` on to the matplotlib call that draws the main artist, and
returns what it drew.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import InvalidParameterError, ShapeError
from .domains import Box
from .network import Network

__all__ = ["plot_function_1d", "plot_image_2d"]


def _default_ax(ax: Any) -> Any:
    if ax is not None:
        return ax
    from .io._optional import require

    return require("matplotlib.pyplot", "plot", "plotting without an 'ax'").gca()


def _check_output(net: Network, output: int) -> int:
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= output < net.n_out:
        raise InvalidParameterError(f"'output' must be an integer in [0, {net.n_out}); got {output!r}.")
    return int(output)


def _pieces_1d(net: Network, lo: float, hi: float, output: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact breakpoints of ``net`` on ``[lo, hi]`` (ends included) and the kinks of ``output``.

    Uses the 1-D region engine :func:`reluscope.regions.on_segment`; a kink is a
    breakpoint where the slope of the chosen output changes.
    """
    from .regions import on_segment

    r = on_segment(net, [lo], [hi])
    x = lo + r.edges * (hi - lo)
    slope = r.affine_x()[0][:, output]
    scale = max(float(np.max(np.abs(slope))), 1.0)
    change = np.abs(np.diff(slope)) > 1e-9 * scale
    return x, x[1:-1][change]


def plot_function_1d(
    net: Network,
    lo: float,
    hi: float,
    ax: Any = None,
    *,
    output: int = 0,
    kinks: bool = True,
    kink_style: dict[str, Any] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Graph of a network ``R -> R^m`` on ``[lo, hi]``, with its kinks marked.

    The graph is drawn through the exact breakpoints (where a unit changes
    piece, from :func:`reluscope.regions.on_segment`), so it is exact at any
    zoom; kinks are the breakpoints where the slope of the output changes.

    Parameters
    ----------
    net : Network
        One input.
    lo, hi : float
        The interval, ``lo < hi``.
    ax : matplotlib Axes, optional
    output : int
        Which output to draw.
    kinks : bool
        Mark the kinks.
    kink_style : dict, optional
        Keyword arguments of the kink markers (``ax.plot``).
    **kwargs
        Passed to ``ax.plot`` for the graph.

    Returns
    -------
    list of matplotlib Line2D
        ``[graph]`` or ``[graph, kink_markers]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from reluscope.build import sawtooth
    >>> lines = plot_function_1d(sawtooth(2), -2, 2, color="k")
    >>> len(lines), lines[1].get_xdata().tolist()
    (2, [-1.0, 0.0, 1.0])
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a Network; got {type(net).__name__}.")
    if net.n_in != 1:
        raise ShapeError(f"plot_function_1d needs a network with 1 input; this one has {net.n_in}.")
    lo_f, hi_f = float(lo), float(hi)
    if not (np.isfinite(lo_f) and np.isfinite(hi_f) and lo_f < hi_f):
        raise InvalidParameterError(f"'lo' and 'hi' must be finite with lo < hi; got {lo!r}, {hi!r}.")
    output = _check_output(net, output)
    ax = _default_ax(ax)
    t, kx = _pieces_1d(net, lo_f, hi_f, output)
    (graph,) = ax.plot(t, net(t[:, None])[:, output], **kwargs)
    drawn = [graph]
    if kinks:
        ky = net(kx[:, None])[:, output] if kx.size else np.empty(0)
        style = {"marker": "o", "linestyle": "none", "markersize": 4, "color": "C3"}
        style.update(kink_style or {})
        (marks,) = ax.plot(kx, ky, **style)
        drawn.append(marks)
    return drawn


def _bounds(bounds: Any) -> tuple[float, float, float, float]:
    if isinstance(bounds, Box):
        if bounds.dim != 2:
            raise ShapeError(f"'bounds' must be a 2-D box; got dimension {bounds.dim}.")
        return float(bounds.lo[0]), float(bounds.hi[0]), float(bounds.lo[1]), float(bounds.hi[1])
    arr = np.asarray(bounds, dtype=np.float64).ravel()
    if arr.size != 4 or not np.all(np.isfinite(arr)) or arr[0] >= arr[1] or arr[2] >= arr[3]:
        raise InvalidParameterError(
            f"'bounds' must be (xmin, xmax, ymin, ymax) with xmin < xmax, ymin < ymax, or a 2-D Box; got {bounds!r}."
        )
    return float(arr[0]), float(arr[1]), float(arr[2]), float(arr[3])


def plot_image_2d(
    net: Network,
    bounds: Any,
    ax: Any = None,
    resolution: int = 400,
    *,
    output: int = 0,
    **kwargs: Any,
) -> Any:
    """A network ``R² -> R^m`` drawn as an image over a rectangle.

    Parameters
    ----------
    net : Network
        Two inputs.
    bounds : (xmin, xmax, ymin, ymax) or Box
    ax : matplotlib Axes, optional
    resolution : int
        Pixels along the longer side (``>= 2``).
    output : int
        Which output to draw.
    **kwargs
        Passed to ``ax.imshow`` (e.g. ``cmap``, ``vmin``, ``vmax``).

    Returns
    -------
    matplotlib AxesImage

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from reluscope.build import logo
    >>> im = plot_image_2d(logo(), (-1, 1, -1, 1), resolution=50, cmap="gray_r")
    >>> im.get_array().shape
    (50, 50)
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a Network; got {type(net).__name__}.")
    if net.n_in != 2:
        raise ShapeError(f"plot_image_2d needs a network with 2 inputs; this one has {net.n_in}.")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise InvalidParameterError(f"'resolution' must be an integer >= 2; got {resolution!r}.")
    output = _check_output(net, output)
    x0, x1, y0, y1 = _bounds(bounds)
    longer = max(x1 - x0, y1 - y0)
    nx = max(2, int(round(resolution * (x1 - x0) / longer)))
    ny = max(2, int(round(resolution * (y1 - y0) / longer)))
    # pixel centres
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    X, Y = np.meshgrid(xs, ys)
    Z = net(np.column_stack([X.ravel(), Y.ravel()]))[:, output].reshape(ny, nx)
    ax = _default_ax(ax)
    opts = {"origin": "lower", "extent": (x0, x1, y0, y1), "interpolation": "nearest"}
    opts.update(kwargs)
    return ax.imshow(Z, **opts)
