"""scikit-learn MLPs, checked against the estimators' own predictions."""

import warnings

import numpy as np
import pytest

import reluscope as rs
from reluscope import Identity, Network, ReLU

pytest.importorskip("sklearn")
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from reluscope.io.sklearn import from_sklearn  # noqa: E402


def _fit(model, X, y):
    with warnings.catch_warnings():  # short fits do not converge; irrelevant here
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    return X, rng


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_regressor_predictions_are_the_network(data, activation):
    X, rng = data
    Y = np.stack([X.sum(axis=1), np.abs(X[:, 0])], axis=1)
    reg = _fit(MLPRegressor(hidden_layer_sizes=(5, 3), activation=activation, max_iter=30, random_state=0), X, Y)
    net = from_sklearn(reg)
    assert net.widths == (4, 5, 3, 2)
    hidden = ReLU() if activation == "relu" else Identity()
    assert net.activations == (hidden, hidden, Identity())
    np.testing.assert_allclose(net(X), reg.predict(X), rtol=0, atol=1e-12)
    assert net.metadata["estimator"] == "MLPRegressor"


def test_multiclass_logits_give_predict_proba(data):
    X, rng = data
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, size=len(X))]
    clf = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=1), X, y)
    net = Network.from_sklearn(clf)
    z = net(X)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax, clf.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[z.argmax(axis=1)], clf.predict(X))
    assert net.metadata["classes"] == ["a", "b", "c"] and net.metadata["out_activation"] == "softmax"


def test_binary_logit_gives_predict_proba(data):
    X, rng = data
    y = (X[:, 0] > 0).astype(int)
    clf = _fit(MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=2), X, y)
    net = from_sklearn(clf)
    assert net.n_out == 1
    p1 = 1.0 / (1.0 + np.exp(-net(X)[:, 0]))
    np.testing.assert_allclose(p1, clf.predict_proba(X)[:, 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_non_piecewise_linear_activation_is_refused(data, activation):
    X, rng = data
    reg = _fit(MLPRegressor(hidden_layer_sizes=(3,), activation=activation, max_iter=5, random_state=0), X, X[:, 0])
    with pytest.raises(rs.UnsupportedLayerError, match=activation):
        from_sklearn(reg)


def test_unfitted_or_wrong_estimator():
    with pytest.raises(rs.InvalidParameterError, match="not fitted"):
        from_sklearn(MLPRegressor())
    from sklearn.linear_model import LinearRegression

    with pytest.raises(rs.InvalidParameterError, match="MLPClassifier or MLPRegressor"):
        from_sklearn(LinearRegression())
