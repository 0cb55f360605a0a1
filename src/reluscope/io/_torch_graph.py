"""The torch.fx graph walk behind :func:`reluscope.io.torch.from_torch`.

Each traced node is handed to :class:`reluscope.io._lower.Lowering`: modules and
functions that are affine update the maps of the values, activations emit layers
(see :mod:`reluscope.io._lower` for the exact constructions). ``torch`` is never
imported here: the caller passes the module object in.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._errors import InvalidParameterError, NonFiniteError, StrippedLayerWarning, UnsupportedLayerError
from ..activations import Abs, Activation, HardTanh, LeakyReLU, ReLU
from ..network import Network
from ._lower import Lowering, channelwise_matrix, matrix_from_basis, windows_from_membership

__all__ = ["lower_traced", "abs_module_class", "tensor_array"]

#: Lower-case names of layers and functions that are smooth or otherwise not piecewise linear.
_NOT_PWL = frozenset(
    "sigmoid tanh gelu silu elu celu selu softplus mish hardswish hardsigmoid logsigmoid softsign "
    "tanhshrink softmin softmax2d glu exp log sqrt rsqrt pow sin cos erf reciprocal square".split()
)


class _Batch:
    """Stands for the batch size (``x.size(0)``) while tracing shapes."""

    def __repr__(self) -> str:
        return "<batch>"


_BATCH = _Batch()


@functools.cache
def abs_module_class(torch: Any) -> type:
    """The ``Abs`` module class (``|x|`` elementwise), created once per torch module."""

    class Abs(torch.nn.Module):
        """Elementwise ``|x|``: reluscope's :class:`~reluscope.Abs` activation as a module."""

        def forward(self, x: Any) -> Any:
            return torch.abs(x)

    Abs.__module__ = "reluscope.io.torch"
    Abs.__qualname__ = "Abs"
    return Abs


def lower_traced(torch: Any, gm: Any, input_shape: Any, metadata: dict[str, Any]) -> Network:
    """Lower a ``torch.fx.GraphModule`` into a Network (see ``from_torch``); the sample
    shape is added to ``metadata`` as ``"input_shape"``."""
    nodes = list(gm.graph.nodes)
    shape = _input_shape(torch, gm, nodes, input_shape)
    return _Context(torch, gm, nodes).run(shape, {**metadata, "input_shape": list(shape)})


# ---------------------------------------------------------------------- input shape
def _input_shape(torch: Any, gm: Any, nodes: list, input_shape: Any) -> tuple[int, ...]:
    nn = torch.nn
    if input_shape is not None:
        dims = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
        if not dims or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
                               for d in dims):
            raise InvalidParameterError(
                "'input_shape' must be a tuple of positive ints (one sample, no batch axis); "
                f"got {input_shape!r}."
            )
        return tuple(int(d) for d in dims)
    need = ""
    for node in nodes:
        if node.op != "call_module":
            continue
        mod = gm.get_submodule(node.target)
        if isinstance(mod, nn.Linear):
            return (mod.in_features,)
        if isinstance(mod, nn.BatchNorm1d):
            return (mod.num_features,)
        if not isinstance(mod, (nn.Flatten, nn.Identity, nn.Dropout, nn.ReLU, nn.LeakyReLU, nn.Hardtanh)):
            need = f" ({type(mod).__name__} layer {node.target!r} needs it)"
            break
    raise InvalidParameterError(
        f"'input_shape' is required{need}: pass the shape of one input sample without the batch "
        "axis, e.g. input_shape=(1, 28, 28); got None."
    )


# ---------------------------------------------------------------------- graph walk
class _Ref(str):
    """The name of a graph value (as opposed to a constant)."""


class _Context:
    def __init__(self, torch: Any, gm: Any, nodes: list):
        self.torch, self.gm, self.nodes = torch, gm, nodes
        self.uses: dict[str, int] = {n.name: 0 for n in nodes}
        for n in nodes:
            torch.fx.node.map_arg((n.args, n.kwargs), self._count)
        self.const: dict[str, Any] = {}
        self.lw: Lowering | None = None
        out = [n for n in nodes if n.op == "output"]
        self.final = set()
        if out:
            arg = out[0].args[0]
            arg = arg[0] if isinstance(arg, (tuple, list)) and len(arg) == 1 else arg
            if isinstance(arg, torch.fx.Node) and len(arg.users) == 1:
                self.final.add(arg.name)

    def _count(self, n: Any) -> Any:
        self.uses[n.name] += 1
        return n

    def _resolve(self, a: Any) -> Any:
        def one(n: Any) -> Any:
            return self.const[n.name] if n.name in self.const else _Ref(n.name)

        return self.torch.fx.node.map_arg(a, one)

    def run(self, shape: tuple[int, ...], metadata: dict[str, Any]) -> Network:
        for node in self.nodes:
            args, kwargs = self._resolve(node.args), self._resolve(node.kwargs)
            if node.op == "placeholder":
                if self.lw is not None:
                    raise UnsupportedLayerError(
                        f"the module takes more than one input ({node.name!r}); from_torch needs one."
                    )
                self.lw = Lowering(shape, node.name, self.uses[node.name])
            elif self.lw is None:
                raise UnsupportedLayerError("the module takes no tensor input; from_torch needs one.")
            elif node.op == "get_attr":
                self.const[node.name] = tensor_array(self._attr(node.target), f"attribute {node.target!r}")
            elif node.op == "call_module":
                mod = self.gm.get_submodule(node.target)
                desc = f"{type(mod).__name__} layer {node.target!r}"
                _Op(self, node, desc, args, kwargs, type(mod).__name__).module(mod)
            elif node.op in ("call_function", "call_method"):
                name = node.target if isinstance(node.target, str) else getattr(
                    node.target, "__name__", repr(node.target)
                )
                desc = f"operation {name!r} (node {node.name!r})"
                _Op(self, node, desc, args, kwargs, str(name)).function(node.target)
            elif node.op == "output":
                out = args[0]
                if isinstance(out, (tuple, list)) and len(out) == 1:
                    out = out[0]
                if not isinstance(out, _Ref):
                    raise UnsupportedLayerError(
                        "the module must return a single tensor computed from its input; "
                        f"it returns {type(out).__name__}."
                    )
                return self.lw.network(out, metadata)
        raise UnsupportedLayerError("the traced module has no output.")

    def _attr(self, target: str) -> Any:
        obj: Any = self.gm
        for part in target.split("."):
            obj = getattr(obj, part)
        return obj


def tensor_array(t: Any, what: str) -> np.ndarray:
    """A tensor (or number) as a finite float64 array."""
    if hasattr(t, "detach"):
        arr = t.detach().cpu().double().numpy()
    else:
        arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(
            f"{what} contains {bad} NaN or infinite value(s); all weights must be finite."
        )
    return arr


class _Op:
    """Lowers one graph node; ``self.out`` is its value name."""

    def __init__(self, ctx: _Context, node: Any, desc: str, args: tuple, kwargs: dict, kind: str):
        self.ctx, self.node, self.desc, self.kind = ctx, node, desc, kind
        self.args, self.kwargs = args, kwargs
        self.lw: Lowering = ctx.lw  # type: ignore[assignment]
        self.out = node.name
        self.uses = ctx.uses[node.name]

    # -------------------------------------------------------------- helpers
    def fail(self, why: str = "") -> None:
        kind = "is not piecewise linear" if self.kind.lower().rstrip("_") in _NOT_PWL else "is not supported"
        raise UnsupportedLayerError(
            f"{self.desc} {why or kind}; reluscope lowers only piecewise-linear operations "
            "(Linear, Conv, BatchNorm in eval mode, pooling, ReLU/LeakyReLU/Hardtanh/abs, "
            "residual sums)."
        )

    def src(self, i: int = 0) -> _Ref:
        a = self.args[i] if i < len(self.args) else self.kwargs.get("input")
        if not isinstance(a, _Ref):
            self.fail("has no tensor input computed from the model input")
        return a  # type: ignore[return-value]

    def shape(self, i: int = 0) -> tuple[int, ...]:
        return self.lw.peek(self.src(i)).shape

    def alias(self, src: str | None = None) -> None:
        self.lw.define(self.out, self.lw.take(src or self.src()), self.uses)

    def act(self, act: Activation) -> None:
        self.lw.activation(self.out, self.src(), act, self.uses)

    def arg(self, i: int, key: str, default: Any) -> Any:
        if i < len(self.args):
            return self.args[i]
        return self.kwargs.get(key, default)

    def strip_softmax(self) -> None:
        if self.node.name not in self.ctx.final:
            self.fail("is a softmax inside the network, which is not piecewise linear")
        warnings.warn(
            f"{self.desc}: the final softmax/log-softmax was dropped; the network outputs its "
            "input (the logits), which has the same argmax and the same linear regions.",
            StrippedLayerWarning,
            stacklevel=5,
        )
        self.alias()

    def need_dims(self, n: int, layout: str) -> tuple[int, ...]:
        s = self.shape()
        if len(s) != n:
            raise InvalidParameterError(
                f"{self.desc} needs an input of shape {layout} per sample; it gets {s}. "
                "Pass input_shape=(C, H, W) (one sample, no batch axis) to from_torch."
            )
        return s

    def runner(self, fn: Any) -> Any:
        """``fn`` (a linear torch operation) as a float64 NumPy function, with clear errors."""
        torch = self.ctx.torch

        def run(basis: np.ndarray) -> np.ndarray:
            try:
                with torch.no_grad():
                    return fn(torch.from_numpy(basis)).numpy()
            except (RuntimeError, ValueError, TypeError, IndexError) as exc:
                raise InvalidParameterError(
                    f"{self.desc} cannot be applied to its input of shape {self.shape()} per sample "
                    f"({exc}); check input_shape."
                ) from exc

        return run

    def linear_op(self, fn: Any, channelwise: bool) -> None:
        s = self.shape()
        M, out_shape = (channelwise_matrix if channelwise else matrix_from_basis)(self.runner(fn), s)
        self.lw.linear(self.out, self.src(), M, None, out_shape, self.uses)

    def max_op(self, fn: Any) -> None:
        s = self.shape()
        spatial = s[1:]
        P, out1 = matrix_from_basis(self.runner(fn), (1, *spatial))
        win = windows_from_membership(sp.csr_array(P > 0.5))
        hw = math.prod(spatial)
        wins = np.concatenate([np.where(win >= 0, win + c * hw, -1) for c in range(s[0])])
        self.lw.maxpool(self.out, self.src(), wins, (s[0], *out1[1:]), self.uses)

    def dense(self, W: np.ndarray, b: np.ndarray | None) -> None:
        """``y = x W^T + b`` on the last axis of the value."""
        s = self.shape()
        if s[-1] != W.shape[1]:
            raise InvalidParameterError(
                f"{self.desc} expects {W.shape[1]} input features but gets shape {s} per sample."
            )
        lead = math.prod(s[:-1])
        M = W if lead == 1 else sp.kron(sp.identity(lead, format="csr"), sp.csr_array(W), format="csr")
        d = None if b is None else np.tile(b, lead)
        self.lw.linear(self.out, self.src(), M, d, (*s[:-1], W.shape[0]), self.uses)

    def reshape(self, new: tuple[int, ...]) -> None:
        self.lw.reshape(self.out, self.src(), new, self.uses)

    def flatten(self, start: int, end: int) -> None:
        s = self.shape()
        nd = len(s) + 1
        start, end = start % nd, end % nd
        if start == 0:
            self.fail("flattens the batch axis (start_dim=0); use start_dim=1")
        self.reshape((*s[: start - 1], math.prod(s[start - 1 : end]), *s[end:]))

    def affine_const(self, scale: Any, shift: Any) -> None:
        s = self.shape()
        scale, shift = _broadcast(scale, s, self.desc), _broadcast(shift, s, self.desc)
        self.lw.elementwise(self.out, self.src(), scale, shift, self.uses)

    # -------------------------------------------------------------- modules
    def module(self, mod: Any) -> None:
        nn = self.ctx.torch.nn
        where = self.desc
        if isinstance(mod, nn.Linear):
            W = tensor_array(mod.weight, f"parameter 'weight' of {where}")
            b = None if mod.bias is None else tensor_array(mod.bias, f"parameter 'bias' of {where}")
            self.dense(W, b)
        elif isinstance(mod, nn.ReLU):
            self.act(ReLU())
        elif isinstance(mod, nn.LeakyReLU):
            self.act(LeakyReLU(mod.negative_slope))
        elif isinstance(mod, nn.Hardtanh):
            self.act(HardTanh(mod.min_val, mod.max_val))
        elif isinstance(mod, nn.PReLU):
            if mod.num_parameters != 1:
                self.fail("has one slope per channel; only a single slope (a LeakyReLU) is supported")
            self.act(LeakyReLU(float(tensor_array(mod.weight, f"parameter 'weight' of {where}")[0])))
        elif isinstance(mod, (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)):
            self.alias()
        elif isinstance(mod, nn.Flatten):
            self.flatten(mod.start_dim, mod.end_dim)
        elif isinstance(mod, nn.Unflatten):
            s = self.shape()
            dim = mod.dim % (len(s) + 1)
            if dim == 0:
                self.fail("unflattens the batch axis")
            self.reshape((*s[: dim - 1], *mod.unflattened_size, *s[dim:]))
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            self.batchnorm(mod)
        elif isinstance(mod, (nn.Conv1d, nn.Conv2d)):
            self.conv(mod)
        elif isinstance(mod, (nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
            nd = 1 if isinstance(mod, (nn.AvgPool1d, nn.AdaptiveAvgPool1d)) else 2
            self.need_dims(nd + 1, "(C, L)" if nd == 1 else "(C, H, W)")
            self.linear_op(mod, channelwise=True)
        elif isinstance(mod, (nn.MaxPool1d, nn.MaxPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)):
            if mod.return_indices:
                self.fail("returns indices (return_indices=True)")
            nd = 1 if isinstance(mod, (nn.MaxPool1d, nn.AdaptiveMaxPool1d)) else 2
            self.need_dims(nd + 1, "(C, L)" if nd == 1 else "(C, H, W)")
            self.max_op(mod)
        elif isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
            self.strip_softmax()
        elif isinstance(mod, abs_module_class(self.ctx.torch)):
            self.act(Abs())
        else:
            self.fail()

    def batchnorm(self, mod: Any) -> None:
        where = self.desc
        if mod.training:
            raise UnsupportedLayerError(
                f"{where} is in training mode, where it normalises with each batch's statistics "
                "(not a fixed function of one input); call module.eval() before from_torch."
            )
        if mod.running_mean is None or mod.running_var is None:
            raise UnsupportedLayerError(
                f"{where} has no running statistics (track_running_stats=False), so it always "
                "uses batch statistics; it cannot be lowered to a fixed affine map."
            )
        mean = tensor_array(mod.running_mean, f"buffer 'running_mean' of {where}")
        var = tensor_array(mod.running_var, f"buffer 'running_var' of {where}")
        gamma = np.ones_like(mean) if mod.weight is None else tensor_array(mod.weight, f"'weight' of {where}")
        beta = np.zeros_like(mean) if mod.bias is None else tensor_array(mod.bias, f"'bias' of {where}")
        s = self.shape()
        if s[0] != mod.num_features or len(s) > (2 if type(mod).__name__ == "BatchNorm1d" else 3):
            raise InvalidParameterError(
                f"{where} normalises {mod.num_features} channels but gets shape {s} per sample."
            )
        scale = gamma / np.sqrt(var + mod.eps)
        shift = beta - mean * scale
        rep = math.prod(s[1:])
        self.lw.elementwise(self.out, self.src(), np.repeat(scale, rep), np.repeat(shift, rep), self.uses)

    def conv(self, mod: Any) -> None:
        torch = self.ctx.torch
        nd = 1 if isinstance(mod, torch.nn.Conv1d) else 2
        s = self.need_dims(nd + 1, "(C, L)" if nd == 1 else "(C, H, W)")
        if s[0] != mod.in_channels:
            raise InvalidParameterError(
                f"{self.desc} expects {mod.in_channels} input channels but gets shape {s} per sample."
            )
        w = torch.from_numpy(tensor_array(mod.weight, f"parameter 'weight' of {self.desc}"))
        b = None if mod.bias is None else tensor_array(mod.bias, f"parameter 'bias' of {self.desc}")
        M, out_shape = matrix_from_basis(self.runner(lambda x: mod._conv_forward(x, w, None)), s)
        d = None if b is None else np.repeat(b, math.prod(out_shape[1:]))
        self.lw.linear(self.out, self.src(), M, d, out_shape, self.uses)

    # -------------------------------------------------------------- functions and methods
    def function(self, target: Any) -> None:
        torch = self.ctx.torch
        F = torch.nn.functional
        args = self.args
        if not any(isinstance(a, _Ref) for a in _flat(args, self.kwargs)):
            self.fold(target)
            return
        name = target if isinstance(target, str) else None
        if target in (operator.add, torch.add, operator.sub, torch.sub) or name in ("add", "sub"):
            sign = -1.0 if target in (operator.sub, torch.sub) or name == "sub" else 1.0
            self.add(args[0], args[1], sign * float(self.kwargs.get("alpha", 1.0)))
        elif target in (operator.mul, torch.mul, operator.truediv, torch.div) or name in ("mul", "div"):
            self.mul(args[0], args[1], divide=target in (operator.truediv, torch.div) or name == "div")
        elif target in (operator.neg, torch.neg) or name == "neg":
            self.affine_const(-1.0, 0.0)
        elif target in (torch.relu, F.relu) or name in ("relu", "relu_"):
            self.act(ReLU())
        elif target is F.relu6:
            self.act(HardTanh(0.0, 6.0))
        elif target is F.leaky_relu or name == "leaky_relu":
            self.act(LeakyReLU(float(self.arg(1, "negative_slope", 0.01))))
        elif target is F.hardtanh:
            self.act(HardTanh(float(self.arg(1, "min_val", -1.0)), float(self.arg(2, "max_val", 1.0))))
        elif target is torch.abs or name == "abs":
            self.act(Abs())
        elif target in (torch.clamp, torch.clip) or name in ("clamp", "clip"):
            self.clamp(self.arg(1, "min", None), self.arg(2, "max", None))
        elif target in (F.dropout, F.dropout1d, F.dropout2d, F.alpha_dropout) or name in ("contiguous",):
            self.alias()
        elif target is torch.flatten or name == "flatten":
            self.flatten(int(self.arg(1, "start_dim", 0)), int(self.arg(2, "end_dim", -1)))
        elif name in ("view", "reshape") or target is torch.reshape:
            self.view(args[1:] if len(args) > 2 or not isinstance(args[1], (tuple, list)) else args[1])
        elif name == "size" or (target is getattr and args[1] == "shape"):
            self.size(None if len(args) < 2 or target is getattr else int(args[1]))
        elif name == "dim":
            self.ctx.const[self.out] = len(self.lw.take(self.src()).shape) + 1
        elif target in (torch.cat, torch.concat):
            self.cat(args[0], int(self.arg(1, "dim", 0)))
        elif target is F.linear:
            W = np.asarray(args[1])
            b = self.arg(2, "bias", None)
            self.dense(W, None if b is None else np.asarray(b))
        elif target in (torch.softmax, torch.log_softmax, F.softmax, F.log_softmax) or name in (
            "softmax", "log_softmax"
        ):
            self.strip_softmax()
        elif target in (F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d):
            self.need_dims(2 if target in (F.avg_pool1d, F.adaptive_avg_pool1d) else 3, "(C, L) or (C, H, W)")
            self.linear_op(lambda x: target(x, *args[1:], **self.kwargs), channelwise=True)
        elif target in (F.max_pool1d, F.max_pool2d, F.adaptive_max_pool1d, F.adaptive_max_pool2d):
            if self.kwargs.get("return_indices"):
                self.fail("returns indices (return_indices=True)")
            self.need_dims(2 if target in (F.max_pool1d, F.adaptive_max_pool1d) else 3, "(C, L) or (C, H, W)")
            self.max_op(lambda x: target(x, *args[1:], **self.kwargs))
        else:
            self.fail()

    def fold(self, target: Any) -> None:
        """Constant folding of shape arithmetic (``x.size(1) * 4``...)."""
        if isinstance(target, str) or target not in (
            operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
            operator.neg, operator.getitem, getattr,
        ):
            self.fail("has only constant inputs and is not a supported constant operation")
        self.ctx.const[self.out] = target(*self.args, **self.kwargs)

    def add(self, a: Any, b: Any, alpha: float) -> None:
        if isinstance(a, _Ref) and isinstance(b, _Ref):
            self.lw.add(self.out, [a, b], [1.0, alpha], self.uses)
        elif isinstance(a, _Ref):
            self.affine_const(1.0, alpha * np.asarray(b, dtype=np.float64))
        else:
            self.args = (b,)
            self.affine_const(alpha, np.asarray(a, dtype=np.float64))

    def mul(self, a: Any, b: Any, divide: bool) -> None:
        if isinstance(a, _Ref) and isinstance(b, _Ref):
            self.fail("multiplies two values computed from the input, which is not piecewise linear")
        if not isinstance(a, _Ref):
            if divide:
                self.fail("divides by a value computed from the input")
            a, b = b, a
            self.args = (a,)
        c = np.asarray(b, dtype=np.float64)
        self.affine_const(1.0 / c if divide else c, 0.0)

    def clamp(self, lo: Any, hi: Any) -> None:
        for v in (lo, hi):
            if v is not None and np.ndim(v) != 0:
                self.fail("clamps with tensor bounds; only scalar bounds are supported")
        src, out, uses = self.src(), self.out, self.uses
        if lo is not None and hi is not None:
            self.act(HardTanh(float(lo), float(hi)))
        elif lo is not None:  # lo + relu(x - lo)
            self.lw.elementwise(out + "\x00in", src, 1.0, -float(lo), 1)
            self.lw.activation(out + "\x00relu", out + "\x00in", ReLU(), 1)
            self.lw.elementwise(out, out + "\x00relu", 1.0, float(lo), uses)
        elif hi is not None:  # hi - relu(hi - x)
            self.lw.elementwise(out + "\x00in", src, -1.0, float(hi), 1)
            self.lw.activation(out + "\x00relu", out + "\x00in", ReLU(), 1)
            self.lw.elementwise(out, out + "\x00relu", -1.0, float(hi), uses)
        else:
            self.alias()

    def view(self, dims: Any) -> None:
        s = self.shape()
        dims = list(dims)
        if not dims or not (dims[0] is _BATCH or dims[0] == -1) or any(d is _BATCH for d in dims[1:]):
            self.fail(
                f"reshapes to {dims}; only reshapes that keep the batch axis first "
                "(x.view(x.size(0), ...) or x.view(-1, ...)) are supported"
            )
        rest = [int(d) for d in dims[1:]]
        if rest.count(-1) > 1 or (dims[0] == -1 and -1 in rest):
            self.fail(f"reshapes to {dims}, which does not fix the per-sample shape")
        if -1 in rest:
            known = math.prod(d for d in rest if d != -1)
            rest[rest.index(-1)] = math.prod(s) // max(known, 1)
        self.reshape(tuple(rest))

    def size(self, dim: int | None) -> None:
        s = self.lw.take(self.src()).shape
        full = (_BATCH, *s)
        self.ctx.const[self.out] = full if dim is None else full[dim]

    def cat(self, parts: Any, dim: int) -> None:
        if not all(isinstance(p, _Ref) for p in parts):
            self.fail("concatenates constants with values")
        nd = len(self.lw.peek(parts[0]).shape) + 1
        dim %= nd
        if dim == 0:
            self.fail("concatenates along the batch axis")
        self.lw.concat(self.out, list(parts), dim - 1, self.uses)


def _flat(args: Any, kwargs: dict) -> list:
    out: list = []

    def walk(a: Any) -> None:
        if isinstance(a, (tuple, list)):
            for x in a:
                walk(x)
        elif isinstance(a, dict):
            for x in a.values():
                walk(x)
        else:
            out.append(a)

    walk(args)
    walk(kwargs)
    return out


def _broadcast(c: Any, shape: tuple[int, ...], desc: str) -> np.ndarray:
    """A constant broadcast to one sample of ``shape`` (torch broadcasting), flattened."""
    arr = np.asarray(c, dtype=np.float64)
    full = (1, *shape)
    try:
        ok = np.broadcast_shapes(arr.shape, full) == full
    except ValueError:
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"{desc} combines a value of shape {shape} per sample with a constant of shape "
            f"{arr.shape} that does not broadcast to it."
        )
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{desc} uses a constant with NaN or infinite entries.")
    return np.broadcast_to(arr, full).reshape(-1)
