"""The one-screen text summary printed at the end of ``reluscope analyze``."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

from ._model import Report

__all__ = ["text_summary", "MAX_LINES", "MAX_WIDTH"]

MAX_LINES = 24
MAX_WIDTH = 100


def text_summary(report: Report, path: str | Path | None = None) -> str:
    """At most :data:`MAX_LINES` lines of at most :data:`MAX_WIDTH` characters.

    One line per section (its ``summary``), then the status counts, total time and
    where the report was written.

    Parameters
    ----------
    report : Report
    path : path-like, optional
        The report folder, named on the last line.

    Examples
    --------
    >>> from reluscope.report._model import Report, Section
    >>> rep = Report("demo", {}, (Section("a", "Part A", summary="3 regions"),), 1.0)
    >>> print(text_summary(rep))
    demo
      a            3 regions
    1 section: 1 ok; 1.0 s
    """
    lines = [report.title]
    body_room = MAX_LINES - 2 - (path is not None)
    for s in report.sections:
        text = s.summary or s.status
        if s.status not in ("ok",) and not text.startswith(s.status):
            text = f"[{s.status}] {text}"
        wrapped = textwrap.wrap(f"{s.key:<12} {text}", MAX_WIDTH - 2, subsequent_indent=" " * 13) or [s.key]
        lines += ["  " + w for w in wrapped[:2]]
    if len(lines) > body_room + 1:
        lines = lines[:body_room] + ["  ..."]
    counts = Counter(s.status for s in report.sections)
    n = len(report.sections)
    status = ", ".join(f"{v} {k}" for k, v in counts.items())
    lines.append(f"{n} section{'s' if n != 1 else ''}: {status}; {report.seconds:.1f} s")
    if path is not None:
        lines.append(f"report: {Path(path) / 'index.html'}")
    return "\n".join(line[:MAX_WIDTH] for line in lines)
