"""PyTorch import/export, checked against PyTorch itself (forward pass, hooks, autograd Jacobians)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reluscope as rs
from reluscope import Abs, HardTanh, Identity, LeakyReLU, Network, ReLU
from reluscope.io import _lower

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from reluscope.io.torch import from_torch, load_state_dict, save_state_dict, to_torch  # noqa: E402

TOL = 1e-10


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: torch's thread pool only adds contention on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _random_bn(bn, gen):
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) * 2 + 0.3)
        bn.weight.copy_(torch.randn(bn.num_features, generator=gen))
        bn.bias.copy_(torch.randn(bn.num_features, generator=gen))
    return bn


def _torch_out(model, x, shape):
    with torch.no_grad():
        return model(torch.tensor(x).reshape(len(x), *shape)).reshape(len(x), -1).numpy()


def check_against_torch(model, shape, n=6, seed=0, tol=TOL):
    """Import ``model`` (float64, eval) and compare values and Jacobians with autograd."""
    model = model.double().eval()
    net = from_torch(model, input_shape=shape)
    x = np.random.default_rng(seed).normal(size=(n, int(np.prod(shape))))
    np.testing.assert_allclose(net(x), _torch_out(model, x, shape), rtol=0, atol=tol)
    A, c = net.local_affine(x)
    for i in range(n):
        xi = torch.tensor(x[i])
        J = torch.autograd.functional.jacobian(lambda v: model(v.reshape(1, *shape)).reshape(-1), xi).numpy()
        np.testing.assert_allclose(A[i], J, rtol=0, atol=tol)
        np.testing.assert_allclose(c[i], _torch_out(model, x[i : i + 1], shape)[0] - J @ x[i], rtol=0, atol=tol)
    return net


def hooked_outputs(model, modules, x, shape):
    """Outputs of ``modules`` (flattened per sample) when ``model`` runs on ``x``."""
    seen = {}
    hooks = [m.register_forward_hook(lambda m, _i, o: seen.__setitem__(m, o.detach().reshape(len(x), -1).numpy()))
             for m in modules]
    with torch.no_grad():
        model(torch.tensor(x).reshape(len(x), *shape))
    for h in hooks:
        h.remove()
    return [seen[m] for m in modules]


# ---------------------------------------------------------------------- MLPs
ACT_MODULES = {
    "relu": lambda: nn.ReLU(),
    "leaky": lambda: nn.LeakyReLU(0.07),
    "leaky_neg": lambda: nn.LeakyReLU(-0.4),
    "hardtanh": lambda: nn.Hardtanh(-0.5, 1.5),
    "relu6": lambda: nn.ReLU6(),
    "abs": lambda: rs.io.torch.Abs(),
    "prelu": lambda: nn.PReLU(init=0.3),
}
EXPECTED_ACT = {
    "relu": ReLU(), "leaky": LeakyReLU(0.07), "leaky_neg": LeakyReLU(-0.4), "hardtanh": HardTanh(-0.5, 1.5),
    "relu6": HardTanh(0.0, 6.0), "abs": Abs(), "prelu": LeakyReLU(float(np.float32(0.3))),
}


@st.composite
def mlp_case(draw):
    widths = draw(st.lists(st.integers(1, 6), min_size=2, max_size=5))
    act = draw(st.sampled_from(sorted(ACT_MODULES)))
    seed = draw(st.integers(0, 10_000))
    degenerate = draw(st.sampled_from(["none", "dead", "zero_bias", "coincident"]))
    return widths, act, seed, degenerate


@settings(max_examples=30, deadline=None)
@given(mlp_case())
def test_random_mlps_match_torch(case):
    widths, act, seed, degenerate = case
    gen = torch.Generator().manual_seed(seed)
    mods = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64))
            lin.bias.copy_(torch.randn(lin.bias.shape, generator=gen, dtype=torch.float64))
            if degenerate == "dead":  # a unit that never fires
                lin.weight[0] = 0.0
                lin.bias[0] = -1.0
            elif degenerate == "zero_bias":
                lin.bias.zero_()
            elif degenerate == "coincident" and widths[i + 1] > 1:  # two identical hyperplanes
                lin.weight[1] = lin.weight[0]
                lin.bias[1] = lin.bias[0]
        mods.append(lin)
        if i < len(widths) - 2:
            mods.append(ACT_MODULES[act]())
    model = nn.Sequential(*mods).double().eval()
    net = check_against_torch(model, (widths[0],), seed=seed)
    # one canonical layer per Linear, activations as in the module
    assert net.widths == tuple(widths)
    assert net.activations == tuple([EXPECTED_ACT[act]] * (len(widths) - 2) + [Identity()])
    # preactivations are the outputs of the Linear layers (forward hooks)
    seen = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: seen.append(o.detach().numpy())) for m in mods
             if isinstance(m, nn.Linear)]
    x = np.random.default_rng(seed).normal(size=(5, widths[0]))
    with torch.no_grad():
        model(torch.tensor(x))
    for h in hooks:
        h.remove()
    for z_net, z_torch in zip(net.preactivations(x), seen, strict=True):
        np.testing.assert_allclose(z_net, z_torch, rtol=0, atol=TOL)


def test_float32_module_is_converted_exactly():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    net = from_torch(model)
    np.testing.assert_array_equal(net.layers[0].weight, model[0].weight.detach().numpy().astype(np.float64))
    assert net.metadata["source"] == "torch"


def test_identity_dropout_and_consecutive_linear_layers_are_merged():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Dropout(0.5), nn.Identity(), nn.Linear(3, 5),
                          nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 2))
    net = check_against_torch(model, (4,))
    assert net.widths == (4, 5, 2)  # (Linear∘Linear) then ReLU, then (Linear∘Linear)


# ---------------------------------------------------------------------- lowered layers
def test_batchnorm_is_folded_into_neighbouring_affine_maps():
    gen = torch.Generator().manual_seed(2)
    model = nn.Sequential(_random_bn(nn.BatchNorm1d(3), gen), nn.Linear(3, 6), _random_bn(nn.BatchNorm1d(6), gen),
                          nn.ReLU(), nn.Linear(6, 2))
    net = check_against_torch(model, (3,))
    assert net.widths == (3, 6, 2)
    # the first preactivation is the output of the second BatchNorm
    out = []
    model[2].register_forward_hook(lambda _m, _i, o: out.append(o.detach().numpy()))
    x = np.random.default_rng(0).normal(size=(4, 3))
    with torch.no_grad():
        model(torch.tensor(x))
    np.testing.assert_allclose(net.preactivations(x)[0], out[0], rtol=0, atol=TOL)


CONVS = [
    dict(stride=1, padding=0),
    dict(stride=2, padding=1),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
    dict(stride=1, padding=1, groups=2),
    dict(stride=1, padding=1, padding_mode="circular"),
    dict(stride=2, padding=1, padding_mode="reflect", bias=False),
]


@pytest.mark.parametrize("kw", CONVS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_conv2d_with_batchnorm(kw):
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 4, 3, **kw)
    model = nn.Sequential(conv, _random_bn(nn.BatchNorm2d(4), gen), nn.ReLU(), nn.Flatten())
    with torch.no_grad():
        flat = model.double()(torch.zeros(1, 2, 7, 6, dtype=torch.float64)).shape[1]
    model = nn.Sequential(*model, nn.Linear(flat, 3))
    net = check_against_torch(model, (2, 7, 6))
    assert net.widths == (84, flat, 3)
    assert net.metadata["input_shape"] == [2, 7, 6]
    x = np.random.default_rng(1).normal(size=(3, 84))
    (bn_out,) = hooked_outputs(model, [model[1]], x, (2, 7, 6))
    np.testing.assert_allclose(net.preactivations(x)[0], bn_out, rtol=0, atol=TOL)  # conv+BN, folded


def test_conv1d_and_functional_pools():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv1d(2, 3, 3, padding=1)
            self.l = nn.Linear(3 * 4, 2)

        def forward(self, x):
            h = F.max_pool1d(F.relu(self.c(x)), 2)  # (3, 7) -> (3, 3)
            h = F.avg_pool1d(h, 2, stride=1, padding=1, count_include_pad=False)  # -> (3, 4)
            return self.l(h.view(h.size(0), -1))

    torch.manual_seed(4)
    check_against_torch(M(), (2, 7))


def test_slicing_is_refused_with_the_node_named():
    class M(nn.Module):
        def forward(self, x):
            return x[:, :2]

    with pytest.raises(rs.UnsupportedLayerError, match="'getitem'.*'getitem'"):
        from_torch(M(), input_shape=(3,))


POOLS = [
    nn.AvgPool2d(2),
    nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    nn.AvgPool2d(2, stride=1, divisor_override=3),
    nn.AdaptiveAvgPool2d((2, 3)),
    nn.MaxPool2d(2),
    nn.MaxPool2d(3, stride=2, padding=1),
    nn.MaxPool2d(2, stride=2, ceil_mode=True),
    nn.MaxPool2d(2, stride=1, dilation=2),
    nn.AdaptiveMaxPool2d((2, 2)),
]


@pytest.mark.parametrize("pool", POOLS, ids=repr)
@pytest.mark.parametrize("relu_first", [True, False], ids=["after_relu", "signed"])
def test_pooling(pool, relu_first):
    torch.manual_seed(5)
    body = [nn.Conv2d(1, 2, 2), nn.ReLU()] if relu_first else [nn.Conv2d(1, 2, 2)]
    model = nn.Sequential(*body, pool, nn.Flatten())
    with torch.no_grad():
        flat = model.double()(torch.zeros(1, 1, 6, 7, dtype=torch.float64)).shape[1]
    model = nn.Sequential(*model, nn.Linear(flat, 2))
    net = check_against_torch(model, (1, 6, 7))
    if relu_first:  # the first layer is the convolution, whatever the pooling lowers into
        x = np.random.default_rng(1).normal(size=(3, 42))
        (conv_out,) = hooked_outputs(model, [model[0]], x, (1, 6, 7))
        np.testing.assert_allclose(net.preactivations(x)[0], conv_out, rtol=0, atol=TOL)


def test_maxpool_depth_is_one_layer_per_halving():
    # 2x2 windows (4 entries) need 2 tournament rounds; 3x3 windows (9 entries) need 4.
    for k, rounds in [(2, 2), (3, 4)]:
        model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU(), nn.MaxPool2d(k), nn.Flatten())
        net = from_torch(model.eval(), input_shape=(1, 6, 6))
        assert net.depth == 1 + rounds + 1


class Residual(nn.Module):
    """h = relu(L0 x); y = relu(h + BN(L2 relu(L1 h))); z = y + branch(y); out = L3 z."""

    def __init__(self, branch_act, gen):
        super().__init__()
        self.l0, self.l1, self.l2 = nn.Linear(3, 4), nn.Linear(4, 5), nn.Linear(5, 4)
        self.bn = _random_bn(nn.BatchNorm1d(4), gen)
        self.lb1, self.lb2, self.l3 = nn.Linear(4, 3), nn.Linear(3, 4), nn.Linear(4, 2)
        self.act = branch_act

    def forward(self, x):
        h = F.relu(self.l0(x))
        y = F.relu(h + self.bn(self.l2(F.relu(self.l1(h)))))
        z = y - self.lb2(self.act(self.lb1(y)))
        return self.l3(z)


@pytest.mark.parametrize(
    "branch", [nn.ReLU(), nn.LeakyReLU(0.3), nn.Hardtanh(-0.2, 0.4), nn.ReLU6()], ids=repr
)
def test_residual_blocks(branch):
    gen = torch.Generator().manual_seed(6)
    torch.manual_seed(6)
    model = Residual(branch, gen)
    net = check_against_torch(model, (3,))  # also casts the model to float64, eval mode
    # hand-derived widths: relu(L0 x) (4); relu(L1 h) (5) + h carried, >= 0 so 1 unit each (4);
    # relu(h + ...) (4); branch layer (3) + y carried (4, >= 0), except Hardtanh(-0.2, 0.4), which
    # must carry y and becomes 2 ReLU units per neuron (6).
    third = {"ReLU": 3 + 4, "LeakyReLU": 3 + 4, "Hardtanh": 6 + 4, "ReLU6": 6 + 4}[type(branch).__name__]
    assert net.hidden_widths == (4, 9, 4, third)
    # preactivations: L0 x; (L1 h, h); h + BN(L2 relu(L1 h)); computed by torch
    x = np.random.default_rng(2).normal(size=(4, 3))
    l0, l1, bn = hooked_outputs(model, [model.l0, model.l1, model.bn], x, (3,))
    z = net.preactivations(x)
    np.testing.assert_allclose(z[0], l0, rtol=0, atol=TOL)
    np.testing.assert_allclose(z[1], np.hstack([l1, np.maximum(l0, 0)]), rtol=0, atol=TOL)
    np.testing.assert_allclose(z[2], np.maximum(l0, 0) + bn, rtol=0, atol=TOL)


def test_residual_on_the_signed_input_and_functional_ops():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
            self.register_buffer("shift", torch.linspace(-1, 1, 4))

        def forward(self, x):
            y = x + self.b(torch.abs(self.a(x)))  # x is signed: 2 carry units per entry
            y = 2.0 * y - self.shift
            y = torch.clamp(y, min=-0.5) / 3 + torch.clamp(-y, max=0.25)
            y = torch.cat([y, -y], dim=1).view(-1, 2, 4).flatten(1)
            return F.hardtanh(y, -1.0, 2.0) + F.leaky_relu(y, 0.2) - F.relu6(y) - torch.neg(y).relu()

    torch.manual_seed(7)
    check_against_torch(M(), (4,))


# ---------------------------------------------------------------------- softmax, unsupported layers
def test_final_softmax_is_stripped_with_warning():
    torch.manual_seed(8)
    body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3))
    for final in (nn.Softmax(dim=1), nn.LogSoftmax(dim=1)):
        with pytest.warns(rs.StrippedLayerWarning, match="softmax"):
            net = from_torch(nn.Sequential(body, final))
        x = np.random.default_rng(0).normal(size=(5, 3))
        np.testing.assert_allclose(net(x), _torch_out(body.double(), x, (3,)), rtol=0, atol=TOL)
        body.float()


def test_softmax_in_the_middle_is_refused():
    model = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2))
    with pytest.raises(rs.UnsupportedLayerError, match=r"Softmax layer '1'.*inside"):
        from_torch(model)


@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.SiLU(), nn.Softplus()], ids=repr)
def test_non_piecewise_linear_layers_are_refused(tmp_path, layer):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4), layer), nn.Linear(4, 1))
    out = tmp_path / "net.npz"
    with pytest.raises(rs.UnsupportedLayerError, match=rf"{type(layer).__name__} layer '2\.1' is not piecewise"):
        from_torch(model).save(out)
    assert not out.exists() and os.listdir(tmp_path) == []


def test_unsupported_functions_are_named():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 2)

        def forward(self, x):
            return torch.sigmoid(self.l(x))

    with pytest.raises(rs.UnsupportedLayerError, match="'sigmoid'.*not piecewise linear"):
        from_torch(M())

    class Prod(nn.Module):
        def forward(self, x):
            return x * x

    with pytest.raises(rs.UnsupportedLayerError, match="multiplies two values"):
        from_torch(Prod(), input_shape=(2,))


def test_other_refusals():
    with pytest.raises(rs.UnsupportedLayerError, match="one slope per channel"):
        from_torch(nn.Sequential(nn.Linear(2, 3), nn.PReLU(3)))

    class NoInput(nn.Module):
        def forward(self):
            return torch.ones(2)

    with pytest.raises(rs.UnsupportedLayerError, match="no tensor input"):
        from_torch(NoInput(), input_shape=(2,))

    class Pool(nn.Module):
        def forward(self, x):
            return F.max_pool2d(x, 2)

    with pytest.raises(rs.InvalidParameterError, match=r"\(C, H, W\)"):
        from_torch(Pool(), input_shape=(4,))
    with pytest.raises(rs.InvalidParameterError, match="cannot be applied"):
        from_torch(nn.Sequential(nn.Conv2d(1, 1, 5)), input_shape=(1, 3, 3))


def test_untraceable_module_is_refused():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 2)

        def forward(self, x):
            return self.l(x) if x.sum() > 0 else x

    with pytest.raises(rs.UnsupportedLayerError, match="Could not trace"):
        from_torch(Branchy())


def test_batchnorm_in_training_mode_is_refused(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    out = tmp_path / "net.onnx"
    with pytest.raises(rs.UnsupportedLayerError, match=r"training mode.*\.eval\(\)"):
        from_torch(model.train()).to_onnx(out)
    assert not out.exists()
    no_stats = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False)).eval()
    with pytest.raises(rs.UnsupportedLayerError, match="running statistics"):
        from_torch(no_stats)


def test_conv_without_input_shape_is_refused(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))
    out = tmp_path / "net.npz"
    with pytest.raises(rs.InvalidParameterError, match=r"'input_shape' is required \(Conv2d layer '0'"):
        from_torch(model).save(out)
    assert not out.exists()
    with pytest.raises(rs.InvalidParameterError, match="input_shape"):
        from_torch(model, input_shape=(1, 6))  # a sample of the wrong rank
    with pytest.raises(rs.InvalidParameterError, match="positive ints"):
        from_torch(model, input_shape=(1, 0, 6))


@pytest.mark.parametrize("where", ["weight", "bias", "running_var"])
def test_non_finite_weights_are_refused(tmp_path, where):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1)).eval()
    with torch.no_grad():
        target = {"weight": model[0].weight, "bias": model[3].bias, "running_var": model[1].running_var}[where]
        target.view(-1)[0] = float("nan") if where != "running_var" else float("inf")
    out = tmp_path / "net.npz"
    with pytest.raises(rs.NonFiniteError, match=where):
        from_torch(model).save(out)
    assert not out.exists()


def test_large_layer_warning(monkeypatch):
    monkeypatch.setattr(_lower, "LARGE_LAYER_ENTRIES", 1000)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 1))
    with pytest.warns(rs.LargeLayerWarning, match="256 x 64"):
        from_torch(model.eval(), input_shape=(1, 8, 8))


def test_bad_arguments():
    with pytest.raises(rs.InvalidParameterError, match="torch.nn.Module"):
        from_torch("not a module")
    with pytest.raises(rs.InvalidParameterError, match="Network"):
        to_torch("not a network")


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize("act", [ReLU(), LeakyReLU(0.1), HardTanh(-0.5, 0.7), Abs(), Identity()], ids=repr)
def test_to_torch_matches_network(act):
    net = Network.random([3, 6, 5, 2], seed=1, activation=act, output_activation=act)
    model = to_torch(net)
    x = np.random.default_rng(2).normal(size=(20, 3))
    np.testing.assert_allclose(_torch_out(model, x, (3,)), net(x), rtol=0, atol=1e-12)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert sum(isinstance(m, nn.Linear) for m in model) == 3
    back = from_torch(model)
    if isinstance(act, Identity):  # consecutive Linear layers are merged on import
        assert back.widths == (3, 2)
        np.testing.assert_allclose(back(x), net(x), rtol=0, atol=1e-12)
    else:
        assert back == net  # same weights, same activations


# ---------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("act", [ReLU(), LeakyReLU(0.1), HardTanh(-0.5, 0.7), Abs()], ids=repr)
def test_state_dict_round_trip_is_exact(tmp_path, act):
    net = Network.random([3, 5, 4, 2], seed=0, activation=act)
    p = tmp_path / "net.pt"
    save_state_dict(net, p)
    back = rs.load(p)
    assert back == net and back.metadata == net.metadata
    # the file is a plain state dict of to_torch(net)
    model = to_torch(Network.random([3, 5, 4, 2], seed=9, activation=act))
    model.load_state_dict(torch.load(p, weights_only=True))
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(_torch_out(model, x, (3,)), net(x), rtol=0, atol=1e-12)


def test_plain_user_state_dict_is_inferred(tmp_path):
    torch.manual_seed(10)
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 4), nn.Linear(4, 5), nn.ReLU(),
                          nn.Dropout(0.1), nn.Linear(5, 2)).eval()
    p = tmp_path / "user.pth"
    torch.save(model.state_dict(), p)
    net = Network.load(p)
    # keys 0, 2, 3, 6: a gap of 2 or more means an activation (ReLU), a gap of 1 none
    assert net.activations == (ReLU(), Identity(), ReLU(), Identity())
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(net(x), _torch_out(model.double(), x, (3,)), rtol=0, atol=1e-12)
    torch.save({"epoch": 3, "model_state_dict": model.state_dict()}, tmp_path / "ckpt.pt")
    assert Network.load(tmp_path / "ckpt.pt") == net


def test_state_dict_with_architecture(tmp_path):
    torch.manual_seed(11)
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    p = tmp_path / "mlp.pt"
    torch.save(mlp.state_dict(), p)
    net = load_state_dict(p, architecture=["leaky_relu"])
    assert net.activations == (LeakyReLU(0.01), Identity())
    with pytest.raises(rs.InvalidParameterError, match="one activation per Linear"):
        load_state_dict(p, architecture=["relu", "relu", "relu"])
    gen = torch.Generator().manual_seed(12)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), _random_bn(nn.BatchNorm2d(2), gen), nn.ReLU(), nn.Flatten(),
                        nn.Linear(2 * 3 * 3, 2))
    q = tmp_path / "cnn.pt"
    torch.save(cnn.state_dict(), q)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(18, 2))
    net = Network.load(q, architecture=fresh, input_shape=(1, 5, 5))
    assert fresh.training  # the caller's module is not modified
    x = np.random.default_rng(0).normal(size=(4, 25))
    np.testing.assert_allclose(net(x), _torch_out(cnn.double().eval(), x, (1, 5, 5)), rtol=0, atol=TOL)
    with pytest.raises(rs.ModelFileError, match="does not fit"):
        load_state_dict(p, architecture=fresh)
    with pytest.raises(rs.ModelFileError, match="not a plain MLP"):
        load_state_dict(q)


def test_bad_pt_files(tmp_path):
    out = tmp_path / "out.npz"
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    full = tmp_path / "full.pt"
    torch.save(model, full)  # a pickled module: weights_only=True refuses it
    with pytest.raises(rs.ModelFileError, match=r"weights_only=True.*Sequential.*state_dict"):
        Network.load(full).save(out)
    good = tmp_path / "good.pt"
    torch.save(model.state_dict(), good)
    data = good.read_bytes()
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(rs.ModelFileError, match="truncated or corrupt"):
        Network.load(trunc).save(out)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00\x01not a torch file")
    with pytest.raises(rs.ModelFileError):
        Network.load(junk).save(out)
    tensor_only = tmp_path / "tensor.pt"
    torch.save(torch.ones(3), tensor_only)
    with pytest.raises(rs.ModelFileError, match="not a state dict"):
        Network.load(tensor_only).save(out)
    nan_sd = tmp_path / "nan.pt"
    sd = model.state_dict()
    sd["0.weight"][0, 0] = float("nan")
    torch.save(sd, nan_sd)
    with pytest.raises(rs.NonFiniteError, match="0.weight"):
        Network.load(nan_sd).save(out)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["full.pt", "good.pt", "junk.pth", "nan.pt", "tensor.pt", "trunc.pt"]


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "net.pt"

    def broken_save(obj, f):
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_state_dict(Network.random([2, 3, 1], seed=0), p)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- optional dependency
def test_missing_torch_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(rs.ReluscopeError, match=r"pip install reluscope\[torch\]") as info:
        Network.random([2, 2, 1], seed=0).to_torch()
    assert isinstance(info.value, ImportError)


def test_importing_reluscope_io_does_not_import_torch_or_onnx():
    code = (
        "import sys, reluscope, reluscope.io, reluscope.io.torch, reluscope.io.onnx, reluscope.io.sklearn;"
        "bad = [m for m in ('torch', 'onnx', 'onnxruntime', 'sklearn') if m in sys.modules];"
        "sys.exit(repr(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
