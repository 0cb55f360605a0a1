"""Input checks shared by every module: one place, one message style."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import InvalidParameterError, NonFiniteError, ShapeError

__all__ = ["as_float_array", "as_points", "check_n_jobs", "check_positive_int", "check_random_state"]


def as_float_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 array, or raise a clear error.

    Parameters
    ----------
    value : array_like
        The array to check.
    name : str
        The argument's name, used in error messages.
    ndim : int, optional
        Required number of dimensions.
    """
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"'{name}' must be a numeric array; got {type(value).__name__}.") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ShapeError(f"'{name}' must be {ndim}-dimensional; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(
            f"'{name}' contains {bad} NaN or infinite value(s); all entries must be finite."
        )
    return arr


def as_points(x: Any, n_in: int, name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``x`` as a 2-D array of shape ``(n_points, n_in)``.

    Returns the array and whether the input was a single point (1-D).
    """
    arr = as_float_array(x, name)
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_in:
        raise ShapeError(
            f"'{name}' must have shape ({n_in},) or (n_points, {n_in}); got {np.shape(x)}."
        )
    return arr, single


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Check that ``value`` is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidParameterError(f"'{name}' must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_n_jobs(n_jobs: Any) -> int:
    """Threads to use: ``None`` or ``-1`` means every core this process may run on."""
    if n_jobs is None or (isinstance(n_jobs, (int, np.integer)) and not isinstance(n_jobs, bool) and n_jobs == -1):
        import os

        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    return check_positive_int(n_jobs, "n_jobs")


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``None``, an int or a Generator into a :class:`numpy.random.Generator`."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise InvalidParameterError(
        f"'seed' must be None, an int or a numpy Generator; got {seed!r}."
    )
