"""Every bound for one architecture, side by side: :func:`table` and its result classes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import InvalidParameterError, ReluscopeError, ShapeError, UnsupportedLayerError
from ._expected import _constants, _hanin_rolnick_log10, hanin_rolnick2019
from ._lower import arora2018_lower, montufar2014, serra2018_lower
from ._upper import montufar2017, raghu2017, serra2018, trivial, zaslavsky
from ._validate import check_int, check_positive_float, check_widths

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["BoundRow", "BoundsTable", "table", "weight_ranks"]

#: the kinds of row, in the order :meth:`BoundsTable.to_markdown` explains them
KINDS = {
    "upper": "holds for every network of this architecture, on all of R^n0",
    "lower": "some network of this architecture has at least this many regions",
    "expected": "bound on the expected count at random initialisation (not for a trained net)",
    "reference": "exact maximum of a one-hidden-layer network with the same N units",
}

# int -> str conversion of more than 4300 digits raises in CPython >= 3.11; stay well below
_MAX_EXACT_DIGITS = 4000
_MAX_PLAIN_DIGITS = 21


def _log10(value: int | float | None) -> float | None:
    if value is None or value <= 0 or (isinstance(value, float) and math.isinf(value)):
        return None
    return math.log10(value)


@dataclass(frozen=True)
class BoundRow:
    """One bound: its value and what kind of statement it is.

    Attributes
    ----------
    name : str
        Function name in :mod:`reluscope.bounds` (``"serra2018"``, ...).
    value : int, float or None
        Exact ``int`` for the combinatorial bounds, ``float`` for the expectation,
        ``None`` when the bound's conditions are not met.
    kind : {"upper", "lower", "expected", "reference"}
    citation : str
        Paper and theorem.
    note : str
        Conditions or parameters used.
    log10 : float or None
        ``log10(value)``, also when ``value`` overflows a float.
    """

    name: str
    value: int | float | None
    kind: str
    citation: str
    note: str = ""
    log10: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidParameterError(f"'kind' must be one of {sorted(KINDS)}; got {self.kind!r}.")
        if self.log10 is None:
            object.__setattr__(self, "log10", _log10(self.value))

    def formatted(self) -> str:
        """The value for humans: exact with thousands separators when short, else ``d.ddde+XX``."""
        v, lg = self.value, self.log10
        if v is None:
            return "n/a"
        if lg is not None and lg >= _MAX_PLAIN_DIGITS:
            e = math.floor(lg)
            return f"{10 ** (lg - e):.3f}e+{e}"
        if isinstance(v, int):
            return f"{v:,}"
        return f"{v:,.1f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; ``value`` is ``None`` when too large for exact JSON (use ``log10``)."""
        v = self.value
        if isinstance(v, int) and (self.log10 or 0.0) >= _MAX_EXACT_DIGITS:
            v = None
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        return {
            "name": self.name,
            "kind": self.kind,
            "value": v,
            "log10": self.log10,
            "citation": self.citation,
            "note": self.note,
        }


@dataclass(frozen=True)
class BoundsTable:
    """The result of :func:`table`.

    Attributes
    ----------
    n0 : int
    widths : tuple of int
    rows : tuple of BoundRow
    ranks : tuple of int or None
        Ranks of the weight matrices when a network was given.
    """

    n0: int
    widths: tuple[int, ...]
    rows: tuple[BoundRow, ...]
    ranks: tuple[int, ...] | None = None

    def __getitem__(self, name: str) -> int | float | None:
        for row in self.rows:
            if row.name == name:
                return row.value
        raise KeyError(f"no bound named {name!r}; have {[r.name for r in self.rows]}")

    @property
    def names(self) -> tuple[str, ...]:
        """Row names, in order."""
        return tuple(r.name for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable description."""
        return {
            "n0": self.n0,
            "widths": list(self.widths),
            "n_units": sum(self.widths),
            "ranks": None if self.ranks is None else list(self.ranks),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_markdown(self) -> str:
        """A Markdown table, one row per bound, then the meaning of each kind."""
        head = f"Bounds on the number of linear regions: n0 = {self.n0}, widths = {list(self.widths)}"
        head += f" (N = {sum(self.widths)} hidden ReLUs)"
        if self.ranks is not None:
            head += f", rank(W^l) = {list(self.ranks)}"
        lines = [
            head,
            "",
            "| bound | kind | value | log10 | source | note |",
            "|---|---|---:|---:|---|---|",
        ]
        for r in self.rows:
            lg = "" if r.log10 is None else f"{r.log10:.2f}"
            lines.append(f"| {r.name} | {r.kind} | {r.formatted()} | {lg} | {r.citation} | {r.note} |")
        lines.append("")
        present = [k for k in KINDS if any(r.kind == k for r in self.rows)]
        lines.extend(f"- *{k}*: {KINDS[k]}." for k in present)
        return "\n".join(lines)


def weight_ranks(net: Network, tol: float | None = None) -> tuple[int, ...]:
    """``rank(W^l)`` of the hidden layers of a ReLU network (``numpy.linalg.matrix_rank``).

    Parameters
    ----------
    net : Network
        Hidden layers must be ReLU (the Serra bounds are proved for ReLU).
    tol : float, optional
        Singular-value threshold passed to ``matrix_rank`` (default: NumPy's
        ``S.max() * max(shape) * eps``).

    Returns
    -------
    tuple of int, one per hidden layer

    Raises
    ------
    UnsupportedLayerError
        If a hidden layer is not ReLU.

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> net = Network([(np.ones((3, 2)), np.zeros(3), "relu"), (np.ones((1, 3)), [0.0], "identity")])
    >>> weight_ranks(net)
    (1,)
    """
    import numpy as np

    from ..activations import ReLU

    for i, layer in enumerate(net.layers[:-1]):
        if not isinstance(layer.activation, ReLU):
            raise UnsupportedLayerError(
                f"the region bounds are proved for ReLU hidden layers; layer {i} has "
                f"{layer.activation!r}."
            )
    return tuple(int(np.linalg.matrix_rank(layer.weight, tol=tol)) for layer in net.layers[:-1])


def _lower_row(name: str, fn: Any, n0: int, widths: tuple[int, ...], citation: str, rule: str) -> BoundRow:
    try:
        return BoundRow(name, fn(n0, widths), "lower", citation, f"needs {rule}")
    except InvalidParameterError:
        pass
    try:
        value = fn(n0, widths, reduce_input=True)
    except InvalidParameterError:
        return BoundRow(name, None, "lower", citation, f"not applicable: needs {rule}")
    return BoundRow(name, value, "lower", citation, f"{rule} fails; applied on a lower-dimensional input")


def table(
    n0: int | None = None,
    widths: Sequence[int] | None = None,
    net: Network | None = None,
    *,
    volume: float = 1.0,
    c_bias: float | None = None,
    c_grad: float = 1.0,
) -> BoundsTable:
    """Every implemented bound on the number of linear regions of one architecture.

    Parameters
    ----------
    n0 : int, optional
        Input dimension (taken from ``net`` when omitted).
    widths : sequence of int, optional
        Hidden widths (taken from ``net`` when omitted).
    net : Network, optional
        A ReLU network of this architecture: adds the rank-refined Serra bound with
        ``rank(W^l)`` from :func:`weight_ranks`, an upper bound for *this* network.
    volume, c_bias, c_grad : float
        Parameters of the Hanin-Rolnick expectation (see :func:`hanin_rolnick2019`).

    Returns
    -------
    BoundsTable
        Rows: upper bounds (tightest first), lower bounds on the maximum (``n/a``
        when inapplicable, or applied to a smaller input dimension, see
        :func:`montufar2014`), the Hanin-Rolnick expectation and, for reference, the
        exact maximum of a shallow network with the same number of units.

    Raises
    ------
    InvalidParameterError, ShapeError
        Bad sizes, or ``n0``/``widths`` that disagree with ``net``.

    Examples
    --------
    >>> t = table(2, [6, 6, 6])
    >>> t["serra2018"], t["montufar2017"], t["serra2018_lower"], t["montufar2014"]
    (10648, 10648, 5632, 1782)
    >>> print(t.to_markdown().splitlines()[4])
    | serra2018 | upper | 10,648 | 4.03 | Serra et al. 2018, Thm 1 | |
    """
    if net is not None:
        if n0 is None:
            n0 = net.n_in
        if widths is None:
            widths = net.hidden_widths
    if n0 is None or widths is None:
        raise InvalidParameterError("table() needs 'n0' and 'widths', or a 'net' to take them from.")
    n0 = check_int(n0, "n0")
    widths = check_widths(widths)
    vol = check_positive_float(volume, "volume")
    cb, cg = _constants(c_bias, c_grad)
    n_units = sum(widths)
    rows: list[BoundRow] = []
    ranks = None
    if net is not None:
        if net.n_in != n0 or tuple(net.hidden_widths) != widths:
            raise ShapeError(
                f"'net' has input dimension {net.n_in} and hidden widths {list(net.hidden_widths)}; "
                f"they must match n0 = {n0} and widths = {list(widths)}."
            )
        ranks = weight_ranks(net)
        rows.append(
            BoundRow(
                "serra2018_rank", serra2018(n0, widths, ranks), "upper",
                "Serra et al. 2018, Thm 1 with rank(W^l)", f"ranks {list(ranks)}",
            )
        )
    rows += [
        BoundRow("serra2018", serra2018(n0, widths), "upper", "Serra et al. 2018, Thm 1"),
        BoundRow("montufar2017", montufar2017(n0, widths), "upper", "Montúfar 2017 (SampTA)"),
        BoundRow(
            "raghu2017", raghu2017(n0, widths), "upper", "Raghu et al. 2017",
            "layer-wise Zaslavsky product (reading of the proof)",
        ),
        BoundRow("trivial", trivial(widths), "upper", "Montúfar et al. 2014", "2^N activation patterns"),
    ]
    if widths:
        rows += [
            _lower_row("serra2018_lower", serra2018_lower, n0, widths, "Serra et al. 2018, Thm 6",
                       "n_l >= 3 n0"),
            _lower_row("montufar2014", montufar2014, n0, widths, "Montúfar et al. 2014, Thm 4",
                       "n_l >= n0"),
        ]
        try:
            rows.append(BoundRow("arora2018_lower", arora2018_lower(n0, widths), "lower",
                                 "Serra et al. 2018, Thm 7 (after Arora et al. 2018)",
                                 "first layer 2m units, later layers w units"))
        except ReluscopeError:
            rows.append(BoundRow("arora2018_lower", None, "lower",
                                 "Serra et al. 2018, Thm 7 (after Arora et al. 2018)",
                                 "not applicable: needs n_1 >= 2 and n_l >= 2"))
    hr_note = f"per volume {vol:g}; C_bias = {cb:.4g}, C_grad = {cg:.4g}"
    if n_units < n0:
        hr_note += "; N < n0, so 2^N"
    rows.append(
        BoundRow(
            "hanin_rolnick2019", hanin_rolnick2019(n_units, n0, vol, c_bias=cb, c_grad=cg), "expected",
            "Hanin & Rolnick 2019 (NeurIPS)", hr_note,
            log10=_hanin_rolnick_log10(n_units, n0, vol, cb, cg),
        )
    )
    rows.append(
        BoundRow("shallow_zaslavsky", zaslavsky(n_units, n0), "reference", "Zaslavsky 1975",
                 f"one layer of {n_units} units")
    )
    return BoundsTable(n0, widths, tuple(rows), ranks)
