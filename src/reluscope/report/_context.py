"""What every section of ``analyze`` sees (:class:`Context`) and what it returns (:class:`Part`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..domains import Box
from ..network import Network
from ._inputs import Points
from ._model import Figure, Table

__all__ = ["Context", "Part"]


@dataclass
class Context:
    """The network, domain and data under analysis, the clock, and results shared by sections.

    Attributes
    ----------
    net : Network
    domain : Box
    points : Points
    quick : bool
    deadline : float
        ``time.perf_counter()`` value by which everything should be done.
    results : dict
        Results of earlier sections that later ones use (``"bounds"``, ``"segments"``, ...).
    """

    net: Network
    domain: Box
    points: Points
    quick: bool
    deadline: float
    results: dict[str, Any] = field(default_factory=dict)

    def time_left(self) -> float:
        """Seconds until the deadline (negative when past it)."""
        return self.deadline - time.perf_counter()

    def budget(self, seconds: float, reserve: float = 0.0) -> float:
        """``seconds``, or less when the deadline (minus ``reserve`` for later sections) is closer; >= 1."""
        return float(max(1.0, min(seconds, self.time_left() - reserve)))

    @property
    def x_in_domain(self) -> np.ndarray:
        """The data points that lie in the domain, shape (n, n_in)."""
        return self.points.x[self.domain.contains(self.points.x)]


@dataclass
class Part:
    """What a section function returns; the runner adds title, timing and budget."""

    status: str = "ok"
    summary: str = ""
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def text(self, paragraph: str) -> None:
        self.paragraphs.append(paragraph)

    def table(self, columns: tuple[str, ...], rows: Any, caption: str = "") -> None:
        self.tables.append(Table(tuple(columns), tuple(tuple(r) for r in rows), caption))

    def figure(self, name: str, caption: str, png: bytes) -> None:
        self.figures.append(Figure(name, caption, png))
