"""The report's pictures (matplotlib, imported on use, no pyplot state: safe in any backend)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["new_figure", "to_png", "segment_figure", "plane_figure", "counts_figure"]


def new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure that is not registered with pyplot (fixed layout: constrained layout is slow).

    Examples
    --------
    >>> fig = new_figure(2, 1)
    >>> to_png(fig)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def to_png(fig: Any, dpi: int = 100) -> bytes:
    """Encode a figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def segment_figure(
    counts: np.ndarray, linear: np.ndarray, lengths: np.ndarray, same_class: np.ndarray | None
) -> bytes:
    """Histogram of regions per segment, and regions against segment length.

    Parameters
    ----------
    counts, linear, lengths : ndarray of shape (n_segments,)
        Activation regions, linear regions and Euclidean length of each segment.
    same_class : bool ndarray of shape (n_segments,) or None
        Whether the two end points share a label.
    """
    fig = new_figure(10, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
    top = int(max(counts.max(initial=1), linear.max(initial=1)))
    bins = np.arange(0.5, top + 1.5, max(1, (top + 39) // 40))
    ax1.hist(counts, bins=bins, color="#4c72b0", alpha=0.8, label="activation regions")
    ax1.hist(linear, bins=bins, histtype="step", color="k", label="linear regions")
    ax1.set_xlabel("regions crossed by the segment")
    ax1.set_ylabel("segments")
    ax1.legend()
    if same_class is None:
        ax2.scatter(lengths, counts, s=10, c="#4c72b0")
    else:
        ax2.scatter(lengths[same_class], counts[same_class], s=10, c="#55a868", label="same label")
        ax2.scatter(lengths[~same_class], counts[~same_class], s=10, c="#c44e52", label="different labels")
        ax2.legend()
    if len(lengths):
        density = counts.sum() / max(lengths.sum(), 1e-300)
        xs = np.linspace(0, lengths.max(), 2)
        ax2.plot(xs, density * xs, "k--", lw=1, label=None)
        ax2.set_title(f"mean density {density:.3g} regions per unit length", fontsize=10)
    ax2.set_xlabel("segment length (Euclidean)")
    ax2.set_ylabel("activation regions")
    return to_png(fig)


def plane_figure(
    view_res: Any, polygon: np.ndarray, coords: np.ndarray, labels: Sequence[Any] | None, title: str
) -> bytes:
    """Two pictures of one plane: coloured by region, and by predicted class.

    Parameters
    ----------
    view_res : PlaneRegions
        Regions on the view rectangle.
    polygon : ndarray of shape (k, 2)
        The part of the view inside the input domain (outlined); may be empty.
    coords : ndarray of shape (3, 2)
        The three data points in plane coordinates.
    labels : sequence or None
        Their labels, written next to them.
    title : str
    """
    fig = new_figure(11.5, 5.2)
    axes = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.06, right=0.93, bottom=0.1, top=0.87, wspace=0.18)
    view_res.plot(ax=axes[0], color="region", points=coords, linewidths=0.25)
    pc = view_res.plot(ax=axes[1], color="class", points=coords, boundary=False, linewidths=0.5)
    cax = fig.add_axes((0.945, 0.15, 0.012, 0.67))
    fig.colorbar(pc, cax=cax, ticks=range(10), label="predicted class (arg-max output)")
    for ax in axes:
        if len(polygon) >= 3:
            ring = np.vstack([polygon, polygon[:1]])
            ax.plot(ring[:, 0], ring[:, 1], color="white", lw=2.6)
            ax.plot(ring[:, 0], ring[:, 1], color="k", lw=1.2, ls="--")
        for i, (s, t) in enumerate(coords):
            text = f"x{i}" if labels is None else f"x{i} ({labels[i]})"
            ax.annotate(
                text,
                (s, t),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=9,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8, "lw": 0},
            )
    axes[0].set_title("activation regions", fontsize=10)
    axes[1].set_title("predicted class (colour changes: decision boundary)", fontsize=10)
    fig.suptitle(title, fontsize=11)
    return to_png(fig, dpi=90)


def counts_figure(rows: Sequence[tuple[str, float | None, str]]) -> bytes:
    """Horizontal bars of ``log10`` of region counts and bounds.

    Parameters
    ----------
    rows : sequence of (label, log10 value or None, kind)
        ``kind`` is "upper", "lower", "exact" or "estimate" and picks the colour.
    """
    colors = {"upper": "#c44e52", "lower": "#4c72b0", "exact": "#2e7d32", "estimate": "#8172b2"}
    shown = [(lab, val, kind) for lab, val, kind in rows if val is not None]
    height = 0.42 * len(shown) + 1.0
    fig = new_figure(8, height)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.36, right=0.97, bottom=0.55 / height, top=1 - 0.2 / height)
    y = np.arange(len(shown))[::-1]
    ax.barh(y, [v for _, v, _ in shown], color=[colors.get(k, "#999999") for _, _, k in shown])
    ax.set_yticks(y, [f"{lab} ({kind})" for lab, _, kind in shown], fontsize=9)
    for yi, (_, v, _) in zip(y, shown, strict=True):
        ax.text(v, yi, f" {v:.2f}", va="center", fontsize=8)
    ax.set_xlabel("log10(number of regions)")
    ax.set_xlim(0, max([v for _, v, _ in shown], default=1) * 1.12 + 0.5)
    return to_png(fig)
