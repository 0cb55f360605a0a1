"""Exact algebra on networks: composition, parallel and stacked branches, sums, scaling.

Every operation returns a :class:`~reluscope.Network` that computes *exactly* the
combined function (no approximation): linear layers are multiplied out, and a
branch that is shallower than its partner is carried through the extra layers
by identity units ``x = relu(x) - relu(-x)`` (or the LeakyReLU analogue).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

from ._errors import InvalidParameterError, ShapeError, UnsupportedLayerError
from .activations import Activation, Identity, LeakyReLU, ReLU
from .network import Layer, Network

__all__ = ["compose", "parallel", "stack", "add", "scale", "pad_depth"]


def compose(f: Network, g: Network) -> Network:
    """``f ∘ g``: apply ``g``, then ``f``.

    When ``g`` ends in a linear layer it is multiplied into ``f``'s first layer,
    so the result has ``f.depth + g.depth - 1`` layers; otherwise ``g``'s last
    layer becomes a hidden layer.

    Examples
    --------
    >>> f = Network.random([3, 4, 2], seed=0)
    >>> g = Network.random([5, 6, 3], seed=1)
    >>> x = np.random.default_rng(2).normal(size=(10, 5))
    >>> bool(np.allclose(compose(f, g)(x), f(g(x)), rtol=0, atol=1e-12))
    True
    """
    _check_net(f, "f")
    _check_net(g, "g")
    if g.n_out != f.n_in:
        raise ShapeError(f"compose(f, g) needs g.n_out == f.n_in; got {g.n_out} and {f.n_in}.")
    last = g.layers[-1]
    first = f.layers[0]
    if isinstance(last.activation, Identity):
        merged = Layer(first.weight @ last.weight, first.weight @ last.bias + first.bias, first.activation)
        layers = list(g.layers[:-1]) + [merged] + list(f.layers[1:])
    else:
        layers = list(g.layers) + list(f.layers)
    return Network(layers, metadata={"source": "compose"})


def pad_depth(f: Network, depth: int) -> Network:
    """The same function as ``f`` with exactly ``depth`` layers.

    The output of ``f`` (whose last layer must be linear) is carried through the
    extra layers by identity units: ``x = relu(x) - relu(-x)`` for ReLU and
    ``x = (φ(x) - φ(-x)) / (1 + α)`` for LeakyReLU(α); the padding layers use
    ``activation`` of the layer that is being matched (ReLU by default).

    Examples
    --------
    >>> f = Network.random([2, 3, 1], seed=0)
    >>> p = pad_depth(f, 4)
    >>> p.depth, p.hidden_widths
    (4, (3, 2, 2))
    >>> x = np.random.default_rng(0).normal(size=(5, 2))
    >>> bool(np.allclose(p(x), f(x), rtol=0, atol=1e-12))
    True
    """
    return _padded(f, depth, None)


def _padded(f: Network, depth: int, acts: Sequence[Activation] | None) -> Network:
    """Pad ``f`` to ``depth`` layers using hidden activations ``acts[f.depth-1:depth-1]``."""
    if depth < f.depth:
        raise InvalidParameterError(f"'depth' must be >= f.depth = {f.depth}; got {depth}.")
    if depth == f.depth:
        return f
    last = f.layers[-1]
    if not isinstance(last.activation, Identity):
        raise UnsupportedLayerError(
            "Padding a network to a larger depth needs a linear last layer; "
            f"this one ends in {last.activation!r}."
        )
    if acts is None:
        acts = [ReLU()] * (depth - 1)
    pad_acts = list(acts[f.depth - 1 : depth - 1])
    n = last.n_out
    layers = list(f.layers[:-1])
    w, b = last.weight, last.bias
    eye = np.eye(n)
    for i, act in enumerate(pad_acts):
        if i == 0:
            layers.append(Layer(np.vstack([w, -w]), np.concatenate([b, -b]), act))
        else:
            prev_gain = _identity_gain(pad_acts[i - 1])
            comb = np.hstack([eye, -eye]) / prev_gain
            layers.append(Layer(np.vstack([comb, -comb]), np.zeros(2 * n), act))
    gain = _identity_gain(pad_acts[-1])
    layers.append(Layer(np.hstack([eye, -eye]) / gain, np.zeros(n), Identity()))
    return Network(layers, metadata={"source": "pad_depth"})


def _identity_gain(act: Activation) -> float:
    """``φ(x) - φ(-x) = gain * x`` for activations that can carry a wire."""
    if isinstance(act, ReLU):
        return 1.0
    if isinstance(act, LeakyReLU):
        if act.alpha == -1.0:
            raise UnsupportedLayerError("LeakyReLU(-1) is |x| and cannot carry an identity wire.")
        return 1.0 + act.alpha
    if isinstance(act, Identity):
        return 2.0
    raise UnsupportedLayerError(
        f"Cannot carry a value through a layer of {act!r} exactly; branches of different "
        "depth can only be padded through ReLU, LeakyReLU or Identity layers."
    )


def _aligned(f: Network, g: Network) -> tuple[Network, Network]:
    """Pad the shallower of ``f`` and ``g`` so that both have the same depth."""
    if f.depth == g.depth:
        return f, g
    deep, shallow = (f, g) if f.depth > g.depth else (g, f)
    padded = _padded(shallow, deep.depth, [layer.activation for layer in deep.layers])
    return (f, padded) if deep is f else (padded, g)


def _combine(f: Network, g: Network, *, same_input: bool, sum_output: bool) -> Network:
    _check_net(f, "f")
    _check_net(g, "g")
    if same_input and f.n_in != g.n_in:
        raise ShapeError(f"Both networks must take the same input size; got {f.n_in} and {g.n_in}.")
    f, g = _aligned(f, g)
    layers = []
    for i, (lf, lg) in enumerate(zip(f.layers, g.layers, strict=True)):
        if lf.activation != lg.activation:
            raise UnsupportedLayerError(
                f"Layer {i} uses {lf.activation!r} in one branch and {lg.activation!r} in the "
                "other; a layer of the canonical form has one activation."
            )
        last = i == f.depth - 1
        if i == 0 and same_input and last and sum_output:
            w = lf.weight + lg.weight
        elif i == 0 and same_input:
            w = np.vstack([lf.weight, lg.weight])
        elif last and sum_output:
            w = np.hstack([lf.weight, lg.weight])
        else:
            w = scipy.linalg.block_diag(lf.weight, lg.weight)
        if last and sum_output:
            if lf.n_out != lg.n_out:
                raise ShapeError(f"f + g needs equal output sizes; got {lf.n_out} and {lg.n_out}.")
            if not isinstance(lf.activation, Identity):
                raise UnsupportedLayerError("f + g needs both networks to end in a linear layer.")
            b = lf.bias + lg.bias
        else:
            b = np.concatenate([lf.bias, lg.bias])
        layers.append(Layer(w, b, lf.activation))
    return Network(layers, metadata={"source": "sum" if sum_output else "parallel"})


def parallel(f: Network, g: Network) -> Network:
    """``x -> (f(x), g(x))``: same input, outputs concatenated.

    Examples
    --------
    >>> f = Network.random([2, 4, 4, 1], seed=0)
    >>> g = Network.random([2, 3, 2], seed=1)
    >>> x = np.random.default_rng(0).normal(size=(6, 2))
    >>> bool(np.allclose(parallel(f, g)(x), np.hstack([f(x), g(x)]), rtol=0, atol=1e-12))
    True
    """
    return _combine(f, g, same_input=True, sum_output=False)


def stack(f: Network, g: Network) -> Network:
    """``(x, y) -> (f(x), g(y))``: inputs and outputs concatenated (block diagonal).

    Examples
    --------
    >>> f, g = Network.random([2, 3, 1], seed=0), Network.random([1, 2, 2, 1], seed=1)
    >>> xy = np.random.default_rng(0).normal(size=(4, 3))
    >>> bool(np.allclose(stack(f, g)(xy), np.hstack([f(xy[:, :2]), g(xy[:, 2:])]), atol=1e-12))
    True
    """
    return _combine(f, g, same_input=False, sum_output=False)


def add(f: Network, g: Network) -> Network:
    """``x -> f(x) + g(x)`` (also ``f + g``).

    Examples
    --------
    >>> f, g = Network.random([2, 3, 1], seed=0), Network.random([2, 5, 5, 1], seed=1)
    >>> x = np.random.default_rng(0).normal(size=(4, 2))
    >>> bool(np.allclose((f + g)(x), f(x) + g(x), rtol=0, atol=1e-12))
    True
    """
    return _combine(f, g, same_input=True, sum_output=True)


def scale(f: Network, c: float) -> Network:
    """``x -> c * f(x)`` (also ``c * f``); needs a linear last layer.

    Examples
    --------
    >>> f = Network.random([2, 3, 1], seed=0)
    >>> bool(np.allclose((2.5 * f)(np.ones(2)), 2.5 * f(np.ones(2))))
    True
    """
    _check_net(f, "f")
    try:
        c = float(c)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"'c' must be a real number; got {c!r}.") from exc
    if not np.isfinite(c):
        raise InvalidParameterError(f"'c' must be finite; got {c!r}.")
    last = f.layers[-1]
    if not isinstance(last.activation, Identity):
        raise UnsupportedLayerError(
            f"Scaling needs a linear last layer; this one ends in {last.activation!r}. "
            "Compose with Network.affine instead."
        )
    layers = list(f.layers[:-1]) + [Layer(c * last.weight, c * last.bias, last.activation)]
    return Network(layers, metadata={"source": "scale"})


def _check_net(f: object, name: str) -> None:
    if not isinstance(f, Network):
        raise InvalidParameterError(f"'{name}' must be a Network; got {type(f).__name__}.")
