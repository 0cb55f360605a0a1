"""Every published bound on the number of linear regions of a ReLU network.

All combinatorial bounds are exact Python ``int`` (they exceed ``2**N``); the
Hanin-Rolnick expectations are ``float``. ``n0`` is the input dimension and
``widths = (n_1, ..., n_L)`` the widths of the hidden ReLU layers. ``docs/bounds.md``
lists each bound with its formula, conditions and citation.

=========================  ========  ==============================================
function                   kind      source
=========================  ========  ==============================================
:func:`serra2018`          upper     Serra et al. 2018, Thm 1 (+ rank refinement)
:func:`montufar2017`       upper     Montúfar 2017
:func:`raghu2017`          upper     Raghu et al. 2017 (reading of the proof)
:func:`trivial`            upper     ``2**N``
:func:`zaslavsky`          exact     hyperplanes in general position (one layer)
:func:`serra2018_lower`    lower     Serra et al. 2018, Thm 6
:func:`montufar2014`       lower     Montúfar et al. 2014, Thm 4
:func:`arora2018_lower`    lower     Serra et al. 2018, Thm 7 / Arora et al. 2018
:func:`hanin_rolnick2019`  expected  Hanin & Rolnick 2019 (random initialisation)
=========================  ========  ==============================================

Examples
--------
>>> from reluscope import bounds
>>> bounds.serra2018(10, [8, 8, 8]), bounds.serra2018(10, [8, 8, 8], ranks=[8, 3, 8])
(5900722, 3517567)
"""

from __future__ import annotations

from ._expected import c_bias_normal, c_bias_uniform, hanin_rolnick2019, hanin_rolnick2019_boundary
from ._lower import arora2018_lower, montufar2014, serra2018_lower
from ._table import BoundRow, BoundsTable, table, weight_ranks
from ._upper import montufar2017, raghu2017, serra2018, trivial, zaslavsky

__all__ = [
    "trivial",
    "zaslavsky",
    "montufar2017",
    "raghu2017",
    "serra2018",
    "montufar2014",
    "serra2018_lower",
    "arora2018_lower",
    "hanin_rolnick2019",
    "hanin_rolnick2019_boundary",
    "c_bias_normal",
    "c_bias_uniform",
    "table",
    "weight_ranks",
    "BoundRow",
    "BoundsTable",
]
