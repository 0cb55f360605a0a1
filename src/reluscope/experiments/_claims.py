"""What every reproduction does when a published claim does not hold."""

from __future__ import annotations

from pathlib import Path

from .._errors import ClaimNotReproducedError

__all__ = ["raise_failed"]


def raise_failed(name: str, claims: dict[str, bool], out: Path) -> None:
    """Raise :class:`~reluscope.ClaimNotReproducedError` (an ``AssertionError``) naming the
    claims that failed; call it after writing the files.

    Examples
    --------
    >>> raise_failed("demo", {"one": True}, Path("."))
    >>> raise_failed("demo", {"one": True, "two": False}, Path("x"))
    Traceback (most recent call last):
    ...
    reluscope._errors.ClaimNotReproducedError: demo: claims not reproduced: two (see x/summary.md)
    """
    failed = [c for c, ok in claims.items() if not ok]
    if failed:
        raise ClaimNotReproducedError(
            f"{name}: claims not reproduced: {'; '.join(failed)} (see {out / 'summary.md'})")
