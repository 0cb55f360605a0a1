"""torch -> Network -> ONNX -> Network -> npz -> Network -> torch, exactly; onnxruntime on the way."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Network
from zoo import zoo

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
nn, F = torch.nn, torch.nn.functional

EXACT = 1e-12


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _bn(n, dims=1):
    bn = nn.BatchNorm1d(n) if dims == 1 else nn.BatchNorm2d(n)
    with torch.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.normal_()
        bn.bias.normal_()
    return bn


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)
        self.bn = _bn(2, dims=2)
        self.fc = nn.Linear(2 * 3 * 3, 3)

    def forward(self, x):
        h = F.relu(self.c1(x))
        h = F.relu(h + self.bn(self.c2(h)))
        h = F.max_pool2d(h, 2, ceil_mode=True)
        return self.fc(torch.flatten(h, 1))


def _models():
    torch.manual_seed(0)
    return {
        "relu_mlp": (nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2)), (3,)),
        "leaky_mlp": (nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.1), nn.Linear(6, 2)), (3,)),
        "hardtanh_mlp": (nn.Sequential(nn.Linear(3, 6), nn.Hardtanh(-0.5, 0.8), nn.Linear(6, 2), nn.ReLU6()), (3,)),
        "bn_mlp": (nn.Sequential(nn.Linear(3, 6), _bn(6), nn.ReLU(), nn.Dropout(0.2), nn.Linear(6, 2)), (3,)),
        "conv_avgpool": (nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), _bn(3, 2), nn.ReLU(),
                                       nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(3 * 2 * 2, 2)),
                         (2, 6, 6)),
        "conv_maxpool": (nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                                       nn.Linear(2 * 2 * 2, 2)), (1, 6, 6)),
        "residual_cnn": (Residual(), (1, 5, 5)),
    }


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_onnx_npz_torch_round_trip_is_exact(tmp_path, name):
    model, shape = MODELS[name]
    model = model.double().eval()
    x = np.random.default_rng(1).normal(size=(25, int(np.prod(shape))))
    with torch.no_grad():
        y_torch = model(torch.tensor(x).reshape(len(x), *shape)).reshape(len(x), -1).numpy()

    net1 = Network.from_torch(model, input_shape=shape)
    np.testing.assert_allclose(net1(x), y_torch, rtol=0, atol=EXACT)

    net1.to_onnx(tmp_path / "a.onnx")
    sess = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], net1(x), rtol=0, atol=1e-6)

    net2 = Network.from_onnx(tmp_path / "a.onnx")
    assert net2 == net1
    net2.save(tmp_path / "b.npz")
    net3 = rs.load(tmp_path / "b.npz")
    assert net3 == net1 and net3.metadata == net1.metadata

    back = net3.to_torch()
    with torch.no_grad():
        y_back = back(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y_back, net1(x), rtol=0, atol=EXACT)
    np.testing.assert_allclose(y_back, y_torch, rtol=0, atol=EXACT)

    net3.save(tmp_path / "c.pt")
    assert rs.load(tmp_path / "c.pt") == net1


@settings(max_examples=15, deadline=None)
@given(
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    act=st.sampled_from(["relu", "leaky_relu", "hardtanh", "abs", "identity"]),
    seed=st.integers(0, 1000),
)
def test_random_networks_round_trip_through_every_format(tmp_path_factory, widths, act, seed):
    net = Network.random(widths, seed=seed, activation=act, bias="zero" if seed % 3 == 0 else "normal")
    d = tmp_path_factory.mktemp("rt")
    x = np.random.default_rng(seed).normal(size=(10, widths[0]))
    got = net
    for suffix in (".onnx", ".npz", ".pt"):
        got.save(d / f"n{suffix}")
        got = rs.load(d / f"n{suffix}")
    if act == "identity":  # linear hidden layers are merged by the ONNX importer
        np.testing.assert_allclose(got(x), net(x), rtol=0, atol=EXACT)
    else:
        assert got == net
    with torch.no_grad():
        np.testing.assert_allclose(got.to_torch()(torch.tensor(x)).numpy(), net(x), rtol=0, atol=EXACT)


@pytest.mark.parametrize("z", zoo(), ids=lambda z: z.name)
@pytest.mark.parametrize("suffix", [".onnx", ".pt", ".npz"])
def test_zoo_networks_round_trip(tmp_path, z, suffix):
    net = z.net
    net.save(tmp_path / f"z{suffix}")
    back = rs.load(tmp_path / f"z{suffix}")
    x = np.random.default_rng(0).normal(size=(12, net.n_in))
    np.testing.assert_allclose(back(x), net(x), rtol=0, atol=EXACT)
    hidden_linear = any(a.is_linear for a in net.activations[:-1])
    if suffix != ".onnx" or not hidden_linear:  # ONNX import merges consecutive Gemm nodes
        assert back == net
