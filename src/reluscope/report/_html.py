"""A self-contained ``index.html``: inline CSS, figures embedded as base64 PNG, no scripts.

The page opens offline in any browser; nothing is fetched.
"""

from __future__ import annotations

import base64
import html

from ._model import STATUSES, Figure, Report, Section, Table, format_value

__all__ = ["render_html"]

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;
padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
caption{caption-side:top;text-align:left;font-style:italic;padding:.2em 0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}
.status{font-size:.75em;padding:.1em .5em;border-radius:.8em;margin-left:.6em;vertical-align:middle;
color:#fff}
.s-ok{background:#2e7d32}.s-partial{background:#ef6c00}.s-not-available{background:#757575}
.s-skipped{background:#9e9e9e}.s-error{background:#c62828}
.time{font-size:.75em;color:#777;margin-left:.6em;font-weight:normal}
.meta td:first-child{font-weight:bold}nav ol{columns:2}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _table(t: Table) -> str:
    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{_esc(t.caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{_esc(c)}</th>" for c in t.columns) + "</tr>")
    for row in t.rows:
        cells = "".join(
            f'<td class="num">{_esc(format_value(v))}</td>'
            if _is_num(v)
            else f"<td>{_esc(format_value(v))}</td>"
            for v in row
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _figure(f: Figure) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    return (
        f'<figure id="{_esc(f.name)}"><img src="data:image/png;base64,{data}" alt="{_esc(f.caption)}">'
        f"<figcaption>{_esc(f.caption)}</figcaption></figure>"
    )


def _section(s: Section) -> str:
    cls = "s-" + s.status.replace(" ", "-")
    budget = "" if s.budget is None else f" of {s.budget:.0f} s budget"
    parts = [
        f'<section id="{_esc(s.key)}"><h2>{_esc(s.title)}'
        f'<span class="status {cls}" title="{_esc(STATUSES.get(s.status, ""))}">{_esc(s.status)}</span>'
        f'<span class="time">{s.seconds:.2f} s{budget}</span></h2>'
    ]
    parts += [f"<p>{_esc(p)}</p>" for p in s.paragraphs]
    parts += [_table(t) for t in s.tables]
    parts += [_figure(f) for f in s.figures]
    parts.append("</section>")
    return "\n".join(parts)


def _timings(report: Report) -> str:
    rows = tuple(
        (s.title, s.status, round(s.seconds, 2), None if s.budget is None else float(s.budget))
        for s in report.sections
    ) + (("total", "", round(report.seconds, 2), None),)
    return (
        '<section id="timings"><h2>Timings</h2>'
        + _table(Table(("section", "status", "seconds", "budget (s)"), rows))
        + "</section>"
    )


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    report : Report

    Returns
    -------
    str
        HTML5; every figure is an ``<img>`` with a ``data:image/png;base64`` source.

    Examples
    --------
    >>> from reluscope.report._model import Report, Section
    >>> page = render_html(Report("demo", {"model": "x"}, (Section("a", "Part A", paragraphs=("hi",)),), 0.1))
    >>> page.startswith("<!DOCTYPE html>"), "<h2>Part A" in page, "<p>hi</p>" in page
    (True, True, True)
    """
    meta_rows = "".join(
        f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>"
        for k, v in report.meta.items()
        if not isinstance(v, dict)
    )
    toc = "".join(
        f'<li><a href="#{_esc(s.key)}">{_esc(s.title)}</a> ({_esc(s.status)})</li>' for s in report.sections
    )
    body = "\n".join(_section(s) for s in report.sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(report.title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{_esc(report.title)}</h1>\n"
        f'<table class="meta">{meta_rows}</table>\n'
        f'<nav><ol>{toc}<li><a href="#timings">Timings</a></li></ol></nav>\n'
        f"{body}\n{_timings(report)}\n"
        f'<p class="time">Written by reluscope in {report.seconds:.1f} s. results.json holds every number '
        "shown here.</p>\n</body></html>\n"
    )
