"""ONNX files in and out, written with the ``onnx`` helper API (no torch needed).

Export (:func:`to_onnx`): opset 17, IR version 8, **float64** throughout, so that a
round trip is exact. Each layer is a ``Gemm`` (``transB=1``, weight of shape
``(n_out, n_in)``) followed by ``Relu``, ``PRelu`` (LeakyReLU: its slope is a float64
scalar tensor, whereas ``LeakyRelu``'s ``alpha`` attribute is float32 and would round
it), ``Clip`` (HardTanh, float64 bounds), ``Abs`` or nothing (Identity). Input
``"input"`` has shape ``(batch, n_in)``, output ``"output"`` ``(batch, n_out)``;
``net.metadata`` is kept as JSON in the model's ``metadata_props``. onnxruntime runs
these files on CPU.

Import (:func:`from_onnx`) lowers the graph exactly like :func:`reluscope.io.torch.from_torch`
(DESIGN §1): Gemm, MatMul, Add, Sub, Mul/Div by constants, Neg, Relu, LeakyRelu,
PRelu with one slope, Clip, Abs, Identity, Dropout, Cast to float, Flatten,
Reshape, Concat, Conv, BatchNormalization (inference), AveragePool,
GlobalAveragePool, MaxPool, GlobalMaxPool, Constant, ``Shape`` for reshapes that keep
the batch axis, and constant subgraphs (evaluated once). A final Softmax/LogSoftmax
is dropped with :class:`~reluscope.StrippedLayerWarning`; any other operator raises
:class:`~reluscope.UnsupportedLayerError` naming its type and node. Convolutions and
pooling are turned into exact dense maps by running the single node on the identity
basis with ``onnx.reference.ReferenceEvaluator`` in float64.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._atomic import atomic_path
from .._errors import (
    InvalidParameterError,
    ModelFileError,
    NonFiniteError,
    StrippedLayerWarning,
    UnsupportedLayerError,
)
from ..activations import Abs, HardTanh, Identity, LeakyReLU, ReLU
from ..network import Network
from ._lower import Lowering, channelwise_matrix, matrix_from_basis, windows_from_membership
from ._optional import require

__all__ = ["to_onnx", "from_onnx", "OPSET"]

#: Opset of the files that :func:`to_onnx` writes.
OPSET = 17
_META_KEY = "reluscope.metadata"


def _onnx(purpose: str) -> Any:
    return require("onnx", "onnx", purpose)


# ---------------------------------------------------------------------- export
def to_onnx(net: Network, path: str | os.PathLike) -> None:
    """Write ``net`` as an ONNX model (float64, opset 17), atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, onnxruntime as ort
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.onnx"
    >>> net = Network.random([3, 8, 2], seed=0)
    >>> to_onnx(net, p)
    >>> x = np.random.default_rng(0).normal(size=(5, 3))
    >>> sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    >>> bool(np.allclose(sess.run(None, {"input": x})[0], net(x), rtol=0, atol=1e-12))
    True
    >>> from_onnx(p) == net
    True
    """
    onnx = _onnx("to_onnx")
    if not isinstance(net, Network):
        raise InvalidParameterError(f"'net' must be a Network; got {type(net).__name__}.")
    model = _export_model(onnx, net)
    with atomic_path(path, suffix=".onnx") as tmp:
        onnx.save_model(model, os.fspath(tmp))


def _export_model(onnx: Any, net: Network) -> Any:
    from .. import __version__

    helper, nph, T = onnx.helper, onnx.numpy_helper, onnx.TensorProto
    nodes, inits = [], []
    h = "input"
    last = net.depth - 1

    def const(name: str, arr: Any) -> str:
        inits.append(nph.from_array(np.asarray(arr, dtype=np.float64), name))
        return name

    for i, layer in enumerate(net.layers):
        act = layer.activation
        out = "output" if i == last else f"layer{i}.out"
        z = out if isinstance(act, Identity) else f"layer{i}.linear"
        w, b = const(f"layer{i}.weight", layer.weight), const(f"layer{i}.bias", layer.bias)
        nodes.append(helper.make_node("Gemm", [h, w, b], [z], name=f"layer{i}.gemm", transB=1))
        if isinstance(act, ReLU):
            nodes.append(helper.make_node("Relu", [z], [out], name=f"layer{i}.relu"))
        elif isinstance(act, LeakyReLU):
            s = const(f"layer{i}.slope", act.alpha)
            nodes.append(helper.make_node("PRelu", [z, s], [out], name=f"layer{i}.leaky_relu"))
        elif isinstance(act, HardTanh):
            lo, hi = const(f"layer{i}.lo", act.lo), const(f"layer{i}.hi", act.hi)
            nodes.append(helper.make_node("Clip", [z, lo, hi], [out], name=f"layer{i}.hardtanh"))
        elif isinstance(act, Abs):
            nodes.append(helper.make_node("Abs", [z], [out], name=f"layer{i}.abs"))
        h = out
    graph = helper.make_graph(
        nodes,
        "reluscope_network",
        [helper.make_tensor_value_info("input", T.DOUBLE, ["batch", net.n_in])],
        [helper.make_tensor_value_info("output", T.DOUBLE, ["batch", net.n_out])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="reluscope",
        producer_version=__version__,
        doc_string=net.summary(),
    )
    model.ir_version = 8
    helper.set_model_props(model, {_META_KEY: json.dumps(net.metadata, default=str)})
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------- import
def from_onnx(path: str | os.PathLike, input_shape: Any = None) -> Network:
    """Read an ONNX model and lower it exactly into a :class:`~reluscope.Network`.

    Parameters
    ----------
    path : path-like
    input_shape : tuple of int, optional
        Shape of one input sample (no batch axis), when the file does not fix it.

    Returns
    -------
    Network
        Takes the C-order flattening of one sample (``metadata["input_shape"]``).
        Weights are converted to float64 exactly and the network computes in float64,
        so it differs from a float32 runtime by float32 rounding only. ``metadata`` is
        restored for files written by :func:`to_onnx`.

    Raises
    ------
    ModelFileError
        Missing, truncated or corrupt files, or graphs that do not check.
    UnsupportedLayerError
        An operator that is not piecewise linear or not supported (type and node named).
    NonFiniteError
        NaN or infinite weights.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.onnx"
    >>> Network.random([2, 5, 1], seed=0, activation="abs").to_onnx(p)
    >>> from_onnx(p).activations
    (Abs(), Identity())
    """
    onnx = _onnx("reading ONNX files")
    where = os.fspath(path)
    model = _load(onnx, where)
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
    consts = {init.name: init for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedLayerError(
            f"{where!r} has {len(inputs)} inputs and {len(graph.output)} outputs; reluscope "
            "reads models with exactly one of each."
        )
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    out_name = graph.output[0].name
    uses[out_name] = uses.get(out_name, 0) + 1
    shape = _input_shape(inputs[0], input_shape, where)
    ctx = _Graph(onnx, opset, consts, uses, out_name)
    ctx.lw = Lowering(shape, inputs[0].name, uses.get(inputs[0].name, 0))
    for k, node in enumerate(graph.node):
        ctx.lower(node, k)
    if out_name not in ctx.lw:
        raise UnsupportedLayerError(f"the output {out_name!r} of {where!r} does not depend on its input.")
    meta = {p.key: p.value for p in model.metadata_props}
    if _META_KEY in meta:
        try:
            metadata = json.loads(meta[_META_KEY])
        except ValueError as exc:
            raise ModelFileError(f"{where!r} has unreadable reluscope metadata: {exc}") from exc
    else:
        metadata = {"source": "onnx", "producer": model.producer_name, "file": os.path.basename(where),
                    "input_shape": list(shape)}
    return ctx.lw.network(out_name, metadata)


def _load(onnx: Any, where: str) -> Any:
    if not os.path.isfile(where):
        raise ModelFileError(f"No such model file: {where!r}.")
    try:
        model = onnx.load_model(where)
        onnx.checker.check_model(model)
    except Exception as exc:  # protobuf DecodeError, ValidationError, ...: all mean unreadable
        raise ModelFileError(
            f"Could not read {where!r} as an ONNX model ({type(exc).__name__}: {exc}). "
            "The file may be truncated or corrupt."
        ) from exc
    return model


def _input_shape(info: Any, given: Any, where: str) -> tuple[int, ...]:
    if given is not None:
        dims = tuple(given) if isinstance(given, (tuple, list)) else (given,)
        if not dims or not all(isinstance(d, (int, np.integer)) and d >= 1 for d in dims):
            raise InvalidParameterError(
                f"'input_shape' must be a tuple of positive ints (no batch axis); got {given!r}."
            )
        return tuple(int(d) for d in dims)
    t = info.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
        raise InvalidParameterError(
            f"{where!r}: input {info.name!r} has shape {dims}; reluscope needs (batch, ...) with "
            "fixed per-sample dimensions. Pass input_shape=(...) (one sample, no batch axis)."
        )
    return tuple(int(d) for d in dims[1:])


class _Ref(str):
    """Name of a value computed from the input (as opposed to a constant)."""


class _Graph:
    def __init__(self, onnx: Any, opset: int, inits: dict, uses: dict, out_name: str):
        self.onnx, self.opset, self.uses, self.out_name = onnx, opset, uses, out_name
        self.inits = inits
        self.const: dict[str, np.ndarray] = {}
        self.lw: Lowering

    def value(self, name: str, desc: str) -> Any:
        if name == "":
            return None
        if name in self.const:
            return self.const[name]
        if name in self.inits:
            arr = self.onnx.numpy_helper.to_array(self.inits[name])
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise NonFiniteError(f"initializer {name!r} (used by {desc}) contains NaN or infinite values.")
            self.const[name] = arr
            return arr
        if name in self.lw:
            return _Ref(name)
        raise ModelFileError(f"{desc} reads {name!r}, which no earlier node or initializer provides.")

    def lower(self, node: Any, k: int) -> None:
        desc = f"{node.op_type} node {node.name or '#' + str(k)!r}"
        ins = [self.value(n, desc) for n in node.input]
        attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}
        for extra in node.output[1:]:
            if self.uses.get(extra, 0):
                raise UnsupportedLayerError(f"{desc}: its output {extra!r} (mask/indices/statistics) is used.")
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedLayerError(f"{desc} is from operator domain {node.domain!r}, which is not supported.")
        if not any(isinstance(v, _Ref) for v in ins):
            self._fold(node, ins, desc)
            return
        _NodeOp(self, node, desc, ins, attrs).run()

    def _fold(self, node: Any, ins: list, desc: str) -> None:
        """Evaluate a node whose inputs are all constant (shape arithmetic, Constant)."""
        if node.op_type == "Constant":
            attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}
            key = next(iter(attrs))
            val = attrs[key]
            arr = self.onnx.numpy_helper.to_array(val) if hasattr(val, "dims") else np.asarray(val)
            self.const[node.output[0]] = arr
            return
        if node.op_type in ("Softmax", "LogSoftmax") or not node.input:
            raise UnsupportedLayerError(f"{desc} does not depend on the input and cannot be folded.")
        feeds = {n: np.asarray(v) for n, v in zip(node.input, ins, strict=True) if n}
        try:
            outs = _evaluator(self.onnx, node, self.opset, {n: v.dtype for n, v in feeds.items()})(feeds)
        except Exception as exc:  # the reference evaluator raises many types for bad nodes
            raise UnsupportedLayerError(f"{desc}: could not evaluate its constant inputs ({exc}).") from exc
        for name, arr in zip(node.output, outs, strict=False):
            self.const[name] = np.asarray(arr)


def _evaluator(onnx: Any, node: Any, opset: int, dtypes: dict, keep_inputs: int | None = None) -> Any:
    """``feeds -> outputs`` running one node with ``onnx.reference.ReferenceEvaluator``.

    ``dtypes`` maps each (kept) input name to its numpy dtype; ``keep_inputs`` drops the
    node's later inputs (e.g. a convolution's bias).
    """
    from onnx.reference import ReferenceEvaluator

    helper = onnx.helper
    n2 = onnx.NodeProto()
    n2.CopyFrom(node)
    if keep_inputs is not None:
        del n2.input[keep_inputs:]
    names = [n for n in n2.input if n]
    graph = helper.make_graph(
        [n2],
        "single",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.dtype(dtypes[n])), None)
         for n in names],
        [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in n2.output if o],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    ref = ReferenceEvaluator(model)
    return lambda feeds: ref.run(None, {n: feeds[n] for n in names})


class _NodeOp:
    """Lowers one node with at least one input computed from the model input."""

    def __init__(self, g: _Graph, node: Any, desc: str, ins: list, attrs: dict):
        self.g, self.node, self.desc, self.ins, self.attrs = g, node, desc, ins, attrs
        self.lw = g.lw
        self.out = node.output[0]
        self.uses = g.uses.get(self.out, 0)

    def fail(self, why: str = "") -> None:
        raise UnsupportedLayerError(
            f"{self.desc} {why or 'is not supported'}; reluscope lowers only piecewise-linear "
            "operators (Gemm, MatMul, Add, Conv, BatchNormalization, pooling, Relu, LeakyRelu, "
            "Clip, Abs, Flatten, Reshape, ...)."
        )

    def src(self) -> _Ref:
        v = self.ins[0]
        if not isinstance(v, _Ref):
            self.fail("takes a constant as its data input")
        return v

    def shape(self) -> tuple[int, ...]:
        return self.lw.peek(self.src()).shape

    def alias(self) -> None:
        self.lw.define(self.out, self.lw.take(self.src()), self.uses)

    def act(self, act: Any) -> None:
        self.lw.activation(self.out, self.src(), act, self.uses)

    def scalar(self, i: int, default: float | None) -> float | None:
        v = self.ins[i] if i < len(self.ins) else None
        if v is None:
            return default
        if isinstance(v, _Ref) or np.size(v) != 1:
            self.fail(f"has a non-constant or non-scalar input {i}")
        return float(np.asarray(v).reshape(()))

    def affine(self, scale: Any, shift: Any) -> None:
        s = self.shape()
        self.lw.elementwise(self.out, self.src(), self.bcast(scale, s), self.bcast(shift, s), self.uses)

    def bcast(self, c: Any, s: tuple[int, ...]) -> np.ndarray:
        arr = np.asarray(c, dtype=np.float64)
        full = (1, *s)
        try:
            ok = np.broadcast_shapes(arr.shape, full) == full
        except ValueError:
            ok = False
        if not ok:
            self.fail(f"broadcasts a constant of shape {arr.shape} against the batch dimension of {s}")
        return np.broadcast_to(arr, full).reshape(-1)

    def dense(self, W: np.ndarray, b: Any) -> None:
        s = self.shape()
        if s[-1] != W.shape[1]:
            raise ModelFileError(f"{self.desc} expects {W.shape[1]} input features but gets shape {s}.")
        lead = math.prod(s[:-1])
        M = W if lead == 1 else sp.kron(sp.identity(lead, format="csr"), sp.csr_array(W), format="csr")
        d = None if b is None else np.tile(np.broadcast_to(np.asarray(b, dtype=np.float64), (1, W.shape[0]))[0], lead)
        self.lw.linear(self.out, self.src(), M, d, (*s[:-1], W.shape[0]), self.uses)

    def single(self, keep: int) -> Any:
        """``fn(batch)`` running this node (its first ``keep`` inputs) in float64."""
        names = self.node.input[:keep]
        feeds = {n: np.asarray(v, dtype=np.float64) for n, v in zip(names[1:], self.ins[1:keep], strict=False) if n}
        ev = _evaluator(self.g.onnx, self.node, self.g.opset, {n: np.float64 for n in names if n}, keep)
        return lambda x: ev({names[0]: x, **feeds})[0]

    # -------------------------------------------------------------- dispatch
    def run(self) -> None:
        op, ins, a = self.node.op_type, self.ins, self.attrs
        if op == "Gemm":
            if a.get("transA", 0) or not isinstance(ins[0], _Ref) or isinstance(ins[1], _Ref):
                self.fail("multiplies in an unsupported order (needs input @ constant)")
            B = np.asarray(ins[1], dtype=np.float64)
            W = a.get("alpha", 1.0) * (B if a.get("transB", 0) else B.T)
            C = ins[2] if len(ins) > 2 else None
            if isinstance(C, _Ref):
                self.fail("adds a computed C")
            self.dense(W, None if C is None else a.get("beta", 1.0) * np.asarray(C, dtype=np.float64))
        elif op == "MatMul":
            if not isinstance(ins[0], _Ref) or isinstance(ins[1], _Ref) or np.ndim(ins[1]) != 2:
                self.fail("multiplies in an unsupported order (needs input @ 2-D constant)")
            self.dense(np.asarray(ins[1], dtype=np.float64).T, None)
        elif op in ("Add", "Sub", "Sum"):
            self.add(op)
        elif op in ("Mul", "Div"):
            self.mul(op == "Div")
        elif op == "Neg":
            self.affine(-1.0, 0.0)
        elif op == "Relu":
            self.act(ReLU())
        elif op == "LeakyRelu":
            self.act(LeakyReLU(float(a.get("alpha", 0.01))))
        elif op == "PRelu":
            slope = np.unique(np.asarray(ins[1], dtype=np.float64))
            if isinstance(ins[1], _Ref) or slope.size != 1:
                self.fail("has per-channel slopes (only a single slope, i.e. LeakyReLU, is supported)")
            self.act(LeakyReLU(float(slope[0])))
        elif op == "Clip":
            self.clip()
        elif op == "Abs":
            self.act(Abs())
        elif op in ("Identity", "Dropout"):
            if op == "Dropout" and len(ins) > 2 and ins[2] is not None and bool(np.asarray(ins[2])):
                self.fail("is in training mode")
            self.alias()
        elif op == "Cast":
            if a.get("to") not in (self.g.onnx.TensorProto.FLOAT, self.g.onnx.TensorProto.DOUBLE):
                self.fail("casts to a non-float type")
            self.alias()
        elif op == "Flatten":
            s = self.shape()
            axis = int(a.get("axis", 1)) % (len(s) + 1)
            if axis == 0:
                self.fail("flattens the batch axis (axis=0)")
            self.lw.reshape(self.out, self.src(), (math.prod(s[: axis - 1]), math.prod(s[axis - 1 :])), self.uses)
        elif op == "Reshape":
            self.reshape(np.asarray(ins[1]).astype(np.int64).tolist(), int(a.get("allowzero", 0)))
        elif op == "Shape":
            s = self.lw.take(self.src()).shape
            full = np.array([0, *s], dtype=np.int64)  # 0 = "copy the batch size" for Reshape
            self.g.const[self.out] = full[a.get("start", 0) : a.get("end", None)]
        elif op == "Concat":
            if not all(isinstance(v, _Ref) for v in ins):
                self.fail("concatenates constants with computed values")
            axis = int(a["axis"]) % (len(self.shape()) + 1)
            if axis == 0:
                self.fail("concatenates along the batch axis")
            self.lw.concat(self.out, list(ins), axis - 1, self.uses)
        elif op == "BatchNormalization":
            self.batchnorm()
        elif op == "Conv":
            self.conv()
        elif op in ("AveragePool", "GlobalAveragePool"):
            self.need_spatial()
            M, out_shape = channelwise_matrix(self.single(1), self.shape())
            self.lw.linear(self.out, self.src(), M, None, out_shape, self.uses)
        elif op in ("MaxPool", "GlobalMaxPool"):
            self.maxpool()
        elif op in ("Softmax", "LogSoftmax"):
            if self.out != self.g.out_name or self.uses != 1:
                self.fail("is a softmax inside the network, which is not piecewise linear")
            warnings.warn(
                f"{self.desc}: the final softmax/log-softmax was dropped; the network outputs its "
                "input (the logits), which has the same argmax and the same linear regions.",
                StrippedLayerWarning,
                stacklevel=4,
            )
            self.alias()
        else:
            self.fail()

    def add(self, op: str) -> None:
        ins = self.ins
        refs = [i for i, v in enumerate(ins) if isinstance(v, _Ref)]
        signs = [1.0] + [(-1.0 if op == "Sub" else 1.0)] * (len(ins) - 1)
        consts = [i for i in range(len(ins)) if i not in refs]
        if len(consts) > 1 or (op == "Sub" and len(ins) != 2):
            self.fail("mixes more than one constant")
        if not consts:
            self.lw.add(self.out, [ins[i] for i in refs], [signs[i] for i in refs], self.uses)
            return
        if len(refs) != 1:
            self.fail("adds a constant to several computed values")
        r, c = refs[0], consts[0]
        self.ins = [ins[r]]
        self.affine(signs[r], signs[c] * np.asarray(ins[c], dtype=np.float64))

    def mul(self, divide: bool) -> None:
        a, b = self.ins[0], self.ins[1]
        if isinstance(a, _Ref) and isinstance(b, _Ref):
            self.fail("multiplies two computed values, which is not piecewise linear")
        if not isinstance(a, _Ref):
            if divide:
                self.fail("divides by a computed value")
            a, b = b, a
            self.ins = [a]
        c = np.asarray(b, dtype=np.float64)
        self.affine(1.0 / c if divide else c, 0.0)

    def clip(self) -> None:
        if self.g.opset < 11:
            lo, hi = self.attrs.get("min"), self.attrs.get("max")
        else:
            lo, hi = self.scalar(1, None), self.scalar(2, None)
        lo = None if lo is None or lo == -np.inf else float(lo)
        hi = None if hi is None or hi == np.inf else float(hi)
        src, out, uses = self.src(), self.out, self.uses
        if lo is not None and hi is not None:
            self.act(HardTanh(lo, hi))
        elif lo is not None:  # lo + relu(x - lo)
            self.lw.elementwise(out + "\x00in", src, 1.0, -lo, 1)
            self.lw.activation(out + "\x00relu", out + "\x00in", ReLU(), 1)
            self.lw.elementwise(out, out + "\x00relu", 1.0, lo, uses)
        elif hi is not None:  # hi - relu(hi - x)
            self.lw.elementwise(out + "\x00in", src, -1.0, hi, 1)
            self.lw.activation(out + "\x00relu", out + "\x00in", ReLU(), 1)
            self.lw.elementwise(out, out + "\x00relu", -1.0, hi, uses)
        else:
            self.alias()

    def reshape(self, target: list[int], allowzero: int) -> None:
        s = self.shape()
        size = math.prod(s)
        first, rest = target[0], list(target[1:])
        if not allowzero:
            rest = [s[i] if d == 0 and i < len(s) else d for i, d in enumerate(rest)]
        if rest.count(-1) > 1 or (first == -1 and -1 in rest):
            self.fail(f"reshapes to {target}, which does not fix the per-sample shape")
        if -1 in rest:
            known = math.prod(d for d in rest if d != -1)
            rest[rest.index(-1)] = size // max(known, 1)
        if not ((first == 0 and not allowzero) or first == -1 or math.prod(rest) == size):
            self.fail(f"reshapes to {target}, which does not keep the batch axis first")
        self.lw.reshape(self.out, self.src(), tuple(rest), self.uses)

    def need_spatial(self) -> tuple[int, ...]:
        s = self.shape()
        if len(s) < 2:
            raise InvalidParameterError(
                f"{self.desc} needs an input of shape (C, H, W) or (C, L) per sample; it gets {s}. "
                "Pass input_shape=(C, H, W) to from_onnx."
            )
        return s

    def batchnorm(self) -> None:
        if self.attrs.get("training_mode", 0):
            self.fail("is in training mode (training_mode=1)")
        s = self.need_spatial() if len(self.shape()) > 1 else self.shape()
        scale, bias, mean, var = (np.asarray(v, dtype=np.float64) for v in self.ins[1:5])
        if any(isinstance(v, _Ref) for v in self.ins[1:5]) or scale.shape != (s[0],):
            self.fail(f"has parameters that do not match {s[0]} channels")
        k = scale / np.sqrt(var + float(self.attrs.get("epsilon", 1e-5)))
        rep = math.prod(s[1:])
        self.lw.elementwise(self.out, self.src(), np.repeat(k, rep), np.repeat(bias - mean * k, rep), self.uses)

    def conv(self) -> None:
        s = self.need_spatial()
        if isinstance(self.ins[1], _Ref) or (len(self.ins) > 2 and isinstance(self.ins[2], _Ref)):
            self.fail("has computed weights")
        M, out_shape = matrix_from_basis(self.single(2), s)
        b = self.ins[2] if len(self.ins) > 2 else None
        d = None if b is None else np.repeat(np.asarray(b, dtype=np.float64), math.prod(out_shape[1:]))
        self.lw.linear(self.out, self.src(), M, d, out_shape, self.uses)

    def maxpool(self) -> None:
        s = self.need_spatial()
        spatial = s[1:]
        P, out1 = matrix_from_basis(self.single(1), (1, *spatial))
        win = windows_from_membership(sp.csr_array(P > 0.5))
        hw = math.prod(spatial)
        wins = np.concatenate([np.where(win >= 0, win + c * hw, -1) for c in range(s[0])])
        self.lw.maxpool(self.out, self.src(), wins, (s[0], *out1[1:]), self.uses)
