"""ONNX export and import, checked against onnxruntime, the ONNX reference evaluator and PyTorch."""

import os
import sys
import warnings

import numpy as np
import pytest

import reluscope as rs
from reluscope import Abs, HardTanh, Identity, LeakyReLU, Network, ReLU

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from reluscope.io.onnx import from_onnx, to_onnx  # noqa: E402

D = TensorProto.DOUBLE


def _ort(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _model(nodes, inits, in_shape, opset=17, out="y", dtype=D, out_rank=2):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", dtype, ["N", *in_shape])],
        [helper.make_tensor_value_info(out, dtype, [None] * out_rank)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def _save(tmp_path, model, name="m.onnx"):
    p = tmp_path / name
    onnx.save_model(model, p)
    return p


def _check_against_reference(tmp_path, model, in_shape, tol=1e-10, n=5):
    """from_onnx(model) vs onnx's reference evaluator running the whole graph in float64."""
    net = from_onnx(_save(tmp_path, model))
    x = np.random.default_rng(0).normal(size=(n, *in_shape))
    ref = ReferenceEvaluator(model).run(None, {"x": x})[0].reshape(n, -1)
    np.testing.assert_allclose(net(x.reshape(n, -1)), ref, rtol=0, atol=tol)
    return net


# ---------------------------------------------------------------------- export
ACTS = [ReLU(), LeakyReLU(0.1), LeakyReLU(-0.3), HardTanh(-0.5, 0.7), Abs(), Identity()]


@pytest.mark.parametrize("act", ACTS, ids=repr)
def test_export_runs_in_onnxruntime_and_reads_back_exactly(tmp_path, act):
    net = Network.random([4, 7, 5, 3], seed=2, activation=act, output_activation=act)
    p = tmp_path / "net.onnx"
    to_onnx(net, p)
    x = np.random.default_rng(1).normal(size=(30, 4))
    np.testing.assert_allclose(_ort(p, x), net(x), rtol=0, atol=1e-12)
    back = from_onnx(p)
    if isinstance(act, Identity):  # consecutive Gemm nodes are merged into one layer on import
        assert back.widths == (4, 3)
        np.testing.assert_allclose(back(x), net(x), rtol=0, atol=1e-12)
    else:
        assert back == net
    assert back.metadata == net.metadata
    model = onnx.load(p)
    expected_ops = {"ReLU": "Relu", "LeakyReLU": "PRelu", "HardTanh": "Clip", "Abs": "Abs"}
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Gemm") == 3
    if not isinstance(act, Identity):
        assert ops.count(expected_ops[type(act).__name__]) == 3
    assert all(init.data_type == D for init in model.graph.initializer)


def test_export_is_atomic(tmp_path, monkeypatch):
    def broken(model, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(onnx, "save_model", broken)
    with pytest.raises(OSError, match="disk full"):
        to_onnx(Network.random([2, 3, 1], seed=0), tmp_path / "net.onnx")
    assert os.listdir(tmp_path) == []


def test_save_and_load_dispatch(tmp_path):
    net = Network.random([2, 4, 1], seed=5, activation="hardtanh")
    net.save(tmp_path / "a.onnx")
    assert rs.load(tmp_path / "a.onnx") == net
    assert Network.from_onnx(tmp_path / "a.onnx") == net


# ---------------------------------------------------------------------- import of foreign graphs
def test_gemm_variants_matmul_and_elementwise_ops(tmp_path):
    rng = np.random.default_rng(0)
    inits = {
        "B0": rng.normal(size=(3, 4)), "C0": rng.normal(size=(1, 4)),  # transB=0, C broadcast
        "B1": rng.normal(size=(5, 4)), "C1": rng.normal(size=5),
        "M": rng.normal(size=(5, 2)), "a": rng.normal(size=2), "s": np.array(0.25),
        "lo": np.array(-0.3), "hi": np.array(0.8), "k": np.array([2.0, -0.5]),
    }
    nodes = [
        helper.make_node("Gemm", ["x", "B0", "C0"], ["g0"], alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["g0"], ["r0"]),
        helper.make_node("Gemm", ["r0", "B1", "C1"], ["g1"], transB=1),
        helper.make_node("LeakyRelu", ["g1"], ["l1"], alpha=0.125),
        helper.make_node("MatMul", ["l1", "M"], ["m"]),
        helper.make_node("Add", ["a", "m"], ["ma"]),
        helper.make_node("PRelu", ["ma", "s"], ["p"]),
        helper.make_node("Sub", ["a", "p"], ["sb"]),
        helper.make_node("Mul", ["sb", "k"], ["mu"]),
        helper.make_node("Div", ["mu", "k"], ["dv"]),
        helper.make_node("Neg", ["dv"], ["ng"]),
        helper.make_node("Clip", ["ng", "lo", ""], ["c1"]),  # only a lower bound
        helper.make_node("Clip", ["c1", "", "hi"], ["c2"]),  # only an upper bound
        helper.make_node("Clip", ["c2", "lo", "hi"], ["c3"]),
        helper.make_node("Abs", ["c3"], ["ab"]),
        helper.make_node("Dropout", ["ab"], ["dr"]),
        helper.make_node("Identity", ["dr"], ["y"]),
    ]
    net = _check_against_reference(tmp_path, _model(nodes, inits, [3]), (3,))
    assert net.metadata["source"] == "onnx"


def test_residual_concat_reshape_flatten(tmp_path):
    rng = np.random.default_rng(1)
    inits = {"W": rng.normal(size=(6, 6)), "V": rng.normal(size=(12, 2)), "shape": np.array([0, 3, -1])}
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),  # (2, 3) -> (6,)
        helper.make_node("Gemm", ["f", "W"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["r"]),
        helper.make_node("Add", ["f", "r"], ["res"]),  # residual on the signed input
        helper.make_node("Concat", ["res", "f"], ["cat"], axis=1),
        helper.make_node("Reshape", ["cat", "shape"], ["rs"]),  # (12,) -> (3, 4)
        helper.make_node("Flatten", ["rs"], ["fl"], axis=1),
        helper.make_node("MatMul", ["fl", "V"], ["y"]),
    ]
    net = _check_against_reference(tmp_path, _model(nodes, inits, [2, 3]), (2, 3))
    assert net.hidden_widths == (6 + 2 * 6,)  # relu units + the input carried by 2 units each


CONV_ATTRS = [
    dict(kernel_shape=[3, 3]),
    dict(kernel_shape=[3, 3], pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2]),
    dict(kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
    dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2),
]


@pytest.mark.parametrize("attrs", CONV_ATTRS, ids=str)
def test_conv_batchnorm_pools(tmp_path, attrs):
    rng = np.random.default_rng(2)
    group = attrs.get("group", 1)
    inits = {
        "W": rng.normal(size=(4, 2 // group, *attrs["kernel_shape"])), "B": rng.normal(size=4),
        "sc": rng.normal(size=4), "bi": rng.normal(size=4), "mu": rng.normal(size=4),
        "var": rng.uniform(0.3, 2.0, size=4),
    }
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], **attrs),
        helper.make_node("BatchNormalization", ["c", "sc", "bi", "mu", "var"], ["bn"], epsilon=1e-3),
        helper.make_node("MaxPool", ["bn"], ["mp"], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0]),
        helper.make_node("Relu", ["mp"], ["r"]),
        helper.make_node("AveragePool", ["r"], ["ap"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         ceil_mode=1, count_include_pad=0),
        helper.make_node("GlobalMaxPool", ["ap"], ["gm"]),
        helper.make_node("Add", ["gm", "ap"], ["y0"]),
        helper.make_node("GlobalAveragePool", ["y0"], ["y"]),
    ]
    _check_against_reference(tmp_path, _model(nodes, inits, [2, 7, 6], out_rank=4), (2, 7, 6))


def test_conv_matches_torch(tmp_path):
    """The same convolution computed by PyTorch (an independent implementation)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(3, 1, 3, 2)), rng.normal(size=3)
    node = helper.make_node("Conv", ["x", "W", "B"], ["y"], strides=[2, 1], pads=[1, 0, 0, 1], dilations=[1, 2])
    net = from_onnx(_save(tmp_path, _model([node], {"W": w, "B": b}, [1, 6, 5], out_rank=4)))
    x = rng.normal(size=(4, 1, 6, 5))
    xt = torch.nn.functional.pad(torch.tensor(x), (0, 1, 1, 0))
    y = torch.nn.functional.conv2d(xt, torch.tensor(w), torch.tensor(b), stride=(2, 1), dilation=(1, 2))
    np.testing.assert_allclose(net(x.reshape(4, -1)), y.reshape(4, -1).numpy(), rtol=0, atol=1e-12)


def test_torch_exported_models(tmp_path):
    """Files written by torch.onnx.export (Shape/Gather/Concat reshapes, Gemm, pools)."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.bn = nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3)
            self.c2 = nn.Conv2d(3, 3, 3, padding=1, groups=3)
            self.fc = nn.Linear(3 * 3 * 3, 4)

        def forward(self, x):
            h = F.relu(self.bn(self.c1(x)))
            h = F.relu(h + self.c2(h))
            h = F.max_pool2d(h, 2, ceil_mode=True)
            h = h.view(h.size(0), -1)
            return F.log_softmax(F.leaky_relu(self.fc(h), 0.125).clamp(-1.0, 2.0), dim=1)

    torch.manual_seed(0)
    model = CNN().double()
    with torch.no_grad():
        model.bn.running_mean.normal_()
        model.bn.running_var.uniform_(0.5, 2.0)
    model.eval()
    p = tmp_path / "cnn.onnx"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (torch.zeros(1, 1, 5, 5, dtype=torch.float64),), str(p), dynamo=False,
                              input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    except Exception as exc:  # the exporter is optional machinery, not what is tested here
        pytest.skip(f"torch.onnx.export unavailable: {exc}")
    with pytest.warns(rs.StrippedLayerWarning, match="LogSoftmax"):
        net = from_onnx(p)
    x = np.random.default_rng(0).normal(size=(6, 25))
    with torch.no_grad():
        logits = torch.log_softmax(model(torch.tensor(x).view(6, 1, 5, 5)), 1).numpy()
    # log_softmax(net(x)) == the model's output (a log-softmax of the logits)
    z = net(x)
    z = z - z.max(axis=1, keepdims=True)
    z = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(z, logits, rtol=0, atol=1e-10)


def test_input_shape_argument_and_missing_shape(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", D, ["N", "F"])],
                              [helper.make_tensor_value_info("y", D, ["N", "F"])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    p = _save(tmp_path, m)
    with pytest.raises(rs.InvalidParameterError, match="input_shape"):
        from_onnx(p)
    net = from_onnx(p, input_shape=(3,))
    np.testing.assert_array_equal(net(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 2.0]])


# ---------------------------------------------------------------------- bad files
def test_unknown_and_non_piecewise_linear_ops_are_refused(tmp_path):
    out = tmp_path / "out.npz"
    for op in ("Sigmoid", "Tanh", "Erf"):
        nodes = [helper.make_node("Relu", ["x"], ["r"], name="first"), helper.make_node(op, ["r"], ["y"], name="bad")]
        p = _save(tmp_path, _model(nodes, {}, [3]), f"{op}.onnx")
        with pytest.raises(rs.UnsupportedLayerError, match=rf"{op} node 'bad' is not supported"):
            Network.load(p).save(out)
    custom = helper.make_node("Mystery", ["x"], ["y"], name="m1", domain="com.example")
    model = _model([custom], {}, [3])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    p = _save(tmp_path, model, "custom.onnx")
    with pytest.raises(rs.UnsupportedLayerError, match="Mystery node 'm1'.*com.example"):
        Network.load(p).save(out)
    assert not out.exists()


def test_softmax_in_the_middle_is_refused(tmp_path):
    nodes = [helper.make_node("Softmax", ["x"], ["s"], name="sm"), helper.make_node("Relu", ["s"], ["y"])]
    with pytest.raises(rs.UnsupportedLayerError, match="Softmax node 'sm'.*inside"):
        from_onnx(_save(tmp_path, _model(nodes, {}, [3])))


def test_corrupt_truncated_and_non_finite_files(tmp_path):
    out = tmp_path / "out.npz"
    good = tmp_path / "good.onnx"
    to_onnx(Network.random([3, 16, 16, 2], seed=0), good)
    data = good.read_bytes()
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(data[: len(data) // 2])
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(os.urandom(300))
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    for p in (trunc, junk, empty):
        with pytest.raises(rs.ModelFileError, match="truncated or corrupt"):
            Network.load(p).save(out)
    with pytest.raises(rs.ModelFileError, match="No such model file"):
        from_onnx(tmp_path / "missing.onnx")
    nodes = [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)]
    nan = _save(tmp_path, _model(nodes, {"W": np.array([[1.0, np.nan]])}, [2]), "nan.onnx")
    with pytest.raises(rs.NonFiniteError, match="'W'"):
        Network.load(nan).save(out)
    assert not out.exists()


def test_training_mode_batchnorm_and_used_dropout_mask_are_refused(tmp_path):
    inits = {k: np.ones(2) for k in ("s", "b", "m", "v")}
    bn = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", training_mode=1)
    with pytest.raises((rs.UnsupportedLayerError, rs.ModelFileError), match="training"):
        from_onnx(_save(tmp_path, _model([bn], inits, [2]), "bn.onnx"))
    nodes = [helper.make_node("Dropout", ["x"], ["d", "mask"], name="do"),
             helper.make_node("Cast", ["mask"], ["mf"], to=D),
             helper.make_node("Add", ["d", "mf"], ["y"])]
    with pytest.raises(rs.UnsupportedLayerError, match="Dropout node 'do'.*'mask'"):
        from_onnx(_save(tmp_path, _model(nodes, {}, [2]), "do.onnx"))


def test_missing_onnx_gives_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(rs.ReluscopeError, match=r"pip install reluscope\[onnx\]"):
        Network.random([2, 2, 1], seed=0).to_onnx(tmp_path / "n.onnx")
    assert os.listdir(tmp_path) == []
