"""Hanin & Rolnick's bounds on the *expected* complexity of a ReLU network at random initialisation.

These are not bounds for a given (e.g. trained) network: they bound an expectation
over the random weights and biases, under the paper's assumptions

* (A1) the weights have a joint density;
* (A2) any ``k`` biases have a joint conditional density given the other parameters,

through two constants, taken here as inputs:

* ``C_bias = sup_{z_1..z_k} sup_b rho_{b_{z_1},...,b_{z_k}}(b)^{1/k}``; for i.i.d.
  ``N(0, sigma_b^2)`` biases it is ``1 / (sigma_b sqrt(2 pi))`` (:func:`c_bias_normal`);
* ``C_grad = sup_z sup_x E[||grad z(x)||^{2k}]^{1/(2k)}``, about 1 at He initialisation
  according to the authors.

References
----------
.. [HR19a] B. Hanin, D. Rolnick, "Complexity of linear regions in deep networks", ICML 2019.
.. [HR19b] B. Hanin, D. Rolnick, "Deep ReLU networks have surprisingly few activation
   patterns", NeurIPS 2019.

Notes
-----
The constant ``T = 2^5 C_grad C_bias`` of [HR19b]_ is quoted from the research notes
(``reference/milp_bounds.md`` §5) and agrees with Tseran & Montúfar's official maxout
code (``formula.py``: ``T = 2**5 * c_bias * c_grad``); the PDF itself was not available
to check the theorem number and the moment order in ``C_grad``.
"""

from __future__ import annotations

import math

from .._errors import InvalidParameterError
from ._validate import check_int, check_positive_float

__all__ = ["c_bias_normal", "c_bias_uniform", "hanin_rolnick2019", "hanin_rolnick2019_boundary"]


def c_bias_normal(sigma_b: float) -> float:
    """``C_bias`` for i.i.d. ``N(0, sigma_b^2)`` biases: the peak density ``1 / (sigma_b sqrt(2 pi))``.

    For independent biases the joint density of any ``k`` of them is the product of
    the marginals, so its ``k``-th root is at most the peak of one marginal.

    Examples
    --------
    >>> round(c_bias_normal(1.0), 5), round(c_bias_normal(0.5), 5)
    (0.39894, 0.79788)
    """
    s = check_positive_float(sigma_b, "sigma_b")
    return 1.0 / (s * math.sqrt(2.0 * math.pi))


def c_bias_uniform(half_width: float) -> float:
    """``C_bias`` for i.i.d. ``U(-a, a)`` biases (PyTorch's default ``nn.Linear`` init): ``1 / (2a)``.

    Examples
    --------
    >>> c_bias_uniform(0.25)
    2.0
    """
    a = check_positive_float(half_width, "half_width")
    return 1.0 / (2.0 * a)


def _constants(c_bias: float | None, c_grad: float) -> tuple[float, float]:
    cb = c_bias_normal(1.0) if c_bias is None else check_positive_float(c_bias, "c_bias")
    return cb, check_positive_float(c_grad, "c_grad")


def _hanin_rolnick_log10(n_units: int, n_in: int, volume: float, c_bias: float, c_grad: float) -> float:
    """``log10`` of :func:`hanin_rolnick2019` (finite even when the value overflows a float)."""
    if n_units < n_in:
        return n_units * math.log10(2.0)
    t = 2.0**5 * c_grad * c_bias
    ln = n_in * math.log(t * n_units) - math.lgamma(n_in + 1) + math.log(volume)
    return ln / math.log(10.0)


def hanin_rolnick2019(
    n_units: int,
    n_in: int,
    volume: float = 1.0,
    *,
    c_bias: float | None = None,
    c_grad: float = 1.0,
) -> float:
    """Bound on the expected number of activation regions in a volume, at random init [HR19b]_.

    .. math::

        \\frac{\\mathbb E[\\#\\{\\text{regions} \\cap C\\}]}{\\mathrm{vol}(C)}
        \\le \\frac{(T\\,N)^{n_{in}}}{n_{in}!},\\qquad T = 2^5\\,C_{grad}\\,C_{bias},

    for ``N = n_units >= n_in``, and the value is that density times ``volume``. The
    bound is independent of depth. For ``N < n_in`` the paper's bound is of order
    ``2^N``; we return the deterministic bound ``2**N`` (which also bounds the
    expectation).

    This is an expectation over random weights and biases satisfying (A1)-(A2) (see
    the module notes), **not** a bound for a particular or a trained network.

    Parameters
    ----------
    n_units : int
        Total number of hidden ReLU units ``N >= 0``.
    n_in : int
        Input dimension, ``>= 1``.
    volume : float, default 1.0
        Volume of the region of input space (e.g. a box), ``> 0``.
    c_bias : float, optional
        ``C_bias`` (default: ``c_bias_normal(1.0)``, i.e. ``N(0, 1)`` biases).
    c_grad : float, default 1.0
        ``C_grad``.

    Returns
    -------
    float
        The bound (``inf`` if it overflows a float; :func:`reluscope.bounds.table`
        also reports its ``log10``).

    Examples
    --------
    >>> round(hanin_rolnick2019(100, 2))                    # sigma_b = 1, C_grad = 1
    814873
    >>> round(hanin_rolnick2019(20, 2, volume=4.0, c_bias=c_bias_normal(0.5)))
    521519
    """
    n = check_int(n_units, "n_units", 0)
    d = check_int(n_in, "n_in", 1)
    vol = check_positive_float(volume, "volume")
    cb, cg = _constants(c_bias, c_grad)
    if n < d:
        return float(2**n) if n < 1024 else math.inf
    log10 = _hanin_rolnick_log10(n, d, vol, cb, cg)
    return 10.0**log10 if log10 < 308 else math.inf


def hanin_rolnick2019_boundary(
    n_units: int,
    n_in: int,
    k: int = 1,
    volume: float = 1.0,
    *,
    c_bias: float | None = None,
    c_grad: float = 1.0,
) -> float:
    """Bound on the expected ``(n_in - k)``-volume of the region boundaries in a set, at random init [HR19a]_.

    .. math::

        \\frac{\\mathbb E[\\mathrm{vol}_{n_{in}-k}(\\mathcal B_{N,k}\\cap K)]}{\\mathrm{vol}_{n_{in}}(K)}
        \\le \\binom{N}{k}\\,(2\\,C_{grad}\\,C_{bias})^{k},

    where ``B_{N,k}`` is the ``(n_in - k)``-dimensional part of the set where the
    gradient of the network is discontinuous. ``k = 1`` bounds the density of the
    region boundaries (e.g. their total length per unit area in the plane); it also
    gives ``E[dist(x, B_N)] >= C / (C_grad C_bias N)``. Same caveat as
    :func:`hanin_rolnick2019`: an expectation at random initialisation.

    Parameters
    ----------
    n_units : int
        Total number of hidden ReLU units ``N >= 0``.
    n_in : int
        Input dimension, ``>= 1``.
    k : int, default 1
        Codimension, ``1 <= k <= n_in``.
    volume : float, default 1.0
        ``vol(K)``, ``> 0``.
    c_bias, c_grad : float
        As in :func:`hanin_rolnick2019`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(hanin_rolnick2019_boundary(100, 2), 2)
    79.79
    >>> round(hanin_rolnick2019_boundary(100, 2, k=2), 1)
    3151.3
    """
    n = check_int(n_units, "n_units", 0)
    d = check_int(n_in, "n_in", 1)
    kk = check_int(k, "k", 1)
    if kk > d:
        raise InvalidParameterError(f"'k' must be between 1 and n_in = {d}; got {kk}.")
    vol = check_positive_float(volume, "volume")
    cb, cg = _constants(c_bias, c_grad)
    try:
        return float(math.comb(n, kk)) * (2.0 * cg * cb) ** kk * vol
    except OverflowError:
        return math.inf
