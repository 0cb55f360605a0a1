"""Inputs of ``analyze``: the ``--domain`` syntax, data files and the default data.

Everything here only reads and checks; nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DomainError, InvalidParameterError, NonFiniteError, ShapeError
from ..domains import Box
from ..network import Network

__all__ = ["parse_domain", "load_points", "default_points", "Points", "MIN_POINTS"]

#: a plane needs three points
MIN_POINTS = 3


@dataclass(frozen=True)
class Points:
    """Data points for an analysis.

    Attributes
    ----------
    x : ndarray of shape (n_points, n_in)
    y : ndarray of int of shape (n_points,) or None
        Labels, when known.
    source : str
        Where they came from, for the report.
    """

    x: np.ndarray
    y: np.ndarray | None
    source: str


def parse_domain(text: str | None, n_in: int, default: Any = (0.0, 1.0)) -> Box:
    """The box ``[LO, HI]^n_in`` from ``"box:LO,HI"`` (``default`` when ``text`` is None).

    Parameters
    ----------
    text : str or None
        ``box:LO,HI`` with finite numbers ``LO < HI``.
    n_in : int
        Input dimension of the network.
    default : (lo, hi)
        Used when ``text`` is None.

    Raises
    ------
    InvalidParameterError
        When ``text`` does not follow the syntax.
    DomainError
        When ``LO >= HI``.

    Examples
    --------
    >>> parse_domain("box:-1,1", 3)
    Box(-1, 1, dim=3)
    >>> parse_domain(None, 2)
    Box(0, 1, dim=2)
    >>> parse_domain("ball:0,1", 2)
    Traceback (most recent call last):
    ...
    reluscope._errors.InvalidParameterError: --domain must look like box:LO,HI (e.g. box:0,1); got 'ball:0,1'.
    """
    if text is None:
        lo, hi = (float(v) for v in default)
    else:
        rule = f"--domain must look like box:LO,HI (e.g. box:0,1); got {text!r}."
        kind, sep, rest = text.strip().partition(":")
        if kind.strip().lower() != "box" or not sep:
            raise InvalidParameterError(rule)
        parts = rest.split(",")
        if len(parts) != 2:
            raise InvalidParameterError(rule)
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            raise InvalidParameterError(rule) from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidParameterError(f"--domain bounds must be finite numbers; got {text!r}.")
    if not lo < hi:
        raise DomainError(f"--domain needs LO < HI; got LO = {lo:g}, HI = {hi:g}.")
    return Box(lo, hi, dim=n_in)


def _read_array(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False), None
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = list(z.files)
                if not names:
                    raise InvalidParameterError(f"--data file '{path}' holds no arrays.")
                xkey = next((k for k in ("x", "X", "data", "x_test") if k in names), names[0])
                ykey = next((k for k in ("y", "labels", "y_test") if k in names), None)
                return z[xkey], (None if ykey is None else z[ykey])
        if suffix in (".csv", ".txt"):
            return np.loadtxt(path, delimiter=",", ndmin=2), None
    except (OSError, ValueError) as exc:
        raise InvalidParameterError(f"--data file '{path}' could not be read: {exc}") from None
    raise InvalidParameterError(
        f"--data file '{path}' must be .npy, .npz or .csv; got {suffix or '(none)'!r}."
    )


def load_points(path: str | Path, n_in: int) -> Points:
    """Read data points (and labels, if any) from ``.npy``, ``.npz`` or ``.csv``.

    An ``.npz`` may hold the points as ``x`` (or ``X``, ``data``, ``x_test``; else its
    first array) and labels as ``y`` (or ``labels``, ``y_test``). A ``.csv`` holds one
    point per row, comma-separated, no header.

    Parameters
    ----------
    path : path-like
    n_in : int
        Input dimension of the network: every row must have this many numbers.

    Raises
    ------
    InvalidParameterError
        Missing or unreadable file.
    ShapeError
        Rows of the wrong width, fewer than :data:`MIN_POINTS` rows, or labels that do not
        match the rows.
    NonFiniteError
        NaN or infinite values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
    >>> _ = p.write_text("0,0\\n1,0\\n0,1\\n")
    >>> load_points(p, 2).x.shape
    (3, 2)
    >>> load_points(p, 3)
    Traceback (most recent call last):
    ...
    reluscope._errors.ShapeError: --data has rows of 2 numbers; the model takes 3 inputs.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidParameterError(f"--data: no such file: '{p}'.")
    x, y = _read_array(p)
    x = np.asarray(x)
    if x.ndim == 1 and n_in == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ShapeError(f"--data must be a 2-D array (one point per row); got shape {x.shape}.")
    if x.shape[1] != n_in:
        raise ShapeError(f"--data has rows of {x.shape[1]} numbers; the model takes {n_in} inputs.")
    if x.shape[0] < MIN_POINTS:
        raise ShapeError(f"--data needs at least {MIN_POINTS} points (rows); got {x.shape[0]}.")
    try:
        x = x.astype(np.float64)
    except (TypeError, ValueError):
        raise ShapeError(f"--data must hold numbers; got dtype {x.dtype}.") from None
    if not np.all(np.isfinite(x)):
        raise NonFiniteError(
            f"--data contains NaN or infinite values ({int(np.sum(~np.isfinite(x)))} entries)."
        )
    if y is not None:
        y = np.asarray(y).ravel()
        if y.shape[0] != x.shape[0]:
            raise ShapeError(f"--data labels: {y.shape[0]} labels for {x.shape[0]} points.")
        if not np.issubdtype(y.dtype, np.integer):
            y = None  # regression targets: not class labels
    return Points(x, y, f"{p.name} ({x.shape[0]} points)")


def default_points(net: Network, domain: Box, n_random: int = 400, seed: int = 0) -> Points:
    """The data used when none is given.

    scikit-learn's 8x8 digits (test split, pixels / 16) for a network with 64 inputs,
    else ``n_random`` uniform random points of ``domain``.

    Examples
    --------
    >>> from reluscope import Network
    >>> pts = default_points(Network.random([2, 3, 1], seed=0), Box(0.0, 1.0, dim=2), n_random=10)
    >>> pts.x.shape, pts.y is None
    ((10, 2), True)
    """
    if net.n_in == 64:
        try:
            from ..datasets import load_digits

            d = load_digits()
            return Points(
                d.x_test, d.y_test, f"scikit-learn digits, test split ({d.x_test.shape[0]} images, x / 16)"
            )
        except ImportError:
            pass
    x = domain.sample(n_random, seed=seed)
    return Points(x, None, f"{n_random} uniform random points of the domain (seed {seed})")
