"""One-command reproductions of published experiments (``reluscope repro NAME``).

Each experiment is a module of this package with ``TITLE`` (one line), ``PAPER``
(citation) and ``run(out_dir, quick=False) -> dict``: it writes its figures, CSV
files and a ``summary.md`` (ours beside the paper's numbers where the paper gives
them) into ``out_dir`` atomically, checks the paper's qualitative claims, and
returns a JSON-ready dict of what it measured. ``quick=True`` runs in under a
minute (CI smoke test).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .._errors import InvalidParameterError

__all__ = ["EXPERIMENTS", "get", "run"]

#: name -> module (relative to this package)
EXPERIMENTS: dict[str, str] = {
    "sawtooth": "sawtooth",
    "hanin-rolnick-init": "hanin_rolnick_init",
    "hanin-rolnick-training": "hanin_rolnick_training",
    "hanin-rolnick-memorization": "hanin_rolnick_memorization",
    "bias-weight-scale": "bias_weight_scale",
    "serra-bounds": "serra_bounds",
    "serra-counting": "serra_counting",
    "serra-compression": "serra_compression",
}


def get(name: str) -> Any:
    """The module of experiment ``name``.

    Examples
    --------
    >>> get("serra-bounds").__name__
    'reluscope.experiments.serra_bounds'
    """
    if name not in EXPERIMENTS:
        raise InvalidParameterError(
            f"Unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} (see `reluscope repro --list`)."
        )
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")


def run(name: str, out_dir: str | Path, quick: bool = False) -> dict[str, Any]:
    """Run experiment ``name`` into ``out_dir``; returns what it measured."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return get(name).run(out, quick=quick)
