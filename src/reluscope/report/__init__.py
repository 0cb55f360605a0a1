"""Analysis reports: ``reluscope analyze`` as a library.

:func:`analyze` runs every analysis of a network on a box domain, each section
under a time budget, and returns a :class:`Report`; :func:`write_report` writes
it as a folder (``index.html`` with the figures embedded, the PNG figures,
``results.json``, ``summary.txt``) atomically; :func:`text_summary` is the
one-screen summary.

Examples
--------
>>> import tempfile, pathlib
>>> from reluscope import Network, Box
>>> from reluscope import report
>>> rep = report.analyze(Network.random([2, 6, 3], seed=0), Box(-1.0, 1.0, dim=2), quick=True)
>>> out = report.write_report(rep, pathlib.Path(tempfile.mkdtemp()) / "report")
>>> (out / "index.html").exists(), (out / "results.json").exists()
(True, True)
"""

from __future__ import annotations

from ._analyze import SECTIONS, TOTAL_BUDGET, analyze
from ._html import render_html
from ._inputs import Points, default_points, load_points, parse_domain
from ._model import Figure, Report, Section, Table
from ._text import text_summary
from ._write import atomic_dir, check_output_dir, write_report

__all__ = [
    "analyze",
    "write_report",
    "render_html",
    "text_summary",
    "Report",
    "Section",
    "Table",
    "Figure",
    "Points",
    "parse_domain",
    "load_points",
    "default_points",
    "atomic_dir",
    "check_output_dir",
    "SECTIONS",
    "TOTAL_BUDGET",
]
