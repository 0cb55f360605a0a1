"""Input checks shared by the bound functions: one message style, exact Python ints out."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._errors import InvalidParameterError

__all__ = ["check_int", "check_widths", "check_ranks", "check_positive_float"]


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as a Python int ``>= minimum`` or raise :class:`InvalidParameterError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"'{name}' must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise InvalidParameterError(f"'{name}' must be an integer >= {minimum}; got {int(value)}.")
    return int(value)


def check_widths(widths: Any, name: str = "widths") -> tuple[int, ...]:
    """The hidden layers' widths as a tuple of Python ints, each ``>= 1``.

    An empty sequence is allowed: a network without hidden layers is affine and has
    one region, which every bound reproduces.
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Iterable, np.ndarray)):
        raise InvalidParameterError(
            f"'{name}' must be a sequence of positive integers (the hidden layers' widths); "
            f"got {widths!r}."
        )
    arr = widths.tolist() if isinstance(widths, np.ndarray) else list(widths)
    if isinstance(widths, np.ndarray) and widths.ndim != 1:
        raise InvalidParameterError(f"'{name}' must be one-dimensional; got shape {widths.shape}.")
    return tuple(check_int(w, f"{name}[{i}]", 1) for i, w in enumerate(arr))


def check_ranks(ranks: Any, n0: int, widths: tuple[int, ...]) -> tuple[int, ...]:
    """Ranks of ``W^1..W^L``: one int per hidden layer with ``0 <= rank(W^l) <= min(n_l, n_{l-1})``."""
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, (Iterable, np.ndarray)):
        raise InvalidParameterError(
            f"'ranks' must be a sequence of integers, one per hidden layer; got {ranks!r}."
        )
    out = tuple(check_int(r, f"ranks[{i}]", 0) for i, r in enumerate(list(ranks)))
    if len(out) != len(widths):
        raise InvalidParameterError(
            f"'ranks' must have one entry per hidden layer ({len(widths)}); got {len(out)}."
        )
    prev = n0
    for i, (r, n) in enumerate(zip(out, widths, strict=True)):
        if r > min(n, prev):
            raise InvalidParameterError(
                f"'ranks[{i}]' must be <= min(n_{i + 1}, n_{i}) = {min(n, prev)} (W^{i + 1} is "
                f"{n} x {prev}); got {r}."
            )
        prev = n
    return out


def check_positive_float(value: Any, name: str) -> float:
    """A finite float ``> 0``."""
    if isinstance(value, bool):
        raise InvalidParameterError(f"'{name}' must be a finite number > 0; got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"'{name}' must be a finite number > 0; got {value!r}.") from exc
    if not math.isfinite(v) or v <= 0:
        raise InvalidParameterError(f"'{name}' must be a finite number > 0; got {value!r}.")
    return v
