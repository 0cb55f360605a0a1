"""The canonical form: a sequence of affine maps, each followed by a PWL activation.

A :class:`Network` with layers ``(W_1, b_1, phi_1), ..., (W_L, b_L, phi_L)`` computes
``x -> phi_L(W_L ... phi_1(W_1 x + b_1) ... + b_L)``. ``W_l`` has shape
``(n_l, n_{l-1})`` (PyTorch's convention). The neurons of layers ``1..L-1`` are the
network's *units*; an activation pattern records, per unit, the piece of its
activation it is on (DESIGN §1). The last layer is usually linear (Identity); when
it is not, its activation is applied but its neurons are not counted as units
(region engines take ``include_output=True`` to split on them too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import InvalidParameterError, ShapeError
from ._validation import as_float_array, as_points, check_positive_int, check_random_state
from .activations import Activation, Identity, ReLU, activation_from_spec

__all__ = ["Layer", "Network", "relu_network"]


@dataclass(frozen=True)
class Layer:
    """One affine map followed by an elementwise activation.

    Parameters
    ----------
    weight : ndarray of shape (n_out, n_in)
    bias : ndarray of shape (n_out,)
    activation : Activation
    """

    weight: np.ndarray
    bias: np.ndarray
    activation: Activation

    def __post_init__(self) -> None:
        w = as_float_array(self.weight, "weight", ndim=2)
        b = as_float_array(self.bias, "bias", ndim=1)
        if w.shape[0] != b.shape[0]:
            raise ShapeError(
                f"'weight' has {w.shape[0]} rows but 'bias' has {b.shape[0]} entries; "
                "they must match (one bias per output unit)."
            )
        w.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "activation", activation_from_spec(self.activation))

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]


class Network:
    """An immutable piecewise-linear network in canonical form (float64).

    Parameters
    ----------
    layers : sequence of Layer or of (weight, bias, activation) tuples
        At least one layer; consecutive shapes must chain.
    metadata : dict, optional
        Free-form JSON-serialisable information kept with the network
        (e.g. where it came from); saved by :meth:`save`.

    Examples
    --------
    >>> import numpy as np
    >>> from reluscope import Network
    >>> hat = Network([
    ...     (np.array([[1.0], [1.0], [1.0]]), np.array([0.0, -1.0, -2.0]), "relu"),
    ...     (np.array([[1.0, -2.0, 1.0]]), np.array([0.0]), "identity"),
    ... ])
    >>> hat(np.array([[0.5], [1.0], [3.0]])).ravel()
    array([0.5, 1. , 0. ])
    >>> hat.widths, hat.n_units
    ((1, 3, 1), 3)
    """

    __slots__ = ("_layers", "_metadata")

    def __init__(self, layers: Sequence[Layer | tuple], metadata: dict[str, Any] | None = None):
        built: list[Layer] = []
        for i, layer in enumerate(layers):
            if isinstance(layer, Layer):
                built.append(layer)
                continue
            try:
                w, b, act = layer
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"layer {i} must be a Layer or a (weight, bias, activation) tuple; "
                    f"got {type(layer).__name__}."
                ) from exc
            try:
                built.append(Layer(w, b, act))
            except ShapeError as exc:
                raise type(exc)(f"layer {i}: {exc}") from exc
        if not built:
            raise InvalidParameterError("A Network needs at least one layer; got none.")
        for i in range(1, len(built)):
            if built[i].n_in != built[i - 1].n_out:
                raise ShapeError(
                    f"layer {i} expects {built[i].n_in} inputs but layer {i - 1} has "
                    f"{built[i - 1].n_out} outputs."
                )
        self._layers: tuple[Layer, ...] = tuple(built)
        self._metadata = dict(metadata or {})

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, first to last."""
        return self._layers

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the free-form metadata."""
        return dict(self._metadata)

    @property
    def n_in(self) -> int:
        """Input dimension."""
        return self._layers[0].n_in

    @property
    def n_out(self) -> int:
        """Output dimension."""
        return self._layers[-1].n_out

    @property
    def widths(self) -> tuple[int, ...]:
        """``(n_in, n_1, ..., n_out)``: the size of every layer, input included."""
        return (self.n_in,) + tuple(layer.n_out for layer in self._layers)

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths of the hidden layers (all layers but the last)."""
        return tuple(layer.n_out for layer in self._layers[:-1])

    @property
    def depth(self) -> int:
        """Number of affine layers (hidden layers + 1)."""
        return len(self._layers)

    @property
    def n_units(self) -> int:
        """Number of hidden units (neurons of every layer but the last)."""
        return int(sum(self.hidden_widths))

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return int(sum(layer.weight.size + layer.bias.size for layer in self._layers))

    @property
    def activations(self) -> tuple[Activation, ...]:
        """The activation of each layer."""
        return tuple(layer.activation for layer in self._layers)

    def summary(self) -> str:
        """A short human-readable table of the layers.

        Examples
        --------
        >>> print(Network.random([2, 4, 1], seed=0).summary().splitlines()[0])
        Network: 2 -> 4 -> 1  (depth 2, 4 hidden units, 17 parameters)
        """
        arrow = " -> ".join(str(w) for w in self.widths)
        lines = [
            f"Network: {arrow}  (depth {self.depth}, {self.n_units} hidden units, "
            f"{self.n_params} parameters)"
        ]
        for i, layer in enumerate(self._layers):
            lines.append(
                f"  layer {i}: affine {layer.n_in} -> {layer.n_out}, {layer.activation!r}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        acts = sorted({type(a).__name__ for a in self.activations[:-1]}) or ["-"]
        return f"Network(widths={self.widths}, hidden activations={'/'.join(acts)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Network) or self.depth != other.depth:
            return NotImplemented if not isinstance(other, Network) else False
        return all(
            a.activation == b.activation
            and a.weight.shape == b.weight.shape
            and np.array_equal(a.weight, b.weight)
            and np.array_equal(a.bias, b.bias)
            for a, b in zip(self._layers, other._layers, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ evaluation
    def __call__(self, x: Any) -> np.ndarray:
        """Forward pass.

        Parameters
        ----------
        x : array_like of shape (n_in,) or (n_points, n_in)

        Returns
        -------
        ndarray of shape (n_out,) or (n_points, n_out)
        """
        h, single = as_points(x, self.n_in)
        for layer in self._layers:
            h = layer.activation(h @ layer.weight.T + layer.bias)
        return h[0] if single else h

    def preactivations(self, x: Any) -> list[np.ndarray]:
        """Pre-activations ``W_l h_{l-1} + b_l`` of every layer.

        Returns
        -------
        list of ndarray, one per layer, of shape (n_points, n_l) (or (n_l,) for one point)
        """
        h, single = as_points(x, self.n_in)
        out = []
        for layer in self._layers:
            z = h @ layer.weight.T + layer.bias
            out.append(z[0] if single else z)
            h = layer.activation(z)
        return out

    def pattern(self, x: Any, include_output: bool = False) -> np.ndarray:
        """Activation pattern: per unit, the index of its activation's piece.

        Parameters
        ----------
        x : array_like of shape (n_in,) or (n_points, n_in)
        include_output : bool, default False
            Also report the output layer's pieces. A linear output layer has one piece;
            for it the entry is the side of its zero set instead (1 where the output is
            > 0), as the region engines split it with ``include_output=True``.

        Returns
        -------
        ndarray of int8, shape (n_units,) or (n_points, n_units), hidden layers
        in order (plus the output layer when asked).

        Examples
        --------
        >>> net = Network([(np.eye(2), np.zeros(2), "relu"), (np.ones((1, 2)), [0.0], "identity")])
        >>> net.pattern(np.array([[1.0, -1.0], [2.0, 3.0]]))
        array([[1, 0],
               [1, 1]], dtype=int8)
        """
        z = self.preactivations(x)
        n = len(self._layers) if include_output else len(self._layers) - 1
        parts = [self._layers[i].activation.piece(z[i]) for i in range(n)]
        if include_output and self._layers[-1].activation.is_linear:
            parts[-1] = (z[-1] > 0).astype(np.int8)  # the side of the decision boundary
        if not parts:
            shape = (0,) if np.ndim(z[0]) == 1 else (np.shape(z[0])[0], 0)
            return np.zeros(shape, dtype=np.int8)
        return np.concatenate(parts, axis=-1)

    def local_affine(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """The affine map ``y -> A y + c`` that equals the network on the region of ``x``.

        For every ``y`` with the same activation pattern as ``x`` (output layer
        included when its activation is not linear), ``net(y) == A @ y + c``.

        Parameters
        ----------
        x : array_like of shape (n_in,) or (n_points, n_in)

        Returns
        -------
        A : ndarray of shape (n_out, n_in) or (n_points, n_out, n_in)
        c : ndarray of shape (n_out,) or (n_points, n_out)

        Examples
        --------
        >>> net = Network.random([3, 5, 2], seed=1)
        >>> A, c = net.local_affine(np.array([0.1, 0.2, 0.3]))
        >>> bool(np.allclose(A @ [0.1, 0.2, 0.3] + c, net([0.1, 0.2, 0.3])))
        True
        """
        h, single = as_points(x, self.n_in)
        n = h.shape[0]
        A = np.broadcast_to(np.eye(self.n_in), (n, self.n_in, self.n_in))
        c = np.zeros((n, self.n_in))
        for layer in self._layers:
            z = h @ layer.weight.T + layer.bias
            act = layer.activation
            k = act.piece(z)
            slope = act.slopes[k]
            icpt = act.intercepts[k]
            A = slope[:, :, None] * np.einsum("oi,nij->noj", layer.weight, A)
            c = slope * (c @ layer.weight.T + layer.bias) + icpt
            h = slope * z + icpt
        return (A[0], c[0]) if single else (A, c)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def affine(cls, weight: Any, bias: Any = None) -> Network:
        """A single linear layer ``x -> W x + b``.

        Examples
        --------
        >>> Network.affine([[2.0, 0.0]], [1.0])(np.array([3.0, 5.0]))
        array([7.])
        """
        w = as_float_array(weight, "weight", ndim=2)
        b = np.zeros(w.shape[0]) if bias is None else bias
        return cls([(w, b, Identity())])

    @classmethod
    def identity(cls, n: int) -> Network:
        """The identity map on ``R^n`` as one linear layer.

        Examples
        --------
        >>> Network.identity(2)(np.array([1.0, -2.0]))
        array([ 1., -2.])
        """
        n = check_positive_int(n, "n")
        return cls.affine(np.eye(n), np.zeros(n))

    @classmethod
    def random(
        cls,
        widths: Sequence[int],
        seed: Any = None,
        *,
        init: str = "he",
        weight_scale: float = 1.0,
        bias_scale: float = 1.0,
        bias: str = "normal",
        activation: Any = "relu",
        output_activation: Any = "identity",
    ) -> Network:
        """A random network with the papers' initialisations, reproducible from ``seed``.

        Parameters
        ----------
        widths : sequence of int
            ``(n_in, n_1, ..., n_out)``, at least two entries.
        seed : None, int or numpy Generator
        init : {"he", "xavier", "normal", "uniform"}
            Weight distribution: ``"he"`` draws ``N(0, 2 / fan_in)`` (Hanin & Rolnick 2019),
            ``"xavier"`` ``N(0, 2 / (fan_in + fan_out))``, ``"normal"`` ``N(0, 1)``,
            ``"uniform"`` ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (PyTorch's default for
            ``nn.Linear`` weights and biases). Each is then multiplied by ``weight_scale``.
        weight_scale, bias_scale : float
            Multipliers of the weight standard deviation and of the biases.
        bias : {"normal", "zero", "uniform"}
            ``"normal"`` draws ``N(0, bias_scale**2)``; ``"uniform"`` draws like PyTorch,
            times ``bias_scale``; ``"zero"`` sets all biases to 0.
        activation : activation spec
            Activation of the hidden layers.
        output_activation : activation spec
            Activation of the last layer (``"identity"`` by default).

        Examples
        --------
        >>> net = Network.random([2, 8, 8, 1], seed=0)
        >>> net.widths, net.n_params
        ((2, 8, 8, 1), 105)
        >>> bool(np.array_equal(net.layers[0].weight, Network.random([2, 8, 8, 1], seed=0).layers[0].weight))
        True
        """
        widths = tuple(widths)
        if len(widths) < 2:
            raise InvalidParameterError(
                f"'widths' must list at least the input and output sizes; got {widths!r}."
            )
        for w in widths:
            check_positive_int(w, "widths entry")
        inits = {"he", "xavier", "normal", "uniform"}
        if init not in inits:
            raise InvalidParameterError(f"'init' must be one of {sorted(inits)}; got {init!r}.")
        biases = {"normal", "zero", "uniform"}
        if bias not in biases:
            raise InvalidParameterError(f"'bias' must be one of {sorted(biases)}; got {bias!r}.")
        rng = check_random_state(seed)
        act = activation_from_spec(activation)
        out_act = activation_from_spec(output_activation)
        layers = []
        for i in range(len(widths) - 1):
            fan_in, fan_out = widths[i], widths[i + 1]
            if init == "uniform":
                lim = 1.0 / np.sqrt(fan_in)
                w = rng.uniform(-lim, lim, size=(fan_out, fan_in))
            else:
                std = {
                    "he": np.sqrt(2.0 / fan_in),
                    "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
                    "normal": 1.0,
                }[init]
                w = rng.normal(0.0, std, size=(fan_out, fan_in))
            w = w * weight_scale
            if bias == "zero":
                b = np.zeros(fan_out)
            elif bias == "uniform":
                lim = 1.0 / np.sqrt(fan_in)
                b = rng.uniform(-lim, lim, size=fan_out) * bias_scale
            else:
                b = rng.normal(0.0, 1.0, size=fan_out) * bias_scale
            layers.append((w, b, act if i < len(widths) - 2 else out_act))
        meta = {"source": "random", "init": init, "seed": seed if isinstance(seed, int) else None}
        return cls(layers, metadata=meta)

    def with_layers(self, layers: Sequence[Layer | tuple], **metadata: Any) -> Network:
        """A new network with other layers and this one's metadata (updated)."""
        meta = self.metadata
        meta.update(metadata)
        return Network(layers, metadata=meta)

    # ------------------------------------------------------------------ algebra
    def __add__(self, other: Network) -> Network:
        from .algebra import add

        return add(self, other)

    def __mul__(self, c: float) -> Network:
        from .algebra import scale

        return scale(self, c)

    __rmul__ = __mul__

    def __neg__(self) -> Network:
        return self * -1.0

    def __sub__(self, other: Network) -> Network:
        return self + (-other)

    def __matmul__(self, other: Network) -> Network:
        """``f @ g`` is ``compose(f, g)``: f after g."""
        from .algebra import compose

        return compose(self, other)

    # ------------------------------------------------------------------ I/O
    def save(self, path: Any) -> None:
        """Save as ``.npz`` (or ``.onnx`` by extension), atomically; see :mod:`reluscope.io`."""
        from .io import save

        save(self, path)

    @classmethod
    def load(cls, path: Any, **kwargs: Any) -> Network:
        """Load from ``.npz``, ``.onnx``, ``.pt``/``.pth`` (weights only); see :func:`reluscope.io.load`."""
        from .io import load

        return load(path, **kwargs)

    @classmethod
    def from_torch(cls, module: Any, **kwargs: Any) -> Network:
        """Lower a PyTorch module exactly; see :func:`reluscope.io.from_torch`."""
        from .io.torch import from_torch

        return from_torch(module, **kwargs)

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` (float64); see :func:`reluscope.io.to_torch`."""
        from .io.torch import to_torch

        return to_torch(self)

    @classmethod
    def from_onnx(cls, path: Any, **kwargs: Any) -> Network:
        """Read an ONNX model; see :func:`reluscope.io.from_onnx`."""
        from .io.onnx import from_onnx

        return from_onnx(path, **kwargs)

    def to_onnx(self, path: Any) -> None:
        """Write an ONNX model; see :func:`reluscope.io.to_onnx`."""
        from .io.onnx import to_onnx

        to_onnx(self, path)

    @classmethod
    def from_sklearn(cls, model: Any) -> Network:
        """Convert a fitted ``MLPClassifier``/``MLPRegressor``; see :func:`reluscope.io.from_sklearn`."""
        from .io.sklearn import from_sklearn

        return from_sklearn(model)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python description (lists), e.g. for JSON."""
        return {
            "layers": [
                {
                    "weight": layer.weight.tolist(),
                    "bias": layer.bias.tolist(),
                    "activation": layer.activation.spec(),
                }
                for layer in self._layers
            ],
            "metadata": json.loads(json.dumps(self._metadata, default=str)),
        }


def relu_network(layers: Sequence[tuple[Any, Any]]) -> Network:
    """A ReLU network from ``(W, b)`` pairs; the last layer is linear.

    Examples
    --------
    >>> relu_network([(np.eye(1), [0.0]), (np.eye(1), [0.0])])(np.array([-1.0]))
    array([0.])
    """
    n = len(layers)
    return Network(
        [(w, b, ReLU() if i < n - 1 else Identity()) for i, (w, b) in enumerate(layers)]
    )
