"""Lossless compression of a network on a bounded domain (Serra, Kumar, Ramalingam, CPAIOR 2020).

:func:`compress` removes what the domain makes redundant — stably inactive units,
stably active units that are affine combinations of others, layers that are affine
on the whole domain, constant units, units nobody listens to — and proves the
result equal to the original with :func:`equivalent` (an exact MILP on ``|f - g|``).
The rules are listed in :mod:`reluscope._compress_rules`; the stability they rely
on comes from :func:`reluscope.stability`.

Examples
--------
>>> import numpy as np
>>> from reluscope import Network, Box
>>> W = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [-1.0, -1.0]])
>>> net = Network([(W, np.array([-0.5, 2.0, 1.0, -3.0]), "relu"),       # unstable, on, on (2x), off
...                (np.array([[1.0, 1.0, 1.0, 4.0]]), np.zeros(1), "identity")])
>>> small, report = compress(net, Box(0.0, 1.0, dim=2))
>>> small.hidden_widths, report.reasons(), report.verification.equal
((2,), {'stably_inactive': 1, 'dependent': 1}, True)
"""

from __future__ import annotations

import sys
import time
import types
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._compress_rules import REASONS, Removal, apply_rules
from ._equivalence import EquivalenceResult, equivalent
from ._errors import InvalidParameterError, PartialResultWarning, ShapeError, SolverError
from .domains import Box, Polytope, as_domain
from .network import Network
from .stability import StabilityResult
from .stability import stability as _stability

__all__ = ["compress", "equivalent", "CompressionReport", "EquivalenceResult", "Removal", "REASONS"]


@dataclass(frozen=True)
class CompressionReport:
    """What :func:`compress` removed, why, and the proof that nothing changed.

    Attributes
    ----------
    removed : tuple of Removal
        One entry per removed hidden unit: original ``layer`` and ``unit`` index and the
        ``reason`` (``"stably_inactive"``, ``"constant"``, ``"zero_outgoing"``,
        ``"dependent"``, ``"folded_layer"``, ``"collapsed"``).
    removed_per_layer : tuple of int
        Number of removed units per original hidden layer.
    units_before, units_after, layers_before, layers_after, params_before, params_after : int
        Hidden units, affine layers (depth) and parameters of the two networks.
    widths_before, widths_after : tuple of int
    times : dict
        Seconds per phase: ``"stability"``, ``"rules"``, ``"verify"``.
    stability : StabilityResult
    verification : EquivalenceResult or None
        ``None`` when ``verify=False``.
    """

    removed: tuple[Removal, ...]
    removed_per_layer: tuple[int, ...]
    units_before: int
    units_after: int
    layers_before: int
    layers_after: int
    params_before: int
    params_after: int
    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]
    times: dict[str, float] = field(default_factory=dict)
    stability: StabilityResult | None = None
    verification: EquivalenceResult | None = None

    @property
    def compression(self) -> float:
        """Fraction of hidden units removed (Serra et al. 2020, Table 1's "compression")."""
        return 0.0 if self.units_before == 0 else (self.units_before - self.units_after) / self.units_before

    def reasons(self) -> dict[str, int]:
        """Number of removed units per reason.

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([(np.array([[1.0], [0.0]]), np.array([-5.0, 1.0]), "relu"),
        ...                (np.ones((1, 2)), np.zeros(1), "identity")])
        >>> compress(net, Box(-1.0, 1.0, dim=1))[1].reasons()
        {'constant': 1, 'stably_inactive': 1}
        """
        c = Counter(r.reason for r in self.removed)
        return {k: c[k] for k in REASONS if c[k]}

    def summary(self) -> str:
        """Human-readable report.

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([(np.array([[1.0], [1.0]]), np.array([-5.0, 0.0]), "relu"),
        ...                (np.ones((1, 2)), np.zeros(1), "identity")])
        >>> print(compress(net, Box(-1.0, 1.0, dim=1))[1].summary().splitlines()[0])
        compress: hidden units 2 -> 1 (50.0 % removed), layers 2 -> 2, parameters 7 -> 4
        """
        lines = [
            f"compress: hidden units {self.units_before} -> {self.units_after} "
            f"({100 * self.compression:.1f} % removed), layers {self.layers_before} -> {self.layers_after}, "
            f"parameters {self.params_before} -> {self.params_after}",
            "  removed per layer: " + ", ".join(str(n) for n in self.removed_per_layer),
            "  reasons: " + (", ".join(f"{k} {v}" for k, v in self.reasons().items()) or "none"),
            "  time: " + ", ".join(f"{k} {v:.3f} s" for k, v in self.times.items()),
        ]
        v = self.verification
        if v is not None:
            lines.append(f"  verified: max |f - g| <= {v.max_abs_diff:.3g} over the domain "
                         f"({'exact' if v.exact else 'not exact'}, {v.n_lps} LPs, {v.n_milps} MILPs)")
        return "\n".join(lines)


def compress(
    net: Network,
    domain: Box | Polytope | Any,
    stability: StabilityResult | None = None,
    verify: bool = True,
    *,
    data: Any = None,
    method: str = "auto",
    eps: float = 1e-6,
    time_limit: float | None = None,
    fold: str = "if_smaller",
    rank_tol: float = 1e-10,
    seed: Any = 0,
    progress: bool = False,
) -> tuple[Network, CompressionReport]:
    """A smaller network equal to ``net`` on ``domain``, and a report.

    Parameters
    ----------
    net : Network
    domain : Box, Polytope or (lo, hi)
        The bounded input set on which the result must equal ``net``.
    stability : StabilityResult, optional
        Precomputed :func:`reluscope.stability` of ``net`` on this domain; computed
        (with ``method``, ``data``, ``eps``, ``time_limit``, ``seed``) when omitted.
    verify : bool, default True
        Prove the result equal with :func:`equivalent` (exact MILP, dual-bound certified).
    data : array_like of shape (n_points, n_in), optional
        Sample inputs: instability witnesses for the stability test, and extra points
        for the sampling check of the verification.
    method, eps, time_limit, seed
        Passed to :func:`reluscope.stability` (``time_limit`` also bounds the verification).
    fold : {"if_smaller", "always", "never"}, default "if_smaller"
        Fold a layer whose units are all stably active into the next layer when that does
        not increase the parameter count (``"always"``: regardless; ``"never"``: keep it).
    rank_tol : float, default 1e-10
        Relative tolerance of the exact-dependence test between stably active units.
    progress : bool, default False
        Show the progress of the stability phase on stderr.

    Returns
    -------
    small : Network
        Equal to ``net`` on the domain (to ``report.verification.max_abs_diff``).
    report : CompressionReport

    Raises
    ------
    SolverError
        If the verification finds a point where the result differs from ``net`` (a
        stability claim that did not hold numerically); nothing is returned then.

    Warns
    -----
    PartialResultWarning
        If the verification could not close the gap to zero (time limit).

    Examples
    --------
    >>> net = Network.random([3, 6, 6, 2], seed=7, bias_scale=2.0)
    >>> small, rep = compress(net, Box(-1.0, 1.0, dim=3))
    >>> rep.units_before, rep.units_after, rep.layers_before, rep.layers_after
    (12, 2, 3, 2)
    >>> rep.reasons(), rep.verification.equal
    ({'stably_inactive': 8, 'folded_layer': 2}, True)
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a reluscope Network; got {type(net).__name__}.")
    if fold not in ("if_smaller", "always", "never"):
        raise InvalidParameterError(f"'fold' must be 'if_smaller', 'always' or 'never'; got {fold!r}.")
    if not (isinstance(rank_tol, (int, float)) and 0 <= rank_tol < 1):
        raise InvalidParameterError(f"'rank_tol' must be a number in [0, 1); got {rank_tol!r}.")
    dom = as_domain(domain, net.n_in, bounded=True)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if stability is None:
        stab = _stability(net, dom, method, data=data, eps=eps, time_limit=time_limit, seed=seed,
                          progress=progress)
    elif isinstance(stability, StabilityResult):
        if stability.layer_sizes != net.hidden_widths:
            raise ShapeError(
                f"'stability' describes hidden layers {stability.layer_sizes} but 'net' has "
                f"{net.hidden_widths}; pass the stability of this network."
            )
        stab = stability
    else:
        raise InvalidParameterError(
            f"'stability' must be None or a StabilityResult; got {type(stability).__name__}."
        )
    times["stability"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    layers = [(layer.weight, layer.bias, layer.activation) for layer in net.layers]
    new_layers, removed = apply_rules(layers, stab.per_layer(stab.piece), fold=fold, rank_tol=rank_tol)
    per_layer = [0] * len(net.hidden_widths)
    for r in removed:
        per_layer[r.layer] += 1
    small = net.with_layers(
        new_layers, compressed={"units_removed": len(removed), "from_widths": list(net.widths)}
    )
    times["rules"] = time.perf_counter() - t0
    verification = None
    if verify:
        t0 = time.perf_counter()
        verification = equivalent(net, small, dom, data=data, seed=seed, time_limit=time_limit)
        times["verify"] = time.perf_counter() - t0
        if verification.attained > verification.tol:
            raise SolverError(
                f"compress: the rewritten network differs from 'net' by {verification.attained:.3g} at "
                f"x = {np.array2string(verification.maximiser, precision=4, threshold=8)} (output "
                f"{verification.output}); a stability bound could not be trusted. Retry with a larger 'eps'."
            )
        if not verification.equal:
            warnings.warn(
                f"compress: equality proven only up to {verification.max_abs_diff:.3g} (time limit or solver "
                "precision); see report.verification.", PartialResultWarning, stacklevel=2,
            )
    report = CompressionReport(
        removed=tuple(removed),
        removed_per_layer=tuple(per_layer),
        units_before=net.n_units,
        units_after=small.n_units,
        layers_before=net.depth,
        layers_after=small.depth,
        params_before=net.n_params,
        params_after=small.n_params,
        widths_before=net.widths,
        widths_after=small.widths,
        times=times,
        stability=stab,
        verification=verification,
    )
    return small, report


class _CallableModule(types.ModuleType):
    """``reluscope.compress`` is both this module and the function: importing the submodule
    (e.g. ``from reluscope.compress import CompressionReport``) rebinds the package attribute
    ``reluscope.compress`` to the module, so the module forwards calls to :func:`compress`."""

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Network, CompressionReport]:
        return compress(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
