"""Exact linear and activation regions: along segments (1-D), on planes (2-D), in Rⁿ.

All engines share one layer-by-layer recurrence (:mod:`._recurrence`): within a cell
where the pattern of earlier layers is fixed, the next layer's pre-activation is
affine, and cells are split where it crosses an activation breakpoint
(Hanin & Rolnick 2019, App. A).
"""

from __future__ import annotations

from ._nd import NdRegions, enumerate  # regions.enumerate: the maths name (shadows the builtin here only)
from ._nd_result import Region
from ._plane import on_plane
from ._plane_result import PlaneRegions
from ._plot import plot_plane
from ._segment import SegmentBatch, SegmentRegions, along_path, on_segment, on_segments

__all__ = [
    "on_segment",
    "on_segments",
    "along_path",
    "SegmentRegions",
    "SegmentBatch",
    "on_plane",
    "PlaneRegions",
    "plot_plane",
    "enumerate",
    "NdRegions",
    "Region",
]
