"""Reproduction "serra-compression": Serra, Kumar & Ramalingam (CPAIOR 2020), Table 1.

Two-hidden-layer ReLU classifiers of width 25, 50 and 100 are trained with l1
regularisation (:func:`reluscope.train.mlp`, the authors' recipe), then compressed
losslessly on the input box ``[0, 1]^n`` (:func:`reluscope.compress`: stably inactive
units removed, dependent stably active units merged), and every compressed network is
proven equal to the original by an exact MILP (:func:`reluscope.equivalent`).

Columns, as in the paper: test accuracy, units removed per layer, compression (% of
hidden units removed), runtime (stability + rewriting; the proof of equality is
timed separately). The l1 weights are the paper's (0.001, 0.0002, 0 for widths 25
and 50; 0.0005, 0.0001, 0 for width 100) plus the talk's 0.00005 and 0.00001 for
width 100. Claims checked in ``summary.md``: more l1 removes more units; without l1
almost nothing is removed; every compressed network is exactly equal to the original.

The networks are trained on the CPU for the paper's 120 epochs on MNIST (``EPOCHS``; a
full MNIST run trains 33 networks, about 1.5 hours on two cores; ``epochs=20`` gives a
faster, less faithful run). Trained networks are cached in ``out_dir/nets``, so a full
run can be done in several shorter calls (``configs=...``) and re-aggregated.

References
----------
T. Serra, A. Kumar, S. Ramalingam, "Lossless compression of deep neural networks",
CPAIOR 2020 (arXiv 2001.00218), Table 1.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reluscope._atomic import atomic_path
from reluscope._errors import InvalidParameterError
from reluscope.domains import Box

__all__ = ["run", "TITLE", "PAPER", "PAPER_TABLE", "CONFIGS", "EPOCHS", "COLUMNS"]

TITLE = "Lossless compression of l1-trained 2-layer MLPs by stable units (Serra et al. 2020, Table 1)"
PAPER = (
    "T. Serra, A. Kumar, S. Ramalingam, Lossless compression of deep neural networks, CPAIOR 2020 "
    "(arXiv 2001.00218)"
)

#: (width, l1) -> (accuracy %, removed layer 1, removed layer 2, compression %), MNIST, 31 networks each
PAPER_TABLE: dict[tuple[int, float], tuple[float, float, float, float]] = {
    (25, 0.001): (95.76, 5.7, 5.1, 22.0),
    (25, 0.0002): (97.24, 1.2, 3.0, 8.3),
    (25, 0.0): (96.68, 0.0, 0.0, 0.0),
    (50, 0.001): (96.05, 16.9, 12.5, 29.4),
    (50, 0.0002): (97.81, 7.6, 7.5, 15.1),
    (50, 0.0): (97.62, 0.0, 0.0, 0.0),
    (100, 0.0005): (97.14, 36.7, 24.9, 30.8),
    (100, 0.0001): (98.14, 18.6, 11.1, 14.9),
    (100, 0.0): (98.00, 0.0, 0.0, 0.0),
}
#: every (width, l1) trained: the paper's grid plus the talk's smaller l1 for width 100
CONFIGS: tuple[tuple[int, float], ...] = (
    (25, 0.001), (25, 0.0002), (25, 0.0),
    (50, 0.001), (50, 0.0002), (50, 0.0),
    (100, 0.0005), (100, 0.0001), (100, 0.00005), (100, 0.00001), (100, 0.0),
)
#: training epochs per data set: the paper's 120 on MNIST (469 mini-batches each); digits has 11
#: mini-batches per epoch, so 400 epochs give it about as many SGD steps as 10 MNIST epochs
EPOCHS = {"mnist": 120, "digits": 400}
SEEDS = (0, 1, 2)
N_WITNESS = 5000   # training points given to stability() as instability witnesses
COLUMNS = (
    "dataset", "width", "l1", "seed", "epochs", "train_accuracy", "test_accuracy", "test_accuracy_compressed",
    "removed_l1", "removed_l2", "compression_pct", "active_l1", "inactive_l1", "active_l2", "inactive_l2",
    "settled_without_milp", "n_lps", "n_milps", "stability_s", "rules_s", "runtime_s", "verify_s",
    "max_abs_diff", "exact", "train_s",
)


def _dataset(name: str, quick: bool) -> Any:
    from reluscope.datasets import load_dataset

    if name == "digits":
        return load_dataset("digits")
    d = load_dataset(name, dtype=np.float32)
    if quick:
        d = d.subset(6000, 2000, seed=0)
    from reluscope.datasets import Dataset

    return Dataset(d.name, d.x_train.astype(np.float64), d.y_train, d.x_test.astype(np.float64), d.y_test,
                   d.image_shape)


def _train(data: Any, dataset: str, width: int, l1: float, seed: int, epochs: int, cache: Path | None
           ) -> tuple[Any, dict[str, float]]:
    """Train (or load from the cache) one network; returns it and its training facts."""
    from reluscope import Network

    key = f"{dataset}_w{width}_l1-{l1:g}_s{seed}_e{epochs}"
    if cache is not None and (cache / f"{key}.npz").is_file():
        net = Network.load(cache / f"{key}.npz")
        facts = net.metadata.get("train_facts")
        if isinstance(facts, dict):
            return net, facts
    from reluscope.train import mlp

    res = mlp(data, (width, width), l1=l1, epochs=epochs, seed=seed)
    facts = {"train_accuracy": res.train_accuracy, "test_accuracy": res.test_accuracy, "train_s": res.seconds}
    net = res.network.with_layers(res.network.layers, train_facts=facts)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        net.save(cache / f"{key}.npz")
    return net, facts


def _one(data: Any, dataset: str, width: int, l1: float, seed: int, epochs: int, cache: Path | None,
         n_witness: int) -> dict[str, Any]:
    from reluscope.compress import compress
    from reluscope.train import accuracy

    net, facts = _train(data, dataset, width, l1, seed, epochs, cache)
    rng = np.random.default_rng(seed)
    k = min(n_witness, data.x_train.shape[0])
    witness = data.x_train[np.sort(rng.choice(data.x_train.shape[0], size=k, replace=False))]
    small, rep = compress(net, Box(0.0, 1.0, dim=net.n_in), data=witness, seed=seed)
    stab = rep.stability
    counts = stab.counts()
    v = rep.verification
    return {
        "dataset": dataset, "width": width, "l1": l1, "seed": seed, "epochs": epochs,
        "train_accuracy": facts["train_accuracy"], "test_accuracy": facts["test_accuracy"],
        "test_accuracy_compressed": accuracy(small, data.x_test, data.y_test),
        "removed_l1": rep.removed_per_layer[0], "removed_l2": rep.removed_per_layer[1],
        "compression_pct": 100.0 * rep.compression,
        "active_l1": counts[0]["stably_active"], "inactive_l1": counts[0]["stably_inactive"],
        "active_l2": counts[1]["stably_active"], "inactive_l2": counts[1]["stably_inactive"],
        "settled_without_milp": stab.settled_without_milp, "n_lps": stab.n_lps, "n_milps": stab.n_milps,
        "stability_s": rep.times["stability"], "rules_s": rep.times["rules"],
        "runtime_s": rep.times["stability"] + rep.times["rules"], "verify_s": rep.times["verify"],
        "max_abs_diff": v.max_abs_diff, "exact": bool(v.exact), "train_s": facts["train_s"],
    }


def _mean_sem(values: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    sem = float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else 0.0
    return float(a.mean()), sem


def _summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for width, l1 in dict.fromkeys((r["width"], r["l1"]) for r in rows):
        sel = [r for r in rows if r["width"] == width and r["l1"] == l1]
        s: dict[str, Any] = {"width": width, "l1": l1, "n": len(sel)}
        for col in ("test_accuracy", "removed_l1", "removed_l2", "compression_pct", "runtime_s", "verify_s"):
            s[col], s[col + "_sem"] = _mean_sem([r[col] for r in sel])
        s["test_accuracy"] *= 100
        s["test_accuracy_sem"] *= 100
        s["runtime_max_s"] = max(r["runtime_s"] for r in sel)
        s["settled_without_milp_min"] = min(r["settled_without_milp"] for r in sel)
        s["n_milps"] = int(sum(r["n_milps"] for r in sel))
        s["max_abs_diff"] = max(r["max_abs_diff"] for r in sel)
        s["all_exact"] = all(r["exact"] for r in sel)
        s["accuracy_unchanged"] = all(r["test_accuracy"] == r["test_accuracy_compressed"] for r in sel)
        s["paper"] = PAPER_TABLE.get((width, l1))
        out.append(s)
    return out


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    buf.write(",".join(COLUMNS) + "\n")
    for r in rows:
        buf.write(",".join(_fmt(r[c]) for c in COLUMNS) + "\n")
    return buf.getvalue()


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _claims(summary: list[dict[str, Any]]) -> dict[str, Any]:
    by_width: dict[int, list[dict[str, Any]]] = {}
    for s in summary:
        by_width.setdefault(s["width"], []).append(s)
    monotone = True
    for v in by_width.values():
        pct = [s["compression_pct"] for s in sorted(v, key=lambda s: -s["l1"])]
        monotone &= all(a >= b - 1e-9 for a, b in zip(pct, pct[1:], strict=False))
    no_l1 = [s["compression_pct"] for s in summary if s["l1"] == 0.0]
    claims: dict[str, Any] = {
        "more_l1_more_compression": bool(monotone),
        "compression_without_l1_pct": max(no_l1) if no_l1 else None,
        "all_verified_exact": all(s["all_exact"] for s in summary),
        "max_abs_diff": max(s["max_abs_diff"] for s in summary),
        "accuracy_unchanged": all(s["accuracy_unchanged"] for s in summary),
        "settled_without_milp_min": min(s["settled_without_milp_min"] for s in summary),
    }
    w100 = {s["l1"]: s["compression_pct"] for s in summary if s["width"] == 100}
    if all(k in w100 for k in (0.0005, 0.0001, 0.00005, 0.00001)):
        paper = (30.8, 14.9)
        err_paper = abs(w100[0.0005] - paper[0]) + abs(w100[0.0001] - paper[1])
        err_talk = abs(w100[0.00005] - paper[0]) + abs(w100[0.00001] - paper[1])
        claims["width100_l1_closer_to_paper"] = "paper (5e-4, 1e-4)" if err_paper <= err_talk else "talk (5e-5, 1e-5)"
        claims["width100_error_paper_l1"] = err_paper
        claims["width100_error_talk_l1"] = err_talk
    return claims


def _markdown(summary: list[dict[str, Any]], claims: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"# {TITLE}",
        "",
        f"Paper: {PAPER}.",
        "",
        f"Data: **{meta['dataset']}** ({meta['n_train']} training / {meta['n_test']} test images), input box "
        f"[0, 1]^{meta['n_in']}; {meta['epochs']} epochs of SGD (lr 0.01, momentum 0.9, batch 128, l1 on all "
        f"weights), seeds {meta['seeds']}; {meta['n_witness']} training points as instability witnesses. "
        f"Mean ± standard error over seeds; the paper's numbers (MNIST, 120 epochs, 31 networks) in brackets.",
        "",
        "| width | l1 | n | accuracy % | removed L1 | removed L2 | compression % | runtime s (max) | "
        "settled w/o MILP (min) | MILPs | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    def cell(s: dict[str, Any], col: str, k: int, digits: int = 1) -> str:
        txt = f"{s[col]:.{digits}f} ± {s[col + '_sem']:.{digits}f}"
        return txt + (f" [{s['paper'][k]:g}]" if s["paper"] is not None else "")

    for s in summary:
        lines.append(
            f"| {s['width']} | {s['l1']:g} | {s['n']} | {cell(s, 'test_accuracy', 0, 2)} | "
            f"{cell(s, 'removed_l1', 1)} | {cell(s, 'removed_l2', 2)} | {cell(s, 'compression_pct', 3)} | "
            f"{s['runtime_s']:.2f} "
            f"({s['runtime_max_s']:.2f}) | {100 * s['settled_without_milp_min']:.1f} % | {s['n_milps']} | "
            f"{s['max_abs_diff']:.1e} |"
        )
    lines += ["", "## Claims", ""]
    lines.append(f"- More l1, more compression (every width): **{claims['more_l1_more_compression']}**.")
    lines.append(f"- Compression without l1: {claims['compression_without_l1_pct']} % (paper: 0).")
    lines.append(f"- Every compressed network proven equal to the original (max |f - g| <= "
                 f"{claims['max_abs_diff']:.1e}, exact): **{claims['all_verified_exact']}**; test accuracy "
                 f"unchanged: **{claims['accuracy_unchanged']}**.")
    lines.append(f"- Units settled without a MILP: at least {100 * claims['settled_without_milp_min']:.1f} % "
                 "(the rest: proven by no method, reported unstable).")
    if "width100_l1_closer_to_paper" in claims:
        lines.append(f"- Width 100: the l1 weights that reproduce the paper's compression (30.8 %, 14.9 %) "
                     f"are the **{claims['width100_l1_closer_to_paper']}** ones (summed deviation "
                     f"{claims['width100_error_paper_l1']:.1f} vs {claims['width100_error_talk_l1']:.1f} points).")
    lines += ["", f"Total time {meta['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def run(
    out_dir: str | os.PathLike,
    quick: bool = False,
    dataset: str | None = None,
    *,
    configs: Sequence[tuple[int, float]] | None = None,
    seeds: Sequence[int] | None = None,
    epochs: int | None = None,
    n_witness: int = N_WITNESS,
    cache: bool = True,
) -> dict[str, Any]:
    """Train, compress and verify the networks; write ``compression.csv`` and ``summary.md``.

    Parameters
    ----------
    out_dir : str or PathLike
        Output folder (created if missing). Trained networks are cached in ``out_dir/nets``.
    quick : bool, default False
        Width 25 only, one seed, short training (MNIST: 6,000 training images); under a minute.
    dataset : {"digits", "mnist"}, optional
        Default: MNIST when the shared copy exists (:func:`reluscope.datasets.default_data_path`),
        else scikit-learn's digits.
    configs : sequence of (width, l1), optional
        Subset of :data:`CONFIGS` to run (to split a full run into shorter calls).
    seeds : sequence of int, optional
        Default ``(0, 1, 2)`` (``(0,)`` when quick).
    epochs : int, optional
        Default :data:`EPOCHS` for the data set (a tenth of it when quick).
    n_witness : int
        Training points passed to :func:`reluscope.stability` as witnesses.
    cache : bool, default True
        Reuse and store trained networks in ``out_dir/nets``.

    Returns
    -------
    dict
        ``files`` (name -> path), ``rows`` (one per network), ``summary`` (per configuration),
        ``claims``, ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = run(d, quick=True, dataset="digits", configs=[(25, 0.001)], epochs=20)
    >>> sorted(res["files"]), res["rows"][0]["width"], res["claims"]["all_verified_exact"]
    (['compression.csv', 'summary.md'], 25, True)
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out_dir' must be a folder; {str(out)!r} is a file.")
    if dataset is None:
        from reluscope.datasets import default_data_path

        dataset = "mnist" if default_data_path("mnist") is not None else "digits"
    if dataset not in ("digits", "mnist"):
        raise InvalidParameterError(f"'dataset' must be 'digits' or 'mnist'; got {dataset!r}.")
    if configs is None:
        configs = [c for c in CONFIGS if c[0] == 25] if quick else list(CONFIGS)
    configs = [(int(w), float(l1)) for w, l1 in configs]
    seeds = tuple(seeds) if seeds is not None else ((0,) if quick else SEEDS)
    if epochs is None:
        epochs = max(1, EPOCHS[dataset] // 10) if quick else EPOCHS[dataset]
    data = _dataset(dataset, quick)
    cache_dir = out / "nets" if cache else None
    rows = [_one(data, dataset, w, l1, s, epochs, cache_dir, n_witness) for w, l1 in configs for s in seeds]
    summary = _summarise(rows)
    claims = _claims(summary)
    seconds = time.perf_counter() - t0
    meta = {"dataset": dataset, "n_train": int(data.x_train.shape[0]), "n_test": int(data.x_test.shape[0]),
            "n_in": int(data.x_train.shape[1]), "epochs": epochs, "seeds": list(seeds),
            "n_witness": min(n_witness, int(data.x_train.shape[0])), "seconds": seconds}
    out.mkdir(parents=True, exist_ok=True)
    files = {"compression.csv": out / "compression.csv", "summary.md": out / "summary.md"}
    texts = {"compression.csv": _csv(rows), "summary.md": _markdown(summary, claims, meta)}
    for name, path in files.items():
        with atomic_path(path) as tmp:
            tmp.write_text(texts[name])
    result = {
        "experiment": "serra-compression", "files": {k: str(v) for k, v in files.items()},
        "rows": rows, "summary": summary, "claims": claims, "meta": meta, "seconds": seconds,
    }
    json.dumps(result, default=str)  # JSON-ready
    return result
