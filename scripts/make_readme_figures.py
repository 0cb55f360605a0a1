"""Regenerate the two figures at the top of the README, with reluscope's own plot functions.

* ``docs/img/regions.png`` — the exact activation regions of a seeded
  ``[2, 32, 32, 32, 1]`` network on ``[-2, 2]²``, in distinct colours (as in Hanin &
  Rolnick's figures), with their count;
* ``docs/img/sawtooth.png`` — Telgarsky's sawtooth for depths 1-4: ``2^L`` linear pieces
  from 2 units per layer on ``[-2, 2]``, drawn through its exact breakpoints.

Run by hand from the repository root: ``python scripts/make_readme_figures.py`` (a few
seconds; needs the ``plot`` extra). Files are written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import reluscope as rs  # noqa: E402
from reluscope import build, regions  # noqa: E402
from reluscope._atomic import atomic_path  # noqa: E402
from reluscope.plotting import plot_function_1d  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"


def _save(fig: plt.Figure, name: str) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    OUT.mkdir(parents=True, exist_ok=True)
    with atomic_path(OUT / name) as tmp:
        tmp.write_bytes(buf.getvalue())
    print(f"wrote {OUT / name}")


def regions_figure() -> None:
    net = rs.Network.random([2, 32, 32, 32, 1], seed=0)
    res = regions.on_plane(net, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], bounds=(-2.0, 2.0, -2.0, 2.0))
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    res.plot(ax=ax)
    ax.set_title(f"Network.random([2, 32, 32, 32, 1], seed=0)\n{res.n_activation_regions:,} activation "
                 f"regions on [-2, 2]², exact", fontsize=9)
    _save(fig, "regions.png")


def sawtooth_figure() -> None:
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.3), sharey=True)
    for depth, ax in zip(range(1, 5), axes, strict=True):
        net = build.sawtooth(depth)
        pieces = regions.on_segment(net, [-2.0], [2.0]).n_linear_regions
        plot_function_1d(net, -2.0, 2.0, ax=ax, color="C0")
        ax.set_title(f"sawtooth({depth}): {net.n_units} units, {pieces} pieces", fontsize=9)
    _save(fig, "sawtooth.png")


def main() -> None:
    regions_figure()
    sawtooth_figure()


if __name__ == "__main__":
    main()
