"""scikit-learn's multi-layer perceptrons as canonical networks.

A fitted ``MLPClassifier`` or ``MLPRegressor`` with ``activation="relu"`` or
``"identity"`` computes ``x -> W_L phi(... phi(W_1 x + b_1) ...) + b_L`` followed,
for classifiers, by a softmax (several classes) or a logistic function (two
classes or multi-label), and for ``MLPRegressor(loss="poisson")`` by ``exp``. The
network returned here stops before that output function: it outputs the *logits*
(``decision_function`` of a binary classifier; ``log`` of a Poisson regressor's
prediction). The output function is monotone, so the predicted class (argmax, or
sign of the logit) and the linear regions are those of the returned network; the
function is recorded in ``metadata["out_activation"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InvalidParameterError, UnsupportedLayerError
from ..activations import Identity, ReLU
from ..network import Network
from ._optional import require

__all__ = ["from_sklearn"]


def from_sklearn(model: Any) -> Network:
    """Convert a fitted ``MLPClassifier``/``MLPRegressor`` (ReLU or identity hidden units).

    Parameters
    ----------
    model : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted (it has ``coefs_``). ``coefs_[l]`` of shape ``(n_{l}, n_{l+1})`` becomes
        the weight ``coefs_[l].T``.

    Returns
    -------
    Network
        Widths ``(n_features_in_, *hidden_layer_sizes, n_outputs_)``; the last layer is
        linear and outputs logits (softmax/logistic not included). ``metadata`` records
        the estimator, its ``out_activation_`` and, for classifiers, ``classes_``.

    Raises
    ------
    UnsupportedLayerError
        ``activation`` is ``"tanh"`` or ``"logistic"`` (not piecewise linear).
    InvalidParameterError
        Not an MLP estimator, or not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.random.default_rng(0).normal(size=(50, 3)); y = X.sum(axis=1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():  # a short fit does not converge
    ...     warnings.simplefilter("ignore")
    ...     reg = reg.fit(X, y)
    >>> net = from_sklearn(reg)
    >>> net.widths
    (3, 6, 1)
    >>> bool(np.allclose(net(X).ravel(), reg.predict(X), rtol=0, atol=1e-12))
    True
    """
    nn = require("sklearn.neural_network", "sklearn", "from_sklearn")
    if not isinstance(model, (nn.MLPClassifier, nn.MLPRegressor)):
        raise InvalidParameterError(
            f"'model' must be a fitted sklearn MLPClassifier or MLPRegressor; got {type(model).__name__}."
        )
    if not hasattr(model, "coefs_") or not hasattr(model, "intercepts_"):
        raise InvalidParameterError(
            f"'model' ({type(model).__name__}) is not fitted: call fit before from_sklearn."
        )
    acts = {"relu": ReLU(), "identity": Identity()}
    if model.activation not in acts:
        raise UnsupportedLayerError(
            f"{type(model).__name__} uses activation={model.activation!r}, which is not piecewise "
            "linear; only 'relu' and 'identity' can be converted exactly."
        )
    hidden = acts[model.activation]
    n = len(model.coefs_)
    layers = [
        (np.asarray(w, dtype=np.float64).T, np.asarray(b, dtype=np.float64), hidden if i < n - 1 else Identity())
        for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True))
    ]
    meta: dict[str, Any] = {
        "source": "sklearn",
        "estimator": type(model).__name__,
        "out_activation": getattr(model, "out_activation_", None),
    }
    if hasattr(model, "classes_"):
        meta["classes"] = np.asarray(model.classes_).tolist()
    return Network(layers, metadata=meta)
