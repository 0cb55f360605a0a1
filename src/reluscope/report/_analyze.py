"""``analyze``: run every section under a time budget and collect a :class:`Report`."""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import InvalidParameterError
from ..domains import Box
from ..network import Network
from . import _sections as S
from . import _solvers as V
from ._context import Context, Part
from ._inputs import MIN_POINTS, Points, default_points
from ._model import Report, Section

__all__ = ["analyze", "SECTIONS", "TOTAL_BUDGET"]

#: total seconds (full, quick) that the sections may take together
TOTAL_BUDGET = {False: 90.0, True: 35.0}

#: key, title, function(ctx, budget) and budget in seconds (full, quick); None: no budget (fast)
SECTIONS: tuple[tuple[str, str, Callable[[Context, float], Part], tuple[float, float] | None], ...] = (
    ("architecture", "Architecture", lambda c, b: S.architecture(c), None),
    ("bounds", "Bounds on the number of linear regions", lambda c, b: S.bounds_section(c), None),
    ("segments", "Regions along segments between data points", lambda c, b: S.segments(c), None),
    (
        "planes",
        "Regions on planes through three data points",
        lambda c, b: S.planes(c, n_planes=2 if c.quick else 3, budget=b),
        (20.0, 8.0),
    ),
    ("linear", "Activation regions and linear regions", lambda c, b: S.activation_vs_linear(c), None),
    (
        "stability",
        "Stable units and lossless compression",
        lambda c, b: V.stability_section(c, b),
        (22.0, 6.0),
    ),
    ("milp", "Counting regions in the domain (MILP)", lambda c, b: V.milp_section(c, b), (55.0, 9.0)),
)


def _describe(dom: Box) -> str:
    lo, hi = dom.lo, dom.hi
    if (lo == lo[0]).all() and (hi == hi[0]).all():
        return f"box [{lo[0]:g}, {hi[0]:g}]^{dom.dim}"
    return repr(dom)


def _warm_up(progress: bool) -> None:
    """Load (the first time after an install: compile, 10-20 s) the region engines' kernels,
    so that the sections' time budgets measure the analysis, not the compiler."""
    from ..regions import on_plane, on_segments
    from ..regions._kernels import use_numba

    if not use_numba():
        return
    if progress:
        print("loading the compiled kernels (the first run after an install compiles them) ...", file=sys.stderr)
    tiny = Network.random([2, 3, 3, 1], seed=0)
    on_segments(tiny, np.zeros((1, 2)), np.ones((1, 2)))
    on_plane(tiny, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], bounds=(-1.0, 1.0, -1.0, 1.0))


def _later_budget(i: int, quick: bool) -> float:
    return sum(b[quick] for *_, b in SECTIONS[i + 1 :] if b is not None)


def _run_section(ctx: Context, i: int, strict: bool) -> Section:
    key, title, fn, budgets = SECTIONS[i]
    budget = (
        None if budgets is None else ctx.budget(budgets[ctx.quick], reserve=_later_budget(i, ctx.quick) * 0.5)
    )
    t0 = time.perf_counter()
    try:
        part = fn(ctx, budget if budget is not None else 0.0)
    except ImportError as exc:
        if strict:
            raise
        part = Part(
            status="not available", summary=f"not available ({exc})", paragraphs=[f"Not available: {exc}"]
        )
    except Exception as exc:  # one failing section must not lose the others; --debug re-raises
        if strict:
            raise
        msg = f"{type(exc).__name__}: {exc}"
        part = Part(status="error", summary=f"error: {msg}"[:200], paragraphs=[f"This section failed: {msg}"])
    return Section(
        key,
        title,
        part.status,
        part.summary,
        tuple(part.paragraphs),
        tuple(part.tables),
        tuple(part.figures),
        part.data,
        time.perf_counter() - t0,
        budget,
    )


def analyze(
    net: Network,
    domain: Box | None = None,
    points: Points | None = None,
    *,
    quick: bool = False,
    progress: bool = False,
    strict: bool = False,
    meta: dict[str, Any] | None = None,
) -> Report:
    """Analyse a network on a box domain: bounds, exact regions on data segments and planes,
    stable units and compression, MILP region counts; with timings.

    Every section has a time budget and the whole run stays within
    :data:`TOTAL_BUDGET` seconds plus the time of the fast sections. A section that
    needs a missing part of reluscope is marked "not available"; one that fails is
    marked "error" (or raises when ``strict``).

    Parameters
    ----------
    net : Network
    domain : Box, optional
        Default ``[0, 1]^n_in``.
    points : Points, optional
        Data points (at least 3); default :func:`~reluscope.report.default_points`.
    quick : bool
        Smaller budgets (for tests and CI).
    progress : bool
        Show a progress bar on stderr.
    strict : bool
        Re-raise the first error of a section instead of reporting it.
    meta : dict, optional
        Extra entries for the report's header (e.g. the model's path).

    Returns
    -------
    Report
        Write it with :func:`~reluscope.report.write_report`.

    Examples
    --------
    >>> from reluscope import Network, Box
    >>> net = Network.random([2, 8, 8, 3], seed=0)
    >>> rep = analyze(net, Box(-1.0, 1.0, dim=2), quick=True)
    >>> [s.key for s in rep.sections][:3], rep.section("segments").status
    (['architecture', 'bounds', 'segments'], 'ok')
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    _warm_up(progress)
    t0 = time.perf_counter()
    dom = domain if domain is not None else Box(0.0, 1.0, dim=net.n_in)
    if not isinstance(dom, Box) or dom.dim != net.n_in:
        raise InvalidParameterError(f"'domain' must be a Box of dimension {net.n_in}; got {dom!r}.")
    pts = points if points is not None else default_points(net, dom)
    if pts.x.ndim != 2 or pts.x.shape[1] != net.n_in or pts.x.shape[0] < MIN_POINTS:
        raise InvalidParameterError(
            f"'points' must hold at least {MIN_POINTS} points of dimension {net.n_in}; "
            f"got shape {pts.x.shape}."
        )
    ctx = Context(net, dom, pts, quick, t0 + TOTAL_BUDGET[quick])
    from tqdm.auto import tqdm

    sections = []
    with tqdm(
        total=len(SECTIONS),
        disable=not progress,
        file=sys.stderr,
        unit="section",
        leave=False,
        bar_format="{desc:<48.48} {n_fmt}/{total_fmt} [{elapsed}]",
    ) as bar:
        for i, (_, title, _, _) in enumerate(SECTIONS):
            bar.set_description_str(title)
            sections.append(_run_section(ctx, i, strict))
            bar.update(1)
    header = {
        "model": net.metadata.get("source", repr(net)),
        "architecture": " → ".join(map(str, net.widths)),
        "domain": _describe(dom),
        "data": pts.source,
        "mode": "quick" if quick else "full",
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    from .. import __version__

    header["reluscope"] = __version__
    header.update(meta or {})
    return Report(
        f"reluscope analysis of a {header['architecture']} network",
        header,
        tuple(sections),
        time.perf_counter() - t0,
    )
