"""Write a report folder atomically: everything goes to a temporary folder first.

The temporary folder is created next to the target and renamed into place only
when every file is written; an existing report is replaced only then. Interrupting
(Ctrl-C) or failing leaves the old report, or nothing, and no temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .._errors import InvalidParameterError
from ._html import render_html
from ._model import Report
from ._text import text_summary

__all__ = ["atomic_dir", "write_report", "check_output_dir", "REPORT_MARKERS"]


#: files whose presence marks a folder as a report that may be replaced
REPORT_MARKERS = ("results.json", "index.html")


def check_output_dir(path: str | os.PathLike) -> Path:
    """Check that ``path`` can become a report folder; creates nothing.

    Allowed: a path that does not exist, an empty folder, or a folder holding an
    earlier report (``results.json`` or ``index.html``). Refused: a file, a folder with
    other content, and the current folder or one of its parents (replacing them would
    delete unrelated files).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(d / "report") == d / "report"
    True
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> check_output_dir(d)
    Traceback (most recent call last):
    ...
    reluscope._errors.InvalidParameterError: Output folder '...' exists and is not a reluscope report ...
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InvalidParameterError(f"Output '{p}' exists and is not a folder; choose another -o DIR.")
    resolved = p.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise InvalidParameterError(
            f"Output '{p}' is the current folder or one of its parents; a report folder is replaced as a "
            "whole, so give a new or report folder (e.g. -o reluscope-report)."
        )
    if p.is_dir() and any(p.iterdir()) and not any((p / m).exists() for m in REPORT_MARKERS):
        raise InvalidParameterError(
            f"Output folder '{p}' exists and is not a reluscope report (no {' or '.join(REPORT_MARKERS)}); "
            "it would be replaced as a whole, so choose a new or empty folder."
        )
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidParameterError(f"Output '{p}': '{parent}' is a file, not a folder.")
            break
    return p


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``path`` (a folder or nothing).

    On any exception, including KeyboardInterrupt, the temporary folder is removed
    and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_dir(d / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("x")
    >>> sorted(p.name for p in (d / "out").iterdir())
    ['a.txt']
    """
    target = Path(path)
    check_output_dir(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "report")
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old / "report", target)
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_report(report: Report, path: str | os.PathLike) -> Path:
    """Write ``index.html``, ``results.json``, ``summary.txt`` and the PNG figures to ``path``.

    Parameters
    ----------
    report : Report
    path : path-like
        The report folder; replaced as a whole, atomically (see :func:`atomic_dir`).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from reluscope.report._model import Report, Section
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "rep"
    >>> _ = write_report(Report("demo", {}, (Section("a", "A"),), 0.0), d)
    >>> sorted(p.name for p in d.iterdir())
    ['index.html', 'results.json', 'summary.txt']
    """
    target = Path(path)
    with atomic_dir(target) as tmp:
        for fig in report.figures:
            (tmp / fig.filename).write_bytes(fig.png)
        (tmp / "results.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        (tmp / "summary.txt").write_text(text_summary(report) + "\n")
        (tmp / "index.html").write_text(render_html(report), encoding="utf-8")
    return target
