"""reluscope's 2-D region counts against counts recorded from two other tools.

The literals below were produced by ``benchmarks/reference_counts_2d.py``
(``/tmp/bench-venv/bin/python -m benchmarks.reference_counts_2d --slow``) with Python 3.11.7,
torch 2.13.0+cpu, numpy 2.4.6, regioncam 0.5.2 (Rust, float32) and relucent 1.0.0
(gurobipy 13.0.3, size-limited licence). Neither tool is needed here: only the numbers.

Networks: ``torch.manual_seed(seed)``, then ``nn.Sequential(Linear, ReLU, ..., Linear)``
with PyTorch's default initialisation; reluscope gets exact float64 copies of the
float32 weights. Counts are activation regions of the hidden layers (the linear output
unit does not split; ``include_output=False``):

* regioncam: ``Regioncam(h).add(net).num_faces`` on the square ``[-h, h]²``;
* relucent: ``len(cx)`` after ``cx = Complex(net); cx.bfs()`` over the whole plane ``R²``.

Each row also records a fingerprint of the network (the sum of all its parameters),
so that a change in PyTorch's seeding or initialisation shows up as such instead of
as a count mismatch.
"""

import numpy as np
import pytest

from reluscope import Network
from reluscope.regions import on_plane

torch = pytest.importorskip("torch")

# (widths, seed, h for the square [-h, h]^2, regioncam's count, fingerprint)
REGIONCAM_BOX_COUNTS = [
    ([2, 8, 8, 1], 1, 1.0, 18, 0.8502146932296455),
    ([2, 16, 16, 1], 2, 1.0, 185, -3.7751552648842335),
    ([2, 32, 32, 1], 0, 1.0, 795, -3.9929137122817338),
    ([2, 32, 32, 1], 3, 2.0, 1174, -5.519762768963119),
    ([2, 16, 16, 16, 1], 4, 1.0, 244, 9.68820066191256),
    ([2, 24, 24, 24, 24, 1], 5, 1.5, 915, -13.595325923030032),
    ([2, 64, 64, 64, 1], 0, 1.0, 6668, -5.262067987583578),
    ([2, 100, 100, 1], 0, 1.0, 7049, -9.239481985852763),
]

# (widths, seed, relucent's count of all of R^2, fingerprint)
RELUCENT_PLANE_COUNTS = [
    ([2, 8, 8, 1], 0, 156, -1.2068309495225549),
    ([2, 8, 8, 1], 1, 127, 0.8502146932296455),
    ([2, 12, 12, 1], 2, 330, -2.834197028307244),
    ([2, 8, 8, 8, 1], 3, 229, -5.7057598977698945),
    ([2, 16, 16, 1], 0, 572, -5.065303657203913),
    ([2, 10, 10, 10, 10, 1], 4, 759, 4.0459775475319475),
    ([2, 32, 32, 32, 1], 0, 5355, -1.968279290755163),  # --slow: 1595 s for relucent here
]


def _torch_mlp(widths, seed):
    from torch import nn

    torch.manual_seed(seed)
    mods = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def _network(widths, seed, fingerprint):
    seq = _torch_mlp(widths, seed)
    params = [p.detach().double().numpy() for p in seq.parameters()]
    got = float(sum(p.sum() for p in params))
    if abs(got - fingerprint) > 1e-9 * (1 + abs(fingerprint)):
        pytest.skip(f"torch {torch.__version__} seeds {widths} (seed {seed}) differently from torch 2.13")
    lins = [m for m in seq if isinstance(m, torch.nn.Linear)]
    return Network([
        (m.weight.detach().double().numpy().copy(), m.bias.detach().double().numpy().copy(),
         "relu" if i < len(lins) - 1 else "identity")
        for i, m in enumerate(lins)
    ])


def _ids(rows):
    return ["-".join(map(str, r[0])) + f"-seed{r[1]}" for r in rows]


@pytest.mark.parametrize("widths, seed, h, count, fingerprint", REGIONCAM_BOX_COUNTS,
                         ids=_ids(REGIONCAM_BOX_COUNTS))
def test_square_count_matches_regioncam(widths, seed, h, count, fingerprint):
    net = _network(widths, seed, fingerprint)
    res = on_plane(net, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], bounds=(-h, h, -h, h))
    assert res.n_activation_regions == count
    # the regions tile the square
    np.testing.assert_allclose(res.areas.sum(), (2 * h) ** 2, rtol=1e-9)


@pytest.mark.parametrize("widths, seed, count, fingerprint", RELUCENT_PLANE_COUNTS,
                         ids=_ids(RELUCENT_PLANE_COUNTS))
def test_whole_plane_count_matches_relucent(widths, seed, count, fingerprint):
    net = _network(widths, seed, fingerprint)
    res = on_plane(net, [0.0, 0.0], [1.0, 0.0], [0.0, 1.0])
    assert res.n_activation_regions == count


def test_rotated_plane_gives_the_same_count():
    # the same square seen through a rotated, shifted parametrisation of R^2 (inputs
    # x = c + s u + t v) must give regioncam's count for [-1, 1]^2 as well
    widths, seed, h, count, fingerprint = REGIONCAM_BOX_COUNTS[2]
    net = _network(widths, seed, fingerprint)
    a = 0.7
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    w0, b0 = net.layers[0].weight, net.layers[0].bias
    # precompose the first layer with x = rot^T y: the square in y is the rotated square in x
    rest = [(la.weight, la.bias, la.activation) for la in net.layers[1:]]
    rotated = Network([(w0 @ rot.T, b0, "relu"), *rest])
    res = on_plane(rotated, [0.0, 0.0], rot[:, 0], rot[:, 1], bounds=(-h, h, -h, h))
    assert res.n_activation_regions == count
