"""What every reproduction does with its output: write the files atomically, then report
the published claims that did not hold."""

from __future__ import annotations

from pathlib import Path

from .._atomic import atomic_path
from .._errors import ClaimNotReproducedError

__all__ = ["raise_failed", "write_files"]


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


def write_files(out: Path, contents: dict[str, bytes]) -> dict[str, str]:
    """Write every file atomically (a reader never sees half a file); returns name -> path.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> write_files(d, {"a.txt": b"hi"}) == {"a.txt": str(d / "a.txt")}, (d / "a.txt").read_text()
    (True, 'hi')
    """
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in contents.items():
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(data)
        files[name] = str(out / name)
    return files
