"""Pictures of plane regions (matplotlib, imported on use)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InvalidParameterError

__all__ = ["plot_plane", "region_colors"]

_COLOR_MODES = ("region", "value", "gradient", "class")


def region_colors(n: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct, well-separated pastel RGBA colours (golden-ratio hue walk).

    Examples
    --------
    >>> region_colors(3).shape
    (3, 4)
    """
    import colorsys

    rng = np.random.default_rng(seed)
    hues = (rng.uniform() + 0.618033988749895 * np.arange(n)) % 1.0
    sat = 0.45 + 0.25 * ((np.arange(n) * 7) % 3) / 2
    val = 0.80 + 0.15 * ((np.arange(n) * 5) % 2)
    rgb = np.array([colorsys.hsv_to_rgb(h, s, v) for h, s, v in zip(hues, sat, val, strict=True)])
    return np.concatenate([rgb.reshape(-1, 3), np.ones((n, 1))], axis=1)


def _default_view(res: Any) -> tuple[float, float, float, float]:
    if res.domain_kind == "box":
        return tuple(float(x) for x in res.domain)
    if res.domain_kind == "polygon":
        d = res.domain
        return float(d[:, 0].min()), float(d[:, 0].max()), float(d[:, 1].min()), float(d[:, 1].max())
    finite = res.cell_verts[np.repeat(res.cell_finite, np.diff(res.cell_offs))]
    finite = finite[np.all(np.isfinite(finite), axis=1)]
    r = float(np.abs(finite).max()) * 1.2 if len(finite) else 1.0
    r = max(r, 1.0)
    return -r, r, -r, r


def plot_plane(
    res: Any,
    ax: Any = None,
    *,
    color: str = "region",
    view: Any = None,
    boundary: bool = True,
    decision_boundary: bool = False,
    points: Any = None,
    output: int = 0,
    **kwargs: Any,
) -> Any:
    """Draw the regions of a :class:`PlaneRegions` result.

    Parameters
    ----------
    res : PlaneRegions
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    color : {"region", "value", "gradient", "class"}
        Distinct colours per region (as in Hanin & Rolnick's figures), or the
        output value (``output``-th unit) at the region's centre, the norm of its
        gradient in the plane, or the predicted class (argmax of the outputs).
    view : (σ0, σ1, τ0, τ1), optional
        What to show; needed to draw the whole plane (defaults to a box around all
        bounded regions). Regions are recomputed exactly on that box.
    boundary : bool
        Draw region edges.
    decision_boundary : bool
        Overlay the decision boundary (zero set of a single output; where the
        argmax changes for several outputs).
    points : array_like (n, 2), optional
        Data points (plane coordinates) to overlay.
    **kwargs
        Passed to :class:`matplotlib.collections.PolyCollection`.

    Returns
    -------
    matplotlib.collections.PolyCollection
        The drawn regions (``.axes`` is the Axes).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from reluscope import Network
    >>> from reluscope.regions import on_plane
    >>> res = on_plane(Network.random([2, 8, 1], seed=0), [0, 0], [1, 0], [0, 1], bounds=(-1, 1, -1, 1))
    >>> pc = plot_plane(res, color="value")
    >>> len(pc.get_paths()) == res.n_activation_regions
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    if color not in _COLOR_MODES:
        raise InvalidParameterError(f"'color' must be one of {_COLOR_MODES}; got {color!r}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    shown = res
    if view is not None or res.domain_kind == "plane":
        from ._plane import on_plane

        box = tuple(view) if view is not None else _default_view(res)
        shown = on_plane(res.net, res.origin, res.u, res.v, bounds=box, include_output=res.include_output,
                         tol=res.tol)
    polys = shown.polygons()
    cells = np.flatnonzero(shown.cell_finite)
    reg = shown.cell_region[cells]
    centres = np.array([p.mean(axis=0) for p in polys]) if polys else np.zeros((0, 2))
    if color == "region":
        # colour by the region of the *original* result, so views agree with it
        ids = res.locate(centres) if shown is not res else reg
        n = max(res.n_activation_regions, 1)
        colors = region_colors(n)[np.mod(ids, n)]
        values = None
    else:
        out = np.einsum("nok,nk->no", shown.slope[reg], centres) + shown.intercept[reg]
        if color == "value":
            values = out[:, output]
        elif color == "gradient":
            values = np.linalg.norm(shown.slope[reg][:, output, :], axis=1)
        else:
            values = out.argmax(axis=1).astype(float) if out.shape[1] > 1 else (out[:, 0] > 0).astype(float)
        colors = None
    opts = {"edgecolors": "k" if boundary else "face", "linewidths": 0.3 if boundary else 0.0}
    opts.update(kwargs)
    pc = PolyCollection(polys, facecolors=colors, **opts)
    if values is not None:
        pc.set_array(values)
        if color == "class":
            pc.set_cmap("tab10")
            pc.set_clim(0, 9)
    ax.add_collection(pc)
    s0, s1, t0, t1 = _default_view(shown)
    ax.set_xlim(s0, s1)
    ax.set_ylim(t0, t1)
    ax.set_aspect("equal")
    ax.set_xlabel("σ (along u)")
    ax.set_ylabel("τ (along v)")
    if decision_boundary:
        ss, tt = np.meshgrid(np.linspace(s0, s1, 400), np.linspace(t0, t1, 400))
        y = shown.net(shown.to_input(np.stack([ss.ravel(), tt.ravel()], axis=1)))
        if y.shape[1] == 1:
            ax.contour(ss, tt, y[:, 0].reshape(ss.shape), levels=[0.0], colors="k", linewidths=1.5)
        else:
            lab = y.argmax(axis=1).reshape(ss.shape)
            ax.contour(ss, tt, lab, levels=np.arange(y.shape[1]) + 0.5, colors="k", linewidths=1.5)
    if points is not None:
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        ax.scatter(pts[:, 0], pts[:, 1], s=12, c="k", zorder=3)
    return pc
