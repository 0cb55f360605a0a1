"""Reproduction "serra-counting": exact region counts of trained nets vs bounds (Serra et al. 2018, Fig. 5).

Digit classifiers with 22 ReLUs split over two hidden layers ``(n1, 22 - n1)``, trained
on scikit-learn's 8x8 digits (inputs ``[0, 1]^64``; the paper used MNIST, ``[0, 1]^784``,
where ``n0`` never binds either), several seeds per split. For each network:

* the number of activation regions in the box ``[0, 1]^64``, counted by the MILP of
  Serra, Tjandraatmadja & Ramalingam (:func:`reluscope.milp.count_regions`, SCIP
  solution counting) under a time limit: **exact** when it finishes, otherwise the
  count so far, a **lower bound** (marked "≥");
* where that count is exact and small, an independent enumeration
  (``reluscope.regions.enumerate``, a walk over the regions' dual graph) as a cross-check;
* the curves of issue "Counting regions of networks too large to count": the
  probabilistic lower bound of MIPBound (:func:`reluscope.milp.approx_count`, Serra &
  Ramalingam 2020), the weight-aware upper bound (:func:`reluscope.milp.weight_bound`),
  and the width-only bounds (Theorem 1, Montúfar 2017, ``2^22``);
* the distinct activation patterns of all 1,797 digits (a certain lower bound) and the
  test accuracy.

Claims checked (an error is raised after the outputs are written if one fails):
every count lies between its lower bounds and the Theorem 1 / weight-aware upper
bounds; the bound grows with ``n1`` up to ``n1 = n2`` (the bottleneck effect of
Theorem 1); and the bottleneck is real: a network with ``n1 = 1`` has at most 23
regions, fewer than (the lower bound of) any network with a wide first layer.

References
----------
T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting linear regions of deep
neural networks", ICML 2018 (arXiv 1711.02114), §4-§7, Fig. 5. T. Serra, S. Ramalingam,
"Empirical bounds on linear regions of deep rectifier networks", AAAI 2020.
"""

from __future__ import annotations

import io
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InvalidParameterError, ReluscopeWarning
from ._output import raise_failed, write_files

__all__ = ["run", "TITLE", "PAPER", "N_TOTAL", "settings"]

TITLE = "Regions of trained 2-layer nets with 22 ReLUs: MILP counts vs bounds (Serra et al. 2018, Fig. 5)"
PAPER = (
    "T. Serra, C. Tjandraatmadja, S. Ramalingam, Bounding and counting linear regions of deep neural "
    "networks, ICML 2018 (arXiv 1711.02114); T. Serra, S. Ramalingam, Empirical bounds on linear regions "
    "of deep rectifier networks, AAAI 2020"
)

N_TOTAL = 22
N_IN = 64
#: a run at chance level (10 classes) is retrained with another seed, at most _ATTEMPTS times in all
_DEAD_ACCURACY = 0.2
_ATTEMPTS = 3
COLUMNS = (
    "n1",
    "n2",
    "seed",
    "train_seed",
    "test_accuracy",
    "trainer",
    "count",
    "count_status",
    "count_seconds",
    "enumerated",
    "enum_status",
    "enum_seconds",
    "regions",
    "regions_status",
    "approx_bound",
    "approx_witnessed",
    "approx_status",
    "weight_bound",
    "serra2018",
    "montufar2017",
    "data_patterns",
)


def settings(quick: bool) -> dict[str, Any]:
    """The sizes of a run: first-layer widths, seeds and time limits (seconds).

    Examples
    --------
    >>> settings(True)["n1"]
    (1, 11)
    """
    if quick:
        return {
            "n1": (1, 11),
            "seeds": (0,),
            "epochs": 30,
            "count_limit": 4.0,
            "approx_limit": 2.0,
            "enum_max": 200_000,
        }
    return {
        "n1": (1, 2, 3, 4, 6, 8, 11, 14, 17, 20),
        "seeds": (0, 1),
        "epochs": 60,
        "count_limit": 10.0,
        "approx_limit": 5.0,
        "enum_max": 5_000_000,  # above every Theorem 1 bound here (<= 4,194,281): never binds
    }


def _digits() -> Any:
    """(x_train, y_train, x_test, y_test) of scikit-learn's digits, pixels / 16, stratified 75/25 split."""
    try:
        from ..datasets import load_digits

        d = load_digits()
        return d.x_train, d.y_train, d.x_test, d.y_test
    except ImportError:
        from sklearn.datasets import load_digits as sk_digits
        from sklearn.model_selection import train_test_split

        x, y = sk_digits(return_X_y=True)
        xtr, xte, ytr, yte = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
        return xtr, ytr, xte, yte


def _train(data: Any, widths: tuple[int, int], seed: int, epochs: int) -> tuple[Any, float, str]:
    """A trained ReLU classifier: ``reluscope.train.mlp`` (torch) if available, else scikit-learn's MLP."""
    from ..network import Network

    xtr, ytr, xte, yte = data
    try:
        from ..train import mlp

        res = mlp((xtr, ytr, xte, yte), widths, epochs=epochs, lr=0.05, batch_size=32, seed=seed)
        return res.network, float(res.test_accuracy), f"reluscope.train.mlp (SGD, {epochs} epochs)"
    except ImportError:
        pass
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        clf = MLPClassifier(widths, max_iter=300, random_state=seed).fit(xtr, ytr)
    n = len(clf.coefs_)
    net = Network(
        [
            (w.T, b, "relu" if i < n - 1 else "identity")
            for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True))
        ]
    )
    return net, float(clf.score(xte, yte)), "scikit-learn MLPClassifier (Adam, 300 iterations)"


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReluscopeWarning)
        return fn(*args, **kwargs)


def _measure(net: Any, x_all: np.ndarray, cfg: dict[str, Any], serra2018: int) -> dict[str, Any]:
    from .. import milp, regions
    from ..domains import Box

    box = Box(0.0, 1.0, dim=N_IN)
    row: dict[str, Any] = {"data_patterns": int(np.unique(net.pattern(x_all), axis=0).shape[0]),
                           "serra2018": serra2018}
    t0 = time.perf_counter()
    rc = _quiet(milp.count_regions, net, box, time_limit=cfg["count_limit"])
    row.update(count=int(rc.count), count_status=rc.status, count_seconds=round(time.perf_counter() - t0, 2))
    row["enumerated"], row["enum_status"], row["enum_seconds"] = None, "not run", None
    enum = getattr(regions, "enumerate", None)
    if enum is not None and cfg["enum_max"] > 0:
        t0 = time.perf_counter()
        # a cap above Theorem 1's bound cannot bind: then none (a capped search runs on one thread)
        cap = None if cfg["enum_max"] >= row["serra2018"] else cfg["enum_max"]
        res = _quiet(enum, net, box, max_regions=cap, method="search")
        row["enumerated"] = int(res.n_activation_regions)
        row["enum_status"] = "partial" if res.is_partial else "exact"
        row["enum_seconds"] = round(time.perf_counter() - t0, 2)
    # the number of regions: an exact count from either method, else the larger lower bound
    if row["enum_status"] == "exact":
        row["regions"], row["regions_status"] = row["enumerated"], "exact"
    elif rc.status == "exact":
        row["regions"], row["regions_status"] = row["count"], "exact"
    else:
        row["regions"], row["regions_status"] = max(row["count"], row["enumerated"] or 0), "lower bound"
    ap = getattr(milp, "approx_count", None)
    if ap is not None:
        a = _quiet(ap, net, box, seed=0, time_limit=cfg["approx_limit"])
        row.update(approx_bound=int(a.bound), approx_witnessed=int(a.n_witnessed), approx_status=a.status)
    else:
        row.update(approx_bound=None, approx_witnessed=None, approx_status="not available")
    wb = getattr(milp, "weight_bound", None)
    row["weight_bound"] = None if wb is None else int(_quiet(wb, net, box).bound)
    return row


def _rows(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    from .. import bounds

    data = _digits()
    x_all = np.concatenate([data[0], data[2]])
    rows = []
    for n1 in cfg["n1"]:
        widths = (n1, N_TOTAL - n1)
        for seed in cfg["seeds"]:
            for attempt in range(_ATTEMPTS):  # SGD can kill a 1-2 unit bottleneck: retrain a dead run
                train_seed = seed + 100 * attempt
                net, acc, trainer = _train(data, widths, train_seed, cfg["epochs"])
                if acc > _DEAD_ACCURACY:
                    break
            row = {
                "n1": n1,
                "n2": widths[1],
                "seed": seed,
                "train_seed": train_seed,
                "test_accuracy": round(acc, 4),
                "trainer": trainer,
                "serra2018": bounds.serra2018(N_IN, list(widths)),
                "montufar2017": bounds.montufar2017(N_IN, list(widths)),
            }
            row.update(_measure(net, x_all, cfg, row["serra2018"]))
            rows.append(row)
    return rows


def _claims(rows: list[dict[str, Any]]) -> dict[str, bool]:
    from .. import bounds

    thm1 = [bounds.serra2018(N_IN, [n1, N_TOTAL - n1]) for n1 in range(1, N_TOTAL)]
    half = N_TOTAL // 2
    exact = [r for r in rows if r["regions_status"] == "exact"]
    narrow = [r for r in rows if r["n1"] == 1]
    wide = [r for r in rows if r["n1"] >= 8]
    both = [r for r in rows if r["count_status"] == "exact" and r["enum_status"] == "exact"]
    claims = {
        "every count (or lower bound) <= Theorem 1 bound": all(r["regions"] <= r["serra2018"] for r in rows),
        "every count (or lower bound) <= weight-aware bound": all(
            r["weight_bound"] is None or r["regions"] <= r["weight_bound"] for r in rows
        ),
        "weight-aware bound <= Theorem 1 bound": all(
            r["weight_bound"] is None or r["weight_bound"] <= r["serra2018"] for r in rows
        ),
        "exact counts >= distinct patterns of the data": all(r["regions"] >= r["data_patterns"] for r in exact),
        "exact counts >= MIPBound's witnessed regions": all(
            r["approx_witnessed"] is None or r["regions"] >= r["approx_witnessed"] for r in exact
        ),
        "the search's count equals the MILP's wherever both finished": all(
            r["enumerated"] == r["count"] for r in both
        ),
        "Theorem 1 bound grows with n1 up to n1 = n2 (bottleneck)": all(
            a < b for a, b in zip(thm1[: half - 1], thm1[1:half], strict=True)
        ),
    }
    if narrow and wide:
        claims["n1 = 1 nets have fewer regions than every wide-first-layer net (bottleneck is real)"] = (
            max(r["regions"] for r in narrow) <= thm1[0] < min(r["regions"] for r in wide)
        )
    return claims


def _png(rows: list[dict[str, Any]], dpi: int) -> bytes:
    from matplotlib.figure import Figure

    from .. import bounds

    n1s = np.arange(1, N_TOTAL)
    fig = Figure(figsize=(13, 4.6))
    ax, ax2, ax3 = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.6, 1, 1]})
    ax.semilogy(
        n1s,
        [bounds.serra2018(N_IN, [k, N_TOTAL - k]) for k in n1s],
        "-",
        color="C3",
        label="Thm 1 upper bound (widths only)",
    )
    ax.semilogy(
        n1s,
        [bounds.montufar2017(N_IN, [k, N_TOTAL - k]) for k in n1s],
        "--",
        color="C1",
        label="Montúfar 2017 upper bound",
    )
    ax.axhline(2.0**N_TOTAL, color="k", lw=0.8, ls="-.", label="2^22")
    r_n1 = np.array([r["n1"] for r in rows], dtype=float)
    jit = (np.array([r["seed"] for r in rows]) - 0.5) * 0.15

    def pts(key: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        vals = np.array([np.nan if r[key] is None else float(r[key]) for r in rows])
        m = np.isfinite(vals) & (vals > 0) & (np.ones(len(rows), bool) if mask is None else mask)
        return (r_n1 + jit)[m], vals[m]

    exact = np.array([r["regions_status"] == "exact" for r in rows])
    milp_cut = np.array([r["count_status"] != "exact" for r in rows])
    ax.plot(*pts("weight_bound"), "v", color="C3", mfc="none", label="weight-aware upper bound")
    ax.plot(*pts("regions", exact), "o", color="C2", label="regions (exact count)")
    ax.plot(*pts("regions", ~exact), "^", color="C2", mfc="none", ms=8, label="regions, lower bound (≥)")
    ax.plot(*pts("count", milp_cut), "+", color="C7", ms=7, label="MILP count at its time limit")
    ax.plot(*pts("approx_bound"), "s", color="C4", mfc="none", ms=5, label="MIPBound lower bound (95 %)")
    ax.plot(*pts("data_patterns"), "x", color="C0", label="patterns of the 1,797 digits")
    ax.set_xlabel("n1 (first layer); n2 = 22 - n1")
    ax.set_ylabel("activation regions in [0, 1]^64")
    ax.set_title("counts and bounds", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    acc = np.array([r["test_accuracy"] for r in rows])
    ax2.plot(r_n1 + jit, 100 * acc, "o", color="C0")
    ax2.set_xlabel("n1")
    ax2.set_ylabel("test accuracy (%)")
    ax2.set_title("accuracy", fontsize=10)
    cnt = np.array([r["regions"] for r in rows], dtype=float)
    ax3.semilogx(cnt[exact], 100 * acc[exact], "o", color="C2", label="exact")
    ax3.semilogx(cnt[~exact], 100 * acc[~exact], "^", color="C2", mfc="none", label="lower bound")
    ax3.set_xlabel("activation regions")
    ax3.set_ylabel("test accuracy (%)")
    ax3.set_title("accuracy vs regions", fontsize=10)
    ax3.legend(fontsize=8)
    fig.suptitle("Digits MLPs with 22 ReLUs in two layers (cf. Serra et al. 2018, Fig. 5)", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _fmt(v: Any) -> str:
    return "" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))


def _seed(row: dict[str, Any]) -> str:
    return (
        str(row["seed"])
        if row["train_seed"] == row["seed"]
        else f"{row['seed']} (retrained: {row['train_seed']})"
    )


def _csv(rows: list[dict[str, Any]]) -> str:
    return (
        "\n".join(
            [",".join(COLUMNS)]
            + [
                ",".join(
                    ""
                    if r[c] is None
                    else f'"{r[c]}"'
                    if isinstance(r[c], str) and "," in r[c]
                    else str(r[c])
                    for c in COLUMNS
                )
                for r in rows
            ]
        )
        + "\n"
    )


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3:
        return None
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    c = np.corrcoef(ra, rb)[0, 1]
    return None if not math.isfinite(c) else float(c)


def _summary(
    rows: list[dict[str, Any]],
    claims: dict[str, bool],
    cfg: dict[str, Any],
    seconds: float,
    rho: float | None,
) -> str:
    lines = [
        "# serra-counting: regions of trained networks vs bounds (Serra et al. 2018, Fig. 5)",
        "",
        f"Digit classifiers 64-n1-(22-n1)-10 trained on scikit-learn's digits ({rows[0]['trainer']}); "
        "activation regions in the input box [0, 1]^64, counted twice: by `regions.enumerate`'s depth-first "
        f"search (up to {cfg['enum_max']:,} regions) and by the MILP of Serra et al. (SCIP counting, margin "
        f"1e-6) with a {cfg['count_limit']:g} s limit per network. '≥' marks a count stopped at its limit: "
        "a lower bound, not the number of regions. MIPBound is a lower bound valid with probability 0.95 "
        f"({cfg['approx_limit']:g} s). A run that ended at chance accuracy (dead units: SGD can kill a 1-2 "
        "unit bottleneck) is retrained with seed + 100.",
        "",
        "| n1 | n2 | seed | test acc. | regions (search) | search s | regions (MILP) | MIPBound | weight bound "
        "| Thm 1 | data patterns |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(v: Any, status: str) -> str:
        return "" if v is None else f"{v:,}" if status == "exact" else f"≥ {v:,}"

    for r in rows:
        lines.append(
            f"| {r['n1']} | {r['n2']} | {_seed(r)} | {100 * r['test_accuracy']:.1f} % | "
            f"{cell(r['enumerated'], r['enum_status'])} | {_fmt(r['enum_seconds'])} | "
            f"{cell(r['count'], r['count_status'])} | {_fmt(r['approx_bound'])} | {_fmt(r['weight_bound'])} | "
            f"{r['serra2018']:,} | {r['data_patterns']:,} |"
        )
    lines += ["", "## Claims", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {name}" for name, ok in claims.items()]
    agree = [r for r in rows if r["enum_status"] == "exact" and r["count_status"] == "exact"]
    if agree:
        lines.append(
            f"- Cross-check: both methods finished on {len(agree)} of {len(rows)} networks (the claim above "
            "compares them); elsewhere the MILP stopped at its time limit."
        )
    if rho is not None:
        lines.append(
            f"- Not asserted: Spearman correlation between test accuracy and the (lower bound on the) "
            f"number of regions over these networks: {rho:.2f}."
        )
    lines += [
        "",
        "The paper counted on MNIST with CPLEX and no time limit; here the search counts what the MILP "
        "cannot finish within its limit, so the right half of the curve is exact too (where it is not, "
        "the search stopped at its cap).",
        "",
        f"Paper: {PAPER}.",
        f"Computed in {seconds:.0f} s; data in `counts.csv`, figure `counts.png`.",
        "",
    ]
    return "\n".join(lines)


def run(
    out_dir: str | os.PathLike, quick: bool = False, *, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Train, count and bound; write ``counts.csv``, ``counts.png`` and ``summary.md`` to ``out_dir``.

    Files are written atomically once everything is computed. If a claim fails, the
    files are still written (``summary.md`` marks it FAIL) and then a ``ClaimNotReproducedError``
    naming the failed claims is raised.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created if missing).
    quick : bool
        Two splits (n1 = 1, 11), one seed, time limits of a few seconds (under a minute).
    config : dict, optional
        Overrides entries of :func:`settings` (``n1``, ``seeds``, ``epochs``,
        ``count_limit``, ``approx_limit``, ``enum_max``).

    Returns
    -------
    dict
        ``rows`` (one per network, the CSV's columns), ``claims`` (name -> bool),
        ``settings``, ``files``, ``spearman_accuracy_regions``.

    Examples
    --------
    One narrow network (a 1-unit first layer has at most 1 + 21 + 1 = 23 regions):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cfg = {"n1": (1,), "seeds": (0,), "epochs": 3, "count_limit": 5.0, "approx_limit": 1.0}
    ...     res = run(d, config=cfg)
    >>> row = res["rows"][0]
    >>> row["count_status"], row["count"] <= 23, all(res["claims"].values())
    ('exact', True, True)
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out_dir' must be a folder; {str(out)!r} is a file.")
    t0 = time.perf_counter()
    cfg = settings(quick)
    unknown = set(config or {}) - set(cfg)
    if unknown:
        raise InvalidParameterError(f"'config' keys must be among {sorted(cfg)}; got {sorted(unknown)}.")
    cfg.update(config or {})
    rows = _rows(cfg)
    claims = _claims(rows)
    rho = _spearman(np.array([r["test_accuracy"] for r in rows]), np.array([r["regions"] for r in rows]))
    seconds = time.perf_counter() - t0
    contents = {
        "counts.csv": _csv(rows).encode(),
        "counts.png": _png(rows, dpi=80 if quick else 130),
        "summary.md": _summary(rows, claims, cfg, seconds, rho).encode(),
    }
    files = write_files(out, contents)
    raise_failed("serra-counting", claims, out)
    return {
        "experiment": "serra-counting",
        "rows": rows,
        "claims": claims,
        "settings": cfg,
        "files": files,
        "seconds": seconds,
        "spearman_accuracy_regions": rho,
    }
