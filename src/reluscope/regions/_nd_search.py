"""Driver of the depth-first region search on a bounded domain (``method="search"``).

The compiled search (:mod:`._tree_kernels`) runs in chunks of leaves; between
chunks this module checks every witness (its pattern must be the leaf's), updates
the progress bar, saves checkpoints and honours ``max_regions`` and Ctrl-C. With
several threads the remaining patterns are cut lexicographically at the patterns of
random points in the domain once the first chunk shows that the search is not
small, and a pool of threads takes the intervals one after another (the kernel
releases the GIL); the intervals' leaves, concatenated, are the one-thread result.

On a box, when the first layer is much narrower than the input (:mod:`._nd_project`),
each chunk is a window of candidate patterns from the search over that layer's outputs
and the regions among them; an interval then goes on after its last candidate (its
``cursor``, saved in checkpoints), not after its last region.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._errors import SolverError
from ..domains import Box, Polytope
from ._nd_geometry import UnitTable, patterns_at
from ._nd_project import Projection, projection
from ._nd_state import read_checkpoint, write_checkpoint

__all__ = ["SearchFailed", "search_regions"]

_FORMAT = "reluscope.regions.nd-search/1"
_FIRST_CHUNK = 256  # leaves per call of the kernel at first (doubling up to _MAX_CHUNK)
_MAX_CHUNK = 8192
_SPLITS_PER_THREAD = 8  # intervals per thread (a thread takes the next when its own is done)
_PROJECT = True  # search through the first layer's outputs where it is much narrower (see _nd_project)
_MIN_WINDOW_SPLIT = 512  # candidates per thread from which a capped search shares a window out


class SearchFailed(SolverError):
    """The search's LPs failed, or a witness missed its region (ill-conditioned rows); the
    caller falls back to the walk or raises a plain :class:`SolverError`."""


def _bounds(dom: Box | Polytope, rows: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The inputs' box and the domain's other rows ``Dlo <= Dg x <= Dhi`` for the kernel."""
    if isinstance(dom, Box):
        n = rows[0].shape[1]
        return np.asarray(dom.lo, float), np.asarray(dom.hi, float), np.zeros((0, n)), np.zeros(0), np.zeros(0)
    box = dom.box if dom.box is not None else dom.bounding_box()
    lo, hi = np.asarray(box.lo, float), np.asarray(box.hi, float)
    Dg, Dh = rows
    mid, rad = (lo + hi) / 2, (hi - lo) / 2
    Dlo = Dg @ mid - np.abs(Dg) @ rad - 1.0  # below the row's minimum over the box: never binding
    return lo, hi, np.ascontiguousarray(Dg), Dlo, np.asarray(Dh, float)


class _Interval:
    """One thread's interval ``(start, stop]`` of patterns: its leaves so far and where to go on."""

    def __init__(self, start: np.ndarray | None, stop: np.ndarray | None, n_units: int, n: int):
        self.start, self.stop = start, stop
        self.patterns = [np.zeros((0, n_units), dtype=np.int8)]
        self.points = [np.zeros((0, n))]
        self.done = False
        self.chunk = _FIRST_CHUNK
        self.cursor: np.ndarray | None = None  # every pattern up to this one is decided

    def add(self, patterns: np.ndarray, points: np.ndarray, done: bool, cursor: np.ndarray | None = None) -> None:
        self.patterns.append(patterns)
        self.points.append(points)
        self.done = done
        self.chunk = min(2 * self.chunk, _MAX_CHUNK)
        if cursor is not None:
            self.cursor = cursor

    @property
    def resume(self) -> np.ndarray | None:
        """The pattern after which the interval goes on (its last leaf, or a later cursor)."""
        last = next((p for p in reversed(self.patterns) if len(p)), None)
        last = self.start if last is None else last[-1]
        if self.cursor is not None and (last is None or self.cursor.tobytes() > last.tobytes()):
            return self.cursor
        return last


class _Search:
    def __init__(self, table: UnitTable, dom: Box | Polytope, rows: tuple[np.ndarray, np.ndarray],
                 tol: float, scale: float, compiled_check: bool):
        from . import _tree_kernels

        self.kernel = _tree_kernels
        self.table = table
        self.lo, self.hi, self.Dg, self.Dlo, self.Dhi = _bounds(dom, rows)
        n = len(self.lo)
        self.margin = tol * scale
        self.ftol = max(1e-3 * self.margin, 1e-14 * scale)
        rng = np.random.default_rng(20240607)
        cost = rng.normal(size=n)
        self.cost = cost / np.linalg.norm(cost)
        self.tol = tol
        self.compiled_check = compiled_check
        self.window_jobs = 1  # threads that share each window of candidates (a capped search)
        self.proj: Projection | None = None
        if _PROJECT and isinstance(dom, Box):
            self.proj = projection(table, self.lo, self.hi, tol, self.margin, self.ftol)

    def run(self, iv: _Interval, max_new: int) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray | None]:
        """The next (at most ``max_new``) leaves of ``iv``, their witnesses, whether ``iv`` is
        then done, and the pattern up to which it is decided, when beyond the last leaf (the
        kernel releases the GIL; ``iv`` is not changed)."""
        if self.proj is not None:
            # a window of candidates (a superset of its regions), then the regions among them
            cands, zpts, done, status = self.proj.candidates(self.kernel, iv.resume, iv.stop, max_new)
            if status == self.kernel.OK:
                pats, pts, status = self._regions(self.proj, cands, zpts)
                self._check(status, pats, pts)
                return pats, pts, done, cands[-1] if len(cands) else None
            self.proj = None  # (the LPs over the first layer's outputs failed: search over x alone)
        pats, pts, done, status, *_ = self.kernel.search(
            self.table.packed, self.lo, self.hi, self.Dg, self.Dlo, self.Dhi, self.cost, self.tol,
            self.margin, self.ftol, max_new, resume=iv.resume, stop=iv.stop)
        self._check(status, pats, pts)
        return pats, pts, done, None

    def _regions(self, proj: Projection, cands: np.ndarray, zpts: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """The regions among the candidates (:meth:`Projection.regions`), in ``window_jobs``
        threads on consecutive parts (a candidate's verdict and witness depend on it alone)."""
        jobs = min(self.window_jobs, len(cands) // _MIN_WINDOW_SPLIT)
        if jobs <= 1:
            return proj.regions(self.kernel, cands, zpts, self.cost)
        from functools import partial

        from ._threads import in_threads

        cuts = np.linspace(0, len(cands), jobs + 1).astype(int)
        parts = in_threads([partial(proj.regions, self.kernel, cands[i:j], zpts[i:j], self.cost)
                            for i, j in zip(cuts[:-1], cuts[1:], strict=True)], jobs)
        status = next((p[2] for p in parts if p[2] != self.kernel.OK), self.kernel.OK)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), status

    def _check(self, status: int, pats: np.ndarray, pts: np.ndarray) -> None:
        """Raise :class:`SearchFailed` unless the kernel's status is OK and every witness has its
        leaf's pattern."""
        if status == self.kernel.FAILED_LP:
            raise SearchFailed("an LP of the search hit its pivot limit")
        if status != self.kernel.OK:
            raise SearchFailed("a witness point missed its rows by half the margin: the tableau drifted")
        if len(pats) and not np.array_equal(patterns_at(self.table, pts, self.compiled_check), pats):
            raise SearchFailed("a witness point has another pattern than its leaf")


def _split(iv: _Interval, table: UnitTable, lo: np.ndarray, hi: np.ndarray, dom: Box | Polytope, k: int,
           compiled: bool) -> list[_Interval]:
    """``iv``'s remaining patterns cut into (up to) ``k`` intervals at the patterns of random
    points in the domain (any cuts would do; these make intervals of similar size)."""
    rng = np.random.default_rng(7)
    x = lo + (hi - lo) * rng.random((64 * k, len(lo)))
    x = x[dom.contains(x)]
    pats = np.unique(patterns_at(table, x, compiled), axis=0)  # lexicographic order (pieces >= 0)
    start, stop = iv.resume, iv.stop
    keep = [p for p in pats if (start is None or p.tobytes() > start.tobytes())
            and (stop is None or p.tobytes() < stop.tobytes())]
    if len(keep) < k:
        return [iv]
    cuts = [keep[i] for i in np.linspace(0, len(keep), k + 1).astype(int)[1:-1]]
    first = iv
    first.stop = cuts[0]
    U, n = table.n_units, len(lo)
    rest = [_Interval(a, b, U, n) for a, b in zip(cuts, [*cuts[1:], stop], strict=True)]
    return [first, *rest]


def search_regions(table: UnitTable, dom: Box | Polytope, rows: tuple[np.ndarray, np.ndarray], tol: float,
                   scale: float, *, max_regions: int | None, n_jobs: int, checkpoint: str | None,
                   fp: str, checkpoint_every: float, bar: Any, compiled_check: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Patterns (lexicographic order) and witness points of the regions, and whether the result is partial.

    Raises :class:`SearchFailed` when the LPs failed (the caller falls back to the walk).
    """
    search = _Search(table, dom, rows, tol, scale, compiled_check)
    U, n = table.n_units, len(search.lo)
    saved = _load(checkpoint, fp, U, n) if checkpoint is not None else None
    # one interval; a search that outlasts its first chunk is cut for the threads (a small
    # one is over before threads would pay)
    ivs = saved if saved is not None else [_Interval(None, None, U, n)]
    split = saved is not None  # a resumed search goes on with its intervals
    total = sum(sum(len(p) for p in iv.patterns) for iv in ivs)
    if bar is not None:
        bar.update(total)
    last_save = time.monotonic()

    def after_chunk(new: int) -> None:  # (under the pool's lock when threaded)
        nonlocal total, last_save
        total += new
        if bar is not None:
            bar.update(new)
        if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every:
            _save(checkpoint, fp, ivs)
            last_save = time.monotonic()

    threaded = n_jobs > 1 and max_regions is None  # (max_regions: the first regions, in order)
    if not threaded:
        search.window_jobs = n_jobs  # (a projected search's windows can still be shared out)
    try:
        while True:
            pending = [iv for iv in ivs if not iv.done]
            if not pending or (max_regions is not None and total >= max_regions):
                break
            if threaded and split:
                _pool(search, ivs, n_jobs, after_chunk)
                break
            iv = pending[0]
            room = iv.chunk if max_regions is None else min(iv.chunk, max_regions - total)
            iv.add(*search.run(iv, room))
            after_chunk(len(iv.patterns[-1]))
            if threaded and not iv.done:
                ivs = _split(iv, table, search.lo, search.hi, dom, n_jobs * _SPLITS_PER_THREAD, compiled_check)
                split = True
    except KeyboardInterrupt:
        if checkpoint is not None:
            _save(checkpoint, fp, ivs)
        raise
    if checkpoint is not None:
        _save(checkpoint, fp, ivs)
    patterns = np.concatenate([p for iv in ivs for p in iv.patterns])
    points = np.concatenate([p for iv in ivs for p in iv.points])
    partial = any(not iv.done for iv in ivs)
    if max_regions is not None and len(patterns) > max_regions:
        patterns, points, partial = patterns[:max_regions], points[:max_regions], True
    return patterns, points, partial


def _pool(search: _Search, ivs: list[_Interval], n_jobs: int, after_chunk: Any) -> None:
    """Run the unfinished intervals to their ends in ``n_jobs`` threads, each taking the next
    one when its own is done (so no thread idles while work is left); ``after_chunk`` runs
    under a lock after every chunk. On an error or Ctrl-C the running chunks finish, the
    others are not started, and the error is raised."""
    import threading
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    from threadpoolctl import threadpool_limits

    lock = threading.Lock()
    queue = [iv for iv in ivs if not iv.done]
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                iv = queue.pop(0)
            while not iv.done and not stop.is_set():
                out = search.run(iv, iv.chunk)
                with lock:
                    iv.add(*out)
                    after_chunk(len(out[0]))

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=n_jobs) as ex:
        futures = [ex.submit(worker) for _ in range(n_jobs)]
        try:
            while True:
                done, pending = wait(futures, timeout=0.25, return_when=FIRST_EXCEPTION)
                for f in done:
                    f.result()  # raises a worker's error
                if not pending:
                    return
        except BaseException:
            stop.set()
            wait(futures)
            raise


def _save(path: str, fp: str, ivs: list[_Interval]) -> None:
    """The intervals' leaves and state, atomically (``.npz``, no pickles)."""
    U = ivs[0].patterns[0].shape[1]
    none = np.full(U, -1, dtype=np.int8)
    arrays: dict[str, np.ndarray] = {}
    for i, iv in enumerate(ivs):
        arrays[f"patterns_{i}"] = np.concatenate(iv.patterns)
        arrays[f"points_{i}"] = np.concatenate(iv.points)
        arrays[f"start_{i}"] = none if iv.start is None else iv.start
        arrays[f"stop_{i}"] = none if iv.stop is None else iv.stop
        arrays[f"done_{i}"] = np.array(iv.done)
        arrays[f"cursor_{i}"] = none if iv.cursor is None else iv.cursor
    arrays["n_intervals"] = np.array(len(ivs))
    write_checkpoint(path, _FORMAT, fp, arrays)


def _load(path: str, fp: str, U: int, n: int) -> list[_Interval] | None:
    data = read_checkpoint(path, _FORMAT, fp, "region-search")
    if data is None:
        return None
    ivs = []
    for i in range(int(data["n_intervals"])):
        start, stop = data[f"start_{i}"], data[f"stop_{i}"]
        iv = _Interval(None if np.all(start < 0) else start, None if np.all(stop < 0) else stop, U, n)
        iv.patterns = [data[f"patterns_{i}"].astype(np.int8).reshape(-1, U)]
        iv.points = [data[f"points_{i}"].astype(np.float64).reshape(-1, n)]
        iv.done = bool(data[f"done_{i}"])
        cursor = data.get(f"cursor_{i}")
        iv.cursor = None if cursor is None or np.all(cursor < 0) else cursor.astype(np.int8)
        ivs.append(iv)
    return ivs
