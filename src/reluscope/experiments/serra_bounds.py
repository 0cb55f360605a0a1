"""Reproduction "serra-bounds": Serra et al. (2018), Figure 3(b).

60 ReLUs split evenly over 1 to 6 hidden layers (widths ``60 // L``), for several
input dimensions ``n0``: the upper bound of Theorem 1 (exact for one layer), the
earlier bound of Montúfar (2017), and the lower bounds on the maximum where their
conditions hold, on a log scale. The paper's claims checked in ``summary.md``:

* "the number of layers that yields the highest bound decreases as we increase the
  input dimension n0";
* once ``n0`` is large, the shallow network's exact maximum exceeds every deeper
  network's bound ("deep vs shallow for large input dimensions").

References
----------
T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting linear regions of
deep neural networks", ICML 2018 (arXiv 1711.02114), §3.1 and Figure 3(b).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from reluscope import bounds as rb
from reluscope._atomic import atomic_path
from reluscope._errors import InvalidParameterError

__all__ = ["run", "TITLE", "PAPER", "N_UNITS", "DEPTHS", "INPUT_DIMS"]

TITLE = "Bounds on the number of linear regions for 60 ReLUs over 1-6 layers (Serra et al. 2018, Fig. 3b)"
PAPER = (
    "T. Serra, C. Tjandraatmadja, S. Ramalingam, Bounding and counting linear regions of deep "
    "neural networks, ICML 2018 (arXiv 1711.02114)"
)

N_UNITS = 60
DEPTHS = (1, 2, 3, 4, 5, 6)
INPUT_DIMS = (1, 2, 5, 10, 20, 30, 40, 60)
COLUMNS = (
    "n0", "depth", "width", "n_units", "serra2018", "montufar2017", "raghu2017", "trivial",
    "serra2018_lower", "montufar2014",
)


def _strict(fn: Any, n0: int, widths: list[int]) -> int | None:
    try:
        return fn(n0, widths)
    except InvalidParameterError:
        return None


def _rows() -> list[dict[str, int | None]]:
    rows = []
    for n0 in INPUT_DIMS:
        for depth in DEPTHS:
            widths = [N_UNITS // depth] * depth
            rows.append({
                "n0": n0,
                "depth": depth,
                "width": widths[0],
                "n_units": sum(widths),
                "serra2018": rb.serra2018(n0, widths),
                "montufar2017": rb.montufar2017(n0, widths),
                "raghu2017": rb.raghu2017(n0, widths),
                "trivial": rb.trivial(widths),
                "serra2018_lower": _strict(rb.serra2018_lower, n0, widths),
                "montufar2014": _strict(rb.montufar2014, n0, widths),
            })
    return rows


def _csv(rows: list[dict[str, int | None]]) -> str:
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join("" if r[c] is None else str(r[c]) for c in COLUMNS))
    return "\n".join(lines) + "\n"


def _by_n0(rows: list[dict[str, int | None]], key: str) -> dict[int, list[int | None]]:
    out: dict[int, list[int | None]] = {}
    for r in rows:
        out.setdefault(int(r["n0"]), []).append(r[key])  # type: ignore[arg-type]
    return out


def _png(rows: list[dict[str, int | None]], dpi: int) -> bytes:
    from matplotlib.figure import Figure

    thm1 = _by_n0(rows, "serra2018")
    m17 = _by_n0(rows, "montufar2017")
    low = _by_n0(rows, "serra2018_lower")
    fig = Figure(figsize=(11, 4.4))
    ax, ax2 = fig.subplots(1, 2)
    colors = [f"C{i}" for i in range(len(INPUT_DIMS))]
    for n0, col in zip(INPUT_DIMS, colors, strict=True):
        ax.plot(DEPTHS, thm1[n0], "-o", color=col, ms=4, label=f"n0 = {n0}")
        ax.plot(DEPTHS, m17[n0], "--", color=col, lw=1)
        pts = [(d, v) for d, v in zip(DEPTHS, low[n0], strict=True) if v is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), ":", marker="v", color=col, ms=3, lw=1)
        ratio = [v / thm1[n0][0] for v in thm1[n0]]  # type: ignore[operator]
        ax2.plot(DEPTHS, ratio, "-o", color=col, ms=4, label=f"n0 = {n0}")
    ax.axhline(2.0**N_UNITS, color="k", lw=0.8, ls="-.", label="2^60 (all patterns)")
    ax.set_yscale("log")
    ax.set_xlabel("hidden layers L (60 // L units each)")
    ax.set_ylabel("number of linear regions")
    ax.set_title("(a) Thm 1 (solid), Montúfar 2017 (dashed),\nSerra Thm 6 lower bound (dotted)", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax2.axhline(1.0, color="k", lw=0.8)
    ax2.set_yscale("log")
    ax2.set_xlabel("hidden layers L")
    ax2.set_ylabel("Thm 1 bound / shallow maximum (L = 1)")
    ax2.set_title("(b) deep bound relative to the shallow network's exact maximum", fontsize=9)
    fig.suptitle("Serra et al. 2018, Fig. 3(b): 60 ReLUs split evenly over 1-6 layers", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _sci(v: int | None) -> str:
    return "" if v is None else (f"{v:,}" if v < 10**6 else f"{v:.3e}")


def _summary(rows: list[dict[str, int | None]], result: dict[str, Any]) -> str:
    thm1 = _by_n0(rows, "serra2018")
    head = "| n0 | " + " | ".join(f"L = {d}" for d in DEPTHS) + " | best L |"
    lines = [
        "# serra-bounds: Serra et al. (2018), Figure 3(b)",
        "",
        f"{N_UNITS} ReLUs split evenly over 1-6 hidden layers; upper bound of Theorem 1 "
        "(exact for L = 1), exact integers from `reluscope.bounds.serra2018`.",
        "Full values, Montúfar 2017, Raghu 2017, 2^N and the lower bounds are in `bounds.csv`;",
        "the figure is `bounds.png`.",
        "",
        head,
        "|---" * (len(DEPTHS) + 2) + "|",
    ]
    for n0 in INPUT_DIMS:
        cells = " | ".join(_sci(v) for v in thm1[n0])
        lines.append(f"| {n0} | {cells} | {result['best_depth'][n0]} |")
    best = [result["best_depth"][n0] for n0 in INPUT_DIMS]
    ties = {n0: d for n0, d in result["best_depths_tied"].items() if len(d) > 1}
    ok = "reproduced" if result["claim_best_depth_nonincreasing"] else "NOT reproduced"
    lines += [
        "",
        "## Claims",
        "",
        f"- *The number of layers that yields the highest bound decreases as n0 grows*: {ok} "
        f"(best L by n0 = {dict(zip(INPUT_DIMS, best, strict=True))}; the smallest L is taken "
        f"when several tie: {ties or 'none'}).",
        f"- *Shallow beats deep for large n0*: the one-layer maximum exceeds every deeper bound for "
        f"n0 in {result['shallow_wins_n0']}.",
        f"- Theorem 1 never exceeds Montúfar (2017): {result['thm1_le_montufar2017']}; they are equal in "
        f"{result['n_equal_montufar2017']} of {len(rows)} cases.",
        "",
        "The lower bounds (Serra Thm 6, Montúfar 2014 Thm 4) bound the *maximum* over all weights and",
        "are shown only where their width conditions hold (n_l >= 3 n0, resp. n_l >= n0).",
    ]
    return "\n".join(lines) + "\n"


def run(out_dir: str | os.PathLike, quick: bool = False) -> dict[str, Any]:
    """Compute the bounds, write ``bounds.csv``, ``bounds.png`` and ``summary.md`` to ``out_dir``.

    Every file is written atomically, and only after everything has been computed
    and drawn, so a failure leaves no partial output.

    Parameters
    ----------
    out_dir : str or PathLike
        Output folder (created if missing).
    quick : bool, default False
        Lower figure resolution. The bounds themselves take milliseconds, so the data
        are the same in both modes.

    Returns
    -------
    dict
        ``files`` (name -> path), ``best_depth`` (n0 -> smallest depth with the largest
        Theorem 1 bound), ``best_depths_tied`` (n0 -> all such depths),
        ``claim_best_depth_nonincreasing``, ``shallow_wins_n0``,
        ``thm1_le_montufar2017``, ``n_equal_montufar2017``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run(d, quick=True)
    >>> sorted(res["files"]), res["best_depth"][1], res["claim_best_depth_nonincreasing"]
    (['bounds.csv', 'bounds.png', 'summary.md'], 6, True)
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out_dir' must be a folder; {str(out)!r} is a file.")
    rows = _rows()
    thm1 = _by_n0(rows, "serra2018")
    tied = {n0: [d for d, v in zip(DEPTHS, thm1[n0], strict=True) if v == max(thm1[n0])]  # type: ignore[type-var]
            for n0 in INPUT_DIMS}
    best = {n0: tied[n0][0] for n0 in INPUT_DIMS}
    seq = [best[n0] for n0 in INPUT_DIMS]
    result: dict[str, Any] = {
        "experiment": "serra-bounds",
        "best_depth": best,
        "best_depths_tied": tied,
        "claim_best_depth_nonincreasing": all(a >= b for a, b in zip(seq, seq[1:], strict=False)),
        "shallow_wins_n0": [n0 for n0 in INPUT_DIMS if all(v < thm1[n0][0] for v in thm1[n0][1:])],
        "thm1_le_montufar2017": all(r["serra2018"] <= r["montufar2017"] for r in rows),  # type: ignore[operator]
        "n_equal_montufar2017": sum(r["serra2018"] == r["montufar2017"] for r in rows),
    }
    contents = {
        "bounds.csv": _csv(rows).encode(),
        "bounds.png": _png(rows, dpi=80 if quick else 150),
        "summary.md": _summary(rows, result).encode(),
    }
    files = {}
    for name, data in contents.items():
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(data)
        files[name] = str(out / name)
    result["files"] = files
    return result
