"""Training l1-regularised classifiers: determinism, the l1 effect, the returned network."""

import numpy as np
import pytest

pytest.importorskip("torch")

from reluscope import Box, InvalidParameterError, Network, ShapeError  # noqa: E402
from reluscope.datasets import load_digits  # noqa: E402
from reluscope.stability import stability  # noqa: E402
from reluscope.train import TrainResult, accuracy, mlp  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits().subset(600, 200, seed=0)


def test_deterministic_from_the_seed(digits):
    a = mlp(digits, (12,), epochs=3, seed=3, lr=0.05)
    b = mlp(digits, (12,), epochs=3, seed=3, lr=0.05)
    c = mlp(digits, (12,), epochs=3, seed=4, lr=0.05)
    assert isinstance(a, TrainResult)
    assert a.network == b.network and a.losses == b.losses
    assert a.network != c.network


def test_returned_network_and_accuracies_are_consistent(digits):
    res = mlp(digits, (32, 16), epochs=20, seed=0, lr=0.2)
    net = res.network
    assert isinstance(net, Network) and net.widths == (64, 32, 16, 10)
    # independent accuracy: arg-max of a plain NumPy forward pass
    h = digits.x_test
    for i, layer in enumerate(net.layers):
        h = h @ layer.weight.T + layer.bias
        if i < net.depth - 1:
            h = np.maximum(h, 0)
    assert res.test_accuracy == pytest.approx(np.mean(h.argmax(1) == digits.y_test))
    assert res.train_accuracy == accuracy(net, digits.x_train, digits.y_train)
    assert res.test_accuracy > 0.8 and res.seconds > 0 and len(res.losses) == 20
    assert res.losses[-1] < res.losses[0]


def test_l1_shrinks_weights_and_makes_units_stable(digits):
    plain = mlp(digits, (24, 24), epochs=30, seed=1, lr=0.1)
    sparse = mlp(digits, (24, 24), epochs=30, seed=1, lr=0.1, l1=3e-3)
    mass = [sum(np.abs(la.weight).sum() for la in r.network.layers) for r in (plain, sparse)]
    assert mass[1] < 0.7 * mass[0]
    dom = Box(0.0, 1.0, dim=64)
    n_stable = [int(np.sum(~stability(r.network, dom, method="linear").unstable)) for r in (plain, sparse)]
    assert n_stable[1] > n_stable[0]


def test_tuple_data_and_bad_arguments(digits):
    data = (digits.x_train[:50], digits.y_train[:50], digits.x_test[:10], digits.y_test[:10])
    assert mlp(data, (4,), epochs=1).network.n_in == 64
    with pytest.raises(InvalidParameterError, match="widths"):
        mlp(digits, (0,), epochs=1)
    with pytest.raises(InvalidParameterError, match="l1"):
        mlp(digits, (4,), epochs=1, l1=-1.0)
    with pytest.raises(ShapeError):
        mlp((digits.x_train, digits.y_train[:3], digits.x_test, digits.y_test), (4,), epochs=1)
    with pytest.raises(InvalidParameterError, match="data"):
        mlp("digits", (4,))
