"""What a report is made of: sections holding text, tables, figures and JSON-ready data.

Plain frozen dataclasses; writers (:mod:`._html`, :mod:`._text`, :mod:`._write`) turn
them into ``index.html``, the one-screen summary and ``results.json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Figure", "Table", "Section", "Report", "STATUSES", "jsonable", "format_value"]

#: what a section's status means
STATUSES = {
    "ok": "computed completely",
    "partial": "stopped at its time limit: counts are lower bounds, see the text",
    "not available": "needs a part of reluscope (or an extra) that is not installed",
    "skipped": "does not apply to this network or data",
    "error": "failed; the message says why",
}


@dataclass(frozen=True)
class Figure:
    """A PNG picture of a report.

    Attributes
    ----------
    name : str
        File name stem (``"plane-1"`` is written as ``fig-plane-1.png``).
    caption : str
    png : bytes
        The encoded PNG.
    """

    name: str
    caption: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"fig-{self.name}.png"


@dataclass(frozen=True)
class Table:
    """A small table: column names and rows of plain values.

    Examples
    --------
    >>> Table(("a", "b"), ((1, 2.5),)).to_dict()
    {'caption': '', 'columns': ['a', 'b'], 'rows': [[1, 2.5]]}
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": jsonable([list(r) for r in self.rows]),
        }


@dataclass(frozen=True)
class Section:
    """One part of a report, with how long it took and whether it completed.

    Attributes
    ----------
    key : str
        Stable identifier (``"segments"``), used as the key in ``results.json``.
    title : str
    status : {"ok", "partial", "not available", "skipped", "error"}
    summary : str
        One line for the text summary.
    paragraphs : tuple of str
    tables : tuple of Table
    figures : tuple of Figure
    data : dict
        JSON-ready numbers (what ``results.json`` holds for the section).
    seconds : float
        Wall time of the section.
    budget : float or None
        The time budget it was given (seconds).
    """

    key: str
    title: str
    status: str = "ok"
    summary: str = ""
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    budget: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "seconds": round(self.seconds, 4),
            "budget": self.budget,
            "figures": [f.filename for f in self.figures],
            "tables": [t.to_dict() for t in self.tables],
            "data": jsonable(self.data),
        }


@dataclass(frozen=True)
class Report:
    """A finished report.

    Attributes
    ----------
    title : str
    meta : dict
        Model, domain, data source, settings (JSON-ready).
    sections : tuple of Section
    seconds : float
        Total wall time.
    """

    title: str
    meta: dict[str, Any]
    sections: tuple[Section, ...]
    seconds: float

    def section(self, key: str) -> Section:
        """The section with ``key`` (KeyError if absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; have {[s.key for s in self.sections]}")

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(f for s in self.sections for f in s.figures)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the pictures, JSON-ready (the content of ``results.json``)."""
        return {
            "title": self.title,
            "meta": jsonable(self.meta),
            "seconds": round(self.seconds, 3),
            "sections": {s.key: s.to_dict() for s in self.sections},
        }


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars/arrays turned into Python values; non-finite floats become None.

    Examples
    --------
    >>> jsonable({"a": np.int64(3), "b": np.array([1.5, np.inf]), "c": (1, 2)})
    {'a': 3, 'b': [1.5, None], 'c': [1, 2]}
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def format_value(v: Any) -> str:
    """A table cell for humans: thousands separators, 4 significant digits, ``n/a`` for None.

    Examples
    --------
    >>> format_value(1234567), format_value(0.000123456), format_value(None), format_value(2.0)
    ('1,234,567', '0.0001235', 'n/a', '2')
    """
    if v is None:
        return "n/a"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return "∞" if f > 0 else ("-∞" if f < 0 else "n/a")
        if f != 0 and (abs(f) >= 1e7 or abs(f) < 1e-4):
            return f"{f:.4g}"
        return f"{f:,.4g}" if abs(f) >= 1e4 else f"{f:.4g}"
    return str(v)
